//! systemd socket activation and readiness notification (libvirt's util/virsystemd.c
//! `virSystemdGetActivation`, `virSystemdActivationClaimFDs`, `virSystemdNotifyStartup`).
//!
//! Activation fds are named by LISTEN_FDNAMES (the socket unit names, e.g. `virtproxyd.socket`).
//! Beyond libvirt: when a supervisor passes fds without names (s6, inetd-style wrappers), each
//! fd is named by matching its bound address against the sockets the daemon would create.

use std::fmt;
use std::os::fd::{OwnedFd, RawFd};

use super::sys::{self, SockName};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActivationError {
    /// LISTEN_FDNAMES has a different number of names than LISTEN_FDS.
    NameCount { expected: usize, got: usize },
    /// No LISTEN_FDNAMES and an fd matched none of the daemon's sockets.
    MissingNames { fd: RawFd },
    /// A passed fd is not an open, listening stream socket.
    NotListening { fd: RawFd, name: String },
    /// Some fds were not claimed by any service.
    Unclaimed(Vec<String>),
}

impl fmt::Display for ActivationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ActivationError::NameCount { expected, got } => {
                write!(f, "internal error: Expecting {expected} FD names but got {got}")
            }
            ActivationError::MissingNames { fd } => write!(
                f,
                "internal error: Missing LISTEN_FDNAMES env from systemd socket activation (fd {fd} matches no socket of this daemon)"
            ),
            ActivationError::NotListening { fd, name } => {
                write!(f, "internal error: activation fd {fd} ({name}) is not a listening stream socket")
            }
            ActivationError::Unclaimed(names) => {
                write!(f, "internal error: Some activation file descriptors are unclaimed: {}", names.join(", "))
            }
        }
    }
}

/// What an activation name stands for when fds come without names.
#[derive(Debug, Clone)]
pub enum ActivationMatch {
    Unix(std::path::PathBuf),
    Port(u16),
}

/// Activation fds grouped by name, in the order they were passed.
#[derive(Debug, Default)]
pub struct Activation {
    entries: Vec<(String, Vec<OwnedFd>)>,
}

/// The variables as they were given, so the logic can be tested without a real environment.
#[derive(Debug, Clone, Default)]
pub struct ListenEnv {
    pub pid: Option<String>,
    pub fds: Option<String>,
    pub names: Option<String>,
}

impl ListenEnv {
    /// Reads and removes LISTEN_PID/LISTEN_FDS/LISTEN_FDNAMES (so children do not inherit them).
    /// Call while the process is single-threaded.
    pub fn take_from_process() -> ListenEnv {
        let e = ListenEnv {
            pid: std::env::var("LISTEN_PID").ok(),
            fds: std::env::var("LISTEN_FDS").ok(),
            names: std::env::var("LISTEN_FDNAMES").ok(),
        };
        if e.pid.as_deref().and_then(|p| p.parse::<i32>().ok()) == Some(sys::getpid()) {
            for k in ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"] {
                std::env::remove_var(k);
            }
        }
        e
    }

    /// Number of fds passed to this very process (0 when the variables are absent, malformed
    /// or meant for another pid, as libvirt treats them).
    // C: virSystemdGetListenFDs
    pub fn count_for(&self, pid: i32) -> usize {
        let Some(p) = self.pid.as_deref().and_then(|p| p.trim().parse::<i64>().ok()) else { return 0 };
        if p != pid as i64 {
            return 0;
        }
        self.fds.as_deref().and_then(|n| n.trim().parse::<usize>().ok()).unwrap_or(0).min(4096)
    }
}

/// The first activation fd (after stdin, stdout, stderr).
pub const LISTEN_FDS_START: RawFd = 3;

impl Activation {
    /// Builds the activation object; `Ok(None)` when the process was not socket-activated.
    /// `map` gives, for each name the daemon knows, the address that identifies it when
    /// LISTEN_FDNAMES is absent.
    // C: virSystemdGetActivation
    pub fn from_env(env: &ListenEnv, map: &[(String, ActivationMatch)]) -> Result<Option<Activation>, ActivationError> {
        let n = env.count_for(sys::getpid());
        if n == 0 {
            return Ok(None);
        }
        let raw: Vec<RawFd> = (0..n as RawFd).map(|i| LISTEN_FDS_START + i).collect();
        for &fd in &raw {
            let _ = sys::set_cloexec(fd, true);
        }
        let names: Vec<String> = match &env.names {
            Some(s) => {
                let names: Vec<String> = s.split(':').map(str::to_string).collect();
                if names.len() != n {
                    close_all(&raw);
                    return Err(ActivationError::NameCount { expected: n, got: names.len() });
                }
                names
            }
            None => {
                let mut names = Vec::new();
                for &fd in &raw {
                    match name_by_address(fd, map) {
                        Some(name) => names.push(name),
                        None => {
                            close_all(&raw);
                            return Err(ActivationError::MissingNames { fd });
                        }
                    }
                }
                names
            }
        };
        let mut act = Activation::default();
        for (fd, name) in raw.iter().zip(names) {
            if !sys::fd_is_open(*fd) || !sys::sock_is_listening_stream(*fd) {
                close_all(&raw);
                return Err(ActivationError::NotListening { fd: *fd, name });
            }
            let owned = match sys::take_inherited_fd(*fd) {
                Ok(o) => o,
                Err(_) => {
                    close_all(&raw);
                    return Err(ActivationError::NotListening { fd: *fd, name });
                }
            };
            match act.entries.iter_mut().find(|(n, _)| *n == name) {
                Some((_, v)) => v.push(owned),
                None => act.entries.push((name, vec![owned])),
            }
        }
        Ok(Some(act))
    }

