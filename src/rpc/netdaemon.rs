//! The daemon object and its event loop: servers, services, the client table, signals,
//! timers and worker completions (libvirt's rpc/virnetdaemon.c and the event-handling half
//! of rpc/virnetserver.c and rpc/virnetserverclient.c).
//!
//! One thread runs `NetDaemon::run`. A `Driver` supplies the daemon-specific programs
//! (REMOTE/QEMU/LXC for the main server); keepalive, authentication and the admin program
//! are served here for both daemons.

use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use log::{debug, info, warn};
use mio::{Events, Poll, Registry};

use crate::poll::{self, SignalPipe, Timers, TokenKind};
use crate::rpc::client::{Client, CloseReason, ReadOutcome, TlsProgress};
use crate::rpc::keepalive::Action;
use crate::rpc::message::{self, Packet};
use crate::rpc::program;
use crate::rpc::protocol::{self as proto, Header, MessageType, RemoteError};
use crate::rpc::server::Server;
use crate::rpc::service::{ListenerSlot, Service};

/// A client's place in the table; the generation tells a reused slot from the old client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClientId {
    pub idx: u32,
    pub gen: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TimerKey {
    Keepalive(ClientId),
    /// A TLS client that has not finished its handshake by then is dropped.
    TlsHandshake(ClientId),
    AutoShutdown,
    /// A timer of the driver's own, with its own meaning of the number.
    Driver(u64),
}

/// What the daemon runs on SIGHUP before the driver's own reload.
pub type ReloadHook = Box<dyn FnMut(&mut Core)>;

/// Work handed back to the loop thread by a worker.
pub type Completion = Box<dyn FnOnce(&mut Core, &mut dyn Driver) + Send + 'static>;

/// The daemon-specific part: the programs of the main server and anything the daemon
/// watches besides its clients.
pub trait Driver {
    /// Whether this program/version is served on the main server.
    fn serves(&self, prog: u32, vers: u32) -> bool;

    /// Whether a procedure number exists (answers "unknown procedure" before auth).
    fn knows_proc(&self, _prog: u32, _proc: i32) -> bool {
        true
    }

    /// A packet of one of the driver's programs from an authenticated client. Every CALL
    /// must eventually be answered through `Core::reply` or `Core::reply_error`.
    fn dispatch(&mut self, core: &mut Core, cid: ClientId, pkt: Packet, fds: Vec<OwnedFd>);

    fn client_added(&mut self, _core: &mut Core, _cid: ClientId) {}

    /// The client is going away; drop whatever the driver holds for it.
    fn client_closed(&mut self, _core: &mut Core, _cid: ClientId, _why: CloseReason) {}

    /// Readiness of a source the driver registered with `TokenKind::Aux`.
    fn aux_event(&mut self, _core: &mut Core, _index: usize, _readable: bool, _writable: bool) {}

    fn timer(&mut self, _core: &mut Core, _key: u64) {}

    /// Called after each batch of events, before client output is flushed.
    fn after_batch(&mut self, _core: &mut Core) {}

    /// SIGHUP.
    fn reload(&mut self, _core: &mut Core) {}

    /// Work that must keep the daemon alive despite --timeout (virtxend: running domains).
    fn inhibits_shutdown(&self) -> bool {
        false
    }

    /// Re-read TLS credentials (admin SERVER_UPDATE_TLS_FILES, SIGHUP); Err(text) on failure.
    fn update_tls(&mut self, _core: &mut Core, _server: &str) -> Result<(), RemoteError> {
        Ok(())
    }

    fn shutdown(&mut self, _core: &mut Core) {}
}

struct Slot {
    gen: u32,
    client: Option<Client>,
}

