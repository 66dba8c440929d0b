//! Running the selected cases: on callspec's own executor and printer for the binary, or as
//! libtest-mimic trials for `cargo test`.

use super::print::{Printer, Tally};
use super::{Loaded, Options, Prepared, RunArgs, config_error, finish, load, prepare, select, skipped};
use crate::fixture::Case;
use crate::outcome::{CaseResult, Status};
use libtest_mimic::{Arguments, Failed, Trial};
use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Instant;

fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .map_err(|e| config_error(format!("cannot start the async runtime: {e}")))
}

/// A started run: the runtime, the prepared harness (preflight passed), and when it began.
type Started = (tokio::runtime::Runtime, Prepared, Instant, time::OffsetDateTime);

/// Starts the runtime and prepares the run (emulator, sink, preflight); an exit code on failure.
fn start(options: &Options, loaded: &Loaded) -> Result<Started, ExitCode> {
    let rt = runtime()?;
    let started = Instant::now();
    let started_at = time::OffsetDateTime::now_utc();
    let prepared = rt.block_on(prepare(options, loaded)).map_err(config_error)?;
    Ok((rt, prepared, started, started_at))
}

/// `--list`: the selected cases in libtest's format, the ones the profile would skip marked.
fn list(selected: &[(&Case, Option<String>)], printer: &mut Printer) -> ExitCode {
    let mut skipped = 0;
    for (case, skip) in selected {
        match skip {
            Some(reason) => {
                skipped += 1;
                printer.out.line(format_args!("{}: test (would skip: {reason})", case.name));
            }
            None => printer.out.line(format_args!("{}: test", case.name)),
        }
    }
    printer.out.line(format_args!(
        "\n{} tests, 0 benchmarks ({} would run, {skipped} would skip on this profile; up to {} create requests)",
        selected.len(),
        selected.len() - skipped,
        creates(selected)
    ));
    ExitCode::SUCCESS
}

/// How many create requests the runnable cases send: the most calls a run may place.
fn creates(selected: &[(&Case, Option<String>)]) -> usize {
    selected.iter().filter(|(_, skip)| skip.is_none()).map(|(c, _)| c.creates).sum()
}

/// Why a selection runs no case at all, checked before anything touches the target.
fn nothing_to_run(options: &Options, selected: &[(&Case, Option<String>)]) -> Option<String> {
    if selected.is_empty() {
        let filters: Vec<String> = options.filters.iter().map(|f| format!("{f:?}")).collect();
        return Some(format!("no case matches the filters {}", filters.join(", ")));
    }
    if selected.iter().all(|(_, skip)| skip.is_some()) {
        let mut reasons: Vec<&str> = selected.iter().filter_map(|(_, s)| s.as_deref()).collect();
        reasons.sort_unstable();
        reasons.dedup();
        return Some(format!("every selected case is skipped by the profile ({})", reasons.join("; ")));
    }
    None
}

/// The `callspec` binary's run.
pub(super) fn run(args: RunArgs) -> ExitCode {
    let mut printer = Printer::new(args.format, args.quiet);
    if args.list_faults {
        return match super::embedded::fault_lines() {
            Ok(lines) => {
                lines.iter().for_each(|l| printer.out.line(l));
                ExitCode::SUCCESS
            }
            Err(e) => config_error(e),
        };
    }
    if args.target.is_some() && args.profile.is_none() {
        return config_error(
            "callspec: --target needs --profile FILE describing the target (numbers, capabilities); see README",
        );
    }
    let options = Options::from_args(&args);
    let loaded = match load(&options) {
        Ok(l) => l,
        Err(e) => return config_error(e),
    };
    let selected = select(&options, &loaded);
    if args.list {
        return list(&selected, &mut printer);
    }
    if let Some(why) = nothing_to_run(&options, &selected) {
        return config_error(format!("callspec: {why}; a gate that tests nothing must not pass"));
    }
    let (rt, mut prepared, started, started_at) = match start(&options, &loaded) {
        Ok(started) => started,
        Err(code) => return code,
    };
    if options.target.is_some() {
        // Against a real account every call costs money: say how many a run may place.
        printer.out.line(format_args!(
            "callspec: {} case(s) will run against {}, sending up to {} create requests (each may place a call)",
            selected.iter().filter(|(_, s)| s.is_none()).count(),
            prepared.harness.base_url,
            creates(&selected)
        ));
    }
    let threads = usize::from(args.test_threads.unwrap_or(64));
    let mut tally = Tally { filtered_out: loaded.cases.len() - selected.len(), ..Tally::default() };
    printer.start(selected.len());
    let results = rt.block_on(execute(&prepared, &selected, threads, &mut printer, &mut tally));
    let wall = started.elapsed();
    let ordered: Vec<CaseResult> = results.values().cloned().collect();
    printer.finish(&ordered, tally, wall);
    if let Some(emulator) = prepared.embedded.take() {
        rt.block_on(emulator.shutdown());
    }
    finish(&options, &loaded, &prepared, results, started_at, wall, &mut printer.out)
}

