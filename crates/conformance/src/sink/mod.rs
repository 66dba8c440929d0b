//! The callback sink: a small HTTP/1 server (hyper) that serves each case's TwiML and records
//! every request the target makes, with its arrival time, under the case's own path prefix.
//!
//! Each case gets an unguessable prefix `/c/{run}/{case}/…` (128 random bits each), so cases
//! share one server, cannot see each other's requests, and nobody can inject a request into a
//! run without being handed the URL. The sink must be reachable from outside when the target is
//! remote, so it bounds what anyone can make it hold ([`Limits`]): a request to a path of no open
//! case is answered 404 before its body is read; a body over the cap or with too many parameters
//! is refused (413) while it streams; a case records at most so many requests and bytes; slow
//! headers, slow bodies and old connections are cut. A refusal is a harness note of the case
//! ([`Sink::notes`]), never a request of the target. Signatures are checked later, by the runner.

mod server;
mod store;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use store::State;

/// A response the sink gives on a path.
#[derive(Debug, Clone)]
pub struct Route {
    /// HTTP status.
    pub status: u16,
    /// Body.
    pub body: Option<String>,
    /// Content type.
    pub content_type: String,
    /// Delay before answering.
    pub delay: Option<Duration>,
}

/// A request the target made.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// Arrival time.
    pub at: Instant,
    /// `GET`, `POST`...
    pub method: String,
    /// Path relative to the case prefix, e.g. `/status`.
    pub path: String,
    /// The full public URL the target requested, with its query: what Twilio signs.
    pub url: String,
    /// Parameters: the query for GET, the form body for POST (plus query pairs).
    pub params: Vec<(String, String)>,
    /// The form body pairs alone (what a POST signature covers).
    pub form: Vec<(String, String)>,
    /// `X-Twilio-Signature`, if sent.
    pub signature: Option<String>,
    /// `Content-Type`, if sent.
    pub content_type: Option<String>,
    /// Set when the body could not be decoded as a form.
    pub body_problem: Option<String>,
}

impl Recorded {
    /// The first value of a parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The parameters as a JSON object of strings (first value of a repeated name), for schemas.
    pub fn params_json(&self) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        for (k, v) in &self.params {
            map.entry(k.clone()).or_insert_with(|| serde_json::Value::String(v.clone()));
        }
        serde_json::Value::Object(map)
    }
}

/// What the sink accepts and keeps. Twilio's callbacks are a few kilobytes with a few dozen
/// parameters, so the defaults leave a wide margin and still bound memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body read; a larger one is refused with 413 as it streams.
    pub max_body_bytes: usize,
    /// Most parameters (query and form pairs together) one request may carry; more is a 413.
    pub max_params: usize,
    /// Most requests recorded per case; later ones are answered but only counted.
    pub max_requests_per_case: usize,
    /// Most memory (estimated from the recorded text) the requests of one case may hold.
    pub max_bytes_per_case: usize,
    /// Time a connection has to send a request's headers (also the keep-alive idle limit).
    pub header_timeout: Duration,
    /// Time a request's body has to arrive once its headers did; later is a 408.
    pub body_timeout: Duration,
    /// Age after which a connection is closed once its current request is answered.
    pub connection_lifetime: Duration,
    /// Open connections at once; more are closed on accept.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_body_bytes: 64 * 1024,
            max_params: 1_000,
            max_requests_per_case: 1_000,
            max_bytes_per_case: 4 * 1024 * 1024,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            connection_lifetime: Duration::from_secs(600),
            max_connections: 512,
        }
    }
}

/// What the sink turned away outside any case, since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SinkStats {
    /// Requests to a path of no open case (404, body never read, never recorded).
    pub unknown_path: u64,
    /// Connections closed on accept because [`Limits::max_connections`] were open.
    pub refused_connections: u64,
}

/// Why the sink could not start.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// The bind address is taken, not local, or not an address.
    #[error("callback sink: cannot bind {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
    /// The OS random source failed, so the sink's paths could not be made unguessable.
    #[error("callback sink: the OS random source failed: {source}")]
    Random {
        /// Why.
        source: std::io::Error,
    },
}

