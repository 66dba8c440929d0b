//! The report writers and the requirement catalog: one hand-built run with a case per status, and the real and broken catalogs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use callspec_conformance::error::LoadErrorKind;
use callspec_conformance::outcome::{
    CaseResult, Failure, FailureKind, REPORT_VERSION, RequirementInfo, RunRecord, Status, TargetInfo,
};
use callspec_conformance::report::{self, Coverage};
use callspec_conformance::requirements::Catalog;
use quick_junit::{NonSuccessKind, TestCaseStatus};
use serde_json::Value;

/// How many requirements the catalog `fixtures/requirements.toml` holds (the project's 71, plus the
/// rows of later work: mutation, SDK, Recordings, `<Gather>`, `<Dial>`, AMD, call limits, call
/// Events); a change to the size
/// must be deliberate.
const CATALOG_SIZE: usize = 140;
/// How many of them are SDK requirements (`SDK-…`, `callspec sdk`'s).
const SDK_SIZE: usize = 15;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn requirement(id: &str, area: &str) -> RequirementInfo {
    RequirementInfo { id: id.to_owned(), area: area.to_owned(), statement: format!("{id} holds.") }
}

fn failure(requirement: &str, message: &str) -> Failure {
    Failure {
        requirement: Some(requirement.to_owned()),
        step: 0,
        step_label: "POST /2010-04-01/Accounts/AC…/Calls.json".to_owned(),
        pointer: Some("/code".to_owned()),
        expected: "21201".to_owned(),
        actual: "21211".to_owned(),
        message: message.to_owned(),
        curl: None,
        known: None,
        kind: FailureKind::ErrorCode,
    }
}

fn case(name: &str, requirements: &[&str], status: Status) -> CaseResult {
    let requirements: Vec<String> = requirements.iter().map(|r| (*r).to_owned()).collect();
    let file = format!("fixtures/cases/{}.toml", name.replace("::", "/"));
    let mut case = CaseResult::new(name, &file, &format!("{name} title"), &requirements, &[]);
    case.status = status;
    case.duration = Duration::from_millis(120);
    case
}

/// One case per status. The requirements are chosen so that each coverage verdict appears once:
/// X-PASS-1 passing, X-FAIL-1 failing (FAIL next to a PASS), X-XFAIL-1 known failure (next to a
/// PASS), X-XPASS-1 and X-ERROR-1 failing, X-SKIP-1 skipped, X-NONE-1 not covered.
fn record() -> RunRecord {
    let mut fail = case("create::001_missing_to", &["X-FAIL-1"], Status::Fail);
    fail.failures = vec![
        failure("X-FAIL-1", "expected code 21201 | got 21211 for <Response> & co"),
        failure("X-FAIL-1", "second failure, not the headline"),
    ];
    let mut xfail = case("create::002_known_bug", &["X-XFAIL-1"], Status::XFail);
    xfail.reason = Some("emulator bug #12".to_owned());
    xfail.failures = vec![failure("X-XFAIL-1", "status 200 instead of 201")];
    let mut xpass = case("status::003_fixed_now", &["X-XPASS-1"], Status::XPass);
    xpass.reason = Some("was broken in 0.1".to_owned());
    let mut skip = case("rate::004_needs_live_dial", &["X-SKIP-1"], Status::Skip);
    skip.reason = Some("capability `live-dial` missing".to_owned());
    let mut error = case("lifecycle::005_sink_down", &["X-ERROR-1"], Status::Error);
    error.error = Some("setup: the callback sink refused the connection".to_owned());
    let pass = case("create::000_basic", &["X-PASS-1", "X-FAIL-1", "X-XFAIL-1"], Status::Pass);

    RunRecord {
        version: REPORT_VERSION,
        tool_version: "0.1.0".to_owned(),
        suite_version: 1,
        suite_hash: "0".repeat(64),
        started_at: "2026-04-20T10:00:00Z".to_owned(),
        wall_time: Duration::from_millis(14_240),
        target: TargetInfo {
            name: "reference-emulator".to_owned(),
            base_url: "http://127.0.0.1:4010".to_owned(),
            embedded: true,
        },
        requests_sent: 42,
        budget_wait: Duration::ZERO,
        cases: vec![pass, fail, xfail, xpass, skip, error],
        requirements: vec![
            requirement("X-PASS-1", "AREA ONE"),
            requirement("X-FAIL-1", "AREA ONE"),
            requirement("X-XFAIL-1", "AREA ONE"),
            requirement("X-XPASS-1", "AREA TWO"),
            requirement("X-SKIP-1", "AREA TWO"),
            requirement("X-ERROR-1", "AREA TWO"),
            requirement("X-NONE-1", "AREA TWO"),
        ],
    }
}

