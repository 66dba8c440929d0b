//! Call recordings (made with `Record=true` or started through the Recordings subresource): channels, the recording-callback events and the
//! set a call subscribes to, and the facts Twilio documents about them (the source, the
//! shortest recording kept, the media URL).

use crate::call::API_VERSION;
use crate::sid::Sid;

/// `RecordingChannels`: `mono` (default) or `dual`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RecordingChannels {
    /// One channel; callbacks report `RecordingChannels=1`.
    #[default]
    Mono,
    /// Two channels; callbacks report `RecordingChannels=2`.
    Dual,
}

impl RecordingChannels {
    /// `mono` or `dual`.
    pub const fn as_str(self) -> &'static str {
        match self {
            RecordingChannels::Mono => "mono",
            RecordingChannels::Dual => "dual",
        }
    }

    /// The channel count a recording callback reports.
    pub const fn count(self) -> u8 {
        match self {
            RecordingChannels::Mono => 1,
            RecordingChannels::Dual => 2,
        }
    }
}

/// A `RecordingStatusCallbackEvent` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordingEvent {
    /// The recording started.
    InProgress,
    /// The recording file is available.
    Completed,
    /// No usable recording was made.
    Absent,
}

impl RecordingEvent {
    /// Every value.
    pub const ALL: [RecordingEvent; 3] =
        [RecordingEvent::InProgress, RecordingEvent::Completed, RecordingEvent::Absent];

    /// The wire spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            RecordingEvent::InProgress => "in-progress",
            RecordingEvent::Completed => "completed",
            RecordingEvent::Absent => "absent",
        }
    }

    /// Parses the wire spelling.
    pub fn parse(s: &str) -> Option<RecordingEvent> {
        RecordingEvent::ALL.into_iter().find(|e| e.as_str() == s)
    }

    const fn bit(self) -> u8 {
        match self {
            RecordingEvent::InProgress => 1,
            RecordingEvent::Completed => 2,
            RecordingEvent::Absent => 4,
        }
    }
}

/// The recording events a call reports, as a bit set: those selected, or `completed` alone
/// when none were (Twilio's default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RecordingEventSet(u8);

impl RecordingEventSet {
    /// The events selected, or `completed` alone when none were.
    pub fn from_selected(selected: &[RecordingEvent]) -> RecordingEventSet {
        if selected.is_empty() {
            return RecordingEventSet(RecordingEvent::Completed.bit());
        }
        RecordingEventSet(selected.iter().fold(0, |acc, e| acc | e.bit()))
    }

    /// Whether the set holds the event. `absent` replaces `completed` for a recording shorter
    /// than [`MIN_SECONDS`], and is reported only when selected.
    pub const fn contains(self, event: RecordingEvent) -> bool {
        self.0 & event.bit() != 0
    }
}

/// A recording shorter than this many seconds is `absent` (error 16101) instead of `completed`.
pub const MIN_SECONDS: u64 = 1;

/// `RecordingSource` of a recording made with `Record=true` on create.
pub const SOURCE_OUTBOUND_API: &str = "OutboundAPI";

/// `source` / `RecordingSource` of a recording started with `POST …/Calls/{CA}/Recordings.json`.
pub const SOURCE_START_CALL_RECORDING_API: &str = "StartCallRecordingAPI";

/// The `uri` of a recording read through its call: `/2010-04-01/Accounts/{AC}/Calls/{CA}/Recordings/{RE}.json`.
pub fn call_recording_uri(account: &Sid, call: &Sid, recording: &Sid) -> String {
    format!("/{API_VERSION}/Accounts/{account}/Calls/{call}/Recordings/{recording}.json")
}

/// The `uri` of a recording read through the account: `/2010-04-01/Accounts/{AC}/Recordings/{RE}.json`.
pub fn recording_uri(account: &Sid, recording: &Sid) -> String {
    format!("/{API_VERSION}/Accounts/{account}/Recordings/{recording}.json")
}

/// The `RecordingUrl` of a recording: Twilio's media URL, without an extension.
pub fn media_url(account: &Sid, recording: &Sid) -> String {
    format!("https://api.twilio.com/{API_VERSION}/Accounts/{account}/Recordings/{recording}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sid::SidKind;

    #[test]
    fn the_default_subscription_is_completed_alone() {
        let set = RecordingEventSet::from_selected(&[]);
        assert!(set.contains(RecordingEvent::Completed) && !set.contains(RecordingEvent::Absent));
        let all = RecordingEventSet::from_selected(&RecordingEvent::ALL);
        assert!(RecordingEvent::ALL.iter().all(|e| all.contains(*e)));
        let absent = RecordingEventSet::from_selected(&[RecordingEvent::Absent]);
        assert!(absent.contains(RecordingEvent::Absent) && !absent.contains(RecordingEvent::Completed));
    }

    #[test]
    fn media_urls_are_twilios() {
        let account = Sid::from_parts(SidKind::Account, 1);
        let recording = Sid::from_parts(SidKind::Recording, 2);
        assert_eq!(
            media_url(&account, &recording),
            "https://api.twilio.com/2010-04-01/Accounts/AC00000000000000000000000000000001/Recordings/RE00000000000000000000000000000002"
        );
        assert_eq!(
            (RecordingChannels::Dual.count(), RecordingEvent::parse("absent")),
            (2, Some(RecordingEvent::Absent))
        );
    }
}
