//! The daemons' command line (the option handling of libvirt's remote/remote_daemon.c
//! `main` and `daemonUsage`), with getopts.

use getopts::Options;

use crate::util::paths::{RUNSTATEDIR, SYSCONFDIR};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Args {
    pub verbose: bool,
    pub daemon: bool,
    pub config: Option<String>,
    pub pid_file: Option<String>,
    /// Seconds of idleness before exiting; 0 = never.
    pub timeout: u32,
    pub check_config: bool,
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    Run(Args),
    /// Print this to stdout and exit 0.
    Version(String),
    /// Print the usage to stderr and exit 0.
    Help,
    /// Print this (and for bad options the usage) to stderr and exit 1.
    Fail {
        msg: String,
        usage: bool,
    },
}

fn options() -> Options {
    let mut o = Options::new();
    o.optflag("h", "help", "");
    o.optflag("v", "verbose", "");
    o.optflag("d", "daemon", "");
    o.optmulti("f", "config", "", "FILE");
    o.optmulti("t", "timeout", "", "SECS");
    o.optmulti("p", "pid-file", "", "FILE");
    o.optflag("V", "version", "");
    o.optflag("", "check-config", "");
    o
}

/// Parses `argv` (without argv[0]). The last of repeated options wins, as with getopt.
pub fn parse(argv0: &str, args: &[String]) -> Parsed {
    let m = match options().parse(args) {
        Ok(m) => m,
        Err(e) => return Parsed::Fail { msg: format!("{argv0}: {e}"), usage: true },
    };
    if m.opt_present("h") {
        return Parsed::Help;
    }
    if m.opt_present("V") {
        let (a, b, c) = crate::LIBVIRT_VERSION;
        return Parsed::Version(format!("{argv0} (libvirt) {a}.{b}.{c}"));
    }
    if !m.free.is_empty() {
        return Parsed::Fail { msg: format!("{argv0}: unexpected, non-option, command line arguments"), usage: false };
    }
    let timeout = match m.opt_strs("t").last() {
        None => 0,
        Some(t) => match parse_timeout(t) {
            Some(v) => v,
            None => return Parsed::Fail { msg: "Invalid value for timeout".into(), usage: false },
        },
    };
    Parsed::Run(Args {
        verbose: m.opt_present("v"),
        daemon: m.opt_present("d"),
        config: m.opt_strs("f").pop(),
        pid_file: m.opt_strs("p").pop(),
        timeout,
        check_config: m.opt_present("check-config"),
    })
}

/// 0..=INT_MAX/1000 in decimal, as libvirt accepts for --timeout.
fn parse_timeout(s: &str) -> Option<u32> {
    let v: i64 = s.trim_start().parse().ok()?;
    (0..=(i32::MAX / 1000) as i64).contains(&v).then_some(v as u32)
}

