//! `cargo xtask bench emulator|suite|pacing|load [FLAGS]`: the measured benchmarks (never part of `cargo xtask ci`).
//!
//! - `bench emulator [BENCH FLAGS]`: builds the emulator binary and `crates/emulator/examples/bench.rs`
//!   in release, then runs the bench, which starts the release `callspec-emulator` as a child process
//!   on loopback and measures creates/s, latency percentiles and resident memory per stored call
//!   (`--help` lists its flags: `--seconds`, `--clients`, `--calls`, …).
//! - `bench suite [--runs N] [--release]`: builds `callspec` once (debug, as `cargo xtask conform`
//!   runs it, unless `--release`), runs the whole suite against the embedded emulator N times
//!   (default 5) and prints each run's wall time (`wall_time_ms` of its report.json), the case
//!   count and the median.
//!
//! - `bench pacing`: the suite on one shared account (`bench_pacing`).
//! - `bench load [LOAD FLAGS]`: 2,000 calls from 100 clients against the release emulator, every
//!   callback checked (`load`).
//!
//! All print the load average before each measurement: the machine is shared, and a figure taken
//! under load says so.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// Runs `cargo xtask bench …`.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let root = crate::root();
    match args.split_first() {
        Some((what, rest)) if what == "emulator" => emulator(&root, rest),
        Some((what, rest)) if what == "suite" => suite(&root, rest),
        Some((what, [])) if what == "pacing" => crate::bench_pacing::run(&root, &target_dir(&root)),
        Some((what, rest)) if what == "load" => crate::load::bench(&root, rest),
        _ => Err(
            "usage: cargo xtask bench emulator [BENCH FLAGS] | suite [--runs N] [--release] | pacing | load [LOAD FLAGS]"
                .into(),
        ),
    }
}

/// Cargo's target directory: `CARGO_TARGET_DIR` (relative to the root) or `<root>/target`.
pub(crate) fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    }
}

/// The 1-, 5- and 15-minute load averages.
pub(crate) fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// `nproc` and the CPU model, for the record.
pub(crate) fn machine() -> String {
    let cpus = std::thread::available_parallelism().map(|n| n.get().to_string()).unwrap_or_else(|_| "?".into());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name").map(|r| r.trim_start_matches([' ', '\t', ':']).to_owned()))
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!("{cpus} CPUs, {model}")
}

pub(crate) fn build(args: &[&str]) -> Result<(), String> {
    let mut cargo = crate::cargo();
    cargo.args(args);
    crate::step(&format!("cargo {}", args.join(" ")), cargo)
}

#[allow(clippy::print_stderr, reason = "xtask reports progress on stderr")]
fn emulator(root: &Path, args: &[String]) -> Result<(), String> {
    build(&["build", "--release", "-p", "callspec-emulator", "--bins", "--examples"])?;
    let release = target_dir(root).join("release");
    eprintln!("\n==> xtask: bench emulator on {} (load average {})", machine(), loadavg());
    let mut bench = Command::new(release.join("examples/bench"));
    bench.current_dir(root).arg("--emulator").arg(release.join("callspec-emulator")).args(args);
    let status = bench.status().map_err(|e| format!("cannot start the bench: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("the bench failed ({status})")) }
}

/// One suite run's figures.
struct SuiteRun {
    wall_ms: u64,
    process_ms: u128,
    /// CPU seconds the suite process used.
    cpu: f64,
    /// Cores other processes kept busy on average meanwhile.
    others: f64,
    cases: String,
    summary: String,
    exit: Option<i32>,
}

/// `"wall_time_ms": 1234` from a report.json, without a JSON parser.
fn wall_time_ms(report: &str) -> Option<u64> {
    let rest = report.split("\"wall_time_ms\"").nth(1)?;
    let digits: String =
        rest.trim_start_matches([' ', ':', '\n', '\t']).chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// User + system CPU seconds of a process so far (`/proc/<pid>/stat` fields 14 and 15, 100 ticks/s).
fn process_cpu_seconds(pid: u32) -> Option<f64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = text.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 / 100.0)
}

/// CPU seconds the whole machine has spent busy (user, nice, system, irq, softirq), `/proc/stat`.
fn machine_busy_seconds() -> f64 {
    let text = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let f: Vec<u64> =
        text.lines().next().unwrap_or("").split_whitespace().skip(1).map(|v| v.parse().unwrap_or(0)).collect();
    [0, 1, 2, 5, 6].iter().map(|&i| f.get(i).copied().unwrap_or(0)).sum::<u64>() as f64 / 100.0
}

fn suite_run(binary: &Path, root: &Path, report_dir: &Path) -> Result<SuiteRun, String> {
    let _ = std::fs::remove_dir_all(report_dir);
    let busy_before = machine_busy_seconds();
    let started = Instant::now();
    let mut child = Command::new(binary)
        .current_dir(root)
        .args(["--no-coverage", "-q", "--report-dir"])
        .arg(report_dir)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    let mut pipe = child.stdout.take().ok_or("the suite's stdout is not piped")?;
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        let _ = std::io::Read::read_to_string(&mut pipe, &mut out);
        out
    });
    // The suite's own CPU time, sampled until it exits, so the rest of the machine's can be told apart.
    let pid = child.id();
    let mut cpu = 0.0;
    let status = loop {
        if let Some(c) = process_cpu_seconds(pid) {
            cpu = c;
        }
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => std::thread::sleep(std::time::Duration::from_millis(20)),
            Err(e) => return Err(format!("waiting for the suite: {e}")),
        }
    };
    let process_ms = started.elapsed().as_millis();
    let others = (machine_busy_seconds() - busy_before - cpu).max(0.0) / (process_ms.max(1) as f64 / 1000.0);
    let stdout = reader.join().unwrap_or_default();
    let summary = stdout.lines().find(|l| l.starts_with("callspec: ")).unwrap_or("(no summary line)").to_owned();
    // "callspec: 173 cases against …"
    let cases = summary.split_whitespace().nth(1).unwrap_or("?").to_owned();
    let report_path = report_dir.join("report.json");
    let report =
        std::fs::read_to_string(&report_path).map_err(|e| format!("cannot read {}: {e}", report_path.display()))?;
    let wall_ms = wall_time_ms(&report).ok_or_else(|| format!("no wall_time_ms in {}", report_path.display()))?;
    Ok(SuiteRun { wall_ms, process_ms, cpu, others, cases, summary, exit: status.code() })
}

