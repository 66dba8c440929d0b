//! The load itself: clients creating the planned calls, the cancels, and the waits (each with
//! the run's deadline) until every call has ended and every expected callback has arrived.

use crate::emulator::{Account, Api, text};
use crate::plan::{Canceled, Kind, Mode, Planned, expected_events};
use crate::receiver::Receiver;
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// The TwiML of answered calls: they stay in progress for a second, then complete.
const ANSWER_TWIML: &str = r#"<Response><Pause length="1"/></Response>"#;

/// Every status callback event, so each call reports its whole life.
const EVENTS: [&str; 4] = ["initiated", "ringing", "answered", "completed"];

/// Statuses a call ends in.
const TERMINAL: [&str; 5] = ["completed", "busy", "no-answer", "failed", "canceled"];

/// What the load shares.
pub(crate) struct Ctx {
    pub(crate) api: Api,
    pub(crate) accounts: Vec<Account>,
    pub(crate) receiver: Receiver,
    /// A loopback port nothing listens on (the refusing receiver).
    pub(crate) closed_port: u16,
    /// `Timeout` of the no-answer calls, seconds.
    pub(crate) no_answer_s: u32,
    /// When every wait gives up.
    pub(crate) deadline: Instant,
}

/// One call and what became of it.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    pub(crate) planned: Planned,
    /// Its SID, once created.
    pub(crate) sid: Option<String>,
    /// How its cancel ended.
    pub(crate) canceled: Canceled,
    /// The terminal status a fetch showed, if it ended before the deadline.
    pub(crate) final_status: Option<String>,
    /// The last status a fetch showed.
    pub(crate) last_status: Option<String>,
    /// What went wrong on the API side.
    pub(crate) problems: Vec<String>,
}

impl Outcome {
    fn new(planned: Planned) -> Outcome {
        Outcome { planned, sid: None, canceled: Canceled::No, final_status: None, last_status: None, problems: vec![] }
    }

    /// The callbacks it must produce, when its receiver can be observed.
    pub(crate) fn expected(&self) -> Option<&'static [&'static str]> {
        (self.sid.is_some() && self.planned.mode != Mode::Refuse)
            .then(|| expected_events(self.planned.kind, self.canceled))
    }
}

/// Creates every planned call from `clients` concurrent clients; returns the outcomes (in
/// plan order) and when the last create was answered.
pub(crate) async fn create_all(ctx: Arc<Ctx>, plan: &[Planned], clients: usize) -> (Vec<Outcome>, Instant) {
    let plan: Arc<[Planned]> = plan.into();
    let next = Arc::new(AtomicUsize::new(0));
    let creators: Vec<JoinHandle<Vec<Created>>> = (0..clients)
        .map(|_| {
            let (ctx, plan, next) = (ctx.clone(), plan.clone(), next.clone());
            tokio::spawn(async move {
                let mut done = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(planned) = plan.get(i) else { break };
                    done.push(create_one(&ctx, i, *planned).await);
                }
                done
            })
        })
        .collect();
    let mut outcomes: Vec<Outcome> = plan.iter().copied().map(Outcome::new).collect();
    let mut last_create = Instant::now();
    let mut followers = Vec::new();
    for creator in creators {
        let Ok(done) = creator.await else {
            // A creator that panicked leaves its calls without a SID: each is reported.
            continue;
        };
        for created in done {
            last_create = last_create.max(created.answered_at);
            if let Some(f) = created.follower {
                followers.push(f);
            }
            outcomes[created.index] = created.outcome;
        }
    }
    for follower in followers {
        if let Ok((index, canceled, problems)) = follower.await {
            outcomes[index].canceled = canceled;
            outcomes[index].problems.extend(problems);
        }
    }
    (outcomes, last_create)
}

/// A created call, and the task that cancels it once it rings.
struct Created {
    index: usize,
    outcome: Outcome,
    answered_at: Instant,
    follower: Option<JoinHandle<(usize, Canceled, Vec<String>)>>,
}

async fn create_one(ctx: &Arc<Ctx>, index: usize, planned: Planned) -> Created {
    let account = &ctx.accounts[planned.account];
    let callback = ctx.receiver.url(planned.account, planned.mode, ctx.closed_port);
    let timeout = planned.timeout_s(ctx.no_answer_s).to_string();
    let mut form = vec![
        ("To", planned.to()),
        ("From", account.number.as_str()),
        ("Twiml", ANSWER_TWIML),
        ("StatusCallback", callback.as_str()),
        ("Timeout", timeout.as_str()),
    ];
    form.extend(EVENTS.iter().map(|e| ("StatusCallbackEvent", *e)));
    let mut outcome = Outcome::new(planned);
    let created = ctx.api.create(account, &form).await;
    let answered_at = Instant::now();
    let sid = match created.and_then(|v| text(&v, "sid")) {
        Ok(sid) => sid,
        Err(e) => {
            outcome.problems.push(format!("create failed: {e}"));
            return Created { index, outcome, answered_at, follower: None };
        }
    };
    outcome.sid = Some(sid.clone());
    let mut follower = None;
    match planned.kind {
        Kind::CancelQueued => {
            let (canceled, problems) = cancel(ctx, planned.account, &sid).await;
            outcome.canceled = canceled;
            outcome.problems.extend(problems);
        }
        Kind::CancelRinging => {
            let ctx = ctx.clone();
            follower = Some(tokio::spawn(async move {
                let (canceled, problems) = cancel_when_ringing(&ctx, planned.account, &sid).await;
                (index, canceled, problems)
            }));
        }
        _ => {}
    }
    Created { index, outcome, answered_at, follower }
}

