//! virtxend's connections to the secondary-driver daemons (virtnetworkd, virtstoraged,
//! virtnodedevd, virtsecretd, virtinterfaced, virtnwfilterd): opened lazily, one per client
//! and family, as libvirt's remote/remote_daemon_dispatch.c remoteGetNetworkConn & co do.
//!
//! Where libvirt re-issues each call through its client library, we relay the frames, as our
//! virtproxyd does, with its upstream leg (`proxy::upstream`: socket, handshake, keepalive,
//! fd passing). Each upstream belongs to one client, so serials, event callback ids and stream
//! serials pass through unchanged; client packets wait while the handshake runs.

use std::collections::{HashMap, VecDeque};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::time::Instant;

use log::{debug, info};

use super::forward_class::Family;
use crate::poll::{self, TokenKind};
use crate::proxy::upstream::{self, OpenRequest, ReadStep, Step, Upstream};
use crate::proxy::{uri, HIGH_WATER, LOW_WATER};
use crate::remote::protocol::VIR_CONNECT_RO;
use crate::rpc::keepalive::Action;
use crate::rpc::message::{self, Packet};
use crate::rpc::netdaemon::{ClientId, Core, TimerKey};
use crate::rpc::protocol::{Header, MessageStatus, MessageType, RemoteError, VIR_ERR_INTERNAL_ERROR, VIR_FROM_RPC};
use crate::util::paths::Env;

/// Aux indexes of upstream sockets: below libxl's range (1 << 40), above the consoles'.
pub const AUX_BASE: usize = 1 << 39;
const AUX_SPAN: usize = 1 << 39;
/// Driver timer keys of upstream keepalives: below libxl's range (1 << 62).
pub const TIMER_BASE: u64 = 1 << 61;

/// Keepalive towards the daemons (libvirt's client defaults: 5 s, 5 missed).
const KA_INTERVAL: i32 = 5;
const KA_COUNT: u32 = 5;

struct Link {
    cid: ClientId,
    family: Family,
    up: Upstream,
    open: bool,
    /// Client packets waiting for the handshake.
    held: VecDeque<(Packet, Vec<OwnedFd>)>,
    /// Calls relayed and not answered yet.
    inflight: Vec<Header>,
    /// Streams opened by an answered call and not ended yet.
    streams: Vec<Header>,
}

/// REMOTE_PROC_STORAGE_VOL_UPLOAD / _DOWNLOAD: the secondary procedures that open a stream.
const STREAM_PROCS: [i32; 2] = [208, 209];

/// Follows the open streams of a link: a stream opens with a successful reply to a stream
/// procedure and ends with the daemon's last packet or the client's abort.
// C: daemonStreamEvent (its end-of-stream bookkeeping)
fn track_stream(streams: &mut Vec<Header>, h: &Header, from_client: bool) {
    let same = |s: &Header| s.serial == h.serial && s.proc_ == h.proc_ && s.prog == h.prog;
    match (h.type_, h.status) {
        (MessageType::Reply, MessageStatus::Ok) if !from_client && STREAM_PROCS.contains(&h.proc_) && !streams.iter().any(same) => {
            streams.push(Header { type_: MessageType::Stream, ..*h });
        }
        (MessageType::Stream, MessageStatus::Ok) if !from_client => streams.retain(|s| !same(s)),
        (MessageType::Stream, MessageStatus::Error) => streams.retain(|s| !same(s)),
        _ => {}
    }
}

/// The open upstreams of every client.
pub struct Secondary {
    links: HashMap<usize, Link>,
    by_client: HashMap<(ClientId, Family), usize>,
    next: usize,
    /// Where the daemons' sockets are (None: the system directory).
    sock_dir: Option<PathBuf>,
    dirty: Vec<usize>,
    paused: Vec<usize>,
    scratch: Vec<u8>,
}

fn link_lost(family: Family, why: &str) -> RemoteError {
    RemoteError::new(VIR_ERR_INTERNAL_ERROR, VIR_FROM_RPC, Some(&format!("connection to virt{}d lost: {why}", family.daemon())))
}

/// The URI a daemon behind `sock` accepts: `///system` unless the socket belongs to an
/// unprivileged (session) daemon, which only serves `///session`.
fn upstream_uri(family: Family, sock: &Path) -> String {
    use std::os::unix::fs::MetadataExt;
    let session = std::fs::metadata(sock).is_ok_and(|m| m.uid() != 0);
    format!("{}:///{}", family.daemon(), if session { "session" } else { "system" })
}

impl Default for Secondary {
    fn default() -> Self {
        Secondary::new(None)
    }
}

impl Secondary {
    pub fn new(sock_dir: Option<PathBuf>) -> Secondary {
        Secondary {
            links: HashMap::new(),
            by_client: HashMap::new(),
            next: 0,
            sock_dir,
            dirty: Vec::new(),
            paused: Vec::new(),
            scratch: vec![0u8; 64 * 1024],
        }
    }

