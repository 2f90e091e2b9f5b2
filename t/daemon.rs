//! The daemon foundation, driven through the real virtproxyd binary: command line, config
//! errors, pidfile, -d, --timeout, signals, socket modes, socket activation, path layouts.

mod common;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

fn proxy() -> Command {
    let mut c = Command::new(PROXY);
    c.env_remove("LIBVIRT_DEBUG").env_remove("LIBVIRT_LOG_OUTPUTS").env_remove("LIBVIRT_LOG_FILTERS");
    c
}

fn out(c: &mut Command) -> (i32, String, String) {
    let o = run_with_timeout(c, Duration::from_secs(20));
    (o.status.code().unwrap_or(-1), text(&o.stdout), text(&o.stderr))
}

#[test]
fn help_prints_usage_and_exits_zero() {
    let (code, _, err) = out(proxy().arg("--help"));
    assert_eq!(code, 0);
    assert!(err.contains("Usage:") && err.contains("-t | --timeout <secs>") && err.contains("--check-config"), "{err}");
}

#[test]
fn version_prints_libvirt_form() {
    let (code, o, _) = out(proxy().arg("-V"));
    assert_eq!(code, 0);
    assert!(o.trim_end().ends_with(" (libvirt) 9.0.0") && o.contains("virtproxyd"), "{o}");
}

#[test]
fn unknown_option_exits_one_with_usage() {
    let (code, _, err) = out(proxy().arg("--bogus"));
    assert_eq!(code, 1);
    assert!(err.contains("bogus") && err.contains("Usage:"), "{err}");
}

#[test]
fn bad_timeout_exits_one() {
    for v in ["-5", "x", "9999999999"] {
        let (code, _, err) = out(proxy().args(["-t", v]));
        assert_eq!(code, 1, "{v}");
        assert!(err.contains("Invalid value for timeout"), "{err}");
    }
}

#[test]
fn positional_argument_exits_one() {
    let (code, _, err) = out(proxy().arg("stray"));
    assert_eq!(code, 1);
    assert!(err.contains("unexpected, non-option, command line arguments"), "{err}");
}

#[test]
fn config_syntax_error_names_file_and_line() {
    let d = TestDir::new("cfgsyn");
    let cfg = d.write("bad.conf", "max_clients = 10\nlisten_tls = \n");
    let (code, _, err) = out(proxy().arg("-f").arg(&cfg).arg("-p").arg(d.join("p.pid")));
    assert_eq!(code, 1);
    assert!(err.contains(&format!("configuration file syntax error: {}:2: expecting a value", cfg.display())), "{err}");
    assert!(!d.join("p.pid").exists(), "nothing is started on a bad config");
}

#[test]
fn config_type_error_names_the_key() {
    let d = TestDir::new("cfgtype");
    let cfg = d.write("bad.conf", "max_clients = \"many\"\n");
    let (code, _, err) = out(proxy().arg("-f").arg(&cfg));
    assert_eq!(code, 1);
    assert!(err.contains("expected an unsigned integer for 'max_clients' parameter"), "{err}");
}

#[test]
fn missing_explicit_config_fails() {
    let (code, _, err) = out(proxy().args(["-f", "/nonexistent/virtproxyd.conf"]));
    assert_eq!(code, 1);
    assert!(err.contains("Failed to open file '/nonexistent/virtproxyd.conf'"), "{err}");
}

#[test]
fn polkit_auth_is_refused_at_start() {
    let d = TestDir::new("polkit");
    let cfg = d.write("c.conf", &config_in(&d.path, "auth_unix_rw = \"polkit\""));
    let (code, _, err) = out(proxy().arg("-f").arg(&cfg).arg("-p").arg(d.join("p.pid")));
    assert_eq!(code, 1);
    assert!(err.contains("polkit") && err.contains("auth_unix_rw"), "{err}");
}

#[test]
fn check_config_reports_every_problem() {
    let d = TestDir::new("check");
    let cfg = d.write(
        "c.conf",
        "max_clients = \"x\"\nmax_workers = 0\nunix_sock_rw_perms = \"0999\"\nlog_outputs = \"9:nowhere\"\nauth_unix_ro = \"polkit\"\n",
    );
    let (code, o, err) = out(proxy().arg("--check-config").arg("-f").arg(&cfg));
    assert_eq!(code, 1, "{o}{err}");
    for needle in ["max_clients", "max_workers", "0999", "9:nowhere", "polkit"] {
        assert!(err.contains(needle), "missing {needle} in:\n{err}");
    }
}

