//! virtproxyd's driver: a frame relay with one upstream connection per client (what libvirt's
//! remote/remote_daemon_dispatch.c does in its virtproxyd build, without decoding calls).
//!
//! Answered here: CONNECT_OPEN (resolve the URI, dial the daemon, run the handshake),
//! CONNECT_SUPPORTS_FEATURE for the features a server answers itself, the close callback
//! (360/361, and 362 when the daemon goes away), keepalive on both legs. Every other packet is
//! relayed verbatim both ways, fds included, so serials, callback ids and stream serials stay
//! the daemon's and the client's own.

pub mod upstream;
pub mod uri;

use std::collections::VecDeque;
use std::os::fd::OwnedFd;
use std::time::Instant;

use log::{debug, info};

use crate::poll::{self, TokenKind};
use crate::remote::protocol::*;
use crate::rpc::client::CloseReason;
use crate::rpc::keepalive::Action;
use crate::rpc::message::{self, Packet};
use crate::rpc::netdaemon::{ClientId, Core, Driver, TimerKey};
use crate::rpc::program::{self, answer};
use crate::rpc::protocol::{self as proto, Header, MessageType, RemoteError};
use crate::util::paths::Env;
use upstream::{OpenRequest, ReadStep, Step, Upstream};

/// Stop reading a leg when the other leg has this much unwritten output.
pub(crate) const HIGH_WATER: usize = 4 << 20;
/// Resume when it falls below this.
pub(crate) const LOW_WATER: usize = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// No CONNECT_OPEN yet (or the last one failed).
    Idle,
    /// Handshake with the daemon under way; client packets are held.
    Opening,
    Open,
    /// The daemon went away; the client stays until it closes.
    Dead,
}

struct PClient {
    cid: ClientId,
    state: State,
    up: Option<Upstream>,
    /// The client's CONNECT_OPEN, answered when the handshake ends.
    open_call: Option<Header>,
    held: VecDeque<(Packet, Vec<OwnedFd>)>,
    close_cb: bool,
    /// Calls relayed upstream and not yet answered.
    inflight: Vec<Header>,
    /// CONNECT_CLOSE was relayed: close both legs after its reply.
    closing: bool,
}

pub struct ProxyDriver {
    clients: Vec<Option<PClient>>,
    env: Env,
    privileged: bool,
    /// Upstreams with output queued during this batch.
    dirty: Vec<u32>,
    /// Upstreams or clients paused by the high-water mark.
    paused: Vec<u32>,
    scratch: Vec<u8>,
    ka_interval: i32,
    ka_count: u32,
}

fn not_open() -> RemoteError {
    program::internal(proto::VIR_FROM_RPC, "hypervisor connection not open")
}

fn socket_closed() -> RemoteError {
    program::internal(proto::VIR_FROM_RPC, "client socket is closed")
}

fn timer_key(cid: ClientId) -> u64 {
    (cid.idx as u64) << 32 | cid.gen as u64
}

impl ProxyDriver {
    pub fn new(privileged: bool, env: Env, ka_interval: i32, ka_count: u32) -> ProxyDriver {
        ProxyDriver {
            clients: Vec::new(),
            env,
            privileged,
            dirty: Vec::new(),
            paused: Vec::new(),
            scratch: vec![0u8; 64 * 1024],
            ka_interval,
            ka_count,
        }
    }

    fn pc(&mut self, cid: ClientId) -> Option<&mut PClient> {
        self.clients.get_mut(cid.idx as usize)?.as_mut().filter(|p| p.cid == cid)
    }

    /// Relays a packet to the daemon; for calls, remembers it as in flight.
    fn forward(&mut self, cid: ClientId, pkt: Packet, fds: Vec<OwnedFd>) {
        let Some(pc) = self.pc(cid) else { return };
        let Some(up) = pc.up.as_mut() else { return };
        if pkt.header.type_.is_call() {
            pc.inflight.push(pkt.header);
        }
        let was_empty = up.conn.tx_is_empty();
        up.conn.queue(pkt.buf, fds);
        let pause = up.conn.tx_bytes() > HIGH_WATER;
        if was_empty {
            self.dirty.push(cid.idx);
        }
        if pause {
            self.paused.push(cid.idx);
        }
    }

