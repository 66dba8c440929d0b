//! `cargo xtask mutants`: response and webhook mutation from the contract. Every mutant
//! ([`catalog::generate`]) runs the suite through the mutating [`proxy`] between the `callspec`
//! runner and a reference emulator of its own; a control run through the same proxy with no
//! mutant must pass and records which cases each mutant can reach, so a mutant reruns only those.
//! A mutant that fired is killed when a case FAILs. The table goes to `docs/mutation.md`.

mod catalog;
mod http;
mod mutate;
mod proxy;
mod table;

use crate::pool::{self, SuiteRun};
use crate::served::Served;
use catalog::Mutant;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The name control touches of the main and trial accounts go under.
const SHARED: &str = "*shared*";
/// Mutants the `ci` sample runs.
pub(crate) const CI_SAMPLE: usize = 16;
/// The goal: killed / fired.
const GOAL: f64 = 0.98;

/// What became of one mutant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fate {
    /// Twilio may produce it: not a mutant (the reason).
    Excluded(&'static str),
    /// No case of the control run reaches it.
    Unreachable,
    /// Reached in the control run, but it changed nothing in its own run.
    NotFired,
    /// A case FAILed (the cases).
    Killed(Vec<String>),
    /// Fired and nothing FAILed; the reason it may, if it has one.
    Survived(Option<&'static str>),
    /// The run itself went wrong (the problem): neither killed nor survived.
    Broken(String),
}

/// The binaries a run needs.
struct Bins {
    callspec: PathBuf,
    emulator: PathBuf,
}

fn build(root: &Path, cargo: &mut Command) -> Result<Bins, String> {
    let callspec = pool::build_callspec(root, cargo, "mutants")?;
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(root)
        .args(["build", "--quiet", "-p", "callspec-emulator", "--bin", "callspec-emulator"])
        .status()
        .map_err(|e| format!("mutants: cannot start cargo: {e}"))?;
    if !status.success() {
        return Err(format!("mutants: building callspec-emulator failed ({status})"));
    }
    let emulator = callspec.with_file_name(format!("callspec-emulator{}", std::env::consts::EXE_SUFFIX));
    Ok(Bins { callspec, emulator })
}

/// The reference profile with the sink's public URL pointing at the proxy.
fn profile(root: &Path, dir: &Path, proxy_port: u16) -> Result<PathBuf, String> {
    let source = root.join("fixtures/targets/reference-emulator.toml");
    let text = std::fs::read_to_string(&source).map_err(|e| format!("cannot read {}: {e}", source.display()))?;
    let line = format!("public_base_url = \"http://127.0.0.1:{proxy_port}/s{{port}}\"\n");
    let text = text.replacen("[sink]\n", &format!("[sink]\n{line}"), 1);
    if !text.contains(&line) {
        return Err(format!("{}: no [sink] section", source.display()));
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join("profile.toml");
    std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}

/// The accounts of the reference profile (`account_sid` and `auth_token` pairs, in order).
fn profile_tokens(root: &Path) -> HashMap<String, String> {
    let text = std::fs::read_to_string(root.join("fixtures/targets/reference-emulator.toml")).unwrap_or_default();
    let value = |line: &str, key: &str| {
        line.strip_prefix(key).map(|r| r.trim_start_matches([' ', '=']).trim().trim_matches('"').to_owned())
    };
    let mut tokens = HashMap::new();
    let mut sid = None;
    for line in text.lines().map(str::trim) {
        if let Some(s) = value(line, "account_sid") {
            sid = Some(s);
        } else if let (Some(token), Some(s)) = (value(line, "auth_token"), sid.take()) {
            tokens.insert(s, token);
        }
    }
    tokens
}

/// One suite run through a proxy: what `run` made of it and the proxy's record.
fn through_proxy<T>(
    root: &Path,
    bins: &Bins,
    dir: PathBuf,
    (mutant, all): (Option<Mutant>, Vec<Mutant>),
    cases: &[String],
    run: impl FnOnce(&Path, &Path, &SuiteRun) -> T,
) -> Result<(T, Arc<proxy::Shared>), String> {
    let emulator = Served::start(&bins.emulator, &[], &crate::served::REFERENCE_PROFILE_FLAGS)?;
    let label = mutant.as_ref().map_or_else(|| "control".to_owned(), Mutant::id);
    let proxy = proxy::Proxy::start(emulator.address().to_owned(), mutant, all, profile_tokens(root))?;
    let profile = profile(root, &dir, proxy.port)?;
    let mut args = vec![
        "--target".to_owned(),
        format!("http://127.0.0.1:{}", proxy.port),
        "--profile".to_owned(),
        profile.display().to_string(),
    ];
    if !cases.is_empty() {
        args.push("--exact".into());
        args.extend(cases.iter().cloned());
    }
    let result = run(&bins.callspec, root, &SuiteRun { label, dir, args });
    proxy.stop();
    drop(emulator);
    Ok((result, proxy.shared))
}

/// The control run: everything must PASS (or SKIP); returns each mutant's cases.
#[allow(clippy::print_stderr, reason = "xtask reports progress on stderr")]
fn control(root: &Path, bins: &Bins, out: &Path, all: &[Mutant]) -> Result<BTreeMap<String, Vec<String>>, String> {
    let started = Instant::now();
    let (result, shared) = through_proxy(root, bins, out.join("control"), (None, all.to_vec()), &[], pool::run_one)?;
    if let Some(problem) = result.problem.as_ref().or(result.preflight.as_ref()) {
        return Err(format!("mutants: the control run failed: {problem}"));
    }
    let bad: Vec<String> = result
        .statuses
        .iter()
        .filter(|(_, s)| !matches!(s.as_str(), "PASS" | "SKIP"))
        .map(|(c, s)| format!("{c}: {s} {:?}", result.failures.get(c).cloned().unwrap_or_default()))
        .collect();
    if !bad.is_empty() {
        return Err(format!("mutants: the control run through the proxy is not clean:\n  {}", bad.join("\n  ")));
    }
    let passing: BTreeSet<String> =
        result.statuses.iter().filter(|(_, s)| *s == "PASS").map(|(c, _)| c.clone()).collect();
    let owning = shared.owning_cases();
    let shared_cases: Vec<String> = passing.iter().filter(|c| !owning.contains(*c)).cloned().collect();
    let plan = shared
        .touches(SHARED)
        .into_iter()
        .map(|(id, cases)| {
            let mut list: BTreeSet<String> =
                cases.iter().filter(|c| *c != SHARED && passing.contains(*c)).cloned().collect();
            if cases.contains(SHARED) {
                list.extend(shared_cases.iter().cloned());
            }
            (id, list.into_iter().collect())
        })
        .collect();
    eprintln!(
        "    control: {} cases PASS through the proxy in {:.1} s",
        passing.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(plan)
}

/// Runs `mutants` with their cases, `jobs` at a time; fates by id.
#[allow(clippy::print_stderr, reason = "xtask reports progress on stderr")]
fn run_mutants(
    root: &Path,
    bins: &Bins,
    out: &Path,
    mutants: Vec<(Mutant, Vec<String>)>,
    jobs: usize,
) -> BTreeMap<String, Fate> {
    let total = mutants.len();
    let queue = Arc::new(Mutex::new(VecDeque::from(mutants)));
    let fates = Arc::new(Mutex::new(BTreeMap::new()));
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(total.max(1)) {
            let (queue, fates) = (queue.clone(), fates.clone());
            scope.spawn(move || {
                loop {
                    let next = queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
                    let Some((mutant, cases)) = next else { break };
                    let id = mutant.id();
                    let dir = out.join("runs").join(id.replace(['/', '*'], "_"));
                    let fate = match through_proxy(root, bins, dir, (Some(mutant), Vec::new()), &cases, until_killed) {
                        Ok((result, shared)) => judge(&id, result, shared.fired()),
                        Err(problem) => Fate::Broken(problem),
                    };
                    let mut done = fates.lock().unwrap_or_else(|p| p.into_inner());
                    eprintln!("    [{:>4}/{total}] {id}: {}", done.len() + 1, table::fate_word(&fate));
                    done.insert(id, fate);
                }
            });
        }
    });
    std::mem::take(&mut *fates.lock().unwrap_or_else(|p| p.into_inner()))
}

/// What a mutant's run came to: the cases that FAILed (the run stops at the first), or a problem.
#[derive(Debug, Default)]
struct Outcome {
    failed: Vec<String>,
    problem: Option<String>,
}

/// A run of `callspec` that ends at its first FAIL: one is enough to kill a mutant. Every case
/// has a deadline; the whole run has [`RUN_LIMIT`] besides.
fn until_killed(bin: &Path, root: &Path, run: &SuiteRun) -> Outcome {
    let mut outcome = Outcome::default();
    let log = run.dir.join("output.log");
    let spawned = std::fs::File::create(&log).and_then(|err| {
        Command::new(bin)
            .current_dir(root)
            .arg("--root")
            .arg(root)
            .arg("--report-dir")
            .arg(&run.dir)
            .args(["--no-coverage", "--no-snapshots"])
            .args(&run.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(err)
            .spawn()
    });
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => {
            outcome.problem = Some(format!("cannot start callspec: {e}"));
            return outcome;
        }
    };
    let Some(stdout) = child.stdout.take() else {
        outcome.problem = Some("callspec has no stdout".into());
        return outcome;
    };
    let child = Arc::new(Mutex::new(child));
    let watchdog = {
        let child = child.clone();
        std::thread::spawn(move || {
            let started = Instant::now();
            while started.elapsed() < RUN_LIMIT {
                std::thread::sleep(std::time::Duration::from_millis(200));
                if child.lock().unwrap_or_else(|p| p.into_inner()).try_wait().ok().flatten().is_some() {
                    return;
                }
            }
            let _ = child.lock().unwrap_or_else(|p| p.into_inner()).kill();
        })
    };
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        if let Some(case) = line.strip_prefix("test ").and_then(|l| l.strip_suffix(" ... FAILED")) {
            outcome.failed.push(case.to_owned());
            let _ = child.lock().unwrap_or_else(|p| p.into_inner()).kill();
            break;
        }
    }
    let status = child.lock().unwrap_or_else(|p| p.into_inner()).wait();
    let _ = watchdog.join();
    if outcome.failed.is_empty() {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        match status.map(|s| s.code()) {
            Ok(Some(0)) => {}
            Ok(Some(2)) if text.contains("callspec: the target at ") => outcome.failed.push("(preflight)".into()),
            other => {
                outcome.problem = Some(format!("callspec ended with {other:?} and no FAIL; see {}", log.display()))
            }
        }
    }
    outcome
}

