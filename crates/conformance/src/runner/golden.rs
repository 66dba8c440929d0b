//! The golden-snapshot check after a case's steps: normalize what the case saw, compare it with
//! the reviewed `.snap` file by JSON pointer, and write files only when the run says so.
//!
//! The files keep insta's format (a YAML header between `---` lines, then the text), so
//! `cargo insta review` works on the `.snap.new` files a [`SnapshotMode::Pending`] run leaves. No
//! environment variable (`INSTA_UPDATE` included) makes a run write anything.

use super::Run;
use crate::outcome::FailureKind;
use crate::snapshot::{Literals, Normalizer, diff, read_snapshot, snapshot_file, waive};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// What a run does with the golden snapshots besides comparing them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotMode {
    /// Compare only; never write (runs against other targets, CI).
    Check,
    /// Compare; on a difference, write `<case>.snap.new` beside the golden for `cargo insta review`.
    Pending,
    /// Write every golden that differs or is missing, and never fail on a difference
    /// (`cargo xtask snapshots`, against the reference emulator only).
    Update,
}

/// How a run treats golden snapshots.
#[derive(Debug, Clone)]
pub struct SnapshotSettings {
    /// The directory of reviewed snapshots (`fixtures/snapshots` in the repository).
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

/// Writes a file, creating its directory; a failure to write is reported, not fatal.
fn write(path: &Path, text: &str) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
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

    /// Compares a case that passed every check with its golden snapshot.
    pub(super) fn compare_snapshot(&mut self, settings: &SnapshotSettings, isolated: bool) {
        if self.mark() > 0 {
            return;
        }
        let text = self.normalized_artifacts(isolated);
        let file = snapshot_file(&settings.dir, &self.case.name);
        let pending = file.with_extension("snap.new");
        let reviewed = read_snapshot(&file);
        if reviewed.as_deref() == Some(text.as_str()) {
            if settings.mode == SnapshotMode::Pending {
                let _ = std::fs::remove_file(&pending);
            }
            return;
        }
        let written = snap_file_text(&self.case.name, &settings.source, &self.h.today, &self.case.file, &text);
        self.label = format!("snapshot {}", self.shown(&file, settings));
        self.step = self.case.data.steps.len().saturating_sub(1);
        self.requirement = None;
        let hint = match settings.mode {
            SnapshotMode::Update => {
                if let Err(e) = write(&file, &written) {
                    self.fail(FailureKind::Snapshot, None, "a written snapshot", e, "cannot update the snapshot", None);
                }
                return;
            }
            SnapshotMode::Pending => match write(&pending, &written) {
                Ok(()) => "`cargo insta review` to accept",
                Err(_) => "`cargo xtask snapshots` to regenerate",
            },
            SnapshotMode::Check => "`cargo xtask snapshots` regenerates them from the reference emulator",
        };
        self.snapshot_differences(reviewed.as_deref(), &text, hint);
    }

    fn shown(&self, file: &Path, settings: &SnapshotSettings) -> String {
        let parent = settings.dir.parent().and_then(Path::parent).unwrap_or(&settings.dir);
        file.strip_prefix(parent).unwrap_or(file).display().to_string()
    }

    /// One failure per differing JSON pointer (at most ten, then a count).
    fn snapshot_differences(&mut self, reviewed: Option<&str>, text: &str, hint: &str) {
        let kind = FailureKind::Snapshot;
        let Some(reviewed) = reviewed.and_then(|t| serde_json::from_str::<Value>(t).ok()) else {
            let message = format!("no reviewed snapshot yet ({hint})");
            self.fail(kind, None, "a reviewed snapshot", "none", message, None);
            return;
        };
        let actual: Value = serde_json::from_str(text).unwrap_or(Value::Null);
        let differences = diff(&reviewed, &actual);
        let total = differences.len();
        let message = format!("differs from the reviewed snapshot ({hint})");
        for d in differences.into_iter().take(10) {
            self.fail(kind, Some(d.pointer), d.expected, d.actual, message.clone(), None);
        }
        if total > 10 {
            self.fail(kind, None, String::new(), format!("{} more", total - 10), "more differences", None);
        }
        if total == 0 {
            self.fail(kind, None, "identical text", "different formatting", "snapshot text differs", None);
        }
    }
}
