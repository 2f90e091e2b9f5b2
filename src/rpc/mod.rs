//! The RPC engine (libvirt's `src/rpc/`).
pub mod protocol;
pub mod message;
pub mod remote_procs;
