//! A call's state transitions (dequeue, answer, finish), the callbacks each one fires, and
//! the per-call outbox that delivers them in order (in variance mode, a callback may let the
//! next one overtake it: see [`start_outbox`]).
//!
//! Every transition runs under the account's write lock, so a transition and the callbacks it
//! queues happen atomically: whichever of the lifecycle task and an API update ends a call
//! first wins, and the other sees a terminal status and does nothing.

use crate::events::CallEvents;
use crate::fault::FaultSet;
use crate::policy;
use crate::state::{Account, CallRecord, Control, Live, Recording, RecordingPlan, RecordingStatus, Shared};
use crate::variance::Variance;
use crate::webhook::{Outgoing, Target, WebhookKind};
use callspec_model::call::API_VERSION;
use callspec_model::callback::{
    CALLBACK_SOURCE, RecordingCallbackParams, StatusCallbackParams, VoiceRequestParams, sip_response_code,
};
use callspec_model::error::code;
use callspec_model::params::{Instructions, PauseBehavior, RecordingEvent};
use callspec_model::recording::{MIN_SECONDS as MIN_RECORDING_SECONDS, SOURCE_OUTBOUND_API, media_url};
use callspec_model::status::StatusCallbackEvent;
use callspec_model::{CallStatus, Sid, SidKind, billing, rfc2822};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// How long a callback that variance lets be overtaken waits for the next one of its call.
const OVERTAKE_WINDOW: Duration = Duration::from_millis(100);

/// The standard parameters of a request about this call, with `CallStatus` (and, as variance
/// decides, where the caller and callee are).
fn voice_params(
    faults: FaultSet,
    variance: Variance,
    account: &Account,
    rec: &CallRecord,
    status: CallStatus,
) -> VoiceRequestParams {
    VoiceRequestParams {
        call_sid: rec.sid().to_string(),
        account_sid: account.sid.to_string(),
        from: rec.from.to_string(),
        to: rec.to.to_string(),
        call_status: status.as_str().to_owned(),
        api_version: API_VERSION.to_owned(),
        direction: policy::call_direction(faults, rec.parent.is_some()).to_owned(),
        parent_call_sid: rec.parent.map(|p| Sid::from_parts(SidKind::Call, p).to_string()),
        error_code: None,
        error_url: None,
        answered_by: rec.answered_by.map(|a| a.as_str().to_owned()),
        from_geo: variance.geography(rec.variance_key, &rec.from),
        to_geo: variance.geography(rec.variance_key, &rec.to),
    }
}

/// Starts a call's outbox: a task that delivers its callbacks one at a time, in order, except
/// that an [`Outgoing::overtakable`] one (variance mode) waits up to [`OVERTAKE_WINDOW`] for the
/// next, which then goes first. The task ends when the returned sender is dropped and the queue
/// is empty, or at shutdown.
fn start_outbox(shared: &Shared, auth_token: Arc<str>, events: CallEvents) -> mpsc::UnboundedSender<Outgoing> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Outgoing>();
    let client = shared.webhooks.clone();
    shared.spawn(async move {
        while let Some(out) = rx.recv().await {
            let mut batch = vec![out];
            if batch[0].overtakable
                && let Ok(Some(next)) = tokio::time::timeout(OVERTAKE_WINDOW, rx.recv()).await
            {
                batch.insert(0, next);
            }
            for out in batch {
                // Failures are logged by `send` and do not affect the call.
                let _ = client.send(out.kind, &out.target, &out.params, &auth_token, Some(&events)).await;
            }
        }
    });
    tx
}

fn push(shared: &Shared, account: &Account, live: &mut Live, out: Outgoing) {
    let events = live.events.clone();
    let tx = live.outbox.get_or_insert_with(|| start_outbox(shared, account.auth_token.clone(), events));
    if tx.send(out).is_err() {
        tracing::debug!("outbox closed (shutting down); callback dropped");
    }
}