    /// Whether an Aux index is one of ours.
    pub fn owns_aux(&self, idx: usize) -> bool {
        (AUX_BASE..AUX_BASE + AUX_SPAN).contains(&idx)
    }

    pub fn owns_timer(&self, key: u64) -> bool {
        (TIMER_BASE..TIMER_BASE * 2).contains(&key)
    }

    fn socket_path(&self, family: Family, readonly: bool) -> PathBuf {
        let dir = self.sock_dir.clone().unwrap_or_else(|| uri::socket_dir(false, &Env::default()));
        dir.join(uri::socket_name(family.daemon(), readonly, false))
    }

    /// A client packet of `family`: relayed, held during the handshake, or (the first call)
    /// the reason to open the upstream.
    // C: remoteGetStorageConn (and its siblings)
    pub fn client_packet(&mut self, core: &mut Core, cid: ClientId, family: Family, readonly: bool, pkt: Packet, fds: Vec<OwnedFd>) {
        if let Some(&idx) = self.by_client.get(&(cid, family)) {
            let Some(link) = self.links.get_mut(&idx) else { return };
            if link.open {
                self.forward(core, idx, pkt, fds);
            } else {
                link.held.push_back((pkt, fds));
            }
            return;
        }
        if !pkt.header.type_.is_call() {
            debug!(
                "client {}: dropping {:?} packet for virt{}d, which it has no connection to",
                cid.idx,
                pkt.header.type_,
                family.daemon()
            );
            return;
        }
        let Some(idx) = self.alloc_index() else {
            let e = RemoteError::new(VIR_ERR_INTERNAL_ERROR, VIR_FROM_RPC, Some("too many daemon connections"));
            return core.reply_error(cid, &pkt.header, &e);
        };
        let path = self.socket_path(family, readonly);
        let Some(identity) = core.client(cid).map(|c| c.identity.clone()) else { return };
        let req = OpenRequest { uri: upstream_uri(family, &path), flags: if readonly { VIR_CONNECT_RO } else { 0 }, identity };
        debug!("client {}: opening {} via {}", cid.idx, req.uri, path.display());
        let mut up = match Upstream::connect(&path, req, KA_INTERVAL, KA_COUNT) {
            Ok(u) => u,
            Err(e) => return core.reply_error(cid, &pkt.header, &upstream::connect_error(&path, &e)),
        };
        if let Err(e) = up.conn.register(&core.registry, poll::token(TokenKind::Aux, idx)) {
            let err = RemoteError::new(VIR_ERR_INTERNAL_ERROR, VIR_FROM_RPC, Some(&e.to_string()));
            return core.reply_error(cid, &pkt.header, &err);
        }
        up.start();
        let mut held = VecDeque::new();
        held.push_back((pkt, fds));
        self.links.insert(idx, Link { cid, family, up, open: false, held, inflight: Vec::new(), streams: Vec::new() });
        self.by_client.insert((cid, family), idx);
        self.dirty.push(idx);
    }

    fn alloc_index(&mut self) -> Option<usize> {
        for _ in 0..AUX_SPAN.min(1 << 20) {
            let idx = AUX_BASE + self.next % AUX_SPAN;
            self.next = self.next.wrapping_add(1);
            if !self.links.contains_key(&idx) {
                return Some(idx);
            }
        }
        None
    }

    /// Relays a client packet upstream; pauses the client when the daemon lags behind.
    fn forward(&mut self, core: &mut Core, idx: usize, pkt: Packet, fds: Vec<OwnedFd>) {
        let Some(link) = self.links.get_mut(&idx) else { return };
        if pkt.header.type_.is_call() {
            link.inflight.push(pkt.header);
        }
        track_stream(&mut link.streams, &pkt.header, true);
        let was_empty = link.up.conn.tx_is_empty();
        link.up.conn.queue(pkt.buf, fds);
        if was_empty {
            self.dirty.push(idx);
        }
        if link.up.conn.tx_bytes() > HIGH_WATER {
            let cid = link.cid;
            if let Some(c) = core.client_mut(cid) {
                c.rx_paused = true;
            }
            self.paused.push(idx);
        }
    }

    /// Readiness of an upstream socket.
    pub fn aux_event(&mut self, core: &mut Core, idx: usize, readable: bool, writable: bool) {
        if writable {
            self.flush(core, idx);
        }
        if readable {
            self.readable(core, idx);
        }
    }

    fn flush(&mut self, core: &mut Core, idx: usize) {
        let Some(link) = self.links.get_mut(&idx) else { return };
        if let Err(e) = link.up.conn.flush_and_rearm(&core.registry, poll::token(TokenKind::Aux, idx)) {
            let why = crate::util::strerror(&e);
            self.died(core, idx, &why);
        }
    }

