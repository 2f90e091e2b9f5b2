//! One listening service: a socket (or several, for TCP on v4 and v6), its auth type,
//! transport and read-only flag (libvirt's rpc/virnetserverservice.c).

use std::path::PathBuf;

use crate::rpc::socket::Listener;

/// How a service authenticates its clients (REMOTE_AUTH_*; libvirt's
/// VIR_NET_SERVER_SERVICE_AUTH_*).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum AuthType {
    None = 0,
    Sasl = 1,
    Polkit = 2,
}

impl AuthType {
    /// The config file spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthType::None => "none",
            AuthType::Sasl => "sasl",
            AuthType::Polkit => "polkit",
        }
    }
}

/// Client transport as the admin program reports it (admin_client_transport).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Unix = 0,
    Tcp = 1,
    Tls = 2,
}

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
