//! One client connection of a server (libvirt's rpc/virnetserverclient.c).
//!
//! The client owns its stream, the packet being received (`splitter`), packets received
//! but not yet dispatched (`pending`, non-empty only while throttled), the output queue and
//! its request count. Whether it wants to read or write is one pure function, `wants`,
//! unit-tested alone; the event loop only acts on readiness the client wants.

use std::collections::VecDeque;
use std::io;
use std::os::fd::OwnedFd;
use std::time::Instant;

use crate::remote::config::AuthType;
pub use crate::rpc::conn::{OutPacket, PacketConn, ReadOutcome};
use crate::rpc::keepalive::KeepAlive;
use crate::rpc::message::Packet;
use crate::rpc::sasl::{Channel, SaslSession};
use crate::rpc::socket::Stream;
use crate::rpc::tls::{HandshakeStep, TlsContext};

/// Client transport as the admin program reports it (admin_client_transport).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Unix = 0,
    Tcp = 1,
    Tls = 2,
}

/// Who is at the other end, as far as we know (libvirt's virIdentity of a client).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub pid: Option<i32>,
    /// Process start time in clock ticks since boot, 0 if unknown.
    pub start_time: u64,
    pub user_name: Option<String>,
    pub group_name: Option<String>,
    pub sasl_user: Option<String>,
    pub x509_dn: Option<String>,
    pub selinux_context: Option<String>,
}

impl Identity {
    // C: virNetServerClientCreateIdentity (the UNIX part)
    pub fn of_unix_peer(fd: i32) -> Identity {
        match crate::util::sys::peer_cred(fd) {
            Ok(c) => Identity {
                uid: Some(c.uid),
                gid: Some(c.gid),
                pid: Some(c.pid),
                start_time: crate::util::sys::process_start_time(c.pid),
                user_name: crate::util::sys::user_name(c.uid),
                group_name: crate::util::sys::group_name(c.gid),
                ..Identity::default()
            },
            Err(_) => Identity::default(),
        }
    }
}

/// Why a connection ends; the proxy maps these onto CONNECT_EVENT_CONNECTION_CLOSED reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// The peer closed its end.
    Eof,
    /// A read or write failed, or the peer broke the protocol.
    Error,
    /// The peer stopped answering keepalive PINGs.
    Keepalive,
    /// The peer asked (CONNECT_CLOSE) and its reply has been flushed.
    Client,
    /// An administrator closed it (virt-admin client-disconnect).
    Admin,
    /// The daemon is shutting down.
    Shutdown,
}

/// What the event loop should try on this client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Wants {
    pub read: bool,
    pub write: bool,
    /// Packets are waiting to be dispatched.
    pub dispatch: bool,
}

#[derive(Debug)]
pub struct Client {
    pub id: u64,
    pub server: usize,
    pub service: usize,
    pub transport: Transport,
    pub readonly: bool,
    pub auth: AuthType,
    pub authenticated: bool,
    pub identity: Identity,
    /// Seconds since the epoch at accept (admin client timestamp).
    pub conn_time: i64,
    pub sock_addr: Option<String>,
    pub keepalive: KeepAlive,
    /// Keepalive PINGs to us are answered; our own PINGs start on CONNECT_SUPPORTS_FEATURE 10.
    pub last_rx: Option<Instant>,
    pub nrequests: u32,
    pub nrequests_max: u32,
    /// Set by the driver to stop reading while its side of a relay is full.
    pub rx_paused: bool,
    /// Close once the output queue is flushed (after CONNECT_CLOSE's reply).
    pub delayed_close: Option<CloseReason>,
    /// Close now; swept after the event batch.
    pub closed: Option<CloseReason>,
    /// The socket and its packet framing in both directions.
    pub io: PacketConn,
    /// The TLS context the client was accepted with (its checks apply after the handshake).
    pub tls_ctx: Option<std::sync::Arc<TlsContext>>,
    /// The SASL exchange in progress (between AUTH_SASL_INIT and completion).
    pub sasl: Option<SaslSession>,
    pending: VecDeque<(Packet, Vec<OwnedFd>)>,
    warned_throttle: bool,
}

