//! Daemon start-up, configuration and generic dispatch (libvirt's `src/remote/`).
pub mod config;
