//! The harness's own errors: loading fixtures, profiles and catalogs, and running the harness.
//!
//! These are never verdicts on the target. A target that misbehaves produces a FAIL
//! ([`crate::outcome::Failure`]); these produce exit code 2 at load time or ERROR for a case.

use std::fmt;
use std::path::PathBuf;

/// What kind of problem a [`LoadError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoadErrorKind {
    /// The file could not be read.
    Io,
    /// The file is not valid JSON.
    Json,
    /// The file is not valid TOML.
    Toml,
    /// The file does not follow its JSON Schema.
    Schema,
    /// The file cites a requirement ID the catalog does not have.
    UnknownRequirement,
    /// An ID or name is defined twice.
    Duplicate,
    /// The file is well-formed but its content is inconsistent (e.g. a known failure that matches no case).
    Invalid,
}

/// A file callspec could not load, with the JSON pointer of the offending value where known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    /// The file.
    pub file: PathBuf,
    /// JSON pointer into the file's content (TOML files are pointed at as their JSON equivalent).
    pub pointer: Option<String>,
    /// The kind of problem.
    pub kind: LoadErrorKind,
    /// What is wrong, for a person.
    pub message: String,
}

impl LoadError {
    /// A load error without a pointer.
    pub fn new(file: impl Into<PathBuf>, kind: LoadErrorKind, message: impl Into<String>) -> LoadError {
        LoadError { file: file.into(), pointer: None, kind, message: message.into() }
    }

    /// The same error at a JSON pointer.
    pub fn at(mut self, pointer: impl Into<String>) -> LoadError {
        self.pointer = Some(pointer.into());
        self
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(p) = &self.pointer {
            write!(f, " at {}", if p.is_empty() { "/" } else { p })?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for LoadError {}

/// Several load errors: loading collects every problem instead of stopping at the first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LoadErrors(pub Vec<LoadError>);

impl fmt::Display for LoadErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "error: {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for LoadErrors {}

impl From<LoadError> for LoadErrors {
    fn from(e: LoadError) -> LoadErrors {
        LoadErrors(vec![e])
    }
}
