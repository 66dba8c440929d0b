//! The runner against deliberately wrong targets: every check kind reports FAIL with a message naming what is wrong, and hostile targets end in FAIL or ERROR within their deadlines, never a panic or a hang.
//!
//! Each test is data: a fake target (a wiremock `MockServer` with canned answers, the
//! callback-sending [`CallTarget`], or a raw TCP listener), a case as inline JSON, the status
//! the case must end with and the substrings its message must contain. [`check`] builds a
//! harness with its own callback sink against the target, runs the case under an outer
//! timeout, and asserts status and message. The profile has no subaccounts, so every case
//! runs on the main account and the target sees no setup requests.

use crate::fake::*;
use std::path::Path;
use std::time::Duration;

use callspec_conformance::error::LoadErrorKind;
use callspec_conformance::fixture::parse_case;
use callspec_conformance::outcome::Status;
use callspec_conformance::profile::Profile;
use serde_json::{Value, json};
use wiremock::matchers::{any, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

// ---------------------------------------------------------------------------------------------
// 1-4: response bodies
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_queue_time_fails_naming_the_field() {
    let target = canned_json(201, &call_with("queue_time", None)).await;
    let result =
        check(target, create_case(), Status::Fail, &["queue_time", "required", "schemas/call.schema.json"]).await;
    assert_eq!(result.failures.len(), 1, "only queue_time is missing: {:#?}", result.failures);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_error_code_fails_naming_pointer_expected_and_actual() {
    let body = json!({
        "code": 21211,
        "message": "The 'To' number is not a valid phone number.",
        "more_info": "https://www.twilio.com/docs/errors/21211",
        "status": 400,
    });
    let target = canned_json(400, &body).await;
    let steps = json!([{
        "request": {
            "method": "POST",
            "path": CALLS,
            "form": [["From", "+15017122661"], ["Url", "{Sink}/voice.xml"]],
            "expect": { "status": 400, "error_code": 21201 },
        }
    }]);
    let result =
        check(target, case("C-TO-1", steps), Status::Fail, &["/code", "21201", "21211", "wrong Twilio error code"])
            .await;
    let code = result.failures.iter().find(|f| f.pointer.as_deref() == Some("/code")).expect("a failure at /code");
    assert_eq!((code.expected.as_str(), code.actual.as_str()), ("21201", "21211"));
    assert!(
        code.curl.as_deref().is_some_and(|c| c.contains("curl -X POST") && !c.contains(TOKEN)),
        "repro without the token: {code:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iso_date_fails_at_date_created() {
    let target = canned_json(201, &call_with("date_created", Some(json!("2010-08-31T20:36:28Z")))).await;
    check(target, create_case(), Status::Fail, &["/date_created", "2010-08-31T20:36:28Z", "rfc2822"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn numeric_duration_fails_at_duration() {
    let target = canned_json(201, &call_with("duration", Some(json!(15)))).await;
    let result = check(target, create_case(), Status::Fail, &["/duration", "15", "string"]).await;
    assert!(result.failures.iter().all(|f| f.pointer.as_deref() == Some("/duration")), "{:#?}", result.failures);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_status_code_fails() {
    let target = canned_json(200, &valid_call()).await;
    check(target, create_case(), Status::Fail, &["wrong status code", "HTTP 201", "HTTP 200"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matcher_mismatch_fails_with_expected_and_actual() {
    let target = canned_json(201, &valid_call()).await;
    let steps = json!([create_step(json!({
        "status": 201,
        "json": [
            { "pointer": "/status", "equals": "queued" },
            { "pointer": "/direction", "equals": "outbound-dial" },
            { "pointer": "/sid", "regex": "^CA[0-9a-f]{32}$" },
            { "pointer": "/price", "type": "string" },
            { "pointer": "/annotation", "present": true },
        ]
    }))]);
    let result = check(
        target,
        case("C-CREATE-2", steps),
        Status::Fail,
        &[
            "/direction",
            "\"outbound-dial\"",
            "\"outbound-api\"",
            "/price",
            "a value of type string",
            "null",
            "/annotation",
            "(absent)",
        ],
    )
    .await;
    assert_eq!(result.failures.len(), 3, "the holding matchers must not fail: {:#?}", result.failures);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_empty_body_where_empty_expected_fails() {
    // hyper drops the body of a 204, so the fake answers 200 and the case checks only the body.
    let target = canned_json(200, &json!({ "deleted": true })).await;
    let steps = json!([{
        "request": { "method": "DELETE", "path": format!("/2010-04-01/Accounts/{{AccountSid}}/Calls/{CA}.json"), "expect": { "empty_body": true } }
    }]);
    check(target, case("D-DELETE-1", steps), Status::Fail, &["the body must be empty", "deleted"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_served_as_another_type_fails() {
    // A recording's audio answered with a JSON document: the media type is wrong, the body is there.
    let target = canned_json(200, &json!({ "sid": "RE0123456789abcdef0123456789abcdef" })).await;
    let steps = json!([{
        "request": {
            "method": "GET",
            "path": "/2010-04-01/Accounts/{AccountSid}/Recordings/RE0123456789abcdef0123456789abcdef.mp3",
            "expect": { "status": 200, "content_type_in": ["audio/mpeg", "audio/mp3"], "empty_body": false },
        }
    }]);
    let mut media = case("R-RES-13", steps);
    media["needs"] = json!(["callbacks", "reads", "recordings-resource"]);
    let expected = ["served as another media type", "audio/mpeg", "application/json"];
    let result = check(target, media, Status::Fail, &expected).await;
    assert_eq!(result.failures.len(), 1, "the body is not empty: {:#?}", result.failures);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capture_of_an_absent_value_fails() {
    let target = canned_json(201, &call_with("sid", None)).await;
    let steps = json!([{
        "request": {
            "method": "POST",
            "path": CALLS,
            "form": [["To", "+14155551212"], ["From", "+15017122661"], ["Url", "{Sink}/voice.xml"]],
            "expect": { "status": 201 },
            "capture": { "CallSid": "/sid" },
        }
    }]);
    check(target, case("C-CREATE-1", steps), Status::Fail, &["cannot capture CallSid", "/sid", "(absent)"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequence_that_does_not_grow_fails() {
    // Two creates whose queue_time is the same: a sequence step wanting growth by 1 fails.
    let target = canned_json(201, &valid_call()).await;
    let steps = json!([
        {
            "repeat": 2,
            "request": {
                "method": "POST",
                "path": CALLS,
                "form": [["To", "+14155551212"], ["From", "+15017122661"], ["Url", "{Sink}/voice.xml"]],
                "expect": { "status": 201 },
                "capture": { "Queued[]": "/queue_time" },
            }
        },
        { "sequence": { "values": "Queued", "as": "integer", "min_step": 1, "count": 2 } },
    ]);
    check(
        target,
        case("D-LIST-1", steps),
        Status::Fail,
        &["values do not grow as required", "Queued[1]", "at least 1 more"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_that_never_ends_fails() {
    // Every page links to itself: the harness stops at max_pages instead of looping.
    let page = json!({
        "calls": [valid_call()],
        "page": 0,
        "page_size": 1,
        "next_page_uri": format!("/2010-04-01/Accounts/{AC}/Calls.json?PageSize=1&Page=1"),
    });
    let target = canned_json(200, &page).await;
    let steps = json!([{
        "paginate": {
            "path": CALLS,
            "query": [["PageSize", "1"]],
            "items": "/calls",
            "id": "/sid",
            "expect_total": 1,
            "max_pages": 3,
        }
    }]);
    check(target, case("D-LIST-2", steps), Status::Fail, &["next_page_uri never ends", "at most 3 pages"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_that_repeats_items_fails() {
    let next = format!("/2010-04-01/Accounts/{AC}/Calls.json?PageSize=1&Page=1");
    let server = MockServer::builder().start().await;
    let first = json!({ "calls": [valid_call()], "page": 0, "page_size": 1, "next_page_uri": next });
    let last = json!({ "calls": [valid_call()], "page": 1, "page_size": 1, "next_page_uri": null });
    server
        .register(
            Mock::given(method("GET")).and(wiremock::matchers::query_param("Page", "1")).respond_with(
                ResponseTemplate::new(200).set_body_raw(last.to_string().into_bytes(), "application/json"),
            ),
        )
        .await;
    server
        .register(
            Mock::given(any()).respond_with(
                ResponseTemplate::new(200).set_body_raw(first.to_string().into_bytes(), "application/json"),
            ),
        )
        .await;
    let steps = json!([{
        "paginate": { "path": CALLS, "query": [["PageSize", "1"]], "items": "/calls", "id": "/sid", "expect_total": 2, "page_size": 1 }
    }]);
    check(
        Target::server(server),
        case("D-LIST-2", steps),
        Status::Fail,
        &["paging repeats items", CA, "2 distinct items over 2 pages"],
    )
    .await;
}

/// An error body as Twilio writes it.
fn error_body(status: u16, code: u32) -> Value {
    json!({
        "code": code,
        "message": "refused",
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
        "status": status,
    })
}

/// An update of an ended call that accepts 400 / 21220 or 404 / 20404.
fn update_ended_case() -> Value {
    case(
        "L-REDIRECT-1",
        json!([{
            "request": {
                "method": "POST",
                "path": format!("/2010-04-01/Accounts/{{AccountSid}}/Calls/{CA}.json"),
                "form": [["Url", "{Sink}/next.xml"]],
                "expect": { "either": [{ "status": 400, "error_code": 21220 }, { "status": 404, "error_code": 20404 }] },
            }
        }]),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn either_alternative_passes() {
    for (status, code) in [(400, 21220), (404, 20404)] {
        let target = canned_json(status, &error_body(status, code)).await;
        let result = check(target, update_ended_case(), Status::Pass, &[]).await;
        assert!(result.failures.is_empty(), "{status} / {code}: {:#?}", result.failures);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn either_checks_the_alternative_its_status_names() {
    // 400 picks the 21220 alternative, so a 400 carrying 20404 is the wrong code.
    let target = canned_json(400, &error_body(400, 20404)).await;
    let result = check(target, update_ended_case(), Status::Fail, &["/code", "21220", "20404"]).await;
    assert_eq!(result.failures.len(), 1, "{:#?}", result.failures);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn either_with_a_status_no_alternative_names_fails() {
    let target = canned_json(200, &valid_call()).await;
    check(
        target,
        update_ended_case(),
        Status::Fail,
        &[
            "none of the documented alternatives",
            "HTTP [400] with code 21220 or HTTP [404] with code 20404",
            "HTTP 200",
        ],
    )
    .await;
}

/// A DELETE repeated until it answers 204.
fn delete_until_204() -> Value {
    case(
        "D-DELETE-1",
        json!([{
            "poll": {
                "method": "DELETE",
                "path": format!("/2010-04-01/Accounts/{{AccountSid}}/Calls/{CA}.json"),
                "until_status": [204],
                "within_ms": 3000,
                "interval_ms": 50,
                "expect": { "status": 204, "empty_body": true },
            }
        }]),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poll_until_status_waits_for_the_status() {
    // The call is not deletable for two attempts, then it is.
    let server = MockServer::builder().start().await;
    let refused =
        ResponseTemplate::new(400).set_body_raw(error_body(400, 21220).to_string().into_bytes(), "application/json");
    server.register(Mock::given(method("DELETE")).respond_with(refused).up_to_n_times(2).with_priority(1)).await;
    server.register(Mock::given(method("DELETE")).respond_with(ResponseTemplate::new(204)).with_priority(2)).await;
    let result = check(Target::server(server), delete_until_204(), Status::Pass, &[]).await;
    assert!(result.failures.is_empty(), "{:#?}", result.failures);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poll_until_a_status_that_never_comes_fails() {
    let target = canned_json(400, &error_body(400, 21220)).await;
    check(
        target,
        delete_until_204(),
        Status::Fail,
        &["condition not reached within 3000 ms", "HTTP status in [204]", "HTTP 400"],
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// 5-8: status callbacks
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callbacks_out_of_order_fail_naming_the_order() {
    // The fake sends answered (in-progress) first, then initiated.
    let target = CallTarget::new(&["in-progress", "initiated"], Signing::Correct).start().await;
    let case = callback_case(&["initiated", "answered"], &IN_ORDER, json!({}));
    let result = check(
        target,
        case,
        Status::Fail,
        &[
            "requests out of order",
            "request #1 (POST /events)/CallStatus",
            "\"initiated\"",
            "CallStatus=in-progress SequenceNumber=0]; POST /events [CallSid=CA000000000000000000000000ca110000 CallStatus=initiated SequenceNumber=1]",
        ],
    )
    .await;
    assert!(
        result.failures.iter().all(|f| !f.pointer.as_deref().unwrap_or("").contains("X-Twilio-Signature")),
        "signed correctly: {:#?}",
        result.failures
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callbacks_arriving_out_of_order_with_their_sequence_numbers_pass() {
    // Twilio fires events in order but sends each as its own request: arrival order may differ,
    // and SequenceNumber tells the firing order.
    let mut fake = CallTarget::new(&["initiated", "in-progress"], Signing::Correct);
    fake.reversed = true;
    let target = fake.start().await;
    let case = callback_case(&["initiated", "answered"], &IN_ORDER, json!({}));
    check(target, case, Status::Pass, &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callbacks_signed_with_the_wrong_token_fail() {
    let target = CallTarget::new(&["initiated", "in-progress"], Signing::WrongToken).start().await;
    let case = callback_case(&["initiated", "answered"], &IN_ORDER, json!({}));
    let result = check(
        target,
        case,
        Status::Fail,
        &["X-Twilio-Signature does not validate", "/X-Twilio-Signature", "HMAC-SHA1"],
    )
    .await;
    // The same gap on every callback is one failure, with its count.
    assert_eq!(result.failures.len(), 1, "one failure for both callbacks: {:#?}", result.failures);
    assert!(result.failures[0].message.ends_with("(2 times in this case)"), "{:#?}", result.failures);
    assert!(!result.message().contains(TOKEN), "the auth token must not be shown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_callbacks_fail() {
    let target = CallTarget::new(&["initiated", "in-progress"], Signing::Missing).start().await;
    let case = callback_case(&["initiated", "answered"], &IN_ORDER, json!({}));
    check(
        target,
        case,
        Status::Fail,
        &["every request the target makes must be signed", "request #1 (POST /events)/X-Twilio-Signature", "(absent)"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callbacks_with_the_wrong_method_fail() {
    let mut fake = CallTarget::new(&["initiated", "in-progress"], Signing::Correct);
    fake.method = "GET";
    let target = fake.start().await;
    let case = callback_case(&["initiated", "answered"], &IN_ORDER, json!({ "method": "POST" }));
    let result = check(target, case, Status::Fail, &["wrong HTTP method", "expected: POST", "actual:   GET"]).await;
    // GET callbacks signed over the URL with its query validate: only the method is wrong.
    assert!(result.failures.iter().all(|f| f.message.starts_with("wrong HTTP method")), "{:#?}", result.failures);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_callbacks_fail_with_the_count() {
    let target = CallTarget::new(&[], Signing::Correct).start().await;
    let case = callback_case(&["initiated", "answered"], &IN_ORDER, json!({ "within_ms": 500 }));
    let result = check(
        target,
        case,
        Status::Fail,
        &["wrong number of requests within 500 ms", "2 request(s) to /events", "0: none"],
    )
    .await;
    assert!(result.duration < Duration::from_secs(5), "took {:?}", result.duration);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callback_parameters_that_do_not_match_fail() {
    // The fake's CallbackSource is right; the case asks for a different one and a CallSid the call does not have.
    let target = CallTarget::new(&["initiated", "in-progress"], Signing::Correct).start().await;
    let case = callback_case(
        &["initiated", "answered"],
        &IN_ORDER,
        json!({ "each": { "CallSid": "CA00000000000000000000000000000000", "CallbackSource": "call-progress-events" } }),
    );
    check(
        target,
        case,
        Status::Fail,
        &["parameter does not match", "/CallSid", "\"CA00000000000000000000000000000000\""],
    )
    .await;
}

/// A case that measures the dequeue rate: it needs the account's queue to itself, so its burst of
/// creates is not spaced at the CPS by the harness.
fn rate_case(requirement: &str, steps: Value) -> Value {
    let mut c = case(requirement, steps);
    c["exclusive"] = json!(true);
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dequeue_faster_than_the_cps_fails_naming_the_gap() {
    // Three creates; the fake sends each call's initiated callback 200 ms after the previous
    // one (5 calls per second), where the case wants 1 per second.
    let mut fake = CallTarget::new(&["initiated"], Signing::Correct);
    fake.pace = Duration::from_millis(200);
    let target = fake.start().await;
    let steps = json!([
        {
            "repeat": 3,
            "request": {
                "method": "POST",
                "path": CALLS,
                "form": [
                    ["To", "+14155551212"], ["From", "+15017122661"], ["Url", "{Sink}/voice.xml"],
                    ["StatusCallback", "{Sink}/events"], ["StatusCallbackEvent", "initiated"],
                ],
                "expect": { "status": 201 },
                "capture": { "CallSid[]": "/sid" },
            }
        },
        {
            "callbacks": {
                "path": "/events",
                "where": { "CallStatus": "initiated" },
                "count": 3,
                "within_ms": 4000,
                "spacing": { "min_ms": 1000, "tolerance_ms": 50 },
            }
        },
    ]);
    let result = check(
        target,
        rate_case("Q-RATE-1", steps),
        Status::Fail,
        &["requests too close together", "at least 1000 ms between requests (tolerance 50 ms)", "CallStatus=initiated"],
    )
    .await;
    // Both gaps are too short: one failure, counted twice.
    assert_eq!(result.failures.len(), 1, "both gaps are too short: {:#?}", result.failures);
    assert!(result.failures[0].message.ends_with("(2 times in this case)"), "{:#?}", result.failures);
    for f in &result.failures {
        let gap: u64 = f
            .actual
            .split(" ms")
            .next()
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("the actual value starts with the gap in ms: {:?}", f.actual));
        assert!((100..950).contains(&gap), "a gap of about 200 ms: {gap} ms ({:?})", f.actual);
    }
}

/// Three creates whose initiated callbacks the fake sends `pace` apart, and a step wanting them
/// `min_average_ms` apart on average (tolerance 50 ms).
async fn average_spacing(pace_ms: u64, min_average_ms: Value, extra: Extra<'_>, expected: Status, needles: &[&str]) {
    let mut fake = CallTarget::new(&["initiated"], Signing::Correct);
    fake.pace = Duration::from_millis(pace_ms);
    let target = fake.start().await;
    let steps = json!([
        {
            "repeat": 3,
            "request": {
                "method": "POST",
                "path": CALLS,
                "form": [
                    ["To", "+14155551212"], ["From", "+15017122661"], ["Url", "{Sink}/voice.xml"],
                    ["StatusCallback", "{Sink}/events"], ["StatusCallbackEvent", "initiated"],
                ],
                "expect": { "status": 201 },
            }
        },
        {
            "callbacks": {
                "path": "/events",
                "count": 3,
                "within_ms": 4000,
                "spacing": { "min_average_ms": min_average_ms, "tolerance_ms": 50 },
            }
        },
    ]);
    check_with(extra, target, rate_case("Q-RATE-2", steps), expected, needles).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dequeue_faster_than_the_cps_on_average_fails_naming_the_span() {
    // 200 ms apart where 1000 ms on average are due: a span of about 400 ms, not 2000 ms.
    average_spacing(
        200,
        json!(1000),
        Extra::default(),
        Status::Fail,
        &[
            "requests closer together than the average allows",
            "3 requests at least 1000 ms apart on average: a span of at least 2000 ms (tolerance 50 ms)",
            "ms from the first to the last",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn average_spacing_from_the_profiles_cps_passes() {
    // cps = 4 makes {DequeueIntervalMs} 250: callbacks 300 ms apart span 600 ms, at least 500.
    let extra = Extra { top: "", tail: "cps = 4.0" };
    average_spacing(300, json!("{DequeueIntervalMs}"), extra, Status::Pass, &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn average_spacing_of_a_profile_without_cps_is_a_harness_error() {
    average_spacing(300, json!("{DequeueIntervalMs}"), Extra::default(), Status::Error, &["DequeueIntervalMs"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn correct_callbacks_pass() {
    let target = CallTarget::new(&["initiated", "in-progress"], Signing::Correct).start().await;
    let case = callback_case(&["initiated", "answered"], &IN_ORDER, full_callback_checks());
    let result = check(target, case, Status::Pass, &[]).await;
    assert!(result.failures.is_empty(), "{:#?}", result.failures);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn correct_get_callbacks_pass() {
    // The GET variant: parameters in the query, signature over the URL with its query.
    let mut fake = CallTarget::new(&["initiated", "in-progress"], Signing::Correct);
    fake.method = "GET";
    let target = fake.start().await;
    let case =
        callback_case(&["initiated", "answered"], &IN_ORDER, json!({ "method": "GET", "schema": "status-callback" }));
    check(target, case, Status::Pass, &[]).await;
}

// ---------------------------------------------------------------------------------------------
// 10: known failures
// ---------------------------------------------------------------------------------------------

fn known_failure(expires: Option<&str>) -> String {
    let expires = expires.map(|e| format!("expires = \"{e}\"\n")).unwrap_or_default();
    format!(
        "\n[[known_failures]]\ncase = \"{CASE_NAME}\"\nreason = \"the fake omits queue_time\"\ncategory = \"bug\"\n{expires}"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn known_failure_turns_fail_into_xfail() {
    let target = canned_json(201, &call_with("queue_time", None)).await;
    let tail = known_failure(Some("2999-12-31"));
    let result =
        check_with(Extra { top: "", tail: &tail }, target, create_case(), Status::XFail, &["XFAIL", "queue_time"])
            .await;
    assert_eq!(result.reason.as_deref(), Some("the fake omits queue_time"));
    assert!(result.status.is_expected());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn known_failure_that_passes_is_xpass_asking_to_remove_the_entry() {
    let target = canned_json(201, &valid_call()).await;
    let tail = known_failure(None);
    let result = check_with(
        Extra { top: "", tail: &tail },
        target,
        create_case(),
        Status::XPass,
        &["XPASS", "the fake omits queue_time", "remove this entry"],
    )
    .await;
    assert!(!result.status.is_expected());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_known_failure_no_longer_suppresses() {
    let target = canned_json(201, &call_with("queue_time", None)).await;
    let tail = known_failure(Some("2000-01-01"));
    let result =
        check_with(Extra { top: "", tail: &tail }, target, create_case(), Status::Fail, &["FAIL", "queue_time"]).await;
    let reason = result.reason.as_deref().unwrap_or("");
    assert!(reason.contains("expired on 2000-01-01"), "the reason says the entry expired: {reason:?}");
}

#[test]
fn known_failure_matching_no_case_is_a_load_error() {
    let schemas = schemas();
    let tail = format!(
        "{}\n[[known_failures]]\ncase = \"selftest::\"\nreason = \"area prefix\"\ncategory = \"irrelevant\"\n\n[[known_failures]]\ncase = \"create::999_renamed\"\nreason = \"typo\"\ncategory = \"missing-feature\"\n",
        known_failure(None)
    );
    let path = Path::new("profiles/selftest.toml");
    let profile =
        Profile::parse(&profile_text("", &tail), path, &schemas).unwrap_or_else(|e| panic!("profile loads:\n{e}"));
    profile
        .check_known_failures(path, &[CASE_NAME, "selftest::other", "create::999_renamed"])
        .unwrap_or_else(|e| panic!("every entry matches a case:\n{e}"));
    let errors = profile.check_known_failures(path, &["create::001_phone"]).expect_err("no entry matches that case");
    let pointers: Vec<Option<&str>> = errors.0.iter().map(|e| e.pointer.as_deref()).collect();
    assert_eq!(
        pointers,
        [Some("/known_failures/0/case"), Some("/known_failures/1/case"), Some("/known_failures/2/case")]
    );
    let text = errors.to_string();
    assert!(text.contains("profiles/selftest.toml at /known_failures/0/case"), "{text}");
    assert!(text.contains(CASE_NAME) && text.contains("matches no case"), "{text}");
    // Only the misspelt entry is reported when the others match.
    let errors = profile.check_known_failures(path, &[CASE_NAME]).expect_err("entry 2 matches nothing");
    assert_eq!(errors.0.len(), 1, "{errors}");
    assert_eq!(errors.0[0].pointer.as_deref(), Some("/known_failures/2/case"));
    assert!(errors.0[0].message.contains("create::999_renamed"), "{errors}");
}

#[test]
fn blank_known_failure_reason_is_a_load_error() {
    let schemas = schemas();
    let tail = format!("\n[[known_failures]]\ncase = \"{CASE_NAME}\"\nreason = \"   \"\ncategory = \"bug\"\n");
    let errors =
        Profile::parse(&profile_text("", &tail), Path::new("p.toml"), &schemas).expect_err("a blank reason is refused");
    assert!(errors.0.iter().any(|e| e.pointer.as_deref() == Some("/known_failures/0/reason")), "{errors}");
}

// ---------------------------------------------------------------------------------------------
// 11: fixture load errors
// ---------------------------------------------------------------------------------------------

fn load_errors(value: Value) -> callspec_conformance::error::LoadErrors {
    let schemas = schemas();
    match parse_case(
        "selftest::broken",
        "selftest",
        Path::new("fixtures/cases/selftest/broken.json"),
        value,
        &schemas,
        &catalog(),
    ) {
        Ok(case) => panic!("the broken case loaded: {:?}", case.data.title),
        Err(e) => e,
    }
}

fn assert_error_at(errors: &callspec_conformance::error::LoadErrors, pointer: &str, kind: LoadErrorKind, needle: &str) {
    assert!(
        errors.0.iter().any(|e| e.pointer.as_deref() == Some(pointer) && e.kind == kind && e.message.contains(needle)),
        "expected a {kind:?} error at {pointer} mentioning {needle:?}; got:\n{errors}"
    );
    assert!(errors.to_string().contains(&format!("fixtures/cases/selftest/broken.json at {pointer}")), "{errors}");
}

#[test]
fn unknown_step_key_is_refused_at_the_step() {
    let errors = load_errors(case("C-CREATE-1", json!([{ "wait": { "ms": 100 } }])));
    assert_error_at(&errors, "/steps/0", LoadErrorKind::Schema, "wait");
    // An unknown key next to a valid action too.
    let mut step = create_step(json!({ "status": 201 }));
    step["expect_later"] = json!(true);
    let errors = load_errors(case("C-CREATE-1", json!([step])));
    assert_error_at(&errors, "/steps/0", LoadErrorKind::Schema, "expect_later");
}

#[test]
fn matcher_with_two_rules_is_refused_at_the_matcher() {
    let step =
        create_step(json!({ "status": 201, "json": [{ "pointer": "/status", "equals": "queued", "regex": "^q" }] }));
    let errors = load_errors(case("C-CREATE-1", json!([step])));
    assert_error_at(&errors, "/steps/0/request/expect/json/0", LoadErrorKind::Schema, "more than 2 properties");
}

#[test]
fn unknown_requirement_ids_are_refused_where_they_are_cited() {
    let mut step = create_step(json!({ "status": 201 }));
    step["requirement"] = json!("C-NOPE-2");
    let value =
        json!({ "title": "cites unknown requirements", "requirements": ["C-CREATE-1", "C-NOPE-9"], "steps": [step] });
    let errors = load_errors(value);
    assert_error_at(&errors, "/requirements/1", LoadErrorKind::UnknownRequirement, "C-NOPE-9");
    assert_error_at(&errors, "/steps/0/requirement", LoadErrorKind::UnknownRequirement, "C-NOPE-2");
    assert_eq!(errors.0.len(), 2, "every problem is collected: {errors}");
}

#[test]
fn callbacks_sequence_longer_than_count_is_refused() {
    let steps = json!([{
        "callbacks": { "path": "/events", "count": 1, "within_ms": 1000, "sequence": [{ "CallStatus": "initiated" }, { "CallStatus": "ringing" }] }
    }]);
    let errors = load_errors(case("S-EV-2", steps));
    assert_error_at(&errors, "/steps/0/callbacks/sequence", LoadErrorKind::Invalid, "`count` is 1");
}
