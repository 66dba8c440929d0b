//! `cargo xtask snapshots [--check]`: regenerate every golden snapshot from the reference
//! emulator, or check that none would change; orphaned snapshots (no case) are removed by the
//! first and reported by the second.

use std::path::{Path, PathBuf};
use std::process::Command;

fn files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, ext, out);
        } else if path.to_string_lossy().ends_with(ext) {
            out.push(path);
        }
    }
}

/// Snapshot files whose case no longer exists: `fixtures/snapshots/<area>/<NNN_slug>.snap`
/// belongs to `fixtures/cases/<area>/<NNN-slug>.json`.
pub(crate) fn orphans(root: &Path) -> Vec<PathBuf> {
    let cases_dir = root.join("fixtures/cases");
    let snaps_dir = root.join("fixtures/snapshots");
    let mut cases = Vec::new();
    files(&cases_dir, ".json", &mut cases);
    let names: Vec<String> = cases
        .iter()
        .filter_map(|c| c.strip_prefix(&cases_dir).ok())
        .map(|rel| rel.with_extension("").to_string_lossy().replace(['-', '.'], "_"))
        .collect();
    let mut snaps = Vec::new();
    files(&snaps_dir, ".snap", &mut snaps);
    snaps
        .into_iter()
        .filter(|s| {
            let rel = s.strip_prefix(&snaps_dir).map(|r| r.with_extension("").to_string_lossy().into_owned());
            rel.is_ok_and(|r| !names.contains(&r))
        })
        .collect()
}

/// Runs the suite against the embedded emulator with snapshots on.
fn run_suite(cargo: &mut Command, update: &str) -> Result<(), String> {
    let status = cargo
        .args(["run", "--quiet", "-p", "callspec-conformance", "--bin", "callspec", "--", "--no-coverage", "-q"])
        .env("INSTA_UPDATE", update)
        .env("INSTA_FORCE_PASS", "0")
        .status()
        .map_err(|e| format!("cannot run the suite: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("the suite failed ({status})")) }
}

/// Regenerates (`check == false`) or checks (`check == true`) every snapshot.
#[allow(clippy::print_stderr, reason = "xtask reports progress on stderr")]
pub(crate) fn run(root: &Path, cargo: &mut Command, check: bool) -> Result<(), String> {
    if check {
        run_suite(cargo.env("CI", "true"), "no")?;
        check_orphans(root)
    } else {
        run_suite(cargo, "always")?;
        let mut pending = Vec::new();
        files(&root.join("fixtures/snapshots"), ".snap.new", &mut pending);
        for path in orphans(root).into_iter().chain(pending) {
            std::fs::remove_file(&path).map_err(|e| format!("cannot remove {}: {e}", path.display()))?;
            eprintln!("removed {}", path.strip_prefix(root).unwrap_or(&path).display());
        }
        eprintln!("snapshots regenerated from the reference emulator; review them with `git diff fixtures/snapshots`");
        Ok(())
    }
}

/// Fails when a snapshot has no case.
#[allow(clippy::print_stderr, reason = "xtask reports progress on stderr")]
pub(crate) fn check_orphans(root: &Path) -> Result<(), String> {
    let orphans = orphans(root);
    if orphans.is_empty() {
        eprintln!("==> xtask: every snapshot belongs to a case");
        return Ok(());
    }
    let list: Vec<String> = orphans.iter().map(|p| p.strip_prefix(root).unwrap_or(p).display().to_string()).collect();
    Err(format!("orphaned snapshots (no case; `cargo xtask snapshots` removes them): {}", list.join(", ")))
}
