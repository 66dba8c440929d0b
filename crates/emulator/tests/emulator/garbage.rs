//! Generated garbage, handed to the API in-process ([`InProcess`]): every answer is a JSON
//! Twilio error with a 4xx status, or a success for the few generated requests that happen to
//! be valid; never a 5xx, never a panic.
//!
//! The case count is bounded and the generator seeded, so the run takes seconds and repeats
//! exactly. Webhooks may reach only a name that is never generated, so nothing leaves the
//! process.

use super::*;
use axum::body::Body;
use axum::http::{HeaderValue, Method, Request as HttpRequest};
use callspec_emulator::InProcess;
use proptest::prelude::{Just, Strategy, any, prop_assert, prop_assert_eq, prop_oneof};
use proptest::test_runner::{Config as Cases, RngSeed, TestCaseError, TestRunner};

/// The credentials a request carries.
#[derive(Debug, Clone)]
enum Auth {
    None,
    Main,
    WrongToken,
    Raw(Vec<u8>),
}

#[derive(Debug, Clone)]
struct Garbage {
    method: String,
    path: Vec<String>,
    query: Vec<(String, String)>,
    auth: Auth,
    content_type: Option<Vec<u8>>,
    body: Vec<u8>,
}

/// Bytes a header value may hold (no control characters but tab).
fn header_bytes() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..48)
        .prop_map(|bytes| bytes.into_iter().filter(|b| *b == b'\t' || (*b >= 0x20 && *b != 0x7f)).collect())
}

fn segment() -> impl Strategy<Value = String> {
    let sids = [MAIN.0, TRIAL.0, "ACffffffffffffffffffffffffffffffff", "CA0123456789abcdef0123456789abcdef"];
    let words = [
        "2010-04-01",
        "Accounts",
        "Accounts.json",
        "Calls",
        "Calls.json",
        "Recordings.json",
        "IncomingPhoneNumbers",
        "IncomingPhoneNumbers.json",
        "Applications",
        "Applications.json",
        "Messages.json",
        "",
        "..",
    ];
    prop_oneof![
        4 => proptest::sample::select(words.to_vec()).prop_map(str::to_owned),
        2 => proptest::sample::select(sids.to_vec()).prop_map(str::to_owned),
        1 => proptest::sample::select(sids.to_vec()).prop_map(|s| format!("{s}.json")),
        1 => any::<String>(),
    ]
}

/// A route's shape, for an account that may not be the caller's, or a pile of segments.
fn path() -> impl Strategy<Value = Vec<String>> {
    let accounts = vec![MAIN.0, MAIN.0, TRIAL.0, "ACffffffffffffffffffffffffffffffff"];
    let tails = vec![
        "Calls.json",
        "Calls.json",
        "Calls.json",
        "Calls/CA0123456789abcdef0123456789abcdef.json",
        "Calls/CA0123456789abcdef0123456789abcdef/Recordings.json",
        "IncomingPhoneNumbers.json",
        "IncomingPhoneNumbers/PN0123456789abcdef0123456789abcdef.json",
        "Applications.json",
        "Applications/AP0123456789abcdef0123456789abcdef.json",
    ];
    let route = (proptest::sample::select(accounts), proptest::sample::select(tails)).prop_map(|(account, tail)| {
        ["2010-04-01", "Accounts", account].into_iter().chain(tail.split('/')).map(str::to_owned).collect()
    });
    prop_oneof![3 => route, 1 => proptest::collection::vec(segment(), 0..7)]
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(TO.to_owned()),
        Just(FROM.to_owned()),
        Just(NOWHERE.to_owned()),
        Just("<Response><Hangup/></Response>".to_owned()),
        Just("completed".to_owned()),
        Just("-1".to_owned()),
        Just("20".to_owned()),
        "\\PC{0,24}",
        any::<String>(),
    ]
}

fn pairs() -> impl Strategy<Value = Vec<(String, String)>> {
    let names = [
        "To",
        "From",
        "Url",
        "Twiml",
        "Method",
        "Status",
        "StatusCallback",
        "StatusCallbackEvent",
        "Timeout",
        "Record",
        "PageSize",
        "Page",
        "PageToken",
        "StartTime",
        "EndTime",
        "FriendlyName",
        "PhoneNumber",
        "VoiceUrl",
    ];
    let name = prop_oneof![4 => proptest::sample::select(names.to_vec()).prop_map(str::to_owned), 1 => any::<String>()];
    proptest::collection::vec((name, value()), 0..6)
}

