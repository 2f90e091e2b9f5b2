//! The client side of one connection to another daemon: its socket, its open handshake and
//! keepalive (libvirt's rpc/virnetclient.c, with the handshake of remote/remote_driver.c
//! `doRemoteOpen`). The relay (`remote::relay`) keeps one per client and daemon.
//!
//! The handshake mirrors what a libvirt client does: AUTH_LIST (then AUTH_POLKIT if that is
//! what the daemon offers), CONNECT_SUPPORTS_FEATURE(PROGRAM_KEEPALIVE), CONNECT_OPEN, and
//! CONNECT_SET_IDENTITY with the identity we established for our client (never one the
//! client claimed). Serials of these calls are our own; no client packet is relayed before
//! the handshake ends, so they cannot be confused.

use std::collections::VecDeque;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::time::Instant;

use crate::remote::protocol::*;
use crate::rpc::client::Identity;
use crate::rpc::conn::{PacketConn, ReadOutcome};
use crate::rpc::keepalive::KeepAlive;
use crate::rpc::message::{self, Packet};
use crate::rpc::protocol::{
    Header, MessageStatus, MessageType, RemoteError, REMOTE_AUTH_NONE, REMOTE_AUTH_POLKIT, REMOTE_AUTH_SASL, REMOTE_PROC_AUTH_LIST,
    REMOTE_PROC_AUTH_POLKIT, REMOTE_PROC_CONNECT_OPEN, REMOTE_PROC_CONNECT_SET_IDENTITY, REMOTE_PROC_CONNECT_SUPPORTS_FEATURE,
    REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION, VIR_ERR_AUTH_FAILED, VIR_FROM_REMOTE,
};
use crate::rpc::socket::Stream;
use crate::util::sys;
use crate::xdr::{TypedParam, TypedParamValue, Xdr};

/// Where the handshake stands; each phase waits for the reply to one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    AuthList,
    AuthPolkit,
    Feature,
    Open,
    Identity,
    Ready,
}

/// What the open handshake needs to know.
#[derive(Debug, Clone)]
pub struct OpenRequest {
    pub uri: String,
    pub flags: u32,
    pub identity: Identity,
}

#[derive(Debug)]
pub struct NetClient {
    pub conn: PacketConn,
    pub phase: Phase,
    serial: u32,
    pending_serial: u32,
    pub request: OpenRequest,
    pub keepalive: KeepAlive,
    /// Keepalive from the daemon was asked for and agreed.
    pub keepalive_ok: bool,
    /// Not reading: our client's output queue is full.
    pub paused: bool,
    /// Packets read but not relayed yet (read ahead of a pause).
    pub rx: VecDeque<(Packet, Vec<OwnedFd>)>,
}

/// Result of feeding a handshake reply.
#[derive(Debug)]
pub enum Step {
    /// Sent the next call; keep waiting.
    Continue,
    /// The connection is open upstream.
    Done,
    /// The open failed with this error (to answer the client's CONNECT_OPEN with).
    Failed(RemoteError),
}

fn auth_unsupported(what: &str) -> RemoteError {
    RemoteError::new(
        VIR_ERR_AUTH_FAILED,
        VIR_FROM_REMOTE,
        Some(&format!("the daemon behind the proxy asks for {what} authentication, which the proxy cannot do on a client's behalf")),
    )
}

/// The error a client sees when the daemon's socket cannot be reached.
// C: virNetSocketNewConnectUNIX
pub fn connect_error(path: &Path, e: &std::io::Error) -> RemoteError {
    RemoteError::system(
        crate::rpc::protocol::VIR_FROM_RPC,
        e.raw_os_error().unwrap_or(libc::EIO),
        Some(&format!("Failed to connect socket to '{}'", path.display())),
    )
}

/// What one read from the daemon gave (`NetClient::read_step`).
pub enum ReadStep {
    /// Packets may be queued in `rx`; read again after routing them.
    More,
    /// Packets may be queued; the socket is drained, wait for the next edge.
    Drained,
    /// Nothing to read now.
    Idle,
    /// The connection is over: the close reason (VIR_CONNECT_CLOSE_REASON_*) and why.
    Died(i32, String),
}

