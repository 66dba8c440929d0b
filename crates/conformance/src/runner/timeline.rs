//! A case's timeline: the API exchanges its steps make and the requests the target makes to the
//! sink, on one time axis, masked and bounded, for report.json and the HTML report.

use super::{Harness, Run, lock};
use crate::client::{ClientError, Incoming, Outgoing};
use crate::outcome::{Direction, Failure, FailureKind, TimelineEvent};
use crate::sink::Recorded;
use callspec_model::signature;
use std::time::Instant;

/// Most events a case's timeline keeps; the rest are counted, so a polling or flooding case
/// cannot bloat the report.
pub(super) const MAX_EVENTS: usize = 120;
/// Longest response body excerpt kept per API exchange, in characters.
const BODY_MAX: usize = 600;
/// The callback parameters a reader follows a call by.
const KEY_PARAMS: [&str; 6] =
    ["CallStatus", "SequenceNumber", "CallbackSource", "RecordingStatus", "AnsweredBy", "ErrorCode"];

/// An API exchange as the runner saw it, before it is placed on the case's axis.
#[derive(Debug, Clone)]
pub(super) struct ApiExchange {
    pub(super) at: Instant,
    pub(super) step: usize,
    pub(super) method: String,
    pub(super) url: String,
    pub(super) status: Option<u16>,
    pub(super) duration_ms: Option<u64>,
    pub(super) body: Option<String>,
}

impl Run<'_> {
    /// Sends `out` to the target and records the exchange on the case's timeline.
    pub(super) async fn send(&self, out: &Outgoing) -> Result<Incoming, ClientError> {
        let at = Instant::now();
        let result = self.h.client.send(out).await;
        let (status, body) = match &result {
            Ok(resp) => (Some(resp.status), Some(String::from_utf8_lossy(&resp.body).into_owned())),
            Err(e) => (None, Some(e.to_string())),
        };
        let exchange = ApiExchange {
            at,
            step: self.step,
            method: out.method.clone(),
            url: out.url.clone(),
            status,
            duration_ms: Some(millis(at.elapsed().as_millis())),
            body,
        };
        let mut log = lock(&self.log);
        // Past the bound only the count matters; the body is not even kept.
        if log.exchanges.len() < MAX_EVENTS {
            log.exchanges.push(exchange);
        } else {
            log.exchanges_dropped += 1;
        }
        result
    }
}

fn millis(ms: u128) -> u64 {
    u64::try_from(ms).unwrap_or(u64::MAX)
}

/// What the timeline is built from, gathered when the case ends.
pub(super) struct Parts<'a> {
    pub(super) exchanges: Vec<ApiExchange>,
    pub(super) dropped: usize,
    pub(super) callbacks: Vec<Recorded>,
    /// The auth token the case's account signs with, when setup got that far.
    pub(super) token: Option<&'a str>,
    pub(super) failures: &'a [Failure],
}

impl Harness {
    /// The case's timeline, ordered by time from its first exchange, and how many events it left out.
    pub(super) fn timeline(&self, parts: Parts<'_>) -> (Vec<TimelineEvent>, usize) {
        // The case's own account may be a fresh subaccount, whose token only the case knows.
        let mut secrets = self.secrets(None);
        secrets.extend(parts.token.map(str::to_owned));
        let mask = |s: String| super::checks::mask(s, &secrets);
        let base = self.base_url.as_str();
        let failed_steps: Vec<usize> = parts.failures.iter().map(|f| f.step).collect();
        let mut events: Vec<(Instant, TimelineEvent)> = Vec::new();
        for x in parts.exchanges {
            let path = x.url.strip_prefix(base).map_or(x.url.clone(), str::to_owned);
            let event = TimelineEvent {
                at_ms: 0,
                direction: Direction::Api,
                method: x.method,
                path: mask(path),
                status: x.status,
                duration_ms: x.duration_ms,
                step: Some(x.step),
                params: Vec::new(),
                signature_valid: None,
                body: None,
                failed: failed_steps.contains(&x.step),
            };
            // Bodies only where a reader debugs: a failing step or an error answer; the rest
            // would repeat one call's JSON a hundred times over.
            let event = match event.failed || x.status.is_none_or(|s| s >= 400) {
                true => TimelineEvent { body: x.body.map(|b| mask(crate::matcher::shorten(&b, BODY_MAX))), ..event },
                false => event,
            };
            events.push((x.at, event));
        }
        let mut dropped = parts.dropped;
        for r in parts.callbacks {
            if events.len() >= 2 * MAX_EVENTS {
                dropped += 1;
                continue;
            }
            let event = callback_event(&r, parts.token, parts.failures, &mask);
            events.push((r.at, event));
        }
        events.sort_by_key(|(at, _)| *at);
        let Some(first) = events.first().map(|(at, _)| *at) else { return (Vec::new(), dropped) };
        let timeline = events
            .into_iter()
            .map(|(at, mut e)| {
                e.at_ms = millis(at.saturating_duration_since(first).as_millis());
                e
            })
            .collect();
        (timeline, dropped)
    }
}

/// A request the target made to the sink, with its key parameters and whether its signature holds.
fn callback_event(
    r: &Recorded,
    token: Option<&str>,
    failures: &[Failure],
    mask: &dyn Fn(String) -> String,
) -> TimelineEvent {
    let params = KEY_PARAMS
        .iter()
        .filter_map(|k| r.param(k).map(|v| (k.to_string(), mask(crate::matcher::shorten(v, 120)))))
        .collect();
    let signature_valid = match (&r.signature, token) {
        (Some(sig), Some(token)) => {
            let form: &[(String, String)] = if r.method == "POST" { &r.form } else { &[] };
            Some(signature::validate(token, &r.url, form, sig))
        }
        (None, _) => Some(false),
        (Some(_), None) => None,
    };
    let named = format!("({} {})", r.method, r.path);
    let failed =
        failures.iter().any(|f| is_callback_kind(f.kind) && f.pointer.as_deref().is_some_and(|p| p.contains(&named)));
    TimelineEvent {
        at_ms: 0,
        direction: Direction::Callback,
        method: r.method.clone(),
        path: mask(crate::matcher::shorten(&r.path, 200)),
        status: None,
        duration_ms: None,
        step: None,
        params,
        signature_valid,
        body: None,
        failed,
    }
}

fn is_callback_kind(kind: FailureKind) -> bool {
    matches!(
        kind,
        FailureKind::CallbackCount
            | FailureKind::CallbackParam
            | FailureKind::CallbackOrder
            | FailureKind::Signature
            | FailureKind::Timing
    )
}
