//! Connections held to their deadlines: an idle connection is closed, headers and bodies that
//! do not arrive in time end their connection, slow clients cannot starve fast ones, and a
//! shutdown lets the request in progress finish.
//!
//! Every wait is bounded by [`DEADLINE`]; the deadlines under test are short (hundreds of
//! milliseconds), and a close is never expected before its deadline.

use super::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A raw HTTP/1.1 answer.
struct Raw {
    status: u16,
    head: String,
    body: Vec<u8>,
}

/// Reads one answer (its head, then `Content-Length` bytes of body) within [`DEADLINE`].
async fn read_answer(stream: &mut TcpStream) -> Raw {
    let read = async {
        let mut data = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&data[..end]).into_owned();
                let length = head
                    .lines()
                    .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned()))
                    .and_then(|v| v.parse::<usize>().ok())
                    .unwrap_or(0);
                if data.len() >= end + 4 + length {
                    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status line");
                    return Raw { status, head, body: data[end + 4..end + 4 + length].to_vec() };
                }
            }
            let n = stream.read(&mut chunk).await.expect("read");
            assert!(n > 0, "the connection closed before a whole answer: {:?}", String::from_utf8_lossy(&data));
            data.extend_from_slice(&chunk[..n]);
        }
    };
    tokio::time::timeout(DEADLINE, read).await.expect("an answer within the deadline")
}

/// Waits until the server closes the connection (end of file or a reset), dropping whatever it
/// sends first; how long that took.
async fn closed_within_deadline(stream: &mut TcpStream) -> Duration {
    let started = Instant::now();
    let wait = async {
        let mut chunk = [0u8; 1024];
        while matches!(stream.read(&mut chunk).await, Ok(n) if n > 0) {}
    };
    tokio::time::timeout(DEADLINE, wait).await.expect("the server closes the connection");
    started.elapsed()
}

async fn connect(emu: &Emulator) -> TcpStream {
    TcpStream::connect(emu.local_addr()).await.expect("connect")
}

/// The head of a create whose body (`body_length` bytes announced) is left to the caller.
fn create_head(body_length: usize) -> String {
    format!(
        "POST {} HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {body_length}\r\n\r\n",
        calls(MAIN.0),
        base64_basic(MAIN)
    )
}

/// A create body of a call that never leaves this machine.
fn create_body() -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs([("To", TO), ("From", FROM), ("Url", NOWHERE)])
        .finish()
}

