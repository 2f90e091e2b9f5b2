//! A packet connection: a stream, its incoming packet framing (with passed fds) and its
//! output queue (the I/O halves of libvirt's rpc/virnetserverclient.c and rpc/virnetclient.c).
//!
//! Server clients and the proxy's upstream connections both use it. Output is written with
//! writev over several queued packets; a packet's fds follow its bytes, one dummy byte each.
//! A security layer (SASL's encode/decode, libvirt's virNetSocketReadSASL/WriteSASL) can be
//! put between the packets and the socket once authentication negotiated one.

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};

use crate::rpc::message::{FrameError, Packet, Splitter};
use crate::rpc::socket::Stream;

/// One queued output packet and the fds that follow it.
#[derive(Debug)]
pub struct OutPacket {
    pub buf: Vec<u8>,
    pub fds: Vec<OwnedFd>,
    /// The answer to a call: the client's request count drops once it is written, as
    /// libvirt's virNetServerClientDispatchWrite does (a client that does not read stays
    /// throttled instead of piling up answers).
    pub tracked: bool,
}

/// Outcome of one attempt to read.
#[derive(Debug)]
pub enum ReadOutcome {
    /// This many bytes were read; `drained` when fewer than asked (the socket is empty
    /// for now and the next edge will say when more comes).
    Data {
        n: usize,
        drained: bool,
    },
    WouldBlock,
    Eof,
    Failed(io::Error),
    Protocol(FrameError),
}

/// At most this many packets are gathered into one writev.
const WRITEV_MAX: usize = 32;

/// A transform of every byte after authentication (a SASL security layer).
pub trait Layer {
    /// Outgoing bytes to what goes on the wire.
    fn encode(&mut self, data: &[u8]) -> io::Result<Vec<u8>>;
    /// Wire bytes to plain bytes; may hold back an incomplete frame and return nothing yet.
    fn decode(&mut self, data: &[u8]) -> io::Result<Vec<u8>>;
}

#[derive(Debug)]
pub struct PacketConn {
    pub stream: Stream,
    splitter: Splitter,
    fds_in: Vec<OwnedFd>,
    tx: VecDeque<OutPacket>,
    tx_off: usize,
    tx_fds_sent: usize,
    tx_bytes: usize,
    /// Registered for writability too (only while output is stuck in a full socket).
    write_armed: bool,
    layer: Option<Box<dyn Layer>>,
    /// The layer failed to encode output: the connection is unusable.
    broken: Option<io::Error>,
    /// Tracked packets fully written since the last `take_tracked_done`.
    tracked_done: u32,
    /// Descriptors that came with no packet asking for them, closed at once.
    pub stray_fds: u64,
    /// The peer closed its end: read on until end of file, no edge will come again.
    pub peer_hup: bool,
}

impl std::fmt::Debug for dyn Layer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Layer")
    }
}

impl PacketConn {
    pub fn new(stream: Stream) -> PacketConn {
        PacketConn {
            stream,
            splitter: Splitter::new(),
            fds_in: Vec::new(),
            tx: VecDeque::new(),
            tx_off: 0,
            tx_fds_sent: 0,
            tx_bytes: 0,
            write_armed: false,
            layer: None,
            broken: None,
            tracked_done: 0,
            stray_fds: 0,
            peer_hup: false,
        }
    }

    /// Puts a security layer under everything queued or read from now on; what is already
    /// queued still goes out as it is (the reply that completed the authentication).
    // C: virNetSocketSetSASLSession
    pub fn set_layer(&mut self, layer: Box<dyn Layer>) {
        self.layer = Some(layer);
    }

    pub fn has_layer(&self) -> bool {
        self.layer.is_some()
    }

    /// Registers for readability; writability is only watched while output is blocked,
    /// since an always-on EPOLLOUT wakes the loop each time the peer reads.
    pub fn register(&mut self, registry: &mio::Registry, token: mio::Token) -> io::Result<()> {
        self.write_armed = false;
        crate::poll::register_fd_readable(registry, self.raw_fd(), token)
    }

