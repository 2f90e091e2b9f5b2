//! virtxend on the fake Xen host (t/fakexen/), driven by Debian's virsh and python3-libvirt,
//! directly and through our virtproxyd: the lifecycle, events, on_* actions, restart with
//! running guests, bad XML, read-only clients, many clients.
//!
//! Every test runs its own fake host (state file), its own VIRTLITE_ROOT (the driver's
//! /etc, /run and /var paths) and its own daemons. Needs root, as virtxend does.

mod common;

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::fakexen::FakeXen;
use common::{is_root, run_with_timeout, text, wait_for, Daemon, TestDir, PROXY};

const XEND: &str = env!("CARGO_BIN_EXE_virtxend");

const PV_XML: &str = "<domain type='xen'>
  <name>NAME</name>
  <memory unit='MiB'>256</memory>
  <vcpu>2</vcpu>
  <os><type>linux</type><kernel>/boot/vmlinuz</kernel><cmdline>console=hvc0</cmdline></os>
  EXTRA
  <devices>
    <disk type='file' device='disk'><source file='/var/lib/xen/images/NAME.img'/><target dev='xvda' bus='xen'/></disk>
    <interface type='bridge'><source bridge='xenbr0'/></interface>
    <console type='pty'/>
  </devices>
</domain>
";

fn pv_xml(name: &str, extra: &str) -> String {
    PV_XML.replace("NAME", name).replace("EXTRA", extra)
}

/// A fake Xen host with its driver state under one directory.
struct Host {
    dir: TestDir,
    fx: FakeXen,
    root: PathBuf,
    sockdir: PathBuf,
}

impl Host {
    fn new(tag: &str) -> Host {
        assert!(is_root(), "virtxend's tests need root");
        let dir = TestDir::new(tag);
        let fx = FakeXen::new(&dir.path);
        let root = dir.join("root");
        let sockdir = root.join("run/libvirt");
        fs::create_dir_all(&sockdir).unwrap();
        fs::write(dir.join("virtxend.conf"), format!("unix_sock_dir = \"{}\"\n", sockdir.display())).unwrap();
        Host { dir, fx, root, sockdir }
    }

    fn command(&self, bin: &str) -> Command {
        let mut c = Command::new(bin);
        for (k, v) in self.fx.env() {
            c.env(k, v);
        }
        c.env("VIRTLITE_ROOT", &self.root).env_remove("LIBVIRT_DEBUG").env_remove("LIBVIRT_LOG_OUTPUTS").env_remove("LIBVIRT_LOG_FILTERS");
        c
    }

    /// Starts virtxend in the foreground and waits for its socket.
    fn start(&self) -> Daemon {
        self.start_with(&[])
    }

