//! Every report of a run, each a view of one [`RunRecord`]: JSON, JUnit XML, Markdown summary, coverage, HTML (`html`) and the terminal line.
//!
//! The writers never panic and never re-judge a case: each one derives what it shows from the
//! case's final [`Status`], so a case that ran and failed can never appear as skipped.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};
use serde::Serialize;

use crate::outcome::{CaseResult, CheckVerdict, REPORT_VERSION, RunRecord, Status};

pub mod html;
pub use html::REPORT_HTML;

/// The run record with its summary and coverage, as written to `report.json`.
pub const REPORT_JSON: &str = "report.json";
/// JUnit XML for CI test viewers.
pub const JUNIT_XML: &str = "junit.xml";
/// Markdown for a GitHub step summary or a PR comment.
pub const SUMMARY_MD: &str = "summary.md";
/// The requirement coverage table in Markdown.
pub const COVERAGE_MD: &str = "coverage.md";
/// The requirement coverage rows in JSON, for comparing runs and targets.
pub const COVERAGE_JSON: &str = "coverage.json";

/// Longest message shown in a Markdown table cell, in characters.
const CELL_MESSAGE_MAX: usize = 200;

/// Writes every report of `record` into `dir` (created if needed) and returns the paths written.
pub fn write_all(record: &RunRecord, dir: &Path) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let rows = coverage(record);
    let files = [
        (REPORT_JSON, report_json_with(record, &rows).map_err(io::Error::other)?),
        (JUNIT_XML, junit_xml(record)),
        (SUMMARY_MD, summary_markdown_with(record, &rows)),
        (COVERAGE_MD, coverage_document(record, &rows)),
        (COVERAGE_JSON, coverage_json_with(record, &rows).map_err(io::Error::other)?),
        (REPORT_HTML, html::render(record, &rows)),
    ];
    let mut written = Vec::with_capacity(files.len());
    for (name, content) in files {
        let path = dir.join(name);
        std::fs::write(&path, content)?;
        written.push(path);
    }
    Ok(written)
}

/// `report.json`: the record's own fields first (so `version` leads), then the derived views.
#[derive(Serialize)]
struct JsonReport<'a> {
    #[serde(flatten)]
    record: &'a RunRecord,
    summary: Summary,
    coverage: &'a [CoverageRow],
}

/// Counts per status, in report order, plus how many results were not what the expectations say.
#[derive(Serialize)]
struct Summary {
    total: usize,
    #[serde(flatten)]
    counts: BTreeMap<Status, usize>,
    unexpected: usize,
}

impl Summary {
    fn of(record: &RunRecord) -> Summary {
        Summary {
            total: record.cases.len(),
            counts: record.counts().into_iter().collect(),
            unexpected: unexpected(record).count(),
        }
    }
}

/// `coverage.json`: enough context to compare two runs without their `report.json`.
#[derive(Serialize)]
struct CoverageJson<'a> {
    version: u32,
    target: &'a str,
    started_at: &'a str,
    covered: usize,
    not_covered: usize,
    requirements: &'a [CoverageRow],
}

/// `report.json` as pretty JSON: the record, a `summary` of counts and the `coverage` rows.
pub fn report_json(record: &RunRecord) -> serde_json::Result<String> {
    report_json_with(record, &coverage(record))
}

fn report_json_with(record: &RunRecord, rows: &[CoverageRow]) -> serde_json::Result<String> {
    let report = JsonReport { record, summary: Summary::of(record), coverage: rows };
    serde_json::to_string_pretty(&report).map(|mut s| {
        s.push('\n');
        s
    })
}

/// `coverage.json` as pretty JSON.
pub fn coverage_json(record: &RunRecord) -> serde_json::Result<String> {
    coverage_json_with(record, &coverage(record))
}

fn coverage_json_with(record: &RunRecord, rows: &[CoverageRow]) -> serde_json::Result<String> {
    let not_covered = uncovered(rows).len();
    let doc = CoverageJson {
        version: REPORT_VERSION,
        target: &record.target.name,
        started_at: &record.started_at,
        covered: rows.len() - not_covered,
        not_covered,
        requirements: rows,
    };
    serde_json::to_string_pretty(&doc).map(|mut s| {
        s.push('\n');
        s
    })
}

