//! The event loop primitives: a mio poll with typed tokens, a timer heap, a signal pipe and a
//! waker for worker threads (libvirt's util/vireventglib.c and util/virevent.c roles).
//!
//! mio is edge-triggered: sockets are registered once for both directions and the owners
//! decide, from their own state, whether to act on an event (see `rpc::client::Wants`).
//! Timers are lazily cancelled: an owner checks, when its timer fires, that it still wants it.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::unix::SourceFd;
use mio::{Interest, Token};

use crate::util::sys;

/// What a token refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Listener,
    Client,
    /// A source owned by a program (the relay's upstream connections, libxl's fds,
    /// consoles): `owner` is the program, `tag` the part of it that registered the source.
    Aux,
    Signal,
    Waker,
}

/// A token split into its parts: 4 bits of kind, 8 bits of owner (a server for clients, a
/// program for aux sources), 8 bits of tag and 44 bits of index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenParts {
    pub kind: TokenKind,
    pub owner: u8,
    pub tag: u8,
    pub index: usize,
}

const KIND_SHIFT: u32 = 60;
const OWNER_SHIFT: u32 = 52;
const TAG_SHIFT: u32 = 44;
const INDEX_MASK: usize = (1 << TAG_SHIFT) - 1;

pub fn token(kind: TokenKind, owner: u8, tag: u8, index: usize) -> Token {
    Token(((kind as usize) << KIND_SHIFT) | ((owner as usize) << OWNER_SHIFT) | ((tag as usize) << TAG_SHIFT) | (index & INDEX_MASK))
}

pub fn split_token(t: Token) -> Option<TokenParts> {
    let kind = match t.0 >> KIND_SHIFT {
        0 => TokenKind::Listener,
        1 => TokenKind::Client,
        2 => TokenKind::Aux,
        3 => TokenKind::Signal,
        4 => TokenKind::Waker,
        _ => return None,
    };
    Some(TokenParts { kind, owner: (t.0 >> OWNER_SHIFT) as u8, tag: (t.0 >> TAG_SHIFT) as u8, index: t.0 & INDEX_MASK })
}

/// What an edge-triggered event said about a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Readiness {
    pub readable: bool,
    pub writable: bool,
    /// The peer closed its end (EPOLLRDHUP/EPOLLHUP): read until end of file, since no
    /// further edge will come.
    pub hup: bool,
}

impl Readiness {
    pub fn of(ev: &mio::event::Event) -> Readiness {
        Readiness {
            readable: ev.is_readable() || ev.is_read_closed() || ev.is_error(),
            writable: ev.is_writable() || ev.is_write_closed(),
            hup: ev.is_read_closed() || ev.is_error(),
        }
    }
}

/// Registers a raw fd for both directions, edge-triggered.
pub fn register_fd(registry: &mio::Registry, fd: RawFd, tok: Token) -> io::Result<()> {
    registry.register(&mut SourceFd(&fd), tok, Interest::READABLE | Interest::WRITABLE)
}

pub fn register_fd_readable(registry: &mio::Registry, fd: RawFd, tok: Token) -> io::Result<()> {
    registry.register(&mut SourceFd(&fd), tok, Interest::READABLE)
}

pub fn deregister_fd(registry: &mio::Registry, fd: RawFd) {
    let _ = registry.deregister(&mut SourceFd(&fd));
}

/// A min-heap of deadlines. Keys are opaque to the heap; stale keys are the owner's to ignore.
#[derive(Debug)]
pub struct Timers<K> {
    heap: BinaryHeap<Reverse<(Instant, u64, K)>>,
    seq: u64,
}

impl<K: Ord + Copy> Default for Timers<K> {
    fn default() -> Self {
        Timers { heap: BinaryHeap::new(), seq: 0 }
    }
}

