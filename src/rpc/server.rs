//! A named server: its clients, the programs registered with it, its limits, keepalive
//! settings and worker pool; accepting clients and handing each message to its program
//! (libvirt's rpc/virnetserver.c). Both daemons have two: the main one, named after the
//! daemon, and "admin" for virt-admin.

use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};

use log::{debug, info, warn};

use crate::poll::{self, TokenKind};
use crate::rpc::client::{Client, CloseReason};
use crate::rpc::keepalive::KeepAlive;
use crate::rpc::message::{self, Packet};
use crate::rpc::netdaemon::{ClientId, Core, TimerKey};
use crate::rpc::program::{self, Lookup, Program, ProgramId};
use crate::rpc::protocol::{self as proto, MessageType};
use crate::rpc::service::Transport;
use crate::rpc::socket::Stream;
use crate::rpc::threadpool::{PoolError, ThreadPool};

/// After accept(2) fails for lack of descriptors, try again this much later (the edge that
/// announced the waiting connections has passed).
const ACCEPT_RETRY: Duration = Duration::from_millis(200);

struct Slot {
    gen: u32,
    client: Option<Client>,
}

pub struct NetServer {
    pub name: String,
    /// The programs registered with this server (indexes into the daemon's program table).
    pub programs: Vec<ProgramId>,
    slots: Vec<Slot>,
    free: Vec<u32>,
    pub nclients: usize,
    pub nclients_unauth: usize,
    pub nclients_max: usize,
    /// 0 = no limit on clients waiting for authentication.
    pub nclients_unauth_max: usize,
    pub keepalive_interval: i32,
    pub keepalive_count: u32,
    pub pool: ThreadPool,
    /// The listeners of this server are not being accepted on (limits reached).
    pub accept_paused: bool,
    pub next_client_id: u64,
}

pub struct ServerLimits {
    pub max_clients: usize,
    pub max_anonymous_clients: usize,
    pub keepalive_interval: i32,
    pub keepalive_count: u32,
    pub min_workers: usize,
    pub max_workers: usize,
    pub prio_workers: usize,
}

impl NetServer {
    // C: virNetServerNew
    pub fn new(name: &str, l: &ServerLimits) -> Result<NetServer, PoolError> {
        Ok(NetServer {
            name: name.to_string(),
            programs: Vec::new(),
            slots: Vec::new(),
            free: Vec::new(),
            nclients: 0,
            nclients_unauth: 0,
            nclients_max: l.max_clients,
            nclients_unauth_max: l.max_anonymous_clients,
            keepalive_interval: l.keepalive_interval,
            keepalive_count: l.keepalive_count,
            pool: ThreadPool::new(name, l.min_workers, l.max_workers, l.prio_workers)?,
            accept_paused: false,
            next_client_id: 1,
        })
    }

    /// New connections must wait (libvirt disables the listeners rather than reject).
    // C: virNetServerCheckLimits
    pub fn at_limit(&self) -> bool {
        self.nclients >= self.nclients_max || (self.nclients_unauth_max > 0 && self.nclients_unauth >= self.nclients_unauth_max)
    }

    pub fn client(&self, idx: u32, gen: u32) -> Option<&Client> {
        self.slots.get(idx as usize).filter(|s| s.gen == gen).and_then(|s| s.client.as_ref())
    }

    pub fn client_mut(&mut self, idx: u32, gen: u32) -> Option<&mut Client> {
        self.slots.get_mut(idx as usize).filter(|s| s.gen == gen).and_then(|s| s.client.as_mut())
    }

    /// The live client in a slot, with its generation.
    pub fn client_at(&self, idx: usize) -> Option<(u32, &Client)> {
        self.slots.get(idx).and_then(|s| s.client.as_ref().map(|c| (s.gen, c)))
    }

    /// Every live client: (slot, generation, client).
    pub fn clients(&self) -> impl Iterator<Item = (u32, u32, &Client)> {
        self.slots.iter().enumerate().filter_map(|(i, s)| s.client.as_ref().map(|c| (i as u32, s.gen, c)))
    }

