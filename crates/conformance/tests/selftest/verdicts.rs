//! Verdicts at check granularity: one gap does not hide the checks behind it, every failure
//! names its own requirement and kind, known failures cover single failures (a new failure in a
//! baselined case is FAIL), a step that needs an uncaptured value is "not run" rather than an
//! ERROR, and a template naming an unknown variable is an ERROR, never a FAIL.

use crate::fake::*;
use callspec_conformance::outcome::{CheckVerdict, FailureKind, Status};
use serde_json::json;

/// The checks a case said about one requirement.
fn verdict_of(result: &callspec_conformance::outcome::CaseResult, id: &str) -> Option<CheckVerdict> {
    result.checks.iter().find(|c| c.id == id).map(|c| c.verdict)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_call_field_leaves_callbacks_and_signatures_checked() {
    let mut fake = CallTarget::new(&["initiated", "in-progress"], Signing::WrongToken);
    fake.omit = Some("from_formatted");
    let target = fake.start().await;
    let case = callback_case(&["initiated", "answered"], &IN_ORDER, json!({}));
    let result = check(target, case, Status::Fail, &["from_formatted", "X-Twilio-Signature does not validate"]).await;
    let schema = result.failures.iter().find(|f| f.kind == FailureKind::Schema).expect("a schema failure");
    assert_eq!(schema.requirement.as_deref(), Some("D-SCHEMA-1"), "charged to the schema's requirement");
    assert_eq!(schema.pointer.as_deref(), Some("/from_formatted"));
    let signature = result.failures.iter().find(|f| f.kind == FailureKind::Signature).expect("a signature failure");
    assert_eq!(signature.requirement.as_deref(), Some("W-SIG-1"));
    // The callbacks arrived in order: their own requirement passes although the create had a gap.
    assert_eq!(verdict_of(&result, "S-EV-2"), Some(CheckVerdict::Passed), "{:#?}", result.checks);
    assert_eq!(verdict_of(&result, "D-SCHEMA-1"), Some(CheckVerdict::Failed));
    assert_eq!(verdict_of(&result, "W-SIG-1"), Some(CheckVerdict::Failed));
    assert!(result.not_run.is_empty(), "nothing was blocked: {:#?}", result.not_run);
}

/// A known failure narrowed to the schema gap of [`a_missing_call_field_leaves_callbacks_and_signatures_checked`].
const SCHEMA_GAP_KNOWN: &str = "\n[[known_failures]]\ncase = \"selftest::wrong_target\"\nrequirement = \"D-SCHEMA-1\"\nkind = \"schema\"\nreason = \"no from_formatted yet\"\ncategory = \"missing-feature\"\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_baselined_case_with_a_new_failure_is_fail() {
    let mut fake = CallTarget::new(&["initiated", "in-progress"], Signing::WrongToken);
    fake.omit = Some("from_formatted");
    let target = fake.start().await;
    let case = callback_case(&["initiated", "answered"], &IN_ORDER, json!({}));
    let extra = Extra { top: "", tail: SCHEMA_GAP_KNOWN };
    let result = check_with(extra, target, case, Status::Fail, &["XFAIL: [D-SCHEMA-1]", "FAIL (new): [W-SIG-1]"]).await;
    let covered: Vec<FailureKind> = result.failures.iter().filter(|f| f.known.is_some()).map(|f| f.kind).collect();
    assert_eq!(covered, [FailureKind::Schema], "only the schema gap is covered: {:#?}", result.failures);
    assert_eq!(verdict_of(&result, "D-SCHEMA-1"), Some(CheckVerdict::KnownFailure));
    assert_eq!(verdict_of(&result, "W-SIG-1"), Some(CheckVerdict::Failed));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_baselined_case_whose_failures_are_all_covered_is_xfail() {
    let mut fake = CallTarget::new(&["initiated", "in-progress"], Signing::Correct);
    fake.omit = Some("from_formatted");
    let target = fake.start().await;
    let case = callback_case(&["initiated", "answered"], &IN_ORDER, json!({}));
    let extra = Extra { top: "", tail: SCHEMA_GAP_KNOWN };
    let result = check_with(extra, target, case, Status::XFail, &["XFAIL: [D-SCHEMA-1]"]).await;
    assert!(result.failures.iter().all(|f| f.known.as_deref() == Some("no from_formatted yet")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_needing_an_uncaptured_value_is_not_run_not_an_error() {
    let target = canned_json(201, &call_with("sid", None)).await;
    let mut create = create_step(json!({ "status": 201 }));
    create["request"]["capture"] = json!({ "CallSid": "/sid" });
    let steps = json!([
        create,
        {
            "request": {
                "method": "GET",
                "path": "/2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json",
                "expect": { "status": 200 }
            }
        },
    ]);
    let result =
        check(target, case("D-FETCH-1", steps), Status::Fail, &["cannot capture CallSid", "NOT RUN: step 2"]).await;
    assert_eq!(result.failures.len(), 1, "only the capture failed: {:#?}", result.failures);
    assert_eq!(result.failures[0].kind, FailureKind::Capture);
    assert_eq!(result.not_run.len(), 1);
    assert!(result.not_run[0].why.contains("needs {CallSid}"), "{:#?}", result.not_run);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_naming_an_unknown_variable_in_a_matcher_is_an_error() {
    let target = canned_json(201, &valid_call()).await;
    let steps = json!([create_step(json!({
        "status": 201,
        "json": [{ "pointer": "/sid", "equals": "{NoSuchVar}" }]
    }))]);
    let result = check(target, case("C-CREATE-1", steps), Status::Error, &["unknown variable {NoSuchVar}"]).await;
    assert!(result.failures.is_empty(), "a harness fault is no verdict on the target: {:#?}", result.failures);
    assert_eq!(verdict_of(&result, "C-CREATE-1"), Some(CheckVerdict::NotRun));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transport_failure_is_never_covered_by_a_known_failure() {
    // A port nothing listens on: every request is refused.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let addr = listener.local_addr().expect("its address");
    drop(listener);
    let target = Target { base_url: format!("http://{addr}"), _server: None, _task: None };
    let tail = "\n[[known_failures]]\ncase = \"selftest::wrong_target\"\nreason = \"everything fails here\"\ncategory = \"bug\"\n";
    let extra = Extra { top: "", tail };
    let result =
        check_with(extra, target, create_case(), Status::Fail, &["no usable response", "transport check"]).await;
    assert!(result.failures.iter().all(|f| f.kind == FailureKind::Transport && f.known.is_none()));
}
