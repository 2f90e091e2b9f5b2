//! One client connection of a server (libvirt's rpc/virnetserverclient.c).
//!
//! The client owns its stream, the packet being received (`splitter`), packets received
//! but not yet dispatched (`pending`, non-empty only while throttled), the output queue and
//! its request count. Whether it wants to read or write is one pure function, `wants`,
//! unit-tested alone; the event loop only acts on readiness the client wants.

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Instant;

use crate::remote::config::AuthType;
use crate::rpc::keepalive::KeepAlive;
use crate::rpc::message::{FrameError, Packet, Splitter};
use crate::rpc::socket::Stream;

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

/// One queued output packet and the fds that follow it.
#[derive(Debug)]
pub struct OutPacket {
    pub buf: Vec<u8>,
    pub fds: Vec<OwnedFd>,
}

/// Outcome of one attempt to read.
#[derive(Debug)]
pub enum ReadOutcome {
    /// This many bytes were read (fewer than asked: the socket is drained for now).
    Data { n: usize, drained: bool },
    WouldBlock,
    Eof,
    Failed(io::Error),
    Protocol(FrameError),
}

#[derive(Debug)]
pub struct Client {
    pub id: u64,
    pub server: usize,
    pub service: usize,
    pub transport: Transport,
    pub stream: Stream,
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
    splitter: Splitter,
    fds_in: Vec<OwnedFd>,
    pending: VecDeque<(Packet, Vec<OwnedFd>)>,
    tx: VecDeque<OutPacket>,
    tx_off: usize,
    tx_fds_sent: usize,
    tx_bytes: usize,
    warned_throttle: bool,
}

