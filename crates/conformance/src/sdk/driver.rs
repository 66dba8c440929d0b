//! The driver process: started through the shell, its handshake read within a deadline, one
//! request line written and one answer line read per scenario within that scenario's deadline,
//! its stderr kept (the last lines) for the messages, and killed when it hangs or the run ends.
//!
//! Its pipes are served by threads (a reader per output, a writer for stdin), so no wait of the
//! run blocks on the driver: every wait is a channel receive with a deadline.

use super::protocol::{Answer, Hello, MAX_LINE, ProtocolError, parse_answer, parse_hello};
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::mpsc;

/// How many of the driver's last stderr lines the messages quote.
const STDERR_TAIL: usize = 20;

/// How long a driver may take to exit once its stdin is closed, before it is killed.
const EXIT_GRACE: Duration = Duration::from_secs(3);

/// What went wrong with the driver: a fault of the driver or the harness, never a verdict on the
/// SDK (the scenario is ERROR).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DriverFault {
    /// The command could not be started.
    #[error("cannot start the driver `{command}`: {reason}")]
    Spawn {
        /// The command line.
        command: String,
        /// The OS's reason.
        reason: String,
    },
    /// The driver ended (or closed its stdout) before answering.
    #[error("the driver exited before answering{stderr}")]
    Exited {
        /// Its last stderr lines.
        stderr: String,
    },
    /// No line came within the deadline.
    #[error("the driver did not answer within {ms} ms (it was killed){stderr}")]
    Timeout {
        /// The deadline.
        ms: u128,
        /// Its last stderr lines.
        stderr: String,
    },
    /// A line that breaks the protocol.
    #[error("the driver wrote a line that breaks the protocol: {problem}: {line}")]
    Garbage {
        /// What is wrong.
        problem: String,
        /// The start of the line.
        line: String,
    },
}

/// What the stdout reader thread hands over.
enum Line {
    Text(String),
    TooLong,
    Eof,
}

/// A running driver, its handshake done.
pub struct Driver {
    child: Child,
    to_stdin: std::sync::mpsc::Sender<String>,
    lines: mpsc::Receiver<Line>,
    stderr: Arc<Mutex<VecDeque<String>>>,
    /// The handshake.
    pub hello: Hello,
    next_id: u64,
}

