//! Checks shared by every step kind: recording a failure (masked, with its requirement and kind),
//! a response against an [`Expect`], JSON Schemas, JSON-pointer matchers and captures.

use super::{Run, StepStop, lock};
use crate::client::{Incoming, Outgoing, curl};
use crate::fixture::{Expect, Matcher};
use crate::matcher::{RuleError, check_rule, shorten, show};
use crate::outcome::{Failure, FailureKind};
use std::collections::BTreeMap;

/// The requirement a schema's violations are charged to: one requirement per payload, so one
/// missing field costs that requirement alone, whatever case met it.
pub(super) fn schema_requirement(schema: &str) -> Option<&'static str> {
    Some(match schema {
        "call" => "D-SCHEMA-1",
        "call-page" => "D-LIST-1",
        "error" => "T-ERR-1",
        "status-callback" => "S-PARAM-1",
        "recording-callback" => "R-REC-2",
        "recording" => "R-RES-11",
        "recording-page" => "R-RES-8",
        "call-event" | "call-event-page" => "E-EVENTS-1",
        _ => return None,
    })
}

/// The HTTP statuses an expectation names (`status` and `status_in`); empty when it names none.
fn allowed_statuses(expect: &Expect) -> Vec<u16> {
    expect.status.into_iter().chain(expect.status_in.iter().flatten().copied()).collect()
}

/// The requirement that JSON bodies are JSON, served as `application/json`.
const JSON_REQUIREMENT: &str = "T-JSON-1";
/// The requirement on the fields of an error body.
const ERROR_BODY_REQUIREMENT: &str = "T-ERR-1";
/// The requirement that no response and no webhook carries an auth token.
pub(super) const SECRET_REQUIREMENT: &str = "T-SECRET-1";

/// Replaces every secret in `text` by `****`.
pub(crate) fn mask(mut text: String, secrets: &[String]) -> String {
    for s in secrets.iter().filter(|s| !s.is_empty()) {
        if text.contains(s.as_str()) {
            text = text.replace(s.as_str(), "****");
        }
    }
    text
}

/// A curl repro that names the run's callback sink as `$CALLBACK_SINK`, set at its front: the sink
/// (a temporary port) is gone after the run, so a reader points the variable at a URL that serves
/// the case's TwiML before running the command.
pub(super) fn with_sink_variable(command: String, sink: Option<&str>) -> String {
    match sink {
        // Inside curl's single-quoted arguments the variable is spliced in double quotes.
        Some(sink) if !sink.is_empty() && command.contains(sink) => {
            format!("CALLBACK_SINK='{sink}'; {}", command.replace(sink, "'\"$CALLBACK_SINK\"'"))
        }
        _ => command,
    }
}

/// A JSON value as text: strings without their quotes.
pub(super) fn value_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Where a schema violation is and what was found there. A missing required property is
/// reported at the property's own pointer, as absent, rather than at its parent.
pub(super) fn violation_target(v: &crate::schema::SchemaViolation, json: &serde_json::Value) -> (String, String) {
    if let Some(name) =
        v.message.strip_suffix(" is a required property").and_then(|q| serde_json::from_str::<String>(q).ok())
    {
        let escaped = name.replace('~', "~0").replace('/', "~1");
        return (format!("{}/{escaped}", v.instance_pointer), "(absent)".to_owned());
    }
    let pointer = if v.instance_pointer.is_empty() { "(root)".to_owned() } else { v.instance_pointer.clone() };
    (pointer, show(json.pointer(&v.instance_pointer)))
}

