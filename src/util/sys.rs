//! Thin safe wrappers over the POSIX calls the daemons need (libvirt's util/virfile.c,
//! util/virsocket.c, util/virutil.c): fd passing, peer credentials, users and groups, fork.
//!
//! Every `-1`/errno return goes through `cvt`; every unsafe block says why it is sound.

use std::ffi::{CStr, CString, OsStr};
use std::io;
use std::mem::{size_of, zeroed, MaybeUninit};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Turns a C `-1 + errno` return into an `io::Result`.
pub fn cvt<T: Copy + PartialEq + From<i8>>(ret: T) -> io::Result<T> {
    if ret == T::from(-1) {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Like `cvt` but retries on EINTR.
pub fn cvt_retry<T: Copy + PartialEq + From<i8>>(mut f: impl FnMut() -> T) -> io::Result<T> {
    loop {
        match cvt(f()) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

pub fn path_cstring(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains a NUL byte"))
}

pub fn geteuid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

pub fn getpid() -> i32 {
    // SAFETY: getpid has no preconditions and cannot fail.
    unsafe { libc::getpid() }
}

pub fn gettid() -> i64 {
    // SAFETY: the gettid syscall takes no arguments and cannot fail.
    unsafe { libc::syscall(libc::SYS_gettid) }
}

/// Credentials of the process at the other end of a UNIX socket (SO_PEERCRED).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerCred {
    pub pid: i32,
    pub uid: u32,
    pub gid: u32,
}

// C: virNetSocketGetUNIXIdentity
pub fn peer_cred(fd: RawFd) -> io::Result<PeerCred> {
    // SAFETY: ucred is plain old data, so all-zero is a valid value.
    let mut cred: libc::ucred = unsafe { zeroed() };
    let mut len = size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: `cred` and `len` are valid for writes and `len` holds the buffer size.
    cvt(unsafe {
        libc::getsockopt(fd, libc::SOL_SOCKET, libc::SO_PEERCRED, &mut cred as *mut libc::ucred as *mut libc::c_void, &mut len)
    })?;
    Ok(PeerCred { pid: cred.pid, uid: cred.uid, gid: cred.gid })
}

/// Start time of a process in clock ticks since boot (field 22 of /proc/PID/stat), 0 if unknown.
// C: virProcessGetStartTime
pub fn process_start_time(pid: i32) -> u64 {
    let Ok(stat) = std::fs::read(format!("/proc/{pid}/stat")) else { return 0 };
    // The command name (field 2) is in parentheses and may itself contain spaces or ')'.
    let Some(close) = stat.iter().rposition(|&b| b == b')') else { return 0 };
    let rest = &stat[close + 1..];
    // After ')' comes field 3 (state); field 22 is the 20th token from there.
    rest.split(|&b| b == b' ')
        .filter(|t| !t.is_empty())
        .nth(19)
        .and_then(|t| std::str::from_utf8(t).ok())
        .and_then(|t| t.parse().ok())
        .unwrap_or(0)
}

/// One field of a user id's passwd entry (`pick` returns a pointer into the entry).
fn passwd_field(uid: u32, pick: fn(&libc::passwd) -> *const libc::c_char) -> Option<String> {
    let mut buf = vec![0u8; 1024];
    loop {
        // SAFETY: passwd is plain old data, so all-zero is a valid value.
        let mut pwd: libc::passwd = unsafe { zeroed() };
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: every pointer refers to live memory of the stated size.
        let rc = unsafe { libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr() as *mut libc::c_char, buf.len(), &mut result) };
        if rc == libc::ERANGE && buf.len() < 1 << 20 {
            buf.resize(buf.len() * 4, 0);
            continue;
        }
        let field = pick(&pwd);
        if rc != 0 || result.is_null() || field.is_null() {
            return None;
        }
        // SAFETY: on success the entry's strings are NUL-terminated and live inside `buf`.
        return Some(unsafe { CStr::from_ptr(field) }.to_string_lossy().into_owned());
    }
}

/// Name of a user id, if the user database knows it.
pub fn user_name(uid: u32) -> Option<String> {
    passwd_field(uid, |p| p.pw_name)
}

/// Home directory of a user id, from the user database.
pub fn user_home(uid: u32) -> Option<String> {
    passwd_field(uid, |p| p.pw_dir)
}

/// Name of a group id, if the group database knows it.
pub fn group_name(gid: u32) -> Option<String> {
    let mut buf = vec![0u8; 1024];
    loop {
        // SAFETY: group is plain old data, so all-zero is a valid value.
        let mut grp: libc::group = unsafe { zeroed() };
        let mut result: *mut libc::group = std::ptr::null_mut();
        // SAFETY: every pointer refers to live memory of the stated size.
        let rc = unsafe { libc::getgrgid_r(gid, &mut grp, buf.as_mut_ptr() as *mut libc::c_char, buf.len(), &mut result) };
        if rc == libc::ERANGE && buf.len() < 1 << 20 {
            buf.resize(buf.len() * 4, 0);
            continue;
        }
        if rc != 0 || result.is_null() {
            return None;
        }
        // SAFETY: on success gr_name points to a NUL-terminated string inside `buf`.
        return Some(unsafe { CStr::from_ptr(grp.gr_name) }.to_string_lossy().into_owned());
    }
}

/// Group id of a group name, or of a numeric string (libvirt accepts "+123" style ids too).
// C: virGetGroupID
pub fn group_id(name: &str) -> Option<u32> {
    if let Some(n) = name.strip_prefix('+') {
        return n.parse().ok();
    }
    let cname = CString::new(name).ok()?;
    let mut buf = vec![0u8; 1024];
    loop {
        // SAFETY: group is plain old data, so all-zero is a valid value.
        let mut grp: libc::group = unsafe { zeroed() };
        let mut result: *mut libc::group = std::ptr::null_mut();
        // SAFETY: every pointer refers to live memory of the stated size.
        let rc = unsafe { libc::getgrnam_r(cname.as_ptr(), &mut grp, buf.as_mut_ptr() as *mut libc::c_char, buf.len(), &mut result) };
        if rc == libc::ERANGE && buf.len() < 1 << 20 {
            buf.resize(buf.len() * 4, 0);
            continue;
        }
        if rc != 0 || result.is_null() {
            return name.parse().ok();
        }
        return Some(grp.gr_gid);
    }
}

/// Receives into `buf`, appending any SCM_RIGHTS descriptors to `fds` (made close-on-exec).
/// Returns the number of bytes read (0 at end of stream).
pub fn recv_with_fds(fd: RawFd, buf: &mut [u8], fds: &mut Vec<OwnedFd>) -> io::Result<usize> {
    // SAFETY: `buf` is valid for writes of its length.
    unsafe { recv_raw(fd, buf.as_mut_ptr(), buf.len(), Some(fds)) }
}

/// Reads at most `max` bytes and appends them to `buf` (no zero-filling: straight into its
/// spare capacity). With `fds`, the read is a recvmsg that also collects passed descriptors.
pub fn recv_append(fd: RawFd, buf: &mut Vec<u8>, max: usize, fds: Option<&mut Vec<OwnedFd>>) -> io::Result<usize> {
    buf.reserve(max);
    let spare = buf.spare_capacity_mut();
    let len = spare.len().min(max);
    // SAFETY: the spare capacity is valid for writes of `len` bytes; recv_raw writes at most
    // that many and reports how many, and exactly those are then marked initialised.
    let n = unsafe { recv_raw(fd, spare.as_mut_ptr().cast::<u8>(), len, fds) }?;
    // SAFETY: n <= len bytes past the old length were written by the kernel.
    unsafe { buf.set_len(buf.len() + n) };
    Ok(n)
}

/// recvmsg into `len` bytes at `ptr`, collecting SCM_RIGHTS descriptors when `fds` is given
/// (plain read otherwise).
///
/// # Safety
/// `ptr` must be valid for writes of `len` bytes.
unsafe fn recv_raw(fd: RawFd, ptr: *mut u8, len: usize, fds: Option<&mut Vec<OwnedFd>>) -> io::Result<usize> {
    let Some(fds) = fds else {
        // SAFETY: the caller guarantees ptr/len.
        return cvt_retry(|| unsafe { libc::read(fd, ptr.cast(), len) }).map(|n| n as usize);
    };
    const MAX_FDS: usize = 32;
    let mut cmsg_space = [0u64; (MAX_FDS * 4 + 64) / 8];
    let mut iov = libc::iovec { iov_base: ptr as *mut libc::c_void, iov_len: len };
    // SAFETY: msghdr is plain old data, so all-zero is a valid value.
    let mut msg: libc::msghdr = unsafe { zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cmsg_space.as_mut_ptr() as *mut libc::c_void;
    msg.msg_controllen = std::mem::size_of_val(&cmsg_space);
    // SAFETY: msg points at a live iovec over `buf` and a live control buffer of the stated size.
    let n = cvt_retry(|| unsafe { libc::recvmsg(fd, &mut msg, libc::MSG_CMSG_CLOEXEC) })?;
    // SAFETY: after a successful recvmsg the control buffer holds msg_controllen valid bytes,
    // and the CMSG_* macros walk only within it.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_RIGHTS {
                let data = libc::CMSG_DATA(cmsg) as *const RawFd;
                let count = ((*cmsg).cmsg_len as usize - libc::CMSG_LEN(0) as usize) / size_of::<RawFd>();
                for i in 0..count {
                    let raw = std::ptr::read_unaligned(data.add(i));
                    fds.push(OwnedFd::from_raw_fd(raw));
                }
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    if msg.msg_flags & libc::MSG_CTRUNC != 0 {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "too many file descriptors in one message"));
    }
    Ok(n as usize)
}

/// Sends one dummy byte carrying `passed` as SCM_RIGHTS (libvirt's per-fd framing).
/// Returns Ok(false) if the socket would block.
// C: virNetSocketSendFD
pub fn send_fd(fd: RawFd, passed: RawFd) -> io::Result<bool> {
    send_with_fd(fd, None, &[0], passed)
}

/// writev(2) over several slices; MSG_NOSIGNAL is implied because SIGPIPE is ignored.
pub fn writev(fd: RawFd, bufs: &[&[u8]]) -> io::Result<usize> {
    let mut iov: [MaybeUninit<libc::iovec>; 64] = [const { MaybeUninit::uninit() }; 64];
    let n = bufs.len().min(64);
    for (slot, b) in iov.iter_mut().zip(bufs.iter()).take(n) {
        slot.write(libc::iovec { iov_base: b.as_ptr() as *mut libc::c_void, iov_len: b.len() });
    }
    // SAFETY: the first n entries of iov were initialised above and point at live slices.
    let r = cvt_retry(|| unsafe { libc::writev(fd, iov.as_ptr() as *const libc::iovec, n as libc::c_int) })?;
    Ok(r as usize)
}

pub fn set_cloexec(fd: RawFd, on: bool) -> io::Result<()> {
    // SAFETY: fcntl with F_GETFD/F_SETFD on a descriptor has no memory effects.
    let flags = cvt(unsafe { libc::fcntl(fd, libc::F_GETFD) })?;
    let new = if on { flags | libc::FD_CLOEXEC } else { flags & !libc::FD_CLOEXEC };
    // SAFETY: as above.
    cvt(unsafe { libc::fcntl(fd, libc::F_SETFD, new) })?;
    Ok(())
}

pub fn set_nonblocking(fd: RawFd) -> io::Result<()> {
    // SAFETY: fcntl with F_GETFL/F_SETFL on a descriptor has no memory effects.
    let flags = cvt(unsafe { libc::fcntl(fd, libc::F_GETFL) })?;
    // SAFETY: as above.
    cvt(unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) })?;
    Ok(())
}

