//! Self-tests of the conformance crate, one binary: the repository's citations, the case format
//! and its schema, the JSON Schemas, the reports, golden snapshots (and a target's own snapshot
//! directory, through the binary), the runner against
//! deliberately wrong targets (each check kind must FAIL with a useful message, with its own
//! requirement and kind; hostile targets end in FAIL or ERROR, never a panic or a hang), verdicts
//! at check granularity, pacing (CPS slots, poll back-off, the request budget), the `callspec`
//! binary as a CI gate, and the callback sink under floods, oversized bodies and injected requests.

mod citations;
mod command;
mod event_schema;
mod fake;
mod fixture_format;
mod golden;
mod hostile;
mod html;
mod init;
mod pacing;
mod profiles;
mod recording_schema;
mod reports;
mod schema_patterns;
mod schemas;
mod sdk;
mod sink;
mod snapshot_dirs;
mod verdicts;
mod wrong_targets;
