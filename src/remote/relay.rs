//! Each client's connections to other daemons, and the packets relayed over them: the role
//! libvirt's remote driver (remote/remote_driver.c over rpc/virnetclient.c) plays in its
//! virtproxyd, and in the per-client secondary connections of remote_daemon_dispatch.c
//! (`remoteGetNetworkConn` & co) in its virtxend. One relay serves both of our daemons.
//!
//! Where libvirt decodes every call and re-issues it through its client library, we relay
//! frames verbatim: each link belongs to one client, so serials, event callback ids and
//! stream serials stay the client's and the daemon's own. A link dials without blocking
//! (a daemon with a full accept queue is retried), runs the open handshake (`NetClient`),
//! holds the client's packets meanwhile, then forwards both ways with flow control.
//!
//! Bounds: packets held during an open stop the client's reading beyond `TX_HIGH_WATER`;
//! an open that has not completed after keepalive's dead-peer time fails; a leg with
//! `TX_HIGH_WATER` bytes of output waiting stops the other leg's reading until it drains
//! below `TX_LOW_WATER`. When a daemon dies, the calls in flight are answered with the
//! owner's error, open streams end with it, and the owner hears of it (`RelayEvent::Died`).

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use log::{debug, info};

use crate::poll::{self, Readiness, TokenKind};
use crate::remote::protocol::{VIR_CONNECT_CLOSE_REASON_ERROR, VIR_CONNECT_CLOSE_REASON_KEEPALIVE};
use crate::rpc::client::{CloseReason, TX_HIGH_WATER, TX_LOW_WATER};
use crate::rpc::keepalive::Action;
use crate::rpc::message::{self, Packet};
use crate::rpc::netclient::{self, NetClient, OpenRequest, ReadStep, Step};
use crate::rpc::netdaemon::{ClientId, Core, HeldPacket, TimerKey};
use crate::rpc::program::ProgramId;
use crate::rpc::protocol::{self as proto, Header, MessageStatus, MessageType, RemoteError};

/// Without keepalive settings to go by, an open gets this long to complete.
const OPEN_TIMEOUT_DEFAULT: Duration = Duration::from_secs(30);
/// First retry of a dial refused for a full accept queue; doubled up to `DIAL_RETRY_MAX`.
const DIAL_RETRY_FIRST: Duration = Duration::from_millis(10);
const DIAL_RETRY_MAX: Duration = Duration::from_millis(500);

/// REMOTE procedures whose successful answer opens a stream (remote_protocol.x
/// `@generate: ... stream`): console, channel, volume upload/download, screenshot and the
/// tunnelled migration prepares.
const STREAM_PROCS: [i32; 8] = [148, 201, 208, 209, 211, 215, 296, 304];

/// One link: a client and the daemon family it talks to through it (0 for virtproxyd's
/// single hypervisor connection).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LinkKey {
    pub cid: ClientId,
    pub family: u8,
}

/// Where a link goes and what it opens there.
#[derive(Debug, Clone)]
pub struct OpenSpec {
    pub socket: PathBuf,
    pub request: OpenRequest,
}

/// What the owner of the relay must act on, taken with `take_events`.
#[derive(Debug)]
pub enum RelayEvent {
    /// The open handshake finished; the packets held meanwhile, in order, are the owner's
    /// to route now.
    Opened { key: LinkKey, held: Vec<HeldPacket> },
    /// The open failed; the link is gone and the held packets are the owner's to answer.
    OpenFailed { key: LinkKey, err: RemoteError, held: Vec<HeldPacket> },
    /// An open link died (reason: VIR_CONNECT_CLOSE_REASON_*); its calls in flight were
    /// answered and its streams ended.
    Died { key: LinkKey, reason: i32, why: String },
}

/// Where a link stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    /// Dialling or in the open handshake: client packets are held.
    Opening,
    Open,
}

