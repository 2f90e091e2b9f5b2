//! Log outputs that hold a resource: stderr, append-only files, syslog(3) and the journald
//! socket (util/virlog.c virLogNewOutputTo*, virLogOutputTo*). The syscalls behind the
//! logging module lives here: openlog/syslog, and memfd + SCM_RIGHTS for big journal records.

use std::ffi::CString;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, RwLock};

use super::format::{self, Origin};
use super::spec::{Dest, OutputSpec, Priority};
use super::LogError;

/// journald's native protocol socket.
pub const JOURNAL_SOCKET: &str = "/run/systemd/journal/socket";

/// Mode of a log file we create (libvirt opens with S_IRUSR | S_IWUSR).
pub const LOG_FILE_MODE: u32 = 0o600;

/// One record, rendered once and handed to every output that takes it.
pub struct Rendered<'a> {
    pub priority: Priority,
    pub origin: Origin<'a>,
    /// The message alone (journald's MESSAGE).
    pub raw: &'a str,
    /// `TID: LEVEL : PLACE:LINE : MESSAGE\n` (syslog gets this).
    pub text: &'a str,
    /// The record's timestamp, shared with the version lines written before it.
    pub timestamp: &'a str,
}

/// What the outputs need besides the record: our thread id, the host name and the
/// identifier journald records carry.
pub struct EmitCtx<'a> {
    pub tid: u64,
    pub hostname: &'a str,
    pub ident: &'a str,
}

enum Sink {
    Stderr,
    File(RwLock<File>),
    Syslog,
    Journald { sock: UnixDatagram, path: PathBuf },
}

/// An opened output: its spec, its resource, and whether the version and host name lines
/// are still to be written before its next record.
pub struct Output {
    pub spec: OutputSpec,
    sink: Sink,
    init_pending: AtomicBool,
}

fn open_log_file(path: &Path) -> Result<File, LogError> {
    OpenOptions::new()
        .append(true)
        .create(true)
        .mode(LOG_FILE_MODE)
        .open(path)
        .map_err(|err| LogError::Io { path: path.to_path_buf(), err })
}

/// Whether something listens on the journald socket at `path` (a throw-away connect).
pub fn journald_available(path: &Path) -> io::Result<()> {
    UnixDatagram::unbound()?.connect(path)
}

impl Output {
    /// Opens the resource for `spec`; `journal` is the journald socket path.
    // C: virLogNewOutputToStderr, virLogNewOutputToFile, virLogNewOutputToSyslog,
    //    virLogNewOutputToJournald
    pub fn open(spec: OutputSpec, journal: &Path) -> Result<Output, LogError> {
        let sink = match &spec.dest {
            Dest::Stderr => Sink::Stderr,
            Dest::File(path) => Sink::File(RwLock::new(open_log_file(path)?)),
            Dest::Syslog(ident) => {
                if ident.contains('\0') {
                    return Err(LogError::SyslogIdent { ident: ident.clone() });
                }
                Sink::Syslog
            }
            Dest::Journald => {
                let unavailable = |err| LogError::Journald { path: journal.to_path_buf(), err };
                journald_available(journal).map_err(unavailable)?;
                let sock = UnixDatagram::unbound().map_err(unavailable)?;
                // A full journal queue drops the record instead of stalling the daemon.
                sock.set_nonblocking(true).map_err(unavailable)?;
                Sink::Journald { sock, path: journal.to_path_buf() }
            }
        };
        Ok(Output { spec, sink, init_pending: AtomicBool::new(true) })
    }

    pub fn priority(&self) -> Priority {
        self.spec.priority
    }

    /// Reopens a file output at its path (after logrotate moved it); the new file starts
    /// with the version lines again. Other outputs have nothing to reopen.
    pub fn reopen(&self) -> Result<(), LogError> {
        if let (Sink::File(lock), Dest::File(path)) = (&self.sink, &self.spec.dest) {
            let new = open_log_file(path)?;
            *lock.write().unwrap_or_else(|e| e.into_inner()) = new;
            self.init_pending.store(true, Ordering::Release);
        }
        Ok(())
    }

    /// Writes `rec` if it is severe enough for this output, preceded by the version and
    /// host name lines the first time.
    // C: virLogVMessage (the loop over outputs)
    pub fn emit(&self, rec: &Rendered<'_>, ctx: &EmitCtx<'_>) {
        if rec.priority < self.spec.priority {
            return;
        }
        if self.init_pending.swap(false, Ordering::AcqRel) {
            for raw in [format::version_string(), format::hostname_string(ctx.hostname)] {
                let text = format::format_message(ctx.tid, Priority::Info, None, &raw);
                let init = Rendered {
                    priority: Priority::Info,
                    origin: Origin { category: "util.log", place: None, file: Some(file!()), line: line!(), module: Some(module_path!()) },
                    raw: &raw,
                    text: &text,
                    timestamp: rec.timestamp,
                };
                self.write(&init, ctx);
            }
        }
        self.write(rec, ctx);
    }

