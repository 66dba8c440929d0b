//! What the sink holds: the open cases by name and by path segment, each case's routes, its
//! recorded requests within a count and memory budget, and the counts of what it refused.

use super::{Limits, Recorded, Route, SinkStats};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

/// Why the sink did not record a request that reached an open case's prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refusal {
    /// The body was over [`Limits::max_body_bytes`] (413).
    Oversized,
    /// More than [`Limits::max_params`] query and form pairs (413).
    TooManyParams,
    /// The body did not arrive within [`Limits::body_timeout`] (408).
    Slow,
    /// The body broke off (the client reset or closed the connection) (400).
    Unreadable,
}

impl Refusal {
    /// The status the sink answers with.
    pub(super) fn status(self) -> u16 {
        match self {
            Refusal::Oversized | Refusal::TooManyParams => 413,
            Refusal::Slow => 408,
            Refusal::Unreadable => 400,
        }
    }
}

/// Counts of the requests to one case's prefix that the sink refused or did not keep.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Refusals {
    oversized: u64,
    too_many_params: u64,
    slow: u64,
    unreadable: u64,
    /// Answered, but past the case's count or memory budget, so not recorded.
    dropped: u64,
}

impl Refusals {
    fn add(&mut self, why: Refusal) {
        let slot = match why {
            Refusal::Oversized => &mut self.oversized,
            Refusal::TooManyParams => &mut self.too_many_params,
            Refusal::Slow => &mut self.slow,
            Refusal::Unreadable => &mut self.unreadable,
        };
        *slot = slot.saturating_add(1);
    }

    /// One sentence per kind of refusal, for the case's result.
    pub(super) fn notes(&self, limits: &Limits) -> Vec<String> {
        const NOT_COUNTED: &str = "not counted as requests of the target";
        let mut out = Vec::new();
        let mut say = |n: u64, what: String| {
            if n > 0 {
                out.push(format!("the callback sink {what}: {n} request(s), {NOT_COUNTED}"));
            }
        };
        say(self.oversized, format!("refused bodies over {} bytes (413)", limits.max_body_bytes));
        say(self.too_many_params, format!("refused requests with more than {} parameters (413)", limits.max_params));
        say(self.slow, format!("refused bodies not received within {} ms (408)", limits.body_timeout.as_millis()));
        say(self.unreadable, "could not read bodies that broke off (400)".to_owned());
        say(
            self.dropped,
            format!(
                "answered but did not record requests past its limit of {} requests or {} bytes per case",
                limits.max_requests_per_case, limits.max_bytes_per_case
            ),
        );
        out
    }
}

/// One open case.
pub(super) struct CaseSink {
    /// Its canned responses by relative path.
    pub(super) routes: BTreeMap<String, Route>,
    /// What the target sent, in arrival order.
    pub(super) requests: Vec<Recorded>,
    /// The estimated memory `requests` holds.
    bytes: usize,
    /// What the sink refused or dropped.
    pub(super) refusals: Refusals,
}

/// The memory a recorded request holds, estimated from its text and a fixed cost per string,
/// so that many tiny parameters weigh what they really cost.
fn weight(r: &Recorded) -> usize {
    const PER_STRING: usize = 32;
    let pairs = |list: &[(String, String)]| list.iter().map(|(k, v)| k.len() + v.len() + 2 * PER_STRING).sum::<usize>();
    let text = [Some(&r.method), Some(&r.path), Some(&r.url), r.signature.as_ref(), r.content_type.as_ref()];
    let text: usize = text.into_iter().flatten().map(|s| s.len() + PER_STRING).sum();
    size_of::<Recorded>() + text + pairs(&r.params) + pairs(&r.form) + r.body_problem.as_ref().map_or(0, String::len)
}

#[derive(Default)]
struct Cases {
    /// Open cases by path segment.
    by_segment: HashMap<String, CaseSink>,
    /// The path segment of each open case, by case name.
    segment_of: HashMap<String, String>,
}

