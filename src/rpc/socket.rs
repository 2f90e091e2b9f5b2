//! Listening sockets and client byte streams (libvirt's rpc/virnetsocket.c).
//!
//! A `Stream` is what a client connection reads and writes: a UNIX or TCP socket today,
//! with TLS and SASL layers added on top by the remote-access code.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};

use mio::net::{TcpListener, TcpStream, UnixListener, UnixStream};

use crate::util::sys;

#[derive(Debug)]
pub enum SocketError {
    /// Another live daemon is listening on this path.
    InUse(PathBuf),
    Bind {
        addr: String,
        err: io::Error,
    },
    Listen {
        addr: String,
        err: io::Error,
    },
    Perms {
        path: PathBuf,
        err: io::Error,
    },
    Resolve {
        addr: String,
        err: String,
    },
}

impl fmt::Display for SocketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::util::strerror;
        match self {
            SocketError::InUse(p) => write!(f, "Failed to bind socket to '{}': another daemon is already listening on it", p.display()),
            SocketError::Bind { addr, err } => write!(f, "Failed to bind socket to '{addr}': {}", strerror(err)),
            SocketError::Listen { addr, err } => write!(f, "Failed to listen on socket '{addr}': {}", strerror(err)),
            SocketError::Perms { path, err } => {
                write!(f, "Failed to set permissions of socket '{}': {}", path.display(), strerror(err))
            }
            SocketError::Resolve { addr, err } => write!(f, "Cannot resolve address '{addr}': {err}"),
        }
    }
}

impl std::error::Error for SocketError {}

/// Removes a socket file left by a daemon that is gone; refuses if someone still listens.
fn clear_stale(path: &Path) -> Result<(), SocketError> {
    let Ok(meta) = std::fs::symlink_metadata(path) else { return Ok(()) };
    if meta.file_type().is_socket() && std::os::unix::net::UnixStream::connect(path).is_ok() {
        return Err(SocketError::InUse(path.to_path_buf()));
    }
    let _ = std::fs::remove_file(path);
    Ok(())
}

/// Binds a UNIX listening socket with the given mode and group; a stale socket file is
/// replaced, a live one is an error (libvirt unlinks unconditionally, which lets a second
/// instance with another pidfile steal a running daemon's socket).
// C: virNetSocketNewListenUNIX
pub fn listen_unix(path: &Path, mode: u32, gid: Option<u32>, backlog: u32) -> Result<UnixListener, SocketError> {
    clear_stale(path)?;
    let old = sys::umask(!mode & 0o777);
    let res = std::os::unix::net::UnixListener::bind(path);
    sys::umask(old);
    let l = res.map_err(|err| SocketError::Bind { addr: path.display().to_string(), err })?;
    let perms = || -> io::Result<()> {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
        if let Some(g) = gid {
            sys::chown_path(path, None, Some(g))?;
        }
        Ok(())
    };
    if let Err(err) = perms() {
        let _ = std::fs::remove_file(path);
        return Err(SocketError::Perms { path: path.to_path_buf(), err });
    }
    sys::set_backlog(l.as_raw_fd(), backlog).map_err(|err| SocketError::Listen { addr: path.display().to_string(), err })?;
    l.set_nonblocking(true).map_err(|err| SocketError::Listen { addr: path.display().to_string(), err })?;
    Ok(UnixListener::from_std(l))
}

/// Binds TCP listeners on every address `node` resolves to (all addresses when None),
/// IPv6 sockets with V6ONLY so that v4 and v6 can both be bound, as libvirt does.
// C: virNetSocketNewListenTCP
pub fn listen_tcp(node: Option<&str>, service: &str, backlog: u32) -> Result<Vec<TcpListener>, SocketError> {
    let addr_text = format!("{}:{}", node.unwrap_or("*"), service);
    let port: u16 = resolve_service(service)
        .ok_or_else(|| SocketError::Resolve { addr: addr_text.clone(), err: format!("unknown service '{service}'") })?;
    let addrs: Vec<SocketAddr> = match node {
        None | Some("") => {
            vec![SocketAddr::from((std::net::Ipv6Addr::UNSPECIFIED, port)), SocketAddr::from((std::net::Ipv4Addr::UNSPECIFIED, port))]
        }
        Some(n) => {
            let host = n.trim_start_matches('[').trim_end_matches(']');
            (host, port)
                .to_socket_addrs()
                .map_err(|e| SocketError::Resolve { addr: addr_text.clone(), err: crate::util::strerror(&e) })?
                .collect()
        }
    };
    let mut out = Vec::new();
    let mut last_err = None;
    for a in addrs {
        match bind_tcp(a, backlog) {
            Ok(l) => out.push(l),
            // An IPv6-less host cannot bind [::]: skip it like getaddrinfo's callers do.
            Err(e) if e.raw_os_error() == Some(libc::EAFNOSUPPORT) => continue,
            Err(err) => last_err = Some(SocketError::Bind { addr: a.to_string(), err }),
        }
    }
    if let Some(e) = last_err {
        return Err(e);
    }
    if out.is_empty() {
        return Err(SocketError::Resolve { addr: addr_text, err: "no usable address".into() });
    }
    Ok(out)
}

