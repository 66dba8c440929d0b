//! Recordings: a call's subresource (start on an in-progress call, fetch, list, update with
//! `Status` paused / in-progress / stopped and `PauseBehavior`, the `Twilio.CURRENT` alias,
//! delete) and the account's list and fetch, with the `CallSid` and `DateCreated` filters.
//!
//! A recording lives with its call (`CallRecord::recordings`); deleting the call moves them to
//! the account's detached recordings, so they stay listed. A deleted recording is kept as
//! soft-deleted metadata: gone from lists and plain fetches, shown `deleted` to a fetch with
//! `IncludeSoftDeleted=true`.

use super::list::{Op, When, date_op, invalid};
use super::{RecordingRef, Req, page, refuse};
use crate::callflow;
use crate::error::{ApiError, json_response};
use crate::media::MediaFormat;
use crate::policy;
use crate::resources::{self, RecordingView};
use crate::state::{AccountData, Recording, RecordingPlan, RecordingStatus, now_ms};
use crate::webhook::Target;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use callspec_model::error::code;
use callspec_model::params::{
    RecordingUpdateStatus, START_RECORDING_PARAMETERS, StartRecordingParams, UPDATE_RECORDING_PARAMETERS,
    UpdateRecordingParams,
};
use callspec_model::recording::SOURCE_START_CALL_RECORDING_API;
use callspec_model::{Form, Sid, SidKind};
use serde_json::Value;

/// Message of 21220 for a recording start on a call that is not in progress.
const NOT_IN_PROGRESS: &str = "Call is not in-progress. Cannot record.";

/// Query parameters of a call's recordings list.
const CALL_LIST_PARAMETERS: &[&str] = &["DateCreated", "DateCreated<", "DateCreated>", "PageSize", "Page", "PageToken"];

/// Query parameters of the account's recordings list.
const ACCOUNT_LIST_PARAMETERS: &[&str] = &[
    "CallSid",
    "ConferenceSid",
    "DateCreated",
    "DateCreated<",
    "DateCreated>",
    "IncludeSoftDeleted",
    "PageSize",
    "Page",
    "PageToken",
];

/// `POST …/Calls/{CA}/Recordings.json`: 201 with the new recording; 400 / 21220 unless the
/// call is in progress.
pub(super) fn start(req: &Req<'_>, ca: Sid) -> Result<Response, ApiError> {
    let faults = req.shared.faults;
    let form = req.form()?;
    req.strict_check(&form, START_RECORDING_PARAMETERS, &["RecordingStatusCallbackEvent"])?;
    let params = StartRecordingParams::parse(&form).into_result().map_err(|v| refuse(faults, req.path, v))?;
    let plan = RecordingPlan {
        channels: policy::recording_channels(faults, params.channels),
        track: params.track.into_boxed_str(),
        callback: params
            .callback
            .map(|url| Target { url, method: policy::recording_callback_method(faults, params.callback_method) }),
        events: policy::recording_events(faults, &params.events),
    };
    let account = &req.account;
    let mut data = account.write();
    let rec = data.call_mut(ca.value()).ok_or_else(|| ApiError::NotFound(req.path.to_owned()))?;
    if !policy::recording_may_start(faults, rec.status) {
        return Err(ApiError::bad_request(code::CALL_NOT_IN_PROGRESS, NOT_IN_PROGRESS));
    }
    let now = now_ms();
    let index = callflow::start_recording(req.shared, account, rec, &plan, SOURCE_START_CALL_RECORDING_API, now);
    let recording = &rec.recordings[index];
    let (body, varied) = (resources::recording(&account.sid, &ca, recording, RecordingView::Call), recording.varied);
    drop(data);
    // Variance mode may answer 200, which Twilio's OpenAPI lists beside 201.
    Ok(json_response(if varied { StatusCode::OK } else { StatusCode::CREATED }, &body))
}

