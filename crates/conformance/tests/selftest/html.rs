//! report.html of a run with a PASS, a FAIL on callbacks out of order, a hostile target's FAIL,
//! a SKIP and an ERROR: what the page says, what it escapes, and the directory `cargo xtask ci`
//! renders in headless Chromium (`CALLSPEC_HTML_DIR`; xtask/src/html_check.rs).

use crate::fake::*;
use std::path::PathBuf;
use std::time::Duration;

use callspec_conformance::outcome::{CaseResult, Direction, RunRecord, Status, TargetInfo};
use callspec_conformance::report;
use serde_json::json;

/// What a hostile target puts in a field: it would mark the page if it ever ran.
pub(crate) const HOSTILE: &str = "<script>document.documentElement.setAttribute('data-pwned','yes')</script>";

/// The case names the page is checked by (also in xtask/src/html_check.rs).
const OUT_OF_ORDER: &str = "callbacks::901_out_of_order";

async fn results() -> Vec<CaseResult> {
    let target = CallTarget::new(&["initiated", "in-progress"], Signing::Correct).start().await;
    let c = callback_case(&["initiated", "answered"], &IN_ORDER, json!({}));
    let mut pass = check(target, c, Status::Pass, &[]).await;
    pass.name = "callbacks::900_in_order".into();

    let target = CallTarget::new(&["in-progress", "initiated"], Signing::WrongToken).start().await;
    let c = callback_case(&["initiated", "answered"], &IN_ORDER, json!({}));
    let mut fail = check(target, c, Status::Fail, &["in-progress"]).await;
    fail.name = OUT_OF_ORDER.into();

    // The body also echoes the auth token: the timeline must mask it as the console does.
    let mut body = call_with("status", Some(json!(HOSTILE)));
    body["caller_name"] = json!(TOKEN);
    let target = canned_json(201, &body).await;
    let mut hostile = check(target, create_case(), Status::Fail, &["<script>"]).await;
    hostile.name = "create::902_hostile_status".into();

    let target = canned_json(201, &valid_call()).await;
    let steps = json!([create_step(json!({
        "status": 201,
        "json": [{ "pointer": "/sid", "equals": "{NoSuchVar}" }]
    }))]);
    let mut error = check(target, case("C-CREATE-1", steps), Status::Error, &["unknown variable"]).await;
    error.name = "create::903_harness_error".into();

    let reqs = ["D-DELETE-2".to_owned()];
    let mut skip = CaseResult::new("resource::904_skipped", "fixtures/x.json", "a skipped case", &reqs, &[]);
    skip.status = Status::Skip;
    skip.reason = Some("the profile does not declare capability `delete`".into());
    vec![pass, fail, hostile, error, skip]
}

fn record(cases: Vec<CaseResult>) -> RunRecord {
    let requirements = catalog().infos();
    RunRecord {
        version: callspec_conformance::outcome::REPORT_VERSION,
        tool_version: "selftest".into(),
        suite_version: 1,
        suite_hash: "0".repeat(64),
        started_at: "2026-01-01T00:00:00Z".into(),
        wall_time: Duration::from_secs(3),
        target: TargetInfo { name: "html-selftest".into(), base_url: "http://127.0.0.1".into(), embedded: false },
        requests_sent: 5,
        budget_wait: Duration::ZERO,
        cases,
        requirements,
    }
}

/// Where the report goes: `CALLSPEC_HTML_DIR` (for the Chromium check), else a scratch directory.
fn report_dir() -> PathBuf {
    std::env::var_os("CALLSPEC_HTML_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("html-selftest"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_report_of_a_mixed_run() {
    let record = record(results().await);
    let fail = record.cases.iter().find(|c| c.name == OUT_OF_ORDER).expect("the out-of-order case");
    // report.json carries the timeline: the create, then the callbacks in arrival order.
    let callbacks: Vec<&str> = fail
        .timeline
        .iter()
        .filter(|e| e.direction == Direction::Callback)
        .filter_map(|e| e.params.iter().find(|(k, _)| k == "CallStatus").map(|(_, v)| v.as_str()))
        .collect();
    assert_eq!(callbacks, ["in-progress", "initiated"], "{:#?}", fail.timeline);
    assert_eq!(fail.timeline[0].direction, Direction::Api, "the create comes first");
    assert!(fail.timeline.iter().any(|e| e.signature_valid == Some(false)), "the wrong token shows");
    assert!(fail.timeline.iter().any(|e| e.failed), "the failing callbacks are marked");

    let dir = report_dir();
    let _ = std::fs::remove_dir_all(&dir);
    report::write_all(&record, &dir).expect("the reports are written");
    let html = std::fs::read_to_string(dir.join(report::REPORT_HTML)).expect("report.html exists");
    let json = std::fs::read_to_string(dir.join(report::REPORT_JSON)).expect("report.json exists");
    assert!(json.contains("\"timeline\""), "report.json holds the timelines");
    for (status, n) in [("PASS", 1), ("FAIL", 2), ("SKIP", 1), ("ERROR", 1)] {
        assert!(html.contains(&format!("data-status=\"{status}\"><b>{n}</b>")), "{status} count {n}");
    }
    // The hostile value is text: the page's own script is its only one.
    assert_eq!(html.matches("<script>").count(), 1);
    assert!(html.contains("&lt;script&gt;document.documentElement.setAttribute(&#39;data-pwned&#39;"));
    assert!(!html.contains(TOKEN) && !json.contains(TOKEN), "no auth token in the reports");
    let hostile = record.cases.iter().find(|c| c.name == "create::902_hostile_status").expect("the hostile case");
    let body = hostile.timeline.first().and_then(|e| e.body.as_deref()).unwrap_or_default();
    assert!(body.contains("\"caller_name\":\"****\""), "the failing step's body is kept, masked: {body}");
    assert!(html.contains("id=\"case-callbacks--901_out_of_order\""));
}
