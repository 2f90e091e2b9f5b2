//! virtlite: the machinery shared by our `virtproxyd` and `virtxend` daemons
//! (libvirt's `src/util`, `src/rpc`, `src/remote` and `src/admin`, in Rust).
//!
//! Map of modules to the libvirt C files they mirror:
//! - `util::conf`      util/virconf.c            config file grammar and typed getters
//! - `util::log`       util/virlog.c             log outputs and filters
//! - `util::pidfile`   util/virpidfile.c         pidfile with an fcntl lock
//! - `util::daemon`    util/virdaemon.c          fork into background, status pipe
//! - `util::paths`     util/virutil.c, virdaemon.c  root and non-root paths
//! - `util::systemd`   util/virsystemd.c         socket activation, sd_notify
//! - `poll`            util/vireventglib.c       the mio poll loop
//! - `xdr`             rpc/virnetprotocol.x      XDR encoder and bounded decoder
//! - `rpc::*`          rpc/virnet*.c             framing, sockets, services, clients, servers
//! - `remote::*`       remote/remote_daemon*.c   daemon start-up, config, generic dispatch
//! - `admin::*`        admin/admin_server*.c     the admin program (virt-admin)
#![deny(unsafe_op_in_unsafe_fn)]

pub mod admin;
#[cfg(feature = "xen")]
pub mod libxl;
#[cfg(feature = "xen")]
pub mod libxl_ffi;
pub mod poll;
pub mod proxy;
pub mod remote;
pub mod rpc;
pub mod util;
pub mod xdr;

/// The libvirt release whose protocol and behaviour we reproduce; printed by
/// `--version` in libvirt's format and reported as the library version.
pub const LIBVIRT_VERSION: (u32, u32, u32) = (9, 0, 0);

/// `LIBVIRT_VERSION` as libvirt encodes it on the wire (major*1000000 + minor*1000 + micro).
pub const LIBVIRT_VERSION_NUMBER: u64 = LIBVIRT_VERSION.0 as u64 * 1_000_000 + LIBVIRT_VERSION.1 as u64 * 1000 + LIBVIRT_VERSION.2 as u64;
