//! `cargo xtask faults [--jobs N] [NAME...]`: proves the suite catches broken implementations.
//!
//! Builds the `callspec` binary once, asks it for the reference emulator's faults
//! (`callspec --list-faults`), runs the whole suite once without a fault and once per fault
//! (`callspec --fault NAME --report-dir target/faults/NAME --no-coverage`, several at a time:
//! the suite mostly waits on timers), reads each `report.json` and checks that every fault makes
//! at least one case FAIL that passes without it. What caught it is the `kind` of the failures in
//! those cases (`status`, `schema`, `callback-param`, …; see `crates/conformance/src/outcome.rs`).
//! A fault that makes the preflight refuse the target (exit 2, no report, no case run) is caught
//! too, with the kind `preflight`: the suite noticed, and would test nothing on such a target.
//! Prints a table (fault, cases that caught it, the kinds of check that failed, the first few
//! cases) and the kill ratio; writes the same table to `target/faults/summary.md`. A fault
//! nothing catches fails: sharpen the suite, never the fault.
//!
//! Snapshots stay off (`--no-snapshots`), so faults are caught by real checks.

use serde_json::Value;
use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Suite runs at once by default: each mostly sleeps on timers, so a few share 2 cores well.
const DEFAULT_JOBS: usize = 6;
/// A run taking longer than this is killed and counts as not run (every case has a deadline).
const RUN_LIMIT: Duration = Duration::from_secs(300);
/// How many catching cases the table names per fault.
const SHOWN_CASES: usize = 3;

/// One fault as `callspec --list-faults` prints it.
#[derive(Debug, Clone)]
struct FaultInfo {
    name: String,
    area: String,
    breaks: String,
}

/// What one suite run produced.
#[derive(Debug, Default)]
struct RunResult {
    /// Case name → status (`PASS`, `FAIL`, ...).
    statuses: BTreeMap<String, String>,
    /// Case name → the kinds of the checks that failed in it (`kind` in report.json).
    kinds: BTreeMap<String, Vec<String>>,
    /// The preflight's refusal, when the run stopped there (exit 2, no report, no case run).
    preflight: Option<String>,
    /// Why the run produced no usable report, if it did not.
    problem: Option<String>,
    wall: Duration,
}

/// `cargo xtask faults [--jobs N] [NAME...]`.
#[allow(clippy::print_stderr, clippy::print_stdout, reason = "xtask reports on stdout and stderr")]
pub(crate) fn run(root: &Path, cargo: &mut Command, args: &[String]) -> Result<(), String> {
    let started = Instant::now();
    let (jobs, only) = parse_args(args)?;
    eprintln!("\n==> xtask: fault injection: every emulator fault must make a case FAIL");
    let status = cargo
        .args(["build", "--quiet", "-p", "callspec-conformance", "--bin", "callspec"])
        .status()
        .map_err(|e| format!("faults: cannot start cargo: {e}"))?;
    if !status.success() {
        return Err(format!("faults: building callspec failed ({status})"));
    }
    let bin = callspec_binary(root);
    let mut faults = list_faults(&bin)?;
    if !only.is_empty() {
        if let Some(unknown) = only.iter().find(|n| !faults.iter().any(|f| &f.name == *n)) {
            let names: Vec<&str> = faults.iter().map(|f| f.name.as_str()).collect();
            return Err(format!("faults: unknown fault {unknown:?}; valid faults: {}", names.join(", ")));
        }
        faults.retain(|f| only.contains(&f.name));
    }
    let out_dir = root.join("target/faults");
    let _ = std::fs::remove_dir_all(&out_dir);
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("faults: cannot create {}: {e}", out_dir.display()))?;

    // The fault-free run goes first in the queue: it must pass, and a case only catches a fault
    // if it passes without it.
    let mut queue: VecDeque<Option<String>> = VecDeque::from([None]);
    queue.extend(faults.iter().map(|f| Some(f.name.clone())));
    eprintln!("==> xtask: {} suite runs (1 without a fault, {} faults), {jobs} at a time", queue.len(), faults.len());
    let results = run_all(&bin, root, &out_dir, queue, jobs);

    let baseline = results.get(&None).ok_or("faults: the fault-free run did not happen")?;
    if let Some(problem) = &baseline.problem {
        return Err(format!("faults: the fault-free run failed to report: {problem}"));
    }
    if let Some(refusal) = &baseline.preflight {
        return Err(format!("faults: the preflight refused the fault-free emulator: {refusal}"));
    }
    let broken: Vec<&String> =
        baseline.statuses.iter().filter(|(_, s)| !matches!(s.as_str(), "PASS" | "SKIP")).map(|(n, _)| n).collect();
    if !broken.is_empty() {
        let list: Vec<&str> = broken.iter().map(|s| s.as_str()).collect();
        return Err(format!("faults: the fault-free run must pass, but these cases did not: {}", list.join(", ")));
    }

    let mut rows = Vec::new();
    for fault in &faults {
        let result = results.get(&Some(fault.name.clone()));
        rows.push(Row::new(fault, baseline, result));
    }
    let caught = rows.iter().filter(|r| r.caught()).count();
    let table = table(&rows);
    println!("\n{table}");
    let ratio = if faults.is_empty() { 100.0 } else { caught as f64 * 100.0 / faults.len() as f64 };
    let wall = started.elapsed();
    let summary = format!(
        "kill ratio: {caught}/{} faults caught ({ratio:.0}%); {} suite runs, {jobs} at a time, in {:.0} s \
         (longest run {:.1} s)",
        faults.len(),
        results.len(),
        wall.as_secs_f64(),
        results.values().map(|r| r.wall.as_secs_f64()).fold(0.0, f64::max),
    );
    println!("{summary}");
    let md = format!("{}\n\n{summary}\n", markdown(&rows));
    let _ = std::fs::write(out_dir.join("summary.md"), md);
    let missed: Vec<&Row> = rows.iter().filter(|r| !r.caught()).collect();
    if missed.is_empty() {
        eprintln!("==> xtask: every fault is caught (reports under {})", out_dir.display());
        return Ok(());
    }
    let mut msg = String::from("faults: no case catches these faults; sharpen or add a case (never weaken the fault):");
    for row in missed {
        let _ = write!(msg, "\n  {} ({}): {}", row.name, row.area, row.breaks);
        if let Some(problem) = &row.problem {
            let _ = write!(msg, " [run problem: {problem}]");
        }
    }
    Err(msg)
}

