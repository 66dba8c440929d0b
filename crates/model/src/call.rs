//! The Call resource as Twilio serializes it, and its list page envelope.

use crate::sid::{Sid, SidError, SidKind};
use crate::status::CallStatus;
use serde::{Deserialize, Serialize};

/// The API version every Calls resource carries.
pub const API_VERSION: &str = "2010-04-01";

/// `direction` (and a callback's `Direction`) of a call created through the REST API.
pub const DIRECTION_OUTBOUND_API: &str = "outbound-api";

/// `direction` (and a callback's `Direction`) of a call leg created by `<Dial>`
/// (`docs/reference/calls-api-facts.md#dial-child-calls`).
pub const DIRECTION_OUTBOUND_DIAL: &str = "outbound-dial";

/// A Call resource: the 26 fields of the docs' example output, in its order.
///
/// Values are kept as Twilio sends them (strings, `null`s kept), so a body round-trips
/// exactly; typed views are methods. `duration`, `price` and `queue_time` are strings. Every
/// key is required: a `null` is a value, a missing key is an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Call {
    /// `AC…` of the owning account.
    #[serde(deserialize_with = "Option::deserialize")]
    pub account_sid: Option<String>,
    /// Set by answering-machine detection.
    #[serde(deserialize_with = "Option::deserialize")]
    pub answered_by: Option<String>,
    /// Always `2010-04-01`.
    #[serde(deserialize_with = "Option::deserialize")]
    pub api_version: Option<String>,
    /// Caller ID lookup result.
    #[serde(deserialize_with = "Option::deserialize")]
    pub caller_name: Option<String>,
    /// RFC 2822.
    #[serde(deserialize_with = "Option::deserialize")]
    pub date_created: Option<String>,
    /// RFC 2822.
    #[serde(deserialize_with = "Option::deserialize")]
    pub date_updated: Option<String>,
    /// `outbound-api` for calls created through the REST API.
    #[serde(deserialize_with = "Option::deserialize")]
    pub direction: Option<String>,
    /// Seconds, as a string; null until the call ends.
    #[serde(deserialize_with = "Option::deserialize")]
    pub duration: Option<String>,
    /// RFC 2822; null until the call ends.
    #[serde(deserialize_with = "Option::deserialize")]
    pub end_time: Option<String>,
    /// Forwarding number, when the carrier supplies it.
    #[serde(deserialize_with = "Option::deserialize")]
    pub forwarded_from: Option<String>,
    /// The caller.
    #[serde(deserialize_with = "Option::deserialize")]
    pub from: Option<String>,
    /// The caller for display.
    #[serde(deserialize_with = "Option::deserialize")]
    pub from_formatted: Option<String>,
    /// `GP…`.
    #[serde(deserialize_with = "Option::deserialize")]
    pub group_sid: Option<String>,
    /// `CA…` of the parent leg.
    #[serde(deserialize_with = "Option::deserialize")]
    pub parent_call_sid: Option<String>,
    /// `PN…` of the From number.
    #[serde(deserialize_with = "Option::deserialize")]
    pub phone_number_sid: Option<String>,
    /// Negative decimal string, e.g. `-0.03000`.
    #[serde(deserialize_with = "Option::deserialize")]
    pub price: Option<String>,
    /// ISO 4217, e.g. `USD`.
    #[serde(deserialize_with = "Option::deserialize")]
    pub price_unit: Option<String>,
    /// `CA…`.
    #[serde(deserialize_with = "Option::deserialize")]
    pub sid: Option<String>,
    /// RFC 2822; null until the call leaves the queue.
    #[serde(deserialize_with = "Option::deserialize")]
    pub start_time: Option<String>,
    /// The call's status.
    pub status: CallStatus,
    /// Links to the call's subresources.
    #[serde(deserialize_with = "Option::deserialize")]
    pub subresource_uris: Option<SubresourceUris>,
    /// The callee.
    #[serde(deserialize_with = "Option::deserialize")]
    pub to: Option<String>,
    /// The callee for display.
    #[serde(deserialize_with = "Option::deserialize")]
    pub to_formatted: Option<String>,
    /// `TK…`.
    #[serde(deserialize_with = "Option::deserialize")]
    pub trunk_sid: Option<String>,
    /// `/2010-04-01/Accounts/{AC}/Calls/{CA}.json`.
    #[serde(deserialize_with = "Option::deserialize")]
    pub uri: Option<String>,
    /// Milliseconds the call waited in the queue, as a string.
    #[serde(deserialize_with = "Option::deserialize")]
    pub queue_time: Option<String>,
}

