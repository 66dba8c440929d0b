//! Pacing against a fake target that records when each request arrives: creates of cases that
//! share an account are spaced at the profile's CPS and the wait never counts against a case's
//! deadline; polls back off; the profile's request budget holds for every request.

use crate::fake::{AC, CALLS, CASE_NAME, TODAY, Target, case, catalog, profile_text, schemas, valid_call};
use callspec_conformance::client::Client;
use callspec_conformance::fixture::{Case, parse_case};
use callspec_conformance::outcome::Status;
use callspec_conformance::profile::Profile;
use callspec_conformance::runner::{Accounts, Harness};
use callspec_conformance::sink::Sink;
use serde_json::{Value, json};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate, matchers::any};

/// Answers every request with a queued Call and records when each arrived.
#[derive(Clone, Default)]
struct Recorder {
    arrivals: Arc<Mutex<Vec<(String, Instant)>>>,
}

impl Respond for Recorder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut arrivals = self.arrivals.lock().unwrap_or_else(|p| p.into_inner());
        arrivals.push((format!("{} {}", request.method, request.url.path()), Instant::now()));
        let status = if request.method.as_str() == "POST" { 201 } else { 200 };
        ResponseTemplate::new(status).set_body_raw(valid_call().to_string().into_bytes(), "application/json")
    }
}

impl Recorder {
    async fn start(&self) -> Target {
        let server = MockServer::builder().start().await;
        server.register(Mock::given(any()).respond_with(self.clone())).await;
        Target::server(server)
    }

    /// Arrival times of the requests whose method and path start with `prefix`.
    fn times(&self, prefix: &str) -> Vec<Instant> {
        let arrivals = self.arrivals.lock().unwrap_or_else(|p| p.into_inner());
        arrivals.iter().filter(|(what, _)| what.starts_with(prefix)).map(|(_, at)| *at).collect()
    }
}

async fn harness(target: &Target, top: &str, tail: &str) -> Arc<Harness> {
    let schemas = schemas();
    let profile = Profile::parse(&profile_text(top, tail), Path::new("pacing.toml"), &schemas)
        .unwrap_or_else(|e| panic!("the self-test profile must load:\n{e}"));
    let sink = Sink::start("127.0.0.1:0", "http://127.0.0.1:{port}").await.expect("the callback sink starts");
    let mut client = Client::new(Duration::from_secs(2), 1 << 20).expect("the HTTP client builds");
    if let Some(budget) = profile.max_requests_per_second {
        client = client.with_budget(budget);
    }
    let main = profile.credentials.resolve("main account").expect("credentials");
    let accounts = Accounts { main, trial: None };
    Arc::new(Harness::new(profile, schemas, sink, client, target.base_url.clone(), accounts, TODAY.to_owned()))
}

fn load(name: &str, value: Value) -> Case {
    parse_case(name, "selftest", Path::new("selftest/pacing.json"), value, &schemas(), &catalog())
        .unwrap_or_else(|e| panic!("the self-test case must load:\n{e}"))
}

fn create(name: &str, deadline_ms: u64) -> Case {
    let mut value = case(
        "C-CREATE-1",
        json!([{
            "request": {
                "method": "POST", "path": CALLS,
                "form": [["To", "+14155551212"], ["From", "+15017122661"], ["Url", "{Sink}/voice.xml"]],
                "expect": { "status": 201 },
            }
        }]),
    );
    value["deadline_ms"] = json!(deadline_ms);
    load(name, value)
}

