//! The RPC engine (libvirt's `src/rpc/`).
pub mod client;
pub mod conn;
pub mod keepalive;
pub mod message;
pub mod netclient;
pub mod netdaemon;
pub mod program;
pub mod protocol;
pub mod sasl;
pub mod server;
pub mod service;
pub mod socket;
pub mod threadpool;
pub mod tls;