    /// Relays packets read ahead; false when paused or gone (stop reading).
    fn relay_pending(&mut self, core: &mut Core, idx: usize) -> bool {
        loop {
            let Some(link) = self.links.get_mut(&idx) else { return false };
            if link.up.paused {
                return false;
            }
            let cid = link.cid;
            let Some((p, fds)) = link.up.rx.pop_front() else { return true };
            self.upstream_packet(core, idx, p, fds);
            if core.client(cid).is_some_and(|c| c.tx_bytes() > HIGH_WATER) {
                if let Some(l) = self.links.get_mut(&idx) {
                    l.up.paused = true;
                    self.paused.push(idx);
                }
                return false;
            }
        }
    }

    fn readable(&mut self, core: &mut Core, idx: usize) {
        let mut scratch = std::mem::take(&mut self.scratch);
        while self.relay_pending(core, idx) {
            let Some(link) = self.links.get_mut(&idx) else { break };
            let up = &mut link.up;
            match up.read_step(&mut scratch) {
                ReadStep::More => {}
                ReadStep::Drained => {
                    self.relay_pending(core, idx);
                    break;
                }
                ReadStep::Idle => break,
                ReadStep::Died(_, why) => {
                    self.died(core, idx, &why);
                    break;
                }
            }
        }
        self.scratch = scratch;
    }

    fn upstream_packet(&mut self, core: &mut Core, idx: usize, pkt: Packet, fds: Vec<OwnedFd>) {
        let Some(link) = self.links.get_mut(&idx) else { return };
        let h = pkt.header;
        if let Some(queued) = link.up.keepalive_packet(&h) {
            if queued {
                self.dirty.push(idx);
            }
            return;
        }
        let cid = link.cid;
        if !link.open {
            return self.handshake(core, idx, &pkt);
        }
        track_stream(&mut link.streams, &h, false);
        match h.type_ {
            MessageType::Reply | MessageType::ReplyWithFds => {
                let Some(pos) = link.inflight.iter().position(|c| c.serial == h.serial && c.proc_ == h.proc_ && c.prog == h.prog) else {
                    debug!("client {}: dropping reply to unknown call serial {}", cid.idx, h.serial);
                    return;
                };
                link.inflight.swap_remove(pos);
                core.reply(cid, pkt.buf, fds);
            }
            MessageType::Message | MessageType::Stream | MessageType::StreamHole => core.send(cid, pkt.buf, fds),
            MessageType::Call | MessageType::CallWithFds => {
                debug!("client {}: dropping call from virt{}d (proc {})", cid.idx, link.family.daemon(), h.proc_)
            }
        }
    }

    fn handshake(&mut self, core: &mut Core, idx: usize, pkt: &Packet) {
        let Some(link) = self.links.get_mut(&idx) else { return };
        let was_empty = link.up.conn.tx_is_empty();
        match link.up.handshake_reply(pkt) {
            Step::Continue => {
                if was_empty && !link.up.conn.tx_is_empty() {
                    self.dirty.push(idx);
                }
            }
            Step::Done => {
                link.open = true;
                if link.up.keepalive_ok {
                    if let Some(at) = link.up.keepalive.start(Instant::now()) {
                        core.add_timer(at, TimerKey::Driver(TIMER_BASE + (idx - AUX_BASE) as u64));
                    }
                }
                let held: Vec<_> = link.held.drain(..).collect();
                for (p, fds) in held {
                    self.forward(core, idx, p, fds);
                }
            }
            Step::Failed(err) => {
                debug!("client {}: open of virt{}d failed: {}", link.cid.idx, link.family.daemon(), err.message());
                self.fail(core, idx, &err);
            }
        }
    }

    /// Drops a link and answers every call waiting on it with `err`; a later call retries.
    fn fail(&mut self, core: &mut Core, idx: usize, err: &RemoteError) {
        let Some(link) = self.remove(core, idx) else { return };
        for h in link.inflight.iter().chain(link.held.iter().map(|(p, _)| &p.header)) {
            if h.type_.is_call() {
                core.reply_error(link.cid, h, err);
            }
        }
        // Open streams end with the error (a client waiting for data would wait forever).
        for h in &link.streams {
            match message::reply_error(h, err) {
                Ok(buf) => core.send(link.cid, buf, Vec::new()),
                Err(e) => debug!("cannot encode a stream error: {e}"),
            }
        }
        // A client paused on this link's account reads again.
        if let Some(c) = core.client_mut(link.cid) {
            if c.rx_paused {
                c.rx_paused = false;
                core.kick(link.cid);
            }
        }
    }

