//! The decisions a `--fault` switch can flip (see [`crate::fault`]), one function each:
//! status codes, validation leniency, instructions, which callbacks fire and what they carry,
//! outcomes, the queue rate, the Call JSON, paging, signatures.
//!
//! Every decision takes the emulator's [`FaultSet`]; with no fault set it returns Twilio's
//! behaviour after a bit test (or one test of the whole set where a fault would cost more).
//! Twilio's behaviour itself (the values, the rules, the defaults) comes from the model; this
//! module only says where a fault departs from it. It sits just above `fault` and `config`
//! and imports nothing else of the emulator.

use crate::config::Config;
use crate::fault::{Fault, FaultSet};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use callspec_model::amd::AnsweredBy;
use callspec_model::call::{DIRECTION_OUTBOUND_API, DIRECTION_OUTBOUND_DIAL};
use callspec_model::error::code;
use callspec_model::params::{
    CreateCallParams, HttpMethod, Instructions, Problem, RecordingChannels, RecordingEvent, UrlProblem, Violation,
};
use callspec_model::recording::{self, RecordingEventSet};
use callspec_model::status::{StatusCallbackEvent, StatusEventSet};
use callspec_model::{CallStatus, Form, TwilioError, billing, rfc2822, signature};
use serde_json::Value;
use std::time::Duration;

// ---------------------------------------------------------------------------------------------
// TRANSPORT

/// The JSON body of an API error when a fault changes it (`None`: the error as it is).
pub(crate) fn error_json(faults: FaultSet, unauthenticated: bool, body: &TwilioError) -> Option<Value> {
    if !faults.any(&[Fault::UnauthorizedWithoutCode, Fault::ErrorStatusAlways400]) {
        return None;
    }
    let mut value = serde_json::to_value(body).ok()?;
    let object = value.as_object_mut()?;
    if unauthenticated && faults.has(Fault::UnauthorizedWithoutCode) {
        object.remove("code");
    }
    if faults.has(Fault::ErrorStatusAlways400) {
        object.insert("status".to_owned(), Value::from(400));
    }
    Some(value)
}

/// Whether a caller may act on an account's path: its own, or one of its subaccounts, whatever
/// the resource (`call_instance`: a `…/Calls/{Sid}.json` path).
pub(crate) const fn may_use_account(faults: FaultSet, own_or_subaccount: bool, call_instance: bool) -> bool {
    own_or_subaccount
        || faults.has(Fault::ForeignAccountAllowed)
        || (call_instance && faults.has(Fault::ForeignCallInstanceAllowed))
}

/// Whether a method the route does not support is answered like an unknown path (404 / 20404)
/// instead of 405 / 20004.
pub(crate) const fn unsupported_method_not_found(faults: FaultSet) -> bool {
    faults.has(Fault::MethodNotAllowed404)
}

/// A request body's form as the handlers read it: every value of a repeated key.
pub(crate) fn read_form(faults: FaultSet, form: Form) -> Form {
    if !faults.has(Fault::RepeatedKeysLastOnly) {
        return form;
    }
    let pairs = form.into_pairs();
    let last: Vec<(String, String)> = pairs
        .iter()
        .enumerate()
        .filter(|(i, (name, _))| !pairs[i + 1..].iter().any(|(later, _)| later == name))
        .map(|(_, pair)| pair.clone())
        .collect();
    Form::from_pairs(last)
}

/// The `Content-Type` of JSON answers: `application/json`.
pub(crate) fn content_type(faults: FaultSet, response: &mut Response) {
    if faults.has(Fault::TextHtmlContentType) && response.headers().contains_key(header::CONTENT_TYPE) {
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    }
}

// ---------------------------------------------------------------------------------------------
// CREATE: addressing and instructions

/// HTTP status of a successful call create.
pub(crate) const fn create_status(faults: FaultSet) -> StatusCode {
    if faults.has(Fault::Create200) { StatusCode::OK } else { StatusCode::CREATED }
}

/// Whether trial-account restrictions apply to an account (only verified numbers may be called).
pub(crate) const fn trial_restricted(faults: FaultSet, trial: bool) -> bool {
    trial && !faults.has(Fault::TrialCallsAnyone)
}

/// Whether a phone `From` may be used: a number the account owns (or a verified caller ID,
/// checked separately).
pub(crate) const fn caller_id_allowed(faults: FaultSet, owned: bool) -> bool {
    owned || faults.has(Fault::UnverifiedFromAccepted)
}

