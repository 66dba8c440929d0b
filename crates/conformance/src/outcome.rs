//! What a run produces: one status per case, the failures behind it, and the run record.

use serde::Serialize;
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

/// One failed check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The requirement ID the check belongs to, e.g. `C-TO-1`.
    pub requirement: Option<String>,
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
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(r) = &self.requirement {
            write!(f, "[{r}] ")?;
        }
        write!(f, "step {} ({}): {}", self.step + 1, self.step_label, self.message)?;
        if let Some(p) = &self.pointer {
            write!(f, "\n    at {p}")?;
        }
        write!(f, "\n    expected: {}\n    actual:   {}", self.expected, self.actual)?;
        if let Some(c) = &self.curl {
            write!(f, "\n    repro:    {c}")?;
        }
        Ok(())
    }
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
    /// The failed checks (FAIL, XFAIL).
    pub failures: Vec<Failure>,
    /// Wall time of the case.
    #[serde(serialize_with = "millis", rename = "duration_ms")]
    pub duration: Duration,
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl CaseResult {
    /// The message libtest prints for a case that did not go as expected, or notes for one that did.
    pub fn message(&self) -> String {
        let mut out = String::new();
        match self.status {
            Status::Error => {
                out.push_str("ERROR (harness or setup, not a verdict on the target): ");
                out.push_str(self.error.as_deref().unwrap_or("unknown error"));
            }
            Status::XPass => {
                out.push_str("XPASS: the case passed but the target's expectations list it as a known failure");
                if let Some(r) = &self.reason {
                    out.push_str(&format!(" ({r})"));
                }
                out.push_str("; remove this entry from the profile's known failures");
            }
            _ => {
                if self.status == Status::Fail
                    && let Some(r) = &self.reason
                {
                    out.push_str(&format!("note: {r}\n"));
                }
                for (i, f) in self.failures.iter().enumerate() {
                    if i > 0 {
                        out.push('\n');
                    }
                    out.push_str(&format!("{}: {f}", self.status));
                }
            }
        }
        out
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
    /// Start of the run, RFC 3339 UTC.
    pub started_at: String,
    /// Wall time of the whole run.
    #[serde(serialize_with = "millis", rename = "wall_time_ms")]
    pub wall_time: Duration,
    /// The target.
    pub target: TargetInfo,
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
