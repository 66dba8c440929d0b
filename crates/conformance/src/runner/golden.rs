//! The snapshot check after a case's steps: normalize what the case saw, compare it with the
//! `.snap` file by JSON pointer, and write files only when the run says so.
//!
//! Two kinds of directory: the suite's reviewed goldens (`fixtures/snapshots`, the reference
//! emulator's), and a target's own directory (`--snapshot-dir`), where the first run records and
//! later runs report drift since the recorded one ([`SnapshotMode::Record`]). The files keep
//! insta's format (a YAML header between `---` lines, then the text), so `cargo insta review`
//! works on the `.snap.new` files a [`SnapshotMode::Pending`] run leaves. No environment variable
//! (`INSTA_UPDATE` included) makes a run write anything.

use super::{HarnessFault, Run, lock};
use crate::outcome::{FailureKind, SnapshotOutcome};
use crate::snapshot::{Literals, Normalizer, SnapshotFile, diff, parse_snapshot, snapshot_file, waive};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// What a run does with the snapshots besides comparing them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotMode {
    /// Compare only; never write (the goldens against other targets, CI).
    Check,
    /// Compare; on a difference, write `<case>.snap.new` beside the golden for `cargo insta review`.
    Pending,
    /// A target's own directory: a case with no snapshot there gets this run's recorded (in CI
    /// too); a difference is drift since the recorded run and FAILs; nothing else is written.
    Record,
    /// Write every snapshot that differs or is missing, and never fail on a difference
    /// (`cargo xtask snapshots` against the reference emulator; `--update-snapshots` with a
    /// target's own directory).
    Update,
    /// Compare with the goldens embedded in the binary (`dir` is their path inside the suite,
    /// `fixtures/snapshots`); never write.
    Embedded,
}

/// How a run treats snapshots.
#[derive(Debug, Clone)]
pub struct SnapshotSettings {
    /// The snapshot directory: `fixtures/snapshots` (the goldens) or a target's own.
    pub dir: PathBuf,
    /// Target name and version, recorded in written snapshots.
    pub source: String,
    /// Whether and what the run writes.
    pub mode: SnapshotMode,
}

/// The text of a `.snap` file in insta's format.
fn snap_file_text(case: &str, source: &str, recorded: &str, input_file: &str, body: &str) -> String {
    let quote = |s: &str| serde_json::to_string(s).unwrap_or_default();
    format!(
        "---\nsource: crates/conformance/src/runner/golden.rs\ninfo:\n  case: {}\n  target: {}\n  recorded: {}\ninput_file: {}\n---\n{body}\n",
        quote(case),
        quote(source),
        quote(recorded),
        input_file
    )
}

/// Writes a file, creating its directory.
fn write(path: &Path, text: &str) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The stored snapshot: `None` when there is no file; an error when a file is there but is not a
/// snapshot (a hand edit gone wrong): it is never overwritten by a record.
fn stored(file: &Path, mode: SnapshotMode) -> Result<Option<(SnapshotFile, Value)>, String> {
    let read = if mode == SnapshotMode::Embedded {
        embedded_text(file)
    } else {
        std::fs::read_to_string(file).map(Some).or_else(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Ok(None),
            _ => Err(format!("cannot read the snapshot {}: {e}", file.display())),
        })
    };
    let Some(text) = read? else { return Ok(None) };
    let unreadable = |why: &str| format!("the snapshot {} is unreadable: {why}; fix or delete it", file.display());
    let snap = parse_snapshot(&text).ok_or_else(|| unreadable("no `---` header as insta writes it"))?;
    let value = serde_json::from_str(&snap.body).map_err(|e| unreadable(&format!("its body is not JSON ({e})")))?;
    Ok(Some((snap, value)))
}

/// A golden of the embedded suite, by its path inside the suite.
fn embedded_text(file: &Path) -> Result<Option<String>, String> {
    let rel: Vec<String> = file.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let bytes = crate::suite::Suite::Embedded.read_optional(&rel.join("/")).map_err(|e| e.to_string())?;
    bytes.map(|b| String::from_utf8(b).map_err(|_| format!("the snapshot {} is not UTF-8", file.display()))).transpose()
}

/// Why a stored snapshot differs, for the failure message.
fn difference_message(mode: SnapshotMode, header: &crate::snapshot::SnapshotHeader) -> String {
    match mode {
        // The step label names the file already.
        SnapshotMode::Record => format!(
            "drift since the run recorded {} from {}; `--update-snapshots` with this snapshot directory accepts it",
            header.recorded.as_deref().map_or_else(|| "on an unknown date".to_owned(), |d| format!("on {d}")),
            header.target.as_deref().unwrap_or("an unknown target"),
        ),
        SnapshotMode::Pending => "differs from the reviewed snapshot (`cargo insta review` to accept)".into(),
        _ => "differs from the reviewed snapshot (`cargo xtask snapshots` regenerates them from the reference \
              emulator)"
            .into(),
    }
}

