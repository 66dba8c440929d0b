//! The `callspec-emulator` command: `--list-faults`, a standard output closed early,
//! `--twilio-variance SEED`, the warning off loopback, SIGTERM's drain, bad deadline flags.

use super::{MAIN, base64_basic};
use callspec_emulator::Fault;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStderr, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a started emulator process is given for each step.
const STEP: Duration = Duration::from_secs(10);

/// `callspec-emulator --list-faults`, its output and standard error piped.
fn list_faults() -> Child {
    Command::new(env!("CARGO_BIN_EXE_callspec-emulator"))
        .arg("--list-faults")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts")
}

/// Waits for the command: its exit status and standard error.
fn finish(mut child: Child) -> (ExitStatus, String) {
    let mut stderr = String::new();
    child.stderr.take().expect("stderr piped").read_to_string(&mut stderr).expect("stderr reads");
    (child.wait().expect("the binary exits"), stderr)
}

#[test]
fn list_faults_prints_every_fault_on_a_line() {
    let output = list_faults().wait_with_output().expect("the binary exits");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout).expect("UTF-8");
    let names: Vec<&str> = text.lines().map(|l| l.split('\t').next().unwrap_or_default()).collect();
    let expected: Vec<&str> = Fault::ALL.iter().map(|f| f.name()).collect();
    assert_eq!(names, expected);
    assert!(text.lines().all(|l| l.split('\t').count() == 3), "{text}");
}

