//! virtproxyd: libvirt's proxy daemon (remote/remote_daemon.c built as virtproxyd): listens on
//! the legacy libvirtd sockets and relays each client to the daemon its URI names.

use virtlite::proxy::ProxyProgram;
use virtlite::remote::config::DaemonKind;
use virtlite::remote::daemon::{self, DaemonSpec};

const SPEC: DaemonSpec = DaemonSpec { name: "virtproxyd", sock_prefix: "libvirt", kind: DaemonKind::Proxy };

fn main() {
    let code = daemon::run(
        &SPEC,
        Box::new(|ctx, _core| {
            Ok(Box::new(ProxyProgram::new(
                ctx.privileged,
                ctx.env.clone(),
                ctx.auth.clone(),
                ctx.config.keepalive_interval,
                ctx.config.keepalive_count,
            )))
        }),
    );
    std::process::exit(code);
}