    fn insert(&mut self, client: Client) -> (u32, u32) {
        let idx = match self.free.pop() {
            Some(i) => i as usize,
            None => {
                self.slots.push(Slot { gen: 0, client: None });
                self.slots.len() - 1
            }
        };
        self.slots[idx].client = Some(client);
        (idx as u32, self.slots[idx].gen)
    }

    fn remove(&mut self, idx: u32, gen: u32) -> Option<Client> {
        let slot = self.slots.get_mut(idx as usize).filter(|s| s.gen == gen)?;
        let client = slot.client.take()?;
        slot.gen = slot.gen.wrapping_add(1);
        self.free.push(idx);
        Some(client)
    }
}

impl Core {
    pub fn client(&self, cid: ClientId) -> Option<&Client> {
        self.servers.get(cid.srv as usize)?.client(cid.idx, cid.gen)
    }

    pub fn client_mut(&mut self, cid: ClientId) -> Option<&mut Client> {
        self.servers.get_mut(cid.srv as usize)?.client_mut(cid.idx, cid.gen)
    }

    /// Every live client of every server, with its id.
    pub fn clients(&self) -> impl Iterator<Item = (ClientId, &Client)> {
        self.servers
            .iter()
            .enumerate()
            .flat_map(|(srv, s)| s.clients().map(move |(idx, gen, c)| (ClientId { srv: srv as u16, idx, gen }, c)))
    }

    pub fn client_count(&self) -> usize {
        self.servers.iter().map(|s| s.nclients).sum()
    }

    pub fn server_index(&self, name: &str) -> Option<usize> {
        self.servers.iter().position(|s| s.name == name)
    }

    /// The client passed authentication: it no longer counts as anonymous.
    // C: virNetServerSetClientAuthenticated
    pub fn set_authenticated(&mut self, cid: ClientId) {
        let Some(c) = self.client_mut(cid) else { return };
        if c.authenticated {
            return;
        }
        c.authenticated = true;
        c.sasl = None;
        let srv = &mut self.servers[cid.srv as usize];
        srv.nclients_unauth = srv.nclients_unauth.saturating_sub(1);
        self.accept_resume.push(cid.srv as usize);
    }

    /// A server's client limits changed (admin SERVER_SET_CLIENT_LIMITS): if it is now below
    /// them, accept the connections that waited, after the current batch.
    // C: virNetServerCheckLimits
    pub fn check_limits(&mut self, server: usize) {
        self.accept_resume.push(server);
    }
}

/// Accepts every pending connection of a listener while the server is below its limits.
// C: virNetServerServiceAccept + virNetServerAddClient
pub fn accept_on(core: &mut Core, progs: &mut [Box<dyn Program>], li: usize) {
    let Some(slot) = core.listeners.get(li) else { return };
    let service = slot.service;
    let server = core.services[service].server;
    loop {
        if core.servers[server].at_limit() {
            if !core.servers[server].accept_paused {
                info!("Temporarily suspending services of server {}", core.servers[server].name);
                core.servers[server].accept_paused = true;
            }
            return;
        }
        let stream = match core.listeners[li].listener.accept() {
            Ok(Some(s)) => s,
            Ok(None) => return,
            Err(e) => {
                let out_of_fds = matches!(e.raw_os_error(), Some(libc::EMFILE) | Some(libc::ENFILE) | Some(libc::ENOBUFS));
                crate::util::ratelimit::client_warn(format_args!("accept failed: {}", crate::util::strerror(&e)));
                if out_of_fds {
                    core.timers.add(Instant::now() + ACCEPT_RETRY, TimerKey::AcceptRetry(li));
                }
                return;
            }
        };
        add_client(core, progs, service, stream);
    }
}