/// At most this many packets are gathered into one writev.
const WRITEV_MAX: usize = 32;

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
        let conn_time = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        Client {
            id,
            server,
            service,
            transport,
            stream,
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
            splitter: Splitter::new(),
            fds_in: Vec::new(),
            pending: VecDeque::new(),
            tx: VecDeque::new(),
            tx_off: 0,
            tx_fds_sent: 0,
            tx_bytes: 0,
            warned_throttle: false,
        }
    }

    /// Dispatching more calls must wait until some of the in-flight ones are answered.
    pub fn throttled(&self) -> bool {
        self.nrequests >= self.nrequests_max
    }

    /// The pure readiness policy (libvirt's virNetServerClientCalculateHandleMode).
    // C: virNetServerClientCalculateHandleMode
    pub fn wants(&self) -> Wants {
        let alive = self.closed.is_none();
        let accepting = alive && self.delayed_close.is_none() && !self.rx_paused;
        Wants {
            dispatch: accepting && !self.throttled() && !self.pending.is_empty(),
            read: accepting && !self.throttled() && self.pending.is_empty(),
            write: alive && !self.tx.is_empty(),
        }
    }

    pub fn close(&mut self, why: CloseReason) {
        if self.closed.is_none() {
            self.closed = Some(why);
        }
    }

    /// Reads once into `scratch`, queueing every complete packet into `pending`.
    pub fn read_once(&mut self, scratch: &mut [u8]) -> ReadOutcome {
        let n = match self.stream.read_with_fds(scratch, &mut self.fds_in) {
            Ok(0) => return ReadOutcome::Eof,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return ReadOutcome::WouldBlock,
            Err(e) => return ReadOutcome::Failed(e),
        };
        let mut data = &scratch[..n];
        while !data.is_empty() {
            match self.splitter.push(data) {
                Ok((used, pkt)) => {
                    data = &data[used..];
                    if let Some(p) = pkt {
                        let nfds = p.nfds as usize;
                        if nfds > self.fds_in.len() {
                            return ReadOutcome::Protocol(FrameError::MissingFds { expected: nfds, got: self.fds_in.len() });
                        }
                        let fds: Vec<OwnedFd> = self.fds_in.drain(..nfds).collect();
                        self.pending.push_back((p, fds));
                    } else if used == 0 {
                        break;
                    }
                }
                Err(e) => return ReadOutcome::Protocol(e),
            }
        }
        ReadOutcome::Data { n, drained: n < scratch.len() }
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
        if self.closed.is_some() {
            return;
        }
        self.tx_bytes += buf.len();
        self.tx.push_back(OutPacket { buf, fds });
    }

    /// Bytes queued for output and not yet written.
    pub fn tx_bytes(&self) -> usize {
        self.tx_bytes
    }

    pub fn tx_is_empty(&self) -> bool {
        self.tx.is_empty()
    }

    /// Writes as much of the queue as the socket takes. Ok(true) when the queue is empty.
    // C: virNetServerClientDispatchWrite
    pub fn flush(&mut self) -> io::Result<bool> {
        loop {
            let Some(front) = self.tx.front() else { return Ok(true) };
            if self.tx_off < front.buf.len() {
                let mut iov: [&[u8]; WRITEV_MAX] = [&[]; WRITEV_MAX];
                let mut k = 0;
                for (i, p) in self.tx.iter().enumerate().take(WRITEV_MAX) {
                    iov[k] = if i == 0 { &p.buf[self.tx_off..] } else { &p.buf };
                    k += 1;
                    // The fds of a packet go right after its bytes: stop the batch there.
                    if !p.fds.is_empty() {
                        break;
                    }
                }
                let n = match self.stream.write_vectored(&iov[..k]) {
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                    Err(e) => return Err(e),
                };
                self.advance(n);
            } else if self.tx_fds_sent < front.fds.len() {
                let fd = front.fds[self.tx_fds_sent].as_raw_fd();
                if !self.stream.send_fd(fd)? {
                    return Ok(false);
                }
                self.tx_fds_sent += 1;
            } else {
                self.pop_front_done();
            }
        }
    }

    fn pop_front_done(&mut self) {
        if let Some(p) = self.tx.pop_front() {
            self.tx_bytes -= p.buf.len();
        }
        self.tx_off = 0;
        self.tx_fds_sent = 0;
    }

    fn advance(&mut self, mut n: usize) {
        while n > 0 {
            let Some(front) = self.tx.front() else { return };
            let rem = front.buf.len() - self.tx_off;
            if n < rem {
                self.tx_off += n;
                return;
            }
            n -= rem;
            if front.fds.is_empty() {
                self.pop_front_done();
            } else {
                // Bytes done; its fds are sent next by `flush`.
                self.tx_off = front.buf.len();
                return;
            }
        }
    }

    /// Partial input or undispatched packets are being held (for diagnostics and tests).
    pub fn rx_in_progress(&self) -> bool {
        !self.splitter.is_idle() || !self.pending.is_empty()
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
    fn flush_writes_queue_in_order() {
        let (mut c, mut p) = client_pair();
        c.queue(b"abc".to_vec(), Vec::new());
        c.queue(b"defg".to_vec(), Vec::new());
        assert_eq!(c.tx_bytes(), 7);
        assert!(c.flush().unwrap());
        assert_eq!(c.tx_bytes(), 0);
        let mut got = [0u8; 7];
        use std::io::Read;
        p.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"abcdefg");
    }

    #[test]
    fn flush_sends_fds_after_their_packet() {
        let (mut c, p) = client_pair();
        let (r, _w) = crate::util::sys::pipe().unwrap();
        c.queue(b"pkt1".to_vec(), vec![r]);
        c.queue(b"pkt2".to_vec(), Vec::new());
        assert!(c.flush().unwrap());
        let mut buf = [0u8; 16];
        let mut fds = Vec::new();
        let mut got = Vec::new();
        while got.len() < 9 {
            let n = crate::util::sys::recv_with_fds(p.as_raw_fd(), &mut buf, &mut fds).unwrap();
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(&got, b"pkt1\0pkt2");
        assert_eq!(fds.len(), 1);
    }

    #[test]
    fn flush_partial_write_keeps_rest_queued() {
        let (mut c, _p) = client_pair();
        // Fill the socket buffer until the write would block.
        let big = vec![7u8; 1 << 20];
        c.queue(big.clone(), Vec::new());
        c.queue(big, Vec::new());
        assert!(!c.flush().unwrap());
        assert!(c.tx_bytes() > 0);
        assert!(c.wants().write);
    }

    #[test]
    fn read_once_eof_reported() {
        let (mut c, p) = client_pair();
        drop(p);
        let mut scratch = [0u8; 64];
        assert!(matches!(c.read_once(&mut scratch), ReadOutcome::Eof));
    }
}
