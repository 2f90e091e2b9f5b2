//! Rate limiting of the log lines a peer can cause (libvirt has none; a client sending
//! malformed frames in a loop must not flood syslog).
//!
//! A token bucket shared by every client-caused warning: `BURST` lines, refilled at one per
//! `REFILL`; lines over the limit are counted and the count is reported with the next line
//! that passes. The clock is passed in to the pure part so it is tested without sleeping.

use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const BURST: u32 = 20;
const REFILL: Duration = Duration::from_millis(500);

#[derive(Debug)]
pub struct Bucket {
    tokens: u32,
    last: Option<Instant>,
    suppressed: u64,
}

impl Bucket {
    pub const fn new() -> Bucket {
        Bucket { tokens: BURST, last: None, suppressed: 0 }
    }

    /// Whether a line may be logged now; Some(n) with the number of lines suppressed
    /// since the last one that passed.
    pub fn admit(&mut self, now: Instant) -> Option<u64> {
        if let Some(last) = self.last {
            let refills = (now.saturating_duration_since(last).as_millis() / REFILL.as_millis()) as u32;
            if refills > 0 {
                self.tokens = (self.tokens.saturating_add(refills)).min(BURST);
                self.last = Some(last + REFILL * refills);
            }
        } else {
            self.last = Some(now);
        }
        if self.tokens == 0 {
            self.suppressed += 1;
            return None;
        }
        self.tokens -= 1;
        Some(std::mem::take(&mut self.suppressed))
    }
}

impl Default for Bucket {
    fn default() -> Self {
        Bucket::new()
    }
}

static CLIENT_WARNINGS: Mutex<Bucket> = Mutex::new(Bucket::new());

/// Logs a warning a client caused, within the shared rate limit.
pub fn client_warn(args: fmt::Arguments<'_>) {
    let admitted = CLIENT_WARNINGS.lock().unwrap_or_else(|p| p.into_inner()).admit(Instant::now());
    match admitted {
        Some(0) => log::warn!("{args}"),
        Some(n) => log::warn!("{args} ({n} similar messages suppressed)"),
        None => log::debug!("{args}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admit_burst_then_suppress() {
        let t0 = Instant::now();
        let mut b = Bucket::new();
        for _ in 0..BURST {
            assert_eq!(b.admit(t0), Some(0));
        }
        assert_eq!(b.admit(t0), None);
        assert_eq!(b.admit(t0), None);
    }

    #[test]
    fn admit_refills_and_reports_suppressed() {
        let t0 = Instant::now();
        let mut b = Bucket::new();
        for _ in 0..BURST {
            b.admit(t0);
        }
        assert_eq!(b.admit(t0), None);
        assert_eq!(b.admit(t0 + REFILL / 2), None);
        assert_eq!(b.admit(t0 + REFILL), Some(2));
        assert_eq!(b.admit(t0 + REFILL), None);
    }

    #[test]
    fn admit_refill_is_capped_at_burst() {
        let t0 = Instant::now();
        let mut b = Bucket::new();
        b.admit(t0);
        let later = t0 + REFILL * 1000;
        for _ in 0..BURST {
            assert!(b.admit(later).is_some());
        }
        assert_eq!(b.admit(later), None);
    }
}
