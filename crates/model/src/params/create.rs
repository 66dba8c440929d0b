//! Create Call parameters (`POST …/Calls.json`): parsed with Twilio's precedence rules into
//! the value and every violation, and encoded back; the test-credential magic numbers.

use super::amd::{AmdParams, push_amd, read_amd};
use super::check::Checker;
use super::values::{HttpMethod, TWIML_MAX_CHARS, send_digits_valid};
use super::{AccountDirectory, Parsed, Problem, Violation};
use crate::endpoint::Endpoint;
use crate::error::code;
use crate::form::Form;
use crate::recording::{RecordingChannels, RecordingEvent};
use crate::sid::{Sid, SidKind};
use crate::status::StatusCallbackEvent;

/// The test-credential magic numbers for Calls: `To` values that fail
/// with a fixed code, and the one `From` value that does.
pub const MAGIC_TO_NUMBERS: &[(&str, u32)] = &[
    ("+15005550001", code::TO_NOT_VALID),
    ("+15005550002", code::TO_UNREACHABLE),
    ("+15005550003", code::TO_GEO_PERMISSION),
    ("+15005550004", code::TO_BLOCKED),
];

/// The `From` magic number that fails with 21212.
pub const MAGIC_FROM_INVALID: &str = "+15005550001";

/// The violations Twilio's test credentials answer for the magic numbers, `To` first.
///
/// Twilio applies these only to test credentials; an emulator may apply them to every
/// account. They come before [`CreateCallParams::parse`]'s own findings (which would call the
/// `From` magic number unverified, 21210, rather than invalid, 21212).
pub fn magic_number_violations(form: &Form) -> Vec<Violation> {
    let mut out = Vec::new();
    if let Some(to) = form.get("To")
        && let Some((_, code)) = MAGIC_TO_NUMBERS.iter().find(|(n, _)| *n == to)
    {
        let message = match *code {
            code::TO_NOT_VALID => format!("The 'To' number {to} is not a valid phone number."),
            code::TO_UNREACHABLE => format!("The 'To' number {to} is not reachable."),
            code::TO_GEO_PERMISSION => format!(
                "Account not authorized to call {to}. Perhaps you need to enable some international permissions: \
                 https://www.twilio.com/console/voice/calls/geo-permissions/low-risk"
            ),
            _ => format!("The 'To' number {to} is on a block list."),
        };
        out.push(Violation::new("To", Problem::MagicNumber, *code, message));
    }
    if form.get("From") == Some(MAGIC_FROM_INVALID) {
        out.push(Violation::new(
            "From",
            Problem::MagicNumber,
            code::FROM_INVALID,
            format!("From is not a valid phone number: {MAGIC_FROM_INVALID}"),
        ));
    }
    out
}

/// Where the call's instructions come from, after Twilio's precedence rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Instructions {
    /// Fetch TwiML from a URL with a method.
    Url {
        /// The TwiML URL.
        url: String,
        /// GET or POST.
        method: HttpMethod,
    },
    /// Inline TwiML.
    Twiml(String),
    /// The voice configuration of an application.
    Application(Sid),
}

