//! The authentication procedures of the REMOTE program, served before a client is
//! authenticated (libvirt's remote/remote_daemon_dispatch.c AUTH_* dispatchers).
//!
//! Supported: "none". SASL is the remote-access work's; polkit is not supported.

use crate::remote::protocol::AuthListRet;
use crate::rpc::message::Packet;
use crate::rpc::netdaemon::{ClientId, Core};
use crate::rpc::program::{self, answer};
use crate::rpc::protocol::{self as proto, RemoteError, VIR_ERR_AUTH_FAILED, VIR_FROM_RPC};

pub fn is_auth_proc(proc_: i32) -> bool {
    (proto::REMOTE_PROC_AUTH_LIST..=proto::REMOTE_PROC_AUTH_POLKIT).contains(&proc_)
}

fn auth_failed() -> RemoteError {
    RemoteError::new(VIR_ERR_AUTH_FAILED, VIR_FROM_RPC, Some("authentication failed"))
}

pub fn dispatch(core: &mut Core, cid: ClientId, pkt: Packet) {
    let Some(client) = core.client(cid) else { return };
    let auth = client.auth;
    match pkt.header.proc_ {
        // C: remoteDispatchAuthList
        proto::REMOTE_PROC_AUTH_LIST => {
            let res = program::args::<()>(&pkt).map(|()| AuthListRet { types: vec![auth as i32] });
            answer(core, cid, &pkt, res);
        }
        proto::REMOTE_PROC_AUTH_SASL_INIT | proto::REMOTE_PROC_AUTH_SASL_START | proto::REMOTE_PROC_AUTH_SASL_STEP => {
            log::debug!("client {}: SASL request on a service whose auth is {:?}", cid.idx, auth);
            core.reply_error(cid, &pkt.header, &auth_failed());
        }
        _ => {
            log::debug!("client {}: PolicyKit request refused (polkit is not supported)", cid.idx);
            core.reply_error(cid, &pkt.header, &auth_failed());
        }
    }
}
