//! The checker the parsers share: reads one parameter at a time from a form, keeps the value
//! (as sent where the field can hold it, else the default) and records every violation.

use super::values::{HttpMethod, parse_bool, url_problem};
use super::{Problem, Violation};
use crate::error::code;
use crate::form::Form;
use std::ops::RangeInclusive;

/// A form being read, with the violations found so far.
pub(super) struct Checker<'f> {
    /// The form.
    pub(super) form: &'f Form,
    /// Every violation so far, in the order the checks ran.
    pub(super) violations: Vec<Violation>,
}

impl<'f> Checker<'f> {
    /// A checker of `form` with no violations yet.
    pub(super) fn new(form: &'f Form) -> Checker<'f> {
        Checker { form, violations: Vec::new() }
    }

    /// Records a violation.
    pub(super) fn fail(&mut self, parameter: &'static str, problem: Problem, code: u32, message: impl Into<String>) {
        self.violations.push(Violation::new(parameter, problem, code, message));
    }

    /// The value of `name` unless it is missing or blank.
    pub(super) fn non_empty(&self, name: &str) -> Option<&'f str> {
        self.form.get(name).filter(|v| !v.trim().is_empty())
    }

    /// Values of a list parameter: repeated keys, and within each value space-separated items.
    pub(super) fn list(&self, name: &str) -> Vec<&'f str> {
        self.form.all(name).into_iter().flat_map(|v| v.split(' ')).filter(|v| !v.is_empty()).collect()
    }

    /// A `*Method` parameter: `GET` or `POST`, default `POST`.
    pub(super) fn method(&mut self, name: &'static str) -> HttpMethod {
        match self.form.get(name) {
            None => HttpMethod::Post,
            Some(v) => HttpMethod::parse(v).unwrap_or_else(|| {
                self.fail(
                    name,
                    Problem::Malformed,
                    code::METHOD_INVALID,
                    format!("{name} must be GET or POST, not {v:?}"),
                );
                HttpMethod::Post
            }),
        }
    }

    /// A URL parameter, kept as sent; a URL Twilio would not request earns `error`.
    pub(super) fn url(&mut self, name: &'static str, error: u32) -> Option<String> {
        let v = self.non_empty(name)?;
        if let Some(why) = url_problem(v) {
            self.fail(name, Problem::Url(why), error, format!("{name} is not a valid URL: {v} ({why})"));
        }
        Some(v.to_owned())
    }

    /// An integer parameter within `range`.
    pub(super) fn integer(&mut self, name: &'static str, error: u32, range: RangeInclusive<u32>) -> Option<u32> {
        let v = self.form.get(name)?;
        match v.trim().parse::<u32>() {
            Ok(n) if range.contains(&n) => Some(n),
            Ok(_) => {
                let message = format!("{name} must be an integer from {} to {}, not {v:?}", range.start(), range.end());
                self.fail(name, Problem::OutOfRange, error, message);
                None
            }
            Err(_) => {
                let message = format!("{name} must be an integer from {} to {}, not {v:?}", range.start(), range.end());
                self.fail(name, Problem::Malformed, error, message);
                None
            }
        }
    }

    /// A boolean parameter, default false.
    pub(super) fn boolean(&mut self, name: &'static str) -> bool {
        match self.form.get(name) {
            None => false,
            Some(v) => parse_bool(v).unwrap_or_else(|| {
                let message = format!("{name} must be true or false, not {v:?}");
                self.fail(name, Problem::Malformed, code::INVALID_PARAMETER, message);
                false
            }),
        }
    }

    /// A parameter with a fixed set of values.
    pub(super) fn one_of(&mut self, name: &'static str, allowed: &[&str], default: &str) -> String {
        match self.form.get(name) {
            None => default.to_owned(),
            Some(v) if allowed.contains(&v) => v.to_owned(),
            Some(v) => {
                let message = format!("{name} must be one of {allowed:?}, not {v:?}");
                self.fail(name, Problem::Malformed, code::INVALID_PARAMETER, message);
                default.to_owned()
            }
        }
    }

    /// Inline `Twiml`, kept as sent; longer than Twilio's limit earns 21200 (`message` says so).
    pub(super) fn twiml(&mut self, too_long: impl FnOnce(usize) -> String) -> Option<String> {
        let t = self.non_empty("Twiml")?;
        let chars = t.chars().count();
        if chars > super::values::TWIML_MAX_CHARS {
            self.fail("Twiml", Problem::OutOfRange, code::INVALID_PARAMETER, too_long(chars));
        }
        Some(t.to_owned())
    }

    /// The value and the violations found.
    pub(super) fn finish<T>(self, value: T) -> super::Parsed<T> {
        super::Parsed { value, violations: self.violations }
    }
}