    fn start_with(&self, args: &[&str]) -> Daemon {
        let sock = self.sockdir.join("virtxend-sock");
        let _ = fs::remove_file(&sock);
        let child = self
            .command(XEND)
            .arg("-f")
            .arg(self.dir.join("virtxend.conf"))
            .arg("-p")
            .arg(self.dir.join("virtxend.pid"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut d = Daemon { child, dir: self.dir.path.clone() };
        if !wait_for(Duration::from_secs(10), || sock.exists() && self.status_ok() || matches!(d.child.try_wait(), Ok(Some(_)))) {
            panic!("virtxend did not start: {}", d.stderr_text());
        }
        if let Ok(Some(st)) = d.child.try_wait() {
            panic!("virtxend exited ({st}): {}", d.stderr_text());
        }
        d
    }

    fn status_ok(&self) -> bool {
        Command::new("virsh").arg("-c").arg(self.uri()).arg("uri").output().is_ok_and(|o| o.status.success())
    }

    fn uri(&self) -> String {
        format!("xen:///system?socket={}", self.sockdir.join("virtxend-sock").display())
    }

    fn ro_uri(&self) -> String {
        format!("xen:///system?socket={}", self.sockdir.join("virtxend-sock-ro").display())
    }

    fn virsh_at(&self, uri: &str, args: &[&str]) -> Output {
        let mut c = Command::new("virsh");
        c.arg("-q").arg("-c").arg(uri).args(args);
        run_with_timeout(&mut c, Duration::from_secs(60))
    }

    /// virsh against virtxend; panics with its output when it fails.
    fn virsh(&self, args: &[&str]) -> String {
        let out = self.virsh_at(&self.uri(), args);
        assert!(out.status.success(), "virsh {args:?} failed: {}{}", text(&out.stdout), text(&out.stderr));
        text(&out.stdout)
    }

    fn virsh_err(&self, uri: &str, args: &[&str]) -> String {
        let out = self.virsh_at(uri, args);
        assert!(!out.status.success(), "virsh {args:?} should fail: {}", text(&out.stdout));
        text(&out.stderr)
    }

    fn define(&self, name: &str, extra: &str) {
        let f = self.dir.write(&format!("{name}.xml"), &pv_xml(name, extra));
        self.virsh(&["define", f.to_str().unwrap()]);
    }

    fn state(&self, name: &str) -> String {
        self.virsh(&["domstate", name]).trim().to_string()
    }

    fn id(&self, name: &str) -> String {
        self.virsh(&["domid", name]).trim().to_string()
    }

    fn wait_state(&self, name: &str, want: &str) {
        if !wait_for(Duration::from_secs(10), || self.state(name) == want) {
            panic!("domain {name} is '{}', expected '{want}'", self.state(name));
        }
    }

    fn config_file(&self, name: &str) -> PathBuf {
        self.root.join(format!("etc/libvirt/libxl/{name}.xml"))
    }

    fn status_file(&self, name: &str) -> PathBuf {
        self.root.join(format!("run/libvirt/libxl/{name}.xml"))
    }
}

/// `virsh event --all --loop` in the background, collecting its lines.
struct EventWatch {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl EventWatch {
    fn start(uri: &str) -> EventWatch {
        let mut child = Command::new("stdbuf")
            .args(["-oL", "virsh", "-c", uri, "event", "--all", "--loop", "--timeout", "60"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        // virsh prints nothing until registered: give it a moment to register.
        std::thread::sleep(Duration::from_millis(500));
        EventWatch { child, lines: rx, seen: Vec::new() }
    }

    /// Waits until every one of `want` (substrings) has been seen, in order.
    fn expect(&mut self, want: &[&str]) {
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        let mut next = 0;
        let mut idx = 0;
        loop {
            while idx < self.seen.len() && next < want.len() {
                if self.seen[idx].contains(want[next]) {
                    next += 1;
                }
                idx += 1;
            }
            if next == want.len() {
                self.seen.drain(..idx);
                return;
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => self.seen.push(l),
                Err(_) => panic!("events seen {:?}, still waiting for {:?}", self.seen, &want[next..]),
            }
        }
    }
}

impl Drop for EventWatch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn lifecycle_with_virsh_sees_every_event() {
    let h = Host::new("xend-life");
    let _d = h.start();
    let mut ev = EventWatch::start(&h.uri());
    h.define("g1", "");
    assert!(h.config_file("g1").exists());
    assert!(h.virsh(&["list", "--all", "--name"]).lines().any(|l| l == "g1"));
    h.virsh(&["start", "g1"]);
    assert_eq!(h.state("g1"), "running");
    let id = h.id("g1");
    assert!(id.parse::<u32>().unwrap() > 0);
    assert!(h.status_file("g1").exists());
    let log = fs::read_to_string(h.root.join("var/log/libvirt/libxl/g1.log")).unwrap();
    assert!(log.contains(": Domain start: {") && log.contains("\"name\": \"g1\""), "{log}");
    let live = h.virsh(&["dumpxml", "g1"]);
    assert!(live.contains(&format!("<domain type='xen' id='{id}'>")), "{live}");
    assert!(live.contains("<source path='/dev/pts/"), "console pty missing: {live}");
    let info = h.virsh(&["dominfo", "g1"]);
    assert!(info.contains("Persistent:     yes") && info.contains("CPU(s):         2"), "{info}");
    h.virsh(&["suspend", "g1"]);
    assert_eq!(h.state("g1"), "paused");
    h.virsh(&["resume", "g1"]);
    h.virsh(&["shutdown", "g1"]);
    h.wait_state("g1", "shut off");
    assert!(!h.status_file("g1").exists());
    h.virsh(&["start", "g1"]);
    h.virsh(&["destroy", "g1"]);
    h.virsh(&["undefine", "g1"]);
    assert!(!h.config_file("g1").exists());
    ev.expect(&[
        "'g1': Defined Added",
        "'g1': Started Booted",
        "'g1': Suspended Paused",
        "'g1': Resumed Unpaused",
        "'g1': Stopped Shutdown",
        "'g1': Started Booted",
        "'g1': Stopped Destroyed",
        "'g1': Undefined Removed",
    ]);
}

#[test]
fn host_calls_answer_like_libvirt() {
    let h = Host::new("xend-host");
    let _d = h.start();
    let v = h.virsh(&["version"]);
    assert!(v.contains("Running hypervisor: Xen 4.17.0"), "{v}");
    let caps = h.virsh(&["capabilities"]);
    assert!(caps.contains("<os_type>xen</os_type>") && caps.contains("<os_type>hvm</os_type>") && caps.contains("xenpvh"), "{caps}");
    let dc = h.virsh(&["domcapabilities", "--virttype", "xen", "--machine", "xenfv"]);
    assert!(dc.contains("<machine>xenfv</machine>") && dc.contains("<vcpu max='128'/>"), "{dc}");
    let e = h.virsh_err(&h.uri(), &["domcapabilities", "--machine", "pc"]);
    assert!(e.contains("Xen only supports 'xenpv', 'xenpvh' and 'xenfv' machines"), "{e}");
    let ni = h.virsh(&["nodeinfo"]);
    assert!(ni.contains("CPU model:           x86_64"), "{ni}");
    let list = h.virsh(&["list"]);
    assert!(list.contains("Domain-0") && list.contains("running"), "{list}");
    assert!(!h.virsh(&["hostname"]).trim().is_empty());
    let e = h.virsh_err(&h.uri(), &["destroy", "Domain-0"]);
    assert!(e.contains("Domain-0 does not support requested operation"), "{e}");
    let e = h.virsh_err(&h.uri(), &["dominfo", "nosuch"]);
    assert!(e.contains("failed to get domain 'nosuch'"), "{e}");
}

#[test]
fn wrong_uri_path_is_refused() {
    let h = Host::new("xend-uri");
    let _d = h.start();
    let uri = format!("xen:///session?socket={}", h.sockdir.join("virtxend-sock").display());
    let e = h.virsh_err(&uri, &["list"]);
    assert!(e.contains("unexpected Xen URI path '/session', try xen:///system"), "{e}");
}

#[test]
fn bad_xml_is_refused_and_writes_nothing() {
    let h = Host::new("xend-badxml");
    let _d = h.start();
    let f = h.dir.write("bad.xml", "<domain type='kvm'><name>b</name><memory>1</memory><os><type>hvm</type></os></domain>");
    let e = h.virsh_err(&h.uri(), &["define", f.to_str().unwrap()]);
    assert!(e.contains("error:"), "{e}");
    let f = h.dir.write("broken.xml", "<domain type='xen'><name>b</name>");
    let e = h.virsh_err(&h.uri(), &["define", f.to_str().unwrap()]);
    assert!(e.contains("XML error") || e.contains("xml"), "{e}");
    let dir = h.root.join("etc/libvirt/libxl");
    let files: Vec<_> = fs::read_dir(&dir).unwrap().flatten().filter(|e| e.path().is_file()).collect();
    assert!(files.is_empty(), "{files:?}");
    assert_eq!(h.virsh(&["list", "--all", "--name"]).trim(), "Domain-0");
}

#[test]
fn read_only_client_cannot_change_anything() {
    let h = Host::new("xend-ro");
    let _d = h.start();
    h.define("g", "");
    let f = h.dir.write("g2.xml", &pv_xml("g2", ""));
    let ro = h.ro_uri();
    for args in [vec!["define", f.to_str().unwrap()], vec!["start", "g"], vec!["undefine", "g"], vec!["autostart", "g"]] {
        let e = h.virsh_err(&ro, &args);
        assert!(e.contains("read only access prevents"), "{args:?}: {e}");
    }
    let out = h.virsh_at(&ro, &["list", "--all", "--name"]);
    assert!(text(&out.stdout).contains('g'));
    assert_eq!(h.state("g"), "shut off");
}

#[test]
fn guest_crash_and_poweroff_follow_on_actions() {
    let h = Host::new("xend-actions");
    let _d = h.start();
    let mut ev = EventWatch::start(&h.uri());
    h.define("c", "<on_crash>restart</on_crash>");
    h.define("p", "<on_poweroff>destroy</on_poweroff>");
    h.define("k", "<on_crash>preserve</on_crash>");
    for g in ["c", "p", "k"] {
        h.virsh(&["start", g]);
    }
    let old = h.id("c");
    let (rc, out) = h.fx.ctl(&["crash", "c"]);
    assert_eq!(rc, 0, "{out}");
    ev.expect(&["'c': Stopped Crashed", "'c': Started Booted"]);
    h.wait_state("c", "running");
    assert_ne!(h.id("c"), old, "a restarted guest gets a new id");
    let (rc, out) = h.fx.ctl(&["poweroff", "p"]);
    assert_eq!(rc, 0, "{out}");
    ev.expect(&["'p': Stopped Shutdown"]);
    h.wait_state("p", "shut off");
    let (rc, out) = h.fx.ctl(&["crash", "k"]);
    assert_eq!(rc, 0, "{out}");
    ev.expect(&["'k': Stopped Crashed"]);
    assert_eq!(h.state("k"), "shut off");
    assert!(h.id("k").parse::<u32>().is_ok(), "a preserved guest keeps its id");
}

#[test]
fn guest_reboot_restarts_it() {
    let h = Host::new("xend-reboot");
    let _d = h.start();
    let mut ev = EventWatch::start(&h.uri());
    h.define("r", "");
    h.virsh(&["start", "r"]);
    let old = h.id("r");
    h.virsh(&["reboot", "r"]);
    ev.expect(&["'r': Stopped Shutdown", "'r': Started Booted"]);
    h.wait_state("r", "running");
    assert_ne!(h.id("r"), old);
}

#[test]
fn restart_of_virtxend_finds_running_guests() {
    let h = Host::new("xend-restart");
    let mut d = h.start();
    h.define("a", "");
    h.virsh(&["start", "a"]);
    h.virsh(&["suspend", "a"]);
    let f = h.dir.write("t.xml", &pv_xml("t", ""));
    h.virsh(&["create", f.to_str().unwrap()]);
    let (id_a, id_t) = (h.id("a"), h.id("t"));
    assert!(d.stop().success());
    let _d = h.start();
    assert_eq!(h.id("a"), id_a);
    assert_eq!(h.id("t"), id_t);
    assert_eq!(h.state("a"), "paused");
    assert_eq!(h.state("t"), "running");
    assert!(h.virsh(&["dumpxml", "t"]).contains(&format!("id='{id_t}'")));
    assert!(h.virsh(&["dominfo", "t"]).contains("Persistent:     no"));
    // Still watched: a guest power-off after the restart is seen.
    h.fx.ctl(&["poweroff", "t"]);
    assert!(wait_for(Duration::from_secs(10), || !h.virsh(&["list", "--all", "--name"]).contains('t')));
}

#[test]
fn guest_gone_while_daemon_down_is_cleaned_up() {
    let h = Host::new("xend-gone");
    let mut d = h.start();
    h.define("a", "");
    h.virsh(&["start", "a"]);
    assert!(d.stop().success());
    // The host lost its guests (rebooted, or destroyed with xl): a fresh fake host.
    fs::remove_file(&h.fx.state).unwrap();
    let _d = h.start();
    assert_eq!(h.state("a"), "shut off");
    assert!(!h.status_file("a").exists());
}

#[test]
fn autostart_runs_once_per_boot_and_sighup_reads_new_configs() {
    let h = Host::new("xend-auto");
    let mut d = h.start();
    h.define("a", "");
    h.virsh(&["autostart", "a"]);
    assert!(h.root.join("etc/libvirt/libxl/autostart/a.xml").exists());
    assert!(d.stop().success());
    let mut d = h.start();
    assert_eq!(h.state("a"), "shut off", "autostart already ran in this boot");
    assert!(d.stop().success());
    fs::remove_file(h.root.join("run/libvirt/libxl/autostarted")).unwrap();
    let d = h.start();
    assert_eq!(h.state("a"), "running");
    // A config dropped in by hand appears on SIGHUP.
    fs::write(h.config_file("n"), pv_xml("n", "<uuid>6c1b4a93-0d3e-4a59-a1f4-3d2f3b0c7e11</uuid>")).unwrap();
    d.signal(libc::SIGHUP);
    assert!(wait_for(Duration::from_secs(5), || h.virsh(&["list", "--all", "--name"]).lines().any(|l| l == "n")));
}

#[test]
fn not_a_dom0_exits_nonzero_with_one_message() {
    let h = Host::new("xend-nodom0");
    let out = run_with_timeout(
        Command::new(XEND)
            .arg("-f")
            .arg(h.dir.join("virtxend.conf"))
            .arg("-p")
            .arg(h.dir.join("p.pid"))
            .env("VIRTLITE_ROOT", &h.root)
            .env_remove("LD_PRELOAD"),
        Duration::from_secs(20),
    );
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("not a Xen dom0"), "{err}");
}

#[test]
fn python_callbacks_and_fifty_clients() {
    let h = Host::new("xend-py");
    let _d = h.start();
    h.define("g", "");
    let script = r#"
import libvirt, sys, threading, time, os
uri = os.environ["URI"]
libvirt.virEventRegisterDefaultImpl()
c = libvirt.open(uri)
seen = []
def cb(conn, dom, event, detail, opaque):
    seen.append((dom.name(), event, detail))
c.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, cb, None)
def loop():
    while True:
        libvirt.virEventRunDefaultImpl()
threading.Thread(target=loop, daemon=True).start()
d = c.lookupByName("g")
d.create()
d.destroy()
t0 = time.time()
while len(seen) < 2 and time.time() - t0 < 10:
    time.sleep(0.05)
assert seen[:2] == [("g", 2, 0), ("g", 5, 1)], seen
errors = []
def client(i):
    try:
        cc = libvirt.open(uri)
        names = sorted(x.name() for x in cc.listAllDomains())
        assert names == ["Domain-0", "g"], names
        assert cc.lookupByName("g").info()[0] == libvirt.VIR_DOMAIN_SHUTOFF
        cc.close()
    except Exception as e:
        errors.append(repr(e))
ts = [threading.Thread(target=client, args=(i,)) for i in range(50)]
for t in ts: t.start()
for t in ts: t.join()
assert not errors, errors[:3]
print("ok")
"#;
    let path = h.dir.write("t.py", script);
    let out = run_with_timeout(Command::new("/usr/bin/python3").arg(&path).env("URI", h.uri()), Duration::from_secs(60));
    assert!(out.status.success() && text(&out.stdout).contains("ok"), "{}{}", text(&out.stdout), text(&out.stderr));
}

#[test]
fn virsh_through_virtproxyd_manages_xen_guests() {
    let h = Host::new("xend-proxy");
    let _d = h.start();
    let psock = h.dir.join("psock");
    fs::create_dir_all(&psock).unwrap();
    let conf = h.dir.write("proxy.conf", &format!("unix_sock_dir = \"{}\"\n", psock.display()));
    let child = Command::new(PROXY)
        .arg("-f")
        .arg(&conf)
        .arg("-p")
        .arg(h.dir.join("proxy.pid"))
        .env("VIRTLITE_ROOT", &h.root)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut proxy = Daemon { child, dir: h.dir.path.clone() };
    let sock = psock.join("libvirt-sock");
    if !wait_for(Duration::from_secs(10), || common::is_ready(&sock)) {
        panic!("proxy did not start: {}", proxy.stderr_text());
    }
    let uri = format!("xen:///system?socket={}", sock.display());
    let mut ev = EventWatch::start(&uri);
    let f = h.dir.write("x.xml", &pv_xml("x", ""));
    for args in [vec!["define", f.to_str().unwrap()], vec!["start", "x"], vec!["destroy", "x"]] {
        let out = h.virsh_at(&uri, &args);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    }
    let out = h.virsh_at(&uri, &["list", "--all"]);
    assert!(text(&out.stdout).contains("Domain-0") && text(&out.stdout).contains(" x "), "{}", text(&out.stdout));
    ev.expect(&["'x': Defined Added", "'x': Started Booted", "'x': Stopped Destroyed"]);
    let ro = format!("xen:///system?socket={}", psock.join("libvirt-sock-ro").display());
    let e = h.virsh_err(&ro, &["start", "x"]);
    assert!(e.contains("read only access prevents"), "{e}");
}

#[test]
fn console_stream_carries_guest_output() {
    let h = Host::new("xend-console");
    let _d = h.start();
    h.define("g", "");
    h.virsh(&["start", "g"]);
    let script = r#"
import libvirt, os, sys, time
c = libvirt.open(os.environ["URI"])
d = c.lookupByName("g")
st = c.newStream(0)
d.openConsole(None, st, 0)
got = b""
t0 = time.time()
while b"\n" not in got and time.time() - t0 < 10:
    got += st.recv(1024)
print(got.decode(errors="replace").strip())
st.send(b"hello\r\n")
# A second session is refused unless forced.
try:
    d.openConsole(None, c.newStream(0), 0)
    print("second session allowed")
except libvirt.libvirtError as e:
    print("refused:", e.get_error_message())
st.finish()
print("finished")
"#;
    let path = h.dir.write("c.py", script);
    let out = run_with_timeout(Command::new("/usr/bin/python3").arg(&path).env("URI", h.uri()), Duration::from_secs(30));
    let so = text(&out.stdout);
    assert!(out.status.success(), "{so}{}", text(&out.stderr));
    assert!(so.contains("fakexen console of domain g"), "{so}");
    assert!(so.contains("refused: operation failed: Active console session exists for this domain"), "{so}");
    assert!(so.contains("finished"), "{so}");
}

#[test]
fn virt_admin_manages_virtxend() {
    let h = Host::new("xend-admin");
    let _d = h.start();
    let uri = format!("virtxend:///system?socket={}", h.sockdir.join("virtxend-admin-sock").display());
    let admin = |args: &[&str]| {
        let out = run_with_timeout(Command::new("virt-admin").arg("-c").arg(&uri).args(args), Duration::from_secs(30));
        assert!(out.status.success(), "virt-admin {args:?}: {}{}", text(&out.stdout), text(&out.stderr));
        text(&out.stdout)
    };
    let list = admin(&["srv-list"]);
    assert!(list.contains("virtxend") && list.contains("admin"), "{list}");
    assert!(admin(&["srv-threadpool-info", "virtxend"]).contains("maxWorkers"));
    admin(&["daemon-log-filters", "--filters", "3:libxl"]);
    assert_eq!(admin(&["daemon-log-filters"]).trim(), "Logging filters: 3:*libxl*");
    // A client shows up in the server's list.
    let mut ev = EventWatch::start(&h.uri());
    assert!(admin(&["srv-clients-list", "virtxend"]).lines().count() >= 3);
    h.define("g", "");
    ev.expect(&["'g': Defined Added"]);
}

#[test]
fn timeout_waits_for_running_domains() {
    let h = Host::new("xend-timeout");
    let mut d = h.start_with(&["-t", "1"]);
    h.define("g", "");
    h.virsh(&["start", "g"]);
    std::thread::sleep(Duration::from_millis(2500));
    assert!(d.child.try_wait().unwrap().is_none(), "virtxend exited with a domain running");
    h.virsh(&["destroy", "g"]);
    let st = d.wait_timeout(Duration::from_secs(5)).expect("virtxend did not time out once idle");
    assert!(st.success(), "{st}");
}

#[test]
fn live_memory_change_leaves_the_persistent_config() {
    let h = Host::new("xend-mem");
    let _d = h.start();
    h.define("m", "");
    h.virsh(&["start", "m"]);
    h.virsh(&["setmem", "m", "131072"]);
    assert!(h.virsh(&["dominfo", "m"]).contains("Used memory:    131072 KiB"));
    let inactive = h.virsh(&["dumpxml", "--inactive", "m"]);
    assert!(inactive.contains("<currentMemory unit='KiB'>262144</currentMemory>"), "{inactive}");
    h.virsh(&["setmaxmem", "m", "524288", "--config"]);
    assert!(h.virsh(&["dumpxml", "--inactive", "m"]).contains("<memory unit='KiB'>524288</memory>"));
    assert!(h.virsh(&["dumpxml", "m"]).contains("<memory unit='KiB'>262144</memory>"));
    h.virsh(&["destroy", "m"]);
    assert!(h.virsh(&["dominfo", "m"]).contains("Max memory:     524288 KiB"));
    let e = h.virsh_err(&h.uri(), &["setmem", "m", "9999999", "--config"]);
    assert!(e.contains("cannot set memory higher than max memory"), "{e}");
}

/// Debian's libvirtd (session mode, as nobody) behind the secondary-daemon sockets virtxend
/// dials: virtstoraged-sock, virtnetworkd-sock, virtsecretd-sock, virtnodedevd-sock.
fn secondary_daemons(h: &Host) -> common::libvirtd::Libvirtd {
    let lv = common::libvirtd::Libvirtd::start(&h.dir.join("lv"));
    for d in ["storage", "network", "secret", "nodedev"] {
        std::os::unix::fs::symlink(lv.sock(), h.sockdir.join(format!("virt{d}d-sock"))).unwrap();
    }
    std::os::unix::fs::symlink(lv.sock(), h.sockdir.join("virtstoraged-sock-ro")).unwrap();
    lv
}

#[test]
fn storage_secret_network_calls_reach_their_daemons() {
    let h = Host::new("xend-secondary");
    let _lv = secondary_daemons(&h);
    let _d = h.start();
    let pool = h.dir.join("lv/pool");
    fs::create_dir_all(&pool).unwrap();
    common::libvirtd::chown_nobody(&pool);
    let pool_s = pool.to_str().unwrap();
    h.virsh(&["pool-define-as", "p1", "dir", "--target", pool_s]);
    h.virsh(&["pool-start", "p1"]);
    h.virsh(&["vol-create-as", "p1", "v1", "1M", "--format", "raw"]);
    // A stream each way: bytes that are not all zero, over several packets.
    let data: Vec<u8> = (0..1024 * 1024u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    let up = h.dir.join("up.bin");
    fs::write(&up, &data).unwrap();
    h.virsh(&["vol-upload", "--pool", "p1", "v1", up.to_str().unwrap()]);
    let down = h.dir.join("down.bin");
    h.virsh(&["vol-download", "--pool", "p1", "v1", down.to_str().unwrap()]);
    assert!(fs::read(&down).unwrap() == data, "downloaded bytes differ from the uploaded ones");
    assert_eq!(fs::read(pool.join("v1")).unwrap(), data);
    let list = h.virsh(&["pool-list", "--all"]);
    assert!(list.contains("p1") && list.contains("active"), "{list}");

    let sx = h.dir.write("secret.xml", "<secret ephemeral='no' private='no'><uuid>0a81f5b2-8403-4b1e-9c1d-5b3a5fd2ea1e</uuid><usage type='volume'><volume>/x</volume></usage></secret>");
    h.virsh(&["secret-define", sx.to_str().unwrap()]);
    h.virsh(&["secret-set-value", "0a81f5b2-8403-4b1e-9c1d-5b3a5fd2ea1e", "--base64", "c2VjcmV0IQ=="]);
    assert_eq!(h.virsh(&["secret-get-value", "0a81f5b2-8403-4b1e-9c1d-5b3a5fd2ea1e"]).trim(), "c2VjcmV0IQ==");

    h.virsh(&["net-list", "--all"]);
    // Xen calls are still ours on the same daemon.
    assert!(h.virsh(&["list", "--all"]).contains("Domain-0"));
}

#[test]
fn missing_storage_daemon_fails_the_call_and_keeps_the_connection() {
    let h = Host::new("xend-nosecondary");
    let _d = h.start();
    let script = r#"
import libvirt, os
c = libvirt.open(os.environ["URI"])
for attempt in range(2):
    try:
        c.listAllStoragePools()
        raise SystemExit("listAllStoragePools should fail")
    except libvirt.libvirtError as e:
        print("error:", e)
names = [d.name() for d in c.listAllDomains()]
assert names == ["Domain-0"], names
print("ok")
"#;
    let path = h.dir.write("t.py", script);
    let out = run_with_timeout(Command::new("/usr/bin/python3").arg(&path).env("URI", h.uri()), Duration::from_secs(60));
    let stdout = text(&out.stdout);
    assert!(out.status.success() && stdout.contains("ok"), "{stdout}{}", text(&out.stderr));
    let want = format!("Failed to connect socket to '{}'", h.sockdir.join("virtstoraged-sock").display());
    assert_eq!(stdout.matches(&want).count(), 2, "{stdout}");
    // virsh sees the same error.
    let err = h.virsh_err(&h.uri(), &["pool-list"]);
    assert!(err.contains(&want), "{err}");
}

#[test]
fn read_only_client_reaches_storage_read_only() {
    let h = Host::new("xend-secondary-ro");
    let _lv = secondary_daemons(&h);
    let _d = h.start();
    // Only the read-only socket leads to the daemon: a read-only client must use it.
    fs::remove_file(h.sockdir.join("virtstoraged-sock")).unwrap();
    let out = h.virsh_at(&h.ro_uri(), &["pool-list", "--all"]);
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    let err = h.virsh_err(&h.ro_uri(), &["pool-define-as", "p1", "dir", "--target", "/tmp"]);
    assert!(err.contains("read only access prevents virStoragePoolDefineXML"), "{err}");
}

#[test]
fn storage_daemon_death_fails_calls_until_it_returns() {
    let h = Host::new("xend-secondary-death");
    let mut lv = secondary_daemons(&h);
    let _d = h.start();
    let script = r#"
import libvirt, os, sys
c = libvirt.open(os.environ["URI"])
print("pools", len(c.listAllStoragePools()), flush=True)
sys.stdin.readline()
try:
    c.listAllStoragePools()
    print("unexpected success", flush=True)
except libvirt.libvirtError as e:
    print("error:", e, flush=True)
print("domains", [d.name() for d in c.listAllDomains()], flush=True)
sys.stdin.readline()
print("pools again", len(c.listAllStoragePools()), flush=True)
"#;
    let path = h.dir.write("t.py", script);
    let mut child = Command::new("/usr/bin/python3")
        .arg(&path)
        .env("URI", h.uri())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut stdin = child.stdin.take().unwrap();
    let next = || rx.recv_timeout(Duration::from_secs(30)).unwrap_or_else(|_| "(no line within 30 s)".into());
    assert_eq!(next(), "pools 0");
    lv.kill();
    std::io::Write::write_all(&mut stdin, b"\n").unwrap();
    let err = next();
    assert!(err.starts_with("error:") && (err.contains("virtstoraged") || err.contains("Failed to connect socket")), "{err}");
    assert_eq!(next(), "domains ['Domain-0']");
    lv.spawn();
    std::io::Write::write_all(&mut stdin, b"\n").unwrap();
    assert_eq!(next(), "pools again 0");
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
}

const HVM_XML: &str = "<domain type='xen'>
  <name>NAME</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os><type>hvm</type></os>
  <devices>
    <serial type='pty'/>
  </devices>
</domain>
";

/// Opens `g`'s console from python3-libvirt, reads the banner, has `action` (a shell
/// command run while the console is open) end it, and checks that the stream ends alone:
/// the same connection lists domains afterwards.
fn console_end_script() -> &'static str {
    r#"
import libvirt, os, subprocess, sys, time
c = libvirt.open(os.environ["URI"])
d = c.lookupByName("g")
st = c.newStream(0)
d.openConsole(os.environ.get("DEV") or None, st, 0)
got = b""
t0 = time.time()
while b"\n" not in got and time.time() - t0 < 10:
    got += st.recv(1024)
print("banner:", got.decode(errors="replace").strip())
if not os.environ["ACTION"]:
    st.finish()
    sys.exit(0)
subprocess.run(os.environ["ACTION"], shell=True, check=True)
end = None
t0 = time.time()
while end is None and time.time() - t0 < 10:
    try:
        b = st.recv(1024)
        if b == b"":
            end = "eof"
    except libvirt.libvirtError as e:
        end = "error: " + e.get_error_message()
print("stream end:", end)
if end == "eof":
    st.finish()
else:
    try:
        st.abort()
    except libvirt.libvirtError:
        pass
print("alive:", c.isAlive())
print("domains:", sorted(x.name() for x in c.listAllDomains()))
"#
}

fn run_console_script(h: &Host, action: &str, dev: &str) -> String {
    let path = h.dir.write("end.py", console_end_script());
    let out = run_with_timeout(
        Command::new("/usr/bin/python3").arg(&path).env("URI", h.uri()).env("ACTION", action).env("DEV", dev),
        Duration::from_secs(60),
    );
    let so = text(&out.stdout);
    assert!(out.status.success(), "{so}{}", text(&out.stderr));
    so
}

#[test]
fn console_stream_ends_alone_when_the_guest_stops() {
    let h = Host::new("xend-conend");
    let conf = h.dir.join("virtxend.conf");
    let mut text_conf = fs::read_to_string(&conf).unwrap();
    text_conf.push_str(&format!("log_level = 2\nlog_outputs = \"2:file:{}\"\n", h.dir.join("xend.log").display()));
    fs::write(&conf, text_conf).unwrap();
    let mut d = h.start();
    h.define("g", "");
    h.virsh(&["start", "g"]);
    let so = run_console_script(&h, &format!("virsh -q -c '{}' destroy g", h.uri()), "");
    assert!(so.contains("banner: fakexen console of domain g"), "{so}");
    assert!(so.contains("stream end: eof"), "{so}");
    assert!(so.contains("alive: 1") && so.contains("domains: ['Domain-0', 'g']"), "{so}");
    // The guest powering itself off ends the stream the same way.
    h.virsh(&["start", "g"]);
    let state = h.fx.env().into_iter().find(|(k, _)| k == "FAKEXEN_STATE").unwrap().1;
    let action = format!("env -u LD_PRELOAD FAKEXEN_STATE='{state}' '{}' poweroff g", h.fx.ctl.display());
    let so = run_console_script(&h, &action, "");
    assert!(so.contains("stream end: eof") && so.contains("alive: 1"), "{so}");
    assert!(d.stop().success());
    let log = fs::read_to_string(h.dir.join("xend.log")).unwrap();
    assert!(log.contains("ended: the domain stopped"), "log: {log}");
}

#[test]
fn console_taken_with_force_ends_the_first_stream_only() {
    let h = Host::new("xend-conforce");
    let _d = h.start();
    h.define("g", "");
    h.virsh(&["start", "g"]);
    let take = r#"/usr/bin/python3 -c 'import libvirt, os; c = libvirt.open(os.environ["URI"]); d = c.lookupByName("g"); d.openConsole(None, c.newStream(0), libvirt.VIR_DOMAIN_CONSOLE_FORCE); print("taken")'"#;
    let so = run_console_script(&h, take, "");
    assert!(so.contains("stream end: error: stream had I/O failure"), "{so}");
    assert!(so.contains("alive: 1") && so.contains("domains: ['Domain-0', 'g']"), "{so}");
}

#[test]
fn hvm_serial_console_has_pty_and_alias_in_live_xml() {
    let h = Host::new("xend-serial");
    let _d = h.start();
    let f = h.dir.write("g.xml", &HVM_XML.replace("NAME", "g"));
    h.virsh(&["define", f.to_str().unwrap()]);
    h.virsh(&["start", "g"]);
    let live = h.virsh(&["dumpxml", "g"]);
    let serial = &live[live.find("<serial type='pty'>").expect("serial")..];
    let serial = &serial[..serial.find("</serial>").unwrap()];
    assert!(serial.contains("<source path='/dev/pts/") && serial.contains("<alias name='serial0'/>"), "{live}");
    let console = &live[live.find("<console type='pty'").expect("console")..];
    let console = &console[..console.find("</console>").unwrap()];
    assert!(console.contains("<source path='/dev/pts/") && console.contains("<target type='serial' port='0'/>"), "{live}");
    assert!(console.contains("<alias name='serial0'/>"), "{live}");
    // virt-manager opens it by its alias.
    let so = run_console_script(&h, "", "serial0");
    assert!(so.contains("banner: fakexen console of domain g"), "{so}");
    let inactive = h.virsh(&["dumpxml", "--inactive", "g"]);
    assert!(!inactive.contains("/dev/pts/") && !inactive.contains("<alias"), "{inactive}");
}

/// A raw client on virtxend's socket, before any CONNECT_OPEN.
fn raw_client(h: &Host) -> common::RawClient {
    common::RawClient::connect(&h.sockdir.join("virtxend-sock"))
}

#[test]
fn before_open_keepalive_is_answered_and_a_silent_client_dropped() {
    use virtlite::remote::protocol::{SupportsFeatureArgs, SupportsFeatureRet};
    use virtlite::rpc::protocol::{KEEPALIVE_PROC_PING, KEEPALIVE_PROGRAM, REMOTE_PROGRAM};
    let h = Host::new("xend-ka");
    let conf = h.dir.join("virtxend.conf");
    let mut c = fs::read_to_string(&conf).unwrap();
    c.push_str("keepalive_interval = 1\nkeepalive_count = 2\n");
    fs::write(&conf, c).unwrap();
    let _d = h.start();
    let mut c = raw_client(&h);
    // libvirt's remoteDispatchConnectSupportsFeature: keepalive before open, nothing else.
    let e = c.call_err(REMOTE_PROGRAM, 8, &());
    assert_eq!(e.message.as_deref(), Some("internal error: hypervisor connection not open"));
    let e = c.call_err(REMOTE_PROGRAM, 157, &());
    assert_eq!(e.message.as_deref(), Some("internal error: hypervisor connection not open"));
    let e = c.call_err(REMOTE_PROGRAM, 60, &SupportsFeatureArgs { feature: 8 });
    assert_eq!(e.message.as_deref(), Some("internal error: hypervisor connection not open"));
    let r: SupportsFeatureRet = c.call_ok(REMOTE_PROGRAM, 60, &SupportsFeatureArgs { feature: 10 });
    assert_eq!(r.supported, 1);
    // Keepalive started: PINGs come, and a client that never answers is dropped after
    // interval * (count + 1).
    let t0 = std::time::Instant::now();
    let mut pings = 0;
    while let Some(p) = c.read_packet() {
        assert_eq!((p.header.prog, p.header.proc_), (KEEPALIVE_PROGRAM, KEEPALIVE_PROC_PING));
        pings += 1;
    }
    let took = t0.elapsed();
    assert_eq!(pings, 2);
    assert!(took >= Duration::from_millis(2800) && took < Duration::from_millis(4500), "dropped after {took:?}");
    // Other clients are still served.
    assert!(h.virsh(&["list", "--all"]).contains("Domain-0"));
}

#[test]
fn virsh_and_python_run_keepalive_with_virtxend() {
    let h = Host::new("xend-ka2");
    let _d = h.start();
    for extra in [&[][..], &["-k", "1", "-K", "3"][..]] {
        let mut cmd = Command::new("virsh");
        cmd.args(extra)
            .arg("-c")
            .arg(h.uri())
            .arg("list")
            .env("LIBVIRT_DEBUG", "1")
            .env("LIBVIRT_LOG_OUTPUTS", "1:stderr")
            .env("LIBVIRT_LOG_FILTERS", "1:rpc.keepalive 1:remote 4:*");
        let out = run_with_timeout(&mut cmd, Duration::from_secs(60));
        let err = text(&out.stderr);
        assert!(out.status.success(), "{err}");
        assert!(!err.contains("Disabling keepalive"), "{extra:?}: {err}");
        assert!(err.contains("virKeepAliveStart"), "{extra:?}: keepalive did not start: {err}");
    }
    let script = r#"
import libvirt, os, threading, time
libvirt.virEventRegisterDefaultImpl()
c = libvirt.open(os.environ["URI"])
assert c.setKeepAlive(1, 3) == 0
def loop():
    while True:
        libvirt.virEventRunDefaultImpl()
threading.Thread(target=loop, daemon=True).start()
time.sleep(3)
assert c.isAlive() == 1
print(sorted(d.name() for d in c.listAllDomains()))
"#;
    let path = h.dir.write("ka.py", script);
    let out = run_with_timeout(Command::new("/usr/bin/python3").arg(&path).env("URI", h.uri()), Duration::from_secs(60));
    assert!(out.status.success() && text(&out.stdout).contains("['Domain-0']"), "{}{}", text(&out.stdout), text(&out.stderr));
}

#[test]
fn newer_procedures_get_libvirts_errors_and_the_connection_goes_on() {
    use virtlite::remote::domain_proto::StringRet;
    use virtlite::remote::protocol::ConnectOpenArgs;
    use virtlite::rpc::protocol::{REMOTE_PROGRAM, VIR_ERR_NO_SUPPORT, VIR_ERR_RPC};
    let h = Host::new("xend-newer");
    let _d = h.start();
    let mut c = raw_client(&h);
    c.call_ok::<()>(REMOTE_PROGRAM, 1, &ConnectOpenArgs { name: Some("xen:///system".into()), flags: 0 });
    let unsupported = "this function is not supported by the connection driver: ";
    // 10.2, 11.2 and 12.5 calls (numbers of remote_protocol.x): the driver lacks them.
    for (proc_, api) in [(448, "virDomainGraphicsReload"), (449, "virDomainGetAutostartOnce"), (456, "virDomainAnnounceInterface")] {
        let e = c.call_err(REMOTE_PROGRAM, proc_, &());
        assert_eq!(e.code, VIR_ERR_NO_SUPPORT, "{proc_}");
        assert_eq!(e.message.as_deref(), Some(format!("{unsupported}{api}").as_str()), "{proc_}");
    }
    // Events of 11.2 and 12.4 are no calls, and 457 is no procedure of any release yet:
    // libvirt's dispatcher finds no function for them.
    for proc_ in [453, 454, 455, 457, 100_000] {
        let e = c.call_err(REMOTE_PROGRAM, proc_, &());
        assert_eq!(e.code, VIR_ERR_RPC, "{proc_}");
        assert!(e.message.as_deref().is_some_and(|m| m.ends_with(&format!("unknown procedure: {proc_}"))), "{proc_}: {e:?}");
    }
    let r: StringRet = c.call_ok(REMOTE_PROGRAM, 3, &());
    assert_eq!(r.s, "Xen");
}

#[test]
fn define_refuses_deep_nesting_and_vcpu_counts_xen_cannot_run() {
    let h = Host::new("xend-limits");
    let mut d = h.start();
    let n = 20_000;
    let deep = pv_xml("deep", &format!("<metadata>{}{}</metadata>", "<a:x xmlns:a='urn:a'>".repeat(n), "</a:x>".repeat(n)));
    let f = h.dir.write("deep.xml", &deep);
    let e = h.virsh_err(&h.uri(), &["define", f.to_str().unwrap()]);
    assert!(e.contains("Excessive depth in document: 256 use XML_PARSE_HUGE option"), "{e}");
    let f = h.dir.write("many.xml", &pv_xml("many", "").replace("<vcpu>2</vcpu>", "<vcpu>4294967295</vcpu>"));
    let e = h.virsh_err(&h.uri(), &["define", f.to_str().unwrap()]);
    assert!(e.contains("requested vcpus is greater than max allowable vcpus for the domain: 4294967295 > 512"), "{e}");
    assert!(!h.config_file("many").exists() && !h.config_file("deep").exists());
    // The limit itself is accepted, and the daemon is alive and serving.
    let f = h.dir.write("max.xml", &pv_xml("max", "").replace("<vcpu>2</vcpu>", "<vcpu>512</vcpu>"));
    h.virsh(&["define", f.to_str().unwrap()]);
    h.virsh(&["start", "max"]);
    assert_eq!(h.state("max"), "running");
    assert!(matches!(d.child.try_wait(), Ok(None)), "virtxend died: {}", d.stderr_text());
}