impl Run<'_> {
    /// The case's artifacts, normalized by meaning and waived where the profile says, as text.
    fn normalized_artifacts(&self, isolated: bool) -> String {
        let mut literals = Literals::default();
        for secret in self.h.secrets(Some(&self.account)) {
            literals.add(secret, "[secret]");
        }
        if let Some(sink) = self.vars.get("Sink") {
            literals.add(sink, "[Sink]");
        }
        literals.add(self.h.base_url.clone(), "[Target]");
        if isolated && let Some(from) = self.vars.get("From") {
            // The fresh number is random: hide it in both its forms.
            literals.add(callspec_model::endpoint::formatted(from), "[From formatted]");
            literals.add(from.replace('+', "%2B"), "[From]");
            literals.add(from, "[From]");
        }
        let document = Value::Array(self.artifacts.items().to_vec());
        let mut normalized = Normalizer::new(literals).normalize(&document);
        let waivers: Vec<String> = self
            .h
            .profile
            .snapshot_waivers
            .iter()
            .filter(|w| w.matches(&self.case.name))
            .flat_map(|w| w.pointers.iter().cloned())
            .collect();
        waive(&mut normalized, &waivers);
        serde_json::to_string_pretty(&normalized).unwrap_or_default()
    }

    /// Compares a case that passed every check with its snapshot, recording or writing one
    /// where the mode says; a snapshot the harness cannot read or write is an ERROR.
    pub(super) fn compare_snapshot(&mut self, settings: &SnapshotSettings, isolated: bool) -> Result<(), HarnessFault> {
        if self.mark() > 0 {
            return Ok(());
        }
        let text = self.normalized_artifacts(isolated);
        let file = snapshot_file(&settings.dir, &self.case.name);
        let pending = file.with_extension("snap.new");
        let stored = match stored(&file, settings.mode) {
            Ok(s) => s,
            // Updating replaces whatever is there.
            Err(_) if settings.mode == SnapshotMode::Update => None,
            Err(e) => return Err(HarnessFault::Io(e)),
        };
        let outcome = match (stored, settings.mode) {
            (Some((snap, _)), mode) if snap.body == text => {
                if mode == SnapshotMode::Pending {
                    let _ = std::fs::remove_file(&pending);
                }
                SnapshotOutcome::Matched
            }
            (stored, SnapshotMode::Update) | (stored @ None, SnapshotMode::Record) => {
                let written = snap_file_text(&self.case.name, &settings.source, &self.h.today, &self.case.file, &text);
                write(&file, &written).map_err(HarnessFault::Io)?;
                if stored.is_some() { SnapshotOutcome::Updated } else { SnapshotOutcome::Recorded }
            }
            (stored, mode) => {
                self.label = format!("snapshot {}", self.shown(&file, settings));
                self.step = self.case.data.steps.len().saturating_sub(1);
                self.requirement = None;
                if mode == SnapshotMode::Pending {
                    let written =
                        snap_file_text(&self.case.name, &settings.source, &self.h.today, &self.case.file, &text);
                    // Best effort: the failure below says what differs either way.
                    let _ = write(&pending, &written);
                }
                match stored {
                    Some((snap, reviewed)) => {
                        let message = difference_message(mode, &snap.header);
                        self.snapshot_differences(&reviewed, &text, &message);
                    }
                    None => {
                        let message = if mode == SnapshotMode::Pending {
                            "no reviewed snapshot yet (`cargo insta review` accepts the pending one)"
                        } else {
                            "no reviewed snapshot yet (`cargo xtask snapshots` records it from the reference emulator)"
                        };
                        self.fail(FailureKind::Snapshot, None, "a reviewed snapshot", "none", message, None);
                    }
                }
                SnapshotOutcome::Differed
            }
        };
        lock(&self.log).snapshot = Some(outcome);
        Ok(())
    }

    /// The file as shown in messages: a golden relative to the repository, any other in full.
    fn shown(&self, file: &Path, settings: &SnapshotSettings) -> String {
        if settings.mode == SnapshotMode::Record {
            return file.display().to_string();
        }
        let parent = settings.dir.parent().and_then(Path::parent).unwrap_or(&settings.dir);
        file.strip_prefix(parent).unwrap_or(file).display().to_string()
    }

    /// One failure per differing JSON pointer (at most ten, then a count).
    fn snapshot_differences(&mut self, reviewed: &Value, text: &str, message: &str) {
        let kind = FailureKind::Snapshot;
        let actual: Value = serde_json::from_str(text).unwrap_or(Value::Null);
        let differences = diff(reviewed, &actual);
        let total = differences.len();
        for d in differences.into_iter().take(10) {
            self.fail(kind, Some(d.pointer), d.expected, d.actual, message, None);
        }
        if total > 10 {
            self.fail(kind, None, String::new(), format!("{} more", total - 10), "more differences", None);
        }
        if total == 0 {
            self.fail(kind, None, "identical text", "different formatting", message, None);
        }
    }
}