/// The parameters of `POST …/Calls.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateCallParams {
    /// The callee; a `To` that is no endpoint is kept as sent, as [`Endpoint::Name`].
    pub to: Endpoint,
    /// The caller ID; a `From` that is no endpoint is kept as sent, as [`Endpoint::Name`].
    pub from: Endpoint,
    /// `Url`, if sent.
    pub url: Option<String>,
    /// `Method`, default POST.
    pub method: HttpMethod,
    /// `Twiml`, if sent.
    pub twiml: Option<String>,
    /// `ApplicationSid`, if sent.
    pub application_sid: Option<Sid>,
    /// `FallbackUrl`.
    pub fallback_url: Option<String>,
    /// `FallbackMethod`, default POST.
    pub fallback_method: HttpMethod,
    /// `StatusCallback`.
    pub status_callback: Option<String>,
    /// `StatusCallbackMethod`, default POST.
    pub status_callback_method: HttpMethod,
    /// `StatusCallbackEvent` values as sent; empty means the default, `completed` only.
    pub status_callback_events: Vec<StatusCallbackEvent>,
    /// `SendDigits`.
    pub send_digits: Option<String>,
    /// `Timeout` in seconds, default 60.
    pub timeout: u32,
    /// `TimeLimit` in seconds.
    pub time_limit: Option<u32>,
    /// `Record`, default false.
    pub record: bool,
    /// `RecordingChannels`, default mono.
    pub recording_channels: RecordingChannels,
    /// `RecordingStatusCallback`.
    pub recording_status_callback: Option<String>,
    /// `RecordingStatusCallbackMethod`, default POST.
    pub recording_status_callback_method: HttpMethod,
    /// `RecordingStatusCallbackEvent` values as sent; empty means `completed` only.
    pub recording_status_callback_events: Vec<RecordingEvent>,
    /// `RecordingTrack`: inbound, outbound or both (default).
    pub recording_track: String,
    /// `MachineDetection`, its tuning parameters and the async mode.
    pub amd: AmdParams,
}

/// Every parameter name `POST …/Calls.json` documents.
pub const CREATE_PARAMETERS: &[&str] = &[
    "To",
    "From",
    "Url",
    "Twiml",
    "ApplicationSid",
    "Method",
    "FallbackUrl",
    "FallbackMethod",
    "StatusCallback",
    "StatusCallbackEvent",
    "StatusCallbackMethod",
    "SendDigits",
    "Timeout",
    "Record",
    "RecordingChannels",
    "RecordingStatusCallback",
    "RecordingStatusCallbackMethod",
    "RecordingStatusCallbackEvent",
    "RecordingTrack",
    "Trim",
    "RecordingConfigurationId",
    "SipAuthUsername",
    "SipAuthPassword",
    "MachineDetection",
    "MachineDetectionTimeout",
    "MachineDetectionSpeechThreshold",
    "MachineDetectionSpeechEndThreshold",
    "MachineDetectionSilenceTimeout",
    "AsyncAmd",
    "AsyncAmdStatusCallback",
    "AsyncAmdStatusCallbackMethod",
    "CallerId",
    "Byoc",
    "CallReason",
    "CallToken",
    "TimeLimit",
    "ClientNotificationUrl",
    "Passports",
];

/// Where a call created without an application gets its TwiML and sends its callbacks.
#[derive(Default)]
struct Routing {
    url: Option<String>,
    method: HttpMethod,
    fallback_url: Option<String>,
    fallback_method: HttpMethod,
    status_callback: Option<String>,
    status_callback_method: HttpMethod,
}

/// The recording parameters.
struct RecordingSettings {
    record: bool,
    channels: RecordingChannels,
    callback: Option<String>,
    callback_method: HttpMethod,
    events: Vec<RecordingEvent>,
    track: String,
}

/// `To`: a phone number, SIP address or client identifier (`None` when missing or invalid).
fn read_to(c: &mut Checker<'_>) -> Option<Endpoint> {
    let Some(v) = c.non_empty("To") else {
        c.fail("To", Problem::Missing, code::TO_MISSING, "No to number is specified");
        return None;
    };
    match Endpoint::parse_to(v) {
        Ok(e) => Some(e),
        Err(_) => {
            let message = format!("The 'To' number {v} is not a valid phone number.");
            c.fail("To", Problem::Malformed, code::TO_INVALID, message);
            None
        }
    }
}

/// `From`: a phone number, client identifier, SIP address or caller name (`None` when missing
/// or invalid).
fn read_from(c: &mut Checker<'_>) -> Option<Endpoint> {
    let Some(v) = c.non_empty("From") else {
        c.fail("From", Problem::Missing, code::FROM_MISSING, "No 'From' number is specified");
        return None;
    };
    match Endpoint::parse_from(v) {
        Ok(e) => Some(e),
        Err(_) => {
            c.fail("From", Problem::Malformed, code::FROM_INVALID, format!("From is not a valid phone number: {v}"));
            None
        }
    }
}

