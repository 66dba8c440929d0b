//! The `callspec` binary as a CI gate uses it: exit codes that cannot go green by accident (a dead
//! target, a filter that selects nothing), SKIPs with reasons for a profile without optional
//! numbers, the baseline round trip, clap's errors, and quiet ends on a closed stdout.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_callspec");

pub(crate) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A fresh directory for one test's files.
pub(crate) fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("callspec-selftest-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

/// The reference emulator's profile, without the lines `drop` says and with `top` keys added
/// before its first table.
fn reference_profile(dir: &Path, top: &str, drop: &[&str]) -> PathBuf {
    let text = std::fs::read_to_string(repo_root().join("fixtures/targets/reference-emulator.toml"))
        .expect("the reference profile");
    let kept: Vec<&str> = text.lines().filter(|l| !drop.iter().any(|d| l.starts_with(d))).collect();
    let first_table = kept.iter().position(|l| l.starts_with('[')).unwrap_or(kept.len());
    let mut lines: Vec<&str> = kept[..first_table].to_vec();
    lines.push(top);
    lines.extend(&kept[first_table..]);
    let path = dir.join("profile.toml");
    std::fs::write(&path, lines.join("\n")).expect("the profile is written");
    path
}

/// Runs callspec to its end; `CI` is set so nothing is written next to the goldens.
fn callspec(args: &[&str]) -> Output {
    Command::new(BIN).args(args).env("CI", "true").output().expect("callspec starts")
}

pub(crate) fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn a_baselined_profile_against_a_dead_port_exits_2_at_once() {
    let dir = scratch("dead");
    std::fs::write(
        dir.join("b.toml"),
        "[[known_failures]]\ncase = \"create::\"\nreason = \"all of it\"\ncategory = \"bug\"\n",
    )
    .expect("baseline");
    let profile = reference_profile(&dir, "baseline = \"b.toml\"", &[]);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    drop(listener);
    let started = Instant::now();
    let out = callspec(&["--target", &url, "--profile", profile.to_str().unwrap_or_default()]);
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("cannot be reached"), "{}", text(&out));
}

#[test]
fn a_filter_matching_nothing_exits_2() {
    let out = callspec(&["no_such_case_anywhere"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("no case matches the filters"), "{}", text(&out));
}

#[test]
fn a_profile_without_callee_numbers_skips_with_reasons_and_no_error() {
    let dir = scratch("no-numbers");
    let profile = reference_profile(&dir, "", &["busy", "no_answer", "failed"]);
    let out = callspec(&["--profile", profile.to_str().unwrap_or_default(), "--no-coverage", "lifecycle::00"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(all.contains("test lifecycle::002_busy ... ignored, profile has no callees.busy"), "{all}");
    assert!(all.contains("ignored, profile has no callees.no_answer"), "{all}");
    assert!(!all.contains("... ERROR") && all.contains(" 0 ERROR"), "{all}");
    let listed = callspec(&["--profile", profile.to_str().unwrap_or_default(), "--list", "lifecycle::00"]);
    assert!(text(&listed).contains("lifecycle::004_failed: test (would skip: profile has no callees.failed)"));
}

#[test]
fn a_written_baseline_gates_green_and_a_fix_reports_the_stale_entry() {
    let dir = scratch("baseline");
    let profile = reference_profile(&dir, "baseline = \"profile.baseline.toml\"", &[]);
    let p = profile.to_str().unwrap_or_default();
    let broken = ["--profile", p, "--no-coverage", "-q", "--fault", "missing-to-21211", "create::"];
    let first = callspec(&broken);
    assert_eq!(first.status.code(), Some(1), "the fault fails a case: {}", text(&first));
    let written = callspec(&[&broken[..], &["--write-baseline"]].concat());
    assert_eq!(written.status.code(), Some(0), "{}", text(&written));
    let baseline = std::fs::read_to_string(dir.join("profile.baseline.toml")).expect("the baseline is written");
    assert!(
        baseline.contains("case = \"create::001_missing_to\"\nrequirement = \"C-TO-1\"\nkind = \"error-code\""),
        "{baseline}"
    );
    let gate = callspec(&broken);
    assert_eq!(gate.status.code(), Some(0), "the baseline covers the failure: {}", text(&gate));
    assert!(text(&gate).contains("XFAIL create::001_missing_to"), "{}", text(&gate));
    let fixed = callspec(&["--profile", p, "--no-coverage", "-q", "create::"]);
    assert_eq!(fixed.status.code(), Some(1), "{}", text(&fixed));
    assert!(text(&fixed).contains("covers no failure of this run; remove this entry"), "{}", text(&fixed));
}

#[test]
fn variance_starts_the_embedded_emulator_without_snapshots_and_never_with_a_target() {
    // Under seed 2 the call of create::003 carries fields its golden snapshot lacks
    // (`callspec_variance_field`): the case passes because variance turns snapshots off.
    let run = callspec(&["--variance", "2", "--no-coverage", "-q", "create::003_e164_to"]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run));
    let profile = repo_root().join("fixtures/targets/reference-emulator.toml");
    let target = ["--target", "http://127.0.0.1:9", "--profile", profile.to_str().unwrap_or_default()];
    for other in [&target[..], &["--update-snapshots"]] {
        let refused = callspec(&[&["--variance", "2"][..], other].concat());
        assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
        assert!(text(&refused).contains("'--variance <SEED>' cannot be used with"), "{}", text(&refused));
    }
}

#[test]
fn help_is_complete_and_an_unknown_flag_is_a_usage_error() {
    let help = callspec(&["--help"]);
    let shown = text(&help);
    for flag in [
        "--target",
        "--profile",
        "--report-dir",
        "--write-baseline",
        "--require-coverage",
        "--list",
        "--exact",
        "--fault",
        "--variance",
        "--snapshot-dir",
    ] {
        assert!(shown.contains(flag), "--help lists {flag}: {shown}");
    }
    let bad = callspec(&["--no-such-flag"]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
}

#[test]
fn a_closed_stdout_ends_quietly() {
    let mut child = Command::new(BIN)
        .args(["--list"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("callspec starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut first = String::new();
    BufReader::new(stdout).read_line(&mut first).expect("a first line");
    // The reader is dropped here: callspec now writes into a closed pipe.
    let out = child.wait_with_output().expect("callspec ends");
    assert!(first.ends_with(": test\n"), "{first:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}

#[test]
fn the_real_api_profiles_list_what_runs_and_what_a_run_costs() {
    let profile = repo_root().join("fixtures/targets/twilio-test-credentials.toml");
    let listed = callspec(&["--profile", profile.to_str().unwrap_or_default(), "--list"]);
    let shown = text(&listed);
    assert_eq!(listed.status.code(), Some(0), "{shown}");
    assert!(shown.contains("\ncreate::001_missing_to: test\n"), "a create-only case runs: {shown}");
    assert!(shown.contains("resource::001_fetch: test (would skip: "), "{shown}");
    assert!(shown.contains("the profile's credentials can only create calls"), "{shown}");
    let live = repo_root().join("fixtures/targets/twilio-live.toml");
    let listed = callspec(&["--profile", live.to_str().unwrap_or_default(), "--list"]);
    assert!(text(&listed).contains("create requests)"), "a real account is told what a run costs: {}", text(&listed));
    assert!(text(&listed).contains("profile has no callees.busy"), "{}", text(&listed));
}