/// Everything the handlers may touch; the driver is kept apart so both can be borrowed.
pub struct Core {
    pub registry: Registry,
    pub servers: Vec<Server>,
    pub services: Vec<Service>,
    pub listeners: Vec<ListenerSlot>,
    slots: Vec<Slot>,
    free: Vec<u32>,
    pub timers: Timers<TimerKey>,
    dirty: Vec<ClientId>,
    kicked: Vec<ClientId>,
    closing: Vec<ClientId>,
    completions: Arc<Mutex<Vec<Completion>>>,
    waker: Arc<mio::Waker>,
    quit: bool,
    auto_shutdown: Option<Duration>,
    auto_shutdown_at: Option<Instant>,
    /// When the loop has been idle long enough to give memory back (util::memtrim).
    trim_at: Option<Instant>,
    scratch: Vec<u8>,
    pub daemon_name: String,
    pub privileged: bool,
    /// Hook run on SIGHUP before the driver's (the daemon re-reads its logging settings).
    pub reload_hook: Option<ReloadHook>,
    /// Servers that may have dropped below their limits: accept again on their listeners.
    accept_resume: Vec<usize>,
    /// The TLS context new clients of TLS services get (replaced on reload).
    pub tls: Option<Arc<crate::rpc::tls::TlsContext>>,
    /// SASL settings for services with auth "sasl".
    pub sasl: Option<Arc<crate::rpc::sasl::SaslConfig>>,
}

/// Hands completions from worker threads back to the loop.
#[derive(Clone)]
pub struct Completer {
    queue: Arc<Mutex<Vec<Completion>>>,
    waker: Arc<mio::Waker>,
}

impl Completer {
    pub fn complete(&self, c: Completion) {
        self.queue.lock().unwrap_or_else(|p| p.into_inner()).push(c);
        let _ = self.waker.wake();
    }
}

const SCRATCH: usize = 64 * 1024;

impl Core {
    pub fn client(&self, cid: ClientId) -> Option<&Client> {
        let s = self.slots.get(cid.idx as usize)?;
        if s.gen == cid.gen {
            s.client.as_ref()
        } else {
            None
        }
    }

    pub fn client_mut(&mut self, cid: ClientId) -> Option<&mut Client> {
        let s = self.slots.get_mut(cid.idx as usize)?;
        if s.gen == cid.gen {
            s.client.as_mut()
        } else {
            None
        }
    }

    fn cid_at(&self, idx: usize) -> Option<ClientId> {
        let s = self.slots.get(idx)?;
        s.client.as_ref().map(|_| ClientId { idx: idx as u32, gen: s.gen })
    }

    /// Every live client, with its id.
    pub fn clients(&self) -> impl Iterator<Item = (ClientId, &Client)> {
        self.slots.iter().enumerate().filter_map(|(i, s)| s.client.as_ref().map(|c| (ClientId { idx: i as u32, gen: s.gen }, c)))
    }

    pub fn client_count(&self) -> usize {
        self.servers.iter().map(|s| s.nclients).sum()
    }

    pub fn completer(&self) -> Completer {
        Completer { queue: Arc::clone(&self.completions), waker: Arc::clone(&self.waker) }
    }

    /// Queues an unsolicited packet (event, stream data, keepalive).
    pub fn send(&mut self, cid: ClientId, buf: Vec<u8>, fds: Vec<OwnedFd>) {
        if let Some(c) = self.client_mut(cid) {
            let was_empty = c.tx_is_empty();
            c.queue(buf, fds);
            if was_empty {
                self.dirty.push(cid);
            }
        }
    }