    // C: remoteDispatchConnectOpen
    fn open(&mut self, core: &mut Core, cid: ClientId, pkt: Packet) {
        let Some(client) = core.client(cid) else { return };
        let identity = client.identity.clone();
        let client_ro = client.readonly;
        let Some(pc) = self.pc(cid) else { return };
        if pc.state != State::Idle {
            core.reply_error(cid, &pkt.header, &program::internal(proto::VIR_FROM_RPC, "connection already open"));
            return;
        }
        let args: ConnectOpenArgs = match program::args(&pkt) {
            Ok(a) => a,
            Err(e) => return core.reply_error(cid, &pkt.header, &e),
        };
        let readonly = client_ro || args.flags & VIR_CONNECT_RO != 0;
        let name = args.name.unwrap_or_default();
        let target = if name.is_empty() {
            match uri::probe(readonly, self.privileged, &self.env, &|p| p.exists()) {
                Some(t) => t,
                None => {
                    let e = RemoteError::new(
                        proto::VIR_ERR_NO_CONNECT,
                        proto::VIR_FROM_NONE,
                        Some("no default URI: no hypervisor daemon socket found"),
                    );
                    return core.reply_error(cid, &pkt.header, &e);
                }
            }
        } else {
            match uri::resolve(&name, readonly, &self.env) {
                Ok(t) => t,
                Err(e) => {
                    let code = match e {
                        uri::UriError::Malformed(_) => proto::VIR_ERR_INVALID_ARG,
                        uri::UriError::Remote(_) | uri::UriError::InProcess(_) => proto::VIR_ERR_OPERATION_UNSUPPORTED,
                        _ => proto::VIR_ERR_NO_CONNECT,
                    };
                    let err = RemoteError::new(code, proto::VIR_FROM_REMOTE, Some(&e.to_string()));
                    return core.reply_error(cid, &pkt.header, &err);
                }
            }
        };
        debug!("client {}: opening {} via {}", cid.idx, target.uri, target.socket.display());
        let req = OpenRequest { uri: target.uri.clone(), flags: if readonly { VIR_CONNECT_RO } else { 0 }, identity };
        let mut up = match Upstream::connect(&target.socket, req, self.ka_interval, self.ka_count) {
            Ok(u) => u,
            Err(e) => {
                return core.reply_error(cid, &pkt.header, &upstream::connect_error(&target.socket, &e));
            }
        };
        if let Err(e) = up.conn.register(&core.registry, poll::token(TokenKind::Aux, cid.idx as usize)) {
            return core.reply_error(cid, &pkt.header, &program::internal(proto::VIR_FROM_RPC, &e.to_string()));
        }
        up.start();
        if let Some(c) = core.client_mut(cid) {
            c.readonly = readonly;
        }
        let pc = self.pc(cid).expect("checked above");
        pc.up = Some(up);
        pc.state = State::Opening;
        pc.open_call = Some(pkt.header);
        self.dirty.push(cid.idx);
    }

    // C: remoteDispatchConnectSupportsFeature
    fn supports_feature(&mut self, core: &mut Core, cid: ClientId, pkt: Packet, fds: Vec<OwnedFd>) {
        let args: SupportsFeatureArgs = match program::args(&pkt) {
            Ok(a) => a,
            Err(e) => return core.reply_error(cid, &pkt.header, &e),
        };
        let state = self.pc(cid).map(|p| p.state).unwrap_or(State::Dead);
        if args.feature == VIR_DRV_FEATURE_PROGRAM_KEEPALIVE {
            core.start_keepalive(cid);
            return answer(core, cid, &pkt, Ok(SupportsFeatureRet { supported: 1 }));
        }
        match state {
            State::Idle => core.reply_error(cid, &pkt.header, &not_open()),
            State::Dead => core.reply_error(cid, &pkt.header, &socket_closed()),
            State::Opening => self.hold(cid, pkt, fds),
            State::Open => match args.feature {
                VIR_DRV_FEATURE_FD_PASSING | VIR_DRV_FEATURE_REMOTE_EVENT_CALLBACK | VIR_DRV_FEATURE_REMOTE_CLOSE_CALLBACK => {
                    answer(core, cid, &pkt, Ok(SupportsFeatureRet { supported: 1 }))
                }
                _ => self.forward(cid, pkt, fds),
            },
        }
    }

