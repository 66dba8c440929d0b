//! `cargo xtask variance [--seeds N] [--jobs N] [SEED...]`: proves the suite accepts what the real
//! API does.
//!
//! Fault injection (`cargo xtask faults`) shows the suite catches what is wrong; this shows it
//! accepts what is right. Builds the `callspec` binary once and runs the whole suite once per seed
//! against the embedded emulator in variance mode (`callspec --variance SEED --no-snapshots
//! --report-dir target/variance/SEED --no-coverage`), several at a time in the job pool of `pool`
//! that `cargo xtask faults` uses (`cargo xtask ci` puts both in one pool). Seeds 1 to 5 by
//! default, 1 to N with `--seeds N`, or the SEEDs named. Within what Twilio documents or is
//! observed to do, the emulator then behaves like the real API rather than like the tidiest
//! reading (null dates at create, callbacks out of order, a jittered dequeue, …; see
//! `crates/emulator/src/variance.rs`), deterministically per seed.
//!
//! It passes when every case PASSes (or SKIPs) under every seed. Prints a table (seed, counts,
//! the first failing cases) and writes it to `target/variance/summary.md` with every failure of
//! every failing case. A case that fails refuses something Twilio does: loosen the case to what
//! Twilio documents, never the variance.

use crate::faults::PoolSummary;
use crate::pool::{self, RunResult, SuiteRun};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Seeds run by default: 1 to this.
pub(crate) const DEFAULT_SEEDS: u64 = 5;
/// How many failing cases the table names per seed.
const SHOWN_CASES: usize = 3;

/// The variance runs to make: one per seed.
pub(crate) struct Plan {
    seeds: Vec<u64>,
    out_dir: PathBuf,
}

/// `cargo xtask variance [--seeds N] [--jobs N] [SEED...]`.
#[allow(clippy::print_stderr, reason = "xtask reports progress on stderr")]
pub(crate) fn run(root: &Path, cargo: &mut Command, args: &[String]) -> Result<(), String> {
    let (jobs, seeds) = parse_args(args)?;
    eprintln!("\n==> xtask: variance: every case must PASS against the emulator in variance mode, under every seed");
    let bin = pool::build_callspec(root, cargo, "variance")?;
    let plan = plan(root, seeds)?;
    let runs = plan.runs();
    eprintln!("==> xtask: {} suite runs (seeds {}), {jobs} at a time", runs.len(), plan.seeds_text());
    let started = Instant::now();
    let count = runs.len();
    let results = pool::run_all(&bin, root, runs, jobs);
    plan.judge(&results, &PoolSummary { runs: count, jobs, wall: started.elapsed() })
}

/// The default seeds: 1 to [`DEFAULT_SEEDS`].
pub(crate) fn default_seeds() -> Vec<u64> {
    (1..=DEFAULT_SEEDS).collect()
}

/// Plans one run per seed and clears `target/variance`.
pub(crate) fn plan(root: &Path, seeds: Vec<u64>) -> Result<Plan, String> {
    let out_dir = root.join("target/variance");
    let _ = std::fs::remove_dir_all(&out_dir);
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("variance: cannot create {}: {e}", out_dir.display()))?;
    Ok(Plan { seeds, out_dir })
}

/// The label of a seed's run in the pool.
fn label(seed: u64) -> String {
    format!("variance {seed}")
}

impl Plan {
    /// `--variance SEED --report-dir target/variance/SEED` per seed.
    pub(crate) fn runs(&self) -> Vec<SuiteRun> {
        self.seeds
            .iter()
            .map(|seed| SuiteRun {
                label: label(*seed),
                dir: self.out_dir.join(seed.to_string()),
                args: vec!["--variance".to_owned(), seed.to_string()],
            })
            .collect()
    }

    fn seeds_text(&self) -> String {
        self.seeds.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
    }

