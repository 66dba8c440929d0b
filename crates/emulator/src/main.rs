//! The `callspec-emulator` binary: parses flags, sets up logging, runs the emulator until Ctrl-C.
//!
//! Everything it prints goes through [`print_lines`]: when standard output is closed early
//! (`callspec-emulator --list-faults | head -1`), printing stops quietly.

use callspec_emulator::{Config, Fault, seed};
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
struct Args {
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
    /// Answer 429 / 20429 beyond this many API requests in flight.
    #[arg(long)]
    max_concurrent_requests: Option<usize>,
    /// Time limit of each request to a user URL, in milliseconds.
    #[arg(long, default_value_t = 15_000)]
    webhook_timeout_ms: u64,
    /// Largest request body accepted, in bytes (413 beyond).
    #[arg(long, default_value_t = 64 * 1024)]
    max_body_bytes: usize,
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
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// The startup banner: where the emulator listens, the seeded accounts, the callee table.
fn banner(base_url: &str) -> io::Result<()> {
    print_lines([
        format!("callspec emulator listening on {base_url}"),
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
        "Ctrl-C to stop.".to_owned(),
    ])
}

#[tokio::main]
async fn main() -> io::Result<()> {
    let args = Args::parse();
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
        webhook_timeout: Duration::from_millis(args.webhook_timeout_ms),
        max_body_bytes: args.max_body_bytes,
        faults: args.faults,
        variance: args.twilio_variance,
    };
    let emulator = callspec_emulator::spawn(config).await?;
    banner(&emulator.base_url())?;
    tokio::signal::ctrl_c().await?;
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
}
