//! The load's plan: which account, callee, receiver and cancel each call gets, and the status
//! callbacks each outcome must produce.

use callspec_emulator::seed;

/// What a call is made to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    /// An answering callee; the TwiML pauses, then the call completes.
    Answer,
    /// The busy callee.
    Busy,
    /// The no-answer callee with a short `Timeout`.
    NoAnswer,
    /// The failed callee.
    Failed,
    /// `Status=canceled` right after the create, while the call waits in its account's queue.
    CancelQueued,
    /// `Status=canceled` once a fetch shows the call ringing.
    CancelRinging,
}

/// The kinds in the order each account's calls take them (ten, so every tenth call repeats).
const KINDS: [Kind; 10] = [
    Kind::Answer,
    Kind::Busy,
    Kind::NoAnswer,
    Kind::CancelQueued,
    Kind::Answer,
    Kind::Failed,
    Kind::CancelRinging,
    Kind::Answer,
    Kind::CancelQueued,
    Kind::NoAnswer,
];

/// How the call's `StatusCallback` answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Mode {
    /// 200 at once.
    Ok,
    /// 200 after the slow delay.
    Slow,
    /// 500 at once.
    Fail,
    /// Holds the request past the emulator's webhook timeout.
    Hang,
    /// A closed port: the connection is refused, so nothing is observed.
    Refuse,
}

impl Mode {
    /// The path segment of the receiver's URL.
    pub(crate) fn segment(self) -> &'static str {
        match self {
            Mode::Ok => "ok",
            Mode::Slow => "slow",
            Mode::Fail => "fail",
            Mode::Hang => "hang",
            Mode::Refuse => "refuse",
        }
    }

    /// The mode a path segment names.
    pub(crate) fn from_segment(s: &str) -> Option<Mode> {
        [Mode::Ok, Mode::Slow, Mode::Fail, Mode::Hang, Mode::Refuse].into_iter().find(|m| m.segment() == s)
    }
}

/// The receivers of the bad account (seven, so they meet every kind over 70 calls).
const BAD_MODES: [Mode; 7] = [Mode::Slow, Mode::Fail, Mode::Slow, Mode::Hang, Mode::Slow, Mode::Refuse, Mode::Slow];

/// The account whose receivers misbehave; every other account's answer at once.
pub(crate) const BAD_ACCOUNT: usize = 0;

/// One planned call.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Planned {
    /// Index into the accounts.
    pub(crate) account: usize,
    /// What the call does.
    pub(crate) kind: Kind,
    /// How its status callback answers.
    pub(crate) mode: Mode,
}

impl Planned {
    /// The `To` of the call.
    pub(crate) fn to(&self) -> &'static str {
        match self.kind {
            Kind::Answer => "+14155550100",
            Kind::Busy => seed::CALLEE_BUSY,
            Kind::Failed => seed::CALLEE_FAILED,
            // Cancels ring long, so a cancel that misses the queue still finds the call ringing.
            Kind::NoAnswer | Kind::CancelQueued | Kind::CancelRinging => seed::CALLEE_NO_ANSWER,
        }
    }

    /// The `Timeout` of the call, in seconds.
    pub(crate) fn timeout_s(&self, no_answer_s: u32) -> u32 {
        match self.kind {
            Kind::CancelQueued | Kind::CancelRinging => 120,
            _ => no_answer_s,
        }
    }
}

/// The plan: call `i` goes to account `i % accounts`, and takes the kind (and on the bad
/// account the receiver) of its place among that account's calls.
pub(crate) fn plan(calls: usize, accounts: usize) -> Vec<Planned> {
    (0..calls)
        .map(|i| {
            let account = i % accounts;
            let nth = i / accounts;
            let mode = if account == BAD_ACCOUNT { BAD_MODES[nth % BAD_MODES.len()] } else { Mode::Ok };
            Planned { account, kind: KINDS[nth % KINDS.len()], mode }
        })
        .collect()
}

/// How a cancel ended, as its answer shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Canceled {
    /// Not a cancel, or not yet sent.
    No,
    /// The call was still queued: no `start_time`, and no callback may follow.
    WhileQueued,
    /// The call had been dialed.
    WhileRinging,
}

/// The `CallStatus` of each status callback a call must produce, in firing order, when it
/// subscribes to `initiated ringing answered completed`.
pub(crate) fn expected_events(kind: Kind, canceled: Canceled) -> &'static [&'static str] {
    match (kind, canceled) {
        (_, Canceled::WhileQueued) => &[],
        (_, Canceled::WhileRinging) => &["initiated", "ringing", "canceled"],
        (Kind::Answer, _) => &["initiated", "ringing", "in-progress", "completed"],
        (Kind::Busy, _) => &["initiated", "ringing", "busy"],
        (Kind::NoAnswer, _) => &["initiated", "ringing", "no-answer"],
        (Kind::Failed, _) => &["initiated", "ringing", "failed"],
        // A cancel whose answer was not a cancel: nothing is known to expect.
        (Kind::CancelQueued | Kind::CancelRinging, Canceled::No) => &[],
    }
}

/// The status a fetch must show once the call has ended.
pub(crate) fn expected_final(kind: Kind) -> &'static str {
    match kind {
        Kind::Answer => "completed",
        Kind::Busy => "busy",
        Kind::NoAnswer => "no-answer",
        Kind::Failed => "failed",
        Kind::CancelQueued | Kind::CancelRinging => "canceled",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_account_gets_every_kind_and_the_bad_account_every_mode() {
        let p = plan(300, 5);
        for account in 0..5 {
            for kind in KINDS {
                assert!(p.iter().any(|c| c.account == account && c.kind == kind), "{account} {kind:?}");
            }
        }
        for mode in BAD_MODES {
            assert!(p.iter().any(|c| c.account == BAD_ACCOUNT && c.mode == mode));
        }
        assert!(p.iter().all(|c| c.account == BAD_ACCOUNT || c.mode == Mode::Ok));
    }
}
