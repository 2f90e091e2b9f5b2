//! Real libxl, through virtlite's libxl_ffi, over the fake Xen host (t/fakexen/, DESIGN.md
//! section 5): context set-up, host queries, domain life cycle, persistence across
//! processes, guest-initiated shutdowns delivered as events through a mio poll loop, and
//! libxl's JSON parser on our golden configs.
//!
//! LD_PRELOAD only works from exec time, so each test re-executes this binary for one
//! `#[ignore]`d `child_*` test with the fake's environment (`run_child`); the child does
//! the libxl work and its assertions, the parent checks that it passed and what
//! `fakexenctl` sees. A `child_*` test run by hand without that environment does nothing.

mod common;

use std::fs;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mio::{Events, Poll};

use common::fakexen::FakeXen;
use common::TestDir;
use virtlite::libxl_ffi::{
    is_libxl_aux, ConsoleType, Ctx, DomainConfig, LibxlEvent, LibxlEvents, LogLevel, Logger, ShutdownReason, ERROR_INVAL, ERROR_NOPARAVIRT,
};
use virtlite::poll::{split_token, TokenKind};

const PV_JSON: &str = include_str!("data/xml2json/fakexen-pv.json");
const PV_NAME: &str = "fakexen-pv";
/// Extra data for a child, passed in the environment.
const ENV_ARG: &str = "FAKEXEN_TEST_ARG";
/// What a child prints once it knows it runs over the fake (the parent checks for it).
const CHILD_MARK: &str = "fakexen child: running over";
static OUT_SEQ: AtomicUsize = AtomicUsize::new(0);
const CHILD_LIMIT: Duration = Duration::from_secs(60);
const EVENT_LIMIT: Duration = Duration::from_secs(10);

// ---- the parent side ----

