//! JSON rendering of stored resources: calls (as `model::Call`, as the faults and variance in
//! effect shape it), recordings, phone numbers, applications and accounts, plus the page
//! envelope of the simple lists.

use crate::error::json_response;
use crate::fault::FaultSet;
use crate::policy;
use crate::state::{Account, Application, CallRecord, PhoneNumber, Recording, RecordingStatus, Shared};
use crate::variance::Variance;
use axum::http::StatusCode;
use axum::response::Response;
use callspec_model::billing::{self, PRICE_UNIT};
use callspec_model::call::{API_VERSION, Call, SubresourceUris, call_uri};
use callspec_model::error::code;
use callspec_model::recording::{call_recording_uri, media_url, recording_uri};
use callspec_model::rfc2822::format_unix_ms as rfc2822_ms;
use callspec_model::{Sid, SidKind};
use serde_json::{Value, json};

/// A stored call as the `Call` resource (field values as the faults in effect decide; see
/// `policy::reshape_call` for the faults that change its shape).
pub(crate) fn call(faults: FaultSet, account: &Sid, rec: &CallRecord) -> Call {
    let sid = rec.sid();
    let date = |ms: i64| policy::resource_date(faults, ms);
    Call {
        account_sid: Some(account.to_string()),
        answered_by: rec.answered_by.map(|a| a.as_str().to_owned()),
        api_version: Some(API_VERSION.to_owned()),
        caller_name: None,
        date_created: Some(date(rec.created_ms)),
        date_updated: Some(date(rec.updated_ms)),
        direction: Some(policy::call_direction(faults, rec.parent.is_some()).to_owned()),
        duration: rec.duration_s.map(|d| policy::resource_duration(faults, d).to_string()),
        end_time: rec.end_ms.map(date),
        forwarded_from: None,
        from: Some(rec.from.to_string()),
        from_formatted: Some(policy::formatted(faults, &rec.from)),
        group_sid: None,
        parent_call_sid: rec.parent.map(|p| Sid::from_parts(SidKind::Call, p).to_string()),
        phone_number_sid: rec.phone_number_sid.map(|v| Sid::from_parts(SidKind::PhoneNumber, v).to_string()),
        price: rec.price_units.map(billing::price_text),
        price_unit: Some(PRICE_UNIT.to_owned()),
        sid: Some(policy::resource_call_sid(faults, sid.to_string())),
        start_time: rec.start_ms.map(date),
        status: rec.status,
        subresource_uris: Some(SubresourceUris::for_call(account, &sid)),
        to: Some(rec.to.to_string()),
        to_formatted: Some(policy::formatted(faults, &rec.to)),
        trunk_sid: None,
        uri: Some(call_uri(account, &sid)),
        queue_time: Some(policy::queue_time(faults, rec.queue_time_ms)),
    }
}

/// A Call resource ready to answer with: built under the account's lock, serialized after.
#[allow(clippy::large_enum_variant, reason = "built and consumed at once, never stored; no allocation")]
pub(crate) enum CallBody {
    /// The typed resource (no fault changes its shape).
    Typed(Call),
    /// The resource as JSON, reshaped by a fault.
    Reshaped(Value),
}

impl CallBody {
    /// A JSON response with the resource.
    pub(crate) fn respond(self, status: StatusCode) -> Response {
        match self {
            CallBody::Typed(call) => json_response(status, &call),
            CallBody::Reshaped(value) => json_response(status, &value),
        }
    }

    /// The resource as a JSON value (a list item).
    pub(crate) fn into_value(self) -> Value {
        match self {
            CallBody::Typed(call) => serde_json::to_value(call).unwrap_or_default(),
            CallBody::Reshaped(value) => value,
        }
    }
}

/// Which answer a Call JSON is part of: variance mode treats a create's 201 body and a fetch
/// apart from the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum View {
    /// The 201 body of a create.
    Create,
    /// `GET …/Calls/{Sid}.json`.
    Fetch,
    /// An update's answer, a list item.
    Other,
}

