//! Self-tests of the conformance crate, one binary: the repository's citations, the case format
//! and its schema, the JSON Schemas, the reports, golden snapshots, and the runner against
//! deliberately wrong targets (each check kind must FAIL with a useful message; hostile targets
//! end in FAIL or ERROR, never a panic or a hang).

mod citations;
mod fixture_format;
mod golden;
mod reports;
mod schemas;
mod wrong_targets;
