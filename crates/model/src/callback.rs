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
    /// `AnsweredBy`, once answering machine detection has a result (`crate::amd::AnsweredBy`).
    pub answered_by: Option<String>,
    /// Where the caller is, when known: sent as `Caller*` and `From*`.
    pub from_geo: Geo,
    /// Where the callee is, when known: sent as `Called*` and `To*`.
    pub to_geo: Geo,
}

/// Where a party of a call is, as far as known: Twilio sends each part "when available" as
/// `CallerCity`, `FromCity`, `CalledCity`, `ToCity` and so on
/// (`docs/reference/calls-api-facts.md#status-callback-parameters`, `#twiml-request`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Geo {
    /// `…City`, e.g. `SAN FRANCISCO`.
    pub city: Option<String>,
    /// `…State`, e.g. `CA`.
    pub state: Option<String>,
    /// `…Zip`, e.g. `94103`.
    pub zip: Option<String>,
    /// `…Country`, ISO 3166-1 alpha-2, e.g. `US`.
    pub country: Option<String>,
}

impl Geo {
    /// Whether nothing is known.
    pub fn is_empty(&self) -> bool {
        self.city.is_none() && self.state.is_none() && self.zip.is_none() && self.country.is_none()
    }

    /// Pushes the known parts under each prefix, e.g. `CallerCity` and `FromCity`.
    fn push_to(&self, form: &mut Form, prefixes: [&str; 2]) {
        let parts = [("City", &self.city), ("State", &self.state), ("Zip", &self.zip), ("Country", &self.country)];
        for prefix in prefixes {
            for (suffix, value) in parts {
                if let Some(v) = value {
                    form.push(format!("{prefix}{suffix}"), v.as_str());
                }
            }
        }
    }
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
        if let Some(v) = &self.answered_by {
            f.push("AnsweredBy", v.as_str());
        }
        self.from_geo.push_to(&mut f, ["Caller", "From"]);
        self.to_geo.push_to(&mut f, ["Called", "To"]);
        f
    }
}

/// Parameters of a `<Gather>`'s action request: the voice-request set plus what was heard
/// (`docs/reference/calls-api-facts.md#gather`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatherActionParams {
    /// The standard voice-request parameters (`CallSid`, `AccountSid`, `From`, `To`...).
    pub call: VoiceRequestParams,
    /// `Digits`: the keys pressed; `None` leaves the parameter out (an empty result).
    pub digits: Option<String>,
    /// `FinishedOnKey`: the key that ended the input, when one did and it is sent.
    pub finished_on_key: Option<String>,
}

impl GatherActionParams {
    /// The parameters as form pairs, in Twilio's names.
    pub fn to_form(&self) -> Form {
        let mut f = self.call.to_form();
        if let Some(v) = &self.digits {
            f.push("Digits", v.as_str());
        }
        if let Some(v) = &self.finished_on_key {
            f.push("FinishedOnKey", v.as_str());
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

/// Parameters of the request to a `<Dial action>` URL: the voice-request parameters of the
/// parent call, plus what became of the dialed leg
/// (`docs/reference/calls-api-facts.md#dial-action-request`; the names beyond the base set are
/// not fixed by a Twilio page this project could read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialActionParams {
    /// The parent call's voice-request parameters (`CallSid` = the parent).
    pub call: VoiceRequestParams,
    /// `DialCallStatus`: `completed`, `busy`, `no-answer`, `failed` or `canceled`.
    pub dial_call_status: String,
    /// `DialCallSid`: the leg that answered.
    pub dial_call_sid: Option<String>,
    /// `DialCallDuration`: seconds the answered leg was up.
    pub dial_call_duration: Option<u64>,
}

impl DialActionParams {
    /// The parameters as form pairs, in Twilio's names.
    pub fn to_form(&self) -> Form {
        let mut f = self.call.to_form();
        f.push("DialCallStatus", self.dial_call_status.as_str());
        if let Some(v) = &self.dial_call_sid {
            f.push("DialCallSid", v.as_str());
        }
        if let Some(v) = self.dial_call_duration {
            f.push("DialCallDuration", v.to_string());
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

#[cfg(test)]
mod tests {
    use super::*;

    fn params(from_geo: Geo, to_geo: Geo) -> VoiceRequestParams {
        VoiceRequestParams {
            call_sid: "CA1".into(),
            account_sid: "AC1".into(),
            from: "+15017122661".into(),
            to: "+14155551212".into(),
            call_status: "in-progress".into(),
            api_version: "2010-04-01".into(),
            direction: "outbound-api".into(),
            parent_call_sid: None,
            error_code: None,
            error_url: None,
            answered_by: None,
            from_geo,
            to_geo,
        }
    }

    #[test]
    fn geographic_parameters_are_sent_when_known() {
        let plain = params(Geo::default(), Geo::default()).to_form();
        assert!(plain.pairs().iter().all(|(name, _)| !name.ends_with("City") && !name.ends_with("Country")));
        let to = Geo { city: Some("SAN FRANCISCO".into()), country: Some("US".into()), ..Geo::default() };
        let from = Geo { country: Some("US".into()), ..Geo::default() };
        assert!(Geo::default().is_empty() && !from.is_empty());
        let form = params(from, to).to_form();
        for (name, value) in [
            ("CalledCity", "SAN FRANCISCO"),
            ("ToCity", "SAN FRANCISCO"),
            ("CalledCountry", "US"),
            ("ToCountry", "US"),
            ("CallerCountry", "US"),
            ("FromCountry", "US"),
        ] {
            assert_eq!(form.get(name), Some(value), "{name}");
        }
        for unknown in ["CalledState", "CalledZip", "CallerCity", "FromCity", "FromState", "FromZip"] {
            assert_eq!(form.get(unknown), None, "{unknown}");
        }
    }
}
