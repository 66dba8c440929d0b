//! Applications: created with a voice configuration the model validates, and used by calls
//! created with `ApplicationSid`.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_application_replaces_url_and_status_callback() {
    let emu = emulator(5.0).await;
    let api = Api::new(&emu);
    let rx = Receiver::start().await;
    rx.serve("/app", 200, "<Response><Say>hi</Say></Response>").await;
    let apps = format!("/2010-04-01/Accounts/{}/Applications.json", MAIN.0);
    let app = api
        .post(
            &apps,
            &[
                ("FriendlyName", "voice app"),
                ("VoiceUrl", &rx.url("/app")),
                ("VoiceMethod", "GET"),
                ("StatusCallback", &rx.url("/app-status")),
            ],
        )
        .await;
    assert_eq!(app.status, 201, "{}", app.json);
    let ap = app.str("sid").to_owned();
    assert!(ap.starts_with("AP"));
    assert_eq!(api.get(&apps).await.json["applications"][0]["sid"].as_str(), Some(ap.as_str()));
    let sid = sid_of(
        &api.create(&[
            ("To", TO),
            ("From", FROM),
            ("ApplicationSid", &ap),
            ("Url", &rx.url("/ignored")),
            ("StatusCallback", &rx.url("/ignored-status")),
        ])
        .await,
    );
    let fetched = rx.wait_for("/app", &sid, 1).await;
    assert_eq!(fetched[0].method, "GET");
    assert!(fetched[0].signed_by(MAIN.1));
    let status = rx.wait_for("/app-status", &sid, 1).await;
    assert_eq!(status[0].param("CallStatus"), "completed");
    assert!(rx.hits().iter().all(|h| !h.path.starts_with("/ignored")), "Url and StatusCallback are ignored");
    let foreign = api
        .post(&calls(MAIN.0), &[("To", TO), ("From", FROM), ("ApplicationSid", "AP00000000000000000000000000000000")])
        .await;
    assert_eq!((foreign.status, foreign.code()), (400, 21218));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_application_with_an_invalid_voice_url_or_method_is_refused() {
    let emu = emulator(5.0).await;
    let api = Api::new(&emu);
    let apps = format!("/2010-04-01/Accounts/{}/Applications.json", MAIN.0);
    for (form, code) in [
        (vec![("VoiceUrl", "/voice.xml")], 21205),
        (vec![("VoiceUrl", "http://my_app.example.com/voice.xml")], 21205),
        (vec![("VoiceUrl", "http://example.com/voice.xml"), ("VoiceMethod", "PUT")], 21209),
        (vec![("VoiceMethod", "PUT"), ("VoiceUrl", "voice.xml")], 21205),
    ] {
        let answer = api.post(&apps, &form).await;
        assert_eq!((answer.status, answer.code()), (400, code), "{form:?}: {}", answer.json);
    }
    assert_eq!(api.get(&apps).await.json["applications"].as_array().map(Vec::len), Some(0), "nothing was created");
}
