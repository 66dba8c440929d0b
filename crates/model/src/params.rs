//! Create and Update Call parameters: parsed from form pairs, validated, encoded back.
//!
//! Validation never stops at the first problem: it returns every [`Violation`], each a
//! Twilio error with the parameter it concerns. Checks that need the account (its numbers,
//! verified caller IDs, trial status, applications) go through [`AccountDirectory`].

use crate::endpoint::Endpoint;
use crate::error::{TwilioError, code};
use crate::form::Form;
use crate::sid::{Sid, SidKind};
use crate::status::{CallStatus, StatusCallbackEvent};
use std::fmt;

/// What the validation needs to know about the account placing the call.
pub trait AccountDirectory {
    /// Whether the account is a trial account, which may only call verified numbers.
    fn is_trial(&self) -> bool;
    /// Whether the account owns this phone number (an IncomingPhoneNumber).
    fn owns_number(&self, e164: &str) -> bool;
    /// Whether the number is one of the account's verified outgoing caller IDs.
    fn is_verified_caller_id(&self, e164: &str) -> bool;
    /// Whether the application belongs to the account.
    fn has_application(&self, sid: &Sid) -> bool;
}

/// One validation failure: the parameter and the Twilio error it earns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The form parameter name, e.g. `To`.
    pub parameter: &'static str,
    /// The error a Twilio-compatible server answers with.
    pub error: TwilioError,
}

impl Violation {
    fn new(parameter: &'static str, code: u32, message: impl Into<String>) -> Violation {
        Violation { parameter, error: TwilioError::bad_request(code, message) }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.parameter, self.error)
    }
}

/// `GET` or `POST`, the methods Twilio uses to request a URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum HttpMethod {
    /// Parameters in the query string.
    Get,
    /// Parameters in a form body (the default everywhere).
    #[default]
    Post,
}

impl HttpMethod {
    /// `GET` or `POST`.
    pub const fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
        }
    }

    /// Parses `GET` / `POST`, in any letter case.
    pub fn parse(s: &str) -> Option<HttpMethod> {
        if s.eq_ignore_ascii_case("GET") {
            Some(HttpMethod::Get)
        } else if s.eq_ignore_ascii_case("POST") {
            Some(HttpMethod::Post)
        } else {
            None
        }
    }
}

impl fmt::Display for HttpMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

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
}

/// The test-credential magic numbers for Calls (`docs/reference/calls-api-facts.md#test-credentials`):
/// `To` values that fail with a fixed code, and the one `From` value that does.
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
        out.push(Violation::new("To", *code, message));
    }
    if form.get("From") == Some(MAGIC_FROM_INVALID) {
        out.push(Violation::new(
            "From",
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
    /// The callee.
    pub to: Endpoint,
    /// The caller ID.
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
    /// `MachineDetection`, kept as sent.
    pub machine_detection: Option<String>,
}

/// Every parameter name `POST …/Calls.json` documents
/// (`docs/reference/calls-api-facts.md#create-parameters`).
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

/// Every parameter name `POST …/Calls/{Sid}.json` documents.
pub const UPDATE_PARAMETERS: &[&str] = &[
    "Url",
    "Method",
    "Status",
    "FallbackUrl",
    "FallbackMethod",
    "StatusCallback",
    "StatusCallbackMethod",
    "Twiml",
    "TimeLimit",
];

/// The largest inline `Twiml` Twilio accepts, in characters.
pub const TWIML_MAX_CHARS: usize = 4000;

/// Why a URL parameter is refused.
pub fn url_problem(s: &str) -> Option<&'static str> {
    let Ok(url) = url::Url::parse(s) else { return Some("not an absolute URL") };
    if !matches!(url.scheme(), "http" | "https") {
        return Some("the scheme must be http or https");
    }
    match url.host() {
        None => Some("no host name"),
        Some(url::Host::Domain(host)) => {
            if host.contains('_') {
                Some("underscores are not permitted in the host name")
            } else if host.is_empty()
                || host.split('.').any(|label| label.is_empty() && host != ".")
                || !host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
            {
                Some("not a valid host name")
            } else {
                None
            }
        }
        Some(_) => None,
    }
}

/// Whether `SendDigits` is valid: 1 to 32 of `0-9 A-D # * w W`.
pub fn send_digits_valid(s: &str) -> bool {
    (1..=32).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit() || b"ABCD#*wW".contains(&b))
}

fn parse_bool(v: &str) -> Option<bool> {
    if v.eq_ignore_ascii_case("true") {
        Some(true)
    } else if v.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// Values of a list parameter: repeated keys, and within each value space-separated items.
fn list_values<'f>(form: &'f Form, name: &str) -> Vec<&'f str> {
    form.all(name).into_iter().flat_map(|v| v.split(' ')).filter(|v| !v.is_empty()).collect()
}

