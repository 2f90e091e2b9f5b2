//! One listening service: a socket (or several, for TCP on v4 and v6), its auth type and
//! read-only flag (libvirt's rpc/virnetserverservice.c).

use std::path::PathBuf;

use crate::remote::config::AuthType;
use crate::rpc::client::Transport;
use crate::rpc::socket::Listener;

pub struct Service {
    /// The systemd socket unit name that identifies it under socket activation.
    pub name: String,
    pub server: usize,
    pub auth: AuthType,
    pub readonly: bool,
    pub transport: Transport,
    pub nrequests_client_max: u32,
    /// Socket files we created and must remove at exit (not activation-provided ones).
    pub unlink_on_close: Vec<PathBuf>,
}

/// A listener registered with the loop, and the service it belongs to.
pub struct ListenerSlot {
    pub service: usize,
    pub listener: Listener,
}

impl Drop for Service {
    fn drop(&mut self) {
        for p in &self.unlink_on_close {
            let _ = std::fs::remove_file(p);
        }
    }
}
