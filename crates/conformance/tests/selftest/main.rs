//! Self-tests of the conformance crate, one binary: the JSON Schemas, the reports, golden
//! snapshots, and the runner against deliberately wrong targets (each check kind must FAIL
//! with a useful message; hostile targets end in FAIL or ERROR, never a panic or a hang).

mod command;
mod fake;
mod golden;
mod hostile;
mod reports;
mod schemas;
mod verdicts;
mod wrong_targets;
