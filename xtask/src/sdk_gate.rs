//! `callspec sdk` with the official SDKs' drivers under `drivers/`: the twilio-python driver runs
//! with the SDK from the venv of `python_sdk` (`target/py-sdk`), with its documented known
//! failures (`drivers/python/known-failures.toml`); the reports go to `target/sdk/<driver>`.

use crate::python_sdk::{TWILIO_SDK, run, venv_python};
use std::path::Path;
use std::process::Command;

/// A path quoted for `sh -c`.
fn quoted(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', "'\\''"))
}

/// Builds `callspec`, then gates twilio-python through its driver.
pub(crate) fn check(root: &Path, cargo: &mut Command) -> Result<(), String> {
    let python = venv_python(root, TWILIO_SDK)?;
    run(
        "cargo build -p callspec-conformance --bin callspec",
        cargo.args(["build", "--quiet", "-p", "callspec-conformance", "--bin", "callspec"]),
    )?;
    let driver = format!("{} {}", quoted(&python), quoted(&root.join("drivers/python/driver.py")));
    run(
        "callspec sdk --driver drivers/python/driver.py (twilio-python)",
        Command::new(root.join("target/debug/callspec"))
            .args(["sdk", "--no-coverage", "--driver", &driver, "--known-failures"])
            .arg(root.join("drivers/python/known-failures.toml"))
            .arg("--report-dir")
            .arg(root.join("target/sdk/python"))
            .current_dir(root),
    )
}
