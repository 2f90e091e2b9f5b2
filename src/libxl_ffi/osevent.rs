//! libxl's fds and timeouts in our mio poll loop: the `libxl_osevent_hooks` side (libvirt's
//! libxl_driver.c libxlFDRegisterEventHook ... libxlTimeoutDeregisterEventHook).
//!
//! libxl calls the hooks from any thread, with its context lock held; it must then never be
//! called back while our registration lock is held (libxl_event.h's lock rule (a)). So the
//! hooks only touch `Regs` and the mio registry (epoll_ctl is thread-safe and wakes a
//! sleeping poll by itself), and ask the loop for timers through the `schedule` function the
//! daemon supplies. The loop thread later calls `Ctx::osevent_fd` / `Ctx::osevent_timeout`,
//! which look the registration up and call into libxl without that lock.
//!
//! Level versus edge: libxl's fds are level-triggered in its model, mio is edge-triggered.
//! Decision (spike: `rearm_after_partial_read_reports_again` below): after each
//! `libxl_osevent_occurred_fd` the fd is re-armed with EPOLL_CTL_MOD; the kernel then
//! re-checks readiness and queues a fresh event if the fd is still ready, which gives level
//! semantics with one epoll_ctl per event and no busy loop. libxl itself re-polls the fd
//! (libxl__fd_poll_recheck) and ignores stale registrations, so a spurious call is harmless.
//! An fd libxl registers twice (it may, with different events) is registered through a dup.
//!
//! Tokens: `TokenKind::Aux` with index `AUX_BASE + id`; timers: `TimerKey::Driver(TIMER_BASE + id)`.

use std::collections::HashMap;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use log::{debug, warn};
use mio::unix::SourceFd;
use mio::{Interest, Registry};

use super::error::ERROR_OSEVENT_REG_FAIL;
use super::sys;
use crate::poll::{self, TokenKind};

/// The aux tag of libxl's fds and timeouts within virtxend's program (program 0).
pub const LIBXL_TAG: u8 = 3;

/// First `TokenKind::Aux` index used for libxl's fds; the next 2^40 indexes are ours.
pub const AUX_BASE: usize = 1 << 40;
const AUX_SPAN: u64 = 1 << 40;
/// First driver timer key used for libxl's timeouts; keys up to 2^63 are ours.
pub const TIMER_BASE: u64 = 1 << 62;

/// Whether an Aux token index belongs to libxl's fds.
pub fn is_libxl_aux(index: usize) -> bool {
    (AUX_BASE..AUX_BASE + AUX_SPAN as usize).contains(&index)
}

/// Whether a driver timer key belongs to libxl's timeouts.
pub fn is_libxl_timer(key: u64) -> bool {
    (TIMER_BASE..TIMER_BASE * 2).contains(&key)
}

type Schedule = dyn Fn(Instant, u64) + Send + Sync;

struct FdReg {
    /// The fd libxl registered (what `occurred_fd` must name).
    fd: RawFd,
    /// A dup we registered instead, when libxl registered the same fd twice.
    dup: Option<OwnedFd>,
    events: libc::c_short,
    for_libxl: usize,
    in_epoll: bool,
}

impl FdReg {
    fn epoll_fd(&self) -> RawFd {
        self.dup.as_ref().map_or(self.fd, |d| d.as_raw_fd())
    }
}

#[derive(Default)]
struct Regs {
    next_id: u64,
    fds: HashMap<u64, FdReg>,
    timeouts: HashMap<u64, usize>,
}

impl Regs {
    fn alloc_id(&mut self) -> Option<u64> {
        if self.next_id + 1 >= AUX_SPAN {
            return None;
        }
        self.next_id += 1;
        Some(self.next_id)
    }
}

/// The loop side of libxl's event machinery: created by the daemon with its registry and a
/// way to schedule timers, then handed to `Ctx::with_events`.
pub struct LibxlEvents {
    registry: Registry,
    schedule: Box<Schedule>,
    regs: Mutex<Regs>,
    attached: AtomicBool,
    fd_calls: AtomicU64,
    timeout_calls: AtomicU64,
}

impl LibxlEvents {
    /// `schedule(at, key)` must arrange for `Ctx::osevent_timeout(key)` to be called on the
    /// loop thread at or after `at` (for the daemon: queue `TimerKey::Driver(key)` through a
    /// completion). It is called from any thread with libxl's lock held: it must not block
    /// nor call libxl.
    pub fn new(registry: &Registry, schedule: impl Fn(Instant, u64) + Send + Sync + 'static) -> io::Result<LibxlEvents> {
        Ok(LibxlEvents {
            registry: registry.try_clone()?,
            schedule: Box::new(schedule),
            regs: Mutex::new(Regs::default()),
            attached: AtomicBool::new(false),
            fd_calls: AtomicU64::new(0),
            timeout_calls: AtomicU64::new(0),
        })
    }

