//! What every program's dispatcher shares: the errors libvirt answers for calls it cannot
//! serve, and argument decoding / reply encoding (libvirt's rpc/virnetserverprogram.c).

use std::os::fd::OwnedFd;

use crate::rpc::message::{self, Packet};
use crate::rpc::netdaemon::{ClientId, Core};
use crate::rpc::protocol::{RemoteError, VIR_ERR_INTERNAL_ERROR, VIR_ERR_RPC, VIR_FROM_RPC};
use crate::xdr::Xdr;

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