/// True if `fd` is an open descriptor.
pub fn fd_is_open(fd: RawFd) -> bool {
    // SAFETY: F_GETFD only queries the descriptor table.
    unsafe { libc::fcntl(fd, libc::F_GETFD) != -1 }
}

pub fn chown_path(path: &Path, uid: Option<u32>, gid: Option<u32>) -> io::Result<()> {
    let c = path_cstring(path)?;
    let u = uid.unwrap_or(u32::MAX);
    let g = gid.unwrap_or(u32::MAX);
    // SAFETY: c is a valid NUL-terminated path; -1 (u32::MAX) leaves an id unchanged.
    cvt(unsafe { libc::chown(c.as_ptr(), u, g) })?;
    Ok(())
}

/// Sets the process umask, returning the previous one.
pub fn umask(mask: u32) -> u32 {
    // SAFETY: umask cannot fail.
    unsafe { libc::umask(mask as libc::mode_t) as u32 }
}

/// The kind of socket behind a descriptor (for socket activation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SockName {
    Unix(Vec<u8>),
    Inet(std::net::SocketAddr),
    Other,
}

pub fn sock_name(fd: RawFd) -> io::Result<SockName> {
    // SAFETY: sockaddr_storage is plain old data, so all-zero is a valid value.
    let mut ss: libc::sockaddr_storage = unsafe { zeroed() };
    let mut len = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: ss/len describe a writable buffer of the stated size.
    cvt(unsafe { libc::getsockname(fd, &mut ss as *mut _ as *mut libc::sockaddr, &mut len) })?;
    Ok(match ss.ss_family as i32 {
        libc::AF_UNIX => {
            // SAFETY: the family says the storage holds a sockaddr_un.
            let un: &libc::sockaddr_un = unsafe { &*(&ss as *const _ as *const libc::sockaddr_un) };
            let off = size_of::<libc::sa_family_t>();
            let plen = (len as usize).saturating_sub(off).min(un.sun_path.len());
            let mut path: Vec<u8> = un.sun_path[..plen].iter().map(|&c| c as u8).collect();
            if path.first() == Some(&0) {
                path[0] = b'@';
            } else if let Some(nul) = path.iter().position(|&b| b == 0) {
                path.truncate(nul);
            }
            SockName::Unix(path)
        }
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a sockaddr_in.
            let sin: &libc::sockaddr_in = unsafe { &*(&ss as *const _ as *const libc::sockaddr_in) };
            let ip = std::net::Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
            SockName::Inet((ip, u16::from_be(sin.sin_port)).into())
        }
        libc::AF_INET6 => {
            // SAFETY: the family says the storage holds a sockaddr_in6.
            let sin6: &libc::sockaddr_in6 = unsafe { &*(&ss as *const _ as *const libc::sockaddr_in6) };
            let ip = std::net::Ipv6Addr::from(sin6.sin6_addr.s6_addr);
            SockName::Inet((ip, u16::from_be(sin6.sin6_port)).into())
        }
        _ => SockName::Other,
    })
}

