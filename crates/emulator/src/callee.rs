//! The callee table: what the party at a `To` address does when the emulator dials it.

use crate::seed::{CALLEE_BUSY, CALLEE_FAILED, CALLEE_NO_ANSWER};

/// How a dialed callee behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Answers after `Config::ring`.
    Answer,
    /// Busy after `Config::ring`.
    Busy,
    /// Rings until the call's `Timeout`.
    NoAnswer,
    /// Cannot be reached; fails at once.
    Failed,
}

/// The outcome of dialing `to`.
pub(crate) fn outcome(to: &str) -> Outcome {
    match to {
        CALLEE_BUSY => Outcome::Busy,
        CALLEE_NO_ANSWER => Outcome::NoAnswer,
        CALLEE_FAILED => Outcome::Failed,
        _ => Outcome::Answer,
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
        assert_eq!(outcome("+14155551212"), Outcome::Answer);
        assert_eq!(outcome("sip:kate@example.com"), Outcome::Answer);
        assert_eq!(outcome("client:joey"), Outcome::Answer);
    }
}