/// What became of a TLS client's handshake.
#[derive(Debug, PartialEq, Eq)]
pub enum TlsProgress {
    /// Not a TLS client, or its handshake finished earlier.
    NotPending,
    /// Still going: wait for the next readiness edge.
    Pending,
    /// Just finished and the certificate checks passed.
    Accepted,
    Refused(String),
}

impl Client {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: u64,
        server: usize,
        service: usize,
        transport: Transport,
        stream: Stream,
        readonly: bool,
        auth: AuthType,
        nrequests_max: u32,
        keepalive: KeepAlive,
    ) -> Client {
        let identity = if stream.is_unix() { Identity::of_unix_peer(stream.raw_fd()) } else { Identity::default() };
        let sock_addr = stream.peer_addr_string();
        let conn_time = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
        Client {
            id,
            server,
            service,
            transport,
            readonly,
            auth,
            authenticated: auth == AuthType::None,
            identity,
            conn_time,
            sock_addr,
            keepalive,
            last_rx: None,
            nrequests: 0,
            nrequests_max: nrequests_max.max(1),
            rx_paused: false,
            delayed_close: None,
            closed: None,
            io: PacketConn::new(stream),
            tls_ctx: None,
            sasl: None,
            pending: VecDeque::new(),
            warned_throttle: false,
        }
    }

    /// Dispatching more calls must wait until some of the in-flight ones are answered.
    pub fn throttled(&self) -> bool {
        self.nrequests >= self.nrequests_max
    }

    /// What kind of channel the client is on, for SASL's SSF rules.
    pub fn channel(&self) -> Channel {
        match &self.io.stream {
            Stream::Unix(_) => Channel::Unix,
            Stream::Tcp(_) => Channel::Tcp,
            Stream::Tls(t) => Channel::Tls(t.key_bits()),
        }
    }

    /// The TLS handshake has not completed yet.
    pub fn tls_handshaking(&self) -> bool {
        self.io.stream.tls().is_some_and(|t| !t.handshake_done)
    }

    /// Advances the TLS handshake; once done, checks the client's certificate and records
    /// its DN in the identity.
    // C: virNetServerClientDispatchHandshake + virNetServerClientCheckAccess
    pub fn tls_progress(&mut self) -> TlsProgress {
        let Some(t) = self.io.stream.tls_mut() else { return TlsProgress::NotPending };
        if t.handshake_done {
            return TlsProgress::NotPending;
        }
        match t.handshake() {
            HandshakeStep::Pending => TlsProgress::Pending,
            HandshakeStep::Failed(why) => TlsProgress::Refused(format!("TLS handshake failed: {why}")),
            HandshakeStep::Done => {
                let Some(ctx) = self.tls_ctx.clone() else { return TlsProgress::Refused("no TLS context".into()) };
                let Some(t) = self.io.stream.tls() else { return TlsProgress::NotPending };
                match ctx.check_peer(t) {
                    Ok(dn) => {
                        self.identity.x509_dn = dn;
                        TlsProgress::Accepted
                    }
                    Err(why) => TlsProgress::Refused(why),
                }
            }
        }
    }

    /// The pure readiness policy (libvirt's virNetServerClientCalculateHandleMode).
    // C: virNetServerClientCalculateHandleMode
    pub fn wants(&self) -> Wants {
        let alive = self.closed.is_none() && !self.tls_handshaking();
        let accepting = alive && self.delayed_close.is_none() && !self.rx_paused;
        Wants {
            dispatch: accepting && !self.throttled() && !self.pending.is_empty(),
            read: accepting && !self.throttled() && self.pending.is_empty(),
            write: alive && !self.io.tx_is_empty(),
        }
    }

    pub fn close(&mut self, why: CloseReason) {
        if self.closed.is_none() {
            self.closed = Some(why);
        }
    }

    /// Reads once into `scratch`, queueing every complete packet into `pending`.
    pub fn read_once(&mut self, scratch: &mut [u8]) -> ReadOutcome {
        self.io.read_once(scratch, &mut self.pending)
    }

    /// The next packet to dispatch, if the client may dispatch now.
    pub fn next_packet(&mut self) -> Option<(Packet, Vec<OwnedFd>)> {
        if self.wants().dispatch {
            self.pending.pop_front()
        } else {
            None
        }
    }

    /// Counts a call as in flight; logs once when the client hits its limit.
    pub fn call_started(&mut self) {
        self.nrequests += 1;
        if self.throttled() && !self.warned_throttle {
            self.warned_throttle = true;
            log::warn!(
                "Client hit max requests limit {}. This may result in keep-alive timeouts. Consider tuning the max_client_requests server parameter",
                self.nrequests_max
            );
        }
    }

    /// A call was answered; returns true if this lifted the throttle.
    pub fn call_finished(&mut self) -> bool {
        let was = self.throttled();
        self.nrequests = self.nrequests.saturating_sub(1);
        was && !self.throttled()
    }

    pub fn queue(&mut self, buf: Vec<u8>, fds: Vec<OwnedFd>) {
        if self.closed.is_none() {
            self.io.queue(buf, fds);
        }
    }

    /// Bytes queued for output and not yet written.
    pub fn tx_bytes(&self) -> usize {
        self.io.tx_bytes()
    }

    pub fn tx_is_empty(&self) -> bool {
        self.io.tx_is_empty()
    }

    /// Writes as much of the queue as the socket takes. Ok(true) when the queue is empty.
    // C: virNetServerClientDispatchWrite
    pub fn flush(&mut self) -> io::Result<bool> {
        self.io.flush()
    }

    /// Flushes and keeps the writability registration in step with the queue.
    pub fn flush_and_rearm(&mut self, registry: &mio::Registry, token: mio::Token) -> io::Result<bool> {
        self.io.flush_and_rearm(registry, token)
    }

    /// Partial input or undispatched packets are being held (for diagnostics and tests).
    pub fn rx_in_progress(&self) -> bool {
        !self.io.splitter_idle() || !self.pending.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixStream as StdUnix;

    fn client_pair() -> (Client, StdUnix) {
        let (a, b) = StdUnix::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        let s = Stream::Unix(mio::net::UnixStream::from_std(a));
        let c = Client::new(1, 0, 0, Transport::Unix, s, false, AuthType::None, 2, KeepAlive::new(5, 5));
        (c, b)
    }

    #[test]
    fn wants_idle_client_reads_only() {
        let (c, _p) = client_pair();
        assert_eq!(c.wants(), Wants { read: true, write: false, dispatch: false });
    }

    #[test]
    fn wants_throttled_client_stops_reading() {
        let (mut c, _p) = client_pair();
        c.call_started();
        c.call_started();
        assert!(c.throttled());
        assert!(!c.wants().read);
        assert!(c.call_finished());
        assert!(c.wants().read);
    }

    #[test]
    fn wants_delayed_close_stops_reading_keeps_writing() {
        let (mut c, _p) = client_pair();
        c.queue(vec![0; 28], Vec::new());
        c.delayed_close = Some(CloseReason::Client);
        assert_eq!(c.wants(), Wants { read: false, write: true, dispatch: false });
    }

    #[test]
    fn wants_paused_client_stops_reading() {
        let (mut c, _p) = client_pair();
        c.rx_paused = true;
        assert!(!c.wants().read);
    }

    #[test]
    fn wants_closed_client_wants_nothing() {
        let (mut c, _p) = client_pair();
        c.queue(vec![0; 28], Vec::new());
        c.close(CloseReason::Eof);
        assert_eq!(c.wants(), Wants::default());
    }

    #[test]
    fn read_once_eof_reported() {
        let (mut c, p) = client_pair();
        drop(p);
        let mut scratch = [0u8; 64];
        assert!(matches!(c.read_once(&mut scratch), ReadOutcome::Eof));
    }
}