    /// Marks the object as serving a context; false if it already does.
    pub(super) fn attach(&self) -> bool {
        !self.attached.swap(true, Ordering::SeqCst)
    }

    fn regs(&self) -> MutexGuard<'_, Regs> {
        self.regs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Number of fds libxl has registered with us now.
    pub fn registered_fds(&self) -> usize {
        self.regs().fds.len()
    }

    /// Number of libxl timeouts waiting to fire.
    pub fn pending_timeouts(&self) -> usize {
        self.regs().timeouts.len()
    }

    /// How many times `libxl_osevent_occurred_fd` / `_timeout` were called.
    pub fn delivered(&self) -> (u64, u64) {
        (self.fd_calls.load(Ordering::Relaxed), self.timeout_calls.load(Ordering::Relaxed))
    }

    fn token(id: u64) -> mio::Token {
        poll::token(TokenKind::Aux, 0, LIBXL_TAG, AUX_BASE + id as usize)
    }

    fn add_to_epoll(&self, reg: &mut FdReg, id: u64, interest: Interest) -> io::Result<()> {
        match self.registry.register(&mut SourceFd(&reg.fd), Self::token(id), interest) {
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {
                // SAFETY: F_DUPFD_CLOEXEC on an fd libxl keeps open has no memory effects.
                let d = unsafe { libc::fcntl(reg.fd, libc::F_DUPFD_CLOEXEC, 0) };
                if d < 0 {
                    return Err(io::Error::last_os_error());
                }
                // SAFETY: `d` is a fresh fd that nothing else owns.
                let dup = unsafe { OwnedFd::from_raw_fd(d) };
                self.registry.register(&mut SourceFd(&dup.as_raw_fd()), Self::token(id), interest)?;
                reg.dup = Some(dup);
            }
            other => other?,
        }
        reg.in_epoll = true;
        Ok(())
    }

    // C: libxlFDRegisterEventHook
    fn fd_register(&self, fd: RawFd, events: libc::c_short, for_libxl: usize) -> io::Result<u64> {
        let mut regs = self.regs();
        let id = regs.alloc_id().ok_or_else(|| io::Error::new(io::ErrorKind::OutOfMemory, "libxl fd ids exhausted"))?;
        let mut reg = FdReg { fd, dup: None, events, for_libxl, in_epoll: false };
        if let Some(interest) = interest_of(events) {
            self.add_to_epoll(&mut reg, id, interest)?;
        }
        regs.fds.insert(id, reg);
        Ok(id)
    }

    // C: libxlFDModifyEventHook
    fn fd_modify(&self, id: u64, events: libc::c_short) -> io::Result<()> {
        let mut regs = self.regs();
        let Some(reg) = regs.fds.get_mut(&id) else {
            return Err(io::Error::new(io::ErrorKind::NotFound, "unknown libxl fd registration"));
        };
        match (reg.in_epoll, interest_of(events)) {
            (true, Some(i)) => self.registry.reregister(&mut SourceFd(&reg.epoll_fd()), Self::token(id), i)?,
            (true, None) => {
                self.registry.deregister(&mut SourceFd(&reg.epoll_fd()))?;
                reg.in_epoll = false;
                reg.dup = None;
            }
            (false, Some(i)) => self.add_to_epoll(reg, id, i)?,
            (false, None) => {}
        }
        reg.events = events;
        Ok(())
    }

    // C: libxlFDDeregisterEventHook
    fn fd_deregister(&self, id: u64) {
        let Some(reg) = self.regs().fds.remove(&id) else { return };
        if reg.in_epoll {
            if let Err(e) = self.registry.deregister(&mut SourceFd(&reg.epoll_fd())) {
                debug!("libxl fd {}: deregister: {e}", reg.fd);
            }
        }
    }

    // C: libxlTimeoutRegisterEventHook
    fn timeout_register(&self, abs: libc::timeval, for_libxl: usize) -> Option<u64> {
        let id = {
            let mut regs = self.regs();
            let id = regs.alloc_id()?;
            regs.timeouts.insert(id, for_libxl);
            id
        };
        (self.schedule)(deadline_from(abs, SystemTime::now(), Instant::now()), TIMER_BASE + id);
        Some(id)
    }

    // C: libxlTimeoutModifyEventHook
    fn timeout_modify(&self, id: u64, abs: libc::timeval) {
        if !self.regs().timeouts.contains_key(&id) {
            // Already fired (libxl allows this race); nothing to move.
            return;
        }
        let at = if abs.tv_sec == 0 && abs.tv_usec == 0 { Instant::now() } else { deadline_from(abs, SystemTime::now(), Instant::now()) };
        (self.schedule)(at, TIMER_BASE + id);
    }

