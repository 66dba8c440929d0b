//! The runner against deliberately wrong targets: every check kind reports FAIL with a message naming what is wrong, and hostile targets end in FAIL or ERROR within their deadlines, never a panic or a hang.
//!
//! Each test is data: a fake target (a wiremock `MockServer` with canned answers, the
//! callback-sending [`CallTarget`], or a raw TCP listener), a case as inline JSON, the status
//! the case must end with and the substrings its message must contain. [`check`] builds a
//! harness with its own callback sink against the target, runs the case under an outer
//! timeout, and asserts status and message. The profile has no subaccounts, so every case
//! runs on the main account and the target sees no setup requests.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use callspec_conformance::client::Client;
use callspec_conformance::error::LoadErrorKind;
use callspec_conformance::fixture::{Case, parse_case};
use callspec_conformance::outcome::{CaseResult, Status};
use callspec_conformance::profile::Profile;
use callspec_conformance::requirements::Catalog;
use callspec_conformance::runner::{Accounts, Harness};
use callspec_conformance::schema::SchemaSet;
use callspec_conformance::sink::Sink;
use callspec_model::{Form, signature};
use serde_json::{Value, json};
use wiremock::matchers::{any, method, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The main account of every profile here (`AC` + 32 hex digits).
const AC: &str = "AC0123456789abcdef0123456789abcdef";
/// Its auth token: the fake targets sign callbacks with it.
const TOKEN: &str = "selftest-auth-token-0123456789";
/// A call SID for canned bodies.
const CA: &str = "CAfedcba9876543210fedcba9876543210";
/// The caller-ID number SID of canned bodies.
const PN: &str = "PN00112233445566778899aabbccddeeff";
/// "Today" for known-failure expiry.
const TODAY: &str = "2025-06-01";
/// The request timeout of the profile; hostile targets must end within about this.
const REQUEST_TIMEOUT_MS: u64 = 1500;
/// No test may take longer than this, whatever the harness does.
const OUTER_LIMIT: Duration = Duration::from_secs(30);
/// The calls path of the main account.
const CALLS: &str = "/2010-04-01/Accounts/{AccountSid}/Calls.json";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn schemas() -> Arc<SchemaSet> {
    Arc::new(SchemaSet::load(&repo_root().join("schemas")).expect("schemas/ loads"))
}

fn catalog() -> Catalog {
    Catalog::load(&repo_root().join("fixtures/requirements.toml")).expect("fixtures/requirements.toml loads")
}

// ---------------------------------------------------------------------------------------------
// Profiles, cases, harness
// ---------------------------------------------------------------------------------------------

/// Profile text: `top` holds extra top-level keys, `tail` extra tables (`[[known_failures]]`).
fn profile_text(top: &str, tail: &str) -> String {
    format!(
        r#"name = "wrong-target"
request_timeout_ms = {REQUEST_TIMEOUT_MS}
{top}

[credentials]
account_sid = "{AC}"
auth_token = "{TOKEN}"

[numbers]
from = "+15017122661"
answer = "+14155551212"

[capabilities]
callbacks = true
{tail}
"#
    )
}

/// Extra profile text for one check.
#[derive(Default, Clone, Copy)]
struct Extra<'a> {
    /// Top-level keys, e.g. `case_deadline_ms = 1500`.
    top: &'a str,
    /// Tables after the others, e.g. `[[known_failures]]`.
    tail: &'a str,
}

/// A case around `steps`, acting as the main account, covering `requirement`.
fn case(requirement: &str, steps: Value) -> Value {
    json!({
        "title": "a self-test case against a deliberately wrong target",
        "requirements": [requirement],
        "account": "main",
        "needs": ["callbacks"],
        "steps": steps,
    })
}

/// The case name every check uses (known-failure entries refer to it).
const CASE_NAME: &str = "selftest::wrong_target";

fn load(value: Value, schemas: &SchemaSet) -> Case {
    parse_case(CASE_NAME, "selftest", Path::new("selftest/wrong-target.json"), value, schemas, &catalog())
        .unwrap_or_else(|e| panic!("the self-test case must load:\n{e}"))
}

/// A fake target: its base URL and whatever must stay alive while a case runs against it.
struct Target {
    base_url: String,
    _server: Option<MockServer>,
    _task: Option<AbortOnDrop>,
}