/// Queues the status callback for `event` when the call subscribes to it.
fn emit_status(shared: &Shared, account: &Account, rec: &mut CallRecord, event: StatusCallbackEvent, now: i64) {
    let faults = shared.faults;
    let answered = rec.answered_ms.is_some();
    let Some(live) = rec.live.as_deref_mut() else {
        return;
    };
    let Some(target) = live.plan.status_callback.clone() else {
        return;
    };
    if !policy::sends_status_event(faults, live.plan.events, event, answered) {
        if policy::counts_unsent_events(faults) {
            live.sequence += 1;
        }
        return;
    }
    let sequence = live.sequence;
    let terminal = event == StatusCallbackEvent::Completed;
    let recording = rec.recordings.iter().find(|r| r.source == SOURCE_OUTBOUND_API).filter(|_| terminal);
    let variance = shared.variance;
    let mut call = voice_params(faults, variance, account, rec, event.call_status(rec.status));
    if policy::rewrites_callback_status(faults) {
        call.call_status = policy::callback_call_status(faults, event, rec.status).to_owned();
    }
    let params = StatusCallbackParams {
        call,
        timestamp: policy::callback_timestamp(faults, now),
        callback_source: CALLBACK_SOURCE.to_owned(),
        sequence_number: policy::sequence_number(faults, sequence),
        duration: match (terminal, answered) {
            (true, true) => Some(policy::callback_duration(faults, rec.duration_s.unwrap_or(0))),
            (true, false) => variance.unanswered_duration(rec.variance_key, rec.status),
            (false, _) => None,
        },
        call_duration: (terminal && policy::reports_call_duration(faults, answered))
            .then(|| rec.duration_s.unwrap_or(0)),
        sip_response_code: terminal.then(|| sip_response_code(rec.status)),
        recording_url: recording.map(|r| media_url(&account.sid, &r.sid())),
        recording_sid: recording.map(|r| r.sid().to_string()),
        recording_duration: recording.map(|r| r.duration_s.unwrap_or(0)),
    };
    let out = Outgoing {
        kind: WebhookKind::StatusCallback,
        target,
        params: policy::status_callback_form(faults, params.to_form()),
        overtakable: variance.overtaken(rec.variance_key, sequence),
    };
    if let Some(live) = rec.live.as_deref_mut() {
        live.sequence += 1;
        push(shared, account, live, out);
    }
}

/// Queues the callback of the call's recording `index` for `event` when the recording
/// subscribes to it.
fn emit_recording(shared: &Shared, account: &Account, rec: &mut CallRecord, index: usize, event: RecordingEvent) {
    let Some(recording) = rec.recordings.get(index) else {
        return;
    };
    let Some(target) = recording.callback.clone() else {
        return;
    };
    if !recording.events.contains(event) {
        return;
    }
    let source = if recording.source == SOURCE_OUTBOUND_API {
        policy::recording_source(shared.faults)
    } else {
        recording.source
    };
    let params = RecordingCallbackParams {
        account_sid: account.sid.to_string(),
        call_sid: rec.sid().to_string(),
        recording_sid: recording.sid().to_string(),
        recording_url: media_url(&account.sid, &recording.sid()),
        recording_status: event.as_str().to_owned(),
        recording_duration: policy::recording_duration(shared.faults, recording.duration_s.unwrap_or(0)),
        recording_channels: recording.channels.count(),
        recording_start_time: rfc2822::format_unix_ms(recording.start_ms),
        recording_source: source.to_owned(),
        recording_track: recording.track.to_string(),
        error_code: (event == RecordingEvent::Absent).then_some(code::RECORDING_TOO_SHORT),
    };
    let out = Outgoing { kind: WebhookKind::RecordingCallback, target, params: params.to_form(), overtakable: false };
    if let Some(live) = rec.live.as_deref_mut() {
        push(shared, account, live, out);
    }
}

/// Starts a recording of an in-progress call with `plan`: stored, and its `in-progress`
/// callback queued. Returns its index among the call's recordings.
pub(crate) fn start_recording(
    shared: &Shared,
    account: &Account,
    rec: &mut CallRecord,
    plan: &RecordingPlan,
    source: &'static str,
    now: i64,
) -> usize {
    let index = rec.recordings.len();
    let mut recording = Recording::start(plan, source, now);
    recording.varied = shared.variance.recording_start_variants(rec.variance_key, index);
    rec.recordings.push(recording);
    emit_recording(shared, account, rec, index, RecordingEvent::InProgress);
    index
}

