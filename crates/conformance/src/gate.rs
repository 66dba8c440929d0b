//! The Rust API: run the suite from a project's own `cargo test`, against a server the test
//! started itself, with libtest's output (one trial per case) and exit code. For emulators and
//! SDK test doubles written in Rust; the command line is the way for everything else.
//!
//! ```no_run
//! // tests/conformance.rs, declared with `[[test]] name = "conformance"`, `harness = false`.
//! fn main() -> std::process::ExitCode {
//!     let base_url = "http://127.0.0.1:8080"; // where the test started its server
//!     callspec_conformance::Gate::new(base_url)
//!         .profile("tests/callspec.toml")
//!         .known_failures("tests/callspec.baseline.toml")
//!         .run()
//! }
//! ```
//!
//! The cases come from the suite embedded in this crate (or [`Gate::root`]); `cargo test
//! NAME`, `--skip`, `--list`, `--test-threads` and `--format` keep their libtest meaning.

use crate::cli::{Options, run_libtest};
use std::path::PathBuf;
use std::process::ExitCode;

/// A conformance run against one target, built step by step and run as libtest trials.
#[derive(Debug, Clone)]
#[must_use = "a Gate does nothing until `run`"]
pub struct Gate {
    options: Options,
    args: Option<libtest_mimic::Arguments>,
}

impl Gate {
    /// A run against the Calls API at `base_url` (e.g. `http://127.0.0.1:8080`).
    pub fn new(base_url: impl Into<String>) -> Gate {
        Gate { options: Options { target: Some(base_url.into()), coverage: false, ..Options::default() }, args: None }
    }

    /// The target's profile (TOML: credentials, numbers, capabilities, known failures); required.
    pub fn profile(mut self, file: impl Into<PathBuf>) -> Gate {
        self.options.profile = Some(file.into());
        self
    }

    /// A baseline file of known failures (the format `callspec --write-baseline` writes), added to
    /// the profile's own. Repeatable.
    pub fn known_failures(mut self, baseline: impl Into<PathBuf>) -> Gate {
        self.options.baselines.push(baseline.into());
        self
    }

    /// Leave out the cases whose name contains `name`. Repeatable.
    pub fn skip(mut self, name: impl Into<String>) -> Gate {
        self.options.skip.push(name.into());
        self
    }

    /// Read the suite from a directory holding `fixtures/` and `schemas/` instead of the
    /// embedded copy (for people editing cases).
    pub fn root(mut self, dir: impl Into<PathBuf>) -> Gate {
        self.options.root = Some(dir.into());
        self
    }

    /// Write report.json, junit.xml, summary.md and the coverage tables to `dir`.
    pub fn report_dir(mut self, dir: impl Into<PathBuf>) -> Gate {
        self.options.report_dir = Some(dir.into());
        self
    }

    /// Compare the target's own snapshots in `dir`: the first run records, later runs FAIL on drift.
    pub fn snapshot_dir(mut self, dir: impl Into<PathBuf>) -> Gate {
        self.options.snapshot_dir = Some(dir.into());
        self
    }

    /// libtest's arguments; by default the process's own (`cargo test -- ARGS`).
    pub fn args(mut self, args: libtest_mimic::Arguments) -> Gate {
        self.args = Some(args);
        self
    }

    /// The run's options, as the command line would build them.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Runs the selected cases as libtest trials and returns the exit code: 0 when every result
    /// is as expected, 1 on a FAIL or XPASS, 2 on a configuration or harness error or a target
    /// that fails the preflight.
    #[allow(clippy::print_stderr, reason = "a test binary reports its configuration error on stderr")]
    pub fn run(self) -> ExitCode {
        if self.options.profile.is_none() {
            eprintln!("callspec: Gate::profile(FILE) is required: it names the target's credentials and numbers");
            return ExitCode::from(2);
        }
        let args = self.args.unwrap_or_else(libtest_mimic::Arguments::from_args);
        run_libtest(self.options, args)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builder_sets_the_run_options() {
        let gate = Gate::new("http://127.0.0.1:9").profile("p.toml").known_failures("b.toml").skip("create::");
        let o = gate.options();
        assert_eq!(o.target.as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!(o.profile, Some(PathBuf::from("p.toml")));
        assert_eq!(o.baselines, [PathBuf::from("b.toml")]);
        assert!(!o.selects("create::001_phone") && o.selects("fetch::001_basic"));
        assert!(o.root.is_none(), "the embedded suite by default");
    }

    #[test]
    fn a_gate_without_a_profile_is_a_configuration_error() {
        let args = libtest_mimic::Arguments::from_iter(["gate"]);
        assert_eq!(Gate::new("http://127.0.0.1:9").args(args).run(), ExitCode::from(2));
    }
}
