//! The Call resource as Twilio serializes it, and its list page envelope.

use crate::sid::{Sid, SidError, SidKind};
use crate::status::CallStatus;
use serde::{Deserialize, Serialize};

/// The API version every Calls resource carries.
pub const API_VERSION: &str = "2010-04-01";

/// A Call resource: the 26 fields of the docs' example output, in its order.
///
/// Values are kept as Twilio sends them (strings, `null`s kept), so a body round-trips
/// exactly; typed views are methods. `duration`, `price` and `queue_time` are strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Call {
    /// `AC…` of the owning account.
    pub account_sid: Option<String>,
    /// Set by answering-machine detection.
    pub answered_by: Option<String>,
    /// Always `2010-04-01`.
    pub api_version: Option<String>,
    /// Caller ID lookup result.
    pub caller_name: Option<String>,
    /// RFC 2822.
    pub date_created: Option<String>,
    /// RFC 2822.
    pub date_updated: Option<String>,
    /// `outbound-api` for calls created through the REST API.
    pub direction: Option<String>,
    /// Seconds, as a string; null until the call ends.
    pub duration: Option<String>,
    /// RFC 2822; null until the call ends.
    pub end_time: Option<String>,
    /// Forwarding number, when the carrier supplies it.
    pub forwarded_from: Option<String>,
    /// The caller.
    pub from: Option<String>,
    /// The caller for display.
    pub from_formatted: Option<String>,
    /// `GP…`.
    pub group_sid: Option<String>,
    /// `CA…` of the parent leg.
    pub parent_call_sid: Option<String>,
    /// `PN…` of the From number.
    pub phone_number_sid: Option<String>,
    /// Negative decimal string, e.g. `-0.03000`.
    pub price: Option<String>,
    /// ISO 4217, e.g. `USD`.
    pub price_unit: Option<String>,
    /// `CA…`.
    pub sid: Option<String>,
    /// RFC 2822; null until the call leaves the queue.
    pub start_time: Option<String>,
    /// The call's status.
    pub status: CallStatus,
    /// Links to the call's subresources.
    pub subresource_uris: Option<SubresourceUris>,
    /// The callee.
    pub to: Option<String>,
    /// The callee for display.
    pub to_formatted: Option<String>,
    /// `TK…`.
    pub trunk_sid: Option<String>,
    /// `/2010-04-01/Accounts/{AC}/Calls/{CA}.json`.
    pub uri: Option<String>,
    /// Milliseconds the call waited in the queue, as a string.
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
