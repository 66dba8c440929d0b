//! Answering machine detection (AMD): the two modes of `MachineDetection`, the `AnsweredBy`
//! values, the tuning parameters' ranges and defaults, and the async AMD callback's parameters
//! (`docs/reference/calls-api-facts.md#answering-machine-detection`).

use crate::form::Form;
use std::fmt;
use std::ops::RangeInclusive;

/// `MachineDetection`: when the result is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MachineDetection {
    /// `Enable`: as soon as the called party is identified.
    Enable,
    /// `DetectMessageEnd`: a machine is reported at the end of its greeting (usually a beep).
    DetectMessageEnd,
}

impl MachineDetection {
    /// The wire spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            MachineDetection::Enable => "Enable",
            MachineDetection::DetectMessageEnd => "DetectMessageEnd",
        }
    }

    /// Parses the wire spelling (exact).
    pub fn parse(s: &str) -> Option<MachineDetection> {
        match s {
            "Enable" => Some(MachineDetection::Enable),
            "DetectMessageEnd" => Some(MachineDetection::DetectMessageEnd),
            _ => None,
        }
    }
}

impl fmt::Display for MachineDetection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `AnsweredBy` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AnsweredBy {
    /// `human`.
    Human,
    /// `machine_start`: a machine, reported as soon as known (`Enable`).
    MachineStart,
    /// `machine_end_beep`: a machine's greeting ended with a beep (`DetectMessageEnd`).
    MachineEndBeep,
    /// `machine_end_silence`: a machine's greeting ended in silence (`DetectMessageEnd`).
    MachineEndSilence,
    /// `machine_end_other`: a machine's greeting ended otherwise (`DetectMessageEnd`).
    MachineEndOther,
    /// `fax`.
    Fax,
    /// `unknown`: nothing was detected in time.
    Unknown,
}

impl AnsweredBy {
    /// Every value.
    pub const ALL: [AnsweredBy; 7] = [
        AnsweredBy::Human,
        AnsweredBy::MachineStart,
        AnsweredBy::MachineEndBeep,
        AnsweredBy::MachineEndSilence,
        AnsweredBy::MachineEndOther,
        AnsweredBy::Fax,
        AnsweredBy::Unknown,
    ];

    /// The wire spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            AnsweredBy::Human => "human",
            AnsweredBy::MachineStart => "machine_start",
            AnsweredBy::MachineEndBeep => "machine_end_beep",
            AnsweredBy::MachineEndSilence => "machine_end_silence",
            AnsweredBy::MachineEndOther => "machine_end_other",
            AnsweredBy::Fax => "fax",
            AnsweredBy::Unknown => "unknown",
        }
    }

    /// The Call resource's coarse reading of the value ("either `human` or `machine`" in the
    /// OpenAPI description): every `machine_*` value is `machine`; the others stay as they are.
    pub const fn coarse(self) -> &'static str {
        match self {
            AnsweredBy::MachineStart
            | AnsweredBy::MachineEndBeep
            | AnsweredBy::MachineEndSilence
            | AnsweredBy::MachineEndOther => "machine",
            other => other.as_str(),
        }
    }
}

impl fmt::Display for AnsweredBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `MachineDetectionTimeout` (seconds): default.
pub const TIMEOUT_DEFAULT_S: u32 = 30;
/// `MachineDetectionTimeout` (seconds): the range `<Number machineDetectionTimeout>` documents
/// (the Calls API documents none; callspec applies the same).
pub const TIMEOUT_RANGE_S: RangeInclusive<u32> = 3..=60;
/// `MachineDetectionSpeechThreshold` (ms): default.
pub const SPEECH_THRESHOLD_DEFAULT_MS: u32 = 2400;
/// `MachineDetectionSpeechThreshold` (ms): possible values.
pub const SPEECH_THRESHOLD_RANGE_MS: RangeInclusive<u32> = 1000..=6000;
/// `MachineDetectionSpeechEndThreshold` (ms): default.
pub const SPEECH_END_THRESHOLD_DEFAULT_MS: u32 = 1200;
/// `MachineDetectionSpeechEndThreshold` (ms): possible values.
pub const SPEECH_END_THRESHOLD_RANGE_MS: RangeInclusive<u32> = 500..=5000;
/// `MachineDetectionSilenceTimeout` (ms): default.
pub const SILENCE_TIMEOUT_DEFAULT_MS: u32 = 5000;
/// `MachineDetectionSilenceTimeout` (ms): possible values.
pub const SILENCE_TIMEOUT_RANGE_MS: RangeInclusive<u32> = 2000..=10000;

/// Parameters of the async AMD callback (`AsyncAmdStatusCallback`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmdCallbackParams {
    /// `CA…`.
    pub call_sid: String,
    /// `AC…`.
    pub account_sid: String,
    /// The result.
    pub answered_by: AnsweredBy,
    /// `MachineDetectionDuration`: how long detection took, in milliseconds, when sent.
    pub machine_detection_duration_ms: Option<u64>,
}

impl AmdCallbackParams {
    /// The parameters as form pairs, in Twilio's names.
    pub fn to_form(&self) -> Form {
        let mut f = Form::new();
        f.push("CallSid", self.call_sid.as_str());
        f.push("AccountSid", self.account_sid.as_str());
        f.push("AnsweredBy", self.answered_by.as_str());
        if let Some(ms) = self.machine_detection_duration_ms {
            f.push("MachineDetectionDuration", ms.to_string());
        }
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_and_values_spell_as_on_the_wire() {
        for mode in [MachineDetection::Enable, MachineDetection::DetectMessageEnd] {
            assert_eq!(MachineDetection::parse(mode.as_str()), Some(mode));
        }
        assert_eq!(MachineDetection::parse("enable"), None);
        let spelled: Vec<&str> = AnsweredBy::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(
            spelled,
            [
                "human",
                "machine_start",
                "machine_end_beep",
                "machine_end_silence",
                "machine_end_other",
                "fax",
                "unknown"
            ]
        );
        let coarse: Vec<&str> = AnsweredBy::ALL.iter().map(|a| a.coarse()).collect();
        assert_eq!(coarse, ["human", "machine", "machine", "machine", "machine", "fax", "unknown"]);
    }

    #[test]
    fn callback_form_leaves_out_an_unknown_duration() {
        let mut p = AmdCallbackParams {
            call_sid: "CA1".into(),
            account_sid: "AC1".into(),
            answered_by: AnsweredBy::MachineStart,
            machine_detection_duration_ms: Some(1200),
        };
        assert_eq!(
            p.to_form().encode(),
            "CallSid=CA1&AccountSid=AC1&AnsweredBy=machine_start&MachineDetectionDuration=1200"
        );
        p.machine_detection_duration_ms = None;
        assert_eq!(p.to_form().get("MachineDetectionDuration"), None);
    }
}
