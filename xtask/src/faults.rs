//! `cargo xtask faults [--jobs N] [NAME...]`: proves the suite catches broken implementations.
//!
//! Builds the `callspec` binary once, asks it for the reference emulator's faults
//! (`callspec --list-faults`), runs the whole suite once without a fault and once per fault
//! (`callspec --fault NAME --report-dir target/faults/NAME --no-coverage`, several at a time:
//! the suite mostly waits on timers), reads each `report.json` and checks that every fault makes
//! at least one case FAIL that passes without it. Prints a table (fault, cases that caught it,
//! the kinds of check that failed, the first few cases) and the kill ratio; writes the same table
//! to `target/faults/summary.md`. A fault nothing catches fails: sharpen the suite, never the fault.
//!
//! Snapshots stay off (`--no-snapshots`), so faults are caught by real checks. No dependencies:
//! the reports are read with the small JSON reader below.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Suite runs at once by default: each mostly sleeps on timers, so a few share 2 cores well.
const DEFAULT_JOBS: usize = 6;
/// A run taking longer than this is killed and counts as not run (every case has a deadline).
const RUN_LIMIT: Duration = Duration::from_secs(300);
/// How many catching cases the table names per fault.
const SHOWN_CASES: usize = 3;

/// One fault as `callspec --list-faults` prints it.
#[derive(Debug, Clone)]
struct FaultInfo {
    name: String,
    area: String,
    breaks: String,
}

/// What one suite run produced.
#[derive(Debug, Default)]
struct RunResult {
    /// Case name → status (`PASS`, `FAIL`, ...).
    statuses: BTreeMap<String, String>,
    /// Case name → the kinds of the checks that failed in it.
    kinds: BTreeMap<String, Vec<&'static str>>,
    /// Why the run produced no report, if it did not.
    problem: Option<String>,
    wall: Duration,
}

/// `cargo xtask faults [--jobs N] [NAME...]`.
#[allow(clippy::print_stderr, clippy::print_stdout, reason = "xtask reports on stdout and stderr")]
pub(crate) fn run(root: &Path, cargo: &mut Command, args: &[String]) -> Result<(), String> {
    let started = Instant::now();
    let (jobs, only) = parse_args(args)?;
    eprintln!("\n==> xtask: fault injection: every emulator fault must make a case FAIL");
    let status = cargo
        .args(["build", "--quiet", "-p", "callspec-conformance", "--bin", "callspec"])
        .status()
        .map_err(|e| format!("faults: cannot start cargo: {e}"))?;
    if !status.success() {
        return Err(format!("faults: building callspec failed ({status})"));
    }
    let bin = callspec_binary(root);
    let mut faults = list_faults(&bin)?;
    if !only.is_empty() {
        if let Some(unknown) = only.iter().find(|n| !faults.iter().any(|f| &f.name == *n)) {
            let names: Vec<&str> = faults.iter().map(|f| f.name.as_str()).collect();
            return Err(format!("faults: unknown fault {unknown:?}; valid faults: {}", names.join(", ")));
        }
        faults.retain(|f| only.contains(&f.name));
    }
    let out_dir = root.join("target/faults");
    let _ = std::fs::remove_dir_all(&out_dir);
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("faults: cannot create {}: {e}", out_dir.display()))?;

    // The fault-free run goes first in the queue: it must pass, and a case only catches a fault
    // if it passes without it.
    let mut queue: VecDeque<Option<String>> = VecDeque::from([None]);
    queue.extend(faults.iter().map(|f| Some(f.name.clone())));
    eprintln!("==> xtask: {} suite runs (1 without a fault, {} faults), {jobs} at a time", queue.len(), faults.len());
    let results = run_all(&bin, root, &out_dir, queue, jobs);

    let baseline = results.get(&None).ok_or("faults: the fault-free run did not happen")?;
    if let Some(problem) = &baseline.problem {
        return Err(format!("faults: the fault-free run failed to report: {problem}"));
    }
    let broken: Vec<&String> =
        baseline.statuses.iter().filter(|(_, s)| !matches!(s.as_str(), "PASS" | "SKIP")).map(|(n, _)| n).collect();
    if !broken.is_empty() {
        let list: Vec<&str> = broken.iter().map(|s| s.as_str()).collect();
        return Err(format!("faults: the fault-free run must pass, but these cases did not: {}", list.join(", ")));
    }

    let mut rows = Vec::new();
    for fault in &faults {
        let result = results.get(&Some(fault.name.clone()));
        rows.push(Row::new(fault, baseline, result));
    }
    let caught = rows.iter().filter(|r| r.caught()).count();
    let table = table(&rows);
    println!("\n{table}");
    let ratio = if faults.is_empty() { 100.0 } else { caught as f64 * 100.0 / faults.len() as f64 };
    let wall = started.elapsed();
    let summary = format!(
        "kill ratio: {caught}/{} faults caught ({ratio:.0}%); {} suite runs, {jobs} at a time, in {:.0} s \
         (longest run {:.1} s)",
        faults.len(),
        results.len(),
        wall.as_secs_f64(),
        results.values().map(|r| r.wall.as_secs_f64()).fold(0.0, f64::max),
    );
    println!("{summary}");
    let md = format!("{}\n\n{summary}\n", markdown(&rows));
    let _ = std::fs::write(out_dir.join("summary.md"), md);
    let missed: Vec<&Row> = rows.iter().filter(|r| !r.caught()).collect();
    if missed.is_empty() {
        eprintln!("==> xtask: every fault is caught (reports under {})", out_dir.display());
        return Ok(());
    }
    let mut msg = String::from("faults: no case catches these faults; sharpen or add a case (never weaken the fault):");
    for row in missed {
        let _ = write!(msg, "\n  {} ({}): {}", row.name, row.area, row.breaks);
        if let Some(problem) = &row.problem {
            let _ = write!(msg, " [run problem: {problem}]");
        }
    }
    Err(msg)
}