    fn write(&self, rec: &Rendered<'_>, ctx: &EmitCtx<'_>) {
        // Failures are dropped: logging must never stop or crash the daemon.
        match &self.sink {
            Sink::Stderr => write_stderr(rec),
            Sink::File(lock) => {
                let line = format::format_fd_line(rec.timestamp, rec.text);
                let file = lock.read().unwrap_or_else(|e| e.into_inner());
                let _ = (&*file).write_all(line.as_bytes());
            }
            Sink::Syslog => syslog_write(rec.priority, rec.text),
            Sink::Journald { sock, path } => {
                let data = format::journal_datagram(rec.priority, &rec.origin, ctx.ident, rec.raw);
                journal_send(sock, path, &data);
            }
        }
    }
}

/// The host name for the version lines ("localhost" if it cannot be read, like glib).
pub fn hostname() -> String {
    crate::util::sys::hostname().unwrap_or_else(|| "localhost".to_string())
}

/// The kernel thread id of the caller, written in every line.
// C: virThreadSelfID
pub fn gettid() -> u64 {
    crate::util::sys::gettid() as u64
}

/// Writes one record to stderr (the stderr output and the fallback when none is defined).
// C: virLogOutputToFd
pub fn write_stderr(rec: &Rendered<'_>) {
    let line = format::format_fd_line(rec.timestamp, rec.text);
    let _ = io::stderr().lock().write_all(line.as_bytes());
}

/// The ident handed to openlog (which keeps the pointer, so the string must outlive its
/// use) and whether the syslog connection is open. A replaced ident is freed only after
/// openlog has switched to the new one; after closelog the last one is kept.
static SYSLOG: Mutex<(Option<CString>, bool)> = Mutex::new((None, false));

/// Makes syslog use `ident` (opening the connection), or closes it when `None`.
// C: virLogDefineOutputs (the syslog special case), virLogCloseSyslog
pub fn syslog_activate(ident: Option<&str>) {
    let mut g = SYSLOG.lock().unwrap_or_else(|e| e.into_inner());
    match ident {
        Some(id) => {
            if g.1 && g.0.as_ref().map(|c| c.as_bytes()) == Some(id.as_bytes()) {
                return;
            }
            let Ok(c) = CString::new(id) else { return };
            // `c` is stored in SYSLOG right after and stays there until a later openlog no
            // longer refers to it.
            crate::util::sys::openlog(&c);
            *g = (Some(c), true);
        }
        None => {
            if g.1 {
                crate::util::sys::closelog();
                g.1 = false;
            }
        }
    }
}

fn syslog_write(priority: Priority, text: &str) {
    let bytes: Vec<u8> = text.bytes().filter(|&b| b != 0).collect();
    let Ok(msg) = CString::new(bytes) else { return };
    crate::util::sys::syslog(priority.syslog(), &msg);
}

/// Sends one journald datagram; a record too big for a datagram goes in a sealed memfd
/// passed over the socket, as journald's protocol allows. Other failures drop it.
fn journal_send(sock: &UnixDatagram, path: &Path, data: &[u8]) {
    match sock.send_to(data, path) {
        Err(e) if matches!(e.raw_os_error(), Some(libc::EMSGSIZE) | Some(libc::ENOBUFS)) => {
            let _ = journal_send_memfd(sock, path, data);
        }
        _ => {}
    }
}

fn journal_send_memfd(sock: &UnixDatagram, path: &Path, data: &[u8]) -> io::Result<()> {
    let fd = crate::util::sys::sealed_memfd(c"virtlite-journal", data)?;
    crate::util::sys::send_fd_to(sock.as_raw_fd(), path, fd.as_raw_fd())
}

#[cfg(test)]
mod tests {
    use super::super::testdir::TestDir;
    use super::*;

