//! Twilio's REST error body: `code`, `message`, `more_info` and `status`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A Twilio REST API error, as sent in the body of a 4xx or 5xx response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwilioError {
    /// Twilio's error code, e.g. 21201.
    pub code: u32,
    /// A human-readable message.
    pub message: String,
    /// `https://www.twilio.com/docs/errors/{code}`.
    pub more_info: String,
    /// The HTTP status code of the response carrying this body.
    pub status: u16,
}

impl TwilioError {
    /// An error with `more_info` pointing at the code's documentation page.
    pub fn new(code: u32, status: u16, message: impl Into<String>) -> TwilioError {
        TwilioError { code, message: message.into(), more_info: more_info_url(code), status }
    }

    /// A 400 error, the status of every parameter validation failure.
    pub fn bad_request(code: u32, message: impl Into<String>) -> TwilioError {
        TwilioError::new(code, 400, message)
    }
}

/// The documentation URL Twilio puts in `more_info` for a code.
pub fn more_info_url(code: u32) -> String {
    format!("https://www.twilio.com/docs/errors/{code}")
}

impl fmt::Display for TwilioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.status, self.message)
    }
}

impl std::error::Error for TwilioError {}

/// The error codes callspec's model and emulator produce, named after what they mean.
///
/// Values come from Twilio's error dictionary (see `docs/reference/calls-api-facts.md#error-codes`).
pub mod code {
    /// The TwiML URL answered with an HTTP error status (a fallback request's `ErrorCode`).
    pub const HTTP_RETRIEVAL_FAILURE: u32 = 11200;
    /// The TwiML URL could not be reached in time (a fallback request's `ErrorCode`).
    pub const HTTP_CONNECTION_FAILURE: u32 = 11205;
    /// The TwiML URL's document is not valid TwiML (a fallback request's `ErrorCode`).
    pub const DOCUMENT_PARSE_FAILURE: u32 = 12100;
    /// A recording too short to keep: `absent`, with this `ErrorCode`.
    pub const RECORDING_TOO_SHORT: u32 = 16101;
    /// `Twilio.CURRENT` named a call with more than one active recording.
    pub const CONCURRENT_RECORDINGS: u32 = 16108;
    /// Authentication failed (HTTP 401).
    pub const AUTHENTICATION: u32 = 20003;
    /// The HTTP method is not allowed on the resource (HTTP 405).
    pub const METHOD_NOT_ALLOWED: u32 = 20004;
    /// The resource cannot be deleted before it is complete (a recording still running).
    pub const NOT_COMPLETE: u32 = 20009;
    /// The requested resource was not found (HTTP 404).
    pub const NOT_FOUND: u32 = 20404;
    /// Too many concurrent requests (HTTP 429).
    pub const TOO_MANY_REQUESTS: u32 = 20429;
    /// A parameter value is not valid and Twilio documents no more specific code.
    ///
    /// callspec's choice; Twilio's code for these cases is undocumented.
    pub const INVALID_PARAMETER: u32 = 21200;
    /// `To` is missing.
    pub const TO_MISSING: u32 = 21201;
    /// `Url` is missing (none of `Url`, `Twiml`, `ApplicationSid`) or not a valid URL.
    pub const URL_INVALID: u32 = 21205;
    /// `SendDigits` is not valid.
    pub const SEND_DIGITS_INVALID: u32 = 21206;
    /// `Timeout` is not valid.
    pub const TIMEOUT_INVALID: u32 = 21208;
    /// `Method` (or another `*Method`) is not GET or POST.
    pub const METHOD_INVALID: u32 = 21209;
    /// `From` is not a number of the account nor a verified caller ID.
    pub const FROM_NOT_VERIFIED: u32 = 21210;
    /// `To` is not a valid phone number, SIP address or client identifier.
    pub const TO_INVALID: u32 = 21211;
    /// `From` is not a valid caller ID for this call.
    pub const FROM_INVALID: u32 = 21212;
    /// `From` is missing.
    pub const FROM_MISSING: u32 = 21213;
    /// `To` is unreachable (test-credential magic number `+15005550002`).
    pub const TO_UNREACHABLE: u32 = 21214;
    /// Geographic permissions block `To` (magic number `+15005550003`).
    pub const TO_GEO_PERMISSION: u32 = 21215;
    /// `To` is on a block list (magic number `+15005550004`).
    pub const TO_BLOCKED: u32 = 21216;
    /// `To` does not appear valid (magic number `+15005550001`).
    pub const TO_NOT_VALID: u32 = 21217;
    /// `ApplicationSid` is invalid or not the account's.
    pub const APPLICATION_SID_INVALID: u32 = 21218;
    /// A trial account called an unverified number.
    pub const TRIAL_UNVERIFIED: u32 = 21219;
    /// The call is not in progress, so it cannot be redirected or updated that way.
    pub const CALL_NOT_IN_PROGRESS: u32 = 21220;
    /// An invalid answering-machine-detection value on create (`MachineDetection` or one of
    /// its tuning parameters out of range).
    pub const MACHINE_DETECTION_INVALID: u32 = 21234;
    /// `SipAuthUsername` is 256 characters or longer.
    pub const SIP_AUTH_USERNAME_TOO_LONG: u32 = 21221;
    /// `SipAuthPassword` is 256 characters or longer.
    pub const SIP_AUTH_PASSWORD_TOO_LONG: u32 = 21223;
    /// `SipAuthUsername` was sent without `SipAuthPassword`.
    pub const SIP_AUTH_PASSWORD_MISSING: u32 = 21225;
    /// `Byoc` is not a BYOC trunk SID of the account.
    pub const BYOC_INVALID: u32 = 21300;
    /// `PhoneNumber` is not a valid phone number (IncomingPhoneNumbers).
    pub const PHONE_NUMBER_INVALID: u32 = 21421;
    /// `PhoneNumber` is not available to buy (IncomingPhoneNumbers).
    pub const PHONE_NUMBER_UNAVAILABLE: u32 = 21422;
    /// A `PageToken` is invalid.
    pub const PAGE_TOKEN_INVALID: u32 = 21481;
    /// `StatusCallback` is not a valid URL (Twilio documents it for messaging).
    pub const STATUS_CALLBACK_INVALID: u32 = 21609;
    /// A `StatusCallbackEvent` value is invalid.
    pub const STATUS_CALLBACK_EVENT_INVALID: u32 = 21626;
}
