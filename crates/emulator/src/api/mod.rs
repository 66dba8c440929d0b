//! The REST surface: one entry point that authenticates, routes, limits concurrency, reads
//! the body within its size and time limits and dispatches; every answer is JSON, every
//! failure a Twilio error.
//!
//! Routing is by hand (not axum's router) so unknown paths, wrong suffixes and wrong methods
//! get exactly the Twilio errors: 404 / 20404 and 405 / 20004.

mod accounts;
mod auth;
mod calls;
mod events;
mod list;
mod numbers;
mod page;
mod recordings;

use crate::error::ApiError;
use crate::fault::FaultSet;
use crate::journal::{Journal, JournalEntry};
use crate::media::MediaFormat;
use crate::policy;
use crate::state::{Account, Shared};
use axum::Router;
use axum::body::{Body, HttpBody};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::response::Response;
use callspec_model::error::code;
use callspec_model::form::FormError;
use callspec_model::params::Violation;
use callspec_model::{Form, Sid, SidKind};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::OwnedSemaphorePermit;

/// Bytes past the limit still read (and dropped) before answering 413, so the client sees
/// the answer instead of a reset connection.
const DRAIN_BYTES: usize = 4 * 1024 * 1024;

/// The path prefix of every resource.
const PREFIX: &str = "/2010-04-01/";

/// The emulator's HTTP application.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(entry).with_state(shared)
}

/// A resource path, parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    /// `/Accounts.json`.
    Accounts,
    /// `/Accounts/{AC}.json`.
    Account(Sid),
    /// `/Accounts/{AC}/Calls.json`.
    Calls(Sid),
    /// `/Accounts/{AC}/Calls/{CA}.json`.
    Call(Sid, Sid),
    /// `/Accounts/{AC}/Calls/{CA}/Recordings.json`.
    CallRecordings(Sid, Sid),
    /// `/Accounts/{AC}/Calls/{CA}/Events.json`.
    CallEvents(Sid, Sid),
    /// `/Accounts/{AC}/Calls/{CA}/Recordings/{RE}.json` (or `Twilio.CURRENT.json`).
    CallRecording(Sid, Sid, RecordingRef),
    /// `/Accounts/{AC}/Recordings.json`.
    Recordings(Sid),
    /// `/Accounts/{AC}/Recordings/{RE}.json`.
    Recording(Sid, Sid),
    /// `/Accounts/{AC}/Recordings/{RE}` (or `.wav`, `.mp3`): the recording's audio.
    RecordingMedia(Sid, Sid, MediaFormat),
    /// `/Accounts/{AC}/IncomingPhoneNumbers.json`.
    Numbers(Sid),
    /// `/Accounts/{AC}/IncomingPhoneNumbers/{PN}.json`.
    Number(Sid, Sid),
    /// `/Accounts/{AC}/Applications.json`.
    Applications(Sid),
    /// `/Accounts/{AC}/Applications/{AP}.json`.
    Application(Sid, Sid),
}

/// The recording a call-recording path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RecordingRef {
    /// By its `RE` SID.
    Sid(Sid),
    /// `Twilio.CURRENT`: the call's single active recording.
    Current,
}

impl RecordingRef {
    fn parse(segment: &str) -> Option<RecordingRef> {
        match segment {
            "Twilio.CURRENT.json" => Some(RecordingRef::Current),
            _ => json_sid(segment, SidKind::Recording).map(RecordingRef::Sid),
        }
    }
}

fn json_sid(segment: &str, kind: SidKind) -> Option<Sid> {
    Sid::parse_kind(segment.strip_suffix(".json")?, kind).ok()
}

