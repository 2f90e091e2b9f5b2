//! The admin program driven by Debian's real `virt-admin` against the real `virtproxyd`,
//! each test with its own daemon whose sockets live in a temporary directory.
mod common;

use std::collections::HashMap;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use common::*;
use virtlite::admin::protocol::{FlagsArgs, ListServersArgs, ListServersRet, LoggingFiltersRet};
use virtlite::rpc::message::{encode_packet, Packet};
use virtlite::rpc::protocol::{
    Header, MessageStatus, MessageType, RemoteError, ADMIN_PROC_CONNECT_CLOSE, ADMIN_PROC_CONNECT_GET_LOGGING_FILTERS,
    ADMIN_PROC_CONNECT_LIST_SERVERS, ADMIN_PROC_CONNECT_OPEN, ADMIN_PROGRAM, ADMIN_PROTOCOL_VERSION,
};
use virtlite::xdr::Xdr;

/// A virtproxyd with its sockets in a fresh directory.
struct Proxy {
    dir: TestDir,
    daemon: Daemon,
}

impl Proxy {
    fn start(extra_conf: &str) -> Proxy {
        let dir = TestDir::new("admin");
        let conf = config_in(&dir.path, extra_conf);
        let daemon = start(PROXY, &dir.path, &conf, &[], &dir.join("libvirt-admin-sock"));
        Proxy { dir, daemon }
    }

    fn admin_sock(&self) -> std::path::PathBuf {
        self.dir.join("libvirt-admin-sock")
    }

    /// virt-admin with `args`; the output whatever the exit status.
    fn run(&self, args: &[&str]) -> Output {
        virt_admin(&self.admin_sock(), args)
    }

    /// virt-admin with `args`, which must succeed; its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "virt-admin {args:?} failed: {}{}", text(&out.stdout), text(&out.stderr));
        text(&out.stdout)
    }

    /// virt-admin with `args`, which must fail; its stderr.
    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(!out.status.success(), "virt-admin {args:?} succeeded: {}", text(&out.stdout));
        text(&out.stderr)
    }

    /// A plain connection to the read-write (or read-only) socket, known to be accepted.
    fn connect(&self, ro: bool) -> UnixStream {
        let s = UnixStream::connect(self.dir.join(if ro { "libvirt-sock-ro" } else { "libvirt-sock" })).unwrap();
        let mut s2 = s.try_clone().unwrap();
        assert!(ping(&mut s2, Duration::from_secs(5)), "daemon did not answer a new client");
        s
    }
}

/// "name : value" lines (srv-threadpool-info, srv-clients-info, client-info) as a map.
fn fields(out: &str) -> HashMap<String, String> {
    out.lines().filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).collect()
}

/// The rows of a virt-admin table (srv-list, srv-clients-list), split on blanks.
fn rows(out: &str) -> Vec<Vec<String>> {
    out.lines()
        .skip_while(|l| !l.starts_with("---"))
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect()
}

/// Sends a keepalive PING and waits up to `limit` for the PONG.
fn ping(s: &mut UnixStream, limit: Duration) -> bool {
    let mut frame = Vec::new();
    for w in [28u32, 0x6b65_6570, 1, 1, 2, 0, 0] {
        frame.extend_from_slice(&w.to_be_bytes());
    }
    s.write_all(&frame).unwrap();
    s.set_read_timeout(Some(limit)).unwrap();
    let mut reply = [0u8; 28];
    match s.read_exact(&mut reply) {
        // proc 2 = PONG
        Ok(()) => reply[12..16] == 2u32.to_be_bytes(),
        Err(_) => false,
    }
}

/// Whether the peer closed the connection within `limit`.
fn reads_eof(s: &mut UnixStream, limit: Duration) -> bool {
    s.set_read_timeout(Some(limit)).unwrap();
    let mut b = [0u8; 64];
    matches!(s.read(&mut b), Ok(0))
}

fn client_ids(p: &Proxy, server: &str) -> Vec<u64> {
    rows(&p.ok(&["srv-clients-list", server])).iter().map(|r| r[0].parse().unwrap()).collect()
}