fn bind_tcp(addr: SocketAddr, backlog: u32) -> io::Result<TcpListener> {
    let fd = sys::tcp_listen(&addr, backlog)?;
    Ok(TcpListener::from_std(std::net::TcpListener::from(fd)))
}

/// A port number or a service name from /etc/services.
// C: virSocketAddrResolveService
pub fn resolve_service(service: &str) -> Option<u16> {
    service.parse::<u16>().ok().or_else(|| sys::service_port(service))
}

/// The largest plaintext a TLS record carries.
const TLS_RECORD_MAX: usize = 16 * 1024;

/// A listening socket of any family.
#[derive(Debug)]
pub enum Listener {
    Unix(UnixListener),
    Tcp(TcpListener),
}

impl Listener {
    /// Wraps an inherited (socket-activated) listening fd.
    pub fn from_activation(fd: OwnedFd) -> io::Result<Listener> {
        let raw = fd.as_raw_fd();
        sys::set_nonblocking(raw)?;
        Ok(match sys::sock_name(raw)? {
            sys::SockName::Unix(_) => Listener::Unix(UnixListener::from_std(std::os::unix::net::UnixListener::from(fd))),
            sys::SockName::Inet(_) => Listener::Tcp(TcpListener::from_std(std::net::TcpListener::from(fd))),
            sys::SockName::Other => return Err(io::Error::new(io::ErrorKind::InvalidInput, "unsupported socket family")),
        })
    }

    pub fn raw_fd(&self) -> RawFd {
        match self {
            Listener::Unix(l) => l.as_raw_fd(),
            Listener::Tcp(l) => l.as_raw_fd(),
        }
    }

