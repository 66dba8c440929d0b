//! Running a `<Dial>` for a call: its legs (new `outbound-dial` calls of the same account, each
//! driven by its own task through the callee table), the bridge with the first leg to answer,
//! and the request to `action` when the dialed call ends
//! (`docs/reference/calls-api-facts.md#dial-child-calls`).
//!
//! Legs never outlive their `<Dial>`: a guard ends every leg still up when the dial is over,
//! whichever way it ends (the parent hanging up, an update, the lifecycle task dropping it).

use crate::callee::{self, Outcome};
use crate::callflow;
use crate::policy;
use crate::state::{Account, Control, Plan, Shared, now_ms};
use crate::twiml::dial::{Dial, Noun};
use crate::webhook::Target;
use callspec_model::callback::{DialActionParams, VoiceRequestParams};
use callspec_model::params::Instructions;
use callspec_model::{CallStatus, Sid, SidKind};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};
use tokio::time::Instant;

/// Longest a wait of a leg is honoured (a year), as in the lifecycle.
const FOREVER: Duration = Duration::from_secs(365 * 86_400);

/// How a `<Dial>` ended.
pub(crate) enum DialEnd {
    /// The dialed call is over and the caller is still up: what became of it.
    Done(DialOutcome),
    /// The parent call was ended meanwhile.
    Stopped,
    /// An update redirected the parent call.
    Redirect(Instructions),
}

/// What became of the dialed call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DialOutcome {
    /// `completed` when a leg was bridged, else how the last leg ended.
    pub(crate) status: CallStatus,
    /// The leg that answered, and how many seconds it was up.
    pub(crate) answered: Option<(Sid, u64)>,
}

/// What a leg's task reports to the dial.
enum LegEvent {
    Answered(u128),
    Ended(u128),
}

/// The legs of one dial: ends those still up when dropped.
struct Legs {
    shared: Arc<Shared>,
    account: Arc<Account>,
    sids: Vec<u128>,
}

impl Legs {
    /// Ends the leg `sid` if it is still up: `completed` once answered, `canceled` while ringing.
    fn end(&self, sid: u128) {
        let mut data = self.account.write();
        if let Some(rec) = data.call_mut(sid) {
            let status = if rec.answered_ms.is_some() { CallStatus::Completed } else { CallStatus::Canceled };
            callflow::finish(&self.shared, &self.account, rec, status, now_ms());
        }
    }

    /// The leg's status and seconds up, once it has ended.
    fn outcome(&self, sid: u128) -> (CallStatus, Option<u64>) {
        let data = self.account.read();
        let rec = data.call(&Sid::from_parts(SidKind::Call, sid));
        rec.map_or((CallStatus::Failed, None), |r| (r.status, r.answered_ms.map(|_| r.duration_s.unwrap_or(0))))
    }
}

impl Drop for Legs {
    fn drop(&mut self) {
        for sid in &self.sids {
            self.end(*sid);
        }
    }
}

/// The plan of a leg ringing `noun` for `dial`: no TwiML of its own, the noun's status callbacks.
fn leg_plan(shared: &Shared, dial: &Dial, noun: &Noun) -> Plan {
    let method = policy::status_callback_method(shared.faults, noun.status_callback_method);
    Plan {
        instructions: None,
        fallback: None,
        status_callback: noun.status_callback.clone().map(|url| Target { url, method }),
        events: policy::status_events(shared.faults, &noun.events),
        timeout_s: dial.timeout_s,
        recording: None,
        amd: None,
    }
}

/// Runs `dial` for the call `parent` (in progress, `from` its caller) until the dialed call ends
/// or the parent is ended or redirected through `control`.
pub(crate) async fn run(
    shared: &Arc<Shared>,
    account: &Arc<Account>,
    parent: u128,
    from: &str,
    control: &mut UnboundedReceiver<Control>,
    dial: &Dial,
) -> DialEnd {
    let (tx, mut events) = mpsc::unbounded_channel();
    let mut legs = Legs { shared: shared.clone(), account: account.clone(), sids: Vec::new() };
    let caller = dial.caller_id.as_deref().unwrap_or(from);
    for noun in &dial.nouns {
        let plan = leg_plan(shared, dial, noun);
        let Some((sid, leg_control)) = callflow::start_leg(shared, account, parent, &noun.to, caller, plan, now_ms())
        else {
            return DialEnd::Stopped;
        };
        legs.sids.push(sid);
        let leg = leg(
            shared.clone(),
            account.clone(),
            sid,
            leg_control,
            callee::outcome(&noun.to),
            dial.timeout_s,
            tx.clone(),
        );
        shared.spawn(leg);
    }
    drop(tx);
    let mut pending = legs.sids.len();
    let mut last = legs.sids.last().copied();
    let mut winner: Option<u128> = None;
    let mut limit = Instant::now() + FOREVER;
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Some(LegEvent::Answered(sid)) if winner.is_none() => {
                    winner = Some(sid);
                    for other in legs.sids.iter().filter(|s| **s != sid) {
                        legs.end(*other);
                    }
                    if let Some(s) = dial.time_limit_s {
                        limit = Instant::now() + Duration::from_secs(s).min(FOREVER);
                    }
                }
                Some(LegEvent::Answered(sid)) => legs.end(sid),
                Some(LegEvent::Ended(sid)) => {
                    pending = pending.saturating_sub(1);
                    if winner.is_none() {
                        last = Some(sid);
                    }
                    if winner == Some(sid) || (winner.is_none() && pending == 0) {
                        break;
                    }
                }
                None => break,
            },
            msg = control.recv() => return match msg {
                Some(Control::Redirect(i)) => DialEnd::Redirect(i),
                Some(Control::Stop) | None => DialEnd::Stopped,
            },
            () = tokio::time::sleep_until(limit) => {
                limit = Instant::now() + FOREVER;
                if let Some(sid) = winner {
                    legs.end(sid);
                }
            }
        }
    }
    DialEnd::Done(outcome(&legs, winner.or(last)))
}

