//! The command line: loads everything, starts the sink (and the embedded emulator when no
//! target is given), proves the target with the preflight, runs the selected cases, prints the
//! results, the coverage and the summary, and writes the reports and the baseline.
//!
//! Two entry points share this flow: [`main`] for the `callspec` binary (its own printer, in
//! libtest's formats), and [`run_libtest`] for `cargo test` (`tests/suite.rs`, libtest-mimic
//! trials, where one name filter goes to every test binary).
//!
//! Exit codes: 0 when every result matches its expectation, 1 when a case FAILs or XPASSes,
//! 2 for configuration errors, harness ERRORs, a failed preflight and a run in which no case ran.

pub mod args;
mod embedded;
mod exec;
mod finish;
pub mod init;
pub mod print;
mod sdk;

pub use args::{Cli, Command, RunArgs};
pub use embedded::Embedded;
pub use finish::finish;
pub use sdk::SdkArgs;

use crate::client::Client;
use crate::fixture::{Case, load_suite_cases};
use crate::outcome::CaseResult;
use crate::profile::Profile;
use crate::requirements::Catalog;
use crate::runner::{Accounts, Harness, SnapshotMode, SnapshotSettings};
use crate::schema::SchemaSet;
use crate::sink::Sink;
use crate::snapshot::{SnapshotDirError, resolve_dir};
use crate::suite::{Suite, SuiteVersion};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// What to run against and where to write.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// A directory holding `fixtures/` and `schemas/` (a checkout); `None` reads the suite
    /// embedded in this build.
    pub root: Option<PathBuf>,
    /// Target base URL; `None` starts the reference emulator in-process (feature `emulator`).
    pub target: Option<String>,
    /// Profile file; default the suite's `fixtures/targets/reference-emulator.toml`.
    pub profile: Option<PathBuf>,
    /// Directory for report.json, junit.xml, summary.md and the coverage tables.
    pub report_dir: Option<PathBuf>,
    /// Print the coverage table after the run.
    pub coverage: bool,
    /// Skip the golden-snapshot comparison even where the profile asks for it.
    pub no_snapshots: bool,
    /// Rewrite the snapshots that differ: the goldens (reference emulator), or the snapshot directory's.
    pub update_snapshots: bool,
    /// The target's own snapshot directory, compared instead of the goldens (overrides the
    /// profile's `snapshot_dir`).
    pub snapshot_dir: Option<PathBuf>,
    /// Exit 2 when a requirement has no case.
    pub require_coverage: bool,
    /// Baseline files whose known failures are added to the profile's (the Rust API's
    /// [`crate::Gate::known_failures`]).
    pub baselines: Vec<PathBuf>,
    /// Write the baseline after the run: `Some(None)` means the profile's `baseline` file.
    pub write_baseline: Option<Option<PathBuf>>,
    /// Several name filters: a case runs when its name contains any of them, or equals one
    /// with `exact`. Empty: every case.
    pub filters: Vec<String>,
    /// Filters match whole names.
    pub exact: bool,
    /// Cases left out by name.
    pub skip: Vec<String>,
    /// Faults for the embedded reference emulator, by name (a testing aid: proves the suite
    /// catches a broken implementation). Refused together with `target`.
    pub faults: Vec<String>,
    /// The embedded emulator's variance seed (a testing aid: proves the suite accepts what the
    /// real API does within Twilio's docs). Refused together with `target`; snapshots are off.
    pub variance: Option<u64>,
}

impl Options {
    /// Options from the command line's run arguments.
    pub fn from_args(a: &RunArgs) -> Options {
        Options {
            root: a.root.clone(),
            target: a.target.clone(),
            profile: a.profile.clone(),
            report_dir: a.report_dir.clone(),
            coverage: !a.no_coverage,
            no_snapshots: a.no_snapshots,
            update_snapshots: a.update_snapshots,
            snapshot_dir: a.snapshot_dir.clone(),
            require_coverage: a.require_coverage,
            baselines: Vec::new(),
            write_baseline: a.write_baseline.clone(),
            filters: a.filters.clone(),
            exact: a.exact,
            skip: a.skip.clone(),
            faults: a.faults.clone(),
            variance: a.variance,
        }
    }

