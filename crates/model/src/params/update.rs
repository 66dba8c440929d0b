//! Update Call parameters (`POST …/Calls/{Sid}.json`): cancel, hang up, redirect, change
//! the callbacks; parsed into the value and every violation, and encoded back.

use super::Parsed;
use super::Problem;
use super::check::Checker;
use super::values::{HttpMethod, TWIML_MAX_CHARS};
use crate::error::code;
use crate::form::Form;
use crate::status::CallStatus;

/// Every parameter name `POST …/Calls/{Sid}.json` documents.
pub const UPDATE_PARAMETERS: &[&str] = &[
    "Url",
    "Method",
    "Status",
    "FallbackUrl",
    "FallbackMethod",
    "StatusCallback",
    "StatusCallbackMethod",
    "Twiml",
    "TimeLimit",
];

/// `Status` values an update may set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateStatus {
    /// Cancel a queued or ringing call.
    Canceled,
    /// Hang up a call, even in progress.
    Completed,
}

impl UpdateStatus {
    /// The terminal status it sets.
    pub const fn call_status(self) -> CallStatus {
        match self {
            UpdateStatus::Canceled => CallStatus::Canceled,
            UpdateStatus::Completed => CallStatus::Completed,
        }
    }
}

/// The parameters of `POST …/Calls/{Sid}.json`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UpdateCallParams {
    /// New TwiML URL for a live call.
    pub url: Option<String>,
    /// Method for `url`, default POST.
    pub method: HttpMethod,
    /// New inline TwiML for a live call.
    pub twiml: Option<String>,
    /// `canceled` or `completed`.
    pub status: Option<UpdateStatus>,
    /// New fallback URL.
    pub fallback_url: Option<String>,
    /// Method for `fallback_url`.
    pub fallback_method: HttpMethod,
    /// New status callback URL.
    pub status_callback: Option<String>,
    /// Method for `status_callback`.
    pub status_callback_method: HttpMethod,
    /// New time limit in seconds.
    pub time_limit: Option<u32>,
}

impl UpdateCallParams {
    /// Parses and validates an update request: the parameters as read and every violation.
    pub fn parse(form: &Form) -> Parsed<UpdateCallParams> {
        let mut c = Checker::new(form);
        let url = c.url("Url", code::URL_INVALID);
        let method = c.method("Method");
        if c.non_empty("Url").is_some() && c.non_empty("Twiml").is_some() {
            let message = "Twiml and Url are mutually exclusive on update";
            c.fail("Twiml", Problem::Conflict, code::INVALID_PARAMETER, message);
        }
        let twiml = c.twiml(|_| format!("Twiml is longer than {TWIML_MAX_CHARS} characters"));
        let status = match form.get("Status") {
            None => None,
            Some("canceled") => Some(UpdateStatus::Canceled),
            Some("completed") => Some(UpdateStatus::Completed),
            Some(v) => {
                let message = format!("Status must be canceled or completed, not {v:?}");
                c.fail("Status", Problem::Malformed, code::INVALID_PARAMETER, message);
                None
            }
        };
        let value = UpdateCallParams {
            url,
            method,
            twiml,
            status,
            fallback_url: c.url("FallbackUrl", code::URL_INVALID),
            fallback_method: c.method("FallbackMethod"),
            status_callback: c.url("StatusCallback", code::STATUS_CALLBACK_INVALID),
            status_callback_method: c.method("StatusCallbackMethod"),
            time_limit: c.integer("TimeLimit", code::INVALID_PARAMETER, 1..=u32::MAX),
        };
        c.finish(value)
    }

    /// Encodes back to wire form.
    pub fn to_form(&self) -> Form {
        let mut f = Form::new();
        if let Some(v) = &self.url {
            f.push("Url", v.as_str());
        }
        if self.method != HttpMethod::Post {
            f.push("Method", self.method.as_str());
        }
        if let Some(v) = &self.twiml {
            f.push("Twiml", v.as_str());
        }
        if let Some(s) = self.status {
            f.push("Status", s.call_status().as_str());
        }
        if let Some(v) = &self.fallback_url {
            f.push("FallbackUrl", v.as_str());
        }
        if self.fallback_method != HttpMethod::Post {
            f.push("FallbackMethod", self.fallback_method.as_str());
        }
        if let Some(v) = &self.status_callback {
            f.push("StatusCallback", v.as_str());
        }
        if self.status_callback_method != HttpMethod::Post {
            f.push("StatusCallbackMethod", self.status_callback_method.as_str());
        }
        if let Some(v) = self.time_limit {
            f.push("TimeLimit", v.to_string());
        }
        f
    }
}
