//! The admin program served on the `-admin-sock` of both daemons, for virt-admin (libvirt's
//! admin/admin_server_dispatch.c and the dispatch table generated from
//! admin/admin_protocol.x).
//!
//! Every call is answered here, inline on the loop thread: none of them blocks. The
//! procedures live by what they act on: `server` (servers, worker pools, client limits,
//! TLS), `client` (the clients of a server) and `logging` (log settings, idle timeout);
//! `params` holds the pure checks and `error` the libvirt errors they answer with.

pub mod client;
pub mod error;
pub mod logging;
pub mod params;
pub mod protocol;
pub mod server;
#[cfg(test)]
mod tests;

use log::debug;

pub use self::error::AdminError;
use self::protocol::*;
use std::os::fd::OwnedFd;

use crate::rpc::client::CloseReason;
use crate::rpc::message::Packet;
use crate::rpc::netdaemon::{ClientId, Core};
use crate::rpc::program::{self, Lookup, Program};
use crate::rpc::protocol::*;
use crate::xdr::Xdr;

/// The admin program, registered with the daemon's "admin" server.
// C: adminProgram (remote_daemon.c virNetServerProgramNew(ADMIN_PROGRAM, ...))
pub struct AdminProgram;

impl Program for AdminProgram {
    fn ids(&self) -> &[(u32, u32)] {
        &[(ADMIN_PROGRAM, ADMIN_PROTOCOL_VERSION)]
    }

    /// Admin clients are authenticated at accept (only the daemon's user gets in).
    fn lookup(&self, _prog: u32, proc_: i32) -> Lookup {
        if admin_proc_name(proc_).is_some() {
            Lookup::Auth
        } else {
            Lookup::Unknown
        }
    }

    fn dispatch(&mut self, core: &mut Core, cid: ClientId, pkt: Packet, _fds: Vec<OwnedFd>) {
        if pkt.header.type_.is_call() {
            dispatch(core, cid, pkt);
        }
    }

    /// Only the daemon's own user may administer it.
    // C: remoteAdmClientNew
    fn client_added(&mut self, core: &mut Core, cid: ClientId) -> bool {
        let euid = crate::util::sys::geteuid();
        let uid = core.client(cid).and_then(|c| c.identity.uid);
        if uid != Some(euid) {
            log::warn!("Rejecting admin client with uid {uid:?}: not the daemon's uid {euid}");
            return false;
        }
        true
    }
}

/// Answers one ADMIN_PROGRAM call from a client of the admin server, exactly once.
// C: the adminProcs table + virNetServerProgramDispatchCall
fn dispatch(core: &mut Core, cid: ClientId, pkt: Packet) {
    let proc_ = pkt.header.proc_;
    debug!(
        "admin call {} (serial {}) from client {}",
        admin_proc_name(proc_).unwrap_or("unknown"),
        pkt.header.serial,
        core.client(cid).map_or(0, |c| c.id)
    );
    match proc_ {
        ADMIN_PROC_CONNECT_OPEN => call(core, cid, &pkt, |_, a: FlagsArgs| connect_open(a)),
        ADMIN_PROC_CONNECT_CLOSE => {
            // C: adminDispatchConnectClose (virNetServerClientDelayedClose)
            let res = program::args::<()>(&pkt);
            let ok = res.is_ok();
            program::answer(core, cid, &pkt, res);
            if ok {
                core.close_client_after_flush(cid, CloseReason::Client);
            }
        }
        ADMIN_PROC_CONNECT_GET_LIB_VERSION => call(core, cid, &pkt, |_, ()| {
            // C: adminConnectGetLibVersion
            Ok(GetLibVersionRet { lib_ver: crate::LIBVIRT_VERSION_NUMBER })
        }),
        ADMIN_PROC_CONNECT_LIST_SERVERS => call(core, cid, &pkt, |c, a| server::list(c, a)),
        ADMIN_PROC_CONNECT_LOOKUP_SERVER => call(core, cid, &pkt, |c, a| server::lookup(c, a)),
        ADMIN_PROC_SERVER_GET_THREADPOOL_PARAMETERS => call(core, cid, &pkt, |c, a| server::get_threadpool(c, a)),
        ADMIN_PROC_SERVER_SET_THREADPOOL_PARAMETERS => call(core, cid, &pkt, |c, a| server::set_threadpool(c, a)),
        ADMIN_PROC_SERVER_LIST_CLIENTS => call(core, cid, &pkt, |c, a| client::list(c, a)),
        ADMIN_PROC_SERVER_LOOKUP_CLIENT => call(core, cid, &pkt, |c, a| client::lookup(c, a)),
        ADMIN_PROC_CLIENT_GET_INFO => call(core, cid, &pkt, |c, a| client::get_info(c, a)),
        ADMIN_PROC_CLIENT_CLOSE => client_close(core, cid, &pkt),
        ADMIN_PROC_SERVER_GET_CLIENT_LIMITS => call(core, cid, &pkt, |c, a| server::get_client_limits(c, a)),
        ADMIN_PROC_SERVER_SET_CLIENT_LIMITS => call(core, cid, &pkt, server::set_client_limits),
        ADMIN_PROC_CONNECT_GET_LOGGING_OUTPUTS => call(core, cid, &pkt, |_, a| logging::get_outputs(a)),
        ADMIN_PROC_CONNECT_GET_LOGGING_FILTERS => call(core, cid, &pkt, |_, a| logging::get_filters(a)),
        ADMIN_PROC_CONNECT_SET_LOGGING_OUTPUTS => call(core, cid, &pkt, |_, a| logging::set_outputs(a)),
        ADMIN_PROC_CONNECT_SET_LOGGING_FILTERS => call(core, cid, &pkt, |_, a| logging::set_filters(a)),
        ADMIN_PROC_SERVER_UPDATE_TLS_FILES => call(core, cid, &pkt, server::update_tls_files),
        ADMIN_PROC_CONNECT_SET_DAEMON_TIMEOUT => call(core, cid, &pkt, logging::set_daemon_timeout),
        _ => core.reply_error(cid, &pkt.header, &program::unknown_proc(proc_)),
    }
}

/// Decodes the arguments, runs the procedure and sends its answer.
fn call<A: Xdr, R: Xdr>(core: &mut Core, cid: ClientId, pkt: &Packet, f: impl FnOnce(&mut Core, A) -> Result<R, AdminError>) {
    let res = program::args::<A>(pkt).and_then(|a| {
        f(core, a).map_err(|e| {
            debug!("admin call {} failed: {e}", pkt.header.proc_);
            e.to_remote()
        })
    });
    program::answer(core, cid, pkt, res);
}

/// Flags must be 0; nothing else to do, the admin connection is usable from accept.
// C: adminDispatchConnectOpen
fn connect_open(a: FlagsArgs) -> Result<(), AdminError> {
    params::check_flags(a.flags, "adminDispatchConnectOpen")
}

/// Answers first, then closes the client: a client closing itself still gets its answer.
// C: adminDispatchClientClose (generated) + adminClientClose
fn client_close(core: &mut Core, cid: ClientId, pkt: &Packet) {
    let target = program::args::<ClientArgs>(pkt).and_then(|a| client::close_target(core, a).map_err(|e| e.to_remote()));
    let res = target.as_ref().map(|_| ()).map_err(Clone::clone);
    program::answer(core, cid, pkt, res);
    match target {
        Ok(t) if t == cid => core.close_client_after_flush(t, CloseReason::Admin),
        Ok(t) => core.close_client(t, CloseReason::Admin),
        Err(_) => {}
    }
}
