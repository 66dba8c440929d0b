//! Call statuses, their legal transitions, and status-callback events.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The status of a call, as in the resource's `status` and the callbacks' `CallStatus`.
///
/// `initiated` appears only in callbacks; the resource shows `queued` until the call rings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CallStatus {
    /// Accepted, waiting in the account's queue.
    Queued,
    /// Taken off the queue and dialed.
    Initiated,
    /// The callee's phone rings.
    Ringing,
    /// Answered.
    InProgress,
    /// Answered and ended normally.
    Completed,
    /// The callee was busy.
    Busy,
    /// The call could not be connected.
    Failed,
    /// Not answered before `Timeout`, or rejected.
    NoAnswer,
    /// Canceled through the REST API while queued or ringing.
    Canceled,
}

impl CallStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [CallStatus; 9] = [
        CallStatus::Queued,
        CallStatus::Initiated,
        CallStatus::Ringing,
        CallStatus::InProgress,
        CallStatus::Completed,
        CallStatus::Busy,
        CallStatus::Failed,
        CallStatus::NoAnswer,
        CallStatus::Canceled,
    ];

    /// The wire spelling, e.g. `in-progress`.
    pub const fn as_str(self) -> &'static str {
        match self {
            CallStatus::Queued => "queued",
            CallStatus::Initiated => "initiated",
            CallStatus::Ringing => "ringing",
            CallStatus::InProgress => "in-progress",
            CallStatus::Completed => "completed",
            CallStatus::Busy => "busy",
            CallStatus::Failed => "failed",
            CallStatus::NoAnswer => "no-answer",
            CallStatus::Canceled => "canceled",
        }
    }

    /// Whether the call is over: completed, busy, failed, no-answer or canceled.
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            CallStatus::Completed | CallStatus::Busy | CallStatus::Failed | CallStatus::NoAnswer | CallStatus::Canceled
        )
    }

    /// Whether an outbound-API call may move from `self` to `next`
    /// (`docs/reference/calls-api-facts.md#call-statuses`).
    ///
    /// queued → initiated → ringing → in-progress → completed, with busy, no-answer, failed
    /// and canceled as the ends of an unanswered call. A call canceled while queued never dials.
    pub const fn can_transition_to(self, next: CallStatus) -> bool {
        use CallStatus::*;
        matches!(
            (self, next),
            (Queued, Initiated | Canceled | Failed)
                | (Initiated, Ringing | Busy | Failed | NoAnswer | Canceled)
                | (Ringing, InProgress | Busy | Failed | NoAnswer | Canceled)
                | (InProgress, Completed)
        )
    }
}

impl fmt::Display for CallStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that names no call status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownValue {
    /// What kind of value was expected, e.g. `call status`.
    pub expected: &'static str,
    /// The text found.
    pub found: String,
}

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} is not a valid {}", self.found, self.expected)
    }
}

impl std::error::Error for UnknownValue {}

impl FromStr for CallStatus {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<CallStatus, UnknownValue> {
        CallStatus::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownValue { expected: "call status", found: s.to_owned() })
    }
}

/// A call-progress event a `StatusCallbackEvent` can select.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StatusCallbackEvent {
    /// The call left the queue and is being dialed.
    Initiated,
    /// The callee rings.
    Ringing,
    /// The callee answered.
    Answered,
    /// The call ended, whatever the outcome.
    Completed,
}

impl StatusCallbackEvent {
    /// Every event, in the order they fire.
    pub const ALL: [StatusCallbackEvent; 4] = [
        StatusCallbackEvent::Initiated,
        StatusCallbackEvent::Ringing,
        StatusCallbackEvent::Answered,
        StatusCallbackEvent::Completed,
    ];

    /// The wire spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            StatusCallbackEvent::Initiated => "initiated",
            StatusCallbackEvent::Ringing => "ringing",
            StatusCallbackEvent::Answered => "answered",
            StatusCallbackEvent::Completed => "completed",
        }
    }

    /// The event a move into `status` fires, if any: initiated, ringing, answered for
    /// in-progress, completed for any terminal status.
    pub const fn for_status(status: CallStatus) -> Option<StatusCallbackEvent> {
        match status {
            CallStatus::Queued => None,
            CallStatus::Initiated => Some(StatusCallbackEvent::Initiated),
            CallStatus::Ringing => Some(StatusCallbackEvent::Ringing),
            CallStatus::InProgress => Some(StatusCallbackEvent::Answered),
            _ => Some(StatusCallbackEvent::Completed),
        }
    }

    /// The `CallStatus` the event's callback carries. `completed` carries the terminal
    /// status the call ended with, which the caller passes as `terminal`.
    pub const fn call_status(self, terminal: CallStatus) -> CallStatus {
        match self {
            StatusCallbackEvent::Initiated => CallStatus::Initiated,
            StatusCallbackEvent::Ringing => CallStatus::Ringing,
            StatusCallbackEvent::Answered => CallStatus::InProgress,
            StatusCallbackEvent::Completed => terminal,
        }
    }
}