fn add_client(core: &mut Core, progs: &mut [Box<dyn Program>], service: usize, stream: Stream) {
    let svc = &core.services[service];
    let tls_ctx = if svc.transport == Transport::Tls { core.tls.clone() } else { None };
    let stream = match &tls_ctx {
        None => stream,
        Some(ctx) => match stream.into_tcp().map(|tcp| ctx.new_session(tcp)) {
            Ok(Ok(t)) => Stream::Tls(Box::new(t)),
            Ok(Err(e)) => {
                warn!("cannot start a TLS session: {e}");
                return;
            }
            Err(_) => {
                warn!("TLS service accepted a non-TCP connection");
                return;
            }
        },
    };
    let server = svc.server;
    let srv = &mut core.servers[server];
    let id = srv.next_client_id;
    srv.next_client_id += 1;
    let ka = KeepAlive::new(srv.keepalive_interval, srv.keepalive_count);
    let mut client = Client::new(id, server, service, svc.transport, stream, svc.readonly, svc.auth, svc.nrequests_client_max, ka);
    let handshaking = tls_ctx.is_some();
    client.tls_ctx = tls_ctx;
    let fd = client.io.raw_fd();
    let authenticated = client.authenticated;
    let auth_timeout = client.auth_timeout();
    let (idx, gen) = srv.insert(client);
    let cid = ClientId { srv: server as u16, idx, gen };
    if let Err(e) = poll::register_fd(&core.registry, fd, poll::token(TokenKind::Client, server as u8, 0, idx as usize)) {
        warn!("cannot watch new client: {e}");
        core.servers[server].remove(idx, gen);
        return;
    }
    let srv = &mut core.servers[server];
    srv.nclients += 1;
    if !authenticated {
        srv.nclients_unauth += 1;
    }
    debug!("client {} connected to server {}", id, srv.name);
    let now = Instant::now();
    if handshaking {
        core.timers.add(now + crate::rpc::tls::TLS_HANDSHAKE_TIMEOUT, TimerKey::TlsHandshake(cid));
    }
    if !authenticated {
        core.timers.add(now + auth_timeout, TimerKey::AuthTimeout(cid));
    }
    for &p in &core.servers[server].programs.clone() {
        if !progs[p as usize].client_added(core, cid) {
            core.close_client(cid, CloseReason::Auth);
            return;
        }
    }
}

/// The program a packet is for, among those registered with the client's server.
fn find_program(core: &Core, progs: &[Box<dyn Program>], cid: ClientId, prog: u32, vers: u32) -> Option<ProgramId> {
    core.servers[cid.srv as usize].programs.iter().copied().find(|&p| progs[p as usize].ids().contains(&(prog, vers)))
}

/// Routes one received packet: keepalive is answered here, everything else goes to the
/// program it names, calls counted against the client's request limit and checked for
/// authentication first.
// C: virNetServerProcessMsg + virNetServerProgramDispatch
pub fn process_msg(core: &mut Core, progs: &mut [Box<dyn Program>], cid: ClientId, pkt: Packet, fds: Vec<OwnedFd>) {
    let now = Instant::now();
    let Some(c) = core.client_mut(cid) else { return };
    c.keepalive.on_packet(now);
    c.last_rx = Some(now);
    let authenticated = c.authenticated;
    let h = pkt.header;
    let is_call = matches!(h.type_, MessageType::Call | MessageType::CallWithFds);

    // Keepalive packets are answered here and never dispatched, before auth too.
    // C: virKeepAliveCheckMessage
    if h.prog == proto::KEEPALIVE_PROGRAM {
        if h.vers == proto::KEEPALIVE_PROTOCOL_VERSION && h.type_ == MessageType::Message && h.proc_ == proto::KEEPALIVE_PROC_PING {
            core.send(cid, message::pong(), Vec::new());
        }
        return;
    }
    let Some(pid) = find_program(core, progs, cid, h.prog, h.vers) else {
        if is_call {
            if let Some(c) = core.client_mut(cid) {
                c.call_started();
            }
            core.reply_error(cid, &h, &program::unknown_program(h.prog, h.vers));
        } else {
            debug!("dropping packet for unknown program {} version {}", h.prog, h.vers);
        }
        return;
    };
    let prog = &mut progs[pid as usize];
    if !is_call {
        if authenticated {
            prog.dispatch(core, cid, pkt, fds);
        } else {
            debug!("dropping non-call packet from unauthenticated client");
        }
        return;
    }
    if let Some(c) = core.client_mut(cid) {
        c.call_started();
    }
    if h.status != proto::MessageStatus::Ok {
        core.reply_error(cid, &h, &program::unexpected_status(pkt.status_word()));
        return;
    }
    // C: virNetServerProgramDispatchCall (needAuth)
    if !authenticated {
        match prog.lookup(h.prog, h.proc_) {
            Lookup::Unknown => return core.reply_error(cid, &h, &program::unknown_proc(h.proc_)),
            Lookup::Auth => return core.reply_error(cid, &h, &program::auth_required()),
            Lookup::NoAuth => {}
        }
    }
    prog.dispatch(core, cid, pkt, fds);
}

