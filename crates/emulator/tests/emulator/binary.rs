//! The `callspec-emulator` command: `--list-faults`, and a standard output closed early.

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
