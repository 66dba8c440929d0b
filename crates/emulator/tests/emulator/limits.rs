//! `TimeLimit` on create and on update under the fast clock, and an update with `Twiml`: the
//! emulator's own choices (a limit counted from answer, `completed` at its end).

use super::*;

const PAUSE_600: &str = "<Response><Pause length=\"600\"/></Response>";

/// An emulator whose fast clock makes 60 s of `TimeLimit` take 200 ms.
async fn fast_emulator() -> Emulator {
    emulator_with(Config { cps: 5.0, ring: Duration::from_millis(50), fast_clock: 300.0, ..Config::default() }).await
}

/// Seconds of the call's `duration`.
fn duration_of(call: &Value) -> u64 {
    call["duration"].as_str().and_then(|d| d.parse().ok()).expect("duration in seconds")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_time_limit_ends_the_answered_call_completed() {
    let emu = fast_emulator().await;
    let api = Api::new(&emu);
    let ca = sid_of(&api.create(&[("To", TO), ("From", FROM), ("Twiml", PAUSE_600), ("TimeLimit", "60")]).await);
    let ended = api.wait_call(MAIN, &ca, |c| c["status"] == "completed").await;
    assert!(duration_of(&ended) <= 1, "200 ms of real time: {ended}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_replaces_the_limit_and_cannot_touch_an_ended_call() {
    let emu = fast_emulator().await;
    let api = Api::new(&emu);
    let ca = sid_of(&api.create(&[("To", TO), ("From", FROM), ("Twiml", PAUSE_600), ("TimeLimit", "86400")]).await);
    api.wait_call(MAIN, &ca, |c| c["status"] == "in-progress").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let live = api.get(&call(MAIN.0, &ca)).await;
    assert_eq!(live.str("status"), "in-progress", "a day at 300x is still almost 5 minutes");
    let update = api.post(&call(MAIN.0, &ca), &[("TimeLimit", "60")]).await;
    assert_eq!(update.status, 200, "{}", update.json);
    api.wait_call(MAIN, &ca, |c| c["status"] == "completed").await;
    for form in [[("TimeLimit", "120")], [("Twiml", PAUSE_600)]] {
        let late = api.post(&call(MAIN.0, &ca), &form).await;
        assert_eq!((late.status, late.code()), (400, 21220), "{}", late.json);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_fast_clock_a_limit_is_real_time() {
    let emu = emulator(5.0).await;
    let api = Api::new(&emu);
    let ca = sid_of(&api.create(&[("To", TO), ("From", FROM), ("Twiml", PAUSE_600), ("TimeLimit", "60")]).await);
    api.wait_call(MAIN, &ca, |c| c["status"] == "in-progress").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(api.get(&call(MAIN.0, &ca)).await.str("status"), "in-progress");
    let hangup = api.post(&call(MAIN.0, &ca), &[("Status", "completed")]).await;
    assert_eq!(hangup.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_with_twiml_runs_it_without_a_url_fetch() {
    let rx = Receiver::start().await;
    rx.serve("/voice", 200, "<Response><Pause length=\"30\"/></Response>").await;
    rx.serve("/next", 200, "<Response><Hangup/></Response>").await;
    let emu = emulator(5.0).await;
    let api = Api::new(&emu);
    let ca = sid_of(&api.create(&[("To", TO), ("From", FROM), ("Url", &rx.url("/voice"))]).await);
    rx.wait_for("/voice", &ca, 1).await;
    let twiml = format!("<Response><Redirect>{}</Redirect></Response>", rx.url("/next"));
    let both = api.post(&call(MAIN.0, &ca), &[("Twiml", &twiml), ("Url", &rx.url("/voice"))]).await;
    assert_eq!((both.status, both.code()), (400, 21200), "Url and Twiml are mutually exclusive: {}", both.json);
    let update = api.post(&call(MAIN.0, &ca), &[("Twiml", &twiml)]).await;
    assert_eq!(update.status, 200, "{}", update.json);
    let next = rx.wait_for("/next", &ca, 1).await;
    assert_eq!(next[0].method, "POST");
    api.wait_call(MAIN, &ca, |c| c["status"] == "completed").await;
    assert_eq!(rx.about("/voice", &ca).len(), 1, "the Url is requested only at answer");
}