impl Route {
    fn parse(path: &str) -> Option<Route> {
        let rest = path.strip_prefix(PREFIX)?;
        let segments: Vec<&str> = rest.split('/').collect();
        let account = |s: &str| Sid::parse_kind(s, SidKind::Account).ok();
        Some(match segments.as_slice() {
            ["Accounts.json"] => Route::Accounts,
            ["Accounts", ac] => Route::Account(json_sid(ac, SidKind::Account)?),
            ["Accounts", ac, "Calls.json"] => Route::Calls(account(ac)?),
            ["Accounts", ac, "Calls", ca] => Route::Call(account(ac)?, json_sid(ca, SidKind::Call)?),
            ["Accounts", ac, "Calls", ca, "Recordings.json"] => {
                Route::CallRecordings(account(ac)?, Sid::parse_kind(ca, SidKind::Call).ok()?)
            }
            ["Accounts", ac, "Calls", ca, "Events.json"] => {
                Route::CallEvents(account(ac)?, Sid::parse_kind(ca, SidKind::Call).ok()?)
            }
            ["Accounts", ac, "Calls", ca, "Recordings", re] => {
                Route::CallRecording(account(ac)?, Sid::parse_kind(ca, SidKind::Call).ok()?, RecordingRef::parse(re)?)
            }
            ["Accounts", ac, "Recordings.json"] => Route::Recordings(account(ac)?),
            ["Accounts", ac, "Recordings", re] => match MediaFormat::of_segment(re) {
                Some((sid, format)) => {
                    Route::RecordingMedia(account(ac)?, Sid::parse_kind(sid, SidKind::Recording).ok()?, format)
                }
                None => Route::Recording(account(ac)?, json_sid(re, SidKind::Recording)?),
            },
            ["Accounts", ac, "IncomingPhoneNumbers.json"] => Route::Numbers(account(ac)?),
            ["Accounts", ac, "IncomingPhoneNumbers", pn] => {
                Route::Number(account(ac)?, json_sid(pn, SidKind::PhoneNumber)?)
            }
            ["Accounts", ac, "Applications.json"] => Route::Applications(account(ac)?),
            ["Accounts", ac, "Applications", ap] => {
                Route::Application(account(ac)?, json_sid(ap, SidKind::Application)?)
            }
            _ => return None,
        })
    }

    /// The account the path names, if any.
    fn account(self) -> Option<Sid> {
        match self {
            Route::Accounts => None,
            Route::Account(a)
            | Route::Calls(a)
            | Route::Call(a, _)
            | Route::CallRecordings(a, _)
            | Route::CallEvents(a, _)
            | Route::CallRecording(a, ..)
            | Route::Recordings(a)
            | Route::Recording(a, _)
            | Route::RecordingMedia(a, ..)
            | Route::Numbers(a)
            | Route::Number(a, _)
            | Route::Applications(a)
            | Route::Application(a, _) => Some(a),
        }
    }

    /// The methods the route supports, as an `Allow` header value.
    fn allow(self) -> &'static str {
        match self {
            Route::Accounts
            | Route::Calls(_)
            | Route::CallRecordings(..)
            | Route::Numbers(_)
            | Route::Applications(_) => "GET, POST",
            Route::Call(..) | Route::CallRecording(..) => "GET, POST, DELETE",
            Route::Recording(..) => "GET, DELETE",
            Route::Account(_)
            | Route::Recordings(_)
            | Route::CallEvents(..)
            | Route::RecordingMedia(..)
            | Route::Number(..)
            | Route::Application(..) => "GET",
        }
    }
}

/// One authenticated, routed request with its body read.
pub(crate) struct Req<'a> {
    /// The emulator.
    pub(crate) shared: &'a Arc<Shared>,
    /// The account whose credentials were sent.
    pub(crate) caller: Arc<Account>,
    /// The account the path names (the caller, or one of its subaccounts).
    pub(crate) account: Arc<Account>,
    /// The request path.
    pub(crate) path: &'a str,
    /// The raw query string.
    pub(crate) query: &'a str,
    /// The request headers.
    pub(crate) headers: &'a HeaderMap,
    /// The raw body (empty except for POST).
    pub(crate) body: Vec<u8>,
}

