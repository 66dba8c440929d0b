//! The `callspec` command's output in libtest's formats (pretty, terse, json), through a writer
//! that goes quiet when stdout closes (`callspec | head -1`): the run goes on and its exit code
//! still tells the verdict, but nothing panics and nothing more is printed.

use crate::outcome::{CaseResult, SnapshotOutcome, Status};
use std::fmt::Display;
use std::io::Write;
use std::time::Duration;

/// How results are printed, as libtest's `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// One line per case.
    #[default]
    Pretty,
    /// One character per case.
    Terse,
    /// libtest's JSON lines.
    Json,
}

/// Standard output that stops writing, quietly, once the reader is gone.
#[derive(Debug, Default)]
pub struct Out {
    closed: bool,
}

impl Out {
    /// Writes text as is.
    pub fn write(&mut self, text: impl Display) {
        if self.closed {
            return;
        }
        let mut stdout = std::io::stdout().lock();
        // Any write error means nobody reads any more (a closed pipe above all): stop printing.
        if write!(stdout, "{text}").and_then(|()| stdout.flush()).is_err() {
            self.closed = true;
        }
    }

    /// Writes a line.
    pub fn line(&mut self, text: impl Display) {
        self.write(format_args!("{text}\n"));
    }
}

/// libtest's counts: passed (PASS, XFAIL), failed (FAIL, XPASS, ERROR), ignored (SKIP).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Cases whose result is as expected and that ran.
    pub passed: usize,
    /// Cases that need attention.
    pub failed: usize,
    /// Cases not run.
    pub ignored: usize,
    /// Cases left out by the filters.
    pub filtered_out: usize,
}

impl Tally {
    /// Counts one result.
    pub fn add(&mut self, status: Status) {
        match status {
            Status::Pass | Status::XFail => self.passed += 1,
            Status::Skip => self.ignored += 1,
            Status::Fail | Status::XPass | Status::Error => self.failed += 1,
        }
    }
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// Prints a run as it goes.
#[derive(Debug)]
pub struct Printer {
    /// The output.
    pub out: Out,
    format: Format,
    column: usize,
}

impl Printer {
    /// A printer in `format`; `quiet` is libtest's `-q` (terse output).
    pub fn new(format: Format, quiet: bool) -> Printer {
        let format = if quiet && format == Format::Pretty { Format::Terse } else { format };
        Printer { out: Out::default(), format, column: 0 }
    }

    /// The run starts with `n` cases.
    pub fn start(&mut self, n: usize) {
        match self.format {
            Format::Json => {
                self.out.line(format_args!("{{ \"type\": \"suite\", \"event\": \"started\", \"test_count\": {n} }}"))
            }
            _ => self.out.line(format_args!("\nrunning {n} test{}", if n == 1 { "" } else { "s" })),
        }
    }

    /// One case ended.
    pub fn result(&mut self, r: &CaseResult) {
        match self.format {
            Format::Pretty => {
                let outcome = match r.status {
                    Status::Pass => match r.snapshot {
                        Some(s @ (SnapshotOutcome::Recorded | SnapshotOutcome::Updated)) => {
                            format!("ok (snapshot {})", s.label())
                        }
                        _ => "ok".to_owned(),
                    },
                    Status::XFail => "ok (XFAIL: known failure)".to_owned(),
                    Status::Skip => format!("ignored, {}", r.reason.as_deref().unwrap_or("skipped")),
                    Status::Fail => "FAILED".to_owned(),
                    Status::XPass => "FAILED (XPASS: stale known failure)".to_owned(),
                    Status::Error => "ERROR".to_owned(),
                };
                self.out.line(format_args!("test {} ... {outcome}", r.name));
            }
            Format::Terse => {
                let c = match r.status {
                    Status::Pass | Status::XFail => '.',
                    Status::Skip => 'i',
                    Status::Error => 'E',
                    Status::Fail | Status::XPass => 'F',
                };
                self.column += 1;
                let newline = if self.column.is_multiple_of(88) { "\n" } else { "" };
                self.out.write(format_args!("{c}{newline}"));
            }
            Format::Json => {
                let (event, extra) = match r.status {
                    Status::Pass | Status::XFail => ("ok", String::new()),
                    Status::Skip => {
                        ("ignored", format!(", \"message\": {}", json_string(r.reason.as_deref().unwrap_or(""))))
                    }
                    _ => ("failed", format!(", \"stdout\": {}", json_string(&r.message()))),
                };
                self.out.line(format_args!(
                    "{{ \"type\": \"test\", \"name\": {}, \"event\": \"{event}\", \"exec_time\": {:.3}{extra} }}",
                    json_string(&r.name),
                    r.duration.as_secs_f64()
                ));
            }
        }
    }

    /// The failures' details and libtest's closing line.
    pub fn finish(&mut self, results: &[CaseResult], tally: Tally, wall: Duration) {
        let ok = tally.failed == 0;
        if self.format == Format::Json {
            self.out.line(format_args!(
                "{{ \"type\": \"suite\", \"event\": \"{}\", \"passed\": {}, \"failed\": {}, \"ignored\": {}, \"measured\": 0, \"filtered_out\": {}, \"exec_time\": {:.3} }}",
                if ok { "ok" } else { "failed" },
                tally.passed,
                tally.failed,
                tally.ignored,
                tally.filtered_out,
                wall.as_secs_f64()
            ));
            return;
        }
        if self.format == Format::Terse {
            self.out.line("");
        }
        let bad: Vec<&CaseResult> = results.iter().filter(|r| !r.status.is_expected()).collect();
        if !bad.is_empty() {
            self.out.line("\nfailures:\n");
            for r in &bad {
                self.out.line(format_args!("---- {} ({}) ----\n{}\n", r.name, r.status, r.message()));
            }
            self.out.line("failures:");
            for r in &bad {
                self.out.line(format_args!("    {}", r.name));
            }
        }
        self.out.line(format_args!(
            "\ntest result: {}. {} passed; {} failed; {} ignored; 0 measured; {} filtered out; finished in {:.2}s\n",
            if ok { "ok" } else { "FAILED" },
            tally.passed,
            tally.failed,
            tally.ignored,
            tally.filtered_out,
            wall.as_secs_f64()
        ));
    }
}
