//! What the Xen driver reads from Xen's own command line: the autoballoon default and
//! Domain-0's maximum memory (libvirt's libxl/libxl_conf.c libxlGetAutoballoonConf and
//! libxlDriverGetDom0MaxmemConf). libxl.conf itself is read by `remote::config::LibxlConfig`.

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
}
