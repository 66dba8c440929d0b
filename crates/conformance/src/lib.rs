//! callspec's conformance runner for Twilio's Calls API: fixtures, callback sink, checks and reports.
//!
//! - [`fixture`]: the case file format and loading; [`requirements`]: the requirement catalog.
//! - [`profile`]: target profiles, capabilities and known failures.
//! - [`runner`]: running a case (setup, steps, checks, verdict) into a [`outcome::CaseResult`].
//! - [`preflight`]: proving the target is up and accepts the credentials before any case.
//! - [`baseline`]: writing a target's known failures from a run.
//! - [`sink`]: the callback sink that serves TwiML and records the target's requests.
//! - [`client`]: requests to the target with deadlines, size caps and curl repros.
//! - [`pace`]: spacing creates at a declared CPS and requests under a budget; poll back-off.
//! - [`matcher`], [`template`], [`schema`]: the checks' building blocks.
//! - [`snapshot`]: golden snapshots, normalized by meaning, compared by JSON pointer.
//! - [`report`]: report.json, JUnit, summary.md and the coverage tables.
//! - [`cli`]: the `callspec` command and the `cargo test` entry point.
//! - [`Gate`]: the Rust API, the suite from a project's own `cargo test` against its server.
//! - [`suite`]: the suite's files, embedded at build time or read from a checkout (`--root`).
//!
//! Feature `emulator` (default): the reference emulator inside the runner (a run without a
//! target, `--fault`, `--variance`, `callspec emulator`). Without it no axum is compiled, and a
//! run needs a target.
//!
//! Tests: `tests/selftest` runs the harness against deliberately wrong targets; `tests/suite.rs`
//! runs the whole suite against the embedded reference emulator.

pub mod baseline;
pub mod cli;
pub mod client;
pub mod error;
pub mod fixture;
mod gate;
pub mod matcher;
pub mod needs;
pub mod outcome;
pub mod pace;
pub mod preflight;
pub mod profile;
pub mod report;
pub mod requirements;
pub mod runner;
pub mod schema;
pub mod sdk;
pub mod sink;
pub mod snapshot;
pub mod suite;
pub mod template;

pub use gate::Gate;