fn garbage() -> impl Strategy<Value = Garbage> {
    let method = prop_oneof![
        3 => Just("GET".to_owned()),
        3 => Just("POST".to_owned()),
        2 => proptest::sample::select(&["DELETE", "PUT", "PATCH", "HEAD", "OPTIONS"][..]).prop_map(str::to_owned),
        1 => "[A-Z]{1,10}",
    ];
    let auth = prop_oneof![
        1 => Just(Auth::None),
        4 => Just(Auth::Main),
        1 => Just(Auth::WrongToken),
        1 => header_bytes().prop_map(Auth::Raw),
    ];
    let content_type = prop_oneof![
        Just(None),
        Just(Some(b"application/x-www-form-urlencoded".to_vec())),
        Just(Some(b"application/json".to_vec())),
        header_bytes().prop_map(Some),
    ];
    let form_body =
        pairs().prop_map(|p| form_urlencoded::Serializer::new(String::new()).extend_pairs(p).finish().into_bytes());
    let extras = proptest::collection::vec((any::<String>(), value()), 0..3);
    let create = extras.prop_map(|extra| {
        let valid = [("To", TO), ("From", FROM), ("Url", NOWHERE)].map(|(k, v)| (k.to_owned(), v.to_owned()));
        let all = valid.into_iter().chain(extra);
        form_urlencoded::Serializer::new(String::new()).extend_pairs(all).finish().into_bytes()
    });
    let body = prop_oneof![3 => form_body, 2 => create, 1 => proptest::collection::vec(any::<u8>(), 0..256)];
    (method, path(), pairs(), auth, content_type, body).prop_map(|(method, path, query, auth, content_type, body)| {
        Garbage { method, path, query, auth, content_type, body }
    })
}

impl Garbage {
    /// The request; every generated value is encoded so that it makes a valid `http::Request`.
    fn request(&self) -> HttpRequest<Body> {
        let segments: Vec<String> =
            self.path.iter().map(|s| form_urlencoded::byte_serialize(s.as_bytes()).collect()).collect();
        let mut uri = format!("/{}", segments.join("/"));
        if !self.query.is_empty() {
            uri.push('?');
            uri.push_str(&form_urlencoded::Serializer::new(String::new()).extend_pairs(&self.query).finish());
        }
        let method = Method::from_bytes(self.method.as_bytes()).expect("a token");
        let mut builder = HttpRequest::builder().method(method).uri(uri.as_str());
        let auth = match &self.auth {
            Auth::None => None,
            Auth::Main => Some(format!("Basic {}", base64_basic(MAIN)).into_bytes()),
            Auth::WrongToken => Some(format!("Basic {}", base64_basic((MAIN.0, "not-the-token"))).into_bytes()),
            Auth::Raw(bytes) => Some(bytes.clone()),
        };
        if let Some(value) = auth {
            builder = builder.header("authorization", HeaderValue::from_bytes(&value).expect("header bytes"));
        }
        if let Some(value) = &self.content_type {
            builder = builder.header("content-type", HeaderValue::from_bytes(value).expect("header bytes"));
        }
        builder.body(Body::from(self.body.clone())).expect("a valid request")
    }
}

#[test]
fn the_api_answers_generated_garbage_with_4xx_never_5xx() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let allow = vec!["never-generated.invalid".parse().expect("pattern")];
    let config = Config { ring: Duration::from_millis(20), cps: 50.0, webhook_allow_hosts: allow, ..Config::default() };
    let emulator = runtime.block_on(async { InProcess::new(config) }).expect("emulator");
    let cases = Cases { cases: 1000, failure_persistence: None, rng_seed: RngSeed::Fixed(14), ..Cases::default() };
    let mut runner = TestRunner::new(cases);
    let seen = std::cell::RefCell::new(std::collections::BTreeSet::new());
    let result = runner.run(&garbage(), |g| {
        let (status, content_type, body) = runtime.block_on(async {
            let response = emulator.handle(g.request()).await;
            let status = response.status().as_u16();
            let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_owned);
            let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.expect("a body");
            (status, content_type, body)
        });
        seen.borrow_mut().insert(status);
        prop_assert!(status < 500, "{status} for {g:?}: {}", String::from_utf8_lossy(&body));
        if !matches!(g.auth, Auth::Main) {
            prop_assert!((400..500).contains(&status), "{status} without valid credentials: {g:?}");
        }
        prop_assert_eq!(content_type.as_deref(), Some("application/json"));
        // 204 has no body, and neither has an answer to HEAD.
        if status != 204 && g.method != "HEAD" {
            let json: Value = serde_json::from_slice(&body).map_err(|e| TestCaseError::fail(format!("{e}: {g:?}")))?;
            if status >= 400 {
                prop_assert_eq!(json["status"].as_u64(), Some(u64::from(status)), "{}", json);
                prop_assert!(json["code"].is_u64() && json["message"].is_string(), "{}", json);
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    // The generator reaches every kind of refusal, and some requests that happen to be valid.
    let seen = seen.into_inner();
    for status in [200, 201, 400, 401, 404, 405] {
        assert!(seen.contains(&status), "no {status} among {seen:?}");
    }
}
