//! `load`: drives the `callspec-emulator` binary as a heavy user would and checks that nothing
//! is lost (`cargo xtask load`, and at full size `cargo xtask bench load`).
//!
//! The emulator runs as a child process on a free loopback port (as in `examples/bench.rs`).
//! The load creates `--accounts` subaccounts, each with a number, and `--calls` calls spread over
//! them from `--clients` concurrent clients, every call subscribed to `initiated ringing answered
//! completed` with its `StatusCallback` on this program's own receiver. The callees cover the
//! emulator's table (answer, busy, no-answer with a short `Timeout`, failed), and some calls are
//! canceled right after their create (still queued) or once they ring. Account 0 is the bad one:
//! its receiver answers slowly (`--slow-ms`), with 500, not before the emulator's webhook timeout,
//! or refuses connections (a closed port); every other account's answers at once.
//!
//! Then it waits, up to `--deadline-s`, for every expected callback and for every call to end,
//! listens [`STRAY_WINDOW`] more for callbacks nobody expects, and checks: every call ended as
//! planned; every call not canceled while queued had exactly one terminal callback, and each
//! observable call exactly its expected events, none duplicated, missing or out of order, with
//! `SequenceNumber` 0, 1, 2, … in arrival order; none for a call canceled while queued; every
//! signature valid; and no well-behaved account's callback lagged (arrival − `Timestamp`, or a
//! call's `ringing` behind its `initiated`) as long as the slow receiver makes its own account's. It prints the figures (calls, callbacks, time to
//! drain, the emulator's peak RSS) and exits 0, or 1 with every violation, or 2 when the load
//! could not run.

mod check;
#[path = "../common/child.rs"]
mod child;
mod drive;
mod emulator;
mod plan;
mod receiver;

use drive::{Ctx, Outcome};
use emulator::{Api, Emulator};
use plan::{BAD_ACCOUNT, Canceled, Mode};
use receiver::Receiver;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// How long the load listens, after everything expected has arrived, for callbacks nobody expects.
const STRAY_WINDOW: Duration = Duration::from_secs(1);

/// Why the load could not run (a fault of the harness, not a verdict on the emulator).
#[derive(Debug, thiserror::Error)]
pub(crate) enum LoadError {
    /// A flag is unknown or its value does not parse.
    #[error("{0}\n{USAGE}")]
    Usage(String),
    /// The emulator process did not start, print its address, or show its memory in `/proc`.
    #[error("the emulator process: {0}")]
    Emulator(String),
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Client(reqwest::Error),
    /// A socket of the receiver.
    #[error("the callback receiver: {0}")]
    Receiver(std::io::Error),
    /// Creating the accounts failed.
    #[error("setting up account {index}: {source}")]
    Setup { index: usize, source: emulator::ApiError },
    /// The async runtime did not start.
    #[error("cannot start the runtime: {0}")]
    Runtime(std::io::Error),
}

const USAGE: &str = "\
load: callspec-emulator under many concurrent calls, callbacks checked one by one

