//! What a run produces: one status per case, the failures behind it, and the run record.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// The result of one case, compared with the target's expectations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    /// Every check held.
    Pass,
    /// A check failed: the target does not behave as Twilio documents.
    Fail,
    /// Failed, and the target's expectations list it as a known failure.
    #[serde(rename = "XFAIL")]
    XFail,
    /// Passed although listed as a known failure: the entry must go.
    #[serde(rename = "XPASS")]
    XPass,
    /// Not run, with a reason (filtered out, capability missing).
    Skip,
    /// The harness could not run the case: a setup step failed, a fixture is wrong, the sink broke.
    Error,
}

impl Status {
    /// Every status, in report order.
    pub const ALL: [Status; 6] =
        [Status::Pass, Status::Fail, Status::XFail, Status::XPass, Status::Skip, Status::Error];

    /// The upper-case label used in reports.
    pub const fn label(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::XFail => "XFAIL",
            Status::XPass => "XPASS",
            Status::Skip => "SKIP",
            Status::Error => "ERROR",
        }
    }

    /// Whether the result matches what the target's expectations say (exit code 0).
    pub const fn is_expected(self) -> bool {
        matches!(self, Status::Pass | Status::XFail | Status::Skip)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// What kind of check failed: the first thing a reader (or `cargo xtask faults`) sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureKind {
    /// No usable HTTP exchange: refused, reset, timed out, or a body too large to read.
    Transport,
    /// The HTTP status code.
    Status,
    /// The Twilio error code, or the fields of the error body that go with it.
    ErrorCode,
    /// `Content-Type` or a body that is not JSON where JSON is due.
    Json,
    /// The body does not follow the payload's JSON Schema.
    Schema,
    /// A value at a JSON pointer does not match the case's rule.
    Matcher,
    /// A value the case needs to keep is absent.
    Capture,
    /// A polled condition was not reached in time.
    Poll,
    /// Too many or too few requests from the target to the sink.
    CallbackCount,
    /// A request to the sink has the wrong method, body or parameters.
    CallbackParam,
    /// Requests to the sink in the wrong order.
    CallbackOrder,
    /// `X-Twilio-Signature` absent or invalid.
    Signature,
    /// Time between events outside the allowed bounds.
    Timing,
    /// A captured sequence of values does not grow as required.
    Sequence,
    /// Paging: short pages, repeated or missing items, endless `next_page_uri`.
    Paging,
    /// The response differs from the reviewed golden snapshot.
    Snapshot,
    /// The case did not finish within its deadline.
    Deadline,
}

impl FailureKind {
    /// The kebab-case name used in reports, profiles and baselines.
    pub const fn name(self) -> &'static str {
        match self {
            FailureKind::Transport => "transport",
            FailureKind::Status => "status",
            FailureKind::ErrorCode => "error-code",
            FailureKind::Json => "json",
            FailureKind::Schema => "schema",
            FailureKind::Matcher => "matcher",
            FailureKind::Capture => "capture",
            FailureKind::Poll => "poll",
            FailureKind::CallbackCount => "callback-count",
            FailureKind::CallbackParam => "callback-param",
            FailureKind::CallbackOrder => "callback-order",
            FailureKind::Signature => "signature",
            FailureKind::Timing => "timing",
            FailureKind::Sequence => "sequence",
            FailureKind::Paging => "paging",
            FailureKind::Snapshot => "snapshot",
            FailureKind::Deadline => "deadline",
        }
    }
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One failed check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The requirement ID the check belongs to, e.g. `C-TO-1`.
    pub requirement: Option<String>,
    /// What kind of check failed.
    pub kind: FailureKind,
    /// Zero-based step index in the case file.
    pub step: usize,
    /// What the step does, e.g. `POST /2010-04-01/Accounts/AC…/Calls.json`.
    pub step_label: String,
    /// JSON pointer (into the response body or callback parameters) of the value checked.
    pub pointer: Option<String>,
    /// What the check expected.
    pub expected: String,
    /// What the target produced.
    pub actual: String,
    /// A sentence saying what went wrong.
    pub message: String,
    /// A curl command reproducing the request, secrets masked.
    pub curl: Option<String>,
    /// The reason of the known-failure entry that covers this failure; `None` for a new failure.
    pub known: Option<String>,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(r) = &self.requirement {
            write!(f, "[{r}] ")?;
        }
        write!(f, "{} check, step {} ({}): {}", self.kind, self.step + 1, self.step_label, self.message)?;
        if let Some(p) = &self.pointer {
            write!(f, "\n    at {p}")?;
        }
        write!(f, "\n    expected: {}\n    actual:   {}", self.expected, self.actual)?;
        if let Some(c) = &self.curl {
            write!(f, "\n    repro:    {c}")?;
        }
        if let Some(k) = &self.known {
            write!(f, "\n    known failure: {k}")?;
        }
        Ok(())
    }
}

