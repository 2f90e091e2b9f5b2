//! Utilities shared by both daemons (libvirt's `src/util/`).
pub mod conf;
pub mod daemon;
pub mod log;
pub mod memtrim;
pub mod paths;
pub mod pidfile;
pub mod sys;
pub mod systemd;

/// The text of an OS error without Rust's " (os error N)" suffix, as libvirt prints it.
pub fn strerror(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.rfind(" (os error ") {
        Some(i) if e.raw_os_error().is_some() => s[..i].to_string(),
        _ => s,
    }
}