USAGE:
    load [--emulator PATH] [--calls N] [--clients N] [--accounts N] [--cps X] [--ring-ms MS]
         [--no-answer-s S] [--slow-ms MS] [--webhook-timeout-ms MS] [--deadline-s S] [--threads N]

    --emulator PATH          the callspec-emulator binary (default: next to this program's directory)
    --calls N                calls to create (default 300)
    --clients N              concurrent clients creating them (default 30)
    --accounts N             subaccounts, at least 2; account 0's receivers misbehave (default 5)
    --cps X                  the emulator's --cps, per account (default 25)
    --ring-ms MS             the emulator's --ring-ms (default 300)
    --no-answer-s S          Timeout of the no-answer calls (default 2)
    --slow-ms MS             the slow receiver's delay (default 3000)
    --webhook-timeout-ms MS  the emulator's webhook timeout; the hanging receiver outlasts it (default 4000)
    --deadline-s S           longest wait for the calls to end and the callbacks to arrive (default 120)
    --threads N              worker threads of this program (default 2)
";

/// The command line.
#[derive(Debug, Clone)]
struct Opts {
    emulator: PathBuf,
    calls: usize,
    clients: usize,
    accounts: usize,
    cps: f64,
    ring_ms: u64,
    no_answer_s: u32,
    slow_ms: u64,
    webhook_timeout_ms: u64,
    deadline_s: u64,
    threads: usize,
}

fn parse_args() -> Result<Option<Opts>, LoadError> {
    let default_emulator = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().and_then(|examples| examples.parent()).map(|dir| dir.join("callspec-emulator")))
        .unwrap_or_else(|| PathBuf::from("callspec-emulator"));
    let mut o = Opts {
        emulator: default_emulator,
        calls: 300,
        clients: 30,
        accounts: 5,
        cps: 25.0,
        ring_ms: 300,
        no_answer_s: 2,
        slow_ms: 3000,
        webhook_timeout_ms: 4000,
        deadline_s: 120,
        threads: 2,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) => (f.to_owned(), Some(v.to_owned())),
            None => (arg.clone(), None),
        };
        if flag == "-h" || flag == "--help" {
            return Ok(None);
        }
        let value = inline.or_else(|| args.next()).ok_or_else(|| LoadError::Usage(format!("{flag} needs a value")))?;
        let bad = |e: &dyn std::fmt::Display| LoadError::Usage(format!("{flag} {value:?}: {e}"));
        match flag.as_str() {
            "--emulator" => o.emulator = PathBuf::from(&value),
            "--calls" => o.calls = value.parse().map_err(|e| bad(&e))?,
            "--clients" => o.clients = value.parse().map_err(|e| bad(&e))?,
            "--accounts" => o.accounts = value.parse().map_err(|e| bad(&e))?,
            "--cps" => o.cps = value.parse().map_err(|e| bad(&e))?,
            "--ring-ms" => o.ring_ms = value.parse().map_err(|e| bad(&e))?,
            "--no-answer-s" => o.no_answer_s = value.parse().map_err(|e| bad(&e))?,
            "--slow-ms" => o.slow_ms = value.parse().map_err(|e| bad(&e))?,
            "--webhook-timeout-ms" => o.webhook_timeout_ms = value.parse().map_err(|e| bad(&e))?,
            "--deadline-s" => o.deadline_s = value.parse().map_err(|e| bad(&e))?,
            "--threads" => o.threads = value.parse().map_err(|e| bad(&e))?,
            _ => return Err(LoadError::Usage(format!("unknown flag {flag:?}"))),
        }
    }
    if o.calls == 0 || o.clients == 0 || o.threads == 0 || o.accounts < 2 || o.deadline_s == 0 {
        return Err(LoadError::Usage(
            "--calls, --clients, --threads and --deadline-s must be positive, --accounts at least 2".into(),
        ));
    }
    let cps_ok = o.cps.is_finite() && o.cps > 0.0;
    if !cps_ok || !(1..=600).contains(&o.no_answer_s) {
        return Err(LoadError::Usage("--cps must be positive, --no-answer-s within 1..600".into()));
    }
    if o.slow_ms >= o.webhook_timeout_ms {
        return Err(LoadError::Usage(
            "--slow-ms must be shorter than --webhook-timeout-ms (the slow receiver answers)".into(),
        ));
    }
    Ok(Some(o))
}

/// A loopback port nothing listens on: bound, then closed.
fn closed_port() -> Result<u16, LoadError> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(LoadError::Receiver)?;
    listener.local_addr().map(|a| a.port()).map_err(LoadError::Receiver)
}

/// The 1-, 5- and 15-minute load averages.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// What the run measured, for the figures.
struct Run {
    outcomes: Vec<Outcome>,
    arrivals: Vec<receiver::Arrival>,
    unreadable: Vec<String>,
    accounts: Vec<emulator::Account>,
    started: Instant,
    create_s: f64,
    last_create: Instant,
    peak_rss: u64,
    emulator_alive: bool,
}

async fn run(o: &Opts) -> Result<Run, LoadError> {
    let timeout = o.webhook_timeout_ms.to_string();
    let args = ["--cps".to_owned(), o.cps.to_string(), "--ring-ms".into(), o.ring_ms.to_string()];
    let mut emulator = Emulator::start(&o.emulator, &[&args[..], &["--webhook-timeout-ms".into(), timeout]].concat())?;
    let api = Api::new(emulator.base_url(), o.clients)?;
    let mut accounts = Vec::with_capacity(o.accounts);
    for index in 0..o.accounts {
        let number = format!("+1650555{:04}", 1000 + index);
        let account = api.account(&format!("load {index}"), &number).await;
        accounts.push(account.map_err(|source| LoadError::Setup { index, source })?);
    }
    let tokens = accounts.iter().map(|a| a.token.clone()).collect();
    let hang = Duration::from_millis(o.webhook_timeout_ms + 1000);
    let receiver =
        Receiver::start(tokens, Duration::from_millis(o.slow_ms), hang).await.map_err(LoadError::Receiver)?;
    let started = Instant::now();
    let ctx = Arc::new(Ctx {
        api,
        accounts: accounts.clone(),
        receiver: receiver.clone(),
        closed_port: closed_port()?,
        no_answer_s: o.no_answer_s,
        deadline: started + Duration::from_secs(o.deadline_s),
    });
    let plan = plan::plan(o.calls, o.accounts);
    let (outcomes, last_create) = drive::create_all(ctx.clone(), &plan, o.clients).await;
    let create_s = (last_create - started).as_secs_f64();
    drive::await_callbacks(&ctx, &outcomes).await;
    let outcomes = drive::await_terminal(ctx.clone(), outcomes, o.clients).await;
    // Listening for what nobody expects can only be bounded by time.
    tokio::time::sleep(STRAY_WINDOW).await;
    let (arrivals, unreadable) = receiver.snapshot();
    let peak_rss = emulator.peak_rss()?;
    let emulator_alive = emulator.running();
    Ok(Run { outcomes, arrivals, unreadable, accounts, started, create_s, last_create, peak_rss, emulator_alive })
}