#[test]
fn junit_has_one_testcase_per_case_with_the_element_of_its_status() {
    let xml = report::junit_xml(&record());

    // The raw text: one element per status, nothing reported twice, nothing unescaped.
    assert_eq!(xml.matches("<testcase ").count(), 6, "{xml}");
    assert_eq!(xml.matches("<failure").count(), 2, "FAIL and XPASS are failures: {xml}");
    assert_eq!(xml.matches("<error").count(), 1, "ERROR is an error, not a failure: {xml}");
    assert_eq!(xml.matches("<skipped").count(), 2, "SKIP and XFAIL are skipped, nothing else: {xml}");
    assert!(xml.contains("&lt;Response&gt; &amp; co"), "{xml}");
    assert!(!xml.contains("<Response>"), "{xml}");

    // The parsed structure: each case by name, with its classname, time and status element.
    let parsed = quick_junit::Report::deserialize_from_str(&xml).expect("junit.xml parses");
    assert_eq!(parsed.test_suites.len(), 1);
    let suite = &parsed.test_suites[0];
    assert!(suite.name.as_str().contains("callspec"), "{}", suite.name.as_str());
    assert!(suite.name.as_str().contains("reference-emulator"), "{}", suite.name.as_str());
    assert_eq!((suite.tests, suite.failures, suite.errors, suite.skipped), (6, 2, 1, 2));

    let by_name: BTreeMap<&str, &quick_junit::TestCase> =
        suite.test_cases.iter().map(|tc| (tc.name.as_str(), tc)).collect();
    assert_eq!(by_name.len(), 6);
    let fail = by_name["create::001_missing_to"];
    assert_eq!(fail.classname.as_ref().map(|c| c.as_str()), Some("create"));
    assert_eq!(fail.time, Some(Duration::from_millis(120)));

    let message = |name: &str| -> (String, Option<String>, Option<String>) {
        match &by_name[name].status {
            TestCaseStatus::Success { .. } => ("success".to_owned(), None, None),
            TestCaseStatus::NonSuccess { kind, message, description, .. } => (
                match kind {
                    NonSuccessKind::Failure => "failure".to_owned(),
                    NonSuccessKind::Error => "error".to_owned(),
                },
                message.as_ref().map(|m| m.as_str().to_owned()),
                description.as_ref().map(|d| d.as_str().to_owned()),
            ),
            TestCaseStatus::Skipped { message, description, .. } => (
                "skipped".to_owned(),
                message.as_ref().map(|m| m.as_str().to_owned()),
                description.as_ref().map(|d| d.as_str().to_owned()),
            ),
        }
    };

    assert_eq!(message("create::000_basic").0, "success");

    let (kind, msg, text) = message("create::001_missing_to");
    assert_eq!(kind, "failure");
    assert_eq!(msg.as_deref(), Some("expected code 21201 | got 21211 for <Response> & co"));
    let text = text.expect("FAIL carries the full message");
    assert!(text.contains("second failure, not the headline"), "{text}");

    let (kind, msg, _) = message("create::002_known_bug");
    assert_eq!(kind, "skipped");
    assert_eq!(msg.as_deref(), Some("XFAIL: emulator bug #12"));

    let (kind, msg, text) = message("status::003_fixed_now");
    assert_eq!(kind, "failure");
    assert_eq!(msg.as_deref(), Some("XPASS: remove the known-failure entry"));
    assert!(text.unwrap_or_default().contains("was broken in 0.1"));

    let (kind, msg, _) = message("rate::004_needs_live_dial");
    assert_eq!(kind, "skipped");
    assert_eq!(msg.as_deref(), Some("capability `live-dial` missing"));

    let (kind, msg, _) = message("lifecycle::005_sink_down");
    assert_eq!(kind, "error");
    assert_eq!(msg.as_deref(), Some("setup: the callback sink refused the connection"));
}