/// The violations a refused request answers with (the first one is sent): a missing `To`
/// earns 21201.
pub(crate) fn adjust_violations(faults: FaultSet, violations: &mut [Violation]) {
    if faults.has(Fault::MissingTo21211) {
        for v in violations.iter_mut().filter(|v| v.error.code == code::TO_MISSING) {
            v.error = TwilioError::bad_request(code::TO_INVALID, v.error.message.clone());
        }
    }
}

/// URL parameters of a create whose host may contain underscores under
/// [`Fault::UnderscoreHostAccepted`].
const URL_PARAMETERS: [&str; 4] = ["Url", "FallbackUrl", "StatusCallback", "RecordingStatusCallback"];

/// The violations a create is refused for: every one the model found. The leniency faults
/// drop the kinds they tolerate, and the parameters keep the values as sent.
pub(crate) fn create_violations(faults: FaultSet, violations: Vec<Violation>) -> Vec<Violation> {
    const LENIENT: [Fault; 5] = [
        Fault::InvalidToAccepted,
        Fault::SendDigitsUnchecked,
        Fault::UnderscoreHostAccepted,
        Fault::MissingInstructionsAccepted,
        Fault::AmdRangeUnchecked,
    ];
    if !faults.any(&LENIENT) {
        return violations;
    }
    violations.into_iter().filter(|v| !tolerated(faults, v)).collect()
}

/// Whether a leniency fault tolerates the violation.
fn tolerated(faults: FaultSet, v: &Violation) -> bool {
    match (v.parameter, v.problem) {
        ("To", Problem::Malformed) => faults.has(Fault::InvalidToAccepted),
        ("SendDigits", Problem::Malformed) => faults.has(Fault::SendDigitsUnchecked),
        (parameter, Problem::Url(UrlProblem::UnderscoreInHost)) => {
            faults.has(Fault::UnderscoreHostAccepted) && URL_PARAMETERS.contains(&parameter)
        }
        (_, Problem::NoInstructions) => faults.has(Fault::MissingInstructionsAccepted),
        (_, Problem::OutOfRange) if v.error.code == code::MACHINE_DETECTION_INVALID => {
            faults.has(Fault::AmdRangeUnchecked)
        }
        _ => false,
    }
}

/// Whether the call records: `Record=true` (the model parsed `parsed` from `raw`).
pub(crate) fn records(faults: FaultSet, parsed: bool, raw: Option<&str>) -> bool {
    if faults.has(Fault::RecordIgnored) {
        false
    } else if faults.has(Fault::TruthyBooleans) {
        raw.is_some_and(|v| !v.is_empty())
    } else {
        parsed
    }
}

/// `to_formatted` / `from_formatted`: NANP numbers as `(415) 555-1212`, others verbatim.
pub(crate) fn formatted(faults: FaultSet, endpoint: &str) -> String {
    if faults.has(Fault::UnformattedNumbers) {
        endpoint.to_owned()
    } else {
        callspec_model::endpoint::formatted(endpoint)
    }
}

/// Where a call created without an application gets its TwiML: `Url` with `Method`, else `Twiml`.
pub(crate) fn create_instructions(faults: FaultSet, params: &CreateCallParams) -> Option<Instructions> {
    match params.instructions() {
        Some(Instructions::Twiml(_)) if faults.has(Fault::TwimlIgnored) => None,
        Some(Instructions::Url { url, method }) => {
            let method = if faults.has(Fault::MethodIgnored) { HttpMethod::Post } else { method };
            Some(Instructions::Url { url, method })
        }
        other => other,
    }
}

/// Where a call created with an application gets its TwiML: the application's voice URL
/// (`voice`), whatever `Url` was sent.
pub(crate) fn application_instructions(
    faults: FaultSet,
    voice: Option<Instructions>,
    form: &Form,
) -> Option<Instructions> {
    if faults.has(Fault::ApplicationSidNotOverridingUrl)
        && let Some(url) = form.get("Url").filter(|u| !u.trim().is_empty())
    {
        let method = form.get("Method").and_then(HttpMethod::parse).unwrap_or_default();
        return Some(Instructions::Url { url: url.to_owned(), method });
    }
    voice
}

/// Whether a failed TwiML fetch tries the `FallbackUrl`.
pub(crate) const fn uses_fallback(faults: FaultSet) -> bool {
    !faults.has(Fault::NoFallback)
}