/// An endpoint parameter as sent, for a value that is no endpoint.
fn as_sent(c: &Checker<'_>, name: &str) -> Endpoint {
    Endpoint::Name(c.form.get(name).unwrap_or_default().to_owned())
}

/// Whether `From` goes with `To` and the account may use it; whether a trial account may call `To`.
fn check_caller_id(
    c: &mut Checker<'_>,
    account: &dyn AccountDirectory,
    to: Option<&Endpoint>,
    from: Option<&Endpoint>,
) {
    if let (Some(to), Some(from)) = (to, from) {
        let allowed = match to {
            Endpoint::Phone(_) => from.is_phone(),
            Endpoint::Client(_) => matches!(from, Endpoint::Phone(_) | Endpoint::Client(_)),
            _ => true,
        };
        if !allowed {
            let why = if to.is_phone() {
                "when To is a phone number, From must be a phone number"
            } else {
                "a caller name is only valid as From of a SIP call"
            };
            let message = format!("From is not a valid phone number: {from} ({why})");
            c.fail("From", Problem::Conflict, code::FROM_INVALID, message);
        } else if let Endpoint::Phone(number) = from
            && !account.owns_number(number)
            && !account.is_verified_caller_id(number)
        {
            let message = format!(
                "The source phone number provided, {number}, is not yet verified for your account. \
                 You may only make calls from phone numbers that you've verified or purchased from Twilio."
            );
            c.fail("From", Problem::NotPermitted, code::FROM_NOT_VERIFIED, message);
        }
    }
    if let Some(Endpoint::Phone(number)) = to
        && account.is_trial()
        && !account.is_verified_caller_id(number)
    {
        let message =
            format!("The number {number} is unverified. Trial accounts may only make calls to verified numbers.");
        c.fail("To", Problem::NotPermitted, code::TRIAL_UNVERIFIED, message);
    }
}

/// `ApplicationSid`: an application of the account.
fn read_application(c: &mut Checker<'_>, account: &dyn AccountDirectory) -> Option<Sid> {
    let v = c.non_empty("ApplicationSid")?;
    let problem = match Sid::parse_kind(v, SidKind::Application) {
        Ok(sid) if account.has_application(&sid) => return Some(sid),
        Ok(_) => Problem::NotPermitted,
        Err(_) => Problem::Malformed,
    };
    let message = format!("ApplicationSid {v} is not a valid application of this account");
    c.fail("ApplicationSid", problem, code::APPLICATION_SID_INVALID, message);
    None
}

/// `Url`, `Fallback*` and `StatusCallback*` of a call without an application; one of `Url`
/// and `Twiml` is required.
fn read_routing(c: &mut Checker<'_>, twiml_sent: bool) -> Routing {
    if c.non_empty("Url").is_none() && !twiml_sent {
        let message = "Url parameter is required. For more information, see http://www.twilio.com/docs/api/twiml";
        c.fail("Url", Problem::NoInstructions, code::URL_INVALID, message);
    }
    Routing {
        url: c.url("Url", code::URL_INVALID),
        method: c.method("Method"),
        fallback_url: c.url("FallbackUrl", code::URL_INVALID),
        fallback_method: c.method("FallbackMethod"),
        status_callback: c.url("StatusCallback", code::STATUS_CALLBACK_INVALID),
        status_callback_method: c.method("StatusCallbackMethod"),
    }
}

/// `StatusCallbackEvent` values, each once, in the order sent.
fn read_status_events(c: &mut Checker<'_>) -> Vec<StatusCallbackEvent> {
    let mut events = Vec::new();
    for v in c.list("StatusCallbackEvent") {
        match v.parse::<StatusCallbackEvent>() {
            Ok(e) if !events.contains(&e) => events.push(e),
            Ok(_) => {}
            Err(_) => c.fail(
                "StatusCallbackEvent",
                Problem::Malformed,
                code::STATUS_CALLBACK_EVENT_INVALID,
                format!("StatusCallbackEvent {v:?} is not one of initiated, ringing, answered, completed"),
            ),
        }
    }
    events
}

