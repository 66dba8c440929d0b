//! Running one case against the target: account setup, steps, checks, verdict.
//!
//! Invariants: a target's misbehaviour is a FAIL with its own requirement, kind, expected and
//! actual values; a harness or setup fault (fixture template error, subaccount creation refused,
//! sink gone) is an ERROR. A failed check does not end the case: later steps run unless they
//! need a value the failure left uncaptured (they are then "not run", with the reason), or the
//! target stopped answering. Every wait has a deadline scaled by the profile's multiplier, and the
//! whole case runs under its own deadline, so no target can hang a run.
//!
//! One module per step kind ([`crate::fixture::Action`]): `request`, `poll`, `callbacks`,
//! `sequence`, `paginate`, `saturate`. Shared checks on a response live in `checks`, account
//! setup in `setup`, the golden-snapshot comparison in `golden`, the verdict in `verdict`.
//! A new step kind gets its own module and one arm in [`Run::run_step`].

mod callbacks;
mod checks;
mod golden;
mod paginate;
mod poll;
mod request;
mod saturate;
mod sequence;
mod setup;
mod timeline;
mod verdict;

pub use golden::{SnapshotMode, SnapshotSettings};

use crate::client::Client;
use crate::fixture::{AccountChoice, Action, Case, Step};
use crate::outcome::{CaseResult, Failure, FailureKind, NotRun, Status};
use crate::profile::{Account, Profile};
use crate::schema::SchemaSet;
use crate::sink::Sink;
use crate::snapshot::Artifacts;
use crate::template::{TemplateError, Vars};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Everything cases share during a run.
pub struct Harness {
    /// The target profile.
    pub profile: Profile,
    /// Loaded JSON Schemas.
    pub schemas: Arc<SchemaSet>,
    /// The callback sink.
    pub sink: Sink,
    /// HTTP client to the target.
    pub client: Client,
    /// The target's base URL, without a trailing slash.
    pub base_url: String,
    /// The main account.
    pub main: Account,
    /// The trial account, if the profile has one.
    pub trial: Option<Account>,
    /// Today's date, `YYYY-MM-DD`, for known-failure expiry.
    pub today: String,
    /// Snapshot settings; off unless set with [`Harness::with_snapshots`].
    pub snapshots: Option<SnapshotSettings>,
    /// The shared accounts (main, trial): who may create calls on them, and when.
    shared_main: SharedAccount,
    shared_trial: SharedAccount,
}

/// A shared account's call queue: cases that create calls share it, paced at the declared CPS,
/// while a case that needs the queue to itself ([`Case::alone`]) runs alone.
#[derive(Debug)]
struct SharedAccount {
    queue: tokio::sync::RwLock<()>,
    /// Spaces the shared cases' creates at the account's CPS, so no case's call waits in the
    /// queue behind another case's.
    creates: Option<crate::pace::Pacer>,
}

/// Twilio's default rate, one call per second per account: what a target that declares no CPS
/// may still queue at (docs/reference/calls-api-facts.md#queueing-and-rate-limits), so pacing at
/// it never turns a Twilio-like queue into a missed deadline.
const DEFAULT_CPS: f64 = 1.0;

impl SharedAccount {
    fn new(capabilities: &crate::profile::Capabilities) -> SharedAccount {
        let pacer = match capabilities.queues_calls {
            Some(false) => None,
            _ => crate::pace::Pacer::new(capabilities.cps.unwrap_or(DEFAULT_CPS)),
        };
        SharedAccount { queue: tokio::sync::RwLock::new(()), creates: pacer }
    }
}

/// A case's hold on a shared account's queue, released when the case ends: shared with other
/// cases (its creates then wait for a CPS slot), or the queue to itself.
struct Turn<'h> {
    _shared: Option<tokio::sync::RwLockReadGuard<'h, ()>>,
    _alone: Option<tokio::sync::RwLockWriteGuard<'h, ()>>,
    pacer: Option<&'h crate::pace::Pacer>,
}

/// The accounts a run acts as.
#[derive(Debug, Clone)]
pub struct Accounts {
    /// The main account.
    pub main: Account,
    /// The trial account, if the profile has one.
    pub trial: Option<Account>,
}