    // C: libxlTimeoutDeregisterEventHook
    fn timeout_deregister(&self, id: u64) {
        self.regs().timeouts.remove(&id);
    }

    /// The registration behind an Aux index: (for_libxl, the fd libxl knows, its events).
    pub(super) fn fd_target(&self, index: usize) -> Option<(usize, RawFd, libc::c_short)> {
        let id = index.checked_sub(AUX_BASE)? as u64;
        let regs = self.regs();
        let reg = regs.fds.get(&id)?;
        self.fd_calls.fetch_add(1, Ordering::Relaxed);
        Some((reg.for_libxl, reg.fd, reg.events))
    }

    /// After libxl handled an fd: re-arm it so a still-ready fd reports again (see above).
    pub(super) fn rearm(&self, index: usize) {
        let Some(id) = index.checked_sub(AUX_BASE).map(|i| i as u64) else { return };
        let regs = self.regs();
        let Some(reg) = regs.fds.get(&id) else { return };
        if let (true, Some(i)) = (reg.in_epoll, interest_of(reg.events)) {
            if let Err(e) = self.registry.reregister(&mut SourceFd(&reg.epoll_fd()), Self::token(id), i) {
                warn!("libxl fd {}: cannot re-arm: {e}", reg.fd);
            }
        }
    }

    /// Takes a due timeout: its for_libxl if it is still registered. Each registration is
    /// delivered at most once (libxl frees its side when told).
    pub(super) fn take_timeout(&self, key: u64) -> Option<usize> {
        let id = key.checked_sub(TIMER_BASE)?;
        let t = self.regs().timeouts.remove(&id);
        if t.is_some() {
            self.timeout_calls.fetch_add(1, Ordering::Relaxed);
        }
        t
    }
}

impl super::Ctx {
    /// The loop-side event object, for contexts made with `Ctx::with_events`.
    pub fn events(&self) -> Option<&LibxlEvents> {
        self.inner.events.as_deref()
    }

    /// Readiness of one of libxl's fds (an Aux token index for which `is_libxl_aux` holds).
    /// Call on the loop thread only, never from inside a libxl callback.
    // C: libxlFDEventCallback
    pub fn osevent_fd(&self, index: usize, readable: bool, writable: bool) {
        let Some(ev) = self.events() else { return };
        let Some((for_libxl, fd, events)) = ev.fd_target(index) else { return };
        // SAFETY: `for_libxl` is what libxl gave at registration; libxl tolerates stale
        // values (it keeps every nexus until the context is freed, and the context is alive
        // while `self` is). We hold none of our locks here.
        unsafe { sys::libxl_osevent_occurred_fd(self.raw(), for_libxl as *mut libc::c_void, fd, events, revents_of(readable, writable)) };
        ev.rearm(index);
    }

    /// A timer scheduled by libxl came due (a driver timer key for which `is_libxl_timer`
    /// holds). Call on the loop thread only.
    // C: libxlTimerCallback
    pub fn osevent_timeout(&self, key: u64) {
        let Some(ev) = self.events() else { return };
        let Some(for_libxl) = ev.take_timeout(key) else { return };
        // SAFETY: the timeout was registered and not yet delivered (take_timeout removed it,
        // so libxl hears of it exactly once); the context is alive; no lock of ours is held.
        unsafe { sys::libxl_osevent_occurred_timeout(self.raw(), for_libxl as *mut libc::c_void) };
    }
}

/// poll(2) events to a mio interest; None when nothing is asked (libxl may register so).
fn interest_of(events: libc::c_short) -> Option<Interest> {
    let mut i: Option<Interest> = None;
    let mut add = |x: Interest| i = Some(i.map_or(x, |i| i | x));
    if events & libc::POLLIN != 0 {
        add(Interest::READABLE);
    }
    if events & libc::POLLOUT != 0 {
        add(Interest::WRITABLE);
    }
    if events & libc::POLLPRI != 0 {
        add(Interest::PRIORITY);
    }
    i
}

/// mio readiness back to poll(2) revents for libxl (which re-polls anyway).
pub(super) fn revents_of(readable: bool, writable: bool) -> libc::c_short {
    (if readable { libc::POLLIN } else { 0 }) | (if writable { libc::POLLOUT } else { 0 })
}

/// libxl's absolute gettimeofday() deadline as an Instant; past deadlines are "now".
pub(super) fn deadline_from(abs: libc::timeval, now_wall: SystemTime, now: Instant) -> Instant {
    if abs.tv_sec < 0 || !(0..1_000_000).contains(&abs.tv_usec) {
        return now;
    }
    let at = UNIX_EPOCH + Duration::new(abs.tv_sec as u64, abs.tv_usec as u32 * 1000);
    match at.duration_since(now_wall) {
        // A day is far beyond any libxl timeout; the cap keeps Instant arithmetic safe.
        Ok(d) => now + d.min(Duration::from_secs(86_400)),
        Err(_) => now,
    }
}

