//! One client connection of a server (libvirt's rpc/virnetserverclient.c): its state, the
//! pure readiness policy, its I/O (read, dispatch, write) and the messages sent to it.
//!
//! The client owns its stream and framing (`io`), packets received but not yet dispatched
//! (`pending`, non-empty only while throttled), the output queue and its request count.
//! Whether it wants to read or write is one pure function, `wants`, unit-tested alone; the
//! event loop only acts on readiness the client wants.
//!
//! Bounds a peer cannot push past: `max_client_requests` calls in flight (an answer counts
//! until it is written, as in libvirt), `TX_HIGH_WATER` bytes of output before the client is
//! no longer read, the fds of one packet (stray ones are closed), and for a client that has
//! not authenticated, the time keepalive gives a silent peer.

use std::collections::VecDeque;
use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};

use log::{debug, info, warn};

pub use crate::rpc::conn::{OutPacket, PacketConn, ReadOutcome};
use crate::rpc::keepalive::{Action, KeepAlive};
use crate::rpc::message::{self, Packet};
use crate::rpc::netdaemon::{ClientId, Core, TimerKey};
use crate::rpc::program::Program;
use crate::rpc::protocol::{Header, RemoteError};
use crate::rpc::sasl::{Channel, SaslSession};
pub use crate::rpc::service::{AuthType, Transport};
use crate::rpc::socket::Stream;
use crate::rpc::tls::{HandshakeStep, TlsContext};

/// Stop reading a client (and a relay stops reading what feeds it) when this much output
/// waits for it; resume below `TX_LOW_WATER`.
pub const TX_HIGH_WATER: usize = 4 << 20;
pub const TX_LOW_WATER: usize = 1 << 20;

/// A failed authentication is answered this late, then the connection is closed: one guess
/// per connection and second (libvirt answers at once and keeps the connection).
pub const AUTH_FAILURE_DELAY: Duration = Duration::from_secs(1);

/// Without keepalive settings to go by, an unauthenticated client gets this long.
const AUTH_TIMEOUT_DEFAULT: Duration = Duration::from_secs(30);

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
    /// It did not authenticate in time, or failed to.
    Auth,
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
    pub last_rx: Option<Instant>,
    pub nrequests: u32,
    pub nrequests_max: u32,
    /// Set by a program to stop reading while its side of a relay is full.
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
    /// An authentication failure answer held back by `AUTH_FAILURE_DELAY`.
    pub held_failure: Option<Vec<u8>>,
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
    // C: virNetServerClientNew
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
            held_failure: None,
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

    /// The pure readiness policy.
    // C: virNetServerClientCalculateHandleMode
    pub fn wants(&self) -> Wants {
        let alive = self.closed.is_none() && !self.tls_handshaking();
        let accepting = alive && self.delayed_close.is_none() && self.held_failure.is_none() && !self.rx_paused && !self.throttled();
        Wants {
            dispatch: accepting && !self.pending.is_empty(),
            read: accepting && self.pending.is_empty() && self.io.tx_bytes() < TX_HIGH_WATER,
            write: alive && !self.io.tx_is_empty(),
        }
    }

    pub fn close(&mut self, why: CloseReason) {
        if self.closed.is_none() {
            self.closed = Some(why);
        }
    }

    /// Reads once, queueing every complete packet into `pending`.
    pub fn read_once(&mut self) -> ReadOutcome {
        self.io.read_once(&mut self.pending)
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
            warn!(
                "Client hit max requests limit {}. This may result in keep-alive timeouts. Consider tuning the max_client_requests server parameter",
                self.nrequests_max
            );
        }
    }

    /// Answers were written; returns true if this lifted the throttle.
    fn calls_finished(&mut self, n: u32) -> bool {
        let was = self.throttled();
        self.nrequests = self.nrequests.saturating_sub(n);
        was && !self.throttled()
    }

    pub fn queue(&mut self, buf: Vec<u8>, fds: Vec<OwnedFd>) {
        if self.closed.is_none() {
            self.io.queue(buf, fds);
        }
    }

    /// Queues the answer to a call: it stays counted until written.
    pub fn queue_reply(&mut self, buf: Vec<u8>, fds: Vec<OwnedFd>) {
        if self.closed.is_none() {
            self.io.queue_packet(buf, fds, true);
        }
    }

    /// Bytes queued for output and not yet written.
    pub fn tx_bytes(&self) -> usize {
        self.io.tx_bytes()
    }

    pub fn tx_is_empty(&self) -> bool {
        self.io.tx_is_empty()
    }

    /// Partial input or undispatched packets are being held (for diagnostics and tests).
    pub fn rx_in_progress(&self) -> bool {
        !self.io.splitter_idle() || !self.pending.is_empty()
    }

    /// How long it may take to authenticate: what keepalive gives a silent peer.
    pub fn auth_timeout(&self) -> Duration {
        self.keepalive.dead_after().unwrap_or(AUTH_TIMEOUT_DEFAULT)
    }
}

