//! Pacing: spacing events at a declared rate (calls created on a shared account at its CPS,
//! requests under a profile's request budget) and the back-off of repeated polls.
//!
//! A [`Pacer`] hands out time slots `1 / rate` apart; whoever asks waits for its slot. It never
//! rejects and never waits past its slot, so every wait is bounded by the number of callers
//! ahead times the interval.

use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// Time slots at most `rate` per second, first come first served.
#[derive(Debug)]
pub struct Pacer {
    interval: Duration,
    /// The earliest time the next slot may start.
    next: Mutex<Option<Instant>>,
    /// Total time callers spent waiting for their slots, in milliseconds.
    waited_ms: std::sync::atomic::AtomicU64,
}

impl Pacer {
    /// A pacer at `per_second` slots a second; `None` for a rate that is not a positive finite number.
    pub fn new(per_second: f64) -> Option<Pacer> {
        if !(per_second.is_finite() && per_second > 0.0) {
            return None;
        }
        Some(Pacer {
            interval: Duration::from_secs_f64(1.0 / per_second),
            next: Mutex::new(None),
            waited_ms: Default::default(),
        })
    }

    /// The time between two slots.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Reserves the next free slot and returns when it starts.
    pub async fn wait(&self) {
        tokio::time::sleep(self.book()).await;
    }

    /// Reserves the next free slot and returns how long until it starts, for a caller that must
    /// know the wait before it sleeps (a deadline that the wait extends).
    pub fn book(&self) -> Duration {
        let now = Instant::now();
        let wait = self.reserve(now).saturating_duration_since(now);
        self.waited_ms.fetch_add(wait.as_millis() as u64, std::sync::atomic::Ordering::Relaxed);
        wait
    }

    /// The slot a caller arriving at `now` gets; the following slot is one interval later.
    fn reserve(&self, now: Instant) -> Instant {
        // A poisoned lock only means a panic elsewhere; the slot time itself is still valid.
        let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
        let slot = next.map_or(now, |n| n.max(now));
        *next = Some(slot + self.interval);
        slot
    }

    /// How long callers have waited for their slots so far.
    pub fn waited(&self) -> Duration {
        Duration::from_millis(self.waited_ms.load(std::sync::atomic::Ordering::Relaxed))
    }
}

/// The waits of a poll that backs off: `first`, then doubling up to `max`.
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
    max: Duration,
}

impl Backoff {
    /// Polls a target every `first`, doubling after each attempt up to `max`.
    pub fn new(first: Duration, max: Duration) -> Backoff {
        Backoff { next: first.min(max), max }
    }

    /// The wait before the next attempt.
    pub fn next_wait(&mut self) -> Duration {
        let wait = self.next;
        self.next = (self.next * 2).min(self.max);
        wait
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_one_interval_apart_and_never_in_the_past() {
        let pacer = Pacer::new(2.0).expect("a valid rate");
        let t0 = Instant::now();
        assert_eq!(pacer.reserve(t0), t0);
        assert_eq!(pacer.reserve(t0), t0 + Duration::from_millis(500));
        assert_eq!(pacer.reserve(t0), t0 + Duration::from_millis(1000));
        // A caller long after the last slot starts at once.
        let later = t0 + Duration::from_secs(10);
        assert_eq!(pacer.reserve(later), later);
    }

    #[test]
    fn booked_waits_are_counted() {
        let pacer = Pacer::new(10.0).expect("a valid rate");
        let waits: Vec<Duration> = (0..3).map(|_| pacer.book()).collect();
        assert_eq!(waits[0], Duration::ZERO);
        // Booked microseconds apart: about 100 and 200 ms, counted in whole milliseconds.
        assert!(waits[1] > Duration::from_millis(50) && waits[2] > waits[1], "{waits:?}");
        let counted = pacer.waited();
        let booked: Duration = waits.iter().sum();
        assert!(counted <= booked && booked - counted < Duration::from_millis(3), "{counted:?} of {booked:?}");
    }

    #[test]
    fn only_positive_finite_rates_make_a_pacer() {
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(Pacer::new(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn backoff_doubles_to_its_cap() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
        let waits: Vec<u128> = (0..7).map(|_| b.next_wait().as_millis()).collect();
        assert_eq!(waits, [100, 200, 400, 800, 1000, 1000, 1000]);
    }
}