/// Runs the cases, at most `threads` at once, printing each result as it ends. Cases that need a
/// shared account's queue to themselves ([`crate::runner::Harness::runs_alone`]) start once every
/// other case has ended, so they wait once instead of stalling the shared cases in the middle;
/// the others start longest deadline first.
async fn execute(
    prepared: &Prepared,
    selected: &[(&Case, Option<String>)],
    threads: usize,
    printer: &mut Printer,
    tally: &mut Tally,
) -> BTreeMap<String, CaseResult> {
    let mut results = BTreeMap::new();
    let gate = Arc::new(tokio::sync::Semaphore::new(threads));
    let (alone, mut shared): (Vec<_>, Vec<_>) =
        selected.iter().partition(|(case, skip)| skip.is_none() && prepared.harness.runs_alone(case));
    // The longest cases start first: on a shared account they also get the first CPS slots, so
    // the run ends with short cases rather than waiting out a long one that started last.
    shared.sort_by_key(|(case, _)| std::cmp::Reverse(case.data.deadline_ms.unwrap_or(0)));
    for phase in [shared, alone] {
        let mut running = tokio::task::JoinSet::new();
        for (case, skip) in phase {
            if let Some(reason) = skip {
                let r = skipped(case, reason.clone());
                printer.result(&r);
                tally.add(r.status);
                results.insert(r.name.clone(), r);
                continue;
            }
            let (harness, gate, case) = (prepared.harness.clone(), gate.clone(), (*case).clone());
            running.spawn(async move {
                // The gate is never closed, so acquiring cannot fail; without a permit the case still runs.
                let _permit = gate.acquire_owned().await.ok();
                harness.run_case(&case).await
            });
        }
        while let Some(done) = running.join_next().await {
            // A panicking case is a harness bug; it is reported as ERROR by name below.
            if let Ok(r) = done {
                printer.result(&r);
                tally.add(r.status);
                results.insert(r.name.clone(), r);
            }
        }
    }
    for (case, _) in selected {
        if !results.contains_key(&case.name) {
            let mut r = skipped(case, String::new());
            (r.status, r.reason, r.error) =
                (Status::Error, None, Some("the case's task panicked (a harness bug)".into()));
            printer.result(&r);
            tally.add(r.status);
            results.insert(r.name.clone(), r);
        }
    }
    results
}

/// The `cargo test` entry point: libtest-mimic trials over the same harness.
pub(super) fn run_libtest(options: Options, mut args: Arguments) -> ExitCode {
    let loaded: Loaded = match load(&options) {
        Ok(l) => l,
        Err(e) => return config_error(e),
    };
    // Cases wait on the target most of the time: run many at once unless told otherwise.
    args.test_threads.get_or_insert(64);
    let selected = select(&options, &loaded);
    if args.list {
        let trials = selected
            .iter()
            .map(|(c, skip)| Trial::test(c.name.clone(), || Ok(())).with_ignored_flag(skip.is_some()))
            .collect();
        return libtest_mimic::run(&args, trials).exit_code();
    }
    let (rt, mut prepared, started, started_at) = match start(&options, &loaded) {
        Ok(started) => started,
        Err(code) => return code,
    };
    let results: Arc<Mutex<BTreeMap<String, CaseResult>>> = Arc::new(Mutex::new(BTreeMap::new()));
    let trials: Vec<Trial> =
        selected.iter().map(|(case, skip)| trial(case, skip.clone(), &prepared, &results, rt.handle())).collect();
    let conclusion = libtest_mimic::run(&args, trials);
    let wall = started.elapsed();
    if let Some(emulator) = prepared.embedded.take() {
        rt.block_on(emulator.shutdown());
    }
    let ran = std::mem::take(&mut *results.lock().unwrap_or_else(|p| p.into_inner()));
    let nothing_ran = ran.values().all(|r| r.status == Status::Skip);
    let mut out = super::print::Out::default();
    let code = finish(&options, &loaded, &prepared, ran, started_at, wall, &mut out);
    // `cargo test NAME` sends its filter to every test binary: an empty selection is a pass here.
    if nothing_ran && conclusion.num_failed == 0 { ExitCode::SUCCESS } else { code }
}

/// One case as a libtest trial. A case the profile cannot run is an ignored trial that never
/// touches the target, even under `--include-ignored`.
fn trial(
    case: &Case,
    skip: Option<String>,
    prepared: &Prepared,
    results: &Arc<Mutex<BTreeMap<String, CaseResult>>>,
    handle: &tokio::runtime::Handle,
) -> Trial {
    let (case, harness, results, handle) = (case.clone(), prepared.harness.clone(), results.clone(), handle.clone());
    let (name, area, ignored) = (case.name.clone(), case.area.clone(), skip.is_some());
    Trial::test(name, move || {
        let result = match &skip {
            Some(reason) => skipped(&case, reason.clone()),
            None => handle.block_on(harness.run_case(&case)),
        };
        let verdict = match result.status {
            Status::Pass | Status::XFail | Status::Skip => Ok(()),
            _ => Err(Failed::from(result.message())),
        };
        results.lock().unwrap_or_else(|p| p.into_inner()).insert(case.name.clone(), result);
        verdict
    })
    .with_kind(area)
    .with_ignored_flag(ignored)
}