impl Core {
    /// Queues an unsolicited packet (event, stream data, keepalive).
    // C: virNetServerClientSendMessage
    pub fn send(&mut self, cid: ClientId, buf: Vec<u8>, fds: Vec<OwnedFd>) {
        if let Some(c) = self.client_mut(cid) {
            let was_empty = c.tx_is_empty();
            c.queue(buf, fds);
            if was_empty {
                self.dirty.push(cid);
            }
        }
    }

    /// Queues the answer to a CALL; the call stays counted until the answer is written.
    pub fn reply(&mut self, cid: ClientId, buf: Vec<u8>, fds: Vec<OwnedFd>) {
        if let Some(c) = self.client_mut(cid) {
            let was_empty = c.tx_is_empty();
            c.queue_reply(buf, fds);
            if was_empty {
                self.dirty.push(cid);
            }
        }
    }

    /// Answers a CALL with an error. Client-caused errors are logged at debug level only.
    pub fn reply_error(&mut self, cid: ClientId, call: &Header, err: &RemoteError) {
        debug!("client {}: {} proc {}: {}", cid.idx, call.prog, call.proc_, err.message.as_deref().unwrap_or(""));
        match message::reply_error(call, err) {
            Ok(buf) => self.reply(cid, buf, Vec::new()),
            Err(e) => {
                warn!("cannot encode error reply: {e}");
                self.close_client(cid, CloseReason::Error);
            }
        }
    }

    /// Answers a failed authentication after `AUTH_FAILURE_DELAY`, then closes the client;
    /// it reads nothing more meanwhile.
    pub fn fail_auth(&mut self, cid: ClientId, call: &Header, err: &RemoteError) {
        let Ok(buf) = message::reply_error(call, err) else { return self.close_client(cid, CloseReason::Auth) };
        if let Some(c) = self.client_mut(cid) {
            c.held_failure = Some(buf);
            self.timers.add(Instant::now() + AUTH_FAILURE_DELAY, TimerKey::AuthFailure(cid));
        }
    }

    /// Marks a client for closing; it is removed after the current batch of events.
    // C: virNetServerClientClose
    pub fn close_client(&mut self, cid: ClientId, why: CloseReason) {
        if let Some(c) = self.client_mut(cid) {
            if c.closed.is_none() {
                c.close(why);
                self.closing.push(cid);
            }
        }
    }

    /// Closes the client once everything queued for it is written.
    // C: virNetServerClientDelayedClose
    pub fn close_client_after_flush(&mut self, cid: ClientId, why: CloseReason) {
        if let Some(c) = self.client_mut(cid) {
            c.delayed_close = Some(why);
            if c.tx_is_empty() {
                self.close_client(cid, why);
            }
        }
    }

    /// Asks the loop to try reading/dispatching this client again after the batch.
    pub fn kick(&mut self, cid: ClientId) {
        self.kicked.push(cid);
    }

    /// Starts pinging the client (it asked for CONNECT_SUPPORTS_FEATURE 10).
    // C: virNetServerClientStartKeepAlive
    pub fn start_keepalive(&mut self, cid: ClientId) {
        let now = Instant::now();
        if let Some(c) = self.client_mut(cid) {
            if let Some(at) = c.keepalive.start(now) {
                self.timers.add(at, TimerKey::Keepalive(cid));
            }
        }
    }
}

/// Reads, dispatches and writes for one client as far as its state allows.
// C: virNetServerClientDispatchEvent
pub fn dispatch_event(core: &mut Core, progs: &mut [Box<dyn Program>], cid: ClientId, hup: bool, writable: bool) {
    if hup {
        if let Some(c) = core.client_mut(cid) {
            c.io.peer_hup = true;
        }
    }
    if !tls_ready(core, cid) {
        return;
    }
    if writable {
        flush(core, cid);
    }
    loop {
        dispatch_pending(core, progs, cid);
        let Some(c) = core.client_mut(cid) else { break };
        if !c.wants().read {
            break;
        }
        match c.read_once() {
            ReadOutcome::Data { drained, .. } => {
                if drained {
                    // Dispatch what came, then wait for the next edge.
                    dispatch_pending(core, progs, cid);
                    break;
                }
            }
            ReadOutcome::WouldBlock => break,
            ReadOutcome::Eof => {
                core.close_client(cid, CloseReason::Eof);
                break;
            }
            ReadOutcome::Failed(e) => {
                debug!("client {}: read failed: {}", cid.idx, crate::util::strerror(&e));
                core.close_client(cid, CloseReason::Error);
                break;
            }
            ReadOutcome::Protocol(e) => {
                crate::util::ratelimit::client_warn(format_args!("client {}: {e}; closing connection", cid.idx));
                core.close_client(cid, CloseReason::Error);
                break;
            }
        }
    }
}

/// Runs a TLS client's handshake and certificate checks; true once it may exchange packets.
// C: virNetServerClientDispatchHandshake
fn tls_ready(core: &mut Core, cid: ClientId) -> bool {
    let Some(c) = core.client_mut(cid) else { return false };
    match c.tls_progress() {
        TlsProgress::NotPending => true,
        TlsProgress::Pending => false,
        TlsProgress::Accepted => {
            debug!("client {}: TLS handshake and certificate checks passed", cid.idx);
            // C: virNetServerClientCheckAccess — the one byte that tells the client to go on.
            core.send(cid, vec![crate::rpc::tls::TLS_CHECK_OK_BYTE], Vec::new());
            true
        }
        TlsProgress::Refused(why) => {
            let peer = c.sock_addr.clone().unwrap_or_default();
            crate::util::ratelimit::client_warn(format_args!("TLS client {peer} refused: {why}"));
            core.close_client(cid, CloseReason::Error);
            false
        }
    }
}