/// A stored call as answered in `view`: [`call`], with the values variance mode varies, reshaped
/// by the faults that change its shape and by the fields variance adds.
pub(crate) fn call_body(shared: &Shared, view: View, account: &Sid, rec: &CallRecord) -> CallBody {
    let (faults, variance) = (shared.faults, shared.variance);
    let mut call = call(faults, account, rec);
    vary(variance, view, rec.variance_key, &mut call);
    if let Some(result) = rec.answered_by.filter(|_| variance.coarse_answered_by(rec.variance_key)) {
        call.answered_by = Some(result.coarse().to_owned());
    }
    if !policy::reshapes_call(faults) && !variance.adds_fields(rec.variance_key) {
        return CallBody::Typed(call);
    }
    let mut value = serde_json::to_value(call).unwrap_or_default();
    policy::reshape_call(faults, &mut value);
    variance.add_fields(rec.variance_key, &mut value);
    CallBody::Reshaped(value)
}

/// The values of the Call JSON variance mode varies for the call keyed `key`, in `view`: null
/// dates and `queue_time` `"0"` at create, `""` for an empty `trunk_sid` and `caller_name` on a
/// fetch.
fn vary(variance: Variance, view: View, key: u64, call: &mut Call) {
    match view {
        View::Create => {
            if variance.null_dates_at_create(key) {
                (call.date_created, call.date_updated) = (None, None);
            }
            if variance.queue_time_zero_at_create(key) {
                call.queue_time = Some("0".to_owned());
            }
        }
        View::Fetch if variance.empty_strings_on_fetch(key) => {
            call.trunk_sid.get_or_insert_with(String::new);
            call.caller_name.get_or_insert_with(String::new);
        }
        View::Fetch | View::Other => {}
    }
}

/// Which form of the Recording resource to render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RecordingView {
    /// Read through the call (`…/Calls/{CA}/Recordings…`): `track`, no `media_url` or
    /// `subresource_uris`, `uri` under the call.
    Call,
    /// The answer of a `Status=stopped` update, through the call: `status` `stopped`.
    Stopped,
    /// Read through the account (`…/Recordings…`): `media_url` and `subresource_uris`, `uri`
    /// under the account.
    Account,
}

/// A call's recording as the Recording resource, in `view`'s form. `duration` is null while
/// the recording runs (`"-1"` when variance mode varied it); a soft-deleted one shows `status`
/// `deleted`.
pub(crate) fn recording(account: &Sid, call: &Sid, r: &Recording, view: RecordingView) -> Value {
    let sid = r.sid();
    let duration = match (r.status.is_active(), r.varied) {
        (true, false) => Value::Null,
        (true, true) => json!("-1"),
        (false, _) => json!(r.duration_s.unwrap_or(0).to_string()),
    };
    let status = match view {
        _ if r.deleted => "deleted",
        RecordingView::Stopped => "stopped",
        RecordingView::Call | RecordingView::Account => r.status.as_str(),
    };
    let mut value = json!({
        "account_sid": account.to_string(),
        "api_version": API_VERSION,
        "call_sid": call.to_string(),
        "conference_sid": null,
        "date_created": rfc2822_ms(r.start_ms),
        "date_updated": rfc2822_ms(r.updated_ms),
        "start_time": rfc2822_ms(r.start_ms),
        "duration": duration,
        "sid": sid.to_string(),
        "price": null,
        "price_unit": PRICE_UNIT,
        "status": status,
        "channels": r.channels.count(),
        "source": r.source,
        "error_code": if r.status == RecordingStatus::Absent { json!(code::RECORDING_TOO_SHORT) } else { Value::Null },
        "encryption_details": null,
    });
    if view == RecordingView::Account {
        let base = format!("/{API_VERSION}/Accounts/{account}/Recordings/{sid}");
        value["media_url"] = json!(media_url(account, &sid));
        value["uri"] = json!(recording_uri(account, &sid));
        value["subresource_uris"] = json!({
            "add_on_results": format!("{base}/AddOnResults.json"),
            "transcriptions": format!("{base}/Transcriptions.json"),
        });
    } else {
        value["track"] = json!(r.track.as_ref());
        value["uri"] = json!(call_recording_uri(account, call, &sid));
    }
    value
}