impl Run<'_> {
    /// Records a failed check of the current step, charged to the step's requirement.
    pub(super) fn fail(
        &mut self,
        kind: FailureKind,
        pointer: Option<String>,
        expected: impl Into<String>,
        actual: impl Into<String>,
        message: impl Into<String>,
        out: Option<&Outgoing>,
    ) {
        let requirement = self.requirement.clone();
        self.fail_as(requirement, kind, (pointer, expected.into(), actual.into(), message.into()), out);
    }

    /// Records a failed check charged to `requirement`; `what` is (pointer, expected, actual, message).
    pub(super) fn fail_as(
        &mut self,
        requirement: Option<String>,
        kind: FailureKind,
        what: (Option<String>, String, String, String),
        out: Option<&Outgoing>,
    ) {
        let (pointer, expected, actual, message) = what;
        let secrets = self.h.secrets(Some(&self.account));
        let secret_refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
        // A target may echo credentials back; nothing it sends reaches a message unmasked.
        let masked = |text: String| mask(text, &secrets);
        if kind == FailureKind::Transport {
            self.transport_failed = true;
        }
        lock(&self.log).failures.push(Failure {
            requirement,
            kind,
            step: self.step,
            step_label: masked(self.label.clone()),
            pointer: pointer.map(masked),
            expected: masked(expected),
            actual: masked(actual),
            message: masked(message),
            curl: out.map(|o| with_sink_variable(curl(o, &secret_refs), self.vars.get("Sink"))),
            known: None,
        });
    }

    /// FAILs (T-SECRET-1) when an auth token the run knows appears in `texts`, what the target sent.
    pub(super) fn check_no_secret(
        &mut self,
        kind: FailureKind,
        at: Option<String>,
        texts: &[&str],
        out: Option<&Outgoing>,
    ) {
        self.checked(Some(SECRET_REQUIREMENT));
        let secrets = self.h.secrets(Some(&self.account));
        // Tokens are 32 hex digits; a shorter configured one could match by chance.
        if secrets.iter().filter(|s| s.len() >= 16).any(|s| texts.iter().any(|t| t.contains(s.as_str()))) {
            let what = (
                at,
                "no auth token".to_owned(),
                "an auth token (masked: ****)".to_owned(),
                "the target sent an account's auth token".to_owned(),
            );
            self.fail_as(Some(SECRET_REQUIREMENT.to_owned()), kind, what, out);
        }
    }

    /// Marks the captures of a step as missing, because of `why`.
    pub(super) fn captures_missing(&mut self, captures: &BTreeMap<String, String>, why: &str) {
        for var in captures.keys() {
            let name = var.strip_suffix("[]").unwrap_or(var);
            self.missing.entry(name.to_owned()).or_insert_with(|| why.to_owned());
        }
    }

    /// Keeps values of a response body as variables; an absent value is a FAIL and leaves the
    /// variable missing, so steps that need it are reported as not run.
    pub(super) fn capture(
        &mut self,
        captures: &BTreeMap<String, String>,
        json: Option<&serde_json::Value>,
        out: &Outgoing,
    ) {
        for (var, pointer) in captures {
            let name = var.strip_suffix("[]").unwrap_or(var);
            let Some(found) = json.and_then(|j| j.pointer(pointer)) else {
                self.fail(
                    FailureKind::Capture,
                    Some(pointer.clone()),
                    "a value to capture",
                    "(absent)",
                    format!("cannot capture {var}"),
                    Some(out),
                );
                let why = format!("step {} had no value at {pointer}", self.step + 1);
                self.missing.entry(name.to_owned()).or_insert(why);
                continue;
            };
            match var.strip_suffix("[]") {
                Some(list) => self.vars.push(list, value_text(found)),
                None => self.vars.set(var, value_text(found)),
            }
        }
    }

    /// Captures from a checked response: when the response had no body to read and its checks
    /// failed (since `mark`), the captures are missing because of that failure; otherwise an
    /// absent value is a capture failure of its own.
    pub(super) fn capture_after(
        &mut self,
        captures: &BTreeMap<String, String>,
        json: Option<&serde_json::Value>,
        out: &Outgoing,
        mark: usize,
        status: u16,
    ) {
        if json.is_none() && self.failed_since(mark) {
            let why = format!("step {} answered HTTP {} without the expected body", self.step + 1, status);
            self.captures_missing(captures, &why);
        } else {
            self.capture(captures, json, out);
        }
    }

    /// Checks a response against an expectation; returns the parsed JSON body when the status
    /// is the expected one and the body is JSON. A wrong status makes the body checks noise (an
    /// error body is not a Call), so they are left out. With `either`, the alternative naming the
    /// response's status is checked as well.
    pub(super) fn check_expect(
        &mut self,
        expect: &Expect,
        resp: &Incoming,
        out: &Outgoing,
        index: Option<usize>,
    ) -> Result<Option<serde_json::Value>, StepStop> {
        self.checked(None);
        self.check_no_secret(FailureKind::Json, None, &[&String::from_utf8_lossy(&resp.body)], Some(out));
        let alternative = match expect.either.as_slice() {
            [] => None,
            alternatives => match alternatives.iter().find(|a| allowed_statuses(a).contains(&resp.status)) {
                Some(chosen) => Some(chosen),
                None => {
                    let wanted: Vec<String> = alternatives
                        .iter()
                        .map(|a| {
                            let statuses = allowed_statuses(a);
                            match a.error_code {
                                Some(code) => format!("HTTP {statuses:?} with code {code}"),
                                None => format!("HTTP {statuses:?}"),
                            }
                        })
                        .collect();
                    let body = shorten(&String::from_utf8_lossy(&resp.body), 300);
                    let actual = format!("HTTP {} {body}", resp.status);
                    let message = "wrong status code (none of the documented alternatives)";
                    self.fail(FailureKind::Status, None, wanted.join(" or "), actual, message, Some(out));
                    return Ok(None);
                }
            },
        };
        let allowed = allowed_statuses(expect);
        if !allowed.is_empty() && !allowed.contains(&resp.status) {
            let wanted = match allowed.as_slice() {
                [one] => format!("HTTP {one}"),
                many => format!("HTTP status in {many:?}"),
            };
            let body = shorten(&String::from_utf8_lossy(&resp.body), 300);
            let actual = format!("HTTP {} {body}", resp.status);
            self.fail(FailureKind::Status, None, wanted, actual, "wrong status code", Some(out));
            return Ok(None);
        }
        match expect.empty_body {
            Some(true) if !resp.body.is_empty() => {
                let body = shorten(&String::from_utf8_lossy(&resp.body), 300);
                self.fail(FailureKind::Status, None, "an empty body", body, "the body must be empty", Some(out));
            }
            Some(false) if resp.body.is_empty() => {
                self.fail(
                    FailureKind::Status,
                    None,
                    "a body",
                    "an empty body",
                    "the body must not be empty",
                    Some(out),
                );
            }
            _ => {}
        }
        if let Some(types) = &expect.content_type_in {
            self.check_content_type(types, resp, out);
        }
        let wants_json = expect.schema.is_some() || !expect.json.is_empty() || expect.error_code.is_some();
        let json = if wants_json {
            let Some(json) = self.check_json(resp, out) else { return Ok(None) };
            if let Some(code) = expect.error_code {
                self.check_error_body(code, resp.status, &json, out);
            }
            if let Some(schema) = &expect.schema {
                self.check_schema(schema, &json, out, "");
            }
            self.check_matchers(&expect.json, &json, out, index)?;
            Some(json)
        } else {
            None
        };
        match alternative {
            Some(chosen) => Ok(self.check_expect(chosen, resp, out, index)?.or(json)),
            None if wants_json => Ok(json),
            None => Ok(resp.json().ok()),
        }
    }

    /// The response's media type (before any `;` parameter) is one of `types`.
    fn check_content_type(&mut self, types: &[String], resp: &Incoming, out: &Outgoing) {
        let served = resp.content_type.as_deref().unwrap_or("");
        let media = served.split(';').next().unwrap_or("").trim();
        if !types.iter().any(|t| t.eq_ignore_ascii_case(media)) {
            let expected = format!("Content-Type one of {}", types.join(", "));
            let actual = format!("Content-Type: {served:?}");
            self.fail(FailureKind::Status, None, expected, actual, "served as another media type", Some(out));
        }
    }

    /// The body as JSON, served as `application/json`; each failure is charged to T-JSON-1.
    fn check_json(&mut self, resp: &Incoming, out: &Outgoing) -> Option<serde_json::Value> {
        let req = Some(JSON_REQUIREMENT.to_owned());
        self.checked(Some(JSON_REQUIREMENT));
        let ct = resp.content_type.clone().unwrap_or_default();
        if !ct.starts_with("application/json") {
            let what = (
                None,
                "Content-Type: application/json".to_owned(),
                format!("Content-Type: {ct:?}"),
                "JSON bodies carry Content-Type application/json".to_owned(),
            );
            self.fail_as(req.clone(), FailureKind::Json, what, Some(out));
        }
        match resp.json() {
            Ok(j) => Some(j),
            Err(e) => {
                let what = (None, "a JSON body".to_owned(), e.to_string(), "the body is not JSON".to_owned());
                self.fail_as(req, FailureKind::Json, what, Some(out));
                None
            }
        }
    }

    /// The Twilio error code (the step's requirement) and the error body's own fields (T-ERR-1).
    fn check_error_body(&mut self, code: u32, status: u16, json: &serde_json::Value, out: &Outgoing) {
        self.check_schema("error", json, out, "");
        if json.get("code") != Some(&serde_json::Value::from(code)) {
            let actual = show(json.get("code"));
            self.fail(
                FailureKind::ErrorCode,
                Some("/code".into()),
                code.to_string(),
                actual,
                "wrong Twilio error code",
                Some(out),
            );
        }
        let req = Some(ERROR_BODY_REQUIREMENT.to_owned());
        self.checked(Some(ERROR_BODY_REQUIREMENT));
        if json.get("status") != Some(&serde_json::Value::from(status)) {
            let what = (
                Some("/status".into()),
                status.to_string(),
                show(json.get("status")),
                "the error body's status must equal the HTTP status".to_owned(),
            );
            self.fail_as(req.clone(), FailureKind::ErrorCode, what, Some(out));
        }
        // `more_info` names the code the body carries; a wrong code is the failure above alone.
        let carried = json.get("code").and_then(serde_json::Value::as_u64).map_or(u64::from(code), |c| c);
        let more = json.get("more_info").and_then(|m| m.as_str()).unwrap_or("");
        if !more.contains(&carried.to_string()) {
            let what = (
                Some("/more_info".into()),
                format!("a URL naming {carried}"),
                show(json.get("more_info")),
                "more_info must name the error code".to_owned(),
            );
            self.fail_as(req, FailureKind::ErrorCode, what, Some(out));
        }
    }

    /// Validates against a schema; violations are charged to the schema's requirement.
    pub(super) fn check_schema(&mut self, schema: &str, json: &serde_json::Value, out: &Outgoing, prefix: &str) {
        let requirement = schema_requirement(schema).map(str::to_owned).or_else(|| self.requirement.clone());
        self.checked(requirement.as_deref());
        let expected = format!("valid against schemas/{schema}.schema.json");
        match self.h.schemas.validate(schema, json) {
            Ok(mut violations) => {
                // A value can break a rule twice (its `pattern` and its `format`): one failure per
                // place, the format's message first, as it names the rule.
                violations.sort_by_key(|v| v.message.contains(" does not match \""));
                let mut seen = std::collections::BTreeSet::new();
                for v in violations.into_iter().filter(|v| seen.insert(violation_target(v, json).0)).take(10) {
                    let (pointer, found) = violation_target(&v, json);
                    let what = (Some(format!("{prefix}{pointer}")), expected.clone(), found, v.message);
                    self.fail_as(requirement.clone(), FailureKind::Schema, what, Some(out));
                }
            }
            Err(e) => {
                let what = (None, expected, e.to_string(), "schema could not be applied".to_owned());
                self.fail_as(requirement, FailureKind::Schema, what, Some(out));
            }
        }
    }

    /// Checks JSON-pointer matchers on a body.
    pub(super) fn check_matchers(
        &mut self,
        matchers: &[Matcher],
        json: &serde_json::Value,
        out: &Outgoing,
        index: Option<usize>,
    ) -> Result<(), StepStop> {
        for m in matchers {
            match check_rule(&m.rule, json.pointer(&m.pointer), &self.vars, index) {
                Ok(()) => {}
                Err(RuleError::Mismatch(mm)) => {
                    let pointer = Some(m.pointer.clone());
                    self.fail(FailureKind::Matcher, pointer, mm.expected, mm.actual, "value does not match", Some(out));
                }
                Err(RuleError::Template(e)) => return Err(self.template_stop(e)),
                Err(RuleError::BadRegex(e)) => {
                    return Err(StepStop::Fault(super::HarnessFault::Fixture(format!(
                        "bad regex at {}: {e}",
                        m.pointer
                    ))));
                }
            }
        }
        Ok(())
    }

    /// Keeps a response for the snapshot; of a repeated step only the first repetition.
    pub(super) fn record_response(&mut self, index: Option<usize>, kind: &str, resp: &Incoming) {
        if index.is_some_and(|i| i > 0) {
            return;
        }
        let body = match resp.json() {
            Ok(j) => j,
            Err(_) if resp.body.is_empty() => serde_json::Value::Null,
            // Audio and other binary bodies are named by type: their bytes say nothing to a reviewer.
            Err(_) if std::str::from_utf8(&resp.body).map_or(true, |t| t.contains('\0')) => {
                let media = resp.content_type.as_deref().unwrap_or("no Content-Type");
                serde_json::Value::String(format!("[binary body, {media}]"))
            }
            Err(_) => serde_json::Value::String(shorten(&String::from_utf8_lossy(&resp.body), 2000)),
        };
        let label = self.label.clone();
        self.artifacts
            .push(serde_json::json!({"step": self.step + 1, kind: label, "status": resp.status, "body": body}));
    }
}

#[cfg(test)]
mod tests {
    use super::with_sink_variable;

    #[test]
    fn the_sink_in_a_repro_is_a_variable_set_in_front() {
        let sink = "http://127.0.0.1:4000/c/r/case";
        let c = with_sink_variable(
            format!("curl -X POST 'http://t/Calls.json' --data-urlencode 'Url={sink}/voice.xml'"),
            Some(sink),
        );
        assert_eq!(
            c,
            "CALLBACK_SINK='http://127.0.0.1:4000/c/r/case'; curl -X POST 'http://t/Calls.json' --data-urlencode 'Url='\"$CALLBACK_SINK\"'/voice.xml'"
        );
        assert_eq!(with_sink_variable("curl x".into(), Some(sink)), "curl x");
    }
}