fn parse_args(args: &[String]) -> Result<(usize, Vec<String>), String> {
    let mut jobs = std::env::var("CALLSPEC_FAULT_JOBS").ok().and_then(|j| j.parse().ok()).unwrap_or(DEFAULT_JOBS);
    let mut only = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let value = match arg.split_once('=') {
            Some(("--jobs", v)) => Some(v.to_owned()),
            _ if arg == "--jobs" || arg == "-j" => Some(it.next().cloned().ok_or("faults: --jobs needs a number")?),
            _ => None,
        };
        match value {
            Some(v) => jobs = v.parse().map_err(|_| format!("faults: --jobs {v:?} is not a number"))?,
            None if arg.starts_with('-') => return Err(format!("faults: unknown option {arg:?}")),
            None => only.push(arg.clone()),
        }
    }
    Ok((jobs.max(1), only))
}

fn callspec_binary(root: &Path) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));
    let target = if target.is_absolute() { target } else { root.join(target) };
    target.join("debug").join(format!("callspec{}", std::env::consts::EXE_SUFFIX))
}

fn list_faults(bin: &Path) -> Result<Vec<FaultInfo>, String> {
    let out = Command::new(bin)
        .arg("--list-faults")
        .output()
        .map_err(|e| format!("faults: cannot run {}: {e}", bin.display()))?;
    if !out.status.success() {
        return Err(format!("faults: `callspec --list-faults` failed ({})", out.status));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let faults: Vec<FaultInfo> = text
        .lines()
        .filter_map(|line| {
            let mut cols = line.splitn(3, '\t');
            let name = cols.next()?.trim();
            (!name.is_empty()).then(|| FaultInfo {
                name: name.to_owned(),
                area: cols.next().unwrap_or("").trim().to_owned(),
                breaks: cols.next().unwrap_or("").trim().to_owned(),
            })
        })
        .collect();
    if faults.is_empty() {
        return Err("faults: `callspec --list-faults` named no fault".into());
    }
    Ok(faults)
}

/// Runs every queued suite run (`None`: no fault), `jobs` at a time.
#[allow(clippy::print_stderr, reason = "xtask reports progress on stderr")]
fn run_all(
    bin: &Path,
    root: &Path,
    out_dir: &Path,
    queue: VecDeque<Option<String>>,
    jobs: usize,
) -> BTreeMap<Option<String>, RunResult> {
    let total = queue.len();
    let queue = Arc::new(Mutex::new(queue));
    let results = Arc::new(Mutex::new(BTreeMap::new()));
    let workers: Vec<_> = (0..jobs.min(total.max(1)))
        .map(|_| {
            let (queue, results) = (queue.clone(), results.clone());
            let (bin, root, out_dir) = (bin.to_path_buf(), root.to_path_buf(), out_dir.to_path_buf());
            std::thread::spawn(move || {
                loop {
                    let next = queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
                    let Some(fault) = next else { break };
                    let result = run_one(&bin, &root, &out_dir, fault.as_deref());
                    let mut done = results.lock().unwrap_or_else(|p| p.into_inner());
                    let label = fault.as_deref().unwrap_or("(no fault)");
                    let fails = result.statuses.values().filter(|s| *s == "FAIL").count();
                    let note = match (&result.preflight, &result.problem) {
                        (Some(refusal), _) => format!(", preflight refused the target: {refusal}"),
                        (None, Some(problem)) => format!(", {problem}"),
                        (None, None) => String::new(),
                    };
                    eprintln!(
                        "    [{:>2}/{total}] {label}: {fails} FAIL in {:.1} s{note}",
                        done.len() + 1,
                        result.wall.as_secs_f64()
                    );
                    done.insert(fault, result);
                }
            })
        })
        .collect();
    for worker in workers {
        let _ = worker.join();
    }
    std::mem::take(&mut *results.lock().unwrap_or_else(|p| p.into_inner()))
}

/// One suite run: its output goes to `<dir>/output.log`, its reports to `<dir>/`.
fn run_one(bin: &Path, root: &Path, out_dir: &Path, fault: Option<&str>) -> RunResult {
    let started = Instant::now();
    let dir = out_dir.join(fault.unwrap_or("no-fault"));
    let mut result = RunResult::default();
    if let Err(e) = std::fs::create_dir_all(&dir) {
        result.problem = Some(format!("cannot create {}: {e}", dir.display()));
        return result;
    }
    let log = match std::fs::File::create(dir.join("output.log")) {
        Ok(f) => f,
        Err(e) => {
            result.problem = Some(format!("cannot create the log: {e}"));
            return result;
        }
    };
    let mut cmd = Command::new(bin);
    cmd.current_dir(root)
        .arg("--root")
        .arg(root)
        .arg("--report-dir")
        .arg(&dir)
        .args(["--no-coverage", "--no-snapshots", "-q"])
        .stdin(Stdio::null())
        .stderr(log.try_clone().map(Stdio::from).unwrap_or_else(|_| Stdio::null()))
        .stdout(log);
    if let Some(name) = fault {
        cmd.args(["--fault", name]);
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            result.problem = Some(format!("cannot start callspec: {e}"));
            return result;
        }
    };
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() > RUN_LIMIT => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(100)),
            Err(_) => break None,
        }
    };
    result.wall = started.elapsed();
    let Some(status) = status else {
        result.problem = Some(format!("killed after {} s", RUN_LIMIT.as_secs()));
        return result;
    };
    let report = dir.join("report.json");
    let text = match std::fs::read_to_string(&report) {
        Ok(text) => text,
        Err(e) => {
            // Without a report, the run may still have noticed the fault: the preflight refuses a
            // target that cannot be tested (exit 2, one sentence, no case run).
            match preflight_refusal(&dir.join("output.log"), status.code()) {
                Some(refusal) => result.preflight = Some(refusal),
                None => result.problem = Some(format!("no report.json ({e}); exit {status}; see {}", dir.display())),
            }
            return result;
        }
    };
    if let Err(e) = serde_json::from_str(&text).map_err(|e| e.to_string()).and_then(|v| read_report(&v, &mut result)) {
        result.problem = Some(format!("unreadable {}: {e}", report.display()));
    } else if result.statuses.is_empty() {
        result.problem = Some("report.json lists no case".into());
    }
    result
}