impl Driver {
    /// Starts `command` through the shell and reads its handshake within `deadline`.
    pub async fn start(command: &str, deadline: Duration) -> Result<Driver, DriverFault> {
        let mut child = shell(command)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| DriverFault::Spawn { command: command.to_owned(), reason: e.to_string() })?;
        let (Some(stdin), Some(stdout), Some(stderr)) = (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            let _ = child.kill();
            return Err(DriverFault::Spawn { command: command.to_owned(), reason: "no pipes".into() });
        };
        let (to_stdin, from_run) = std::sync::mpsc::channel::<String>();
        std::thread::spawn(move || write_lines(stdin, &from_run));
        let (tx, lines) = mpsc::channel(16);
        std::thread::spawn(move || read_lines(stdout, &tx));
        let tail = Arc::new(Mutex::new(VecDeque::new()));
        let kept = tail.clone();
        std::thread::spawn(move || keep_tail(stderr, &kept));
        let hello = Hello { sdk: String::new(), version: None, scenarios: None };
        let mut driver = Driver { child, to_stdin, lines, stderr: tail, hello, next_id: 1 };
        let line = driver.line(deadline).await?;
        driver.hello = parse_hello(&line).map_err(|e| garbage(&e, &line))?;
        Ok(driver)
    }

    /// Writes one request (built by `line` from its id) and reads the answer within `deadline`.
    /// On a fault the driver is unusable: the caller stops it and starts another.
    pub async fn ask(&mut self, line: impl FnOnce(u64) -> String, deadline: Duration) -> Result<Answer, DriverFault> {
        let id = self.next_id;
        self.next_id += 1;
        let mut text = line(id);
        text.push('\n');
        // A closed stdin shows as the driver's exit on the read below.
        let _ = self.to_stdin.send(text);
        let answer = self.line(deadline).await?;
        parse_answer(&answer, id).map_err(|e| garbage(&e, &answer))
    }

    /// The next stdout line within `deadline`; the driver is killed when none comes.
    async fn line(&mut self, deadline: Duration) -> Result<String, DriverFault> {
        match tokio::time::timeout(deadline, self.lines.recv()).await {
            Ok(Some(Line::Text(text))) => Ok(text),
            Ok(Some(Line::TooLong)) => Err(DriverFault::Garbage {
                problem: format!("a line longer than {MAX_LINE} bytes"),
                line: "…".into(),
            }),
            Ok(Some(Line::Eof) | None) => {
                self.reap().await;
                Err(DriverFault::Exited { stderr: self.stderr_text() })
            }
            Err(_) => {
                let _ = self.child.kill();
                self.reap().await;
                Err(DriverFault::Timeout { ms: deadline.as_millis(), stderr: self.stderr_text() })
            }
        }
    }

    /// Waits (bounded) for the process to end, so its last stderr lines are read.
    async fn reap(&mut self) {
        let until = tokio::time::Instant::now() + EXIT_GRACE;
        while tokio::time::Instant::now() < until {
            if !matches!(self.child.try_wait(), Ok(None)) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        // The stderr thread ends at the pipe's end; give it a moment to store the last lines.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    /// Closes stdin (the driver's signal to exit), waits a little, then kills it.
    pub async fn stop(mut self) {
        drop(std::mem::replace(&mut self.to_stdin, std::sync::mpsc::channel().0));
        self.reap().await;
    }

    /// The last stderr lines, as `; stderr: …`, or nothing.
    fn stderr_text(&self) -> String {
        let tail = self.stderr.lock().unwrap_or_else(PoisonError::into_inner);
        if tail.is_empty() {
            String::new()
        } else {
            format!("; its last stderr lines:\n{}", tail.iter().cloned().collect::<Vec<_>>().join("\n"))
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn garbage(e: &ProtocolError, line: &str) -> DriverFault {
    DriverFault::Garbage { problem: e.to_string(), line: crate::matcher::shorten(line, 200) }
}

/// The command run by the platform's shell, `exec`ed where the shell allows so that killing
/// the process kills the driver.
fn shell(command: &str) -> Command {
    if cfg!(windows) {
        let mut c = Command::new("cmd");
        c.arg("/C").arg(command);
        c
    } else {
        let mut c = Command::new("sh");
        c.arg("-c").arg(format!("exec {command}"));
        c
    }
}

fn write_lines(mut stdin: std::process::ChildStdin, lines: &std::sync::mpsc::Receiver<String>) {
    while let Ok(line) = lines.recv() {
        if stdin.write_all(line.as_bytes()).and_then(|()| stdin.flush()).is_err() {
            return;
        }
    }
}

fn read_lines(stdout: std::process::ChildStdout, tx: &mpsc::Sender<Line>) {
    let mut reader = BufReader::new(stdout);
    loop {
        let mut buf = Vec::new();
        let read = (&mut reader).take(MAX_LINE as u64 + 1).read_until(b'\n', &mut buf);
        let line = match read {
            Ok(0) | Err(_) => Line::Eof,
            Ok(_) if buf.len() > MAX_LINE => Line::TooLong,
            Ok(_) => {
                let text = String::from_utf8_lossy(&buf).trim_end_matches(['\n', '\r']).to_owned();
                if text.trim().is_empty() {
                    continue;
                }
                Line::Text(text)
            }
        };
        let last = !matches!(line, Line::Text(_));
        if tx.blocking_send(line).is_err() || last {
            return;
        }
    }
}

fn keep_tail(stderr: std::process::ChildStderr, tail: &Mutex<VecDeque<String>>) {
    for line in BufReader::new(stderr).lines() {
        let Ok(line) = line else { return };
        let mut tail = tail.lock().unwrap_or_else(PoisonError::into_inner);
        if tail.len() == STDERR_TAIL {
            tail.pop_front();
        }
        tail.push_back(crate::matcher::shorten(&line, 300));
    }
}
