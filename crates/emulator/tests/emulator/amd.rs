//! Answering machine detection over real HTTP: sync detection holds the `Url` request until its
//! result and adds `AnsweredBy`; async detection requests `Url` at answer and sends the result,
//! signed, to `AsyncAmdStatusCallback`; the Call's `answered_by` follows; `SendDigits` turns it off.

use super::{Api, FROM, MAIN, Receiver, TO, call, emulator, sid_of};
use callspec_emulator::seed;
use std::time::Duration;

#[tokio::test]
async fn sync_detection_holds_the_url_request_and_sets_answered_by() {
    let emulator = emulator(20.0).await;
    let api = Api::new(&emulator);
    let receiver = Receiver::start().await;
    receiver.serve("/voice", 200, "<Response><Hangup/></Response>").await;
    let voice = receiver.url("/voice");
    let answered = receiver.url("/events");
    let machine = api
        .create(&[
            ("To", seed::CALLEE_MACHINE),
            ("From", FROM),
            ("Url", &voice),
            ("MachineDetection", "Enable"),
            ("MachineDetectionSpeechThreshold", "1000"),
            ("StatusCallback", &answered),
            ("StatusCallbackEvent", "answered"),
        ])
        .await;
    assert_eq!(machine["answered_by"], serde_json::Value::Null);
    let sid = sid_of(&machine);
    let url = receiver.wait_for("/voice", &sid, 1).await;
    let events = receiver.wait_for("/events", &sid, 1).await;
    assert_eq!(url[0].param("AnsweredBy"), "machine_start");
    assert!(url[0].signed_by(seed::MAIN_AUTH_TOKEN));
    let held = url[0].at.duration_since(events[0].at);
    assert!(held >= Duration::from_millis(900), "Url requested {held:?} after the answer");
    let ended = api.wait_call(MAIN, &sid, |c| c["status"] == "completed").await;
    assert_eq!(ended["answered_by"], "machine_start");

    let plain = sid_of(&api.create(&[("To", TO), ("From", FROM), ("Url", &voice)]).await);
    let digits = sid_of(
        &api.create(&[
            ("To", TO),
            ("From", FROM),
            ("Url", &voice),
            ("MachineDetection", "Enable"),
            ("SendDigits", "1"),
        ])
        .await,
    );
    for sid in [plain, digits] {
        assert_eq!(receiver.wait_for("/voice", &sid, 1).await[0].get("AnsweredBy"), None);
        let ended = api.wait_call(MAIN, &sid, |c| c["status"] == "completed").await;
        assert_eq!(ended["answered_by"], serde_json::Value::Null);
    }
}

#[tokio::test]
async fn async_detection_reports_to_its_callback_with_get_in_the_query() {
    let emulator = emulator(20.0).await;
    let api = Api::new(&emulator);
    let receiver = Receiver::start().await;
    receiver.serve("/voice", 200, "<Response><Pause length=\"3\"/></Response>").await;
    let (voice, amd) = (receiver.url("/voice"), receiver.url("/amd"));
    let created = api
        .create(&[
            ("To", seed::CALLEE_SILENT),
            ("From", FROM),
            ("Url", &voice),
            ("MachineDetection", "Enable"),
            ("MachineDetectionSilenceTimeout", "2000"),
            ("AsyncAmd", "true"),
            ("AsyncAmdStatusCallback", &amd),
            ("AsyncAmdStatusCallbackMethod", "GET"),
        ])
        .await;
    let sid = sid_of(&created);
    let url = receiver.wait_for("/voice", &sid, 1).await;
    assert_eq!(url[0].get("AnsweredBy"), None, "async: Url is requested before the result");
    let result = receiver.wait_for("/amd", &sid, 1).await;
    let hit = &result[0];
    assert_eq!((hit.method.as_str(), hit.body_empty), ("GET", true));
    assert_eq!(hit.param("AnsweredBy"), "unknown");
    assert_eq!(hit.param("AccountSid"), seed::MAIN_ACCOUNT_SID);
    assert_eq!(hit.param("MachineDetectionDuration"), "2000");
    assert!(hit.signed_by(seed::MAIN_AUTH_TOKEN));
    assert!(hit.at.duration_since(url[0].at) >= Duration::from_millis(1900));
    let fetched = api.get(&call(MAIN.0, &sid)).await;
    assert_eq!(fetched.json["answered_by"], "unknown");
}