impl NetClient {
    /// Reads once from the daemon into `rx` and says what to do next.
    // C: virNetClientIOHandleInput
    pub fn read_step(&mut self) -> ReadStep {
        match self.conn.read_once(&mut self.rx) {
            ReadOutcome::Data { drained, .. } => {
                self.keepalive.on_packet(Instant::now());
                if drained {
                    ReadStep::Drained
                } else {
                    ReadStep::More
                }
            }
            ReadOutcome::WouldBlock => ReadStep::Idle,
            ReadOutcome::Eof => ReadStep::Died(VIR_CONNECT_CLOSE_REASON_EOF, "the daemon closed the connection".into()),
            ReadOutcome::Failed(e) => ReadStep::Died(VIR_CONNECT_CLOSE_REASON_ERROR, crate::util::strerror(&e)),
            ReadOutcome::Protocol(e) => ReadStep::Died(VIR_CONNECT_CLOSE_REASON_ERROR, e.to_string()),
        }
    }

    /// A packet of the keepalive program from the daemon: a PING is answered with a PONG.
    /// None when `h` is not keepalive; Some(true) when output was queued on an idle leg
    /// (the caller must flush it).
    // C: virKeepAliveCheckMessage
    pub fn keepalive_packet(&mut self, h: &Header) -> Option<bool> {
        if h.prog != crate::rpc::protocol::KEEPALIVE_PROGRAM {
            return None;
        }
        if h.proc_ == crate::rpc::protocol::KEEPALIVE_PROC_PING && h.type_ == MessageType::Message {
            let was_empty = self.conn.tx_is_empty();
            self.conn.queue(message::pong(), Vec::new());
            return Some(was_empty);
        }
        Some(false)
    }

    /// Tries to connect to the daemon's socket without blocking: Ok(None) when its accept
    /// queue is full (try again later). The handshake starts with `start`.
    // C: virNetClientNewUNIX
    pub fn connect(path: &Path, request: &OpenRequest, ka_interval: i32, ka_count: u32) -> std::io::Result<Option<NetClient>> {
        let fd = match sys::connect_unix_nonblocking(path)? {
            sys::Connect::Connected(fd) => fd,
            sys::Connect::Busy => return Ok(None),
        };
        let s = mio::net::UnixStream::from_std(std::os::unix::net::UnixStream::from(fd));
        Ok(Some(NetClient {
            conn: PacketConn::new(Stream::Unix(s)),
            phase: Phase::AuthList,
            serial: 0,
            pending_serial: 0,
            request: request.clone(),
            keepalive: KeepAlive::new(ka_interval, ka_count),
            keepalive_ok: false,
            paused: false,
            rx: VecDeque::new(),
        }))
    }

    fn call(&mut self, proc_: i32, args: &impl Xdr) {
        self.serial = self.serial.wrapping_add(1);
        self.pending_serial = self.serial;
        let h = Header::new(REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION, proc_, MessageType::Call, self.serial, MessageStatus::Ok);
        // Our own calls are tiny and cannot exceed the packet limit.
        if let Ok(buf) = message::encode_packet(&h, None, |w| args.encode(w)) {
            self.conn.queue(buf, Vec::new());
        }
    }

    pub fn start(&mut self) {
        self.phase = Phase::AuthList;
        self.call(REMOTE_PROC_AUTH_LIST, &());
    }

    fn identity_params(id: &Identity) -> Vec<TypedParam> {
        let mut p = Vec::new();
        if let Some(v) = &id.user_name {
            p.push(TypedParam::new("user-name", TypedParamValue::String(v.clone())));
        }
        if let Some(v) = id.uid {
            p.push(TypedParam::new("unix-user-id", TypedParamValue::ULLong(v as u64)));
        }
        if let Some(v) = &id.group_name {
            p.push(TypedParam::new("group-name", TypedParamValue::String(v.clone())));
        }
        if let Some(v) = id.gid {
            p.push(TypedParam::new("unix-group-id", TypedParamValue::ULLong(v as u64)));
        }
        if let Some(v) = id.pid {
            p.push(TypedParam::new("process-id", TypedParamValue::LLong(v as i64)));
            if id.start_time != 0 {
                p.push(TypedParam::new("process-time", TypedParamValue::ULLong(id.start_time)));
            }
        }
        if let Some(v) = &id.sasl_user {
            p.push(TypedParam::new("sasl-user-name", TypedParamValue::String(v.clone())));
        }
        if let Some(v) = &id.x509_dn {
            p.push(TypedParam::new("x509-distinguished-name", TypedParamValue::String(v.clone())));
        }
        if let Some(v) = &id.selinux_context {
            p.push(TypedParam::new("selinux-context", TypedParamValue::String(v.clone())));
        }
        p
    }

