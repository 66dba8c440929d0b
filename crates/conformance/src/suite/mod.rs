//! The suite's files, `fixtures/` (cases, requirement catalog, shipped profiles, golden
//! snapshots) and `schemas/`: the copy embedded in the binary at build time, or a directory on
//! disk (`--root DIR`, for people editing cases). Every loader reads through [`Suite`], by
//! `/`-separated paths relative to the root (`fixtures/requirements.toml`).
//!
//! The suite has a version, a number bumped when cases change meaning, recorded with the hash
//! of the files it was bumped for in [`files::VERSION_FILE`]; `callspec --version` and
//! report.json carry both, so a gate can pin them.

pub mod files;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/suite_files.rs"));
}

use std::path::{Path, PathBuf};

/// Where the suite's files come from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Suite {
    /// The copy embedded in this binary when it was built.
    #[default]
    Embedded,
    /// A directory holding `fixtures/` and `schemas/` (a checkout, or `--root DIR`).
    Dir(PathBuf),
}

/// Why a suite file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SuiteError {
    /// A file or folder of a suite directory could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The embedded suite has no such file.
    #[error("{path} is not in the suite embedded in callspec (give --root DIR to read a checkout's)")]
    NotEmbedded {
        /// The path asked for.
        path: String,
    },
    /// A file that must be text is not UTF-8.
    #[error("{} is not UTF-8 text", path.display())]
    NotText {
        /// The file.
        path: PathBuf,
    },
}

/// The suite's version: the number in the version file and the hash of the files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuiteVersion {
    /// The number bumped when cases change meaning (0 when the version file is missing).
    pub version: u32,
    /// SHA-256 of the suite's files, in hex ([`files::hash`]).
    pub hash: String,
    /// The hash the version file records; a difference means the files changed without a bump.
    pub recorded_hash: Option<String>,
}

impl SuiteVersion {
    /// `suite 3 (sha256 0123456789ab)`, with `, modified since` when the files changed after
    /// the version was recorded.
    pub fn label(&self) -> String {
        let short = &self.hash[..12.min(self.hash.len())];
        let modified = if self.recorded_hash.as_deref() == Some(self.hash.as_str()) { "" } else { ", modified since" };
        format!("suite {} (sha256 {short}{modified})", self.version)
    }
}

/// `callspec --version`'s text: the crate version and the embedded suite's version.
pub const VERSION_TEXT: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    ", suite ",
    env!("CALLSPEC_SUITE_VERSION"),
    " (sha256 ",
    env!("CALLSPEC_SUITE_HASH"),
    ")"
);

impl Suite {
    /// `--root DIR` when given, else the embedded suite.
    pub fn at(root: Option<PathBuf>) -> Suite {
        root.map_or(Suite::Embedded, Suite::Dir)
    }

    /// The directory, for a suite on disk.
    pub fn root(&self) -> Option<&Path> {
        match self {
            Suite::Embedded => None,
            Suite::Dir(root) => Some(root),
        }
    }

    /// How a suite path is shown in messages: in full on disk, as the relative path embedded.
    pub fn path(&self, rel: &str) -> PathBuf {
        match self {
            Suite::Embedded => PathBuf::from(rel),
            Suite::Dir(root) => root.join(rel),
        }
    }

