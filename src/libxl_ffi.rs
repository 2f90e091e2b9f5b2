//! libxl (libxenlight 4.17) over FFI: every `extern "C"` declaration and all unsafe code for
//! Xen, behind safe RAII types (libvirt's src/libxl/libxl_conf.c context set-up,
//! libxl_logger.c, and the event glue at the top of libxl_driver.c).
//!
//! - `sys`: raw declarations; small structs laid out by hand and checked against the header
//!   (`layout_tests`); sizes of the big IDL structs probed by build.rs.
//! - `Ctx` (context, thread-safe as libxl.h documents), `Logger` (xentoollog stdio logger on a
//!   file we open), `DomainConfig` (opaque, filled from JSON), `DeathWatch` (evgen, disabled on
//!   drop); domain calls return owned Rust values (`DomInfo`, `PhysInfo`, `VersionInfo`).
//! - Errors: every libxl return code goes through `error::check` into `LibxlError`.
//! - Event loop: `LibxlEvents` registers libxl's fds in our mio registry (Aux tokens from
//!   `AUX_BASE`) and asks the loop for timers (driver keys from `TIMER_BASE`); the loop calls
//!   `Ctx::osevent_fd` / `Ctx::osevent_timeout`. libxl fds are level-triggered: see
//!   `osevent` for how that is kept on an edge-triggered poll.
//! - Events: DOMAIN_SHUTDOWN, DOMAIN_DEATH... arrive as `LibxlEvent` through the callback
//!   given to `Ctx::with_events`; nothing unwinds into C.
//!
//! SIGCHLD: libxl owns it, in `libxl_sigchld_owner_libxl_always_selective_reap` mode, as
//! libvirt's driver does. libxl installs its SIGCHLD handler at set-up and reaps only its
//! own children (device scripts, bootloader, qemu); the daemon waits for its own few children
//! synchronously with waitpid (std's `Child::wait`) and never handles SIGCHLD, so nothing
//! else may install a SIGCHLD handler (libxl asserts the previous one was SIG_DFL/SIG_IGN).
//! libxl's SIGCHLD self-pipe is registered through our fd hooks and so is served by the
//! poll loop. The mainloop mode would need SIGCHLD in our signal pipe and a call to
//! `libxl_childproc_sigchld_occurred` for every child: more code for no gain here.

mod config;
mod ctx;
mod domain;
mod error;
mod events;
mod osevent;
pub mod sys;

#[cfg(test)]
mod layout_tests;

pub use config::DomainConfig;
pub use ctx::{CpuTopology, Ctx, LogLevel, Logger, NumaNode, PhysInfo, VersionInfo};
pub use domain::{uuid_string, ConsoleType, DeathWatch, DomInfo, DomainType, Trigger};
pub use error::*;
pub use events::{LibxlEvent, ShutdownReason};
pub use osevent::{is_libxl_aux, is_libxl_timer, LibxlEvents, AUX_BASE, LIBXL_TAG, TIMER_BASE};
