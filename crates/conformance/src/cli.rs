//! The command line: loads everything, starts the sink (and the embedded emulator when no
//! target is given), runs the cases as libtest trials, prints the summary and coverage, and
//! writes the reports.
//!
//! Exit codes: 0 when every result matches its expectation, 1 when a case FAILs or XPASSes,
//! 2 for configuration errors and harness ERRORs.

use crate::client::Client;
use crate::fixture::{Case, load_cases};
use crate::outcome::{CaseResult, REPORT_VERSION, RunRecord, Status, TargetInfo};
use crate::profile::Profile;
use crate::requirements::Catalog;
use crate::runner::{Accounts, Harness, SnapshotSettings};
use crate::schema::SchemaSet;
use crate::sink::Sink;
use libtest_mimic::{Arguments, Failed, Trial};
use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What to run against and where to write.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Repository root holding `fixtures/` and `schemas/`.
    pub root: PathBuf,
    /// Target base URL; `None` starts the reference emulator in-process.
    pub target: Option<String>,
    /// Profile file; default `fixtures/targets/reference-emulator.toml`.
    pub profile: Option<PathBuf>,
    /// Directory for report.json, junit.xml, summary.md and the coverage tables.
    pub report_dir: Option<PathBuf>,
    /// Print the coverage table after the run.
    pub coverage: bool,
    /// Skip the golden-snapshot comparison even where the profile asks for it.
    pub no_snapshots: bool,
    /// Several name filters (libtest takes one): a case runs when its name contains any of them,
    /// or equals one with `--exact`. Empty: libtest's own filter decides.
    pub filters: Vec<String>,
    /// Faults for the embedded reference emulator (a testing aid: proves the suite catches a
    /// broken implementation). Refused together with `target`.
    pub faults: Vec<callspec_emulator::Fault>,
}

/// The repository root this crate was built in, used when no `--root` is given.
pub fn default_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap_or_else(|_| PathBuf::from("."))
}

#[allow(clippy::print_stderr, reason = "the command line reports configuration errors on stderr")]
fn config_error(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("{e}");
    eprintln!("callspec: configuration error; nothing was run");
    ExitCode::from(2)
}

/// Everything loaded before a run.
pub struct Loaded {
    /// JSON Schemas.
    pub schemas: Arc<SchemaSet>,
    /// The requirement catalog.
    pub catalog: Catalog,
    /// Every case.
    pub cases: Vec<Case>,
    /// The profile.
    pub profile: Profile,
    /// The profile's path.
    pub profile_path: PathBuf,
}

/// Loads schemas, catalog, cases and profile, collecting every problem.
pub fn load(options: &Options) -> Result<Loaded, String> {
    let root = &options.root;
    let schemas = SchemaSet::load(&root.join("schemas")).map_err(|e| format!("error: {e}"))?;
    let catalog = Catalog::load(&root.join("fixtures/requirements.toml")).map_err(|e| e.to_string())?;
    let cases = load_cases(root, &root.join("fixtures/cases"), &schemas, &catalog);
    let profile_path = options.profile.clone().unwrap_or_else(|| root.join("fixtures/targets/reference-emulator.toml"));
    let profile = Profile::load(&profile_path, &schemas);
    let (cases, profile) = match (cases, profile) {
        (Ok(c), Ok(p)) => (c, p),
        (c, p) => {
            let mut msgs = Vec::new();
            if let Err(e) = c {
                msgs.push(e.to_string());
            }
            if let Err(e) = p {
                msgs.push(e.to_string());
            }
            return Err(msgs.join("\n"));
        }
    };
    let names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    profile.check_known_failures(&profile_path, &names).map_err(|e| e.to_string())?;
    Ok(Loaded { schemas: Arc::new(schemas), catalog, cases, profile, profile_path })
}

fn skip_reason(case: &Case, profile: &Profile) -> Option<String> {
    let missing: Vec<&str> =
        case.data.needs.iter().filter(|n| !profile.capabilities.has(n, profile)).map(String::as_str).collect();
    if missing.is_empty() { None } else { Some(format!("capability missing: {}", missing.join(", "))) }
}