/// Socket type and listening state of a descriptor: (SOCK_STREAM?, listening?).
pub fn sock_is_listening_stream(fd: RawFd) -> bool {
    let get = |opt| -> Option<libc::c_int> {
        let mut v: libc::c_int = 0;
        let mut len = size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: v/len describe a writable int.
        let r = unsafe { libc::getsockopt(fd, libc::SOL_SOCKET, opt, &mut v as *mut _ as *mut libc::c_void, &mut len) };
        (r == 0).then_some(v)
    };
    get(libc::SO_TYPE) == Some(libc::SOCK_STREAM) && get(libc::SO_ACCEPTCONN) == Some(1)
}

/// A pipe whose both ends are close-on-exec.
pub fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: fds is a writable array of two ints.
    cvt(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) })?;
    // SAFETY: pipe2 succeeded, so both descriptors are open and owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

pub fn read_fd(fd: &impl AsRawFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: buf is a writable slice of the stated length.
    let n = cvt_retry(|| unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr() as *mut libc::c_void, buf.len()) })?;
    Ok(n as usize)
}

pub fn write_fd(fd: &impl AsRawFd, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: buf is a readable slice of the stated length.
    let n = cvt_retry(|| unsafe { libc::write(fd.as_raw_fd(), buf.as_ptr() as *const libc::c_void, buf.len()) })?;
    Ok(n as usize)
}

