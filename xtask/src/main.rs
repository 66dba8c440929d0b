//! `cargo xtask`: the project's automation (the cargo-xtask pattern). It only sequences: every
//! check lives in the tool it runs (the suite's gates in the `callspec` runner).
//!
//! - `cargo xtask ci`: what CI runs, in this order, stopping at the first failure:
//!   1. `cargo fmt --all --check`;
//!   2. `cargo clippy --workspace --all-targets -- -D warnings`;
//!   3. `cargo test --workspace`: every test, the whole conformance suite included
//!      (`crates/conformance/tests/suite.rs` against the embedded reference emulator, reports in
//!      `target/conform`, the coverage table printed). That run compares every golden snapshot
//!      (a difference FAILs its case), refuses orphaned snapshots, and with
//!      `CALLSPEC_REQUIRE_COVERAGE=1` refuses a requirement of the catalog without a case;
//!   4. `cargo xtask load`: 300 calls from 30 clients against the emulator binary, every call ended
//!      and every callback exactly as expected (`load`);
//!   5. the installed path (`package.rs`): the example crate's gate fails against a faulty
//!      emulator; `callspec-conformance` without default features compiles no axum; `cargo
//!      install --path crates/conformance` runs the whole suite from a scratch directory against
//!      its embedded emulator and against `callspec emulator`; the three crates package, and the
//!      packaged runner builds from its own contents and runs the suite;
//!   6. `cargo xtask faults`: every emulator fault must be caught;
//!   7. `cargo xtask variance`: every case must PASS (or SKIP) against the emulator in variance
//!      mode under each of 5 seeds, and `cargo xtask poor`: no case may FAIL or ERROR under a
//!      profile that declares less than the emulator can do (the suite runs of 6 and 7 share one
//!      job pool; all judge before the step fails);
//!   8. `cargo xtask mutants --sample 16`: the control run through the mutating proxy, then 16
//!      mutants evenly spread over the reachable ones; a survivor needs its documented reason;
//!   9. `callspec sdk` with the official SDKs' drivers, unmodified twilio-python
//!      (`drivers/python/driver.py`, from the venv of `python_sdk`) and twilio-node
//!      (`drivers/node/driver.js`): the SDK gate (`sdk_gate`, `docs/sdk-driver.md`);
//!  10. report.html in headless Chromium (`html_check`; Debian's `chromium`, installed with apt
//!      where missing and we are root, else skipped loudly): the counts, a failing case's pointer
//!      and expected value, the callbacks in arrival order, a target's `<script>` not run, and a
//!      screenshot of the failing callbacks case's timeline in `target/html-check`;
//!  11. the payload schemas under Python's `jsonschema` with no format checker: the patterns alone hold.
//! - `cargo xtask conform [--target URL --profile FILE] [--report-dir DIR] [ARGS]`: `callspec`.
//! - `cargo xtask emulator [EMULATOR ARGS]`: run the reference emulator.
//! - `cargo xtask snapshots [--check]`: regenerate the golden snapshots (`callspec
//!   --update-snapshots`), or check them (`CI=true callspec`: nothing written, a difference FAILs).
//! - `cargo xtask faults`: the suite once per emulator fault; every fault must be caught.
//! - `cargo xtask variance [--seeds N]`: the suite once per seed against the emulator in variance
//!   mode (`callspec --variance SEED`); every case must PASS (or SKIP) under every seed.
//! - `cargo xtask poor`: the suite under the poor profiles; no FAIL, no ERROR, every SKIP with its reason.
//! - `cargo xtask bench emulator|suite|pacing|load`: the benchmarks (never part of `ci`).
//! - `cargo xtask package [--verify]`, `cargo xtask install-check`: the installed path (`package.rs`).
//! - `cargo xtask load [LOAD FLAGS]`: the load check of `ci` (`load`).
//! - `cargo xtask mutants [--sample N] [-j N] [ID-PREFIX...]`: response and webhook mutation from
//!   the contract (`mutants/`); the full run writes `docs/mutation.md`.
//! - `cargo xtask html-check`: step 10 of `ci` alone.
//! - `cargo xtask sdk`: `callspec sdk` with the official SDKs' drivers (`sdk_gate`), step 9 alone.

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

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
mod bench_pacing;
mod faults;
mod html_check;
mod load;
mod mutants;
mod package;
mod pool;
mod poor;
mod python_sdk;
mod schema_check;
mod sdk_gate;
mod served;
mod snapshots;
mod variance;

