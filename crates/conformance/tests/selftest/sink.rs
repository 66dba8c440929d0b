//! The callback sink under attack: 200 MB bodies (declared and chunked), 100k parameters, guessed
//! paths, floods past the per-case caps, slow headers and bodies, too many connections. Each is
//! refused without the sink holding it, is a harness note of the case and never its request;
//! the memory probes run in a child process of their own, so no other test moves their figures.

use crate::fake::*;
use callspec_conformance::cli::{Options, default_root, load, prepare, select};
use callspec_conformance::fixture::Case;
use callspec_conformance::outcome::{CaseResult, Status};
use callspec_conformance::runner::Harness;
use callspec_conformance::sink::{Limits, Sink};
use callspec_model::{Form, signature};
use serde_json::json;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub(crate) const MB: u64 = 1 << 20;
/// Every exchange with the sink ends within this, or the test fails.
pub(crate) const DEADLINE: Duration = Duration::from_secs(30);
const FORM: &str = "application/x-www-form-urlencoded";

pub(crate) async fn sink_with(limits: Limits) -> Sink {
    Sink::start_with("127.0.0.1:0", "http://127.0.0.1:{port}", limits).await.expect("the callback sink starts")
}

/// The path of a sink URL (`/c/{run}/{case}`).
pub(crate) fn path_of(url: &str) -> String {
    url::Url::parse(url).expect("the sink's URL parses").path().to_owned()
}

/// 32 lower-case hex digits, the form of a 128-bit random segment.
fn random_segment() -> String {
    let sid = callspec_model::Sid::random(callspec_model::SidKind::Call).to_string();
    sid.trim_start_matches("CA").to_owned()
}

/// How a generated body is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// `Content-Length` declared up front.
    Length,
    /// `Transfer-Encoding: chunked`, no length known in advance.
    Chunked,
}