/// Runs the suite with libtest arguments; returns the process exit code.
#[allow(clippy::print_stdout, reason = "the summary and coverage table are the command's output")]
pub fn run(options: Options, mut args: Arguments) -> ExitCode {
    let loaded = match load(&options) {
        Ok(l) => l,
        Err(e) => return config_error(e),
    };
    // Cases wait on the target most of the time: run many at once unless told otherwise.
    if args.test_threads.is_none() {
        args.test_threads = Some(64);
    }
    let skips: BTreeMap<String, String> =
        loaded.cases.iter().filter_map(|c| skip_reason(c, &loaded.profile).map(|r| (c.name.clone(), r))).collect();
    let selected = |name: &str| {
        options.filters.is_empty()
            || options.filters.iter().any(|f| if args.exact { name == f } else { name.contains(f.as_str()) })
    };
    if args.list {
        let trials = loaded
            .cases
            .iter()
            .filter(|c| selected(&c.name))
            .map(|c| Trial::test(c.name.clone(), || Ok(())).with_ignored_flag(skips.contains_key(&c.name)))
            .collect();
        return libtest_mimic::run(&args, trials).exit_code();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(4).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return config_error(format!("cannot start the async runtime: {e}")),
    };
    let started = Instant::now();
    let started_at = time::OffsetDateTime::now_utc();
    let setup = runtime.block_on(prepare(&options, &loaded));
    let (harness, embedded) = match setup {
        Ok(x) => x,
        Err(e) => return config_error(e),
    };
    let harness = Arc::new(harness);
    let results: Arc<Mutex<BTreeMap<String, CaseResult>>> = Arc::new(Mutex::new(BTreeMap::new()));
    let handle = runtime.handle().clone();
    let trials: Vec<Trial> = loaded
        .cases
        .iter()
        .filter(|c| selected(&c.name))
        .map(|case| {
            let case = case.clone();
            let harness = harness.clone();
            let results = results.clone();
            let handle = handle.clone();
            let ignored = skips.contains_key(&case.name);
            let (name, area) = (case.name.clone(), case.area.clone());
            Trial::test(name, move || {
                let result = handle.block_on(harness.run_case(&case));
                let verdict = match result.status {
                    Status::Pass | Status::XFail | Status::Skip => Ok(()),
                    _ => Err(Failed::from(result.message())),
                };
                results.lock().unwrap_or_else(|p| p.into_inner()).insert(case.name.clone(), result);
                verdict
            })
            .with_kind(area)
            .with_ignored_flag(ignored)
        })
        .collect();
    let _ = libtest_mimic::run(&args, trials);
    let wall = started.elapsed();
    if let Some(emulator) = embedded {
        runtime.block_on(emulator.shutdown());
    }
    let ran = results.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let cases: Vec<CaseResult> = loaded
        .cases
        .iter()
        .map(|c| {
            ran.get(&c.name).cloned().unwrap_or_else(|| CaseResult {
                name: c.name.clone(),
                file: c.file.clone(),
                title: c.data.title.clone(),
                requirements: c.data.requirements.clone(),
                tags: c.data.tags.clone(),
                status: Status::Skip,
                reason: Some(skips.get(&c.name).cloned().unwrap_or_else(|| "filtered out".into())),
                error: None,
                failures: Vec::new(),
                duration: Duration::ZERO,
            })
        })
        .collect();
    let record = RunRecord {
        version: REPORT_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").into(),
        started_at: started_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        wall_time: wall,
        target: TargetInfo {
            name: loaded.profile.name.clone(),
            base_url: harness.base_url.clone(),
            embedded: options.target.is_none(),
        },
        cases,
        requirements: loaded.catalog.infos(),
    };
    let rows = crate::report::coverage(&record);
    let mut stdout = std::io::stdout().lock();
    for case in record.cases.iter().filter(|c| c.status == Status::XFail) {
        let _ = writeln!(stdout, "XFAIL {}: {}", case.name, case.reason.as_deref().unwrap_or(""));
    }
    if options.coverage {
        let _ = writeln!(stdout, "\n{}", crate::report::coverage_text(&rows));
    }
    let _ = writeln!(stdout, "{}", crate::report::summary_line(&record));
    if let Some(dir) = &options.report_dir {
        match crate::report::write_all(&record, dir) {
            Ok(paths) => {
                let _ = writeln!(
                    stdout,
                    "reports: {}",
                    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
                );
            }
            Err(e) => return config_error(format!("cannot write reports to {}: {e}", dir.display())),
        }
    }
    let statuses: Vec<Status> = record.cases.iter().map(|c| c.status).collect();
    if statuses.contains(&Status::Error) {
        ExitCode::from(2)
    } else if statuses.iter().all(|s| s.is_expected()) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

async fn prepare(options: &Options, loaded: &Loaded) -> Result<(Harness, Option<callspec_emulator::Emulator>), String> {
    let profile = loaded.profile.clone();
    let main = profile.credentials.resolve("main account")?;
    let trial = match &profile.trial {
        Some(t) => Some(t.credentials.resolve("trial account")?),
        None => None,
    };
    let (base_url, embedded) = match (&options.target, &profile.base_url) {
        (Some(_), _) if !options.faults.is_empty() => {
            return Err("--fault configures the embedded reference emulator; it cannot be used with --target".into());
        }
        (Some(url), _) => (url.clone(), None),
        (None, _) => {
            let config = callspec_emulator::Config {
                cps: profile.capabilities.cps.unwrap_or(1.0),
                max_concurrent_requests: profile.capabilities.concurrency_limit.map(|n| n as usize),
                faults: options.faults.clone(),
                ..callspec_emulator::Config::default()
            };
            let emulator = callspec_emulator::spawn(config)
                .await
                .map_err(|e| format!("cannot start the embedded emulator: {e}"))?;
            (emulator.base_url(), Some(emulator))
        }
    };
    let bind = profile.sink.bind.clone().unwrap_or_else(|| "127.0.0.1:0".into());
    let public = profile.sink.public_base_url.clone().unwrap_or_else(|| "http://127.0.0.1:{port}".into());
    let sink = Sink::start(&bind, &public).await.map_err(|e| e.to_string())?;
    let timeout = Duration::from_millis(
        (profile.request_timeout_ms.unwrap_or(10_000) as f64 * profile.timeout_multiplier) as u64,
    );
    let client = Client::new(timeout, 1 << 20)?;
    let today = time::OffsetDateTime::now_utc().date().to_string();
    let source = format!("{} {}", profile.name, profile.version.clone().unwrap_or_default()).trim().to_owned();
    let snapshots = profile.snapshots && !options.no_snapshots;
    let mut harness =
        Harness::new(profile, loaded.schemas.clone(), sink, client, base_url, Accounts { main, trial }, today);
    if snapshots {
        harness = harness.with_snapshots(SnapshotSettings { root: options.root.clone(), source });
    }
    Ok((harness, embedded))
}
