//! After the cases: the run record, the coverage table, the summary and snapshot lines, the
//! reports, the baseline, the suite's own consistency checks (coverage, orphaned snapshots), the
//! exit code.

use super::print::Out;
use super::{Loaded, Options, Prepared};
use crate::outcome::{CaseResult, REPORT_VERSION, RunRecord, SnapshotOutcome, Status, TargetInfo};
use crate::runner::SnapshotMode;
use crate::snapshot::orphans;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

/// The run record: every case, in suite order, the ones that did not run as SKIP.
fn record(
    options: &Options,
    loaded: &Loaded,
    prepared: &Prepared,
    mut results: BTreeMap<String, CaseResult>,
    started_at: time::OffsetDateTime,
    wall: Duration,
) -> RunRecord {
    let cases: Vec<CaseResult> = loaded
        .cases
        .iter()
        .map(|c| results.remove(&c.name).unwrap_or_else(|| super::skipped(c, "filtered out".into())))
        .collect();
    RunRecord {
        version: REPORT_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").into(),
        suite_version: loaded.suite_version.version,
        suite_hash: loaded.suite_version.hash.clone(),
        started_at: started_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        wall_time: wall,
        target: TargetInfo {
            name: loaded.profile.name.clone(),
            base_url: prepared.harness.base_url.clone(),
            embedded: options.target.is_none(),
        },
        requests_sent: prepared.harness.client.requests_sent(),
        budget_wait: prepared.harness.client.budget_waited(),
        cases,
        requirements: loaded.catalog.infos(),
    }
}

/// Everything after the cases ran; returns the exit code.
pub fn finish(
    options: &Options,
    loaded: &Loaded,
    prepared: &Prepared,
    results: BTreeMap<String, CaseResult>,
    started_at: time::OffsetDateTime,
    wall: Duration,
    out: &mut Out,
) -> ExitCode {
    let record = record(options, loaded, prepared, results, started_at, wall);
    let rows = crate::report::coverage(&record);
    for case in record.cases.iter().filter(|c| c.status == Status::XFail) {
        out.line(format_args!("XFAIL {}: {}", case.name, case.reason.as_deref().unwrap_or("")));
    }
    if options.coverage {
        out.line(format_args!("\n{}", crate::report::coverage_text(&rows)));
    }
    out.line(crate::report::summary_line(&record));
    if let Some(line) = snapshot_line(prepared, &record) {
        out.line(line);
    }
    let mut problems: Vec<String> = Vec::new();
    if let Some(dir) = &options.report_dir {
        match crate::report::write_all(&record, dir) {
            Ok(paths) => {
                let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
                out.line(format_args!("reports: {}", shown.join(", ")));
            }
            Err(e) => problems.push(format!("cannot write reports to {}: {e}", dir.display())),
        }
    }
    if let Some(file) = &options.write_baseline {
        match write_baseline(loaded, &record, file.as_deref()) {
            Ok(line) => out.line(line),
            Err(e) => problems.push(e),
        }
    }
    if options.require_coverage {
        let uncovered = crate::report::uncovered(&rows);
        if !uncovered.is_empty() {
            problems.push(format!("requirements without a case: {}", uncovered.join(", ")));
        }
    }
    problems.extend(check_orphans(options, loaded, prepared, out));
    exit_code(options, &record, problems)
}

/// The exit code, after saying why it is not 0.
#[allow(clippy::print_stderr, reason = "harness problems go to stderr")]
fn exit_code(options: &Options, record: &RunRecord, problems: Vec<String>) -> ExitCode {
    for p in &problems {
        eprintln!("callspec: {p}");
    }
    let statuses: Vec<Status> = record.cases.iter().map(|c| c.status).collect();
    let ran = statuses.iter().any(|s| !matches!(s, Status::Skip));
    if !problems.is_empty() || statuses.contains(&Status::Error) {
        return ExitCode::from(2);
    }
    if options.write_baseline.is_some() {
        // The baseline now covers this run's failures; the next run is the gate.
        return ExitCode::SUCCESS;
    }
    if !ran {
        eprintln!(
            "callspec: no case ran: {} (a gate that tested nothing must not pass)",
            if record.cases.iter().any(|c| c.reason.as_deref() != Some("filtered out")) {
                "every selected case was skipped by the profile"
            } else {
                "no case matches the filters"
            }
        );
        return ExitCode::from(2);
    }
    if statuses.iter().all(|s| s.is_expected()) { ExitCode::SUCCESS } else { ExitCode::from(1) }
}