    fn hold(&mut self, cid: ClientId, pkt: Packet, fds: Vec<OwnedFd>) {
        if let Some(pc) = self.pc(cid) {
            pc.held.push_back((pkt, fds));
        }
    }

    fn close_callback(&mut self, core: &mut Core, cid: ClientId, pkt: Packet, register: bool) {
        let Some(pc) = self.pc(cid) else { return };
        match pc.state {
            State::Open => {
                pc.close_cb = register;
                answer(core, cid, &pkt, Ok(()));
            }
            State::Opening => pc.held.push_back((pkt, Vec::new())),
            State::Idle => core.reply_error(cid, &pkt.header, &not_open()),
            State::Dead => core.reply_error(cid, &pkt.header, &socket_closed()),
        }
    }

    fn client_packet(&mut self, core: &mut Core, cid: ClientId, pkt: Packet, fds: Vec<OwnedFd>) {
        let h = pkt.header;
        if h.type_.is_call() && h.prog == proto::REMOTE_PROGRAM {
            match h.proc_ {
                proto::REMOTE_PROC_CONNECT_OPEN => return self.open(core, cid, pkt),
                proto::REMOTE_PROC_CONNECT_SUPPORTS_FEATURE => return self.supports_feature(core, cid, pkt, fds),
                proto::REMOTE_PROC_CONNECT_REGISTER_CLOSE_CALLBACK => return self.close_callback(core, cid, pkt, true),
                proto::REMOTE_PROC_CONNECT_UNREGISTER_CLOSE_CALLBACK => return self.close_callback(core, cid, pkt, false),
                proto::REMOTE_PROC_CONNECT_CLOSE => {
                    let state = self.pc(cid).map(|p| p.state);
                    if state == Some(State::Open) {
                        if let Some(pc) = self.pc(cid) {
                            pc.closing = true;
                        }
                        return self.forward(cid, pkt, fds);
                    }
                    if state != Some(State::Opening) {
                        answer(core, cid, &pkt, Ok(()));
                        core.close_client_after_flush(cid, CloseReason::Client);
                        return;
                    }
                }
                _ => {}
            }
        }
        let Some(pc) = self.pc(cid) else { return };
        if pc.state != State::Open && h.type_.is_call() && !self.knows_proc(h.prog, h.proc_) {
            return core.reply_error(cid, &h, &program::unknown_proc(h.proc_));
        }
        let Some(pc) = self.pc(cid) else { return };
        match pc.state {
            State::Open => self.forward(cid, pkt, fds),
            State::Opening => pc.held.push_back((pkt, fds)),
            State::Idle if h.type_.is_call() => core.reply_error(cid, &h, &not_open()),
            State::Dead if h.type_.is_call() => core.reply_error(cid, &h, &socket_closed()),
            _ => debug!("client {}: dropping {:?} packet on a connection that is not open", cid.idx, h.type_),
        }
    }

    fn up_mut(&mut self, cid: ClientId) -> Option<&mut Upstream> {
        self.pc(cid).and_then(|p| p.up.as_mut())
    }

    /// Relays packets read ahead; false when paused or gone (stop reading).
    fn relay_pending(&mut self, core: &mut Core, cid: ClientId) -> bool {
        loop {
            let Some(up) = self.up_mut(cid) else { return false };
            if up.paused {
                return false;
            }
            let Some((p, fds)) = up.rx.pop_front() else { return true };
            self.upstream_packet(core, cid, p, fds);
            if core.client(cid).is_some_and(|c| c.tx_bytes() > HIGH_WATER) {
                if let Some(u) = self.up_mut(cid) {
                    u.paused = true;
                    self.paused.push(cid.idx);
                }
                return false;
            }
        }
    }