/// The running sink; dropping it stops the server.
pub struct Sink {
    address: SocketAddr,
    state: Arc<State>,
    /// Derives each case's path segment; never leaves the process.
    key: [u8; 32],
    stop: tokio::sync::watch::Sender<bool>,
}

/// `bytes` as lower-case hex.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Sink {
    /// Binds `bind` and serves with the default [`Limits`]; `public_base` (with `{port}`) is how
    /// the target reaches it.
    pub async fn start(bind: &str, public_base: &str) -> Result<Sink, SinkError> {
        Sink::start_with(bind, public_base, Limits::default()).await
    }

    /// [`Sink::start`] with other limits.
    pub async fn start_with(bind: &str, public_base: &str, limits: Limits) -> Result<Sink, SinkError> {
        let bind_error = |source| SinkError::Bind { addr: bind.to_owned(), source };
        let listener = std::net::TcpListener::bind(bind).map_err(bind_error)?;
        let address = listener.local_addr().map_err(bind_error)?;
        listener.set_nonblocking(true).map_err(bind_error)?;
        let listener = tokio::net::TcpListener::from_std(listener).map_err(bind_error)?;
        let (mut run, mut key) = ([0u8; 16], [0u8; 32]);
        let random_error = |e: getrandom::Error| SinkError::Random { source: std::io::Error::other(e.to_string()) };
        getrandom::fill(&mut run).map_err(random_error)?;
        getrandom::fill(&mut key).map_err(random_error)?;
        let public_base = public_base.replace("{port}", &address.port().to_string()).trim_end_matches('/').to_owned();
        let state = Arc::new(State::new(public_base, hex(&run), limits));
        let (stop, stopped) = tokio::sync::watch::channel(false);
        tokio::spawn(server::serve(listener, state.clone(), stopped));
        Ok(Sink { address, state, key, stop })
    }

    /// The address the sink listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// A fresh 128-bit path segment: SHA-256 of the secret key and a counter, cut to 16 bytes,
    /// so nothing that saw other segments can predict the next one.
    fn fresh_segment(&self) -> String {
        let n = self.state.next_serial();
        let digest = Sha256::new().chain_update(self.key).chain_update(n.to_le_bytes()).finalize();
        hex(&digest[..16])
    }

    /// Registers a case under a fresh unguessable prefix and returns its public base URL
    /// (`{Sink}`). Opening a case again forgets what its old prefix received.
    pub fn open(&self, case: &str, routes: BTreeMap<String, Route>) -> String {
        let segment = self.fresh_segment();
        self.state.open(case, &segment, routes);
        format!("{}/c/{}/{segment}", self.state.public_base, self.state.run)
    }

    /// Replaces a case's routes (after captures made new values known).
    pub fn set_routes(&self, case: &str, routes: BTreeMap<String, Route>) {
        self.state.with_case(case, |c| c.routes = routes);
    }

    /// A copy of what a case's prefix has received so far, in arrival order: requests of the
    /// target only, never the ones the sink refused.
    pub fn requests(&self, case: &str) -> Vec<Recorded> {
        self.state.with_case(case, |c| c.requests.clone()).unwrap_or_default()
    }

    /// The harness notes of a case: requests to its prefix the sink refused or did not record,
    /// one sentence per kind with its count. Empty when every request was recorded.
    pub fn notes(&self, case: &str) -> Vec<String> {
        let limits = self.state.limits;
        self.state.with_case(case, |c| c.refusals.notes(&limits)).unwrap_or_default()
    }

    /// What the sink turned away outside any case.
    pub fn stats(&self) -> SinkStats {
        self.state.stats()
    }

    /// Forgets a case.
    pub fn close(&self, case: &str) {
        self.state.close(case);
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        // The accept loop and every connection watch this; a send error means they are gone.
        let _ = self.stop.send(true);
    }
}