/// How long an unanswered callee rings: the call's `Timeout`.
pub(crate) fn ring_timeout(faults: FaultSet, timeout_s: u32) -> Duration {
    if faults.has(Fault::TimeoutIgnored) { Duration::from_secs(60) } else { Duration::from_secs(u64::from(timeout_s)) }
}

// ---------------------------------------------------------------------------------------------
// STATUS CALLBACKS

/// The status events a call reports: those selected, or `completed` alone when none were.
pub(crate) fn status_events(faults: FaultSet, selected: &[StatusCallbackEvent]) -> StatusEventSet {
    if selected.is_empty() && faults.has(Fault::AllEventsByDefault) {
        return StatusEventSet::from_selected(&StatusCallbackEvent::ALL);
    }
    StatusEventSet::from_selected(selected)
}

/// `StatusCallbackMethod` as used.
pub(crate) const fn status_callback_method(faults: FaultSet, method: HttpMethod) -> HttpMethod {
    if faults.has(Fault::StatusCallbackMethodIgnored) { HttpMethod::Post } else { method }
}

/// Whether a status callback fires for `event`, given the call's subscription. `completed`
/// fires whatever the outcome, answered or not.
pub(crate) fn sends_status_event(
    faults: FaultSet,
    subscribed: StatusEventSet,
    event: StatusCallbackEvent,
    answered: bool,
) -> bool {
    if event == StatusCallbackEvent::Completed && !answered && faults.has(Fault::CompletedOnlyWhenAnswered) {
        return false;
    }
    subscribed.contains(event)
}

/// The events of a dequeue, in the order they are sent: `initiated`, then `ringing`.
pub(crate) const fn dial_events(faults: FaultSet) -> [StatusCallbackEvent; 2] {
    if faults.has(Fault::EventsOutOfOrder) {
        [StatusCallbackEvent::Ringing, StatusCallbackEvent::Initiated]
    } else {
        [StatusCallbackEvent::Initiated, StatusCallbackEvent::Ringing]
    }
}

/// The `CallStatus` of an event's callback: `answered` is sent as `in-progress`, `completed` as
/// the status the call ended with.
pub(crate) const fn callback_call_status(
    faults: FaultSet,
    event: StatusCallbackEvent,
    terminal: CallStatus,
) -> &'static str {
    match event {
        StatusCallbackEvent::Answered if faults.has(Fault::CallStatusAnswered) => "answered",
        StatusCallbackEvent::Completed if faults.has(Fault::CompletedEventStatusCompleted) => "completed",
        _ => event.call_status(terminal).as_str(),
    }
}

/// Whether [`callback_call_status`] can differ from `StatusCallbackEvent::call_status`.
pub(crate) fn rewrites_callback_status(faults: FaultSet) -> bool {
    faults.any(&[Fault::CallStatusAnswered, Fault::CompletedEventStatusCompleted])
}

/// Whether an event that is not sent still counts for `SequenceNumber` (it must not).
pub(crate) const fn counts_unsent_events(faults: FaultSet) -> bool {
    faults.has(Fault::SequenceCountsUnsentEvents)
}

/// Whether a terminal callback carries `CallDuration`: always (0 when never answered).
pub(crate) const fn reports_call_duration(faults: FaultSet, answered: bool) -> bool {
    answered || !faults.has(Fault::CallDurationOnlyWhenAnswered)
}

/// `Timestamp` of a status callback: RFC 2822.
pub(crate) fn callback_timestamp(faults: FaultSet, ms: i64) -> String {
    if faults.has(Fault::CallbackTimestampIso8601) { iso8601_ms(ms) } else { rfc2822::format_unix_ms(ms) }
}