    // C: virSystemdActivationHasName
    pub fn has_name(&self, name: &str) -> bool {
        self.entries.iter().any(|(n, _)| n == name)
    }

    /// Takes every fd passed under `name` (none if the name was not passed).
    // C: virSystemdActivationClaimFDs
    pub fn claim(&mut self, name: &str) -> Vec<OwnedFd> {
        match self.entries.iter().position(|(n, _)| n == name) {
            Some(i) => self.entries.remove(i).1,
            None => Vec::new(),
        }
    }

    /// Errors if some fds were passed under names no service claimed.
    // C: virSystemdActivationComplete
    pub fn complete(&self) -> Result<(), ActivationError> {
        if self.entries.is_empty() {
            Ok(())
        } else {
            Err(ActivationError::Unclaimed(self.entries.iter().map(|(n, _)| n.clone()).collect()))
        }
    }
}

fn close_all(fds: &[RawFd]) {
    for &fd in fds {
        if sys::fd_is_open(fd) {
            // Passed to us and not yet taken: close it.
            drop(sys::take_inherited_fd(fd));
        }
    }
}

fn name_by_address(fd: RawFd, map: &[(String, ActivationMatch)]) -> Option<String> {
    let addr = sys::sock_name(fd).ok()?;
    map.iter()
        .find(|(_, m)| match (m, &addr) {
            (ActivationMatch::Unix(p), SockName::Unix(got)) => {
                use std::os::unix::ffi::OsStrExt;
                p.as_os_str().as_bytes() == got.as_slice()
            }
            (ActivationMatch::Port(port), SockName::Inet(sa)) => sa.port() == *port,
            _ => false,
        })
        .map(|(n, _)| n.clone())
}

/// Sends `READY=1` to $NOTIFY_SOCKET if it is set; failures are only logged.
// C: virSystemdNotifyStartup
pub fn notify_ready() {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        log::debug!("Skipping systemd notify, not requested");
        return;
    };
    if let Err(e) = sys::send_datagram(&path, b"READY=1") {
        log::warn!("Failed to notify systemd: {}", super::strerror(&e));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_for_other_pid_is_zero() {
        let e = ListenEnv { pid: Some("1".into()), fds: Some("3".into()), names: None };
        assert_eq!(e.count_for(2), 0);
        assert_eq!(e.count_for(1), 3);
    }

    #[test]
    fn count_for_malformed_values_is_zero() {
        let e = ListenEnv { pid: Some("x".into()), fds: Some("3".into()), names: None };
        assert_eq!(e.count_for(1), 0);
        let e = ListenEnv { pid: Some("1".into()), fds: Some("-2".into()), names: None };
        assert_eq!(e.count_for(1), 0);
        let e = ListenEnv { pid: None, fds: Some("2".into()), names: None };
        assert_eq!(e.count_for(1), 0);
    }

    #[test]
    fn not_activated_gives_none() {
        let e = ListenEnv::default();
        assert!(Activation::from_env(&e, &[]).unwrap().is_none());
    }

    #[test]
    fn claim_and_complete_track_names() {
        let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        let mut act = Activation { entries: vec![("x.socket".into(), vec![a.into()]), ("y.socket".into(), vec![b.into()])] };
        assert!(act.has_name("x.socket"));
        assert_eq!(act.claim("x.socket").len(), 1);
        assert!(act.claim("x.socket").is_empty());
        assert_eq!(act.complete(), Err(ActivationError::Unclaimed(vec!["y.socket".into()])));
        act.claim("y.socket");
        assert_eq!(act.complete(), Ok(()));
    }

    #[test]
    fn name_count_error_text() {
        let e = ActivationError::NameCount { expected: 2, got: 1 };
        assert_eq!(e.to_string(), "internal error: Expecting 2 FD names but got 1");
    }
}
