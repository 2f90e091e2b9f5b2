//! An RPC program registered with a server, and what every program's dispatcher shares: the
//! errors libvirt answers for calls it cannot serve, argument decoding and reply encoding
//! (libvirt's rpc/virnetserverprogram.c).
//!
//! The engine names no program: a daemon registers its programs with a server
//! (`NetDaemon::add_program`, libvirt's virNetServerAddProgram) and the server hands each
//! packet to the program whose number and version it carries. Before authentication the
//! engine asks the program whether a procedure may run (`lookup`), as libvirt's procedure
//! tables carry a `needAuth` flag.

use std::os::fd::OwnedFd;

use crate::poll::Readiness;
use crate::rpc::client::CloseReason;
use crate::rpc::message::{self, Packet};
use crate::rpc::netdaemon::{ClientId, Core};
use crate::rpc::protocol::{RemoteError, VIR_ERR_INTERNAL_ERROR, VIR_ERR_RPC, VIR_FROM_RPC};
use crate::xdr::Xdr;

/// A program's place in the daemon's program table; it owns the aux sources and timers it
/// registers under this number.
pub type ProgramId = u8;

/// What a program says of a procedure before it is dispatched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// Not a procedure of this program: "unknown procedure".
    Unknown,
    /// May be called before the client is authenticated (AUTH_* of the REMOTE program).
    NoAuth,
    /// Needs an authenticated client.
    Auth,
}

/// One program (or a family of programs sharing per-client state, as virtproxyd's relay of
/// the REMOTE, QEMU and LXC programs) registered with a server.
pub trait Program {
    /// The (program, version) pairs served.
    fn ids(&self) -> &[(u32, u32)];

    /// Told once at registration: the id under which to register aux sources and timers.
    fn registered(&mut self, _id: ProgramId) {}

    // C: virNetServerProgramLookupDispatch (the needAuth part)
    fn lookup(&self, prog: u32, proc_: i32) -> Lookup;

    /// A packet for this program from a client that may send it (authenticated, or calling
    /// a `NoAuth` procedure). Every CALL must eventually be answered, exactly once, through
    /// `Core::reply` or `Core::reply_error`.
    // C: virNetServerProgramDispatch
    fn dispatch(&mut self, core: &mut Core, cid: ClientId, pkt: Packet, fds: Vec<OwnedFd>);

    /// A client connected to the server this program is registered with; false refuses it
    /// (the admin program accepts only the daemon's own user).
    // C: virNetServerClientInitHook (remoteClientNew, remoteAdmClientNew)
    fn client_added(&mut self, _core: &mut Core, _cid: ClientId) -> bool {
        true
    }

    /// The client is going away; drop whatever the program holds for it.
    // C: virNetServerClientCloseFunc (remoteClientCloseFunc)
    fn client_closed(&mut self, _core: &mut Core, _cid: ClientId, _why: CloseReason) {}

    /// Readiness of a source the program registered as `TokenKind::Aux` with its id.
    fn aux_event(&mut self, _core: &mut Core, _tag: u8, _index: usize, _r: Readiness) {}

    /// A timer the program added as `TimerKey::Program`.
    fn timer(&mut self, _core: &mut Core, _tag: u8, _n: u64) {}

    /// After each batch of events, before client output is flushed.
    fn after_batch(&mut self, _core: &mut Core) {}

    /// SIGHUP.
    fn reload(&mut self, _core: &mut Core) {}

    /// Work that must keep the daemon alive despite --timeout (virtxend: running domains).
    fn inhibits_shutdown(&self) -> bool {
        false
    }

    fn shutdown(&mut self, _core: &mut Core) {}
}

// C: virNetServerProcessMsg ("Cannot find program %d version %d")
pub fn unknown_program(prog: u32, vers: u32) -> RemoteError {
    RemoteError::new(VIR_ERR_RPC, VIR_FROM_RPC, Some(&format!("Cannot find program {prog} version {vers}")))
}

// C: virNetServerProgramDispatchCall ("unknown procedure: %d")
pub fn unknown_proc(proc_: i32) -> RemoteError {
    RemoteError::new(VIR_ERR_RPC, VIR_FROM_RPC, Some(&format!("unknown procedure: {proc_}")))
}

// C: virNetServerProgramDispatchCall ("authentication required")
pub fn auth_required() -> RemoteError {
    RemoteError::new(VIR_ERR_RPC, VIR_FROM_RPC, Some("authentication required"))
}

// C: virNetServerProgramDispatch ("Unexpected message status %u")
pub fn unexpected_status(status: u32) -> RemoteError {
    RemoteError::new(VIR_ERR_RPC, VIR_FROM_RPC, Some(&format!("Unexpected message status {status}")))
}

// C: virNetMessageDecodePayload ("Unable to decode message payload")
pub fn decode_failed() -> RemoteError {
    RemoteError::new(VIR_ERR_RPC, VIR_FROM_RPC, Some("Unable to decode message payload"))
}

pub fn internal(domain: i32, text: &str) -> RemoteError {
    RemoteError::new(VIR_ERR_INTERNAL_ERROR, domain, Some(text))
}

/// Decodes a call's arguments. Bytes after them are ignored, as libvirt does.
// C: virNetMessageDecodePayload
pub fn args<T: Xdr>(pkt: &Packet) -> Result<T, RemoteError> {
    pkt.decode_payload::<T>().map_err(|e| {
        log::debug!("bad payload for proc {}: {e}", pkt.header.proc_);
        decode_failed()
    })
}

/// Answers a call with its return value, or with the error.
pub fn answer<T: Xdr>(core: &mut Core, cid: ClientId, pkt: &Packet, res: Result<T, RemoteError>) {
    answer_with_fds(core, cid, pkt, res.map(|r| (r, Vec::new())))
}

pub fn answer_with_fds<T: Xdr>(core: &mut Core, cid: ClientId, pkt: &Packet, res: Result<(T, Vec<OwnedFd>), RemoteError>) {
    match res {
        Ok((ret, fds)) => match message::reply_ok(&pkt.header, &ret) {
            Ok(buf) => core.reply(cid, buf, fds),
            Err(e) => core.reply_error(cid, &pkt.header, &internal(VIR_FROM_RPC, &e.to_string())),
        },
        Err(err) => core.reply_error(cid, &pkt.header, &err),
    }
}
