//! Packet framing (rpc/virnetmessage.c): the length word, header and fd count of received
//! packets, an incremental splitter for a byte stream, and the encoders for the packets a
//! daemon sends itself (replies, errors, events, keepalive, stream data).
//!
//! A packet is `len:u32` (counting itself) + the 24-byte header + for `*_WITH_FDS` types an
//! `nfds:u32` + the payload. After a packet with fds, the stream carries one dummy byte per
//! fd, each sent with its fd by a separate sendmsg; they are not counted in `len`.
//!
//! What is accepted follows libvirt (docs/xdr.md): any header enum value decodes; a packet of
//! unknown type is dropped and the stream stays in step; an unknown status reads as ERROR
//! (`Packet::status_word` keeps the number); bytes after a payload are ignored.
use std::fmt;

use crate::rpc::protocol::{
    Header, MessageStatus, MessageType, RemoteError, WireHeader, KEEPALIVE_PROC_PING, KEEPALIVE_PROC_PONG, KEEPALIVE_PROGRAM,
    KEEPALIVE_PROTOCOL_VERSION, VIR_NET_MESSAGE_LEN_MAX, VIR_NET_MESSAGE_MAX, VIR_NET_MESSAGE_MIN_PACKET, VIR_NET_MESSAGE_NUM_FDS_MAX,
};
use crate::xdr::{Reader, Writer, Xdr, XdrError};

#[cfg(test)]
mod lenient_tests;
#[cfg(test)]
mod tests;

/// Offset of the payload in a packet without fds.
const PAYLOAD_OFFSET: usize = VIR_NET_MESSAGE_MIN_PACKET;

/// A framing error. All of them but `UnknownType` leave the byte stream out of step: close
/// the connection. (`Splitter` never returns `UnknownType`: it drops such a packet.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// The length word is smaller than a length word plus a header.
    TooSmall { len: u32 },
    /// The length word announces more than VIR_NET_MESSAGE_MAX after itself.
    TooLarge { len: u32 },
    /// A buffer handed to `Packet::parse` does not match its own length word.
    LengthMismatch { word: u32, actual: usize },
    /// The header does not decode.
    Header(XdrError),
    /// A header `type` outside virNetMessageType: libvirt's server drops such a packet.
    UnknownType { type_: i32 },
    /// A `*_WITH_FDS` packet too short to hold its fd count.
    NumFds(XdrError),
    /// More fds than VIR_NET_MESSAGE_NUM_FDS_MAX, received or to send.
    TooManyFds { nfds: u32 },
    /// An encoded packet would exceed VIR_NET_MESSAGE_MAX (`len` counts the length word).
    EncodeTooLarge { len: usize },
    /// `encode_packet` was given an fd count for a type without fds or none for one with fds.
    FdsMismatch { type_: MessageType, nfds: Option<u32> },
    /// A packet announced more fds than arrived with its dummy bytes.
    MissingFds { expected: usize, got: usize },
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::TooSmall { len } => write!(f, "packet {len} bytes received too small, want at least {VIR_NET_MESSAGE_MIN_PACKET}"),
            FrameError::TooLarge { len } => write!(
                f,
                "packet {} bytes received too large, want {VIR_NET_MESSAGE_MAX}",
                u64::from(*len).saturating_sub(VIR_NET_MESSAGE_LEN_MAX as u64)
            ),
            FrameError::LengthMismatch { word, actual } => {
                write!(f, "packet length word says {word} bytes but {actual} were given")
            }
            FrameError::Header(e) => write!(f, "Unable to decode message header: {e}"),
            FrameError::UnknownType { type_ } => write!(f, "Unexpected message type {}", *type_ as u32),
            FrameError::MissingFds { expected, got } => {
                write!(f, "packet announced {expected} file descriptors but {got} arrived")
            }
            FrameError::NumFds(e) => write!(f, "Unable to decode number of FDs: {e}"),
            FrameError::TooManyFds { nfds } => write!(f, "Too many FDs {nfds}, expected {VIR_NET_MESSAGE_NUM_FDS_MAX} maximum"),
            FrameError::EncodeTooLarge { len } => write!(
                f,
                "Unable to encode message payload: {len} bytes exceed the {} byte limit",
                VIR_NET_MESSAGE_MAX + VIR_NET_MESSAGE_LEN_MAX
            ),
            FrameError::FdsMismatch { type_, nfds } => {
                write!(f, "message type {type_:?} does not go with an fd count of {nfds:?}")
            }
        }
    }
}

