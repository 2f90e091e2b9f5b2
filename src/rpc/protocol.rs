//! libvirt's base RPC protocol: limits, program and procedure numbers, the message header and
//! the error struct (rpc/virnetprotocol.x, rpc/virkeepaliveprotocol.x, the program constants of
//! remote/remote_protocol.x, remote/qemu_protocol.x, remote/lxc_protocol.x,
//! admin/admin_protocol.x; error numbers and texts in the `virerror` sub-module).
use std::fmt;

use crate::xdr::{Reader, Writer, Xdr, XdrError};
use crate::xdr_struct;

mod virerror;
pub use crate::remote::procs::{remote_proc_name, REMOTE_PROC_LAST};
pub use virerror::*;

// ---- Limits (virnetprotocol.x; values of libvirt 9.0) ----

/// Initial size of libvirt's encode buffer (it doubles up to the maximum).
pub const VIR_NET_MESSAGE_INITIAL: usize = 65536;
/// Stream chunk size libvirt uses, kept from the days of 256 KiB messages.
pub const VIR_NET_MESSAGE_LEGACY_PAYLOAD_MAX: usize = 262120;
/// Largest header + payload, not counting the length word.
pub const VIR_NET_MESSAGE_MAX: usize = 33_554_432;
/// Size of the encoded header.
pub const VIR_NET_MESSAGE_HEADER_MAX: usize = 24;
/// Largest payload.
pub const VIR_NET_MESSAGE_PAYLOAD_MAX: usize = 33_554_408;
/// Size of the length word in front of every packet.
pub const VIR_NET_MESSAGE_LEN_MAX: usize = 4;
/// Same 4 bytes, named for its role in the header encoder.
pub const VIR_NET_MESSAGE_HEADER_XDR_LEN: usize = 4;
/// Longest string in the base protocol.
pub const VIR_NET_MESSAGE_STRING_MAX: u32 = 4_194_304;
/// Most file descriptors one message may carry.
pub const VIR_NET_MESSAGE_NUM_FDS_MAX: u32 = 32;
/// Smallest valid packet: length word + header.
pub const VIR_NET_MESSAGE_MIN_PACKET: usize = VIR_NET_MESSAGE_LEN_MAX + VIR_NET_MESSAGE_HEADER_MAX;
pub const VIR_UUID_BUFLEN: usize = 16;

// ---- Limits of remote_protocol.x and admin_protocol.x used by our own procedures ----

pub const REMOTE_STRING_MAX: u32 = 4_194_304;
pub const REMOTE_AUTH_SASL_DATA_MAX: u32 = 65536;
pub const REMOTE_AUTH_TYPE_LIST_MAX: u32 = 20;
pub const REMOTE_CONNECT_IDENTITY_PARAMS_MAX: u32 = 20;
pub const REMOTE_CONNECT_GET_ALL_DOMAIN_STATS_MAX: u32 = 262144;
pub const ADMIN_STRING_MAX: u32 = 4_194_304;
pub const ADMIN_SERVER_LIST_MAX: u32 = 16384;
pub const ADMIN_SERVER_THREADPOOL_PARAMETERS_MAX: u32 = 32;
pub const ADMIN_CLIENT_LIST_MAX: u32 = 16384;
pub const ADMIN_CLIENT_INFO_PARAMETERS_MAX: u32 = 64;
pub const ADMIN_SERVER_CLIENT_LIMITS_MAX: u32 = 32;

/// remote_auth_type
pub const REMOTE_AUTH_NONE: i32 = 0;
pub const REMOTE_AUTH_SASL: i32 = 1;
pub const REMOTE_AUTH_POLKIT: i32 = 2;

// ---- Programs ----

pub const REMOTE_PROGRAM: u32 = 0x2000_8086;
pub const REMOTE_PROTOCOL_VERSION: u32 = 1;
pub const QEMU_PROGRAM: u32 = 0x2000_8087;
pub const QEMU_PROTOCOL_VERSION: u32 = 1;
pub const LXC_PROGRAM: u32 = 0x0006_8000;
pub const LXC_PROTOCOL_VERSION: u32 = 1;
/// "keep" in ASCII.
pub const KEEPALIVE_PROGRAM: u32 = 0x6b65_6570;
pub const KEEPALIVE_PROTOCOL_VERSION: u32 = 1;
pub const ADMIN_PROGRAM: u32 = 0x0690_0690;
pub const ADMIN_PROTOCOL_VERSION: u32 = 1;

// ---- Keepalive procedures (virkeepaliveprotocol.x) ----

pub const KEEPALIVE_PROC_PING: i32 = 1;
pub const KEEPALIVE_PROC_PONG: i32 = 2;

