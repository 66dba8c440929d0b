//! `bench`: measures the release `callspec-emulator` binary from outside (`cargo xtask bench emulator`).
//!
//! The emulator runs as a child process on a free loopback port, exactly as users run it: default
//! flags (`--cps 1 --ring-ms 300` unless told otherwise), logging at its default level (`info`, one
//! line per request, `RUST_LOG` removed from its environment) in the default text format, its
//! stderr sent to `/dev/null`. The load generator (this program) is a separate process, so its CPU
//! and memory are not mixed into the emulator's.
//!
//! Two measurements, each on a fresh emulator process:
//! - **throughput**: `--clients` concurrent keep-alive clients create calls
//!   (`POST /2010-04-01/Accounts/{main}/Calls.json`, inline `Twiml=<Response><Hangup/></Response>`
//!   so no webhook is ever sent) for `--warmup` seconds unmeasured, then for `--seconds` seconds
//!   with every latency recorded: creates/s, p50, p99, max, errors, and the CPU each process used;
//! - **memory**: `VmRSS` from `/proc/<pid>/status` after a warm-up of `--warmup-calls` creates and
//!   again after `--calls` more, created as fast as possible. At 1 CPS they stay queued (the
//!   realistic case), so the difference divided by `--calls` is what one stored call costs: its
//!   record, its live plan, its SID index entry and its queue entry, plus the growth of the
//!   account's containers.
//!
//! Only loopback traffic: the emulator listens on 127.0.0.1 and the calls carry no URL.

#[path = "common/child.rs"]
mod child;

use callspec_emulator::seed;
use child::ChildEmulator;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// What an error looks like here: a message for the terminal.
type Res<T> = Result<T, String>;

const USAGE: &str = "\
bench: throughput, latency and memory of the release callspec-emulator binary