fn parse_args(args: &[String]) -> Result<(usize, Vec<String>), String> {
    let mut jobs = std::env::var("CALLSPEC_FAULT_JOBS").ok().and_then(|j| j.parse().ok()).unwrap_or(DEFAULT_JOBS);
    let mut only = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let value = match arg.split_once('=') {
            Some(("--jobs", v)) => Some(v.to_owned()),
            _ if arg == "--jobs" || arg == "-j" => Some(it.next().cloned().ok_or("faults: --jobs needs a number")?),
            _ => None,
        };
        match value {
            Some(v) => jobs = v.parse().map_err(|_| format!("faults: --jobs {v:?} is not a number"))?,
            None if arg.starts_with('-') => return Err(format!("faults: unknown option {arg:?}")),
            None => only.push(arg.clone()),
        }
    }
    Ok((jobs.max(1), only))
}

fn callspec_binary(root: &Path) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));
    let target = if target.is_absolute() { target } else { root.join(target) };
    target.join("debug").join(format!("callspec{}", std::env::consts::EXE_SUFFIX))
}

fn list_faults(bin: &Path) -> Result<Vec<FaultInfo>, String> {
    let out = Command::new(bin)
        .arg("--list-faults")
        .output()
        .map_err(|e| format!("faults: cannot run {}: {e}", bin.display()))?;
    if !out.status.success() {
        return Err(format!("faults: `callspec --list-faults` failed ({})", out.status));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let faults: Vec<FaultInfo> = text
        .lines()
        .filter_map(|line| {
            let mut cols = line.splitn(3, '\t');
            let name = cols.next()?.trim();
            (!name.is_empty()).then(|| FaultInfo {
                name: name.to_owned(),
                area: cols.next().unwrap_or("").trim().to_owned(),
                breaks: cols.next().unwrap_or("").trim().to_owned(),
            })
        })
        .collect();
    if faults.is_empty() {
        return Err("faults: `callspec --list-faults` named no fault".into());
    }
    Ok(faults)
}

/// Runs every queued suite run (`None`: no fault), `jobs` at a time.
#[allow(clippy::print_stderr, reason = "xtask reports progress on stderr")]
fn run_all(
    bin: &Path,
    root: &Path,
    out_dir: &Path,
    queue: VecDeque<Option<String>>,
    jobs: usize,
) -> BTreeMap<Option<String>, RunResult> {
    let total = queue.len();
    let queue = Arc::new(Mutex::new(queue));
    let results = Arc::new(Mutex::new(BTreeMap::new()));
    let workers: Vec<_> = (0..jobs.min(total.max(1)))
        .map(|_| {
            let (queue, results) = (queue.clone(), results.clone());
            let (bin, root, out_dir) = (bin.to_path_buf(), root.to_path_buf(), out_dir.to_path_buf());
            std::thread::spawn(move || {
                loop {
                    let next = queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
                    let Some(fault) = next else { break };
                    let result = run_one(&bin, &root, &out_dir, fault.as_deref());
                    let mut done = results.lock().unwrap_or_else(|p| p.into_inner());
                    let label = fault.as_deref().unwrap_or("(no fault)");
                    let fails = result.statuses.values().filter(|s| *s == "FAIL").count();
                    let note = result.problem.as_deref().map(|p| format!(", {p}")).unwrap_or_default();
                    eprintln!(
                        "    [{:>2}/{total}] {label}: {fails} FAIL in {:.1} s{note}",
                        done.len() + 1,
                        result.wall.as_secs_f64()
                    );
                    done.insert(fault, result);
                }
            })
        })
        .collect();
    for worker in workers {
        let _ = worker.join();
    }
    std::mem::take(&mut *results.lock().unwrap_or_else(|p| p.into_inner()))
}

/// One suite run: its output goes to `<dir>/output.log`, its reports to `<dir>/`.
fn run_one(bin: &Path, root: &Path, out_dir: &Path, fault: Option<&str>) -> RunResult {
    let started = Instant::now();
    let dir = out_dir.join(fault.unwrap_or("no-fault"));
    let mut result = RunResult::default();
    if let Err(e) = std::fs::create_dir_all(&dir) {
        result.problem = Some(format!("cannot create {}: {e}", dir.display()));
        return result;
    }
    let log = match std::fs::File::create(dir.join("output.log")) {
        Ok(f) => f,
        Err(e) => {
            result.problem = Some(format!("cannot create the log: {e}"));
            return result;
        }
    };
    let mut cmd = Command::new(bin);
    cmd.current_dir(root)
        .arg("--root")
        .arg(root)
        .arg("--report-dir")
        .arg(&dir)
        .args(["--no-coverage", "--no-snapshots", "-q"])
        .stdin(Stdio::null())
        .stderr(log.try_clone().map(Stdio::from).unwrap_or_else(|_| Stdio::null()))
        .stdout(log);
    if let Some(name) = fault {
        cmd.args(["--fault", name]);
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            result.problem = Some(format!("cannot start callspec: {e}"));
            return result;
        }
    };
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() > RUN_LIMIT => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(100)),
            Err(_) => break None,
        }
    };
    result.wall = started.elapsed();
    let Some(status) = status else {
        result.problem = Some(format!("killed after {} s", RUN_LIMIT.as_secs()));
        return result;
    };
    let report = dir.join("report.json");
    match std::fs::read_to_string(&report).map_err(|e| e.to_string()).and_then(|t| json::parse(&t)) {
        Ok(value) => read_report(&value, &mut result),
        Err(e) => {
            result.problem = Some(format!("no readable report.json ({e}); exit {status}; see {}", dir.display()));
        }
    }
    if result.problem.is_none() && result.statuses.is_empty() {
        result.problem = Some("report.json lists no case".into());
    }
    result
}

