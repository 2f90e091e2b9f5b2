//! virtxend: libvirt's Xen management daemon (remote/remote_daemon.c built as virtxend).
fn main() {}