    /// Queues the answer to a CALL; lifts the client's throttle if this was the one over.
    pub fn reply(&mut self, cid: ClientId, buf: Vec<u8>, fds: Vec<OwnedFd>) {
        let Some(c) = self.client_mut(cid) else { return };
        let unthrottled = c.call_finished();
        self.send(cid, buf, fds);
        if unthrottled {
            self.kicked.push(cid);
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

    /// Marks a client for closing; it is removed after the current batch of events.
    pub fn close_client(&mut self, cid: ClientId, why: CloseReason) {
        if let Some(c) = self.client_mut(cid) {
            if c.closed.is_none() {
                c.close(why);
                self.closing.push(cid);
            }
        }
    }

    /// Closes the client once everything queued for it is written.
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

    /// The client passed authentication: it no longer counts as anonymous.
    // C: virNetServerClientSetAuthLocked + virNetServerTrackCompletedAuth
    pub fn set_authenticated(&mut self, cid: ClientId) {
        let Some(c) = self.client_mut(cid) else { return };
        if c.authenticated {
            return;
        }
        c.authenticated = true;
        let server = c.server;
        let srv = &mut self.servers[server];
        srv.nclients_unauth = srv.nclients_unauth.saturating_sub(1);
        self.accept_resume.push(server);
    }

    /// A server's client limits changed (admin SERVER_SET_CLIENT_LIMITS): if it is now below
    /// them, accept the connections that waited, after the current batch.
    // C: virNetServerCheckLimits
    pub fn check_limits(&mut self, server: usize) {
        self.accept_resume.push(server);
    }

    pub fn add_timer(&mut self, at: Instant, key: TimerKey) {
        self.timers.add(at, key);
    }

    pub fn quit(&mut self) {
        self.quit = true;
    }

    pub fn quitting(&self) -> bool {
        self.quit
    }

    /// Changes --timeout at runtime (admin CONNECT_SET_DAEMON_TIMEOUT); 0 disables.
    pub fn set_auto_shutdown(&mut self, secs: u32) {
        self.auto_shutdown = (secs > 0).then(|| Duration::from_secs(secs as u64));
        self.auto_shutdown_at = None;
    }

    pub fn server_index(&self, name: &str) -> Option<usize> {
        self.servers.iter().position(|s| s.name == name)
    }

    /// Rebuilds the TLS context from its files for new connections; on failure the current
    /// one stays and the reason is returned. Ok(false) when there is no TLS service.
    // C: virNetServerUpdateTlsFiles
    pub fn reload_tls(&mut self) -> Result<bool, String> {
        let Some(cur) = &self.tls else { return Ok(false) };
        match crate::rpc::tls::TlsContext::new(cur.settings.clone()) {
            Ok(ctx) => {
                info!("TLS credentials reloaded");
                self.tls = Some(Arc::new(ctx));
                Ok(true)
            }
            Err(e) => Err(e.to_string()),
        }
    }
}

pub struct NetDaemon {
    pub core: Core,
    poll: Poll,
    signals: Option<SignalPipe>,
}

/// The outcome of the loop, for the exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunEnd {
    Signal(i32),
    Timeout,
    Quit,
}

impl NetDaemon {
    pub fn new(daemon_name: &str, privileged: bool) -> std::io::Result<NetDaemon> {
        let poll = Poll::new()?;
        let registry = poll.registry().try_clone()?;
        let waker = Arc::new(mio::Waker::new(poll.registry(), poll::token(TokenKind::Waker, 0))?);
        Ok(NetDaemon {
            core: Core {
                registry,
                servers: Vec::new(),
                services: Vec::new(),
                listeners: Vec::new(),
                slots: Vec::new(),
                free: Vec::new(),
                timers: Timers::default(),
                dirty: Vec::new(),
                kicked: Vec::new(),
                closing: Vec::new(),
                completions: Arc::new(Mutex::new(Vec::new())),
                waker,
                quit: false,
                auto_shutdown: None,
                auto_shutdown_at: None,
                trim_at: None,
                scratch: vec![0u8; SCRATCH],
                daemon_name: daemon_name.to_string(),
                privileged,
                reload_hook: None,
                accept_resume: Vec::new(),
                tls: None,
                sasl: None,
            },
            poll,
            signals: None,
        })
    }

    pub fn add_server(&mut self, s: Server) -> usize {
        self.core.servers.push(s);
        self.core.servers.len() - 1
    }

    pub fn add_service(&mut self, s: Service) -> usize {
        self.core.services.push(s);
        self.core.services.len() - 1
    }

    pub fn add_listener(&mut self, service: usize, listener: crate::rpc::socket::Listener) -> std::io::Result<()> {
        let idx = self.core.listeners.len();
        poll::register_fd_readable(self.poll.registry(), listener.raw_fd(), poll::token(TokenKind::Listener, idx))?;
        self.core.listeners.push(ListenerSlot { service, listener });
        Ok(())
    }