#[derive(Debug)]
struct Link {
    key: LinkKey,
    gen: u32,
    spec: OpenSpec,
    /// None while the daemon's accept queue is full.
    up: Option<NetClient>,
    open: bool,
    dial_retry: Duration,
    held: VecDeque<HeldPacket>,
    held_bytes: usize,
    /// Calls relayed and not answered yet.
    inflight: Vec<Header>,
    /// Streams opened by an answered call and not ended yet.
    streams: Vec<Header>,
    /// CONNECT_CLOSE was relayed: close the link and the client after its answer.
    close_after_reply: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LinkTimer {
    Keepalive = 0,
    Dial = 1,
    OpenDeadline = 2,
}

/// How the owner wants calls answered when a link dies: (the link, why) to the error.
pub type LostError = fn(&LinkKey, &str) -> RemoteError;

pub struct Relay {
    owner: ProgramId,
    tag: u8,
    slots: Vec<Option<Link>>,
    gens: Vec<u32>,
    free: Vec<usize>,
    by_key: HashMap<LinkKey, usize>,
    dirty: Vec<usize>,
    paused: Vec<usize>,
    events: Vec<RelayEvent>,
    ka_interval: i32,
    ka_count: u32,
    lost: LostError,
}

/// Follows the open streams of a link: a stream opens with a successful answer to a stream
/// procedure and ends with the daemon's last packet or the client's abort.
// C: daemonStreamEvent (its end-of-stream bookkeeping)
fn track_stream(streams: &mut Vec<Header>, h: &Header, from_client: bool) {
    let same = |s: &Header| s.serial == h.serial && s.proc_ == h.proc_ && s.prog == h.prog;
    match (h.type_, h.status) {
        (MessageType::Reply, MessageStatus::Ok)
            if !from_client && h.prog == proto::REMOTE_PROGRAM && STREAM_PROCS.contains(&h.proc_) && !streams.iter().any(same) =>
        {
            streams.push(Header { type_: MessageType::Stream, ..*h });
        }
        (MessageType::Stream, MessageStatus::Ok) if !from_client => streams.retain(|s| !same(s)),
        (MessageType::Stream, MessageStatus::Error) => streams.retain(|s| !same(s)),
        _ => {}
    }
}

impl Relay {
    /// A relay whose sources and timers carry `owner`'s program id and `tag`; `lost` makes
    /// the error calls in flight get when their daemon goes away.
    pub fn new(owner: ProgramId, tag: u8, ka_interval: i32, ka_count: u32, lost: LostError) -> Relay {
        Relay {
            owner,
            tag,
            slots: Vec::new(),
            gens: Vec::new(),
            free: Vec::new(),
            by_key: HashMap::new(),
            dirty: Vec::new(),
            paused: Vec::new(),
            events: Vec::new(),
            ka_interval,
            ka_count,
            lost,
        }
    }

    /// The owner learnt its program id after building the relay.
    pub fn set_owner(&mut self, owner: ProgramId) {
        self.owner = owner;
    }

    pub fn state(&self, key: &LinkKey) -> Option<LinkState> {
        let l = self.link_ref(*self.by_key.get(key)?)?;
        Some(if l.open { LinkState::Open } else { LinkState::Opening })
    }

    pub fn take_events(&mut self) -> Vec<RelayEvent> {
        std::mem::take(&mut self.events)
    }

    /// Output queued or events to report: the owner's after-batch work is not done.
    pub fn has_work(&self) -> bool {
        !self.dirty.is_empty() || !self.events.is_empty()
    }

    fn link_ref(&self, idx: usize) -> Option<&Link> {
        self.slots.get(idx).and_then(|s| s.as_ref())
    }

    fn link(&mut self, idx: usize) -> Option<&mut Link> {
        self.slots.get_mut(idx).and_then(|s| s.as_mut())
    }

    fn token(&self, idx: usize) -> mio::Token {
        poll::token(TokenKind::Aux, self.owner, self.tag, idx)
    }

    fn arm(&self, core: &mut Core, at: Instant, idx: usize, gen: u32, kind: LinkTimer) {
        let n = (u64::from(gen) << 32) | ((idx as u64) << 2) | kind as u64;
        core.add_timer(at, TimerKey::Program { prog: self.owner, tag: self.tag, n });
    }

