//! `cargo xtask package` and `cargo xtask install-check`: the installed path, checked.
//!
//! - `package [--verify]`: stages the suite (`fixtures/`, `schemas/`) in
//!   `crates/conformance/suite/` (the build script embeds it from there in a packaged crate),
//!   runs one `cargo package` for `callspec-model`, `callspec-emulator` and
//!   `callspec-conformance` (`--no-verify` unless `--verify`: the full verify rebuilds every
//!   dependency from scratch), removes the staged copy, prints each package's size and file
//!   count, then builds the packaged runner from its own contents (unpacked outside the
//!   repository, the other two packages patched in, this target directory reused) and runs the
//!   whole suite with it from a scratch directory.
//! - `install-check`: `cargo install --path crates/conformance --debug` into a scratch root
//!   (this target directory reused), then from a scratch directory outside the repository the
//!   installed `callspec` runs the whole suite against its embedded emulator, and again against
//!   a separately started `callspec emulator` via `--target`. Both must exit 0.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[allow(dead_code, unreachable_pub, reason = "shared with the runner; xtask uses the file selection")]
#[path = "../../crates/conformance/src/suite/files.rs"]
mod files;

/// The published crates, in dependency order.
const CRATES: [&str; 3] = ["callspec-model", "callspec-emulator", "callspec-conformance"];

fn target_dir(root: &Path) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));
    if target.is_absolute() { target } else { root.join(target) }
}