/// ISO 8601 (RFC 3339) text of a time in ms since the epoch, to the second.
fn iso8601_ms(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

/// `SequenceNumber` of a status callback, given how many were sent before: from 0.
pub(crate) const fn sequence_number(faults: FaultSet, sent_before: u32) -> u32 {
    if faults.has(Fault::SequenceFrom1) { sent_before.saturating_add(1) } else { sent_before }
}

/// `Duration` of the terminal callback of an answered call lasting `seconds`: minutes, rounded up.
pub(crate) const fn callback_duration(faults: FaultSet, seconds: u64) -> u64 {
    if faults.has(Fault::DurationParamInSeconds) { seconds } else { billing::billed_minutes(seconds) }
}

/// A status callback's form as sent (with `CallbackSource`).
pub(crate) fn status_callback_form(faults: FaultSet, form: Form) -> Form {
    if !faults.has(Fault::CallbackSourceMissing) {
        return form;
    }
    Form::from_pairs(form.into_pairs().into_iter().filter(|(name, _)| name != "CallbackSource"))
}

/// Whether a call canceled while queued ends without any status callback.
pub(crate) const fn queued_cancel_is_silent(faults: FaultSet) -> bool {
    !faults.has(Fault::CallbackAfterQueuedCancel)
}

// ---------------------------------------------------------------------------------------------
// OUTCOMES and LIFECYCLE

/// The status a busy callee ends the call with.
pub(crate) const fn busy_status(faults: FaultSet) -> CallStatus {
    if faults.has(Fault::BusyEndsNoAnswer) { CallStatus::NoAnswer } else { CallStatus::Busy }
}

/// The status a cancel (or `Status=completed` before the answer) ends a call with.
pub(crate) const fn cancel_status(faults: FaultSet) -> CallStatus {
    if faults.has(Fault::CancelEndsCompleted) { CallStatus::Completed } else { CallStatus::Canceled }
}

/// Whether `Status=completed` hangs up an in-progress call.
pub(crate) const fn hangs_up(faults: FaultSet) -> bool {
    !faults.has(Fault::HangupIgnored)
}

/// Whether an update with `Url` or `Twiml` redirects an in-progress call.
pub(crate) const fn redirects(faults: FaultSet) -> bool {
    !faults.has(Fault::RedirectIgnored)
}

/// Whether an update of an ended call is answered 200 (the call unchanged) instead of 21220.
pub(crate) const fn updates_ended_call(faults: FaultSet) -> bool {
    faults.has(Fault::UpdateEndedAllowed)
}

/// The `TimeLimit` a create or update sets, in seconds (none when the fault ignores it).
pub(crate) const fn time_limit(faults: FaultSet, parsed: Option<u32>) -> Option<u32> {
    if faults.has(Fault::TimeLimitIgnored) { None } else { parsed }
}

/// Whether an update's `Twiml` (without `Url`) replaces the call's instructions.
pub(crate) const fn updates_twiml(faults: FaultSet) -> bool {
    !faults.has(Fault::UpdateTwimlIgnored)
}

// ---------------------------------------------------------------------------------------------
// RECORDING

/// The recording events a call reports: those selected, or `completed` alone when none were.
pub(crate) fn recording_events(faults: FaultSet, selected: &[RecordingEvent]) -> RecordingEventSet {
    if faults.has(Fault::RecordingEventsIgnored) {
        return RecordingEventSet::from_selected(&[]);
    }
    RecordingEventSet::from_selected(selected)
}

/// `RecordingStatusCallbackMethod` as used.
pub(crate) const fn recording_callback_method(faults: FaultSet, method: HttpMethod) -> HttpMethod {
    if faults.has(Fault::RecordingCallbackMethodIgnored) { HttpMethod::Post } else { method }
}

/// `RecordingChannels` as recorded.
pub(crate) const fn recording_channels(faults: FaultSet, channels: RecordingChannels) -> RecordingChannels {
    if faults.has(Fault::RecordingChannelsIgnored) { RecordingChannels::Mono } else { channels }
}

/// `RecordingDuration` of a recording callback: whole seconds.
pub(crate) const fn recording_duration(faults: FaultSet, seconds: u64) -> u64 {
    if faults.has(Fault::RecordingDurationInMilliseconds) { seconds.saturating_mul(1000) } else { seconds }
}

/// `RecordingSource` of a call's recording made with `Record=true`.
pub(crate) const fn recording_source(faults: FaultSet) -> &'static str {
    if faults.has(Fault::RecordingSourceWrong) { "RecordVerb" } else { recording::SOURCE_OUTBOUND_API }
}

/// Whether `Status=paused` pauses the recording.
pub(crate) const fn pauses_recording(faults: FaultSet) -> bool {
    !faults.has(Fault::RecordingPauseIgnored)
}

/// Whether a recording may start on a call in `status` (only in progress).
pub(crate) fn recording_may_start(faults: FaultSet, status: CallStatus) -> bool {
    status == CallStatus::InProgress || faults.has(Fault::RecordingStartsOnEndedCall)
}

/// Whether the account's recordings list applies its `CallSid` filter.
pub(crate) const fn recordings_call_sid_filter_applies(faults: FaultSet) -> bool {
    !faults.has(Fault::RecordingsCallSidFilterIgnored)
}