/// `SendDigits`, kept as sent.
fn read_send_digits(c: &mut Checker<'_>) -> Option<String> {
    let digits = c.form.get("SendDigits")?;
    if !send_digits_valid(digits) {
        let message = format!("SendDigits must be at most 32 of 0-9, A-D, #, *, w, W: {digits:?}");
        c.fail("SendDigits", Problem::Malformed, code::SEND_DIGITS_INVALID, message);
    }
    Some(digits.to_owned())
}

/// `Record` and the `Recording*` parameters.
fn read_recording(c: &mut Checker<'_>) -> RecordingSettings {
    let record = c.boolean("Record");
    let channels = match c.one_of("RecordingChannels", &["mono", "dual"], "mono").as_str() {
        "dual" => RecordingChannels::Dual,
        _ => RecordingChannels::Mono,
    };
    let callback = c.url("RecordingStatusCallback", code::INVALID_PARAMETER);
    let callback_method = c.method("RecordingStatusCallbackMethod");
    let events = super::recording::read_recording_events(c);
    let track = c.one_of("RecordingTrack", &["inbound", "outbound", "both"], "both");
    RecordingSettings { record, channels, callback, callback_method, events, track }
}

/// Longest `SipAuthUsername` and `SipAuthPassword`: 256 characters or more is an error.
const SIP_AUTH_MAX_CHARS: usize = 255;

/// `SipAuthUsername` and `SipAuthPassword`: each under 256 characters; a username needs a password.
fn check_sip_auth(c: &mut Checker<'_>) {
    let username = c.non_empty("SipAuthUsername");
    let password = c.non_empty("SipAuthPassword");
    let too_long = |v: Option<&str>| v.is_some_and(|v| v.chars().count() > SIP_AUTH_MAX_CHARS);
    if too_long(username) {
        let message = format!("SipAuthUsername is longer than {SIP_AUTH_MAX_CHARS} characters");
        c.fail("SipAuthUsername", Problem::OutOfRange, code::SIP_AUTH_USERNAME_TOO_LONG, message);
    }
    if too_long(password) {
        let message = format!("SipAuthPassword is longer than {SIP_AUTH_MAX_CHARS} characters");
        c.fail("SipAuthPassword", Problem::OutOfRange, code::SIP_AUTH_PASSWORD_TOO_LONG, message);
    }
    if username.is_some() && password.is_none() {
        let message = "SipAuthUsername was given without SipAuthPassword";
        c.fail("SipAuthPassword", Problem::Missing, code::SIP_AUTH_PASSWORD_MISSING, message);
    }
}

