//! Owns the second validator of `schemas/` in `cargo xtask ci`: Python's jsonschema, with no
//! format checker, runs `xtask/python/schema_check.py` so that the patterns alone must accept
//! the docs' example outputs and reject bad SIDs, ISO dates and missing fields.

use std::path::Path;
use std::process::Command;

use crate::python_sdk::{run, venv_python};

/// The jsonschema version the check installs into the venv; bump it deliberately.
const JSONSCHEMA: &str = "jsonschema==4.26.0";

/// Installs jsonschema into the Python SDK's venv (once) and runs the check script.
#[allow(clippy::print_stderr, reason = "xtask reports progress on stderr")]
pub(crate) fn check(root: &Path) -> Result<(), String> {
    eprintln!("\n==> xtask: the schemas' patterns under Python's jsonschema (no format checker)");
    let python = venv_python(root, JSONSCHEMA)?;
    run("python schema check", Command::new(&python).arg(root.join("xtask/python/schema_check.py")).arg(root))
}