/// The status events a call reports, as a bit set: those selected with
/// `StatusCallbackEvent`, or `completed` alone when none were (Twilio's default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatusEventSet(u8);

impl StatusEventSet {
    const fn bit(event: StatusCallbackEvent) -> u8 {
        match event {
            StatusCallbackEvent::Initiated => 1,
            StatusCallbackEvent::Ringing => 2,
            StatusCallbackEvent::Answered => 4,
            StatusCallbackEvent::Completed => 8,
        }
    }

    /// The events selected, or `completed` alone when none were.
    pub fn from_selected(selected: &[StatusCallbackEvent]) -> StatusEventSet {
        if selected.is_empty() {
            return StatusEventSet(StatusEventSet::bit(StatusCallbackEvent::Completed));
        }
        StatusEventSet(selected.iter().fold(0, |acc, e| acc | StatusEventSet::bit(*e)))
    }

    /// Whether the set holds the event.
    pub const fn contains(self, event: StatusCallbackEvent) -> bool {
        self.0 & StatusEventSet::bit(event) != 0
    }
}

impl fmt::Display for StatusCallbackEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for StatusCallbackEvent {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<StatusCallbackEvent, UnknownValue> {
        StatusCallbackEvent::ALL
            .into_iter()
            .find(|e| e.as_str() == s)
            .ok_or_else(|| UnknownValue { expected: "status callback event", found: s.to_owned() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CallStatus::*;

    #[test]
    fn the_default_subscription_is_completed_alone() {
        let set = StatusEventSet::from_selected(&[]);
        assert!(set.contains(StatusCallbackEvent::Completed) && !set.contains(StatusCallbackEvent::Initiated));
        let all = StatusEventSet::from_selected(&StatusCallbackEvent::ALL);
        assert!(StatusCallbackEvent::ALL.iter().all(|e| all.contains(*e)));
        let ringing = StatusEventSet::from_selected(&[StatusCallbackEvent::Ringing]);
        assert!(ringing.contains(StatusCallbackEvent::Ringing) && !ringing.contains(StatusCallbackEvent::Completed));
    }

    #[test]
    fn terminal_statuses_are_the_five_ends() {
        let terminal: Vec<_> = CallStatus::ALL.into_iter().filter(|s| s.is_terminal()).collect();
        assert_eq!(terminal, [Completed, Busy, Failed, NoAnswer, Canceled]);
    }

    #[test]
    fn the_answered_path_is_legal_and_skipping_is_not() {
        for pair in [Queued, Initiated, Ringing, InProgress, Completed].windows(2) {
            assert!(pair[0].can_transition_to(pair[1]), "{} -> {}", pair[0], pair[1]);
        }
        assert!(Queued.can_transition_to(Canceled));
        assert!(Ringing.can_transition_to(NoAnswer));
        assert!(!Queued.can_transition_to(InProgress));
        assert!(!InProgress.can_transition_to(Canceled));
        assert!(!Completed.can_transition_to(Queued));
        for end in CallStatus::ALL.into_iter().filter(|s| s.is_terminal()) {
            assert!(CallStatus::ALL.into_iter().all(|n| !end.can_transition_to(n)));
        }
    }

    #[test]
    fn answered_maps_to_in_progress() {
        assert_eq!(StatusCallbackEvent::Answered.call_status(Completed), InProgress);
        assert_eq!(StatusCallbackEvent::Completed.call_status(Busy), Busy);
        assert_eq!(StatusCallbackEvent::for_status(InProgress), Some(StatusCallbackEvent::Answered));
        assert_eq!(StatusCallbackEvent::for_status(NoAnswer), Some(StatusCallbackEvent::Completed));
        assert_eq!(StatusCallbackEvent::for_status(Queued), None);
        assert_eq!("in-progress".parse::<CallStatus>(), Ok(InProgress));
        assert!("answered".parse::<CallStatus>().is_err());
    }
}