impl std::error::Error for FrameError {}

/// The total size of a packet (length word included) from its first 4 bytes.
///
/// libvirt's reader accepts any length from 4 and fails later on the header; we refuse
/// anything shorter than length word + header at once. The upper bound is libvirt's.
// C: virNetMessageDecodeLength
pub fn packet_len(prefix: [u8; 4]) -> Result<usize, FrameError> {
    let len = u32::from_be_bytes(prefix);
    let total = len as usize;
    if total < VIR_NET_MESSAGE_MIN_PACKET {
        return Err(FrameError::TooSmall { len });
    }
    if total - VIR_NET_MESSAGE_LEN_MAX > VIR_NET_MESSAGE_MAX {
        return Err(FrameError::TooLarge { len });
    }
    Ok(total)
}

/// One complete packet: the bytes as received, with the header decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// The whole packet, length word included.
    pub buf: Vec<u8>,
    pub header: Header,
    /// The number of fds that follow the packet; 0 unless the type is `*_WITH_FDS`.
    pub nfds: u32,
}

impl Packet {
    /// Checks a complete packet and decodes its header (and fd count).
    ///
    /// The header enums decode whatever their value (xdr_enum). A `type` libvirt does not know
    /// is `FrameError::UnknownType` (libvirt's server drops such a packet without an answer).
    /// A `status` it does not know reads as ERROR: libvirt answers such a call "Unexpected
    /// message status N" (N from `status_word`) and ends such a stream as aborted.
    // C: virNetMessageDecodeHeader, virNetMessageDecodeNumFDs
    pub fn parse(buf: Vec<u8>) -> Result<Packet, FrameError> {
        if buf.len() < VIR_NET_MESSAGE_LEN_MAX {
            return Err(FrameError::LengthMismatch { word: 0, actual: buf.len() });
        }
        let word = [buf[0], buf[1], buf[2], buf[3]];
        let total = packet_len(word)?;
        if total != buf.len() {
            return Err(FrameError::LengthMismatch { word: u32::from_be_bytes(word), actual: buf.len() });
        }
        let mut r = Reader::new(&buf[VIR_NET_MESSAGE_LEN_MAX..]);
        let wire = WireHeader::decode(&mut r).map_err(FrameError::Header)?;
        // C: virNetServerProgramDispatch (an unexpected type is dropped)
        let type_ = MessageType::from_i32(wire.type_).ok_or(FrameError::UnknownType { type_: wire.type_ })?;
        // C: virNetServerProgramDispatchCall ("Unexpected message status %u"), daemonStreamHandleWrite
        let status = MessageStatus::from_i32(wire.status).unwrap_or(MessageStatus::Error);
        let header = Header { prog: wire.prog, vers: wire.vers, proc_: wire.proc_, type_, serial: wire.serial, status };
        let nfds = if header.type_.has_fds() {
            let n = r.u32().map_err(FrameError::NumFds)?;
            if n > VIR_NET_MESSAGE_NUM_FDS_MAX {
                return Err(FrameError::TooManyFds { nfds: n });
            }
            n
        } else {
            0
        };
        Ok(Packet { buf, header, nfds })
    }

