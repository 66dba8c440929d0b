//! Accounts: create a subaccount (`POST /Accounts.json`), list, fetch.
//!
//! Only a top-level account may create subaccounts (a subaccount gets 403 / 20403). A
//! subaccount is `Trial` under a trial parent and starts with its parent's verified caller
//! IDs but no phone numbers.

use super::Req;
use super::page;
use crate::accounts;
use crate::error::{ApiError, json_response};
use crate::resources;
use axum::http::StatusCode;
use axum::response::Response;
use callspec_model::TwilioError;

/// `POST /2010-04-01/Accounts.json`.
pub(super) fn create(req: &Req<'_>) -> Result<Response, ApiError> {
    let form = req.form()?;
    req.strict_check(&form, &["FriendlyName"], &[])?;
    if req.caller.owner.is_some() {
        return Err(ApiError::Twilio(TwilioError::new(20403, 403, "A subaccount cannot create subaccounts")));
    }
    let name = form.get("FriendlyName").filter(|n| !n.trim().is_empty()).map(str::to_owned);
    let account = accounts::create_subaccount(req.shared, &req.caller, name);
    Ok(json_response(StatusCode::CREATED, &resources::account(&account)))
}

/// `GET /2010-04-01/Accounts.json`: the caller and its subaccounts, oldest first.
pub(super) fn list(req: &Req<'_>) -> Result<Response, ApiError> {
    let query = req.query_form()?;
    req.strict_check(&query, &["PageSize", "Page", "FriendlyName", "Status"], &[])?;
    let mut mine: Vec<_> = req
        .shared
        .all_accounts()
        .into_iter()
        .filter(|a| a.sid == req.caller.sid || a.owner == Some(req.caller.sid))
        .filter(|a| query.get("FriendlyName").is_none_or(|n| a.friendly_name == n))
        .collect();
    mine.sort_by_key(|a| (a.created_ms, a.sid));
    let items = mine.iter().map(|a| resources::account(a)).collect();
    Ok(json_response(StatusCode::OK, &page::simple("accounts", req.path, &query, items)?))
}

/// `GET /2010-04-01/Accounts/{Sid}.json`.
pub(super) fn fetch(req: &Req<'_>) -> Result<Response, ApiError> {
    Ok(json_response(StatusCode::OK, &resources::account(&req.account)))
}