// ---------------------------------------------------------------------------------------------
// RATE

/// The time between two dequeues of one account: one over the configured CPS.
pub(crate) fn dequeue_period(faults: FaultSet, config: &Config) -> Duration {
    if faults.has(Fault::CpsIgnored) {
        Duration::ZERO
    } else if faults.has(Fault::TwoCallsPerSecond) {
        config.dequeue_period() / 2
    } else {
        config.dequeue_period()
    }
}

/// API requests in flight per account beyond which 429 / 20429 is answered.
pub(crate) fn concurrency_limit(faults: FaultSet, config: &Config) -> Option<usize> {
    if faults.has(Fault::NoConcurrencyLimit) { None } else { config.max_concurrent_requests }
}

/// `queue_time` shown: whole milliseconds, as a string of digits.
pub(crate) fn queue_time(faults: FaultSet, ms: u64) -> String {
    if faults.has(Fault::QueueTimeDecimalSeconds) { format!("{}.{:03}", ms / 1000, ms % 1000) } else { ms.to_string() }
}

// ---------------------------------------------------------------------------------------------
// RESOURCE and SCHEMA

/// The `sid` of the Call JSON: `CA` + 32 hex digits.
pub(crate) fn resource_call_sid(faults: FaultSet, sid: String) -> String {
    if faults.has(Fault::Sid31Hex) {
        let mut short = sid;
        short.pop();
        short
    } else {
        sid
    }
}

/// A date of the Call JSON: RFC 2822.
pub(crate) fn resource_date(faults: FaultSet, ms: i64) -> String {
    if faults.has(Fault::Iso8601Dates) { iso8601_ms(ms) } else { rfc2822::format_unix_ms(ms) }
}

/// `duration` of the Call JSON: whole seconds.
pub(crate) const fn resource_duration(faults: FaultSet, seconds: u64) -> u64 {
    if faults.has(Fault::DurationInMilliseconds) { seconds.saturating_mul(1000) } else { seconds }
}

/// The faults that change the Call JSON's shape (not just a value).
const CALL_SHAPE_FAULTS: [Fault; 2] = [Fault::QueueTimeMissing, Fault::DurationAsNumber];

/// Whether [`reshape_call`] changes anything.
pub(crate) fn reshapes_call(faults: FaultSet) -> bool {
    faults.any(&CALL_SHAPE_FAULTS)
}

/// The Call JSON's shape: every field present, `duration` a string.
pub(crate) fn reshape_call(faults: FaultSet, call: &mut Value) {
    if !reshapes_call(faults) {
        return;
    }
    let Some(object) = call.as_object_mut() else {
        return;
    };
    if faults.has(Fault::QueueTimeMissing) {
        object.remove("queue_time");
    }
    if faults.has(Fault::DurationAsNumber)
        && let Some(seconds) = object.get("duration").and_then(Value::as_str).and_then(|d| d.parse::<u64>().ok())
    {
        object.insert("duration".to_owned(), Value::from(seconds));
    }
}

/// Whether the calls list is newest first.
pub(crate) const fn list_newest_first(faults: FaultSet) -> bool {
    !faults.has(Fault::ListOldestFirst)
}

/// The exclusive upper bound (in creation order) of the page after the call numbered `seq`.
pub(crate) const fn next_page_end(faults: FaultSet, seq: u64) -> u64 {
    if faults.has(Fault::ListPageRepeatsCall) { seq.saturating_add(1) } else { seq }
}

/// Whether the list's `To`, `From` and `Status` filters apply.
pub(crate) const fn list_filters_apply(faults: FaultSet) -> bool {
    !faults.has(Fault::ListFiltersIgnored)
}

/// HTTP status of a successful delete (with an empty body).
pub(crate) const fn delete_status(faults: FaultSet) -> StatusCode {
    if faults.has(Fault::Delete200) { StatusCode::OK } else { StatusCode::NO_CONTENT }
}

/// Whether a call that has not ended may be deleted.
pub(crate) const fn deletes_live_call(faults: FaultSet) -> bool {
    faults.has(Fault::DeleteInProgressAllowed)
}

// ---------------------------------------------------------------------------------------------
// SECURITY

