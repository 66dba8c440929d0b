//! A call's Events over HTTP: every request made for the call (TwiML fetch, redirect, status
//! callback) with its answer, parameter names in snake_case, an unanswered request with a null
//! `response_code`, 404 for an unknown or deleted call and 405 for other methods.

use super::*;

fn events_of(ca: &str) -> String {
    format!("/2010-04-01/Accounts/{}/Calls/{ca}/Events.json", MAIN.0)
}

/// The call's events once `done` holds for them (polled within [`DEADLINE`]).
async fn events_when(api: &Api, ca: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let answer = api.get(&events_of(ca)).await;
        assert_eq!(answer.status, 200, "{}", answer.json);
        let events = answer.json["events"].as_array().cloned().unwrap_or_default();
        if done(&events) {
            return events;
        }
        assert!(started.elapsed() < DEADLINE, "the events never showed what was expected: {}", answer.json);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The event whose request went to `url`.
fn to<'a>(events: &'a [Value], url: &str) -> Option<&'a Value> {
    events.iter().find(|e| e["request"]["url"] == url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_lists_its_fetch_redirect_and_callback_until_deleted() {
    let emu = emulator(20.0).await;
    let api = Api::new(&emu);
    let rx = Receiver::start().await;
    rx.serve("/voice.xml", 200, &format!("<Response><Redirect>{}</Redirect></Response>", rx.url("/gone"))).await;
    rx.serve("/gone", 404, "not here").await;
    let (voice, gone, status) = (rx.url("/voice.xml"), rx.url("/gone"), rx.url("/status"));
    let ca = sid_of(&api.create(&[("To", TO), ("From", FROM), ("Url", &voice), ("StatusCallback", &status)]).await);
    let events = events_when(&api, &ca, |e| to(e, &status).is_some()).await;

    let fetch = to(&events, &voice).expect("the Url fetch is listed");
    assert_eq!(fetch["request"]["method"], "POST");
    assert_eq!(fetch["request"]["parameters"]["call_sid"], ca.as_str());
    assert_eq!(fetch["request"]["parameters"]["call_status"], "in-progress");
    assert!(fetch["request"]["parameters"].get("CallSid").is_none(), "names are snake_case");
    assert_eq!(fetch["response"]["response_code"], 200);
    assert!(fetch["response"]["request_duration"].is_u64());
    assert!(fetch["response"]["response_body"].as_str().is_some_and(|b| b.contains("<Redirect>")));
    let date = fetch["response"]["date_created"].as_str().expect("a date");
    assert!(rfc2822::parse(date).is_ok(), "{date}");
    assert_eq!(to(&events, &gone).expect("the redirect is listed")["response"]["response_code"], 404);
    let callback = to(&events, &status).expect("the status callback is listed");
    assert_eq!(callback["request"]["parameters"]["call_status"], "completed");
    assert_eq!(callback["request"]["parameters"]["sequence_number"], "0");
    assert!(
        events.iter().all(|e| !e["request"]["url"].as_str().unwrap_or("").ends_with(&format!("{ca}.json"))),
        "the REST create is not listed without variance"
    );

    assert_eq!(api.raw("POST", &events_of(&ca), Some(MAIN), None).await.status, 405);
    let deleted = api.raw("DELETE", &call(MAIN.0, &ca), Some(MAIN), None).await;
    assert_eq!(deleted.status, 204);
    let gone = api.get(&events_of(&ca)).await;
    assert_eq!((gone.status, gone.code()), (404, 20404), "deleting the call deletes its events");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_request_is_listed_without_a_response_code() {
    let emu = emulator(20.0).await;
    let api = Api::new(&emu);
    let ca = sid_of(&api.create(&[("To", TO), ("From", FROM), ("Url", NOWHERE)]).await);
    let events = events_when(&api, &ca, |e| to(e, NOWHERE).is_some()).await;
    let fetch = to(&events, NOWHERE).expect("listed");
    assert_eq!(fetch["response"]["response_code"], Value::Null);
    assert_eq!(fetch["response"]["response_body"], Value::Null);
    assert!(fetch["response"]["request_duration"].is_u64());
    let unknown = api.get(&events_of("CA00000000000000000000000000000000")).await;
    assert_eq!((unknown.status, unknown.code()), (404, 20404));
}