/// The index of the recording `which` names among `recordings`: by SID (not deleted), or the
/// single active one for `Twilio.CURRENT` (400 / 16108 when there are several).
fn find(recordings: &[Recording], which: RecordingRef, path: &str) -> Result<usize, ApiError> {
    let not_found = || ApiError::NotFound(path.to_owned());
    match which {
        RecordingRef::Sid(sid) => {
            recordings.iter().position(|r| r.sid == sid.value() && !r.deleted).ok_or_else(not_found)
        }
        RecordingRef::Current => {
            let mut active = recordings.iter().enumerate().filter(|(_, r)| r.status.is_active() && !r.deleted);
            let (index, _) = active.next().ok_or_else(not_found)?;
            if active.next().is_some() {
                return Err(ApiError::bad_request(
                    code::CONCURRENT_RECORDINGS,
                    "The call has more than one active recording: name one by its SID instead of Twilio.CURRENT",
                ));
            }
            Ok(index)
        }
    }
}

/// `GET …/Calls/{CA}/Recordings/{RE}.json`.
pub(super) fn fetch_of_call(req: &Req<'_>, ca: Sid, which: RecordingRef) -> Result<Response, ApiError> {
    let data = req.account.read();
    let rec = data.call(&ca).ok_or_else(|| ApiError::NotFound(req.path.to_owned()))?;
    let index = find(&rec.recordings, which, req.path)?;
    let body = resources::recording(&req.account.sid, &ca, &rec.recordings[index], RecordingView::Call);
    drop(data);
    Ok(json_response(StatusCode::OK, &body))
}

/// `POST …/Calls/{CA}/Recordings/{RE}.json`: pause, resume or stop an active recording.
/// Stopping an ended recording answers it as it is; pausing or resuming one is 400 / 21200.
pub(super) fn update(req: &Req<'_>, ca: Sid, which: RecordingRef) -> Result<Response, ApiError> {
    let faults = req.shared.faults;
    let form = req.form()?;
    req.strict_check(&form, UPDATE_RECORDING_PARAMETERS, &[])?;
    let params = UpdateRecordingParams::parse(&form).into_result().map_err(|v| refuse(faults, req.path, v))?;
    let account = &req.account;
    let mut data = account.write();
    let rec = data.call_mut(ca.value()).ok_or_else(|| ApiError::NotFound(req.path.to_owned()))?;
    let index = find(&rec.recordings, which, req.path)?;
    let active = rec.recordings[index].status.is_active();
    let now = now_ms();
    let view = match params.status {
        Some(RecordingUpdateStatus::Stopped) => {
            callflow::stop_recording(req.shared, account, rec, index, now);
            RecordingView::Stopped
        }
        Some(status) if active => {
            let pause = (status == RecordingUpdateStatus::Paused).then_some(params.pause_behavior);
            if pause.is_none() || policy::pauses_recording(faults) {
                callflow::pause_recording(&mut rec.recordings[index], pause, now);
            }
            RecordingView::Call
        }
        Some(status) => {
            let ended = rec.recordings[index].status.as_str();
            return Err(ApiError::bad_request(
                code::INVALID_PARAMETER,
                format!("The recording is {ended}; it cannot be set to {}", status.as_str()),
            ));
        }
        None => return Err(ApiError::bad_request(code::INVALID_PARAMETER, "Status is required")),
    };
    let body = resources::recording(&account.sid, &ca, &rec.recordings[index], view);
    drop(data);
    Ok(json_response(StatusCode::OK, &body))
}

/// Marks a recording deleted: 204, or 400 / 20009 while it still runs.
fn delete_recording(req: &Req<'_>, r: &mut Recording) -> Result<Response, ApiError> {
    if r.status.is_active() {
        return Err(ApiError::bad_request(
            code::NOT_COMPLETE,
            "Cannot delete this resource before it is complete: stop the recording first",
        ));
    }
    r.deleted = true;
    Ok(policy::delete_status(req.shared.faults).into_response())
}

/// `DELETE …/Calls/{CA}/Recordings/{RE}.json`.
pub(super) fn delete_of_call(req: &Req<'_>, ca: Sid, which: RecordingRef) -> Result<Response, ApiError> {
    let mut data = req.account.write();
    let rec = data.call_mut(ca.value()).ok_or_else(|| ApiError::NotFound(req.path.to_owned()))?;
    let index = find(&rec.recordings, which, req.path)?;
    delete_recording(req, &mut rec.recordings[index])
}

