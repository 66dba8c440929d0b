//! Hostile targets: HTML, empty and huge bodies, a target that never answers, one that resets
//! connections, garbage bytes. Each must end in FAIL or ERROR within its deadline, never a panic or a hang.

use crate::fake::*;
use std::time::{Duration, Instant};

use callspec_conformance::outcome::Status;
use callspec_model::{Form, signature};
use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

// ---------------------------------------------------------------------------------------------
// 9: hostile targets
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_instead_of_json_fails() {
    let html = "<html><body><h1>201 Created</h1></body></html>";
    let target =
        canned(ResponseTemplate::new(201).set_body_raw(html.as_bytes().to_vec(), "text/html; charset=utf-8")).await;
    check(
        target,
        create_case(),
        Status::Fail,
        &["the body is not JSON", "Content-Type: application/json", "text/html", "<html>"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_body_fails() {
    let target = canned(ResponseTemplate::new(201)).await;
    check(target, create_case(), Status::Fail, &["the body is not JSON", "EOF"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_megabyte_body_fails_quickly_at_the_cap() {
    let huge = vec![b' '; 10 * 1024 * 1024];
    let target = canned(ResponseTemplate::new(201).set_body_raw(huge, "application/json")).await;
    let result = check(target, create_case(), Status::Fail, &["larger than 1048576 bytes"]).await;
    assert!(result.duration < Duration::from_secs(5), "the cap must stop the read early: {:?}", result.duration);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_that_never_answers_fails_within_the_request_timeout() {
    let target = canned(ResponseTemplate::new(201).set_delay(Duration::from_secs(60))).await;
    let started = Instant::now();
    let result = check(
        target,
        create_case(),
        Status::Fail,
        &["no usable response from the target", "no complete response within 1500 ms"],
    )
    .await;
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    assert!(result.duration >= Duration::from_millis(REQUEST_TIMEOUT_MS), "waited the timeout: {:?}", result.duration);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_that_resets_connections_fails() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a local port");
    let addr = listener.local_addr().expect("the listener's address");
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            // SO_LINGER 0: closing sends RST, not FIN.
            let _ = stream.set_zero_linger();
            drop(stream);
        }
    });
    let target = Target { base_url: format!("http://{addr}"), _server: None, _task: Some(AbortOnDrop(task)) };
    let result = check(
        target,
        create_case(),
        Status::Fail,
        &["no usable response from the target", "expected: an HTTP response"],
    )
    .await;
    let actual = &result.failures[0].actual;
    assert!(
        ["reset", "closed", "failed"].iter().any(|w| actual.contains(w)),
        "the actual value says what the transport did: {actual:?}"
    );
    assert!(result.duration < Duration::from_secs(5), "took {:?}", result.duration);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_that_refuses_connections_fails() {
    let port =
        std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free local port").port();
    let target = Target { base_url: format!("http://127.0.0.1:{port}"), _server: None, _task: None };
    check(target, create_case(), Status::Fail, &["no usable response from the target", "connection failed"]).await;
}

/// What a raw TCP target does after writing its reply.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Then {
    /// Close the connection.
    Close,
    /// Keep it open and silent until the test ends.
    Hang,
}

/// Reads one request (head and `Content-Length` body) from a raw connection.
async fn read_request(stream: &mut tokio::net::TcpStream) {
    use tokio::io::AsyncReadExt;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4);
        if let Some(end) = head_end {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if buf.len() >= end + length {
                return;
            }
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// A target speaking raw bytes: reads each request, writes `reply`, then closes or hangs.
async fn raw_target(reply: &'static [u8], then: Then) -> Target {
    use tokio::io::AsyncWriteExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a local port");
    let addr = listener.local_addr().expect("the listener's address");
    let task = tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                read_request(&mut stream).await;
                let _ = stream.write_all(reply).await;
                let _ = stream.flush().await;
                if then == Then::Hang {
                    std::future::pending::<()>().await;
                }
            });
        }
    });
    Target { base_url: format!("http://{addr}"), _server: None, _task: Some(AbortOnDrop(task)) }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_that_speaks_garbage_fails() {
    let target = raw_target(b"SSH-2.0-OpenSSH_9.6\r\n\r\n", Then::Close).await;
    let result = check(
        target,
        create_case(),
        Status::Fail,
        &["no usable response from the target", "expected: an HTTP response"],
    )
    .await;
    assert!(result.duration < Duration::from_secs(5), "took {:?}", result.duration);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_that_closes_mid_body_fails() {
    let reply = b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"sid\": \"CA";
    let target = raw_target(reply, Then::Close).await;
    let result = check(target, create_case(), Status::Fail, &["could not read the response body"]).await;
    assert!(result.duration < Duration::from_secs(5), "took {:?}", result.duration);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_that_stalls_mid_headers_fails_within_the_request_timeout() {
    let target = raw_target(b"HTTP/1.1 201 Created\r\nContent-Type: applic", Then::Hang).await;
    let result = check(target, create_case(), Status::Fail, &["no complete response within 1500 ms"]).await;
    assert!(result.duration < Duration::from_secs(5), "took {:?}", result.duration);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_that_stalls_mid_body_fails_within_the_request_timeout() {
    let reply = b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"sid\": \"CA";
    let target = raw_target(reply, Then::Hang).await;
    let result = check(target, create_case(), Status::Fail, &["no complete response within 1500 ms"]).await;
    assert!(result.duration < Duration::from_secs(5), "took {:?}", result.duration);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixture_template_error_is_an_error_not_a_fail() {
    // Not the target's fault: the case names a variable nobody set.
    let target = canned_json(200, &valid_call()).await;
    let steps = json!([{ "request": { "path": "/2010-04-01/Accounts/{AccountSid}/Calls/{NoSuchVariable}.json", "expect": { "status": 200 } } }]);
    check(
        target,
        case("D-FETCH-1", steps),
        Status::Error,
        &["ERROR (harness or setup, not a verdict on the target)", "NoSuchVariable"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_echoed_by_the_target_are_masked() {
    // A target that echoes the caller's credentials in its error body.
    let body = json!({ "code": 20003, "message": format!("bad credentials {AC}:{TOKEN}"), "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401 });
    let target = canned_json(401, &body).await;
    let result = check(target, create_case(), Status::Fail, &["wrong status code"]).await;
    assert!(!result.message().contains(TOKEN), "the auth token leaks into the message:\n{}", result.message());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poll_whose_condition_never_holds_fails_within_its_deadline() {
    let target = canned_json(200, &valid_call()).await;
    let steps = json!([{
        "poll": {
            "path": format!("/2010-04-01/Accounts/{{AccountSid}}/Calls/{CA}.json"),
            "until": [{ "pointer": "/status", "equals": "completed" }],
            "within_ms": 1000,
            "interval_ms": 100,
        }
    }]);
    let started = Instant::now();
    check(
        target,
        case("L-FLOW-1", steps),
        Status::Fail,
        &["condition not reached within 1000 ms", "/status = \"queued\"", "completed"],
    )
    .await;
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_deadline_stops_a_long_poll() {
    // The poll would wait 20 s; the profile's case deadline of 1.5 s ends the case first.
    let target = canned_json(200, &valid_call()).await;
    let steps = json!([{
        "poll": {
            "path": format!("/2010-04-01/Accounts/{{AccountSid}}/Calls/{CA}.json"),
            "until": [{ "pointer": "/status", "equals": "completed" }],
            "within_ms": 20000,
        }
    }]);
    let extra = Extra { top: "case_deadline_ms = 1500", tail: "" };
    let started = Instant::now();
    check_with(extra, target, case("L-FLOW-1", steps), Status::Fail, &["case deadline exceeded", "within 1500 ms"])
        .await;
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callbacks_with_a_json_body_fail() {
    // A target that posts JSON to the status callback URL instead of a form.
    let server = MockServer::builder().start().await;
    struct JsonPoster;
    impl Respond for JsonPoster {
        fn respond(&self, request: &Request) -> ResponseTemplate {
            let url = Form::parse(&request.body).ok().and_then(|f| f.get("StatusCallback").map(str::to_owned));
            if let (Some(url), Ok(handle)) = (url, tokio::runtime::Handle::try_current()) {
                handle.spawn(async move {
                    let body = json!({ "CallSid": CA, "CallStatus": "initiated" }).to_string();
                    let sig = signature::sign(TOKEN, &url, &[]);
                    if let Ok(client) = reqwest::Client::builder().timeout(Duration::from_secs(3)).build() {
                        let _ = client
                            .post(&url)
                            .header("Content-Type", "application/json")
                            .header("X-Twilio-Signature", sig)
                            .body(body)
                            .send()
                            .await;
                    }
                });
            }
            ResponseTemplate::new(201).set_body_raw(valid_call().to_string().into_bytes(), "application/json")
        }
    }
    server.register(Mock::given(method("POST")).respond_with(JsonPoster)).await;
    let steps = json!([
        {
            "request": {
                "method": "POST",
                "path": CALLS,
                "form": [["To", "+14155551212"], ["From", "+15017122661"], ["Url", "{Sink}/voice.xml"], ["StatusCallback", "{Sink}/events"]],
                "expect": { "status": 201 },
            }
        },
        { "callbacks": { "path": "/events", "count": 1, "within_ms": 3000, "signed": false } },
    ]);
    check(
        Target::server(server),
        case("T-FORM-1", steps),
        Status::Fail,
        &["callback bodies are application/x-www-form-urlencoded", "application/json", "is not a form"],
    )
    .await;
}