#[test]
fn srv_list_shows_main_and_admin_servers() {
    let p = Proxy::start("");
    let r = rows(&p.ok(&["srv-list"]));
    assert_eq!(r, vec![vec!["0", "virtproxyd"], vec!["1", "admin"]]);
}

#[test]
fn version_reports_daemon_version() {
    let p = Proxy::start("");
    assert!(p.ok(&["version"]).contains("Running against daemon: 9.0.0"));
}

#[test]
fn threadpool_info_reports_configured_pool() {
    let p = Proxy::start("min_workers = 3\nmax_workers = 7\nprio_workers = 2\n");
    let f = fields(&p.ok(&["srv-threadpool-info", "virtproxyd"]));
    assert_eq!(f["minWorkers"], "3");
    assert_eq!(f["maxWorkers"], "7");
    assert_eq!(f["prioWorkers"], "2");
    // No worker starts before the first job, and virtproxyd never gives its pool one
    // (docs/architecture.md: threads).
    assert_eq!(f["nWorkers"], "0");
    assert_eq!(f["jobQueueDepth"], "0");
    assert!(f.contains_key("freeWorkers"));
}

#[test]
fn threadpool_set_changes_pool() {
    let p = Proxy::start("");
    p.ok(&["srv-threadpool-set", "virtproxyd", "--min-workers", "2", "--max-workers", "4", "--priority-workers", "1"]);
    let f = fields(&p.ok(&["srv-threadpool-info", "virtproxyd"]));
    assert_eq!((f["minWorkers"].as_str(), f["maxWorkers"].as_str(), f["prioWorkers"].as_str()), ("2", "4", "1"));
    // The admin server has its own pool, untouched.
    let f = fields(&p.ok(&["srv-threadpool-info", "admin"]));
    assert_eq!(f["maxWorkers"], "20");
}

#[test]
fn threadpool_set_min_above_max_refused() {
    let p = Proxy::start("max_workers = 10\n");
    let err = p.fails(&["srv-threadpool-set", "virtproxyd", "--min-workers", "11"]);
    assert!(err.contains("invalid argument: minWorkers cannot be larger than maxWorkers"), "{err}");
    assert_eq!(fields(&p.ok(&["srv-threadpool-info", "virtproxyd"]))["minWorkers"], "5");
}

#[test]
fn threadpool_info_unknown_server_refused() {
    let p = Proxy::start("");
    let err = p.fails(&["srv-threadpool-info", "nosuch"]);
    assert!(err.contains("Server not found: No server named 'nosuch'"), "{err}");
}

#[test]
fn clients_list_shows_connected_clients() {
    let p = Proxy::start("");
    assert!(client_ids(&p, "virtproxyd").is_empty());
    let _a = p.connect(false);
    let _b = p.connect(false);
    let r = rows(&p.ok(&["srv-clients-list", "virtproxyd"]));
    assert_eq!(r.len(), 2, "{r:?}");
    assert!(r.iter().all(|row| row[1] == "unix"), "{r:?}");
    assert!(r[0][0].parse::<u64>().unwrap() < r[1][0].parse::<u64>().unwrap());
    // virt-admin itself is the admin server's client.
    assert_eq!(client_ids(&p, "admin").len(), 1);
}

#[test]
fn client_info_shows_unix_identity() {
    let p = Proxy::start("");
    let _rw = p.connect(false);
    let _ro = p.connect(true);
    let ids = client_ids(&p, "virtproxyd");
    let f = fields(&p.ok(&["client-info", "virtproxyd", &ids[0].to_string()]));
    assert_eq!(f["id"], ids[0].to_string());
    assert_eq!(f["transport"], "unix");
    assert_eq!(f["readonly"], "no");
    // SAFETY: getuid cannot fail.
    let uid = unsafe { libc::getuid() };
    assert_eq!(f["unix_user_id"], uid.to_string());
    assert_eq!(f["unix_process_id"], std::process::id().to_string());
    assert!(f.contains_key("unix_user_name") && f.contains_key("connection_time"), "{f:?}");
    assert!(!f.contains_key("sock_addr"), "{f:?}");
    let f = fields(&p.ok(&["client-info", "virtproxyd", &ids[1].to_string()]));
    assert_eq!(f["readonly"], "yes");
}