/// The run as JUnit XML: one test suite, one test case per case, derived from the final status only.
pub fn junit_xml(record: &RunRecord) -> String {
    let mut suite = TestSuite::new(format!("callspec ({})", record.target.name));
    suite.set_time(record.wall_time);
    suite.add_properties([
        Property::new("target", record.target.name.as_str()),
        Property::new("base_url", record.target.base_url.as_str()),
        Property::new("embedded", if record.target.embedded { "true" } else { "false" }),
        Property::new("tool_version", record.tool_version.as_str()),
        Property::new("started_at", record.started_at.as_str()),
    ]);
    suite.add_test_cases(record.cases.iter().map(junit_case));

    let mut report = Report::new("callspec");
    report.set_time(record.wall_time);
    report.add_test_suite(suite);
    // Serializing into memory only fails on a writer error, which a String cannot have; an empty
    // report that counts one error still tells CI something went wrong.
    report.to_string().unwrap_or_else(|_| {
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"callspec\" tests=\"0\" failures=\"0\" errors=\"1\"/>\n"
            .to_owned()
    })
}

fn junit_case(case: &CaseResult) -> TestCase {
    let status = match case.status {
        Status::Pass => TestCaseStatus::success(),
        Status::Fail => {
            let message = first_failure_message(case).unwrap_or("FAIL");
            non_success(NonSuccessKind::Failure, "FAIL", message, case.message())
        }
        Status::XPass => {
            non_success(NonSuccessKind::Failure, "XPASS", "XPASS: remove the known-failure entry", case.message())
        }
        // ERROR is the harness's problem, not the target's: JUnit's <error>, never <failure>.
        Status::Error => {
            let message = nonblank(case.error.as_deref()).unwrap_or("unknown error");
            non_success(NonSuccessKind::Error, "ERROR", message, case.message())
        }
        Status::Skip => {
            let mut status = TestCaseStatus::skipped();
            status.set_type("SKIP").set_message(nonblank(case.reason.as_deref()).unwrap_or("skipped"));
            status
        }
        // JUnit has no expected-failure element; <skipped> keeps XFAIL out of the failure count,
        // and the XFAIL prefix and the failures in the text keep it apart from a real skip.
        Status::XFail => {
            let reason = nonblank(case.reason.as_deref()).unwrap_or("known failure");
            let mut status = TestCaseStatus::skipped();
            status.set_type("XFAIL").set_message(format!("XFAIL: {reason}"));
            if !case.failures.is_empty() {
                status.set_description(case.message());
            }
            status
        }
    };
    let mut test_case = TestCase::new(case.name.as_str(), status);
    test_case.set_classname(area_of(&case.name)).set_time(case.duration);
    test_case.add_property(Property::new("file", case.file.as_str()));
    if !case.requirements.is_empty() {
        test_case.add_property(Property::new("requirements", case.requirements.join(",")));
    }
    test_case
}

fn non_success(kind: NonSuccessKind, ty: &str, message: &str, description: String) -> TestCaseStatus {
    let mut status = TestCaseStatus::non_success(kind);
    status.set_type(ty).set_message(message).set_description(description);
    status
}

/// The area of a case: its name up to the first `::` (`create::001_missing_to` → `create`).
fn area_of(name: &str) -> &str {
    name.split_once("::").map_or(name, |(area, _)| area)
}

/// What the checks of a requirement say about it across the run, worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Coverage {
    /// Its checks ran, none failed, none is a known failure.
    Passing,
    /// A check of it failed, and no known-failure entry covers that failure.
    Failing,
    /// Checks of it failed, each covered by a known-failure entry, and none failed otherwise.
    KnownFailure,
    /// Cases citing it ran, but none of its checks did (blocked by an earlier failure, harness error).
    NotRun,
    /// It has cases, and all of them were skipped.
    Skipped,
    /// No case cites it.
    NotCovered,
}

impl Coverage {
    /// Every verdict, in the order reports list them.
    pub const ALL: [Coverage; 6] = [
        Coverage::Passing,
        Coverage::Failing,
        Coverage::KnownFailure,
        Coverage::NotRun,
        Coverage::Skipped,
        Coverage::NotCovered,
    ];