/// A fresh directory under the system's temporary directory (outside the repository).
fn scratch(name: &str) -> Result<PathBuf, String> {
    let dir = std::env::temp_dir().join(format!("callspec-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}

fn run(what: &str, cmd: &mut Command) -> Result<(), String> {
    let status = cmd.status().map_err(|e| format!("{what}: cannot start: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("{what}: failed ({status})")) }
}

/// Copies the suite's files (as the build script selects them) into `crates/conformance/suite`.
fn stage(root: &Path) -> Result<PathBuf, String> {
    let staged = root.join("crates/conformance/suite");
    let _ = std::fs::remove_dir_all(&staged);
    for rel in files::walk(root).map_err(|e| format!("cannot list the suite: {e}"))? {
        let to = staged.join(&rel);
        if let Some(dir) = to.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        std::fs::copy(root.join(&rel), &to).map_err(|e| format!("cannot stage {rel}: {e}"))?;
    }
    Ok(staged)
}

/// `cargo xtask package [--verify]`.
#[allow(clippy::print_stderr, reason = "xtask reports on stderr")]
pub(crate) fn package(root: &Path, cargo: impl Fn() -> Command, verify: bool) -> Result<(), String> {
    let staged = stage(root)?;
    let mut cmd = cargo();
    cmd.args(["package", "--allow-dirty", "--quiet"]);
    for krate in CRATES {
        cmd.args(["-p", krate]);
    }
    if !verify {
        cmd.arg("--no-verify");
    }
    let packaged = run("cargo package", &mut cmd).and_then(|()| {
        CRATES.iter().map(|k| list(root, &cargo, k).map(|n| (*k, n))).collect::<Result<Vec<_>, String>>()
    });
    // The staged copy must not outlive the packaging: a checkout embeds its own files.
    let _ = std::fs::remove_dir_all(&staged);
    let counts = packaged?;
    let dir = target_dir(root).join("package");
    for (krate, files) in &counts {
        let file = dir.join(format!("{krate}-{}.crate", env!("CARGO_PKG_VERSION")));
        let size = std::fs::metadata(&file).map_err(|e| format!("{}: {e}", file.display()))?.len();
        eprintln!("xtask: {krate}: {} ({size} bytes, {:.0} KiB), {files} files", file.display(), size as f64 / 1024.0);
    }
    build_packaged(root, &dir)
}

/// How many files `cargo package --list` puts in a crate (the suite staged).
fn list(root: &Path, cargo: &impl Fn() -> Command, krate: &str) -> Result<usize, String> {
    let out = cargo()
        .current_dir(root)
        .args(["package", "--list", "--allow-dirty", "-p", krate])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cargo package --list: {e}"))?;
    if !out.status.success() {
        return Err(format!("cargo package --list -p {krate} failed"));
    }
    Ok(String::from_utf8_lossy(&out.stdout).lines().filter(|l| !l.trim().is_empty()).count())
}

/// Unpacks the three crates outside the repository and builds the runner from its package,
/// then runs the whole suite with it.
#[allow(clippy::print_stderr, reason = "xtask reports on stderr")]
fn build_packaged(root: &Path, dir: &Path) -> Result<(), String> {
    let unpacked = scratch("packaged")?;
    let version = env!("CARGO_PKG_VERSION");
    for krate in CRATES {
        let file = dir.join(format!("{krate}-{version}.crate"));
        run("tar", Command::new("tar").arg("-xzf").arg(&file).arg("-C").arg(&unpacked))?;
    }
    let runner = unpacked.join(format!("callspec-conformance-{version}"));
    let mut build = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    build
        .current_dir(&runner)
        .args(["build", "--offline", "--bin", "callspec"])
        .env("CARGO_TARGET_DIR", target_dir(root));
    // The workspace's dev profile, so the dependencies built for the workspace are reused.
    build.args([
        "--config",
        "profile.dev.debug=\"line-tables-only\"",
        "--config",
        "profile.dev.package.\"*\".opt-level=1",
    ]);
    for krate in &CRATES[..2] {
        let path = unpacked.join(format!("{krate}-{version}"));
        build.arg("--config").arg(format!("patch.crates-io.{krate}.path={:?}", path.display().to_string()));
    }
    eprintln!("\n==> xtask: building callspec-conformance from its package ({})", runner.display());
    run("cargo build (the packaged runner)", &mut build)?;
    let bin = target_dir(root).join("debug").join(format!("callspec{}", std::env::consts::EXE_SUFFIX));
    let scratch_dir = scratch("packaged-run")?;
    eprintln!("==> xtask: the packaged runner's whole suite, from {}", scratch_dir.display());
    let result = run("callspec (packaged)", Command::new(&bin).current_dir(&scratch_dir).args(["-q", "--no-coverage"]));
    let _ = std::fs::remove_dir_all(&unpacked);
    let _ = std::fs::remove_dir_all(&scratch_dir);
    result
}

/// `cargo xtask install-check`.
#[allow(clippy::print_stderr, reason = "xtask reports on stderr")]
pub(crate) fn install_check(root: &Path, mut cargo: Command) -> Result<(), String> {
    let prefix = scratch("install")?;
    let work = scratch("install-run")?;
    cargo
        .args(["install", "--quiet", "--debug", "--locked", "--offline", "--path"])
        .arg(root.join("crates/conformance"))
        .arg("--root")
        .arg(&prefix)
        .arg("--target-dir")
        .arg(target_dir(root));
    eprintln!("\n==> xtask: cargo install --path crates/conformance --root {} --debug", prefix.display());
    run("cargo install", &mut cargo)?;
    let bin = prefix.join("bin").join(format!("callspec{}", std::env::consts::EXE_SUFFIX));
    run("callspec --version", Command::new(&bin).current_dir(&work).arg("--version"))?;
    eprintln!(
        "==> xtask: the installed callspec, from {}: the whole suite against its embedded emulator",
        work.display()
    );
    run("callspec (embedded emulator)", Command::new(&bin).current_dir(&work).args(["-q", "--no-coverage"]))?;
    let result = against_served(&bin, &work, root);
    let _ = std::fs::remove_dir_all(&prefix);
    let _ = std::fs::remove_dir_all(&work);
    result
}

/// Starts `callspec emulator` on a free port, runs the whole suite against it with `--target`,
/// and stops it.
#[allow(clippy::print_stderr, reason = "xtask reports on stderr")]
fn against_served(bin: &Path, work: &Path, root: &Path) -> Result<(), String> {
    let emulator = crate::served::Served::start(bin, &["emulator"], &crate::served::REFERENCE_PROFILE_FLAGS)?;
    eprintln!("==> xtask: the installed callspec against `callspec emulator` at {}", emulator.base_url);
    let profile = root.join("fixtures/targets/reference-emulator.toml");
    run(
        "callspec --target (callspec emulator)",
        Command::new(bin)
            .current_dir(work)
            .args(["-q", "--no-coverage", "--target", &emulator.base_url, "--profile"])
            .arg(profile),
    )
}

/// `ci`'s checks of the installed path, after `cargo test --workspace` (which ran the example
/// gate green): the example gate fails against a faulty emulator, the runner without its
/// emulator compiles no axum, the installed binary runs the suite both ways, the crates package.
#[allow(clippy::print_stderr, reason = "xtask reports on stderr")]
pub(crate) fn ci(root: &Path, cargo: impl Fn() -> Command) -> Result<(), String> {
    eprintln!("\n==> xtask: the example's cargo test gate must fail against an emulator with a fault");
    let status = cargo()
        .args(["test", "--quiet", "-p", "callspec-example-gate", "--test", "conformance", "--", "-q"])
        .env("CALLSPEC_EXAMPLE_FAULT", "create-200")
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("cannot start cargo: {e}"))?;
    if status.success() {
        return Err("the example gate passed against an emulator with the fault create-200".into());
    }
    eprintln!("==> xtask: it failed ({status}), as it must");
    let tree = cargo()
        .args(["tree", "-p", "callspec-conformance", "--no-default-features", "-e", "normal", "--offline"])
        .output()
        .map_err(|e| format!("cannot start cargo tree: {e}"))?;
    let text = String::from_utf8_lossy(&tree.stdout);
    if !tree.status.success() || text.lines().any(|l| l.contains(" axum ")) {
        return Err("cargo tree -p callspec-conformance --no-default-features -e normal shows axum (or failed)".into());
    }
    eprintln!("==> xtask: callspec-conformance without its default features depends on no axum");
    install_check(root, cargo())?;
    eprintln!("\n==> xtask: cargo package (--no-verify; the packaged runner is built from its contents below)");
    package(root, cargo, false)
}
