//! The official twilio Python SDK against the reference emulator: the SDK is installed into a
//! venv under `target/`, unmodified, and `xtask/python/sdk_check.py` drives it.

use crate::served::Served;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The SDK version the check installs; bump it deliberately.
pub(crate) const TWILIO_SDK: &str = "twilio==9.13.0";

/// The emulator's seeded main account (see `crates/emulator/src/seed.rs`).
const ACCOUNT_SID: &str = "ACc0ffee00000000000000000000000001";
const AUTH_TOKEN: &str = "c0ffee00c0ffee00c0ffee00c0ffee00";
const FROM: &str = "+15017122661";

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

/// Installs the SDK (once), starts the emulator binary, runs the check script.
pub(crate) fn check(root: &Path, cargo: &mut Command) -> Result<(), String> {
    let python = venv_python(root, TWILIO_SDK)?;
    run("cargo build -p callspec-emulator", cargo.args(["build", "--quiet", "-p", "callspec-emulator"]))?;

    let emulator = Served::start(&root.join("target/debug/callspec-emulator"), &[], &["--ring-ms", "100"])?;
    run(
        "python SDK check",
        Command::new(&python).arg(root.join("xtask/python/sdk_check.py")).args([
            &emulator.base_url,
            ACCOUNT_SID,
            AUTH_TOKEN,
            FROM,
        ]),
    )
}