    /// Checks that every case PASSed or SKIPped under every seed; prints the table and writes
    /// `target/variance/summary.md`.
    #[allow(clippy::print_stderr, clippy::print_stdout, reason = "xtask reports on stdout and stderr")]
    pub(crate) fn judge(&self, results: &BTreeMap<String, RunResult>, pool: &PoolSummary) -> Result<(), String> {
        let rows: Vec<(u64, Option<&RunResult>)> = self.seeds.iter().map(|s| (*s, results.get(&label(*s)))).collect();
        println!("\n{}", table(&rows));
        let accepted = rows.iter().filter(|(_, r)| r.is_some_and(accepts)).count();
        let longest = rows.iter().filter_map(|(_, r)| *r).map(|r| r.wall.as_secs_f64()).fold(0.0, f64::max);
        let summary = format!(
            "variance: {accepted}/{} seeds with every case PASS or SKIP; {} (longest run {longest:.1} s)",
            rows.len(),
            pool.describe()
        );
        println!("{summary}");
        let _ = std::fs::write(self.out_dir.join("summary.md"), format!("{}\n{summary}\n", markdown(&rows)));
        if accepted == rows.len() {
            eprintln!("==> xtask: the suite accepts every variance (reports under {})", self.out_dir.display());
            return Ok(());
        }
        let mut msg = String::from(
            "variance: these cases refuse what Twilio documents or is observed to do (loosen the case to \
             Twilio's docs, never the variance; every failure is in target/variance/summary.md):",
        );
        for (seed, result) in &rows {
            let Some(result) = result else {
                let _ = write!(msg, "\n  seed {seed}: not run");
                continue;
            };
            if let Some(problem) = result.problem.as_ref().or(result.preflight.as_ref()) {
                let _ = write!(msg, "\n  seed {seed}: {problem}");
            }
            for case in result.not_passing() {
                let first = result.failures.get(case).and_then(|f| f.first()).map(String::as_str).unwrap_or("");
                let _ = write!(msg, "\n  seed {seed}: {case} ({}): {first}", result.statuses[case]);
            }
        }
        Err(msg)
    }
}

/// Whether a run reported and every case in it PASSed or SKIPped.
fn accepts(result: &RunResult) -> bool {
    result.problem.is_none() && result.preflight.is_none() && result.not_passing().is_empty()
}

/// `--seeds N`, `--jobs N` and the seeds named.
fn parse_args(args: &[String]) -> Result<(usize, Vec<u64>), String> {
    let (jobs, rest) = pool::parse_jobs("variance", args)?;
    let mut count = None;
    let mut named = Vec::new();
    let mut it = rest.iter();
    while let Some(arg) = it.next() {
        let value = match arg.split_once('=') {
            Some(("--seeds", v)) => Some(v.to_owned()),
            _ if arg == "--seeds" => Some(it.next().cloned().ok_or("variance: --seeds needs a number")?),
            _ => None,
        };
        match value {
            Some(v) => count = Some(v.parse::<u64>().map_err(|_| format!("variance: --seeds {v:?} is not a number"))?),
            None if arg.starts_with('-') => return Err(format!("variance: unknown option {arg:?}")),
            None => named.push(arg.parse::<u64>().map_err(|_| format!("variance: seed {arg:?} is not a number"))?),
        }
    }
    let seeds = match (count, named.is_empty()) {
        (Some(_), false) => return Err("variance: give --seeds N or SEEDs, not both".into()),
        (Some(0), true) => return Err("variance: --seeds must be at least 1".into()),
        (Some(n), true) => (1..=n).collect(),
        (None, true) => default_seeds(),
        (None, false) => named,
    };
    Ok((jobs, seeds))
}

/// The first failing cases of a run, for the table.
fn failing_text(result: &RunResult) -> String {
    if let Some(problem) = result.problem.as_ref().or(result.preflight.as_ref()) {
        return format!("NOT RUN ({problem})");
    }
    let failing = result.not_passing();
    if failing.is_empty() {
        return "-".to_owned();
    }
    let mut text = failing.iter().take(SHOWN_CASES).copied().collect::<Vec<_>>().join(", ");
    if failing.len() > SHOWN_CASES {
        let _ = write!(text, ", … (+{})", failing.len() - SHOWN_CASES);
    }
    text
}

/// The counts of a run: PASS, FAIL, SKIP and any other status.
fn counts(result: &RunResult) -> [usize; 4] {
    let (pass, fail, skip) = (result.count("PASS"), result.count("FAIL"), result.count("SKIP"));
    [pass, fail, skip, result.statuses.len() - pass - fail - skip]
}

