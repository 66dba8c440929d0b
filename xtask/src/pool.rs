//! The job pool of whole-suite runs that `cargo xtask faults` and `cargo xtask variance` share:
//! builds the `callspec` binary once, runs any list of [`SuiteRun`]s (`callspec ARGS --report-dir
//! DIR --no-coverage --no-snapshots -q`, several at a time: the suite mostly waits on timers) and
//! reads each run's `report.json` into a [`RunResult`]. What a run means (a fault caught, a
//! variance accepted) is the caller's to judge.

use serde_json::Value;
use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Suite runs at once by default: each mostly sleeps on timers, so a few share 2 cores well.
pub(crate) const DEFAULT_JOBS: usize = 6;
/// A run taking longer than this is killed and counts as not run (every case has a deadline).
const RUN_LIMIT: Duration = Duration::from_secs(300);

/// One whole-suite run to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SuiteRun {
    /// How progress lines and results name it (unique in a pool).
    pub(crate) label: String,
    /// Where its reports and `output.log` go.
    pub(crate) dir: PathBuf,
    /// The `callspec` arguments that make it what it is (e.g. `--fault NAME`).
    pub(crate) args: Vec<String>,
}

/// What one suite run produced.
#[derive(Debug, Default)]
pub(crate) struct RunResult {
    /// Case name → status (`PASS`, `FAIL`, ...).
    pub(crate) statuses: BTreeMap<String, String>,
    /// Case name → the kinds of the checks that failed in it (`kind` in report.json).
    pub(crate) kinds: BTreeMap<String, Vec<String>>,
    /// Case name → each distinct failure in one line: `[kind] pointer: message`.
    pub(crate) failures: BTreeMap<String, Vec<String>>,
    /// Case name → why it was skipped (`reason`; empty when the report gives none), for SKIPs.
    pub(crate) skip_reasons: BTreeMap<String, String>,
    /// The preflight's refusal, when the run stopped there (exit 2, no report, no case run).
    pub(crate) preflight: Option<String>,
    /// Why the run produced no usable report, if it did not.
    pub(crate) problem: Option<String>,
    pub(crate) wall: Duration,
}

impl RunResult {
    /// The cases whose status is neither PASS nor SKIP.
    pub(crate) fn not_passing(&self) -> Vec<&str> {
        self.statuses.iter().filter(|(_, s)| !matches!(s.as_str(), "PASS" | "SKIP")).map(|(n, _)| n.as_str()).collect()
    }

    /// How many cases ended with `status`.
    pub(crate) fn count(&self, status: &str) -> usize {
        self.statuses.values().filter(|s| *s == status).count()
    }
}

/// Builds the `callspec` binary and returns its path.
pub(crate) fn build_callspec(root: &Path, cargo: &mut Command, who: &str) -> Result<PathBuf, String> {
    let status = cargo
        .args(["build", "--quiet", "-p", "callspec-conformance", "--bin", "callspec"])
        .status()
        .map_err(|e| format!("{who}: cannot start cargo: {e}"))?;
    if !status.success() {
        return Err(format!("{who}: building callspec failed ({status})"));
    }
    Ok(callspec_binary(root))
}

fn callspec_binary(root: &Path) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));
    let target = if target.is_absolute() { target } else { root.join(target) };
    target.join("debug").join(format!("callspec{}", std::env::consts::EXE_SUFFIX))
}

/// `--jobs N` / `-j N` / `--jobs=N` among `args` (default `CALLSPEC_FAULT_JOBS`, else
/// [`DEFAULT_JOBS`]; at least 1), and the other arguments in order.
pub(crate) fn parse_jobs(who: &str, args: &[String]) -> Result<(usize, Vec<String>), String> {
    let mut jobs = std::env::var("CALLSPEC_FAULT_JOBS").ok().and_then(|j| j.parse().ok()).unwrap_or(DEFAULT_JOBS);
    let mut rest = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let value = match arg.split_once('=') {
            Some(("--jobs", v)) => Some(v.to_owned()),
            _ if arg == "--jobs" || arg == "-j" => {
                Some(it.next().cloned().ok_or(format!("{who}: --jobs needs a number"))?)
            }
            _ => None,
        };
        match value {
            Some(v) => jobs = v.parse().map_err(|_| format!("{who}: --jobs {v:?} is not a number"))?,
            None => rest.push(arg.clone()),
        }
    }
    Ok((jobs.max(1), rest))
}

