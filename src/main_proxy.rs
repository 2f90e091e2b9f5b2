//! virtproxyd: libvirt's proxy daemon (remote/remote_daemon.c built as virtproxyd).
fn main() {}