    /// Reads and routes everything the daemon has for this client.
    fn upstream_readable(&mut self, core: &mut Core, idx: u32) {
        let Some(cid) = self.clients.get(idx as usize).and_then(|p| p.as_ref()).map(|p| p.cid) else { return };
        let mut scratch = std::mem::take(&mut self.scratch);
        while self.relay_pending(core, cid) {
            let Some(up) = self.up_mut(cid) else { break };
            match up.read_step(&mut scratch) {
                ReadStep::More => {}
                ReadStep::Drained => {
                    // Route what came, then wait for the next edge.
                    self.relay_pending(core, cid);
                    break;
                }
                ReadStep::Idle => break,
                ReadStep::Died(reason, why) => {
                    self.upstream_died(core, cid, reason, &why);
                    break;
                }
            }
        }
        self.scratch = scratch;
    }

    fn upstream_packet(&mut self, core: &mut Core, cid: ClientId, pkt: Packet, fds: Vec<OwnedFd>) {
        let h = pkt.header;
        if h.prog == proto::KEEPALIVE_PROGRAM {
            if let Some(Some(true)) = self.pc(cid).and_then(|p| p.up.as_mut()).map(|up| up.keepalive_packet(&h)) {
                self.dirty.push(cid.idx);
            }
            return;
        }
        let Some(pc) = self.pc(cid) else { return };
        if pc.state == State::Opening {
            return self.handshake(core, cid, &pkt);
        }
        if pc.state != State::Open {
            return;
        }
        match h.type_ {
            MessageType::Reply | MessageType::ReplyWithFds => {
                let Some(pos) = pc.inflight.iter().position(|c| c.serial == h.serial && c.proc_ == h.proc_ && c.prog == h.prog) else {
                    debug!("client {}: dropping reply to unknown call serial {}", cid.idx, h.serial);
                    return;
                };
                pc.inflight.swap_remove(pos);
                let closing = pc.closing && h.prog == proto::REMOTE_PROGRAM && h.proc_ == proto::REMOTE_PROC_CONNECT_CLOSE;
                core.reply(cid, pkt.buf, fds);
                if closing {
                    self.drop_upstream(core, cid);
                    core.close_client_after_flush(cid, CloseReason::Client);
                }
            }
            MessageType::Message | MessageType::Stream | MessageType::StreamHole => core.send(cid, pkt.buf, fds),
            MessageType::Call | MessageType::CallWithFds => {
                debug!("client {}: dropping call from the daemon (proc {})", cid.idx, h.proc_)
            }
        }
    }

    fn handshake(&mut self, core: &mut Core, cid: ClientId, pkt: &Packet) {
        let Some(pc) = self.pc(cid) else { return };
        let Some(up) = pc.up.as_mut() else { return };
        let was_empty = up.conn.tx_is_empty();
        match up.handshake_reply(pkt) {
            Step::Continue => {
                if was_empty && !up.conn.tx_is_empty() {
                    self.dirty.push(cid.idx);
                }
            }
            Step::Done => {
                let ka_ok = up.keepalive_ok;
                pc.state = State::Open;
                let open = pc.open_call.take();
                let held: Vec<_> = pc.held.drain(..).collect();
                if ka_ok {
                    if let Some(at) = pc.up.as_mut().and_then(|u| u.keepalive.start(Instant::now())) {
                        core.add_timer(at, TimerKey::Driver(timer_key(cid)));
                    }
                }
                if let Some(h) = open {
                    match message::reply_ok(&h, &()) {
                        Ok(buf) => core.reply(cid, buf, Vec::new()),
                        Err(_) => core.close_client(cid, CloseReason::Error),
                    }
                }
                for (p, fds) in held {
                    self.client_packet(core, cid, p, fds);
                }
            }
            Step::Failed(err) => {
                debug!("client {}: open failed upstream: {}", cid.idx, err.message());
                self.fail_open(core, cid, &err);
            }
        }
    }