/// Pauses (`Some(behavior)`) or resumes (`None`) an active recording; no-op when it is not
/// active or already in that state.
pub(crate) fn pause_recording(r: &mut Recording, pause: Option<PauseBehavior>, now: i64) {
    if !r.status.is_active() {
        return;
    }
    match (pause, r.paused) {
        (Some(behavior), None) => {
            r.paused = Some((now, behavior));
            r.status = RecordingStatus::Paused;
        }
        (None, Some((since, behavior))) => {
            if behavior == PauseBehavior::Skip {
                r.skipped_ms += now - since;
            }
            r.paused = None;
            r.status = RecordingStatus::InProgress;
        }
        _ => {}
    }
    r.updated_ms = now;
}

/// Ends a recording if it is active: `completed`, or `absent` when shorter than a second.
/// Returns the callback event its end earns.
fn end_recording(r: &mut Recording, now: i64) -> Option<RecordingEvent> {
    if !r.status.is_active() {
        return None;
    }
    pause_recording(r, None, now);
    let seconds = u64::try_from((now - r.start_ms - r.skipped_ms) / 1000).unwrap_or(0);
    r.duration_s = Some(seconds);
    r.updated_ms = now;
    Some(if seconds >= MIN_RECORDING_SECONDS {
        r.status = RecordingStatus::Completed;
        RecordingEvent::Completed
    } else {
        r.status = RecordingStatus::Absent;
        RecordingEvent::Absent
    })
}

/// Ends the call's recording `index` if it is active, with its callback.
pub(crate) fn stop_recording(shared: &Shared, account: &Account, rec: &mut CallRecord, index: usize, now: i64) {
    let event = rec.recordings.get_mut(index).and_then(|r| end_recording(r, now));
    if let Some(event) = event {
        emit_recording(shared, account, rec, index, event);
    }
}

/// Takes a queued call off the queue: it is dialed (`initiated`) and rings at once.
/// Returns the control channel of the lifecycle task to start, or `None` if the call is no
/// longer queued (canceled meanwhile).
pub(crate) fn dequeue(
    shared: &Shared,
    account: &Account,
    rec: &mut CallRecord,
    now: i64,
) -> Option<mpsc::UnboundedReceiver<Control>> {
    if rec.status != CallStatus::Queued || rec.live.is_none() {
        return None;
    }
    rec.start_ms = Some(now);
    rec.queue_time_ms = u64::try_from(now - rec.created_ms).unwrap_or(0);
    rec.updated_ms = now;
    rec.status = CallStatus::Ringing;
    // `initiated` is a callback status only; the resource goes from queued to ringing.
    for event in policy::dial_events(shared.faults) {
        emit_status(shared, account, rec, event, now);
    }
    let (tx, rx) = mpsc::unbounded_channel();
    if let Some(live) = rec.live.as_deref_mut() {
        live.control = Some(tx);
    }
    Some(rx)
}

/// A leg a `<Dial>` places for the call `parent`: a new call of the same account with
/// `plan`, that never waits in the queue (`<Dial>` legs are not CPS-limited and skip `queued`):
/// it is dialed at once, with its `initiated` and `ringing` callbacks. Returns its SID value and
/// the control channel of the task to run it, or `None` if the parent has ended.
pub(crate) fn start_leg(
    shared: &Shared,
    account: &Account,
    parent: u128,
    to: &str,
    from: &str,
    plan: crate::state::Plan,
    now: i64,
) -> Option<(u128, mpsc::UnboundedReceiver<Control>)> {
    let mut data = account.write();
    if data.call_mut(parent).is_none_or(|p| p.status.is_terminal()) {
        return None;
    }
    let sid = Sid::random(SidKind::Call).value();
    let seq = data.next_seq;
    data.next_seq += 1;
    let events = CallEvents::default();
    let mut rec = CallRecord {
        sid,
        variance_key: crate::variance::call_key(account.variance_key, seq),
        to: to.into(),
        from: from.into(),
        parent: Some(parent),
        status: CallStatus::Queued,
        phone_number_sid: data.number_sid(from),
        created_ms: now,
        updated_ms: now,
        start_ms: None,
        end_ms: None,
        answered_ms: None,
        queue_time_ms: 0,
        duration_s: None,
        price_units: None,
        answered_by: None,
        events: events.clone(),
        recordings: Vec::new(),
        live: Some(Box::new(Live {
            plan,
            sequence: 0,
            outbox: None,
            control: None,
            limit: crate::timelimit::setter(None),
            events,
        })),
    };
    // Dequeued within the same lock: nobody ever sees the leg `queued`.
    let control = dequeue(shared, account, &mut rec, now)?;
    data.index.insert(sid, seq);
    data.calls.insert(seq, rec);
    Some((sid, control))
}