/// A step that did not run, and why (a value it needs was not captured, the case deadline passed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotRun {
    /// Zero-based step index in the case file.
    pub step: usize,
    /// The requirement the step's checks belong to.
    pub requirement: Option<String>,
    /// Why it did not run.
    pub why: String,
}

/// What the snapshot comparison made of a case whose checks all held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SnapshotOutcome {
    /// The case's snapshot matched.
    Matched,
    /// There was none: this run's was recorded (a first run against a snapshot directory).
    Recorded,
    /// It differed and was rewritten (`--update-snapshots`).
    Updated,
    /// It differed: the case FAILs with kind `snapshot`.
    Differed,
}

impl SnapshotOutcome {
    /// Every outcome, in report order.
    pub const ALL: [SnapshotOutcome; 4] =
        [SnapshotOutcome::Matched, SnapshotOutcome::Recorded, SnapshotOutcome::Updated, SnapshotOutcome::Differed];

    /// The word used in reports and output.
    pub const fn label(self) -> &'static str {
        match self {
            SnapshotOutcome::Matched => "matched",
            SnapshotOutcome::Recorded => "recorded",
            SnapshotOutcome::Updated => "updated",
            SnapshotOutcome::Differed => "differed",
        }
    }
}

/// What one case says about one requirement, from the checks that ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckVerdict {
    /// Its checks ran and held.
    Passed,
    /// A check failed and no known-failure entry covers it.
    Failed,
    /// Its checks failed, every failure covered by a known-failure entry.
    KnownFailure,
    /// None of its checks ran (skipped case, harness error, or steps blocked by an earlier failure).
    NotRun,
}

/// One requirement's verdict within one case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequirementResult {
    /// The requirement ID.
    pub id: String,
    /// What the case's checks say about it.
    pub verdict: CheckVerdict,
    /// For `not_run`: why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

/// The result of one case.
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    /// Trial name, `area::NNN_slug`.
    pub name: String,
    /// The case file, relative to the repository root.
    pub file: String,
    /// The case's title.
    pub title: String,
    /// Requirement IDs the case covers.
    pub requirements: Vec<String>,
    /// The case's tags.
    pub tags: Vec<String>,
    /// The final status.
    pub status: Status,
    /// Why it was skipped, or the known-failure reason for XFAIL/XPASS.
    pub reason: Option<String>,
    /// For ERROR: what broke in the harness or setup.
    pub error: Option<String>,
    /// What each step of the case does, in order (its name, else its kind and target).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<String>,
    /// The failed checks (FAIL, XFAIL), each with its own requirement and kind.
    pub failures: Vec<Failure>,
    /// Steps that did not run, and why.
    pub not_run: Vec<NotRun>,
    /// Per requirement, what the checks that ran say.
    pub checks: Vec<RequirementResult>,
    /// Known-failure entries matching the case that covered none of its failures (remove them).
    pub stale_known: Vec<String>,
    /// What the snapshot comparison did, when it ran (`recorded` on a first run against a
    /// snapshot directory).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<SnapshotOutcome>,
    /// Harness notes: what the callback sink refused or did not record under the case's prefix
    /// (never counted as the target's requests, never a verdict).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Time the case ran, without the wait for its turn on a shared account.
    #[serde(serialize_with = "millis", rename = "duration_ms")]
    pub duration: Duration,
    /// Time spent waiting for a turn on a shared account before the case could start.
    #[serde(serialize_with = "millis", rename = "queue_wait_ms")]
    pub queue_wait: Duration,
    /// The case's exchanges on one time axis: its API requests and the requests the target made
    /// to the sink, ordered by time from the case's first request (bounded; see `timeline_dropped`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub timeline: Vec<TimelineEvent>,
    /// Events left out of `timeline` to keep the report small.
    #[serde(skip_serializing_if = "is_zero")]
    pub timeline_dropped: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Which way an exchange of the timeline went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// The runner's request to the target's API, and its response.
    Api,
    /// A request the target made to the callback sink (TwiML fetch, status or recording callback).
    Callback,
}

