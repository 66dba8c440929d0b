//! The fake targets and the harness every runner self-test uses: profiles and cases as text,
//! canned JSON targets, and [`CallTarget`], which creates calls and sends signed status callbacks
//! to the sink. [`check`] runs a case against a target and asserts its status and message.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use callspec_conformance::client::Client;
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
pub(crate) const AC: &str = "AC0123456789abcdef0123456789abcdef";
/// Its auth token: the fake targets sign callbacks with it.
pub(crate) const TOKEN: &str = "selftest-auth-token-0123456789";
/// A call SID for canned bodies.
pub(crate) const CA: &str = "CAfedcba9876543210fedcba9876543210";
/// The caller-ID number SID of canned bodies.
pub(crate) const PN: &str = "PN00112233445566778899aabbccddeeff";
/// "Today" for known-failure expiry.
pub(crate) const TODAY: &str = "2025-06-01";
/// The request timeout of the profile; hostile targets must end within about this.
pub(crate) const REQUEST_TIMEOUT_MS: u64 = 1500;
/// No test may take longer than this, whatever the harness does.
pub(crate) const OUTER_LIMIT: Duration = Duration::from_secs(30);
/// The calls path of the main account.
pub(crate) const CALLS: &str = "/2010-04-01/Accounts/{AccountSid}/Calls.json";

pub(crate) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub(crate) fn schemas() -> Arc<SchemaSet> {
    Arc::new(SchemaSet::load(&repo_root().join("schemas")).expect("schemas/ loads"))
}

pub(crate) fn catalog() -> Catalog {
    Catalog::load(&repo_root().join("fixtures/requirements.toml")).expect("fixtures/requirements.toml loads")
}

// ---------------------------------------------------------------------------------------------
// Profiles, cases, harness
// ---------------------------------------------------------------------------------------------

/// Profile text: `top` holds extra top-level keys, `tail` extra tables (`[[known_failures]]`).
pub(crate) fn profile_text(top: &str, tail: &str) -> String {
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
pub(crate) struct Extra<'a> {
    /// Top-level keys, e.g. `case_deadline_ms = 1500`.
    pub(crate) top: &'a str,
    /// Tables after the others, e.g. `[[known_failures]]`.
    pub(crate) tail: &'a str,
}

/// A case around `steps`, acting as the main account, covering `requirement`.
pub(crate) fn case(requirement: &str, steps: Value) -> Value {
    json!({
        "title": "a self-test case against a deliberately wrong target",
        "requirements": [requirement],
        "account": "main",
        "needs": ["callbacks", "reads"],
        "steps": steps,
    })
}

/// The case name every check uses (known-failure entries refer to it).
pub(crate) const CASE_NAME: &str = "selftest::wrong_target";

pub(crate) fn load(value: Value, schemas: &SchemaSet) -> Case {
    parse_case(CASE_NAME, "selftest", Path::new("selftest/wrong-target.json"), value, schemas, &catalog())
        .unwrap_or_else(|e| panic!("the self-test case must load:\n{e}"))
}

/// A fake target: its base URL and whatever must stay alive while a case runs against it.
pub(crate) struct Target {
    pub(crate) base_url: String,
    pub(crate) _server: Option<MockServer>,
    pub(crate) _task: Option<AbortOnDrop>,
}