#[allow(clippy::print_stderr, clippy::print_stdout, reason = "progress on stderr, the figures on stdout")]
fn suite(root: &Path, args: &[String]) -> Result<(), String> {
    let mut runs = 5usize;
    let mut release = false;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--release" => release = true,
            "--runs" => {
                runs =
                    it.next().and_then(|v| v.parse().ok()).filter(|n| *n > 0).ok_or("--runs needs a positive number")?
            }
            other => return Err(format!("bench suite: unknown flag {other:?} (flags: --runs N, --release)")),
        }
    }
    let profile = if release { "release" } else { "debug" };
    let mut build_args = vec!["build", "-p", "callspec-conformance", "--bin", "callspec"];
    if release {
        build_args.push("--release");
    }
    build(&build_args)?;
    let binary = target_dir(root).join(profile).join("callspec");
    let reports = target_dir(root).join("bench/suite");
    eprintln!("\n==> xtask: bench suite on {}, {runs} runs of the {profile} build", machine());
    println!("callspec ({profile} build) --no-coverage -q against the embedded emulator, {runs} runs");
    let mut walls = Vec::with_capacity(runs);
    for i in 1..=runs {
        let load = loadavg();
        let run = suite_run(&binary, root, &reports.join(format!("run-{i}")))?;
        let exit = match run.exit {
            Some(0) => String::new(),
            Some(code) => format!("  (exit {code}: not every result as expected)"),
            None => "  (killed by a signal)".into(),
        };
        println!(
            "run {i}: wall {:.2} s (report.json wall_time_ms), process {:.2} s, {} cases{exit}",
            run.wall_ms as f64 / 1000.0,
            run.process_ms as f64 / 1000.0,
            run.cases
        );
        println!(
            "       suite CPU {:.1} s; other processes {:.2} cores meanwhile; load average before {load}",
            run.cpu, run.others
        );
        println!("       {}", run.summary);
        walls.push(run.wall_ms);
    }
    walls.sort_unstable();
    let median = walls[walls.len() / 2];
    let (min, max) = (walls[0], walls[walls.len() - 1]);
    println!(
        "median wall time: {:.2} s (min {:.2} s, max {:.2} s, {runs} runs, {profile} build)",
        median as f64 / 1000.0,
        min as f64 / 1000.0,
        max as f64 / 1000.0
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wall_time_from_a_report() {
        assert_eq!(wall_time_ms("{\"version\": 1, \"wall_time_ms\": 12345, \"cases\": []}"), Some(12345));
        assert_eq!(wall_time_ms("{\"wall_time_ms\":7}"), Some(7));
        assert_eq!(wall_time_ms("{}"), None);
    }
}
