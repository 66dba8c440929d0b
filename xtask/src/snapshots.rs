//! `cargo xtask snapshots [--check]`: regenerate every golden snapshot from the reference
//! emulator, or check that none would change.
//!
//! Both run the whole suite against the embedded reference emulator; the runner owns the
//! snapshots (which file belongs to which case, what is orphaned), xtask only sequences:
//!
//! - `cargo xtask snapshots`: `callspec --update-snapshots --no-coverage -q` rewrites every golden
//!   that differs or is missing and removes orphaned ones (no case); xtask then removes the
//!   `.snap.new` files earlier runs left for review, which the rewritten goldens supersede.
//! - `cargo xtask snapshots --check`: `callspec --no-coverage -q` with `CI=true`, so the run
//!   writes nothing: a snapshot that differs FAILs its case (exit 1), an orphaned one fails the
//!   run (exit 2).

use std::path::{Path, PathBuf};
use std::process::Command;

/// Files under `dir` whose name ends with `suffix`.
fn files(dir: &Path, suffix: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, suffix, out);
        } else if path.to_string_lossy().ends_with(suffix) {
            out.push(path);
        }
    }
}

/// Runs the whole suite against the embedded emulator with snapshots on.
fn run_suite(cargo: &mut Command, extra: &[&str]) -> Result<(), String> {
    let status = cargo
        .args(["run", "--quiet", "-p", "callspec-conformance", "--bin", "callspec", "--"])
        // The checkout's suite: the embedded one is read-only.
        .arg("--root")
        .arg(super::root())
        .args(extra)
        .args(["--no-coverage", "-q"])
        .status()
        .map_err(|e| format!("cannot run the suite: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("the suite failed ({status})")) }
}

/// Regenerates (`check == false`) or checks (`check == true`) every snapshot.
#[allow(clippy::print_stderr, reason = "xtask reports progress on stderr")]
pub(crate) fn run(root: &Path, cargo: &mut Command, check: bool) -> Result<(), String> {
    if check {
        run_suite(cargo.env("CI", "true"), &[])?;
        eprintln!("==> xtask: every snapshot matches its case and belongs to one");
        return Ok(());
    }
    run_suite(cargo, &["--update-snapshots"])?;
    let mut pending = Vec::new();
    files(&root.join("fixtures/snapshots"), ".snap.new", &mut pending);
    for path in pending {
        std::fs::remove_file(&path).map_err(|e| format!("cannot remove {}: {e}", path.display()))?;
        eprintln!("removed {}", path.strip_prefix(root).unwrap_or(&path).display());
    }
    eprintln!("snapshots regenerated from the reference emulator; review them with `git diff fixtures/snapshots`");
    Ok(())
}