/// Removes the clients closed during the batch, telling their programs first.
// C: virNetServerProcessClients
pub fn process_clients(core: &mut Core, progs: &mut [Box<dyn Program>]) {
    while !core.closing.is_empty() {
        for cid in std::mem::take(&mut core.closing) {
            let Some(why) = core.client(cid).and_then(|c| c.closed) else { continue };
            for &p in &core.servers[cid.srv as usize].programs.clone() {
                progs[p as usize].client_closed(core, cid, why);
            }
            remove_client(core, cid);
        }
    }
}

fn remove_client(core: &mut Core, cid: ClientId) {
    let srv = &mut core.servers[cid.srv as usize];
    let Some(client) = srv.remove(cid.idx, cid.gen) else { return };
    poll::deregister_fd(&core.registry, client.io.raw_fd());
    srv.nclients = srv.nclients.saturating_sub(1);
    if !client.authenticated {
        srv.nclients_unauth = srv.nclients_unauth.saturating_sub(1);
    }
    if client.io.stray_fds > 0 {
        debug!("client {} had sent {} file descriptors no packet asked for", client.id, client.io.stray_fds);
    }
    debug!("client {} of server {} closed ({:?})", client.id, srv.name, client.closed);
    core.accept_resume.push(cid.srv as usize);
}

/// Accepts connections that waited while a server was at its limits: their readiness edge
/// has passed, so accept right away.
// C: virNetServerUpdateServicesLocked
pub fn resume_accepting(core: &mut Core, progs: &mut [Box<dyn Program>]) {
    let mut servers = std::mem::take(&mut core.accept_resume);
    servers.sort_unstable();
    servers.dedup();
    for server in servers {
        if !core.servers[server].accept_paused || core.servers[server].at_limit() {
            continue;
        }
        info!("Re-enabling services");
        core.servers[server].accept_paused = false;
        for li in 0..core.listeners.len() {
            if core.services[core.listeners[li].service].server == server {
                accept_on(core, progs, li);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max: usize, unauth: usize) -> ServerLimits {
        ServerLimits {
            max_clients: max,
            max_anonymous_clients: unauth,
            keepalive_interval: 5,
            keepalive_count: 5,
            min_workers: 1,
            max_workers: 1,
            prio_workers: 0,
        }
    }

    #[test]
    fn at_limit_counts_all_clients() {
        let mut s = NetServer::new("t", &limits(2, 0)).unwrap();
        s.nclients = 1;
        assert!(!s.at_limit());
        s.nclients = 2;
        assert!(s.at_limit());
    }

    #[test]
    fn at_limit_counts_unauthenticated_clients() {
        let mut s = NetServer::new("t", &limits(10, 1)).unwrap();
        s.nclients = 1;
        s.nclients_unauth = 1;
        assert!(s.at_limit());
        s.nclients_unauth_max = 0;
        assert!(!s.at_limit());
    }
}