/// What the lifecycle task needs once a call is answered.
#[derive(Debug, Clone)]
pub(crate) struct Answered {
    /// Where the TwiML comes from.
    pub(crate) instructions: Option<Instructions>,
    /// The standard request parameters (CallStatus `in-progress`).
    pub(crate) params: VoiceRequestParams,
}

/// The callee answers: `in-progress`, the `answered` callback, and the recording starts.
/// `None` if the call is no longer ringing.
pub(crate) fn answer(shared: &Shared, account: &Account, rec: &mut CallRecord, now: i64) -> Option<Answered> {
    if rec.status != CallStatus::Ringing {
        return None;
    }
    rec.status = CallStatus::InProgress;
    rec.answered_ms = Some(now);
    rec.updated_ms = now;
    emit_status(shared, account, rec, StatusCallbackEvent::Answered, now);
    let plan = rec.live.as_deref().map(|l| l.plan.clone())?;
    if let Some(rp) = &plan.recording {
        start_recording(shared, account, rec, rp, SOURCE_OUTBOUND_API, now);
    }
    let params = voice_params(shared.faults, shared.variance, account, rec, CallStatus::InProgress);
    Some(Answered { instructions: plan.instructions, params })
}

/// The fallback target of a live call, as it stands now (updates may change it).
pub(crate) fn fallback(rec: &CallRecord) -> Option<Target> {
    rec.live.as_deref().and_then(|l| l.plan.fallback.clone())
}

/// Ends a call with a terminal `status`: end time, duration, price, the recording's end, the
/// `completed` status callback and the recording callback. A call that never left the queue
/// ends silently. Returns false if the call had already ended.
pub(crate) fn finish(shared: &Shared, account: &Account, rec: &mut CallRecord, status: CallStatus, now: i64) -> bool {
    if rec.status.is_terminal() {
        return false;
    }
    let previous = rec.status;
    rec.status = status;
    rec.updated_ms = now;
    if previous == CallStatus::Queued {
        // Canceled before it was dialed: no start, no end, no callbacks.
        rec.duration_s = Some(0);
        if !policy::queued_cancel_is_silent(shared.faults) {
            emit_status(shared, account, rec, StatusCallbackEvent::Completed, now);
        }
        rec.live = None;
        return true;
    }
    rec.end_ms = Some(now);
    let talk = rec.answered_ms.map(|a| u64::try_from((now - a) / 1000).unwrap_or(0));
    rec.duration_s = Some(talk.unwrap_or(0));
    rec.price_units = talk.map(billing::price_units);
    let ended: Vec<Option<RecordingEvent>> = rec.recordings.iter_mut().map(|r| end_recording(r, now)).collect();
    emit_status(shared, account, rec, StatusCallbackEvent::Completed, now);
    for (index, event) in ended.into_iter().enumerate() {
        if let Some(event) = event {
            emit_recording(shared, account, rec, index, event);
        }
    }
    // Dropping `live` drops the outbox sender: its task delivers what is queued, then ends.
    if let Some(live) = rec.live.take()
        && let Some(control) = &live.control
    {
        // The task may be the one finishing; then nobody listens, which is fine.
        let _ = control.send(Control::Stop);
    }
    true
}