/// The `DateCreated`, `DateCreated<` and `DateCreated>` filters of a query, with the pairs to
/// echo in the page URIs.
fn date_filters(query: &Form, echoed: &mut Vec<(String, String)>) -> Result<Vec<(Op, When)>, ApiError> {
    let mut filters = Vec::new();
    for (name, value) in query.pairs() {
        if let Some(op) = date_op(name, "DateCreated") {
            let when = When::parse(value).ok_or_else(|| invalid(name, value, "is not a date (YYYY-MM-DD)"))?;
            filters.push((op, when));
            echoed.push((name.clone(), value.clone()));
        }
    }
    Ok(filters)
}

/// `GET …/Calls/{CA}/Recordings.json`: the call's recordings, newest first.
pub(super) fn list_of_call(req: &Req<'_>, ca: Sid) -> Result<Response, ApiError> {
    let query = req.query_form()?;
    req.strict_check(&query, CALL_LIST_PARAMETERS, &[])?;
    let mut echoed = Vec::new();
    let dates = date_filters(&query, &mut echoed)?;
    let items: Vec<Value> = {
        let data = req.account.read();
        let rec = data.call(&ca).ok_or_else(|| ApiError::NotFound(req.path.to_owned()))?;
        rec.recordings
            .iter()
            .rev()
            .filter(|r| !r.deleted && dates.iter().all(|(op, when)| when.matches(*op, r.start_ms)))
            .map(|r| resources::recording(&req.account.sid, &ca, r, RecordingView::Call))
            .collect()
    };
    Ok(json_response(StatusCode::OK, &page::filtered("recordings", req.path, &query, &echoed, items)?))
}

/// Every recording of the account with its call's SID, oldest first.
fn all_recordings(data: &AccountData) -> Vec<(Sid, &Recording)> {
    let attached = data.calls.values().flat_map(|c| c.recordings.iter().map(move |r| (c.sid(), r)));
    let detached = data.detached_recordings.iter().map(|d| (Sid::from_parts(SidKind::Call, d.call), &d.recording));
    let mut all: Vec<(Sid, &Recording)> = attached.chain(detached).collect();
    all.sort_by_key(|(_, r)| r.start_ms);
    all
}