/// The usage text (stderr), with the default paths of this mode.
// C: daemonUsage
pub fn usage(argv0: &str, daemon: &str, sock_prefix: &str, with_ip: bool, privileged: bool) -> String {
    let mut s = String::new();
    s.push_str(&format!("\nUsage:\n  {argv0} [options]\n\nOptions:\n"));
    for (o, h) in [
        ("-h | --help", "Display program help"),
        ("-v | --verbose", "Verbose messages"),
        ("-d | --daemon", "Run as a daemon & write PID file"),
        ("-t | --timeout <secs>", "Exit after timeout period"),
        ("-f | --config <file>", "Configuration file"),
        ("-V | --version", "Display version information"),
        ("-p | --pid-file <file>", "Change name of PID file"),
        ("--check-config", "Check the configuration file, report every problem and exit"),
    ] {
        s.push_str(&format!("  {o:<22} {h}\n"));
    }
    s.push_str("\nlibvirt management daemon:\n\n  Default paths:\n\n");
    let cfg = if privileged { SYSCONFDIR } else { "$XDG_CONFIG_HOME" };
    s.push_str(&format!("    Configuration file (unless overridden by -f):\n      {cfg}/libvirt/{daemon}.conf\n\n"));
    let run = if privileged { RUNSTATEDIR } else { "$XDG_RUNTIME_DIR" };
    s.push_str(&format!("    Sockets:\n      {run}/libvirt/{sock_prefix}-sock\n"));
    if privileged {
        s.push_str(&format!("      {run}/libvirt/{sock_prefix}-sock-ro\n"));
    }
    s.push('\n');
    if with_ip {
        let (ca, cert, key) = if privileged {
            (
                format!("{SYSCONFDIR}/pki/CA/cacert.pem"),
                format!("{SYSCONFDIR}/pki/libvirt/servercert.pem"),
                format!("{SYSCONFDIR}/pki/libvirt/private/serverkey.pem"),
            )
        } else {
            ("$HOME/.pki/libvirt/cacert.pem".into(), "$HOME/.pki/libvirt/servercert.pem".into(), "$HOME/.pki/libvirt/serverkey.pem".into())
        };
        s.push_str(&format!("    TLS:\n      CA certificate: {ca}\n      Server certificate: {cert}\n      Server private key: {key}\n\n"));
    }
    let pid = if privileged { RUNSTATEDIR } else { "$XDG_RUNTIME_DIR/libvirt" };
    s.push_str(&format!("    PID file (unless overridden by -p):\n      {pid}/{daemon}.pid\n\n"));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Parsed {
        parse("virtproxyd", &args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn no_args_runs_with_defaults() {
        assert_eq!(p(&[]), Parsed::Run(Args::default()));
    }

    #[test]
    fn all_options_long_and_short() {
        let want =
            Args { verbose: true, daemon: true, config: Some("/c".into()), pid_file: Some("/p".into()), timeout: 30, check_config: false };
        assert_eq!(p(&["-v", "-d", "-f", "/c", "-p", "/p", "-t", "30"]), Parsed::Run(want.clone()));
        assert_eq!(p(&["--verbose", "--daemon", "--config", "/c", "--pid-file=/p", "--timeout=30"]), Parsed::Run(want));
    }

    #[test]
    fn version_prints_libvirt_form() {
        assert_eq!(p(&["-V"]), Parsed::Version("virtproxyd (libvirt) 9.0.0".into()));
        assert_eq!(p(&["--version"]), Parsed::Version("virtproxyd (libvirt) 9.0.0".into()));
    }

    #[test]
    fn help_wins() {
        assert_eq!(p(&["-h"]), Parsed::Help);
        assert_eq!(p(&["--help", "-t", "x"]), Parsed::Help);
    }

    #[test]
    fn unknown_option_fails_with_usage() {
        assert!(matches!(p(&["--bogus"]), Parsed::Fail { usage: true, .. }));
        assert!(matches!(p(&["-l"]), Parsed::Fail { usage: true, .. }));
    }

    #[test]
    fn timeout_out_of_range_fails() {
        for bad in ["-1", "abc", "2147484", "1.5", ""] {
            assert_eq!(p(&["-t", bad]), Parsed::Fail { msg: "Invalid value for timeout".into(), usage: false }, "{bad}");
        }
        assert!(matches!(p(&["-t", "2147483"]), Parsed::Run(Args { timeout: 2147483, .. })));
    }

    #[test]
    fn positional_argument_fails() {
        assert_eq!(p(&["extra"]), Parsed::Fail { msg: "virtproxyd: unexpected, non-option, command line arguments".into(), usage: false });
    }

    #[test]
    fn check_config_flag() {
        assert!(matches!(p(&["--check-config"]), Parsed::Run(Args { check_config: true, .. })));
    }

    #[test]
    fn usage_lists_ro_socket_only_for_root() {
        let root = usage("virtproxyd", "virtproxyd", "libvirt", true, true);
        assert!(root.contains("/run/libvirt/libvirt-sock-ro"));
        assert!(root.contains("/run/virtproxyd.pid"));
        let user = usage("virtproxyd", "virtproxyd", "libvirt", true, false);
        assert!(!user.contains("-sock-ro"));
        assert!(user.contains("$XDG_RUNTIME_DIR/libvirt/libvirt-sock"));
        assert!(!usage("virtxend", "virtxend", "virtxend", false, true).contains("TLS:"));
    }
}