/// The harness cannot run the case: an ERROR, never a verdict on the target.
#[derive(Debug, thiserror::Error)]
pub enum HarnessFault {
    /// A template of the case names a value that does not exist and that no failed step explains.
    #[error("fixture template: {0}")]
    Template(#[from] TemplateError),
    /// Account setup (subaccount, number) was refused or unreadable.
    #[error("setup ({what}) failed: {detail}")]
    Setup {
        /// The setup operation.
        what: &'static str,
        /// What the target answered.
        detail: String,
    },
    /// The case needs something the profile does not describe (checked at load time; kept as a guard).
    #[error("the case needs {0}, which the profile does not have")]
    Profile(&'static str),
    /// A step of the case is inconsistent (a bad regex, an unreadable number in a template).
    #[error("fixture: {0}")]
    Fixture(String),
    /// The harness's own I/O failed (a held connection for the concurrency check).
    #[error("harness I/O: {0}")]
    Io(String),
}

/// How a step ended when it did not run to its end.
#[derive(Debug)]
enum StepStop {
    /// A value the step needs was not captured because an earlier check failed.
    Blocked(String),
    /// The harness cannot run the case.
    Fault(HarnessFault),
}

impl From<HarnessFault> for StepStop {
    fn from(f: HarnessFault) -> StepStop {
        StepStop::Fault(f)
    }
}

impl From<TemplateError> for StepStop {
    fn from(e: TemplateError) -> StepStop {
        StepStop::Fault(HarnessFault::Template(e))
    }
}

/// What a case has found so far; shared with [`Harness::run_case`] so that a case deadline keeps
/// every failure recorded before it.
#[derive(Debug, Default)]
struct CaseLog {
    failures: Vec<Failure>,
    not_run: Vec<NotRun>,
    /// Requirements whose checks ran.
    checked: BTreeSet<String>,
    /// Time the case's creates waited for CPS slots: not the target's time, so it extends the deadline.
    paced: Duration,
    /// The step running now and its label, so a deadline names it.
    step: usize,
    label: String,
    requirement: Option<String>,
    /// What the snapshot comparison did.
    snapshot: Option<crate::outcome::SnapshotOutcome>,
    /// The case's API exchanges, for its timeline, and how many past the bound were left out.
    exchanges: Vec<timeline::ApiExchange>,
    exchanges_dropped: usize,
    /// The auth token of the case's account, to validate the signatures on its timeline.
    token: Option<String>,
}

type SharedLog = Arc<Mutex<CaseLog>>;

fn lock(log: &SharedLog) -> MutexGuard<'_, CaseLog> {
    // A poisoned lock only means a panic elsewhere; the log itself stays usable.
    log.lock().unwrap_or_else(|p| p.into_inner())
}

/// The state of one running case.
struct Run<'h> {
    h: &'h Harness,
    case: &'h Case,
    vars: Vars,
    account: Account,
    log: SharedLog,
    step: usize,
    label: String,
    requirement: Option<String>,
    artifacts: Artifacts,
    /// Variables a failed check left uncaptured, and why.
    missing: BTreeMap<String, String>,
    /// The target stopped answering: the rest of the case cannot say anything.
    transport_failed: bool,
    /// Where the case shares its account's queue: the CPS slots its creates wait for.
    pacer: Option<&'h crate::pace::Pacer>,
}

fn scaled(h: &Harness, ms: u64) -> Duration {
    Duration::from_millis((ms as f64 * h.profile.timeout_multiplier).round() as u64)
}

impl Harness {
    /// Builds the harness state shared by every case.
    pub fn new(
        profile: Profile,
        schemas: Arc<SchemaSet>,
        sink: Sink,
        client: Client,
        base_url: String,
        accounts: Accounts,
        today: String,
    ) -> Harness {
        let Accounts { main, trial } = accounts;
        let (shared_main, shared_trial) =
            (SharedAccount::new(&profile.capabilities), SharedAccount::new(&profile.capabilities));
        Harness {
            profile,
            schemas,
            sink,
            client,
            base_url: base_url.trim_end_matches('/').to_owned(),
            main,
            trial,
            today,
            snapshots: None,
            shared_main,
            shared_trial,
        }
    }

    /// Compares every passing case with its golden snapshot.
    pub fn with_snapshots(mut self, settings: SnapshotSettings) -> Harness {
        self.snapshots = Some(settings);
        self
    }

    /// Whether a case will hold a shared account's queue alone: it needs the queue to itself
    /// ([`Case::alone`]), creates calls, and has no fresh subaccount.
    pub fn runs_alone(&self, case: &Case) -> bool {
        case.alone && case.creates_calls && !self.isolated(case)
    }

    /// Whether a case runs on a fresh subaccount of its own.
    fn isolated(&self, case: &Case) -> bool {
        case.data.account == AccountChoice::Fresh && self.profile.capabilities.subaccounts
    }

