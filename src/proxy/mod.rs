//! virtproxyd's programs: REMOTE, QEMU and LXC relayed to the daemon each client's URI
//! names, one relay link per client (what libvirt's remote/remote_daemon_dispatch.c does in
//! its virtproxyd build, without decoding calls).
//!
//! Answered here: the AUTH_* procedures, CONNECT_OPEN (resolve the URI, open the link),
//! CONNECT_SUPPORTS_FEATURE for the features a server answers itself, the close callback
//! (360/361, and 362 when the daemon goes away), CONNECT_SET_IDENTITY of a client that may
//! not set one. Every other packet goes through the relay (`remote::relay`) verbatim.

use std::os::fd::OwnedFd;

use log::debug;

use crate::poll::Readiness;
use crate::remote::auth::{self, Auth};
use crate::remote::protocol::*;
use crate::remote::relay::{LinkKey, LinkState, OpenSpec, Relay, RelayEvent};
use crate::remote::sockets;
use crate::rpc::client::CloseReason;
use crate::rpc::message::{self, Packet};
use crate::rpc::netclient::OpenRequest;
use crate::rpc::netdaemon::{ClientId, Core};
use crate::rpc::program::{self, answer, Lookup, Program, ProgramId};
use crate::rpc::protocol::{self as proto, Header, RemoteError};
use crate::util::paths::Env;

/// The aux/timer tag of the relay's sources.
const RELAY_TAG: u8 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// No CONNECT_OPEN yet (or the last one failed).
    Idle,
    /// The link is opening; client packets are held.
    Opening,
    Open,
    /// The daemon went away; the client stays until it closes.
    Dead,
}

struct PClient {
    cid: ClientId,
    state: State,
    /// The client's CONNECT_OPEN, answered when the link opens.
    open_call: Option<Header>,
    close_cb: bool,
}

pub struct ProxyProgram {
    clients: Vec<Option<PClient>>,
    env: Env,
    privileged: bool,
    auth: Auth,
    relay: Relay,
}

fn not_open() -> RemoteError {
    program::internal(proto::VIR_FROM_RPC, "hypervisor connection not open")
}

fn socket_closed() -> RemoteError {
    program::internal(proto::VIR_FROM_RPC, "client socket is closed")
}

/// What calls in flight get when the daemon goes away: a libvirt client's own error for a
/// connection that closed under it.
fn lost(_key: &LinkKey, _why: &str) -> RemoteError {
    socket_closed()
}

fn key(cid: ClientId) -> LinkKey {
    LinkKey { cid, family: 0 }
}

impl ProxyProgram {
    pub fn new(privileged: bool, env: Env, auth: Auth, ka_interval: i32, ka_count: u32) -> ProxyProgram {
        ProxyProgram { clients: Vec::new(), env, privileged, auth, relay: Relay::new(0, RELAY_TAG, ka_interval, ka_count, lost) }
    }

    fn pc(&mut self, cid: ClientId) -> Option<&mut PClient> {
        self.clients.get_mut(cid.idx as usize)?.as_mut().filter(|p| p.cid == cid)
    }

    fn state(&mut self, cid: ClientId) -> State {
        self.pc(cid).map(|p| p.state).unwrap_or(State::Dead)
    }