#[test]
fn client_info_unknown_client_refused() {
    let p = Proxy::start("");
    let err = p.fails(&["client-info", "virtproxyd", "999"]);
    assert!(err.contains("Client not found: No client with matching ID '999'"), "{err}");
}

#[test]
fn client_disconnect_closes_only_that_client() {
    let p = Proxy::start("");
    let mut a = p.connect(false);
    let mut b = p.connect(false);
    let ids = client_ids(&p, "virtproxyd");
    let out = p.ok(&["client-disconnect", "virtproxyd", &ids[0].to_string()]);
    assert!(out.contains(&format!("Client '{}' disconnected", ids[0])), "{out}");
    assert!(reads_eof(&mut a, Duration::from_secs(5)), "disconnected client's socket stayed open");
    assert!(ping(&mut b, Duration::from_secs(5)), "the other client was affected");
    assert_eq!(client_ids(&p, "virtproxyd"), vec![ids[1]]);
}

#[test]
fn clients_info_reports_limits_and_counts() {
    let p = Proxy::start("max_clients = 30\nmax_anonymous_clients = 7\n");
    let _a = p.connect(false);
    let f = fields(&p.ok(&["srv-clients-info", "virtproxyd"]));
    assert_eq!(f["nclients_max"], "30");
    assert_eq!(f["nclients"], "1");
    assert_eq!(f["nclients_unauth_max"], "7");
    assert_eq!(f["nclients_unauth"], "0");
}

#[test]
fn clients_set_below_unauth_limit_refused() {
    let p = Proxy::start("");
    let err = p.fails(&["srv-clients-set", "virtproxyd", "--max-clients", "2"]);
    assert!(err.contains("must not be less than the number of clients waiting for authentication"), "{err}");
    assert_eq!(fields(&p.ok(&["srv-clients-info", "virtproxyd"]))["nclients_max"], "5000");
}

#[test]
fn clients_set_lowered_limit_holds_new_connections_until_raised() {
    let p = Proxy::start("");
    let mut a = p.connect(false);
    let mut b = p.connect(false);
    p.ok(&["srv-clients-set", "virtproxyd", "--max-clients", "1", "--max-unauth-clients", "0"]);
    let f = fields(&p.ok(&["srv-clients-info", "virtproxyd"]));
    assert_eq!((f["nclients_max"].as_str(), f["nclients"].as_str()), ("1", "2"));
    // Nobody was dropped.
    assert!(ping(&mut a, Duration::from_secs(5)) && ping(&mut b, Duration::from_secs(5)));
    // A new connection waits in the backlog, unanswered.
    let mut c = UnixStream::connect(p.dir.join("libvirt-sock")).unwrap();
    assert!(!ping(&mut c, Duration::from_millis(400)), "a connection over the limit was served");
    assert_eq!(fields(&p.ok(&["srv-clients-info", "virtproxyd"]))["nclients"], "2");
    // Raising the limit lets it in (its PING, already sent, is then answered).
    p.ok(&["srv-clients-set", "virtproxyd", "--max-clients", "10"]);
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut pong = [0u8; 28];
    c.read_exact(&mut pong).expect("waiting connection not accepted after raising the limit");
    assert_eq!(pong[12..16], 2u32.to_be_bytes());
    assert_eq!(fields(&p.ok(&["srv-clients-info", "virtproxyd"]))["nclients"], "3");
}

#[test]
fn update_tls_without_tls_service_refused() {
    let p = Proxy::start("");
    let err = p.fails(&["srv-update-tls", "virtproxyd"]);
    assert!(err.contains("internal error: no tls service found, unable to update tls files"), "{err}");
}

fn log_lines_with(path: &Path, needle: &str) -> usize {
    fs::read_to_string(path).unwrap_or_default().lines().filter(|l| l.contains(needle)).count()
}

