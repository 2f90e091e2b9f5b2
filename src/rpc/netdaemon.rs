//! The daemon object and its event loop: servers, the programs registered with them,
//! signals, timers, the idle timeout and worker completions (libvirt's rpc/virnetdaemon.c).
//!
//! One thread runs `NetDaemon::run`. It routes each readiness event by its token: listeners
//! and clients to the server code (`server`, `client`), aux sources to the program that
//! registered them. Handlers get `&mut Core` (servers with their clients, services, timers,
//! output bookkeeping); programs are kept apart so both can be borrowed at once.

use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use log::{info, warn};
use mio::{Events, Poll, Registry};

use crate::poll::{self, Readiness, SignalPipe, Timers, TokenKind};
use crate::rpc::client::{self, CloseReason};
use crate::rpc::program::{Program, ProgramId};
use crate::rpc::server::{self, NetServer};
use crate::rpc::service::{ListenerSlot, Service};

/// A client's place: its server, its slot in the server's table, and the slot's generation
/// (which tells a reused slot from the old client).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClientId {
    pub srv: u16,
    pub idx: u32,
    pub gen: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TimerKey {
    Keepalive(ClientId),
    /// A TLS client that has not finished its handshake by then is dropped.
    TlsHandshake(ClientId),
    /// A client that has not authenticated by then is dropped.
    AuthTimeout(ClientId),
    /// A held authentication failure is answered, and the client closed.
    AuthFailure(ClientId),
    /// Accept again on a listener after running out of descriptors.
    AcceptRetry(usize),
    AutoShutdown,
    /// A timer of a program's own: its tag and number mean what the program says.
    Program {
        prog: ProgramId,
        tag: u8,
        n: u64,
    },
}

/// What the daemon runs on SIGHUP before the programs' own reload.
pub type ReloadHook = Box<dyn FnMut(&mut Core)>;

/// Work handed back to the loop thread by a worker.
pub type Completion = Box<dyn FnOnce(&mut Core, &mut [Box<dyn Program>]) + Send + 'static>;

