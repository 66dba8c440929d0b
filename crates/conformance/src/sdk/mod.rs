//! `callspec sdk`: gates an SDK's release through a driver (`docs/sdk-driver.md`). The driver,
//! a small program the SDK's authors write, performs scenarios with the SDK against the
//! reference emulator (strict, with its request journal on) and answers what the SDK returned
//! or raised; the checks judge both the requests the emulator received and the answers.
//!
//! `protocol` (the lines), `driver` (the process and its deadlines), `scenarios` (the cases),
//! `checks` and `paging` (what is judged), `vectors` (the webhook signatures). The run record and
//! reports are the server suite's ([`crate::report`]); the requirements are the catalog's
//! `SDK-…` rows.

pub mod checks;
pub mod driver;
pub mod paging;
pub mod protocol;
pub mod scenarios;
pub mod vectors;

use crate::outcome::{CaseResult, REPORT_VERSION, RunRecord, Status, TargetInfo};
use crate::profile::KnownFailure;
use driver::Driver;
use scenarios::{CASES, Ctx, Def, Fault};
use std::time::{Duration, Instant};

/// One API exchange the emulator journaled, as callspec reads it (the model's plain type, which
/// the emulator's journal records, so no conversion sits between them).
pub use callspec_model::Exchange;

/// The emulator's request journal, read by position.
pub trait Journal: Send + Sync {
    /// How many exchanges are recorded.
    fn len(&self) -> usize;
    /// Whether none is.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The exchanges from index `from` on.
    fn since(&self, from: usize) -> Vec<Exchange>;
}

/// How long a driver has to print its handshake (an SDK may be slow to import).
const HANDSHAKE_SECS: u64 = 30;

/// What the run needs besides the emulator.
pub struct Setup<'a> {
    /// The driver command line.
    pub command: &'a str,
    /// The case context (client, accounts, numbers, journal, deadline multiplier).
    pub ctx: Ctx<'a>,
    /// The SDK's known failures (`--known-failures`, the baseline file format).
    pub known: Vec<KnownFailure>,
    /// Today, `YYYY-MM-DD`, for the entries' expiry.
    pub today: String,
}

/// The driver, restarted after a scenario's fault; once a start fails (no handshake), the
/// remaining cases are ERROR with that fault, without starting it again.
struct Slot<'a> {
    command: &'a str,
    deadline: Duration,
    driver: Option<Driver>,
    failed_start: Option<driver::DriverFault>,
}

impl Slot<'_> {
    async fn get(&mut self) -> Result<&mut Driver, Fault> {
        if let Some(fault) = &self.failed_start {
            return Err(Fault::Driver(fault.clone()));
        }
        if self.driver.is_none() {
            match Driver::start(self.command, self.deadline).await {
                Ok(d) => self.driver = Some(d),
                Err(e) => {
                    self.failed_start = Some(e.clone());
                    return Err(Fault::Driver(e));
                }
            }
        }
        self.driver.as_mut().ok_or_else(|| Fault::Setup("the driver is not running".into()))
    }

    async fn drop_driver(&mut self) {
        if let Some(d) = self.driver.take() {
            d.stop().await;
        }
    }
}

/// The result of a case that has not run yet.
fn result_of(def: &Def) -> CaseResult {
    let requirements: Vec<String> = def.requirements.iter().map(|r| (*r).to_owned()).collect();
    let mut r = CaseResult::new(def.name, "crates/conformance/src/sdk/scenarios.rs", def.title, &requirements, &[]);
    r.steps = vec![format!("{} via the driver", def.scenario.name())];
    r
}

/// Runs every case (`on_result` sees each as it ends); the results and the driver's name.
pub async fn run(setup: &Setup<'_>, mut on_result: impl FnMut(&CaseResult)) -> (Vec<CaseResult>, Option<String>) {
    let mut slot = Slot {
        command: setup.command,
        deadline: Duration::from_secs_f64(HANDSHAKE_SECS as f64 * setup.ctx.multiplier),
        driver: None,
        failed_start: None,
    };
    let mut label = None;
    let mut results = Vec::new();
    for def in CASES {
        let started = Instant::now();
        let mut r = result_of(def);
        match slot.get().await {
            Err(e) => error(&mut r, &e),
            Ok(driver) if !driver.hello.declares(def.scenario) => {
                label.get_or_insert_with(|| driver.hello.label());
                r.status = Status::Skip;
                r.reason = Some(format!("the driver does not declare scenario `{}`", def.scenario.name()));
            }
            Ok(driver) => {
                label.get_or_insert_with(|| driver.hello.label());
                match scenarios::run(def, &setup.ctx, driver).await {
                    Ok(found) => conclude(&mut r, def, found, &setup.known, &setup.today),
                    Err(e) => {
                        if matches!(e, Fault::Driver(_)) {
                            slot.drop_driver().await;
                        }
                        error(&mut r, &e);
                    }
                }
            }
        }
        r.duration = started.elapsed();
        on_result(&r);
        results.push(r);
    }
    slot.drop_driver().await;
    (results, label)
}