/// Dispatches what was already received, as long as the client may.
// C: virNetServerClientDispatchRead (its hand-off to the server)
fn dispatch_pending(core: &mut Core, progs: &mut [Box<dyn Program>], cid: ClientId) {
    while let Some((pkt, fds)) = core.client_mut(cid).and_then(|c| c.next_packet()) {
        crate::rpc::server::process_msg(core, progs, cid, pkt, fds);
    }
}

/// Writes what the socket takes; answers written lift the throttle, a drained queue lifts
/// the output bound and lets a delayed close happen.
// C: virNetServerClientDispatchWrite
pub fn flush(core: &mut Core, cid: ClientId) {
    let Some(c) = core.client_mut(cid) else { return };
    if c.closed.is_some() {
        return;
    }
    let was_full = c.io.tx_bytes() >= TX_HIGH_WATER;
    let res = c.io.flush();
    let done = c.io.take_tracked_done();
    let unthrottled = done > 0 && c.calls_finished(done);
    let unblocked = was_full && c.io.tx_bytes() < TX_LOW_WATER;
    match res {
        Ok(true) => {
            if let Some(why) = c.delayed_close {
                core.close_client(cid, why);
            }
        }
        Ok(false) => {}
        Err(e) => {
            debug!("client {}: write failed: {}", cid.idx, crate::util::strerror(&e));
            core.close_client(cid, CloseReason::Error);
        }
    }
    if unthrottled || unblocked {
        core.kick(cid);
    }
}

/// A keepalive timer of a client fired.
// C: virKeepAliveTimer (server side)
pub fn keepalive_timer(core: &mut Core, cid: ClientId, now: Instant) {
    let Some(c) = core.client_mut(cid) else { return };
    if c.closed.is_some() {
        return;
    }
    match c.keepalive.on_timer(now) {
        Action::Wait(at) => core.timers.add(at, TimerKey::Keepalive(cid)),
        Action::Ping(at) => {
            core.send(cid, message::ping(), Vec::new());
            core.timers.add(at, TimerKey::Keepalive(cid));
        }
        Action::Dead => {
            info!("client {}: connection closed due to keepalive timeout", cid.idx);
            core.close_client(cid, CloseReason::Keepalive);
        }
        Action::Idle => {}
    }
}

/// A client that had until now to authenticate (or to finish its TLS handshake).
pub fn auth_deadline(core: &mut Core, cid: ClientId, tls_only: bool) {
    let Some(c) = core.client(cid) else { return };
    if c.closed.is_some() {
        return;
    }
    if tls_only {
        if c.tls_handshaking() {
            crate::util::ratelimit::client_warn(format_args!("client {}: TLS handshake not completed in time; dropping it", cid.idx));
            core.close_client(cid, CloseReason::Error);
        }
    } else if !c.authenticated {
        crate::util::ratelimit::client_warn(format_args!("client {}: not authenticated in time; dropping it", cid.idx));
        core.close_client(cid, CloseReason::Auth);
    }
}

/// The held authentication failure is due: answer it and close.
pub fn auth_failure_due(core: &mut Core, cid: ClientId) {
    let Some(buf) = core.client_mut(cid).and_then(|c| c.held_failure.take()) else { return };
    core.reply(cid, buf, Vec::new());
    core.close_client_after_flush(cid, CloseReason::Auth);
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
        assert!(c.calls_finished(1));
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
    fn wants_full_output_queue_stops_reading() {
        let (mut c, _p) = client_pair();
        c.queue(vec![0; TX_HIGH_WATER], Vec::new());
        assert_eq!(c.wants(), Wants { read: false, write: true, dispatch: false });
    }

    #[test]
    fn wants_held_auth_failure_stops_reading() {
        let (mut c, _p) = client_pair();
        c.held_failure = Some(vec![0; 28]);
        assert!(!c.wants().read);
    }

    #[test]
    fn reply_counts_until_written() {
        let (mut c, _p) = client_pair();
        c.call_started();
        c.call_started();
        c.queue_reply(vec![0; 28], Vec::new());
        assert!(c.throttled(), "an answer still queued keeps the call counted");
        assert!(c.io.flush().unwrap());
        let done = c.io.take_tracked_done();
        assert_eq!(done, 1);
        assert!(c.calls_finished(done));
        assert!(!c.throttled());
    }

    #[test]
    fn read_once_eof_reported() {
        let (mut c, p) = client_pair();
        drop(p);
        assert!(matches!(c.read_once(), ReadOutcome::Eof));
    }

    #[test]
    fn auth_timeout_follows_keepalive() {
        let (c, _p) = client_pair();
        assert_eq!(c.auth_timeout(), Duration::from_secs(30));
    }
}