    /// Flushes, then watches writability exactly when output is left over.
    // C: virNetServerClientUpdateEvent
    pub fn flush_and_rearm(&mut self, registry: &mio::Registry, token: mio::Token) -> io::Result<bool> {
        let done = self.flush()?;
        if done == self.write_armed {
            self.write_armed = !done;
            let fd = self.raw_fd();
            let interest = if done { mio::Interest::READABLE } else { mio::Interest::READABLE | mio::Interest::WRITABLE };
            registry.reregister(&mut mio::unix::SourceFd(&fd), token, interest)?;
        }
        Ok(done)
    }

    pub fn raw_fd(&self) -> i32 {
        self.stream.raw_fd()
    }

    /// Reads once and appends every complete packet (with its fds) to `out`. Plain
    /// connections read straight into the packet's own buffer; under a security layer the
    /// wire bytes are decoded first.
    // C: virNetServerClientRead
    pub fn read_once(&mut self, out: &mut VecDeque<(Packet, Vec<OwnedFd>)>) -> ReadOutcome {
        let fds_before = self.fds_in.len();
        let (n, want) = match self.layer.as_mut() {
            None => {
                let (buf, want) = match self.splitter.read_target() {
                    Ok(t) => t,
                    Err(e) => return ReadOutcome::Protocol(e),
                };
                match self.stream.read_append(buf, want, &mut self.fds_in) {
                    Ok(0) => return ReadOutcome::Eof,
                    Ok(n) => (n, want),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return ReadOutcome::WouldBlock,
                    Err(e) => return ReadOutcome::Failed(e),
                }
            }
            Some(layer) => {
                let mut wire = Vec::new();
                let n = match self.stream.read_append(&mut wire, crate::rpc::message::READ_CHUNK, &mut self.fds_in) {
                    Ok(0) => return ReadOutcome::Eof,
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return ReadOutcome::WouldBlock,
                    Err(e) => return ReadOutcome::Failed(e),
                };
                let plain = match layer.decode(&wire) {
                    Ok(d) => d,
                    Err(e) => return ReadOutcome::Failed(e),
                };
                let mut data = &plain[..];
                while !data.is_empty() {
                    match self.splitter.push(data) {
                        Ok((used, pkt)) => {
                            data = &data[used..];
                            if let Some(p) = pkt {
                                if let Err(e) = self.pair_fds(p, out) {
                                    return ReadOutcome::Protocol(e);
                                }
                            }
                        }
                        Err(e) => return ReadOutcome::Protocol(e),
                    }
                }
                (n, crate::rpc::message::READ_CHUNK)
            }
        };
        loop {
            match self.splitter.take() {
                Ok(Some(p)) => {
                    if let Err(e) = self.pair_fds(p, out) {
                        return ReadOutcome::Protocol(e);
                    }
                }
                Ok(None) => break,
                Err(e) => return ReadOutcome::Protocol(e),
            }
        }
        let fds_involved = self.fds_in.len() != fds_before || self.splitter.fds_pending() > 0;
        self.drop_stray_fds();
        // A short read means the socket is empty, except around passed fds (the kernel ends a
        // read at each message carrying descriptors) and once the peer has closed its end.
        let drained = n < want && !fds_involved && !self.peer_hup && self.stream.short_read_means_empty();
        ReadOutcome::Data { n, drained }
    }

    /// Hands a packet on with the fds its dummy bytes brought.
    fn pair_fds(&mut self, p: Packet, out: &mut VecDeque<(Packet, Vec<OwnedFd>)>) -> Result<(), FrameError> {
        let nfds = p.nfds as usize;
        if nfds > self.fds_in.len() {
            return Err(FrameError::MissingFds { expected: nfds, got: self.fds_in.len() });
        }
        let fds: Vec<OwnedFd> = self.fds_in.drain(..nfds).collect();
        out.push_back((p, fds));
        Ok(())
    }