    /// Accepts one connection; Ok(None) when none is pending.
    pub fn accept(&self) -> io::Result<Option<Stream>> {
        let r = match self {
            Listener::Unix(l) => l.accept().map(|(s, _)| Stream::Unix(s)),
            Listener::Tcp(l) => l.accept().map(|(s, _)| {
                let _ = s.set_nodelay(true);
                Stream::Tcp(s)
            }),
        };
        match r {
            Ok(s) => Ok(Some(s)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(None),
            // A peer that gave up before we accepted: not our error.
            Err(e) if e.raw_os_error() == Some(libc::ECONNABORTED) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub fn local_port(&self) -> Option<u16> {
        match self {
            Listener::Tcp(l) => l.local_addr().ok().map(|a| a.port()),
            Listener::Unix(_) => None,
        }
    }
}

/// A connected byte stream. Reads and writes return io errors unchanged, WouldBlock included.
#[derive(Debug)]
pub enum Stream {
    Unix(UnixStream),
    Tcp(TcpStream),
    /// TCP with a TLS session (its handshake may still be in progress).
    Tls(Box<crate::rpc::tls::TlsStream>),
}

impl Stream {
    pub fn raw_fd(&self) -> RawFd {
        match self {
            Stream::Unix(s) => s.as_raw_fd(),
            Stream::Tcp(s) => s.as_raw_fd(),
            Stream::Tls(s) => s.raw_fd(),
        }
    }

    pub fn is_unix(&self) -> bool {
        matches!(self, Stream::Unix(_))
    }

    /// The TLS session, if this is a TLS stream.
    pub fn tls(&self) -> Option<&crate::rpc::tls::TlsStream> {
        match self {
            Stream::Tls(s) => Some(s),
            _ => None,
        }
    }

    pub fn tls_mut(&mut self) -> Option<&mut crate::rpc::tls::TlsStream> {
        match self {
            Stream::Tls(s) => Some(s),
            _ => None,
        }
    }

    /// A short read does not mean the socket is empty: TLS returns one record at a time
    /// and may hold decrypted bytes the socket will never announce.
    pub fn short_read_means_empty(&self) -> bool {
        !matches!(self, Stream::Tls(_))
    }

    /// Reads bytes; on UNIX sockets also collects passed fds into `fds`.
    pub fn read_with_fds(&mut self, buf: &mut [u8], fds: &mut Vec<OwnedFd>) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => sys::recv_with_fds(s.as_raw_fd(), buf, fds),
            Stream::Tcp(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }

    /// Reads at most `max` bytes appended to `buf`; on UNIX sockets also collects passed fds.
    pub fn read_append(&mut self, buf: &mut Vec<u8>, max: usize, fds: &mut Vec<OwnedFd>) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => sys::recv_append(s.as_raw_fd(), buf, max, Some(fds)),
            Stream::Tcp(s) => sys::recv_append(s.as_raw_fd(), buf, max, None),
            Stream::Tls(s) => {
                // One TLS record at most comes out of a read: no need to zero more.
                let old = buf.len();
                buf.resize(old + max.min(TLS_RECORD_MAX), 0);
                let r = s.read(&mut buf[old..]);
                buf.truncate(old + *r.as_ref().unwrap_or(&0));
                r
            }
        }
    }

    pub fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => s.write(buf),
            Stream::Tcp(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }

    /// Gathers several buffers into one write; TLS writes the first buffer only.
    pub fn write_vectored(&mut self, bufs: &[&[u8]]) -> io::Result<usize> {
        match self {
            Stream::Tls(s) => s.write(bufs.first().copied().unwrap_or(&[])),
            _ => sys::writev(self.raw_fd(), bufs),
        }
    }

    /// Sends one fd with its dummy byte; Ok(false) if the socket is full.
    pub fn send_fd(&mut self, fd: RawFd) -> io::Result<bool> {
        match self {
            Stream::Unix(s) => sys::send_fd(s.as_raw_fd(), fd),
            Stream::Tcp(_) | Stream::Tls(_) => Err(io::Error::new(io::ErrorKind::Unsupported, "fd passing needs a UNIX socket")),
        }
    }

    fn tcp(&self) -> Option<&TcpStream> {
        match self {
            Stream::Tcp(s) => Some(s),
            Stream::Tls(s) => Some(s.tcp()),
            Stream::Unix(_) => None,
        }
    }

    /// The address text libvirt's admin client info shows (`sock_addr`): the peer's IP and port.
    pub fn peer_addr_string(&self) -> Option<String> {
        self.tcp().and_then(|s| s.peer_addr().ok()).map(|a| addr_string(&a))
    }

    /// The local address in the same "IP;port" form (what SASL is told).
    pub fn local_addr_string(&self) -> Option<String> {
        self.tcp().and_then(|s| s.local_addr().ok()).map(|a| addr_string(&a))
    }

    /// The plain TCP socket, for wrapping in TLS; None for other kinds.
    pub fn into_tcp(self) -> Result<TcpStream, Stream> {
        match self {
            Stream::Tcp(s) => Ok(s),
            other => Err(other),
        }
    }
}

/// "IP;port", libvirt's form of a socket address for SASL and client info.
// C: virSocketAddrFormatFull (with ";" as separator)
pub fn addr_string(a: &SocketAddr) -> String {
    match a {
        SocketAddr::V4(a) => format!("{};{}", a.ip(), a.port()),
        SocketAddr::V6(a) => format!("{};{}", a.ip(), a.port()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    fn tmpdir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("vl-sock-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn listen_unix_sets_mode() {
        let d = tmpdir("mode");
        let p = d.join("s");
        let _l = listen_unix(&p, 0o600, None, 5).unwrap();
        assert_eq!(std::fs::metadata(&p).unwrap().mode() & 0o777, 0o600);
        let p2 = d.join("s2");
        let _l2 = listen_unix(&p2, 0o666, None, 5).unwrap();
        assert_eq!(std::fs::metadata(&p2).unwrap().mode() & 0o777, 0o666);
    }

    #[test]
    fn listen_unix_replaces_stale_socket() {
        let d = tmpdir("stale");
        let p = d.join("s");
        drop(std::os::unix::net::UnixListener::bind(&p).unwrap());
        assert!(p.exists());
        listen_unix(&p, 0o600, None, 5).unwrap();
    }

    #[test]
    fn listen_unix_refuses_live_socket() {
        let d = tmpdir("live");
        let p = d.join("s");
        let _live = std::os::unix::net::UnixListener::bind(&p).unwrap();
        assert!(matches!(listen_unix(&p, 0o600, None, 5), Err(SocketError::InUse(_))));
    }

    #[test]
    fn listen_tcp_binds_loopback_ephemeral() {
        let ls = listen_tcp(Some("127.0.0.1"), "0", 5).unwrap();
        assert_eq!(ls.len(), 1);
        assert!(ls[0].local_addr().unwrap().port() > 0);
    }

    #[test]
    fn resolve_service_numbers_and_names() {
        assert_eq!(resolve_service("16509"), Some(16509));
        assert_eq!(resolve_service("no-such-service-xyz"), None);
    }
}
