//! Keeps a long-running daemon's resident set small (our own addition; libvirt has no
//! counterpart). Code pages touched by start-up or by a burst of requests, and the
//! neighbours the kernel's fault-around mapped with them (64 KiB per fault), stay counted in
//! RSS although an idle daemon does not run them. Dropping them from our page tables costs
//! little (they stay in the page cache, shared, and come back on the next use as minor
//! faults). The same goes for free heap pages, which `malloc_trim` hands back. The loop calls
//! `trim_idle` once it has been idle for `IDLE_TRIM_AFTER`.
//!
//! Only private, file-backed, non-writable mappings none of whose pages were ever copied
//! are touched (code, read-only data, the symbol tables the dynamic linker read): discarding
//! our view of them loses nothing. Data, relocated read-only data (RELRO pages are private
//! copies) and anonymous memory are left alone.

use std::time::Duration;

/// Idle time after which the loop gives memory back.
pub const IDLE_TRIM_AFTER: Duration = Duration::from_secs(1);

/// Keeps large buffers (frames, XML) out of the heap: glibc's default threshold grows after
/// the first big free, after which megabyte buffers stay in the heap for good. Fixed at
/// 128 KiB, they are mmap'ed and returned when freed.
pub fn tune_allocator() {
    super::sys::set_mmap_threshold(128 * 1024);
}

/// Gives back free heap pages and drops code pages from the resident set.
pub fn trim_idle() {
    super::sys::malloc_trim();
    trim_code_pages();
}

/// Drops clean file pages (code, read-only data, symbol tables) from RSS. Returns how many
/// mappings were treated. Errors are ignored: this is an optimisation only.
pub fn trim_code_pages() -> usize {
    super::sys::drop_clean_file_pages()
}

#[cfg(test)]
mod tests {
    use super::trim_code_pages;
    use crate::util::sys::droppable_mappings;

    #[test]
    fn only_clean_private_read_only_file_mappings_are_chosen() {
        let smaps = "\
55d1c000-55d2c000 r-xp 00001000 08:01 1234 /usr/sbin/virtxend
Rss: 40 kB
Anonymous: 0 kB
55d2c000-55d30000 r--p 00011000 08:01 1234 /usr/sbin/virtxend
Anonymous: 0 kB
55d30000-55d31000 r--p 00015000 08:01 1234 /usr/sbin/virtxend
Anonymous: 4 kB
7f00-7f10 rw-p 00000000 00:00 0 [heap]
Anonymous: 0 kB
7f10-7f20 r-xp 00000000 00:00 0 [vdso]
Anonymous: 0 kB
7f20-7f30 r-xs 00000000 08:01 99 /dev/shm/x
Anonymous: 0 kB
7f30-7f20 r-xp 00000000 08:01 99 /lib/bad
Anonymous: 0 kB
7f40-7f50 r-xp 00000000 08:01 99 /lib/noanonline
";
        assert_eq!(droppable_mappings(smaps), vec![(0x55d1c000, 0x55d2c000), (0x55d2c000, 0x55d30000)]);
    }

    #[test]
    fn trimming_this_process_keeps_it_running() {
        assert!(trim_code_pages() > 0);
        // Code we run after the trim is faulted back in.
        assert_eq!(format!("{}", 6 * 7), "42");
    }
}