pub enum Fork {
    Parent(i32),
    Child,
}

/// fork(2). Only call while the process has a single thread.
pub fn fork() -> io::Result<Fork> {
    // SAFETY: the callers (daemonize) run before any thread is spawned, so the child
    // inherits a consistent address space.
    let pid = cvt(unsafe { libc::fork() })?;
    Ok(if pid == 0 { Fork::Child } else { Fork::Parent(pid) })
}

/// waitpid(2) for one child; returns its raw wait status.
pub fn waitpid(pid: i32) -> io::Result<i32> {
    let mut status = 0;
    // SAFETY: status is a writable int.
    cvt_retry(|| unsafe { libc::waitpid(pid, &mut status, 0) })?;
    Ok(status)
}

pub fn setsid() -> io::Result<()> {
    // SAFETY: setsid has no memory effects.
    cvt(unsafe { libc::setsid() })?;
    Ok(())
}

/// Points stdin at /dev/null (read) and stdout/stderr at /dev/null (write).
pub fn stdio_to_devnull() -> io::Result<()> {
    let rd = std::fs::File::open("/dev/null")?;
    let wr = std::fs::OpenOptions::new().write(true).open("/dev/null")?;
    for (src, dst) in [(rd.as_raw_fd(), 0), (wr.as_raw_fd(), 1), (wr.as_raw_fd(), 2)] {
        // SAFETY: dup2 onto the standard descriptors; both are valid descriptors.
        cvt(unsafe { libc::dup2(src, dst) })?;
    }
    Ok(())
}

/// _exit(2): leave without running destructors or atexit handlers (after fork).
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns and has no preconditions.
    unsafe { libc::_exit(code) }
}

