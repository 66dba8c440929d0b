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
//!
//! Tests: `tests/selftest` runs the harness against deliberately wrong targets; `tests/suite.rs`
//! runs the whole suite against the embedded reference emulator.

pub mod baseline;
pub mod cli;
pub mod client;
pub mod error;
pub mod fixture;
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
pub mod sink;
pub mod snapshot;
pub mod suite;
pub mod template;