/// Seconds from the last create to the last arrival that `pick` selects.
fn drain_s(r: &Run, pick: impl Fn(&receiver::Arrival) -> bool) -> String {
    r.arrivals.iter().filter(|a| pick(a)).map(|a| a.at).max().map_or_else(
        || "no callbacks".into(),
        |at| format!("{:.2} s", at.saturating_duration_since(r.last_create).as_secs_f64()),
    )
}

#[allow(clippy::print_stdout, reason = "the figures are the program's output")]
fn figures(o: &Opts, r: &Run, lags: &check::Lags) {
    let count = |c: Canceled| r.outcomes.iter().filter(|x| x.canceled == c).count();
    let created = r.outcomes.iter().filter(|x| x.sid.is_some()).count();
    println!(
        "creates:         {created} of {} in {:.2} s ({:.0}/s); canceled while queued {}, while ringing {}",
        o.calls,
        r.create_s,
        created as f64 / r.create_s.max(1e-9),
        count(Canceled::WhileQueued),
        count(Canceled::WhileRinging)
    );
    let mut ended: Vec<(&str, usize)> = Vec::new();
    for status in r.outcomes.iter().filter_map(|x| x.final_status.as_deref()) {
        match ended.iter_mut().find(|(s, _)| *s == status) {
            Some((_, n)) => *n += 1,
            None => ended.push((status, 1)),
        }
    }
    ended.sort_unstable();
    let ended_text: Vec<String> = ended.iter().map(|(s, n)| format!("{s} {n}")).collect();
    let total_ended: usize = ended.iter().map(|(_, n)| n).sum();
    println!("calls ended:     {total_ended} ({})", ended_text.join(", "));
    let expected: usize = r.outcomes.iter().filter_map(|x| x.expected()).map(<[_]>::len).sum();
    let refused = r.outcomes.iter().filter(|x| x.sid.is_some() && x.planned.mode == Mode::Refuse).count();
    let bad = r.arrivals.iter().filter(|a| a.account == BAD_ACCOUNT).count();
    println!(
        "callbacks:       {} received, {expected} expected ({} on account 0, whose receivers misbehave; \
         {refused} calls' receivers refuse connections)",
        r.arrivals.len(),
        bad
    );
    println!(
        "time to drain:   {} (last create → last callback); other accounts {}, account 0 {}",
        drain_s(r, |_| true),
        drain_s(r, |a| a.account != BAD_ACCOUNT),
        drain_s(r, |a| a.account == BAD_ACCOUNT)
    );
    println!(
        "callback lag:    other accounts at most {} ms; account 0's slow receiver {} ms (arrival − Timestamp, \
         whose 1 s resolution adds up to 999 ms); initiated → ringing on other accounts at most {} ms",
        lags.others_max_ms, lags.slow_max_ms, lags.others_gap_ms
    );
    println!("emulator peak:   {:.1} MiB RSS (VmHWM)", r.peak_rss as f64 / 1_048_576.0);
    println!(
        "wall time:       {:.2} s from the first create; load average after {}",
        r.started.elapsed().as_secs_f64(),
        loadavg()
    );
}

#[allow(clippy::print_stdout, clippy::print_stderr, reason = "figures on stdout, failures on stderr")]
fn main() -> ExitCode {
    let o = match parse_args() {
        Ok(Some(o)) => o,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("load: {e}");
            return ExitCode::from(2);
        }
    };
    println!(
        "callspec-emulator load: {} calls from {} clients over {} subaccounts; {} (--cps {} --ring-ms {} \
         --webhook-timeout-ms {}); account 0's receivers: slow {} ms, 500, hanging, refused (load average {})",
        o.calls,
        o.clients,
        o.accounts,
        o.emulator.display(),
        o.cps,
        o.ring_ms,
        o.webhook_timeout_ms,
        o.slow_ms,
        loadavg()
    );
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(o.threads).enable_all().build();
    let result = runtime.map_err(LoadError::Runtime).and_then(|rt| rt.block_on(run(&o)));
    let r = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("load: {e}");
            return ExitCode::from(2);
        }
    };
    let slow_ms = i64::try_from(o.slow_ms).unwrap_or(i64::MAX);
    let (mut violations, lags) = check::check(&r.outcomes, &r.arrivals, &r.unreadable, &r.accounts, slow_ms);
    if !r.emulator_alive {
        violations.push("the emulator exited during the load".into());
    }
    figures(&o, &r, &lags);
    if violations.is_empty() {
        println!("load: PASS: every call ended, every callback as expected");
        return ExitCode::SUCCESS;
    }
    eprintln!("load: FAIL: {} violations", violations.len());
    for v in &violations {
        eprintln!("  - {v}");
    }
    ExitCode::FAILURE
}
