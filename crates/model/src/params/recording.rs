//! Call Recordings subresource parameters: start (`POST …/Calls/{CA}/Recordings.json`) and
//! update (`POST …/Calls/{CA}/Recordings/{RE}.json`), parsed into the value and every violation.

use super::Parsed;
use super::Problem;
use super::check::Checker;
use super::values::HttpMethod;
use crate::error::code;
use crate::form::Form;
use crate::recording::{RecordingChannels, RecordingEvent};

/// Every parameter name `POST …/Calls/{CA}/Recordings.json` documents.
pub const START_RECORDING_PARAMETERS: &[&str] = &[
    "RecordingStatusCallback",
    "RecordingStatusCallbackEvent",
    "RecordingStatusCallbackMethod",
    "Trim",
    "RecordingChannels",
    "RecordingTrack",
    "RecordingConfigurationId",
];

/// Every parameter name `POST …/Calls/{CA}/Recordings/{Sid}.json` documents.
pub const UPDATE_RECORDING_PARAMETERS: &[&str] = &["Status", "PauseBehavior"];

/// The parameters of a recording start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartRecordingParams {
    /// `RecordingStatusCallback`.
    pub callback: Option<String>,
    /// `RecordingStatusCallbackMethod`, default POST.
    pub callback_method: HttpMethod,
    /// `RecordingStatusCallbackEvent` values as sent; empty means `completed` only.
    pub events: Vec<RecordingEvent>,
    /// `Trim`: `trim-silence` or `do-not-trim` (the default on this operation).
    pub trim: String,
    /// `RecordingChannels`, default mono.
    pub channels: RecordingChannels,
    /// `RecordingTrack`: inbound, outbound or both (default).
    pub track: String,
}

/// Reads `RecordingStatusCallbackEvent` (repeated keys or space-separated values).
pub(super) fn read_recording_events(c: &mut Checker<'_>) -> Vec<RecordingEvent> {
    let mut events = Vec::new();
    for v in c.list("RecordingStatusCallbackEvent") {
        match RecordingEvent::parse(v) {
            Some(e) if !events.contains(&e) => events.push(e),
            Some(_) => {}
            None => c.fail(
                "RecordingStatusCallbackEvent",
                Problem::Malformed,
                code::INVALID_PARAMETER,
                format!("RecordingStatusCallbackEvent {v:?} is not one of in-progress, completed, absent"),
            ),
        }
    }
    events
}

impl StartRecordingParams {
    /// Parses and validates a recording start: the parameters as read and every violation.
    pub fn parse(form: &Form) -> Parsed<StartRecordingParams> {
        let mut c = Checker::new(form);
        let callback = c.url("RecordingStatusCallback", code::INVALID_PARAMETER);
        let callback_method = c.method("RecordingStatusCallbackMethod");
        let events = read_recording_events(&mut c);
        let trim = c.one_of("Trim", &["trim-silence", "do-not-trim"], "do-not-trim");
        let channels = match c.one_of("RecordingChannels", &["mono", "dual"], "mono").as_str() {
            "dual" => RecordingChannels::Dual,
            _ => RecordingChannels::Mono,
        };
        let track = c.one_of("RecordingTrack", &["inbound", "outbound", "both"], "both");
        c.finish(StartRecordingParams { callback, callback_method, events, trim, channels, track })
    }

    /// Encodes back to wire form (defaults left out).
    pub fn to_form(&self) -> Form {
        let mut f = Form::new();
        if let Some(v) = &self.callback {
            f.push("RecordingStatusCallback", v.as_str());
        }
        if self.callback_method != HttpMethod::Post {
            f.push("RecordingStatusCallbackMethod", self.callback_method.as_str());
        }
        for e in &self.events {
            f.push("RecordingStatusCallbackEvent", e.as_str());
        }
        if self.trim != "do-not-trim" {
            f.push("Trim", self.trim.as_str());
        }
        if self.channels != RecordingChannels::Mono {
            f.push("RecordingChannels", self.channels.as_str());
        }
        if self.track != "both" {
            f.push("RecordingTrack", self.track.as_str());
        }
        f
    }
}

/// The `Status` an update sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordingUpdateStatus {
    /// Pause the recording.
    Paused,
    /// Resume a paused recording.
    InProgress,
    /// End the recording.
    Stopped,
}