    fn open_timeout(&self) -> Duration {
        crate::rpc::keepalive::KeepAlive::new(self.ka_interval, self.ka_count).dead_after().unwrap_or(OPEN_TIMEOUT_DEFAULT)
    }

    /// Starts a link: dials the daemon's socket without blocking and, once connected, runs
    /// the open handshake. Packets for the link are held (`hold`) until `RelayEvent::Opened`.
    /// An error is the answer for the call that asked for the link.
    // C: doRemoteOpen
    pub fn open(&mut self, core: &mut Core, key: LinkKey, spec: OpenSpec) -> Result<(), RemoteError> {
        if self.by_key.contains_key(&key) {
            return Err(crate::rpc::program::internal(proto::VIR_FROM_RPC, "connection already open"));
        }
        let idx = match self.free.pop() {
            Some(i) => i,
            None => {
                self.slots.push(None);
                self.gens.push(0);
                self.slots.len() - 1
            }
        };
        self.gens[idx] = self.gens[idx].wrapping_add(1);
        let gen = self.gens[idx];
        self.slots[idx] = Some(Link {
            key,
            gen,
            spec,
            up: None,
            open: false,
            dial_retry: DIAL_RETRY_FIRST,
            held: VecDeque::new(),
            held_bytes: 0,
            inflight: Vec::new(),
            streams: Vec::new(),
            close_after_reply: false,
        });
        self.by_key.insert(key, idx);
        if let Err(e) = self.dial(core, idx) {
            self.remove(core, idx);
            return Err(e);
        }
        let deadline = Instant::now() + self.open_timeout();
        self.arm(core, deadline, idx, gen, LinkTimer::OpenDeadline);
        Ok(())
    }

    /// One connect attempt; a full accept queue is retried later, never waited for.
    fn dial(&mut self, core: &mut Core, idx: usize) -> Result<(), RemoteError> {
        let (ka_i, ka_c) = (self.ka_interval, self.ka_count);
        let tok = self.token(idx);
        let Some(l) = self.link(idx) else { return Ok(()) };
        match NetClient::connect(&l.spec.socket, &l.spec.request, ka_i, ka_c) {
            Ok(Some(mut up)) => {
                if let Err(e) = up.conn.register(&core.registry, tok) {
                    return Err(crate::rpc::program::internal(proto::VIR_FROM_RPC, &e.to_string()));
                }
                up.start();
                l.up = Some(up);
                self.dirty.push(idx);
                Ok(())
            }
            Ok(None) => {
                let (gen, wait) = (l.gen, l.dial_retry);
                l.dial_retry = (l.dial_retry * 2).min(DIAL_RETRY_MAX);
                debug!("client {}: {} is busy (accept queue full); retrying", l.key.cid.idx, l.spec.socket.display());
                self.arm(core, Instant::now() + wait, idx, gen, LinkTimer::Dial);
                Ok(())
            }
            Err(e) => Err(netclient::connect_error(&l.spec.socket, &e)),
        }
    }

    /// Keeps a client packet until the link is open; a client whose held packets pass the
    /// bound is not read meanwhile.
    pub fn hold(&mut self, core: &mut Core, key: &LinkKey, pkt: Packet, fds: Vec<std::os::fd::OwnedFd>) {
        let Some(&idx) = self.by_key.get(key) else { return };
        let Some(l) = self.link(idx) else { return };
        l.held_bytes += pkt.len();
        l.held.push_back((pkt, fds));
        if l.held_bytes > TX_HIGH_WATER {
            pause_client(core, key.cid);
            self.paused.push(idx);
        }
    }

