//! Self-tests of the conformance crate: its own machinery checked against literal expectations, with no target.

mod reports;
mod schemas;
mod wrong_targets;