/// The whole list fits in a pipe's buffer, so the command may be done before the reader
/// stops; the next test closes the pipe before the first line is written.
#[test]
fn list_faults_ends_quietly_when_the_reader_stops_after_one_line() {
    let mut child = list_faults();
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout piped")).read_line(&mut first).expect("a line");
    // The reader is dropped: the pipe is closed, as by `| head -1`.
    assert!(first.starts_with(&format!("{}\t", Fault::ALL[0].name())), "{first}");
    let (status, stderr) = finish(child);
    assert!(status.success(), "{status}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn list_faults_ends_quietly_when_the_reader_is_gone_before_it_prints() {
    let mut child = list_faults();
    drop(child.stdout.take());
    let (status, stderr) = finish(child);
    assert!(status.success(), "{status}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn twilio_variance_takes_a_seed() {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_callspec-emulator")).args(args).output().expect("the binary runs")
    };
    let help = run(&["--help"]);
    assert!(String::from_utf8_lossy(&help.stdout).contains("--twilio-variance <SEED>"), "{help:?}");
    let bad = run(&["--twilio-variance", "minus-one"]);
    assert_eq!(bad.status.code(), Some(2), "{bad:?}");
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--twilio-variance <SEED>"), "{bad:?}");
    // With a seed it starts and serves: the banner's first line comes, then the process is ended.
    let mut child = Command::new(env!("CARGO_BIN_EXE_callspec-emulator"))
        .args(["--twilio-variance", "7", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout piped")).read_line(&mut first).expect("a line");
    let _ = child.kill();
    let _ = child.wait();
    assert!(first.starts_with("callspec emulator listening on http://127.0.0.1:"), "{first}");
}

/// An emulator process on a free port, its banner's first line read.
struct Process {
    child: Child,
    /// The rest of the banner, line by line.
    stdout: BufReader<std::process::ChildStdout>,
    /// Standard error, line by line, read by a thread so that waits can have a deadline.
    stderr: mpsc::Receiver<String>,
    address: String,
}

fn lines_of(stderr: ChildStderr) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

impl Process {
    fn start(args: &[&str]) -> Process {
        let mut child = Command::new(env!("CARGO_BIN_EXE_callspec-emulator"))
            .args(args)
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let stderr = lines_of(child.stderr.take().expect("stderr piped"));
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout piped"));
        let mut first = String::new();
        stdout.read_line(&mut first).expect("a banner line");
        let address = first.trim().rsplit("http://").next().unwrap_or_default().to_owned();
        assert!(first.starts_with("callspec emulator listening on http://"), "{first}");
        Process { child, stdout, stderr, address }
    }

    /// Waits for a line of standard error containing `needle`; the lines read on the way.
    fn stderr_until(&self, needle: &str) -> Vec<String> {
        let deadline = Instant::now() + STEP;
        let mut seen = Vec::new();
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.stderr.recv_timeout(left) {
                Ok(line) => {
                    let found = line.contains(needle);
                    seen.push(line);
                    if found {
                        return seen;
                    }
                }
                Err(_) => break,
            }
        }
        panic!("no {needle:?} on standard error within {STEP:?}: {seen:#?}");
    }

    /// Waits for the process to exit, within [`STEP`].
    fn exit_status(&mut self) -> ExitStatus {
        let deadline = Instant::now() + STEP;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the emulator did not exit within {STEP:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn signal(&self, name: &str) {
        let sent = Command::new("kill").args([format!("-{name}"), self.child.id().to_string()]).status();
        assert!(sent.is_ok_and(|s| s.success()), "kill -{name} failed");
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads the status code of one HTTP answer from `stream`.
fn status_of(stream: &mut TcpStream) -> u16 {
    stream.set_read_timeout(Some(STEP)).expect("timeout");
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).expect("an answer");
    String::from_utf8_lossy(&head[9..12]).parse().expect("a status code")
}

#[test]
fn off_loopback_it_warns_loudly() {
    let mut process = Process::start(&["--listen", "0.0.0.0:0"]);
    let mut second = String::new();
    process.stdout.read_line(&mut second).expect("a banner line");
    assert!(second.starts_with("WARNING: not a loopback address"), "{second}");
    let seen = process.stderr_until("NOT LOOPBACK");
    let warning = seen.last().map(String::as_str).unwrap_or_default();
    assert!(warning.contains("WARN") && warning.contains("--webhook-allow-host"), "{warning}");
    let quiet = Process::start(&["--listen", "127.0.0.1:0"]);
    quiet.stderr_until("callspec emulator listening");
    assert!(quiet.stderr.try_iter().all(|l| !l.contains("NOT LOOPBACK")));
}

#[cfg(unix)]
#[test]
fn sigterm_drains_the_request_in_progress_and_exits_cleanly() {
    let mut process = Process::start(&["--listen", "127.0.0.1:0", "--max-concurrent-requests", "1"]);
    let auth = base64_basic(MAIN);
    let body = format!("To=%2B14155551212&From=%2B15017122661&Url={}", "http%3A%2F%2F127.0.0.1%3A9%2Ftwiml");
    let head = format!(
        "POST /2010-04-01/Accounts/{}/Calls.json HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {auth}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        MAIN.0,
        body.len()
    );
    let open = || {
        let mut held = TcpStream::connect(&process.address).expect("connect");
        held.write_all(format!("{head}{}", &body[..3]).as_bytes()).expect("write");
        held.set_nonblocking(true).expect("non-blocking");
        held
    };
    let mut held = open();
    // The held request is in progress once it takes the only slot. A probe may reach the
    // server first and take the slot itself: the held request is then answered, and opened again.
    let list = format!(
        "GET /2010-04-01/Accounts/{}/Calls.json HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {auth}\r\nConnection: close\r\n\r\n",
        MAIN.0
    );
    let started = Instant::now();
    loop {
        let mut probe = TcpStream::connect(&process.address).expect("connect");
        probe.write_all(list.as_bytes()).expect("write");
        if status_of(&mut probe) == 429 {
            break;
        }
        if !matches!(held.read(&mut [0u8; 1]), Err(ref e) if e.kind() == std::io::ErrorKind::WouldBlock) {
            held = open();
        }
        if started.elapsed() > STEP {
            let log: Vec<String> = process.stderr.try_iter().collect();
            panic!("the held request never took the slot: {log:#?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    held.set_nonblocking(false).expect("blocking");
    process.signal("TERM");
    process.stderr_until("SIGTERM");
    held.write_all(&body.as_bytes()[3..]).expect("the rest of the body");
    assert_eq!(status_of(&mut held), 201, "the request in progress is answered");
    let status = process.exit_status();
    assert!(status.success(), "{status}");
    process.stderr_until("callspec emulator stopped");
}

#[test]
fn deadline_flags_refuse_zero() {
    let out = Command::new(env!("CARGO_BIN_EXE_callspec-emulator"))
        .args(["--header-timeout-ms", "0"])
        .output()
        .expect("the binary runs");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let bad_host = Command::new(env!("CARGO_BIN_EXE_callspec-emulator"))
        .args(["--webhook-allow-host", "10.0.0.0/40"])
        .output()
        .expect("the binary runs");
    assert_eq!(bad_host.status.code(), Some(2), "{bad_host:?}");
    assert!(String::from_utf8_lossy(&bad_host.stderr).contains("prefix length"), "{bad_host:?}");
}