/// Ignores SIGPIPE for the whole process (writes to closed sockets return EPIPE instead).
pub fn ignore_sigpipe() {
    // SAFETY: installing SIG_IGN for SIGPIPE is always sound.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
}

/// What a non-blocking connect to a UNIX socket gave.
#[derive(Debug)]
pub enum Connect {
    Connected(OwnedFd),
    /// The listener's backlog is full (EAGAIN): try again later.
    Busy,
}

/// Connects a non-blocking, close-on-exec UNIX stream socket to `path`. A UNIX connect
/// never blocks on a non-blocking socket: it completes at once or fails, EAGAIN meaning the
/// listener's accept queue is full.
// C: virNetSocketNewConnectUNIX
pub fn connect_unix_nonblocking(path: &Path) -> io::Result<Connect> {
    let (addr, len) = sockaddr_unix(path)?;
    // SAFETY: socket(2) with constant arguments.
    let fd = cvt(unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, 0) })?;
    // SAFETY: fd was just created and is owned by nobody else.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: addr is a valid sockaddr_un of at least `len` bytes.
    match cvt_retry(|| unsafe { libc::connect(fd, &addr as *const _ as *const libc::sockaddr, len) }) {
        Ok(_) => Ok(Connect::Connected(owned)),
        Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => Ok(Connect::Busy),
        Err(e) => Err(e),
    }
}

/// Sends a datagram to a UNIX socket path ('@' prefix = abstract namespace).
pub fn send_datagram(path: &OsStr, data: &[u8]) -> io::Result<()> {
    let sock = std::os::unix::net::UnixDatagram::unbound()?;
    let bytes = path.as_bytes();
    if let Some(abs) = bytes.strip_prefix(b"@") {
        use std::os::linux::net::SocketAddrExt;
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(abs)?;
        sock.send_to_addr(data, &addr)?;
    } else {
        sock.send_to(data, Path::new(path))?;
    }
    Ok(())
}

/// This host's name (None if it cannot be read).
// C: virGetHostname
pub fn hostname() -> Option<String> {
    let mut buf = [0u8; 256];
    // SAFETY: `buf` is writable for its whole length minus the last byte, which is what we
    // pass, so the result is always NUL-terminated within it.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len() - 1) };
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    (rc == 0 && end > 0).then(|| String::from_utf8_lossy(&buf[..end]).into_owned())
}

/// Opens libc's syslog connection under `ident` (LOG_DAEMON). syslog keeps the pointer:
/// the caller keeps `ident` alive until a later `openlog` or `closelog`.
pub fn openlog(ident: &CStr) {
    // SAFETY: `ident` is a valid NUL-terminated string the caller keeps alive (above).
    unsafe { libc::openlog(ident.as_ptr(), 0, libc::LOG_DAEMON) };
}

pub fn closelog() {
    // SAFETY: closelog takes no arguments and only closes libc's own socket.
    unsafe { libc::closelog() };
}

/// One syslog record (the text is passed as a `%s` argument, never as a format).
pub fn syslog(priority: i32, msg: &CStr) {
    // SAFETY: the format is a NUL-terminated "%s" literal and its single argument a valid
    // C string that lives across the call; syslog is thread safe.
    unsafe { libc::syslog(priority, c"%s".as_ptr(), msg.as_ptr()) };
}

/// A sealed, close-on-exec memfd holding `data` (journald's way to take big records).
pub fn sealed_memfd(name: &CStr, data: &[u8]) -> io::Result<OwnedFd> {
    let flags = libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING;
    // SAFETY: the name is NUL-terminated and the flags are valid.
    let fd = cvt(unsafe { libc::memfd_create(name.as_ptr(), flags) })?;
    // SAFETY: `fd` was just created and is owned by nothing else.
    let mut file = unsafe { std::fs::File::from_raw_fd(fd) };
    std::io::Write::write_all(&mut file, data)?;
    let seals = libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE | libc::F_SEAL_SEAL;
    // SAFETY: fcntl on a descriptor we own, with a valid command and argument.
    cvt(unsafe { libc::fcntl(file.as_raw_fd(), libc::F_ADD_SEALS, seals) })?;
    Ok(OwnedFd::from(file))
}