#[test]
fn coverage_verdicts_follow_the_rules_in_catalog_order() {
    let rows = report::coverage(&record());
    let verdicts: Vec<(&str, Coverage)> = rows.iter().map(|r| (r.id.as_str(), r.verdict)).collect();
    assert_eq!(
        verdicts,
        [
            ("X-PASS-1", Coverage::Passing),
            ("X-FAIL-1", Coverage::Failing),
            ("X-XFAIL-1", Coverage::KnownFailure),
            ("X-XPASS-1", Coverage::Passing),
            ("X-SKIP-1", Coverage::Skipped),
            ("X-ERROR-1", Coverage::NotRun),
            ("X-NONE-1", Coverage::NotCovered),
        ]
    );

    // One FAIL outweighs any number of passes, and the row keeps both in its counts.
    let fail_row = &rows[1];
    assert_eq!(fail_row.cases, ["create::000_basic", "create::001_missing_to"]);
    assert_eq!(fail_row.count(Status::Pass), 1);
    assert_eq!(fail_row.count(Status::Fail), 1);
    assert_eq!(fail_row.counts.len(), Status::ALL.len(), "every status is counted, zeros included");
    assert_eq!(report::uncovered(&rows), ["X-NONE-1"]);

    let text = report::coverage_text(&rows);
    assert!(text.ends_with("requirements: 6 covered, 1 not covered\n"), "{text}");
    assert!(text.lines().any(|l| l.starts_with("X-NONE-1") && l.ends_with("not covered")), "{text}");
    assert!(text.lines().all(|l| l == l.trim_end()), "no trailing spaces: {text}");
}

#[test]
fn known_failure_wins_over_passing_and_loses_to_failing() {
    let mut run = record();
    // Without the FAIL case, X-FAIL-1 is left with its PASS; X-XFAIL-1 keeps PASS and XFAIL.
    run.cases.retain(|c| c.status != Status::Fail);
    let rows = report::coverage(&run);
    assert_eq!(rows[1].verdict, Coverage::Passing);
    assert_eq!(rows[2].verdict, Coverage::KnownFailure);
    // Without its only case, a requirement is not covered, whatever it was before.
    run.cases.retain(|c| c.status != Status::Skip);
    assert_eq!(report::coverage(&run)[4].verdict, Coverage::NotCovered);
}

#[test]
fn summary_markdown_lists_unexpected_results_and_escapes_pipes() {
    let md = report::summary_markdown(&record());
    let first = md.lines().next().unwrap_or_default();
    assert!(first.starts_with("## ❌"), "{first}");
    assert!(first.contains("reference-emulator"), "{first}");
    assert!(first.contains("3 unexpected results"), "{first}");
    assert!(md.contains("| 1 | 1 | 1 | 1 | 1 | 1 | 6 |"), "counts table: {md}");
    assert!(md.contains("14.2 s"), "{md}");

    let unexpected: Vec<&str> = md
        .lines()
        .skip_while(|l| !l.starts_with("### Unexpected"))
        .take_while(|l| !l.starts_with("### Requirement coverage"))
        .filter(|l| l.starts_with("| `"))
        .collect();
    assert_eq!(unexpected.len(), 3, "{md}");
    assert!(unexpected[0].contains("`create::001_missing_to`") && unexpected[0].contains("| FAIL |"), "{md}");
    assert!(unexpected[0].contains("X-FAIL-1"), "{md}");
    assert!(unexpected[0].contains(r"expected code 21201 \| got 21211 for \<Response\> \& co"), "{md}");
    assert!(unexpected[1].contains("`status::003_fixed_now`") && unexpected[1].contains("XPASS"), "{md}");
    assert!(unexpected[2].contains("`lifecycle::005_sink_down`") && unexpected[2].contains("| ERROR |"), "{md}");
    for row in &unexpected {
        // Five unescaped pipes: the four cells of the table and nothing from the message.
        assert_eq!(row.replace(r"\|", "").matches('|').count(), 5, "{row}");
    }
    assert!(!md.contains("create::002_known_bug`"), "XFAIL is expected: {md}");

    assert!(md.contains("### Requirement coverage"), "{md}");
    assert!(md.contains("| X-NONE-1 | AREA TWO |"), "{md}");
}