    /// The bytes of a file, `None` when there is no such file.
    pub fn read_optional(&self, rel: &str) -> Result<Option<Vec<u8>>, SuiteError> {
        match self {
            Suite::Embedded => {
                Ok(embedded::FILES.binary_search_by(|(p, _)| (*p).cmp(rel)).ok().map(|i| embedded::FILES[i].1.to_vec()))
            }
            Suite::Dir(root) => match std::fs::read(root.join(rel)) {
                Ok(bytes) => Ok(Some(bytes)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(source) => Err(SuiteError::Io { path: root.join(rel), source }),
            },
        }
    }

    /// The text of a file, which must exist.
    pub fn read(&self, rel: &str) -> Result<String, SuiteError> {
        let bytes = self.read_optional(rel)?.ok_or_else(|| match self {
            Suite::Embedded => SuiteError::NotEmbedded { path: rel.to_owned() },
            Suite::Dir(root) => SuiteError::Io { path: root.join(rel), source: std::io::ErrorKind::NotFound.into() },
        })?;
        String::from_utf8(bytes).map_err(|_| SuiteError::NotText { path: self.path(rel) })
    }

    /// Every suite file, as sorted relative paths.
    pub fn files(&self) -> Result<Vec<String>, SuiteError> {
        match self {
            Suite::Embedded => Ok(embedded::FILES.iter().map(|(p, _)| (*p).to_owned()).collect()),
            Suite::Dir(root) => files::walk(root).map_err(|source| SuiteError::Io { path: root.clone(), source }),
        }
    }

    /// The files under folder `dir` (any depth) whose names end in `suffix`, sorted.
    pub fn files_under(&self, dir: &str, suffix: &str) -> Result<Vec<String>, SuiteError> {
        let prefix = format!("{}/", dir.trim_end_matches('/'));
        let mut found = self.files()?;
        found.retain(|p| p.starts_with(&prefix) && p.ends_with(suffix));
        Ok(found)
    }

    /// The suite's version and hash. The embedded suite's were computed when it was built.
    pub fn version(&self) -> Result<SuiteVersion, SuiteError> {
        let recorded = self.read_optional(files::VERSION_FILE)?.unwrap_or_default();
        let (version, recorded_hash) = files::parse_version_file(&String::from_utf8_lossy(&recorded));
        let hash = match self {
            Suite::Embedded => env!("CALLSPEC_SUITE_HASH").to_owned(),
            Suite::Dir(_) => {
                let mut contents = Vec::new();
                for rel in self.files()? {
                    let bytes = self.read_optional(&rel)?.unwrap_or_default();
                    contents.push((rel, bytes));
                }
                files::hash(contents.iter().map(|(p, b)| (p.as_str(), b.as_slice())))
            }
        };
        Ok(SuiteVersion { version: version.unwrap_or(0), hash, recorded_hash })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checkout() -> Suite {
        Suite::Dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
    }

    /// CI's gate on the suite version: the files may not change without the version file being
    /// updated (a bump when cases change meaning).
    #[test]
    fn the_version_file_records_the_hash_of_the_files() {
        let v = checkout().version().expect("the checkout's suite reads");
        assert!(v.version > 0, "{} needs `version = N` (N > 0)", files::VERSION_FILE);
        assert_eq!(
            v.recorded_hash.as_deref(),
            Some(v.hash.as_str()),
            "fixtures/ or schemas/ changed since the suite version was recorded: bump `version` in {} when \
             cases change meaning, and set `hash = \"{}\"`",
            files::VERSION_FILE,
            v.hash
        );
    }

    #[test]
    fn the_embedded_suite_is_the_checkout_it_was_built_from() {
        let disk = checkout();
        assert_eq!(Suite::Embedded.files().expect("embedded"), disk.files().expect("checkout"));
        assert_eq!(Suite::Embedded.version().expect("embedded"), disk.version().expect("checkout"));
        let rel = "fixtures/requirements.toml";
        assert_eq!(Suite::Embedded.read(rel).expect("embedded"), disk.read(rel).expect("checkout"));
    }

    #[test]
    fn missing_files_are_errors_that_name_them() {
        let e = Suite::Embedded.read("fixtures/nope.toml").expect_err("not embedded");
        assert!(e.to_string().contains("fixtures/nope.toml"), "{e}");
        assert!(Suite::Embedded.read_optional("fixtures/nope.toml").expect("no error").is_none());
        let cases = Suite::Embedded.files_under("fixtures/cases", ".json").expect("embedded");
        assert!(!cases.is_empty() && cases.iter().all(|c| c.starts_with("fixtures/cases/")));
    }

    #[test]
    fn the_version_file_parser_reads_its_two_keys() {
        let (v, h) = files::parse_version_file("# c\nversion = 4 # bumped\nhash = \"ab\"\n");
        assert_eq!((v, h.as_deref()), (Some(4), Some("ab")));
        assert_eq!(files::parse_version_file("version = x"), (None, None));
    }
}
