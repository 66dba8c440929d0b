//! The Python venv under `target/py-sdk` that `cargo xtask ci` shares: the official twilio
//! Python SDK, unmodified, is installed there for its `callspec sdk` driver
//! (`drivers/python/driver.py`, run by `sdk_gate`), and jsonschema for `schema_check`. The SDK's
//! checks are the `callspec sdk` scenarios (`docs/sdk-driver.md`); no script of its own.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The SDK version the gate installs; bump it deliberately.
pub(crate) const TWILIO_SDK: &str = "twilio==9.13.0";

pub(crate) fn run(what: &str, cmd: &mut Command) -> Result<(), String> {
    let status = cmd.status().map_err(|e| format!("{what}: cannot start: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("{what}: failed ({status})")) }
}

/// The venv's python under `target/py-sdk` (created when missing), with `requirement` installed.
pub(crate) fn venv_python(root: &Path, requirement: &str) -> Result<PathBuf, String> {
    let venv = root.join("target/py-sdk");
    let python = venv.join("bin/python");
    if !python.exists() {
        run("python3 -m venv target/py-sdk", Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    }
    run(
        &format!("pip install {requirement}"),
        Command::new(&python).args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", requirement]),
    )?;
    Ok(python)
}