impl<K: Ord + Copy> Timers<K> {
    pub fn add(&mut self, at: Instant, key: K) {
        self.seq += 1;
        self.heap.push(Reverse((at, self.seq, key)));
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((at, _, _))| *at)
    }

    /// Removes and returns the earliest key whose deadline is at or before `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<K> {
        match self.heap.peek() {
            Some(Reverse((at, _, _))) if *at <= now => self.heap.pop().map(|Reverse((_, _, k))| k),
            _ => None,
        }
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Drops every entry for which `keep` is false (used to bound stale entries).
    pub fn retain(&mut self, mut keep: impl FnMut(&K) -> bool) {
        self.heap.retain(|Reverse((_, _, k))| keep(k));
    }
}

/// How long `poll` may sleep: until the earliest deadline, at least 0.
pub fn poll_timeout(next: Option<Instant>, now: Instant) -> Option<Duration> {
    next.map(|d| d.saturating_duration_since(now))
}

/// Signals delivered through a pipe so the loop handles them as ordinary events.
/// The handler only calls write(2), which is async-signal-safe.
pub struct SignalPipe {
    rd: OwnedFd,
    _wr: Arc<OwnedFd>,
    ids: Vec<signal_hook::SigId>,
}

impl SignalPipe {
    pub fn new(signals: &[i32]) -> io::Result<SignalPipe> {
        let (rd, wr) = sys::pipe()?;
        sys::set_nonblocking(rd.as_raw_fd())?;
        sys::set_nonblocking(wr.as_raw_fd())?;
        let wr = Arc::new(wr);
        let mut ids = Vec::new();
        for &sig in signals {
            // The write end stays open while the handler is registered: we keep `_wr` and
            // unregister in Drop.
            ids.push(sys::signal_to_pipe(sig, wr.as_raw_fd())?);
        }
        Ok(SignalPipe { rd, _wr: wr, ids })
    }

    pub fn fd(&self) -> RawFd {
        self.rd.as_raw_fd()
    }

    /// Signal numbers received since the last call, in order.
    pub fn drain(&self) -> Vec<i32> {
        let mut out = Vec::new();
        let mut buf = [0u8; 64];
        while let Ok(n) = sys::read_fd(&self.rd, &mut buf) {
            if n == 0 {
                break;
            }
            out.extend(buf[..n].iter().map(|&b| b as i32));
        }
        out
    }
}

impl Drop for SignalPipe {
    fn drop(&mut self) {
        for id in self.ids.drain(..) {
            signal_hook::low_level::unregister(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_round_trips_kind_owner_tag_and_index() {
        for kind in [TokenKind::Listener, TokenKind::Client, TokenKind::Aux, TokenKind::Signal, TokenKind::Waker] {
            let p = split_token(token(kind, 3, 250, 12345)).unwrap();
            assert_eq!(p, TokenParts { kind, owner: 3, tag: 250, index: 12345 });
        }
        let max = split_token(token(TokenKind::Aux, u8::MAX, u8::MAX, INDEX_MASK)).unwrap();
        assert_eq!((max.owner, max.tag, max.index), (u8::MAX, u8::MAX, INDEX_MASK));
        assert_eq!(split_token(Token(usize::MAX)), None);
    }

    #[test]
    fn timers_pop_in_deadline_order() {
        let t0 = Instant::now();
        let mut t = Timers::default();
        t.add(t0 + Duration::from_secs(3), 3u32);
        t.add(t0 + Duration::from_secs(1), 1u32);
        t.add(t0 + Duration::from_secs(2), 2u32);
        assert_eq!(t.next_deadline(), Some(t0 + Duration::from_secs(1)));
        assert_eq!(t.pop_due(t0), None);
        let later = t0 + Duration::from_secs(2);
        assert_eq!(t.pop_due(later), Some(1));
        assert_eq!(t.pop_due(later), Some(2));
        assert_eq!(t.pop_due(later), None);
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn poll_timeout_never_negative() {
        let now = Instant::now();
        assert_eq!(poll_timeout(Some(now - Duration::from_secs(1)), now), Some(Duration::ZERO));
        assert_eq!(poll_timeout(None, now), None);
    }

    #[test]
    fn signal_pipe_reports_raised_signal() {
        let p = SignalPipe::new(&[libc::SIGUSR2]).unwrap();
        sys::raise(libc::SIGUSR2);
        assert_eq!(p.drain(), vec![libc::SIGUSR2]);
        assert!(p.drain().is_empty());
    }
}