/// The sentence of a preflight refusal: exit 2 and the runner's `callspec: the target at …`
/// line (every preflight error starts so; see `crates/conformance/src/preflight.rs`).
fn preflight_refusal(log: &Path, code: Option<i32>) -> Option<String> {
    if code != Some(2) {
        return None;
    }
    let text = std::fs::read_to_string(log).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("callspec: ").filter(|r| r.starts_with("the target at ")).map(str::to_owned))
}

/// Reads each case's status and the kinds of its failures (the runner's `kind`, kebab-case).
fn read_report(report: &Value, result: &mut RunResult) -> Result<(), String> {
    let cases = report.get("cases").and_then(Value::as_array).ok_or("no \"cases\" array")?;
    for case in cases {
        let name = case.get("name").and_then(Value::as_str).ok_or("a case without a \"name\"")?;
        let status = case.get("status").and_then(Value::as_str).ok_or_else(|| format!("{name}: no \"status\""))?;
        let failures = case.get("failures").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        let mut kinds = failures
            .iter()
            .map(|f| {
                f.get("kind")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .ok_or_else(|| format!("{name}: a failure without a \"kind\""))
            })
            .collect::<Result<Vec<String>, String>>()?;
        kinds.sort_unstable();
        kinds.dedup();
        result.statuses.insert(name.to_owned(), status.to_owned());
        result.kinds.insert(name.to_owned(), kinds);
    }
    Ok(())
}