    /// Relays a client packet to the daemon; calls are remembered until answered. A client
    /// whose daemon lags behind is not read until it catches up.
    pub fn forward(&mut self, core: &mut Core, key: &LinkKey, pkt: Packet, fds: Vec<std::os::fd::OwnedFd>) {
        let Some(&idx) = self.by_key.get(key) else { return };
        let Some(l) = self.link(idx) else { return };
        let Some(up) = l.up.as_mut() else { return };
        if pkt.header.type_.is_call() {
            l.inflight.push(pkt.header);
        }
        track_stream(&mut l.streams, &pkt.header, true);
        let was_empty = up.conn.tx_is_empty();
        up.conn.queue(pkt.buf, fds);
        let full = up.conn.tx_bytes() > TX_HIGH_WATER;
        if was_empty {
            self.dirty.push(idx);
        }
        if full {
            pause_client(core, key.cid);
            self.paused.push(idx);
        }
    }

    /// CONNECT_CLOSE is being relayed on this link: once answered, close it and the client.
    pub fn close_after_reply(&mut self, key: &LinkKey) {
        if let Some(l) = self.by_key.get(key).copied().and_then(|i| self.link(i)) {
            l.close_after_reply = true;
        }
    }

    /// Readiness of a link's socket.
    pub fn aux_event(&mut self, core: &mut Core, idx: usize, r: Readiness) {
        if r.hup {
            if let Some(up) = self.link(idx).and_then(|l| l.up.as_mut()) {
                up.conn.peer_hup = true;
            }
        }
        if r.writable {
            self.flush(core, idx);
        }
        if r.readable {
            self.readable(core, idx);
        }
    }

    fn flush(&mut self, core: &mut Core, idx: usize) {
        let tok = self.token(idx);
        let Some(up) = self.link(idx).and_then(|l| l.up.as_mut()) else { return };
        if let Err(e) = up.conn.flush_and_rearm(&core.registry, tok) {
            let why = crate::util::strerror(&e);
            self.died(core, idx, VIR_CONNECT_CLOSE_REASON_ERROR, &why);
        }
    }

    /// Routes packets read ahead; false when paused or gone (stop reading).
    fn relay_pending(&mut self, core: &mut Core, idx: usize) -> bool {
        loop {
            let Some(l) = self.link(idx) else { return false };
            let cid = l.key.cid;
            let Some(up) = l.up.as_mut() else { return false };
            if up.paused {
                return false;
            }
            let Some((p, fds)) = up.rx.pop_front() else { return true };
            self.daemon_packet(core, idx, p, fds);
            if core.client(cid).is_some_and(|c| c.tx_bytes() > TX_HIGH_WATER) {
                if let Some(up) = self.link(idx).and_then(|l| l.up.as_mut()) {
                    up.paused = true;
                    self.paused.push(idx);
                }
                return false;
            }
        }
    }

    /// Reads and routes everything the daemon has for this link.
    // C: virNetClientIOEventLoop (the read half)
    fn readable(&mut self, core: &mut Core, idx: usize) {
        while self.relay_pending(core, idx) {
            let Some(up) = self.link(idx).and_then(|l| l.up.as_mut()) else { break };
            match up.read_step() {
                ReadStep::More => {}
                ReadStep::Drained => {
                    self.relay_pending(core, idx);
                    break;
                }
                ReadStep::Idle => break,
                ReadStep::Died(reason, why) => {
                    self.died(core, idx, reason, &why);
                    break;
                }
            }
        }
    }