// ---- REMOTE procedures a daemon answers itself (full table in `remote_proc_name`) ----

pub const REMOTE_PROC_CONNECT_OPEN: i32 = 1;
pub const REMOTE_PROC_CONNECT_CLOSE: i32 = 2;
pub const REMOTE_PROC_CONNECT_SUPPORTS_FEATURE: i32 = 60;
pub const REMOTE_PROC_AUTH_LIST: i32 = 66;
pub const REMOTE_PROC_AUTH_SASL_INIT: i32 = 67;
pub const REMOTE_PROC_AUTH_SASL_START: i32 = 68;
pub const REMOTE_PROC_AUTH_SASL_STEP: i32 = 69;
pub const REMOTE_PROC_AUTH_POLKIT: i32 = 70;
pub const REMOTE_PROC_CONNECT_GET_URI: i32 = 110;
pub const REMOTE_PROC_CONNECT_GET_LIB_VERSION: i32 = 157;
pub const REMOTE_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE: i32 = 318;
pub const REMOTE_PROC_CONNECT_REGISTER_CLOSE_CALLBACK: i32 = 360;
pub const REMOTE_PROC_CONNECT_UNREGISTER_CLOSE_CALLBACK: i32 = 361;
pub const REMOTE_PROC_CONNECT_EVENT_CONNECTION_CLOSED: i32 = 362;
pub const REMOTE_PROC_CONNECT_SET_IDENTITY: i32 = 419;

// ---- ADMIN procedures (admin_protocol.x) ----

pub const ADMIN_PROC_CONNECT_OPEN: i32 = 1;
pub const ADMIN_PROC_CONNECT_CLOSE: i32 = 2;
pub const ADMIN_PROC_CONNECT_GET_LIB_VERSION: i32 = 3;
pub const ADMIN_PROC_CONNECT_LIST_SERVERS: i32 = 4;
pub const ADMIN_PROC_CONNECT_LOOKUP_SERVER: i32 = 5;
pub const ADMIN_PROC_SERVER_GET_THREADPOOL_PARAMETERS: i32 = 6;
pub const ADMIN_PROC_SERVER_SET_THREADPOOL_PARAMETERS: i32 = 7;
pub const ADMIN_PROC_SERVER_LIST_CLIENTS: i32 = 8;
pub const ADMIN_PROC_SERVER_LOOKUP_CLIENT: i32 = 9;
pub const ADMIN_PROC_CLIENT_GET_INFO: i32 = 10;
pub const ADMIN_PROC_CLIENT_CLOSE: i32 = 11;
pub const ADMIN_PROC_SERVER_GET_CLIENT_LIMITS: i32 = 12;
pub const ADMIN_PROC_SERVER_SET_CLIENT_LIMITS: i32 = 13;
pub const ADMIN_PROC_CONNECT_GET_LOGGING_OUTPUTS: i32 = 14;
pub const ADMIN_PROC_CONNECT_GET_LOGGING_FILTERS: i32 = 15;
pub const ADMIN_PROC_CONNECT_SET_LOGGING_OUTPUTS: i32 = 16;
pub const ADMIN_PROC_CONNECT_SET_LOGGING_FILTERS: i32 = 17;
pub const ADMIN_PROC_SERVER_UPDATE_TLS_FILES: i32 = 18;
pub const ADMIN_PROC_CONNECT_SET_DAEMON_TIMEOUT: i32 = 19;

static ADMIN_PROC_NAMES: [&str; 19] = [
    "ADMIN_PROC_CONNECT_OPEN",
    "ADMIN_PROC_CONNECT_CLOSE",
    "ADMIN_PROC_CONNECT_GET_LIB_VERSION",
    "ADMIN_PROC_CONNECT_LIST_SERVERS",
    "ADMIN_PROC_CONNECT_LOOKUP_SERVER",
    "ADMIN_PROC_SERVER_GET_THREADPOOL_PARAMETERS",
    "ADMIN_PROC_SERVER_SET_THREADPOOL_PARAMETERS",
    "ADMIN_PROC_SERVER_LIST_CLIENTS",
    "ADMIN_PROC_SERVER_LOOKUP_CLIENT",
    "ADMIN_PROC_CLIENT_GET_INFO",
    "ADMIN_PROC_CLIENT_CLOSE",
    "ADMIN_PROC_SERVER_GET_CLIENT_LIMITS",
    "ADMIN_PROC_SERVER_SET_CLIENT_LIMITS",
    "ADMIN_PROC_CONNECT_GET_LOGGING_OUTPUTS",
    "ADMIN_PROC_CONNECT_GET_LOGGING_FILTERS",
    "ADMIN_PROC_CONNECT_SET_LOGGING_OUTPUTS",
    "ADMIN_PROC_CONNECT_SET_LOGGING_FILTERS",
    "ADMIN_PROC_SERVER_UPDATE_TLS_FILES",
    "ADMIN_PROC_CONNECT_SET_DAEMON_TIMEOUT",
];

