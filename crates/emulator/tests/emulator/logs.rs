//! Logs: every URL's password masked the same way at every log site, and control characters
//! in values escaped in the text format, so a `To` holding a newline cannot forge a line.
//!
//! The emulator runs on this test's single thread, whose log lines (in the text format) are
//! captured in memory.

use super::*;
use std::io::Write;

thread_local! {
    /// Where this thread's log lines go, if anywhere.
    static CAPTURE: std::cell::RefCell<Option<Captured>> = const { std::cell::RefCell::new(None) };
}

/// Log output kept in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

/// Writes to the capture of the calling thread; drops what other threads log.
struct ThreadWriter;

impl Write for ThreadWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        CAPTURE.with(|c| {
            if let Some(captured) = c.borrow().as_ref() {
                captured.0.lock().unwrap_or_else(PoisonError::into_inner).extend_from_slice(buf);
            }
        });
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// Captures this thread's log lines, in the emulator's text format, from now on.
    ///
    /// The subscriber is the process's global one: a thread-scoped subscriber would share
    /// tracing's global per-callsite cache with the other tests' threads and miss events.
    fn this_thread() -> Captured {
        static GLOBAL: std::sync::Once = std::sync::Once::new();
        GLOBAL.call_once(|| {
            let subscriber = tracing_subscriber::fmt()
                .with_writer(|| ThreadWriter)
                .with_ansi(false)
                .with_max_level(tracing::Level::INFO)
                .fmt_fields(callspec_emulator::redact::TextFields)
                .finish();
            tracing::subscriber::set_global_default(subscriber).expect("no other global subscriber");
        });
        let captured = Captured::default();
        CAPTURE.with(|c| *c.borrow_mut() = Some(captured.clone()));
        captured
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }

    /// Waits until the log holds `needle` as often as `times`.
    async fn wait_for(&self, needle: &str, times: usize) {
        let started = Instant::now();
        while self.text().matches(needle).count() < times {
            assert!(started.elapsed() < DEADLINE, "waited for {times}× {needle:?} in the log:\n{}", self.text());
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

// A current-thread runtime: every task of the emulator runs on this thread, into its capture.
#[tokio::test]
async fn urls_are_masked_and_control_characters_escaped_in_every_line() {
    let captured = Captured::this_thread();
    let receiver = Receiver::start().await;
    receiver.serve("/not-twiml", 200, "hello, not XML").await;
    receiver.serve("/bad-redirect", 200, "<Response><Redirect>http://user:hunter2@[::</Redirect></Response>").await;
    let port = receiver.server.address().port();
    let with_password = |host: &str, p: &str| format!("http://user:hunter2@{host}:{port}{p}");
    let allow = vec!["localhost".parse().expect("pattern")];
    let emu = emulator_with(Config {
        cps: 20.0,
        ring: Duration::from_millis(20),
        webhook_allow_hosts: allow,
        ..Config::default()
    })
    .await;
    let api = Api::new(&emu);

    // Refused ("webhook not sent"), then the fallback is fetched ("webhook") and is no TwiML ("not TwiML").
    let refused = with_password("127.0.0.1", "/refused");
    let fallback = with_password("localhost", "/not-twiml");
    api.create(&[("To", TO), ("From", FROM), ("Url", &refused), ("FallbackUrl", &fallback)]).await;
    // A document whose <Redirect> URL cannot be resolved.
    api.create(&[("To", TO), ("From", FROM), ("Url", &with_password("localhost", "/bad-redirect"))]).await;
    // A validation message that echoes a To with a line break and a terminal escape in it.
    let forged =
        api.post(&calls(MAIN.0), &[("To", "+1415\nINFO forged line\u{1b}[2J"), ("From", FROM), ("Url", NOWHERE)]).await;
    assert_eq!(forged.status, 400, "{}", forged.json);

    for needle in ["webhook not sent", "not TwiML", "<Redirect> URL cannot be resolved", "validation"] {
        captured.wait_for(needle, 1).await;
    }
    let log = captured.text();
    assert!(!log.contains("hunter2"), "a password reached the log:\n{log}");
    assert!(log.matches("user:***@").count() >= 4, "{log}");
    assert!(log.contains("+1415\\nINFO forged line\\u{1b}[2J"), "the To is escaped, not dropped:\n{log}");
    assert!(!log.contains('\u{1b}'), "{log}");
    // Every line is one event: it starts with the timestamp and a level.
    for line in log.lines() {
        let level = line.split_whitespace().nth(1).unwrap_or_default();
        assert!(["TRACE", "DEBUG", "INFO", "WARN", "ERROR"].contains(&level), "a line no event wrote: {line:?}");
    }
}
