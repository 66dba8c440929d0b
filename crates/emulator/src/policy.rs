//! Behaviour decisions kept in one place each, so a later `--fault` switch can change one of
//! them (which callbacks fire, the create status code, the signature, SIP codes, prices).

use axum::http::StatusCode;
use callspec_model::CallStatus;
use callspec_model::params::RecordingEvent;
use callspec_model::signature;
use callspec_model::status::StatusCallbackEvent;

/// HTTP status of a successful call create.
pub(crate) const fn create_status() -> StatusCode {
    StatusCode::CREATED
}

/// A set of status-callback events, as a bit set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct EventSet(u8);

impl EventSet {
    const fn bit(event: StatusCallbackEvent) -> u8 {
        match event {
            StatusCallbackEvent::Initiated => 1,
            StatusCallbackEvent::Ringing => 2,
            StatusCallbackEvent::Answered => 4,
            StatusCallbackEvent::Completed => 8,
        }
    }

    /// The events sent, or `completed` alone when none were.
    pub(crate) fn from_selected(selected: &[StatusCallbackEvent]) -> EventSet {
        if selected.is_empty() {
            return EventSet(EventSet::bit(StatusCallbackEvent::Completed));
        }
        EventSet(selected.iter().fold(0, |acc, e| acc | EventSet::bit(*e)))
    }

    /// Whether the set holds the event.
    pub(crate) const fn contains(self, event: StatusCallbackEvent) -> bool {
        self.0 & EventSet::bit(event) != 0
    }
}

/// A set of recording-callback events, as a bit set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct RecordingEventSet(u8);

impl RecordingEventSet {
    const fn bit(event: RecordingEvent) -> u8 {
        match event {
            RecordingEvent::InProgress => 1,
            RecordingEvent::Completed => 2,
            RecordingEvent::Absent => 4,
        }
    }

    /// The events sent, or `completed` alone when none were.
    pub(crate) fn from_selected(selected: &[RecordingEvent]) -> RecordingEventSet {
        if selected.is_empty() {
            return RecordingEventSet(RecordingEventSet::bit(RecordingEvent::Completed));
        }
        RecordingEventSet(selected.iter().fold(0, |acc, e| acc | RecordingEventSet::bit(*e)))
    }

    /// Whether the set holds the event.
    pub(crate) const fn contains(self, event: RecordingEvent) -> bool {
        self.0 & RecordingEventSet::bit(event) != 0
    }
}

/// Whether a status callback fires for `event`, given the call's subscription.
pub(crate) fn sends_status_event(subscribed: EventSet, event: StatusCallbackEvent) -> bool {
    subscribed.contains(event)
}

/// Whether a recording callback fires for `event`, given the call's subscription.
/// `absent` replaces `completed` for recordings under a second, and fires only when selected.
pub(crate) fn sends_recording_event(subscribed: RecordingEventSet, event: RecordingEvent) -> bool {
    subscribed.contains(event)
}

/// The `X-Twilio-Signature` of a request to `url` with form `params` (empty for GET).
pub(crate) fn signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    signature::sign(auth_token, url, params)
}

/// The URL Twilio signs: the requested URL without `user:pass@`, and for HTTPS without the port.
pub(crate) fn signed_url(url: &url::Url) -> String {
    let mut u = url.clone();
    if !u.username().is_empty() || u.password().is_some() {
        let _ = u.set_username("");
        let _ = u.set_password(None);
    }
    if u.scheme() == "https" {
        let _ = u.set_port(None);
    }
    u.to_string()
}

/// `SipResponseCode` of a terminal status callback.
pub(crate) const fn sip_response_code(status: CallStatus) -> u16 {
    match status {
        CallStatus::Busy => 486,
        CallStatus::NoAnswer | CallStatus::Canceled => 487,
        CallStatus::Failed => 404,
        _ => 200,
    }
}

/// Price per started minute of an answered call, in 1/100000 USD (0.01300 USD).
pub(crate) const PRICE_PER_MINUTE: u32 = 1300;

/// Billed minutes of an answered call lasting `seconds`: rounded up, at least 1.
pub(crate) const fn billed_minutes(seconds: u64) -> u64 {
    let m = seconds.div_ceil(60);
    if m == 0 { 1 } else { m }
}

/// `price` of an answered call, as Twilio writes it: negative, five decimals.
pub(crate) fn price_text(units: u32) -> String {
    format!("-{}.{:05}", units / 100_000, units % 100_000)
}

/// Recording duration below which the recording is `absent` (error 16101).
pub(crate) const MIN_RECORDING_SECONDS: u64 = 1;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_subscription_is_completed_only() {
        let set = EventSet::from_selected(&[]);
        assert!(set.contains(StatusCallbackEvent::Completed));
        assert!(!set.contains(StatusCallbackEvent::Initiated));
        let all = EventSet::from_selected(&StatusCallbackEvent::ALL);
        assert!(StatusCallbackEvent::ALL.iter().all(|e| all.contains(*e)));
        let rec = RecordingEventSet::from_selected(&[]);
        assert!(rec.contains(RecordingEvent::Completed) && !rec.contains(RecordingEvent::Absent));
    }

    #[test]
    fn prices_and_minutes() {
        assert_eq!(billed_minutes(0), 1);
        assert_eq!(billed_minutes(60), 1);
        assert_eq!(billed_minutes(61), 2);
        assert_eq!(price_text(PRICE_PER_MINUTE), "-0.01300");
        assert_eq!(price_text(PRICE_PER_MINUTE * 100), "-1.30000");
    }

    #[test]
    fn signed_url_drops_credentials_and_https_port() {
        let u = url::Url::parse("https://u:p@example.com:8443/a?b=1").expect("url");
        assert_eq!(signed_url(&u), "https://example.com/a?b=1");
        let u = url::Url::parse("http://u:p@127.0.0.1:8080/a").expect("url");
        assert_eq!(signed_url(&u), "http://127.0.0.1:8080/a");
    }
}
