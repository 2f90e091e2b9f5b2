//! Going into the background with `-d` and telling the waiting parent how start-up went
//! (libvirt's util/virdaemon.c `virDaemonForkIntoBackground` and the VIR_DAEMON_ERR_* list).

use std::io;
use std::os::fd::OwnedFd;

use super::sys;

/// Start-up failure classes; the number is both the exit code of a foreground daemon and
/// the status byte sent to the `-d` parent (libvirt's VIR_DAEMON_ERR_*).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum DaemonErr {
    None = 0,
    Pidfile = 1,
    Rundir = 2,
    Init = 3,
    Signal = 4,
    Privs = 5,
    Network = 6,
    Config = 7,
    Hooks = 8,
    Reexec = 9,
    Audit = 10,
    Driver = 11,
}

impl DaemonErr {
    pub fn from_u8(v: u8) -> Option<DaemonErr> {
        use DaemonErr::*;
        [None, Pidfile, Rundir, Init, Signal, Privs, Network, Config, Hooks, Reexec, Audit, Driver].get(v as usize).copied()
    }

    /// The reason the `-d` parent prints (libvirt's strings, as daemons' users grep for them).
    pub fn text(self) -> &'static str {
        match self {
            DaemonErr::None => "Initialization successful",
            DaemonErr::Pidfile => "Unable to obtain pidfile",
            DaemonErr::Rundir => "Unable to create rundir",
            DaemonErr::Init => "Unable to initialize libvirt",
            DaemonErr::Signal => "Unable to setup signal handlers",
            DaemonErr::Privs => "Unable to drop privileges",
            DaemonErr::Network => "Unable to initialize network sockets",
            DaemonErr::Config => "Unable to load configuration file",
            DaemonErr::Hooks => "Unable to look for hook scripts",
            DaemonErr::Reexec => "Unable to re-execute daemon",
            DaemonErr::Audit => "Unable to initialize audit system",
            DaemonErr::Driver => "Unable to initialize driver",
        }
    }
}

/// The write end of the status pipe held by the daemonised grandchild.
#[derive(Debug)]
pub struct StatusPipe(Option<OwnedFd>);

impl StatusPipe {
    /// Tells the parent the outcome; only the first report counts.
    pub fn report(&mut self, status: DaemonErr) {
        if let Some(fd) = self.0.take() {
            let _ = sys::write_fd(&fd, &[status as u8]);
        }
    }
}

/// The message the waiting parent prints for a failed start, in libvirt's words.
pub fn failure_message(argv0: &str, status: u8) -> String {
    let reason = DaemonErr::from_u8(status).map(|e| e.text()).unwrap_or("Unknown error");
    format!("{argv0}: error: {reason}. Check /var/log/messages or run without --daemon for more info.")
}

/// Forks twice; the original process waits for the grandchild's status byte and exits
/// (0 on success, 1 after printing the reason). Returns in the grandchild only.
/// Must be called before any thread is started.
// C: virDaemonForkIntoBackground
pub fn fork_into_background(argv0: &str) -> io::Result<StatusPipe> {
    let (rd, wr) = sys::pipe()?;
    match sys::fork()? {
        sys::Fork::Child => {
            drop(rd);
            let ok = sys::stdio_to_devnull().is_ok() && sys::setsid().is_ok();
            if !ok {
                sys::exit_now(1);
            }
            match sys::fork() {
                Ok(sys::Fork::Child) => Ok(StatusPipe(Some(wr))),
                Ok(sys::Fork::Parent(_)) => sys::exit_now(0),
                Err(_) => sys::exit_now(1),
            }
        }
        sys::Fork::Parent(pid) => {
            drop(wr);
            let status = sys::waitpid(pid)?;
            if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
                return Err(io::Error::other("intermediate child failed"));
            }
            let mut b = [0u8; 1];
            match sys::read_fd(&rd, &mut b) {
                Ok(1) if b[0] == 0 => sys::exit_now(0),
                Ok(1) => {
                    eprintln!("{}", failure_message(argv0, b[0]));
                    std::process::exit(1);
                }
                Ok(_) => {
                    eprintln!("{argv0}: error: unable to determine if daemon is running: daemon exited during start-up");
                    std::process::exit(1);
                }
                Err(e) => {
                    eprintln!("{argv0}: error: unable to determine if daemon is running: {}", super::strerror(&e));
                    std::process::exit(1);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_message_names_reason() {
        assert_eq!(
            failure_message("virtproxyd", DaemonErr::Network as u8),
            "virtproxyd: error: Unable to initialize network sockets. Check /var/log/messages or run without --daemon for more info."
        );
    }

    #[test]
    fn from_u8_round_trips_every_code() {
        for v in 0..=11u8 {
            assert_eq!(DaemonErr::from_u8(v).unwrap() as u8, v);
        }
        assert!(DaemonErr::from_u8(12).is_none());
    }
}
