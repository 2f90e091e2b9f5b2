//! Daemon start-up, configuration and generic dispatch (libvirt's `src/remote/`).
pub mod auth;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod domain_proto;
pub mod procs;
pub mod protocol;
