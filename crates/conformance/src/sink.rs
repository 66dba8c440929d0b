//! The callback sink: an HTTP server (wiremock) that serves each case's TwiML and records
//! every request the target makes, with its arrival time, under the case's own path prefix.
//!
//! One responder routes by prefix (`/c/{run}/{case}/…`), so cases share one server and
//! cannot see each other's requests. Recording happens when a request arrives; signatures
//! are checked later against the account's auth token.

use callspec_model::Form;
use std::collections::{BTreeMap, HashMap};
use std::net::TcpListener;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

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

#[derive(Default)]
struct CaseSink {
    routes: BTreeMap<String, Route>,
    requests: Vec<Recorded>,
}

struct State {
    public_base: String,
    cases: Mutex<HashMap<String, CaseSink>>,
}

fn lock(m: &Mutex<HashMap<String, CaseSink>>) -> MutexGuard<'_, HashMap<String, CaseSink>> {
    // A poisoned lock only means a panic elsewhere; the map itself stays usable.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

struct Recorder(Arc<State>);

impl Respond for Recorder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let at = Instant::now();
        let path = request.url.path();
        let Some(rest) = path.strip_prefix("/c/") else {
            return ResponseTemplate::new(404);
        };
        let mut parts = rest.splitn(3, '/');
        let (Some(run), Some(case)) = (parts.next(), parts.next()) else {
            return ResponseTemplate::new(404);
        };
        let key = format!("{run}/{case}");
        let relative = format!("/{}", parts.next().unwrap_or(""));
        let url = match request.url.query() {
            Some(q) => format!("{}{}?{}", self.0.public_base, path, q),
            None => format!("{}{}", self.0.public_base, path),
        };
        let header = |name: &str| request.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let content_type = header("content-type");
        let query: Vec<(String, String)> =
            request.url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        let (form, body_problem) = if request.body.is_empty() {
            (Vec::new(), None)
        } else if content_type.as_deref().is_some_and(|c| c.starts_with("application/x-www-form-urlencoded")) {
            match Form::parse(&request.body) {
                Ok(f) => (f.into_pairs(), None),
                Err(e) => (Vec::new(), Some(e.to_string())),
            }
        } else {
            (
                Vec::new(),
                Some(format!("body with content type {:?} is not a form", content_type.as_deref().unwrap_or(""))),
            )
        };
        let mut params = query;
        params.extend(form.iter().cloned());
        let recorded = Recorded {
            at,
            method: request.method.to_string(),
            path: relative.clone(),
            url,
            params,
            form,
            signature: header("x-twilio-signature"),
            content_type,
            body_problem,
        };
        let mut cases = lock(&self.0.cases);
        let Some(sink) = cases.get_mut(&key) else {
            return ResponseTemplate::new(404);
        };
        sink.requests.push(recorded);
        match sink.routes.get(&relative) {
            None => ResponseTemplate::new(204),
            Some(route) => {
                let mut t = ResponseTemplate::new(route.status);
                if let Some(body) = &route.body {
                    t = t.set_body_raw(body.clone().into_bytes(), &route.content_type);
                }
                if let Some(d) = route.delay {
                    t = t.set_delay(d);
                }
                t
            }
        }
    }
}

/// The running sink.
pub struct Sink {
    server: MockServer,
    state: Arc<State>,
    run: String,
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
}

impl Sink {
    /// Binds `bind` and serves; `public_base` (with `{port}`) is how the target reaches it.
    pub async fn start(bind: &str, public_base: &str) -> Result<Sink, SinkError> {
        let bind_error = |source| SinkError::Bind { addr: bind.to_owned(), source };
        let listener = TcpListener::bind(bind).map_err(bind_error)?;
        let port = listener.local_addr().map_err(bind_error)?.port();
        let public_base = public_base.replace("{port}", &port.to_string()).trim_end_matches('/').to_owned();
        let state = Arc::new(State { public_base, cases: Mutex::new(HashMap::new()) });
        let server = MockServer::builder().listener(listener).disable_request_recording().start().await;
        server.register(Mock::given(wiremock::matchers::any()).respond_with(Recorder(state.clone()))).await;
        let run = format!("{:08x}", callspec_model::Sid::random(callspec_model::SidKind::Call).value() as u32);
        Ok(Sink { server, state, run })
    }

    /// The address the sink listens on.
    pub fn address(&self) -> std::net::SocketAddr {
        *self.server.address()
    }

    /// The registry key of a case: the run's prefix and the case name with `::` as `.`.
    fn key(&self, case: &str) -> String {
        format!("{}/{}", self.run, case.replace("::", "."))
    }

    /// Registers a case and returns its public base URL (`{Sink}`).
    pub fn open(&self, case: &str, routes: BTreeMap<String, Route>) -> String {
        let key = self.key(case);
        lock(&self.state.cases).insert(key.clone(), CaseSink { routes, requests: Vec::new() });
        format!("{}/c/{key}", self.state.public_base)
    }

    /// Replaces a case's routes (after captures made new values known).
    pub fn set_routes(&self, case: &str, routes: BTreeMap<String, Route>) {
        let key = self.key(case);
        if let Some(sink) = lock(&self.state.cases).get_mut(&key) {
            sink.routes = routes;
        }
    }

    /// A copy of what a case's prefix has received so far, in arrival order.
    pub fn requests(&self, case: &str) -> Vec<Recorded> {
        let key = self.key(case);
        lock(&self.state.cases).get(&key).map(|s| s.requests.clone()).unwrap_or_default()
    }

    /// Forgets a case.
    pub fn close(&self, case: &str) {
        let key = self.key(case);
        lock(&self.state.cases).remove(&key);
    }
}