    /// The daemon went away: pending calls fail, the client's Xen calls go on.
    fn died(&mut self, core: &mut Core, idx: usize, why: &str) {
        let Some(link) = self.links.get(&idx) else { return };
        let (fam, cid) = (link.family, link.cid);
        if link.open {
            info!("client {}: connection to virt{}d lost: {why}", cid.idx, fam.daemon());
        }
        self.fail(core, idx, &link_lost(fam, why));
    }

    fn remove(&mut self, core: &mut Core, idx: usize) -> Option<Link> {
        let link = self.links.remove(&idx)?;
        self.by_client.remove(&(link.cid, link.family));
        poll::deregister_fd(&core.registry, link.up.conn.raw_fd());
        Some(link)
    }

    /// The client closed its connection: close its upstreams.
    pub fn drop_client(&mut self, core: &mut Core, cid: ClientId) {
        let idxs: Vec<usize> = self.links.iter().filter(|(_, l)| l.cid == cid).map(|(&i, _)| i).collect();
        for idx in idxs {
            self.remove(core, idx);
        }
    }

    /// A keepalive timer of an upstream.
    pub fn timer(&mut self, core: &mut Core, key: u64) {
        let idx = AUX_BASE + (key - TIMER_BASE) as usize;
        let Some(link) = self.links.get_mut(&idx) else { return };
        match link.up.keepalive.on_timer(Instant::now()) {
            Action::Wait(at) => core.add_timer(at, TimerKey::Driver(key)),
            Action::Ping(at) => {
                let was_empty = link.up.conn.tx_is_empty();
                link.up.conn.queue(message::ping(), Vec::new());
                if was_empty {
                    self.dirty.push(idx);
                }
                core.add_timer(at, TimerKey::Driver(key));
            }
            Action::Dead => self.died(core, idx, "keepalive timeout"),
            Action::Idle => {}
        }
    }

    /// Lifts pauses whose other side drained, then writes queued output.
    pub fn after_batch(&mut self, core: &mut Core) {
        for idx in std::mem::take(&mut self.paused) {
            let Some(link) = self.links.get_mut(&idx) else { continue };
            let cid = link.cid;
            let client_tx = core.client(cid).map(|c| c.tx_bytes()).unwrap_or(0);
            let mut still = false;
            if link.up.paused {
                if client_tx < LOW_WATER {
                    link.up.paused = false;
                    self.readable(core, idx);
                } else {
                    still = true;
                }
            }
            // The client reads again once none of its upstreams is backed up.
            let up_tx = self.links.values().filter(|l| l.cid == cid).map(|l| l.up.conn.tx_bytes()).max().unwrap_or(0);
            if core.client(cid).is_some_and(|c| c.rx_paused) && !crate::proxy::resume_client_if_drained(core, cid, up_tx) {
                still = true;
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

    /// Daemon shutdown: close every upstream.
    pub fn shutdown(&mut self, core: &mut Core) {
        let idxs: Vec<usize> = self.links.keys().copied().collect();
        for idx in idxs {
            self.remove(core, idx);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owns_aux_range_between_consoles_and_libxl() {
        let s = Secondary::new(None);
        assert!(!s.owns_aux(1));
        assert!(s.owns_aux(AUX_BASE));
        assert!(s.owns_aux(AUX_BASE + AUX_SPAN - 1));
        assert!(!s.owns_aux(AUX_BASE + AUX_SPAN));
        assert!(crate::libxl_ffi::is_libxl_aux(AUX_BASE + AUX_SPAN));
        assert!(!crate::libxl_ffi::is_libxl_aux(AUX_BASE + AUX_SPAN - 1));
    }

    #[test]
    fn owns_timer_range_below_libxl() {
        let s = Secondary::new(None);
        assert!(s.owns_timer(TIMER_BASE));
        assert!(!s.owns_timer(TIMER_BASE * 2));
        assert!(crate::libxl_ffi::is_libxl_timer(TIMER_BASE * 2));
        assert!(!crate::libxl_ffi::is_libxl_timer(TIMER_BASE * 2 - 1));
        assert!(!s.owns_timer(7));
    }

    #[test]
    fn socket_path_readonly_uses_ro_socket() {
        let s = Secondary::new(Some(PathBuf::from("/r")));
        assert_eq!(s.socket_path(Family::Storage, true), Path::new("/r/virtstoraged-sock-ro"));
        assert_eq!(s.socket_path(Family::Network, false), Path::new("/r/virtnetworkd-sock"));
    }

    fn header(type_: MessageType, status: MessageStatus, proc_: i32, serial: u32) -> Header {
        Header::new(crate::rpc::protocol::REMOTE_PROGRAM, 1, proc_, type_, serial, status)
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
    fn upstream_uri_missing_socket_is_system() {
        assert_eq!(upstream_uri(Family::Secret, Path::new("/nonexistent/virtsecretd-sock")), "secret:///system");
    }
}