fn error(r: &mut CaseResult, e: &Fault) {
    r.status = Status::Error;
    r.error = Some(e.to_string());
    r.checks = r
        .requirements
        .iter()
        .map(|id| crate::outcome::RequirementResult {
            id: id.clone(),
            verdict: crate::outcome::CheckVerdict::NotRun,
            why: Some("harness or driver error".into()),
        })
        .collect();
}

/// The case's status from its findings and the SDK's known failures (each entry covers the
/// failures it matches; one that covers none makes the case XPASS; an expired one covers none).
fn conclude(r: &mut CaseResult, def: &Def, found: scenarios::Found, known: &[KnownFailure], today: &str) {
    r.checks = found.findings.results(def.requirements);
    r.failures = found.findings.failures;
    r.notes = found.notes;
    let mut reasons = Vec::new();
    for entry in known.iter().filter(|k| k.matches(def.name)) {
        if entry.expired(today) {
            reasons.push(format!("known-failure entry {} expired: {}", entry.describe(), entry.reason));
            continue;
        }
        let mut covered = 0;
        for f in r.failures.iter_mut().filter(|f| f.known.is_none() && entry.covers(f)) {
            f.known = Some(entry.reason.clone());
            covered += 1;
        }
        if covered == 0 {
            r.stale_known.push(entry.describe());
        }
        reasons.push(entry.reason.clone());
    }
    if !reasons.is_empty() {
        r.reason = Some(reasons.join("; "));
    }
    for check in &mut r.checks {
        let mine: Vec<_> = r.failures.iter().filter(|f| f.requirement.as_deref() == Some(check.id.as_str())).collect();
        if !mine.is_empty() && mine.iter().all(|f| f.known.is_some()) {
            check.verdict = crate::outcome::CheckVerdict::KnownFailure;
        }
    }
    r.status = if r.failures.iter().any(|f| f.known.is_none()) {
        Status::Fail
    } else if !r.stale_known.is_empty() {
        Status::XPass
    } else if !r.failures.is_empty() {
        Status::XFail
    } else {
        Status::Pass
    };
}

/// The entries of `known` that name no SDK case (a load error: a typo would cover nothing).
pub fn unmatched_known(known: &[KnownFailure]) -> Vec<String> {
    known.iter().filter(|k| !CASES.iter().any(|d| k.matches(d.name))).map(KnownFailure::describe).collect()
}

/// The run record of an SDK run: the results and the catalog's SDK rows; `requests_sent` counts
/// every request the emulator received (callspec's setup and the SDK's).
pub fn record(
    results: Vec<CaseResult>,
    target: TargetInfo,
    catalog: &crate::requirements::Catalog,
    suite: &crate::suite::SuiteVersion,
    started_at: time::OffsetDateTime,
    wall: Duration,
    requests_sent: u64,
) -> RunRecord {
    RunRecord {
        version: REPORT_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").into(),
        suite_version: suite.version,
        suite_hash: suite.hash.clone(),
        started_at: started_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        wall_time: wall,
        target,
        requests_sent,
        budget_wait: Duration::ZERO,
        cases: results,
        requirements: catalog.sdk_infos(),
    }
}

/// The exit code of an SDK run: 2 when a case is ERROR or none ran, 1 on a FAIL, else 0.
pub fn exit_code(record: &RunRecord) -> u8 {
    let statuses: Vec<Status> = record.cases.iter().map(|c| c.status).collect();
    if statuses.contains(&Status::Error) || statuses.iter().all(|s| *s == Status::Skip) {
        2
    } else if statuses.iter().all(|s| s.is_expected()) {
        0
    } else {
        1
    }
}

/// Every case's name and requirements (for the coverage gate's self-test).
pub fn case_requirements() -> Vec<(&'static str, &'static [&'static str])> {
    CASES.iter().map(|d| (d.name, d.requirements)).collect()
}
