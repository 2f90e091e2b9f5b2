//! Tests of the loop side of libxl's osevent hooks, driven as libxl would drive them
//! (calling the C hook functions), against a real mio Poll and real pipes.

use super::*;
use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::{Arc, Mutex as StdMutex};

use mio::{Events, Poll};

use crate::util::sys as usys;

fn pipe() -> (OwnedFd, OwnedFd) {
    let (r, w) = usys::pipe().unwrap();
    usys::set_nonblocking(r.as_raw_fd()).unwrap();
    (r, w)
}

fn write_bytes(w: &OwnedFd, n: usize) {
    let mut f = std::fs::File::from(w.try_clone().unwrap());
    f.write_all(&vec![b'x'; n]).unwrap();
}

fn read_one(r: &OwnedFd) {
    let mut b = [0u8; 1];
    assert_eq!(usys::read_fd(r, &mut b).unwrap(), 1);
}

type Scheduled = Arc<StdMutex<Vec<(Instant, u64)>>>;

fn setup() -> (Poll, LibxlEvents, Scheduled) {
    let poll = Poll::new().unwrap();
    let sched: Scheduled = Arc::default();
    let s2 = Arc::clone(&sched);
    let ev = LibxlEvents::new(poll.registry(), move |at, key| s2.lock().unwrap().push((at, key))).unwrap();
    (poll, ev, sched)
}

fn user(ev: &LibxlEvents) -> *mut libc::c_void {
    ev as *const LibxlEvents as *mut libc::c_void
}

/// Registers `fd` through the C hook; returns the registration id libxl would store.
fn register(ev: &LibxlEvents, fd: RawFd, events: libc::c_short, for_libxl: usize) -> *mut libc::c_void {
    let mut reg: *mut libc::c_void = std::ptr::null_mut();
    // SAFETY: `ev` outlives the call; `reg` is a valid out pointer.
    let rc = unsafe { hook_fd_register(user(ev), fd, &mut reg, events, for_libxl as *mut libc::c_void) };
    assert_eq!(rc, 0);
    reg
}

fn poll_indexes(poll: &mut Poll) -> Vec<usize> {
    let mut events = Events::with_capacity(16);
    poll.poll(&mut events, Some(Duration::from_millis(0))).unwrap();
    events.iter().filter_map(|e| poll::split_token(e.token())).map(|p| p.index).collect()
}

#[test]
fn rearm_after_partial_read_reports_again() {
    // The spike behind the level-triggered decision: an edge-triggered fd that is still
    // readable reports again after EPOLL_CTL_MOD, and stops once drained.
    let (mut poll, ev, _) = setup();
    let (r, w) = pipe();
    register(&ev, r.as_raw_fd(), libc::POLLIN, 0x10);
    write_bytes(&w, 2);
    let idx = poll_indexes(&mut poll);
    assert_eq!(idx.len(), 1);
    assert!(poll_indexes(&mut poll).is_empty(), "edge-triggered: no second report by itself");
    read_one(&r);
    ev.rearm(idx[0]);
    assert_eq!(poll_indexes(&mut poll), idx, "still readable: reported again after re-arm");
    read_one(&r);
    ev.rearm(idx[0]);
    assert!(poll_indexes(&mut poll).is_empty(), "drained: no report after re-arm");
}

#[test]
fn fd_target_gives_libxl_fd_and_for_libxl() {
    let (mut poll, ev, _) = setup();
    let (r, w) = pipe();
    register(&ev, r.as_raw_fd(), libc::POLLIN, 0x1234);
    write_bytes(&w, 1);
    let idx = poll_indexes(&mut poll);
    assert!(is_libxl_aux(idx[0]));
    assert_eq!(ev.fd_target(idx[0]), Some((0x1234, r.as_raw_fd(), libc::POLLIN)));
    assert_eq!(ev.delivered().0, 1);
}

#[test]
fn deregistered_fd_events_are_ignored() {
    let (mut poll, ev, _) = setup();
    let (r, w) = pipe();
    let reg = register(&ev, r.as_raw_fd(), libc::POLLIN, 7);
    write_bytes(&w, 1);
    // SAFETY: `reg` came from the register hook of the same object.
    unsafe { hook_fd_deregister(user(&ev), r.as_raw_fd(), reg) };
    assert_eq!(ev.registered_fds(), 0);
    assert!(poll_indexes(&mut poll).is_empty());
    assert_eq!(ev.fd_target(AUX_BASE + reg as usize), None);
}

