//! callspec's model of Twilio's Programmable Voice Calls API: the Call resource, its
//! statuses and events, SIDs, endpoints, RFC 2822 dates, request parameters and their
//! validation, callback parameter sets, and `X-Twilio-Signature`.
//!
//! This crate does no I/O: no network, no files, no clock it reads by itself. The emulator
//! uses it to behave like Twilio and the conformance runner uses it to read what a target
//! sends. It never decides what the suite expects: fixture expectations are literals.
//!
//! - [`amd`]: answering machine detection: its modes, the `AnsweredBy` values, the tuning
//!   ranges and the async AMD callback's parameters.
//! - [`call`]: the `Call` JSON and the list page envelope.
//! - [`status`]: `CallStatus`, its transitions, `StatusCallbackEvent` and the set a call
//!   subscribes to.
//! - [`sid`]: `CA…`, `AC…` and the other SIDs.
//! - [`endpoint`]: E.164 numbers, `sip:`, `client:` and caller names; display formatting.
//! - [`form`]: form-encoded pairs with repeated keys.
//! - [`params`]: `CreateCallParams`, `UpdateCallParams`, `ApplicationParams`: parsed into the
//!   value and every violation (each a Twilio error and a typed problem), encoded back.
//! - [`recording`]: recording channels and events, the recording facts (source, media URL).
//! - [`billing`]: billed minutes, price and price unit of an answered call.
//! - [`error`]: the Twilio error body and the codes used.
//! - [`rfc2822`]: `Tue, 31 Aug 2010 20:36:28 +0000`.
//! - [`callback`]: TwiML-request, status-callback and recording-callback parameters, and the
//!   SIP response code of a terminal callback.
//! - [`signature`]: the signed URL, computing and validating `X-Twilio-Signature`.
//!
//! Unit tests sit next to the code; the data-driven validation and signature tests are in
//! `tests/model.rs`.

pub mod amd;
pub mod billing;
pub mod call;
pub mod callback;
pub mod endpoint;
pub mod error;
pub mod exchange;
pub mod form;
pub mod params;
pub mod recording;
pub mod rfc2822;
pub mod sid;
pub mod signature;
pub mod status;

pub use call::{Call, CallPage, SubresourceUris};
pub use endpoint::Endpoint;
pub use error::TwilioError;
pub use exchange::Exchange;
pub use form::Form;
pub use params::{AccountDirectory, ApplicationParams, CreateCallParams, Parsed, UpdateCallParams, Violation};
pub use sid::{Sid, SidKind};
pub use status::{CallStatus, StatusCallbackEvent, StatusEventSet};
