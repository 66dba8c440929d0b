//! The `callspec-emulator` binary: parses flags, sets up logging, runs the emulator until Ctrl-C.

use callspec_emulator::{Config, Fault, seed};
use clap::{Parser, ValueEnum};
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
}

#[allow(clippy::print_stdout, reason = "the list is the command's output")]
fn list_faults() {
    for fault in Fault::ALL {
        println!("{}\t{}\t{}", fault.name(), fault.area(), fault.breaks());
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colour only on a terminal: logs sent to a file or a CI log stay plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

#[allow(clippy::print_stdout, reason = "the startup banner is the binary's user interface")]
fn banner(base_url: &str) {
    println!("callspec emulator listening on {base_url}");
    println!("accounts (Account SID / auth token):");
    println!(
        "  main   {} / {}  numbers {}",
        seed::MAIN_ACCOUNT_SID,
        seed::MAIN_AUTH_TOKEN,
        seed::MAIN_NUMBERS.join(", ")
    );
    println!(
        "  trial  {} / {}  numbers {}  verified {}",
        seed::TRIAL_ACCOUNT_SID,
        seed::TRIAL_AUTH_TOKEN,
        seed::TRIAL_NUMBERS.join(", "),
        seed::TRIAL_VERIFIED_CALLER_IDS.join(", ")
    );
    println!("callee table:\n{}", seed::callee_table());
    println!("Ctrl-C to stop.");
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    if args.list_faults {
        list_faults();
        return Ok(());
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
    };
    let emulator = callspec_emulator::spawn(config).await?;
    banner(&emulator.base_url());
    tokio::signal::ctrl_c().await?;
    emulator.shutdown().await;
    Ok(())
}
