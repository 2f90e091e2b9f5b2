//! The admin program served on the `-admin-sock` of both daemons (libvirt's
//! admin/admin_server_dispatch.c, admin/admin_protocol.x).

use crate::rpc::message::Packet;
use crate::rpc::netdaemon::{ClientId, Core, Driver};
use crate::rpc::program;

pub fn dispatch(core: &mut Core, _driver: &mut dyn Driver, cid: ClientId, pkt: Packet) {
    core.reply_error(cid, &pkt.header, &program::unknown_proc(pkt.header.proc_));
}