/// A sockaddr_un for a filesystem path, and its length.
fn sockaddr_unix(path: &Path) -> io::Result<(libc::sockaddr_un, libc::socklen_t)> {
    let bytes = path.as_os_str().as_bytes();
    // SAFETY: sockaddr_un is plain old data, so all-zero is a valid value.
    let mut addr: libc::sockaddr_un = unsafe { zeroed() };
    if bytes.len() >= addr.sun_path.len() || bytes.contains(&0) {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "socket path too long"));
    }
    addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
    for (d, s) in addr.sun_path.iter_mut().zip(bytes) {
        *d = *s as libc::c_char;
    }
    Ok((addr, (size_of::<libc::sa_family_t>() + bytes.len() + 1) as libc::socklen_t))
}

/// sendmsg of `data` with one descriptor as SCM_RIGHTS, to `to` (a datagram socket's
/// destination) or on the connected socket. Ok(false) if the socket would block.
// C: virNetSocketSendFD
fn send_with_fd(fd: RawFd, to: Option<&Path>, data: &[u8], passed: RawFd) -> io::Result<bool> {
    let mut addr = match to {
        Some(p) => Some(sockaddr_unix(p)?),
        None => None,
    };
    let mut iov = libc::iovec { iov_base: data.as_ptr() as *mut libc::c_void, iov_len: data.len() };
    let mut cmsg_space = [0u64; 4];
    // SAFETY: msghdr is plain old data, so all-zero is a valid value.
    let mut msg: libc::msghdr = unsafe { zeroed() };
    if let Some((a, len)) = addr.as_mut() {
        msg.msg_name = (a as *mut libc::sockaddr_un).cast();
        msg.msg_namelen = *len;
    }
    if !data.is_empty() {
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
    }
    msg.msg_control = cmsg_space.as_mut_ptr() as *mut libc::c_void;
    // SAFETY: CMSG_SPACE is a pure computation.
    msg.msg_controllen = unsafe { libc::CMSG_SPACE(size_of::<RawFd>() as u32) } as usize;
    // SAFETY: the control buffer is 32 bytes, larger than CMSG_SPACE(4) = 24, and aligned for
    // cmsghdr, so the first header and its data are in bounds.
    unsafe {
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        (*cmsg).cmsg_level = libc::SOL_SOCKET;
        (*cmsg).cmsg_type = libc::SCM_RIGHTS;
        (*cmsg).cmsg_len = libc::CMSG_LEN(size_of::<RawFd>() as u32) as usize;
        std::ptr::write_unaligned(libc::CMSG_DATA(cmsg) as *mut RawFd, passed);
    }
    // SAFETY: msg refers to live buffers (address, data, control) for the whole call.
    match cvt_retry(|| unsafe { libc::sendmsg(fd, &msg, libc::MSG_NOSIGNAL) }) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(false),
        Err(e) => Err(e),
    }
}

/// Sends an empty datagram carrying `passed` to the socket at `to` (journald's memfd).
pub fn send_fd_to(sock: RawFd, to: &Path, passed: RawFd) -> io::Result<()> {
    send_with_fd(sock, Some(to), &[], passed).map(|_| ())
}

/// Sets a listening socket's backlog (listen(2) again only updates it).
pub fn set_backlog(fd: RawFd, backlog: u32) -> io::Result<()> {
    let b = backlog.min(i32::MAX as u32) as libc::c_int;
    // SAFETY: listen(2) on a descriptor; no memory is passed.
    cvt(unsafe { libc::listen(fd, b) })?;
    Ok(())
}

