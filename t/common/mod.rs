//! Shared helpers for the integration tests in t/: temporary directories, starting the real
//! daemon binaries, waiting for their sockets, running Debian's real clients.
#![allow(dead_code)]

#[cfg(feature = "xen")]
pub mod fakexen;
pub mod libvirtd;
pub mod pki;

use std::ffi::OsStr;
use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub const PROXY: &str = env!("CARGO_BIN_EXE_virtproxyd");

static SEQ: AtomicUsize = AtomicUsize::new(0);

/// A directory removed when dropped (kept if VIRTLITE_KEEP_TEST_DIRS is set).
pub struct TestDir {
    pub path: PathBuf,
}

impl TestDir {
    pub fn new(tag: &str) -> TestDir {
        let n = SEQ.fetch_add(1, Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!("vlt-{}-{}-{}", tag, std::process::id(), n));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        TestDir { path }
    }

    pub fn join(&self, p: &str) -> PathBuf {
        self.path.join(p)
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.join(name);
        if let Some(d) = p.parent() {
            fs::create_dir_all(d).unwrap();
        }
        fs::write(&p, text).unwrap();
        p
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        if std::env::var_os("VIRTLITE_KEEP_TEST_DIRS").is_none() {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

pub fn is_root() -> bool {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Polls `f` every 5 ms until it is true or `limit` passes.
pub fn wait_for(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    f()
}

/// A running daemon in the foreground, killed (SIGKILL) if still running when dropped.
pub struct Daemon {
    pub child: Child,
    pub dir: PathBuf,
}

impl Daemon {
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY: sending a signal to our own child.
        unsafe { libc::kill(self.pid(), sig) };
    }

    /// Waits for exit up to `limit`; None if it is still running.
    pub fn wait_timeout(&mut self, limit: Duration) -> Option<ExitStatus> {
        let start = Instant::now();
        loop {
            if let Ok(Some(st)) = self.child.try_wait() {
                return Some(st);
            }
            if start.elapsed() > limit {
                return None;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    pub fn stop(&mut self) -> ExitStatus {
        self.signal(libc::SIGTERM);
        self.wait_timeout(Duration::from_secs(10)).expect("daemon did not exit on SIGTERM")
    }

    pub fn stderr_text(&mut self) -> String {
        let mut s = String::new();
        if let Some(e) = self.child.stderr.as_mut() {
            let _ = e.read_to_string(&mut s);
        }
        s
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A config that keeps a test daemon's sockets inside `dir` (unix_sock_dir) plus `extra`.
pub fn config_in(dir: &Path, extra: &str) -> String {
    format!("unix_sock_dir = \"{}\"\n{}\n", dir.display(), extra)
}

/// Starts `bin` in the foreground with a config file and pidfile under `dir`, waiting
/// until `ready` exists.
pub fn start(bin: &str, dir: &Path, conf: &str, args: &[&str], ready: &Path) -> Daemon {
    let cfg = dir.join("daemon.conf");
    fs::write(&cfg, conf).unwrap();
    let pid = dir.join("daemon.pid");
    let child = Command::new(bin)
        .arg("-f")
        .arg(&cfg)
        .arg("-p")
        .arg(&pid)
        .args(args)
        .env("XDG_RUNTIME_DIR", dir)
        .env("XDG_CONFIG_HOME", dir)
        .env("XDG_CACHE_HOME", dir)
        .env_remove("LIBVIRT_DEBUG")
        .env_remove("LIBVIRT_LOG_OUTPUTS")
        .env_remove("LIBVIRT_LOG_FILTERS")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut d = Daemon { child, dir: dir.to_path_buf() };
    if !wait_for(Duration::from_secs(10), || is_ready(ready) || matches!(d.child.try_wait(), Ok(Some(_)))) || !is_ready(ready) {
        let st = d.child.try_wait();
        panic!("daemon did not create {} (exit {:?}): {}", ready.display(), st, d.stderr_text());
    }
    d
}

/// `p` exists and, if it is a socket, accepts connections (a socket file appears at bind(),
/// a moment before listen()).
pub fn is_ready(p: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    match fs::metadata(p) {
        Ok(m) if m.file_type().is_socket() => std::os::unix::net::UnixStream::connect(p).is_ok(),
        Ok(_) => true,
        Err(_) => false,
    }
}

/// Runs a command with a time limit; output captured.
pub fn run_with_timeout(cmd: &mut Command, limit: Duration) -> Output {
    let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let start = Instant::now();
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "command timed out after {:?}: {:?}\nstdout: {}\nstderr: {}",
                limit,
                cmd,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// virt-admin against an admin socket path.
pub fn virt_admin(sock: &Path, args: &[&str]) -> Output {
    let uri = format!("virtproxyd:///system?socket={}", sock.display());
    let mut c = Command::new("virt-admin");
    c.arg("-c").arg(uri).args(args);
    run_with_timeout(&mut c, Duration::from_secs(30))
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

pub fn have(cmd: impl AsRef<OsStr>) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {} >/dev/null", cmd.as_ref().to_string_lossy()))
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// A minimal blocking libvirt RPC client over a UNIX socket, for protocol-level tests.
pub struct RawClient {
    pub sock: std::os::unix::net::UnixStream,
    pub serial: u32,
}

impl RawClient {
    pub fn connect(path: &Path) -> RawClient {
        let sock = std::os::unix::net::UnixStream::connect(path).unwrap_or_else(|e| panic!("connect {}: {e}", path.display()));
        sock.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        RawClient { sock, serial: 0 }
    }

    pub fn send_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        use std::io::Write;
        self.sock.write_all(bytes)
    }

    /// Sends a CALL with an XDR-encoded body; returns its serial.
    pub fn send_call(&mut self, prog: u32, proc_: i32, body: &impl virtlite::xdr::Xdr) -> u32 {
        use virtlite::rpc::protocol::{Header, MessageStatus, MessageType};
        self.serial += 1;
        let h = Header::new(prog, 1, proc_, MessageType::Call, self.serial, MessageStatus::Ok);
        let buf = virtlite::rpc::message::encode_packet(&h, None, |w| body.encode(w)).unwrap();
        self.send_raw(&buf).unwrap();
        self.serial
    }

    /// Reads one packet (None at EOF or timeout).
    pub fn read_packet(&mut self) -> Option<virtlite::rpc::message::Packet> {
        let mut len = [0u8; 4];
        self.sock.read_exact(&mut len).ok()?;
        let total = virtlite::rpc::message::packet_len(len).ok()?;
        let mut buf = vec![0u8; total];
        buf[..4].copy_from_slice(&len);
        self.sock.read_exact(&mut buf[4..]).ok()?;
        virtlite::rpc::message::Packet::parse(buf).ok()
    }

    /// Reads until the reply to `serial` (skipping keepalive and events).
    pub fn reply_to(&mut self, serial: u32) -> Option<virtlite::rpc::message::Packet> {
        use virtlite::rpc::protocol::MessageType;
        loop {
            let p = self.read_packet()?;
            if matches!(p.header.type_, MessageType::Reply | MessageType::ReplyWithFds) && p.header.serial == serial {
                return Some(p);
            }
        }
    }

    /// A call whose reply must be OK; returns the payload decoded as `R`.
    pub fn call_ok<R: virtlite::xdr::Xdr>(&mut self, prog: u32, proc_: i32, body: &impl virtlite::xdr::Xdr) -> R {
        let s = self.send_call(prog, proc_, body);
        let p = self.reply_to(s).expect("no reply");
        assert_eq!(
            p.header.status,
            virtlite::rpc::protocol::MessageStatus::Ok,
            "error reply: {:?}",
            p.decode_payload::<virtlite::rpc::protocol::RemoteError>()
        );
        p.decode_payload::<R>().unwrap()
    }

    /// A call whose reply must be an error; returns the error.
    pub fn call_err(&mut self, prog: u32, proc_: i32, body: &impl virtlite::xdr::Xdr) -> virtlite::rpc::protocol::RemoteError {
        let s = self.send_call(prog, proc_, body);
        let p = self.reply_to(s).expect("no reply");
        assert_eq!(p.header.status, virtlite::rpc::protocol::MessageStatus::Error);
        p.decode_payload().unwrap()
    }

    /// True if the peer has closed the connection (read returns EOF within the timeout).
    pub fn is_closed(&mut self, within: Duration) -> bool {
        self.sock.set_read_timeout(Some(within)).unwrap();
        let mut b = [0u8; 4096];
        loop {
            match self.sock.read(&mut b) {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
                Err(_) => return false,
            }
        }
    }
}

/// A TCP port that was free a moment ago on 127.0.0.1 (and ::1).
pub fn free_port() -> u16 {
    loop {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        drop(l);
        if std::net::TcpListener::bind(("::1", port)).is_ok() {
            return port;
        }
    }
}

/// Spawns virtproxyd with `fds` as its activation fds 3.. and the given names.
pub fn spawn_activated(d: &TestDir, fds: &[i32], names: Option<&str>, cfg: &Path) -> Daemon {
    let high: Vec<i32> = fds
        .iter()
        // SAFETY: duplicating descriptors we own to numbers above the ones we will target.
        .map(|&f| unsafe { libc::fcntl(f, libc::F_DUPFD_CLOEXEC, 100) })
        .collect();
    // LISTEN_PID must be the daemon's own pid: let a shell set it to $$ and exec in place.
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "LISTEN_PID=$$ exec \"$0\" \"$@\"", PROXY]);
    cmd.env_remove("LIBVIRT_DEBUG").env_remove("LIBVIRT_LOG_OUTPUTS").env_remove("LIBVIRT_LOG_FILTERS");
    cmd.arg("-f").arg(cfg).arg("-p").arg(d.join("daemon.pid")).env("XDG_RUNTIME_DIR", &d.path);
    cmd.env("LISTEN_FDS", fds.len().to_string());
    match names {
        Some(n) => cmd.env("LISTEN_FDNAMES", n),
        None => cmd.env_remove("LISTEN_FDNAMES"),
    };
    cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
    let high2 = high.clone();
    // SAFETY: between fork and exec we only call dup2, which is async-signal-safe.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, move || {
            for (i, &f) in high2.iter().enumerate() {
                if libc::dup2(f, 3 + i as i32) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    let child = cmd.spawn().unwrap();
    for f in high {
        // SAFETY: closing our duplicates.
        unsafe { libc::close(f) };
    }
    Daemon { child, dir: d.path.clone() }
}