/// Writes the baseline file; returns the line to print.
fn write_baseline(loaded: &Loaded, record: &RunRecord, file: Option<&Path>) -> Result<String, String> {
    let path = match file {
        Some(file) => file.to_path_buf(),
        None => loaded.profile.baseline_path(&loaded.profile_path).ok_or_else(|| {
            "--write-baseline without FILE needs `baseline = \"NAME.baseline.toml\"` in the profile".to_owned()
        })?,
    };
    let (own, old): (Vec<_>, Vec<_>) = loaded.profile.known_failures.iter().cloned().partition(|k| !k.from_baseline);
    let (entries, summary) = crate::baseline::entries(record, &old, &own);
    let text =
        crate::baseline::render(&entries, &record.target.name, &record.started_at[..10.min(record.started_at.len())])
            .map_err(|e| format!("cannot render the baseline: {e}"))?;
    crate::baseline::write(&path, &text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let mut line = format!(
        "baseline: {} entries written to {} ({} kept, {} dropped, {} transport failures left out)",
        summary.written,
        path.display(),
        summary.kept,
        summary.dropped,
        summary.transport
    );
    if loaded.profile.baseline_path(&loaded.profile_path).as_ref() != Some(&path) {
        line.push_str(&format!("; add `baseline = {:?}` to the profile to use it", path.display().to_string()));
    }
    Ok(line)
}

/// What the snapshot comparison did, and where: `snapshots in DIR: 3 recorded, 40 matched`.
fn snapshot_line(prepared: &Prepared, record: &RunRecord) -> Option<String> {
    let settings = prepared.harness.snapshots.as_ref()?;
    let counts: Vec<String> = SnapshotOutcome::ALL
        .iter()
        .map(|o| (o, record.cases.iter().filter(|c| c.snapshot == Some(*o)).count()))
        .filter(|(_, n)| *n > 0)
        .map(|(o, n)| format!("{n} {}", o.label()))
        .collect();
    if counts.is_empty() {
        return None;
    }
    let embedded = if settings.mode == SnapshotMode::Embedded { " (embedded)" } else { "" };
    let mut line = format!("snapshots in {}{embedded}: {}", settings.dir.display(), counts.join(", "));
    if counts.iter().any(|c| c.ends_with(" recorded")) && settings.mode == SnapshotMode::Record {
        line.push_str(" (recorded: nothing to compare yet; the next run compares against them)");
    }
    Some(line)
}

/// The embedded goldens under `dir` (their path inside the suite) that belong to no case.
fn embedded_orphans(dir: &Path, names: &[&str]) -> Vec<std::path::PathBuf> {
    let wanted: Vec<std::path::PathBuf> = names.iter().map(|n| crate::snapshot::snapshot_file(dir, n)).collect();
    let dir = dir.to_string_lossy().replace('\\', "/");
    let files = crate::suite::Suite::Embedded.files_under(&dir, ".snap").unwrap_or_default();
    files.into_iter().map(std::path::PathBuf::from).filter(|p| !wanted.contains(p)).collect()
}

/// Orphaned snapshots, on a run of the whole suite that compared snapshots: removed when
/// updating, a problem for the goldens, a note for a target's own directory (its snapshots may
/// come from an older suite whose cases were renamed since).
fn check_orphans(options: &Options, loaded: &Loaded, prepared: &Prepared, out: &mut Out) -> Vec<String> {
    let Some(settings) = &prepared.harness.snapshots else { return Vec::new() };
    if !options.filters.is_empty() || !options.skip.is_empty() {
        return Vec::new();
    }
    let names: Vec<&str> = loaded.cases.iter().map(|c| c.name.as_str()).collect();
    let found = if settings.mode == SnapshotMode::Embedded {
        embedded_orphans(&settings.dir, &names)
    } else {
        orphans(&settings.dir, &names)
    };
    if found.is_empty() {
        return Vec::new();
    }
    let list: Vec<String> = found.iter().map(|p| p.display().to_string()).collect();
    match settings.mode {
        SnapshotMode::Update => found
            .iter()
            .filter_map(|p| std::fs::remove_file(p).err().map(|e| format!("cannot remove {}: {e}", p.display())))
            .collect(),
        SnapshotMode::Record => {
            out.line(format_args!(
                "note: snapshots that belong to no case of this suite (`--update-snapshots` removes them): {}",
                list.join(", ")
            ));
            Vec::new()
        }
        SnapshotMode::Check | SnapshotMode::Pending | SnapshotMode::Embedded => {
            vec![format!("orphaned snapshots (no case; `cargo xtask snapshots` removes them): {}", list.join(", "))]
        }
    }
}
