//! `cargo xtask faults [--jobs N] [NAME...]`: proves the suite catches broken implementations.
//!
//! Builds the `callspec` binary once, asks it for the reference emulator's faults
//! (`callspec --list-faults`), runs the whole suite once without a fault and once per fault
//! (`callspec --fault NAME --report-dir target/faults/NAME --no-coverage`, several at a time in
//! the job pool of `pool`, which `cargo xtask variance` shares and `cargo xtask ci` fills with
//! both), reads each `report.json` and checks that every fault makes
//! at least one case FAIL that passes without it. What caught it is the `kind` of the failures in
//! those cases (`status`, `schema`, `callback-param`, …; see `crates/conformance/src/outcome.rs`).
//! A fault that makes the preflight refuse the target (exit 2, no report, no case run) is caught
//! too, with the kind `preflight`: the suite noticed, and would test nothing on such a target.
//! Prints a table (fault, cases that caught it, the kinds of check that failed, the first few
//! cases) and the kill ratio; writes the same table to `target/faults/summary.md`. A fault
//! nothing catches fails: sharpen the suite, never the fault.
//!
//! Snapshots stay off (`--no-snapshots`), so faults are caught by real checks.

use crate::pool::{self, RunResult, SuiteRun};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// How many catching cases the table names per fault.
const SHOWN_CASES: usize = 3;
/// The label (and report directory name) of the fault-free run.
const NO_FAULT: &str = "no-fault";

/// One fault as `callspec --list-faults` prints it.
#[derive(Debug, Clone)]
struct FaultInfo {
    name: String,
    area: String,
    breaks: String,
}

/// How a pool of suite runs went, for the summary lines.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PoolSummary {
    /// Suite runs in the pool (all callers').
    pub(crate) runs: usize,
    /// Runs at once.
    pub(crate) jobs: usize,
    /// The pool's wall time.
    pub(crate) wall: Duration,
}

impl PoolSummary {
    /// `N suite runs, J at a time, in W s`.
    pub(crate) fn describe(&self) -> String {
        format!("{} suite runs, {} at a time, in {:.0} s", self.runs, self.jobs, self.wall.as_secs_f64())
    }
}

/// The fault runs to make: the fault-free run, then one per fault.
pub(crate) struct Plan {
    faults: Vec<FaultInfo>,
    out_dir: PathBuf,
}

/// `cargo xtask faults [--jobs N] [NAME...]`.
#[allow(clippy::print_stderr, reason = "xtask reports progress on stderr")]
pub(crate) fn run(root: &Path, cargo: &mut Command, args: &[String]) -> Result<(), String> {
    let (jobs, only) = parse_args(args)?;
    eprintln!("\n==> xtask: fault injection: every emulator fault must make a case FAIL");
    let bin = pool::build_callspec(root, cargo, "faults")?;
    let plan = plan(root, &bin, &only)?;
    let runs = plan.runs();
    eprintln!(
        "==> xtask: {} suite runs (1 without a fault, {} faults), {jobs} at a time",
        runs.len(),
        plan.faults.len()
    );
    let started = Instant::now();
    let count = runs.len();
    let results = pool::run_all(&bin, root, runs, jobs);
    plan.judge(&results, &PoolSummary { runs: count, jobs, wall: started.elapsed() })
}

/// Lists the faults of the `callspec` binary `bin` (only those named in `only`, if any) and
/// clears `target/faults`.
pub(crate) fn plan(root: &Path, bin: &Path, only: &[String]) -> Result<Plan, String> {
    let mut faults = list_faults(bin)?;
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
    Ok(Plan { faults, out_dir })
}

impl Plan {
    /// The suite runs: the fault-free run first (it must pass, and a case only catches a fault
    /// if it passes without it), then `--fault NAME --report-dir target/faults/NAME` per fault.
    pub(crate) fn runs(&self) -> Vec<SuiteRun> {
        let baseline = SuiteRun { label: NO_FAULT.to_owned(), dir: self.out_dir.join(NO_FAULT), args: Vec::new() };
        let faults = self.faults.iter().map(|f| SuiteRun {
            label: f.name.clone(),
            dir: self.out_dir.join(&f.name),
            args: vec!["--fault".to_owned(), f.name.clone()],
        });
        std::iter::once(baseline).chain(faults).collect()
    }

