//! Daemon start-up, configuration, the REMOTE program's shared parts and the relay to
//! other daemons (libvirt's `src/remote/`).
pub mod auth;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod domain_proto;
pub mod procs;
pub mod protocol;
pub mod relay;
pub mod sockets;
