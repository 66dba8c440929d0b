//! A call's Events (`GET …/Calls/{CA}/Events.json`): every request the emulator made to the
//! application for the call (TwiML fetches, fallbacks, redirects, `<Gather>` actions, status and
//! recording callbacks) and the answer it got, plus the REST create that made the call, bounded
//! per call. `webhook` records each request as it completes; `state` keeps the log with its call
//! (deleting the call deletes it); `api::events` renders it.
//!
//! Parameters are kept under the names they were sent with; the snake_case names Twilio shows
//! (`CallSid` → `call_sid`) are made by [`snake_case`] when rendered.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

/// Most events one call keeps; later ones are counted in [`CallEvents::dropped`] only. A call
/// loads at most 100 TwiML documents, so this leaves room for its callbacks too.
pub(crate) const EVENTS_PER_CALL: usize = 256;

/// Most bytes of an answer's body an event keeps (cut at a character boundary).
pub(crate) const MAX_EVENT_BODY: usize = 16 * 1024;

/// One request and what came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Event {
    /// `GET` or `POST`.
    pub(crate) method: &'static str,
    /// The URL as the application gave it (a GET's parameters are in `parameters`, not here).
    pub(crate) url: String,
    /// The parameters sent, under their wire names, in wire order.
    pub(crate) parameters: Vec<(String, String)>,
    /// When the answer came (or the request was given up), ms since the epoch.
    pub(crate) date_ms: i64,
    /// How long the request took, ms.
    pub(crate) duration_ms: u64,
    /// The answer, when one came.
    pub(crate) answer: Option<Answer>,
}

/// An HTTP answer as an event keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Answer {
    /// Its status code.
    pub(crate) status: u16,
    /// Its `Content-Type`, when it had one.
    pub(crate) content_type: Option<String>,
    /// Its body, cut at [`MAX_EVENT_BODY`].
    pub(crate) body: String,
}

impl Event {
    /// A request sent to `url` with `parameters` at `started`, ending now with `answer`.
    pub(crate) fn sent(
        method: &'static str,
        url: &str,
        parameters: &[(String, String)],
        started: Instant,
        answer: Option<Answer>,
    ) -> Event {
        Event {
            method,
            url: url.to_owned(),
            parameters: parameters.to_vec(),
            date_ms: now_ms(),
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            answer,
        }
    }
}

/// Milliseconds since the Unix epoch, now.
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl Answer {
    /// An answer whose body is kept up to [`MAX_EVENT_BODY`] bytes.
    pub(crate) fn new(status: u16, content_type: Option<String>, body: &str) -> Answer {
        let mut end = body.len().min(MAX_EVENT_BODY);
        while !body.is_char_boundary(end) {
            end -= 1;
        }
        Answer { status, content_type, body: body[..end].to_owned() }
    }
}

#[derive(Debug, Default)]
struct Inner {
    create: Option<Event>,
    events: Vec<Event>,
    dropped: usize,
}

/// A call's event log; clones share it (the call's record and its running webhooks).
#[derive(Debug, Clone, Default)]
pub(crate) struct CallEvents(Arc<Mutex<Inner>>);

impl CallEvents {
    /// Appends a webhook's event, or counts it as dropped once [`EVENTS_PER_CALL`] is reached.
    pub(crate) fn record(&self, event: Event) {
        let mut inner = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if inner.events.len() < EVENTS_PER_CALL {
            inner.events.push(event);
        } else {
            inner.dropped += 1;
        }
    }

    /// Keeps the REST create that made the call (listed or not as `api::events` decides).
    pub(crate) fn record_create(&self, event: Event) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).create = Some(event);
    }

    /// The create, if kept, and the webhook events in the order they completed.
    pub(crate) fn snapshot(&self) -> (Option<Event>, Vec<Event>) {
        let inner = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        (inner.create.clone(), inner.events.clone())
    }

    /// Events not kept because the log was full.
    #[cfg(test)]
    pub(crate) fn dropped(&self) -> usize {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).dropped
    }
}

/// A parameter name in snake_case, lower cased with words split by underscores, as Twilio's
/// Events show them: `CallSid` → `call_sid`, `SipResponseCode` → `sip_response_code`,
/// `StirVerstat` → `stir_verstat`, `AddOns` → `add_ons`, `SIPHeader` → `sip_header`.
pub(crate) fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(char::is_ascii_lowercase);
            if prev.is_ascii_lowercase() || prev.is_ascii_digit() || (prev.is_ascii_uppercase() && next_lower) {
                out.push('_');
            }
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(url: &str) -> Event {
        Event { method: "POST", url: url.to_owned(), parameters: Vec::new(), date_ms: 0, duration_ms: 1, answer: None }
    }

    #[test]
    fn names_become_snake_case() {
        for (wire, snake) in [
            ("CallSid", "call_sid"),
            ("AccountSid", "account_sid"),
            ("ApiVersion", "api_version"),
            ("SipResponseCode", "sip_response_code"),
            ("AddOns", "add_ons"),
            ("SIPHeader", "sip_header"),
            ("Digits", "digits"),
            ("FromCity", "from_city"),
            ("already_snake", "already_snake"),
        ] {
            assert_eq!(snake_case(wire), snake, "{wire}");
        }
    }

    #[test]
    fn the_log_is_bounded_and_keeps_the_create_apart() {
        let log = CallEvents::default();
        log.record_create(event("create"));
        for _ in 0..EVENTS_PER_CALL + 3 {
            log.record(event("x"));
        }
        let (create, events) = log.snapshot();
        assert_eq!(create.map(|c| c.url), Some("create".to_owned()));
        assert_eq!(events.len(), EVENTS_PER_CALL);
        assert_eq!(log.dropped(), 3);
    }

    #[test]
    fn bodies_are_cut_at_a_character_boundary() {
        let long = "é".repeat(MAX_EVENT_BODY);
        let answer = Answer::new(200, None, &long);
        assert!(answer.body.len() <= MAX_EVENT_BODY && answer.body.len() >= MAX_EVENT_BODY - 1);
        assert_eq!(Answer::new(404, None, "nope").body, "nope");
    }
}