/// A non-blocking, close-on-exec TCP socket bound to `addr` with SO_REUSEADDR (and
/// IPV6_V6ONLY for v6, so that v4 and v6 bind side by side) and listening.
// C: virNetSocketNewListenTCP (one address)
pub fn tcp_listen(addr: &std::net::SocketAddr, backlog: u32) -> io::Result<OwnedFd> {
    let domain = if addr.is_ipv6() { libc::AF_INET6 } else { libc::AF_INET };
    // SAFETY: socket(2) with constant arguments.
    let fd = cvt(unsafe { libc::socket(domain, libc::SOCK_STREAM | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK, 0) })?;
    // SAFETY: fd was just created and is owned by nobody else.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    let one: libc::c_int = 1;
    let setopt = |level, opt| {
        // SAFETY: setsockopt reads an int that lives for the call.
        cvt(unsafe { libc::setsockopt(fd, level, opt, &one as *const _ as *const libc::c_void, size_of::<libc::c_int>() as u32) })
    };
    setopt(libc::SOL_SOCKET, libc::SO_REUSEADDR)?;
    if addr.is_ipv6() {
        setopt(libc::IPPROTO_IPV6, libc::IPV6_V6ONLY)?;
    }
    // SAFETY: sockaddr_storage is plain old data, so all-zero is a valid value.
    let mut ss: libc::sockaddr_storage = unsafe { zeroed() };
    let len = match addr {
        std::net::SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr { s_addr: u32::from(*a.ip()).to_be() },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is large and aligned enough for a sockaddr_in.
            unsafe { std::ptr::write(&mut ss as *mut _ as *mut libc::sockaddr_in, sin) };
            size_of::<libc::sockaddr_in>()
        }
        std::net::SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: 0,
                sin6_addr: libc::in6_addr { s6_addr: a.ip().octets() },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: sockaddr_storage is large and aligned enough for a sockaddr_in6.
            unsafe { std::ptr::write(&mut ss as *mut _ as *mut libc::sockaddr_in6, sin6) };
            size_of::<libc::sockaddr_in6>()
        }
    };
    // SAFETY: ss holds a valid sockaddr of `len` bytes for this family.
    cvt(unsafe { libc::bind(fd, &ss as *const _ as *const libc::sockaddr, len as libc::socklen_t) })?;
    set_backlog(fd, backlog)?;
    Ok(owned)
}

/// A TCP port number from /etc/services.
// C: virSocketAddrResolveService
pub fn service_port(name: &str) -> Option<u16> {
    let c = CString::new(name).ok()?;
    // SAFETY: both arguments are NUL-terminated strings; the result points into static
    // storage that is read at once.
    let ent = unsafe { libc::getservbyname(c.as_ptr(), c"tcp".as_ptr()) };
    if ent.is_null() {
        return None;
    }
    // SAFETY: non-null servent from getservbyname.
    Some(u16::from_be(unsafe { (*ent).s_port } as u16))
}

/// Takes a write lock on the first byte of `file` without waiting (fcntl F_SETLK).
// C: virFileLock
pub fn lock_first_byte(file: &std::fs::File) -> io::Result<()> {
    // SAFETY: flock is plain old data, so all-zero is a valid value.
    let mut fl: libc::flock = unsafe { zeroed() };
    fl.l_type = libc::F_WRLCK as i16;
    fl.l_whence = libc::SEEK_SET as i16;
    fl.l_start = 0;
    fl.l_len = 1;
    // SAFETY: F_SETLK reads the flock struct, which lives for the whole call.
    cvt(unsafe { libc::fcntl(file.as_raw_fd(), libc::F_SETLK, &fl) })?;
    Ok(())
}

/// Fixes glibc's mmap threshold (allocations from that size on are mmap'ed and given back
/// when freed).
pub fn set_mmap_threshold(bytes: i32) {
    // SAFETY: mallopt only changes allocator parameters.
    unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, bytes) };
}

/// Gives free heap memory back to the system.
pub fn malloc_trim() {
    // SAFETY: malloc_trim only releases free memory of the allocator's own arenas.
    unsafe { libc::malloc_trim(0) };
}

/// One mapping of /proc/self/smaps that can be dropped from RSS: private, file-backed, not
/// writable, and without private copies of its pages (`Anonymous: 0 kB`, which rules out
/// relocated RELRO data). Start and end addresses.
fn droppable(header: &str, anonymous_kib: u64) -> Option<(usize, usize)> {
    let mut f = header.split_whitespace();
    let range = f.next()?;
    let perms = f.next()?;
    let _offset = f.next()?;
    let _dev = f.next()?;
    let inode = f.next()?;
    let path = f.next()?;
    if !(perms == "r-xp" || perms == "r--p") || inode == "0" || !path.starts_with('/') || anonymous_kib != 0 {
        return None;
    }
    let (a, b) = range.split_once('-')?;
    let start = usize::from_str_radix(a, 16).ok()?;
    let end = usize::from_str_radix(b, 16).ok()?;
    (end > start).then_some((start, end))
}

/// The droppable mappings listed in an smaps text.
pub fn droppable_mappings(smaps: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut header: Option<&str> = None;
    for line in smaps.lines() {
        let first = line.split_whitespace().next().unwrap_or("");
        if first.contains('-') && !first.ends_with(':') {
            header = Some(line);
        } else if let Some(v) = line.strip_prefix("Anonymous:") {
            let kib = v.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(u64::MAX);
            if let Some(m) = header.take().and_then(|h| droppable(h, kib)) {
                out.push(m);
            }
        }
    }
    out
}