/// Opens a create that stops after 3 bytes of its body, so that it holds the account's only
/// slot, and returns it once a probe is refused. A probe may reach the server first and take
/// the slot itself: the held request is then answered 429, and is opened again.
pub(super) async fn hold_the_only_slot(emu: &Emulator) -> TcpStream {
    let api = Api::new(emu);
    let body = create_body();
    let open = || async {
        let mut held = connect(emu).await;
        held.write_all(format!("{}{}", create_head(body.len()), &body[..3]).as_bytes()).await.expect("write");
        held
    };
    let started = Instant::now();
    let mut held = open().await;
    loop {
        if api.get(&calls(MAIN.0)).await.status == 429 {
            return held;
        }
        // Anything but "would block" means the held request was answered (or closed).
        if !matches!(held.try_read(&mut [0u8; 1]), Err(ref e) if e.kind() == std::io::ErrorKind::WouldBlock) {
            held = open().await;
        }
        assert!(started.elapsed() < DEADLINE, "the held request never took the slot");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn short(config: Config) -> Config {
    Config { ring: Duration::from_millis(50), ..config }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_connection_is_closed_and_so_is_a_kept_alive_one() {
    let idle = Duration::from_millis(300);
    let emu = emulator_with(short(Config { idle_timeout: idle, ..Config::default() })).await;
    let mut silent = connect(&emu).await;
    assert!(closed_within_deadline(&mut silent).await >= idle);
    let mut kept = connect(&emu).await;
    let get =
        format!("GET {} HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {}\r\n\r\n", calls(MAIN.0), base64_basic(MAIN));
    for _ in 0..2 {
        kept.write_all(get.as_bytes()).await.expect("write");
        assert_eq!(read_answer(&mut kept).await.status, 200, "the connection is kept alive between requests");
    }
    assert!(closed_within_deadline(&mut kept).await >= idle);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_that_do_not_arrive_in_time_end_the_connection() {
    let header = Duration::from_millis(400);
    let emu = emulator_with(short(Config { header_timeout: header, ..Config::default() })).await;
    let started = Instant::now();
    // 200 connections that stop halfway through their headers, as in a slowloris attack.
    let mut stalled = Vec::new();
    for _ in 0..200 {
        let mut stream = connect(&emu).await;
        stream.write_all(b"GET /2010-04-01/Accounts.json HTTP/1.1\r\nHost: x\r\n").await.expect("write");
        stalled.push(stream);
    }
    // One more that keeps sending a header line every 100 ms: traffic does not extend the deadline.
    let mut trickling = connect(&emu).await;
    trickling.write_all(b"GET /2010-04-01/Accounts.json HTTP/1.1\r\n").await.expect("write");
    let (mut reader, mut writer) = trickling.into_split();
    let trickle = tokio::spawn(async move {
        while writer.write_all(b"X-Slow: 1\r\n").await.is_ok() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let waited = tokio::time::timeout(DEADLINE, async {
        let mut chunk = [0u8; 64];
        while matches!(reader.read(&mut chunk).await, Ok(n) if n > 0) {}
    });
    waited.await.expect("the trickling connection is closed");
    trickle.abort();
    for stream in &mut stalled {
        closed_within_deadline(stream).await;
    }
    assert!(started.elapsed() >= header);
    // The server still serves.
    assert_eq!(Api::new(&emu).get(&calls(MAIN.0)).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_does_not_arrive_in_time_gets_408_and_the_connection_ends() {
    let body = Duration::from_millis(300);
    let emu = emulator_with(short(Config { body_timeout: body, ..Config::default() })).await;
    let mut stream = connect(&emu).await;
    let started = Instant::now();
    stream.write_all(format!("{}To=", create_head(100)).as_bytes()).await.expect("write");
    let answer = read_answer(&mut stream).await;
    assert!(started.elapsed() >= body);
    assert_eq!(answer.status, 408, "{}", answer.head);
    assert!(answer.head.to_ascii_lowercase().contains("connection: close"), "{}", answer.head);
    let json: Value = serde_json::from_slice(&answer.body).expect("JSON");
    assert_eq!((json["code"].as_i64(), json["status"].as_i64()), (Some(21200), Some(408)), "{json}");
    closed_within_deadline(&mut stream).await;
}

/// `slot_after_body`: 10 requests of the account stall their bodies and 50 connections stall
/// their headers; the account's 2 slots stay free for requests that arrive whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_cannot_starve_fast_ones() {
    let config = Config { max_concurrent_requests: Some(2), slot_after_body: true, ..Config::default() };
    let emu = emulator_with(short(config)).await;
    let mut slow = Vec::new();
    for _ in 0..50 {
        let mut stream = connect(&emu).await;
        stream.write_all(b"GET /2010-04-01/Accounts.json HTTP/1.1\r\n").await.expect("write");
        slow.push(stream);
    }
    for _ in 0..10 {
        let mut stream = connect(&emu).await;
        stream.write_all(format!("{}To=", create_head(200)).as_bytes()).await.expect("write");
        slow.push(stream);
    }
    let api = Api::new(&emu);
    // A request the server has not parsed yet cannot be told apart from one it ignores: the
    // stalled ones are given until every fast request is answered, and none may get 429.
    let started = Instant::now();
    for _ in 0..20 {
        let answer = api.get(&calls(MAIN.0)).await;
        assert_eq!(answer.status, 200, "{}", answer.json);
    }
    let created = api.post(&calls(MAIN.0), &[("To", TO), ("From", FROM), ("Url", NOWHERE)]).await;
    assert_eq!(created.status, 201, "{}", created.json);
    // Fast requests at once may take each other's slots, never the slow ones'.
    let mut together = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let api = Api::new(&emu);
        together.spawn(async move { api.get(&calls(MAIN.0)).await.status });
    }
    let statuses: Vec<u16> = together.join_all().await;
    assert!(statuses.iter().all(|s| *s == 200 || *s == 429), "{statuses:?}");
    assert!(statuses.contains(&200), "{statuses:?}");
    assert!(started.elapsed() < DEADLINE);
    drop(slow);
}

/// Without `slot_after_body` a request holds its slot from its headers on, but only until the
/// body deadline: then it gets 408 and the slot is free again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_body_holds_its_slot_only_until_the_body_deadline() {
    let body = Duration::from_millis(500);
    let config = Config { max_concurrent_requests: Some(1), body_timeout: body, ..Config::default() };
    let emu = emulator_with(short(config)).await;
    let api = Api::new(&emu);
    let mut stalled = hold_the_only_slot(&emu).await;
    let started = Instant::now();
    assert_eq!(read_answer(&mut stalled).await.status, 408);
    while api.get(&calls(MAIN.0)).await.status != 200 {
        assert!(started.elapsed() < DEADLINE, "the slot was never released");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A shutdown stops accepting at once but answers the request in progress.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_answers_the_request_in_progress() {
    let emu = emulator_with(short(Config { max_concurrent_requests: Some(1), ..Config::default() })).await;
    let addr = emu.local_addr();
    let body = create_body();
    let mut held = hold_the_only_slot(&emu).await;
    let started = Instant::now();
    let shutdown = tokio::spawn(emu.shutdown());
    while TcpStream::connect(addr).await.is_ok() {
        assert!(started.elapsed() < DEADLINE, "still accepting after shutdown");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    held.write_all(&body.as_bytes()[3..]).await.expect("write the rest");
    let answer = read_answer(&mut held).await;
    assert_eq!(answer.status, 201, "{}", String::from_utf8_lossy(&answer.body));
    tokio::time::timeout(DEADLINE, shutdown).await.expect("shutdown ends").expect("no panic");
}