#[test]
fn check_config_of_shipped_sample_is_clean() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("conf/virtproxyd.conf");
    let (code, o, err) = out(proxy().arg("--check-config").arg("-f").arg(&sample));
    assert_eq!(code, 0, "{o}{err}");
}

#[test]
fn check_config_syntax_errors_all_reported_with_lines() {
    let d = TestDir::new("checksyn");
    let cfg = d.write("c.conf", "a = \nb = 1\nc = [1,\nd = \"x\n");
    let (code, _, err) = out(proxy().arg("--check-config").arg("-f").arg(&cfg));
    assert_eq!(code, 1);
    let f = cfg.display().to_string();
    assert!(err.contains(&format!("{f}:1:")), "{err}");
    assert!(err.matches(&f).count() >= 2, "expected several problems:\n{err}");
}

fn start_proxy(d: &TestDir, extra: &str, args: &[&str]) -> Daemon {
    start(PROXY, &d.path, &config_in(&d.path, extra), args, &d.join("libvirt-admin-sock"))
}

#[test]
fn pidfile_lock_refuses_second_instance_and_keeps_first() {
    let d = TestDir::new("pidlock");
    let mut first = start_proxy(&d, "", &[]);
    let pid_before = fs::read_to_string(d.join("daemon.pid")).unwrap();
    assert_eq!(pid_before, first.pid().to_string());
    let (code, _, err) = out(proxy().arg("-f").arg(d.join("daemon.conf")).arg("-p").arg(d.join("daemon.pid")));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains(&format!("Failed to acquire pid file '{}'", d.join("daemon.pid").display())), "{err}");
    assert_eq!(fs::read_to_string(d.join("daemon.pid")).unwrap(), pid_before);
    assert!(d.join("libvirt-sock").exists());
    RawClient::connect(&d.join("libvirt-sock"));
    assert!(first.stop().success());
}

#[test]
fn second_instance_with_other_pidfile_does_not_steal_sockets() {
    let d = TestDir::new("steal");
    let mut first = start_proxy(&d, "", &[]);
    let (code, _, err) = out(proxy().arg("-f").arg(d.join("daemon.conf")).arg("-p").arg(d.join("other.pid")));
    assert_eq!(code, 6, "network start-up failure code: {err}");
    assert!(err.contains("already listening"), "{err}");
    RawClient::connect(&d.join("libvirt-sock"));
    assert!(first.stop().success());
}

#[test]
fn daemon_mode_returns_once_sockets_are_bound() {
    let d = TestDir::new("dmode");
    let cfg = d.write("c.conf", &config_in(&d.path, &format!("log_outputs = \"3:file:{}\"", d.join("log").display())));
    let (code, o, err) = out(proxy().arg("-d").arg("-f").arg(&cfg).arg("-p").arg(d.join("p.pid")));
    assert_eq!(code, 0, "{o}{err}");
    // No waiting: the parent only returns after the sockets exist.
    for s in ["libvirt-sock", "libvirt-admin-sock"] {
        assert!(d.join(s).exists(), "{s} missing right after -d returned");
    }
    let pid: i32 = fs::read_to_string(d.join("p.pid")).unwrap().parse().unwrap();
    RawClient::connect(&d.join("libvirt-sock"));
    // SAFETY: signalling the daemon we started.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    assert!(wait_for(Duration::from_secs(10), || !d.join("p.pid").exists()));
}

#[test]
fn daemon_mode_reports_start_failure() {
    let d = TestDir::new("dfail");
    let busy = d.join("libvirt-sock");
    let _holder = std::os::unix::net::UnixListener::bind(&busy).unwrap();
    let cfg = d.write("c.conf", &config_in(&d.path, &format!("log_outputs = \"3:file:{}\"", d.join("log").display())));
    let (code, _, err) = out(proxy().arg("-d").arg("-f").arg(&cfg).arg("-p").arg(d.join("p.pid")));
    assert_eq!(code, 1);
    assert!(
        err.contains("error: Unable to initialize network sockets. Check /var/log/messages or run without --daemon for more info."),
        "{err}"
    );
    assert!(!d.join("p.pid").exists());
}

