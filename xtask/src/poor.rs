//! `cargo xtask poor`: the whole suite against the embedded reference emulator under profiles that
//! declare less than it can do (`fixtures/targets/reference-emulator-poor.toml`: no subaccounts,
//! applications, recordings, callees, trial account or CPS, the guide's numbers not listed).
//!
//! It passes when every case PASSes or SKIPs with its reason and none FAILs or ERRORs: a FAIL
//! there is the harness blaming the target for what the profile did not declare (a case that
//! needs a number the profile does not list, a queue the harness did not pace for), an ERROR a
//! need the loader did not catch. `cargo xtask ci` runs it in the job pool of the fault and
//! variance runs.

use crate::faults::PoolSummary;
use crate::pool::{self, RunResult, SuiteRun};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The poor profiles, relative to the repository root.
const PROFILES: [&str; 1] = ["fixtures/targets/reference-emulator-poor.toml"];

/// The runs to make: one per poor profile.
pub(crate) struct Plan {
    profiles: Vec<PathBuf>,
    out_dir: PathBuf,
}

/// `cargo xtask poor`.
#[allow(clippy::print_stderr, reason = "xtask reports progress on stderr")]
pub(crate) fn run(root: &Path, cargo: &mut Command) -> Result<(), String> {
    eprintln!("\n==> xtask: poor profiles: every case must PASS or SKIP with its reason, none FAIL or ERROR");
    let bin = pool::build_callspec(root, cargo, "poor")?;
    let plan = plan(root)?;
    let runs = plan.runs();
    let started = Instant::now();
    let count = runs.len();
    let results = pool::run_all(&bin, root, runs, count);
    plan.judge(&results, &PoolSummary { runs: count, jobs: count, wall: started.elapsed() })
}

/// Plans one run per poor profile and clears `target/poor`.
pub(crate) fn plan(root: &Path) -> Result<Plan, String> {
    let out_dir = root.join("target/poor");
    let _ = std::fs::remove_dir_all(&out_dir);
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("poor: cannot create {}: {e}", out_dir.display()))?;
    Ok(Plan { profiles: PROFILES.iter().map(|p| root.join(p)).collect(), out_dir })
}

fn label(profile: &Path) -> String {
    format!("poor {}", profile.file_stem().and_then(|s| s.to_str()).unwrap_or("profile"))
}

impl Plan {
    /// `--profile PROFILE --report-dir target/poor/NAME` per profile.
    pub(crate) fn runs(&self) -> Vec<SuiteRun> {
        self.profiles
            .iter()
            .map(|p| SuiteRun {
                label: label(p),
                dir: self.out_dir.join(p.file_stem().unwrap_or_default()),
                args: vec!["--profile".to_owned(), p.display().to_string()],
            })
            .collect()
    }

    /// Checks every run: no FAIL, no ERROR, a reason for every SKIP, at least one case run.
    #[allow(clippy::print_stdout, clippy::print_stderr, reason = "xtask reports on stdout and stderr")]
    pub(crate) fn judge(&self, results: &BTreeMap<String, RunResult>, pool: &PoolSummary) -> Result<(), String> {
        let mut problems = String::new();
        for profile in &self.profiles {
            let name = label(profile);
            let Some(result) = results.get(&name) else {
                let _ = write!(problems, "\n  {name}: not run");
                continue;
            };
            println!(
                "{name}: {} PASS, {} SKIP, {} FAIL, {} ERROR in {:.1} s",
                result.count("PASS"),
                result.count("SKIP"),
                result.count("FAIL"),
                result.count("ERROR"),
                result.wall.as_secs_f64()
            );
            for problem in judge_one(result) {
                let _ = write!(problems, "\n  {name}: {problem}");
            }
        }
        if problems.is_empty() {
            eprintln!("==> xtask: every poor profile runs clean; {}", pool.describe());
            return Ok(());
        }
        Err(format!("poor profiles: the harness blames the target for what a profile did not declare:{problems}"))
    }
}

/// What is wrong with one poor-profile run.
fn judge_one(result: &RunResult) -> Vec<String> {
    let mut problems: Vec<String> = result.problem.iter().chain(&result.preflight).cloned().collect();
    for case in result.not_passing() {
        let first = result.failures.get(case).and_then(|f| f.first()).map(String::as_str).unwrap_or("");
        problems.push(format!("{case} ({}): {first}", result.statuses[case]));
    }
    problems.extend(
        result.skip_reasons.iter().filter(|(_, r)| r.is_empty()).map(|(c, _)| format!("{c}: SKIP without a reason")),
    );
    if result.problem.is_none() && result.count("PASS") == 0 {
        problems.push("no case ran".to_owned());
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(cases: &[(&str, &str, &str)]) -> RunResult {
        let mut r = RunResult::default();
        for (name, status, reason) in cases {
            r.statuses.insert((*name).to_owned(), (*status).to_owned());
            if *status == "SKIP" {
                r.skip_reasons.insert((*name).to_owned(), (*reason).to_owned());
            }
        }
        r
    }

    #[test]
    fn a_poor_run_is_clean_only_with_passes_and_reasoned_skips() {
        let clean = result(&[("a::1", "PASS", ""), ("a::2", "SKIP", "profile has no callees.busy")]);
        assert!(judge_one(&clean).is_empty());
        let failed = result(&[("a::1", "FAIL", ""), ("a::2", "ERROR", ""), ("a::3", "SKIP", "")]);
        let problems = judge_one(&failed);
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(problems[0].starts_with("a::1 (FAIL)") && problems[1].starts_with("a::2 (ERROR)"));
        assert_eq!(problems[2], "a::3: SKIP without a reason");
        assert_eq!(problems[3], "no case ran");
    }
}
