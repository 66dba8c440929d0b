//! `callspec sdk --driver "<command>"`: starts the reference emulator in-process (strict, with
//! its request journal), the driver, the SDK scenarios ([`crate::sdk`]); prints them as the
//! suite's run does, the SDK requirements' coverage and the summary, writes the same reports.
//!
//! Exit codes as the suite's: 0 every case as expected, 1 a FAIL, 2 a harness or driver ERROR,
//! a driver that could not start, or a run in which no scenario ran.

use super::config_error;
use super::print::{Format, Printer, Tally};
use crate::client::Client;
use crate::outcome::TargetInfo;
use crate::profile::Profile;
use crate::sdk::protocol::Common;
use crate::sdk::scenarios::Ctx;
use crate::suite::Suite;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Gate an SDK: run its driver's scenarios against the strict reference emulator.
#[derive(Debug, Clone, clap::Args)]
pub struct SdkArgs {
    /// The driver command, run through the shell (e.g. "python3 drivers/python/driver.py"): it
    /// speaks the protocol of docs/sdk-driver.md on its stdin and stdout.
    #[arg(long, value_name = "COMMAND")]
    pub driver: String,
    /// Write report.json, report.html, junit.xml, summary.md, coverage.md and coverage.json here.
    #[arg(long, value_name = "DIR")]
    pub report_dir: Option<PathBuf>,
    /// Multiply every deadline (the handshake's, each scenario's) by this factor (above 0, at most 1000).
    #[arg(long, value_name = "F", default_value_t = 1.0)]
    pub timeout_multiplier: f64,
    /// The SDK's known failures, in the baseline file format (`[[known_failures]]` entries naming
    /// `sdk::…` cases, each with a reason): failures they cover are XFAIL; an entry that covers
    /// nothing is XPASS.
    #[arg(long, value_name = "FILE")]
    pub known_failures: Option<PathBuf>,
    /// Do not print the requirement coverage table.
    #[arg(long)]
    pub no_coverage: bool,
    /// Terse output: one character per case.
    #[arg(short, long)]
    pub quiet: bool,
}

/// The suite's profile of the reference emulator: its accounts and numbers.
const REFERENCE_PROFILE: &str = "fixtures/targets/reference-emulator.toml";

/// Runs `callspec sdk`.
pub(super) fn run(args: SdkArgs) -> ExitCode {
    if !(args.timeout_multiplier > 0.0 && args.timeout_multiplier <= 1000.0) {
        return config_error("callspec sdk: --timeout-multiplier must be a number above 0 and at most 1000");
    }
    let suite = Suite::at(None);
    let loaded = (|| -> Result<_, String> {
        let version = suite.version().map_err(|e| e.to_string())?;
        let schemas = crate::schema::SchemaSet::from_suite(&suite).map_err(|e| e.to_string())?;
        let catalog = crate::requirements::Catalog::from_suite(&suite).map_err(|e| e.to_string())?;
        let profile = Profile::from_suite(&suite, REFERENCE_PROFILE, &schemas).map_err(|e| e.to_string())?;
        let known = match &args.known_failures {
            Some(file) => crate::profile::load_baseline(file, &schemas).map_err(|e| e.to_string())?,
            None => Vec::new(),
        };
        let unmatched = crate::sdk::unmatched_known(&known);
        if !unmatched.is_empty() {
            return Err(format!("known-failure entries that match no SDK case: {}", unmatched.join(", ")));
        }
        Ok((version, catalog, profile, known))
    })();
    let (version, catalog, profile, known) = match loaded {
        Ok(l) => l,
        Err(e) => return config_error(format!("callspec sdk: {e}")),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return config_error(format!("cannot start the async runtime: {e}")),
    };
    runtime.block_on(gate(&args, &profile, known, &catalog, &version))
}

async fn gate(
    args: &SdkArgs,
    profile: &Profile,
    known: Vec<crate::profile::KnownFailure>,
    catalog: &crate::requirements::Catalog,
    version: &crate::suite::SuiteVersion,
) -> ExitCode {
    let account = match profile.credentials.resolve("main account") {
        Ok(a) => a,
        Err(e) => return config_error(format!("callspec sdk: {e}")),
    };
    let (base_url, emulator) = match super::Embedded::start_sdk().await {
        Ok(started) => started,
        Err(e) => return config_error(e),
    };
    let client = match Client::new(Duration::from_secs(10), 1 << 20) {
        Ok(c) => c,
        Err(e) => return config_error(format!("callspec sdk: {e}")),
    };
    let Some(no_answer) = profile.callees.no_answer.clone() else {
        return config_error("callspec sdk: the reference profile names no `callees.no_answer`");
    };
    let Some(machine) = profile.callees.machine.clone() else {
        return config_error("callspec sdk: the reference profile names no `callees.machine`");
    };
    let ctx = Ctx {
        client: &client,
        common: Common { base_url: base_url.clone(), account_sid: account.sid.clone(), auth_token: account.token },
        journal: &emulator,
        from: profile.numbers.from.clone(),
        answer: profile.numbers.answer.clone(),
        no_answer,
        machine,
        multiplier: args.timeout_multiplier,
    };
    let today = time::OffsetDateTime::now_utc().date().to_string();
    let setup = crate::sdk::Setup { command: &args.driver, ctx, known, today };
    let mut printer = Printer::new(Format::Pretty, args.quiet);
    let mut tally = Tally::default();
    let started = Instant::now();
    let started_at = time::OffsetDateTime::now_utc();
    printer.start(crate::sdk::scenarios::CASES.len());
    let (results, label) = crate::sdk::run(&setup, |r| {
        tally.add(r.status);
        printer.result(r);
    })
    .await;
    let wall = started.elapsed();
    printer.finish(&results, tally, wall);
    let dropped = emulator.journal_dropped();
    // Every request the emulator received: callspec's setup and the SDK's alike.
    let received = (crate::sdk::Journal::len(&emulator) + dropped) as u64;
    emulator.shutdown().await;
    let target =
        TargetInfo { name: label.unwrap_or_else(|| format!("driver `{}`", args.driver)), base_url, embedded: true };
    let record = crate::sdk::record(results, target, catalog, version, started_at, wall, received);
    finish(args, &record, &mut printer, dropped)
}

/// Coverage, summary, reports, exit code.
#[allow(clippy::print_stderr, reason = "harness problems go to stderr")]
fn finish(args: &SdkArgs, record: &crate::outcome::RunRecord, printer: &mut Printer, dropped: usize) -> ExitCode {
    let rows = crate::report::coverage(record);
    if !args.no_coverage {
        printer.out.line(format_args!("\n{}", crate::report::coverage_text(&rows)));
    }
    printer.out.line(crate::report::summary_line(record));
    let mut code = crate::sdk::exit_code(record);
    if dropped > 0 {
        eprintln!("callspec sdk: the request journal was full; {dropped} exchange(s) were not recorded");
        code = 2;
    }
    if let Some(dir) = &args.report_dir {
        match crate::report::write_all(record, dir) {
            Ok(paths) => {
                let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
                printer.out.line(format_args!("reports: {}", shown.join(", ")));
            }
            Err(e) => {
                eprintln!("callspec sdk: cannot write reports to {}: {e}", dir.display());
                code = 2;
            }
        }
    }
    if code == 2 {
        eprintln!(
            "callspec sdk: a scenario is ERROR (a driver or harness fault, not a verdict on the SDK) or none ran"
        );
    }
    ExitCode::from(code)
}
