//! IncomingPhoneNumbers and Applications: create, list, fetch.

use super::page;
use super::{Req, refuse};
use crate::error::{ApiError, json_response};
use crate::resources;
use crate::state::{Application, PhoneNumber, now_ms};
use axum::http::StatusCode;
use axum::response::Response;
use callspec_model::endpoint::{formatted, is_e164};
use callspec_model::error::code;
use callspec_model::params::{APPLICATION_PARAMETERS, ApplicationParams};
use callspec_model::{Sid, SidKind};

/// Parameters `POST …/IncomingPhoneNumbers.json` accepts.
const NUMBER_PARAMETERS: &[&str] = &[
    "PhoneNumber",
    "AreaCode",
    "FriendlyName",
    "VoiceUrl",
    "VoiceMethod",
    "VoiceFallbackUrl",
    "VoiceFallbackMethod",
    "StatusCallback",
    "StatusCallbackMethod",
    "VoiceApplicationSid",
    "VoiceCallerIdLookup",
    "SmsUrl",
    "SmsMethod",
    "SmsFallbackUrl",
    "SmsFallbackMethod",
    "SmsApplicationSid",
    "ApiVersion",
    "AddressSid",
    "IdentitySid",
    "BundleSid",
    "EmergencyStatus",
    "EmergencyAddressSid",
    "TrunkSid",
    "VoiceReceiveMode",
];

/// `POST …/IncomingPhoneNumbers.json`: buys `PhoneNumber` (E.164) unless an account owns it.
pub(super) fn create_number(req: &Req<'_>) -> Result<Response, ApiError> {
    let form = req.form()?;
    req.strict_check(&form, NUMBER_PARAMETERS, &[])?;
    let number = form.get("PhoneNumber").unwrap_or("").trim().to_owned();
    if !is_e164(&number) {
        return Err(ApiError::bad_request(
            code::PHONE_NUMBER_INVALID,
            format!("PhoneNumber {number:?} is not a valid E.164 phone number"),
        ));
    }
    let taken = req.shared.all_accounts().iter().any(|a| a.read().numbers.iter().any(|n| n.phone_number == number));
    if taken {
        let message = format!("PhoneNumber {number} is not available");
        return Err(ApiError::bad_request(code::PHONE_NUMBER_UNAVAILABLE, message));
    }
    let friendly_name =
        form.get("FriendlyName").filter(|n| !n.trim().is_empty()).map_or_else(|| formatted(&number), str::to_owned);
    let record = PhoneNumber {
        sid: Sid::random(SidKind::PhoneNumber).value(),
        phone_number: number,
        friendly_name,
        created_ms: now_ms(),
    };
    let body = resources::phone_number(&req.account.sid, &record);
    req.account.write().numbers.push(record);
    Ok(json_response(StatusCode::CREATED, &body))
}

/// `GET …/IncomingPhoneNumbers.json`, filtered by `PhoneNumber` / `FriendlyName` when given.
pub(super) fn list_numbers(req: &Req<'_>) -> Result<Response, ApiError> {
    let query = req.query_form()?;
    req.strict_check(&query, &["PageSize", "Page", "PhoneNumber", "FriendlyName", "Beta", "Origin"], &[])?;
    let items = req
        .account
        .read()
        .numbers
        .iter()
        .filter(|n| query.get("PhoneNumber").is_none_or(|p| n.phone_number == p))
        .filter(|n| query.get("FriendlyName").is_none_or(|f| n.friendly_name == f))
        .map(|n| resources::phone_number(&req.account.sid, n))
        .collect();
    Ok(json_response(StatusCode::OK, &page::simple("incoming_phone_numbers", req.path, &query, items)?))
}

/// `GET …/IncomingPhoneNumbers/{Sid}.json`.
pub(super) fn fetch_number(req: &Req<'_>, pn: Sid) -> Result<Response, ApiError> {
    let data = req.account.read();
    let n = data.numbers.iter().find(|n| n.sid == pn.value()).ok_or_else(|| ApiError::NotFound(req.path.to_owned()))?;
    Ok(json_response(StatusCode::OK, &resources::phone_number(&req.account.sid, n)))
}

/// `POST …/Applications.json`: the voice configuration validated by the model.
pub(super) fn create_application(req: &Req<'_>) -> Result<Response, ApiError> {
    let form = req.form()?;
    req.strict_check(&form, APPLICATION_PARAMETERS, &[])?;
    let params = ApplicationParams::parse(&form).into_result().map_err(|v| refuse(req.shared.faults, req.path, v))?;
    let app = Application::new(params, now_ms());
    let body = resources::application(&req.account.sid, &app);
    req.account.write().applications.push(app);
    Ok(json_response(StatusCode::CREATED, &body))
}

/// `GET …/Applications.json`, filtered by `FriendlyName` when given.
pub(super) fn list_applications(req: &Req<'_>) -> Result<Response, ApiError> {
    let query = req.query_form()?;
    req.strict_check(&query, &["PageSize", "Page", "FriendlyName"], &[])?;
    let items = req
        .account
        .read()
        .applications
        .iter()
        .filter(|a| query.get("FriendlyName").is_none_or(|f| a.friendly_name == f))
        .map(|a| resources::application(&req.account.sid, a))
        .collect();
    Ok(json_response(StatusCode::OK, &page::simple("applications", req.path, &query, items)?))
}

/// `GET …/Applications/{Sid}.json`.
pub(super) fn fetch_application(req: &Req<'_>, ap: Sid) -> Result<Response, ApiError> {
    let data = req.account.read();
    let a = data
        .applications
        .iter()
        .find(|a| a.sid == ap.value())
        .ok_or_else(|| ApiError::NotFound(req.path.to_owned()))?;
    Ok(json_response(StatusCode::OK, &resources::application(&req.account.sid, a)))
}