impl Req<'_> {
    /// The body as form parameters.
    pub(crate) fn form(&self) -> Result<Form, ApiError> {
        let form = Form::parse(&self.body).map_err(|e| form_error("request body", &e))?;
        Ok(policy::read_form(self.shared.faults, form))
    }

    /// The query string as parameters.
    pub(crate) fn query_form(&self) -> Result<Form, ApiError> {
        Form::parse(self.query.as_bytes()).map_err(|e| form_error("query string", &e))
    }

    /// In strict mode: refuse a body that is not form-encoded, unknown parameter names, and
    /// comma-joined values of list parameters. No-op otherwise.
    pub(crate) fn strict_check(&self, form: &Form, known: &[&str], lists: &[&str]) -> Result<(), ApiError> {
        if !self.shared.config.strict {
            return Ok(());
        }
        if !self.body.is_empty() {
            let ct = self.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
            let essence = ct.split(';').next().unwrap_or("").trim();
            if !essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
                return Err(ApiError::bad_request(
                    code::INVALID_PARAMETER,
                    format!("Content-Type {ct:?} is not supported; send application/x-www-form-urlencoded"),
                ));
            }
        }
        if let Some(name) = form.unknown_names(known).first() {
            return Err(ApiError::bad_request(code::INVALID_PARAMETER, format!("Unknown parameter {name:?}")));
        }
        for list in lists {
            if let Some(v) = form.all(list).into_iter().find(|v| v.contains(',')) {
                let code = if *list == "StatusCallbackEvent" {
                    code::STATUS_CALLBACK_EVENT_INVALID
                } else {
                    code::INVALID_PARAMETER
                };
                return Err(ApiError::bad_request(
                    code,
                    format!("{list} takes one value per repeated key, not a comma-joined list: {v:?}"),
                ));
            }
        }
        Ok(())
    }
}

/// Refuses a request the model found violations in: answers with the first, logs them all.
fn refuse(faults: FaultSet, path: &str, mut violations: Vec<Violation>) -> ApiError {
    policy::adjust_violations(faults, &mut violations);
    for v in &violations {
        tracing::info!(path, parameter = v.parameter, code = v.error.code, message = %v.error.message, "validation");
    }
    match violations.into_iter().next() {
        Some(v) => ApiError::Twilio(v.error),
        None => ApiError::bad_request(code::INVALID_PARAMETER, "invalid request"),
    }
}

fn form_error(what: &str, e: &FormError) -> ApiError {
    ApiError::bad_request(code::INVALID_PARAMETER, format!("The {what} is not valid form data: {e}"))
}

async fn entry(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let head = shared.journal.as_ref().map(|_| journal_head(&req));
    let mut body = Vec::new();
    let mut response = match serve(&shared, req, &mut body).await {
        Ok(r) => r,
        Err(e) => e.render(shared.faults),
    };
    policy::content_type(shared.faults, &mut response);
    if let (Some(journal), Some(head)) = (&shared.journal, head) {
        response = record(journal, head, body, response).await;
    }
    tracing::info!(
        method = %method,
        path = %path,
        status = response.status().as_u16(),
        latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        "api"
    );
    response
}

/// The journal's entry for a request, before its body is read (answer still empty).
fn journal_head(req: &Request) -> JournalEntry {
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    JournalEntry {
        method: req.method().as_str().to_owned(),
        path: req.uri().path().to_owned(),
        query: req.uri().query().unwrap_or("").to_owned(),
        headers,
        body: Vec::new(),
        status: 0,
        response_body: Vec::new(),
    }
}

/// Records the exchange in the journal and gives the response back, its body buffered (API
/// answers are small JSON documents; one that cannot be read is journaled empty).
async fn record(journal: &Journal, mut head: JournalEntry, body: Vec<u8>, response: Response) -> Response {
    let (parts, answer) = response.into_parts();
    let bytes = axum::body::to_bytes(answer, usize::MAX).await.unwrap_or_default();
    head.body = body;
    head.status = parts.status.as_u16();
    head.response_body = bytes.to_vec();
    journal.record(head);
    Response::from_parts(parts, Body::from(bytes))
}