/// Drops clean file pages (code, read-only data, symbol tables) from RSS. Returns how many
/// mappings were treated. Errors are ignored: this is an optimisation only.
pub fn drop_clean_file_pages() -> usize {
    let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") else { return 0 };
    let maps = droppable_mappings(&smaps);
    for &(start, end) in &maps {
        // SAFETY: the range is a whole mapping of this process, read from /proc/self/smaps;
        // it is private, file-backed, not writable and holds no private copy of any page,
        // so MADV_DONTNEED only unmaps pages that are read back unchanged from the file on
        // the next access. No Rust reference is invalidated.
        unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED) };
    }
    maps.len()
}

/// Descriptors already taken with `take_inherited_fd`.
static INHERITED: std::sync::Mutex<Vec<RawFd>> = std::sync::Mutex::new(Vec::new());

/// Owns a descriptor this process was handed at start by its supervisor (socket
/// activation: LISTEN_FDS numbers from 3 up belong to the process and nothing in it has
/// opened them). Each number is taken at most once; a closed one is an error.
pub fn take_inherited_fd(fd: RawFd) -> io::Result<OwnedFd> {
    let mut taken = INHERITED.lock().unwrap_or_else(|p| p.into_inner());
    if fd < 3 || taken.contains(&fd) || !fd_is_open(fd) {
        return Err(io::Error::from_raw_os_error(libc::EBADF));
    }
    taken.push(fd);
    // SAFETY: the descriptor is open, was passed to this process for it to own (see above)
    // and is wrapped here exactly once (the list above).
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Makes `sig` write its number to the pipe `wr` (a handler that only calls write(2),
/// which is async-signal-safe). The pipe's write end must stay open until the handler is
/// unregistered.
pub fn signal_to_pipe(sig: i32, wr: RawFd) -> io::Result<signal_hook::SigId> {
    let byte = sig as u8;
    // SAFETY: the handler only performs write(2) on a non-blocking pipe, which is
    // async-signal-safe; the caller keeps the write end open while it is registered.
    unsafe {
        signal_hook::low_level::register(sig, move || {
            let b = [byte];
            libc::write(wr, b.as_ptr() as *const libc::c_void, 1);
        })
    }
}

/// Sends `sig` to this process (tests).
pub fn raise(sig: i32) {
    // SAFETY: raise(3) with a signal number; delivery runs the installed handler.
    unsafe { libc::raise(sig) };
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixStream;

    #[test]
    fn peer_cred_of_socketpair_is_self() {
        let (a, _b) = UnixStream::pair().unwrap();
        let c = peer_cred(a.as_raw_fd()).unwrap();
        assert_eq!(c.pid, getpid());
        assert_eq!(c.uid, geteuid());
    }

    #[test]
    fn process_start_time_of_self_is_nonzero() {
        assert!(process_start_time(getpid()) > 0);
    }

    #[test]
    fn process_start_time_of_missing_pid_is_zero() {
        assert_eq!(process_start_time(i32::MAX), 0);
    }

    #[test]
    fn send_fd_then_recv_with_fds_passes_descriptor() {
        let (a, b) = UnixStream::pair().unwrap();
        let (r, w) = pipe().unwrap();
        assert!(send_fd(a.as_raw_fd(), r.as_raw_fd()).unwrap());
        let mut buf = [9u8; 8];
        let mut fds = Vec::new();
        let n = recv_with_fds(b.as_raw_fd(), &mut buf, &mut fds).unwrap();
        assert_eq!(n, 1);
        assert_eq!(buf[0], 0);
        assert_eq!(fds.len(), 1);
        write_fd(&w, b"x").unwrap();
        let mut got = [0u8; 1];
        read_fd(&fds[0], &mut got).unwrap();
        assert_eq!(&got, b"x");
    }

    #[test]
    fn group_id_accepts_numeric_forms() {
        assert_eq!(group_id("+4242"), Some(4242));
        assert_eq!(group_id("root"), Some(0));
    }

    #[test]
    fn sock_name_reports_unix_path() {
        let dir = std::env::temp_dir().join(format!("vl-sockname-{}", getpid()));
        let _ = std::fs::remove_file(&dir);
        let l = std::os::unix::net::UnixListener::bind(&dir).unwrap();
        assert_eq!(sock_name(l.as_raw_fd()).unwrap(), SockName::Unix(dir.as_os_str().as_bytes().to_vec()));
        assert!(sock_is_listening_stream(l.as_raw_fd()));
        let _ = std::fs::remove_file(&dir);
    }
}