impl RecordingUpdateStatus {
    /// The wire spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            RecordingUpdateStatus::Paused => "paused",
            RecordingUpdateStatus::InProgress => "in-progress",
            RecordingUpdateStatus::Stopped => "stopped",
        }
    }
}

/// `PauseBehavior`: what a paused stretch leaves in the recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PauseBehavior {
    /// Nothing is recorded while paused.
    Skip,
    /// Silence is inserted while paused (the default).
    #[default]
    Silence,
}

impl PauseBehavior {
    /// The wire spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            PauseBehavior::Skip => "skip",
            PauseBehavior::Silence => "silence",
        }
    }
}

/// The parameters of a recording update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpdateRecordingParams {
    /// `Status` (required); `None` only in a parse with violations.
    pub status: Option<RecordingUpdateStatus>,
    /// `PauseBehavior`, default silence.
    pub pause_behavior: PauseBehavior,
}

impl UpdateRecordingParams {
    /// Parses and validates a recording update: the parameters as read and every violation.
    pub fn parse(form: &Form) -> Parsed<UpdateRecordingParams> {
        let mut c = Checker::new(form);
        let status = match c.non_empty("Status") {
            None => {
                c.fail("Status", Problem::Missing, code::INVALID_PARAMETER, "Status is required");
                None
            }
            Some("paused") => Some(RecordingUpdateStatus::Paused),
            Some("in-progress") => Some(RecordingUpdateStatus::InProgress),
            Some("stopped") => Some(RecordingUpdateStatus::Stopped),
            Some(v) => {
                let message = format!("Status must be paused, in-progress or stopped, not {v:?}");
                c.fail("Status", Problem::Malformed, code::INVALID_PARAMETER, message);
                None
            }
        };
        let pause_behavior = match c.one_of("PauseBehavior", &["skip", "silence"], "silence").as_str() {
            "skip" => PauseBehavior::Skip,
            _ => PauseBehavior::Silence,
        };
        c.finish(UpdateRecordingParams { status, pause_behavior })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_defaults_and_round_trip() {
        let parsed = StartRecordingParams::parse(&Form::new());
        assert!(parsed.is_valid());
        let v = parsed.value;
        assert_eq!((v.trim.as_str(), v.channels, v.track.as_str()), ("do-not-trim", RecordingChannels::Mono, "both"));
        let form = Form::parse(
            b"RecordingStatusCallback=https%3A%2F%2Fexample.com%2Fr&RecordingStatusCallbackEvent=in-progress+completed&RecordingChannels=dual&RecordingTrack=inbound&Trim=trim-silence",
        )
        .expect("form");
        let parsed = StartRecordingParams::parse(&form);
        assert!(parsed.is_valid(), "{:?}", parsed.violations);
        let again = StartRecordingParams::parse(&parsed.value.to_form());
        assert_eq!(again.value, parsed.value);
        assert_eq!(parsed.value.events, vec![RecordingEvent::InProgress, RecordingEvent::Completed]);
    }

    #[test]
    fn start_refuses_unknown_values() {
        for body in ["RecordingChannels=stereo", "RecordingTrack=left", "Trim=yes", "RecordingStatusCallbackEvent=done"]
        {
            let parsed = StartRecordingParams::parse(&Form::parse(body.as_bytes()).expect("form"));
            assert_eq!(parsed.violations.len(), 1, "{body}");
            assert_eq!(parsed.violations[0].error.code, code::INVALID_PARAMETER, "{body}");
        }
    }

    #[test]
    fn update_needs_a_known_status() {
        let parsed = UpdateRecordingParams::parse(&Form::parse(b"Status=paused&PauseBehavior=skip").expect("form"));
        assert_eq!(
            (parsed.value.status, parsed.value.pause_behavior),
            (Some(RecordingUpdateStatus::Paused), PauseBehavior::Skip)
        );
        for body in ["", "Status=", "Status=completed", "Status=paused&PauseBehavior=mute"] {
            let parsed = UpdateRecordingParams::parse(&Form::parse(body.as_bytes()).expect("form"));
            assert!(!parsed.is_valid(), "{body}");
        }
    }
}
