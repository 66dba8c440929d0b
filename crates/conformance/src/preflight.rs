//! The preflight: before any case, one authenticated request proves that the target is up,
//! speaks HTTP on the Calls path and accepts the profile's credentials. A run that cannot pass
//! it stops with exit code 2 and one sentence, instead of a page of FAILs (or, with a baseline,
//! a green gate on a dead target).
//!
//! The bar is low enough for every honest target: a stateless mock answers the list request;
//! Twilio's test credentials may refuse the list (they allow only creates), so a create with an
//! invalid `To` follows, which proves the credentials by a 400 without placing a call.

use crate::client::{Client, ClientError, Outgoing};
use crate::matcher::shorten;
use crate::profile::Account;

/// Why the target cannot be tested.
#[derive(Debug, thiserror::Error)]
pub enum PreflightError {
    /// No HTTP exchange: refused, reset, timed out, not HTTP.
    #[error("the target at {url} cannot be reached: {source}")]
    Unreachable {
        /// The URL asked.
        url: String,
        /// What the client saw.
        source: ClientError,
    },
    /// The target refused the profile's credentials.
    #[error(
        "the target at {url} refused the profile's credentials for {account} (HTTP {status}); check account_sid and auth_token (or TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN)"
    )]
    Refused {
        /// The URL asked.
        url: String,
        /// The account SID used.
        account: String,
        /// The status it answered.
        status: u16,
    },
    /// The target answers, but not as a Calls API (no such path, a server error, not JSON).
    #[error("the target at {url} does not serve the Calls API there: HTTP {status} {body}")]
    NotCallsApi {
        /// The URL asked.
        url: String,
        /// The status it answered.
        status: u16,
        /// The start of its body.
        body: String,
    },
}

/// What the preflight learned, for the run's header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preflight {
    /// The request that proved the target (`GET …/Calls.json?PageSize=1`, or the create probe).
    pub proved_by: String,
    /// The status it answered.
    pub status: u16,
}

fn basic(account: &Account) -> Option<(String, String)> {
    Some((account.sid.clone(), account.token.clone()))
}

/// Whether a status refuses the credentials (403 is what Twilio answers test credentials on a
/// list, so it is not a refusal by itself).
fn refuses(status: u16) -> bool {
    status == 401
}

/// Whether the answer looks like a Calls API at all: any status but 404 and 5xx. The body is the
/// cases' business (a wrong content type is a FAIL of T-JSON-1, not a reason to test nothing).
fn looks_like_calls_api(status: u16) -> bool {
    status != 404 && status < 500
}

/// Runs the preflight against `base_url` with the main account.
pub async fn check(client: &Client, base_url: &str, account: &Account) -> Result<Preflight, PreflightError> {
    let calls = format!("{}/2010-04-01/Accounts/{}/Calls.json", base_url.trim_end_matches('/'), account.sid);
    let list = Outgoing { method: "GET".into(), url: format!("{calls}?PageSize=1"), basic: basic(account), body: None };
    let resp =
        client.send(&list).await.map_err(|source| PreflightError::Unreachable { url: list.url.clone(), source })?;
    if refuses(resp.status) {
        return Err(PreflightError::Refused { url: list.url, account: account.sid.clone(), status: resp.status });
    }
    if (200..300).contains(&resp.status) {
        return Ok(Preflight { proved_by: format!("GET {}", list.url), status: resp.status });
    }
    // Test credentials can only create: a create that must be refused for its `To` proves them.
    let form = "To=not-a-number&From=%2B15005550006&Url=http%3A%2F%2Fdemo.twilio.com%2Fdocs%2Fvoice.xml";
    let body = Some(("application/x-www-form-urlencoded".to_owned(), form.as_bytes().to_vec()));
    let create = Outgoing { method: "POST".into(), url: calls, basic: basic(account), body };
    let probe =
        client.send(&create).await.map_err(|source| PreflightError::Unreachable { url: create.url.clone(), source })?;
    if refuses(probe.status) || probe.status == 403 {
        return Err(PreflightError::Refused { url: create.url, account: account.sid.clone(), status: probe.status });
    }
    if looks_like_calls_api(probe.status) {
        return Ok(Preflight { proved_by: format!("POST {} with an invalid To", create.url), status: probe.status });
    }
    Err(PreflightError::NotCallsApi {
        url: list.url,
        status: resp.status,
        body: shorten(&String::from_utf8_lossy(&resp.body), 200),
    })
}
