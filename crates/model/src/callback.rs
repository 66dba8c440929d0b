//! The parameter sets of the requests a Calls implementation makes: the TwiML fetch,
//! status callbacks and recording callbacks (`docs/reference/calls-api-facts.md#twiml-request`,
//! `#status-callback-parameters` and `#recording-callbacks`).

use crate::form::Form;
use crate::status::CallStatus;

/// Parameters of the request for TwiML (`Url`, `FallbackUrl`, an application's voice URL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoiceRequestParams {
    /// `CA…`.
    pub call_sid: String,
    /// `AC…`.
    pub account_sid: String,
    /// The caller; also sent as `Caller`.
    pub from: String,
    /// The callee; also sent as `Called`.
    pub to: String,
    /// The status at the time of the request, normally `in-progress`.
    pub call_status: String,
    /// `2010-04-01`.
    pub api_version: String,
    /// `outbound-api` for REST calls.
    pub direction: String,
    /// `ParentCallSid`, omitted on first legs.
    pub parent_call_sid: Option<String>,
    /// `ErrorCode` on a fallback request (e.g. 11200).
    pub error_code: Option<String>,
    /// `ErrorUrl` on a fallback request: the URL that failed.
    pub error_url: Option<String>,
}

impl VoiceRequestParams {
    /// The parameters as form pairs, in Twilio's names.
    pub fn to_form(&self) -> Form {
        let mut f = Form::new();
        f.push("CallSid", self.call_sid.as_str());
        f.push("AccountSid", self.account_sid.as_str());
        f.push("From", self.from.as_str());
        f.push("To", self.to.as_str());
        f.push("Caller", self.from.as_str());
        f.push("Called", self.to.as_str());
        f.push("CallStatus", self.call_status.as_str());
        f.push("ApiVersion", self.api_version.as_str());
        f.push("Direction", self.direction.as_str());
        if let Some(v) = &self.parent_call_sid {
            f.push("ParentCallSid", v.as_str());
        }
        if let Some(v) = &self.error_code {
            f.push("ErrorCode", v.as_str());
        }
        if let Some(v) = &self.error_url {
            f.push("ErrorUrl", v.as_str());
        }
        f
    }
}

/// Parameters of a status callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusCallbackParams {
    /// The standard voice-request parameters (`CallSid`, `AccountSid`, `From`, `To`...).
    pub call: VoiceRequestParams,
    /// RFC 2822 time of the event.
    pub timestamp: String,
    /// Always `call-progress-events`.
    pub callback_source: String,
    /// Counts the callbacks sent for this call, from 0.
    pub sequence_number: u32,
    /// Billed minutes, rounded up; on `completed` after an answer.
    pub duration: Option<u64>,
    /// Seconds; on terminal events.
    pub call_duration: Option<u64>,
    /// SIP response code; on terminal events.
    pub sip_response_code: Option<u16>,
    /// With `Record=true`, on `completed`.
    pub recording_url: Option<String>,
    /// With `Record=true`, on `completed`.
    pub recording_sid: Option<String>,
    /// With `Record=true`, on `completed`.
    pub recording_duration: Option<u64>,
}

/// The value of `CallbackSource` on every status callback.
pub const CALLBACK_SOURCE: &str = "call-progress-events";

/// `SipResponseCode` of the terminal status callback of a call that ended with `status`:
/// 486 busy, 487 no-answer or canceled, 404 failed, 200 otherwise.
pub const fn sip_response_code(status: CallStatus) -> u16 {
    match status {
        CallStatus::Busy => 486,
        CallStatus::NoAnswer | CallStatus::Canceled => 487,
        CallStatus::Failed => 404,
        _ => 200,
    }
}

impl StatusCallbackParams {
    /// The parameters as form pairs, in Twilio's names.
    pub fn to_form(&self) -> Form {
        let mut f = self.call.to_form();
        f.push("Timestamp", self.timestamp.as_str());
        f.push("CallbackSource", self.callback_source.as_str());
        f.push("SequenceNumber", self.sequence_number.to_string());
        if let Some(v) = self.duration {
            f.push("Duration", v.to_string());
        }
        if let Some(v) = self.call_duration {
            f.push("CallDuration", v.to_string());
        }
        if let Some(v) = self.sip_response_code {
            f.push("SipResponseCode", v.to_string());
        }
        if let Some(v) = &self.recording_url {
            f.push("RecordingUrl", v.as_str());
        }
        if let Some(v) = &self.recording_sid {
            f.push("RecordingSid", v.as_str());
        }
        if let Some(v) = self.recording_duration {
            f.push("RecordingDuration", v.to_string());
        }
        f
    }
}

/// Parameters of a recording status callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingCallbackParams {
    /// `AC…`.
    pub account_sid: String,
    /// `CA…` of the parent leg.
    pub call_sid: String,
    /// `RE…`.
    pub recording_sid: String,
    /// Where the recording can be fetched.
    pub recording_url: String,
    /// `in-progress`, `completed` or `absent`.
    pub recording_status: String,
    /// Seconds.
    pub recording_duration: u64,
    /// 1 (mono) or 2 (dual).
    pub recording_channels: u8,
    /// RFC 2822 start of the recording.
    pub recording_start_time: String,
    /// `OutboundAPI` for `Record=true` on create.
    pub recording_source: String,
    /// `inbound`, `outbound` or `both`.
    pub recording_track: String,
    /// With `absent`: 16101 (too short) or 16102 (silent).
    pub error_code: Option<u32>,
}

impl RecordingCallbackParams {
    /// The parameters as form pairs, in Twilio's names.
    pub fn to_form(&self) -> Form {
        let mut f = Form::new();
        f.push("AccountSid", self.account_sid.as_str());
        f.push("CallSid", self.call_sid.as_str());
        f.push("RecordingSid", self.recording_sid.as_str());
        f.push("RecordingUrl", self.recording_url.as_str());
        f.push("RecordingStatus", self.recording_status.as_str());
        f.push("RecordingDuration", self.recording_duration.to_string());
        f.push("RecordingChannels", self.recording_channels.to_string());
        f.push("RecordingStartTime", self.recording_start_time.as_str());
        f.push("RecordingSource", self.recording_source.as_str());
        f.push("RecordingTrack", self.recording_track.as_str());
        if let Some(v) = self.error_code {
            f.push("ErrorCode", v.to_string());
        }
        f
    }
}