    fn origin() -> Origin<'static> {
        Origin { category: "rpc", place: Some("rpc"), file: Some("f.rs"), line: 5, module: Some("m") }
    }

    fn rec<'a>(priority: Priority, raw: &'a str, text: &'a str) -> Rendered<'a> {
        Rendered { priority, origin: origin(), raw, text, timestamp: "TS" }
    }

    fn ctx() -> EmitCtx<'static> {
        EmitCtx { tid: 11, hostname: "hostA", ident: "virtproxyd" }
    }

    fn file_spec(priority: Priority, path: &Path) -> OutputSpec {
        OutputSpec { priority, dest: Dest::File(path.to_path_buf()) }
    }

    #[test]
    fn file_output_first_write_adds_version_and_hostname() {
        let dir = TestDir::new("first");
        let path = dir.path().join("a.log");
        let out = Output::open(file_spec(Priority::Debug, &path), Path::new(JOURNAL_SOCKET)).unwrap();
        out.emit(&rec(Priority::Warn, "m1", "11: warning : rpc:5 : m1\n"), &ctx());
        out.emit(&rec(Priority::Warn, "m2", "11: warning : rpc:5 : m2\n"), &ctx());
        let text = std::fs::read_to_string(&path).unwrap();
        let want = format!(
            "TS: 11: info : {}\nTS: 11: info : hostname: hostA\n\
             TS: 11: warning : rpc:5 : m1\nTS: 11: warning : rpc:5 : m2\n",
            format::version_string()
        );
        assert_eq!(text, want);
    }

    #[test]
    fn file_output_created_mode_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = TestDir::new("mode");
        let path = dir.path().join("m.log");
        Output::open(file_spec(Priority::Debug, &path), Path::new(JOURNAL_SOCKET)).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & !0o600, 0, "mode {mode:o}");
    }

    #[test]
    fn file_output_appends_to_existing() {
        let dir = TestDir::new("append");
        let path = dir.path().join("a.log");
        std::fs::write(&path, "old\n").unwrap();
        let out = Output::open(file_spec(Priority::Debug, &path), Path::new(JOURNAL_SOCKET)).unwrap();
        out.emit(&rec(Priority::Error, "x", "x\n"), &ctx());
        assert!(std::fs::read_to_string(&path).unwrap().starts_with("old\nTS: "));
    }

    #[test]
    fn file_output_below_its_priority_writes_nothing() {
        let dir = TestDir::new("gate");
        let path = dir.path().join("a.log");
        let out = Output::open(file_spec(Priority::Error, &path), Path::new(JOURNAL_SOCKET)).unwrap();
        out.emit(&rec(Priority::Warn, "x", "x\n"), &ctx());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "");
    }

    #[test]
    fn file_output_reopen_after_rename_writes_new_file() {
        let dir = TestDir::new("reopen");
        let path = dir.path().join("a.log");
        let moved = dir.path().join("a.log.1");
        let out = Output::open(file_spec(Priority::Debug, &path), Path::new(JOURNAL_SOCKET)).unwrap();
        out.emit(&rec(Priority::Error, "one", "one\n"), &ctx());
        std::fs::rename(&path, &moved).unwrap();
        out.reopen().unwrap();
        out.emit(&rec(Priority::Error, "two", "two\n"), &ctx());
        let old = std::fs::read_to_string(&moved).unwrap();
        let new = std::fs::read_to_string(&path).unwrap();
        assert!(old.ends_with("TS: one\n") && !old.contains("two"), "{old}");
        assert!(new.contains("hostname: hostA") && new.ends_with("TS: two\n"), "{new}");
    }

    #[test]
    fn file_output_missing_directory_is_io_error() {
        let dir = TestDir::new("missing");
        let path = dir.path().join("no/such/a.log");
        let e = Output::open(file_spec(Priority::Debug, &path), Path::new(JOURNAL_SOCKET)).err().unwrap();
        assert!(e.to_string().starts_with(&format!("failed to open {}: ", path.display())), "{e}");
    }

    #[test]
    fn journald_output_without_socket_is_error() {
        let dir = TestDir::new("nojournal");
        let spec = OutputSpec { priority: Priority::Info, dest: Dest::Journald };
        let e = Output::open(spec, &dir.path().join("socket")).err().unwrap();
        assert!(matches!(e, LogError::Journald { .. }), "{e:?}");
    }

    #[test]
    fn journald_output_sends_native_datagrams() {
        let dir = TestDir::new("journal");
        let sock_path = dir.path().join("socket");
        let server = UnixDatagram::bind(&sock_path).unwrap();
        let spec = OutputSpec { priority: Priority::Info, dest: Dest::Journald };
        let out = Output::open(spec, &sock_path).unwrap();
        out.emit(&rec(Priority::Error, "boom", "11: error : rpc:5 : boom\n"), &ctx());
        let mut buf = vec![0u8; 4096];
        let n = server.recv(&mut buf).unwrap();
        let first = String::from_utf8_lossy(&buf[..n]).to_string();
        assert!(first.starts_with("MESSAGE=libvirt version: "), "{first}");
        let _ = server.recv(&mut buf).unwrap(); // hostname
        let n = server.recv(&mut buf).unwrap();
        let third = String::from_utf8_lossy(&buf[..n]).to_string();
        assert!(third.starts_with("MESSAGE=boom\nPRIORITY=3\n"), "{third}");
        assert!(third.contains("SYSLOG_IDENTIFIER=virtproxyd\n"), "{third}");
    }

    #[test]
    fn journald_oversized_record_sent_as_fd() {
        let dir = TestDir::new("journalbig");
        let sock_path = dir.path().join("socket");
        let server = UnixDatagram::bind(&sock_path).unwrap();
        let client = UnixDatagram::unbound().unwrap();
        client.set_nonblocking(true).unwrap();
        let big = vec![b'x'; 4 << 20];
        journal_send(&client, &sock_path, &big);
        // The fallback is an empty datagram whose only content is the memfd.
        let mut buf = vec![0u8; 16];
        server.set_nonblocking(true).unwrap();
        assert_eq!(server.recv(&mut buf).unwrap(), 0);
    }
}