/// What became of the dialed call, `leg` being the bridged leg or the last to end.
fn outcome(legs: &Legs, leg: Option<u128>) -> DialOutcome {
    let Some(sid) = leg else {
        return DialOutcome { status: CallStatus::Failed, answered: None };
    };
    match legs.outcome(sid) {
        (_, Some(seconds)) => DialOutcome {
            status: CallStatus::Completed,
            answered: Some((Sid::from_parts(SidKind::Call, sid), seconds)),
        },
        (status, None) => DialOutcome { status, answered: None },
    }
}

/// Where the `action` of `dial` points, resolved against the document's URL; `None` without an
/// action (or when a fault skips it), `Err` when it does not resolve.
pub(crate) fn action(
    faults: crate::fault::FaultSet,
    dial: &Dial,
    base: Option<&url::Url>,
) -> Result<Option<Target>, url::ParseError> {
    let Some(action) = dial.action.as_deref().filter(|_| policy::requests_dial_action(faults)) else {
        return Ok(None);
    };
    let url = match base {
        Some(base) => base.join(action)?,
        None => url::Url::parse(action)?,
    };
    Ok(Some(Target { url: url.to_string(), method: dial.method }))
}

/// The parameters of the action request: the parent's, plus what became of the dialed call
/// (without the leg's SID and duration when variance mode leaves them out).
pub(crate) fn action_params(
    shared: &Shared,
    call: &VoiceRequestParams,
    key: u64,
    n: u64,
    o: &DialOutcome,
) -> DialActionParams {
    let details = !shared.variance.dial_action_without_leg_details(key, n);
    let answered = o.answered.filter(|_| details);
    DialActionParams {
        call: call.clone(),
        dial_call_status: o.status.as_str().to_owned(),
        dial_call_sid: answered.map(|(sid, _)| sid.to_string()),
        dial_call_duration: answered.map(|(_, seconds)| seconds),
    }
}

/// Waits `d`; false when the leg was ended first (by the dial, an update or shutdown).
async fn wait(control: &mut UnboundedReceiver<Control>, d: Duration) -> bool {
    let deadline = Instant::now() + d.min(FOREVER);
    loop {
        tokio::select! {
            () = tokio::time::sleep_until(deadline) => return true,
            msg = control.recv() => match msg {
                // A leg runs no TwiML of its own: a redirect changes nothing here.
                Some(Control::Redirect(_)) => {}
                Some(Control::Stop) | None => return false,
            },
        }
    }
}

/// One leg's life: it rings the callee for at most the dial's `timeout`, answers or ends as the
/// callee table says, and once answered stays up until the callee hangs up or the dial ends it.
async fn leg(
    shared: Arc<Shared>,
    account: Arc<Account>,
    sid: u128,
    mut control: UnboundedReceiver<Control>,
    outcome: Outcome,
    timeout_s: u32,
    events: UnboundedSender<LegEvent>,
) {
    let ring = shared.config.ring;
    let timeout = policy::ring_timeout(shared.faults, timeout_s);
    let finish = |status| {
        let mut data = account.write();
        if let Some(rec) = data.call_mut(sid) {
            callflow::finish(&shared, &account, rec, status, now_ms());
        }
    };
    let (rings, then) = match outcome {
        Outcome::Failed => (Duration::ZERO, Some(CallStatus::Failed)),
        Outcome::Busy => (ring.min(timeout), Some(policy::busy_status(shared.faults))),
        Outcome::NoAnswer => (timeout, Some(CallStatus::NoAnswer)),
        Outcome::Answer(who) if who.ring(ring) > timeout => (timeout, Some(CallStatus::NoAnswer)),
        Outcome::Answer(who) => (who.ring(ring), None),
    };
    let mut up = wait(&mut control, rings).await;
    match then {
        Some(status) if up => finish(status),
        Some(_) => {}
        None if up => {
            let answered = {
                let mut data = account.write();
                data.call_mut(sid).and_then(|rec| callflow::answer(&shared, &account, rec, now_ms()))
            };
            if answered.is_some() && events.send(LegEvent::Answered(sid)).is_ok() {
                let stays = match outcome {
                    Outcome::Answer(who) => who.hangs_up_after().unwrap_or(FOREVER),
                    _ => FOREVER,
                };
                up = wait(&mut control, stays).await;
                if up {
                    finish(CallStatus::Completed);
                }
            }
        }
        None => {}
    }
    let _ = events.send(LegEvent::Ended(sid));
}
