//! End-to-end tests of the emulator over real HTTP, with a wiremock receiver standing in for
//! the user's TwiML and callback URLs.
//!
//! Waits use deadlines (poll until the expected requests arrived); "nothing arrived" checks
//! wait a bounded quiet period stated at each use.

use callspec_emulator::{Config, Emulator, seed};
use callspec_model::signature::validate;
use callspec_model::{Form, rfc2822};
use serde_json::Value;
use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use wiremock::matchers::{any, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

mod amd;
mod applications;
mod binary;
mod connections;
mod dial;
mod events;
mod exposure;
mod garbage;
mod gather;
mod journal;
mod limits;
mod logs;
mod recordings;
mod refusals;
mod variance;

const MAIN: (&str, &str) = (seed::MAIN_ACCOUNT_SID, seed::MAIN_AUTH_TOKEN);
const TRIAL: (&str, &str) = (seed::TRIAL_ACCOUNT_SID, seed::TRIAL_AUTH_TOKEN);
const FROM: &str = "+15017122661";
const TO: &str = "+14155551212";
const DEADLINE: Duration = Duration::from_secs(10);
/// A loopback URL nothing listens on: calls created with it never leave this machine.
const NOWHERE: &str = "http://127.0.0.1:9/twiml";

// ---------------------------------------------------------------- receiver

/// One request the emulator made to the receiver.
#[derive(Debug, Clone)]
struct Hit {
    at: Instant,
    method: String,
    path: String,
    /// The URL as the emulator requested it (receiver base + path + query).
    url: String,
    /// Query pairs for GET, form body pairs for POST.
    params: Vec<(String, String)>,
    body_empty: bool,
    signature: Option<String>,
}

impl Hit {
    fn get(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn param(&self, name: &str) -> &str {
        self.get(name).unwrap_or_else(|| panic!("{} {} has no {name}: {:?}", self.method, self.path, self.params))
    }

    fn signed_by(&self, token: &str) -> bool {
        let signed_params: &[(String, String)] = if self.method == "POST" { &self.params } else { &[] };
        self.signature.as_deref().is_some_and(|sig| validate(token, &self.url, signed_params, sig))
    }
}

struct Recorder {
    base: String,
    log: Arc<Mutex<Vec<Hit>>>,
    status: u16,
    body: String,
}

impl Respond for Recorder {
    fn respond(&self, r: &Request) -> ResponseTemplate {
        let query = r.url.query().map(|q| format!("?{q}")).unwrap_or_default();
        let form = if r.method.as_str() == "POST" {
            Form::parse(&r.body)
        } else {
            Form::parse(query.trim_start_matches('?').as_bytes())
        };
        let hit = Hit {
            at: Instant::now(),
            method: r.method.to_string(),
            path: r.url.path().to_owned(),
            url: format!("{}{}{query}", self.base, r.url.path()),
            params: form.map(Form::into_pairs).unwrap_or_default(),
            body_empty: r.body.is_empty(),
            signature: r.headers.get("X-Twilio-Signature").and_then(|v| v.to_str().ok()).map(str::to_owned),
        };
        self.log.lock().unwrap_or_else(PoisonError::into_inner).push(hit);
        ResponseTemplate::new(self.status).insert_header("content-type", "text/xml").set_body_string(self.body.clone())
    }
}

/// The user's web server: answers TwiML per path and records every request.
struct Receiver {
    server: MockServer,
    log: Arc<Mutex<Vec<Hit>>>,
}

impl Receiver {
    /// Answers `<Response/>` on every path not given a document with [`Receiver::serve`].
    async fn start() -> Receiver {
        let server = MockServer::start().await;
        let log = Arc::new(Mutex::new(Vec::new()));
        let receiver = Receiver { server, log };
        let catch_all = receiver.recorder(200, "<Response/>");
        Mock::given(any()).respond_with(catch_all).with_priority(10).mount(&receiver.server).await;
        receiver
    }

    fn recorder(&self, status: u16, body: &str) -> Recorder {
        Recorder { base: self.server.uri(), log: self.log.clone(), status, body: body.to_owned() }
    }

    async fn serve(&self, p: &str, status: u16, body: &str) {
        Mock::given(path(p)).respond_with(self.recorder(status, body)).with_priority(1).mount(&self.server).await;
    }

    fn url(&self, p: &str) -> String {
        format!("{}{p}", self.server.uri())
    }

    fn hits(&self) -> Vec<Hit> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Requests to `p` about call `sid`.
    fn about(&self, p: &str, sid: &str) -> Vec<Hit> {
        self.hits().into_iter().filter(|h| h.path == p && h.get("CallSid") == Some(sid)).collect()
    }

    /// Waits until at least `n` requests to `p` about `sid` arrived.
    async fn wait_for(&self, p: &str, sid: &str, n: usize) -> Vec<Hit> {
        let started = Instant::now();
        loop {
            let hits = self.about(p, sid);
            if hits.len() >= n {
                return hits;
            }
            assert!(
                started.elapsed() < DEADLINE,
                "waited {DEADLINE:?} for {n} requests to {p} about {sid}; got {hits:#?}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

// ---------------------------------------------------------------- API client

struct Api {
    base: String,
    http: reqwest::Client,
}

struct Answer {
    status: u16,
    content_type: String,
    json: Value,
}

impl Answer {
    fn code(&self) -> i64 {
        self.json["code"].as_i64().unwrap_or(-1)
    }

    fn str(&self, key: &str) -> &str {
        self.json[key].as_str().unwrap_or_else(|| panic!("no string {key} in {}", self.json))
    }
}

fn calls(ac: &str) -> String {
    format!("/2010-04-01/Accounts/{ac}/Calls.json")
}

fn call(ac: &str, ca: &str) -> String {
    format!("/2010-04-01/Accounts/{ac}/Calls/{ca}.json")
}

impl Api {
    fn new(emulator: &Emulator) -> Api {
        let http = reqwest::Client::builder().no_proxy().build().expect("client");
        Api { base: emulator.base_url(), http }
    }

    async fn raw(&self, method: &str, p: &str, auth: Option<(&str, &str)>, body: Option<(&str, Vec<u8>)>) -> Answer {
        let url = if p.starts_with('/') { format!("{}{p}", self.base) } else { p.to_owned() };
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self.http.request(method, url);
        if let Some((user, password)) = auth {
            request = request.basic_auth(user, Some(password));
        }
        if let Some((content_type, bytes)) = body {
            request = request.header("content-type", content_type).body(bytes);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let content_type =
            response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        let bytes = response.bytes().await.expect("body");
        let json = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).expect("JSON body") };
        Answer { status, content_type, json }
    }

    async fn post_as(&self, auth: (&str, &str), p: &str, form: &[(&str, &str)]) -> Answer {
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        self.raw("POST", p, Some(auth), Some(("application/x-www-form-urlencoded", body.into_bytes()))).await
    }

    async fn post(&self, p: &str, form: &[(&str, &str)]) -> Answer {
        self.post_as(MAIN, p, form).await
    }

    async fn get_as(&self, auth: (&str, &str), p: &str) -> Answer {
        self.raw("GET", p, Some(auth), None).await
    }

    async fn get(&self, p: &str) -> Answer {
        self.get_as(MAIN, p).await
    }

    /// Creates a call on the main account, asserting 201.
    async fn create(&self, form: &[(&str, &str)]) -> Value {
        let answer = self.post(&calls(MAIN.0), form).await;
        assert_eq!(answer.status, 201, "create answered {}", answer.json);
        answer.json
    }

    /// Fetches a call until `pred` holds.
    async fn wait_call(&self, ac: (&str, &str), sid: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let started = Instant::now();
        loop {
            let answer = self.get_as(ac, &call(ac.0, sid)).await;
            if pred(&answer.json) {
                return answer.json;
            }
            assert!(started.elapsed() < DEADLINE, "call never reached the expected state: {}", answer.json);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn emulator(cps: f64) -> Emulator {
    emulator_with(Config { cps, ring: Duration::from_millis(50), ..Config::default() }).await
}

async fn emulator_with(config: Config) -> Emulator {
    callspec_emulator::spawn(config).await.expect("emulator starts")
}

/// The `Authorization: Basic` value of a SID and token.
fn base64_basic((user, password): (&str, &str)) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
}

fn sid_of(call: &Value) -> String {
    call["sid"].as_str().expect("sid").to_owned()
}

/// The Call JSON of a call just created: all 26 fields, queued, nothing of its end yet.
fn assert_new_call(created: &Value, sid: &str) {
    assert_eq!(created.as_object().map(|o| o.len()), Some(26), "{created}");
    assert_eq!(created["status"], "queued");
    assert_eq!(created["direction"], "outbound-api");
    assert_eq!(created["api_version"], "2010-04-01");
    assert_eq!((created["to"].as_str(), created["from"].as_str()), (Some(TO), Some(FROM)));
    assert_eq!(created["to_formatted"], "(415) 555-1212");
    assert!(created["phone_number_sid"].as_str().is_some_and(|s| s.starts_with("PN")), "{created}");
    assert!(created["queue_time"].as_str().is_some_and(|q| q.parse::<u64>().is_ok()));
    assert_eq!(created["price_unit"], "USD");
    for null in ["start_time", "end_time", "duration", "price", "parent_call_sid"] {
        assert!(created[null].is_null(), "{null} should be null: {created}");
    }
    assert_eq!(created["uri"].as_str(), Some(call(MAIN.0, sid).as_str()));
    assert_eq!(created["subresource_uris"].as_object().map(|o| o.len()), Some(9));
}

/// The four status callbacks of an answered, recorded call of the main account: in order,
/// numbered from 0, signed, with the standard parameters and, at the end, the call's totals.
fn assert_status_callbacks(status: &[Hit]) {
    let observed: Vec<(&str, &str)> =
        status.iter().map(|h| (h.param("CallStatus"), h.param("SequenceNumber"))).collect();
    assert_eq!(observed, [("initiated", "0"), ("ringing", "1"), ("in-progress", "2"), ("completed", "3")]);
    for hit in status {
        assert_eq!(hit.method, "POST");
        assert!(hit.signed_by(MAIN.1), "bad signature on {hit:?}");
        assert!(!hit.signed_by(TRIAL.1));
        assert_eq!(hit.param("CallbackSource"), "call-progress-events");
        assert_eq!(hit.param("AccountSid"), MAIN.0);
        assert_eq!((hit.param("From"), hit.param("To")), (FROM, TO));
        assert_eq!((hit.param("Caller"), hit.param("Called")), (FROM, TO));
        assert_eq!((hit.param("ApiVersion"), hit.param("Direction")), ("2010-04-01", "outbound-api"));
        assert!(rfc2822::parse(hit.param("Timestamp")).is_ok());
    }
    let completed = &status[3];
    assert!(completed.param("CallDuration").parse::<u64>().is_ok_and(|d| d >= 1));
    assert_eq!(completed.param("Duration"), "1");
    assert_eq!(completed.param("SipResponseCode"), "200");
    assert!(completed.param("RecordingSid").starts_with("RE"));
    assert!(completed.param("RecordingUrl").contains(completed.param("RecordingSid")));
    assert!(status[0].get("CallDuration").is_none());
}

// ---------------------------------------------------------------- tests

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answered_call_reports_every_event_in_order_and_signed() {
    let emu = emulator(5.0).await;
    let api = Api::new(&emu);
    let rx = Receiver::start().await;
    rx.serve("/twiml", 200, "<Response><Say>Hello</Say><Pause length=\"1\"/></Response>").await;
    let created = api
        .create(&[
            ("To", TO),
            ("From", FROM),
            ("Url", &rx.url("/twiml")),
            ("StatusCallback", &rx.url("/status")),
            ("StatusCallbackEvent", "initiated"),
            ("StatusCallbackEvent", "ringing"),
            ("StatusCallbackEvent", "answered"),
            ("StatusCallbackEvent", "completed"),
            ("Record", "true"),
            ("RecordingChannels", "dual"),
            ("RecordingStatusCallback", &rx.url("/recording")),
            ("RecordingStatusCallbackEvent", "in-progress completed"),
        ])
        .await;
    let sid = sid_of(&created);
    assert_new_call(&created, &sid);

    let status = rx.wait_for("/status", &sid, 4).await;
    assert_status_callbacks(&status);
    let completed = &status[3];

    let twiml = rx.wait_for("/twiml", &sid, 1).await;
    assert_eq!(twiml.len(), 1);
    assert_eq!(twiml[0].method, "POST");
    assert_eq!(twiml[0].param("CallStatus"), "in-progress");
    assert!(twiml[0].signed_by(MAIN.1));

    let recording = rx.wait_for("/recording", &sid, 2).await;
    let rec_status: Vec<&str> = recording.iter().map(|h| h.param("RecordingStatus")).collect();
    assert_eq!(rec_status, ["in-progress", "completed"]);
    for hit in &recording {
        assert!(hit.signed_by(MAIN.1));
        assert_eq!(hit.param("RecordingChannels"), "2");
        assert_eq!(hit.param("RecordingSource"), "OutboundAPI");
        assert_eq!(hit.param("RecordingSid"), completed.param("RecordingSid"));
    }

    let done = api.wait_call(MAIN, &sid, |c| c["status"] == "completed").await;
    for set in ["start_time", "end_time", "duration", "price"] {
        assert!(done[set].is_string(), "{set} should be set: {done}");
    }
    assert_eq!(done["price"], "-0.01300");
    let recordings = api.get(&format!("/2010-04-01/Accounts/{}/Calls/{sid}/Recordings.json", MAIN.0)).await;
    assert_eq!(recordings.status, 200);
    let list = recordings.json["recordings"].as_array().expect("recordings");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["status"], "completed");
    assert_eq!(list[0]["channels"], 2);
    assert_eq!(list[0]["source"], "OutboundAPI");

    let started = Instant::now();
    emu.shutdown().await;
    assert!(started.elapsed() < Duration::from_secs(3), "shutdown took {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_requests_carry_their_parameters_in_the_query() {
    let emu = emulator(5.0).await;
    let api = Api::new(&emu);
    let rx = Receiver::start().await;
    rx.serve("/twiml", 200, "<Response><Hangup/></Response>").await;
    let created = api
        .create(&[
            ("To", "sip:kate@example.com?hatchkey=4815162342"),
            ("From", "Jack"),
            ("Url", &rx.url("/twiml?a=1")),
            ("Method", "GET"),
            ("StatusCallback", &rx.url("/status")),
            ("StatusCallbackMethod", "GET"),
            ("Record", "true"),
            ("RecordingStatusCallback", &rx.url("/recording")),
            ("RecordingStatusCallbackMethod", "GET"),
            ("RecordingStatusCallbackEvent", "completed"),
            ("RecordingStatusCallbackEvent", "absent"),
        ])
        .await;
    let sid = sid_of(&created);
    assert_eq!(created["to_formatted"], "sip:kate@example.com?hatchkey=4815162342");
    assert!(created["phone_number_sid"].is_null());
    let twiml = rx.wait_for("/twiml", &sid, 1).await;
    assert_eq!(twiml[0].method, "GET");
    assert_eq!(twiml[0].get("a"), Some("1"), "the URL's own query is kept");
    assert_eq!(twiml[0].param("To"), "sip:kate@example.com?hatchkey=4815162342");
    assert!(twiml[0].signed_by(MAIN.1), "{:?}", twiml[0]);
    let status = rx.wait_for("/status", &sid, 1).await;
    assert_eq!(status.len(), 1, "only completed by default");
    let hit = &status[0];
    assert_eq!((hit.method.as_str(), hit.body_empty), ("GET", true));
    assert_eq!(hit.param("CallStatus"), "completed");
    assert_eq!(hit.param("SequenceNumber"), "0");
    assert!(hit.signed_by(MAIN.1), "GET signature covers the full URL: {hit:?}");
    let recording = rx.wait_for("/recording", &sid, 1).await;
    assert_eq!(recording.len(), 1);
    assert_eq!(recording[0].method, "GET");
    assert_eq!((recording[0].param("RecordingStatus"), recording[0].param("ErrorCode")), ("absent", "16101"));
    assert_eq!(recording[0].param("RecordingChannels"), "1");
    assert!(recording[0].signed_by(MAIN.1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_canceled_while_queued_sends_nothing() {
    let emu = emulator(1.0).await;
    let api = Api::new(&emu);
    let rx = Receiver::start().await;
    let form = |status: &str| {
        vec![
            ("To".to_owned(), TO.to_owned()),
            ("From".to_owned(), FROM.to_owned()),
            ("Twiml".to_owned(), "<Response><Hangup/></Response>".to_owned()),
            ("StatusCallback".to_owned(), rx.url(status)),
            ("StatusCallbackEvent".to_owned(), "initiated".to_owned()),
            ("StatusCallbackEvent".to_owned(), "completed".to_owned()),
        ]
    };
    let first = form("/status");
    let first: Vec<(&str, &str)> = first.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let a = sid_of(&api.create(&first).await);
    let b = sid_of(&api.create(&first).await);
    let canceled = api.post(&call(MAIN.0, &b), &[("Status", "canceled")]).await;
    let canceled_at = Instant::now();
    assert_eq!(canceled.status, 200, "{}", canceled.json);
    assert_eq!(canceled.json["status"], "canceled");
    rx.wait_for("/status", &a, 2).await;
    // Quiet period: B's dequeue slot was 1 s after A's; wait 2 s past the cancel.
    tokio::time::sleep(Duration::from_secs(2).saturating_sub(canceled_at.elapsed())).await;
    assert_eq!(rx.about("/status", &b).len(), 0, "a call canceled while queued sends no callback");
    let fetched = api.get(&call(MAIN.0, &b)).await.json;
    assert_eq!(fetched["status"], "canceled");
    assert!(fetched["start_time"].is_null());
    let again = api.post(&call(MAIN.0, &b), &[("Status", "canceled")]).await;
    assert_eq!((again.status, again.code()), (400, 21220));
    assert_eq!(again.str("message"), "Call is not in-progress. Cannot redirect.");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_drains_at_the_account_cps() {
    let emu = emulator(1.0).await;
    let api = Api::new(&emu);
    let rx = Receiver::start().await;
    let cb = rx.url("/status");
    let mut sids = Vec::new();
    let mut queue_times = Vec::new();
    for _ in 0..3 {
        let c = api
            .create(&[
                ("To", TO),
                ("From", FROM),
                ("Twiml", "<Response><Hangup/></Response>"),
                ("StatusCallback", &cb),
                ("StatusCallbackEvent", "initiated"),
            ])
            .await;
        queue_times.push(c["queue_time"].as_str().and_then(|q| q.parse::<u64>().ok()).expect("queue_time"));
        sids.push(sid_of(&c));
    }
    assert!(queue_times.windows(2).all(|w| w[0] < w[1]), "queue_time grows along the queue: {queue_times:?}");
    assert!(queue_times[2] >= 1500, "{queue_times:?}");
    let mut arrivals = Vec::new();
    for sid in &sids {
        arrivals.push(rx.wait_for("/status", sid, 1).await[0].at);
    }
    for pair in arrivals.windows(2) {
        let gap = pair[1].duration_since(pair[0]);
        assert!(gap >= Duration::from_millis(950), "initiated events {gap:?} apart at cps=1");
    }
    let last = api.wait_call(MAIN, &sids[2], |c| c["status"] == "completed").await;
    assert!(last["queue_time"].as_str().and_then(|q| q.parse::<u64>().ok()).is_some_and(|q| q >= 1900), "{last}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_visits_every_call_exactly_once() {
    let emu = emulator(0.001).await;
    let api = Api::new(&emu);
    let mut created = Vec::new();
    for i in 0..120 {
        let to = if i % 40 == 0 { "+14155550100" } else { TO };
        created.push(sid_of(&api.create(&[("To", to), ("From", FROM), ("Twiml", "<Response/>")]).await));
    }
    let first = api.get(&format!("{}?PageSize=50", calls(MAIN.0))).await;
    assert_eq!(first.status, 200);
    assert!(first.content_type.starts_with("application/json"));
    assert_eq!(first.json["calls"][0]["sid"].as_str(), created.last().map(String::as_str), "newest first");
    assert!(first.json["previous_page_uri"].is_null());
    assert_eq!(
        (first.json["page"].as_u64(), first.json["start"].as_u64(), first.json["end"].as_u64()),
        (Some(0), Some(0), Some(49))
    );
    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    let mut page = first.json;
    loop {
        let items = page["calls"].as_array().expect("calls");
        sizes.push(items.len());
        seen.extend(items.iter().map(sid_of));
        match page["next_page_uri"].as_str() {
            Some(next) => {
                assert!(next.contains("PageSize=50") && next.contains("PageToken=PA"), "{next}");
                let answer = api.get(next).await;
                assert_eq!(answer.status, 200, "{}", answer.json);
                page = answer.json;
            }
            None => break,
        }
    }
    assert_eq!(sizes, [50, 50, 20]);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 120, "no call twice");
    assert_eq!(seen.iter().rev().cloned().collect::<Vec<_>>(), created, "every call, newest first");

    let filtered = api.get(&format!("{}?To=%2B14155550100&StartTime%3E=2000-01-01&PageSize=2", calls(MAIN.0))).await;
    assert_eq!(filtered.status, 200);
    let started: Vec<String> = filtered.json["calls"].as_array().expect("calls").iter().map(sid_of).collect();
    assert_eq!(started, [created[0].clone()], "only the first call left the queue; queued calls have no start time");
    assert!(
        filtered.json["uri"]
            .as_str()
            .is_some_and(|u| u.contains("StartTime%3E=2000-01-01") && u.contains("To=%2B14155550100"))
    );
    let by_to = api.get(&format!("{}?To=%2B14155550100&PageSize=2", calls(MAIN.0))).await;
    assert_eq!(by_to.json["calls"].as_array().map(Vec::len), Some(2));
    assert!(by_to.json["next_page_uri"].as_str().is_some_and(|u| u.contains("To=%2B14155550100")));
    let clamped = api.get(&format!("{}?PageSize=5000", calls(MAIN.0))).await;
    assert_eq!(clamped.json["page_size"], 1000);
    let bad = api.get(&format!("{}?PageToken=PAnonsense", calls(MAIN.0))).await;
    assert_eq!((bad.status, bad.code()), (400, 21481));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_is_required_and_scoped_to_the_account_and_its_subaccounts() {
    let emu = emulator(5.0).await;
    let api = Api::new(&emu);
    let rx = Receiver::start().await;
    let none = api.raw("GET", &calls(MAIN.0), None, None).await;
    assert_eq!((none.status, none.code(), none.json["status"].as_i64()), (401, 20003, Some(401)));
    assert!(none.content_type.starts_with("application/json"));
    assert_eq!(none.str("more_info"), "https://www.twilio.com/docs/errors/20003");
    let wrong = api.get_as((MAIN.0, "00000000000000000000000000000000"), &calls(MAIN.0)).await;
    assert_eq!((wrong.status, wrong.code()), (401, 20003));
    let foreign = api.get_as(TRIAL, &calls(MAIN.0)).await;
    assert_eq!((foreign.status, foreign.code()), (401, 20003));
    let foreign_create = api.post_as(TRIAL, &calls(MAIN.0), &[("To", TO), ("From", FROM), ("Url", NOWHERE)]).await;
    assert_eq!(foreign_create.status, 401);

    let sub = api.post("/2010-04-01/Accounts.json", &[("FriendlyName", "tenant")]).await;
    assert_eq!(sub.status, 201, "{}", sub.json);
    assert_eq!(
        (sub.str("friendly_name"), sub.str("owner_account_sid"), sub.str("status"), sub.str("type")),
        ("tenant", MAIN.0, "active", "Full")
    );
    let sub_sid = sub.str("sid").to_owned();
    let sub_token = sub.str("auth_token").to_owned();
    assert!(sub_token.len() == 32 && sub_token.bytes().all(|b| b.is_ascii_hexdigit()));
    assert!(rfc2822::parse(sub.str("date_created")).is_ok());
    let sub_auth = (sub_sid.as_str(), sub_token.as_str());
    assert_eq!(
        api.get(&format!("/2010-04-01/Accounts/{sub_sid}.json")).await.status,
        200,
        "a parent reads its subaccount"
    );
    assert_eq!(api.get_as(sub_auth, &calls(MAIN.0)).await.status, 401, "a subaccount cannot read its parent");
    let trial_sub = api.post_as(TRIAL, "/2010-04-01/Accounts.json", &[("FriendlyName", "t")]).await;
    assert_eq!(trial_sub.json["type"], "Trial");

    let number = api
        .post(&format!("/2010-04-01/Accounts/{sub_sid}/IncomingPhoneNumbers.json"), &[("PhoneNumber", "+14155550199")])
        .await;
    assert_eq!(number.status, 201, "{}", number.json);
    let pn = number.str("sid").to_owned();
    let numbers = api.get_as(sub_auth, &format!("/2010-04-01/Accounts/{sub_sid}/IncomingPhoneNumbers.json")).await;
    assert_eq!(numbers.json["incoming_phone_numbers"][0]["phone_number"], "+14155550199");
    let unowned = api.post_as(sub_auth, &calls(&sub_sid), &[("To", TO), ("From", FROM), ("Url", NOWHERE)]).await;
    assert_eq!((unowned.status, unowned.code()), (400, 21210));
    let made = api
        .post_as(
            sub_auth,
            &calls(&sub_sid),
            &[("To", TO), ("From", "+14155550199"), ("Twiml", "<Response/>"), ("StatusCallback", &rx.url("/status"))],
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.json);
    assert_eq!(made.json["phone_number_sid"].as_str(), Some(pn.as_str()));
    assert_eq!(made.json["account_sid"].as_str(), Some(sub_sid.as_str()));
    let done = rx.wait_for("/status", made.str("sid"), 1).await;
    assert!(done[0].signed_by(&sub_token), "a subaccount's callbacks are signed with its own token");
    assert!(!done[0].signed_by(MAIN.1));

    let trial = api
        .post_as(TRIAL, &calls(TRIAL.0), &[("To", "+14155550123"), ("From", "+15005550006"), ("Url", NOWHERE)])
        .await;
    assert_eq!((trial.status, trial.code()), (400, 21219));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fallback_redirects_updates_and_delete() {
    let emu = emulator(5.0).await;
    let api = Api::new(&emu);
    let rx = Receiver::start().await;
    rx.serve("/broken", 500, "oops").await;
    rx.serve("/fallback", 200, "<Response><Redirect method=\"GET\">next?step=2</Redirect></Response>").await;
    rx.serve("/next", 200, "<Response><Pause length=\"30\"/></Response>").await;
    rx.serve("/updated", 200, "<Response><Pause length=\"30\"/></Response>").await;
    let sid = sid_of(
        &api.create(&[
            ("To", "client:joey"),
            ("From", FROM),
            ("Url", &rx.url("/broken")),
            ("FallbackUrl", &rx.url("/fallback")),
            ("StatusCallback", &rx.url("/status")),
        ])
        .await,
    );
    let fallback = rx.wait_for("/fallback", &sid, 1).await;
    assert_eq!(fallback[0].method, "POST");
    assert_eq!(fallback[0].param("ErrorCode"), "11200");
    assert_eq!(fallback[0].param("ErrorUrl"), rx.url("/broken"));
    assert!(fallback[0].signed_by(MAIN.1));
    let next = rx.wait_for("/next", &sid, 1).await;
    assert_eq!((next[0].method.as_str(), next[0].get("step")), ("GET", Some("2")), "relative redirect resolved");
    assert!(next[0].signed_by(MAIN.1));

    let in_progress = api.get(&call(MAIN.0, &sid)).await.json;
    assert_eq!(in_progress["status"], "in-progress");
    let refused = api.raw("DELETE", &call(MAIN.0, &sid), Some(MAIN), None).await;
    assert_eq!(refused.status, 400, "a live call cannot be deleted");
    let cancel = api.post(&call(MAIN.0, &sid), &[("Status", "canceled")]).await;
    assert_eq!((cancel.status, cancel.code()), (400, 21220));
    let redirected = api.post(&call(MAIN.0, &sid), &[("Url", &rx.url("/updated")), ("Method", "POST")]).await;
    assert_eq!(redirected.status, 200, "{}", redirected.json);
    let updated = rx.wait_for("/updated", &sid, 1).await;
    assert!(updated[0].signed_by(MAIN.1));

    let hung_up = api.post(&call(MAIN.0, &sid), &[("Status", "completed")]).await;
    assert_eq!(hung_up.status, 200);
    assert_eq!(hung_up.json["status"], "completed");
    assert!(hung_up.json["end_time"].is_string());
    let status = rx.wait_for("/status", &sid, 1).await;
    assert_eq!(status[0].param("CallStatus"), "completed");
    let late = api.post(&call(MAIN.0, &sid), &[("Url", &rx.url("/updated"))]).await;
    assert_eq!((late.status, late.code()), (400, 21220));
    assert_eq!(late.str("message"), "Call is not in-progress. Cannot redirect.");
    let inline = sid_of(
        &api.create(&[
            ("To", TO),
            ("From", FROM),
            ("Twiml", &format!("<Response><Redirect>{}</Redirect></Response>", rx.url("/inline"))),
        ])
        .await,
    );
    let followed = rx.wait_for("/inline", &inline, 1).await;
    assert_eq!(followed[0].method, "POST", "inline Twiml's <Redirect> is followed, POST by default");
    assert!(followed[0].signed_by(MAIN.1));
    let deleted = api.raw("DELETE", &call(MAIN.0, &sid), Some(MAIN), None).await;
    assert_eq!((deleted.status, deleted.json.clone()), (204, Value::Null));
    assert_eq!(api.get(&call(MAIN.0, &sid)).await.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unanswered_outcomes_end_busy_failed_and_no_answer() {
    let emu = emulator(20.0).await;
    let api = Api::new(&emu);
    let rx = Receiver::start().await;
    let cb = rx.url("/status");
    let twiml = rx.url("/twiml");
    let mut expected = Vec::new();
    for (to, status, sip) in [
        (seed::CALLEE_BUSY, "busy", "486"),
        (seed::CALLEE_FAILED, "failed", "404"),
        (seed::CALLEE_NO_ANSWER, "no-answer", "487"),
    ] {
        let c =
            api.create(&[("To", to), ("From", FROM), ("Url", &twiml), ("StatusCallback", &cb), ("Timeout", "1")]).await;
        expected.push((sid_of(&c), status, sip));
    }
    let ringing = sid_of(
        &api.create(&[("To", seed::CALLEE_NO_ANSWER), ("From", FROM), ("Url", &twiml), ("StatusCallback", &cb)]).await,
    );
    api.wait_call(MAIN, &ringing, |c| c["status"] == "ringing").await;
    let canceled = api.post(&call(MAIN.0, &ringing), &[("Status", "canceled")]).await;
    assert_eq!(canceled.json["status"], "canceled");
    expected.push((ringing, "canceled", "487"));
    for (sid, status, sip) in &expected {
        let hit = &rx.wait_for("/status", sid, 1).await[0];
        assert_eq!((hit.param("CallStatus"), hit.param("SipResponseCode")), (*status, *sip));
        assert_eq!(hit.param("CallDuration"), "0");
        assert!(hit.get("Duration").is_none());
        let fetched = api.get(&call(MAIN.0, sid)).await.json;
        assert_eq!(fetched["status"], *status);
        assert_eq!(fetched["duration"], "0");
        assert!(fetched["price"].is_null());
        assert!(rx.about("/twiml", sid).is_empty(), "an unanswered call fetches no TwiML");
    }
}
