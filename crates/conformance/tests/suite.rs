//! The whole conformance suite as a `cargo test` target, against the reference emulator
//! started in-process (or `CALLSPEC_TARGET` with `CALLSPEC_PROFILE`). `CALLSPEC_REPORT_DIR` writes the
//! reports, `CALLSPEC_COVERAGE=1` prints the coverage table, `CALLSPEC_SNAPSHOTS=0` skips snapshots,
//! `CALLSPEC_REQUIRE_COVERAGE=1` fails the run (exit 2) when a requirement has no case.

use callspec_conformance::cli::{Options, default_root, run_libtest};
use std::process::ExitCode;

fn main() -> ExitCode {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let options = Options {
        root: Some(default_root()),
        target: env("CALLSPEC_TARGET"),
        profile: env("CALLSPEC_PROFILE").map(Into::into),
        report_dir: env("CALLSPEC_REPORT_DIR").map(Into::into),
        coverage: env("CALLSPEC_COVERAGE").is_some_and(|v| v == "1"),
        no_snapshots: env("CALLSPEC_SNAPSHOTS").is_some_and(|v| v == "0"),
        require_coverage: env("CALLSPEC_REQUIRE_COVERAGE").is_some_and(|v| v == "1"),
        ..Options::default()
    };
    run_libtest(options, libtest_mimic::Arguments::from_args())
}
