//! Which files make the suite, and its hash: shared by the build script (what it embeds and
//! records) and the runner (what it reads from a `--root` directory), so both agree.
//!
//! This file uses only `std` and `sha2`: the build script includes it with `#[path]`.

use sha2::{Digest, Sha256};
use std::path::Path;

/// The suite's top-level folders, relative to the repository root.
pub const TOP: [&str; 2] = ["fixtures", "schemas"];

/// The suite's version file: its number and the hash it was recorded for. It is left out of the
/// hash it records.
pub const VERSION_FILE: &str = "fixtures/suite-version.toml";

/// Whether a file belongs to the suite: hidden files and pending snapshots (`cargo insta
/// review` material) do not.
pub fn is_suite_file(name: &str) -> bool {
    !name.starts_with('.') && !name.ends_with(".snap.new") && !name.ends_with(".pending-snap")
}

/// Every suite file under `root` (its `fixtures/` and `schemas/`), as `/`-separated paths
/// relative to `root`, sorted. A missing top-level folder is an error.
pub fn walk(root: &Path) -> std::io::Result<Vec<String>> {
    let mut out = Vec::new();
    for top in TOP {
        walk_dir(&root.join(top), top, &mut out)?;
    }
    out.sort();
    Ok(out)
}

fn walk_dir(dir: &Path, rel: &str, out: &mut Vec<String>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        // Names that are not UTF-8 cannot be suite paths; they are left out like hidden files.
        let Some(name) = name.to_str() else { continue };
        if !is_suite_file(name) {
            continue;
        }
        let path = entry.path();
        let child = format!("{rel}/{name}");
        if path.is_dir() {
            walk_dir(&path, &child, out)?;
        } else {
            out.push(child);
        }
    }
    Ok(())
}

/// The suite's hash: SHA-256, in hex, over every file but [`VERSION_FILE`], in path order,
/// each as its path, a NUL, its length in decimal, a NUL and its bytes.
pub fn hash<'a>(files: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> String {
    let mut sha = Sha256::new();
    for (path, bytes) in files {
        if path == VERSION_FILE {
            continue;
        }
        sha.update(path.as_bytes());
        sha.update([0]);
        sha.update(bytes.len().to_string().as_bytes());
        sha.update([0]);
        sha.update(bytes);
    }
    sha.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The `version` and `hash` keys of the version file (`key = value` lines; `#` starts a
/// comment). `None` for a key that is missing or malformed.
pub fn parse_version_file(text: &str) -> (Option<u32>, Option<String>) {
    let (mut version, mut hash) = (None, None);
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        let Some((key, value)) = line.split_once('=') else { continue };
        let value = value.trim();
        match key.trim() {
            "version" => version = value.parse().ok(),
            "hash" => hash = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')).map(str::to_owned),
            _ => {}
        }
    }
    (version, hash)
}
