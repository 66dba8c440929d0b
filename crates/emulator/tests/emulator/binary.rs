//! The `callspec-emulator` command: `--list-faults`, a standard output closed early, and
//! `--twilio-variance SEED`.

use callspec_emulator::Fault;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};

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