    /// The lower-case label used in reports.
    pub const fn label(self) -> &'static str {
        match self {
            Coverage::Passing => "passing",
            Coverage::Failing => "failing",
            Coverage::KnownFailure => "known failure",
            Coverage::NotRun => "not run",
            Coverage::Skipped => "skipped",
            Coverage::NotCovered => "not covered",
        }
    }

    /// Whether at least one case cites the requirement.
    pub const fn is_covered(self) -> bool {
        !matches!(self, Coverage::NotCovered)
    }

    /// The label with an emoji, for Markdown.
    const fn badge(self) -> &'static str {
        match self {
            Coverage::Passing => "✅ passing",
            Coverage::Failing => "❌ failing",
            Coverage::KnownFailure => "⚠️ known failure",
            Coverage::NotRun => "❔ not run",
            Coverage::Skipped => "⏭️ skipped",
            Coverage::NotCovered => "➖ not covered",
        }
    }

    /// The verdict from what each case said about the requirement.
    fn from_checks(checks: &BTreeMap<CheckVerdict, usize>, skipped: usize) -> Coverage {
        let has = |v: CheckVerdict| checks.get(&v).is_some_and(|&n| n > 0);
        if has(CheckVerdict::Failed) {
            Coverage::Failing
        } else if has(CheckVerdict::KnownFailure) {
            Coverage::KnownFailure
        } else if has(CheckVerdict::Passed) {
            Coverage::Passing
        } else if has(CheckVerdict::NotRun) {
            Coverage::NotRun
        } else if skipped > 0 {
            Coverage::Skipped
        } else {
            Coverage::NotCovered
        }
    }
}

impl fmt::Display for Coverage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// One requirement and what the cases citing it, or whose checks touched it, said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CoverageRow {
    /// The requirement ID.
    pub id: String,
    /// Its catalog area.
    pub area: String,
    /// The requirement in one sentence.
    pub statement: String,
    /// Names of the cases citing it or checking it, in run order.
    pub cases: Vec<String>,
    /// How many of those cases ended with each status (every status present, zeros included).
    pub counts: BTreeMap<Status, usize>,
    /// How many of those cases said each check verdict about it (skipped cases say none).
    pub checks: BTreeMap<CheckVerdict, usize>,
    /// Why its checks did not run, per case (`case: why`).
    pub not_run: Vec<String>,
    /// The verdict.
    pub verdict: Coverage,
}

impl CoverageRow {
    /// How many citing cases ended with `status`.
    pub fn count(&self, status: Status) -> usize {
        self.counts.get(&status).copied().unwrap_or(0)
    }

    /// How many cases said `verdict` about the requirement.
    pub fn checked(&self, verdict: CheckVerdict) -> usize {
        self.checks.get(&verdict).copied().unwrap_or(0)
    }

    /// Cases whose checks of it neither passed nor failed (known failure, not run, skipped).
    pub fn other(&self) -> usize {
        self.cases.len().saturating_sub(self.checked(CheckVerdict::Passed) + self.checked(CheckVerdict::Failed))
    }
}

/// What one case says about each requirement: its per-requirement verdicts, or, for a case that
/// did not run its checks (SKIP, ERROR, or a record written without them), its status.
/// A requirement, what a case said about it (`None`: skipped), and why it did not run.
type CaseVerdict = (String, Option<CheckVerdict>, Option<String>);

fn case_verdicts(case: &CaseResult) -> Vec<CaseVerdict> {
    if !case.checks.is_empty() {
        return case.checks.iter().map(|c| (c.id.clone(), Some(c.verdict), c.why.clone())).collect();
    }
    let (verdict, why) = match case.status {
        Status::Pass | Status::XPass => (Some(CheckVerdict::Passed), None),
        Status::Fail => (Some(CheckVerdict::Failed), None),
        Status::XFail => (Some(CheckVerdict::KnownFailure), None),
        Status::Skip => (None, None),
        Status::Error => (Some(CheckVerdict::NotRun), Some("harness error".to_owned())),
    };
    case.requirements.iter().map(|id| (id.clone(), verdict, why.clone())).collect()
}

/// One row per requirement of the record's catalog, in catalog order.
pub fn coverage(record: &RunRecord) -> Vec<CoverageRow> {
    let per_case: Vec<(&CaseResult, Vec<CaseVerdict>)> = record.cases.iter().map(|c| (c, case_verdicts(c))).collect();
    record
        .requirements
        .iter()
        .map(|req| {
            let mut counts: BTreeMap<Status, usize> = Status::ALL.iter().map(|&s| (s, 0)).collect();
            let mut checks: BTreeMap<CheckVerdict, usize> = BTreeMap::new();
            let (mut cases, mut not_run, mut skipped) = (Vec::new(), Vec::new(), 0);
            for (case, verdicts) in &per_case {
                let Some((_, verdict, why)) = verdicts.iter().find(|(id, _, _)| *id == req.id) else { continue };
                *counts.entry(case.status).or_insert(0) += 1;
                cases.push(case.name.clone());
                match verdict {
                    Some(v) => *checks.entry(*v).or_insert(0) += 1,
                    None => skipped += 1,
                }
                if *verdict == Some(CheckVerdict::NotRun) {
                    not_run.push(format!("{}: {}", case.name, why.as_deref().unwrap_or("not run")));
                }
            }
            CoverageRow {
                id: req.id.clone(),
                area: req.area.clone(),
                statement: req.statement.clone(),
                verdict: Coverage::from_checks(&checks, skipped),
                cases,
                counts,
                checks,
                not_run,
            }
        })
        .collect()
}

