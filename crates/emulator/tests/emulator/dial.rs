//! `<Dial>` over HTTP: child legs as resources, the parent hanging up on a bridged leg, and the
//! action request's parameters.

use super::*;

/// The child legs of `parent`, newest first.
async fn legs(api: &Api, parent: &str) -> Vec<Value> {
    let listed = api.get(&format!("{}?ParentCallSid={parent}", calls(MAIN.0))).await;
    assert_eq!(listed.status, 200, "{}", listed.json);
    listed.json["calls"].as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bridged_leg_ends_completed_when_its_parent_hangs_up_and_a_busy_one_reports_to_action() {
    let emu = emulator(5.0).await;
    let api = Api::new(&emu);
    let rx = Receiver::start().await;
    rx.serve("/after", 200, "<Response/>").await;
    let dial = format!("<Response><Dial callerId=\"{TO}\"><Number>{TO}</Number></Dial></Response>");
    let parent = sid_of(&api.create(&[("To", TO), ("From", FROM), ("Twiml", dial.as_str())]).await);
    let deadline = Instant::now() + Duration::from_secs(10);
    let leg = loop {
        let found = legs(&api, &parent).await;
        if let Some(leg) = found.iter().find(|l| l["status"] == "in-progress") {
            assert_eq!(found.len(), 1);
            break leg.clone();
        }
        assert!(Instant::now() < deadline, "no bridged leg: {found:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!((leg["direction"].as_str(), leg["from"].as_str()), (Some("outbound-dial"), Some(TO)));
    assert_eq!(leg["parent_call_sid"].as_str(), Some(parent.as_str()));
    assert_eq!(api.post(&call(MAIN.0, &parent), &[("Status", "completed")]).await.status, 200);
    let leg_sid = sid_of(&leg);
    api.wait_call(MAIN, &leg_sid, |c| c["status"] == "completed").await;

    let busy =
        format!("<Response><Dial action=\"{}\"><Number>+15005559001</Number></Dial></Response>", rx.url("/after"));
    let parent = sid_of(&api.create(&[("To", TO), ("From", FROM), ("Twiml", busy.as_str())]).await);
    let hit = rx.wait_for("/after", &parent, 1).await.remove(0);
    assert_eq!((hit.param("DialCallStatus"), hit.get("DialCallSid")), ("busy", None));
    assert!(hit.signed_by(seed::MAIN_AUTH_TOKEN));
    let leg = legs(&api, &parent).await.remove(0);
    assert_eq!(leg["status"], "busy");
    api.wait_call(MAIN, &parent, |c| c["status"] == "completed").await;
}
