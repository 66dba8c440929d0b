//! Writing a baseline: the known failures of a target, made from a run, so adopting callspec on
//! an existing emulator needs no hand-written entries.
//!
//! One entry per case, requirement and kind of failure. An entry of the old baseline that still
//! covers a failure keeps its reason, category, link and expiry; entries that cover nothing are
//! dropped; entries for cases the run did not run (filtered out, skipped) are kept as they are;
//! new ones are `category = "bug"` with the first failure's message as the reason.
//! Transport failures are never written: a target that stops answering is not a known bug. The
//! profile's own `[[known_failures]]` are left alone (they still apply), so its text and comments
//! are never rewritten.

use crate::outcome::{Failure, FailureKind, RunRecord, Status};
use crate::profile::{FailureCategory, KnownFailure};
use std::collections::BTreeMap;
use std::path::Path;

/// What writing a baseline did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BaselineSummary {
    /// Entries written.
    pub written: usize,
    /// Of those, entries that were already in the old baseline.
    pub kept: usize,
    /// Entries of the old baseline that covered no failure and were dropped.
    pub dropped: usize,
    /// Transport failures left out.
    pub transport: usize,
}

/// The entries a run calls for: `old` entries that still match, new ones for the rest.
pub fn entries(
    record: &RunRecord,
    old: &[KnownFailure],
    profile_own: &[KnownFailure],
) -> (Vec<KnownFailure>, BaselineSummary) {
    let mut summary = BaselineSummary::default();
    let mut by_key: BTreeMap<(String, Option<String>, FailureKind), KnownFailure> = BTreeMap::new();
    for case in &record.cases {
        for f in &case.failures {
            if f.kind == FailureKind::Transport {
                summary.transport += 1;
                continue;
            }
            // The profile's own entries keep covering what they cover; the baseline adds the rest.
            if profile_own.iter().any(|k| k.matches(&case.name) && k.covers(f)) {
                continue;
            }
            let key = (case.name.clone(), f.requirement.clone(), f.kind);
            by_key.entry(key).or_insert_with(|| entry_for(&case.name, f, old));
        }
    }
    let mut written: Vec<KnownFailure> = by_key.into_values().collect();
    // Entries for cases this run did not run (filtered out, skipped) stay as they are.
    let ran = |entry: &KnownFailure| record.cases.iter().any(|c| entry.matches(&c.name) && c.status != Status::Skip);
    written.extend(old.iter().filter(|o| !ran(o)).cloned());
    summary.written = written.len();
    summary.kept = written.iter().filter(|w| old.iter().any(|o| same_entry(o, w))).count();
    summary.dropped = old.iter().filter(|o| !written.iter().any(|w| same_entry(o, w))).count();
    (written, summary)
}

fn same_entry(a: &KnownFailure, b: &KnownFailure) -> bool {
    a.case == b.case && a.requirement == b.requirement && a.kind == b.kind && a.pointer == b.pointer
}

/// The entry covering one failure: an old entry that covers it, with its words, or a new one.
fn entry_for(case: &str, f: &Failure, old: &[KnownFailure]) -> KnownFailure {
    if let Some(o) = old.iter().find(|o| o.matches(case) && o.covers(f)) {
        return KnownFailure {
            case: case.to_owned(),
            requirement: f.requirement.clone(),
            kind: Some(f.kind),
            pointer: None,
            ..o.clone()
        };
    }
    let mut reason = f.message.clone();
    if let Some(p) = &f.pointer {
        reason.push_str(&format!(" at {p}"));
    }
    reason.push_str(&format!(
        ": expected {}, got {}",
        crate::matcher::shorten(&f.expected, 120),
        crate::matcher::shorten(&f.actual, 120)
    ));
    KnownFailure {
        case: case.to_owned(),
        requirement: f.requirement.clone(),
        kind: Some(f.kind),
        pointer: None,
        reason,
        category: FailureCategory::Bug,
        link: None,
        expires: None,
        from_baseline: true,
    }
}

/// The baseline file's text: a header comment, then one `[[known_failures]]` table per entry.
pub fn render(entries: &[KnownFailure], target: &str, date: &str) -> Result<String, toml::ser::Error> {
    #[derive(serde::Serialize)]
    struct File<'a> {
        known_failures: &'a [KnownFailure],
    }
    let body = toml::to_string(&File { known_failures: entries })?;
    Ok(format!(
        "# callspec baseline for {target}, written {date} by `callspec --write-baseline`.\n\
         # Known failures of this target, one per case, requirement and kind. Rerunning\n\
         # --write-baseline keeps the reason, category, link and expiry of entries that still\n\
         # match; edit those freely. Shrink this file as the target gets fixed.\n\n{body}"
    ))
}

/// Writes the baseline file.
pub fn write(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, text)
}