/// IDs of the requirements no case cites.
pub fn uncovered(rows: &[CoverageRow]) -> Vec<&str> {
    rows.iter().filter(|r| !r.verdict.is_covered()).map(|r| r.id.as_str()).collect()
}

/// `requirements: N covered, M not covered`.
fn coverage_totals(rows: &[CoverageRow]) -> String {
    let not_covered = uncovered(rows).len();
    format!("requirements: {} covered, {not_covered} not covered", rows.len() - not_covered)
}

/// The coverage table in Markdown: a totals line, then one row per requirement.
pub fn coverage_markdown(rows: &[CoverageRow]) -> String {
    let mut out = String::new();
    let by_verdict: Vec<String> = Coverage::ALL
        .iter()
        .map(|&v| format!("{} {}", rows.iter().filter(|r| r.verdict == v).count(), v.label()))
        .collect();
    let _ = writeln!(out, "**{}** ({} total: {})\n", coverage_totals(rows), rows.len(), by_verdict.join(", "));
    out.push_str("| ID | area | requirement | cases | passed | failed | other | verdict |\n");
    out.push_str("|---|---|---|---:|---:|---:|---:|---|\n");
    for row in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            md_text(&row.id),
            md_text(&row.area),
            md_text(&row.statement),
            row.cases.len(),
            row.checked(CheckVerdict::Passed),
            row.checked(CheckVerdict::Failed),
            row.other(),
            row.verdict.badge(),
        );
    }
    out
}