#[test]
fn same_fd_registered_twice_uses_dup() {
    let (mut poll, ev, _) = setup();
    let (r, w) = pipe();
    register(&ev, r.as_raw_fd(), libc::POLLIN, 1);
    register(&ev, r.as_raw_fd(), libc::POLLIN | libc::POLLPRI, 2);
    write_bytes(&w, 1);
    let mut idx = poll_indexes(&mut poll);
    idx.sort();
    assert_eq!(idx.len(), 2);
    let targets: Vec<_> = idx.iter().map(|&i| ev.fd_target(i).unwrap()).collect();
    assert_eq!(targets[0].1, r.as_raw_fd());
    assert_eq!(targets[1].1, r.as_raw_fd(), "libxl is told its own fd, not the dup");
}

#[test]
fn zero_events_registration_reports_nothing_until_modified() {
    let (mut poll, ev, _) = setup();
    let (r, w) = pipe();
    let mut reg = register(&ev, r.as_raw_fd(), 0, 3);
    write_bytes(&w, 1);
    assert!(poll_indexes(&mut poll).is_empty());
    // SAFETY: `reg` holds the id stored by the register hook.
    assert_eq!(unsafe { hook_fd_modify(user(&ev), r.as_raw_fd(), &mut reg, libc::POLLIN) }, 0);
    assert_eq!(poll_indexes(&mut poll).len(), 1, "already readable: reported at once");
}

#[test]
fn timeout_register_schedules_key_and_fires_once() {
    let (_poll, ev, sched) = setup();
    let mut reg: *mut libc::c_void = std::ptr::null_mut();
    let abs = libc::timeval { tv_sec: 0, tv_usec: 0 };
    // SAFETY: valid object and out pointer.
    assert_eq!(unsafe { hook_timeout_register(user(&ev), &mut reg, abs, 0x99 as *mut libc::c_void) }, 0);
    let (_, key) = sched.lock().unwrap()[0];
    assert!(is_libxl_timer(key));
    assert_eq!(ev.pending_timeouts(), 1);
    assert_eq!(ev.take_timeout(key), Some(0x99));
    assert_eq!(ev.take_timeout(key), None, "a timeout is delivered to libxl at most once");
}

#[test]
fn timeout_modify_schedules_again_asap() {
    let (_poll, ev, sched) = setup();
    let mut reg: *mut libc::c_void = std::ptr::null_mut();
    let far = libc::timeval { tv_sec: i64::MAX / 2, tv_usec: 0 };
    // SAFETY: valid object and out pointers.
    unsafe {
        hook_timeout_register(user(&ev), &mut reg, far, 5 as *mut libc::c_void);
        hook_timeout_modify(user(&ev), &mut reg, libc::timeval { tv_sec: 0, tv_usec: 0 });
    }
    let s = sched.lock().unwrap();
    assert_eq!(s.len(), 2);
    assert_eq!(s[0].1, s[1].1, "same key: whichever fires first delivers");
    assert!(s[1].0 <= Instant::now());
}

#[test]
fn timeout_modify_after_fire_is_ignored() {
    let (_poll, ev, sched) = setup();
    let mut reg: *mut libc::c_void = std::ptr::null_mut();
    // SAFETY: valid object and out pointers.
    unsafe { hook_timeout_register(user(&ev), &mut reg, libc::timeval { tv_sec: 0, tv_usec: 0 }, 5 as *mut libc::c_void) };
    let key = sched.lock().unwrap()[0].1;
    ev.take_timeout(key);
    // SAFETY: as above.
    unsafe { hook_timeout_modify(user(&ev), &mut reg, libc::timeval { tv_sec: 0, tv_usec: 0 }) };
    assert_eq!(sched.lock().unwrap().len(), 1);
}

#[test]
fn deadline_from_past_or_bad_is_now() {
    let now = Instant::now();
    let wall = SystemTime::now();
    assert_eq!(deadline_from(libc::timeval { tv_sec: 1, tv_usec: 0 }, wall, now), now);
    assert_eq!(deadline_from(libc::timeval { tv_sec: -5, tv_usec: 0 }, wall, now), now);
    assert_eq!(deadline_from(libc::timeval { tv_sec: 1, tv_usec: 2_000_000 }, wall, now), now);
}

#[test]
fn deadline_from_future_adds_difference_capped() {
    let now = Instant::now();
    let wall = UNIX_EPOCH + Duration::from_secs(1000);
    let abs = libc::timeval { tv_sec: 1002, tv_usec: 500_000 };
    assert_eq!(deadline_from(abs, wall, now), now + Duration::from_millis(2500));
    let far = libc::timeval { tv_sec: i64::MAX / 4, tv_usec: 0 };
    assert_eq!(deadline_from(far, wall, now), now + Duration::from_secs(86_400));
}

#[test]
fn token_ranges_do_not_overlap_other_uses() {
    assert!(!is_libxl_aux(0));
    assert!(!is_libxl_aux(AUX_BASE - 1));
    assert!(is_libxl_aux(AUX_BASE + 1));
    assert!(!is_libxl_timer(0));
    assert!(!is_libxl_timer(u64::MAX));
    assert!(is_libxl_timer(TIMER_BASE + 1));
}