/// Runs a hook body; a panic becomes `on_panic` instead of unwinding into libxl.
fn guard<T>(what: &str, on_panic: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| {
        log::error!("libxl {what} hook panicked");
        on_panic
    })
}

/// # Safety (all hooks)
/// `user` is the `LibxlEvents` registered with the context, kept alive by the context until
/// after libxl_ctx_free; the registration pointers are ids we stored there ourselves.
unsafe fn events_of<'a>(user: *mut libc::c_void) -> &'a LibxlEvents {
    // SAFETY: see above.
    unsafe { &*(user as *const LibxlEvents) }
}

unsafe extern "C" fn hook_fd_register(
    user: *mut libc::c_void,
    fd: libc::c_int,
    reg_out: *mut *mut libc::c_void,
    events: libc::c_short,
    for_libxl: *mut libc::c_void,
) -> libc::c_int {
    // SAFETY: see `events_of`.
    let ev = unsafe { events_of(user) };
    guard("fd_register", ERROR_OSEVENT_REG_FAIL, || match ev.fd_register(fd, events, for_libxl as usize) {
        Ok(id) => {
            // SAFETY: libxl passes a valid out pointer.
            unsafe { *reg_out = id as usize as *mut libc::c_void };
            0
        }
        Err(e) => {
            warn!("cannot watch libxl fd {fd}: {e}");
            ERROR_OSEVENT_REG_FAIL
        }
    })
}

unsafe extern "C" fn hook_fd_modify(
    user: *mut libc::c_void,
    fd: libc::c_int,
    reg_upd: *mut *mut libc::c_void,
    events: libc::c_short,
) -> libc::c_int {
    // SAFETY: see `events_of`; `reg_upd` points at the id we stored at registration.
    let (ev, id) = unsafe { (events_of(user), *reg_upd as usize as u64) };
    guard("fd_modify", ERROR_OSEVENT_REG_FAIL, || match ev.fd_modify(id, events) {
        Ok(()) => 0,
        Err(e) => {
            warn!("cannot update libxl fd {fd}: {e}");
            ERROR_OSEVENT_REG_FAIL
        }
    })
}

unsafe extern "C" fn hook_fd_deregister(user: *mut libc::c_void, _fd: libc::c_int, reg: *mut libc::c_void) {
    // SAFETY: see `events_of`.
    let ev = unsafe { events_of(user) };
    guard("fd_deregister", (), || ev.fd_deregister(reg as usize as u64));
}

unsafe extern "C" fn hook_timeout_register(
    user: *mut libc::c_void,
    reg_out: *mut *mut libc::c_void,
    abs: libc::timeval,
    for_libxl: *mut libc::c_void,
) -> libc::c_int {
    // SAFETY: see `events_of`.
    let ev = unsafe { events_of(user) };
    guard("timeout_register", ERROR_OSEVENT_REG_FAIL, || match ev.timeout_register(abs, for_libxl as usize) {
        Some(id) => {
            // SAFETY: libxl passes a valid out pointer.
            unsafe { *reg_out = id as usize as *mut libc::c_void };
            0
        }
        None => ERROR_OSEVENT_REG_FAIL,
    })
}

unsafe extern "C" fn hook_timeout_modify(user: *mut libc::c_void, reg_upd: *mut *mut libc::c_void, abs: libc::timeval) -> libc::c_int {
    // SAFETY: see `events_of`; `reg_upd` points at the id we stored at registration.
    let (ev, id) = unsafe { (events_of(user), *reg_upd as usize as u64) };
    guard("timeout_modify", ERROR_OSEVENT_REG_FAIL, || {
        ev.timeout_modify(id, abs);
        0
    })
}

unsafe extern "C" fn hook_timeout_deregister(user: *mut libc::c_void, reg: *mut libc::c_void) {
    // SAFETY: see `events_of`.
    let ev = unsafe { events_of(user) };
    guard("timeout_deregister", (), || ev.timeout_deregister(reg as usize as u64));
}

pub(super) static OSEVENT_HOOKS: sys::libxl_osevent_hooks = sys::libxl_osevent_hooks {
    fd_register: Some(hook_fd_register),
    fd_modify: Some(hook_fd_modify),
    fd_deregister: Some(hook_fd_deregister),
    timeout_register: Some(hook_timeout_register),
    timeout_modify: Some(hook_timeout_modify),
    timeout_deregister: Some(hook_timeout_deregister),
};

#[cfg(test)]
#[path = "osevent_tests.rs"]
mod tests;