    /// Answers the pending open and everything held with `err`; the client may try again.
    fn fail_open(&mut self, core: &mut Core, cid: ClientId, err: &RemoteError) {
        self.drop_upstream(core, cid);
        let Some(pc) = self.pc(cid) else { return };
        pc.state = State::Idle;
        let open = pc.open_call.take();
        let held: Vec<_> = pc.held.drain(..).collect();
        if let Some(h) = open {
            core.reply_error(cid, &h, err);
        }
        for (p, _) in held {
            if p.header.type_.is_call() {
                core.reply_error(cid, &p.header, &not_open());
            }
        }
    }

    fn drop_upstream(&mut self, core: &mut Core, cid: ClientId) {
        if let Some(up) = self.pc(cid).and_then(|p| p.up.take()) {
            poll::deregister_fd(&core.registry, up.conn.raw_fd());
        }
    }

    /// The daemon went away: tell a client that asked (362), fail what is in flight.
    fn upstream_died(&mut self, core: &mut Core, cid: ClientId, reason: i32, why: &str) {
        let state = self.pc(cid).map(|p| p.state);
        if state == Some(State::Opening) {
            let err = RemoteError::new(
                proto::VIR_ERR_RPC,
                proto::VIR_FROM_RPC,
                Some(&format!("the daemon closed the connection during open: {why}")),
            );
            return self.fail_open(core, cid, &err);
        }
        info!("client {}: connection to the daemon lost: {why}", cid.idx);
        self.drop_upstream(core, cid);
        let Some(pc) = self.pc(cid) else { return };
        pc.state = State::Dead;
        let inflight = std::mem::take(&mut pc.inflight);
        let notify = pc.close_cb;
        let closing = pc.closing;
        for h in inflight {
            if closing && h.proc_ == proto::REMOTE_PROC_CONNECT_CLOSE {
                if let Ok(buf) = message::reply_ok(&h, &()) {
                    core.reply(cid, buf, Vec::new());
                }
                core.close_client_after_flush(cid, CloseReason::Client);
            } else {
                core.reply_error(cid, &h, &socket_closed());
            }
        }
        if notify {
            if let Ok(buf) = message::event(
                proto::REMOTE_PROGRAM,
                proto::REMOTE_PROTOCOL_VERSION,
                proto::REMOTE_PROC_CONNECT_EVENT_CONNECTION_CLOSED,
                1,
                &ConnectionClosedMsg { reason },
            ) {
                core.send(cid, buf, Vec::new());
            }
        }
        // Unblock a client paused on our account.
        if let Some(c) = core.client_mut(cid) {
            if c.rx_paused {
                c.rx_paused = false;
                core.kick(cid);
            }
        }
    }

    fn flush_upstream(&mut self, core: &mut Core, idx: u32) {
        let Some(Some(pc)) = self.clients.get_mut(idx as usize) else { return };
        let cid = pc.cid;
        let Some(up) = pc.up.as_mut() else { return };
        if let Err(e) = up.conn.flush_and_rearm(&core.registry, poll::token(TokenKind::Aux, idx as usize)) {
            let why = crate::util::strerror(&e);
            self.upstream_died(core, cid, VIR_CONNECT_CLOSE_REASON_ERROR, &why);
        }
    }
}

impl Driver for ProxyDriver {
    fn serves(&self, prog: u32, vers: u32) -> bool {
        vers == 1 && matches!(prog, proto::REMOTE_PROGRAM | proto::QEMU_PROGRAM | proto::LXC_PROGRAM)
    }

    fn knows_proc(&self, prog: u32, proc_: i32) -> bool {
        match prog {
            proto::REMOTE_PROGRAM => proto::remote_proc_name(proc_).is_some(),
            proto::QEMU_PROGRAM => (1..=7).contains(&proc_),
            proto::LXC_PROGRAM => proc_ == 1,
            _ => false,
        }
    }

    fn client_added(&mut self, _core: &mut Core, cid: ClientId) {
        let i = cid.idx as usize;
        if self.clients.len() <= i {
            self.clients.resize_with(i + 1, || None);
        }
        self.clients[i] = Some(PClient {
            cid,
            state: State::Idle,
            up: None,
            open_call: None,
            held: VecDeque::new(),
            close_cb: false,
            inflight: Vec::new(),
            closing: false,
        });
    }