    // C: remoteDispatchConnectOpen
    fn open(&mut self, core: &mut Core, cid: ClientId, pkt: Packet) {
        let Some(client) = core.client(cid) else { return };
        let identity = client.identity.clone();
        let client_ro = client.readonly;
        if self.state(cid) != State::Idle {
            return core.reply_error(cid, &pkt.header, &program::internal(proto::VIR_FROM_RPC, "connection already open"));
        }
        let args: ConnectOpenArgs = match program::args(&pkt) {
            Ok(a) => a,
            Err(e) => return core.reply_error(cid, &pkt.header, &e),
        };
        let readonly = client_ro || args.flags & VIR_CONNECT_RO != 0;
        let name = args.name.unwrap_or_default();
        let target = if name.is_empty() {
            match sockets::probe(readonly, self.privileged, &self.env, &|p| p.exists()) {
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
            match sockets::resolve(&name, readonly, self.privileged, &self.env) {
                Ok(t) => t,
                Err(e) => {
                    let code = match e {
                        sockets::UriError::Malformed(_) => proto::VIR_ERR_INVALID_ARG,
                        sockets::UriError::Remote(_) | sockets::UriError::InProcess(_) => proto::VIR_ERR_OPERATION_UNSUPPORTED,
                        _ => proto::VIR_ERR_NO_CONNECT,
                    };
                    let err = RemoteError::new(code, proto::VIR_FROM_REMOTE, Some(&e.to_string()));
                    return core.reply_error(cid, &pkt.header, &err);
                }
            }
        };
        debug!("client {}: opening {} via {}", cid.idx, target.uri, target.socket.display());
        let request = OpenRequest { uri: target.uri.clone(), flags: if readonly { VIR_CONNECT_RO } else { 0 }, identity };
        if let Err(e) = self.relay.open(core, key(cid), OpenSpec { socket: target.socket, request }) {
            return core.reply_error(cid, &pkt.header, &e);
        }
        if let Some(c) = core.client_mut(cid) {
            c.readonly = readonly;
        }
        if let Some(pc) = self.pc(cid) {
            pc.state = State::Opening;
            pc.open_call = Some(pkt.header);
        }
    }

    // C: remoteDispatchConnectSupportsFeature
    fn supports_feature(&mut self, core: &mut Core, cid: ClientId, pkt: Packet, fds: Vec<OwnedFd>) {
        let args: SupportsFeatureArgs = match program::args(&pkt) {
            Ok(a) => a,
            Err(e) => return core.reply_error(cid, &pkt.header, &e),
        };
        if args.feature == VIR_DRV_FEATURE_PROGRAM_KEEPALIVE {
            core.start_keepalive(cid);
            return answer(core, cid, &pkt, Ok(SupportsFeatureRet { supported: 1 }));
        }
        match self.state(cid) {
            State::Idle => core.reply_error(cid, &pkt.header, &not_open()),
            State::Dead => core.reply_error(cid, &pkt.header, &socket_closed()),
            State::Opening => self.relay.hold(core, &key(cid), pkt, fds),
            State::Open => match args.feature {
                VIR_DRV_FEATURE_FD_PASSING | VIR_DRV_FEATURE_REMOTE_EVENT_CALLBACK | VIR_DRV_FEATURE_REMOTE_CLOSE_CALLBACK => {
                    answer(core, cid, &pkt, Ok(SupportsFeatureRet { supported: 1 }))
                }
                _ => self.relay.forward(core, &key(cid), pkt, fds),
            },
        }
    }

    // C: remoteDispatchConnectRegisterCloseCallback / UnregisterCloseCallback
    fn close_callback(&mut self, core: &mut Core, cid: ClientId, pkt: Packet, register: bool) {
        match self.state(cid) {
            State::Open => {
                if let Some(pc) = self.pc(cid) {
                    pc.close_cb = register;
                }
                answer(core, cid, &pkt, Ok(()));
            }
            State::Opening => self.relay.hold(core, &key(cid), pkt, Vec::new()),
            State::Idle => core.reply_error(cid, &pkt.header, &not_open()),
            State::Dead => core.reply_error(cid, &pkt.header, &socket_closed()),
        }
    }

    /// A client's own identity claim is never relayed: the daemon behind us learns the
    /// identity we established at open. Only root (a trusted proxy in front of us, as
    /// libvirt chains its daemons) may pass one on.
    // C: remoteDispatchConnectSetIdentity
    fn set_identity(&mut self, core: &mut Core, cid: ClientId, pkt: Packet, fds: Vec<OwnedFd>) {
        let root = core.client(cid).is_some_and(|c| c.identity.uid == Some(0));
        if !root {
            let e = RemoteError::new(proto::VIR_ERR_OPERATION_DENIED, proto::VIR_FROM_RPC, Some("Only root can change the identity"));
            return core.reply_error(cid, &pkt.header, &e);
        }
        self.route(core, cid, pkt, fds);
    }

    fn client_packet(&mut self, core: &mut Core, cid: ClientId, pkt: Packet, fds: Vec<OwnedFd>) {
        let h = pkt.header;
        if h.type_.is_call() && h.prog == proto::REMOTE_PROGRAM {
            match h.proc_ {
                p if auth::is_auth_proc(p) => return self.auth.dispatch(core, cid, pkt),
                proto::REMOTE_PROC_CONNECT_OPEN => return self.open(core, cid, pkt),
                proto::REMOTE_PROC_CONNECT_SUPPORTS_FEATURE => return self.supports_feature(core, cid, pkt, fds),
                proto::REMOTE_PROC_CONNECT_REGISTER_CLOSE_CALLBACK => return self.close_callback(core, cid, pkt, true),
                proto::REMOTE_PROC_CONNECT_UNREGISTER_CLOSE_CALLBACK => return self.close_callback(core, cid, pkt, false),
                proto::REMOTE_PROC_CONNECT_SET_IDENTITY => return self.set_identity(core, cid, pkt, fds),
                proto::REMOTE_PROC_CONNECT_CLOSE => match self.state(cid) {
                    State::Open => {
                        self.relay.close_after_reply(&key(cid));
                        return self.relay.forward(core, &key(cid), pkt, fds);
                    }
                    State::Opening => {}
                    State::Idle | State::Dead => {
                        answer(core, cid, &pkt, Ok(()));
                        core.close_client_after_flush(cid, CloseReason::Client);
                        return;
                    }
                },
                _ => {}
            }
        }
        self.route(core, cid, pkt, fds);
    }

    /// Everything else: relayed when open, held while opening, refused otherwise.
    fn route(&mut self, core: &mut Core, cid: ClientId, pkt: Packet, fds: Vec<OwnedFd>) {
        let h = pkt.header;
        let state = self.state(cid);
        if state != State::Open && h.type_.is_call() && !self.knows_proc(h.prog, h.proc_) {
            return core.reply_error(cid, &h, &program::unknown_proc(h.proc_));
        }
        match state {
            State::Open => self.relay.forward(core, &key(cid), pkt, fds),
            State::Opening => self.relay.hold(core, &key(cid), pkt, fds),
            State::Idle if h.type_.is_call() => core.reply_error(cid, &h, &not_open()),
            State::Dead if h.type_.is_call() => core.reply_error(cid, &h, &socket_closed()),
            _ => debug!("client {}: dropping {:?} packet on a connection that is not open", cid.idx, h.type_),
        }
    }

    fn knows_proc(&self, prog: u32, proc_: i32) -> bool {
        match prog {
            proto::REMOTE_PROGRAM => proto::remote_proc_name(proc_).is_some(),
            proto::QEMU_PROGRAM => (1..=7).contains(&proc_),
            proto::LXC_PROGRAM => proc_ == 1,
            _ => false,
        }
    }

    /// What the relay reported during the batch.
    fn relay_events(&mut self, core: &mut Core) {
        for ev in self.relay.take_events() {
            match ev {
                RelayEvent::Opened { key, held } => {
                    let cid = key.cid;
                    let Some(pc) = self.pc(cid) else { continue };
                    pc.state = State::Open;
                    if let Some(h) = pc.open_call.take() {
                        match message::reply_ok(&h, &()) {
                            Ok(buf) => core.reply(cid, buf, Vec::new()),
                            Err(_) => core.close_client(cid, CloseReason::Error),
                        }
                    }
                    for (p, fds) in held {
                        self.client_packet(core, cid, p, fds);
                    }
                }
                RelayEvent::OpenFailed { key, err, held } => {
                    let cid = key.cid;
                    debug!("client {}: open failed upstream: {}", cid.idx, err.message());
                    let Some(pc) = self.pc(cid) else { continue };
                    pc.state = State::Idle;
                    if let Some(h) = pc.open_call.take() {
                        core.reply_error(cid, &h, &err);
                    }
                    for (p, _) in held {
                        if p.header.type_.is_call() {
                            core.reply_error(cid, &p.header, &not_open());
                        }
                    }
                }
                RelayEvent::Died { key, reason, .. } => {
                    let cid = key.cid;
                    let Some(pc) = self.pc(cid) else { continue };
                    pc.state = State::Dead;
                    if pc.close_cb {
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
                }
            }
        }
    }
}

impl Program for ProxyProgram {
    fn ids(&self) -> &[(u32, u32)] {
        &[(proto::REMOTE_PROGRAM, 1), (proto::QEMU_PROGRAM, 1), (proto::LXC_PROGRAM, 1)]
    }

    fn registered(&mut self, id: ProgramId) {
        self.relay.set_owner(id);
    }

    fn lookup(&self, prog: u32, proc_: i32) -> Lookup {
        match prog {
            proto::REMOTE_PROGRAM => auth::lookup(proc_),
            _ if self.knows_proc(prog, proc_) => Lookup::Auth,
            _ => Lookup::Unknown,
        }
    }

    fn client_added(&mut self, _core: &mut Core, cid: ClientId) -> bool {
        let i = cid.idx as usize;
        if self.clients.len() <= i {
            self.clients.resize_with(i + 1, || None);
        }
        self.clients[i] = Some(PClient { cid, state: State::Idle, open_call: None, close_cb: false });
        true
    }

    fn client_closed(&mut self, core: &mut Core, cid: ClientId, _why: CloseReason) {
        self.relay.drop_client(core, cid);
        if let Some(slot) = self.clients.get_mut(cid.idx as usize) {
            if slot.as_ref().is_some_and(|p| p.cid == cid) {
                *slot = None;
            }
        }
    }

    fn dispatch(&mut self, core: &mut Core, cid: ClientId, pkt: Packet, fds: Vec<OwnedFd>) {
        self.client_packet(core, cid, pkt, fds);
        self.relay_events(core);
    }

    fn aux_event(&mut self, core: &mut Core, _tag: u8, index: usize, r: Readiness) {
        self.relay.aux_event(core, index, r);
        self.relay_events(core);
    }

    fn timer(&mut self, core: &mut Core, _tag: u8, n: u64) {
        self.relay.timer(core, n);
        self.relay_events(core);
    }

    fn after_batch(&mut self, core: &mut Core) {
        // Routing held packets of a link that just opened queues more output: go round.
        for _ in 0..16 {
            self.relay.after_batch(core);
            self.relay_events(core);
            if !self.relay.has_work() {
                break;
            }
        }
    }

    fn shutdown(&mut self, core: &mut Core) {
        self.relay.shutdown(core);
        self.clients.clear();
    }
}

/// Whether the proxy has a link open for the client (tests, diagnostics).
pub fn link_state(p: &ProxyProgram, cid: ClientId) -> Option<LinkState> {
    p.relay.state(&key(cid))
}