#[test]
fn timeout_exits_within_a_second_of_secs_when_idle() {
    let d = TestDir::new("tmo");
    let t0 = Instant::now();
    let mut dmn = start_proxy(&d, "", &["-t", "2"]);
    let st = dmn.wait_timeout(Duration::from_secs(10)).expect("did not time out");
    let took = t0.elapsed();
    assert!(st.success());
    assert!(took >= Duration::from_secs(2) && took < Duration::from_secs(3) + Duration::from_millis(500), "{took:?}");
    assert!(!d.join("libvirt-sock").exists() && !d.join("daemon.pid").exists());
}

#[test]
fn timeout_waits_while_a_client_is_connected() {
    let d = TestDir::new("tmoc");
    let mut dmn = start_proxy(&d, "", &["-t", "1"]);
    let c = RawClient::connect(&d.join("libvirt-sock"));
    assert!(dmn.wait_timeout(Duration::from_millis(2500)).is_none(), "exited with a client connected");
    drop(c);
    let st = dmn.wait_timeout(Duration::from_secs(5)).expect("did not exit after the client left");
    assert!(st.success());
}

#[test]
fn sigterm_unlinks_sockets_and_pidfile_and_exits_zero() {
    for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGQUIT] {
        let d = TestDir::new("term");
        let mut dmn = start_proxy(&d, "", &[]);
        dmn.signal(sig);
        let st = dmn.wait_timeout(Duration::from_secs(10)).expect("no exit");
        assert_eq!(st.code(), Some(0), "signal {sig}");
        for f in ["libvirt-sock", "libvirt-admin-sock", "daemon.pid"] {
            assert!(!d.join(f).exists(), "{f} left behind after signal {sig}");
        }
    }
}

#[test]
fn sighup_survives_and_reloads_logging() {
    let d = TestDir::new("hup");
    let mut dmn = start_proxy(&d, "", &[]);
    let log = d.join("after-hup.log");
    fs::write(d.join("daemon.conf"), config_in(&d.path, &format!("log_level = 1\nlog_outputs = \"1:file:{}\"", log.display()))).unwrap();
    dmn.signal(libc::SIGHUP);
    assert!(wait_for(Duration::from_secs(5), || log.exists()), "the new log output was not opened");
    RawClient::connect(&d.join("libvirt-sock"));
    assert!(wait_for(Duration::from_secs(5), || fs::read_to_string(&log).unwrap_or_default().contains("connected")));
    for _ in 0..3 {
        dmn.signal(libc::SIGHUP);
    }
    assert!(dmn.wait_timeout(Duration::from_millis(300)).is_none(), "SIGHUP killed the daemon");
    assert!(dmn.stop().success());
}

#[test]
fn sighup_with_broken_config_keeps_running() {
    let d = TestDir::new("hupbad");
    let mut dmn = start_proxy(&d, "", &[]);
    fs::write(d.join("daemon.conf"), "log_outputs = \n").unwrap();
    dmn.signal(libc::SIGHUP);
    assert!(dmn.wait_timeout(Duration::from_millis(500)).is_none());
    RawClient::connect(&d.join("libvirt-sock"));
    assert!(dmn.stop().success());
}

fn mode(p: &Path) -> u32 {
    fs::metadata(p).unwrap().mode() & 0o7777
}

#[test]
fn socket_modes_follow_defaults_and_perms_options() {
    let d = TestDir::new("modes");
    let mut dmn = start_proxy(&d, "", &[]);
    assert_eq!(mode(&d.join("libvirt-sock")), 0o700);
    assert_eq!(mode(&d.join("libvirt-admin-sock")), 0o700);
    dmn.stop();
    let d = TestDir::new("modes2");
    let mut dmn = start_proxy(&d, "unix_sock_rw_perms = \"0770\"\nunix_sock_admin_perms = \"0600\"\nunix_sock_group = \"nogroup\"", &[]);
    assert_eq!(mode(&d.join("libvirt-sock")), 0o770);
    assert_eq!(mode(&d.join("libvirt-admin-sock")), 0o600);
    let nogroup = fs::metadata(d.join("libvirt-sock")).unwrap().gid();
    assert_ne!(nogroup, 0, "unix_sock_group not applied");
    dmn.stop();
}