    /// Feeds a reply during the handshake.
    // C: doRemoteOpen
    pub fn handshake_reply(&mut self, pkt: &Packet) -> Step {
        let h = &pkt.header;
        if h.prog != REMOTE_PROGRAM || h.type_ != MessageType::Reply || h.serial != self.pending_serial {
            log::debug!("unexpected packet from daemon during open: prog {} proc {} type {:?}", h.prog, h.proc_, h.type_);
            return Step::Continue;
        }
        if h.status == MessageStatus::Error {
            let err = pkt.decode_payload::<RemoteError>().unwrap_or_else(|_| {
                RemoteError::new(
                    crate::rpc::protocol::VIR_ERR_RPC,
                    crate::rpc::protocol::VIR_FROM_RPC,
                    Some("Unable to decode message payload"),
                )
            });
            // A daemon without keepalive support is fine; anything else ends the open.
            if self.phase == Phase::Feature {
                self.phase = Phase::Open;
                self.send_open();
                return Step::Continue;
            }
            return Step::Failed(err);
        }
        match self.phase {
            Phase::AuthList => {
                let types = pkt.decode_payload::<AuthListRet>().map(|r| r.types).unwrap_or_default();
                match types.first().copied() {
                    None | Some(REMOTE_AUTH_NONE) => self.ask_keepalive(),
                    Some(REMOTE_AUTH_POLKIT) => {
                        self.phase = Phase::AuthPolkit;
                        self.call(REMOTE_PROC_AUTH_POLKIT, &());
                    }
                    Some(REMOTE_AUTH_SASL) => return Step::Failed(auth_unsupported("SASL")),
                    Some(other) => return Step::Failed(auth_unsupported(&format!("type {other}"))),
                }
                Step::Continue
            }
            Phase::AuthPolkit => {
                self.ask_keepalive();
                Step::Continue
            }
            Phase::Feature => {
                self.keepalive_ok = pkt.decode_payload::<SupportsFeatureRet>().map(|r| r.supported == 1).unwrap_or(false);
                self.send_open();
                Step::Continue
            }
            Phase::Open => {
                let params = Self::identity_params(&self.request.identity);
                if params.is_empty() {
                    self.phase = Phase::Ready;
                    return Step::Done;
                }
                self.phase = Phase::Identity;
                self.call(REMOTE_PROC_CONNECT_SET_IDENTITY, &SetIdentityArgs { params, flags: 0 });
                Step::Continue
            }
            Phase::Identity => {
                self.phase = Phase::Ready;
                Step::Done
            }
            Phase::Ready => Step::Continue,
        }
    }

    fn ask_keepalive(&mut self) {
        self.phase = Phase::Feature;
        self.call(REMOTE_PROC_CONNECT_SUPPORTS_FEATURE, &SupportsFeatureArgs { feature: VIR_DRV_FEATURE_PROGRAM_KEEPALIVE });
    }

    fn send_open(&mut self) {
        self.phase = Phase::Open;
        let args = ConnectOpenArgs { name: Some(self.request.uri.clone()), flags: self.request.flags };
        self.call(REMOTE_PROC_CONNECT_OPEN, &args);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_params_include_known_fields_only() {
        let id =
            Identity { uid: Some(1000), gid: Some(100), pid: Some(42), start_time: 7, user_name: Some("u".into()), ..Identity::default() };
        let p = NetClient::identity_params(&id);
        let names: Vec<&str> = p.iter().map(|t| t.field.as_str()).collect();
        assert_eq!(names, ["user-name", "unix-user-id", "unix-group-id", "process-id", "process-time"]);
    }

    #[test]
    fn identity_params_empty_identity_is_empty() {
        assert!(NetClient::identity_params(&Identity::default()).is_empty());
    }
}