/// A run's case count is capped: a run that hangs is killed and counts as broken.
const RUN_LIMIT: std::time::Duration = std::time::Duration::from_secs(300);

fn judge(id: &str, outcome: Outcome, fired: usize) -> Fate {
    if !outcome.failed.is_empty() {
        return Fate::Killed(outcome.failed);
    }
    if let Some(problem) = outcome.problem {
        return Fate::Broken(problem);
    }
    if fired == 0 {
        return Fate::NotFired;
    }
    Fate::Survived(catalog::survivor_reason(id))
}

/// Options of `cargo xtask mutants`.
struct Options {
    jobs: usize,
    /// Run only this many, evenly spread over the reachable mutants (the `ci` sample).
    sample: Option<usize>,
    /// Run only mutants whose id starts with one of these.
    only: Vec<String>,
}

fn options(args: &[String]) -> Result<Options, String> {
    let (jobs, rest) = pool::parse_jobs("mutants", args)?;
    let mut o = Options { jobs, sample: None, only: Vec::new() };
    let mut it = rest.iter();
    while let Some(arg) = it.next() {
        if arg == "--sample" {
            let n = it.next().ok_or("mutants: --sample needs a number")?;
            o.sample = Some(n.parse().map_err(|_| format!("mutants: --sample {n:?} is not a number"))?);
        } else if arg.starts_with('-') {
            return Err(format!("mutants: unknown option {arg:?}"));
        } else {
            o.only.push(arg.clone());
        }
    }
    Ok(o)
}