/// The suite runs of one pool: the fault-free run first (the faults are judged against it), then
/// the variance runs, then the fault runs.
fn one_pool(mut fault_runs: Vec<pool::SuiteRun>, variance_runs: Vec<pool::SuiteRun>) -> Vec<pool::SuiteRun> {
    let rest = fault_runs.split_off(fault_runs.len().min(1));
    fault_runs.into_iter().chain(variance_runs).chain(rest).collect()
}

/// Steps 5 and 6 of `ci`: the fault runs and the variance runs in one job pool, then each judged
/// (both tables print; either failing fails the step).
#[allow(clippy::print_stderr, reason = "xtask reports progress on stderr")]
fn faults_and_variance() -> Result<(), String> {
    let root = root();
    eprintln!("\n==> xtask: fault injection (every emulator fault must make a case FAIL) and variance (every case");
    eprintln!("    must PASS against the emulator in variance mode, under every seed), in one job pool");
    let bin = pool::build_callspec(&root, &mut cargo(), "faults")?;
    let faults = faults::plan(&root, &bin, &[])?;
    let variance = variance::plan(&root, variance::default_seeds())?;
    let poor = poor::plan(&root)?;
    let mut runs = one_pool(faults.runs(), variance.runs());
    // The poor-profile runs pace every create at 1 CPS on one account, so they are the longest:
    // they start first.
    runs.splice(0..0, poor.runs());
    let (jobs, _) = pool::parse_jobs("ci", &[])?;
    eprintln!("==> xtask: {} suite runs, {jobs} at a time", runs.len());
    let started = Instant::now();
    let count = runs.len();
    let results = pool::run_all(&bin, &root, runs, jobs);
    let summary = faults::PoolSummary { runs: count, jobs, wall: started.elapsed() };
    let verdicts =
        [faults.judge(&results, &summary), variance.judge(&results, &summary), poor.judge(&results, &summary)];
    let errors: Vec<String> = verdicts.into_iter().filter_map(Result::err).collect();
    if errors.is_empty() { Ok(()) } else { Err(errors.join("\n")) }
}

#[allow(clippy::print_stderr, reason = "xtask reports progress on stderr")]
fn ci() -> Result<(), String> {
    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--check"]);
    step("cargo fmt --check", fmt)?;
    let mut clippy = cargo();
    clippy.args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]);
    step("cargo clippy -D warnings", clippy)?;
    // The suite (`crates/conformance/tests/suite.rs`) runs whole here, so the runner itself also
    // compares every golden snapshot (a difference FAILs its case), refuses orphaned snapshots
    // and, told by CALLSPEC_REQUIRE_COVERAGE, a requirement without a case (exit 2 for both).
    let mut test = cargo();
    test.args(["test", "--workspace"])
        .env("CALLSPEC_REPORT_DIR", root().join("target/conform"))
        .env("CALLSPEC_COVERAGE", "1")
        .env("CALLSPEC_REQUIRE_COVERAGE", "1");
    step("cargo test --workspace (the conformance suite included, with its coverage and snapshot gates)", test)?;
    // Before the job pool, so the load has the machine to itself.
    load::check(&root(), &[])?;
    package::ci(&root(), cargo)?;
    faults_and_variance()?;
    let sample = mutants::CI_SAMPLE.to_string();
    mutants::run(&root(), &mut cargo(), &["--sample".to_owned(), sample])?;
    eprintln!("\n==> xtask: callspec sdk with the official SDKs' drivers (twilio-python, twilio-node)");
    sdk_gate::check(&root(), &mut cargo())?;
    eprintln!("\n==> xtask: report.html in headless Chromium");
    html_check::check(&root(), &mut cargo())?;
    schema_check::check(&root())?;
    Ok(())
}

