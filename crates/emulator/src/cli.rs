//! The emulator's command line, shared by the `callspec-emulator` binary and `callspec emulator`:
//! parses flags, sets up logging, runs the emulator until Ctrl-C or SIGTERM, then drains it.
//!
//! Everything it prints goes through [`print_lines`]: when standard output is closed early
//! (`callspec-emulator --list-faults | head -1`), printing stops quietly.

use crate::{Config, Fault, HostPattern, seed};
use clap::{Parser, ValueEnum};
use std::fmt::Display;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::time::Duration;

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Reference emulator of Twilio's Programmable Voice Calls API.
#[derive(Debug, Parser)]
#[command(name = "callspec-emulator", version)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, env = "CALLSPEC_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Calls per second each account's queue is drained at.
    #[arg(long, default_value_t = 1.0)]
    cps: f64,
    /// Milliseconds a callee rings before it answers (or is busy).
    #[arg(long, default_value_t = 300)]
    ring_ms: u64,
    /// Refuse unknown parameters, non-form bodies and comma-joined list values.
    #[arg(long)]
    strict: bool,
    /// Answer 429 / 20429 beyond this many API requests of one account in flight.
    #[arg(long)]
    max_concurrent_requests: Option<usize>,
    /// Count a request against --max-concurrent-requests only once its body is in, so slow
    /// senders hold no slot (by default a request counts from its headers on).
    #[arg(long)]
    slot_after_body: bool,
    /// Time limit of each request to a user URL, in milliseconds.
    #[arg(long, default_value_t = 15_000)]
    webhook_timeout_ms: u64,
    /// Only these hosts may receive webhooks (repeatable): a name (`app`), `*.example.com`, an
    /// IP address or a CIDR block (`10.0.0.0/8`, which also admits names resolving into it).
    /// A refused webhook fails as an unreachable URL does. Default: any host.
    #[arg(long = "webhook-allow-host", value_name = "PATTERN")]
    webhook_allow_hosts: Vec<HostPattern>,
    /// Largest request body accepted, in bytes (413 beyond).
    #[arg(long, default_value_t = 64 * 1024)]
    max_body_bytes: usize,
    /// Milliseconds a request's headers may take from their first byte (the connection is
    /// closed after).
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    header_timeout_ms: u64,
    /// Milliseconds a request's body may take once its headers are in (408 after).
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    body_timeout_ms: u64,
    /// Milliseconds a keep-alive connection may wait for its next request (closed after).
    #[arg(long, default_value_t = 60_000, value_parser = clap::value_parser!(u64).range(1..))]
    idle_timeout_ms: u64,
    /// Log format.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Testing aid: break one Twilio behaviour on purpose (repeatable), to check that a
    /// conformance suite notices. `--list-faults` names them all.
    #[arg(long = "fault", value_name = "NAME")]
    faults: Vec<Fault>,
    /// Print every fault's name, catalog area and what it breaks, then exit.
    #[arg(long)]
    list_faults: bool,
    /// Testing aid: within what Twilio documents or is observed to do, behave like the real API
    /// rather than like the tidiest reading (null dates at create, `""` SIDs on fetch, callbacks
    /// out of order, a jittered dequeue, …), deterministically per SEED.
    #[arg(long, value_name = "SEED")]
    twilio_variance: Option<u64>,
    /// Testing aid: count a call's TimeLimit FACTOR times faster than real time, so a one-minute
    /// limit ends the call after a second at 60 (measured durations stay real).
    #[arg(long, value_name = "FACTOR", default_value_t = 1.0, value_parser = clock_factor)]
    fast_clock: f64,
}

/// A `--fast-clock` factor: a finite number of at least 1.
fn clock_factor(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(f) if f.is_finite() && f >= 1.0 => Ok(f),
        _ => Err(format!("{text:?} is not a factor of at least 1 (1 = real time, 60 = a minute per second)")),
    }
}

