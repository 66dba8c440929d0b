//! The sink's HTTP/1 server on hyper: the accept loop with its connection cap, each connection
//! with its header timeout and lifetime, and one request from path check to recorded request.
//!
//! A request is checked in the order that costs least first: the path (a path of no open case
//! is a 404 before any body byte is read), the declared length, the body as it streams (cut at
//! the cap), the parameter count (counted before anything is decoded), the case's budget.

use super::store::{Refusal, State};
use super::{Recorded, Route};
use callspec_model::Form;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::{Body, Bytes, Incoming};
use hyper::header::{CONNECTION, CONTENT_TYPE, HeaderValue};
use hyper::http::request::Parts;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

/// hyper's read buffer per connection, which also bounds a request's head (URL and headers).
const MAX_BUF: usize = 64 * 1024;
/// How long a connection past its lifetime, or at shutdown, may take to finish its request.
const GRACE: Duration = Duration::from_secs(30);
/// Pause after a failed accept (out of file descriptors, say), so the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Accepts connections until `stop` fires (or its sender is gone), each in its own task.
pub(super) async fn serve(listener: TcpListener, state: Arc<State>, mut stop: watch::Receiver<bool>) {
    let permits = Arc::new(Semaphore::new(state.limits.max_connections));
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop.changed() => return,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(_) => {
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        match permits.clone().try_acquire_owned() {
            Ok(permit) => {
                tokio::spawn(connection(stream, state.clone(), stop.clone(), permit));
            }
            // Dropping the stream closes it: the cap holds whatever the peers do.
            Err(_) => state.refused_connection(),
        }
    }
}

/// Serves one connection: headers within the header timeout (also the keep-alive idle limit),
/// then a graceful close at its lifetime or at shutdown, cut after [`GRACE`].
async fn connection(
    stream: TcpStream,
    state: Arc<State>,
    mut stop: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
) {
    let limits = state.limits;
    let service = hyper::service::service_fn(move |request| handle(state.clone(), request));
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout).max_buf_size(MAX_BUF);
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        // A peer that misbehaves ends its own connection; there is nothing to report.
        _ = conn.as_mut() => return,
        _ = tokio::time::sleep(limits.connection_lifetime) => {}
        _ = stop.changed() => {}
    }
    conn.as_mut().graceful_shutdown();
    let _ = tokio::time::timeout(GRACE, conn).await;
}

/// An empty answer with `status`.
fn reply(status: u16) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response
}

/// A refusal; the connection closes after it, since the rest of the body is never read.
fn refusal(status: u16) -> Response<Full<Bytes>> {
    let mut response = reply(status);
    response.headers_mut().insert(CONNECTION, HeaderValue::from_static("close"));
    response
}

/// The case's canned response, or 204 where it has none for the path.
fn routed(route: Option<Route>) -> Response<Full<Bytes>> {
    let Some(route) = route else { return reply(204) };
    let mut response = reply(route.status);
    if let Some(body) = route.body {
        *response.body_mut() = Full::new(Bytes::from(body));
        if let Ok(value) = HeaderValue::from_str(&route.content_type) {
            response.headers_mut().insert(CONTENT_TYPE, value);
        }
    }
    response
}

async fn handle(state: Arc<State>, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let at = Instant::now();
    let Some((segment, relative)) = state.case_of(request.uri().path()) else {
        return Ok(refusal(404));
    };
    let relative = relative.to_owned();
    let (parts, body) = request.into_parts();
    let recorded = match read_body(&state, body).await.and_then(|body| recorded(&state, &parts, &body, at, relative)) {
        Ok(r) => r,
        Err(why) => {
            state.refuse(&segment, why);
            return Ok(refusal(why.status()));
        }
    };
    let Some(route) = state.record(&segment, recorded) else {
        // The case closed while the body arrived.
        return Ok(reply(404));
    };
    if let Some(delay) = route.as_ref().and_then(|r| r.delay) {
        tokio::time::sleep(delay).await;
    }
    Ok(routed(route))
}

/// The body, read as it streams: refused at once when its declared length is over the cap, cut
/// as soon as a chunked body passes it, and refused when it does not arrive in time.
async fn read_body(state: &State, body: Incoming) -> Result<Bytes, Refusal> {
    let limits = &state.limits;
    if body.size_hint().lower() > limits.max_body_bytes as u64 {
        return Err(Refusal::Oversized);
    }
    match tokio::time::timeout(limits.body_timeout, Limited::new(body, limits.max_body_bytes).collect()).await {
        Err(_) => Err(Refusal::Slow),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => Err(Refusal::Oversized),
        Ok(Err(_)) => Err(Refusal::Unreadable),
    }
}

/// Name/value pairs in a query or form body, counted without decoding anything.
fn pair_count(text: &[u8]) -> usize {
    text.split(|&b| b == b'&').filter(|p| !p.is_empty()).count()
}

/// The request as the runner sees it: the public URL exactly as requested (scheme and host from
/// the public base, path and query as received), the query and form pairs, the headers it checks.
fn recorded(state: &State, parts: &Parts, body: &[u8], at: Instant, relative: String) -> Result<Recorded, Refusal> {
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let content_type = header("content-type");
    let is_form = content_type.as_deref().is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    let query = parts.uri.query().unwrap_or("");
    let body_pairs = if is_form { pair_count(body) } else { 0 };
    if pair_count(query.as_bytes()) + body_pairs > state.limits.max_params {
        return Err(Refusal::TooManyParams);
    }
    let path_and_query = parts.uri.path_and_query().map_or_else(|| parts.uri.path(), |p| p.as_str());
    let url = format!("{}{path_and_query}", state.public_base);
    let (form, body_problem) = if body.is_empty() {
        (Vec::new(), None)
    } else if is_form {
        match Form::parse(body) {
            Ok(f) => (f.into_pairs(), None),
            Err(e) => (Vec::new(), Some(e.to_string())),
        }
    } else {
        let shown = content_type.as_deref().unwrap_or("");
        (Vec::new(), Some(format!("body with content type {shown:?} is not a form")))
    };
    let mut params: Vec<(String, String)> =
        form_urlencoded::parse(query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    params.extend(form.iter().cloned());
    Ok(Recorded {
        at,
        method: parts.method.to_string(),
        path: relative,
        url,
        params,
        form,
        signature: header("x-twilio-signature"),
        content_type,
        body_problem,
    })
}