fn read_report(report: &json::Value, result: &mut RunResult) {
    for case in report.get("cases").and_then(json::Value::as_array).unwrap_or(&[]) {
        let (Some(name), Some(status)) =
            (case.get("name").and_then(json::Value::as_str), case.get("status").and_then(json::Value::as_str))
        else {
            continue;
        };
        let mut kinds: Vec<&'static str> = case
            .get("failures")
            .and_then(json::Value::as_array)
            .unwrap_or(&[])
            .iter()
            .map(|f| {
                let text = |k: &str| f.get(k).and_then(json::Value::as_str).unwrap_or("");
                check_kind(text("message"), text("expected"))
            })
            .collect();
        kinds.sort_unstable();
        kinds.dedup();
        result.statuses.insert(name.to_owned(), status.to_owned());
        result.kinds.insert(name.to_owned(), kinds);
    }
}

/// The kind of check a failure comes from, read from the runner's messages.
fn check_kind(message: &str, expected: &str) -> &'static str {
    let has = |s: &str| message.contains(s);
    if expected.starts_with("valid against schemas/") {
        "schema"
    } else if has("wrong status code") {
        "status"
    } else if has("wrong Twilio error code") || has("error body's status") || has("more_info must name") {
        "error-body"
    } else if has("value does not match") {
        "json"
    } else if has("condition not reached") {
        "poll"
    } else if has("wrong number of requests") {
        "callback-count"
    } else if has("requests out of order") {
        "callback-order"
    } else if has("parameter does not match") {
        "callback-param"
    } else if has("wrong HTTP method") || has("query string") || has("form-encoded") {
        "callback-method"
    } else if has("must be signed") || has("X-Twilio-Signature") {
        "signature"
    } else if has("requests too close") || has("requests too far") {
        "spacing"
    } else if has("values do not grow") || has("unreadable value") || has("wrong number of values") {
        "sequence"
    } else if has("paging") || has("next_page_uri") || has("item without id") || message.starts_with("page ") {
        "paging"
    } else if has("case deadline") {
        "deadline"
    } else if has("Content-Type") || has("not JSON") || has("body must be empty") {
        "body"
    } else if has("cannot capture") {
        "capture"
    } else if has("snapshot") {
        "snapshot"
    } else {
        "other"
    }
}