USAGE:
    bench [--emulator PATH] [--clients N] [--seconds S] [--warmup S] [--calls N] [--warmup-calls N]
          [--cps X] [--ring-ms MS] [--client-threads N] [--only throughput|memory]

    --emulator PATH      the callspec-emulator binary (default: next to this program's directory)
    --clients N          concurrent clients, one keep-alive connection each (default 32)
    --seconds S          measured seconds of the throughput run (default 20)
    --warmup S           unmeasured seconds before it (default 3)
    --calls N            stored calls of the memory run (default 100000)
    --warmup-calls N     creates before the memory baseline (default 2000)
    --cps X              the emulator's --cps (default 1, its own default)
    --ring-ms MS         the emulator's --ring-ms (default 300, its own default)
    --client-threads N   worker threads of the load generator (default 1)
    --only WHAT          run only the throughput or the memory measurement
";

/// The command line.
#[derive(Debug, Clone)]
struct Opts {
    emulator: PathBuf,
    clients: usize,
    seconds: f64,
    warmup: f64,
    calls: usize,
    warmup_calls: usize,
    cps: f64,
    ring_ms: u64,
    client_threads: usize,
    throughput: bool,
    memory: bool,
}

fn parse_args() -> Res<Option<Opts>> {
    let default_emulator = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().and_then(|examples| examples.parent()).map(|dir| dir.join("callspec-emulator")))
        .unwrap_or_else(|| PathBuf::from("callspec-emulator"));
    let mut o = Opts {
        emulator: default_emulator,
        clients: 32,
        seconds: 20.0,
        warmup: 3.0,
        calls: 100_000,
        warmup_calls: 2_000,
        cps: 1.0,
        ring_ms: 300,
        client_threads: 1,
        throughput: true,
        memory: true,
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
        let value = inline.or_else(|| args.next()).ok_or_else(|| format!("{flag} needs a value"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{flag} {value:?}: {e}");
        match flag.as_str() {
            "--emulator" => o.emulator = PathBuf::from(&value),
            "--clients" => o.clients = value.parse().map_err(|e| bad(&e))?,
            "--seconds" => o.seconds = value.parse().map_err(|e| bad(&e))?,
            "--warmup" => o.warmup = value.parse().map_err(|e| bad(&e))?,
            "--calls" => o.calls = value.parse().map_err(|e| bad(&e))?,
            "--warmup-calls" => o.warmup_calls = value.parse().map_err(|e| bad(&e))?,
            "--cps" => o.cps = value.parse().map_err(|e| bad(&e))?,
            "--ring-ms" => o.ring_ms = value.parse().map_err(|e| bad(&e))?,
            "--client-threads" => o.client_threads = value.parse().map_err(|e| bad(&e))?,
            "--only" => match value.as_str() {
                "throughput" => o.memory = false,
                "memory" => o.throughput = false,
                _ => return Err(format!("--only takes throughput or memory, not {value:?}")),
            },
            _ => return Err(format!("unknown flag {flag:?}\n{USAGE}")),
        }
    }
    let seconds_ok = o.seconds.is_finite() && o.seconds > 0.0;
    let warmup_ok = o.warmup.is_finite() && o.warmup >= 0.0;
    if o.clients == 0 || o.client_threads == 0 || o.calls == 0 || !seconds_ok || !warmup_ok {
        return Err("--clients, --client-threads, --seconds and --calls must be positive, --warmup not negative".into());
    }
    Ok(Some(o))
}

/// The emulator under test, at the bench's CPS and ring time.
fn start_emulator(o: &Opts) -> Res<ChildEmulator> {
    ChildEmulator::start(&o.emulator, &["--cps".into(), o.cps.to_string(), "--ring-ms".into(), o.ring_ms.to_string()])
}

/// User + system CPU seconds a process has used (`/proc/<pid>/stat`, fields 14 and 15, in
/// Linux's fixed 100 ticks per second).
fn cpu_seconds(pid: &str) -> Res<f64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).map_err(|e| format!("/proc/{pid}/stat: {e}"))?;
    // The command name (field 2) may hold spaces; count from the closing parenthesis.
    let rest = text.rsplit_once(')').map(|(_, r)| r).ok_or("unexpected /proc/…/stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).ok_or("unexpected /proc/…/stat");
    // `rest` starts at field 3 (state), so utime (14) is index 11 and stime (15) index 12.
    Ok((tick(11)? + tick(12)?) as f64 / 100.0)
}

/// CPU seconds the whole machine has spent busy (user, nice, system, irq, softirq) and stolen by
/// the hypervisor, from the first line of `/proc/stat`.
fn machine_cpu_seconds() -> Res<(f64, f64)> {
    let text = std::fs::read_to_string("/proc/stat").map_err(|e| format!("/proc/stat: {e}"))?;
    let line = text.lines().next().ok_or("empty /proc/stat")?;
    let f: Vec<u64> = line.split_whitespace().skip(1).map(|v| v.parse().unwrap_or(0)).collect();
    let at = |i: usize| f.get(i).copied().unwrap_or(0) as f64 / 100.0;
    Ok((at(0) + at(1) + at(2) + at(5) + at(6), at(7)))
}

/// The 1-, 5- and 15-minute load averages, as `/proc/loadavg` shows them.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// One create request, ready to send again and again.
#[derive(Clone)]
struct Creator {
    client: reqwest::Client,
    url: String,
    body: Arc<str>,
}

impl Creator {
    fn new(base_url: &str, clients: usize) -> Res<Creator> {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(clients * 2)
            .timeout(Duration::from_secs(10))
            .no_proxy()
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let body: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("To", "+14155550100")
            .append_pair("From", seed::MAIN_NUMBERS[0])
            .append_pair("Twiml", "<Response><Hangup/></Response>")
            .finish();
        let url = format!("{base_url}/2010-04-01/Accounts/{}/Calls.json", seed::MAIN_ACCOUNT_SID);
        Ok(Creator { client, url, body: body.into() })
    }

    /// Creates one call; `Err` carries what went wrong (a status other than 201, or transport).
    async fn create(&self) -> Result<(), String> {
        let response = self
            .client
            .post(&self.url)
            .basic_auth(seed::MAIN_ACCOUNT_SID, Some(seed::MAIN_AUTH_TOKEN))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(self.body.to_string())
            .send()
            .await
            .map_err(|e| format!("transport: {e}"))?;
        let status = response.status();
        // Read the whole body so the connection is reused.
        let body = response.bytes().await.map_err(|e| format!("body: {e}"))?;
        if status.as_u16() == 201 {
            Ok(())
        } else {
            Err(format!("status {status}: {}", String::from_utf8_lossy(&body).chars().take(200).collect::<String>()))
        }
    }
}

/// What one client saw in the measured window.
#[derive(Default)]
struct ClientStats {
    latencies_us: Vec<u32>,
    errors: u64,
    first_error: Option<String>,
}

/// `clients` tasks create calls until `end`; what completes after `measure_from` is recorded.
async fn hammer(creator: &Creator, clients: usize, measure_from: Instant, end: Instant) -> Vec<ClientStats> {
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let creator = creator.clone();
            tokio::spawn(async move {
                let mut stats = ClientStats { latencies_us: Vec::with_capacity(1 << 16), ..ClientStats::default() };
                loop {
                    let start = Instant::now();
                    if start >= end {
                        break;
                    }
                    let result = creator.create().await;
                    if start < measure_from {
                        continue;
                    }
                    match result {
                        Ok(()) => {
                            let us = u32::try_from(start.elapsed().as_micros()).unwrap_or(u32::MAX);
                            stats.latencies_us.push(us);
                        }
                        Err(e) => {
                            stats.errors += 1;
                            stats.first_error.get_or_insert(e);
                        }
                    }
                }
                stats
            })
        })
        .collect();
    let mut out = Vec::with_capacity(clients);
    for task in tasks {
        match task.await {
            Ok(s) => out.push(s),
            Err(e) => {
                out.push(ClientStats { errors: 1, first_error: Some(format!("task: {e}")), ..Default::default() })
            }
        }
    }
    out
}

