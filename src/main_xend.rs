//! virtxend: libvirt's Xen management daemon (remote/remote_daemon.c built as virtxend,
//! with the libxl driver of src/libxl/). Serves xen:///system on virtxend-sock,
//! virtxend-sock-ro and virtxend-admin-sock.

use virtlite::libxl::driver::XenDriver;
use virtlite::remote::config::DaemonKind;
use virtlite::remote::daemon::{self, DaemonSpec};

const SPEC: DaemonSpec = DaemonSpec { name: "virtxend", sock_prefix: "virtxend", kind: DaemonKind::Xend };

fn main() {
    let code = daemon::run(&SPEC, Box::new(|ctx, core| Ok(Box::new(XenDriver::new(core, ctx.privileged, ctx.auth.clone())?))));
    std::process::exit(code);
}