/// One line of the table.
struct Row {
    name: String,
    area: String,
    breaks: String,
    /// Cases that FAIL with the fault and pass without it.
    catchers: Vec<String>,
    /// Kind → number of catching cases with a failure of that kind.
    kinds: BTreeMap<&'static str, usize>,
    problem: Option<String>,
}

impl Row {
    fn new(fault: &FaultInfo, baseline: &RunResult, result: Option<&RunResult>) -> Row {
        let mut row = Row {
            name: fault.name.clone(),
            area: fault.area.clone(),
            breaks: fault.breaks.clone(),
            catchers: Vec::new(),
            kinds: BTreeMap::new(),
            problem: None,
        };
        let Some(result) = result else {
            row.problem = Some("not run".into());
            return row;
        };
        row.problem = result.problem.clone();
        for (case, status) in &result.statuses {
            if status == "FAIL" && baseline.statuses.get(case).is_some_and(|s| s == "PASS") {
                row.catchers.push(case.clone());
                for kind in result.kinds.get(case).into_iter().flatten() {
                    *row.kinds.entry(kind).or_default() += 1;
                }
            }
        }
        row
    }

    fn caught(&self) -> bool {
        !self.catchers.is_empty()
    }

    fn kinds_text(&self) -> String {
        let mut kinds: Vec<(&&str, &usize)> = self.kinds.iter().collect();
        kinds.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        kinds.iter().map(|(k, n)| format!("{k} {n}")).collect::<Vec<_>>().join(", ")
    }

    fn cases_text(&self) -> String {
        if self.catchers.is_empty() {
            return format!("NOT CAUGHT{}", self.problem.as_deref().map(|p| format!(" ({p})")).unwrap_or_default());
        }
        let mut text = self.catchers.iter().take(SHOWN_CASES).cloned().collect::<Vec<_>>().join(", ");
        if self.catchers.len() > SHOWN_CASES {
            let _ = write!(text, ", … (+{})", self.catchers.len() - SHOWN_CASES);
        }
        text
    }
}

fn table(rows: &[Row]) -> String {
    let w_name = rows.iter().map(|r| r.name.len()).max().unwrap_or(5).max(5);
    let w_area = rows.iter().map(|r| r.area.len()).max().unwrap_or(4).max(4);
    let kinds: Vec<String> = rows.iter().map(Row::kinds_text).collect();
    let w_kinds = kinds.iter().map(|k| k.chars().count()).max().unwrap_or(6).max(6);
    let mut out =
        format!("{:<w_name$}  {:<w_area$}  {:>6}  {:<w_kinds$}  first cases\n", "fault", "area", "caught", "checks");
    for (row, kinds) in rows.iter().zip(&kinds) {
        let _ = writeln!(
            out,
            "{:<w_name$}  {:<w_area$}  {:>6}  {:<w_kinds$}  {}",
            row.name,
            row.area,
            row.catchers.len(),
            kinds,
            row.cases_text()
        );
    }
    out
}

fn markdown(rows: &[Row]) -> String {
    let mut out = String::from(
        "| fault | area | breaks | cases that caught it | checks that failed | first cases |\n|---|---|---|---:|---|---|\n",
    );
    for row in rows {
        let cases: Vec<String> = row.catchers.iter().take(SHOWN_CASES).map(|c| format!("`{c}`")).collect();
        let more = row.catchers.len().saturating_sub(SHOWN_CASES);
        let cases = if row.catchers.is_empty() {
            "**not caught**".to_owned()
        } else if more > 0 {
            format!("{} (+{more})", cases.join(", "))
        } else {
            cases.join(", ")
        };
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {} |",
            row.name,
            row.area,
            row.breaks.replace('|', "\\|"),
            row.catchers.len(),
            row.kinds_text(),
            cases
        );
    }
    out
}

