//! The callback receiver: an axum server on loopback that records every status callback in
//! arrival order, checks its `X-Twilio-Signature` against its account's token, and answers as
//! the URL's mode says (at once, slowly, 500, or not before the emulator gives up).

use crate::plan::Mode;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::post;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::watch;
use tokio::time::Instant;

/// One status callback as it arrived.
#[derive(Debug, Clone)]
pub(crate) struct Arrival {
    /// The account index of the URL it was sent to.
    pub(crate) account: usize,
    /// The URL's mode.
    pub(crate) mode: Mode,
    /// `CallSid`.
    pub(crate) call_sid: String,
    /// `AccountSid`.
    pub(crate) account_sid: String,
    /// `CallStatus`.
    pub(crate) status: String,
    /// `SequenceNumber`, if it parsed.
    pub(crate) sequence: Option<u64>,
    /// `Timestamp` as Unix seconds, if it parsed.
    pub(crate) fired_s: Option<i64>,
    /// Wall-clock arrival, Unix milliseconds (compared with `Timestamp`).
    pub(crate) arrived_ms: i64,
    /// Monotonic arrival (for the drain time).
    pub(crate) at: Instant,
    /// Whether `X-Twilio-Signature` is valid for the account's token.
    pub(crate) signed: bool,
}

/// Every callback so far, in arrival order, and a per-call count waiters watch.
#[derive(Default)]
struct Log {
    arrivals: Vec<Arrival>,
    per_call: HashMap<String, usize>,
    /// Requests whose path or body the receiver could not read.
    unreadable: Vec<String>,
}

/// What the handlers share.
struct Inner {
    /// Auth token of each account, by index.
    tokens: Vec<String>,
    /// The receiver's own base URL (`http://127.0.0.1:PORT`), the start of every signed URL.
    base: String,
    slow: Duration,
    hang: Duration,
    log: Mutex<Log>,
    /// Bumped on every arrival.
    changed: watch::Sender<u64>,
}

/// A running receiver.
#[derive(Clone)]
pub(crate) struct Receiver {
    inner: Arc<Inner>,
}

impl Receiver {
    /// Starts the server on a free loopback port. `slow` is the slow mode's delay, `hang` how
    /// long the hanging mode holds a request (longer than the emulator's webhook timeout).
    pub(crate) async fn start(tokens: Vec<String>, slow: Duration, hang: Duration) -> std::io::Result<Receiver> {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let port = listener.local_addr()?.port();
        let (changed, _) = watch::channel(0);
        let inner = Arc::new(Inner {
            tokens,
            base: format!("http://127.0.0.1:{port}"),
            slow,
            hang,
            log: Mutex::new(Log::default()),
            changed,
        });
        let app = Router::new().route("/cb/{account}/{mode}", post(callback)).with_state(inner.clone());
        // The task ends with the runtime, at the end of the run.
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                say(&format!("the callback receiver stopped: {e}"));
            }
        });
        Ok(Receiver { inner })
    }

    /// The `StatusCallback` URL of an account's calls in a mode; a refusing mode's is a closed port.
    pub(crate) fn url(&self, account: usize, mode: Mode, closed_port: u16) -> String {
        match mode {
            Mode::Refuse => format!("http://127.0.0.1:{closed_port}/cb/{account}/refuse"),
            _ => format!("{}/cb/{account}/{}", self.inner.base, mode.segment()),
        }
    }

    /// A watch that changes on every arrival.
    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.inner.changed.subscribe()
    }

    /// How many callbacks of `call_sid` have arrived.
    pub(crate) fn count(&self, call_sid: &str) -> usize {
        self.lock().per_call.get(call_sid).copied().unwrap_or(0)
    }

    /// Every arrival so far, in arrival order, and the requests that could not be read.
    pub(crate) fn snapshot(&self) -> (Vec<Arrival>, Vec<String>) {
        let log = self.lock();
        (log.arrivals.clone(), log.unreadable.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Log> {
        // A handler never panics while holding the lock; recover the data if one did.
        self.inner.log.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[allow(clippy::print_stderr, reason = "the receiver's own failure goes to the terminal")]
fn say(message: &str) {
    eprintln!("load: {message}");
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

async fn callback(
    State(inner): State<Arc<Inner>>,
    Path((account, mode)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let at = Instant::now();
    let arrived_ms = now_ms();
    let (Some(account), Some(mode)) = (account.parse::<usize>().ok(), Mode::from_segment(&mode)) else {
        inner.log.lock().unwrap_or_else(PoisonError::into_inner).unreadable.push(format!("path {uri}"));
        return StatusCode::NOT_FOUND;
    };
    let params: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let get = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let url = format!("{}{}", inner.base, uri.path_and_query().map_or("", |p| p.as_str()));
    let signature = headers.get("X-Twilio-Signature").and_then(|v| v.to_str().ok()).unwrap_or("");
    let signed = inner
        .tokens
        .get(account)
        .is_some_and(|token| callspec_model::signature::validate(token, &url, &params, signature));
    let fired_s = get("Timestamp")
        .and_then(|t| callspec_model::rfc2822::parse(&t).ok())
        .map(time::OffsetDateTime::unix_timestamp);
    let arrival = Arrival {
        account,
        mode,
        call_sid: get("CallSid").unwrap_or_default(),
        account_sid: get("AccountSid").unwrap_or_default(),
        status: get("CallStatus").unwrap_or_default(),
        sequence: get("SequenceNumber").and_then(|s| s.parse().ok()),
        fired_s,
        arrived_ms,
        at,
        signed,
    };
    {
        let mut log = inner.log.lock().unwrap_or_else(PoisonError::into_inner);
        *log.per_call.entry(arrival.call_sid.clone()).or_default() += 1;
        log.arrivals.push(arrival);
    }
    inner.changed.send_modify(|n| *n += 1);
    match mode {
        Mode::Ok | Mode::Refuse => StatusCode::OK,
        Mode::Fail => StatusCode::INTERNAL_SERVER_ERROR,
        Mode::Slow => {
            tokio::time::sleep(inner.slow).await;
            StatusCode::OK
        }
        Mode::Hang => {
            // The emulator gives up first; the answer goes nowhere.
            tokio::time::sleep(inner.hang).await;
            StatusCode::OK
        }
    }
}