#[test]
fn summary_markdown_truncates_long_messages() {
    let mut run = record();
    run.cases[1].failures[0].message = "x".repeat(500);
    let md = report::summary_markdown(&run);
    let row = md.lines().find(|l| l.contains("create::001_missing_to")).unwrap_or_default();
    assert!(row.contains(&format!("{}…", "x".repeat(199))), "{row}");
    assert!(!row.contains(&"x".repeat(200)), "{row}");
}

#[test]
fn summary_line_counts_every_status() {
    let line = report::summary_line(&record());
    assert_eq!(
        line,
        "callspec: 6 cases against reference-emulator in 14.2 s: 1 PASS, 1 XFAIL, 1 FAIL, 1 XPASS, 1 SKIP, 1 ERROR; 42 requests sent"
    );
}

#[test]
fn summary_markdown_says_so_when_everything_is_expected() {
    let mut run = record();
    run.cases.retain(|c| c.status.is_expected());
    let md = report::summary_markdown(&run);
    assert!(md.starts_with("## ✅"), "{md}");
    assert!(md.contains("### Unexpected results\n\nNone."), "{md}");
}

#[test]
fn write_all_writes_the_six_reports() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("selftest-reports").join("write_all");
    let _ = std::fs::remove_dir_all(&dir);
    let record = record();
    let written = report::write_all(&record, &dir).expect("reports are written");

    let names: Vec<String> =
        written.iter().map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()).collect();
    assert_eq!(names, ["report.json", "junit.xml", "summary.md", "coverage.md", "coverage.json", "report.html"]);
    for path in &written {
        let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        assert!(len > 0, "{} is empty", path.display());
    }

    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).expect("report.json reads"))
            .expect("JSON");
    let keys: Vec<&String> = json.as_object().expect("an object").keys().collect();
    assert_eq!(keys.first().map(|k| k.as_str()), Some("version"));
    assert_eq!(json["version"], REPORT_VERSION);
    assert_eq!(json["wall_time_ms"], 14_240);
    assert_eq!(json["summary"]["total"], 6);
    for status in Status::ALL {
        assert_eq!(json["summary"][status.label()], 1, "{status}");
    }
    assert_eq!(json["summary"]["unexpected"], 3);
    assert_eq!(json["coverage"].as_array().map(Vec::len), Some(7));
    assert_eq!(json["coverage"][2]["verdict"], "known_failure");
    assert_eq!(json["coverage"][6]["verdict"], "not_covered");
    assert_eq!(json["cases"][1]["status"], "FAIL");

    let coverage: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("coverage.json")).expect("coverage.json reads"))
            .expect("JSON");
    assert_eq!((coverage["covered"].as_u64(), coverage["not_covered"].as_u64()), (Some(6), Some(1)));
    assert_eq!(coverage["requirements"][0]["counts"]["PASS"], 1);

    let coverage_md = std::fs::read_to_string(dir.join("coverage.md")).expect("coverage.md reads");
    assert!(coverage_md.starts_with("# Requirement coverage"), "{coverage_md}");
    let junit = std::fs::read_to_string(dir.join("junit.xml")).expect("junit.xml reads");
    assert_eq!(junit, report::junit_xml(&record));
}