/// A small JSON reader: enough for `report.json` (no dependencies in xtask).
mod json {
    use std::collections::BTreeMap;

    /// A JSON value.
    #[derive(Debug, Clone, PartialEq)]
    pub(crate) enum Value {
        Null,
        Bool(bool),
        Number(f64),
        String(String),
        Array(Vec<Value>),
        Object(BTreeMap<String, Value>),
    }

    impl Value {
        /// The member `key` of an object.
        pub(crate) fn get(&self, key: &str) -> Option<&Value> {
            match self {
                Value::Object(map) => map.get(key),
                _ => None,
            }
        }

        /// The text of a string.
        pub(crate) fn as_str(&self) -> Option<&str> {
            match self {
                Value::String(s) => Some(s),
                _ => None,
            }
        }

        /// The items of an array.
        pub(crate) fn as_array(&self) -> Option<&[Value]> {
            match self {
                Value::Array(items) => Some(items),
                _ => None,
            }
        }
    }

    /// Parses a whole JSON document.
    pub(crate) fn parse(text: &str) -> Result<Value, String> {
        let mut p = Parser { bytes: text.as_bytes(), at: 0, depth: 0 };
        let value = p.value()?;
        p.ws();
        if p.at != p.bytes.len() {
            return Err(format!("trailing characters at byte {}", p.at));
        }
        Ok(value)
    }