/// The `X-Twilio-Signature` of a request to `url` (GET: with its parameters in the query) with
/// form `params` (POST), or `None` for no header: base64 HMAC-SHA1 with the auth token over the
/// signed URL and the POST parameters sorted by name.
pub(crate) fn signature(
    faults: FaultSet,
    auth_token: &str,
    url: &url::Url,
    method: HttpMethod,
    params: &[(String, String)],
) -> Option<String> {
    if faults.is_empty() {
        return Some(signature::sign(auth_token, &signature::signed_url(url), params));
    }
    if faults.has(Fault::SignatureMissing) {
        return None;
    }
    let mut signed = signature::signed_url(url);
    if method == HttpMethod::Get && faults.has(Fault::SignatureGetWithoutQuery) {
        let mut bare = url.clone();
        bare.set_query(None);
        signed = signature::signed_url(&bare);
    }
    let key = if faults.has(Fault::SignatureWrong) { format!("{auth_token}0") } else { auth_token.to_owned() };
    if faults.has(Fault::SignatureUnsortedParams) {
        // The string to sign with the parameters in wire order: the URL and no parameters to sort.
        for (name, value) in params {
            signed.push_str(name);
            signed.push_str(value);
        }
        return Some(signature::sign(&key, &signed, &[]));
    }
    Some(signature::sign(&key, &signed, params))
}

// ---------------------------------------------------------------------------------------------
// TWIML VERBS

/// The `Digits` of a `<Gather>` its finish key `key` ended: the keys before it (Twilio leaves the
/// finish key out), or with the key on the end under a fault.
pub(crate) fn gather_digits(faults: FaultSet, mut digits: String, key: char) -> String {
    if faults.has(Fault::GatherDigitsIncludeFinishKey) {
        digits.push(key);
    }
    digits
}

/// Whether a `<Gather>` that heard nothing goes on with the next verb (Twilio's flow), rather
/// than ending the call (a fault).
pub(crate) const fn gather_falls_through(faults: FaultSet) -> bool {
    !faults.has(Fault::GatherNoInputSkipsNextVerb)
}

// DIAL

/// The `direction` of a call leg: `outbound-dial` for a `<Dial>` leg, `outbound-api` otherwise.
pub(crate) const fn call_direction(faults: FaultSet, dial_leg: bool) -> &'static str {
    if dial_leg && !faults.has(Fault::DialChildDirectionOutboundApi) {
        DIRECTION_OUTBOUND_DIAL
    } else {
        DIRECTION_OUTBOUND_API
    }
}

/// Whether a `<Dial action>` is requested when the dialed call ends.
pub(crate) const fn requests_dial_action(faults: FaultSet) -> bool {
    !faults.has(Fault::DialActionSkipped)
}

// ANSWERING MACHINE DETECTION

/// `AnsweredBy` of the `Url` request a synchronous detection held, once it has `result`.
pub(crate) fn url_answered_by(faults: FaultSet, result: AnsweredBy) -> Option<String> {
    (!faults.has(Fault::AmdAnsweredByMissing)).then(|| result.as_str().to_owned())
}

// ---------------------------------------------------------------------------------------------
// CALL EVENTS

