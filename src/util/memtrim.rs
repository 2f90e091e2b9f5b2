//! Keeps a long-running daemon's resident set small (our own addition; libvirt has no
//! counterpart). Code pages touched by start-up or by a burst of requests, and the
//! neighbours the kernel's fault-around mapped with them (64 KiB per fault), stay counted in
//! RSS although an idle daemon does not run them. Dropping them from our page tables costs
//! little (they stay in the page cache, shared, and come back on the next use as minor
//! faults). The same goes for free heap pages, which `malloc_trim` hands back. The loop calls
//! `trim_idle` once it has been idle for `IDLE_TRIM_AFTER`.
//!
//! Only executable, private, file-backed mappings (`r-xp`) are touched: code is never
//! written, so discarding our view of it loses nothing. Data, relocated read-only data
//! (RELRO pages are private copies) and anonymous memory are left alone.

use std::fs;
use std::time::Duration;

/// Idle time after which the loop gives memory back.
pub const IDLE_TRIM_AFTER: Duration = Duration::from_secs(1);

/// Gives back free heap pages and drops code pages from the resident set.
pub fn trim_idle() {
    // SAFETY: malloc_trim only releases free memory of the allocator's own arenas.
    unsafe { libc::malloc_trim(0) };
    trim_code_pages();
}

/// One `r-xp` mapping of a file: start and end addresses.
fn parse_text_mapping(line: &str) -> Option<(usize, usize)> {
    let mut f = line.split_whitespace();
    let range = f.next()?;
    let perms = f.next()?;
    let _offset = f.next()?;
    let _dev = f.next()?;
    let inode = f.next()?;
    let path = f.next()?;
    if perms != "r-xp" || inode == "0" || !path.starts_with('/') {
        return None;
    }
    let (a, b) = range.split_once('-')?;
    let start = usize::from_str_radix(a, 16).ok()?;
    let end = usize::from_str_radix(b, 16).ok()?;
    (end > start).then_some((start, end))
}

/// Drops code pages from RSS. Returns how many mappings were treated. Errors are ignored:
/// this is an optimisation only.
pub fn trim_code_pages() -> usize {
    let Ok(maps) = fs::read_to_string("/proc/self/maps") else { return 0 };
    let mut n = 0;
    for (start, end) in maps.lines().filter_map(parse_text_mapping) {
        let len = end - start;
        // SAFETY: the range is a whole mapping of this process, read from /proc/self/maps;
        // it is private, file-backed and not writable, so MADV_DONTNEED only unmaps pages
        // that are re-read unchanged from the file on the next access. No Rust reference
        // is invalidated.
        unsafe { libc::madvise(start as *mut libc::c_void, len, libc::MADV_DONTNEED) };
        n += 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_private_executable_file_mappings_are_chosen() {
        let lines = [
            "55d1c000-55d2c000 r-xp 00001000 08:01 1234 /usr/sbin/virtxend",
            "55d2c000-55d30000 r--p 00011000 08:01 1234 /usr/sbin/virtxend",
            "7f00-7f10 rw-p 00000000 00:00 0 [heap]",
            "7f10-7f20 r-xp 00000000 00:00 0 [vdso]",
            "7f20-7f30 r-xs 00000000 08:01 99 /dev/shm/x",
            "7f30-7f20 r-xp 00000000 08:01 99 /lib/bad",
        ];
        let chosen: Vec<_> = lines.iter().filter_map(|l| parse_text_mapping(l)).collect();
        assert_eq!(chosen, vec![(0x55d1c000, 0x55d2c000)]);
    }

    #[test]
    fn trimming_this_process_keeps_it_running() {
        assert!(trim_code_pages() > 0);
        // Code we run after the trim is faulted back in.
        assert_eq!(format!("{}", 6 * 7), "42");
    }
}
