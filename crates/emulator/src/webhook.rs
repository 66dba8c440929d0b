//! Requests to user URLs: what they are for and where they go (within `egress`'s allow list),
//! signing, GET/POST encoding, time limits and one log line each, its URL masked. Knows
//! nothing of calls or accounts (the per-call ordered sender lives in `callflow`).

use crate::egress::{Egress, Refused, Verdict};
use crate::events::{Answer, CallEvents, Event};
use crate::fault::FaultSet;
use crate::policy;
use crate::redact::MaskedUrl;
use callspec_model::Form;
use callspec_model::params::HttpMethod;
use std::fmt;
use std::time::{Duration, Instant};

/// Largest response body read from a user URL; TwiML beyond it counts as unparseable.
const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// The `User-Agent` of every request the emulator makes.
const USER_AGENT: &str = "TwilioProxy/1.1 (callspec-emulator)";

/// What a request to a user URL is for (logged as `kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WebhookKind {
    /// The call's `Url` (or the application's voice URL).
    Twiml,
    /// `FallbackUrl` after the TwiML fetch failed.
    Fallback,
    /// A `<Redirect>` target.
    Redirect,
    /// A `<Dial action>` URL, when the dialed call ends.
    DialAction,
    /// A status callback.
    StatusCallback,
    /// A recording status callback.
    RecordingCallback,
    /// A `<Gather>`'s action.
    GatherAction,
    /// The async answering-machine-detection result (`AsyncAmdStatusCallback`).
    AmdCallback,
}

impl fmt::Display for WebhookKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WebhookKind::Twiml => "twiml",
            WebhookKind::Fallback => "fallback",
            WebhookKind::Redirect => "redirect",
            WebhookKind::DialAction => "dial-action",
            WebhookKind::StatusCallback => "status-callback",
            WebhookKind::RecordingCallback => "recording-callback",
            WebhookKind::GatherAction => "gather-action",
            WebhookKind::AmdCallback => "amd-callback",
        })
    }
}

/// A URL and the method to request it with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    /// Absolute URL.
    pub(crate) url: String,
    /// GET or POST.
    pub(crate) method: HttpMethod,
}

/// A callback waiting in a call's outbox.
#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    /// Status or recording callback.
    pub(crate) kind: WebhookKind,
    /// Where it goes.
    pub(crate) target: Target,
    /// Its parameters.
    pub(crate) params: Form,
    /// Whether the call's next callback may overtake it (variance mode: callbacks are separate
    /// requests and may arrive out of order).
    pub(crate) overtakable: bool,
}

/// Why a request to a user URL failed.
#[derive(Debug)]
pub(crate) enum WebhookError {
    /// The URL does not parse.
    BadUrl(url::ParseError),
    /// The URL's scheme (held) is not `http` or `https`.
    UnsupportedScheme(String),
    /// No connection, or the request failed in transit.
    Connection(reqwest::Error),
    /// No complete answer within `Config::webhook_timeout`.
    Timeout,
    /// `Config::webhook_allow_hosts` refuses the URL's host (the call sees no connection).
    Refused(Refused),
    /// The answer's status is not 2xx.
    Status(u16),
}

impl fmt::Display for WebhookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WebhookError::BadUrl(e) => write!(f, "bad URL: {e}"),
            WebhookError::UnsupportedScheme(scheme) => write!(f, "bad URL: scheme {scheme} is not http or https"),
            WebhookError::Connection(e) => write!(f, "connection failed: {e}"),
            WebhookError::Timeout => f.write_str("timed out"),
            WebhookError::Refused(refused) => write!(f, "not sent: {refused}"),
            WebhookError::Status(code) => write!(f, "HTTP {code}"),
        }
    }
}

impl std::error::Error for WebhookError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WebhookError::BadUrl(e) => Some(e),
            WebhookError::Connection(e) => Some(e),
            WebhookError::Refused(e) => Some(e),
            _ => None,
        }
    }
}

/// A request ready to send: the exact URL, its body and its signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Prepared {
    /// GET or POST.
    pub(crate) method: HttpMethod,
    /// The URL requested, with GET parameters appended to its query.
    pub(crate) url: url::Url,
    /// The form body of a POST.
    pub(crate) body: Option<String>,
    /// `X-Twilio-Signature`, unless a fault leaves it out.
    pub(crate) signature: Option<String>,
}

/// Encodes and signs a request: GET appends the parameters to the URL's query (keeping what
/// is there) and signs the URL alone; POST sends them as a form body and signs URL + params.
pub(crate) fn prepare(
    target: &Target,
    params: &Form,
    auth_token: &str,
    faults: FaultSet,
) -> Result<Prepared, WebhookError> {
    let mut url = url::Url::parse(&target.url).map_err(WebhookError::BadUrl)?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(WebhookError::UnsupportedScheme(url.scheme().to_owned()));
    }
    match target.method {
        HttpMethod::Get => {
            if !params.is_empty() {
                url.query_pairs_mut().extend_pairs(params.pairs());
            }
            let signature = policy::signature(faults, auth_token, &url, HttpMethod::Get, &[]);
            Ok(Prepared { method: HttpMethod::Get, url, body: None, signature })
        }
        HttpMethod::Post => {
            let signature = policy::signature(faults, auth_token, &url, HttpMethod::Post, params.pairs());
            Ok(Prepared { method: HttpMethod::Post, url, body: Some(params.encode()), signature })
        }
    }
}