fn forward(package: &str, bin: &str, args: &[String]) -> Result<(), String> {
    // `cargo xtask emulator -- --listen …` and `cargo xtask emulator --listen …` mean the same.
    let args = args.strip_prefix(&["--".to_owned()]).unwrap_or(args);
    let mut cmd = cargo();
    cmd.args(["run", "--quiet", "--package", package, "--bin", bin, "--"]).args(args);
    let status = cmd.status().map_err(|e| format!("cannot start cargo: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("exit {}", status.code().unwrap_or(1))) }
}

/// `conform`'s arguments with `--root` this checkout in front (contributors run the files they
/// edit, and pending snapshots need a directory), unless they give one or another command.
fn with_root(args: &[String]) -> Vec<String> {
    let args = args.strip_prefix(&["--".to_owned()]).unwrap_or(args);
    let (command, rest) = match args.split_first() {
        Some((c, _)) if c == "init" || c == "emulator" || c == "sdk" || args.iter().any(|a| a == "--root") => {
            return args.to_vec();
        }
        Some((c, r)) if c == "run" => (vec![c.clone()], r),
        _ => (Vec::new(), args),
    };
    let root = ["--root".to_owned(), root().display().to_string()];
    command.into_iter().chain(root).chain(rest.iter().cloned()).collect()
}

const HELP: &str = "\
cargo xtask <COMMAND>

COMMANDS:
    ci                      what CI runs, in order, stopping at the first failure:
                              1. cargo fmt --all --check
                              2. cargo clippy --workspace --all-targets -- -D warnings
                              3. cargo test --workspace: every test and the whole conformance suite
                                 against the reference emulator (reports in target/conform), which
                                 also fails on a snapshot that differs, an orphaned snapshot and a
                                 requirement without a case
                              4. load (below): 300 calls from 30 clients, every callback checked
                              5. the installed path: the example crate's gate fails against a faulty
                                 emulator; no axum without the runner's default features;
                                 install-check; package (below)
                              6. faults (below): every emulator fault must be caught
                              7. variance (below), 5 seeds, and poor (below); their suite runs share
                                 one job pool with 6's
                              8. mutants --sample 16: the control run and 16 mutants
                              9. sdk (below): callspec sdk with the twilio-python and
                                 twilio-node drivers
                             10. html-check (below)
                             11. the payload schemas under Python's jsonschema, patterns only
    conform [ARGS]          run the conformance suite on this checkout's files (callspec --root .;
                            see `cargo xtask conform --help`)
    emulator [ARGS]         run the reference emulator (see `cargo xtask emulator --help`)
    faults [-j N] [NAME...] run the suite once per emulator fault (--fault); each must make a case FAIL
                            (or the preflight refuse the target)
    variance [--seeds N] [-j N] [SEED...]
                            run the suite once per seed (default 1..5) against the emulator in
                            variance mode (callspec --variance SEED: within Twilio's docs and observed
                            behaviour, not the tidiest reading); every case must PASS (or SKIP) under
                            every seed
    poor                    run the suite under profiles that declare less than the emulator can do
                            (fixtures/targets/reference-emulator-poor.toml); no case may FAIL or
                            ERROR, every SKIP must give its reason
    load [LOAD FLAGS]       300 calls from 30 clients over 5 subaccounts against the debug emulator
                            binary, with busy, no-answer, failed and canceled callees and one account's
                            receivers slow, failing, hanging or refusing: every call must end, every
                            callback arrive once, in order, validly signed, and the bad receivers slow
                            no other account (`--help` of crates/emulator/examples/load lists the flags)
    mutants [--sample N] [-j N] [ID-PREFIX...]
                            mutate API responses and webhooks through a proxy, every mutant generated
                            from schemas/*.json and the webhook parameter lists (a control run through
                            the proxy first, which must pass); each fired mutant must make a case FAIL
                            or have a documented reason; the full run writes docs/mutation.md
    bench emulator|suite|pacing|load
                            measure the emulator (release: creates/s, latency, bytes per stored call),
                            the suite's wall time (median of 5), the suite without subaccounts
                            (at 1 CPS; against calls that never leave ringing), or the load above at
                            2,000 calls from 100 clients against the release build (calls, callbacks,
                            time to drain, peak RSS); never part of ci
    package [--verify]      stage the suite into crates/conformance/suite, cargo package the three
                            crates (--no-verify unless --verify), print their sizes and file counts,
                            build the packaged runner from its contents and run the suite with it
    install-check           cargo install --path crates/conformance (debug) into a scratch root; the
                            installed callspec runs the suite from a scratch dir against its embedded
                            emulator and against `callspec emulator` (--target)
    html-check              render the report.html of a run with PASS, FAIL, SKIP and ERROR cases in
                            headless Chromium (Debian's chromium, apt-installed when missing and
                            root, else skipped loudly) and check its DOM: counts, a failure's pointer
                            and expected value, callbacks in arrival order, a target's <script> not
                            run; saves target/html-check/timeline-failing-callbacks.png
    sdk                     callspec sdk with the official SDKs' drivers (drivers/python, its
                            known failures in drivers/python/known-failures.toml); reports in
                            target/sdk/<driver>
    snapshots [--check]     regenerate every golden snapshot from the reference emulator and remove
                            orphans (callspec --update-snapshots); with --check, write nothing and
                            fail when any would change or is orphaned
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
        "conform" => forward("callspec-conformance", "callspec", &with_root(rest)),
        "emulator" => forward("callspec-emulator", "callspec-emulator", rest),
        "bench" => bench::run(rest),
        "faults" => faults::run(&root(), &mut cargo(), rest),
        "variance" => variance::run(&root(), &mut cargo(), rest),
        "poor" => poor::run(&root(), &mut cargo()),
        "package" => package::package(&root(), cargo, rest.iter().any(|a| a == "--verify")),
        "install-check" => package::install_check(&root(), cargo()),
        "load" => load::check(&root(), rest),
        "mutants" => mutants::run(&root(), &mut cargo(), rest),
        "html-check" => html_check::check(&root(), &mut cargo()),
        "sdk" => sdk_gate::check(&root(), &mut cargo()),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conform_reads_the_checkout_unless_told_otherwise() {
        let args = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<String>>();
        let root = root().display().to_string();
        assert_eq!(with_root(&args(&["-q"])), args(&["--root", &root, "-q"]));
        assert_eq!(with_root(&args(&["--", "run", "seed::"])), args(&["run", "--root", &root, "seed::"]));
        assert_eq!(with_root(&args(&["init", "--target", "u"])), args(&["init", "--target", "u"]));
        assert_eq!(with_root(&args(&["--root", "/x"])), args(&["--root", "/x"]));
    }

    #[test]
    fn one_pool_starts_with_the_fault_free_run_then_variance() {
        let run = |label: &str| pool::SuiteRun { label: label.into(), dir: PathBuf::from(label), args: Vec::new() };
        let faults = vec![run("no-fault"), run("create-200"), run("sid-31-hex")];
        let labels: Vec<String> =
            one_pool(faults, vec![run("variance 1"), run("variance 2")]).into_iter().map(|r| r.label).collect();
        assert_eq!(labels, ["no-fault", "variance 1", "variance 2", "create-200", "sid-31-hex"]);
        assert_eq!(one_pool(Vec::new(), vec![run("variance 1")]).len(), 1);
    }
}
