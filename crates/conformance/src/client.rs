//! Requests to the target: credentials, time limits, a cap on body size, and a curl command
//! that reproduces each request with the secrets masked.

use base64::Engine as _;
use std::time::{Duration, Instant};

/// A request ready to send.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// HTTP method.
    pub method: String,
    /// Absolute URL, query included.
    pub url: String,
    /// Basic credentials, if any.
    pub basic: Option<(String, String)>,
    /// Body and its content type.
    pub body: Option<(String, Vec<u8>)>,
}

/// A response, read in full (up to the cap).
#[derive(Debug, Clone)]
pub struct Incoming {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`, if any.
    pub content_type: Option<String>,
    /// The body bytes.
    pub body: Vec<u8>,
    /// How long the exchange took.
    pub elapsed: Duration,
}

/// Why a request produced no usable response: a transport failure, never a harness fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// The method is not a valid HTTP token (a fixture mistake caught at send time).
    #[error("bad method {0:?}")]
    BadMethod(String),
    /// No connection could be made.
    #[error("connection failed{0}")]
    Connect(String),
    /// The exchange did not complete in time.
    #[error("no complete response within {0} ms")]
    Timeout(u128),
    /// The body could not be read.
    #[error("could not read the response body{0}")]
    Body(String),
    /// The body is larger than the cap.
    #[error("response body larger than {0} bytes")]
    TooLarge(usize),
    /// Anything else reqwest reports (not HTTP, a reset mid-request).
    #[error("request failed{0}")]
    Other(String),
}

/// Why the HTTP client could not be built.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the HTTP client: {0}")]
pub struct BuildError(#[from] reqwest::Error);

/// Why a body is not JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("body is not JSON ({reason}): {excerpt}")]
pub struct NotJson {
    /// The parser's message.
    pub reason: String,
    /// The start of the body.
    pub excerpt: String,
}

impl Incoming {
    /// The body as JSON, or why it is not.
    pub fn json(&self) -> Result<serde_json::Value, NotJson> {
        serde_json::from_slice(&self.body).map_err(|e| NotJson {
            reason: e.to_string(),
            excerpt: crate::matcher::shorten(&String::from_utf8_lossy(&self.body), 200),
        })
    }
}

/// The client to the target.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    timeout: Duration,
    max_body: usize,
    /// Requests sent so far, by every clone: a target with a quota wants to know.
    sent: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// The profile's request budget (`max_requests_per_second`), shared by every clone.
    budget: Option<std::sync::Arc<crate::pace::Pacer>>,
}

impl Client {
    /// How many requests this client and its clones have sent.
    pub fn requests_sent(&self) -> u64 {
        self.sent.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// A client with a per-request timeout and a body cap.
    pub fn new(timeout: Duration, max_body: usize) -> Result<Client, BuildError> {
        let http = reqwest::Client::builder()
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Client { http, timeout, max_body, sent: Default::default(), budget: None })
    }

    /// Sends at most `per_second` requests a second from here on (a target with a quota); each
    /// request waits for its slot before its own timeout starts.
    pub fn with_budget(mut self, per_second: f64) -> Client {
        self.budget = crate::pace::Pacer::new(per_second).map(std::sync::Arc::new);
        self
    }

    /// How long requests have waited for the request budget so far.
    pub fn budget_waited(&self) -> Duration {
        self.budget.as_ref().map_or(Duration::ZERO, |b| b.waited())
    }

    /// Sends a request; a transport failure (refused, reset, timeout, oversized body) is an `Err`
    /// describing it, which the runner reports as the target's failure.
    pub async fn send(&self, out: &Outgoing) -> Result<Incoming, ClientError> {
        if let Some(budget) = &self.budget {
            budget.wait().await;
        }
        self.sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let started = Instant::now();
        let method = reqwest::Method::from_bytes(out.method.as_bytes())
            .map_err(|_| ClientError::BadMethod(out.method.clone()))?;
        let mut req = self.http.request(method, &out.url);
        if let Some((user, pass)) = &out.basic {
            req = req.basic_auth(user, Some(pass));
        }
        if let Some((ct, body)) = &out.body {
            req = req.header("Content-Type", ct).body(body.clone());
        }
        let exchange = async {
            let mut resp = req.send().await.map_err(|e| describe(&e))?;
            let status = resp.status().as_u16();
            let content_type = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_owned);
            let mut body = Vec::new();
            while let Some(chunk) = resp.chunk().await.map_err(|e| describe(&e))? {
                if body.len() + chunk.len() > self.max_body {
                    return Err(ClientError::TooLarge(self.max_body));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(Incoming { status, content_type, body, elapsed: started.elapsed() })
        };
        match tokio::time::timeout(self.timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(ClientError::Timeout(self.timeout.as_millis())),
        }
    }
}

fn describe(e: &reqwest::Error) -> ClientError {
    // The chain of causes says what happened ("Connection refused", "connection reset").
    let mut causes = String::new();
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(s) = source {
        causes.push_str(": ");
        causes.push_str(&s.to_string());
        source = s.source();
    }
    if e.is_connect() {
        ClientError::Connect(causes)
    } else if e.is_timeout() {
        ClientError::Other(format!(": timed out{causes}"))
    } else if e.is_body() || e.is_decode() {
        ClientError::Body(causes)
    } else {
        ClientError::Other(causes)
    }
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// A curl command reproducing the request; every value in `secrets` is replaced by `****`.
pub fn curl(out: &Outgoing, secrets: &[&str]) -> String {
    let mut cmd = format!("curl -X {} {}", out.method, quote(&out.url));
    if let Some((user, _)) = &out.basic {
        cmd.push_str(&format!(" -u {}", quote(&format!("{user}:****"))));
    }
    if let Some((ct, body)) = &out.body {
        if ct.starts_with("application/x-www-form-urlencoded") {
            if let Ok(form) = callspec_model::Form::parse(body) {
                for (k, v) in form.pairs() {
                    cmd.push_str(&format!(" --data-urlencode {}", quote(&format!("{k}={v}"))));
                }
            }
        } else {
            cmd.push_str(&format!(
                " -H {} --data-binary {}",
                quote(&format!("Content-Type: {ct}")),
                quote(&String::from_utf8_lossy(body))
            ));
        }
    }
    for s in secrets {
        if !s.is_empty() {
            cmd = cmd.replace(s, "****");
        }
    }
    cmd
}

/// The `Authorization` header value for Basic credentials.
pub fn basic_header(user: &str, pass: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curl_masks_secrets_and_lists_form_pairs() {
        let out = Outgoing {
            method: "POST".into(),
            url: "http://localhost:4010/2010-04-01/Accounts/AC1/Calls.json".into(),
            basic: Some(("AC1".into(), "s3cret".into())),
            body: Some((
                "application/x-www-form-urlencoded".into(),
                b"To=%2B14155551212&Url=http%3A%2F%2Fx%2Fs3cret".to_vec(),
            )),
        };
        let c = curl(&out, &["s3cret"]);
        assert!(!c.contains("s3cret"), "{c}");
        assert!(c.contains("--data-urlencode 'To=+14155551212'"), "{c}");
        assert!(c.contains("-u 'AC1:****'"), "{c}");
    }
}