    /// Installs the signal pipe for SIGINT/SIGQUIT/SIGTERM (quit) and SIGHUP (reload).
    // C: virNetDaemonAddSignalHandler
    pub fn setup_signals(&mut self) -> std::io::Result<()> {
        let sp = SignalPipe::new(&[libc::SIGINT, libc::SIGQUIT, libc::SIGTERM, libc::SIGHUP])?;
        poll::register_fd_readable(self.poll.registry(), sp.fd(), poll::token(TokenKind::Signal, 0))?;
        self.signals = Some(sp);
        Ok(())
    }

    pub fn set_auto_shutdown(&mut self, secs: u32) {
        self.core.set_auto_shutdown(secs);
    }

    /// Runs until a quit signal, the idle timeout, or `Core::quit`.
    // C: virNetDaemonRun
    pub fn run(&mut self, driver: &mut dyn Driver) -> RunEnd {
        let mut events = Events::with_capacity(256);
        let mut end = RunEnd::Quit;
        loop {
            let now = Instant::now();
            self.update_auto_shutdown(driver, now);
            if let Some(at) = self.core.auto_shutdown_at {
                if now >= at {
                    info!("Timed out waiting for clients; shutting down");
                    end = RunEnd::Timeout;
                    break;
                }
            }
            if self.core.quit {
                break;
            }
            if self.core.trim_at.is_some_and(|at| now >= at) {
                self.core.trim_at = None;
                crate::util::memtrim::trim_idle();
            }
            let next = [self.core.timers.next_deadline(), self.core.auto_shutdown_at, self.core.trim_at].into_iter().flatten().min();
            let timeout = poll::poll_timeout(next, now);
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() != std::io::ErrorKind::Interrupted {
                    warn!("poll failed: {e}");
                }
                continue;
            }
            if !events.is_empty() {
                self.core.trim_at = Some(Instant::now() + crate::util::memtrim::IDLE_TRIM_AFTER);
            }
            for ev in events.iter() {
                let Some((kind, idx)) = poll::split_token(ev.token()) else { continue };
                match kind {
                    TokenKind::Listener => self.accept_on(driver, idx),
                    TokenKind::Client => {
                        if let Some(cid) = self.core.cid_at(idx) {
                            client_io(&mut self.core, driver, cid, ev.is_writable() || ev.is_write_closed());
                        }
                    }
                    TokenKind::Aux => driver.aux_event(&mut self.core, idx, ev.is_readable() || ev.is_read_closed(), ev.is_writable()),
                    TokenKind::Signal => {
                        if let Some(sig) = self.handle_signals(driver) {
                            end = RunEnd::Signal(sig);
                        }
                    }
                    TokenKind::Waker => self.run_completions(driver),
                }
            }
            self.fire_timers(driver, Instant::now());
            self.finish_batch(driver);
        }
        self.shutdown(driver);
        end
    }

    fn handle_signals(&mut self, driver: &mut dyn Driver) -> Option<i32> {
        let sigs = self.signals.as_ref().map(|s| s.drain()).unwrap_or_default();
        let mut quit_sig = None;
        for sig in sigs {
            match sig {
                libc::SIGHUP => {
                    info!("Reloading configuration on SIGHUP");
                    if let Err(e) = self.core.reload_tls() {
                        log::error!("Keeping the current TLS credentials: {e}");
                    }
                    if let Some(mut hook) = self.core.reload_hook.take() {
                        hook(&mut self.core);
                        self.core.reload_hook = Some(hook);
                    }
                    driver.reload(&mut self.core);
                }
                s => {
                    info!("Received signal {s}, shutting down");
                    self.core.quit = true;
                    quit_sig = Some(s);
                }
            }
        }
        quit_sig
    }

    fn run_completions(&mut self, driver: &mut dyn Driver) {
        let batch = std::mem::take(&mut *self.core.completions.lock().unwrap_or_else(|p| p.into_inner()));
        for c in batch {
            c(&mut self.core, driver);
        }
    }

    fn update_auto_shutdown(&mut self, driver: &dyn Driver, now: Instant) {
        let Some(t) = self.core.auto_shutdown else {
            self.core.auto_shutdown_at = None;
            return;
        };
        let idle = self.core.client_count() == 0 && !driver.inhibits_shutdown();
        if !idle {
            self.core.auto_shutdown_at = None;
        } else if self.core.auto_shutdown_at.is_none() {
            self.core.auto_shutdown_at = Some(now + t);
        }
    }

