//! /etc/libvirt/libxl.conf: the Xen driver's own settings (libvirt's libxl/libxl_conf.c
//! libxlDriverConfigLoadFile and the autoballoon default of libxlGetAutoballoonConf).
//!
//! A missing file is not an error (libvirt skips it); a file with a syntax or type error
//! stops the daemon with `file:line:` and what was expected, like the daemon's own config.

use std::path::Path;

use crate::util::conf::{Conf, ConfError};

/// The settings of libxl.conf, with libvirt's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibxlConfig {
    /// Balloon Domain-0 down to make room for a guest.
    pub autoballoon: bool,
    /// "lockd", "sanlock", or None for no lock manager (we support none: see `load`).
    pub lock_manager: Option<String>,
    /// Keepalive towards a remote daemon in peer-to-peer migration (kept for completeness).
    pub keepalive_interval: i32,
    pub keepalive_count: u32,
    /// Allow nested HVM for host-passthrough CPUs.
    pub nested_hvm: bool,
}

impl LibxlConfig {
    /// The defaults, given the hypervisor's command line (autoballoon is off when the
    /// administrator fixed Domain-0's memory with dom0_mem=).
    // C: libxlDriverConfigNew, libxlGetAutoballoonConf
    pub fn defaults(xen_cmdline: &str) -> LibxlConfig {
        LibxlConfig { autoballoon: !has_dom0_mem(xen_cmdline), lock_manager: None, keepalive_interval: 5, keepalive_count: 5, nested_hvm: false }
    }

    /// Reads `path` over the defaults. Unknown keys are ignored, as libvirt does.
    // C: libxlDriverConfigLoadFile
    pub fn load(path: &Path, xen_cmdline: &str) -> Result<LibxlConfig, ConfError> {
        let mut cfg = LibxlConfig::defaults(xen_cmdline);
        let conf = match Conf::read_file(path) {
            Ok(c) => c,
            Err(ConfError::Open { errno, .. }) if errno == libc::ENOENT => return Ok(cfg),
            Err(e) => return Err(e),
        };
        cfg.apply(&conf)?;
        Ok(cfg)
    }

    fn apply(&mut self, conf: &Conf) -> Result<(), ConfError> {
        if let Some(v) = conf.get_bool("autoballoon")? {
            self.autoballoon = v;
        }
        if let Some(v) = conf.get_string("lock_manager")? {
            self.lock_manager = Some(v);
        }
        if let Some(v) = conf.get_int("keepalive_interval")? {
            self.keepalive_interval = v;
        }
        if let Some(v) = conf.get_uint("keepalive_count")? {
            self.keepalive_count = v;
        }
        if let Some(v) = conf.get_bool("nested_hvm")? {
            self.nested_hvm = v;
        }
        Ok(())
    }
}

/// Whether Xen's command line has a `dom0_mem=` option (with optional min:/max: parts),
/// the condition libvirt checks with a regular expression.
pub fn has_dom0_mem(cmdline: &str) -> bool {
    cmdline.split(' ').any(|word| {
        let Some(v) = word.strip_prefix("dom0_mem=") else { return false };
        !v.is_empty()
            && v.split(',').filter(|p| !p.is_empty()).all(|part| {
                let num = part.strip_prefix("min:").or_else(|| part.strip_prefix("max:")).unwrap_or(part);
                let digits = num.trim_end_matches(['b', 'B', 'k', 'K', 'm', 'M', 'g', 'G']);
                !digits.is_empty() && digits.len() + 1 >= num.len() && digits.bytes().all(|b| b.is_ascii_digit())
            })
    })
}

/// Domain-0's maximum memory in KiB from `dom0_mem=...,max:N[kKmMgG]` (None without one).
// C: libxlDriverGetDom0MaxmemConf (the command line part)
pub fn dom0_max_kib(cmdline: &str) -> Option<u64> {
    for word in cmdline.split(' ') {
        let Some(v) = word.strip_prefix("dom0_mem=") else { continue };
        for part in v.split(',') {
            let Some(num) = part.strip_prefix("max:") else { continue };
            let (digits, unit) = match num.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
                Some((i, _)) => num.split_at(i),
                None => (num, "k"),
            };
            let n: u64 = digits.parse().ok()?;
            return match unit {
                "b" | "B" => Some(n / 1024),
                "" | "k" | "K" => Some(n),
                "m" | "M" => n.checked_mul(1024),
                "g" | "G" => n.checked_mul(1024 * 1024),
                "t" | "T" => n.checked_mul(1024 * 1024 * 1024),
                _ => None,
            };
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dom0_mem_on_cmdline_turns_autoballoon_off() {
        assert!(!LibxlConfig::defaults("placeholder dom0_mem=1024M,max:1024M loglvl=all").autoballoon);
        assert!(LibxlConfig::defaults("placeholder loglvl=all").autoballoon);
    }

    #[test]
    fn dom0_mem_forms_are_recognised() {
        for ok in ["dom0_mem=512M", "dom0_mem=min:256M,max:1G", "dom0_mem=4096", "a dom0_mem=1g b"] {
            assert!(has_dom0_mem(ok), "{ok}");
        }
        for bad in ["dom0_mem=", "dom0_mem=lots", "xdom0_mem=1G", "dom0_mem=1X"] {
            assert!(!has_dom0_mem(bad), "{bad}");
        }
    }

    #[test]
    fn dom0_max_is_read_in_kib() {
        assert_eq!(dom0_max_kib("dom0_mem=1G,max:2G"), Some(2 * 1024 * 1024));
        assert_eq!(dom0_max_kib("dom0_mem=512M,max:1024M"), Some(1024 * 1024));
        assert_eq!(dom0_max_kib("dom0_mem=512M"), None);
    }

    #[test]
    fn config_file_values_override_defaults() {
        let conf = Conf::parse("libxl.conf", b"autoballoon = 0\nnested_hvm = 1\nkeepalive_count = 9\nunknown = 3\n").unwrap();
        let mut c = LibxlConfig::defaults("");
        c.apply(&conf).unwrap();
        assert!(!c.autoballoon && c.nested_hvm);
        assert_eq!(c.keepalive_count, 9);
    }

    #[test]
    fn wrong_type_is_an_error() {
        let conf = Conf::parse("libxl.conf", b"autoballoon = \"yes\"\n").unwrap();
        assert!(LibxlConfig::defaults("").apply(&conf).is_err());
    }

    #[test]
    fn missing_file_gives_defaults() {
        let c = LibxlConfig::load(Path::new("/nonexistent/libxl.conf"), "").unwrap();
        assert_eq!(c, LibxlConfig::defaults(""));
    }
}