    /// The header's status word as received (a value outside virNetMessageStatus reads as
    /// ERROR in `header.status`; this is the number libvirt reports for it).
    pub fn status_word(&self) -> u32 {
        const AT: usize = VIR_NET_MESSAGE_LEN_MAX + 20;
        self.buf.get(AT..AT + 4).map_or(self.header.status as u32, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Offset of the payload in `buf`.
    fn payload_offset(&self) -> usize {
        if self.header.type_.has_fds() {
            PAYLOAD_OFFSET + 4
        } else {
            PAYLOAD_OFFSET
        }
    }

    /// The bytes after the header (and after the fd count for `*_WITH_FDS` types).
    pub fn payload(&self) -> &[u8] {
        self.buf.get(self.payload_offset()..).unwrap_or(&[])
    }

    /// Decodes the payload as a `T`. Bytes after the value are ignored, as libvirt does.
    // C: virNetMessageDecodePayload
    pub fn decode_payload<T: Xdr>(&self) -> Result<T, XdrError> {
        T::decode(&mut Reader::new(self.payload()))
    }

    /// The total size in bytes (length word included, fd dummy bytes not).
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Always false: a packet holds at least its length word and header.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
}

/// How many bytes a read asks for while the length of the next packet is not known yet.
pub const READ_CHUNK: usize = 64 * 1024;

#[derive(Debug)]
enum State {
    /// Collecting a packet: its bytes accumulate in `Splitter::buf`.
    Frame,
    /// Packet complete; skipping the dummy bytes that carry its fds.
    Fds { packet: Packet, left: u32 },
}

/// Cuts a byte stream into packets, each in a buffer of its own: a packet is read straight
/// into the buffer that is handed on with it (relayed, it is written from that same buffer).
/// Only bytes that follow a packet in the same read move to a new buffer, and a packet larger
/// than the first read is grown to its exact size once its length word is in (at most the
/// 32 MiB limit; pages are only touched as bytes arrive). An idle connection holds no buffer.
#[derive(Debug)]
pub struct Splitter {
    buf: Vec<u8>,
    state: State,
}

impl Default for Splitter {
    fn default() -> Self {
        Splitter::new()
    }
}

impl Splitter {
    pub fn new() -> Self {
        Splitter { buf: Vec::new(), state: State::Frame }
    }

    /// The total length of the packet in `buf`, once its length word is in.
    fn frame_len(&self) -> Result<Option<usize>, FrameError> {
        match self.buf.get(..4) {
            Some(w) => packet_len([w[0], w[1], w[2], w[3]]).map(Some),
            None => Ok(None),
        }
    }

    /// Where the next read goes (its bytes are appended to the vector) and how many bytes it
    /// should ask for: the rest of the packet when its length is known, the fd dummy bytes
    /// still due, or a chunk. Reads must then be followed by `take` until it yields nothing.
    pub fn read_target(&mut self) -> Result<(&mut Vec<u8>, usize), FrameError> {
        let want = match &self.state {
            State::Fds { left, .. } => (*left as usize).saturating_sub(self.buf.len()).max(1),
            State::Frame => match self.frame_len()? {
                Some(total) if total > self.buf.len() => total - self.buf.len(),
                Some(_) => 1,
                None => READ_CHUNK - self.buf.len(),
            },
        };
        self.buf.reserve(want);
        Ok((&mut self.buf, want))
    }

    /// Takes the next complete packet out of what was read (or pushed); on an error the
    /// stream is out of step and the splitter is left empty.
    // C: virNetServerClientRead / virNetClientIOHandleInput (the framing part)
    pub fn take(&mut self) -> Result<Option<Packet>, FrameError> {
        let r = self.take_inner();
        if r.is_err() {
            self.buf = Vec::new();
            self.state = State::Frame;
        }
        r
    }

    fn take_inner(&mut self) -> Result<Option<Packet>, FrameError> {
        loop {
            match std::mem::replace(&mut self.state, State::Frame) {
                State::Fds { packet, left } => {
                    let n = self.buf.len().min(left as usize);
                    self.buf.drain(..n);
                    let left = left - n as u32;
                    if left > 0 {
                        self.state = State::Fds { packet, left };
                        return Ok(None);
                    }
                    if self.buf.is_empty() {
                        self.buf = Vec::new();
                    }
                    return Ok(Some(packet));
                }
                State::Frame => {
                    let Some(total) = self.frame_len()? else { return Ok(None) };
                    if self.buf.len() < total {
                        return Ok(None);
                    }
                    let rest = if self.buf.len() > total { self.buf.split_off(total) } else { Vec::new() };
                    let mut frame = std::mem::replace(&mut self.buf, rest);
                    frame.shrink_to_fit();
                    let packet = match Packet::parse(frame) {
                        Ok(p) => p,
                        // Dropped like libvirt's dispatcher does; the next packet follows.
                        Err(FrameError::UnknownType { type_ }) => {
                            log::debug!("dropping a packet of unknown type {}", type_ as u32);
                            continue;
                        }
                        Err(e) => return Err(e),
                    };
                    if packet.nfds == 0 {
                        return Ok(Some(packet));
                    }
                    let left = packet.nfds;
                    self.state = State::Fds { packet, left };
                }
            }
        }
    }

    /// Consumes bytes from the front of `data` and returns how many it took, with a packet if
    /// one was completed (at most one per call: call again with the rest). It never takes a
    /// byte beyond the packet in progress. A packet with fds is returned only after its
    /// `nfds` dummy bytes were consumed; the caller pairs it with the fds that came in the
    /// control data. An error means the stream is out of step.
    pub fn push(&mut self, data: &[u8]) -> Result<(usize, Option<Packet>), FrameError> {
        let mut used = 0;
        loop {
            let need = match &self.state {
                State::Fds { left, .. } => *left as usize,
                State::Frame => match self.frame_len() {
                    Ok(Some(total)) => total - self.buf.len(),
                    Ok(None) => 4 - self.buf.len(),
                    Err(e) => {
                        self.buf = Vec::new();
                        return Err(e);
                    }
                },
            };
            let n = need.min(data.len() - used);
            if self.buf.len() == 4 && matches!(self.state, State::Frame) {
                // The length word is in: size the buffer for the whole packet once.
                self.buf.reserve_exact(need);
            }
            self.buf.extend_from_slice(&data[used..used + n]);
            used += n;
            if let Some(p) = self.take()? {
                return Ok((used, Some(p)));
            }
            if used == data.len() {
                return Ok((used, None));
            }
        }
    }

    /// True between packets (no partial packet held).
    pub fn is_idle(&self) -> bool {
        self.buf.is_empty() && matches!(self.state, State::Frame)
    }

    /// Bytes held for the packet in progress (and any that followed it in a read).
    pub fn buffered(&self) -> usize {
        match &self.state {
            State::Frame => self.buf.len(),
            State::Fds { packet, .. } => packet.buf.len() + self.buf.len(),
        }
    }

    /// How many fd dummy bytes (each with one fd) must still arrive before the current packet
    /// is returned; 0 otherwise.
    pub fn fds_pending(&self) -> u32 {
        match &self.state {
            State::Fds { left, .. } => *left,
            State::Frame => 0,
        }
    }
}

/// Encodes a packet: length word (filled in last), `header`, the fd count (required for
/// `*_WITH_FDS` types, refused otherwise), then what `body` writes.
// C: virNetMessageEncodeHeader, virNetMessageEncodeNumFDs, virNetMessageEncodePayload
pub fn encode_packet(header: &Header, nfds: Option<u32>, body: impl FnOnce(&mut Writer)) -> Result<Vec<u8>, FrameError> {
    if header.type_.has_fds() != nfds.is_some() {
        return Err(FrameError::FdsMismatch { type_: header.type_, nfds });
    }
    let mut w = Writer::with_capacity(PAYLOAD_OFFSET + 4 + 64);
    w.u32(0);
    header.encode(&mut w);
    if let Some(n) = nfds {
        if n > VIR_NET_MESSAGE_NUM_FDS_MAX {
            return Err(FrameError::TooManyFds { nfds: n });
        }
        w.u32(n);
    }
    body(&mut w);
    let len = w.len();
    if len > VIR_NET_MESSAGE_MAX + VIR_NET_MESSAGE_LEN_MAX {
        return Err(FrameError::EncodeTooLarge { len });
    }
    // len fits: it is at most 32 MiB + 4, and the word was written first.
    w.patch_u32(0, len as u32);
    Ok(w.into_vec())
}

/// A successful reply to `call` carrying `ret`.
pub fn reply_ok(call: &Header, ret: &impl Xdr) -> Result<Vec<u8>, FrameError> {
    let h = Header { type_: MessageType::Reply, status: MessageStatus::Ok, ..*call };
    encode_packet(&h, None, |w| ret.encode(w))
}

/// An error reply to `call` (a STREAM packet if `call` was one, as libvirt answers stream
/// errors on the stream).
// C: virNetServerProgramSendReplyError
pub fn reply_error(call: &Header, err: &RemoteError) -> Result<Vec<u8>, FrameError> {
    let type_ = if call.type_ == MessageType::Stream { MessageType::Stream } else { MessageType::Reply };
    let h = Header { type_, status: MessageStatus::Error, ..*call };
    encode_packet(&h, None, |w| err.encode(w))
}

/// An asynchronous MESSAGE (an event) of procedure `proc_` carrying `body`.
pub fn event(prog: u32, vers: u32, proc_: i32, serial: u32, body: &impl Xdr) -> Result<Vec<u8>, FrameError> {
    let h = Header::new(prog, vers, proc_, MessageType::Message, serial, MessageStatus::Ok);
    encode_packet(&h, None, |w| body.encode(w))
}

fn keepalive(proc_: i32) -> Vec<u8> {
    let h = Header::new(KEEPALIVE_PROGRAM, KEEPALIVE_PROTOCOL_VERSION, proc_, MessageType::Message, 0, MessageStatus::Ok);
    let mut w = Writer::with_capacity(PAYLOAD_OFFSET);
    w.u32(PAYLOAD_OFFSET as u32);
    h.encode(&mut w);
    w.into_vec()
}

/// Keepalive PING: 28 bytes, serial 0, empty payload.
pub fn ping() -> Vec<u8> {
    keepalive(KEEPALIVE_PROC_PING)
}

/// Keepalive PONG: 28 bytes, serial 0, empty payload.
pub fn pong() -> Vec<u8> {
    keepalive(KEEPALIVE_PROC_PONG)
}

/// A STREAM packet: `data` as raw bytes (no XDR length or padding). CONTINUE carries data,
/// OK with no data ends the stream.
// C: virNetServerProgramSendStreamData
pub fn stream_packet(prog: u32, vers: u32, proc_: i32, serial: u32, status: MessageStatus, data: &[u8]) -> Result<Vec<u8>, FrameError> {
    let total = PAYLOAD_OFFSET.saturating_add(data.len());
    if total > VIR_NET_MESSAGE_MAX + VIR_NET_MESSAGE_LEN_MAX {
        return Err(FrameError::EncodeTooLarge { len: total });
    }
    let h = Header::new(prog, vers, proc_, MessageType::Stream, serial, status);
    let mut w = Writer::with_capacity(total);
    w.u32(total as u32);
    h.encode(&mut w);
    w.raw(data);
    Ok(w.into_vec())
}

/// A STREAM_HOLE packet (status CONTINUE) carrying virNetStreamHole{length, flags}.
// C: virNetServerProgramSendStreamHole
pub fn stream_hole(prog: u32, vers: u32, proc_: i32, serial: u32, length: i64, flags: u32) -> Vec<u8> {
    let h = Header::new(prog, vers, proc_, MessageType::StreamHole, serial, MessageStatus::Continue);
    let mut w = Writer::with_capacity(PAYLOAD_OFFSET + 12);
    w.u32((PAYLOAD_OFFSET + 12) as u32);
    h.encode(&mut w);
    w.i64(length);
    w.u32(flags);
    w.into_vec()
}

/// Fuzz entry point (fuzz/fuzz_targets/), also replayed over the corpus by t/fuzz_corpus.rs.
///
/// Feeds the input to a `Splitter` in chunks whose sizes come from the input itself, checks
/// that every packet it yields parses the same on its own (packets of unknown type are dropped
/// whatever the chunking; an unknown status reads as ERROR with its number kept), and that the
/// same input fed in one piece yields the same packets.
pub fn fuzz_target(data: &[u8]) {
    let Some((&seed, stream)) = data.split_first() else {
        return;
    };
    let whole = fuzz_split(stream, || usize::MAX);
    let mut x = u32::from(seed) | 1;
    let chunked = fuzz_split(stream, || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        (x % 97) as usize + 1
    });
    assert_eq!(whole, chunked, "packets depend on how the stream was cut");
}

fn fuzz_split(stream: &[u8], mut next_chunk: impl FnMut() -> usize) -> (Vec<Packet>, bool) {
    let mut s = Splitter::new();
    let mut packets = Vec::new();
    let mut off = 0;
    while off < stream.len() {
        let end = off.saturating_add(next_chunk()).min(stream.len());
        let mut chunk = &stream[off..end];
        while !chunk.is_empty() {
            match s.push(chunk) {
                Ok((n, p)) => {
                    assert!(n > 0 || p.is_some(), "splitter made no progress");
                    assert!(n <= chunk.len());
                    chunk = &chunk[n..];
                    if let Some(p) = p {
                        let again = Packet::parse(p.buf.clone()).ok();
                        assert_eq!(again.as_ref(), Some(&p));
                        assert!(p.payload().len() <= p.len());
                        let status = MessageStatus::from_i32(p.status_word() as i32).unwrap_or(MessageStatus::Error);
                        assert_eq!(status, p.header.status, "status word and header disagree");
                        let _ = p.decode_payload::<RemoteError>();
                        packets.push(p);
                    }
                }
                Err(_) => return (packets, true),
            }
        }
        off = end;
    }
    assert!(s.buffered() <= VIR_NET_MESSAGE_MAX + VIR_NET_MESSAGE_LEN_MAX);
    assert_eq!(s.is_idle(), s.buffered() == 0);
    assert!(s.fds_pending() <= VIR_NET_MESSAGE_NUM_FDS_MAX);
    (packets, false)
}