    /// One packet from the daemon: handshake answers, keepalive, answers to calls, events
    /// and stream data.
    // C: virNetClientCallDispatch
    fn daemon_packet(&mut self, core: &mut Core, idx: usize, pkt: Packet, fds: Vec<std::os::fd::OwnedFd>) {
        let Some(l) = self.link(idx) else { return };
        let Some(up) = l.up.as_mut() else { return };
        let h = pkt.header;
        if let Some(queued) = up.keepalive_packet(&h) {
            if queued {
                self.dirty.push(idx);
            }
            return;
        }
        let cid = l.key.cid;
        if !l.open {
            return self.handshake(core, idx, &pkt);
        }
        track_stream(&mut l.streams, &h, false);
        match h.type_ {
            MessageType::Reply | MessageType::ReplyWithFds => {
                let Some(pos) = l.inflight.iter().position(|c| c.serial == h.serial && c.proc_ == h.proc_ && c.prog == h.prog) else {
                    debug!("client {}: dropping an answer to unknown call serial {}", cid.idx, h.serial);
                    return;
                };
                l.inflight.swap_remove(pos);
                let closing = l.close_after_reply && h.prog == proto::REMOTE_PROGRAM && h.proc_ == proto::REMOTE_PROC_CONNECT_CLOSE;
                core.reply(cid, pkt.buf, fds);
                if closing {
                    self.remove(core, idx);
                    core.close_client_after_flush(cid, CloseReason::Client);
                }
            }
            MessageType::Message | MessageType::Stream | MessageType::StreamHole => core.send(cid, pkt.buf, fds),
            MessageType::Call | MessageType::CallWithFds => {
                debug!("client {}: dropping a call from the daemon (proc {})", cid.idx, h.proc_)
            }
        }
    }

    fn handshake(&mut self, core: &mut Core, idx: usize, pkt: &Packet) {
        let tick = Instant::now();
        let Some(l) = self.link(idx) else { return };
        let Some(up) = l.up.as_mut() else { return };
        let was_empty = up.conn.tx_is_empty();
        match up.handshake_reply(pkt) {
            Step::Continue => {
                if was_empty && !up.conn.tx_is_empty() {
                    self.dirty.push(idx);
                }
            }
            Step::Done => {
                l.open = true;
                let gen = l.gen;
                let key = l.key;
                let ka_at = if up.keepalive_ok { up.keepalive.start(tick) } else { None };
                let held: Vec<HeldPacket> = l.held.drain(..).collect();
                l.held_bytes = 0;
                if let Some(at) = ka_at {
                    self.arm(core, at, idx, gen, LinkTimer::Keepalive);
                }
                resume_client(core, key.cid);
                self.events.push(RelayEvent::Opened { key, held });
            }
            Step::Failed(err) => {
                debug!("client {}: open of {} failed: {}", l.key.cid.idx, l.spec.socket.display(), err.message());
                self.fail_open(core, idx, err);
            }
        }
    }

    /// Ends a link that never opened; its held packets go back to the owner.
    fn fail_open(&mut self, core: &mut Core, idx: usize, err: RemoteError) {
        let Some(l) = self.remove(core, idx) else { return };
        resume_client(core, l.key.cid);
        self.events.push(RelayEvent::OpenFailed { key: l.key, err, held: l.held.into_iter().collect() });
    }

    /// The daemon went away (or stopped answering): answer what waits on it.
    fn died(&mut self, core: &mut Core, idx: usize, reason: i32, why: &str) {
        let Some(l) = self.link_ref(idx) else { return };
        if !l.open {
            let err = RemoteError::new(
                proto::VIR_ERR_RPC,
                proto::VIR_FROM_RPC,
                Some(&format!("the daemon closed the connection during open: {why}")),
            );
            return self.fail_open(core, idx, err);
        }
        let Some(l) = self.remove(core, idx) else { return };
        info!("client {}: connection to {} lost: {why}", l.key.cid.idx, l.spec.socket.display());
        let err = (self.lost)(&l.key, why);
        let cid = l.key.cid;
        for h in &l.inflight {
            if l.close_after_reply && h.prog == proto::REMOTE_PROGRAM && h.proc_ == proto::REMOTE_PROC_CONNECT_CLOSE {
                if let Ok(buf) = message::reply_ok(h, &()) {
                    core.reply(cid, buf, Vec::new());
                }
                core.close_client_after_flush(cid, CloseReason::Client);
            } else {
                core.reply_error(cid, h, &err);
            }
        }
        // Open streams end with the error: a client waiting for data would wait forever.
        // C: virNetClientStreamSetError (what a libvirt client does when its daemon goes)
        for h in &l.streams {
            match message::reply_error(h, &err) {
                Ok(buf) => core.send(cid, buf, Vec::new()),
                Err(e) => debug!("cannot encode a stream error: {e}"),
            }
        }
        resume_client(core, cid);
        self.events.push(RelayEvent::Died { key: l.key, reason, why: why.to_string() });
    }