/// Aborts a background task (a raw TCP target) when the test ends.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Target {
    fn server(server: MockServer) -> Target {
        Target { base_url: server.uri(), _server: Some(server), _task: None }
    }
}

/// Runs `case` against `target` and asserts the status and that the message holds every needle.
async fn check(target: Target, case: Value, expected: Status, needles: &[&str]) -> CaseResult {
    check_with(Extra::default(), target, case, expected, needles).await
}

/// [`check`] with extra profile text.
async fn check_with(extra: Extra<'_>, target: Target, case: Value, expected: Status, needles: &[&str]) -> CaseResult {
    let schemas = schemas();
    let profile = Profile::parse(&profile_text(extra.top, extra.tail), Path::new("selftest-profile.toml"), &schemas)
        .unwrap_or_else(|e| panic!("the self-test profile must load:\n{e}"));
    let case = load(case, &schemas);
    let sink = Sink::start("127.0.0.1:0", "http://127.0.0.1:{port}").await.expect("the callback sink starts");
    let timeout = Duration::from_millis(profile.request_timeout_ms.unwrap_or(10_000));
    let client = Client::new(timeout, 1 << 20).expect("the HTTP client builds");
    let main = profile.credentials.resolve("main account").expect("the profile has credentials");
    let harness = Harness::new(
        profile,
        schemas,
        sink,
        client,
        target.base_url.clone(),
        Accounts { main, trial: None },
        TODAY.to_owned(),
    );
    let result = tokio::time::timeout(OUTER_LIMIT, harness.run_case(&case))
        .await
        .unwrap_or_else(|_| panic!("the harness hung: run_case did not return within {OUTER_LIMIT:?}"));
    drop(target);
    let message = result.message();
    assert_eq!(
        result.status, expected,
        "status of {CASE_NAME}: expected {expected}, got {}\nmessage:\n{message}\nreason: {:?}",
        result.status, result.reason
    );
    if matches!(result.status, Status::Fail | Status::XFail | Status::Error) {
        assert!(!message.trim().is_empty(), "a {} needs a message", result.status);
    }
    for needle in needles {
        assert!(message.contains(needle), "the message must contain {needle:?}; it is:\n{message}");
    }
    result
}

// ---------------------------------------------------------------------------------------------
// Bodies and canned targets
// ---------------------------------------------------------------------------------------------

/// A valid Call body (every one of the 26 keys of the seed's example output), queued.
fn call_body(sid: &str, to: &str, from: &str) -> Value {
    let base = format!("/2010-04-01/Accounts/{AC}/Calls/{sid}");
    json!({
        "account_sid": AC,
        "answered_by": null,
        "api_version": "2010-04-01",
        "caller_name": null,
        "date_created": "Tue, 31 Aug 2010 20:36:28 +0000",
        "date_updated": "Tue, 31 Aug 2010 20:36:28 +0000",
        "direction": "outbound-api",
        "duration": null,
        "end_time": null,
        "forwarded_from": null,
        "from": from,
        "from_formatted": "(501) 712-2661",
        "group_sid": null,
        "parent_call_sid": null,
        "phone_number_sid": PN,
        "price": null,
        "price_unit": "USD",
        "sid": sid,
        "start_time": null,
        "status": "queued",
        "subresource_uris": {
            "notifications": format!("{base}/Notifications.json"),
            "recordings": format!("{base}/Recordings.json"),
            "payments": format!("{base}/Payments.json"),
            "events": format!("{base}/Events.json"),
            "siprec": format!("{base}/Siprec.json"),
            "streams": format!("{base}/Streams.json"),
            "user_defined_message_subscriptions": format!("{base}/UserDefinedMessageSubscriptions.json"),
            "user_defined_messages": format!("{base}/UserDefinedMessages.json"),
        },
        "to": to,
        "to_formatted": "(415) 555-1212",
        "trunk_sid": null,
        "uri": format!("{base}.json"),
        "queue_time": "0",
    })
}

fn valid_call() -> Value {
    call_body(CA, "+14155551212", "+15017122661")
}

/// `valid_call()` with one key replaced (`Some`) or removed (`None`).
fn call_with(key: &str, value: Option<Value>) -> Value {
    let mut body = valid_call();
    let map = body.as_object_mut().expect("a Call body is an object");
    match value {
        Some(v) => {
            map.insert(key.to_owned(), v);
        }
        None => {
            map.remove(key);
        }
    }
    body
}