/// One line of the table.
struct Row {
    name: String,
    area: String,
    breaks: String,
    /// Cases that FAIL with the fault and pass without it.
    catchers: Vec<String>,
    /// Kind → number of catching cases with a failure of that kind.
    kinds: BTreeMap<String, usize>,
    /// The preflight refused the faulty target: caught before any case ran.
    preflight: Option<String>,
    problem: Option<String>,
}

impl Row {
    fn new(fault: &FaultInfo, baseline: &RunResult, result: Option<&RunResult>) -> Row {
        let mut row = Row {
            name: fault.name.clone(),
            area: fault.area.clone(),
            breaks: fault.breaks.clone(),
            catchers: Vec::new(),
            kinds: BTreeMap::new(),
            preflight: None,
            problem: None,
        };
        let Some(result) = result else {
            row.problem = Some("not run".into());
            return row;
        };
        row.problem = result.problem.clone();
        row.preflight = result.preflight.clone();
        for (case, status) in &result.statuses {
            if status == "FAIL" && baseline.statuses.get(case).is_some_and(|s| s == "PASS") {
                row.catchers.push(case.clone());
                for kind in result.kinds.get(case).into_iter().flatten() {
                    *row.kinds.entry(kind.clone()).or_default() += 1;
                }
            }
        }
        row
    }

    fn caught(&self) -> bool {
        !self.catchers.is_empty() || self.preflight.is_some()
    }

    /// The `caught` column: how many cases caught it, or `-` when the preflight did.
    fn count_text(&self) -> String {
        if self.preflight.is_some() { "-".to_owned() } else { self.catchers.len().to_string() }
    }

    fn kinds_text(&self) -> String {
        if self.preflight.is_some() {
            return "preflight".to_owned();
        }
        let mut kinds: Vec<(&String, &usize)> = self.kinds.iter().collect();
        kinds.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        kinds.iter().map(|(k, n)| format!("{k} {n}")).collect::<Vec<_>>().join(", ")
    }

    fn cases_text(&self) -> String {
        if let Some(refusal) = &self.preflight {
            return format!("(no case ran: the preflight refused the target: {refusal})");
        }
        if self.catchers.is_empty() {
            return format!("NOT CAUGHT{}", self.problem.as_deref().map(|p| format!(" ({p})")).unwrap_or_default());
        }
        let mut text = self.catchers.iter().take(SHOWN_CASES).cloned().collect::<Vec<_>>().join(", ");
        if self.catchers.len() > SHOWN_CASES {
            let _ = write!(text, ", … (+{})", self.catchers.len() - SHOWN_CASES);
        }
        text
    }
}

fn table(rows: &[Row]) -> String {
    let w_name = rows.iter().map(|r| r.name.len()).max().unwrap_or(5).max(5);
    let w_area = rows.iter().map(|r| r.area.len()).max().unwrap_or(4).max(4);
    let kinds: Vec<String> = rows.iter().map(Row::kinds_text).collect();
    let w_kinds = kinds.iter().map(|k| k.chars().count()).max().unwrap_or(6).max(6);
    let mut out =
        format!("{:<w_name$}  {:<w_area$}  {:>6}  {:<w_kinds$}  first cases\n", "fault", "area", "caught", "checks");
    for (row, kinds) in rows.iter().zip(&kinds) {
        let _ = writeln!(
            out,
            "{:<w_name$}  {:<w_area$}  {:>6}  {:<w_kinds$}  {}",
            row.name,
            row.area,
            row.count_text(),
            kinds,
            row.cases_text()
        );
    }
    out
}