/// The status line's code of an HTTP response read from `reader`; `None` if the connection
/// closed first.
async fn read_status(reader: &mut (impl AsyncReadExt + Unpin)) -> Option<u16> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    while !seen.windows(2).any(|w| w == b"\r\n") {
        match reader.read(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
    let line = String::from_utf8_lossy(&seen);
    line.split_whitespace().nth(1).and_then(|code| code.parse().ok())
}

/// Sends `POST path` with a body of `total` bytes, `piece` repeated, generated 64 KiB at a time
/// (never held whole), while reading the answer. Returns the status and the body bytes that
/// went out before the sink stopped reading.
pub(crate) async fn stream_post(
    addr: SocketAddr,
    path: &str,
    piece: &[u8],
    total: u64,
    framing: Framing,
) -> (Option<u16>, u64) {
    let stream = TcpStream::connect(addr).await.expect("the sink accepts a connection");
    let (mut reader, mut writer) = stream.into_split();
    let framing_header = match framing {
        Framing::Length => format!("Content-Length: {total}"),
        Framing::Chunked => "Transfer-Encoding: chunked".to_owned(),
    };
    let head = format!("POST {path} HTTP/1.1\r\nHost: sink\r\nContent-Type: {FORM}\r\n{framing_header}\r\n\r\n");
    let chunk: Vec<u8> = piece.iter().cycle().take(64 * 1024).copied().collect();
    // The write half lives until the answer is read: dropping it would half-close the
    // connection, and the sink, like most servers, ends a connection whose peer closed.
    let sending = tokio::spawn(async move {
        let mut sent = 0u64;
        if writer.write_all(head.as_bytes()).await.is_err() {
            return (sent, writer);
        }
        while sent < total {
            let n = (total - sent).min(chunk.len() as u64) as usize;
            let written = match framing {
                Framing::Length => writer.write_all(&chunk[..n]).await,
                Framing::Chunked => {
                    let framed = [format!("{n:x}\r\n").as_bytes(), &chunk[..n], b"\r\n"].concat();
                    writer.write_all(&framed).await
                }
            };
            if written.is_err() {
                return (sent, writer);
            }
            sent += n as u64;
        }
        if framing == Framing::Chunked {
            let _ = writer.write_all(b"0\r\n\r\n").await;
        }
        (sent, writer)
    });
    let status = tokio::time::timeout(DEADLINE, read_status(&mut reader)).await.expect("the sink answers in time");
    let (sent, _writer) =
        tokio::time::timeout(DEADLINE, sending).await.expect("the body stops in time").expect("the writer ends");
    (status, sent)
}

/// A small form POST over a raw connection; the status.
pub(crate) async fn small_post(addr: SocketAddr, path: &str, body: &str) -> Option<u16> {
    stream_post(addr, path, body.as_bytes(), body.len() as u64, Framing::Length).await.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_with_100k_parameters_is_refused_and_noted() {
    let sink = sink_with(Limits::default()).await;
    let path = format!("{}/status", path_of(&sink.open("sink::params", BTreeMap::new())));
    let (status, _) = stream_post(sink.address(), &path, b"a=1&", 400_000, Framing::Length).await;
    assert_eq!(status, Some(413), "100k parameters (400 kB) must be refused");
    let (status, _) = stream_post(sink.address(), &path, b"a=1&", 400_000, Framing::Chunked).await;
    assert_eq!(status, Some(413), "the same body chunked must be refused as it streams");
    assert!(sink.requests("sink::params").is_empty(), "a refused request is never the target's");
    let notes = sink.notes("sink::params");
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].contains("refused bodies over 65536 bytes (413): 2 request(s)"), "{notes:?}");
    assert!(notes[0].contains("not counted as requests of the target"), "{notes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_parameters_than_the_cap_are_refused_even_in_a_small_body() {
    let sink = sink_with(Limits::default()).await;
    let path = format!("{}/status", path_of(&sink.open("sink::cap", BTreeMap::new())));
    let body = "a=1&".repeat(1_001);
    assert!(body.len() < 64 * 1024, "the body itself is under the size cap");
    assert_eq!(small_post(sink.address(), &path, &body).await, Some(413));
    let query = format!("{path}?{}", "q=1&".repeat(600));
    assert_eq!(small_post(sink.address(), &query, &"a=1&".repeat(401)).await, Some(413), "query and form add up");
    assert_eq!(small_post(sink.address(), &path, &"a=1&".repeat(1_000)).await, Some(204), "the cap itself is fine");
    assert_eq!(sink.requests("sink::cap").len(), 1, "only the request within the cap is recorded");
    let notes = sink.notes("sink::cap");
    assert!(notes.iter().any(|n| n.contains("more than 1000 parameters (413): 2 request(s)")), "{notes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guessed_path_is_404_unread_and_never_recorded() {
    let sink = sink_with(Limits::default()).await;
    let url = sink.open("sink::guess", BTreeMap::new());
    let path = path_of(&url);
    let run = path.split('/').nth(2).expect("the run segment").to_owned();
    let case = path.split('/').nth(3).expect("the case segment").to_owned();
    let guesses = [
        format!("/c/{run}/{}/status", random_segment()),
        format!("/c/{}/{case}/status", random_segment()),
        format!("/c/{run}/{}/status", &case[..31]),
        format!("/c/{run}"),
        "/status".to_owned(),
        "/".to_owned(),
    ];
    let forged = "AccountSid=AC0&CallSid=CA0&CallStatus=completed";
    for guess in &guesses {
        assert_eq!(small_post(sink.address(), guess, forged).await, Some(404), "{guess}");
    }
    // A 200 MB body to a guessed path is answered before it is read.
    let (status, sent) = stream_post(sink.address(), &guesses[0], b"a", 200 * MB, Framing::Length).await;
    assert_eq!(status, Some(404));
    assert!(sent < 200 * MB, "the sink stopped reading; all {sent} bytes went out");
    assert!(sink.requests("sink::guess").is_empty());
    assert!(sink.notes("sink::guess").is_empty(), "a guess is nobody's note: {:?}", sink.notes("sink::guess"));
    assert_eq!(sink.stats().unknown_path, guesses.len() as u64 + 1);
    // The real path still works.
    assert_eq!(small_post(sink.address(), &format!("{path}/status"), forged).await, Some(204));
    assert_eq!(sink.requests("sink::guess").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_path_carries_128_random_bits() {
    let (one, other) = (sink_with(Limits::default()).await, sink_with(Limits::default()).await);
    let segments = |url: &str| -> (String, String) {
        let path = path_of(url);
        let parts: Vec<&str> = path.split('/').collect();
        assert_eq!(parts.len(), 4, "{path} is /c/{{run}}/{{case}}");
        (parts[2].to_owned(), parts[3].to_owned())
    };
    let urls: Vec<String> = (0..64).map(|i| one.open(&format!("sink::bits{i}"), BTreeMap::new())).collect();
    let (run, _) = segments(&urls[0]);
    assert_ne!(run, segments(&other.open("sink::bits0", BTreeMap::new())).0, "each sink draws its own run");
    let mut cases = std::collections::BTreeSet::new();
    let mut ones = [0u32; 128];
    for url in &urls {
        let (r, case) = segments(url);
        assert_eq!(r, run, "one run segment per sink");
        for segment in [&r, &case] {
            assert_eq!(segment.len(), 32, "{segment}: 128 bits as hex");
            assert!(segment.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)), "{segment}");
        }
        let bits = u128::from_str_radix(&case, 16).expect("hex");
        for (i, slot) in ones.iter_mut().enumerate() {
            *slot += ((bits >> i) & 1) as u32;
        }
        cases.insert(case);
    }
    assert_eq!(cases.len(), 64, "no case segment repeats");
    // Over 64 segments a fair bit is never constant (chance 2^-63 per bit): every bit is used.
    assert!(ones.iter().all(|&n| n > 0 && n < 64), "bits that never change: {ones:?}");
    // Opening a case again moves it: the old prefix is gone with what it received.
    let moved = one.open("sink::bits0", BTreeMap::new());
    assert_ne!(moved, urls[0]);
    assert_eq!(small_post(one.address(), &format!("{}/x", path_of(&urls[0])), "a=1").await, Some(404));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_over_cap_flood_of_small_requests_keeps_the_count_bounded() {
    let sink = Arc::new(sink_with(Limits::default()).await);
    let base = sink.open("sink::flood", BTreeMap::new());
    let client = reqwest::Client::builder().timeout(DEADLINE).build().expect("client");
    let mut senders = tokio::task::JoinSet::new();
    for t in 0..8 {
        let (client, url) = (client.clone(), format!("{base}/status"));
        senders.spawn(async move {
            let mut answered = 0;
            for i in 0..140 {
                let body = format!("CallSid=CA{t}&SequenceNumber={i}");
                let sent = client.post(&url).header("Content-Type", FORM).body(body).send().await;
                answered += usize::from(sent.is_ok_and(|r| r.status() == 204));
            }
            answered
        });
    }
    let mut answered = 0;
    while let Some(done) = senders.join_next().await {
        answered += done.expect("a sender ends");
    }
    assert_eq!(answered, 8 * 140, "every request is answered, recorded or not");
    assert_eq!(sink.requests("sink::flood").len(), 1_000, "the count stops at the cap");
    let notes = sink.notes("sink::flood");
    assert!(notes.iter().any(|n| n.contains("did not record requests past its limit of 1000 requests")), "{notes:?}");
    assert!(notes.iter().any(|n| n.contains(": 120 request(s)")), "{notes:?}");

    // The memory budget binds before the count when requests are large.
    let small = Limits { max_bytes_per_case: 64 * 1024, ..Limits::default() };
    let sink = sink_with(small).await;
    let path = format!("{}/status", path_of(&sink.open("sink::budget", BTreeMap::new())));
    let body = format!("Big={}", "x".repeat(10 * 1024));
    for _ in 0..20 {
        assert_eq!(small_post(sink.address(), &path, &body).await, Some(204));
    }
    let kept = sink.requests("sink::budget").len();
    assert!((1..=6).contains(&kept), "{kept} requests of 10 kB kept within a 64 kB budget");
    assert!(sink.notes("sink::budget").iter().any(|n| n.contains(&format!(": {} request(s)", 20 - kept))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_and_slow_bodies_cannot_hold_the_sink() {
    let quick = Duration::from_millis(400);
    let sink = sink_with(Limits { header_timeout: quick, body_timeout: quick, ..Limits::default() }).await;
    let path = format!("{}/status", path_of(&sink.open("sink::slow", BTreeMap::new())));
    // Headers that never end: the connection is closed.
    let started = Instant::now();
    let mut half = TcpStream::connect(sink.address()).await.expect("connects");
    half.write_all(format!("POST {path} HTTP/1.1\r\nHost: sink\r\n").as_bytes()).await.expect("writes");
    let status = tokio::time::timeout(DEADLINE, read_status(&mut half)).await.expect("closed in time");
    assert!(status.is_none_or(|s| s == 408), "{status:?}");
    assert!(started.elapsed() < Duration::from_secs(5), "held for {:?}", started.elapsed());
    // A body that stops coming: 408, noted.
    let mut slow = TcpStream::connect(sink.address()).await.expect("connects");
    let head = format!("POST {path} HTTP/1.1\r\nHost: sink\r\nContent-Type: {FORM}\r\nContent-Length: 100\r\n\r\na=1");
    slow.write_all(head.as_bytes()).await.expect("writes");
    let status = tokio::time::timeout(DEADLINE, read_status(&mut slow)).await.expect("answered in time");
    assert_eq!(status, Some(408));
    assert!(sink.requests("sink::slow").is_empty());
    assert!(sink.notes("sink::slow").iter().any(|n| n.contains("not received within 400 ms (408): 1 request(s)")));
    // Meanwhile the sink answers others.
    assert_eq!(small_post(sink.address(), &path, "a=1").await, Some(204));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_cap_holds_and_frees_up() {
    let sink = sink_with(Limits { max_connections: 4, ..Limits::default() }).await;
    let path = format!("{}/status", path_of(&sink.open("sink::conns", BTreeMap::new())));
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut c = TcpStream::connect(sink.address()).await.expect("connects");
        // A first byte makes sure the sink accepted this connection before the next.
        c.write_all(b"P").await.expect("writes");
        held.push(c);
    }
    let deadline = Instant::now() + DEADLINE;
    while sink.stats().refused_connections == 0 {
        assert!(Instant::now() < deadline, "the fifth connection was never refused");
        let mut extra = TcpStream::connect(sink.address()).await.expect("the kernel accepts");
        let _ = extra.write_all(format!("GET {path} HTTP/1.1\r\nHost: sink\r\n\r\n").as_bytes()).await;
        let status = tokio::time::timeout(DEADLINE, read_status(&mut extra)).await.expect("closed in time");
        assert_eq!(status, None, "a connection over the cap is closed unanswered");
    }
    drop(held);
    // Freed permits come back as the held connections' tasks end.
    let mut status = None;
    while status != Some(204) {
        assert!(Instant::now() < deadline, "the sink never served again after the held connections closed");
        status = small_post(sink.address(), &path, "a=1").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_recorded_url_is_the_public_base_with_the_path_and_query_as_sent() {
    let sink = Sink::start("127.0.0.1:0", "https://sink.example.test:8443/").await.expect("starts");
    let base = sink.open("sink::url", BTreeMap::new());
    assert!(base.starts_with("https://sink.example.test:8443/c/"), "{base}");
    let raw = format!("{}/twiml%20x?b=2&a=%41+1&a=3", path_of(&base));
    let addr = sink.address();
    assert_eq!(stream_post(addr, &raw, b"From=%2B1&To=x", 14, Framing::Length).await.0, Some(204));
    let got = sink.requests("sink::url");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].url, format!("https://sink.example.test:8443{raw}"), "the URL Twilio would sign");
    assert_eq!(got[0].path, "/twiml%20x");
    let params: Vec<(&str, &str)> = got[0].params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(params, [("b", "2"), ("a", "A 1"), ("a", "3"), ("From", "+1"), ("To", "x")]);
    assert_eq!(got[0].form.len(), 2, "the form alone is what a POST signature covers");
}

/// A target that, for each call, first sends a 100 kB body to the status callback URL (refused
/// by the sink), then the two callbacks the case expects, signed.
struct Noisy;

impl Respond for Noisy {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let Ok(form) = Form::parse(&request.body) else { return ResponseTemplate::new(400) };
        let Some(url) = form.get("StatusCallback").map(str::to_owned) else { return ResponseTemplate::new(400) };
        let (to, from) = (form.get("To").unwrap_or("").to_owned(), form.get("From").unwrap_or("").to_owned());
        let body = call_body(CA, &to, &from);
        let at = Instant::now();
        let delivery = Delivery {
            url: url.clone(),
            method: "POST",
            signing: Signing::Correct,
            sid: CA.to_owned(),
            to,
            from,
            events: vec![("initiated", 0, at), ("in-progress", 1, at)],
        };
        let noise = async move {
            let client = reqwest::Client::builder().timeout(DEADLINE).build().ok();
            let forged = format!("CallSid={CA}&CallStatus=completed&Pad={}", "x".repeat(100 * 1024));
            let sig = signature::sign(TOKEN, &url, &[]);
            if let Some(c) = client {
                let sent = c.post(&url).header("Content-Type", FORM).header("X-Twilio-Signature", sig).body(forged);
                // The refusal is counted before the 413 goes out; only then come the real callbacks.
                let _ = sent.send().await;
            }
            delivery.send().await;
        };
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(noise);
        }
        ResponseTemplate::new(201).set_body_raw(body.to_string().into_bytes(), "application/json")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_is_a_note_of_the_case_and_never_its_request() {
    let server = MockServer::builder().start().await;
    server.register(Mock::given(method("POST")).and(path_regex(r"/Calls\.json$")).respond_with(Noisy)).await;
    let case = callback_case(&["initiated", "answered"], &IN_ORDER, full_callback_checks());
    let result = check(Target::server(server), case, Status::Pass, &[]).await;
    assert_eq!(result.notes.len(), 1, "{:?}", result.notes);
    assert!(result.notes[0].contains("refused bodies over 65536 bytes (413): 1 request(s)"), "{:?}", result.notes);
    let message = result.message();
    assert!(message.contains("harness note: the callback sink refused"), "{message}");
    let record = serde_json::to_value(&result).expect("serializes");
    assert_eq!(record["notes"], json!(result.notes), "report.json carries the notes");
    assert_eq!(record["status"], "PASS");
}

// ---------------------------------------------------------------------------------------------
// Probes: peak memory and verdicts, each alone in a child process of this binary
// ---------------------------------------------------------------------------------------------

/// Set in the child process that runs one probe alone.
const PROBE: &str = "CALLSPEC_SINK_PROBE";
/// The most a flood may move the process's peak memory (the issue's bar).
const MOVE_LIMIT_KIB: u64 = 10 * 1024;
/// A child probe ends within this, or it is killed and the test fails.
const PROBE_DEADLINE: Duration = Duration::from_secs(240);

/// `VmHWM` (peak) and `VmRSS` (now) of this process in KiB.
fn memory_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status is readable");
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} in /proc/self/status"))
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// Runs the ignored test `probe` alone in a child process of this test binary (no other test
/// shares its memory figures) and asserts that it ran and passed.
fn in_child(probe: &str) {
    let dir = std::env::temp_dir().join(format!("callspec-{}-{}", std::process::id(), probe.replace("::", "-")));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let log = dir.join("probe.log");
    let out = std::fs::File::create(&log).expect("the probe's log");
    let err = out.try_clone().expect("the probe's log, again");
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut child = std::process::Command::new(exe)
        .args(["--exact", probe, "--include-ignored", "--test-threads=1", "--nocapture"])
        .env(PROBE, "1")
        .stdout(out)
        .stderr(err)
        .spawn()
        .expect("the probe starts");
    let deadline = Instant::now() + PROBE_DEADLINE;
    let status = loop {
        if let Some(status) = child.try_wait().expect("the probe can be waited for") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the probe {probe} did not end within {PROBE_DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(status.success(), "the probe {probe} failed:\n{text}");
    assert!(text.contains("1 passed"), "the probe {probe} did not run:\n{text}");
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime")
}

#[test]
#[cfg(target_os = "linux")]
fn a_200_mb_post_leaves_the_sinks_peak_memory_flat() {
    in_child("sink::memory_probe");
}

#[test]
#[cfg(target_os = "linux")]
#[ignore = "the probe of a_200_mb_post_leaves_the_sinks_peak_memory_flat, run alone in a child process"]
#[allow(clippy::print_stderr, reason = "the probe reports its figures")]
fn memory_probe() {
    if std::env::var_os(PROBE).is_none() {
        return in_child("sink::memory_probe");
    }
    runtime().block_on(async {
        let sink = sink_with(Limits::default()).await;
        let addr = sink.address();
        let path = format!("{}/status", path_of(&sink.open("probe::case", BTreeMap::new())));
        let guess = format!("/c/{}/{}/status", random_segment(), random_segment());
        // Every path once, so buffers and threads exist before the figures are taken.
        assert_eq!(small_post(addr, &path, "CallSid=CA1").await, Some(204));
        for framing in [Framing::Length, Framing::Chunked] {
            assert_eq!(stream_post(addr, &path, b"a", 4 * MB, framing).await.0, Some(413));
        }
        assert_eq!(stream_post(addr, &guess, b"a", 4 * MB, Framing::Length).await.0, Some(404));
        let (peak_before, rss_before) = memory_kib();
        for framing in [Framing::Length, Framing::Chunked] {
            let (status, sent) = stream_post(addr, &path, b"a", 200 * MB, framing).await;
            assert_eq!(status, Some(413), "{framing:?}");
            assert!(sent < 200 * MB, "{framing:?}: the sink read on to the end");
            eprintln!("probe: 200 MB {framing:?} POST to an open case: 413 after {} kB went out", sent / 1024);
        }
        let (status, sent) = stream_post(addr, &guess, b"a", 200 * MB, Framing::Length).await;
        assert_eq!(status, Some(404));
        eprintln!("probe: 200 MB POST to a guessed path: 404 after {} kB went out", sent / 1024);
        assert_eq!(stream_post(addr, &path, b"a=1&", 400_000, Framing::Chunked).await.0, Some(413));
        let (peak_after, rss_after) = memory_kib();
        eprintln!(
            "probe: peak {peak_before} -> {peak_after} kB (+{} kB), rss {rss_before} -> {rss_after} kB",
            peak_after - peak_before
        );
        assert!(
            peak_after - peak_before < MOVE_LIMIT_KIB,
            "the floods moved the peak by {} kB",
            peak_after - peak_before
        );
        assert_eq!(sink.requests("probe::case").len(), 1, "only the warm-up request is the target's");
        let notes = sink.notes("probe::case");
        assert!(notes.iter().any(|n| n.contains("over 65536 bytes (413): 5 request(s)")), "{notes:?}");
    });
}

/// The callback cases of the suite: every one waits on the sink.
fn callback_options() -> Options {
    Options {
        root: Some(default_root()),
        filters: vec!["callbacks::".into(), "signatures::".into()],
        no_snapshots: true,
        ..Options::default()
    }
}

/// Runs every case at once, as the runner does; each case's status and failures by name.
async fn run_all(harness: &Arc<Harness>, cases: &[Case]) -> BTreeMap<String, CaseResult> {
    let mut running = tokio::task::JoinSet::new();
    for case in cases {
        let (harness, case) = (harness.clone(), case.clone());
        running.spawn(async move { harness.run_case(&case).await });
    }
    let mut out = BTreeMap::new();
    while let Some(done) = tokio::time::timeout(DEADLINE * 4, running.join_next()).await.expect("the run ends") {
        let result = done.expect("no case panics");
        out.insert(result.name.clone(), result);
    }
    out
}

/// What must not change: each case's status and its failures (kind, step, pointer).
fn verdicts(results: &BTreeMap<String, CaseResult>) -> BTreeMap<String, (Status, Vec<String>)> {
    let failure = |f: &callspec_conformance::outcome::Failure| format!("{} step {} {:?}", f.kind, f.step, f.pointer);
    results.iter().map(|(name, r)| (name.clone(), (r.status, r.failures.iter().map(failure).collect()))).collect()
}

/// Small requests sent to the leaked URL in each of the first rounds, from 8 connections at once.
const SMALL_PER_ROUND: u64 = 8 * 40;
/// Rounds with a burst of small requests: together past the per-case count cap (1,000).
const BURST_ROUNDS: u64 = 4;
/// Pause between later rounds: the flood tests the sink, not how the machine copes with a busy loop.
const PACE: Duration = Duration::from_millis(20);

/// Floods the sink while the suite runs, until `stop`: slow connections held open throughout;
/// then, each round, 200 MB declared and chunked and 100k parameters to a leaked case URL (the
/// decoy), a forged signed callback and a 200 MB body to guessed paths of this run, and in the
/// first rounds a burst of small requests to the decoy. Returns the rounds done.
async fn flood(harness: Arc<Harness>, mut stop: tokio::sync::watch::Receiver<bool>) -> u64 {
    let sink = &harness.sink;
    let addr = sink.address();
    let decoy = format!("{}/status", path_of(&sink.open("flood::decoy", BTreeMap::new())));
    let run = decoy.split('/').nth(2).expect("the run segment").to_owned();
    let mut held = Vec::new();
    for _ in 0..16 {
        let mut slow = TcpStream::connect(addr).await.expect("connects");
        let _ = slow.write_all(format!("POST {decoy} HTTP/1.1\r\nHost: sink\r\nX-Slow: ").as_bytes()).await;
        held.push(slow);
    }
    let mut rounds = 0;
    loop {
        for framing in [Framing::Length, Framing::Chunked] {
            assert_eq!(stream_post(addr, &decoy, b"a", 200 * MB, framing).await.0, Some(413), "{framing:?}");
        }
        assert_eq!(stream_post(addr, &decoy, b"a=1&", 400_000, Framing::Length).await.0, Some(413));
        let guess = format!("/c/{run}/{}/status", random_segment());
        let forged = Form::from_pairs([("AccountSid", AC), ("CallSid", CA), ("CallStatus", "completed")]);
        let pairs: Vec<(String, String)> = forged.pairs().to_vec();
        let sig = signature::sign(TOKEN, &format!("http://{addr}{guess}"), &pairs);
        let client = reqwest::Client::builder().timeout(DEADLINE).build().expect("client");
        let injected = client.post(format!("http://{addr}{guess}")).header("X-Twilio-Signature", sig);
        let injected = injected.header("Content-Type", FORM).body(forged.encode()).send().await;
        assert_eq!(injected.expect("answered").status(), 404, "an injection into a guessed case path");
        assert_eq!(stream_post(addr, &guess, b"a", 200 * MB, Framing::Length).await.0, Some(404));
        let mut burst = tokio::task::JoinSet::new();
        for _ in 0..if rounds < BURST_ROUNDS { 8 } else { 0 } {
            let (client, url) = (client.clone(), format!("http://{addr}{decoy}"));
            burst.spawn(async move {
                for i in 0..SMALL_PER_ROUND / 8 {
                    let sent = client.post(&url).header("Content-Type", FORM).body(format!("N={i}")).send().await;
                    assert_eq!(sent.expect("answered").status(), 204);
                }
            });
        }
        while let Some(done) = burst.join_next().await {
            done.expect("a burst ends");
        }
        rounds += 1;
        if rounds < BURST_ROUNDS {
            continue;
        }
        tokio::select! {
            // A send or a dropped sender both mean the run is over.
            _ = stop.changed() => break,
            _ = tokio::time::sleep(PACE) => {}
        }
    }
    drop(held);
    rounds
}

#[test]
#[cfg(target_os = "linux")]
fn a_run_under_flood_and_injection_keeps_every_verdict_and_its_peak_memory() {
    in_child("sink::run_probe");
}

#[test]
#[cfg(target_os = "linux")]
#[ignore = "the probe of a_run_under_flood_and_injection_keeps_every_verdict_and_its_peak_memory"]
#[allow(clippy::print_stderr, reason = "the probe reports its figures")]
fn run_probe() {
    if std::env::var_os(PROBE).is_none() {
        return in_child("sink::run_probe");
    }
    runtime().block_on(async {
        let options = callback_options();
        let loaded = load(&options).expect("the suite loads");
        let mut prepared = prepare(&options, &loaded).await.expect("the embedded emulator and the sink start");
        let cases: Vec<Case> =
            select(&options, &loaded).into_iter().filter(|(_, skip)| skip.is_none()).map(|(c, _)| c.clone()).collect();
        assert!(cases.len() >= 10, "{} callback cases", cases.len());
        let harness = prepared.harness.clone();
        let started = Instant::now();
        let quiet = run_all(&harness, &cases).await;
        let (peak_quiet, _) = memory_kib();
        let quiet_time = started.elapsed();
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let flooding = tokio::spawn(flood(harness.clone(), stopped));
        let loud = run_all(&harness, &cases).await;
        let _ = stop.send(true);
        let rounds = tokio::time::timeout(DEADLINE * 4, flooding).await.expect("the flood stops").expect("it held");
        let (peak_loud, _) = memory_kib();
        eprintln!(
            "probe: {} cases, quiet run {quiet_time:?}, {rounds} flood round(s), peak {peak_quiet} -> {peak_loud} kB (+{} kB)",
            cases.len(),
            peak_loud.saturating_sub(peak_quiet)
        );
        if let Some(emulator) = prepared.embedded.take() {
            emulator.shutdown().await;
        }
        assert_eq!(verdicts(&quiet), verdicts(&loud), "the flood changed a verdict");
        assert!(loud.values().all(|r| r.status == Status::Pass), "{:#?}", verdicts(&loud));
        assert!(loud.values().all(|r| r.notes.is_empty()), "the flood reached a real case");
        assert!(peak_loud - peak_quiet < MOVE_LIMIT_KIB, "the flood moved the peak by {} kB", peak_loud - peak_quiet);
        assert_eq!(harness.sink.requests("flood::decoy").len(), 1_000, "the decoy's record stops at the cap");
        let notes = harness.sink.notes("flood::decoy");
        let dropped = BURST_ROUNDS * SMALL_PER_ROUND - 1_000;
        assert!(notes.iter().any(|n| n.contains(&format!("(413): {} request(s)", rounds * 3))), "{notes:?}");
        assert!(notes.iter().any(|n| n.contains(&format!("per case: {dropped} request(s)"))), "{notes:?}");
        assert!(harness.sink.stats().unknown_path >= rounds * 2);
    });
}
