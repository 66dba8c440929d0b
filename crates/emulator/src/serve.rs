//! Connections: accepts them, serves HTTP/1.1 on each with hyper, holds each to its deadlines
//! and drains them all on shutdown.
//!
//! Two deadlines live here, per connection: a request's headers must arrive within
//! `Config::header_timeout` of their first byte, and a keep-alive connection may wait at most
//! `Config::idle_timeout` for its next request; past either the connection is closed. They are
//! read from what the socket carries and what the requests do, because axum's `serve` sets no
//! deadline and hyper's `header_read_timeout` also runs while a connection idles. The third,
//! the body's, is the API's (`Config::body_timeout`, where the body is read).

use crate::config::Config;
use axum::Router;
use axum::response::Response;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::{Pin, pin};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

/// Pause after an accept error that is not the client's (out of file descriptors, say), so
/// the loop does not spin while connections are closed.
const ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

/// The connection deadlines of a [`Config`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Deadlines {
    /// From a request's first byte to its last header.
    pub(crate) header: Duration,
    /// From the end of the last response to the next request's first byte.
    pub(crate) idle: Duration,
}

impl Deadlines {
    /// The deadlines `config` sets.
    pub(crate) fn of(config: &Config) -> Deadlines {
        Deadlines { header: config.header_timeout, idle: config.idle_timeout }
    }
}

/// Which deadline passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expiry {
    Header,
    Idle,
}

impl fmt::Display for Expiry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Expiry::Header => "header",
            Expiry::Idle => "idle",
        })
    }
}

/// What one connection is doing, as its socket and its requests report it.
struct Activity {
    state: Mutex<ActivityState>,
    /// Woken when a request's first byte arrives, which starts the header deadline.
    head_started: Notify,
}

struct ActivityState {
    /// Requests being handled (their body deadline is the API's).
    in_flight: usize,
    /// When the first byte of the request whose headers are awaited arrived.
    head_since: Option<Instant>,
    /// The last byte read or written.
    last: Instant,
}

impl Activity {
    fn new() -> Activity {
        let state = ActivityState { in_flight: 0, head_since: None, last: Instant::now() };
        Activity { state: Mutex::new(state), head_started: Notify::new() }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, ActivityState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn read(&self) {
        let mut s = self.state();
        s.last = Instant::now();
        if s.in_flight == 0 && s.head_since.is_none() {
            s.head_since = Some(s.last);
            self.head_started.notify_one();
        }
    }

    fn wrote(&self) {
        self.state().last = Instant::now();
    }

    fn request_started(&self) {
        let mut s = self.state();
        s.in_flight += 1;
        s.head_since = None;
    }

    fn request_ended(&self) {
        let mut s = self.state();
        s.in_flight = s.in_flight.saturating_sub(1);
        s.last = Instant::now();
    }

    /// The deadline the connection is held to now; none while a request is handled (or if
    /// the deadline is too far off to represent).
    fn deadline(&self, d: Deadlines) -> Option<(Instant, Expiry)> {
        let s = self.state();
        if s.in_flight > 0 {
            return None;
        }
        match s.head_since {
            Some(since) => since.checked_add(d.header).map(|at| (at, Expiry::Header)),
            None => s.last.checked_add(d.idle).map(|at| (at, Expiry::Idle)),
        }
    }
}

/// A connection's socket, reporting its traffic to the connection's [`Activity`].
struct Watched {
    stream: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.stream).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.activity.read();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.stream).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.wrote();
        }
        polled
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.wrote();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// Marks a request handled until dropped (answered, or abandoned with its connection).
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.request_ended();
    }
}

/// The API as one connection's hyper service.
struct Api {
    router: Router,
    activity: Arc<Activity>,
}

impl hyper::service::Service<hyper::Request<Incoming>> for Api {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn call(&self, request: hyper::Request<Incoming>) -> Self::Future {
        self.activity.request_started();
        let handled = InFlight(self.activity.clone());
        let mut router = self.router.clone();
        Box::pin(async move {
            let response = tower_service::Service::call(&mut router, request).await;
            drop(handled);
            response
        })
    }
}

/// Serves one connection until it ends, passes a deadline, or is drained at shutdown.
async fn connection(stream: TcpStream, router: Router, deadlines: Deadlines, mut stop: watch::Receiver<bool>) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Watched { stream, activity: activity.clone() });
    let api = Api { router, activity: activity.clone() };
    let mut builder = http1::Builder::new();
    builder.header_read_timeout(None::<Duration>).keep_alive(true);
    let mut conn = pin!(builder.serve_connection(io, api));
    let mut draining = false;
    loop {
        let deadline = activity.deadline(deadlines);
        let expires = async {
            match deadline {
                Some((at, _)) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            () = expires => {
                // Traffic may have moved the deadline since it was read: close only if it passed.
                if let Some((at, expiry)) = activity.deadline(deadlines)
                    && at <= Instant::now()
                {
                    tracing::debug!(%expiry, "connection closed: past its deadline");
                    return;
                }
            }
            () = activity.head_started.notified() => {}
            _ = stop.wait_for(|stopped| *stopped), if !draining => {
                conn.as_mut().graceful_shutdown();
                draining = true;
            }
        }
    }
}

/// Errors of one connection attempt, not of the listener.
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    )
}

/// Accepts connections and serves `router` on each until `stop` turns true; then stops
/// accepting, lets every connection finish its request in progress and returns when all are
/// closed. Dropping the future closes them at once.
pub(crate) async fn run(listener: TcpListener, router: Router, deadlines: Deadlines, stop: watch::Receiver<bool>) {
    let mut connections = JoinSet::new();
    let mut stopping = stop.clone();
    loop {
        let accepted = tokio::select! {
            _ = stopping.wait_for(|stopped| *stopped) => break,
            accepted = listener.accept() => accepted,
            // Finished connections are reaped as they end, so the set holds only open ones.
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
        };
        match accepted {
            Ok((stream, _)) => {
                connections.spawn(connection(stream, router.clone(), deadlines, stop.clone()));
            }
            Err(e) if is_connection_error(&e) => {}
            Err(e) => {
                tracing::error!(error = %e, "cannot accept connections; retrying in a second");
                tokio::select! {
                    () = tokio::time::sleep(ACCEPT_BACKOFF) => {}
                    _ = stopping.wait_for(|stopped| *stopped) => break,
                }
            }
        }
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: Deadlines = Deadlines { header: Duration::from_secs(2), idle: Duration::from_secs(30) };

    #[test]
    fn the_deadline_follows_what_the_connection_does() {
        let a = Activity::new();
        let (at, expiry) = a.deadline(D).expect("idle deadline");
        assert_eq!(expiry, Expiry::Idle);
        assert!(at > Instant::now() + Duration::from_secs(20));
        a.read();
        let (header_at, expiry) = a.deadline(D).expect("header deadline");
        assert_eq!(expiry, Expiry::Header);
        assert!(header_at <= Instant::now() + D.header);
        // More bytes of the same headers do not move the header deadline.
        a.read();
        assert_eq!(a.deadline(D), Some((header_at, Expiry::Header)));
        a.request_started();
        assert_eq!(a.deadline(D), None, "a request being handled has the API's body deadline");
        a.read();
        a.request_ended();
        assert_eq!(a.deadline(D).map(|(_, e)| e), Some(Expiry::Idle));
        let far = Deadlines { header: Duration::MAX, idle: Duration::MAX };
        assert_eq!(a.deadline(far), None, "an unrepresentable deadline never passes");
    }
}