/// Whether a query flag (`IncludeSoftDeleted`) is `true`.
fn flag(query: &Form, name: &str) -> bool {
    query.get(name).is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// `GET …/Recordings.json`: the account's recordings, newest first, filtered by `CallSid`,
/// `ConferenceSid` (the emulator records no conference: it matches nothing) and `DateCreated`.
pub(super) fn list(req: &Req<'_>) -> Result<Response, ApiError> {
    let query = req.query_form()?;
    req.strict_check(&query, ACCOUNT_LIST_PARAMETERS, &[])?;
    let mut echoed = Vec::new();
    let mut call = None;
    let mut conference = false;
    for (name, value) in query.pairs() {
        match name.as_str() {
            "CallSid" => {
                let sid =
                    Sid::parse_kind(value, SidKind::Call).map_err(|_| invalid(name, value, "is not a call SID"))?;
                call = Some(sid).filter(|_| policy::recordings_call_sid_filter_applies(req.shared.faults));
            }
            "ConferenceSid" => conference = true,
            _ => continue,
        }
        echoed.push((name.clone(), value.clone()));
    }
    let dates = date_filters(&query, &mut echoed)?;
    let include_deleted = flag(&query, "IncludeSoftDeleted");
    let account = &req.account.sid;
    let items: Vec<Value> = {
        let data = req.account.read();
        all_recordings(&data)
            .into_iter()
            .rev()
            .filter(|(ca, r)| {
                !conference
                    && (include_deleted || !r.deleted)
                    && call.is_none_or(|c| c == *ca)
                    && dates.iter().all(|(op, when)| when.matches(*op, r.start_ms))
            })
            .map(|(ca, r)| resources::recording(account, &ca, r, RecordingView::Account))
            .collect()
    };
    Ok(json_response(StatusCode::OK, &page::filtered("recordings", req.path, &query, &echoed, items)?))
}

/// `GET …/Recordings/{RE}.json` (a deleted one only with `IncludeSoftDeleted=true`).
pub(super) fn fetch(req: &Req<'_>, re: Sid) -> Result<Response, ApiError> {
    let query = req.query_form()?;
    req.strict_check(&query, &["IncludeSoftDeleted"], &[])?;
    let include_deleted = flag(&query, "IncludeSoftDeleted");
    let data = req.account.read();
    let (ca, r) = all_recordings(&data)
        .into_iter()
        .find(|(_, r)| r.sid == re.value() && (include_deleted || !r.deleted))
        .ok_or_else(|| ApiError::NotFound(req.path.to_owned()))?;
    let body = resources::recording(&req.account.sid, &ca, r, RecordingView::Account);
    drop(data);
    Ok(json_response(StatusCode::OK, &body))
}

/// `GET …/Recordings/{RE}` (`.wav`, `.mp3`): the audio of a completed recording, silence of its
/// length; a recording still running, deleted or unknown has none (404).
pub(super) fn media(req: &Req<'_>, re: Sid, format: MediaFormat) -> Result<Response, ApiError> {
    let data = req.account.read();
    let seconds = all_recordings(&data)
        .into_iter()
        .find(|(_, r)| r.sid == re.value() && !r.deleted && r.status == RecordingStatus::Completed)
        .map(|(_, r)| r.duration_s.unwrap_or(0))
        .ok_or_else(|| ApiError::NotFound(req.path.to_owned()))?;
    drop(data);
    let mut resp = (StatusCode::OK, format.silence(seconds)).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(format.content_type()));
    Ok(resp)
}

/// `DELETE …/Recordings/{RE}.json`.
pub(super) fn delete(req: &Req<'_>, re: Sid) -> Result<Response, ApiError> {
    let mut data = req.account.write();
    let data = &mut *data;
    let attached = data.calls.values_mut().flat_map(|c| c.recordings.iter_mut());
    let detached = data.detached_recordings.iter_mut().map(|d| &mut d.recording);
    let r = attached
        .chain(detached)
        .find(|r| r.sid == re.value() && !r.deleted)
        .ok_or_else(|| ApiError::NotFound(req.path.to_owned()))?;
    delete_recording(req, r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::RecordingStatus;
    use callspec_model::params::RecordingChannels;
    use callspec_model::recording::RecordingEventSet;

    fn recording(status: RecordingStatus, deleted: bool) -> Recording {
        let plan = RecordingPlan {
            channels: RecordingChannels::Mono,
            track: "both".into(),
            callback: None,
            events: RecordingEventSet::from_selected(&[]),
        };
        let mut r = Recording::start(&plan, SOURCE_START_CALL_RECORDING_API, 0);
        r.status = status;
        r.deleted = deleted;
        r
    }

    #[test]
    fn current_names_the_single_active_recording() {
        let done = recording(RecordingStatus::Completed, false);
        let live = recording(RecordingStatus::Paused, false);
        let list = vec![done.clone(), live.clone()];
        assert_eq!(find(&list, RecordingRef::Current, "/p").ok(), Some(1));
        assert_eq!(find(&list, RecordingRef::Sid(done.sid()), "/p").ok(), Some(0));
        assert!(matches!(find(std::slice::from_ref(&done), RecordingRef::Current, "/p"), Err(ApiError::NotFound(_))));
        let two = vec![live, recording(RecordingStatus::InProgress, false)];
        assert!(matches!(find(&two, RecordingRef::Current, "/p"), Err(ApiError::Twilio(e)) if e.code == 16108));
        let deleted = recording(RecordingStatus::Completed, true);
        assert!(find(std::slice::from_ref(&deleted), RecordingRef::Sid(deleted.sid()), "/p").is_err());
    }
}
