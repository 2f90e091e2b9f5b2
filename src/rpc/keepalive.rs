//! Keepalive state of one connection (libvirt's rpc/virkeepalive.c).
//!
//! Every packet received restarts the interval and refills the death counter. Once started
//! (the peer asked for CONNECT_SUPPORTS_FEATURE 10), a full interval without traffic sends a
//! PING and spends one count; a timer that finds the count spent declares the peer dead, so a
//! silent peer is dropped after about interval × (count + 1). An interval ≤ 0 never pings
//! but PINGs from the peer are still answered. Time is passed in, never read here.

use std::time::{Duration, Instant};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Nothing to do now; check again at this time.
    Wait(Instant),
    /// Send a PING and check again at this time.
    Ping(Instant),
    /// The peer stopped answering: close the connection.
    Dead,
    /// Keepalive is not running; drop the timer.
    Idle,
}

#[derive(Debug, Clone)]
pub struct KeepAlive {
    interval: i32,
    count: u32,
    count_to_death: u32,
    interval_start: Option<Instant>,
}

impl KeepAlive {
    // C: virKeepAliveNew
    pub fn new(interval: i32, count: u32) -> KeepAlive {
        KeepAlive { interval, count, count_to_death: count, interval_start: None }
    }

    fn period(&self) -> Duration {
        Duration::from_secs(self.interval.max(0) as u64)
    }

    pub fn is_running(&self) -> bool {
        self.interval > 0 && self.interval_start.is_some()
    }

    /// Starts pinging; returns when the timer should first fire, or None if disabled.
    // C: virKeepAliveStart
    pub fn start(&mut self, now: Instant) -> Option<Instant> {
        if self.interval <= 0 {
            return None;
        }
        if self.is_running() {
            return None;
        }
        self.interval_start = Some(now);
        self.count_to_death = self.count;
        Some(now + self.period())
    }

    /// How long a silent peer lasts before it is declared dead: interval × (count + 1);
    /// None when keepalive is disabled.
    pub fn dead_after(&self) -> Option<Duration> {
        (self.interval > 0).then(|| self.period() * (self.count + 1))
    }

    pub fn stop(&mut self) {
        self.interval_start = None;
    }

    /// Any packet from the peer proves it alive.
    // C: virKeepAliveCheckMessage
    pub fn on_packet(&mut self, now: Instant) {
        self.count_to_death = self.count;
        if self.interval_start.is_some() {
            self.interval_start = Some(now);
        }
    }

    // C: virKeepAliveTimerInternal
    pub fn on_timer(&mut self, now: Instant) -> Action {
        let Some(start) = self.interval_start else { return Action::Idle };
        if self.interval <= 0 {
            return Action::Idle;
        }
        let due = start + self.period();
        if now < due {
            return Action::Wait(due);
        }
        if self.count_to_death == 0 {
            self.interval_start = None;
            return Action::Dead;
        }
        self.count_to_death -= 1;
        self.interval_start = Some(now);
        Action::Ping(now + self.period())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn start_disabled_interval_returns_none() {
        let mut ka = KeepAlive::new(-1, 5);
        assert_eq!(ka.start(Instant::now()), None);
        assert!(!ka.is_running());
        let mut ka = KeepAlive::new(0, 5);
        assert_eq!(ka.start(Instant::now()), None);
    }

    #[test]
    fn silent_peer_dies_after_interval_times_count_plus_one() {
        let t0 = Instant::now();
        let mut ka = KeepAlive::new(5, 2);
        assert_eq!(ka.start(t0), Some(t0 + s(5)));
        assert_eq!(ka.on_timer(t0 + s(5)), Action::Ping(t0 + s(10)));
        assert_eq!(ka.on_timer(t0 + s(10)), Action::Ping(t0 + s(15)));
        assert_eq!(ka.on_timer(t0 + s(15)), Action::Dead);
        assert_eq!(ka.on_timer(t0 + s(20)), Action::Idle);
    }

    #[test]
    fn traffic_postpones_ping() {
        let t0 = Instant::now();
        let mut ka = KeepAlive::new(5, 2);
        ka.start(t0);
        ka.on_packet(t0 + s(3));
        assert_eq!(ka.on_timer(t0 + s(5)), Action::Wait(t0 + s(8)));
        assert_eq!(ka.on_timer(t0 + s(8)), Action::Ping(t0 + s(13)));
    }

    #[test]
    fn answer_refills_count() {
        let t0 = Instant::now();
        let mut ka = KeepAlive::new(1, 1);
        ka.start(t0);
        assert_eq!(ka.on_timer(t0 + s(1)), Action::Ping(t0 + s(2)));
        ka.on_packet(t0 + s(1) + Duration::from_millis(10));
        assert!(matches!(ka.on_timer(t0 + s(2)), Action::Wait(_)));
        assert!(matches!(ka.on_timer(t0 + s(3)), Action::Ping(_)));
    }

    #[test]
    fn count_zero_dies_after_one_idle_interval() {
        let t0 = Instant::now();
        let mut ka = KeepAlive::new(2, 0);
        ka.start(t0);
        assert_eq!(ka.on_timer(t0 + s(2)), Action::Dead);
    }

    #[test]
    fn packet_before_start_does_not_start() {
        let mut ka = KeepAlive::new(5, 5);
        ka.on_packet(Instant::now());
        assert!(!ka.is_running());
        assert_eq!(ka.on_timer(Instant::now()), Action::Idle);
    }
}