    // C: virNetServerServiceAccept + virNetServerAddClient
    fn accept_on(&mut self, driver: &mut dyn Driver, li: usize) {
        let Some(slot) = self.core.listeners.get(li) else { return };
        let service = slot.service;
        let server = self.core.services[service].server;
        loop {
            if self.core.servers[server].at_limit() {
                if !self.core.servers[server].accept_paused {
                    info!("Temporarily suspending services of server {}", self.core.servers[server].name);
                    self.core.servers[server].accept_paused = true;
                }
                return;
            }
            let stream = match self.core.listeners[li].listener.accept() {
                Ok(Some(s)) => s,
                Ok(None) => return,
                Err(e) => {
                    warn!("accept failed: {}", crate::util::strerror(&e));
                    return;
                }
            };
            self.add_client(driver, service, stream);
        }
    }

    fn add_client(&mut self, driver: &mut dyn Driver, service: usize, stream: crate::rpc::socket::Stream) {
        let core = &mut self.core;
        let svc = &core.services[service];
        let tls_ctx = if svc.transport == crate::rpc::client::Transport::Tls { core.tls.clone() } else { None };
        let stream = match &tls_ctx {
            None => stream,
            Some(ctx) => match stream.into_tcp().map(|tcp| ctx.new_session(tcp)) {
                Ok(Ok(t)) => crate::rpc::socket::Stream::Tls(Box::new(t)),
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
        let ka = crate::rpc::keepalive::KeepAlive::new(srv.keepalive_interval, srv.keepalive_count);
        let mut client = Client::new(id, server, service, svc.transport, stream, svc.readonly, svc.auth, svc.nrequests_client_max, ka);
        let handshaking = tls_ctx.is_some();
        client.tls_ctx = tls_ctx;
        // C: remoteAdmClientNew — only the daemon's own user may administer it.
        if srv.is_admin {
            let euid = crate::util::sys::geteuid();
            if client.identity.uid != Some(euid) {
                warn!("Rejecting admin client with uid {:?}: not the daemon's uid {euid}", client.identity.uid);
                return;
            }
        }
        let idx = match core.free.pop() {
            Some(i) => i as usize,
            None => {
                core.slots.push(Slot { gen: 0, client: None });
                core.slots.len() - 1
            }
        };
        let fd = client.io.raw_fd();
        let authenticated = client.authenticated;
        if let Err(e) = poll::register_fd(&core.registry, fd, poll::token(TokenKind::Client, idx)) {
            warn!("cannot watch new client: {e}");
            core.free.push(idx as u32);
            return;
        }
        core.slots[idx].client = Some(client);
        let cid = ClientId { idx: idx as u32, gen: core.slots[idx].gen };
        let srv = &mut core.servers[server];
        srv.nclients += 1;
        if !authenticated {
            srv.nclients_unauth += 1;
        }
        debug!("client {} connected to server {}", id, srv.name);
        if handshaking {
            core.timers.add(Instant::now() + crate::rpc::tls::TLS_HANDSHAKE_TIMEOUT, TimerKey::TlsHandshake(cid));
        }
        if !srv.is_admin {
            driver.client_added(core, cid);
        }
    }

    fn fire_timers(&mut self, driver: &mut dyn Driver, now: Instant) {
        while let Some(key) = self.core.timers.pop_due(now) {
            match key {
                TimerKey::Keepalive(cid) => {
                    let Some(c) = self.core.client_mut(cid) else { continue };
                    if c.closed.is_some() {
                        continue;
                    }
                    match c.keepalive.on_timer(now) {
                        Action::Wait(at) => self.core.timers.add(at, key),
                        Action::Ping(at) => {
                            self.core.send(cid, message::ping(), Vec::new());
                            self.core.timers.add(at, key);
                        }
                        Action::Dead => {
                            info!("client {}: connection closed due to keepalive timeout", cid.idx);
                            self.core.close_client(cid, CloseReason::Keepalive);
                        }
                        Action::Idle => {}
                    }
                }
                TimerKey::TlsHandshake(cid) => {
                    if self.core.client(cid).is_some_and(|c| c.tls_handshaking() && c.closed.is_none()) {
                        warn!("client {}: TLS handshake not completed in time; dropping it", cid.idx);
                        self.core.close_client(cid, CloseReason::Error);
                    }
                }
                TimerKey::Driver(k) => driver.timer(&mut self.core, k),
                TimerKey::AutoShutdown => {}
            }
        }
    }

    fn finish_batch(&mut self, driver: &mut dyn Driver) {
        // Clients unthrottled or kicked during the batch: dispatch/read again now, since
        // their readiness edge has passed.
        // The driver's own flushing can unpause clients, and clients' dispatch can give the
        // driver more to flush: go round until both are quiet (bounded, for fairness).
        for _ in 0..64 {
            let kicked = std::mem::take(&mut self.core.kicked);
            for cid in kicked {
                client_io(&mut self.core, driver, cid, false);
            }
            driver.after_batch(&mut self.core);
            if self.core.kicked.is_empty() {
                break;
            }
        }
        let dirty = std::mem::take(&mut self.core.dirty);
        for cid in dirty {
            flush_client(&mut self.core, cid);
        }
        self.sweep(driver);
        self.resume_accepting(driver);
    }

    // C: virNetServerProcessClients
    fn sweep(&mut self, driver: &mut dyn Driver) {
        while !self.core.closing.is_empty() {
            let closing = std::mem::take(&mut self.core.closing);
            for cid in closing {
                let Some(why) = self.core.client(cid).and_then(|c| c.closed) else { continue };
                let is_admin = self.core.client(cid).map(|c| self.core.servers[c.server].is_admin).unwrap_or(true);
                if !is_admin {
                    driver.client_closed(&mut self.core, cid, why);
                }
                self.remove_client(cid);
            }
        }
    }

    fn remove_client(&mut self, cid: ClientId) {
        let core = &mut self.core;
        let Some(slot) = core.slots.get_mut(cid.idx as usize) else { return };
        if slot.gen != cid.gen {
            return;
        }
        let Some(client) = slot.client.take() else { return };
        slot.gen = slot.gen.wrapping_add(1);
        poll::deregister_fd(&core.registry, client.io.raw_fd());
        core.free.push(cid.idx);
        let srv = &mut core.servers[client.server];
        srv.nclients = srv.nclients.saturating_sub(1);
        if !client.authenticated {
            srv.nclients_unauth = srv.nclients_unauth.saturating_sub(1);
        }
        debug!("client {} of server {} closed ({:?})", client.id, srv.name, client.closed);
        core.accept_resume.push(client.server);
    }

    /// Accepts connections that waited while a server was at its limits: their
    /// readiness edge has passed, so accept right away.
    fn resume_accepting(&mut self, driver: &mut dyn Driver) {
        let mut servers = std::mem::take(&mut self.core.accept_resume);
        servers.sort_unstable();
        servers.dedup();
        for server in servers {
            if !self.core.servers[server].accept_paused || self.core.servers[server].at_limit() {
                continue;
            }
            info!("Re-enabling services");
            self.core.servers[server].accept_paused = false;
            for li in 0..self.core.listeners.len() {
                if self.core.services[self.core.listeners[li].service].server == server {
                    self.accept_on(driver, li);
                }
            }
        }
    }

    fn shutdown(&mut self, driver: &mut dyn Driver) {
        let ids: Vec<ClientId> = self.core.clients().map(|(id, _)| id).collect();
        for cid in ids {
            self.core.close_client(cid, CloseReason::Shutdown);
        }
        self.sweep(driver);
        driver.shutdown(&mut self.core);
        for l in self.core.listeners.drain(..) {
            poll::deregister_fd(&self.core.registry, l.listener.raw_fd());
        }
        self.core.services.clear();
        for s in &self.core.servers {
            s.pool.shutdown();
        }
    }
}

/// Reads, dispatches and writes for one client as far as its state allows.
// C: virNetServerClientDispatchEvent
pub fn client_io(core: &mut Core, driver: &mut dyn Driver, cid: ClientId, writable: bool) {
    if !tls_ready(core, cid) {
        return;
    }
    if writable {
        flush_client(core, cid);
    }
    let mut scratch = std::mem::take(&mut core.scratch);
    loop {
        dispatch_pending(core, driver, cid);
        let Some(c) = core.client_mut(cid) else { break };
        if !c.wants().read {
            break;
        }
        match c.read_once(&mut scratch) {
            ReadOutcome::Data { drained, .. } => {
                if drained {
                    // Dispatch what came, then wait for the next edge.
                    dispatch_pending(core, driver, cid);
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
                warn!("client {}: {e}; closing connection", cid.idx);
                core.close_client(cid, CloseReason::Error);
                break;
            }
        }
    }
    core.scratch = scratch;
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
            warn!("TLS client {peer} refused: {why}");
            core.close_client(cid, CloseReason::Error);
            false
        }
    }
}

/// Dispatches what was already received, as long as the client may.
fn dispatch_pending(core: &mut Core, driver: &mut dyn Driver, cid: ClientId) {
    while let Some((pkt, fds)) = core.client_mut(cid).and_then(|c| c.next_packet()) {
        process_packet(core, driver, cid, pkt, fds);
    }
}

fn flush_client(core: &mut Core, cid: ClientId) {
    let Some(c) = core.client_mut(cid) else { return };
    if c.closed.is_some() {
        return;
    }
    match c.flush() {
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
}

/// Routes one received packet (libvirt's virNetServerClientDispatchRead +
/// virNetServerDispatchNewMessage + virNetServerProcessMsg).
// C: virNetServerProcessMsg
fn process_packet(core: &mut Core, driver: &mut dyn Driver, cid: ClientId, pkt: Packet, fds: Vec<OwnedFd>) {
    let now = Instant::now();
    let Some(c) = core.client_mut(cid) else { return };
    c.keepalive.on_packet(now);
    c.last_rx = Some(now);
    let h = pkt.header;
    let is_call = matches!(h.type_, MessageType::Call | MessageType::CallWithFds);

    // Keepalive packets are answered here and never dispatched, before auth too.
    if h.prog == proto::KEEPALIVE_PROGRAM {
        if h.vers == proto::KEEPALIVE_PROTOCOL_VERSION && h.type_ == MessageType::Message && h.proc_ == proto::KEEPALIVE_PROC_PING {
            core.send(cid, message::pong(), Vec::new());
        }
        return;
    }
    let server = c.server;
    let authenticated = c.authenticated;
    let is_admin = core.servers[server].is_admin;

    let served = if is_admin {
        h.prog == proto::ADMIN_PROGRAM && h.vers == proto::ADMIN_PROTOCOL_VERSION
    } else {
        (h.prog == proto::REMOTE_PROGRAM && h.vers == proto::REMOTE_PROTOCOL_VERSION) || driver.serves(h.prog, h.vers)
    };
    if !served {
        if is_call {
            if let Some(c) = core.client_mut(cid) {
                c.call_started();
            }
            core.reply_error(cid, &h, &program::unknown_program(h.prog, h.vers));
        } else {
            debug!("dropping packet for unknown program {} version {}", h.prog, h.vers);
        }
        return;
    }
    if !is_call {
        if !authenticated {
            debug!("dropping non-call packet from unauthenticated client");
            return;
        }
        if !is_admin {
            driver.dispatch(core, cid, pkt, fds);
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
    if is_admin {
        crate::admin::dispatch(core, driver, cid, pkt);
        return;
    }
    if h.prog == proto::REMOTE_PROGRAM && crate::remote::auth::is_auth_proc(h.proc_) {
        crate::remote::auth::dispatch(core, cid, pkt);
        return;
    }
    if !authenticated {
        let err = if driver.knows_proc(h.prog, h.proc_) { program::auth_required() } else { program::unknown_proc(h.proc_) };
        core.reply_error(cid, &h, &err);
        return;
    }
    driver.dispatch(core, cid, pkt, fds);
}