    /// Where the suite's files come from: [`Options::root`], else the embedded suite.
    pub fn suite(&self) -> Suite {
        Suite::at(self.root.clone())
    }

    /// Whether the filters and `--skip` select a case name.
    pub fn selects(&self, name: &str) -> bool {
        let hit = |f: &String| if self.exact { name == f } else { name.contains(f.as_str()) };
        (self.filters.is_empty() || self.filters.iter().any(hit)) && !self.skip.iter().any(hit)
    }
}

/// The repository root this crate was built in (its `fixtures/` may not exist where the binary
/// runs: [`Options::root`] `None` reads the embedded suite instead).
pub fn default_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap_or_else(|_| PathBuf::from("."))
}

#[allow(clippy::print_stderr, reason = "the command line reports configuration errors on stderr")]
fn config_error(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("{e}");
    eprintln!("callspec: nothing was run (exit 2)");
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
    /// The profile (with its baseline's entries).
    pub profile: Profile,
    /// The profile's path (relative, for the suite's own profile when it is embedded).
    pub profile_path: PathBuf,
    /// Where the suite came from.
    pub suite: Suite,
    /// The suite's version and hash.
    pub suite_version: SuiteVersion,
}

/// The suite's profile for the reference emulator, used when no `--profile` is given.
const REFERENCE_PROFILE: &str = "fixtures/targets/reference-emulator.toml";

/// Loads schemas, catalog, cases and profile, collecting every problem.
pub fn load(options: &Options) -> Result<Loaded, String> {
    let suite = options.suite();
    let suite_version = suite.version().map_err(|e| format!("error: {e}"))?;
    let schemas = SchemaSet::from_suite(&suite).map_err(|e| format!("error: {e}"))?;
    let catalog = Catalog::from_suite(&suite).map_err(|e| e.to_string())?;
    let cases = load_suite_cases(&suite, &schemas, &catalog);
    let (profile_path, profile) = match &options.profile {
        Some(path) => (path.clone(), Profile::load(path, &schemas)),
        None => (suite.path(REFERENCE_PROFILE), Profile::from_suite(&suite, REFERENCE_PROFILE, &schemas)),
    };
    let profile = profile.and_then(|mut p| {
        for file in &options.baselines {
            p.known_failures.append(&mut crate::profile::load_baseline(file, &schemas)?);
        }
        Ok(p)
    });
    let (cases, profile) = match (cases, profile) {
        (Ok(c), Ok(p)) => (c, p),
        (c, p) => {
            let msgs: Vec<String> =
                [c.err().map(|e| e.to_string()), p.err().map(|e| e.to_string())].into_iter().flatten().collect();
            return Err(msgs.join("\n"));
        }
    };
    let names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    profile.check_known_failures(&profile_path, &names).map_err(|e| e.to_string())?;
    Ok(Loaded { schemas: Arc::new(schemas), catalog, cases, profile, profile_path, suite, suite_version })
}

/// Why a case is skipped on this profile: the capabilities it needs and the profile lacks.
pub fn skip_reason(case: &Case, profile: &Profile) -> Option<String> {
    let missing: Vec<String> =
        case.data.needs.iter().filter_map(|n| profile.capabilities.missing(n, profile)).collect();
    if missing.is_empty() { None } else { Some(missing.join("; ")) }
}

/// The selected cases, each with its skip reason if the profile cannot run it.
pub fn select<'a>(options: &Options, loaded: &'a Loaded) -> Vec<(&'a Case, Option<String>)> {
    loaded.cases.iter().filter(|c| options.selects(&c.name)).map(|c| (c, skip_reason(c, &loaded.profile))).collect()
}