/// The key a parameter sent as `name` has in a call's Events: snake_case, as Twilio shows it,
/// or the wire name itself (`CallSid`) under a fault.
pub(crate) fn event_parameter_name(faults: FaultSet, name: &str) -> String {
    if faults.has(Fault::EventsParametersPascalCase) { name.to_owned() } else { crate::events::snake_case(name) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(fault: Fault) -> FaultSet {
        FaultSet::new(&[fault])
    }

    struct Everything;

    impl callspec_model::params::AccountDirectory for Everything {
        fn is_trial(&self) -> bool {
            false
        }
        fn owns_number(&self, _: &str) -> bool {
            true
        }
        fn is_verified_caller_id(&self, _: &str) -> bool {
            true
        }
        fn has_application(&self, _: &callspec_model::Sid) -> bool {
            true
        }
    }

    #[test]
    fn without_faults_every_decision_is_twilios() {
        let none = FaultSet::default();
        assert_eq!(create_status(none), StatusCode::CREATED);
        assert_eq!(delete_status(none), StatusCode::NO_CONTENT);
        assert!(!may_use_account(none, false, true) && may_use_account(none, true, false));
        assert_eq!(dial_events(none), [StatusCallbackEvent::Initiated, StatusCallbackEvent::Ringing]);
        assert_eq!(callback_call_status(none, StatusCallbackEvent::Answered, CallStatus::Busy), "in-progress");
        assert_eq!(callback_call_status(none, StatusCallbackEvent::Completed, CallStatus::Busy), "busy");
        assert_eq!((sequence_number(none, 0), callback_duration(none, 61)), (0, 2));
        assert_eq!((busy_status(none), cancel_status(none)), (CallStatus::Busy, CallStatus::Canceled));
        assert!(hangs_up(none) && redirects(none) && uses_fallback(none) && queued_cancel_is_silent(none));
        assert!(!updates_ended_call(none) && !deletes_live_call(none) && !counts_unsent_events(none));
        assert_eq!(
            (queue_time(none, 1500).as_str(), resource_duration(none, 3), recording_duration(none, 3)),
            ("1500", 3, 3)
        );
        assert_eq!(ring_timeout(none, 2), Duration::from_secs(2));
        assert_eq!(url_answered_by(none, AnsweredBy::MachineStart).as_deref(), Some("machine_start"));
        assert_eq!(url_answered_by(one(Fault::AmdAnsweredByMissing), AnsweredBy::Human), None);
        assert_eq!(status_events(none, &[]), StatusEventSet::from_selected(&[]));
        assert_eq!(recording_events(none, &[]), RecordingEventSet::from_selected(&[]));
        assert!(error_json(none, true, &TwilioError::new(20003, 401, "Authenticate")).is_none());
        assert_eq!(resource_date(none, 1_283_286_988_000), "Tue, 31 Aug 2010 20:36:28 +0000");
        let form = Form::from_pairs([("StatusCallbackEvent", "ringing"), ("StatusCallbackEvent", "completed")]);
        assert_eq!(read_form(none, form.clone()), form);
        let refused = Form::from_pairs([("To", "555"), ("SendDigits", "x"), ("StatusCallback", "http://a_b.example/")]);
        assert_eq!(create_violations(none, CreateCallParams::parse(&refused, &Everything).violations).len(), 5);
        assert!(!unsupported_method_not_found(none));
        assert!(!reshapes_call(none));
        assert_eq!((call_direction(none, true), call_direction(none, false)), ("outbound-dial", "outbound-api"));
        assert!(requests_dial_action(none));
    }

    #[test]
    fn signature_faults_break_the_signature() {
        let url = url::Url::parse("http://127.0.0.1:9000/cb?x=1&CallSid=CA1").expect("url");
        let params = vec![("To".to_owned(), "+1".to_owned()), ("CallSid".to_owned(), "CA1".to_owned())];
        let post = |faults| signature(faults, "tok", &url, HttpMethod::Post, &params);
        let get = |faults| signature(faults, "tok", &url, HttpMethod::Get, &[]);
        let valid_post =
            |sig: Option<String>| sig.is_some_and(|s| signature::validate("tok", url.as_str(), &params, &s));
        let valid_get = |sig: Option<String>| sig.is_some_and(|s| signature::validate("tok", url.as_str(), &[], &s));
        assert!(valid_post(post(FaultSet::default())) && valid_get(get(FaultSet::default())));
        // A fault that does not touch signatures leaves them valid.
        assert!(valid_post(post(one(Fault::Create200))) && valid_get(get(one(Fault::Create200))));
        assert_eq!(post(one(Fault::SignatureMissing)), None);
        assert!(!valid_post(post(one(Fault::SignatureWrong))) && !valid_get(get(one(Fault::SignatureWrong))));
        assert!(!valid_post(post(one(Fault::SignatureUnsortedParams))));
        assert!(!valid_get(get(one(Fault::SignatureGetWithoutQuery))));
        assert!(valid_post(post(one(Fault::SignatureGetWithoutQuery))), "POST signatures stay valid");
    }

    #[test]
    fn repeated_keys_last_only_keeps_each_names_last_value() {
        let form = Form::from_pairs([("A", "1"), ("B", "x"), ("A", "2"), ("A", "3")]);
        let read = read_form(one(Fault::RepeatedKeysLastOnly), form);
        assert_eq!(read.pairs(), &[("B".to_owned(), "x".to_owned()), ("A".to_owned(), "3".to_owned())]);
    }

    #[test]
    fn lenient_create_faults_drop_the_violations_they_tolerate() {
        let faults = FaultSet::new(&[
            Fault::InvalidToAccepted,
            Fault::SendDigitsUnchecked,
            Fault::UnderscoreHostAccepted,
            Fault::MissingInstructionsAccepted,
        ]);
        let form = Form::from_pairs([
            ("To", "5551234567"),
            ("From", "+15017122661"),
            ("SendDigits", "call me"),
            ("StatusCallback", "http://my_app.example.com/events"),
        ]);
        let parsed = CreateCallParams::parse(&form, &Everything);
        assert_eq!(parsed.violations.len(), 4, "{:?}", parsed.violations);
        assert_eq!(create_violations(faults, parsed.violations.clone()), []);
        assert_eq!(parsed.value.to.as_str(), "5551234567");
        assert_eq!(parsed.value.send_digits.as_deref(), Some("call me"));
        assert_eq!(parsed.value.status_callback.as_deref(), Some("http://my_app.example.com/events"));
        // Each fault tolerates its own kind only.
        assert_eq!(create_violations(one(Fault::InvalidToAccepted), parsed.violations.clone()).len(), 3);
        let missing_to = CreateCallParams::parse(
            &Form::from_pairs([("From", "+15017122661"), ("Twiml", "<Response/>")]),
            &Everything,
        );
        assert_eq!(create_violations(faults, missing_to.violations).len(), 1, "a missing To stays refused");
        let async_amd = Form::from_pairs([
            ("To", "+14155551212"),
            ("From", "+15017122661"),
            ("Twiml", "<Response/>"),
            ("AsyncAmdStatusCallback", "http://my_app.example.com/amd"),
        ]);
        let parsed = CreateCallParams::parse(&async_amd, &Everything);
        assert_eq!(create_violations(faults, parsed.violations).len(), 1, "only the four URL parameters");
        let amd = Form::from_pairs([
            ("To", "+14155551212"),
            ("From", "+15017122661"),
            ("Twiml", "<Response/>"),
            ("MachineDetection", "Maybe"),
            ("MachineDetectionSilenceTimeout", "1000"),
        ]);
        let parsed = CreateCallParams::parse(&amd, &Everything);
        assert_eq!(parsed.violations.len(), 2, "{:?}", parsed.violations);
        let kept = create_violations(one(Fault::AmdRangeUnchecked), parsed.violations);
        assert_eq!(kept.len(), 1, "an unknown mode stays refused");
        assert_eq!(kept[0].parameter, "MachineDetection");
    }

    #[test]
    fn value_faults() {
        let mut violations =
            vec![Violation::new("To", Problem::Missing, code::TO_MISSING, "No to number is specified")];
        adjust_violations(one(Fault::MissingTo21211), &mut violations);
        assert_eq!(violations[0].error.code, code::TO_INVALID);
        assert!(violations[0].error.more_info.ends_with("21211"));
        let body = TwilioError::new(20003, 401, "Authenticate");
        let json = error_json(one(Fault::UnauthorizedWithoutCode), true, &body).expect("changed");
        assert!(json.get("code").is_none() && json.get("status") == Some(&Value::from(401)));
        let json = error_json(one(Fault::ErrorStatusAlways400), false, &body).expect("changed");
        assert_eq!(json.get("status"), Some(&Value::from(400)));
        assert_eq!(
            status_events(one(Fault::AllEventsByDefault), &[]),
            StatusEventSet::from_selected(&StatusCallbackEvent::ALL)
        );
        assert_eq!(resource_call_sid(one(Fault::Sid31Hex), "CA0123".to_owned()), "CA012");
        assert_eq!(resource_date(one(Fault::Iso8601Dates), 1_283_286_988_000), "2010-08-31T20:36:28Z");
        assert_eq!(queue_time(one(Fault::QueueTimeDecimalSeconds), 1999), "1.999");
        assert_eq!(queue_time(one(Fault::QueueTimeDecimalSeconds), 0), "0.000");
        let mut call = serde_json::json!({"duration": "12", "queue_time": "5"});
        reshape_call(FaultSet::new(&[Fault::DurationAsNumber, Fault::QueueTimeMissing]), &mut call);
        assert_eq!(call, serde_json::json!({"duration": 12}));
        let mut odd = serde_json::json!(["not an object"]);
        reshape_call(one(Fault::DurationAsNumber), &mut odd);
        assert_eq!(odd, serde_json::json!(["not an object"]));
        assert_eq!(
            callback_call_status(
                one(Fault::CompletedEventStatusCompleted),
                StatusCallbackEvent::Completed,
                CallStatus::Busy
            ),
            "completed"
        );
        assert_eq!(next_page_end(one(Fault::ListPageRepeatsCall), u64::MAX), u64::MAX);
    }
}