/// The `subresource_uris` object: nine links under the call's URI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubresourceUris {
    /// `…/Notifications.json`.
    pub notifications: String,
    /// `…/Recordings.json`.
    pub recordings: String,
    /// `…/Payments.json`.
    pub payments: String,
    /// `…/Events.json`.
    pub events: String,
    /// `…/Siprec.json`.
    pub siprec: String,
    /// `…/Streams.json`.
    pub streams: String,
    /// `…/Transcriptions.json`; absent from the docs' example outputs, listed by the API spec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcriptions: Option<String>,
    /// `…/UserDefinedMessageSubscriptions.json`.
    pub user_defined_message_subscriptions: String,
    /// `…/UserDefinedMessages.json`.
    pub user_defined_messages: String,
}

impl SubresourceUris {
    /// The nine links of a call, all under `/2010-04-01/Accounts/{account}/Calls/{call}/`.
    pub fn for_call(account: &Sid, call: &Sid) -> SubresourceUris {
        let base = format!("/{API_VERSION}/Accounts/{account}/Calls/{call}");
        let link = |name: &str| format!("{base}/{name}.json");
        SubresourceUris {
            notifications: link("Notifications"),
            recordings: link("Recordings"),
            payments: link("Payments"),
            events: link("Events"),
            siprec: link("Siprec"),
            streams: link("Streams"),
            transcriptions: Some(link("Transcriptions")),
            user_defined_message_subscriptions: link("UserDefinedMessageSubscriptions"),
            user_defined_messages: link("UserDefinedMessages"),
        }
    }
}

/// The relative URI of a call: `/2010-04-01/Accounts/{account}/Calls/{call}.json`.
pub fn call_uri(account: &Sid, call: &Sid) -> String {
    format!("/{API_VERSION}/Accounts/{account}/Calls/{call}.json")
}

impl Call {
    /// The call's SID, parsed.
    pub fn sid(&self) -> Result<Sid, SidError> {
        Sid::parse_kind(self.sid.as_deref().unwrap_or(""), SidKind::Call)
    }

    /// The account's SID, parsed.
    pub fn account_sid(&self) -> Result<Sid, SidError> {
        Sid::parse_kind(self.account_sid.as_deref().unwrap_or(""), SidKind::Account)
    }
}

/// One page of `GET …/Calls.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallPage {
    /// The calls on this page, newest first.
    pub calls: Vec<Call>,
    /// Zero-based page number.
    pub page: u64,
    /// Calls per page.
    pub page_size: u64,
    /// Index of the first call on this page.
    pub start: u64,
    /// Index of the last call on this page; 0 on an empty page.
    pub end: u64,
    /// This page's URI.
    pub uri: String,
    /// The first page's URI.
    pub first_page_uri: String,
    /// The next page's URI, null on the last page.
    pub next_page_uri: Option<String>,
    /// The previous page's URI, null on the first page.
    pub previous_page_uri: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subresource_links_sit_under_the_call() {
        let account = Sid::from_parts(SidKind::Account, 1);
        let call = Sid::from_parts(SidKind::Call, 2);
        let links = SubresourceUris::for_call(&account, &call);
        assert_eq!(
            links.recordings,
            "/2010-04-01/Accounts/AC00000000000000000000000000000001/Calls/CA00000000000000000000000000000002/Recordings.json"
        );
        assert_eq!(
            call_uri(&account, &call),
            "/2010-04-01/Accounts/AC00000000000000000000000000000001/Calls/CA00000000000000000000000000000002.json"
        );
    }
}