/// Whether `v` has the shape of a BYOC trunk SID: `BY` and 32 hex digits.
fn byoc_sid_shaped(v: &str) -> bool {
    v.len() == 34 && v.starts_with("BY") && v[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// `Byoc`: a BYOC trunk SID of the account. It only matters when `To` is a phone number (it is
/// ignored otherwise), where it must name a trunk the account has.
fn check_byoc(c: &mut Checker<'_>, account: &dyn AccountDirectory, to: Option<&Endpoint>) {
    let Some(v) = c.non_empty("Byoc") else { return };
    let problem = if !byoc_sid_shaped(v) {
        Problem::Malformed
    } else if matches!(to, Some(Endpoint::Phone(_))) && !account.has_byoc_trunk(v) {
        Problem::NotPermitted
    } else {
        return;
    };
    c.fail("Byoc", problem, code::BYOC_INVALID, format!("Byoc {v} is not a valid BYOC trunk SID of this account"));
}

impl CreateCallParams {
    /// Parses and validates a create request: the parameters as read and every violation.
    ///
    /// Precedence follows the docs: with `ApplicationSid`, `Url`, `Method`, `FallbackUrl`,
    /// `FallbackMethod`, `StatusCallback` and `StatusCallbackMethod` are ignored (not even
    /// validated); with `Url`, `Twiml` is ignored. Values that fail their check are kept as
    /// sent where the field can hold them (`To`, `From`, the URLs, `Twiml`, `SendDigits`).
    pub fn parse(form: &Form, account: &dyn AccountDirectory) -> Parsed<CreateCallParams> {
        let mut c = Checker::new(form);
        let to = read_to(&mut c);
        let from = read_from(&mut c);
        check_caller_id(&mut c, account, to.as_ref(), from.as_ref());
        let application_sid = read_application(&mut c, account);
        let twiml = c.twiml(|chars| format!("Twiml is {chars} characters long; the limit is {TWIML_MAX_CHARS}"));
        let routing = if c.non_empty("ApplicationSid").is_some() {
            Routing::default()
        } else {
            read_routing(&mut c, twiml.is_some())
        };
        let status_callback_events = read_status_events(&mut c);
        let send_digits = read_send_digits(&mut c);
        let timeout = c.integer("Timeout", code::TIMEOUT_INVALID, 1..=600).unwrap_or(60);
        let time_limit = c.integer("TimeLimit", code::INVALID_PARAMETER, 1..=u32::MAX);
        let recording = read_recording(&mut c);
        c.one_of("Trim", &["trim-silence", "do-not-trim"], "trim-silence");
        check_sip_auth(&mut c);
        check_byoc(&mut c, account, to.as_ref());
        let amd = read_amd(&mut c);
        let value = CreateCallParams {
            to: to.unwrap_or_else(|| as_sent(&c, "To")),
            from: from.unwrap_or_else(|| as_sent(&c, "From")),
            url: routing.url,
            method: routing.method,
            twiml,
            application_sid,
            fallback_url: routing.fallback_url,
            fallback_method: routing.fallback_method,
            status_callback: routing.status_callback,
            status_callback_method: routing.status_callback_method,
            status_callback_events,
            send_digits,
            timeout,
            time_limit,
            record: recording.record,
            recording_channels: recording.channels,
            recording_status_callback: recording.callback,
            recording_status_callback_method: recording.callback_method,
            recording_status_callback_events: recording.events,
            recording_track: recording.track,
            amd,
        };
        c.finish(value)
    }

    /// The detection the call runs: none without `MachineDetection`, and none with `SendDigits`
    /// (which makes Twilio ignore `MachineDetection`).
    pub fn machine_detection(&self) -> Option<&AmdParams> {
        (self.amd.mode.is_some() && self.send_digits.is_none()).then_some(&self.amd)
    }

    /// Where the call's TwiML comes from: the application, else `Url`, else `Twiml`.
    pub fn instructions(&self) -> Option<Instructions> {
        if let Some(app) = self.application_sid {
            Some(Instructions::Application(app))
        } else if let Some(url) = &self.url {
            Some(Instructions::Url { url: url.clone(), method: self.method })
        } else {
            self.twiml.clone().map(Instructions::Twiml)
        }
    }

    /// Encodes back to wire form: repeated keys for lists, defaults left out.
    pub fn to_form(&self) -> Form {
        let mut f = Form::new();
        f.push("To", self.to.as_str());
        f.push("From", self.from.as_str());
        if let Some(v) = &self.url {
            f.push("Url", v.as_str());
        }
        if self.method != HttpMethod::Post {
            f.push("Method", self.method.as_str());
        }
        if let Some(v) = &self.twiml {
            f.push("Twiml", v.as_str());
        }
        if let Some(v) = &self.application_sid {
            f.push("ApplicationSid", v.to_string());
        }
        if let Some(v) = &self.fallback_url {
            f.push("FallbackUrl", v.as_str());
        }
        if self.fallback_method != HttpMethod::Post {
            f.push("FallbackMethod", self.fallback_method.as_str());
        }
        if let Some(v) = &self.status_callback {
            f.push("StatusCallback", v.as_str());
        }
        if self.status_callback_method != HttpMethod::Post {
            f.push("StatusCallbackMethod", self.status_callback_method.as_str());
        }
        for e in &self.status_callback_events {
            f.push("StatusCallbackEvent", e.as_str());
        }
        if let Some(v) = &self.send_digits {
            f.push("SendDigits", v.as_str());
        }
        if self.timeout != 60 {
            f.push("Timeout", self.timeout.to_string());
        }
        if let Some(v) = self.time_limit {
            f.push("TimeLimit", v.to_string());
        }
        if self.record {
            f.push("Record", "true");
        }
        if self.recording_channels != RecordingChannels::Mono {
            f.push("RecordingChannels", self.recording_channels.as_str());
        }
        if let Some(v) = &self.recording_status_callback {
            f.push("RecordingStatusCallback", v.as_str());
        }
        if self.recording_status_callback_method != HttpMethod::Post {
            f.push("RecordingStatusCallbackMethod", self.recording_status_callback_method.as_str());
        }
        for e in &self.recording_status_callback_events {
            f.push("RecordingStatusCallbackEvent", e.as_str());
        }
        if self.recording_track != "both" {
            f.push("RecordingTrack", self.recording_track.as_str());
        }
        push_amd(&mut f, &self.amd);
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_numbers_fail_with_their_codes_to_first() {
        let codes = |pairs: &[(&str, &str)]| -> Vec<(&'static str, u32)> {
            magic_number_violations(&Form::from_pairs(pairs.iter().copied()))
                .into_iter()
                .map(|v| (v.parameter, v.error.code))
                .collect()
        };
        assert_eq!(codes(&[("To", "+15005550001"), ("From", "+15005550006")]), [("To", 21217)]);
        assert_eq!(codes(&[("To", "+15005550002")]), [("To", 21214)]);
        assert_eq!(codes(&[("To", "+15005550003")]), [("To", 21215)]);
        assert_eq!(codes(&[("To", "+15005550004")]), [("To", 21216)]);
        assert_eq!(codes(&[("From", "+15005550001"), ("To", "+15005550004")]), [("To", 21216), ("From", 21212)]);
        assert_eq!(codes(&[("To", "+15005550006"), ("From", "+15005550006")]), []);
        assert!(codes(&[]).is_empty());
    }

    /// An account that owns every number and application.
    struct Everything;

    impl AccountDirectory for Everything {
        fn is_trial(&self) -> bool {
            false
        }
        fn owns_number(&self, _: &str) -> bool {
            true
        }
        fn is_verified_caller_id(&self, _: &str) -> bool {
            true
        }
        fn has_application(&self, _: &Sid) -> bool {
            true
        }
    }

    #[test]
    fn values_that_fail_are_kept_as_sent_with_a_typed_problem() {
        let form = Form::from_pairs([
            ("To", "5551234567"),
            ("From", "+15017122661"),
            ("SendDigits", "call me"),
            ("StatusCallback", "http://my_app.example.com/events"),
        ]);
        let parsed = CreateCallParams::parse(&form, &Everything);
        let found: Vec<(&str, Problem, u32)> =
            parsed.violations.iter().map(|v| (v.parameter, v.problem, v.error.code)).collect();
        assert_eq!(
            found,
            [
                ("To", Problem::Malformed, 21211),
                ("Url", Problem::NoInstructions, 21205),
                ("StatusCallback", Problem::Url(super::super::UrlProblem::UnderscoreInHost), 21609),
                ("SendDigits", Problem::Malformed, 21206),
            ]
        );
        let value = parsed.value;
        assert_eq!(value.to, Endpoint::Name("5551234567".to_owned()));
        assert_eq!(value.from, Endpoint::Phone("+15017122661".to_owned()));
        assert_eq!(value.send_digits.as_deref(), Some("call me"));
        assert_eq!(value.status_callback.as_deref(), Some("http://my_app.example.com/events"));
        assert_eq!(value.instructions(), None);
    }
}
