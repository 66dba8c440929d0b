//! HTTP Basic authentication (Account SID / auth token) and which paths a caller may use.
//!
//! A caller may act on its own account and on its subaccounts. Any other account's path,
//! existing or not, answers 401 / 20003 like wrong credentials do.

use crate::error::ApiError;
use crate::state::{Account, Shared};
use axum::http::{HeaderMap, header};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use callspec_model::{Sid, SidKind};
use std::sync::Arc;

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The account whose valid credentials the request carries.
pub(super) fn authenticate(shared: &Shared, headers: &HeaderMap) -> Result<Arc<Account>, ApiError> {
    let value = headers.get(header::AUTHORIZATION).ok_or(ApiError::Unauthenticated)?;
    let value = value.to_str().map_err(|_| ApiError::Unauthenticated)?.trim();
    let (scheme, encoded) = value.split_once(' ').ok_or(ApiError::Unauthenticated)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(ApiError::Unauthenticated);
    }
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| ApiError::Unauthenticated)?;
    let text = String::from_utf8(decoded).map_err(|_| ApiError::Unauthenticated)?;
    let (user, password) = text.split_once(':').ok_or(ApiError::Unauthenticated)?;
    let sid = Sid::parse_kind(user, SidKind::Account).map_err(|_| ApiError::Unauthenticated)?;
    let account = shared.account(&sid).ok_or(ApiError::Unauthenticated)?;
    if !constant_time_eq(password.as_bytes(), account.auth_token.as_bytes()) {
        return Err(ApiError::Unauthenticated);
    }
    Ok(account)
}

/// The account a path names, if the caller may act on it: itself or one of its subaccounts.
/// `call_instance`: the path is a call's URI (`…/Calls/{Sid}.json`).
pub(super) fn authorize(
    shared: &Shared,
    caller: &Arc<Account>,
    target: &Sid,
    call_instance: bool,
) -> Result<Arc<Account>, ApiError> {
    if caller.sid == *target {
        return Ok(caller.clone());
    }
    match shared.account(target) {
        Some(account)
            if crate::policy::may_use_account(shared.faults, account.owner == Some(caller.sid), call_instance) =>
        {
            Ok(account)
        }
        _ => Err(ApiError::Unauthenticated),
    }
}