#[test]
fn stale_socket_file_is_replaced() {
    let d = TestDir::new("stale");
    drop(std::os::unix::net::UnixListener::bind(d.join("libvirt-sock")).unwrap());
    let mut dmn = start_proxy(&d, "", &[]);
    RawClient::connect(&d.join("libvirt-sock"));
    dmn.stop();
}

#[test]
fn socket_activation_serves_passed_fds_and_leaves_their_files() {
    use std::os::fd::AsRawFd;
    let d = TestDir::new("act");
    let sock_dir = d.join("s");
    fs::create_dir_all(&sock_dir).unwrap();
    let rw = std::os::unix::net::UnixListener::bind(sock_dir.join("act-rw")).unwrap();
    let adm = std::os::unix::net::UnixListener::bind(sock_dir.join("act-admin")).unwrap();
    let cfg = d.write("c.conf", &config_in(&d.path, ""));
    let mut dmn = spawn_activated(&d, &[rw.as_raw_fd(), adm.as_raw_fd()], Some("virtproxyd.socket:virtproxyd-admin.socket"), &cfg);
    drop(rw);
    drop(adm);
    assert!(wait_for(Duration::from_secs(5), || d.join("daemon.pid").exists()));
    // Served on the passed sockets, and no sockets of its own were created.
    let mut c = RawClient::connect(&sock_dir.join("act-rw"));
    let ret: virtlite::remote::protocol::AuthListRet =
        c.call_ok(virtlite::rpc::protocol::REMOTE_PROGRAM, virtlite::rpc::protocol::REMOTE_PROC_AUTH_LIST, &());
    assert_eq!(ret.types, vec![0]);
    assert!(!d.join("libvirt-sock").exists());
    assert!(dmn.stop().success());
    assert!(sock_dir.join("act-rw").exists(), "activation socket files belong to the supervisor");
}

#[test]
fn socket_activation_without_names_matches_by_address() {
    use std::os::fd::AsRawFd;
    let d = TestDir::new("actaddr");
    let rw = std::os::unix::net::UnixListener::bind(d.join("libvirt-sock")).unwrap();
    let cfg = d.write("c.conf", &config_in(&d.path, ""));
    let mut dmn = spawn_activated(&d, &[rw.as_raw_fd()], None, &cfg);
    drop(rw);
    assert!(wait_for(Duration::from_secs(5), || d.join("daemon.pid").exists()));
    // An answer proves the loop runs (and the signal handlers are in place for stop()).
    let mut c = RawClient::connect(&d.join("libvirt-sock"));
    let ret: virtlite::remote::protocol::AuthListRet =
        c.call_ok(virtlite::rpc::protocol::REMOTE_PROGRAM, virtlite::rpc::protocol::REMOTE_PROC_AUTH_LIST, &());
    assert_eq!(ret.types, vec![0]);
    assert!(!d.join("libvirt-admin-sock").exists(), "an activated daemon creates no sockets itself");
    assert!(dmn.stop().success());
}

#[test]
fn socket_activation_with_unknown_name_fails() {
    use std::os::fd::AsRawFd;
    let d = TestDir::new("actbad");
    let l = std::os::unix::net::UnixListener::bind(d.join("x")).unwrap();
    let cfg = d.write("c.conf", &config_in(&d.path, ""));
    let mut dmn = spawn_activated(&d, &[l.as_raw_fd()], Some("somethingelse.socket"), &cfg);
    let st = dmn.wait_timeout(Duration::from_secs(10)).expect("did not exit");
    assert_eq!(st.code(), Some(6));
    assert!(dmn.stderr_text().contains("Some activation file descriptors are unclaimed"));
}

#[test]
fn ready_is_notified_on_notify_socket() {
    let d = TestDir::new("notify");
    let ns = d.join("notify");
    let sock = std::os::unix::net::UnixDatagram::bind(&ns).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let cfg = d.write("c.conf", &config_in(&d.path, ""));
    let mut child =
        proxy().arg("-f").arg(&cfg).arg("-p").arg(d.join("p.pid")).env("NOTIFY_SOCKET", &ns).stderr(Stdio::null()).spawn().unwrap();
    let mut buf = [0u8; 64];
    let n = sock.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"READY=1");
    assert!(d.join("libvirt-sock").exists(), "READY before the sockets were bound");
    let _ = child.kill();
    let _ = child.wait();
}