/// The result of a case that was not run.
pub fn skipped(case: &Case, reason: String) -> CaseResult {
    let d = &case.data;
    let mut r = CaseResult::new(&case.name, &case.file, &d.title, &d.requirements, &d.tags);
    r.status = crate::outcome::Status::Skip;
    r.steps = d.steps.iter().map(crate::fixture::Step::describe).collect();
    r.reason = Some(reason);
    r
}

/// The `callspec` binary: parses the command line and runs the command.
pub fn main() -> ExitCode {
    use clap::Parser as _;
    let cli = Cli::parse();
    let args = match cli.command {
        Some(Command::Run(a)) => a,
        Some(Command::Init(a)) => return init::run(a),
        Some(Command::Sdk(a)) => return sdk::run(a),
        #[cfg(feature = "emulator")]
        Some(Command::Emulator(a)) => return embedded::serve(a),
        None => cli.run,
    };
    exec::run(args)
}

/// A started run: the harness, and the embedded emulator if there is one.
pub struct Prepared {
    /// What every case shares.
    pub harness: Arc<Harness>,
    /// The embedded reference emulator, shut down after the run.
    pub embedded: Option<Embedded>,
    /// The request that proved the target.
    pub preflight: crate::preflight::Preflight,
}

/// Starts the emulator (without a target), the sink and the client, and runs the preflight.
pub async fn prepare(options: &Options, loaded: &Loaded) -> Result<Prepared, String> {
    let profile = loaded.profile.clone();
    let main = profile.credentials.resolve("main account")?;
    let trial = match &profile.trial {
        Some(t) => Some(t.credentials.resolve("trial account")?),
        None => None,
    };
    if options.target.is_some() && !options.faults.is_empty() {
        return Err("--fault configures the embedded reference emulator; it cannot be used with --target".into());
    }
    if options.variance.is_some() && (options.target.is_some() || options.update_snapshots) {
        return Err("--variance configures the embedded reference emulator and turns snapshots off; it cannot be \
                    used with --target or --update-snapshots"
            .into());
    }
    let source = format!("{} {}", profile.name, profile.version.clone().unwrap_or_default()).trim().to_owned();
    let snapshots = snapshot_settings(options, loaded, source).map_err(|e| format!("callspec: {e}"))?;
    if options.write_baseline == Some(None) && options.profile.is_none() && options.root.is_none() {
        return Err("callspec: --write-baseline needs FILE with the embedded suite's own profile".into());
    }
    let (base_url, embedded) = match &options.target {
        Some(url) => (url.clone(), None),
        None => {
            let (url, emulator) = Embedded::start(&profile, &options.faults, options.variance).await?;
            (url, Some(emulator))
        }
    };
    let timeout = Duration::from_millis(
        (profile.request_timeout_ms.unwrap_or(10_000) as f64 * profile.timeout_multiplier) as u64,
    );
    let mut client = Client::new(timeout, 1 << 20).map_err(|e| e.to_string())?;
    if let Some(budget) = profile.max_requests_per_second {
        client = client.with_budget(budget);
    }
    if let Some(limit) = profile.capabilities.concurrency_limit {
        client = client.with_concurrency_limit(limit);
    }
    let preflight = crate::preflight::check(&client, &base_url, &main).await.map_err(|e| format!("callspec: {e}"))?;
    let bind = profile.sink.bind.clone().unwrap_or_else(|| "127.0.0.1:0".into());
    let public = profile.sink.public_base_url.clone().unwrap_or_else(|| "http://127.0.0.1:{port}".into());
    let sink = Sink::start(&bind, &public).await.map_err(|e| e.to_string())?;
    let today = time::OffsetDateTime::now_utc().date().to_string();
    let mut harness =
        Harness::new(profile, loaded.schemas.clone(), sink, client, base_url, Accounts { main, trial }, today);
    if let Some(settings) = snapshots {
        harness = harness.with_snapshots(settings);
    }
    Ok(Prepared { harness: Arc::new(harness), embedded, preflight })
}

