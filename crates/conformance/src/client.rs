//! Requests to the target: credentials, time limits, a cap on body size, the profile's request
//! budget and per-account concurrency limit, and a curl command that reproduces each request
//! with the secrets masked.

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
    /// The profile's `concurrency_limit`: requests in flight per account, shared by every clone.
    slots: Option<std::sync::Arc<AccountSlots>>,
}

/// Request slots per account, so that the harness itself never exceeds the concurrency limit
/// the target declares (the 429 it would earn is the harness's doing, not the target's).
#[derive(Debug)]
struct AccountSlots {
    limit: usize,
    by_account: std::sync::Mutex<std::collections::HashMap<String, std::sync::Arc<tokio::sync::Semaphore>>>,
}

impl AccountSlots {
    /// The semaphore of the account a request acts on: the `AC…` after `/Accounts/` in its
    /// path, else its Basic user (an account-less request is counted against its credentials).
    fn of(&self, out: &Outgoing) -> std::sync::Arc<tokio::sync::Semaphore> {
        let key = account_of(&out.url).or_else(|| out.basic.as_ref().map(|(user, _)| user.clone())).unwrap_or_default();
        let mut map = self.by_account.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.entry(key).or_insert_with(|| std::sync::Arc::new(tokio::sync::Semaphore::new(self.limit))).clone()
    }
}

/// The account SID in a Twilio API URL's path, if any.
fn account_of(url: &str) -> Option<String> {
    let path = url.split_once("://").map_or(url, |(_, rest)| rest);
    let (_, after) = path.split_once("/Accounts/")?;
    let sid = after.split(['/', '?', '.']).next()?;
    sid.starts_with("AC").then(|| sid.to_owned())
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
        Ok(Client { http, timeout, max_body, sent: Default::default(), budget: None, slots: None })
    }

    /// Sends at most `per_second` requests a second from here on (a target with a quota); each
    /// request waits for its slot before its own timeout starts.
    pub fn with_budget(mut self, per_second: f64) -> Client {
        self.budget = crate::pace::Pacer::new(per_second).map(std::sync::Arc::new);
        self
    }

    /// Keeps at most `limit` requests in flight per account from here on (the profile's
    /// `concurrency_limit`); a request waits for its slot before its own timeout starts.
    pub fn with_concurrency_limit(mut self, limit: u32) -> Client {
        self.slots = (limit > 0)
            .then(|| std::sync::Arc::new(AccountSlots { limit: limit as usize, by_account: Default::default() }));
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
        // Every slot holder is a request of ours with its own timeout, so this wait is bounded.
        let _slot = match &self.slots {
            Some(slots) => slots.of(out).acquire_owned().await.ok(),
            None => None,
        };
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

    #[test]
    fn the_account_is_read_from_the_path_else_the_credentials() {
        assert_eq!(account_of("http://h:1/2010-04-01/Accounts/ACab12/Calls.json").as_deref(), Some("ACab12"));
        assert_eq!(account_of("http://h:1/2010-04-01/Accounts/ACab12.json").as_deref(), Some("ACab12"));
        assert_eq!(account_of("http://h:1/2010-04-01/Accounts.json"), None);
        let slots = AccountSlots { limit: 1, by_account: Default::default() };
        let out = |url: &str| Outgoing {
            method: "GET".into(),
            url: url.into(),
            basic: Some(("ACmain".into(), "t".into())),
            body: None,
        };
        let sub = slots.of(&out("http://h/2010-04-01/Accounts/ACsub/Calls.json"));
        let main = slots.of(&out("http://h/2010-04-01/Accounts.json"));
        assert!(!std::sync::Arc::ptr_eq(&sub, &main));
        assert!(std::sync::Arc::ptr_eq(&main, &slots.of(&out("http://h/2010-04-01/Accounts/ACmain/Calls.json"))));
    }

    /// Twelve concurrent requests on one account with a limit of three: the server never sees
    /// more than three at once, and every request is answered.
    #[tokio::test]
    async fn requests_in_flight_never_exceed_the_limit() {
        use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a test server");
        let addr = listener.local_addr().expect("its address");
        let now = std::sync::Arc::new(AtomicUsize::new(0));
        let peak = std::sync::Arc::new(AtomicUsize::new(0));
        let (n, p) = (now.clone(), peak.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else { return };
                let (n, p) = (n.clone(), p.clone());
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    while let Ok(read) = sock.read(&mut buf).await {
                        if read == 0 {
                            return;
                        }
                        p.fetch_max(n.fetch_add(1, SeqCst) + 1, SeqCst);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        n.fetch_sub(1, SeqCst);
                        let reply = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}";
                        if sock.write_all(reply).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        let client = Client::new(Duration::from_secs(10), 1024).expect("a client").with_concurrency_limit(3);
        let url = format!("http://{addr}/2010-04-01/Accounts/AC1/Calls.json");
        let out = Outgoing { method: "GET".into(), url, basic: Some(("AC1".into(), "t".into())), body: None };
        let mut sends = tokio::task::JoinSet::new();
        for _ in 0..12 {
            let (client, out) = (client.clone(), out.clone());
            sends.spawn(async move { client.send(&out).await });
        }
        let answers = sends.join_all().await;
        assert!(answers.iter().all(|a| a.as_ref().is_ok_and(|r| r.status == 200)), "{answers:?}");
        assert!(peak.load(SeqCst) <= 3, "peak {}", peak.load(SeqCst));
        assert!(peak.load(SeqCst) >= 2, "the requests ran concurrently at all: peak {}", peak.load(SeqCst));
    }
}