/// The state every connection shares.
pub(super) struct State {
    /// How the target reaches the sink, without a trailing slash.
    pub(super) public_base: String,
    /// The run's path segment.
    pub(super) run: String,
    pub(super) limits: Limits,
    cases: Mutex<Cases>,
    serial: AtomicU64,
    unknown_path: AtomicU64,
    refused_connections: AtomicU64,
}

impl State {
    pub(super) fn new(public_base: String, run: String, limits: Limits) -> State {
        State {
            public_base,
            run,
            limits,
            cases: Mutex::new(Cases::default()),
            serial: AtomicU64::new(0),
            unknown_path: AtomicU64::new(0),
            refused_connections: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Cases> {
        // A poisoned lock only means a panic elsewhere; the map itself stays usable.
        self.cases.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A number never handed out before in this run.
    pub(super) fn next_serial(&self) -> u64 {
        self.serial.fetch_add(1, Ordering::Relaxed)
    }

    pub(super) fn open(&self, case: &str, segment: &str, routes: BTreeMap<String, Route>) {
        let mut cases = self.lock();
        if let Some(old) = cases.segment_of.insert(case.to_owned(), segment.to_owned()) {
            cases.by_segment.remove(&old);
        }
        let sink = CaseSink { routes, requests: Vec::new(), bytes: 0, refusals: Refusals::default() };
        cases.by_segment.insert(segment.to_owned(), sink);
    }

    pub(super) fn close(&self, case: &str) {
        let mut cases = self.lock();
        if let Some(segment) = cases.segment_of.remove(case) {
            cases.by_segment.remove(&segment);
        }
    }

    /// Runs `f` on the open case named `case`.
    pub(super) fn with_case<T>(&self, case: &str, f: impl FnOnce(&mut CaseSink) -> T) -> Option<T> {
        let mut cases = self.lock();
        let segment = cases.segment_of.get(case)?.clone();
        cases.by_segment.get_mut(&segment).map(f)
    }

    /// The path segment of the open case a request path belongs to, and the path relative to
    /// its prefix (`/status`); `None` (counted) for a path of no open case.
    pub(super) fn case_of<'p>(&self, path: &'p str) -> Option<(String, &'p str)> {
        let found = path
            .strip_prefix("/c/")
            .and_then(|rest| rest.strip_prefix(self.run.as_str()))
            .and_then(|rest| rest.strip_prefix('/'))
            .map(|rest| match rest.find('/') {
                Some(at) => (&rest[..at], &rest[at..]),
                None => (rest, "/"),
            })
            .filter(|(segment, _)| self.lock().by_segment.contains_key(*segment));
        if found.is_none() {
            self.unknown_path.fetch_add(1, Ordering::Relaxed);
        }
        found.map(|(segment, relative)| (segment.to_owned(), relative))
    }

    /// Counts a refused request against its case (if it is still open).
    pub(super) fn refuse(&self, segment: &str, why: Refusal) {
        if let Some(c) = self.lock().by_segment.get_mut(segment) {
            c.refusals.add(why);
        }
    }

    /// Records a request within the case's budget and returns the route to answer with:
    /// `None` when the case closed meanwhile, `Some(None)` when no route matches.
    pub(super) fn record(&self, segment: &str, recorded: Recorded) -> Option<Option<Route>> {
        let mut cases = self.lock();
        let c = cases.by_segment.get_mut(segment)?;
        let route = c.routes.get(&recorded.path).cloned();
        let w = weight(&recorded);
        if c.requests.len() < self.limits.max_requests_per_case && c.bytes + w <= self.limits.max_bytes_per_case {
            c.bytes += w;
            c.requests.push(recorded);
        } else {
            c.refusals.dropped = c.refusals.dropped.saturating_add(1);
        }
        Some(route)
    }

    pub(super) fn refused_connection(&self) {
        self.refused_connections.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn stats(&self) -> SinkStats {
        SinkStats {
            unknown_path: self.unknown_path.load(Ordering::Relaxed),
            refused_connections: self.refused_connections.load(Ordering::Relaxed),
        }
    }
}
