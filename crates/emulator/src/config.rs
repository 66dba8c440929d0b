//! The emulator's settings: listen address, queue rate, ring time, strictness, limits,
//! connection deadlines, where webhooks may go, faults, variance.

use crate::egress::HostPattern;
use crate::fault::Fault;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

/// How the emulator behaves. `Default` listens on an ephemeral loopback port.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Where the API listens; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Calls per second each account's queue is drained at (default 1.0).
    pub cps: f64,
    /// How long an answering callee rings before it answers (default 300 ms).
    pub ring: Duration,
    /// Refuse unknown parameters, non-form bodies and comma-joined list values (default false).
    pub strict: bool,
    /// Answer 429 / 20429 beyond this many API requests of one account in flight (default: no
    /// limit).
    pub max_concurrent_requests: Option<usize>,
    /// Count a request against `max_concurrent_requests` only once its body is in, so clients
    /// that send slowly hold no slot (default false: a request is in flight from its headers on,
    /// which is how a conformance suite holds the limit with unfinished bodies; `body_timeout`
    /// bounds how long).
    pub slot_after_body: bool,
    /// Time limit of every request the emulator makes to a user URL (default 15 s).
    pub webhook_timeout: Duration,
    /// Largest request body accepted; larger bodies get 413 (default 64 KiB).
    pub max_body_bytes: usize,
    /// Longest a request's headers may take to arrive, from its first byte; the connection is
    /// closed after (default 10 s).
    pub header_timeout: Duration,
    /// Longest a request's body may take to arrive once its headers are in; 408 and the
    /// connection closed after (default 10 s).
    pub body_timeout: Duration,
    /// Longest a keep-alive connection may wait for its next request; closed after (default
    /// 60 s).
    pub idle_timeout: Duration,
    /// The hosts webhooks may reach (default empty: any). A refused request fails as an
    /// unreachable URL does. See [`HostPattern`].
    pub webhook_allow_hosts: Vec<HostPattern>,
    /// Deliberate deviations from Twilio's behaviour, a testing aid for the conformance suite
    /// (default none). See [`Fault`].
    pub faults: Vec<Fault>,
    /// Variance mode's seed (default none): within what Twilio documents or is observed to do,
    /// behave like the real API rather than like the tidiest reading (null dates at create,
    /// callbacks out of order, a jittered dequeue, …), deterministically per seed. A testing aid
    /// for the conformance suite; see `variance` in the crate docs.
    pub variance: Option<u64>,
    /// Keep a request journal (default false): every API request and its answer, in memory,
    /// read through [`crate::Emulator::journal`]. See [`crate::Journal`].
    pub journal: bool,
    /// How many times faster than real time a call's `TimeLimit` is counted (default 1.0), so
    /// a suite can check a one-minute limit in a second. Measured durations stay real.
    pub fast_clock: f64,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            cps: 1.0,
            ring: Duration::from_millis(300),
            strict: false,
            max_concurrent_requests: None,
            slot_after_body: false,
            webhook_timeout: Duration::from_secs(15),
            max_body_bytes: 64 * 1024,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            webhook_allow_hosts: Vec::new(),
            faults: Vec::new(),
            variance: None,
            journal: false,
            fast_clock: 1.0,
        }
    }
}

impl Config {
    /// The time between two dequeues of one account. A non-positive or non-finite `cps` is
    /// treated as 1.0; very small rates are capped at one call per day.
    pub fn dequeue_period(&self) -> Duration {
        let cps = if self.cps.is_finite() && self.cps > 0.0 { self.cps } else { 1.0 };
        Duration::from_secs_f64((1.0 / cps).min(86_400.0))
    }

    /// How long `seconds` of a call's `TimeLimit` take in real time under [`Config::fast_clock`]
    /// (a factor below 1, or not finite, counts as 1).
    pub fn call_time(&self, seconds: u64) -> Duration {
        let factor = if self.fast_clock.is_finite() && self.fast_clock >= 1.0 { self.fast_clock } else { 1.0 };
        Duration::from_secs_f64(seconds as f64 / factor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn period_follows_cps_and_survives_nonsense() {
        let mut c = Config { cps: 4.0, ..Config::default() };
        assert_eq!(c.dequeue_period(), Duration::from_millis(250));
        c.cps = 0.0;
        assert_eq!(c.dequeue_period(), Duration::from_secs(1));
        c.cps = f64::NAN;
        assert_eq!(c.dequeue_period(), Duration::from_secs(1));
        c.cps = 1e-12;
        assert_eq!(c.dequeue_period(), Duration::from_secs(86_400));
    }

    #[test]
    fn the_fast_clock_divides_call_time_and_ignores_nonsense() {
        let mut c = Config { fast_clock: 60.0, ..Config::default() };
        assert_eq!(c.call_time(60), Duration::from_secs(1));
        for nonsense in [0.0, 0.5, -3.0, f64::NAN, f64::INFINITY] {
            c.fast_clock = nonsense;
            assert_eq!(c.call_time(60), Duration::from_secs(60), "{nonsense}");
        }
    }
}