/// `count` creates as fast as `clients` clients can send them; returns (errors, first error).
async fn create_n(creator: &Creator, clients: usize, count: usize) -> (usize, Option<String>) {
    let next = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let creator = creator.clone();
            let next = next.clone();
            tokio::spawn(async move {
                let mut errors = 0usize;
                let mut first = None;
                while next.fetch_add(1, Ordering::Relaxed) < count {
                    if let Err(e) = creator.create().await {
                        errors += 1;
                        first.get_or_insert(e);
                    }
                }
                (errors, first)
            })
        })
        .collect();
    let mut errors = 0;
    let mut first = None;
    for task in tasks {
        match task.await {
            Ok((n, e)) => {
                errors += n;
                if first.is_none() {
                    first = e;
                }
            }
            Err(e) => {
                errors += 1;
                first.get_or_insert(format!("task: {e}"));
            }
        }
    }
    (errors, first)
}

/// The nearest-rank percentile of sorted values.
fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(us: u32) -> String {
    format!("{:.2} ms", f64::from(us) / 1000.0)
}

#[allow(clippy::print_stdout, reason = "the measurements are the program's output")]
async fn throughput(o: &Opts) -> Res<()> {
    println!(
        "\n== throughput: {} clients, {} s warm-up, {} s measured (load average {})",
        o.clients,
        o.warmup,
        o.seconds,
        loadavg()
    );
    let emulator = start_emulator(o)?;
    let creator = Creator::new(&emulator.base_url, o.clients)?;
    let pid = emulator.pid().to_string();
    let t0 = Instant::now();
    let measure_from = t0 + Duration::from_secs_f64(o.warmup);
    let end = measure_from + Duration::from_secs_f64(o.seconds);
    // CPU is sampled at the start of the measured window by a task of its own.
    let cpu_at_start = tokio::spawn({
        let pid = pid.clone();
        async move {
            tokio::time::sleep_until(measure_from.into()).await;
            (cpu_seconds(&pid), cpu_seconds("self"), machine_cpu_seconds())
        }
    });
    let stats = hammer(&creator, o.clients, measure_from, end).await;
    let elapsed = measure_from.elapsed().as_secs_f64();
    let (emu_cpu0, gen_cpu0, machine0) = cpu_at_start.await.map_err(|e| format!("cpu sampler: {e}"))?;
    let emu_cpu = cpu_seconds(&pid)? - emu_cpu0?;
    let gen_cpu = cpu_seconds("self")? - gen_cpu0?;
    let (busy1, steal1) = machine_cpu_seconds()?;
    let (busy0, steal0) = machine0?;
    let others = (busy1 - busy0 - emu_cpu - gen_cpu).max(0.0);
    let rss = emulator.status_bytes("VmRSS")?;
    drop(emulator);
    let errors: u64 = stats.iter().map(|s| s.errors).sum();
    let first_error = stats.iter().find_map(|s| s.first_error.clone());
    let mut all: Vec<u32> = stats.into_iter().flat_map(|s| s.latencies_us).collect();
    all.sort_unstable();
    let ok = all.len();
    println!("creates:         {ok} in {elapsed:.2} s = {:.0} creates/s", ok as f64 / elapsed);
    println!(
        "latency:         p50 {}  p90 {}  p99 {}  p99.9 {}  max {}",
        ms(percentile(&all, 50.0)),
        ms(percentile(&all, 90.0)),
        ms(percentile(&all, 99.0)),
        ms(percentile(&all, 99.9)),
        ms(all.last().copied().unwrap_or(0))
    );
    println!("errors:          {errors}{}", first_error.map(|e| format!(" (first: {e})")).unwrap_or_default());
    println!(
        "CPU (measured):  emulator {emu_cpu:.1} s = {:.2} cores; load generator {gen_cpu:.1} s = {:.2} cores",
        emu_cpu / elapsed,
        gen_cpu / elapsed
    );
    println!(
        "CPU of others:   {:.2} cores used by other processes, {:.2} cores stolen by the hypervisor",
        others / elapsed,
        (steal1 - steal0) / elapsed
    );
    println!("emulator RSS at the end: {:.1} MiB", rss as f64 / 1_048_576.0);
    println!("load average after: {}", loadavg());
    Ok(())
}