    fn remove(&mut self, core: &mut Core, idx: usize) -> Option<Link> {
        let l = self.slots.get_mut(idx)?.take()?;
        self.by_key.remove(&l.key);
        self.free.push(idx);
        if let Some(up) = &l.up {
            poll::deregister_fd(&core.registry, up.conn.raw_fd());
        }
        Some(l)
    }

    /// Drops one link without answering anything (its client answered or is gone).
    pub fn close(&mut self, core: &mut Core, key: &LinkKey) {
        if let Some(idx) = self.by_key.get(key).copied() {
            self.remove(core, idx);
        }
    }

    /// The client closed its connection: close its links.
    pub fn drop_client(&mut self, core: &mut Core, cid: ClientId) {
        let idxs: Vec<usize> = self.by_key.iter().filter(|(k, _)| k.cid == cid).map(|(_, &i)| i).collect();
        for idx in idxs {
            self.remove(core, idx);
        }
    }

    /// A timer of a link: keepalive, a dial retry, or the end of the time an open may take.
    pub fn timer(&mut self, core: &mut Core, n: u64) {
        let (gen, idx, kind) = ((n >> 32) as u32, ((n & 0xffff_ffff) >> 2) as usize, n & 3);
        let open_timeout = self.open_timeout();
        let Some(l) = self.link(idx).filter(|l| l.gen == gen) else { return };
        if kind == LinkTimer::Dial as u64 {
            if l.up.is_none() {
                if let Err(e) = self.dial(core, idx) {
                    self.fail_open(core, idx, e);
                }
            }
        } else if kind == LinkTimer::OpenDeadline as u64 {
            if !l.open {
                let e = RemoteError::new(
                    proto::VIR_ERR_OPERATION_TIMEOUT,
                    proto::VIR_FROM_RPC,
                    Some(&format!(
                        "the daemon at '{}' did not complete the open within {} s",
                        l.spec.socket.display(),
                        open_timeout.as_secs()
                    )),
                );
                info!("client {}: {}", l.key.cid.idx, e.message());
                self.fail_open(core, idx, e);
            }
        } else {
            let Some(up) = l.up.as_mut() else { return };
            let action = up.keepalive.on_timer(Instant::now());
            match action {
                Action::Wait(at) => self.arm(core, at, idx, gen, LinkTimer::Keepalive),
                Action::Ping(at) => {
                    let was_empty = up.conn.tx_is_empty();
                    up.conn.queue(message::ping(), Vec::new());
                    if was_empty {
                        self.dirty.push(idx);
                    }
                    self.arm(core, at, idx, gen, LinkTimer::Keepalive);
                }
                Action::Dead => self.died(core, idx, VIR_CONNECT_CLOSE_REASON_KEEPALIVE, "keepalive timeout"),
                Action::Idle => {}
            }
        }
    }

    /// Lifts pauses whose other side drained, then writes queued output.
    pub fn after_batch(&mut self, core: &mut Core) {
        for idx in std::mem::take(&mut self.paused) {
            let Some(l) = self.link(idx) else { continue };
            let cid = l.key.cid;
            let client_tx = core.client(cid).map(|c| c.tx_bytes()).unwrap_or(0);
            let mut still = false;
            if l.up.as_ref().is_some_and(|u| u.paused) {
                if client_tx < TX_LOW_WATER {
                    if let Some(up) = l.up.as_mut() {
                        up.paused = false;
                    }
                    self.readable(core, idx);
                } else {
                    still = true;
                }
            }
            // The client reads again once none of its links is backed up.
            let backed_up = self.by_key.iter().filter(|(k, _)| k.cid == cid).any(|(_, &i)| {
                self.link_ref(i)
                    .is_some_and(|l| l.held_bytes >= TX_LOW_WATER || l.up.as_ref().is_some_and(|u| u.conn.tx_bytes() >= TX_LOW_WATER))
            });
            if core.client(cid).is_some_and(|c| c.rx_paused) {
                if backed_up {
                    still = true;
                } else {
                    resume_client(core, cid);
                }
            }
            if still {
                self.paused.push(idx);
            }
        }
        while !self.dirty.is_empty() {
            for idx in std::mem::take(&mut self.dirty) {
                self.flush(core, idx);
            }
        }
    }

