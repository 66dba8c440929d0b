//! Requests the emulator refuses: garbage in any form, strict mode, too many at once. Each
//! gets a Twilio error body and the server keeps serving.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_in_gets_a_twilio_error_and_the_server_keeps_serving() {
    let emu = emulator(5.0).await;
    let api = Api::new(&emu);
    let form = "application/x-www-form-urlencoded";
    /// Method, path, body (content type and bytes), expected status and code.
    type Case = (&'static str, String, Option<(&'static str, Vec<u8>)>, u16, i64);
    let cases: Vec<Case> = vec![
        ("POST", calls(MAIN.0), Some((form, b"To=%FF%FE&From=\xff".to_vec())), 400, 21200),
        ("POST", calls(MAIN.0), Some((form, vec![b'a'; 1024 * 1024])), 413, 21200),
        ("POST", calls(MAIN.0), Some(("application/json", br#"{"To":"+14155551212"}"#.to_vec())), 400, 21201),
        ("POST", calls(MAIN.0), Some((form, b"&&==&=&%%%".to_vec())), 400, 21201),
        ("GET", format!("/2010-04-01/Accounts/{}/Messages.json", MAIN.0), None, 404, 20404),
        ("GET", format!("/2010-04-01/Accounts/{}/Calls", MAIN.0), None, 404, 20404),
        ("GET", format!("/2010-04-01/Accounts/{}/Calls.xml", MAIN.0), None, 404, 20404),
        ("GET", "/".to_owned(), None, 404, 20404),
        ("PUT", calls(MAIN.0), None, 405, 20004),
        ("DELETE", calls(MAIN.0), None, 405, 20004),
        ("GET", format!("{}?PageSize=abc", calls(MAIN.0)), None, 400, 21200),
        ("GET", format!("{}?StartTime=tomorrow", calls(MAIN.0)), None, 400, 21200),
    ];
    for (method, p, body, status, code) in cases {
        let answer = api.raw(method, &p, Some(MAIN), body).await;
        assert_eq!((answer.status, answer.code()), (status, code), "{method} {p}: {}", answer.json);
        assert_eq!(answer.json["status"].as_u64(), Some(u64::from(status)));
        assert!(answer.json["message"].is_string() && answer.json["more_info"].is_string());
        assert!(answer.content_type.starts_with("application/json"));
    }
    let unknown = call(MAIN.0, "CA00000000000000000000000000000000");
    let missing = api.get(&unknown).await;
    assert_eq!((missing.status, missing.code()), (404, 20404));
    assert_eq!(missing.str("message"), format!("The requested resource {unknown} was not found"));

    let base = [("To", TO), ("From", FROM), ("Url", NOWHERE)];
    let with = |k: &'static str, v: &'static str| -> Vec<(&'static str, &'static str)> {
        base.iter().copied().filter(|(n, _)| *n != k).chain([(k, v)]).collect()
    };
    for (form, code) in [
        (vec![("From", FROM), ("Url", NOWHERE)], 21201),
        (with("To", "+15005550001"), 21217),
        (with("To", "+15005550002"), 21214),
        (with("To", "+15005550003"), 21215),
        (with("To", "+15005550004"), 21216),
        (with("From", "+15005550001"), 21212),
        (with("Url", "https://bad_host.example.com/"), 21205),
        (with("StatusCallbackEvent", "initiated,answered"), 21626),
    ] {
        let answer = api.post(&calls(MAIN.0), &form).await;
        assert_eq!((answer.status, answer.code()), (400, code), "{form:?}: {}", answer.json);
    }
    let ok = api.post(&calls(MAIN.0), &with("Unknown", "ignored by default")).await;
    assert_eq!(ok.status, 201, "the server still serves, and ignores unknown parameters: {}", ok.json);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strict_mode_refuses_unknown_parameters_json_bodies_and_comma_lists() {
    let emu = emulator_with(Config { strict: true, ..Config::default() }).await;
    let api = Api::new(&emu);
    let base = [("To", TO), ("From", FROM), ("Url", NOWHERE)];
    let unknown = api.post(&calls(MAIN.0), &[base[0], base[1], base[2], ("Foo", "1")]).await;
    assert_eq!((unknown.status, unknown.code()), (400, 21200));
    assert!(unknown.str("message").contains("Foo"));
    let comma =
        api.post(&calls(MAIN.0), &[base[0], base[1], base[2], ("StatusCallbackEvent", "initiated,answered")]).await;
    assert_eq!(comma.status, 400);
    assert!(comma.str("message").contains("StatusCallbackEvent"));
    let json = api
        .raw("POST", &calls(MAIN.0), Some(MAIN), Some(("application/json", br#"{"To":"+14155551212"}"#.to_vec())))
        .await;
    assert_eq!((json.status, json.code()), (400, 21200));
    assert!(json.str("message").contains("Content-Type"));
    let list = api.get(&format!("{}?Bogus=1", calls(MAIN.0))).await;
    assert_eq!(list.status, 400);
    assert!(list.str("message").contains("Bogus"));
    assert_eq!(api.post(&calls(MAIN.0), &base).await.status, 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_concurrent_requests_get_429() {
    let emu = emulator_with(Config { max_concurrent_requests: Some(1), ..Config::default() }).await;
    let api = Api::new(&emu);
    // A request whose body never comes holds the only permit.
    let stalled = connections::hold_the_only_slot(&emu).await;
    let answer = api.get(&calls(MAIN.0)).await;
    assert_eq!((answer.status, answer.code()), (429, 20429));
    assert_eq!(answer.json["status"], 429);
    // The limit is per account: another account is not refused meanwhile.
    assert_eq!(api.get_as(TRIAL, &calls(TRIAL.0)).await.status, 200);
    drop(stalled);
    let started = Instant::now();
    while api.get(&calls(MAIN.0)).await.status != 200 {
        assert!(started.elapsed() < DEADLINE, "the permit was never released");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