/// Everything the handlers may touch; the programs are kept apart so both can be borrowed.
pub struct Core {
    pub registry: Registry,
    pub servers: Vec<NetServer>,
    pub services: Vec<Service>,
    pub listeners: Vec<ListenerSlot>,
    pub timers: Timers<TimerKey>,
    /// Clients with output queued during the batch.
    pub(crate) dirty: Vec<ClientId>,
    /// Clients to read or dispatch again after the batch (their edge has passed).
    pub(crate) kicked: Vec<ClientId>,
    /// Clients closed during the batch, removed after it.
    pub(crate) closing: Vec<ClientId>,
    /// Servers that may have dropped below their limits: accept again on their listeners.
    pub(crate) accept_resume: Vec<usize>,
    completions: Arc<Mutex<Vec<Completion>>>,
    waker: Arc<mio::Waker>,
    quit: bool,
    auto_shutdown: Option<Duration>,
    auto_shutdown_at: Option<Instant>,
    /// When the loop has been idle long enough to give memory back (util::memtrim).
    trim_at: Option<Instant>,
    /// Work was left over from the last batch: poll without sleeping.
    busy: bool,
    pub daemon_name: String,
    pub privileged: bool,
    /// Hook run on SIGHUP before the programs' (the daemon re-reads its logging settings).
    pub reload_hook: Option<ReloadHook>,
    /// The TLS context new clients of TLS services get (replaced on reload).
    pub tls: Option<Arc<crate::rpc::tls::TlsContext>>,
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

impl Core {
    pub fn completer(&self) -> Completer {
        Completer { queue: Arc::clone(&self.completions), waker: Arc::clone(&self.waker) }
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
    // C: virNetDaemonAutoShutdown
    pub fn set_auto_shutdown(&mut self, secs: u32) {
        self.auto_shutdown = (secs > 0).then(|| Duration::from_secs(secs as u64));
        self.auto_shutdown_at = None;
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
    progs: Vec<Box<dyn Program>>,
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
    // C: virNetDaemonNew
    pub fn new(daemon_name: &str, privileged: bool) -> std::io::Result<NetDaemon> {
        let poll = Poll::new()?;
        let registry = poll.registry().try_clone()?;
        let waker = Arc::new(mio::Waker::new(poll.registry(), poll::token(TokenKind::Waker, 0, 0, 0))?);
        Ok(NetDaemon {
            core: Core {
                registry,
                servers: Vec::new(),
                services: Vec::new(),
                listeners: Vec::new(),
                timers: Timers::default(),
                dirty: Vec::new(),
                kicked: Vec::new(),
                closing: Vec::new(),
                accept_resume: Vec::new(),
                completions: Arc::new(Mutex::new(Vec::new())),
                waker,
                quit: false,
                auto_shutdown: None,
                auto_shutdown_at: None,
                trim_at: None,
                busy: false,
                daemon_name: daemon_name.to_string(),
                privileged,
                reload_hook: None,
                tls: None,
            },
            progs: Vec::new(),
            poll,
            signals: None,
        })
    }

    // C: virNetDaemonAddServer
    pub fn add_server(&mut self, s: NetServer) -> usize {
        self.core.servers.push(s);
        self.core.servers.len() - 1
    }

    /// Registers a program with a server; the program learns its id.
    // C: virNetServerAddProgram
    pub fn add_program(&mut self, server: usize, mut p: Box<dyn Program>) -> ProgramId {
        let id = self.progs.len() as ProgramId;
        p.registered(id);
        self.progs.push(p);
        self.core.servers[server].programs.push(id);
        id
    }

    // C: virNetServerAddService
    pub fn add_service(&mut self, s: Service) -> usize {
        self.core.services.push(s);
        self.core.services.len() - 1
    }

    pub fn add_listener(&mut self, service: usize, listener: crate::rpc::socket::Listener) -> std::io::Result<()> {
        let idx = self.core.listeners.len();
        poll::register_fd_readable(self.poll.registry(), listener.raw_fd(), poll::token(TokenKind::Listener, 0, 0, idx))?;
        self.core.listeners.push(ListenerSlot { service, listener });
        Ok(())
    }

    /// Installs the signal pipe for SIGINT/SIGQUIT/SIGTERM (quit) and SIGHUP (reload).
    // C: virNetDaemonAddSignalHandler
    pub fn setup_signals(&mut self) -> std::io::Result<()> {
        let sp = SignalPipe::new(&[libc::SIGINT, libc::SIGQUIT, libc::SIGTERM, libc::SIGHUP])?;
        poll::register_fd_readable(self.poll.registry(), sp.fd(), poll::token(TokenKind::Signal, 0, 0, 0))?;
        self.signals = Some(sp);
        Ok(())
    }

    pub fn set_auto_shutdown(&mut self, secs: u32) {
        self.core.set_auto_shutdown(secs);
    }

    /// Runs until a quit signal, the idle timeout, or `Core::quit`.
    // C: virNetDaemonRun
    pub fn run(&mut self) -> RunEnd {
        let mut events = Events::with_capacity(256);
        let mut end = RunEnd::Quit;
        loop {
            let now = Instant::now();
            self.update_auto_shutdown(now);
            if self.core.auto_shutdown_at.is_some_and(|at| now >= at) {
                info!("Timed out waiting for clients; shutting down");
                end = RunEnd::Timeout;
                break;
            }
            if self.core.quit {
                break;
            }
            if self.core.trim_at.is_some_and(|at| now >= at) {
                self.core.trim_at = None;
                crate::util::memtrim::trim_idle();
            }
            let next = [self.core.timers.next_deadline(), self.core.auto_shutdown_at, self.core.trim_at].into_iter().flatten().min();
            let timeout = if self.core.busy { Some(Duration::ZERO) } else { poll::poll_timeout(next, now) };
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
                let Some(t) = poll::split_token(ev.token()) else { continue };
                let r = Readiness::of(ev);
                match t.kind {
                    TokenKind::Listener => server::accept_on(&mut self.core, &mut self.progs, t.index),
                    TokenKind::Client => {
                        let Some(srv) = self.core.servers.get(t.owner as usize) else { continue };
                        if let Some((gen, _)) = srv.client_at(t.index) {
                            let cid = ClientId { srv: t.owner as u16, idx: t.index as u32, gen };
                            client::dispatch_event(&mut self.core, &mut self.progs, cid, r.hup, r.writable);
                        }
                    }
                    TokenKind::Aux => {
                        if let Some(p) = self.progs.get_mut(t.owner as usize) {
                            p.aux_event(&mut self.core, t.tag, t.index, r);
                        }
                    }
                    TokenKind::Signal => {
                        if let Some(sig) = self.handle_signals() {
                            end = RunEnd::Signal(sig);
                        }
                    }
                    TokenKind::Waker => self.run_completions(),
                }
            }
            self.fire_timers(Instant::now());
            self.finish_batch();
        }
        self.shutdown();
        end
    }

    fn handle_signals(&mut self) -> Option<i32> {
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
                    for p in self.progs.iter_mut() {
                        p.reload(&mut self.core);
                    }
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

    fn run_completions(&mut self) {
        let batch = std::mem::take(&mut *self.core.completions.lock().unwrap_or_else(|p| p.into_inner()));
        for c in batch {
            c(&mut self.core, &mut self.progs);
        }
    }

    fn update_auto_shutdown(&mut self, now: Instant) {
        let Some(t) = self.core.auto_shutdown else {
            self.core.auto_shutdown_at = None;
            return;
        };
        let idle = self.core.client_count() == 0 && !self.progs.iter().any(|p| p.inhibits_shutdown());
        if !idle {
            self.core.auto_shutdown_at = None;
        } else if self.core.auto_shutdown_at.is_none() {
            self.core.auto_shutdown_at = Some(now + t);
        }
    }

    fn fire_timers(&mut self, now: Instant) {
        while let Some(key) = self.core.timers.pop_due(now) {
            match key {
                TimerKey::Keepalive(cid) => client::keepalive_timer(&mut self.core, cid, now),
                TimerKey::TlsHandshake(cid) => client::auth_deadline(&mut self.core, cid, true),
                TimerKey::AuthTimeout(cid) => client::auth_deadline(&mut self.core, cid, false),
                TimerKey::AuthFailure(cid) => client::auth_failure_due(&mut self.core, cid),
                TimerKey::AcceptRetry(li) => server::accept_on(&mut self.core, &mut self.progs, li),
                TimerKey::Program { prog, tag, n } => {
                    if let Some(p) = self.progs.get_mut(prog as usize) {
                        p.timer(&mut self.core, tag, n);
                    }
                }
                TimerKey::AutoShutdown => {}
            }
        }
    }

    fn finish_batch(&mut self) {
        // Clients kicked during the batch (unthrottled, output drained, a relay that
        // emptied) read or dispatch again now, since their readiness edge has passed; the
        // programs' flushing and the clients' writes can kick more: go round until all is
        // quiet, bounded for fairness (the loop then polls without sleeping).
        self.core.busy = false;
        for _ in 0..64 {
            for cid in std::mem::take(&mut self.core.kicked) {
                client::dispatch_event(&mut self.core, &mut self.progs, cid, false, false);
            }
            for p in self.progs.iter_mut() {
                p.after_batch(&mut self.core);
            }
            for cid in std::mem::take(&mut self.core.dirty) {
                client::flush(&mut self.core, cid);
            }
            if self.core.kicked.is_empty() && self.core.dirty.is_empty() {
                break;
            }
        }
        self.core.busy = !self.core.kicked.is_empty() || !self.core.dirty.is_empty();
        server::process_clients(&mut self.core, &mut self.progs);
        server::resume_accepting(&mut self.core, &mut self.progs);
    }

    // C: virNetDaemonClose
    fn shutdown(&mut self) {
        let ids: Vec<ClientId> = self.core.clients().map(|(id, _)| id).collect();
        for cid in ids {
            self.core.close_client(cid, CloseReason::Shutdown);
        }
        server::process_clients(&mut self.core, &mut self.progs);
        for p in self.progs.iter_mut() {
            p.shutdown(&mut self.core);
        }
        for l in self.core.listeners.drain(..) {
            poll::deregister_fd(&self.core.registry, l.listener.raw_fd());
        }
        self.core.services.clear();
        for s in &self.core.servers {
            s.pool.shutdown();
        }
    }
}

/// Keeps fds of a packet together with it while it waits (used by programs that hold
/// packets, e.g. during a relay's open handshake).
pub type HeldPacket = (crate::rpc::message::Packet, Vec<OwnedFd>);