fn markdown(rows: &[Row]) -> String {
    let mut out = String::from(
        "| fault | area | breaks | cases that caught it | checks that failed | first cases |\n|---|---|---|---:|---|---|\n",
    );
    for row in rows {
        let cases: Vec<String> = row.catchers.iter().take(SHOWN_CASES).map(|c| format!("`{c}`")).collect();
        let more = row.catchers.len().saturating_sub(SHOWN_CASES);
        let cases = if let Some(refusal) = &row.preflight {
            format!("no case ran: the preflight refused the target: {}", refusal.replace('|', "\\|"))
        } else if row.catchers.is_empty() {
            "**not caught**".to_owned()
        } else if more > 0 {
            format!("{} (+{more})", cases.join(", "))
        } else {
            cases.join(", ")
        };
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {} |",
            row.name,
            row.area,
            row.breaks.replace('|', "\\|"),
            row.count_text(),
            row.kinds_text(),
            cases
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_are_read_by_kind() {
        let report = serde_json::json!({"cases": [
            {"name": "a::001_x", "status": "FAIL", "failures": [
                {"kind": "status", "message": "wrong status code"},
                {"kind": "schema", "message": "\"code\" is a required property"},
                {"kind": "status", "message": "wrong status code"}]},
            {"name": "a::002_y", "status": "PASS", "failures": []},
        ]});
        let mut result = RunResult::default();
        assert_eq!(read_report(&report, &mut result), Ok(()));
        assert_eq!(result.statuses.get("a::001_x").map(String::as_str), Some("FAIL"));
        assert_eq!(result.kinds.get("a::001_x"), Some(&vec!["schema".to_owned(), "status".to_owned()]));
        assert_eq!(result.kinds.get("a::002_y"), Some(&Vec::new()));
        let old = serde_json::json!({"cases": [{"name": "a", "status": "FAIL", "failures": [{"message": "m"}]}]});
        assert!(read_report(&old, &mut RunResult::default()).is_err(), "a failure must carry its kind");
        assert!(read_report(&serde_json::json!({}), &mut RunResult::default()).is_err());
    }

    #[test]
    fn preflight_refusals() {
        let dir = std::env::temp_dir().join(format!("xtask-faults-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let log = dir.join("output.log");
        let sentence = "the target at http://x/Calls.json does not serve the Calls API there: HTTP 500 oops";
        std::fs::write(&log, format!("callspec: {sentence}\ncallspec: configuration error; nothing was run\n"))
            .expect("log");
        assert_eq!(preflight_refusal(&log, Some(2)).as_deref(), Some(sentence));
        assert_eq!(preflight_refusal(&log, Some(1)), None);
        std::fs::write(&log, "error: invalid value 'x' for '--fault <NAME>'\n").expect("log");
        assert_eq!(preflight_refusal(&log, Some(2)), None);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A run that stops at the preflight counts as caught; any other run without a report does not.
    #[cfg(unix)]
    #[test]
    fn runs_without_a_report() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = std::env::temp_dir().join(format!("xtask-faults-run-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let fake = |name: &str, script: &str| {
            let path = dir.join(name);
            std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).expect("script");
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
            path
        };
        let refused =
            fake("refused", "echo 'callspec: the target at http://x/ cannot be reached: refused' >&2; exit 2");
        let result = run_one(&refused, &dir, &dir, Some("some-fault"));
        assert_eq!(result.preflight.as_deref(), Some("the target at http://x/ cannot be reached: refused"));
        assert_eq!(result.problem, None);
        let broken = fake("broken", "echo 'error: unexpected argument' >&2; exit 2");
        let result = run_one(&broken, &dir, &dir, Some("other-fault"));
        assert_eq!(result.preflight, None);
        assert!(result.problem.is_some_and(|p| p.contains("no report.json")));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn arguments() {
        let args = |a: &[&str]| parse_args(&a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
        assert_eq!(args(&["--jobs", "3", "create-200"]), Ok((3, vec!["create-200".to_owned()])));
        assert_eq!(args(&["--jobs=0"]).map(|(j, _)| j), Ok(1));
        assert!(args(&["--jobs"]).is_err() && args(&["--bogus"]).is_err() && args(&["-j", "x"]).is_err());
    }
}