fn non_empty<'f>(form: &'f Form, name: &str) -> Option<&'f str> {
    form.get(name).filter(|v| !v.trim().is_empty())
}

struct Checker<'f> {
    form: &'f Form,
    violations: Vec<Violation>,
}

impl<'f> Checker<'f> {
    fn fail(&mut self, parameter: &'static str, code: u32, message: impl Into<String>) {
        self.violations.push(Violation::new(parameter, code, message));
    }

    fn method(&mut self, name: &'static str) -> HttpMethod {
        match self.form.get(name) {
            None => HttpMethod::Post,
            Some(v) => HttpMethod::parse(v).unwrap_or_else(|| {
                self.fail(name, code::METHOD_INVALID, format!("{name} must be GET or POST, not {v:?}"));
                HttpMethod::Post
            }),
        }
    }

    fn url(&mut self, name: &'static str, error: u32) -> Option<String> {
        let v = non_empty(self.form, name)?;
        match url_problem(v) {
            None => Some(v.to_owned()),
            Some(why) => {
                self.fail(name, error, format!("{name} is not a valid URL: {v} ({why})"));
                None
            }
        }
    }

    fn integer(&mut self, name: &'static str, error: u32, range: std::ops::RangeInclusive<u32>) -> Option<u32> {
        let v = self.form.get(name)?;
        match v.trim().parse::<u32>() {
            Ok(n) if range.contains(&n) => Some(n),
            _ => {
                self.fail(
                    name,
                    error,
                    format!("{name} must be an integer from {} to {}, not {v:?}", range.start(), range.end()),
                );
                None
            }
        }
    }

    fn boolean(&mut self, name: &'static str) -> bool {
        match self.form.get(name) {
            None => false,
            Some(v) => parse_bool(v).unwrap_or_else(|| {
                self.fail(name, code::INVALID_PARAMETER, format!("{name} must be true or false, not {v:?}"));
                false
            }),
        }
    }

    fn one_of(&mut self, name: &'static str, allowed: &[&str], default: &str) -> String {
        match self.form.get(name) {
            None => default.to_owned(),
            Some(v) if allowed.contains(&v) => v.to_owned(),
            Some(v) => {
                self.fail(name, code::INVALID_PARAMETER, format!("{name} must be one of {allowed:?}, not {v:?}"));
                default.to_owned()
            }
        }
    }
}

fn placeholder_endpoint() -> Endpoint {
    Endpoint::Name(String::new())
}

impl CreateCallParams {
    /// Parses and validates a create request, returning every violation when any.
    ///
    /// Precedence follows the docs: with `ApplicationSid`, `Url`, `Method`, `FallbackUrl`,
    /// `FallbackMethod`, `StatusCallback` and `StatusCallbackMethod` are ignored (not even
    /// validated); with `Url`, `Twiml` is ignored.
    pub fn parse(form: &Form, account: &dyn AccountDirectory) -> Result<CreateCallParams, Vec<Violation>> {
        let mut c = Checker { form, violations: Vec::new() };

        let to = match non_empty(form, "To") {
            None => {
                c.fail("To", code::TO_MISSING, "No to number is specified");
                None
            }
            Some(v) => match Endpoint::parse_to(v) {
                Ok(e) => Some(e),
                Err(_) => {
                    c.fail("To", code::TO_INVALID, format!("The 'To' number {v} is not a valid phone number."));
                    None
                }
            },
        };

        let from = match non_empty(form, "From") {
            None => {
                c.fail("From", code::FROM_MISSING, "No 'From' number is specified");
                None
            }
            Some(v) => match Endpoint::parse_from(v) {
                Err(_) => {
                    c.fail("From", code::FROM_INVALID, format!("From is not a valid phone number: {v}"));
                    None
                }
                Ok(e) => Some(e),
            },
        };

        if let (Some(to), Some(from)) = (&to, &from) {
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
                c.fail("From", code::FROM_INVALID, format!("From is not a valid phone number: {from} ({why})"));
            } else if let Endpoint::Phone(number) = from
                && !account.owns_number(number)
                && !account.is_verified_caller_id(number)
            {
                c.fail(
                    "From",
                    code::FROM_NOT_VERIFIED,
                    format!(
                        "The source phone number provided, {number}, is not yet verified for your account. \
                         You may only make calls from phone numbers that you've verified or purchased from Twilio."
                    ),
                );
            }
        }
        if let Some(Endpoint::Phone(number)) = &to
            && account.is_trial()
            && !account.is_verified_caller_id(number)
        {
            c.fail(
                "To",
                code::TRIAL_UNVERIFIED,
                format!("The number {number} is unverified. Trial accounts may only make calls to verified numbers."),
            );
        }