/// One exchange of a case's timeline; every text field is masked and bounded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimelineEvent {
    /// Milliseconds from the case's first exchange.
    pub at_ms: u64,
    /// Which way it went.
    pub direction: Direction,
    /// HTTP method.
    pub method: String,
    /// The API path and query, or the sink path relative to the case's prefix.
    pub path: String,
    /// The response status (API), absent when no response came or for callbacks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// How long the API exchange took.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// Zero-based step of the case that sent it (API only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<usize>,
    /// Key parameters of a callback (`CallStatus`, `SequenceNumber`, `RecordingStatus`...).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<(String, String)>,
    /// Whether `X-Twilio-Signature` validated (callbacks); `false` also when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature_valid: Option<bool>,
    /// The start of the response body or the transport error (API), cut at a bound: kept for a
    /// failing step's exchanges and error answers only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Whether a failure of the case points at this exchange.
    pub failed: bool,
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl CaseResult {
    /// A result with no checks yet, for a case that was not run (`status`: SKIP) or is about to be.
    pub fn new(name: &str, file: &str, title: &str, requirements: &[String], tags: &[String]) -> CaseResult {
        CaseResult {
            name: name.to_owned(),
            file: file.to_owned(),
            title: title.to_owned(),
            requirements: requirements.to_vec(),
            tags: tags.to_vec(),
            status: Status::Pass,
            reason: None,
            error: None,
            steps: Vec::new(),
            failures: Vec::new(),
            not_run: Vec::new(),
            checks: Vec::new(),
            stale_known: Vec::new(),
            snapshot: None,
            notes: Vec::new(),
            duration: Duration::ZERO,
            queue_wait: Duration::ZERO,
            timeline: Vec::new(),
            timeline_dropped: 0,
        }
    }

    /// The message printed for a case that did not go as expected, or notes for one that did.
    pub fn message(&self) -> String {
        let mut out = String::new();
        match self.status {
            Status::Error => {
                out.push_str("ERROR (harness or setup, not a verdict on the target): ");
                out.push_str(self.error.as_deref().unwrap_or("unknown error"));
            }
            Status::Skip => out.push_str(self.reason.as_deref().unwrap_or("skipped")),
            _ => {
                if let Some(r) = &self.reason {
                    out.push_str(&format!("note: {r}\n"));
                }
                for stale in &self.stale_known {
                    out.push_str(&format!(
                        "XPASS: the known-failure entry {stale:?} covers no failure of this run; remove this entry (or rerun --write-baseline)\n"
                    ));
                }
                for f in &self.failures {
                    let label = match (&f.known, self.status) {
                        (Some(_), _) => "XFAIL",
                        (None, Status::Fail) if self.failures.iter().any(|g| g.known.is_some()) => "FAIL (new)",
                        (None, _) => "FAIL",
                    };
                    out.push_str(&format!("{label}: {f}\n"));
                }
                for n in &self.not_run {
                    out.push_str(&format!("NOT RUN: step {}: {}\n", n.step + 1, n.why));
                }
            }
        }
        for note in &self.notes {
            if !out.is_empty() && !out.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(&format!("harness note: {note}\n"));
        }
        out.trim_end().to_owned()
    }
}

/// A requirement of the catalog, as reports show it.
#[derive(Debug, Clone, Serialize)]
pub struct RequirementInfo {
    /// Stable ID, e.g. `C-TO-1`.
    pub id: String,
    /// Catalog area, e.g. `CREATE: addressing`.
    pub area: String,
    /// The requirement in one sentence.
    pub statement: String,
}

/// Where the run went.
#[derive(Debug, Clone, Serialize)]
pub struct TargetInfo {
    /// The profile's name.
    pub name: String,
    /// The base URL, without credentials.
    pub base_url: String,
    /// Whether the reference emulator was started in-process.
    pub embedded: bool,
}

/// Everything a run produced; the reports are views of it.
#[derive(Debug, Clone, Serialize)]
pub struct RunRecord {
    /// Format version of `report.json`.
    pub version: u32,
    /// callspec's version.
    pub tool_version: String,
    /// The suite's version ([`crate::suite::SuiteVersion`]): bumped when cases change meaning.
    pub suite_version: u32,
    /// SHA-256 of the suite's files, in hex.
    pub suite_hash: String,
    /// Start of the run, RFC 3339 UTC.
    pub started_at: String,
    /// Wall time of the whole run.
    #[serde(serialize_with = "millis", rename = "wall_time_ms")]
    pub wall_time: Duration,
    /// The target.
    pub target: TargetInfo,
    /// HTTP requests sent to the target (preflight, setup and cases; not the sink's answers).
    pub requests_sent: u64,
    /// Time requests waited for the profile's request budget (`max_requests_per_second`).
    #[serde(serialize_with = "millis", rename = "budget_wait_ms")]
    pub budget_wait: Duration,
    /// One result per case, sorted by name.
    pub cases: Vec<CaseResult>,
    /// The requirement catalog.
    pub requirements: Vec<RequirementInfo>,
}

/// The version written into `report.json`; bump it on an incompatible change.
pub const REPORT_VERSION: u32 = 1;

impl RunRecord {
    /// How many cases ended with each status.
    pub fn counts(&self) -> Vec<(Status, usize)> {
        Status::ALL.iter().map(|s| (*s, self.cases.iter().filter(|c| c.status == *s).count())).collect()
    }
}