/// Writes `lines` to `out`, one per line. A reader that went away (`BrokenPipe`) stops the
/// printing without an error: it has read all it wanted. Other write errors are returned.
fn write_lines(out: &mut impl Write, lines: impl IntoIterator<Item = impl Display>) -> io::Result<()> {
    let written = lines.into_iter().try_for_each(|line| writeln!(out, "{line}")).and_then(|()| out.flush());
    match written {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Writes `lines` to standard output (see [`write_lines`]).
fn print_lines(lines: impl IntoIterator<Item = impl Display>) -> io::Result<()> {
    write_lines(&mut io::stdout().lock(), lines)
}

/// Every fault's name, catalog area and what it breaks, tab-separated.
fn list_faults() -> io::Result<()> {
    print_lines(Fault::ALL.iter().map(|f| format!("{}\t{}\t{}", f.name(), f.area(), f.breaks())))
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colour only on a terminal: logs sent to a file or a CI log stay plain text.
    let ansi = io::IsTerminal::is_terminal(&io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(io::stderr).with_ansi(ansi);
    match format {
        // Values come from clients: escaped, so that one event stays one line.
        LogFormat::Text => builder.fmt_fields(crate::redact::TextFields).init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// A future that ends at Ctrl-C or, on Unix, SIGTERM (what container runtimes send), naming
/// the signal. On Unix both are caught from this call on, not from the first poll, so a signal
/// sent right after the banner is not lost.
fn stop_signal() -> io::Result<impl Future<Output = &'static str>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (mut interrupt, mut term) = (signal(SignalKind::interrupt())?, signal(SignalKind::terminate())?);
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => "Ctrl-C",
                _ = term.recv() => "SIGTERM",
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            // If Ctrl-C cannot be awaited, stop rather than run unstoppable.
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        })
    }
}

/// The startup banner: where the emulator listens (and a warning when that is not loopback),
/// the seeded accounts, the callee table.
fn banner(base_url: &str, loopback: bool) -> io::Result<()> {
    let exposed = (!loopback).then(|| {
        "WARNING: not a loopback address: anyone who can reach it can use the published credentials below \
         (see the README's 'Running the emulator on a network')"
            .to_owned()
    });
    print_lines([format!("callspec emulator listening on {base_url}")].into_iter().chain(exposed).chain([
        "accounts (Account SID / auth token):".to_owned(),
        "accounts (Account SID / auth token):".to_owned(),
        format!(
            "  main   {} / {}  numbers {}",
            seed::MAIN_ACCOUNT_SID,
            seed::MAIN_AUTH_TOKEN,
            seed::MAIN_NUMBERS.join(", ")
        ),
        format!(
            "  trial  {} / {}  numbers {}  verified {}",
            seed::TRIAL_ACCOUNT_SID,
            seed::TRIAL_AUTH_TOKEN,
            seed::TRIAL_NUMBERS.join(", "),
            seed::TRIAL_VERIFIED_CALLER_IDS.join(", ")
        ),
        format!("callee table:\n{}", seed::callee_table()),
        "Ctrl-C or SIGTERM to stop.".to_owned(),
    ]))
}

/// The binary's `main`: parses the process's arguments and runs until stopped.
pub fn main() -> io::Result<()> {
    let args = Args::parse();
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(run(args))
}

/// Runs the emulator the arguments describe until Ctrl-C or SIGTERM, then drains it (or lists
/// the faults and returns).
pub async fn run(args: Args) -> io::Result<()> {
    if args.list_faults {
        return list_faults();
    }
    init_logging(args.log_format);
    let config = Config {
        listen: args.listen,
        cps: args.cps,
        ring: Duration::from_millis(args.ring_ms),
        strict: args.strict,
        max_concurrent_requests: args.max_concurrent_requests,
        slot_after_body: args.slot_after_body,
        webhook_timeout: Duration::from_millis(args.webhook_timeout_ms),
        max_body_bytes: args.max_body_bytes,
        header_timeout: Duration::from_millis(args.header_timeout_ms),
        body_timeout: Duration::from_millis(args.body_timeout_ms),
        idle_timeout: Duration::from_millis(args.idle_timeout_ms),
        webhook_allow_hosts: args.webhook_allow_hosts,
        faults: args.faults,
        variance: args.twilio_variance,
        journal: false,
        fast_clock: args.fast_clock,
    };
    let stop = stop_signal()?;
    let emulator = crate::spawn(config).await?;
    banner(&emulator.base_url(), emulator.local_addr().ip().is_loopback())?;
    let signal = stop.await;
    tracing::info!(signal, "stopping: draining open requests");
    emulator.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer whose reader went away after `room` bytes.
    struct ClosedAfter {
        room: usize,
        written: Vec<u8>,
        kind: io::ErrorKind,
    }

    impl Write for ClosedAfter {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.written.len() + buf.len() > self.room {
                return Err(io::Error::from(self.kind));
            }
            self.written.extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_reader_stops_the_printing_quietly() {
        let mut out = ClosedAfter { room: 6, written: Vec::new(), kind: io::ErrorKind::BrokenPipe };
        assert!(write_lines(&mut out, ["one", "two", "three"]).is_ok());
        assert_eq!(out.written, b"one\n");
        let mut out = ClosedAfter { room: 6, written: Vec::new(), kind: io::ErrorKind::StorageFull };
        assert_eq!(write_lines(&mut out, ["one", "two"]).map_err(|e| e.kind()), Err(io::ErrorKind::StorageFull));
        let mut out = ClosedAfter { room: 100, written: Vec::new(), kind: io::ErrorKind::BrokenPipe };
        assert!(write_lines(&mut out, Fault::ALL.iter().take(2).map(|f| f.name())).is_ok());
        assert_eq!(out.written, b"unauthorized-without-code\nerror-status-always-400\n");
    }

    #[test]
    fn a_clock_factor_is_at_least_one() {
        assert_eq!(clock_factor("60"), Ok(60.0));
        assert_eq!(clock_factor("1"), Ok(1.0));
        for bad in ["0", "0.5", "-60", "NaN", "inf", "fast", ""] {
            assert!(clock_factor(bad).is_err(), "{bad:?}");
        }
    }
}