    /// Closes descriptors no packet asked for (libvirt reads plain bytes outside a
    /// packet's fd slots, so the kernel discards such descriptors): a peer cannot make us
    /// hold more than the fds of the one packet in progress (at most 32).
    fn drop_stray_fds(&mut self) {
        let due = self.splitter.fds_pending() as usize;
        if self.fds_in.len() > due {
            let stray = self.fds_in.len() - due;
            self.fds_in.truncate(due);
            self.stray_fds += stray as u64;
            log::debug!("closed {stray} file descriptors sent with no packet asking for them");
        }
    }

    pub fn splitter_idle(&self) -> bool {
        self.splitter.is_idle()
    }

    pub fn queue(&mut self, buf: Vec<u8>, fds: Vec<OwnedFd>) {
        self.queue_packet(buf, fds, false)
    }

    /// Queues a packet; a `tracked` one is counted by `take_tracked_done` once written.
    pub fn queue_packet(&mut self, buf: Vec<u8>, fds: Vec<OwnedFd>, tracked: bool) {
        let buf = match self.layer.as_mut() {
            Some(layer) => match layer.encode(&buf) {
                Ok(b) => b,
                Err(e) => {
                    self.broken.get_or_insert(e);
                    return;
                }
            },
            None => buf,
        };
        self.tx_bytes += buf.len();
        self.tx.push_back(OutPacket { buf, fds, tracked });
    }

    /// How many tracked packets were written completely since the last call.
    pub fn take_tracked_done(&mut self) -> u32 {
        std::mem::take(&mut self.tracked_done)
    }

    pub fn tx_bytes(&self) -> usize {
        self.tx_bytes
    }

    pub fn tx_is_empty(&self) -> bool {
        self.tx.is_empty()
    }

    /// Writes as much of the queue as the socket takes. Ok(true) when the queue is empty.
    // C: virNetServerClientWrite
    pub fn flush(&mut self) -> io::Result<bool> {
        if let Some(e) = self.broken.take() {
            return Err(e);
        }
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
            self.tracked_done += p.tracked as u32;
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::os::unix::net::UnixStream as StdUnix;

    fn pair() -> (PacketConn, StdUnix) {
        let (a, b) = StdUnix::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        (PacketConn::new(Stream::Unix(mio::net::UnixStream::from_std(a))), b)
    }

    #[test]
    fn flush_writes_queue_in_order() {
        let (mut c, mut p) = pair();
        c.queue(b"abc".to_vec(), Vec::new());
        c.queue(b"defg".to_vec(), Vec::new());
        assert_eq!(c.tx_bytes(), 7);
        assert!(c.flush().unwrap());
        assert_eq!(c.tx_bytes(), 0);
        let mut got = [0u8; 7];
        p.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"abcdefg");
    }

    #[test]
    fn flush_sends_fds_after_their_packet() {
        let (mut c, p) = pair();
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
        let (mut c, _p) = pair();
        let big = vec![7u8; 1 << 20];
        c.queue(big.clone(), Vec::new());
        c.queue(big, Vec::new());
        assert!(!c.flush().unwrap());
        assert!(c.tx_bytes() > 0);
        assert!(!c.tx_is_empty());
    }