/// An IncomingPhoneNumber resource.
pub(crate) fn phone_number(account: &Sid, n: &PhoneNumber) -> Value {
    let sid = Sid::from_parts(SidKind::PhoneNumber, n.sid);
    json!({
        "account_sid": account.to_string(),
        "address_requirements": "none",
        "api_version": API_VERSION,
        "beta": false,
        "capabilities": { "voice": true, "sms": true, "mms": true, "fax": false },
        "date_created": rfc2822_ms(n.created_ms),
        "date_updated": rfc2822_ms(n.created_ms),
        "emergency_status": "Inactive",
        "friendly_name": n.friendly_name,
        "identity_sid": null,
        "origin": "twilio",
        "phone_number": n.phone_number,
        "sid": sid.to_string(),
        "sms_application_sid": null,
        "sms_fallback_method": "POST",
        "sms_fallback_url": null,
        "sms_method": "POST",
        "sms_url": null,
        "status": "in-use",
        "status_callback": null,
        "status_callback_method": "POST",
        "trunk_sid": null,
        "uri": format!("/{API_VERSION}/Accounts/{account}/IncomingPhoneNumbers/{sid}.json"),
        "voice_application_sid": null,
        "voice_caller_id_lookup": false,
        "voice_fallback_method": "POST",
        "voice_fallback_url": null,
        "voice_method": "POST",
        "voice_url": null,
    })
}

/// An Application resource.
pub(crate) fn application(account: &Sid, a: &Application) -> Value {
    let sid = Sid::from_parts(SidKind::Application, a.sid);
    json!({
        "account_sid": account.to_string(),
        "api_version": API_VERSION,
        "date_created": rfc2822_ms(a.created_ms),
        "date_updated": rfc2822_ms(a.created_ms),
        "friendly_name": a.friendly_name,
        "message_status_callback": null,
        "public_application_connect_enabled": false,
        "sid": sid.to_string(),
        "sms_fallback_method": "POST",
        "sms_fallback_url": null,
        "sms_method": "POST",
        "sms_status_callback": null,
        "sms_url": null,
        "status_callback": a.status_callback,
        "status_callback_method": a.status_callback_method.as_str(),
        "uri": format!("/{API_VERSION}/Accounts/{account}/Applications/{sid}.json"),
        "voice_caller_id_lookup": false,
        "voice_fallback_method": a.voice_fallback_method.as_str(),
        "voice_fallback_url": a.voice_fallback_url,
        "voice_method": a.voice_method.as_str(),
        "voice_url": a.voice_url,
    })
}

/// An Account resource. `type` is `Trial` for trial accounts and their subaccounts.
pub(crate) fn account(a: &Account) -> Value {
    let sid = a.sid.to_string();
    let base = format!("/{API_VERSION}/Accounts/{sid}");
    json!({
        "auth_token": a.auth_token.as_ref(),
        "date_created": rfc2822_ms(a.created_ms),
        "date_updated": rfc2822_ms(a.created_ms),
        "friendly_name": a.friendly_name,
        "owner_account_sid": a.owner.unwrap_or(a.sid).to_string(),
        "sid": sid,
        "status": "active",
        "subresource_uris": {
            "applications": format!("{base}/Applications.json"),
            "calls": format!("{base}/Calls.json"),
            "incoming_phone_numbers": format!("{base}/IncomingPhoneNumbers.json"),
            "recordings": format!("{base}/Recordings.json"),
        },
        "type": if a.trial { "Trial" } else { "Full" },
        "uri": format!("{base}.json"),
    })
}
