//! `cargo xtask`: the project's automation (the cargo-xtask pattern), with no dependencies.
//!
//! - `cargo xtask ci`: what CI runs: format check, clippy with warnings denied, every test
//!   (the conformance suite included), the requirement coverage gate, the Python SDK check.
//! - `cargo xtask conform [--target URL --profile FILE] [--report-dir DIR] [LIBTEST ARGS]`
//! - `cargo xtask emulator [EMULATOR ARGS]`: run the reference emulator.
//! - `cargo xtask snapshots [--check]`: regenerate or check the golden snapshots.
//! - `cargo xtask faults`: the suite once per emulator fault; every fault must be caught.
//! - `cargo xtask bench emulator|suite`: the benchmarks (never part of `ci`).

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."))
}

fn cargo() -> Command {
    let mut c = Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    c
}

#[allow(clippy::print_stderr, reason = "xtask reports progress on stderr")]
fn step(name: &str, mut cmd: Command) -> Result<(), String> {
    eprintln!("\n==> xtask: {name}");
    let status = cmd.status().map_err(|e| format!("{name}: cannot start: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("{name}: failed ({status})")) }
}

mod bench;
mod faults;
mod python_sdk;
mod schema_check;
mod snapshots;

#[allow(clippy::print_stderr, reason = "xtask reports progress on stderr")]
fn ci() -> Result<(), String> {
    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--check"]);
    step("cargo fmt --check", fmt)?;
    let mut clippy = cargo();
    clippy.args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]);
    step("cargo clippy -D warnings", clippy)?;
    let report_dir = root().join("target/conform");
    let mut test = cargo();
    test.args(["test", "--workspace"]).env("CALLSPEC_REPORT_DIR", &report_dir).env("CALLSPEC_COVERAGE", "1");
    step("cargo test --workspace (the conformance suite included)", test)?;
    coverage_gate(&report_dir.join("coverage.json"))?;
    // The suite run above compared every case with its snapshot; orphans are checked here.
    snapshots::check_orphans(&root())?;
    faults::run(&root(), &mut cargo(), &[])?;
    eprintln!("\n==> xtask: the official twilio Python SDK against the emulator");
    python_sdk::check(&root(), &mut cargo())?;
    schema_check::check(&root())?;
    Ok(())
}

/// Fails when a requirement of the catalog has no case; reads the suite run's coverage.json.
#[allow(clippy::print_stderr, reason = "xtask reports progress on stderr")]
fn coverage_gate(path: &Path) -> Result<(), String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("coverage gate: cannot read {}: {e}", path.display()))?;
    // A line-level scan keeps xtask free of dependencies: each row carries "verdict": "...".
    let uncovered: Vec<&str> = text
        .split("\"id\":")
        .skip(1)
        .filter(|row| row.contains("\"verdict\": \"not_covered\""))
        .filter_map(|row| row.split('"').nth(1))
        .collect();
    if uncovered.is_empty() {
        eprintln!("==> xtask: coverage gate: every requirement has a case");
        Ok(())
    } else {
        Err(format!("coverage gate: requirements without a case: {}", uncovered.join(", ")))
    }
}

fn forward(package: &str, bin: &str, args: &[String]) -> Result<(), String> {
    // `cargo xtask emulator -- --listen …` and `cargo xtask emulator --listen …` mean the same.
    let args = args.strip_prefix(&["--".to_owned()]).unwrap_or(args);
    let mut cmd = cargo();
    cmd.args(["run", "--quiet", "--package", package, "--bin", bin, "--"]).args(args);
    let status = cmd.status().map_err(|e| format!("cannot start cargo: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("exit {}", status.code().unwrap_or(1))) }
}

const HELP: &str = "\
cargo xtask <COMMAND>

COMMANDS:
    ci                      format check, clippy -D warnings, all tests incl. the suite, coverage gate,
                            the official twilio Python SDK against the emulator
    conform [ARGS]          run the conformance suite (see `cargo xtask conform --help`)
    emulator [ARGS]         run the reference emulator (see `cargo xtask emulator --help`)
    faults [-j N] [NAME...] run the suite once per emulator fault (--fault); each must make a case FAIL
    bench emulator|suite    measure the emulator (release: creates/s, latency, bytes per stored call)
                            or the suite's wall time (median of 5); never part of ci
    snapshots [--check]     regenerate every golden snapshot from the reference emulator and remove
                            orphans; with --check, fail when any would change or is orphaned
";

#[allow(clippy::print_stderr, clippy::print_stdout, reason = "a command line talks on stdout and stderr")]
fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let (cmd, rest) = match args.split_first() {
        Some((c, r)) => (c.as_str(), r),
        None => ("help", &[][..]),
    };
    let result = match cmd {
        "ci" => ci(),
        "conform" => forward("callspec-conformance", "callspec", rest),
        "emulator" => forward("callspec-emulator", "callspec-emulator", rest),
        "bench" => bench::run(rest),
        "faults" => faults::run(&root(), &mut cargo(), rest),
        "snapshots" => snapshots::run(&root(), &mut cargo(), rest.iter().any(|a| a == "--check")),
        "help" | "-h" | "--help" => {
            print!("{HELP}");
            Ok(())
        }
        other => Err(format!("unknown command {other:?}\n{HELP}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // forward() already let the child print; only its exit code is passed on.
            if let Some(code) = e.strip_prefix("exit ").and_then(|c| c.parse::<u8>().ok()) {
                return ExitCode::from(code);
            }
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