/// The coverage table for a terminal: fixed-width columns and a totals line.
pub fn coverage_text(rows: &[CoverageRow]) -> String {
    let header = ["ID", "area", "cases", "passed", "failed", "other", "verdict"];
    let body: Vec<[String; 7]> = rows
        .iter()
        .map(|r| {
            [
                r.id.clone(),
                r.area.clone(),
                r.cases.len().to_string(),
                r.checked(CheckVerdict::Passed).to_string(),
                r.checked(CheckVerdict::Failed).to_string(),
                r.other().to_string(),
                r.verdict.label().to_owned(),
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for cells in &body {
        for (w, cell) in widths.iter_mut().zip(cells) {
            *w = (*w).max(cell.chars().count());
        }
    }
    // Text columns align left, counts right.
    let numeric = [false, false, true, true, true, true, false];
    let line = |cells: &[&str]| -> String {
        let mut s = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                s.push_str("  ");
            }
            let pad = widths[i].saturating_sub(cell.chars().count());
            if numeric[i] {
                s.extend(std::iter::repeat_n(' ', pad));
                s.push_str(cell);
            } else {
                s.push_str(cell);
                s.extend(std::iter::repeat_n(' ', pad));
            }
        }
        s.trim_end().to_owned()
    };
    let mut out = line(&header);
    out.push('\n');
    for cells in &body {
        out.push_str(&line(&cells.each_ref().map(String::as_str)));
        out.push('\n');
    }
    out.push_str(&coverage_totals(rows));
    out.push('\n');
    out
}

/// `coverage.md`: a title naming the target, then the coverage table.
fn coverage_document(record: &RunRecord, rows: &[CoverageRow]) -> String {
    format!("# Requirement coverage: callspec against {}\n\n{}", md_text(&record.target.name), coverage_markdown(rows))
}

/// The one-line terminal summary of the run.
pub fn summary_line(record: &RunRecord) -> String {
    let n = record.cases.len();
    // Expected outcomes first, then the ones that need attention.
    let order = [Status::Pass, Status::XFail, Status::Fail, Status::XPass, Status::Skip, Status::Error];
    let counts: Vec<String> =
        order.iter().map(|&s| format!("{} {s}", record.cases.iter().filter(|c| c.status == s).count())).collect();
    let budget = match record.budget_wait.is_zero() {
        true => String::new(),
        false => format!(" ({} waiting for the request budget)", seconds(record.budget_wait)),
    };
    format!(
        "callspec: {n} case{} against {} in {}: {}; {} request{} sent{budget}",
        if n == 1 { "" } else { "s" },
        record.target.name,
        seconds(record.wall_time),
        counts.join(", "),
        record.requests_sent,
        if record.requests_sent == 1 { "" } else { "s" }
    )
}

/// Markdown for a GitHub step summary: verdict, counts, wall time, unexpected results, coverage.
pub fn summary_markdown(record: &RunRecord) -> String {
    summary_markdown_with(record, &coverage(record))
}

fn summary_markdown_with(record: &RunRecord, rows: &[CoverageRow]) -> String {
    let mut out = String::new();
    let bad: Vec<&CaseResult> = unexpected(record).collect();
    let target = md_text(&record.target.name);
    if bad.is_empty() {
        let _ = writeln!(out, "## ✅ callspec against {target}: every result as expected\n");
    } else {
        let s = if bad.len() == 1 { "" } else { "s" };
        let _ = writeln!(out, "## ❌ callspec against {target}: {} unexpected result{s}\n", bad.len());
    }

    let counts = record.counts();
    out.push_str("| ");
    for (status, _) in &counts {
        let _ = write!(out, "{status} | ");
    }
    out.push_str("total |\n|");
    out.push_str(&"---:|".repeat(counts.len() + 1));
    out.push_str("\n| ");
    for (_, n) in &counts {
        let _ = write!(out, "{n} | ");
    }
    let _ = writeln!(out, "{} |\n", record.cases.len());

    let kind = if record.target.embedded { " (embedded reference emulator)" } else { "" };
    let _ = writeln!(
        out,
        "**Wall time:** {} · **target:** {}{kind} · **started:** {} · callspec {}\n",
        seconds(record.wall_time),
        md_text(&record.target.base_url),
        md_text(&record.started_at),
        md_text(&record.tool_version),
    );

    out.push_str("### Unexpected results\n\n");
    if bad.is_empty() {
        out.push_str("None.\n\n");
    } else {
        out.push_str("| case | status | requirement | message |\n|---|---|---|---|\n");
        for case in &bad {
            let requirement = case
                .failures
                .iter()
                .find_map(|f| f.requirement.as_deref())
                .or_else(|| case.requirements.first().map(String::as_str))
                .unwrap_or("");
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                md_code(&case.name),
                case.status,
                md_text(requirement),
                md_text(&truncate(&headline(case), CELL_MESSAGE_MAX)),
            );
        }
        out.push('\n');
    }

    out.push_str("### Requirement coverage\n\n");
    out.push_str(&coverage_markdown(rows));
    out
}

/// Cases whose status is not what the target's expectations say (FAIL, XPASS, ERROR).
fn unexpected(record: &RunRecord) -> impl Iterator<Item = &CaseResult> {
    record.cases.iter().filter(|c| !c.status.is_expected())
}

/// The one sentence that says why a case needs attention.
fn headline(case: &CaseResult) -> String {
    match case.status {
        Status::Error => nonblank(case.error.as_deref()).unwrap_or("unknown error").to_owned(),
        Status::XPass => match nonblank(case.reason.as_deref()) {
            Some(reason) => format!("XPASS: remove the known-failure entry ({reason})"),
            None => "XPASS: remove the known-failure entry".to_owned(),
        },
        _ => first_failure_message(case).map_or_else(|| case.message(), str::to_owned),
    }
}

fn first_failure_message(case: &CaseResult) -> Option<&str> {
    case.failures.first().map(|f| f.message.as_str()).and_then(|m| nonblank(Some(m)))
}

fn nonblank(s: Option<&str>) -> Option<&str> {
    s.filter(|s| !s.trim().is_empty())
}

/// A duration as seconds with one decimal, e.g. `14.2 s`.
fn seconds(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

/// At most `max` characters, ending in `…` when cut.
fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Text safe inside a Markdown table cell: punctuation that Markdown or HTML would interpret is
/// backslash-escaped, and line breaks (which would end the row) become spaces.
fn md_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\r' => {}
            '\n' | '\t' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '#' | '&' | '!' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// An identifier as inline code in a table cell; GitHub's tables need `\|` even inside code.
fn md_code(s: &str) -> String {
    if s.contains('`') || s.contains('\n') || s.contains('\r') {
        md_text(s)
    } else {
        format!("`{}`", s.replace('|', "\\|"))
    }
}