        let application_sid = match non_empty(form, "ApplicationSid") {
            None => None,
            Some(v) => match Sid::parse_kind(v, SidKind::Application) {
                Ok(sid) if account.has_application(&sid) => Some(sid),
                _ => {
                    c.fail(
                        "ApplicationSid",
                        code::APPLICATION_SID_INVALID,
                        format!("ApplicationSid {v} is not a valid application of this account"),
                    );
                    None
                }
            },
        };
        let by_application = non_empty(form, "ApplicationSid").is_some();

        let twiml = form.get("Twiml").filter(|t| !t.trim().is_empty()).map(str::to_owned);
        if let Some(t) = &twiml {
            let chars = t.chars().count();
            if chars > TWIML_MAX_CHARS {
                c.fail(
                    "Twiml",
                    code::INVALID_PARAMETER,
                    format!("Twiml is {chars} characters long; the limit is {TWIML_MAX_CHARS}"),
                );
            }
        }

        let (url, method, fallback_url, fallback_method, status_callback, status_callback_method) = if by_application {
            (None, HttpMethod::Post, None, HttpMethod::Post, None, HttpMethod::Post)
        } else {
            let url_sent = non_empty(form, "Url").is_some();
            if !url_sent && twiml.is_none() {
                c.fail(
                    "Url",
                    code::URL_INVALID,
                    "Url parameter is required. For more information, see http://www.twilio.com/docs/api/twiml",
                );
            }
            let url = c.url("Url", code::URL_INVALID);
            let method = c.method("Method");
            let fallback_url = c.url("FallbackUrl", code::URL_INVALID);
            let fallback_method = c.method("FallbackMethod");
            let status_callback = c.url("StatusCallback", code::STATUS_CALLBACK_INVALID);
            let status_callback_method = c.method("StatusCallbackMethod");
            (url, method, fallback_url, fallback_method, status_callback, status_callback_method)
        };

        let mut status_callback_events = Vec::new();
        for v in list_values(form, "StatusCallbackEvent") {
            match v.parse::<StatusCallbackEvent>() {
                Ok(e) if !status_callback_events.contains(&e) => status_callback_events.push(e),
                Ok(_) => {}
                Err(_) => c.fail(
                    "StatusCallbackEvent",
                    code::STATUS_CALLBACK_EVENT_INVALID,
                    format!("StatusCallbackEvent {v:?} is not one of initiated, ringing, answered, completed"),
                ),
            }
        }

        let send_digits = form.get("SendDigits").map(str::to_owned);
        if let Some(d) = &send_digits
            && !send_digits_valid(d)
        {
            c.fail(
                "SendDigits",
                code::SEND_DIGITS_INVALID,
                format!("SendDigits must be at most 32 of 0-9, A-D, #, *, w, W: {d:?}"),
            );
        }

        let timeout = c.integer("Timeout", code::TIMEOUT_INVALID, 1..=600).unwrap_or(60);
        let time_limit = c.integer("TimeLimit", code::INVALID_PARAMETER, 1..=u32::MAX);
        let record = c.boolean("Record");
        let recording_channels = match c.one_of("RecordingChannels", &["mono", "dual"], "mono").as_str() {
            "dual" => RecordingChannels::Dual,
            _ => RecordingChannels::Mono,
        };
        let recording_status_callback = c.url("RecordingStatusCallback", code::INVALID_PARAMETER);
        let recording_status_callback_method = c.method("RecordingStatusCallbackMethod");
        let mut recording_status_callback_events = Vec::new();
        for v in list_values(form, "RecordingStatusCallbackEvent") {
            match RecordingEvent::parse(v) {
                Some(e) if !recording_status_callback_events.contains(&e) => recording_status_callback_events.push(e),
                Some(_) => {}
                None => c.fail(
                    "RecordingStatusCallbackEvent",
                    code::INVALID_PARAMETER,
                    format!("RecordingStatusCallbackEvent {v:?} is not one of in-progress, completed, absent"),
                ),
            }
        }
        let recording_track = c.one_of("RecordingTrack", &["inbound", "outbound", "both"], "both");
        c.one_of("Trim", &["trim-silence", "do-not-trim"], "trim-silence");
        c.url("AsyncAmdStatusCallback", code::INVALID_PARAMETER);
        c.method("AsyncAmdStatusCallbackMethod");

        if !c.violations.is_empty() {
            return Err(c.violations);
        }
        Ok(CreateCallParams {
            to: to.unwrap_or_else(placeholder_endpoint),
            from: from.unwrap_or_else(placeholder_endpoint),
            url,
            method,
            twiml,
            application_sid,
            fallback_url,
            fallback_method,
            status_callback,
            status_callback_method,
            status_callback_events,
            send_digits,
            timeout,
            time_limit,
            record,
            recording_channels,
            recording_status_callback,
            recording_status_callback_method,
            recording_status_callback_events,
            recording_track,
            machine_detection: form.get("MachineDetection").map(str::to_owned),
        })
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

