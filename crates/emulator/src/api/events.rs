//! A call's Events (`GET …/Calls/{CA}/Events.json`): the requests made to the application for
//! the call and the answers they got, paged under `events`; and the record of the REST create
//! that made the call, kept for the list (listed or not as variance decides).
//!
//! Each item is `{request: {method, url, parameters}, response: {date_created,
//! request_duration, response_code, content_type, response_body}}`, parameter names in
//! snake_case (`calls-api-facts.md#call-events`). A request that got no answer (unreachable,
//! timed out, refused by the allow list) keeps its `response` object with `response_code`,
//! `content_type` and `response_body` null.

use super::{Req, page};
use crate::error::{ApiError, json_response};
use crate::events::{Answer, Event};
use crate::policy;
use crate::resources::CallBody;
use crate::state::CallRecord;
use axum::http::{StatusCode, header};
use axum::response::Response;
use callspec_model::rfc2822::format_unix_ms;
use callspec_model::{Form, Sid};
use serde_json::{Map, Value, json};
use std::time::Instant;

/// Query parameters of a call's Events list.
const LIST_PARAMETERS: &[&str] = &["PageSize", "Page", "PageToken"];

/// `GET …/Calls/{CA}/Events.json`: 200 with the call's events, oldest first (newest first when
/// variance says so; the REST create first when variance lists it); 404 / 20404 for a call the
/// account does not have.
pub(super) fn list(req: &Req<'_>, ca: Sid) -> Result<Response, ApiError> {
    let query = req.query_form()?;
    req.strict_check(&query, LIST_PARAMETERS, &[])?;
    let (log, key) = {
        let data = req.account.read();
        let rec = data.call(&ca).ok_or_else(|| ApiError::NotFound(req.path.to_owned()))?;
        (rec.events.clone(), rec.variance_key)
    };
    let (create, mut events) = log.snapshot();
    let variance = req.shared.variance;
    if variance.events_newest_first(key) {
        events.reverse();
    }
    let listed = create.filter(|_| variance.events_list_create(key)).into_iter().chain(events);
    let items: Vec<Value> = listed.map(|e| item(req, &e)).collect();
    Ok(json_response(StatusCode::OK, &page::filtered("events", req.path, &query, &[], items)?))
}

/// One event as Twilio shows it.
fn item(req: &Req<'_>, event: &Event) -> Value {
    let faults = req.shared.faults;
    let parameters: Map<String, Value> = event
        .parameters
        .iter()
        .map(|(name, value)| (policy::event_parameter_name(faults, name), Value::String(value.clone())))
        .collect();
    let answer = event.answer.as_ref();
    json!({
        "request": {"method": event.method, "url": event.url, "parameters": parameters},
        "response": {
            "date_created": format_unix_ms(event.date_ms),
            "request_duration": event.duration_ms,
            "response_code": answer.map(|a| a.status),
            "content_type": answer.map(|a| a.content_type.clone()),
            "response_body": answer.map(|a| a.body.clone()),
        },
    })
}

/// Keeps the REST create of `rec` (its parameters, as sent, and the answer) in the call's log:
/// `request.url` is the new call's own URL, as in Twilio's example.
pub(super) fn record_create(
    req: &Req<'_>,
    started: Instant,
    form: &Form,
    rec: &CallRecord,
    status: StatusCode,
    body: &CallBody,
) {
    let host = req.headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("api.twilio.com");
    let url = format!("http://{host}/2010-04-01/Accounts/{}/Calls/{}.json", req.account.sid, rec.sid());
    let text = match body {
        CallBody::Typed(call) => serde_json::to_string(call).unwrap_or_default(),
        CallBody::Reshaped(value) => value.to_string(),
    };
    let answer = Answer::new(status.as_u16(), Some("application/json".to_owned()), &text);
    rec.events.record_create(Event::sent("POST", &url, form.pairs(), started, Some(answer)));
}