/// The name of ADMIN procedure `n`, if it exists.
pub fn admin_proc_name(n: i32) -> Option<&'static str> {
    usize::try_from(n).ok()?.checked_sub(1).and_then(|i| ADMIN_PROC_NAMES.get(i)).copied()
}

// ---- Header ----

/// virNetMessageType
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// Client to server: arguments of a call.
    Call = 0,
    /// Server to client: result or error of a call.
    Reply = 1,
    /// Either direction: an event or a keepalive message.
    Message = 2,
    /// Either direction: stream data.
    Stream = 3,
    /// A call that carries file descriptors.
    CallWithFds = 4,
    /// A reply that carries file descriptors.
    ReplyWithFds = 5,
    /// Either direction: a hole in a sparse stream.
    StreamHole = 6,
}

impl MessageType {
    pub fn from_i32(v: i32) -> Option<Self> {
        Some(match v {
            0 => MessageType::Call,
            1 => MessageType::Reply,
            2 => MessageType::Message,
            3 => MessageType::Stream,
            4 => MessageType::CallWithFds,
            5 => MessageType::ReplyWithFds,
            6 => MessageType::StreamHole,
            _ => return None,
        })
    }

    /// Whether an `nfds` word follows the header.
    pub fn has_fds(self) -> bool {
        matches!(self, MessageType::CallWithFds | MessageType::ReplyWithFds)
    }

    /// Whether this is a call (with or without fds).
    pub fn is_call(self) -> bool {
        matches!(self, MessageType::Call | MessageType::CallWithFds)
    }
}

/// virNetMessageStatus
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageStatus {
    Ok = 0,
    Error = 1,
    /// Stream: more data follows.
    Continue = 2,
}

impl MessageStatus {
    pub fn from_i32(v: i32) -> Option<Self> {
        Some(match v {
            0 => MessageStatus::Ok,
            1 => MessageStatus::Error,
            2 => MessageStatus::Continue,
            _ => return None,
        })
    }
}

/// virNetMessageHeader: the 24 bytes after the length word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Header {
    pub prog: u32,
    pub vers: u32,
    pub proc_: i32,
    pub type_: MessageType,
    pub serial: u32,
    pub status: MessageStatus,
}

impl Header {
    pub fn new(prog: u32, vers: u32, proc_: i32, type_: MessageType, serial: u32, status: MessageStatus) -> Self {
        Header { prog, vers, proc_, type_, serial, status }
    }
}

/// The header as libvirt's `xdr_virNetMessageHeader` decodes it: `type` and `status` are XDR
/// enums, which `xdr_enum` takes without a range check. What an unknown value means is decided
/// where the packet is routed (`rpc::message::Packet::parse`, as libvirt's dispatcher does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WireHeader {
    pub prog: u32,
    pub vers: u32,
    pub proc_: i32,
    pub type_: i32,
    pub serial: u32,
    pub status: i32,
}

impl Xdr for WireHeader {
    const MIN_SIZE: usize = VIR_NET_MESSAGE_HEADER_MAX;

    fn encode(&self, w: &mut Writer) {
        w.u32(self.prog);
        w.u32(self.vers);
        w.i32(self.proc_);
        w.enum_i32(self.type_);
        w.u32(self.serial);
        w.enum_i32(self.status);
    }

    // C: xdr_virNetMessageHeader
    fn decode(r: &mut Reader<'_>) -> Result<Self, XdrError> {
        Ok(WireHeader { prog: r.u32()?, vers: r.u32()?, proc_: r.i32()?, type_: r.enum_i32()?, serial: r.u32()?, status: r.enum_i32()? })
    }
}

impl From<Header> for WireHeader {
    fn from(h: Header) -> Self {
        WireHeader { prog: h.prog, vers: h.vers, proc_: h.proc_, type_: h.type_ as i32, serial: h.serial, status: h.status as i32 }
    }
}

/// The typed header: decoding it refuses a `type` or `status` outside the protocol's values.
/// Received packets go through `WireHeader` instead, where unknown values follow libvirt's
/// dispatcher (see `rpc::message::Packet::parse`).
impl Xdr for Header {
    const MIN_SIZE: usize = VIR_NET_MESSAGE_HEADER_MAX;

