//! `callspec sdk` with the official SDKs' drivers under `drivers/`: the twilio-python driver runs
//! with the SDK from the venv of `python_sdk` (`target/py-sdk`), with its documented known
//! failures (`drivers/python/known-failures.toml`); the twilio-node driver with the SDK npm
//! installs into `target/node-sdk`. The reports go to `target/sdk/<driver>`.

use crate::python_sdk::{TWILIO_SDK, run, venv_python};
use std::path::Path;
use std::process::Command;

/// The twilio-node version the gate installs; bump it deliberately.
const TWILIO_NODE: &str = "twilio@5.10.4";

/// A path quoted for `sh -c`.
fn quoted(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', "'\\''"))
}

/// Builds `callspec`, then gates twilio-python and twilio-node through their drivers.
pub(crate) fn check(root: &Path, cargo: &mut Command) -> Result<(), String> {
    let python = venv_python(root, TWILIO_SDK)?;
    let node_modules = node_sdk(root)?;
    run(
        "cargo build -p callspec-conformance --bin callspec",
        cargo.args(["build", "--quiet", "-p", "callspec-conformance", "--bin", "callspec"]),
    )?;
    let callspec = root.join("target/debug/callspec");
    let driver = format!("{} {}", quoted(&python), quoted(&root.join("drivers/python/driver.py")));
    run(
        "callspec sdk --driver drivers/python/driver.py (twilio-python)",
        Command::new(&callspec)
            .args(["sdk", "--no-coverage", "--driver", &driver, "--known-failures"])
            .arg(root.join("drivers/python/known-failures.toml"))
            .arg("--report-dir")
            .arg(root.join("target/sdk/python"))
            .current_dir(root),
    )?;
    let driver = format!("node {}", quoted(&root.join("drivers/node/driver.js")));
    run(
        "callspec sdk --driver drivers/node/driver.js (twilio-node)",
        Command::new(&callspec)
            .args(["sdk", "--no-coverage", "--driver", &driver, "--report-dir"])
            .arg(root.join("target/sdk/node"))
            .env("NODE_PATH", node_modules)
            .current_dir(root),
    )
}

/// `target/node-sdk/node_modules` with twilio-node installed (npm, when missing or another version).
fn node_sdk(root: &Path) -> Result<std::path::PathBuf, String> {
    let dir = root.join("target/node-sdk");
    let modules = dir.join("node_modules");
    let wanted = TWILIO_NODE.trim_start_matches("twilio@");
    let installed = std::fs::read_to_string(modules.join("twilio/package.json")).unwrap_or_default();
    if !installed.contains(&format!("\"version\": \"{wanted}\"")) {
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let manifest = dir.join("package.json");
        if !manifest.exists() {
            std::fs::write(&manifest, "{\"private\": true}\n")
                .map_err(|e| format!("cannot write {}: {e}", manifest.display()))?;
        }
        run(
            &format!("npm install {TWILIO_NODE} (node and npm are needed for the twilio-node driver)"),
            Command::new("npm").args(["install", "--no-audit", "--no-fund", "--silent", TWILIO_NODE]).current_dir(&dir),
        )?;
    }
    Ok(modules)
}