/// Runs `cases` at once on one harness and returns their results.
async fn run_all(harness: &Arc<Harness>, cases: Vec<Case>) -> Vec<Status> {
    let tasks: Vec<_> = cases
        .into_iter()
        .map(|c| {
            let h = harness.clone();
            tokio::spawn(async move { h.run_case(&c).await })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        let r = tokio::time::timeout(Duration::from_secs(30), t).await.expect("no hang").expect("no panic");
        assert!(r.failures.is_empty() && r.error.is_none(), "{}", r.message());
        statuses.push(r.status);
    }
    statuses
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creates_on_a_shared_account_are_spaced_at_the_cps_and_the_wait_is_not_the_targets() {
    let recorder = Recorder::default();
    let target = recorder.start().await;
    // 4 calls a second: creates 250 ms apart. The last of four cases waits 750 ms for its slot,
    // though its deadline is 1000 ms and the test's timeout multiplier shrinks it to 500 ms.
    let harness = harness(&target, "timeout_multiplier = 0.5", "cps = 4.0").await;
    let cases = (0..4).map(|i| create(&format!("{CASE_NAME}_{i}"), 1000)).collect();
    let started = Instant::now();
    let statuses = run_all(&harness, cases).await;
    assert_eq!(statuses, [Status::Pass; 4]);
    let mut creates = recorder.times(&format!("POST /2010-04-01/Accounts/{AC}/Calls.json"));
    creates.sort();
    assert_eq!(creates.len(), 4);
    for pair in creates.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(gap >= Duration::from_millis(240), "creates {gap:?} apart, where 250 ms are due");
    }
    // Shared, not taking turns: all four ran within about three intervals.
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_without_cps_is_paced_at_twilios_default_of_one_a_second() {
    let recorder = Recorder::default();
    let target = recorder.start().await;
    let harness = harness(&target, "", "").await;
    let cases = (0..2).map(|i| create(&format!("{CASE_NAME}_{i}"), 1000)).collect();
    assert_eq!(run_all(&harness, cases).await, [Status::Pass; 2]);
    let creates = recorder.times("POST");
    let gap = creates[1].max(creates[0]) - creates[1].min(creates[0]);
    assert!(gap >= Duration::from_millis(990), "creates {gap:?} apart, where 1 s is due");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poll_that_never_holds_backs_off_to_one_request_a_second() {
    let recorder = Recorder::default();
    let target = recorder.start().await;
    let harness = harness(&target, "", "").await;
    let poll = case(
        "D-FETCH-1",
        json!([{
            "poll": {
                "path": "/2010-04-01/Accounts/{AccountSid}/Calls/CA0.json",
                "until": [{ "pointer": "/status", "equals": "completed" }],
                "within_ms": 3000,
            }
        }]),
    );
    let result = harness.run_case(&load(CASE_NAME, poll)).await;
    assert_eq!(result.status, Status::Fail, "{}", result.message());
    // Attempts at 0, 0.1, 0.3, 0.7, 1.5, 2.5 and 3.0 s: 7, where a fixed 100 ms makes 30. Slow
    // requests on a loaded machine make fewer, never more.
    let polls = recorder.times("GET").len();
    assert!((3..=8).contains(&polls), "{polls} polls in 3 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_request_budget_holds_for_every_request() {
    let recorder = Recorder::default();
    let target = recorder.start().await;
    let harness = harness(&target, "max_requests_per_second = 10.0", "").await;
    let fetches = json!([{
        "repeat": 6,
        "request": { "method": "GET", "path": "/2010-04-01/Accounts/{AccountSid}/Calls/CA0.json", "expect": { "status": 200 } }
    }]);
    let result = harness.run_case(&load(CASE_NAME, case("D-FETCH-1", fetches))).await;
    assert_eq!(result.status, Status::Pass, "{}", result.message());
    let times = recorder.times("GET");
    assert_eq!(times.len(), 6);
    let span = times[5] - times[0];
    assert!(span >= Duration::from_millis(490), "6 requests at 10 a second span {span:?}, at least 500 ms");
    // How long the run waited depends on how long each request took (a loaded machine waits less),
    // so only its bound is checked here; `pace::tests` checks the accounting itself.
    assert!(harness.client.budget_waited() <= span, "{:?} waited in {span:?}", harness.client.budget_waited());
}