/// Runs every suite run of `runs`, `jobs` at a time, in order of the list; results by label.
#[allow(clippy::print_stderr, reason = "xtask reports progress on stderr")]
pub(crate) fn run_all(bin: &Path, root: &Path, runs: Vec<SuiteRun>, jobs: usize) -> BTreeMap<String, RunResult> {
    let total = runs.len();
    let queue = Arc::new(Mutex::new(VecDeque::from(runs)));
    let results = Arc::new(Mutex::new(BTreeMap::new()));
    let workers: Vec<_> = (0..jobs.min(total.max(1)))
        .map(|_| {
            let (queue, results) = (queue.clone(), results.clone());
            let (bin, root) = (bin.to_path_buf(), root.to_path_buf());
            std::thread::spawn(move || {
                loop {
                    let next = queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
                    let Some(run) = next else { break };
                    let result = run_one(&bin, &root, &run);
                    let mut done = results.lock().unwrap_or_else(|p| p.into_inner());
                    let note = match (&result.preflight, &result.problem) {
                        (Some(refusal), _) => format!(", preflight refused the target: {refusal}"),
                        (None, Some(problem)) => format!(", {problem}"),
                        (None, None) => String::new(),
                    };
                    eprintln!(
                        "    [{:>2}/{total}] {}: {} FAIL in {:.1} s{note}",
                        done.len() + 1,
                        run.label,
                        result.count("FAIL"),
                        result.wall.as_secs_f64()
                    );
                    done.insert(run.label, result);
                }
            })
        })
        .collect();
    for worker in workers {
        let _ = worker.join();
    }
    std::mem::take(&mut *results.lock().unwrap_or_else(|p| p.into_inner()))
}

/// Starts `callspec ARGS` for `run`, its output to `<dir>/output.log`.
fn start(bin: &Path, root: &Path, run: &SuiteRun) -> Result<std::process::Child, String> {
    std::fs::create_dir_all(&run.dir).map_err(|e| format!("cannot create {}: {e}", run.dir.display()))?;
    let log = std::fs::File::create(run.dir.join("output.log")).map_err(|e| format!("cannot create the log: {e}"))?;
    let mut cmd = Command::new(bin);
    cmd.current_dir(root)
        .arg("--root")
        .arg(root)
        .arg("--report-dir")
        .arg(&run.dir)
        .args(["--no-coverage", "--no-snapshots", "-q"])
        .args(&run.args)
        .stdin(Stdio::null())
        .stderr(log.try_clone().map(Stdio::from).unwrap_or_else(|_| Stdio::null()))
        .stdout(log);
    cmd.spawn().map_err(|e| format!("cannot start callspec: {e}"))
}