    #[test]
    fn read_once_splits_packets_and_pairs_fds() {
        let (mut c, mut p) = pair();
        let ping = crate::rpc::message::ping();
        let mut two = ping.clone();
        two.extend_from_slice(&ping);
        p.write_all(&two).unwrap();
        let mut out = VecDeque::new();
        assert!(matches!(c.read_once(&mut out), ReadOutcome::Data { n: 56, drained: true }));
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn read_once_with_passed_fds_is_never_drained_early() {
        use crate::rpc::protocol::{Header, MessageStatus, MessageType};
        let (mut c, p) = pair();
        let h = Header::new(1, 1, 1, MessageType::CallWithFds, 1, MessageStatus::Ok);
        let pkt = crate::rpc::message::encode_packet(&h, Some(2), |_| {}).unwrap();
        (&p).write_all(&pkt).unwrap();
        let (r1, _w1) = crate::util::sys::pipe().unwrap();
        let (r2, _w2) = crate::util::sys::pipe().unwrap();
        crate::util::sys::send_fd(p.as_raw_fd(), r1.as_raw_fd()).unwrap();
        crate::util::sys::send_fd(p.as_raw_fd(), r2.as_raw_fd()).unwrap();
        let mut out = VecDeque::new();
        // The kernel stops each read at a message carrying fds: keep reading until the packet
        // and both fds are in, and never report the socket drained before that.
        for _ in 0..4 {
            match c.read_once(&mut out) {
                ReadOutcome::Data { drained, .. } => {
                    if out.is_empty() {
                        assert!(!drained, "reported drained while fds were still due");
                    }
                }
                ReadOutcome::WouldBlock => break,
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].1.len(), 2);
    }

    #[test]
    fn read_once_bad_length_is_protocol_error() {
        let (mut c, mut p) = pair();
        p.write_all(&[0, 0, 0, 3]).unwrap();
        let mut out = VecDeque::new();
        assert!(matches!(c.read_once(&mut out), ReadOutcome::Protocol(_)));
    }

    /// A toy layer: each frame is a length byte then the bytes, each one plus 1.
    struct Shift {
        pending: Vec<u8>,
    }

    impl Layer for Shift {
        fn encode(&mut self, data: &[u8]) -> io::Result<Vec<u8>> {
            let mut out = Vec::new();
            for chunk in data.chunks(255) {
                out.push(chunk.len() as u8);
                out.extend(chunk.iter().map(|b| b.wrapping_add(1)));
            }
            Ok(out)
        }

        fn decode(&mut self, data: &[u8]) -> io::Result<Vec<u8>> {
            self.pending.extend_from_slice(data);
            let mut out = Vec::new();
            while let Some(&len) = self.pending.first() {
                let len = len as usize;
                if self.pending.len() < 1 + len {
                    break;
                }
                out.extend(self.pending[1..1 + len].iter().map(|b| b.wrapping_sub(1)));
                self.pending.drain(..1 + len);
            }
            Ok(out)
        }
    }

    #[test]
    fn layer_encodes_output_queued_after_it_is_set() {
        let (mut c, mut p) = pair();
        c.queue(b"ab".to_vec(), Vec::new());
        c.set_layer(Box::new(Shift { pending: Vec::new() }));
        c.queue(b"ab".to_vec(), Vec::new());
        assert!(c.flush().unwrap());
        let mut got = [0u8; 5];
        p.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"ab\x02bc");
    }

    #[test]
    fn layer_decodes_input_split_across_reads() {
        let (mut c, mut p) = pair();
        c.set_layer(Box::new(Shift { pending: Vec::new() }));
        let wire = Shift { pending: Vec::new() }.encode(&crate::rpc::message::ping()).unwrap();
        let mut out = VecDeque::new();
        p.write_all(&wire[..10]).unwrap();
        assert!(matches!(c.read_once(&mut out), ReadOutcome::Data { .. }));
        assert!(out.is_empty());
        p.write_all(&wire[10..]).unwrap();
        assert!(matches!(c.read_once(&mut out), ReadOutcome::Data { .. }));
        assert_eq!(out.len(), 1);
    }

    struct Failing;

    impl Layer for Failing {
        fn encode(&mut self, _: &[u8]) -> io::Result<Vec<u8>> {
            Err(io::Error::other("encode failed"))
        }
        fn decode(&mut self, _: &[u8]) -> io::Result<Vec<u8>> {
            Err(io::Error::other("decode failed"))
        }
    }

    #[test]
    fn layer_encode_failure_fails_flush() {
        let (mut c, _p) = pair();
        c.set_layer(Box::new(Failing));
        c.queue(b"x".to_vec(), Vec::new());
        assert!(c.flush().is_err());
    }

    #[test]
    fn layer_decode_failure_fails_read() {
        let (mut c, mut p) = pair();
        c.set_layer(Box::new(Failing));
        p.write_all(b"junk").unwrap();
        assert!(matches!(c.read_once(&mut VecDeque::new()), ReadOutcome::Failed(_)));
    }

    #[test]
    fn read_once_eof_reported() {
        let (mut c, p) = pair();
        drop(p);
        assert!(matches!(c.read_once(&mut VecDeque::new()), ReadOutcome::Eof));
    }
}
