//! `cargo xtask load [LOAD FLAGS]` and `cargo xtask bench load [LOAD FLAGS]`: the emulator under
//! many concurrent calls (`crates/emulator/examples/load`), every call and callback checked.
//!
//! - `load` (also step 4 of `cargo xtask ci`): the check sized for 2 cores, 300 calls from 30
//!   clients over 5 subaccounts, against the debug `callspec-emulator` binary;
//! - `bench load`: the full size, 2,000 calls from 100 clients over 5 subaccounts at 50 CPS,
//!   against the release binary, with the machine and its load average printed for docs/benchmarks.md.
//!
//! Both fail when the load program finds a violation (exit 1) or cannot run (exit 2). Flags given
//! after the command go to the load program and override these (`--help` lists them).

use std::path::Path;
use std::process::Command;

/// The CI-sized load.
const CI_SIZE: [&str; 6] = ["--calls", "300", "--clients", "30", "--accounts", "5"];

/// The full-sized load, its queues drained twice as fast so they stay as long as CI's.
const BENCH_SIZE: [&str; 8] = ["--calls", "2000", "--clients", "100", "--accounts", "5", "--cps", "50"];

/// Builds the emulator and the load program in `profile` and runs the load with `size`, then `args`.
#[allow(clippy::print_stderr, reason = "xtask reports progress on stderr")]
fn load(root: &Path, release: bool, size: &[&str], args: &[String]) -> Result<(), String> {
    // `--workspace` resolves features as `cargo test --workspace` does, so after it nothing is rebuilt
    // but the two targets.
    let mut build = vec!["build", "--workspace", "--bin", "callspec-emulator", "--example", "load"];
    if release {
        build.push("--release");
    }
    crate::bench::build(&build)?;
    let dir = crate::bench::target_dir(root).join(if release { "release" } else { "debug" });
    let what = if release { "bench load (release)" } else { "load check (debug)" };
    eprintln!("\n==> xtask: {what} on {} (load average {})", crate::bench::machine(), crate::bench::loadavg());
    let mut program = Command::new(dir.join("examples/load"));
    program.current_dir(root).arg("--emulator").arg(dir.join("callspec-emulator")).args(size).args(args);
    let status = program.status().map_err(|e| format!("cannot start the load program: {e}"))?;
    match status.code() {
        Some(0) => Ok(()),
        Some(1) => Err("load: the emulator lost, duplicated or misordered something (violations above)".into()),
        _ => Err(format!("load: the load could not run ({status})")),
    }
}

/// `cargo xtask load [FLAGS]`, and step 4 of `ci` with no flags.
pub(crate) fn check(root: &Path, args: &[String]) -> Result<(), String> {
    load(root, false, &CI_SIZE, args)
}

/// `cargo xtask bench load [FLAGS]`.
pub(crate) fn bench(root: &Path, args: &[String]) -> Result<(), String> {
    load(root, true, &BENCH_SIZE, args)
}