/// A target answering every request with the same response.
async fn canned(template: ResponseTemplate) -> Target {
    let server = MockServer::builder().start().await;
    server.register(Mock::given(any()).respond_with(template)).await;
    Target::server(server)
}

/// A target answering every request with `status` and a JSON body.
async fn canned_json(status: u16, body: &Value) -> Target {
    canned(ResponseTemplate::new(status).set_body_raw(body.to_string().into_bytes(), "application/json")).await
}

/// The seed's call to a phone number: POST Calls.json, expecting `expect`.
fn create_step(expect: Value) -> Value {
    json!({
        "request": {
            "method": "POST",
            "path": CALLS,
            "form": [["To", "+14155551212"], ["From", "+15017122661"], ["Url", "{Sink}/voice.xml"]],
            "expect": expect,
        }
    })
}

/// A create that must answer 201 with a valid Call.
fn create_case() -> Value {
    case("C-CREATE-1", json!([create_step(json!({ "status": 201, "schema": "call" }))]))
}

// ---------------------------------------------------------------------------------------------
// A target that creates calls and sends status callbacks to the sink
// ---------------------------------------------------------------------------------------------

/// How the fake signs the callbacks it sends.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Signing {
    /// With the account's auth token, as Twilio does.
    Correct,
    /// With another token.
    WrongToken,
    /// No `X-Twilio-Signature` header.
    Missing,
}

/// A fake `POST …/Calls.json`: answers 201 with a valid queued Call, then sends one status
/// callback per entry of `events` to the request's `StatusCallback`, in that order, from a
/// task on wiremock's own runtime. Consecutive callbacks (across calls too) are `pace` apart.
#[derive(Clone)]
struct CallTarget {
    /// `CallStatus` of each callback, in sending order; `SequenceNumber` counts from 0.
    events: Vec<&'static str>,
    signing: Signing,
    /// `POST` (a form body) or `GET` (the parameters in the query).
    method: &'static str,
    /// Time between consecutive callbacks.
    pace: Duration,
    next_slot: Arc<Mutex<Option<Instant>>>,
    calls: Arc<AtomicU64>,
}

impl CallTarget {
    fn new(events: &[&'static str], signing: Signing) -> CallTarget {
        CallTarget {
            events: events.to_vec(),
            signing,
            method: "POST",
            pace: Duration::ZERO,
            next_slot: Arc::new(Mutex::new(None)),
            calls: Arc::new(AtomicU64::new(0)),
        }
    }

    async fn start(self) -> Target {
        let server = MockServer::builder().start().await;
        server.register(Mock::given(method("POST")).and(path_regex(r"/Calls\.json$")).respond_with(self)).await;
        Target::server(server)
    }

    /// When each callback is due: not before 50 ms from now (after the 201), `pace` apart.
    fn schedule(&self) -> Vec<Instant> {
        let mut next = self.next_slot.lock().unwrap_or_else(|p| p.into_inner());
        let earliest = Instant::now() + Duration::from_millis(50);
        self.events
            .iter()
            .map(|_| {
                let at = next.map_or(earliest, |n| n.max(earliest));
                *next = Some(at + self.pace);
                at
            })
            .collect()
    }
}

/// One call's callbacks, ready to send.
struct Delivery {
    url: String,
    method: &'static str,
    signing: Signing,
    sid: String,
    to: String,
    from: String,
    events: Vec<(&'static str, Instant)>,
}

impl Delivery {
    async fn send(self) {
        let Ok(client) = reqwest::Client::builder().timeout(Duration::from_secs(3)).build() else { return };
        for (i, (status, at)) in self.events.iter().enumerate() {
            tokio::time::sleep_until(tokio::time::Instant::from_std(*at)).await;
            let params: Vec<(String, String)> = [
                ("AccountSid", AC),
                ("ApiVersion", "2010-04-01"),
                ("CallSid", self.sid.as_str()),
                ("CallStatus", *status),
                ("CallbackSource", "call-progress-events"),
                ("Direction", "outbound-api"),
                ("From", self.from.as_str()),
                ("SequenceNumber", i.to_string().as_str()),
                ("Timestamp", "Tue, 31 Aug 2010 20:36:29 +0000"),
                ("To", self.to.as_str()),
            ]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
            let encoded = Form::from_pairs(params.clone()).encode();
            let (url, signed_params, body) = if self.method == "GET" {
                (format!("{}?{encoded}", self.url), Vec::new(), None)
            } else {
                (self.url.clone(), params, Some(encoded))
            };
            let mut req = if self.method == "GET" { client.get(&url) } else { client.post(&url) };
            if let Some(body) = body {
                req = req.header("Content-Type", "application/x-www-form-urlencoded").body(body);
            }
            match self.signing {
                Signing::Correct => {
                    req = req.header("X-Twilio-Signature", signature::sign(TOKEN, &url, &signed_params))
                }
                Signing::WrongToken => {
                    req = req.header("X-Twilio-Signature", signature::sign("not-the-auth-token", &url, &signed_params));
                }
                Signing::Missing => {}
            }
            // A lost callback shows up as a wrong count in the case; nothing to do here.
            let _ = req.send().await;
        }
    }
}

impl Respond for CallTarget {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let Ok(form) = Form::parse(&request.body) else {
            return ResponseTemplate::new(400);
        };
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        let sid = format!("CA{:032x}", 0xca11_u64 * 0x1_0000 + n);
        let to = form.get("To").unwrap_or("+14155551212").to_owned();
        let from = form.get("From").unwrap_or("+15017122661").to_owned();
        let body = call_body(&sid, &to, &from);
        if let Some(url) = form.get("StatusCallback") {
            let delivery = Delivery {
                url: url.to_owned(),
                method: self.method,
                signing: self.signing,
                sid,
                to,
                from,
                events: self.events.iter().copied().zip(self.schedule()).collect(),
            };
            // `respond` runs inside the mock server's runtime (a current-thread runtime on
            // wiremock's own thread); fall back to a thread of our own if that ever changes.
            match tokio::runtime::Handle::try_current() {
                Ok(handle) => {
                    handle.spawn(delivery.send());
                }
                Err(_) => {
                    std::thread::spawn(move || {
                        if let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                            rt.block_on(delivery.send());
                        }
                    });
                }
            }
        }
        ResponseTemplate::new(201).set_body_raw(body.to_string().into_bytes(), "application/json")
    }
}