#[test]
fn the_catalog_loads_every_requirement() {
    let catalog = Catalog::load(&repo_root().join("fixtures/requirements.toml")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(catalog.len(), CATALOG_SIZE);
    for id in [
        "T-AUTH-1",
        "T-ERR-1",
        "C-TO-3",
        "I-TIMEOUT-1",
        "S-CANCEL-1",
        "L-REDIRECT-1",
        "R-REC-4",
        "Q-RATE-4",
        "D-DELETE-2",
        "W-SIG-2",
        "G-GATHER-1",
        "X-DIAL-1",
    ] {
        assert!(catalog.contains(id), "{id} is missing");
    }
    assert!(!catalog.contains("T-AUTH-99"));

    let ids: Vec<&str> = catalog.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.first(), Some(&"T-AUTH-1"));
    assert_eq!(ids.last(), Some(&"E-EVENTS-3"));
    assert!(ids.contains(&"SDK-REC-2") && ids.contains(&"SDK-AMD-1"));

    let timeout = catalog.get("I-TIMEOUT-1").expect("I-TIMEOUT-1");
    assert_eq!(timeout.area, "CREATE: call instructions");
    assert_eq!(timeout.observable, ["CB", "T"]);
    assert!(catalog.iter().all(|r| r.source.starts_with("https://www.twilio.com/docs/")));

    let mut areas: Vec<&str> = catalog.iter().map(|r| r.area.as_str()).collect();
    areas.dedup();
    assert_eq!(areas.len(), 21, "areas are contiguous in the file: {areas:?}");

    // The server run's coverage has no SDK rows, and `callspec sdk`'s only SDK rows.
    let infos = catalog.infos();
    assert_eq!(infos.len(), CATALOG_SIZE - SDK_SIZE);
    assert_eq!(infos[0].id, "T-AUTH-1");
    assert!(infos.iter().all(|r| !r.id.starts_with("SDK-")));
    let sdk = catalog.sdk_infos();
    assert_eq!(sdk.len(), SDK_SIZE);
    assert!(sdk.iter().all(|r| r.id.starts_with("SDK-") && r.area.starts_with("SDK: ")));
    assert!(catalog.contains("SDK-FORM-2") && !catalog.contains_server("SDK-FORM-2"));
}

#[test]
fn a_broken_catalog_reports_every_problem_with_its_pointer() {
    let text = r#"
[[requirement]]
id = "T-AUTH-1"
area = "TRANSPORT"
statement = "First."
source = "https://www.twilio.com/docs/usage/security"
observable = ["R"]

[[requirement]]
id = "T-AUTH-1"
area = "TRANSPORT"
statement = "Again."
source = "https://www.twilio.com/docs/usage/security"
observable = ["R"]

[[requirement]]
id = "auth-2"
area = "TRANSPORT"
statement = "Bad ID."
source = "https://www.twilio.com/docs/usage/security"
observable = ["R", "X"]

[[requirement]]
id = "T-AUTH-3"
area = "TRANSPORT"
statement = ""
source = "https://www.twilio.com/docs/usage/security"
"#;
    let file = Path::new("fixtures/requirements.toml");
    let errors = Catalog::parse(text, file).expect_err("the catalog is broken").0;
    let found: Vec<(LoadErrorKind, Option<&str>)> = errors.iter().map(|e| (e.kind, e.pointer.as_deref())).collect();
    for expected in [
        (LoadErrorKind::Duplicate, Some("/requirement/1/id")),
        (LoadErrorKind::Invalid, Some("/requirement/2/id")),
        (LoadErrorKind::Invalid, Some("/requirement/2/observable/1")),
        (LoadErrorKind::Invalid, Some("/requirement/3/statement")),
        (LoadErrorKind::Invalid, Some("/requirement/3/observable")),
    ] {
        assert!(found.contains(&expected), "{expected:?} not in {found:?}");
    }
    assert_eq!(errors.len(), 5, "{found:?}");
    let duplicate = errors.iter().find(|e| e.kind == LoadErrorKind::Duplicate).expect("a duplicate");
    assert!(duplicate.message.contains("/requirement/0"), "{}", duplicate.message);
    assert!(errors.iter().all(|e| e.file == file));
}

#[test]
fn catalog_syntax_and_io_errors_have_their_kinds() {
    let errors = Catalog::parse("[[requirement]]\nid = \"T-AUTH-1\n", Path::new("x.toml")).expect_err("bad TOML").0;
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].kind, LoadErrorKind::Toml);
    assert!(errors[0].message.contains("line 2"), "{}", errors[0].message);

    let errors = Catalog::parse("", Path::new("x.toml")).expect_err("empty catalog").0;
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].kind, LoadErrorKind::Invalid);

    let errors = Catalog::load(Path::new("/nonexistent/requirements.toml")).expect_err("no file").0;
    assert_eq!(errors[0].kind, LoadErrorKind::Io);
}