#[test]
fn log_outputs_set_and_read_back() {
    let p = Proxy::start("");
    let log = p.dir.join("admin.log");
    let spec = format!("1:file:{}", log.display());
    p.ok(&["daemon-log-outputs", "--outputs", &spec]);
    let out = p.ok(&["daemon-log-outputs"]);
    assert_eq!(out.trim(), format!("Logging outputs: {spec}"));
    let err = p.fails(&["daemon-log-outputs", "--outputs", "1:nowhere"]);
    assert!(err.contains("Invalid log destination 'nowhere' for log output '1:nowhere'"), "{err}");
}

#[test]
fn log_filters_set_read_back_and_cleared() {
    let p = Proxy::start("");
    assert_eq!(p.ok(&["daemon-log-filters"]).trim(), "Logging filters:");
    p.ok(&["daemon-log-filters", "--filters", "1:admin 4:rpc"]);
    assert_eq!(p.ok(&["daemon-log-filters"]).trim(), "Logging filters: 1:*admin* 4:*rpc*");
    p.ok(&["daemon-log-filters", "--filters", ""]);
    assert_eq!(p.ok(&["daemon-log-filters"]).trim(), "Logging filters:");
    let err = p.fails(&["daemon-log-filters", "--filters", "9:rpc"]);
    assert!(err.contains("Invalid priority '9' for filter '9:rpc'"), "{err}");
}

#[test]
fn log_settings_take_effect_at_once() {
    let p = Proxy::start("");
    let log = p.dir.join("debug.log");
    let needle = "ADMIN_PROC_CONNECT_LIST_SERVERS";
    p.ok(&["daemon-log-outputs", "--outputs", &format!("1:file:{}", log.display())]);
    // The output takes debug, but the default level (warning) still holds it back.
    p.ok(&["srv-list"]);
    assert_eq!(log_lines_with(&log, needle), 0);
    p.ok(&["daemon-log-filters", "--filters", "1:admin"]);
    p.ok(&["srv-list"]);
    let seen = log_lines_with(&log, needle);
    assert!(seen >= 1, "no debug line: {}", fs::read_to_string(&log).unwrap_or_default());
    assert!(fs::read_to_string(&log).unwrap().lines().any(|l| l.contains(needle) && l.contains(": debug : ")));
    p.ok(&["daemon-log-filters", "--filters", ""]);
    p.ok(&["srv-list"]);
    assert_eq!(log_lines_with(&log, needle), seen, "debug line logged after the filter was removed");
}

#[test]
fn daemon_timeout_exits_when_idle() {
    let mut p = Proxy::start("");
    p.ok(&["daemon-timeout", "--timeout", "1"]);
    let st = p.daemon.wait_timeout(Duration::from_secs(10)).expect("daemon still running 10 s after the 1 s timeout");
    assert!(st.success(), "exit status {st:?}: {}", p.daemon.stderr_text());
    assert!(!p.admin_sock().exists(), "admin socket left behind");
}

#[test]
fn admin_socket_refuses_other_uid() {
    if !is_root() || !have("setpriv") {
        eprintln!("skipped: needs root and setpriv");
        return;
    }
    let log = TestDir::new("admin-log");
    let p = Proxy::start(&format!("unix_sock_admin_perms = \"0777\"\nlog_outputs = \"3:file:{}\"\n", log.join("daemon.log").display()));
    let sock = p.admin_sock();
    assert_eq!(fs::metadata(&sock).unwrap().permissions().mode() & 0o777, 0o777);
    let uri = format!("virtproxyd:///system?socket={}", sock.display());
    let mut cmd = Command::new("setpriv");
    cmd.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "virt-admin", "-c", &uri, "srv-list"])
        .env("HOME", &p.dir.path)
        .env("XDG_CACHE_HOME", &p.dir.path)
        .env("XDG_CONFIG_HOME", &p.dir.path);
    let out = run_with_timeout(&mut cmd, Duration::from_secs(30));
    assert!(!out.status.success(), "a non-owner was served: {}", text(&out.stdout));
    assert!(!text(&out.stdout).contains("virtproxyd"), "{}", text(&out.stdout));
    // The daemon hangs up at once: virt-admin either reports it or, writing its first call
    // after the hang-up, dies of SIGPIPE (as it does against libvirt's own daemons).
    let sigpipe = out.status.signal() == Some(libc::SIGPIPE);
    assert!(sigpipe || text(&out.stderr).contains("Failed to connect to the admin server"), "{:?}: {}", out.status, text(&out.stderr));
    let logged = fs::read_to_string(log.join("daemon.log")).unwrap_or_default();
    assert!(logged.contains("Rejecting admin client"), "daemon log: {logged}");
    // The owner is still served on the same socket.
    assert_eq!(rows(&p.ok(&["srv-list"])).len(), 2);
}