    /// Checks that the fault-free run passes and that every fault made a case FAIL; prints the
    /// table and the kill ratio and writes `target/faults/summary.md`.
    #[allow(clippy::print_stderr, clippy::print_stdout, reason = "xtask reports on stdout and stderr")]
    pub(crate) fn judge(&self, results: &BTreeMap<String, RunResult>, pool: &PoolSummary) -> Result<(), String> {
        let baseline = results.get(NO_FAULT).ok_or("faults: the fault-free run did not happen")?;
        if let Some(problem) = &baseline.problem {
            return Err(format!("faults: the fault-free run failed to report: {problem}"));
        }
        if let Some(refusal) = &baseline.preflight {
            return Err(format!("faults: the preflight refused the fault-free emulator: {refusal}"));
        }
        let broken = baseline.not_passing();
        if !broken.is_empty() {
            return Err(format!(
                "faults: the fault-free run must pass, but these cases did not: {}",
                broken.join(", ")
            ));
        }
        let rows: Vec<Row> = self.faults.iter().map(|f| Row::new(f, baseline, results.get(&f.name))).collect();
        let caught = rows.iter().filter(|r| r.caught()).count();
        println!("\n{}", table(&rows));
        let total = self.faults.len();
        let ratio = if total == 0 { 100.0 } else { caught as f64 * 100.0 / total as f64 };
        let longest = results.values().map(|r| r.wall.as_secs_f64()).fold(0.0, f64::max);
        let summary = format!(
            "kill ratio: {caught}/{total} faults caught ({ratio:.0}%); {} (longest run {longest:.1} s)",
            pool.describe()
        );
        println!("{summary}");
        let _ = std::fs::write(self.out_dir.join("summary.md"), format!("{}\n\n{summary}\n", markdown(&rows)));
        let missed: Vec<&Row> = rows.iter().filter(|r| !r.caught()).collect();
        if missed.is_empty() {
            eprintln!("==> xtask: every fault is caught (reports under {})", self.out_dir.display());
            return Ok(());
        }
        let mut msg =
            String::from("faults: no case catches these faults; sharpen or add a case (never weaken the fault):");
        for row in missed {
            let _ = write!(msg, "\n  {} ({}): {}", row.name, row.area, row.breaks);
            if let Some(problem) = &row.problem {
                let _ = write!(msg, " [run problem: {problem}]");
            }
        }
        Err(msg)
    }
}

/// `--jobs N` and the fault names.
fn parse_args(args: &[String]) -> Result<(usize, Vec<String>), String> {
    let (jobs, rest) = pool::parse_jobs("faults", args)?;
    if let Some(option) = rest.iter().find(|a| a.starts_with('-')) {
        return Err(format!("faults: unknown option {option:?}"));
    }
    Ok((jobs, rest))
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
    fn arguments() {
        let args = |a: &[&str]| parse_args(&a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
        assert_eq!(args(&["--jobs", "3", "create-200"]), Ok((3, vec!["create-200".to_owned()])));
        assert_eq!(args(&["--jobs=0"]).map(|(j, _)| j), Ok(1));
        assert!(args(&["--jobs"]).is_err() && args(&["--bogus"]).is_err() && args(&["-j", "x"]).is_err());
    }

    #[test]
    fn runs_start_with_the_fault_free_one() {
        let info = |name: &str| FaultInfo { name: name.into(), area: "A".into(), breaks: "b".into() };
        let plan = Plan { faults: vec![info("create-200"), info("sid-31-hex")], out_dir: PathBuf::from("t/faults") };
        let runs = plan.runs();
        assert_eq!(runs.iter().map(|r| r.label.as_str()).collect::<Vec<_>>(), [NO_FAULT, "create-200", "sid-31-hex"]);
        assert!(runs[0].args.is_empty());
        assert_eq!(runs[2].args, ["--fault", "sid-31-hex"]);
        assert_eq!(runs[2].dir, PathBuf::from("t/faults/sid-31-hex"));
    }

    #[test]
    fn a_fault_is_caught_by_a_case_that_passes_without_it() {
        let info = FaultInfo { name: "f".into(), area: "A".into(), breaks: "b".into() };
        let result = |status: &str| {
            let mut r = RunResult::default();
            r.statuses.insert("a::001".into(), status.into());
            r.kinds.insert("a::001".into(), vec!["status".into()]);
            r
        };
        let (pass, fail) = (result("PASS"), result("FAIL"));
        assert!(Row::new(&info, &pass, Some(&fail)).caught());
        assert!(!Row::new(&info, &fail, Some(&fail)).caught(), "failing anyway catches nothing");
        assert!(!Row::new(&info, &pass, None).caught());
        let refused = RunResult { preflight: Some("the target at …".into()), ..RunResult::default() };
        assert_eq!(Row::new(&info, &pass, Some(&refused)).kinds_text(), "preflight");
    }
}
