//! Embeds the suite (`fixtures/` and `schemas/`) in the crate: lists every suite file, writes
//! `$OUT_DIR/suite_files.rs` (one `include_bytes!` per file, so cargo rebuilds when one
//! changes) and passes the suite's version and hash to the crate as environment variables.
//!
//! The files come from the repository checkout (`../../`) or, in a packaged crate, from the
//! copy `cargo xtask package` staged in `suite/`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[allow(dead_code, unreachable_pub, reason = "shared with the library, which uses all of it")]
#[path = "src/suite/files.rs"]
mod files;

/// Where the suite is: the checkout this crate sits in, else the staged copy.
fn suite_root(manifest_dir: &Path) -> Option<PathBuf> {
    let has_suite = |root: &Path| files::TOP.iter().all(|top| root.join(top).is_dir());
    [manifest_dir.join("../.."), manifest_dir.join("suite")].into_iter().find(|root| has_suite(root))
}

#[allow(clippy::print_stderr, clippy::print_stdout, reason = "a build script talks to cargo on stdout")]
fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let Some(root) = suite_root(&manifest_dir) else {
        eprintln!(
            "callspec-conformance: no suite to embed: neither ../../fixtures and ../../schemas (a checkout) nor \
             suite/ (a package staged by `cargo xtask package`) exist beside {}",
            manifest_dir.display()
        );
        std::process::exit(1);
    };
    for top in files::TOP {
        println!("cargo:rerun-if-changed={}", root.join(top).display());
    }
    println!("cargo:rerun-if-changed=build.rs");
    let paths = match files::walk(&root) {
        Ok(paths) => paths,
        Err(e) => {
            eprintln!("callspec-conformance: cannot list the suite under {}: {e}", root.display());
            std::process::exit(1);
        }
    };
    let mut contents = Vec::with_capacity(paths.len());
    let mut code = String::from(
        "/// Every suite file, by `/`-separated path, sorted.\npub(crate) static FILES: &[(&str, &[u8])] = &[\n",
    );
    for rel in &paths {
        let abs = root.join(rel).canonicalize().unwrap_or_else(|_| root.join(rel));
        let bytes = std::fs::read(&abs).unwrap_or_else(|e| {
            eprintln!("callspec-conformance: cannot read {}: {e}", abs.display());
            std::process::exit(1);
        });
        let _ = writeln!(code, "    ({rel:?}, include_bytes!({:?})),", abs.display().to_string());
        contents.push((rel.as_str(), bytes));
    }
    code.push_str("];\n");
    let hash = files::hash(contents.iter().map(|(p, b)| (*p, b.as_slice())));
    let version_text = contents
        .iter()
        .find(|(p, _)| *p == files::VERSION_FILE)
        .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default();
    let (version, _) = files::parse_version_file(&version_text);
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default()).join("suite_files.rs");
    if let Err(e) = std::fs::write(&out, code) {
        eprintln!("callspec-conformance: cannot write {}: {e}", out.display());
        std::process::exit(1);
    }
    println!("cargo:rustc-env=CALLSPEC_SUITE_HASH={hash}");
    // 0 when the version file is missing or malformed; the runner's tests refuse that.
    println!("cargo:rustc-env=CALLSPEC_SUITE_VERSION={}", version.unwrap_or(0));
}