/// Runs the `child` test in a new process over `fx`; returns its combined output, or
/// panics with it when the child failed.
fn run_child(fx: &FakeXen, child: &str, arg: &str) -> String {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = fx.state.parent().expect("state dir");
    let out_path = dir.join(format!("{child}-{}.out", OUT_SEQ.fetch_add(1, Ordering::SeqCst)));
    let out = fs::File::create(&out_path).expect("child output file");
    let err = out.try_clone().expect("dup output file");
    let mut cmd = Command::new(exe);
    cmd.args(["--exact", child, "--ignored", "--nocapture", "--test-threads=1"])
        .envs(fx.env())
        .env(ENV_ARG, arg)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    let mut proc_ = cmd.spawn().expect("spawn child test");
    let start = Instant::now();
    let status = loop {
        if let Some(st) = proc_.try_wait().expect("wait child") {
            break Some(st);
        }
        if start.elapsed() > CHILD_LIMIT {
            let _ = proc_.kill();
            let _ = proc_.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let text = fs::read_to_string(&out_path).unwrap_or_default();
    match status {
        Some(st) if st.success() && text.contains("test result: ok. 1 passed") && text.contains(CHILD_MARK) => text,
        Some(st) => panic!("child {child} failed ({st}):\n{text}"),
        None => panic!("child {child} timed out after {CHILD_LIMIT:?}:\n{text}"),
    }
}

fn host(tag: &str) -> (TestDir, FakeXen) {
    let dir = TestDir::new(tag);
    let fx = FakeXen::new(&dir.path);
    (dir, fx)
}

// ---- the child side ----

/// The fake this child runs over, or None when run by hand (the test then does nothing).
fn child_fake() -> Option<FakeXen> {
    let fx = FakeXen::from_env();
    match &fx {
        Some(fx) => eprintln!("{CHILD_MARK} {}", fx.state.display()),
        None => eprintln!("not started by its parent test: nothing to do"),
    }
    fx
}

fn child_arg() -> String {
    std::env::var(ENV_ARG).unwrap_or_default()
}

fn ctx() -> Ctx {
    Ctx::new(Logger::to_stderr(LogLevel::Error).expect("logger")).expect("libxl context over the fake")
}

/// Creates the golden PV domain (left paused, as libxl leaves it).
fn create_pv(ctx: &Ctx) -> u32 {
    let mut cfg = DomainConfig::from_json(ctx, PV_JSON).expect("PV config parses");
    ctx.domain_create_new(&mut cfg).expect("create")
}

/// A context wired to a mio poll loop, collecting the events libxl delivers.
struct EventLoop {
    poll: Poll,
    ctx: Ctx,
    timers: Arc<Mutex<Vec<(Instant, u64)>>>,
    seen: Arc<Mutex<Vec<LibxlEvent>>>,
}

impl EventLoop {
    fn new() -> EventLoop {
        let poll = Poll::new().expect("poll");
        let timers: Arc<Mutex<Vec<(Instant, u64)>>> = Arc::default();
        let t2 = Arc::clone(&timers);
        let events = LibxlEvents::new(poll.registry(), move |at, key| t2.lock().expect("timers").push((at, key))).expect("events");
        let seen: Arc<Mutex<Vec<LibxlEvent>>> = Arc::default();
        let s2 = Arc::clone(&seen);
        let logger = Logger::to_stderr(LogLevel::Error).expect("logger");
        let ctx = Ctx::with_events(logger, Arc::new(events), move |ev| s2.lock().expect("seen").push(ev)).expect("context with events");
        EventLoop { poll, ctx, timers, seen }
    }

    fn due_timer(&self, now: Instant) -> Option<u64> {
        let mut t = self.timers.lock().expect("timers");
        let i = t.iter().position(|(at, _)| *at <= now)?;
        Some(t.swap_remove(i).1)
    }

    /// Serves libxl's fds and timeouts until an event matching `want` arrives (returned,
    /// with everything seen before it drained) or EVENT_LIMIT passes (None).
    fn wait(&mut self, want: impl Fn(&LibxlEvent) -> bool) -> Option<(LibxlEvent, Vec<LibxlEvent>)> {
        let deadline = Instant::now() + EVENT_LIMIT;
        let mut events = Events::with_capacity(32);
        loop {
            {
                let mut seen = self.seen.lock().expect("seen");
                if let Some(i) = seen.iter().position(&want) {
                    let hit = seen.remove(i);
                    let before: Vec<LibxlEvent> = seen.drain(..i).collect();
                    return Some((hit, before));
                }
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            let next_timer = self.timers.lock().expect("timers").iter().map(|(at, _)| *at).min();
            let until = next_timer.map_or(deadline, |t| t.min(deadline));
            self.poll.poll(&mut events, Some(until.saturating_duration_since(now))).expect("poll");
            for e in events.iter() {
                if let Some(t) = split_token(e.token()) {
                    if t.kind == TokenKind::Aux && is_libxl_aux(t.index) {
                        self.ctx.osevent_fd(t.index, e.is_readable() || e.is_read_closed(), e.is_writable());
                    }
                }
            }
            while let Some(key) = self.due_timer(Instant::now()) {
                self.ctx.osevent_timeout(key);
            }
        }
    }
}

// ---- context and host ----

#[test]
fn ctx_over_fake_reports_version_and_physinfo() {
    let (_d, fx) = host("fx-ver");
    run_child(&fx, "child_version_physinfo", "");
}

#[test]
#[ignore = "run by ctx_over_fake_reports_version_and_physinfo"]
fn child_version_physinfo() {
    let Some(_) = child_fake() else { return };
    let ctx = ctx();
    let v = ctx.version_info().expect("version");
    assert_eq!((v.major, v.minor), (4, 17));
    assert!(v.capabilities.contains("xen-3.0-x86_64"), "{}", v.capabilities);
    assert!(v.commandline.contains("dom0_mem="), "{}", v.commandline);
    let p = ctx.physinfo().expect("physinfo");
    assert_eq!(p.nr_cpus, ctx.max_cpus().expect("max cpus"));
    assert_eq!(p.nr_nodes, ctx.max_nodes().expect("max nodes"));
    let free = ctx.free_memory_kb().expect("free memory");
    assert_eq!(p.free_pages * 4, free);
    assert!(free > 0 && free < p.total_pages * 4);
    let numa = ctx.numainfo().expect("numainfo");
    assert_eq!(numa.len(), p.nr_nodes as usize);
    assert_eq!(numa[0].free, free * 1024);
    assert_eq!(ctx.cpu_topology().expect("topology").len(), p.nr_cpus as usize);
}

#[test]
fn list_fresh_host_shows_only_domain0() {
    let (_d, fx) = host("fx-list");
    run_child(&fx, "child_list_domain0", "");
}

#[test]
#[ignore = "run by list_fresh_host_shows_only_domain0"]
fn child_list_domain0() {
    let Some(_) = child_fake() else { return };
    let ctx = ctx();
    let list = ctx.list_domains().expect("list");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].domid, 0);
    assert!(list[0].running && list[0].current_memkb > 0);
    assert_eq!(ctx.domid_to_name(0).as_deref(), Some("Domain-0"));
    assert_eq!(ctx.name_to_domid("Domain-0").expect("lookup"), Some(0));
    assert_eq!(ctx.name_to_domid("nosuch").expect("lookup"), None);
    assert!(ctx.domain_info(7).expect_err("no domain 7").is_domain_not_found());
}

// ---- life cycle ----

#[test]
fn create_pv_domain_is_listed_and_found_by_name() {
    let (_d, fx) = host("fx-create");
    run_child(&fx, "child_create_pv", "");
    let (rc, out) = fx.ctl(&["show", PV_NAME]);
    assert_eq!(rc, 0, "{out}");
    assert!(out.contains("state: paused") && out.contains("max_kb: 262144") && out.contains("online: 2"), "{out}");
}

#[test]
#[ignore = "run by create_pv_domain_is_listed_and_found_by_name"]
fn child_create_pv() {
    let Some(_) = child_fake() else { return };
    let ctx = ctx();
    let free_before = ctx.free_memory_kb().expect("free");
    let domid = create_pv(&ctx);
    assert!(domid > 0);
    let info = ctx.domain_info(domid).expect("info");
    assert!(info.paused && !info.running && !info.shutdown);
    assert_eq!((info.max_memkb, info.current_memkb), (262144, 262144));
    assert_eq!((info.vcpu_max_id, info.vcpu_online), (1, 2));
    assert_eq!(virtlite::libxl_ffi::uuid_string(&info.uuid), "6d3c1f0e-2b7a-4c55-9e1d-0a7b3c5d9f21");
    assert_eq!(ctx.name_to_domid(PV_NAME).expect("lookup"), Some(domid));
    assert_eq!(ctx.domid_to_name(domid).as_deref(), Some(PV_NAME));
    let ids: Vec<u32> = ctx.list_domains().expect("list").iter().map(|d| d.domid).collect();
    assert_eq!(ids, vec![0, domid]);
    assert_eq!(ctx.free_memory_kb().expect("free"), free_before - 262144);
}

#[test]
fn create_duplicate_name_is_refused_with_inval() {
    let (_d, fx) = host("fx-dup");
    run_child(&fx, "child_create_duplicate", "");
}

#[test]
#[ignore = "run by create_duplicate_name_is_refused_with_inval"]
fn child_create_duplicate() {
    let Some(_) = child_fake() else { return };
    let ctx = ctx();
    create_pv(&ctx);
    let mut cfg = DomainConfig::from_json(&ctx, PV_JSON).expect("config");
    let err = ctx.domain_create_new(&mut cfg).expect_err("duplicate name");
    assert_eq!(err.code(), Some(ERROR_INVAL));
    assert_eq!(ctx.list_domains().expect("list").len(), 2);
}

#[test]
fn pause_and_unpause_change_running_state() {
    let (_d, fx) = host("fx-pause");
    run_child(&fx, "child_pause_unpause", "");
}

#[test]
#[ignore = "run by pause_and_unpause_change_running_state"]
fn child_pause_unpause() {
    let Some(_) = child_fake() else { return };
    let ctx = ctx();
    let domid = create_pv(&ctx);
    ctx.domain_unpause(domid).expect("unpause");
    let i = ctx.domain_info(domid).expect("info");
    assert!(i.running && !i.paused);
    ctx.domain_pause(domid).expect("pause");
    let i = ctx.domain_info(domid).expect("info");
    assert!(i.paused && !i.running);
    assert_eq!(ctx.domain_pause(0).expect_err("Domain-0").code(), Some(ERROR_INVAL));
}

#[test]
fn destroy_removes_domain() {
    let (_d, fx) = host("fx-destroy");
    run_child(&fx, "child_destroy", "");
    let (rc, out) = fx.ctl(&["list"]);
    assert_eq!(rc, 0, "{out}");
    assert!(!out.contains(PV_NAME), "{out}");
}

#[test]
#[ignore = "run by destroy_removes_domain"]
fn child_destroy() {
    let Some(_) = child_fake() else { return };
    let ctx = ctx();
    let domid = create_pv(&ctx);
    ctx.domain_destroy(domid).expect("destroy");
    assert!(ctx.domain_info(domid).expect_err("gone").is_domain_not_found());
    assert_eq!(ctx.name_to_domid(PV_NAME).expect("lookup"), None);
    assert!(ctx.domain_destroy(domid).expect_err("twice").is_domain_not_found());
}

#[test]
fn memory_target_above_max_is_refused() {
    let (_d, fx) = host("fx-mem");
    run_child(&fx, "child_memory", "");
}

#[test]
#[ignore = "run by memory_target_above_max_is_refused"]
fn child_memory() {
    let Some(_) = child_fake() else { return };
    let ctx = ctx();
    let domid = create_pv(&ctx);
    assert_eq!(ctx.set_memory_target(domid, 262145, false, true).expect_err("above max").code(), Some(ERROR_INVAL));
    ctx.set_memory_target(domid, -65536, true, true).expect("balloon down");
    assert_eq!(ctx.domain_info(domid).expect("info").current_memkb, 196608);
    assert_eq!(ctx.set_max_memory(domid, 131072).expect_err("below current").code(), Some(ERROR_INVAL));
    ctx.set_max_memory(domid, 524288).expect("raise max");
    assert_eq!(ctx.domain_info(domid).expect("info").max_memkb, 524288);
}

#[test]
fn userdata_and_config_survive_into_second_process() {
    let (_d, fx) = host("fx-persist");
    run_child(&fx, "child_persist_store", "");
    let (rc, out) = fx.ctl(&["show", PV_NAME]);
    assert_eq!(rc, 0, "{out}");
    assert!(out.contains("userdata: libvirt-xml 20"), "{out}");
    run_child(&fx, "child_persist_load", "");
}

#[test]
#[ignore = "run by userdata_and_config_survive_into_second_process"]
fn child_persist_store() {
    let Some(_) = child_fake() else { return };
    let ctx = ctx();
    let domid = create_pv(&ctx);
    ctx.userdata_store(domid, "libvirt-xml", b"<domain>one</domain>").expect("store");
}

#[test]
#[ignore = "run by userdata_and_config_survive_into_second_process"]
fn child_persist_load() {
    let Some(_) = child_fake() else { return };
    let ctx = ctx();
    let domid = ctx.name_to_domid(PV_NAME).expect("lookup").expect("domain still there");
    let data = ctx.userdata_retrieve(domid, "libvirt-xml").expect("retrieve");
    assert_eq!(data.as_deref(), Some(&b"<domain>one</domain>"[..]));
    assert_eq!(ctx.userdata_retrieve(domid, "nothing-here").expect("retrieve"), None);
    let json = ctx.retrieve_domain_configuration(domid).expect("config").to_json(&ctx).expect("json");
    assert!(json.contains("\"fakexen-pv\"") && json.contains("262144"), "{json}");
}

#[test]
fn console_tty_shows_guest_banner() {
    let (_d, fx) = host("fx-console");
    run_child(&fx, "child_console", "");
}

#[test]
#[ignore = "run by console_tty_shows_guest_banner"]
fn child_console() {
    let Some(_) = child_fake() else { return };
    let ctx = ctx();
    let domid = create_pv(&ctx);
    let path = ctx.console_tty(domid, 0, ConsoleType::Pv).expect("console path");
    assert!(path.starts_with("/dev/pts/"), "{path}");
    assert_eq!(ctx.console_tty(domid, 0, ConsoleType::Pv).expect("again"), path);
    let mut tty = fs::OpenOptions::new().read(true).write(true).open(&path).expect("open pty");
    let want = format!("fakexen console of domain {PV_NAME} (id {domid})\r\n");
    let mut buf = vec![0u8; want.len()];
    tty.read_exact(&mut buf).expect("banner");
    assert_eq!(String::from_utf8_lossy(&buf), want);
    assert!(ctx.console_tty(domid, 1, ConsoleType::Pv).is_err());
}

// ---- events ----

/// Creates and starts the PV guest with a death watch; returns (loop, domid, watch).
fn started_guest() -> (EventLoop, u32, virtlite::libxl_ffi::DeathWatch) {
    let el = EventLoop::new();
    let domid = create_pv(&el.ctx);
    el.ctx.domain_unpause(domid).expect("unpause");
    let watch = el.ctx.enable_domain_death(domid, 4242).expect("death watch");
    (el, domid, watch)
}

fn ctl_in_child(args: &[&str]) {
    let fx = FakeXen::from_env().expect("fake environment");
    let (rc, out) = fx.ctl(args);
    assert_eq!(rc, 0, "fakexenctl {args:?}: {out}");
}

#[test]
fn ctl_crash_delivers_shutdown_crash_then_death_after_destroy() {
    let (_d, fx) = host("fx-crash");
    run_child(&fx, "child_crash_events", "");
}

#[test]
#[ignore = "run by ctl_crash_delivers_shutdown_crash_then_death_after_destroy"]
fn child_crash_events() {
    let Some(_) = child_fake() else { return };
    let (mut el, domid, _watch) = started_guest();
    ctl_in_child(&["crash", PV_NAME]);
    let (ev, _) = el.wait(|e| matches!(e, LibxlEvent::Shutdown { .. })).expect("DOMAIN_SHUTDOWN");
    assert_eq!(ev, LibxlEvent::Shutdown { domid, reason: ShutdownReason::Crash, for_user: 4242 });
    let i = el.ctx.domain_info(domid).expect("a shut-down domain stays");
    assert!(i.shutdown && i.shutdown_reason == ShutdownReason::Crash);
    el.ctx.domain_destroy(domid).expect("destroy");
    let (ev, before) = el.wait(|e| matches!(e, LibxlEvent::Death { .. })).expect("DOMAIN_DEATH");
    assert_eq!(ev, LibxlEvent::Death { domid, for_user: 4242 });
    assert!(before.is_empty(), "no second shutdown event: {before:?}");
}

#[test]
fn ctl_poweroff_delivers_shutdown_poweroff() {
    let (_d, fx) = host("fx-poweroff");
    run_child(&fx, "child_poweroff_event", "");
}

#[test]
#[ignore = "run by ctl_poweroff_delivers_shutdown_poweroff"]
fn child_poweroff_event() {
    let Some(_) = child_fake() else { return };
    let (mut el, domid, _watch) = started_guest();
    ctl_in_child(&["poweroff", &domid.to_string()]);
    let (ev, _) = el.wait(|e| matches!(e, LibxlEvent::Shutdown { .. })).expect("DOMAIN_SHUTDOWN");
    assert_eq!(ev, LibxlEvent::Shutdown { domid, reason: ShutdownReason::Poweroff, for_user: 4242 });
}

#[test]
fn ctl_reboot_delivers_shutdown_reboot() {
    let (_d, fx) = host("fx-ctlreboot");
    run_child(&fx, "child_ctl_reboot_event", "");
}

#[test]
#[ignore = "run by ctl_reboot_delivers_shutdown_reboot"]
fn child_ctl_reboot_event() {
    let Some(_) = child_fake() else { return };
    let (mut el, domid, _watch) = started_guest();
    ctl_in_child(&["reboot", PV_NAME]);
    let (ev, _) = el.wait(|e| matches!(e, LibxlEvent::Shutdown { .. })).expect("DOMAIN_SHUTDOWN");
    assert_eq!(ev, LibxlEvent::Shutdown { domid, reason: ShutdownReason::Reboot, for_user: 4242 });
}

#[test]
fn reboot_request_shuts_down_with_reboot_after_delay() {
    let (_d, fx) = host("fx-reboot");
    run_child(&fx, "child_reboot_request", "");
}

#[test]
#[ignore = "run by reboot_request_shuts_down_with_reboot_after_delay"]
fn child_reboot_request() {
    let Some(_) = child_fake() else { return };
    let (mut el, domid, _watch) = started_guest();
    el.ctx.domain_reboot(domid).expect("reboot request");
    assert!(!el.ctx.domain_info(domid).expect("info").shutdown, "the guest takes a while to react");
    let (ev, _) = el.wait(|e| matches!(e, LibxlEvent::Shutdown { .. })).expect("DOMAIN_SHUTDOWN");
    assert_eq!(ev, LibxlEvent::Shutdown { domid, reason: ShutdownReason::Reboot, for_user: 4242 });
}

#[test]
fn shutdown_request_powers_off_after_delay() {
    let (_d, fx) = host("fx-shutdown");
    run_child(&fx, "child_shutdown_request", "");
}

#[test]
#[ignore = "run by shutdown_request_powers_off_after_delay"]
fn child_shutdown_request() {
    let Some(_) = child_fake() else { return };
    let (mut el, domid, _watch) = started_guest();
    el.ctx.domain_shutdown(domid).expect("shutdown request");
    let (ev, _) = el.wait(|e| matches!(e, LibxlEvent::Shutdown { .. })).expect("DOMAIN_SHUTDOWN");
    assert_eq!(ev, LibxlEvent::Shutdown { domid, reason: ShutdownReason::Poweroff, for_user: 4242 });
}

#[test]
fn hvm_guest_without_pv_drivers_refuses_pv_shutdown() {
    let (_d, fx) = host("fx-hvm");
    run_child(&fx, "child_hvm_noparavirt", "");
}

#[test]
#[ignore = "run by hvm_guest_without_pv_drivers_refuses_pv_shutdown"]
fn child_hvm_noparavirt() {
    let Some(_) = child_fake() else { return };
    let ctx = ctx();
    let json = r#"{"c_info": {"type": "hvm", "name": "fx-hvm"}, "b_info": {"max_memkb": 131072, "type.hvm": {}}}"#;
    let mut cfg = DomainConfig::from_json(&ctx, json).expect("HVM config");
    let domid = ctx.domain_create_new(&mut cfg).expect("create");
    assert_eq!(ctx.domain_shutdown(domid).expect_err("no PV drivers").code(), Some(ERROR_NOPARAVIRT));
    ctx.send_trigger(domid, virtlite::libxl_ffi::Trigger::Power, 0).expect("ACPI power button");
}

#[test]
fn death_watch_on_missing_domain_reports_death() {
    let (_d, fx) = host("fx-missing");
    run_child(&fx, "child_watch_missing", "");
}

#[test]
#[ignore = "run by death_watch_on_missing_domain_reports_death"]
fn child_watch_missing() {
    let Some(_) = child_fake() else { return };
    let mut el = EventLoop::new();
    let _watch = el.ctx.enable_domain_death(77, 9).expect("death watch");
    let (ev, _) = el.wait(|e| matches!(e, LibxlEvent::Death { .. })).expect("DOMAIN_DEATH");
    assert_eq!(ev, LibxlEvent::Death { domid: 77, for_user: 9 });
}

#[test]
fn shutdown_while_no_daemon_is_reported_to_next_watcher() {
    let (_d, fx) = host("fx-reconnect");
    run_child(&fx, "child_start_guest", "");
    let (rc, out) = fx.ctl(&["crash", PV_NAME]);
    assert_eq!(rc, 0, "{out}");
    run_child(&fx, "child_watch_reports_crash", "");
}

#[test]
#[ignore = "run by shutdown_while_no_daemon_is_reported_to_next_watcher"]
fn child_start_guest() {
    let Some(_) = child_fake() else { return };
    let ctx = ctx();
    let domid = create_pv(&ctx);
    ctx.domain_unpause(domid).expect("unpause");
}

#[test]
#[ignore = "run by shutdown_while_no_daemon_is_reported_to_next_watcher"]
fn child_watch_reports_crash() {
    let Some(_) = child_fake() else { return };
    let mut el = EventLoop::new();
    let domid = el.ctx.name_to_domid(PV_NAME).expect("lookup").expect("the crashed guest stays");
    let _watch = el.ctx.enable_domain_death(domid, 1).expect("death watch");
    let (ev, _) = el.wait(|e| matches!(e, LibxlEvent::Shutdown { .. })).expect("DOMAIN_SHUTDOWN");
    assert_eq!(ev, LibxlEvent::Shutdown { domid, reason: ShutdownReason::Crash, for_user: 1 });
}

#[test]
fn concurrent_creates_get_distinct_domids() {
    let (_d, fx) = host("fx-concurrent");
    let names = ["fx-a", "fx-b", "fx-c"];
    std::thread::scope(|s| {
        for n in names {
            let fx = &fx;
            s.spawn(move || run_child(fx, "child_create_named", n));
        }
    });
    let (rc, out) = fx.ctl(&["list"]);
    assert_eq!(rc, 0, "{out}");
    let mut ids: Vec<&str> = out.lines().skip(1).filter_map(|l| l.split(' ').next()).collect();
    ids.sort();
    assert_eq!(ids, vec!["0", "1", "2", "3"], "{out}");
    for n in names {
        assert!(out.contains(&format!(" {n} paused ")), "{out}");
    }
}

#[test]
#[ignore = "run by concurrent_creates_get_distinct_domids"]
fn child_create_named() {
    let Some(_) = child_fake() else { return };
    let ctx = ctx();
    let name = child_arg();
    let json = PV_JSON.replace(PV_NAME, &name).replace("\"uuid\": \"6d3c1f0e-2b7a-4c55-9e1d-0a7b3c5d9f21\",", "");
    let mut cfg = DomainConfig::from_json(&ctx, &json).expect("config");
    let domid = ctx.domain_create_new(&mut cfg).expect("create");
    assert_eq!(ctx.domid_to_name(domid), Some(name));
}

// ---- bad state, fakexenctl ----

#[test]
fn malformed_state_file_fails_context_with_clear_error() {
    let (_d, fx) = host("fx-bad");
    fs::write(&fx.state, "not a state file\n").expect("write state");
    let out = run_child(&fx, "child_bad_state", "");
    assert!(out.contains("line 1: expected \"fakexen-state 1\""), "{out}");
}

#[test]
#[ignore = "run by malformed_state_file_fails_context_with_clear_error"]
fn child_bad_state() {
    let Some(_) = child_fake() else { return };
    let logger = Logger::to_stderr(LogLevel::Error).expect("logger");
    assert!(Ctx::new(logger).is_err(), "a broken host must not give a context");
}

#[test]
fn ctl_check_reports_line_of_bad_record() {
    let (d, fx) = host("fx-check");
    let bad = d.write("bad-state", "fakexen-state 1\nhost next_domid=1\ndom id=0 name=Domain-0\nend\n");
    let (rc, out) = fx.ctl(&["check", &bad.display().to_string()]);
    assert_eq!(rc, 1, "{out}");
    assert!(out.contains("line 3: bad dom record"), "{out}");
}

#[test]
fn ctl_check_rejects_truncated_file() {
    let (d, fx) = host("fx-trunc");
    let bad = d.write("trunc-state", "fakexen-state 1\nhost next_domid=1\n");
    let (rc, out) = fx.ctl(&["check", &bad.display().to_string()]);
    assert_eq!(rc, 1, "{out}");
    assert!(out.contains("missing \"end\""), "{out}");
}

#[test]
fn ctl_list_shows_domain0_running() {
    let (_d, fx) = host("fx-ctllist");
    let (rc, out) = fx.ctl(&["list"]);
    assert_eq!(rc, 0, "{out}");
    assert_eq!(out, "ID NAME STATE MEM_KB VCPUS\n0 Domain-0 running 1048576 4\n");
}

#[test]
fn ctl_check_accepts_state_written_by_fake() {
    let (_d, fx) = host("fx-checkok");
    run_child(&fx, "child_create_pv", "");
    let (rc, out) = fx.ctl(&["check", &fx.state.display().to_string()]);
    assert_eq!(rc, 0, "{out}");
}

#[test]
fn ctl_crash_domain0_is_refused() {
    let (_d, fx) = host("fx-dom0");
    let (rc, out) = fx.ctl(&["crash", "0"]);
    assert_eq!(rc, 1, "{out}");
    assert!(out.contains("Domain-0"), "{out}");
}

#[test]
fn ctl_unknown_domain_is_refused() {
    let (_d, fx) = host("fx-nodom");
    let (rc, out) = fx.ctl(&["poweroff", "nosuch"]);
    assert_eq!(rc, 1, "{out}");
    assert!(out.contains("no domain nosuch"), "{out}");
}

#[test]
fn ctl_without_command_prints_usage() {
    let (_d, fx) = host("fx-usage");
    let (rc, out) = fx.ctl(&[]);
    assert_eq!(rc, 2, "{out}");
    assert!(out.contains("usage:"), "{out}");
}

// ---- golden JSON ----

#[test]
fn xml2json_golden_files_parse_and_round_trip() {
    let (_d, fx) = host("fx-golden");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("t/data/xml2json");
    let out = run_child(&fx, "child_golden_round_trip", &dir.display().to_string());
    assert!(out.contains("golden: fakexen-pv.json ok"), "{out}");
}

#[test]
#[ignore = "run by xml2json_golden_files_parse_and_round_trip"]
fn child_golden_round_trip() {
    let Some(_) = child_fake() else { return };
    let ctx = ctx();
    let dir = child_arg();
    let mut files: Vec<_> = fs::read_dir(&dir)
        .expect("golden dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no golden files in {dir}");
    for f in files {
        let text = fs::read_to_string(&f).expect("golden file");
        let cfg = DomainConfig::from_json(&ctx, &text).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let once = cfg.to_json(&ctx).expect("to_json");
        let twice = DomainConfig::from_json(&ctx, &once).expect("reparse").to_json(&ctx).expect("to_json again");
        assert_eq!(once, twice, "{} does not round-trip", f.display());
        eprintln!("golden: {} ok", f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
    }
}
