//! Calls: create (validated by the model, then queued), fetch, update (cancel, hang up,
//! redirect, a new `TimeLimit`), delete (its recordings stay, detached).

use super::{Req, events, refuse};
use crate::callflow;
use crate::error::ApiError;
use crate::events::CallEvents;
use crate::fault::FaultSet;
use crate::policy;
use crate::queue;
use crate::resources::{self, View};
use crate::state::{Application, CallRecord, Control, DetachedRecording, Directory, Live, Plan, RecordingPlan, now_ms};
use crate::timelimit;
use crate::variance;
use crate::webhook::Target;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use callspec_model::error::code;
use callspec_model::params::{
    CREATE_PARAMETERS, CreateCallParams, Instructions, UPDATE_PARAMETERS, UpdateCallParams, UpdateStatus,
    magic_number_violations,
};
use callspec_model::{CallStatus, Endpoint, Form, Sid, SidKind};

/// Message of 21220, for updates of a call that has ended.
const NOT_IN_PROGRESS: &str = "Call is not in-progress. Cannot redirect.";

fn plan(faults: FaultSet, params: &CreateCallParams, app: Option<&Application>, form: &Form) -> Plan {
    let target = |url: &Option<String>, method| url.clone().map(|url| Target { url, method });
    let (instructions, fallback, status_callback) = match app {
        // The application's voice configuration replaces Url, Method, Fallback* and StatusCallback*.
        Some(a) => (
            policy::application_instructions(faults, a.voice(), form),
            target(&a.voice_fallback_url, a.voice_fallback_method),
            target(&a.status_callback, a.status_callback_method),
        ),
        None => (
            policy::create_instructions(faults, params),
            target(&params.fallback_url, params.fallback_method),
            target(&params.status_callback, policy::status_callback_method(faults, params.status_callback_method)),
        ),
    };
    Plan {
        instructions,
        fallback,
        status_callback,
        events: policy::status_events(faults, &params.status_callback_events),
        timeout_s: params.timeout,
        recording: params.record.then(|| RecordingPlan {
            channels: policy::recording_channels(faults, params.recording_channels),
            track: params.recording_track.clone().into_boxed_str(),
            callback: target(
                &params.recording_status_callback,
                policy::recording_callback_method(faults, params.recording_status_callback_method),
            ),
            events: policy::recording_events(faults, &params.recording_status_callback_events),
        }),
        amd: params.machine_detection().cloned(),
    }
}

/// `POST …/Calls.json`.
pub(super) fn create(req: &Req<'_>) -> Result<Response, ApiError> {
    let started = std::time::Instant::now();
    let faults = req.shared.faults;
    let form = req.form()?;
    req.strict_check(&form, CREATE_PARAMETERS, &["StatusCallbackEvent", "RecordingStatusCallbackEvent"])?;
    let account = &req.account;
    let (mut params, phone_number_sid, app) = {
        let data = account.read();
        let directory = Directory { trial: account.trial, data: &data, faults };
        let mut violations = magic_number_violations(&form);
        let parsed = CreateCallParams::parse(&form, &directory);
        violations.extend(parsed.violations);
        let violations = policy::create_violations(faults, violations);
        if !violations.is_empty() {
            return Err(refuse(faults, req.path, violations));
        }
        let params = parsed.value;
        let phone_number_sid = match &params.from {
            Endpoint::Phone(n) => data.number_sid(n),
            _ => None,
        };
        let app =
            params.application_sid.and_then(|sid| data.applications.iter().find(|a| a.sid == sid.value()).cloned());
        (params, phone_number_sid, app)
    };
    params.record = policy::records(faults, params.record, form.get("Record"));
    let plan = plan(faults, &params, app.as_ref(), &form);
    let sid = Sid::random(SidKind::Call);
    let now = now_ms();
    let body = {
        let mut data = account.write();
        let seq = data.next_seq;
        data.next_seq += 1;
        let events = CallEvents::default();
        let mut rec = CallRecord {
            sid: sid.value(),
            variance_key: variance::call_key(account.variance_key, seq),
            to: params.to.as_str().into(),
            from: params.from.as_str().into(),
            parent: None,
            status: CallStatus::Queued,
            phone_number_sid,
            created_ms: now,
            updated_ms: now,
            start_ms: None,
            end_ms: None,
            answered_ms: None,
            queue_time_ms: 0,
            duration_s: None,
            price_units: None,
            answered_by: None,
            recordings: Vec::new(),
            events: events.clone(),
            live: Some(Box::new(Live {
                plan,
                sequence: 0,
                outbox: None,
                control: None,
                limit: timelimit::setter(policy::time_limit(faults, params.time_limit)),
                events,
            })),
        };
        rec.queue_time_ms = queue::enqueue(req.shared, &mut data, sid.value());
        let body = resources::call_body(req.shared, View::Create, &account.sid, &rec);
        events::record_create(req, started, &form, &rec, policy::create_status(faults), &body);
        data.index.insert(sid.value(), seq);
        data.calls.insert(seq, rec);
        body
    };
    account.queue_ready.notify_one();
    Ok(body.respond(policy::create_status(faults)))
}