    fn client_closed(&mut self, core: &mut Core, cid: ClientId, _why: CloseReason) {
        self.drop_upstream(core, cid);
        if let Some(slot) = self.clients.get_mut(cid.idx as usize) {
            if slot.as_ref().is_some_and(|p| p.cid == cid) {
                *slot = None;
            }
        }
    }

    fn dispatch(&mut self, core: &mut Core, cid: ClientId, pkt: Packet, fds: Vec<OwnedFd>) {
        self.client_packet(core, cid, pkt, fds);
        let up_full = self.pc(cid).and_then(|p| p.up.as_ref()).is_some_and(|u| u.conn.tx_bytes() > HIGH_WATER);
        if up_full {
            if let Some(c) = core.client_mut(cid) {
                c.rx_paused = true;
            }
        }
    }

    fn aux_event(&mut self, core: &mut Core, index: usize, readable: bool, writable: bool) {
        let idx = index as u32;
        if writable {
            self.flush_upstream(core, idx);
        }
        if readable {
            self.upstream_readable(core, idx);
        }
    }

    fn timer(&mut self, core: &mut Core, key: u64) {
        let cid = ClientId { idx: (key >> 32) as u32, gen: key as u32 };
        let Some(up) = self.pc(cid).and_then(|p| p.up.as_mut()) else { return };
        match up.keepalive.on_timer(Instant::now()) {
            Action::Wait(at) => core.add_timer(at, TimerKey::Driver(key)),
            Action::Ping(at) => {
                let was_empty = up.conn.tx_is_empty();
                up.conn.queue(message::ping(), Vec::new());
                if was_empty {
                    self.dirty.push(cid.idx);
                }
                core.add_timer(at, TimerKey::Driver(key));
            }
            Action::Dead => self.upstream_died(core, cid, VIR_CONNECT_CLOSE_REASON_KEEPALIVE, "keepalive timeout"),
            Action::Idle => {}
        }
    }

    fn after_batch(&mut self, core: &mut Core) {
        // Lift pauses whose other side has drained.
        if !self.paused.is_empty() {
            let paused = std::mem::take(&mut self.paused);
            for idx in paused {
                let Some(Some(pc)) = self.clients.get_mut(idx as usize) else { continue };
                let cid = pc.cid;
                let up_tx = pc.up.as_ref().map(|u| u.conn.tx_bytes()).unwrap_or(0);
                let up_paused = pc.up.as_ref().is_some_and(|u| u.paused);
                let client_tx = core.client(cid).map(|c| c.tx_bytes()).unwrap_or(0);
                let client_paused = core.client(cid).is_some_and(|c| c.rx_paused);
                let mut still = false;
                if client_paused && !resume_client_if_drained(core, cid, up_tx) {
                    still = true;
                }
                if up_paused {
                    if client_tx < LOW_WATER {
                        if let Some(u) = self.pc(cid).and_then(|p| p.up.as_mut()) {
                            u.paused = false;
                        }
                        self.upstream_readable(core, idx);
                    } else {
                        still = true;
                    }
                }
                if still {
                    self.paused.push(idx);
                }
            }
        }
        while !self.dirty.is_empty() {
            let dirty = std::mem::take(&mut self.dirty);
            for idx in dirty {
                self.flush_upstream(core, idx);
            }
        }
    }

    fn shutdown(&mut self, core: &mut Core) {
        for i in 0..self.clients.len() {
            if let Some(cid) = self.clients[i].as_ref().map(|p| p.cid) {
                self.drop_upstream(core, cid);
            }
        }
        self.clients.clear();
    }
}

/// Lets a client whose reading was paused (its upstream backed up) read again once the
/// upstream's queue is below LOW_WATER. Returns false when it must stay paused.
pub(crate) fn resume_client_if_drained(core: &mut Core, cid: ClientId, up_tx: usize) -> bool {
    if up_tx >= LOW_WATER {
        return false;
    }
    if let Some(c) = core.client_mut(cid) {
        c.rx_paused = false;
    }
    core.kick(cid);
    true
}