/// Which snapshots the run compares, and what it may write; refused before anything starts.
///
/// A snapshot directory (`--snapshot-dir`, or the profile's `snapshot_dir`) replaces the goldens:
/// the first run records, later runs report drift. It may not lie inside the suite's `fixtures/`
/// (only `--update-snapshots` against the embedded reference emulator writes there). Without
/// one, the goldens are the reference emulator's under its own profile: compared under another
/// profile or against another target only on request, and never under variance, which makes the emulator's bodies differ on purpose.
/// The embedded suite's goldens are only compared: writing them needs a checkout (`--root`).
fn snapshot_settings(options: &Options, loaded: &Loaded, source: String) -> Result<Option<SnapshotSettings>, String> {
    let own = options.snapshot_dir.clone().or_else(|| loaded.profile.snapshot_dir_path(&loaded.profile_path));
    if options.no_snapshots || options.variance.is_some() {
        return Ok(None);
    }
    if let Some(dir) = own {
        let dir = resolve_dir(&dir);
        // With the embedded suite, the checkout this binary was built in (if it is there) is
        // still protected: its goldens are the ones a contributor would overwrite.
        let checkout = Some(default_root()).filter(|r| r.join("fixtures").is_dir());
        if let Some(root) = options.root.clone().or(checkout) {
            let fixtures = resolve_dir(&root.join("fixtures"));
            let reference_update = options.target.is_none() && options.faults.is_empty() && options.update_snapshots;
            if dir.starts_with(&fixtures) && !reference_update {
                return Err(SnapshotDirError::InsideFixtures { dir, fixtures }.to_string());
            }
        }
        let mode = if options.update_snapshots { SnapshotMode::Update } else { SnapshotMode::Record };
        return Ok(Some(SnapshotSettings { dir, source, mode }));
    }
    if options.update_snapshots && options.target.is_some() {
        return Err(SnapshotDirError::UpdateNeedsDir.to_string());
    }
    // The goldens are the reference emulator's under its own profile, which says `snapshots = true`.
    if !loaded.profile.snapshots.unwrap_or(false) {
        return Ok(None);
    }
    let Some(root) = &options.root else {
        if options.update_snapshots {
            return Err("--update-snapshots rewrites the goldens of a checkout: give --root DIR (the suite embedded \
                        in callspec is read-only)"
                .into());
        }
        let dir = PathBuf::from("fixtures/snapshots");
        return Ok(Some(SnapshotSettings { dir, source, mode: SnapshotMode::Embedded }));
    };
    let dir = root.join("fixtures/snapshots");
    Ok(Some(SnapshotSettings { dir, source, mode: golden_mode(root, options, loaded) }))
}

/// Goldens are written only on request, or as pending files for a person running the reference
/// emulator with its own profile locally; never against another target or profile, never with a
/// fault, never in CI.
fn golden_mode(root: &Path, options: &Options, loaded: &Loaded) -> SnapshotMode {
    let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false");
    let reference = root.join(REFERENCE_PROFILE);
    let reference_profile = options.profile.is_none()
        || loaded.profile_path.canonicalize().ok().is_some_and(|p| reference.canonicalize().ok() == Some(p));
    let local_reference = options.target.is_none() && options.faults.is_empty() && reference_profile && !ci;
    match (options.update_snapshots, local_reference) {
        (true, _) => SnapshotMode::Update,
        (false, true) => SnapshotMode::Pending,
        (false, false) => SnapshotMode::Check,
    }
}

/// Runs the suite as libtest-mimic trials (the `cargo test` entry point); returns the exit code.
/// An empty selection is a pass here: `cargo test NAME` sends its filter to every test binary.
pub fn run_libtest(options: Options, args: libtest_mimic::Arguments) -> ExitCode {
    exec::run_libtest(options, args)
}
