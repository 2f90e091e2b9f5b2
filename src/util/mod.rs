//! Utilities shared by both daemons (libvirt's `src/util/`).
pub mod conf;
pub mod daemon;
pub mod log;
pub mod paths;
pub mod pidfile;
pub mod systemd;
pub mod sys;
