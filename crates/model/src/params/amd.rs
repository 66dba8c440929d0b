//! The answering-machine-detection parameters of `POST …/Calls.json`: `MachineDetection`, its
//! four tuning parameters (each within its documented range, else 21234) and the async mode
//! (`docs/reference/calls-api-facts.md#answering-machine-detection`).

use super::Problem;
use super::check::Checker;
use super::values::HttpMethod;
use crate::amd::{
    MachineDetection, SILENCE_TIMEOUT_DEFAULT_MS, SILENCE_TIMEOUT_RANGE_MS, SPEECH_END_THRESHOLD_DEFAULT_MS,
    SPEECH_END_THRESHOLD_RANGE_MS, SPEECH_THRESHOLD_DEFAULT_MS, SPEECH_THRESHOLD_RANGE_MS, TIMEOUT_DEFAULT_S,
    TIMEOUT_RANGE_S,
};
use crate::error::code;
use crate::form::Form;

/// What a create asks of answering machine detection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmdParams {
    /// `MachineDetection`; `None`: no detection.
    pub mode: Option<MachineDetection>,
    /// `MachineDetectionTimeout`, seconds.
    pub timeout_s: u32,
    /// `MachineDetectionSpeechThreshold`, ms.
    pub speech_threshold_ms: u32,
    /// `MachineDetectionSpeechEndThreshold`, ms.
    pub speech_end_threshold_ms: u32,
    /// `MachineDetectionSilenceTimeout`, ms.
    pub silence_timeout_ms: u32,
    /// `AsyncAmd=true`: the call is not held; the result goes to `async_callback`.
    pub async_amd: bool,
    /// `AsyncAmdStatusCallback`.
    pub async_callback: Option<String>,
    /// `AsyncAmdStatusCallbackMethod`, default POST.
    pub async_callback_method: HttpMethod,
}

impl Default for AmdParams {
    fn default() -> AmdParams {
        AmdParams {
            mode: None,
            timeout_s: TIMEOUT_DEFAULT_S,
            speech_threshold_ms: SPEECH_THRESHOLD_DEFAULT_MS,
            speech_end_threshold_ms: SPEECH_END_THRESHOLD_DEFAULT_MS,
            silence_timeout_ms: SILENCE_TIMEOUT_DEFAULT_MS,
            async_amd: false,
            async_callback: None,
            async_callback_method: HttpMethod::Post,
        }
    }
}

/// Reads the AMD parameters; a mode other than the two documented, or a tuning value outside
/// its range, earns 21234.
pub(super) fn read_amd(c: &mut Checker<'_>) -> AmdParams {
    let mode = c.form.get("MachineDetection").and_then(|v| {
        let mode = MachineDetection::parse(v);
        if mode.is_none() {
            let message = format!("MachineDetection must be Enable or DetectMessageEnd, not {v:?}");
            c.fail("MachineDetection", Problem::Malformed, code::MACHINE_DETECTION_INVALID, message);
        }
        mode
    });
    let error = code::MACHINE_DETECTION_INVALID;
    AmdParams {
        mode,
        timeout_s: c.integer("MachineDetectionTimeout", error, TIMEOUT_RANGE_S).unwrap_or(TIMEOUT_DEFAULT_S),
        speech_threshold_ms: c
            .integer("MachineDetectionSpeechThreshold", error, SPEECH_THRESHOLD_RANGE_MS)
            .unwrap_or(SPEECH_THRESHOLD_DEFAULT_MS),
        speech_end_threshold_ms: c
            .integer("MachineDetectionSpeechEndThreshold", error, SPEECH_END_THRESHOLD_RANGE_MS)
            .unwrap_or(SPEECH_END_THRESHOLD_DEFAULT_MS),
        silence_timeout_ms: c
            .integer("MachineDetectionSilenceTimeout", error, SILENCE_TIMEOUT_RANGE_MS)
            .unwrap_or(SILENCE_TIMEOUT_DEFAULT_MS),
        async_amd: c.boolean("AsyncAmd"),
        async_callback: c.url("AsyncAmdStatusCallback", code::INVALID_PARAMETER),
        async_callback_method: c.method("AsyncAmdStatusCallbackMethod"),
    }
}

/// Encodes the AMD parameters that differ from their defaults.
pub(super) fn push_amd(f: &mut Form, amd: &AmdParams) {
    let defaults = AmdParams::default();
    if let Some(mode) = amd.mode {
        f.push("MachineDetection", mode.as_str());
    }
    let numbers = [
        ("MachineDetectionTimeout", amd.timeout_s, defaults.timeout_s),
        ("MachineDetectionSpeechThreshold", amd.speech_threshold_ms, defaults.speech_threshold_ms),
        ("MachineDetectionSpeechEndThreshold", amd.speech_end_threshold_ms, defaults.speech_end_threshold_ms),
        ("MachineDetectionSilenceTimeout", amd.silence_timeout_ms, defaults.silence_timeout_ms),
    ];
    for (name, value, default) in numbers {
        if value != default {
            f.push(name, value.to_string());
        }
    }
    if amd.async_amd {
        f.push("AsyncAmd", "true");
    }
    if let Some(v) = &amd.async_callback {
        f.push("AsyncAmdStatusCallback", v.as_str());
    }
    if amd.async_callback_method != HttpMethod::Post {
        f.push("AsyncAmdStatusCallbackMethod", amd.async_callback_method.as_str());
    }
}