    struct Parser<'a> {
        bytes: &'a [u8],
        at: usize,
        depth: usize,
    }

    impl Parser<'_> {
        fn err<T>(&self, what: &str) -> Result<T, String> {
            Err(format!("{what} at byte {}", self.at))
        }

        fn ws(&mut self) {
            while self.bytes.get(self.at).is_some_and(|b| b.is_ascii_whitespace()) {
                self.at += 1;
            }
        }

        fn eat(&mut self, b: u8) -> bool {
            self.ws();
            if self.bytes.get(self.at) == Some(&b) {
                self.at += 1;
                true
            } else {
                false
            }
        }

        fn literal(&mut self, word: &str, value: Value) -> Result<Value, String> {
            if self.bytes[self.at..].starts_with(word.as_bytes()) {
                self.at += word.len();
                Ok(value)
            } else {
                self.err("unexpected token")
            }
        }

        fn value(&mut self) -> Result<Value, String> {
            self.ws();
            self.depth += 1;
            if self.depth > 256 {
                return self.err("nesting too deep");
            }
            let value = match self.bytes.get(self.at) {
                Some(b'{') => self.object(),
                Some(b'[') => self.array(),
                Some(b'"') => self.string().map(Value::String),
                Some(b't') => self.literal("true", Value::Bool(true)),
                Some(b'f') => self.literal("false", Value::Bool(false)),
                Some(b'n') => self.literal("null", Value::Null),
                Some(b'-' | b'0'..=b'9') => self.number(),
                _ => self.err("expected a value"),
            };
            self.depth -= 1;
            value
        }

        fn object(&mut self) -> Result<Value, String> {
            self.at += 1;
            let mut map = BTreeMap::new();
            if self.eat(b'}') {
                return Ok(Value::Object(map));
            }
            loop {
                self.ws();
                if self.bytes.get(self.at) != Some(&b'"') {
                    return self.err("expected a member name");
                }
                let key = self.string()?;
                if !self.eat(b':') {
                    return self.err("expected ':'");
                }
                let value = self.value()?;
                map.insert(key, value);
                if self.eat(b',') {
                    continue;
                }
                if self.eat(b'}') {
                    return Ok(Value::Object(map));
                }
                return self.err("expected ',' or '}'");
            }
        }

        fn array(&mut self) -> Result<Value, String> {
            self.at += 1;
            let mut items = Vec::new();
            if self.eat(b']') {
                return Ok(Value::Array(items));
            }
            loop {
                items.push(self.value()?);
                if self.eat(b',') {
                    continue;
                }
                if self.eat(b']') {
                    return Ok(Value::Array(items));
                }
                return self.err("expected ',' or ']'");
            }
        }

        fn hex4(&mut self) -> Result<u32, String> {
            let digits = self.bytes.get(self.at..self.at + 4).ok_or("truncated \\u escape")?;
            let text = std::str::from_utf8(digits).map_err(|_| "bad \\u escape".to_owned())?;
            let n = u32::from_str_radix(text, 16).map_err(|_| format!("bad \\u escape at byte {}", self.at))?;
            self.at += 4;
            Ok(n)
        }

        fn string(&mut self) -> Result<String, String> {
            self.at += 1;
            let mut out = String::new();
            loop {
                let start = self.at;
                while self.bytes.get(self.at).is_some_and(|b| *b != b'"' && *b != b'\\') {
                    self.at += 1;
                }
                out.push_str(std::str::from_utf8(&self.bytes[start..self.at]).map_err(|e| e.to_string())?);
                match self.bytes.get(self.at) {
                    Some(b'"') => {
                        self.at += 1;
                        return Ok(out);
                    }
                    Some(b'\\') => {
                        self.at += 1;
                        let esc = *self.bytes.get(self.at).ok_or("truncated escape")?;
                        self.at += 1;
                        match esc {
                            b'"' => out.push('"'),
                            b'\\' => out.push('\\'),
                            b'/' => out.push('/'),
                            b'b' => out.push('\u{8}'),
                            b'f' => out.push('\u{c}'),
                            b'n' => out.push('\n'),
                            b'r' => out.push('\r'),
                            b't' => out.push('\t'),
                            b'u' => {
                                let mut code = self.hex4()?;
                                if (0xd800..0xdc00).contains(&code) && self.bytes[self.at..].starts_with(b"\\u") {
                                    self.at += 2;
                                    let low = self.hex4()?;
                                    code = 0x10000 + ((code - 0xd800) << 10) + (low.wrapping_sub(0xdc00) & 0x3ff);
                                }
                                out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                            }
                            _ => return self.err("bad escape"),
                        }
                    }
                    _ => return self.err("unterminated string"),
                }
            }
        }

        fn number(&mut self) -> Result<Value, String> {
            let start = self.at;
            while self.bytes.get(self.at).is_some_and(|b| b.is_ascii_digit() || b"+-.eE".contains(b)) {
                self.at += 1;
            }
            let text = std::str::from_utf8(&self.bytes[start..self.at]).map_err(|e| e.to_string())?;
            text.parse::<f64>().map(Value::Number).map_err(|_| format!("bad number {text:?} at byte {start}"))
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn reads_reports() {
            let v = parse(
                r#" {"cases": [{"name": "a::001_x", "status": "FAIL", "n": -1.5e2, "ok": true,
                "failures": [{"message": "say \"hi\"\n\u00e9\ud83d\ude00", "x": null}]}], "e": {}, "f": []} "#,
            )
            .expect("valid");
            let case = &v.get("cases").and_then(Value::as_array).expect("array")[0];
            assert_eq!(case.get("status").and_then(Value::as_str), Some("FAIL"));
            assert_eq!(case.get("n"), Some(&Value::Number(-150.0)));
            let f = &case.get("failures").and_then(Value::as_array).expect("array")[0];
            assert_eq!(f.get("message").and_then(Value::as_str), Some("say \"hi\"\né😀"));
            for bad in ["", "{", "[1,]", "{\"a\"}", "\"x", "tru", "{} x", "[\"\\q\"]", "\"\\u12\""] {
                assert!(parse(bad).is_err(), "{bad:?}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_kinds_follow_the_runner_messages() {
        assert_eq!(check_kind("wrong status code", "HTTP 201"), "status");
        assert_eq!(check_kind("\"code\" is a required property", "valid against schemas/error.schema.json"), "schema");
        assert_eq!(check_kind("wrong Twilio error code", "21201"), "error-body");
        assert_eq!(check_kind("wrong number of requests within 5000 ms", "1 request(s)"), "callback-count");
        assert_eq!(check_kind("X-Twilio-Signature does not validate", "HMAC"), "signature");
        assert_eq!(check_kind("page 2 is short", "50 items"), "paging");
        assert_eq!(check_kind("something new", ""), "other");
    }

    #[test]
    fn arguments() {
        let args = |a: &[&str]| parse_args(&a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
        assert_eq!(args(&["--jobs", "3", "create-200"]), Ok((3, vec!["create-200".to_owned()])));
        assert_eq!(args(&["--jobs=0"]).map(|(j, _)| j), Ok(1));
        assert!(args(&["--jobs"]).is_err() && args(&["--bogus"]).is_err() && args(&["-j", "x"]).is_err());
    }
}