fn table(rows: &[(u64, Option<&RunResult>)]) -> String {
    let mut out =
        format!("{:>6}  {:>4}  {:>4}  {:>4}  {:>5}  failing cases\n", "seed", "pass", "fail", "skip", "other");
    for (seed, result) in rows {
        let Some(result) = result else {
            let _ = writeln!(out, "{seed:>6}  NOT RUN");
            continue;
        };
        let [pass, fail, skip, other] = counts(result);
        let _ = writeln!(out, "{seed:>6}  {pass:>4}  {fail:>4}  {skip:>4}  {other:>5}  {}", failing_text(result));
    }
    out
}

fn markdown(rows: &[(u64, Option<&RunResult>)]) -> String {
    let mut out =
        String::from("| seed | PASS | FAIL | SKIP | other | failing cases |\n|---:|---:|---:|---:|---:|---|\n");
    for (seed, result) in rows {
        match result {
            Some(result) => {
                let [pass, fail, skip, other] = counts(result);
                let failing = failing_text(result).replace('|', "\\|");
                let _ = writeln!(out, "| {seed} | {pass} | {fail} | {skip} | {other} | {failing} |");
            }
            None => {
                let _ = writeln!(out, "| {seed} | | | | | not run |");
            }
        }
    }
    for (seed, result) in rows {
        let Some(result) = result else { continue };
        let failing = result.not_passing();
        if failing.is_empty() {
            continue;
        }
        let _ = write!(out, "\n## seed {seed}\n\n");
        for case in failing {
            let _ = writeln!(out, "- `{case}` ({})", result.statuses[case]);
            for line in result.failures.get(case).into_iter().flatten() {
                let _ = writeln!(out, "  - {}", line.replace('\n', " "));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Result<(usize, Vec<u64>), String> {
        parse_args(&a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
    }

    #[test]
    fn arguments() {
        assert_eq!(args(&[]).map(|(_, s)| s), Ok(vec![1, 2, 3, 4, 5]));
        assert_eq!(args(&["--seeds", "2"]).map(|(_, s)| s), Ok(vec![1, 2]));
        assert_eq!(args(&["--seeds=3", "-j", "2"]), Ok((2, vec![1, 2, 3])));
        assert_eq!(args(&["42", "7"]).map(|(_, s)| s), Ok(vec![42, 7]));
        for bad in [&["--seeds"][..], &["--seeds", "x"], &["--seeds", "0"], &["--seeds", "2", "9"], &["-x"], &["x"]] {
            assert!(args(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn one_run_per_seed() {
        let plan = Plan { seeds: vec![1, 9], out_dir: PathBuf::from("t/variance") };
        let runs = plan.runs();
        assert_eq!(runs.len(), 2);
        assert_eq!((runs[1].label.as_str(), runs[1].dir.as_path()), ("variance 9", Path::new("t/variance/9")));
        assert_eq!(runs[1].args, ["--variance", "9"]);
    }

    #[test]
    fn a_seed_is_accepted_when_every_case_passes_or_skips() {
        let mut result = RunResult::default();
        result.statuses.insert("a::001".into(), "PASS".into());
        result.statuses.insert("a::002".into(), "SKIP".into());
        assert!(accepts(&result));
        assert_eq!(failing_text(&result), "-");
        result.statuses.insert("a::003".into(), "FAIL".into());
        result.failures.insert("a::003".into(), vec!["[schema] /date_created: null is not of type \"string\"".into()]);
        assert!(!accepts(&result));
        assert_eq!(counts(&result), [1, 1, 1, 0]);
        let md = markdown(&[(4, Some(&result))]);
        assert!(md.contains("| 4 | 1 | 1 | 1 | 0 | a::003 |"), "{md}");
        assert!(md.contains("## seed 4") && md.contains("  - [schema] /date_created"), "{md}");
        let unrun = RunResult { problem: Some("killed after 300 s".into()), ..RunResult::default() };
        assert!(!accepts(&unrun));
        assert!(table(&[(5, Some(&unrun)), (6, None)]).contains("NOT RUN (killed after 300 s)"));
    }
}