    fn encode(&self, w: &mut Writer) {
        WireHeader::from(*self).encode(w);
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, XdrError> {
        let h = WireHeader::decode(r)?;
        let type_ = MessageType::from_i32(h.type_).ok_or(XdrError::BadDiscriminant { what: "message type", value: h.type_ })?;
        let status = MessageStatus::from_i32(h.status).ok_or(XdrError::BadDiscriminant { what: "message status", value: h.status })?;
        Ok(Header { prog: h.prog, vers: h.vers, proc_: h.proc_, type_, serial: h.serial, status })
    }
}

// ---- Objects carried by the error struct ----

xdr_struct! {
    /// virNetMessageNonnullDomain / remote_nonnull_domain
    pub struct NonnullDomain {
        pub name: String [max VIR_NET_MESSAGE_STRING_MAX],
        pub uuid: [u8; VIR_UUID_BUFLEN],
        pub id: i32,
    }
}

xdr_struct! {
    /// virNetMessageNonnullNetwork / remote_nonnull_network
    pub struct NonnullNetwork {
        pub name: String [max VIR_NET_MESSAGE_STRING_MAX],
        pub uuid: [u8; VIR_UUID_BUFLEN],
    }
}

/// virNetMessageError (= remote_error): the payload of every error reply.
///
/// The unused `dom` and `net` members are always sent absent; when a peer sends them they are
/// decoded (so the rest stays in step) and dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteError {
    pub code: i32,
    pub domain: i32,
    pub message: Option<String>,
    pub level: i32,
    pub str1: Option<String>,
    pub str2: Option<String>,
    pub str3: Option<String>,
    pub int1: i32,
    pub int2: i32,
}

impl RemoteError {
    /// The error libvirt raises for `virReportError(code, fmt, ...)` with `info` the formatted
    /// detail: message = code's text with `info` in it, str1 = the code's format string,
    /// str2 = info, int1 = int2 = -1, level ERROR.
    // C: virReportErrorHelper
    pub fn new(code: i32, domain: i32, info: Option<&str>) -> Self {
        RemoteError {
            code,
            domain,
            message: Some(error_message(code, info)),
            level: VIR_ERR_ERROR,
            str1: error_format(code, info.is_some()).map(str::to_owned),
            str2: info.map(str::to_owned),
            str3: None,
            int1: -1,
            int2: -1,
        }
    }

    /// A VIR_ERR_SYSTEM_ERROR for `errno`: "<context>: <strerror>" (or only the strerror text),
    /// int1 = errno.
    // C: virReportSystemErrorFull
    pub fn system(domain: i32, errno: i32, context: Option<&str>) -> Self {
        let text = strerror(errno);
        let detail = match context {
            Some(c) => format!("{c}: {text}"),
            None => text,
        };
        let mut e = RemoteError::new(VIR_ERR_SYSTEM_ERROR, domain, Some(&detail));
        e.int1 = errno;
        e
    }

    /// The message a libvirt client shows.
    pub fn message(&self) -> &str {
        self.message.as_deref().unwrap_or("unknown error")
    }
}

/// The C library's text for `errno` (what strerror(3) gives).
fn strerror(errno: i32) -> String {
    let s = std::io::Error::from_raw_os_error(errno).to_string();
    // std adds " (os error N)" after the C text.
    match s.rfind(" (os error ") {
        Some(i) => s[..i].to_owned(),
        None => s,
    }
}

impl fmt::Display for RemoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for RemoteError {}

impl Xdr for RemoteError {
    const MIN_SIZE: usize = 44;

    fn encode(&self, w: &mut Writer) {
        w.i32(self.code);
        w.i32(self.domain);
        self.message.encode(w);
        w.i32(self.level);
        w.optional(false); // dom
        self.str1.encode(w);
        self.str2.encode(w);
        self.str3.encode(w);
        w.i32(self.int1);
        w.i32(self.int2);
        w.optional(false); // net
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, XdrError> {
        let code = r.i32()?;
        let domain = r.i32()?;
        let message = Option::<String>::decode(r)?;
        let level = r.i32()?;
        let _dom = Option::<NonnullDomain>::decode(r)?;
        let str1 = Option::<String>::decode(r)?;
        let str2 = Option::<String>::decode(r)?;
        let str3 = Option::<String>::decode(r)?;
        let int1 = r.i32()?;
        let int2 = r.i32()?;
        let _net = Option::<NonnullNetwork>::decode(r)?;
        Ok(RemoteError { code, domain, message, level, str1, str2, str3, int1, int2 })
    }
}

#[cfg(test)]
mod tests;