#[allow(clippy::print_stdout, reason = "the measurements are the program's output")]
async fn memory(o: &Opts) -> Res<()> {
    println!(
        "\n== memory: {} stored calls after {} warm-up creates, {} clients (load average {})",
        o.calls,
        o.warmup_calls,
        o.clients,
        loadavg()
    );
    let emulator = start_emulator(o)?;
    let creator = Creator::new(&emulator.base_url, o.clients)?;
    let fresh = emulator.status_bytes("VmRSS")?;
    let (errors, first) = create_n(&creator, o.clients, o.warmup_calls).await;
    if errors > 0 {
        return Err(format!("{errors} warm-up creates failed; first: {}", first.unwrap_or_default()));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = emulator.status_bytes("VmRSS")?;
    let started = Instant::now();
    let (errors, first) = create_n(&creator, o.clients, o.calls).await;
    let took = started.elapsed().as_secs_f64();
    if errors > 0 {
        return Err(format!("{errors} of {} creates failed; first: {}", o.calls, first.unwrap_or_default()));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = emulator.status_bytes("VmRSS")?;
    let peak = emulator.status_bytes("VmHWM")?;
    drop(emulator);
    let per_call = after.saturating_sub(before) as f64 / o.calls as f64;
    println!("RSS fresh:       {:.1} MiB", fresh as f64 / 1_048_576.0);
    println!("RSS baseline:    {:.1} MiB (after the warm-up)", before as f64 / 1_048_576.0);
    println!(
        "RSS after:       {:.1} MiB ({} calls in {took:.1} s, {:.0} creates/s)",
        after as f64 / 1_048_576.0,
        o.calls,
        o.calls as f64 / took
    );
    println!("RSS peak:        {:.1} MiB (VmHWM)", peak as f64 / 1_048_576.0);
    println!(
        "per stored call: {per_call:.0} bytes = {:.2} KiB (record, live plan, index and queue entry)",
        per_call / 1024.0
    );
    println!("load average after: {}", loadavg());
    Ok(())
}

#[allow(clippy::print_stdout, clippy::print_stderr, reason = "measurements on stdout, failures on stderr")]
fn main() -> std::process::ExitCode {
    let o = match parse_args() {
        Ok(Some(o)) => o,
        Ok(None) => {
            print!("{USAGE}");
            return std::process::ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("bench: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    println!(
        "callspec-emulator bench: {} (--cps {} --ring-ms {}, default logging: level info, text, stderr to /dev/null)",
        o.emulator.display(),
        o.cps,
        o.ring_ms
    );
    println!(
        "load generator: separate process, {} tokio worker thread(s), reqwest HTTP/1.1 keep-alive",
        o.client_threads
    );
    let runtime = if o.client_threads == 1 {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    } else {
        tokio::runtime::Builder::new_multi_thread().worker_threads(o.client_threads).enable_all().build()
    };
    let result = runtime.map_err(|e| format!("cannot start the runtime: {e}")).and_then(|rt| {
        rt.block_on(async {
            if o.throughput {
                throughput(&o).await?;
            }
            if o.memory {
                memory(&o).await?;
            }
            Ok(())
        })
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