// ---- the admin protocol spoken directly, for what virt-admin never sends ----

/// Sends one admin CALL on `s` and reads its reply.
fn admin_call<A: Xdr>(s: &mut UnixStream, proc_: i32, args: &A) -> Packet {
    let h = Header::new(ADMIN_PROGRAM, ADMIN_PROTOCOL_VERSION, proc_, MessageType::Call, 1, MessageStatus::Ok);
    s.write_all(&encode_packet(&h, None, |w| args.encode(w)).unwrap()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut len = [0u8; 4];
    s.read_exact(&mut len).expect("no reply");
    let mut buf = len.to_vec();
    buf.resize(u32::from_be_bytes(len) as usize, 0);
    s.read_exact(&mut buf[4..]).expect("short reply");
    let p = Packet::parse(buf).unwrap();
    assert_eq!((p.header.proc_, p.header.type_), (proc_, MessageType::Reply));
    p
}

fn admin_conn(p: &Proxy) -> UnixStream {
    UnixStream::connect(p.admin_sock()).unwrap()
}

#[test]
fn raw_connect_open_with_flags_refused() {
    let p = Proxy::start("");
    let reply = admin_call(&mut admin_conn(&p), ADMIN_PROC_CONNECT_OPEN, &FlagsArgs { flags: 1 });
    assert_eq!(reply.header.status, MessageStatus::Error);
    let e: RemoteError = reply.decode_payload().unwrap();
    assert_eq!((e.code, e.domain), (8, 62));
    assert_eq!(e.message(), "invalid argument: unsupported flags (0x1) in function adminDispatchConnectOpen");
}

#[test]
fn raw_list_servers_without_need_results_counts_only() {
    let p = Proxy::start("");
    let reply = admin_call(&mut admin_conn(&p), ADMIN_PROC_CONNECT_LIST_SERVERS, &ListServersArgs { need_results: 0, flags: 0 });
    assert_eq!(reply.header.status, MessageStatus::Ok);
    assert_eq!(reply.decode_payload::<ListServersRet>().unwrap(), ListServersRet { servers: vec![], ret: 2 });
}

#[test]
fn raw_logging_filters_absent_when_none_defined() {
    let p = Proxy::start("");
    let reply = admin_call(&mut admin_conn(&p), ADMIN_PROC_CONNECT_GET_LOGGING_FILTERS, &FlagsArgs { flags: 0 });
    assert_eq!(reply.decode_payload::<LoggingFiltersRet>().unwrap(), LoggingFiltersRet { filters: None, nfilters: 0 });
}

#[test]
fn raw_connect_close_replies_then_hangs_up() {
    let p = Proxy::start("");
    let mut s = admin_conn(&p);
    let reply = admin_call(&mut s, ADMIN_PROC_CONNECT_CLOSE, &());
    assert_eq!((reply.header.status, reply.payload().len()), (MessageStatus::Ok, 0));
    assert!(reads_eof(&mut s, Duration::from_secs(5)), "connection left open after CONNECT_CLOSE");
}

#[test]
fn raw_unknown_admin_procedure_refused() {
    let p = Proxy::start("");
    let reply = admin_call(&mut admin_conn(&p), 20, &());
    let e: RemoteError = reply.decode_payload().unwrap();
    assert_eq!(e.message(), "unknown procedure: 20");
}
