//! The Recordings resource over HTTP: the emulator's own choices where Twilio leaves latitude
//! (which the suite accepts in every documented form), and what survives a call's delete.

use super::*;

fn recordings_of(ca: &str) -> String {
    format!("/2010-04-01/Accounts/{}/Calls/{ca}/Recordings.json", MAIN.0)
}

fn recording_of(ca: &str, re: &str) -> String {
    format!("/2010-04-01/Accounts/{}/Calls/{ca}/Recordings/{re}.json", MAIN.0)
}

fn account_recordings(query: &str) -> String {
    format!("/2010-04-01/Accounts/{}/Recordings.json{query}", MAIN.0)
}

/// A call answered and kept in progress (a long `<Pause>`), with its SID.
async fn call_in_progress(api: &Api) -> String {
    let ca = sid_of(
        &api.create(&[("To", TO), ("From", FROM), ("Twiml", "<Response><Pause length=\"30\"/></Response>")]).await,
    );
    api.wait_call(MAIN, &ca, |c| c["status"] == "in-progress").await;
    ca
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn current_names_one_active_recording_and_a_running_one_cannot_be_deleted() {
    let emu = emulator(5.0).await;
    let api = Api::new(&emu);
    let ca = call_in_progress(&api).await;
    let first = api.post(&recordings_of(&ca), &[]).await;
    assert_eq!(first.status, 201, "{}", first.json);
    assert_eq!(first.json["duration"], Value::Null, "null while it runs");
    let re = first.str("sid").to_owned();
    let paused = api.post(&recording_of(&ca, "Twilio.CURRENT"), &[("Status", "paused")]).await;
    assert_eq!((paused.status, paused.str("status")), (200, "paused"));
    let second = api.post(&recordings_of(&ca), &[]).await;
    assert_eq!(second.status, 201);
    let ambiguous = api.post(&recording_of(&ca, "Twilio.CURRENT"), &[("Status", "in-progress")]).await;
    assert_eq!((ambiguous.status, ambiguous.code()), (400, 16108), "{}", ambiguous.json);
    let running = api.raw("DELETE", &recording_of(&ca, &re), Some(MAIN), None).await;
    assert_eq!((running.status, running.code()), (400, 20009), "{}", running.json);
    let missing = api.post(&recording_of(&ca, &re), &[("PauseBehavior", "skip")]).await;
    assert_eq!((missing.status, missing.code()), (400, 21200), "Status is required: {}", missing.json);
    let stopped = api.post(&recording_of(&ca, &re), &[("Status", "stopped")]).await;
    assert_eq!((stopped.status, stopped.str("status")), (200, "stopped"));
    let ended = api.get(&recording_of(&ca, &re)).await;
    assert!(matches!(ended.str("status"), "completed" | "absent"), "{}", ended.json);
    let resume = api.post(&recording_of(&ca, &re), &[("Status", "in-progress")]).await;
    assert_eq!((resume.status, resume.code()), (400, 21200), "an ended recording cannot resume: {}", resume.json);
    let only = api.post(&recording_of(&ca, "Twilio.CURRENT"), &[("Status", "paused")]).await;
    assert_eq!(only.str("sid"), second.str("sid"), "CURRENT is the one still running");
    let hangup = api.post(&call(MAIN.0, &ca), &[("Status", "completed")]).await;
    assert_eq!(hangup.status, 200);
    let none = api.post(&recording_of(&ca, "Twilio.CURRENT"), &[("Status", "paused")]).await;
    assert_eq!((none.status, none.code()), (404, 20404), "no active recording once the call ended");
    let late = api.post(&recordings_of(&ca), &[]).await;
    assert_eq!((late.status, late.code()), (400, 21220));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recordings_outlive_their_call_and_deleted_ones_are_soft_deleted() {
    let emu = emulator(5.0).await;
    let api = Api::new(&emu);
    let ca = call_in_progress(&api).await;
    let re = api.post(&recordings_of(&ca), &[("RecordingTrack", "outbound")]).await.str("sid").to_owned();
    assert_eq!(api.post(&call(MAIN.0, &ca), &[("Status", "completed")]).await.status, 200);
    assert_eq!(api.raw("DELETE", &call(MAIN.0, &ca), Some(MAIN), None).await.status, 204);
    let listed = api.get(&account_recordings(&format!("?CallSid={ca}"))).await;
    assert_eq!(listed.json["recordings"][0]["sid"].as_str(), Some(re.as_str()), "{}", listed.json);
    assert_eq!(listed.json["recordings"][0]["call_sid"].as_str(), Some(ca.as_str()));
    let account_path = format!("/2010-04-01/Accounts/{}/Recordings/{re}.json", MAIN.0);
    assert_eq!(api.raw("DELETE", &account_path, Some(MAIN), None).await.status, 204);
    assert_eq!(api.get(&account_path).await.status, 404, "a plain fetch no longer finds it");
    let soft = api.get(&format!("{account_path}?IncludeSoftDeleted=true")).await;
    assert_eq!((soft.status, soft.str("status")), (200, "deleted"));
    let gone = api.get(&account_recordings(&format!("?CallSid={ca}"))).await;
    assert_eq!(gone.json["recordings"], serde_json::json!([]));
    let with_deleted = api.get(&account_recordings(&format!("?CallSid={ca}&IncludeSoftDeleted=true"))).await;
    assert_eq!(with_deleted.json["recordings"][0]["status"], "deleted");
    let conference = api.get(&account_recordings("?ConferenceSid=CF00000000000000000000000000000000")).await;
    assert_eq!(conference.json["recordings"], serde_json::json!([]), "the emulator records no conference");
    let bad = api.get(&account_recordings("?CallSid=nope")).await;
    assert_eq!((bad.status, bad.code()), (400, 21200));
}