    /// The events that produce a status callback: those sent, or `completed` by default.
    pub fn effective_status_events(&self) -> Vec<StatusCallbackEvent> {
        if self.status_callback_events.is_empty() {
            vec![StatusCallbackEvent::Completed]
        } else {
            self.status_callback_events.clone()
        }
    }

    /// The recording events that produce a callback: those sent, or `completed` by default.
    pub fn effective_recording_events(&self) -> Vec<RecordingEvent> {
        if self.recording_status_callback_events.is_empty() {
            vec![RecordingEvent::Completed]
        } else {
            self.recording_status_callback_events.clone()
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
        if let Some(v) = &self.machine_detection {
            f.push("MachineDetection", v.as_str());
        }
        f
    }
}

/// `Status` values an update may set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateStatus {
    /// Cancel a queued or ringing call.
    Canceled,
    /// Hang up a call, even in progress.
    Completed,
}

impl UpdateStatus {
    /// The terminal status it sets.
    pub const fn call_status(self) -> CallStatus {
        match self {
            UpdateStatus::Canceled => CallStatus::Canceled,
            UpdateStatus::Completed => CallStatus::Completed,
        }
    }
}

/// The parameters of `POST …/Calls/{Sid}.json`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UpdateCallParams {
    /// New TwiML URL for a live call.
    pub url: Option<String>,
    /// Method for `url`, default POST.
    pub method: HttpMethod,
    /// New inline TwiML for a live call.
    pub twiml: Option<String>,
    /// `canceled` or `completed`.
    pub status: Option<UpdateStatus>,
    /// New fallback URL.
    pub fallback_url: Option<String>,
    /// Method for `fallback_url`.
    pub fallback_method: HttpMethod,
    /// New status callback URL.
    pub status_callback: Option<String>,
    /// Method for `status_callback`.
    pub status_callback_method: HttpMethod,
    /// New time limit in seconds.
    pub time_limit: Option<u32>,
}

impl UpdateCallParams {
    /// Parses and validates an update request, returning every violation when any.
    pub fn parse(form: &Form) -> Result<UpdateCallParams, Vec<Violation>> {
        let mut c = Checker { form, violations: Vec::new() };
        let url = c.url("Url", code::URL_INVALID);
        let method = c.method("Method");
        let twiml = form.get("Twiml").filter(|t| !t.trim().is_empty()).map(str::to_owned);
        if non_empty(form, "Url").is_some() && twiml.is_some() {
            c.fail("Twiml", code::INVALID_PARAMETER, "Twiml and Url are mutually exclusive on update");
        }
        if let Some(t) = &twiml
            && t.chars().count() > TWIML_MAX_CHARS
        {
            c.fail("Twiml", code::INVALID_PARAMETER, format!("Twiml is longer than {TWIML_MAX_CHARS} characters"));
        }
        let status = match form.get("Status") {
            None => None,
            Some("canceled") => Some(UpdateStatus::Canceled),
            Some("completed") => Some(UpdateStatus::Completed),
            Some(v) => {
                c.fail("Status", code::INVALID_PARAMETER, format!("Status must be canceled or completed, not {v:?}"));
                None
            }
        };
        let fallback_url = c.url("FallbackUrl", code::URL_INVALID);
        let fallback_method = c.method("FallbackMethod");
        let status_callback = c.url("StatusCallback", code::STATUS_CALLBACK_INVALID);
        let status_callback_method = c.method("StatusCallbackMethod");
        let time_limit = c.integer("TimeLimit", code::INVALID_PARAMETER, 1..=u32::MAX);
        if !c.violations.is_empty() {
            return Err(c.violations);
        }
        Ok(UpdateCallParams {
            url,
            method,
            twiml,
            status,
            fallback_url,
            fallback_method,
            status_callback,
            status_callback_method,
            time_limit,
        })
    }

    /// Encodes back to wire form.
    pub fn to_form(&self) -> Form {
        let mut f = Form::new();
        if let Some(v) = &self.url {
            f.push("Url", v.as_str());
        }
        if self.method != HttpMethod::Post {
            f.push("Method", self.method.as_str());
        }
        if let Some(v) = &self.twiml {
            f.push("Twiml", v.as_str());
        }
        if let Some(s) = self.status {
            f.push("Status", s.call_status().as_str());
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
        if let Some(v) = self.time_limit {
            f.push("TimeLimit", v.to_string());
        }
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
}