/// Aborts a background task (a raw TCP target) when the test ends.
pub(crate) struct AbortOnDrop(pub(crate) tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Target {
    pub(crate) fn server(server: MockServer) -> Target {
        Target { base_url: server.uri(), _server: Some(server), _task: None }
    }
}

/// Runs `case` against `target` and asserts the status and that the message holds every needle.
pub(crate) async fn check(target: Target, case: Value, expected: Status, needles: &[&str]) -> CaseResult {
    check_with(Extra::default(), target, case, expected, needles).await
}

/// [`check`] with extra profile text.
pub(crate) async fn check_with(
    extra: Extra<'_>,
    target: Target,
    case: Value,
    expected: Status,
    needles: &[&str],
) -> CaseResult {
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
pub(crate) fn call_body(sid: &str, to: &str, from: &str) -> Value {
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

pub(crate) fn valid_call() -> Value {
    call_body(CA, "+14155551212", "+15017122661")
}

/// `valid_call()` with one key replaced (`Some`) or removed (`None`).
pub(crate) fn call_with(key: &str, value: Option<Value>) -> Value {
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
pub(crate) async fn canned(template: ResponseTemplate) -> Target {
    let server = MockServer::builder().start().await;
    server.register(Mock::given(any()).respond_with(template)).await;
    Target::server(server)
}

/// A target answering every request with `status` and a JSON body.
pub(crate) async fn canned_json(status: u16, body: &Value) -> Target {
    canned(ResponseTemplate::new(status).set_body_raw(body.to_string().into_bytes(), "application/json")).await
}

/// The seed's call to a phone number: POST Calls.json, expecting `expect`.
pub(crate) fn create_step(expect: Value) -> Value {
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
pub(crate) fn create_case() -> Value {
    case("C-CREATE-1", json!([create_step(json!({ "status": 201, "schema": "call" }))]))
}

// ---------------------------------------------------------------------------------------------
// A target that creates calls and sends status callbacks to the sink
// ---------------------------------------------------------------------------------------------

/// How the fake signs the callbacks it sends.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Signing {
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
pub(crate) struct CallTarget {
    /// `CallStatus` of each callback, in sending order; `SequenceNumber` counts from 0.
    pub(crate) events: Vec<&'static str>,
    pub(crate) signing: Signing,
    /// `POST` (a form body) or `GET` (the parameters in the query).
    pub(crate) method: &'static str,
    /// Time between consecutive callbacks.
    pub(crate) pace: Duration,
    pub(crate) next_slot: Arc<Mutex<Option<Instant>>>,
    /// A key the Call JSON leaves out (a schema gap).
    pub(crate) omit: Option<&'static str>,
    /// Deliver the callbacks last-fired first, each with its own `SequenceNumber` (Twilio allows it).
    pub(crate) reversed: bool,
    pub(crate) calls: Arc<AtomicU64>,
}

impl CallTarget {
    pub(crate) fn new(events: &[&'static str], signing: Signing) -> CallTarget {
        CallTarget {
            events: events.to_vec(),
            signing,
            method: "POST",
            pace: Duration::ZERO,
            next_slot: Arc::new(Mutex::new(None)),
            omit: None,
            reversed: false,
            calls: Arc::new(AtomicU64::new(0)),
        }
    }

    pub(crate) async fn start(self) -> Target {
        let server = MockServer::builder().start().await;
        server.register(Mock::given(method("POST")).and(path_regex(r"/Calls\.json$")).respond_with(self)).await;
        Target::server(server)
    }

    /// The events with their `SequenceNumber`, in the order they are delivered.
    fn fired(&self) -> Vec<(&'static str, usize)> {
        let mut fired: Vec<(&'static str, usize)> = self.events.iter().copied().zip(0..).collect();
        if self.reversed {
            fired.reverse();
        }
        fired
    }

    /// When each callback is due: not before 50 ms from now (after the 201), `pace` apart.
    pub(crate) fn schedule(&self) -> Vec<Instant> {
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
pub(crate) struct Delivery {
    pub(crate) url: String,
    pub(crate) method: &'static str,
    pub(crate) signing: Signing,
    pub(crate) sid: String,
    pub(crate) to: String,
    pub(crate) from: String,
    /// `CallStatus`, `SequenceNumber` and when to send, in sending order.
    pub(crate) events: Vec<(&'static str, usize, Instant)>,
}

impl Delivery {
    pub(crate) async fn send(self) {
        let Ok(client) = reqwest::Client::builder().timeout(Duration::from_secs(3)).build() else { return };
        for (status, i, at) in &self.events {
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
        let mut body = call_body(&sid, &to, &from);
        if let (Some(key), Some(map)) = (self.omit, body.as_object_mut()) {
            map.remove(key);
        }
        if let Some(url) = form.get("StatusCallback") {
            let delivery = Delivery {
                url: url.to_owned(),
                method: self.method,
                signing: self.signing,
                sid,
                to,
                from,
                events: self.fired().into_iter().zip(self.schedule()).map(|((s, n), at)| (s, n, at)).collect(),
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
pub(crate) fn callback_case(events: &[&str], expected: &[(&str, &str)], callbacks: Value) -> Value {
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
pub(crate) const IN_ORDER: [(&str, &str); 2] = [("initiated", "0"), ("in-progress", "1")];

/// The checks a correct target passes on top of the sequence.
pub(crate) fn full_callback_checks() -> Value {
    json!({
        "method": "POST",
        "schema": "status-callback",
        "each": { "CallSid": "{CallSid}", "AccountSid": "{AccountSid}", "CallbackSource": "call-progress-events" },
        "quiet_ms": 200,
    })
}
