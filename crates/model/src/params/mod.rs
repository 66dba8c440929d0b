//! Request parameters of the Calls and Applications resources: parsed from form pairs into a
//! value and every violation, and encoded back.
//!
//! A parse never stops at the first problem and never drops the input: [`Parsed`] holds the
//! value read (a value that fails its check is kept as sent where the field can hold it, and
//! left at its default otherwise) and every [`Violation`], each a Twilio error with the
//! parameter it concerns and the kind of [`Problem`]. A server refuses a request with any
//! violation; checks that need the account (its numbers, verified caller IDs, trial status,
//! applications) go through [`AccountDirectory`].

mod amd;
mod application;
mod check;
mod create;
mod recording;
mod update;
mod values;

pub use crate::recording::{RecordingChannels, RecordingEvent};
pub use amd::AmdParams;
pub use application::{APPLICATION_PARAMETERS, ApplicationParams};
pub use create::{
    CREATE_PARAMETERS, CreateCallParams, Instructions, MAGIC_FROM_INVALID, MAGIC_TO_NUMBERS, magic_number_violations,
};
pub use recording::{
    PauseBehavior, RecordingUpdateStatus, START_RECORDING_PARAMETERS, StartRecordingParams,
    UPDATE_RECORDING_PARAMETERS, UpdateRecordingParams,
};
pub use update::{UPDATE_PARAMETERS, UpdateCallParams, UpdateStatus};
pub use values::{HttpMethod, TWIML_MAX_CHARS, UrlProblem, send_digits_valid, url_problem};

use crate::error::TwilioError;
use crate::sid::Sid;
use std::fmt;

/// What the validation needs to know about the account placing the call.
pub trait AccountDirectory {
    /// Whether the account is a trial account, which may only call verified numbers.
    fn is_trial(&self) -> bool;
    /// Whether the account owns this phone number (an IncomingPhoneNumber).
    fn owns_number(&self, e164: &str) -> bool;
    /// Whether the number is one of the account's verified outgoing caller IDs.
    fn is_verified_caller_id(&self, e164: &str) -> bool;
    /// Whether the application belongs to the account.
    fn has_application(&self, sid: &Sid) -> bool;
    /// Whether the BYOC trunk (`BY…`) belongs to the account; none does unless a directory says so.
    fn has_byoc_trunk(&self, _sid: &str) -> bool {
        false
    }
}

/// The kind of problem a [`Violation`] reports, for callers that treat kinds differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Problem {
    /// A required parameter is missing or blank.
    Missing,
    /// None of `Url`, `Twiml` and `ApplicationSid` was sent.
    NoInstructions,
    /// The value does not have the parameter's form (an endpoint, a method, digits, a number, ...).
    Malformed,
    /// A URL Twilio would not request.
    Url(UrlProblem),
    /// A number or a length beyond the allowed range.
    OutOfRange,
    /// The value does not go with another parameter's.
    Conflict,
    /// The account may not use the value: a caller ID it neither owns nor verified, an
    /// unverified number called from a trial account, another account's application.
    NotPermitted,
    /// One of the test-credential magic numbers.
    MagicNumber,
}

/// One validation failure: the parameter, the kind of problem and the Twilio error it earns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The form parameter name, e.g. `To`.
    pub parameter: &'static str,
    /// What is wrong with it.
    pub problem: Problem,
    /// The error a Twilio-compatible server answers with.
    pub error: TwilioError,
}

impl Violation {
    /// A 400 violation of `parameter` with a code and message.
    pub fn new(parameter: &'static str, problem: Problem, code: u32, message: impl Into<String>) -> Violation {
        Violation { parameter, problem, error: TwilioError::bad_request(code, message) }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.parameter, self.error)
    }
}

/// The result of a parse: the value read and every violation found, in the order checked.
///
/// The request is valid when `violations` is empty. Otherwise `value` still holds what could
/// be read, so a caller that tolerates some kinds of violation can use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed<T> {
    /// The parameters as read.
    pub value: T,
    /// Every violation, in the order the checks ran (a server answers with the first).
    pub violations: Vec<Violation>,
}

impl<T> Parsed<T> {
    /// Whether no check failed.
    pub fn is_valid(&self) -> bool {
        self.violations.is_empty()
    }

    /// The value when no check failed, else every violation.
    pub fn into_result(self) -> Result<T, Vec<Violation>> {
        if self.violations.is_empty() { Ok(self.value) } else { Err(self.violations) }
    }
}
