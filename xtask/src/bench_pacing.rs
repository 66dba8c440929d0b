//! `cargo xtask bench pacing`: the whole suite on one shared account, where pacing decides the
//! wall time and the request count (never part of `cargo xtask ci`).
//!
//! 1. **no subaccounts, 1 CPS**: the embedded reference emulator under its own profile with
//!    `subaccounts = false` (snapshots off): every case shares the main account, creates spaced at 1
//!    per second, the cases that need the queue alone run alone.
//! 2. **calls never leave ringing**: the `callspec-emulator` binary with `--ring-ms 86400000` (every
//!    answering callee rings for a day), under the same profile as a third party whose calls never
//!    progress would write it: no `cps` (creates are still spaced at Twilio's default 1 per second)
//!    and no `recordings` (a recording case waits up to 120 s for Twilio's recording callback, which
//!    a call that never ends never sends). Most cases FAIL, each waiting out its deadlines, and the
//!    run must still end in about two minutes. Measured twice: paced at Twilio's default 1 CPS, and
//!    with `queues_calls = false` (a mock that never queues: creates not spaced).
//!
//! Prints each run's wall time, exit code, counts and requests sent (the summary line).

use crate::served::Served;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One measured run.
struct Figures {
    wall: Duration,
    exit: Option<i32>,
    summary: String,
}

/// The reference profile with `subaccounts = false` and snapshots off; as a third party that never
/// progresses a call would describe itself (`third_party`), also without `cps` and `recordings`.
fn shared_profile(root: &Path, out: &Path, third_party: bool) -> Result<PathBuf, String> {
    let source = root.join("fixtures/targets/reference-emulator.toml");
    let text = std::fs::read_to_string(&source).map_err(|e| format!("cannot read {}: {e}", source.display()))?;
    let lines: Vec<String> = text
        .lines()
        .filter(|l| {
            !l.starts_with("snapshots") && !(third_party && (l.starts_with("cps") || l.starts_with("recordings")))
        })
        .map(|l| if l.starts_with("subaccounts") { "subaccounts = false".to_owned() } else { l.to_owned() })
        .collect();
    let name = if third_party { "third-party-no-subaccounts.toml" } else { "no-subaccounts.toml" };
    let path = out.join(name);
    std::fs::write(&path, lines.join("\n")).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}

/// Runs `callspec ARGS` to its end and reads its summary line.
fn measure(callspec: &Path, root: &Path, args: &[&str]) -> Result<Figures, String> {
    let started = Instant::now();
    let out = Command::new(callspec)
        .current_dir(root)
        .args(["--no-coverage", "-q"])
        .args(args)
        .env("CI", "true")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot start {}: {e}", callspec.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    // The last `callspec: ` line is the summary (an earlier one announces the run).
    let summary = stdout.lines().rfind(|l| l.starts_with("callspec: ")).unwrap_or("(no summary line)").to_owned();
    Ok(Figures { wall: started.elapsed(), exit: out.status.code(), summary })
}

#[allow(clippy::print_stderr, clippy::print_stdout, reason = "progress on stderr, the figures on stdout")]
pub(crate) fn run(root: &Path, target_dir: &Path) -> Result<(), String> {
    super::bench::build(&["build", "-p", "callspec-conformance", "--bin", "callspec"])?;
    super::bench::build(&["build", "-p", "callspec-emulator", "--bin", "callspec-emulator"])?;
    let debug = target_dir.join("debug");
    let out = target_dir.join("bench/pacing");
    std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let callspec = debug.join("callspec");
    eprintln!("\n==> xtask: bench pacing on {} (load average {})", super::bench::machine(), super::bench::loadavg());

    let profile = shared_profile(root, &out, false)?;
    let report = out.join("no-subaccounts");
    let args = ["--profile", path_str(&profile)?, "--report-dir", path_str(&report)?];
    print("no subaccounts, 1 CPS, embedded reference emulator", &measure(&callspec, root, &args)?);

    let emulator = Served::start(&debug.join("callspec-emulator"), &[], &["--ring-ms", "86400000"])?;
    let profile = shared_profile(root, &out, true)?;
    let report = out.join("never-leave-ringing");
    let target = emulator.base_url.clone();
    let args = ["--target", &target, "--profile", path_str(&profile)?, "--report-dir", path_str(&report)?];
    let what = "calls never leave ringing (--ring-ms 86400000); no subaccounts, cps or recordings declared";
    print(what, &measure(&callspec, root, &args)?);
    // The same target described as a mock that never queues: no spacing of creates at all.
    let text = std::fs::read_to_string(&profile).map_err(|e| format!("cannot read {}: {e}", profile.display()))?;
    let unpaced = out.join("third-party-unpaced.toml");
    std::fs::write(&unpaced, text.replace("[capabilities]\n", "[capabilities]\nqueues_calls = false\n"))
        .map_err(|e| format!("cannot write {}: {e}", unpaced.display()))?;
    let report = out.join("never-leave-ringing-unpaced");
    let args = ["--target", &target, "--profile", path_str(&unpaced)?, "--report-dir", path_str(&report)?];
    print("the same, with queues_calls = false (creates not spaced)", &measure(&callspec, root, &args)?);
    Ok(())
}

fn path_str(p: &Path) -> Result<&str, String> {
    p.to_str().ok_or_else(|| format!("{} is not UTF-8", p.display()))
}

#[allow(clippy::print_stdout, reason = "the figures go to stdout")]
fn print(what: &str, f: &Figures) {
    let exit = f.exit.map_or_else(|| "killed by a signal".to_owned(), |c| format!("exit {c}"));
    println!("{what}: wall {:.1} s, {exit}\n    {}", f.wall.as_secs_f64(), f.summary);
}