/// `GET …/Calls/{Sid}.json`.
pub(super) fn fetch(req: &Req<'_>, ca: Sid) -> Result<Response, ApiError> {
    let data = req.account.read();
    let rec = data.call(&ca).ok_or_else(|| ApiError::NotFound(req.path.to_owned()))?;
    let body = resources::call_body(req.shared, View::Fetch, &req.account.sid, rec);
    drop(data);
    Ok(body.respond(StatusCode::OK))
}

/// `POST …/Calls/{Sid}.json`.
///
/// `Status=canceled` ends a queued or ringing call `canceled` (400 / 21220 when in progress);
/// `Status=completed` hangs up an in-progress call and cancels a queued or ringing one. `Url`
/// or `Twiml` redirects an in-progress call and replaces the instructions of a queued or
/// ringing one. Any update of an ended call is 400 / 21220.
pub(super) fn update(req: &Req<'_>, ca: Sid) -> Result<Response, ApiError> {
    let form = req.form()?;
    req.strict_check(&form, UPDATE_PARAMETERS, &[])?;
    let params = UpdateCallParams::parse(&form).into_result().map_err(|v| refuse(req.shared.faults, req.path, v))?;
    let shared = req.shared;
    let faults = shared.faults;
    let account = &req.account;
    let mut data = account.write();
    let rec = data.call_mut(ca.value()).ok_or_else(|| ApiError::NotFound(req.path.to_owned()))?;
    if rec.status.is_terminal() {
        if policy::updates_ended_call(faults) {
            let body = resources::call_body(shared, View::Other, &account.sid, rec);
            drop(data);
            return Ok(body.respond(StatusCode::OK));
        }
        return Err(ApiError::bad_request(code::CALL_NOT_IN_PROGRESS, NOT_IN_PROGRESS));
    }
    let in_progress = rec.status == CallStatus::InProgress;
    if params.status == Some(UpdateStatus::Canceled) && in_progress {
        return Err(ApiError::bad_request(
            code::CALL_NOT_IN_PROGRESS,
            "Call is in-progress. Cannot cancel; use Status=completed to hang up.",
        ));
    }
    let was_queued = rec.status == CallStatus::Queued;
    if let Some(live) = rec.live.as_deref_mut() {
        if let Some(url) = &params.fallback_url {
            live.plan.fallback = Some(Target { url: url.clone(), method: params.fallback_method });
        }
        if let Some(url) = &params.status_callback {
            live.plan.status_callback = Some(Target { url: url.clone(), method: params.status_callback_method });
        }
        // A new limit replaces the old one; the call's timer, if running, counts it from answer.
        if let Some(seconds) = policy::time_limit(faults, params.time_limit) {
            live.limit.send_replace(Some(seconds));
        }
    }
    let now = now_ms();
    let ended = match params.status {
        Some(UpdateStatus::Completed) if in_progress => {
            policy::hangs_up(faults) && callflow::finish(shared, account, rec, CallStatus::Completed, now)
        }
        Some(_) => callflow::finish(shared, account, rec, policy::cancel_status(faults), now),
        None => {
            let instructions = match (&params.url, &params.twiml) {
                (Some(url), _) => Some(Instructions::Url { url: url.clone(), method: params.method }),
                (None, Some(twiml)) if policy::updates_twiml(faults) => Some(Instructions::Twiml(twiml.clone())),
                (None, _) => None,
            };
            if let (Some(instructions), Some(live)) = (instructions, rec.live.as_deref_mut()) {
                if in_progress
                    && policy::redirects(faults)
                    && let Some(control) = &live.control
                {
                    let _ = control.send(Control::Redirect(instructions.clone()));
                }
                live.plan.instructions = Some(instructions);
            }
            rec.updated_ms = now;
            false
        }
    };
    let body = resources::call_body(shared, View::Other, &account.sid, rec);
    if ended && was_queued {
        queue::remove(&mut data, ca.value());
    }
    drop(data);
    Ok(body.respond(StatusCode::OK))
}

/// `DELETE …/Calls/{Sid}.json`: 204 for an ended call; 400 / 21220 while it is not ended.
pub(super) fn delete(req: &Req<'_>, ca: Sid) -> Result<Response, ApiError> {
    let mut data = req.account.write();
    let not_found = || ApiError::NotFound(req.path.to_owned());
    let seq = *data.index.get(&ca.value()).ok_or_else(not_found)?;
    let rec = data.calls.get(&seq).ok_or_else(not_found)?;
    if !rec.status.is_terminal() && !policy::deletes_live_call(req.shared.faults) {
        return Err(ApiError::bad_request(
            code::CALL_NOT_IN_PROGRESS,
            format!("Call {ca} is {}; only a call that has ended can be deleted.", rec.status),
        ));
    }
    // Deleting a call keeps its recordings (listed under the account).
    if let Some(rec) = data.calls.remove(&seq) {
        let call = rec.sid;
        data.detached_recordings
            .extend(rec.recordings.into_iter().map(|recording| DetachedRecording { call, recording }));
    }
    Ok(policy::delete_status(req.shared.faults).into_response())
}
