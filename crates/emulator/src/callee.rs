//! The callee table: what the party at a `To` address does when the emulator dials it.

use crate::seed::{
    CALLEE_BUSY, CALLEE_DIGITS, CALLEE_FAILED, CALLEE_HANGS_UP, CALLEE_MACHINE, CALLEE_NO_ANSWER, CALLEE_SILENT,
    CALLEE_SLOW_ANSWER,
};
use std::time::Duration;

/// How a dialed callee behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Answers (after `Config::ring`, or later for [`Answerer::SlowAnswer`]), then behaves as the
    /// answerer does.
    Answer(Answerer),
    /// Busy after `Config::ring`.
    Busy,
    /// Rings until the call's `Timeout`.
    NoAnswer,
    /// Cannot be reached; fails at once.
    Failed,
}

/// Who answers, and what they do once the call is up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answerer {
    /// A person: speaks briefly, presses nothing, stays until the call is ended.
    Human,
    /// An answering machine: a greeting of [`MACHINE_GREETING`], then a beep.
    Machine,
    /// Answers and makes no sound and presses no key.
    Silent,
    /// A person who presses [`DIGITS_PRESSED`] when a `<Gather>` listens.
    Digits,
    /// A person who hangs up [`HANG_UP_AFTER`] after answering.
    HangsUp,
    /// A person who answers only after [`SLOW_RING`] of ringing.
    SlowAnswer,
}

/// How long a person speaks on answering ("Hello?") before falling silent.
pub(crate) const HUMAN_GREETING: Duration = Duration::from_millis(500);
/// How long the answering machine's greeting lasts before its beep.
pub(crate) const MACHINE_GREETING: Duration = Duration::from_secs(3);
/// The keys [`Answerer::Digits`] presses, in order, each time a `<Gather>` listens.
pub(crate) const DIGITS_PRESSED: &str = "1234#";
/// Time between two keys of [`Answerer::Digits`], and before the first.
pub(crate) const DIGIT_GAP: Duration = Duration::from_millis(100);
/// How long [`Answerer::HangsUp`] stays on the line.
pub(crate) const HANG_UP_AFTER: Duration = Duration::from_secs(2);
/// How long [`Answerer::SlowAnswer`] rings.
pub(crate) const SLOW_RING: Duration = Duration::from_secs(3);

/// The outcome of dialing `to`.
pub(crate) fn outcome(to: &str) -> Outcome {
    match to {
        CALLEE_BUSY => Outcome::Busy,
        CALLEE_NO_ANSWER => Outcome::NoAnswer,
        CALLEE_FAILED => Outcome::Failed,
        CALLEE_MACHINE => Outcome::Answer(Answerer::Machine),
        CALLEE_SILENT => Outcome::Answer(Answerer::Silent),
        CALLEE_DIGITS => Outcome::Answer(Answerer::Digits),
        CALLEE_HANGS_UP => Outcome::Answer(Answerer::HangsUp),
        CALLEE_SLOW_ANSWER => Outcome::Answer(Answerer::SlowAnswer),
        _ => Outcome::Answer(Answerer::Human),
    }
}

impl Answerer {
    /// How long this callee rings before answering, given the configured ring time.
    pub(crate) fn ring(self, configured: Duration) -> Duration {
        match self {
            Answerer::SlowAnswer => SLOW_RING.max(configured),
            _ => configured,
        }
    }

    /// When this callee hangs up by itself after answering, if it does.
    pub(crate) fn hangs_up_after(self) -> Option<Duration> {
        (self == Answerer::HangsUp).then_some(HANG_UP_AFTER)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        assert_eq!(outcome("+15005559001"), Outcome::Busy);
        assert_eq!(outcome("+15005559002"), Outcome::NoAnswer);
        assert_eq!(outcome("+15005559003"), Outcome::Failed);
        assert_eq!(outcome("+15005559004"), Outcome::Answer(Answerer::Machine));
        assert_eq!(outcome("+15005559005"), Outcome::Answer(Answerer::Silent));
        assert_eq!(outcome("+15005559006"), Outcome::Answer(Answerer::Digits));
        assert_eq!(outcome("+15005559007"), Outcome::Answer(Answerer::HangsUp));
        assert_eq!(outcome("+15005559008"), Outcome::Answer(Answerer::SlowAnswer));
        assert_eq!(outcome("+14155551212"), Outcome::Answer(Answerer::Human));
        assert_eq!(outcome("sip:kate@example.com"), Outcome::Answer(Answerer::Human));
        assert_eq!(outcome("client:joey"), Outcome::Answer(Answerer::Human));
    }

    #[test]
    fn only_the_slow_callee_rings_longer_and_only_one_hangs_up() {
        let ring = Duration::from_millis(300);
        assert_eq!(Answerer::SlowAnswer.ring(ring), SLOW_RING);
        assert_eq!(Answerer::Human.ring(ring), ring);
        assert_eq!(Answerer::HangsUp.hangs_up_after(), Some(HANG_UP_AFTER));
        assert_eq!(Answerer::Machine.hangs_up_after(), None);
    }
}