    /// Runs one case to its result; never panics on target behaviour and never exceeds the case deadline.
    pub async fn run_case(&self, case: &Case) -> CaseResult {
        let d = &case.data;
        let mut result = CaseResult::new(&case.name, &case.file, &d.title, &d.requirements, &d.tags);
        result.steps = d.steps.iter().map(Step::describe).collect();
        let deadline = scaled(self, d.deadline_ms.or(self.profile.case_deadline_ms).unwrap_or(30_000));
        let isolated = self.isolated(case);
        let queued = Instant::now();
        let turn = self.take_turn(case, isolated).await;
        result.queue_wait = queued.elapsed();
        let started = Instant::now();
        let log: SharedLog = Arc::new(Mutex::new(CaseLog { label: "account setup".into(), ..CaseLog::default() }));
        let pacer = turn.as_ref().and_then(|t| t.pacer);
        let outcome = within_deadline(deadline, &log, self.run_steps(case, isolated, pacer, log.clone())).await;
        drop(turn);
        result.notes = self.sink.notes(&case.name);
        let callbacks = self.sink.requests(&case.name);
        self.sink.close(&case.name);
        let mut log = std::mem::take(&mut *lock(&log));
        let (exchanges, dropped) = (std::mem::take(&mut log.exchanges), log.exchanges_dropped);
        let token = log.token.take();
        match outcome {
            Err(_) => {
                log.failures.push(Failure {
                    requirement: log.requirement.clone(),
                    kind: FailureKind::Deadline,
                    step: log.step,
                    step_label: format!("{}, when the case deadline passed", log.label),
                    pointer: None,
                    expected: format!("the case to finish within {} ms", deadline.as_millis()),
                    actual: "still running: the target did not answer or call back in time".into(),
                    message: "case deadline exceeded".into(),
                    curl: None,
                    known: None,
                });
                let why = format!("the case deadline passed during step {}", log.step + 1);
                verdict::not_run_from(case, log.step + 1, &why, &mut log.not_run);
            }
            Ok(Err(fault)) => {
                result.status = Status::Error;
                result.error = Some(checks::mask(fault.to_string(), &self.secrets(None)));
            }
            Ok(Ok(())) => {}
        }
        let paced = log.paced;
        result.snapshot = log.snapshot.take();
        verdict::conclude(self, case, log, &mut result);
        let parts =
            timeline::Parts { exchanges, dropped, callbacks, token: token.as_deref(), failures: &result.failures };
        (result.timeline, result.timeline_dropped) = self.timeline(parts);
        result.duration = started.elapsed().saturating_sub(paced);
        result.queue_wait += paced;
        result
    }

    /// A call-creating case's hold on its shared account: shared with the other cases (their
    /// creates paced at the declared CPS), or alone when the case needs the queue to itself.
    /// Cases on a fresh subaccount of their own, and cases that create no calls, need no hold.
    async fn take_turn(&self, case: &Case, isolated: bool) -> Option<Turn<'_>> {
        if isolated || !case.creates_calls {
            return None;
        }
        let shared = match case.data.account {
            AccountChoice::Trial => &self.shared_trial,
            _ => &self.shared_main,
        };
        Some(match case.alone {
            true => Turn { _shared: None, _alone: Some(shared.queue.write().await), pacer: None },
            false => Turn { _shared: Some(shared.queue.read().await), _alone: None, pacer: shared.creates.as_ref() },
        })
    }

    /// Every secret a message might contain: the auth tokens of the run's accounts.
    fn secrets(&self, account: Option<&Account>) -> Vec<String> {
        let mut s: Vec<String> = account.map(|a| a.token.clone()).into_iter().collect();
        s.push(self.main.token.clone());
        if let Some(t) = &self.trial {
            s.push(t.token.clone());
        }
        s
    }

    async fn run_steps(
        &self,
        case: &Case,
        isolated: bool,
        pacer: Option<&crate::pace::Pacer>,
        log: SharedLog,
    ) -> Result<(), HarnessFault> {
        let (account, from) = self.setup_account(case, isolated).await?;
        lock(&log).token = Some(account.token.clone());
        let mut vars = self.base_vars(&account, &from);
        let sink_url = self.sink.open(&case.name, BTreeMap::new());
        vars.set("Sink", sink_url);
        self.sink.set_routes(&case.name, self.routes(case, &vars));
        let mut run = Run {
            h: self,
            case,
            vars,
            account,
            log,
            step: 0,
            label: String::new(),
            requirement: None,
            artifacts: Artifacts::default(),
            missing: BTreeMap::new(),
            transport_failed: false,
            pacer,
        };
        for (i, step) in case.data.steps.iter().enumerate() {
            if run.transport_failed {
                let why = "the target stopped answering in an earlier step".to_owned();
                verdict::not_run_from(case, i, &why, &mut lock(&run.log).not_run);
                break;
            }
            run.begin_step(i, step);
            let times = step.repeat.unwrap_or(1) as usize;
            for rep in 0..times {
                let index = step.repeat.map(|_| rep);
                match run.run_step(step, index).await {
                    Ok(()) => {}
                    Err(StepStop::Blocked(why)) => {
                        run.block_step(i, step, why);
                        break;
                    }
                    Err(StepStop::Fault(fault)) => return Err(fault),
                }
                if run.transport_failed {
                    break;
                }
            }
            // Routes may use values captured by this step.
            self.sink.set_routes(&case.name, self.routes(case, &run.vars));
        }
        if let Some(settings) = &self.snapshots {
            run.compare_snapshot(settings, isolated)?;
        }
        Ok(())
    }
}