async fn serve(shared: &Arc<Shared>, req: Request, journaled: &mut Vec<u8>) -> Result<Response, ApiError> {
    let caller = auth::authenticate(shared, req.headers())?;
    let (parts, body) = req.into_parts();
    let path = parts.uri.path();
    let route = Route::parse(path).ok_or_else(|| ApiError::NotFound(path.to_owned()))?;
    let account = match route.account() {
        Some(sid) => auth::authorize(shared, &caller, &sid, matches!(route, Route::Call(..)))?,
        None => caller.clone(),
    };
    // Counted per account from the moment the headers are in (a request whose body is still
    // arriving is in flight, for at most the body deadline), or with `slot_after_body` once
    // the body is in, so that slow senders hold no slot.
    let after_body = shared.config.slot_after_body;
    let mut permit = if after_body { None } else { take_slot(shared, &account)? };
    let method = &parts.method;
    let allowed = route.allow().split(", ").any(|m| m == method.as_str());
    if !allowed {
        if policy::unsupported_method_not_found(shared.faults) {
            return Err(ApiError::NotFound(path.to_owned()));
        }
        return Err(ApiError::MethodNotAllowed { allow: route.allow() });
    }
    let body = if *method == Method::POST {
        let config = &shared.config;
        let read = read_body(&parts.headers, body, config.max_body_bytes);
        tokio::time::timeout(config.body_timeout, read)
            .await
            .map_err(|_| ApiError::BodyTimeout { limit_ms: config.body_timeout.as_millis() })??
    } else {
        Vec::new()
    };
    if shared.journal.is_some() {
        journaled.clone_from(&body);
    }
    if after_body {
        permit = take_slot(shared, &account)?;
    }
    let _permit = permit;
    let req =
        Req { shared, caller, account, path, query: parts.uri.query().unwrap_or(""), headers: &parts.headers, body };
    let post = *method == Method::POST;
    let delete = *method == Method::DELETE;
    match route {
        Route::Accounts if post => accounts::create(&req),
        Route::Accounts => accounts::list(&req),
        Route::Account(_) => accounts::fetch(&req),
        Route::Calls(_) if post => calls::create(&req),
        Route::Calls(_) => list::list(&req),
        Route::Call(_, ca) if post => calls::update(&req, ca),
        Route::Call(_, ca) if delete => calls::delete(&req, ca),
        Route::Call(_, ca) => calls::fetch(&req, ca),
        Route::CallRecordings(_, ca) if post => recordings::start(&req, ca),
        Route::CallRecordings(_, ca) => recordings::list_of_call(&req, ca),
        Route::CallRecording(_, ca, re) if post => recordings::update(&req, ca, re),
        Route::CallRecording(_, ca, re) if delete => recordings::delete_of_call(&req, ca, re),
        Route::CallRecording(_, ca, re) => recordings::fetch_of_call(&req, ca, re),
        Route::Recordings(_) => recordings::list(&req),
        Route::CallEvents(_, ca) => events::list(&req, ca),
        Route::Recording(_, re) if delete => recordings::delete(&req, re),
        Route::Recording(_, re) => recordings::fetch(&req, re),
        Route::RecordingMedia(_, re, format) => recordings::media(&req, re, format),
        Route::Numbers(_) if post => numbers::create_number(&req),
        Route::Numbers(_) => numbers::list_numbers(&req),
        Route::Number(_, pn) => numbers::fetch_number(&req, pn),
        Route::Applications(_) if post => numbers::create_application(&req),
        Route::Applications(_) => numbers::list_applications(&req),
        Route::Application(_, ap) => numbers::fetch_application(&req, ap),
    }
}

/// One of the account's request slots, held until dropped; none when requests are not limited.
fn take_slot(shared: &Shared, account: &Account) -> Result<Option<OwnedSemaphorePermit>, ApiError> {
    match shared.limiter(&account.sid) {
        Some(limit) => limit.try_acquire_owned().map(Some).map_err(|_| ApiError::TooManyRequests),
        None => Ok(None),
    }
}