/// A create with a status callback for `events`, then a callbacks step checking them
/// (`callbacks` holds the step's extra keys; `count` and `sequence` are derived from `expected`).
fn callback_case(events: &[&str], expected: &[(&str, &str)], callbacks: Value) -> Value {
    let mut form = vec![
        json!(["To", "+14155551212"]),
        json!(["From", "+15017122661"]),
        json!(["Url", "{Sink}/voice.xml"]),
        json!(["StatusCallback", "{Sink}/events"]),
    ];
    form.extend(events.iter().map(|e| json!(["StatusCallbackEvent", e])));
    let mut step = json!({
        "path": "/events",
        "count": expected.len(),
        "within_ms": 3000,
        "sequence": expected
            .iter()
            .map(|(status, seq)| json!({ "CallStatus": status, "SequenceNumber": seq }))
            .collect::<Vec<_>>(),
    });
    if let (Some(step), Some(extra)) = (step.as_object_mut(), callbacks.as_object()) {
        step.extend(extra.clone());
    }
    case(
        "S-EV-2",
        json!([
            {
                "request": {
                    "method": "POST",
                    "path": CALLS,
                    "form": form,
                    "expect": { "status": 201, "schema": "call" },
                    "capture": { "CallSid": "/sid" },
                }
            },
            { "requirement": "W-SIG-1", "callbacks": step },
        ]),
    )
}

/// What the seed's progress-events case expects: initiated then answered (`in-progress`).
const IN_ORDER: [(&str, &str); 2] = [("initiated", "0"), ("in-progress", "1")];