/// One suite run: its output goes to `<dir>/output.log`, its reports to `<dir>/`.
pub(crate) fn run_one(bin: &Path, root: &Path, run: &SuiteRun) -> RunResult {
    let started = Instant::now();
    let mut result = RunResult::default();
    let mut child = match start(bin, root, run) {
        Ok(child) => child,
        Err(problem) => {
            result.problem = Some(problem);
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
    let report = run.dir.join("report.json");
    let text = match std::fs::read_to_string(&report) {
        Ok(text) => text,
        Err(e) => {
            // Without a report, the run may still have noticed the fault: the preflight refuses a
            // target that cannot be tested (exit 2, one sentence, no case run).
            match preflight_refusal(&run.dir.join("output.log"), status.code()) {
                Some(refusal) => result.preflight = Some(refusal),
                None => {
                    result.problem = Some(format!("no report.json ({e}); exit {status}; see {}", run.dir.display()))
                }
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

/// One failure of report.json in one line: `[kind] pointer: message`.
fn failure_line(failure: &Value) -> String {
    let text = |key: &str| failure.get(key).and_then(Value::as_str).unwrap_or_default();
    let pointer = text("pointer");
    let at = if pointer.is_empty() { String::new() } else { format!(" {pointer}") };
    format!("[{}]{at}: {}", text("kind"), text("message"))
}

/// Reads each case's status, the kinds of its failures (the runner's `kind`, kebab-case) and
/// each distinct failure in one line.
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
        let mut lines: Vec<String> = Vec::new();
        for line in failures.iter().map(failure_line) {
            if !lines.contains(&line) {
                lines.push(line);
            }
        }
        if status == "SKIP" {
            let reason = case.get("reason").and_then(Value::as_str).unwrap_or_default();
            result.skip_reasons.insert(name.to_owned(), reason.to_owned());
        }
        result.statuses.insert(name.to_owned(), status.to_owned());
        result.kinds.insert(name.to_owned(), kinds);
        result.failures.insert(name.to_owned(), lines);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_are_read_by_kind() {
        let report = serde_json::json!({"cases": [
            {"name": "a::001_x", "status": "FAIL", "failures": [
                {"kind": "status", "message": "wrong status code"},
                {"kind": "schema", "pointer": "/code", "message": "\"code\" is a required property"},
                {"kind": "status", "message": "wrong status code"}]},
            {"name": "a::002_y", "status": "PASS", "failures": []},
            {"name": "a::003_z", "status": "SKIP", "reason": "profile has no callees.busy", "failures": []},
        ]});
        let mut result = RunResult::default();
        assert_eq!(read_report(&report, &mut result), Ok(()));
        assert_eq!(result.statuses.get("a::001_x").map(String::as_str), Some("FAIL"));
        assert_eq!(result.kinds.get("a::001_x"), Some(&vec!["schema".to_owned(), "status".to_owned()]));
        assert_eq!(
            result.failures.get("a::001_x"),
            Some(&vec![
                "[status]: wrong status code".to_owned(),
                "[schema] /code: \"code\" is a required property".to_owned()
            ])
        );
        assert_eq!(result.kinds.get("a::002_y"), Some(&Vec::new()));
        assert_eq!((result.not_passing(), result.count("PASS")), (vec!["a::001_x"], 1));
        assert_eq!(result.skip_reasons.get("a::003_z").map(String::as_str), Some("profile has no callees.busy"));
        assert_eq!(result.skip_reasons.len(), 1);
        let old = serde_json::json!({"cases": [{"name": "a", "status": "FAIL", "failures": [{"message": "m"}]}]});
        assert!(read_report(&old, &mut RunResult::default()).is_err(), "a failure must carry its kind");
        assert!(read_report(&serde_json::json!({}), &mut RunResult::default()).is_err());
    }

    #[test]
    fn preflight_refusals() {
        let dir = std::env::temp_dir().join(format!("xtask-pool-test-{}", std::process::id()));
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

    /// A run that stops at the preflight reports the refusal; any other run without a report is
    /// a problem.
    #[cfg(unix)]
    #[test]
    fn runs_without_a_report() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = std::env::temp_dir().join(format!("xtask-pool-run-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let fake = |name: &str, script: &str| {
            let path = dir.join(name);
            std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).expect("script");
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
            path
        };
        let run = |label: &str| SuiteRun { label: label.to_owned(), dir: dir.join(label), args: vec![] };
        let refused =
            fake("refused", "echo 'callspec: the target at http://x/ cannot be reached: refused' >&2; exit 2");
        let result = run_one(&refused, &dir, &run("some-fault"));
        assert_eq!(result.preflight.as_deref(), Some("the target at http://x/ cannot be reached: refused"));
        assert_eq!(result.problem, None);
        let broken = fake("broken", "echo 'error: unexpected argument' >&2; exit 2");
        let result = run_one(&broken, &dir, &run("other-fault"));
        assert_eq!(result.preflight, None);
        assert!(result.problem.is_some_and(|p| p.contains("no report.json")));
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// The pool runs every run once, whatever the number of jobs, and keys results by label.
    #[cfg(unix)]
    #[test]
    fn every_run_runs_once() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = std::env::temp_dir().join(format!("xtask-pool-all-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let bin = dir.join("fake-callspec");
        // Writes a one-case report into the --report-dir it is given (the 4th argument).
        let script = "#!/bin/sh\nprintf '{\"cases\":[{\"name\":\"a\",\"status\":\"PASS\",\"failures\":[]}]}' > \"$4/report.json\"\n";
        std::fs::write(&bin, script).expect("script");
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let runs: Vec<SuiteRun> = (0..5)
            .map(|n| SuiteRun { label: format!("run {n}"), dir: dir.join(n.to_string()), args: vec!["-x".into()] })
            .collect();
        let results = run_all(&bin, &dir, runs, 2);
        assert_eq!(results.len(), 5);
        assert!(results.values().all(|r| r.problem.is_none() && r.count("PASS") == 1), "{results:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn arguments() {
        let args = |a: &[&str]| parse_jobs("t", &a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
        assert_eq!(args(&["--jobs", "3", "create-200"]), Ok((3, vec!["create-200".to_owned()])));
        assert_eq!(args(&["--jobs=0"]).map(|(j, _)| j), Ok(1));
        assert_eq!(args(&["--bogus"]).map(|(_, rest)| rest), Ok(vec!["--bogus".to_owned()]));
        assert!(args(&["--jobs"]).is_err() && args(&["-j", "x"]).is_err());
    }
}