/// Reads a body of at most `limit` bytes. Larger bodies are drained up to a bound and
/// answered 413.
async fn read_body(headers: &HeaderMap, mut body: Body, limit: usize) -> Result<Vec<u8>, ApiError> {
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
    let hard_cap = limit.saturating_add(DRAIN_BYTES);
    if declared.is_some_and(|n| n > u64::try_from(hard_cap).unwrap_or(u64::MAX)) {
        return Err(ApiError::BodyTooLarge { limit });
    }
    let mut out = Vec::new();
    let mut total = 0usize;
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let frame = frame.map_err(|e| {
            ApiError::bad_request(code::INVALID_PARAMETER, format!("The request body could not be read: {e}"))
        })?;
        if let Ok(data) = frame.into_data() {
            total = total.saturating_add(data.len());
            if total <= limit {
                out.extend_from_slice(&data);
            } else if total > hard_cap {
                return Err(ApiError::BodyTooLarge { limit });
            }
        }
    }
    if total > limit {
        return Err(ApiError::BodyTooLarge { limit });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const AC: &str = "ACc0ffee00000000000000000000000001";
    const CA: &str = "CA0123456789abcdef0123456789abcdef";

    #[test]
    fn routes_parse_json_paths_and_recording_media() {
        let ac = Sid::parse(AC).expect("sid");
        let ca = Sid::parse(CA).expect("sid");
        assert_eq!(Route::parse(&format!("/2010-04-01/Accounts/{AC}/Calls.json")), Some(Route::Calls(ac)));
        assert_eq!(Route::parse(&format!("/2010-04-01/Accounts/{AC}/Calls/{CA}.json")), Some(Route::Call(ac, ca)));
        assert_eq!(
            Route::parse(&format!("/2010-04-01/Accounts/{AC}/Calls/{CA}/Recordings.json")),
            Some(Route::CallRecordings(ac, ca))
        );
        let re = Sid::parse("RE0123456789abcdef0123456789abcdef").expect("sid");
        assert_eq!(
            Route::parse(&format!("/2010-04-01/Accounts/{AC}/Calls/{CA}/Recordings/Twilio.CURRENT.json")),
            Some(Route::CallRecording(ac, ca, RecordingRef::Current))
        );
        assert_eq!(
            Route::parse(&format!("/2010-04-01/Accounts/{AC}/Calls/{CA}/Recordings/{re}.json")),
            Some(Route::CallRecording(ac, ca, RecordingRef::Sid(re)))
        );
        assert_eq!(Route::parse(&format!("/2010-04-01/Accounts/{AC}/Recordings.json")), Some(Route::Recordings(ac)));
        assert_eq!(
            Route::parse(&format!("/2010-04-01/Accounts/{AC}/Recordings/{re}.json")),
            Some(Route::Recording(ac, re))
        );
        for (suffix, format) in [("", MediaFormat::Wav), (".wav", MediaFormat::Wav), (".mp3", MediaFormat::Mp3)] {
            let media = Route::parse(&format!("/2010-04-01/Accounts/{AC}/Recordings/{re}{suffix}"));
            assert_eq!(media, Some(Route::RecordingMedia(ac, re, format)), "{suffix:?}");
        }
        assert_eq!(Route::parse(&format!("/2010-04-01/Accounts/{AC}/Recordings/{re}.ogg")), None);
        assert_eq!(Route::parse(&format!("/2010-04-01/Accounts/{AC}.json")), Some(Route::Account(ac)));
        assert_eq!(Route::parse("/2010-04-01/Accounts.json"), Some(Route::Accounts));
        for bad in [
            format!("/2010-04-01/Accounts/{AC}/Calls"),
            format!("/2010-04-01/Accounts/{AC}/Calls.xml"),
            format!("/2010-04-01/Accounts/{AC}/Calls/{CA}"),
            format!("/2010-04-01/Accounts/{AC}/Calls/CAnothex.json"),
            format!("/2010-04-01/Accounts/{AC}/Calls.json/"),
            format!("/2010-04-01/Accounts/{CA}/Calls.json"),
            format!("/2010-04-01/Accounts/{AC}/Messages.json"),
            "/".to_owned(),
            "/2010-04-01/".to_owned(),
        ] {
            assert_eq!(Route::parse(&bad), None, "{bad}");
        }
    }
}
