//! Self-tests of the conformance crate: its own machinery checked against literal expectations, with no target.

mod schemas;
mod reports;
mod wrong_targets;