/// The HTTP client for user URLs.
#[derive(Debug, Clone)]
pub(crate) struct WebhookClient {
    http: reqwest::Client,
    faults: FaultSet,
    egress: Egress,
}

impl WebhookClient {
    /// A client whose every request is limited to `timeout` and to the hosts `egress` allows,
    /// signing as the faults decide.
    pub(crate) fn new(timeout: Duration, faults: FaultSet, egress: Egress) -> std::io::Result<WebhookClient> {
        let builder =
            reqwest::Client::builder().timeout(timeout).connect_timeout(timeout).no_proxy().user_agent(USER_AGENT);
        let http = egress.apply(builder).build().map_err(std::io::Error::other)?;
        Ok(WebhookClient { http, faults, egress })
    }

    /// Sends one request and reads the answer's body. Logs one line either way, and records the
    /// request and its answer (or its lack) in the call's `events`, when given.
    pub(crate) async fn send(
        &self,
        kind: WebhookKind,
        target: &Target,
        params: &Form,
        auth_token: &str,
        events: Option<&CallEvents>,
    ) -> Result<String, WebhookError> {
        let started = Instant::now();
        let record = |answer: Option<Answer>| {
            if let Some(log) = events {
                log.record(Event::sent(target.method.as_str(), &target.url, params.pairs(), started, answer));
            }
        };
        let prepared = prepare(target, params, auth_token, self.faults).and_then(|p| match self.egress.check(&p.url) {
            Verdict::Refused(refused) => Err(WebhookError::Refused(refused)),
            Verdict::Allowed | Verdict::ByAddress => Ok(p),
        });
        let prepared = match prepared {
            Ok(p) => p,
            Err(e) => {
                let url = MaskedUrl(&target.url);
                tracing::warn!(%kind, method = %target.method, url = %url, error = %e, "webhook not sent");
                record(None);
                return Err(e);
            }
        };
        let result = self.execute(&prepared).await;
        record(
            result.as_ref().ok().map(|(status, content_type, body)| Answer::new(*status, content_type.clone(), body)),
        );
        let result = result.and_then(|(status, _, body)| {
            if (200..300).contains(&status) { Ok((status, body)) } else { Err(WebhookError::Status(status)) }
        });
        let latency_ms = started.elapsed().as_millis();
        let (method, url) = (prepared.method, MaskedUrl(prepared.url.as_str()));
        match &result {
            Ok((status, _)) => tracing::info!(%kind, %method, url = %url, status, latency_ms, "webhook"),
            Err(WebhookError::Status(code)) => {
                tracing::warn!(%kind, %method, url = %url, status = code, latency_ms, "webhook");
            }
            Err(e) => tracing::warn!(%kind, %method, url = %url, error = %e, latency_ms, "webhook"),
        }
        result.map(|(_, body)| body)
    }

    /// Sends the request; the answer's status, `Content-Type` and body, whatever the status.
    async fn execute(&self, prepared: &Prepared) -> Result<(u16, Option<String>, String), WebhookError> {
        let request = match prepared.method {
            HttpMethod::Get => self.http.get(prepared.url.clone()),
            HttpMethod::Post => self
                .http
                .post(prepared.url.clone())
                .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(prepared.body.clone().unwrap_or_default()),
        };
        // The log line names the URL, masked; the error's copy of it would not be.
        let classify = |e: reqwest::Error| {
            if e.is_timeout() { WebhookError::Timeout } else { WebhookError::Connection(e.without_url()) }
        };
        let request = match &prepared.signature {
            Some(signature) => request.header("X-Twilio-Signature", signature.as_str()),
            None => request,
        };
        let mut response = request.send().await.map_err(classify)?;
        let status = response.status().as_u16();
        let content_type =
            response.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(classify)? {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                break;
            }
            body.extend_from_slice(&chunk);
        }
        Ok((status, content_type, String::from_utf8_lossy(&body).into_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use callspec_model::signature::validate;

    fn target(url: &str, method: HttpMethod) -> Target {
        Target { url: url.to_owned(), method }
    }

    #[test]
    fn get_appends_to_the_query_and_signs_the_full_url() {
        let params = Form::from_pairs([("CallSid", "CA1"), ("To", "+14155551212")]);
        let p = prepare(&target("http://127.0.0.1:9000/cb?x=1", HttpMethod::Get), &params, "tok", FaultSet::default())
            .expect("ok");
        assert_eq!(p.url.as_str(), "http://127.0.0.1:9000/cb?x=1&CallSid=CA1&To=%2B14155551212");
        assert!(p.body.is_none());
        assert!(validate("tok", p.url.as_str(), &[], p.signature.as_deref().unwrap_or_default()));
    }

    #[test]
    fn post_signs_url_and_params() {
        let params = Form::from_pairs([("B", "2"), ("A", "1")]);
        let p = prepare(&target("http://127.0.0.1:9000/cb", HttpMethod::Post), &params, "tok", FaultSet::default())
            .expect("ok");
        assert_eq!(p.body.as_deref(), Some("B=2&A=1"));
        assert!(validate(
            "tok",
            "http://127.0.0.1:9000/cb",
            params.pairs(),
            p.signature.as_deref().unwrap_or_default()
        ));
        assert!(prepare(&target("ftp://x/", HttpMethod::Post), &params, "t", FaultSet::default()).is_err());
        assert!(prepare(&target("not a url", HttpMethod::Post), &params, "t", FaultSet::default()).is_err());
    }
}