/// Runs `steps` under the case deadline, extended by the time its creates waited for CPS slots
/// (recorded in the log as they wait): a shared account's pacing is the harness's doing, never the
/// target's lateness. `Err` when the deadline passed first.
async fn within_deadline<T>(
    deadline: Duration,
    log: &SharedLog,
    steps: impl Future<Output = T>,
) -> Result<T, tokio::time::error::Elapsed> {
    let started = tokio::time::Instant::now();
    tokio::pin!(steps);
    loop {
        let paced = lock(log).paced;
        match tokio::time::timeout_at(started + deadline + paced, &mut steps).await {
            Ok(done) => return Ok(done),
            // More pacing was recorded while waiting: the deadline moved.
            Err(_) if lock(log).paced > paced => continue,
            Err(elapsed) => return Err(elapsed),
        }
    }
}

impl Run<'_> {
    fn begin_step(&mut self, i: usize, step: &Step) {
        self.step = i;
        self.requirement = step.requirement.clone().or_else(|| self.case.data.requirements.first().cloned());
        let mut log = lock(&self.log);
        log.step = i;
        log.label = step.name.clone().unwrap_or_else(|| format!("step {}", i + 1));
        log.requirement = self.requirement.clone();
    }

    /// Records that step `i` could not run, and marks what it would have captured as missing.
    fn block_step(&mut self, i: usize, step: &Step, why: String) {
        for var in verdict::captures_of(step) {
            self.missing.entry(var).or_insert_with(|| format!("step {} did not run", i + 1));
        }
        lock(&self.log).not_run.push(NotRun { step: i, requirement: self.requirement.clone(), why });
    }

    /// Marks a requirement as checked: at least one of its checks ran in this case.
    fn checked(&self, requirement: Option<&str>) {
        if let Some(r) = requirement.or(self.requirement.as_deref()) {
            lock(&self.log).checked.insert(r.to_owned());
        }
    }

    /// Whether any check of the current step has failed so far.
    fn failed_since(&self, mark: usize) -> bool {
        lock(&self.log).failures.len() > mark
    }

    /// How many failures are recorded; with [`Run::failed_since`], tells whether a step failed.
    fn mark(&self) -> usize {
        lock(&self.log).failures.len()
    }

    /// Renders a template; a variable that a failed check left uncaptured blocks the step.
    fn render(&self, template: &str, index: Option<usize>) -> Result<String, StepStop> {
        self.vars.render(template, index).map_err(|e| self.template_stop(e))
    }

    /// Turns a template error into a blocked step when an earlier failure explains it.
    fn template_stop(&self, e: TemplateError) -> StepStop {
        match e.variable().and_then(|v| self.missing.get(v).map(|why| (v, why))) {
            Some((var, why)) => StepStop::Blocked(format!("needs {{{var}}}, which was not captured: {why}")),
            None => StepStop::Fault(HarnessFault::Template(e)),
        }
    }

    async fn run_step(&mut self, step: &Step, index: Option<usize>) -> Result<(), StepStop> {
        let name = step.name.clone();
        match &step.action {
            Action::Request(r) => self.request_step(r, index, name).await,
            Action::Poll(p) => self.poll_step(p, index, name).await,
            Action::Callbacks(c) => self.callbacks_step(c, index, name).await,
            Action::Sequence(s) => self.sequence_step(s, name),
            Action::Paginate(p) => self.paginate_step(p, index, name).await,
            Action::Saturate(s) => self.saturate_step(s, index, name).await,
        }
    }
}