    /// Daemon shutdown: close every link.
    pub fn shutdown(&mut self, core: &mut Core) {
        for idx in 0..self.slots.len() {
            self.remove(core, idx);
        }
    }
}

fn pause_client(core: &mut Core, cid: ClientId) {
    if let Some(c) = core.client_mut(cid) {
        c.rx_paused = true;
    }
}

/// Lets a client whose reading was paused on a link's account read again.
fn resume_client(core: &mut Core, cid: ClientId) {
    if let Some(c) = core.client_mut(cid) {
        if c.rx_paused {
            c.rx_paused = false;
            core.kick(cid);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(type_: MessageType, status: MessageStatus, proc_: i32, serial: u32) -> Header {
        Header::new(proto::REMOTE_PROGRAM, 1, proc_, type_, serial, status)
    }

    fn streams_after(events: &[(Header, bool)]) -> Vec<u32> {
        let mut streams: Vec<Header> = Vec::new();
        for (h, from_client) in events {
            track_stream(&mut streams, h, *from_client);
        }
        streams.iter().map(|h| h.serial).collect()
    }

    #[test]
    fn track_stream_ok_reply_to_upload_opens_stream() {
        let got = streams_after(&[(header(MessageType::Reply, MessageStatus::Ok, 208, 4), false)]);
        assert_eq!(got, [4]);
    }

    #[test]
    fn track_stream_ok_reply_to_console_opens_stream() {
        let got = streams_after(&[(header(MessageType::Reply, MessageStatus::Ok, 201, 9), false)]);
        assert_eq!(got, [9]);
    }

    #[test]
    fn track_stream_error_reply_opens_nothing() {
        let got = streams_after(&[(header(MessageType::Reply, MessageStatus::Error, 209, 4), false)]);
        assert!(got.is_empty());
    }

    #[test]
    fn track_stream_other_proc_reply_opens_nothing() {
        let got = streams_after(&[(header(MessageType::Reply, MessageStatus::Ok, 283, 4), false)]);
        assert!(got.is_empty());
    }

    #[test]
    fn track_stream_daemon_end_closes_stream() {
        let got = streams_after(&[
            (header(MessageType::Reply, MessageStatus::Ok, 209, 4), false),
            (header(MessageType::Stream, MessageStatus::Continue, 209, 4), false),
            (header(MessageType::Stream, MessageStatus::Ok, 209, 4), false),
        ]);
        assert!(got.is_empty());
    }

    #[test]
    fn track_stream_client_finish_keeps_stream_until_daemon_confirms() {
        let got = streams_after(&[
            (header(MessageType::Reply, MessageStatus::Ok, 208, 4), false),
            (header(MessageType::Stream, MessageStatus::Ok, 208, 4), true),
        ]);
        assert_eq!(got, [4]);
    }

    #[test]
    fn track_stream_client_abort_closes_stream() {
        let got = streams_after(&[
            (header(MessageType::Reply, MessageStatus::Ok, 208, 4), false),
            (header(MessageType::Stream, MessageStatus::Error, 208, 4), true),
        ]);
        assert!(got.is_empty());
    }

    #[test]
    fn timer_number_round_trips_gen_index_and_kind() {
        let (gen, idx) = (0xdead_beefu32, 123_456usize);
        for kind in [LinkTimer::Keepalive, LinkTimer::Dial, LinkTimer::OpenDeadline] {
            let n = (u64::from(gen) << 32) | ((idx as u64) << 2) | kind as u64;
            assert_eq!(((n >> 32) as u32, ((n & 0xffff_ffff) >> 2) as usize, n & 3), (gen, idx, kind as u64));
        }
    }
}
