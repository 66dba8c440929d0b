//! `callspec`: run the conformance suite against a Twilio Calls API target.

use callspec_conformance::cli::{Options, default_root, run};
use callspec_emulator::Fault;
use std::path::PathBuf;
use std::process::ExitCode;

const HELP: &str = "\
callspec: conformance suite for Twilio's Programmable Voice Calls API

USAGE:
    callspec [OPTIONS] [LIBTEST ARGS...]

OPTIONS:
    --target URL        Base URL of the target (e.g. http://localhost:4010).
                        Without it, the reference emulator is started in-process.
    --profile FILE      Target profile (TOML). Default: fixtures/targets/reference-emulator.toml
    --report-dir DIR    Write report.json, junit.xml, summary.md, coverage.md and coverage.json.
    --root DIR          Repository root holding fixtures/ and schemas/.
    --no-coverage       Do not print the requirement coverage table.
    --no-snapshots      Do not compare the golden snapshots (the profile's `snapshots` switch).
    --fault NAME        Testing aid: start the embedded emulator with this fault, which breaks
                        one Twilio behaviour on purpose, to check that the suite catches it.
                        Repeatable. Not with --target. `cargo xtask faults` runs them all.
    --list-faults       Print every fault's name, catalog area and what it breaks, then exit.
    -h, --help          This help.

LIBTEST ARGS are those of `cargo test`: name filters (several allowed), --exact, --skip NAME, --list,
--test-threads N, --format pretty|terse|json, --ignored, --include-ignored, -q.

Credentials come from the profile or from TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN.
Exit status: 0 every result as expected; 1 a FAIL or XPASS; 2 configuration or harness error.
";

#[allow(clippy::print_stdout, clippy::print_stderr, reason = "a command line talks on stdout and stderr")]
fn main() -> ExitCode {
    let mut options = Options { root: default_root(), coverage: true, ..Options::default() };
    let mut libtest = vec!["callspec".to_owned()];
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Option<String> {
            let v = inline.clone().or_else(|| args.next());
            if v.is_none() {
                eprintln!("callspec: {name} needs a value");
            }
            v
        };
        match flag.as_str() {
            "-h" | "--help" => {
                print!("{HELP}");
                return ExitCode::SUCCESS;
            }
            "--target" => match value("--target") {
                Some(v) => options.target = Some(v),
                None => return ExitCode::from(2),
            },
            "--profile" => match value("--profile") {
                Some(v) => options.profile = Some(PathBuf::from(v)),
                None => return ExitCode::from(2),
            },
            "--report-dir" => match value("--report-dir") {
                Some(v) => options.report_dir = Some(PathBuf::from(v)),
                None => return ExitCode::from(2),
            },
            "--root" => match value("--root") {
                Some(v) => options.root = PathBuf::from(v),
                None => return ExitCode::from(2),
            },
            "--no-coverage" => options.coverage = false,
            "--no-snapshots" => options.no_snapshots = true,
            "--fault" => match value("--fault").map(|v| v.parse::<Fault>()) {
                Some(Ok(fault)) => options.faults.push(fault),
                Some(Err(e)) => {
                    eprintln!("callspec: --fault: {e}");
                    return ExitCode::from(2);
                }
                None => return ExitCode::from(2),
            },
            "--list-faults" => {
                for fault in Fault::ALL {
                    println!("{}\t{}\t{}", fault.name(), fault.area(), fault.breaks());
                }
                return ExitCode::SUCCESS;
            }
            _ => libtest.push(arg),
        }
    }
    if options.target.is_some() && !options.faults.is_empty() {
        eprintln!(
            "callspec: --fault configures the embedded reference emulator and cannot be used with --target \
             (a separate emulator takes `callspec-emulator --fault NAME`)"
        );
        return ExitCode::from(2);
    }
    if options.target.is_some() && options.profile.is_none() {
        eprintln!("callspec: --target needs --profile FILE describing the target (numbers, capabilities); see README");
        return ExitCode::from(2);
    }
    // libtest takes one name filter; several are applied by callspec itself.
    let mut filters = Vec::new();
    let mut takes_value = false;
    for (i, arg) in libtest.iter().enumerate().skip(1) {
        if takes_value {
            takes_value = false;
        } else if ["--skip", "--test-threads", "--format", "--logfile", "--color"].contains(&arg.as_str()) {
            takes_value = true;
        } else if !arg.starts_with('-') {
            filters.push(i);
        }
    }
    if filters.len() > 1 {
        for i in filters.iter().rev() {
            options.filters.push(libtest.remove(*i));
        }
        options.filters.reverse();
    }
    let args = libtest_mimic::Arguments::from_iter(libtest);
    run(options, args)
}