/// Runs a shell script in a private mount namespace where /run and /etc/libvirt are
/// temporary directories, so the daemon's root defaults are exercised without touching the host.
fn in_private_root(script: &str, d: &TestDir) -> String {
    let etc = d.join("etc");
    fs::create_dir_all(&etc).unwrap();
    let full = format!(
        "set -e\nmount -t tmpfs tmpfs /run\nmount --bind {} /etc/libvirt 2>/dev/null || {{ mkdir -p /etc/libvirt && mount --bind {} /etc/libvirt; }}\n{}",
        etc.display(),
        etc.display(),
        script
    );
    let o = run_with_timeout(
        Command::new("unshare").args(["--mount", "--propagation", "private", "sh", "-c", &full]).env("PROXY", PROXY),
        Duration::from_secs(30),
    );
    let s = format!("{}{}", text(&o.stdout), text(&o.stderr));
    assert!(o.status.success(), "{s}");
    s
}

#[test]
fn root_default_layout_uses_run_libvirt_and_etc_libvirt() {
    if !is_root() {
        eprintln!("SKIP: needs root for a private mount namespace");
        return;
    }
    let d = TestDir::new("rootlayout");
    fs::write(d.join("etc").join("virtproxyd.conf"), "unix_sock_ro_perms = \"0775\"\n").unwrap_or_else(|_| {
        fs::create_dir_all(d.join("etc")).unwrap();
        fs::write(d.join("etc").join("virtproxyd.conf"), "unix_sock_ro_perms = \"0775\"\n").unwrap();
    });
    let s = in_private_root(
        r#"
"$PROXY" -d
stat -c '%n %a' /run/libvirt/libvirt-sock /run/libvirt/libvirt-sock-ro /run/libvirt/libvirt-admin-sock /run/virtproxyd.pid
kill -TERM "$(cat /run/virtproxyd.pid)"
for i in $(seq 100); do [ -e /run/virtproxyd.pid ] || break; sleep 0.05; done
ls /run/libvirt | sed 's/^/left:/'
"#,
        &d,
    );
    assert!(s.contains("/run/libvirt/libvirt-sock 700"), "{s}");
    assert!(s.contains("/run/libvirt/libvirt-sock-ro 775"), "ro perms from /etc/libvirt/virtproxyd.conf: {s}");
    assert!(s.contains("/run/libvirt/libvirt-admin-sock 700"), "{s}");
    assert!(s.contains("/run/virtproxyd.pid 644"), "{s}");
    assert!(!s.contains("left:libvirt-sock"), "{s}");
}

#[test]
fn user_default_layout_uses_xdg_dirs() {
    if !is_root() {
        eprintln!("SKIP: needs root to switch to an unprivileged user");
        return;
    }
    let d = TestDir::new("userlayout");
    let run = d.join("xdgrun");
    let cfgdir = d.join("xdgcfg/libvirt");
    fs::create_dir_all(&run).unwrap();
    fs::create_dir_all(&cfgdir).unwrap();
    fs::write(cfgdir.join("virtproxyd.conf"), "unix_sock_admin_perms = \"0750\"\n").unwrap();
    for p in [&d.path, &run, &d.join("xdgcfg"), &cfgdir] {
        Command::new("chown").args(["nobody:nogroup"]).arg(p).status().unwrap();
    }
    fs::set_permissions(&run, fs::Permissions::from_mode(0o700)).unwrap();
    let mut child = Command::new("setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
        .arg(PROXY)
        .env("HOME", &d.path)
        .env("XDG_RUNTIME_DIR", &run)
        .env("XDG_CONFIG_HOME", d.join("xdgcfg"))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let sock = run.join("libvirt/libvirt-sock");
    let ok = wait_for(Duration::from_secs(10), || sock.exists() && run.join("libvirt/virtproxyd.pid").exists());
    if !ok {
        let _ = child.kill();
        let o = child.wait_with_output().unwrap();
        panic!("user sockets not created: {}", text(&o.stderr));
    }
    assert_eq!(mode(&run.join("libvirt/libvirt-admin-sock")), 0o750, "config from $XDG_CONFIG_HOME not applied");
    assert!(!run.join("libvirt/libvirt-sock-ro").exists(), "non-root has no read-only socket");
    assert_eq!(fs::metadata(run.join("libvirt")).unwrap().mode() & 0o777, 0o700);
    // SAFETY: signalling our child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    assert!(child.wait().unwrap().success());
    assert!(!sock.exists());
}