/// Every `len / n`-th of `len` items, `n` in all: a deterministic, evenly spread sample.
fn spread(len: usize, n: usize) -> Vec<usize> {
    if n >= len {
        return (0..len).collect();
    }
    (0..n).map(|i| i * len / n).collect()
}

/// `cargo xtask mutants [--sample N] [-j N] [ID-PREFIX...]`.
#[allow(clippy::print_stderr, reason = "xtask reports progress on stderr")]
pub(crate) fn run(root: &Path, cargo: &mut Command, args: &[String]) -> Result<(), String> {
    let o = options(args)?;
    let bins = build(root, cargo)?;
    let out = root.join("target/mutants");
    let _ = std::fs::remove_dir_all(&out);
    let all = catalog::generate(root)?;
    eprintln!("\n==> xtask: mutants: {} generated from the schemas; the control run first", all.len());
    let started = Instant::now();
    let plan = control(root, &bins, &out, &all)?;
    // What the control run recorded: each mutant's cases, for a reader of a run (and its reruns).
    let touches = serde_json::to_string_pretty(&plan).map_err(|e| e.to_string())?;
    let touches_path = out.join("control/touches.json");
    std::fs::write(&touches_path, touches).map_err(|e| format!("cannot write {}: {e}", touches_path.display()))?;
    let mut fates: BTreeMap<String, Fate> = BTreeMap::new();
    let mut runnable = Vec::new();
    for m in all.iter().filter(|m| o.only.is_empty() || o.only.iter().any(|p| m.id().starts_with(p.as_str()))) {
        let id = m.id();
        match (catalog::twilio_may_produce(&id), plan.get(&id)) {
            (Some(reason), _) => drop(fates.insert(id, Fate::Excluded(reason))),
            (None, Some(cases)) if !cases.is_empty() => runnable.push((m.clone(), cases.clone())),
            (None, _) => drop(fates.insert(id, Fate::Unreachable)),
        }
    }
    if let Some(n) = o.sample {
        let keep = spread(runnable.len(), n);
        runnable = keep.into_iter().filter_map(|i| runnable.get(i).cloned()).collect();
        fates.retain(|_, _| false);
    }
    // The mutants that rerun the most cases take longest: they start first.
    runnable.sort_by_key(|(m, cases)| (std::cmp::Reverse(cases.len()), m.id()));
    eprintln!("==> xtask: mutants: {} to run, {} at a time", runnable.len(), o.jobs);
    fates.extend(run_mutants(root, &bins, &out, runnable, o.jobs));
    let wall = started.elapsed();
    let summary = table::Summary::of(all.len(), &fates, wall, o.jobs);
    eprintln!("{}", summary.line());
    let full = o.sample.is_none() && o.only.is_empty();
    table::write_json(&out.join("results.json"), &fates, &summary)?;
    if full {
        table::write_markdown(&root.join("docs/mutation.md"), &all, &fates, &summary, &plan)?;
        eprintln!("==> xtask: mutants: docs/mutation.md written");
    }
    summary.gate(&fates, full.then_some(GOAL))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_spread_and_stable() {
        assert_eq!(spread(10, 3), vec![0, 3, 6]);
        assert_eq!(spread(2, 5), vec![0, 1]);
        assert!(options(&["--sample".into(), "x".into()]).is_err());
        let o = options(&["--sample".into(), "4".into(), "api/create".into()]).expect("options");
        assert_eq!((o.sample, o.only), (Some(4), vec!["api/create".to_owned()]));
    }

    #[test]
    fn tokens_come_from_the_reference_profile() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("root");
        let tokens = profile_tokens(root);
        assert_eq!(
            tokens.get("ACc0ffee00000000000000000000000001").map(String::as_str),
            Some("c0ffee00c0ffee00c0ffee00c0ffee00")
        );
        assert_eq!(tokens.len(), 2);
    }
}
