//! The `callspec` command line, on clap. One grammar for every command:
//!
//! ```text
//! callspec [run] [OPTIONS] [FILTER]...   run the suite (the default command)
//! callspec init --target URL [OPTIONS]   probe a target and write a starter profile
//! callspec sdk --driver COMMAND          gate an SDK through its driver (docs/sdk-driver.md)
//! callspec emulator [FLAGS]              serve the reference emulator (feature `emulator`)
//! ```
//!
//! Running the suite is the default, so `callspec --target URL --profile FILE` needs no
//! subcommand; `init`, `sdk` and `emulator` are subcommands beside `run`.
//! Several name filters select the cases matching any of them; the libtest flags that make
//! sense for a suite (`--exact`, `--skip`, `--list`, `--test-threads`, `--format`, `-q`) keep
//! their libtest meaning.

use super::init::InitArgs;
use super::print::Format;
use std::path::PathBuf;

/// callspec: conformance suite for Twilio's Programmable Voice Calls API.
///
/// Without --target, the reference emulator is started in-process. Credentials come from the
/// profile or from TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN. Exit status: 0 every result as
/// expected; 1 a FAIL or XPASS; 2 a configuration or harness error, an unreachable target,
/// refused credentials, or a run in which no case ran.
#[derive(Debug, clap::Parser)]
#[command(name = "callspec", version = crate::suite::VERSION_TEXT, args_conflicts_with_subcommands = true, disable_help_subcommand = true)]
pub struct Cli {
    /// A command; without one, the suite runs.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Options of the default command, `run`.
    #[command(flatten)]
    pub run: RunArgs,
}

/// The commands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Run the suite (the default command).
    Run(RunArgs),
    /// Probe a target and write a commented starter profile of what it can do.
    Init(InitArgs),
    /// Gate an SDK's release: run its driver's scenarios against the strict reference emulator
    /// (docs/sdk-driver.md).
    Sdk(super::sdk::SdkArgs),
    /// Serve the reference emulator (the flags of `callspec-emulator`), e.g. as a test double.
    #[cfg(feature = "emulator")]
    Emulator(super::embedded::EmulatorArgs),
}

/// What to run against, which cases, and what to write.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RunArgs {
    /// Base URL of the target (e.g. http://localhost:4010). Without it, the reference emulator
    /// is started in-process.
    #[arg(long, value_name = "URL")]
    pub target: Option<String>,
    /// Target profile (TOML). Default: fixtures/targets/reference-emulator.toml. Required with --target.
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    /// Write report.json, report.html, junit.xml, summary.md, coverage.md and coverage.json here.
    #[arg(long, value_name = "DIR")]
    pub report_dir: Option<PathBuf>,
    /// Directory holding fixtures/ and schemas/, read instead of the suite embedded in callspec
    /// (for people editing cases; golden snapshots are written only there).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Do not print the requirement coverage table.
    #[arg(long)]
    pub no_coverage: bool,
    /// Do not compare snapshots (overrides the profile's `snapshots` and `snapshot_dir`).
    #[arg(long)]
    pub no_snapshots: bool,
    /// The target's own snapshot directory (overrides the profile's `snapshot_dir`): compared
    /// instead of the reference emulator's goldens. A case with no snapshot there gets this run's
    /// recorded; a later difference FAILs as drift since the recorded run. Never inside the
    /// suite's fixtures/.
    #[arg(long, value_name = "DIR", conflicts_with = "no_snapshots")]
    pub snapshot_dir: Option<PathBuf>,
    /// Rewrite every snapshot that differs and remove orphaned ones: the goldens (embedded
    /// reference emulator), or with a snapshot directory, that directory's.
    #[arg(long, conflicts_with = "no_snapshots")]
    pub update_snapshots: bool,
    /// Fail (exit 2) when a requirement of the catalog has no case.
    #[arg(long)]
    pub require_coverage: bool,
    /// After the run, write the target's known failures to FILE (default: the profile's
    /// `baseline` file), keeping the reason, link and expiry of entries that still match.
    #[arg(long, value_name = "FILE")]
    #[allow(clippy::option_option, reason = "absent, given without FILE, or with FILE: clap's optional value")]
    pub write_baseline: Option<Option<PathBuf>>,
    /// Testing aid: start the embedded emulator with this fault, which breaks one Twilio
    /// behaviour on purpose, to check that the suite catches it. Repeatable; not with --target.
    #[arg(long = "fault", value_name = "NAME", conflicts_with = "target")]
    pub faults: Vec<String>,
    /// Print every fault's name, catalog area and what it breaks, then exit.
    #[arg(long)]
    pub list_faults: bool,
    /// Testing aid: start the embedded emulator in variance mode with this seed: within what
    /// Twilio documents or is observed to do, it behaves like the real API rather than like the
    /// tidiest reading (null dates at create, callbacks out of order, a jittered dequeue, …),
    /// to check that the suite accepts what is right. Snapshots are off. Not with --target.
    #[arg(long, value_name = "SEED", conflicts_with_all = ["target", "update_snapshots", "snapshot_dir"])]
    pub variance: Option<u64>,
    /// Run the cases whose name contains any FILTER (all cases when none is given).
    #[arg(value_name = "FILTER")]
    pub filters: Vec<String>,
    /// Filters match whole names only.
    #[arg(long)]
    pub exact: bool,
    /// Leave out the cases whose name contains NAME (with --exact: equals it). Repeatable.
    #[arg(long, value_name = "NAME")]
    pub skip: Vec<String>,
    /// List the selected cases, marking those the profile would skip, and exit.
    #[arg(long)]
    pub list: bool,
    /// How many cases run at once (default 64: cases mostly wait on the target).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub test_threads: Option<u16>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Terse output: one character per case.
    #[arg(short, long)]
    pub quiet: bool,
}