/// Cancels a call and tells from the answer whether it was still queued (no `start_time`).
async fn cancel(ctx: &Ctx, account: usize, sid: &str) -> (Canceled, Vec<String>) {
    match ctx.api.cancel(&ctx.accounts[account], sid).await {
        Ok(call) if call.get("status").and_then(Value::as_str) == Some("canceled") => {
            if call.get("start_time").is_some_and(Value::is_null) {
                (Canceled::WhileQueued, vec![])
            } else {
                (Canceled::WhileRinging, vec![])
            }
        }
        Ok(call) => (Canceled::No, vec![format!("the cancel answered status {}", call["status"])]),
        Err(e) => (Canceled::No, vec![format!("the cancel failed: {e}")]),
    }
}

/// Polls the call until it rings (or the deadline), then cancels it.
async fn cancel_when_ringing(ctx: &Ctx, account: usize, sid: &str) -> (Canceled, Vec<String>) {
    let mut last = String::new();
    while Instant::now() < ctx.deadline {
        match ctx.api.fetch(&ctx.accounts[account], sid).await {
            Ok(call) => {
                last = call.get("status").and_then(Value::as_str).unwrap_or("").to_owned();
                match last.as_str() {
                    "ringing" => return cancel(ctx, account, sid).await,
                    "queued" => {}
                    other => return (Canceled::No, vec![format!("status {other:?} before the cancel, not ringing")]),
                }
            }
            Err(e) => return (Canceled::No, vec![format!("fetch before the cancel failed: {e}")]),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (Canceled::No, vec![format!("never seen ringing before the deadline (last status {last:?})")])
}

/// Waits until every observable call has had as many callbacks as it must produce, or the deadline.
pub(crate) async fn await_callbacks(ctx: &Ctx, outcomes: &[Outcome]) {
    let wanted: Vec<(&str, usize)> = outcomes
        .iter()
        .filter_map(|o| Some((o.sid.as_deref()?, o.expected()?.len())))
        .filter(|(_, n)| *n > 0)
        .collect();
    let mut changed = ctx.receiver.subscribe();
    let mut from = 0;
    loop {
        changed.borrow_and_update();
        // Calls done so far stay done; start from the first that was not.
        while from < wanted.len() && ctx.receiver.count(wanted[from].0) >= wanted[from].1 {
            from += 1;
        }
        if from == wanted.len() {
            return;
        }
        match tokio::time::timeout_at(ctx.deadline, changed.changed()).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) | Err(_) => return,
        }
    }
}

/// What a fetcher saw of one call: its index, its terminal status and the last status seen.
type Seen = (usize, Option<String>, Option<String>);

/// Fetches every call until it has ended, or the deadline; `clients` fetch at a time.
pub(crate) async fn await_terminal(ctx: Arc<Ctx>, outcomes: Vec<Outcome>, clients: usize) -> Vec<Outcome> {
    let outcomes = Arc::new(outcomes);
    let next = Arc::new(AtomicUsize::new(0));
    let fetchers: Vec<JoinHandle<Vec<Seen>>> = (0..clients)
        .map(|_| {
            let (ctx, outcomes, next) = (ctx.clone(), outcomes.clone(), next.clone());
            tokio::spawn(async move {
                let mut seen = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(o) = outcomes.get(i) else { break };
                    if let Some(sid) = &o.sid {
                        let (terminal, last) = poll_terminal(&ctx, o.planned.account, sid).await;
                        seen.push((i, terminal, last));
                    }
                }
                seen
            })
        })
        .collect();
    let mut out: Vec<Outcome> = outcomes.iter().cloned().collect();
    for fetcher in fetchers {
        if let Ok(seen) = fetcher.await {
            for (i, terminal, last) in seen {
                out[i].final_status = terminal;
                out[i].last_status = last;
            }
        }
    }
    out
}

/// Fetches one call until its status is terminal; (terminal status, last status seen).
async fn poll_terminal(ctx: &Ctx, account: usize, sid: &str) -> (Option<String>, Option<String>) {
    let mut pause = Duration::from_millis(50);
    let mut last = None;
    loop {
        if let Ok(call) = ctx.api.fetch(&ctx.accounts[account], sid).await {
            let status = call.get("status").and_then(Value::as_str).unwrap_or("").to_owned();
            if TERMINAL.contains(&status.as_str()) {
                return (Some(status.clone()), Some(status));
            }
            last = Some(status);
        }
        if Instant::now() + pause > ctx.deadline {
            return (None, last);
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(500));
    }
}