/// The checks a correct target passes on top of the sequence.
fn full_callback_checks() -> Value {
    json!({
        "method": "POST",
        "schema": "status-callback",
        "each": { "CallSid": "{CallSid}", "AccountSid": "{AccountSid}", "CallbackSource": "call-progress-events" },
        "quiet_ms": 200,
    })
}

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
        case("Q-RATE-1", steps),
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
// 9: hostile targets
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_instead_of_json_fails() {
    let html = "<html><body><h1>201 Created</h1></body></html>";
    let target =
        canned(ResponseTemplate::new(201).set_body_raw(html.as_bytes().to_vec(), "text/html; charset=utf-8")).await;
    check(
        target,
        create_case(),
        Status::Fail,
        &["the body is not JSON", "Content-Type: application/json", "text/html", "<html>"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_body_fails() {
    let target = canned(ResponseTemplate::new(201)).await;
    check(target, create_case(), Status::Fail, &["the body is not JSON", "EOF"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_megabyte_body_fails_quickly_at_the_cap() {
    let huge = vec![b' '; 10 * 1024 * 1024];
    let target = canned(ResponseTemplate::new(201).set_body_raw(huge, "application/json")).await;
    let result = check(target, create_case(), Status::Fail, &["larger than 1048576 bytes"]).await;
    assert!(result.duration < Duration::from_secs(5), "the cap must stop the read early: {:?}", result.duration);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_that_never_answers_fails_within_the_request_timeout() {
    let target = canned(ResponseTemplate::new(201).set_delay(Duration::from_secs(60))).await;
    let started = Instant::now();
    let result = check(
        target,
        create_case(),
        Status::Fail,
        &["no usable response from the target", "no complete response within 1500 ms"],
    )
    .await;
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    assert!(result.duration >= Duration::from_millis(REQUEST_TIMEOUT_MS), "waited the timeout: {:?}", result.duration);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_that_resets_connections_fails() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a local port");
    let addr = listener.local_addr().expect("the listener's address");
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            // SO_LINGER 0: closing sends RST, not FIN.
            let _ = stream.set_zero_linger();
            drop(stream);
        }
    });
    let target = Target { base_url: format!("http://{addr}"), _server: None, _task: Some(AbortOnDrop(task)) };
    let result = check(
        target,
        create_case(),
        Status::Fail,
        &["no usable response from the target", "expected: an HTTP response"],
    )
    .await;
    let actual = &result.failures[0].actual;
    assert!(
        ["reset", "closed", "failed"].iter().any(|w| actual.contains(w)),
        "the actual value says what the transport did: {actual:?}"
    );
    assert!(result.duration < Duration::from_secs(5), "took {:?}", result.duration);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_that_refuses_connections_fails() {
    let port =
        std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free local port").port();
    let target = Target { base_url: format!("http://127.0.0.1:{port}"), _server: None, _task: None };
    check(target, create_case(), Status::Fail, &["no usable response from the target", "connection failed"]).await;
}

/// What a raw TCP target does after writing its reply.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Then {
    /// Close the connection.
    Close,
    /// Keep it open and silent until the test ends.
    Hang,
}

/// Reads one request (head and `Content-Length` body) from a raw connection.
async fn read_request(stream: &mut tokio::net::TcpStream) {
    use tokio::io::AsyncReadExt;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4);
        if let Some(end) = head_end {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if buf.len() >= end + length {
                return;
            }
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// A target speaking raw bytes: reads each request, writes `reply`, then closes or hangs.
async fn raw_target(reply: &'static [u8], then: Then) -> Target {
    use tokio::io::AsyncWriteExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a local port");
    let addr = listener.local_addr().expect("the listener's address");
    let task = tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                read_request(&mut stream).await;
                let _ = stream.write_all(reply).await;
                let _ = stream.flush().await;
                if then == Then::Hang {
                    std::future::pending::<()>().await;
                }
            });
        }
    });
    Target { base_url: format!("http://{addr}"), _server: None, _task: Some(AbortOnDrop(task)) }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_that_speaks_garbage_fails() {
    let target = raw_target(b"SSH-2.0-OpenSSH_9.6\r\n\r\n", Then::Close).await;
    let result = check(
        target,
        create_case(),
        Status::Fail,
        &["no usable response from the target", "expected: an HTTP response"],
    )
    .await;
    assert!(result.duration < Duration::from_secs(5), "took {:?}", result.duration);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_that_closes_mid_body_fails() {
    let reply = b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"sid\": \"CA";
    let target = raw_target(reply, Then::Close).await;
    let result = check(target, create_case(), Status::Fail, &["could not read the response body"]).await;
    assert!(result.duration < Duration::from_secs(5), "took {:?}", result.duration);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_that_stalls_mid_headers_fails_within_the_request_timeout() {
    let target = raw_target(b"HTTP/1.1 201 Created\r\nContent-Type: applic", Then::Hang).await;
    let result = check(target, create_case(), Status::Fail, &["no complete response within 1500 ms"]).await;
    assert!(result.duration < Duration::from_secs(5), "took {:?}", result.duration);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_that_stalls_mid_body_fails_within_the_request_timeout() {
    let reply = b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"sid\": \"CA";
    let target = raw_target(reply, Then::Hang).await;
    let result = check(target, create_case(), Status::Fail, &["no complete response within 1500 ms"]).await;
    assert!(result.duration < Duration::from_secs(5), "took {:?}", result.duration);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixture_template_error_is_an_error_not_a_fail() {
    // Not the target's fault: the case names a variable nobody set.
    let target = canned_json(200, &valid_call()).await;
    let steps = json!([{ "request": { "path": "/2010-04-01/Accounts/{AccountSid}/Calls/{NoSuchVariable}.json", "expect": { "status": 200 } } }]);
    check(
        target,
        case("D-FETCH-1", steps),
        Status::Error,
        &["ERROR (harness or setup, not a verdict on the target)", "NoSuchVariable"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_echoed_by_the_target_are_masked() {
    // A target that echoes the caller's credentials in its error body.
    let body = json!({ "code": 20003, "message": format!("bad credentials {AC}:{TOKEN}"), "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401 });
    let target = canned_json(401, &body).await;
    let result = check(target, create_case(), Status::Fail, &["wrong status code"]).await;
    assert!(!result.message().contains(TOKEN), "the auth token leaks into the message:\n{}", result.message());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poll_whose_condition_never_holds_fails_within_its_deadline() {
    let target = canned_json(200, &valid_call()).await;
    let steps = json!([{
        "poll": {
            "path": format!("/2010-04-01/Accounts/{{AccountSid}}/Calls/{CA}.json"),
            "until": [{ "pointer": "/status", "equals": "completed" }],
            "within_ms": 1000,
            "interval_ms": 100,
        }
    }]);
    let started = Instant::now();
    check(
        target,
        case("L-FLOW-1", steps),
        Status::Fail,
        &["condition not reached within 1000 ms", "/status = \"queued\"", "completed"],
    )
    .await;
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_deadline_stops_a_long_poll() {
    // The poll would wait 20 s; the profile's case deadline of 1.5 s ends the case first.
    let target = canned_json(200, &valid_call()).await;
    let steps = json!([{
        "poll": {
            "path": format!("/2010-04-01/Accounts/{{AccountSid}}/Calls/{CA}.json"),
            "until": [{ "pointer": "/status", "equals": "completed" }],
            "within_ms": 20000,
        }
    }]);
    let extra = Extra { top: "case_deadline_ms = 1500", tail: "" };
    let started = Instant::now();
    check_with(extra, target, case("L-FLOW-1", steps), Status::Fail, &["case deadline exceeded", "within 1500 ms"])
        .await;
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callbacks_with_a_json_body_fail() {
    // A target that posts JSON to the status callback URL instead of a form.
    let server = MockServer::builder().start().await;
    struct JsonPoster;
    impl Respond for JsonPoster {
        fn respond(&self, request: &Request) -> ResponseTemplate {
            let url = Form::parse(&request.body).ok().and_then(|f| f.get("StatusCallback").map(str::to_owned));
            if let (Some(url), Ok(handle)) = (url, tokio::runtime::Handle::try_current()) {
                handle.spawn(async move {
                    let body = json!({ "CallSid": CA, "CallStatus": "initiated" }).to_string();
                    let sig = signature::sign(TOKEN, &url, &[]);
                    if let Ok(client) = reqwest::Client::builder().timeout(Duration::from_secs(3)).build() {
                        let _ = client
                            .post(&url)
                            .header("Content-Type", "application/json")
                            .header("X-Twilio-Signature", sig)
                            .body(body)
                            .send()
                            .await;
                    }
                });
            }
            ResponseTemplate::new(201).set_body_raw(valid_call().to_string().into_bytes(), "application/json")
        }
    }
    server.register(Mock::given(method("POST")).respond_with(JsonPoster)).await;
    let steps = json!([
        {
            "request": {
                "method": "POST",
                "path": CALLS,
                "form": [["To", "+14155551212"], ["From", "+15017122661"], ["Url", "{Sink}/voice.xml"], ["StatusCallback", "{Sink}/events"]],
                "expect": { "status": 201 },
            }
        },
        { "callbacks": { "path": "/events", "count": 1, "within_ms": 3000, "signed": false } },
    ]);
    check(
        Target::server(server),
        case("T-FORM-1", steps),
        Status::Fail,
        &["callback bodies are application/x-www-form-urlencoded", "application/json", "is not a form"],
    )
    .await;
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
