//! The `callbacks` step: wait for the requests the target makes to the sink (TwiML fetches,
//! status and recording callbacks), then check their count, method, body, signature, schema,
//! parameters, order and spacing.

use super::checks::violation_target;
use super::{Run, StepStop, scaled};
use crate::fixture::{CallbacksStep, Millis, ParamRule, Spacing};
use crate::matcher::{RuleError, check_param};
use crate::outcome::FailureKind;
use crate::sink::Recorded;
use callspec_model::signature;
use serde_json::json;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The requirement every signature check is charged to; GET requests have their own.
const SIGNATURE_REQUIREMENT: &str = "W-SIG-1";
const GET_SIGNATURE_REQUIREMENT: &str = "W-SIG-2";

/// A recorded request as a snapshot artifact: method, path and parameters (a repeated name as a list).
fn recorded_artifact(r: &Recorded) -> serde_json::Value {
    let mut params = serde_json::Map::new();
    for (k, v) in &r.params {
        match params.get_mut(k) {
            None => {
                params.insert(k.clone(), serde_json::Value::String(v.clone()));
            }
            Some(serde_json::Value::Array(list)) => list.push(serde_json::Value::String(v.clone())),
            Some(first) => *first = json!([first.clone(), v]),
        }
    }
    json!({"method": r.method, "path": r.path, "params": params})
}

/// The requests in one line each: method, path and the parameters that tell them apart.
fn summary(list: &[Recorded]) -> String {
    if list.is_empty() {
        return "none".into();
    }
    list.iter()
        .map(|r| {
            let key: Vec<String> = ["CallSid", "CallStatus", "SequenceNumber", "RecordingStatus"]
                .iter()
                .filter_map(|k| r.param(k).map(|v| format!("{k}={v}")))
                .collect();
            format!("{} {} [{}]", r.method, r.path, key.join(" "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The requests in the order the target fired them. Twilio sends each status callback as its own
/// request, with no promise that they arrive in order; `SequenceNumber` carries the order
/// (https://www.twilio.com/docs/voice/api/call-resource#statuscallbackevent). When every request
/// carries a numeric `SequenceNumber`, that is the order; otherwise (TwiML fetches, recording
/// callbacks) the arrival order is all there is.
fn in_sequence_order(seen: &[Recorded]) -> Vec<Recorded> {
    let numbers: Option<Vec<u64>> =
        seen.iter().map(|r| r.param("SequenceNumber").and_then(|n| n.trim().parse().ok())).collect();
    let mut ordered: Vec<(u64, Recorded)> = match numbers {
        Some(numbers) => numbers.into_iter().zip(seen.iter().cloned()).collect(),
        None => return seen.to_vec(),
    };
    ordered.sort_by_key(|(n, _)| *n);
    ordered.into_iter().map(|(_, r)| r).collect()
}

impl Run<'_> {
    fn matches_filter(&self, c: &CallbacksStep, r: &Recorded, index: Option<usize>) -> Result<bool, StepStop> {
        // `*` counts every request the target made to the case's prefix, whatever its path.
        if c.path != "*" && r.path != c.path {
            return Ok(false);
        }
        for (k, rule) in &c.filter {
            match check_param(rule, r.param(k), &self.vars, index) {
                Ok(()) => {}
                Err(RuleError::Template(e)) => return Err(self.template_stop(e)),
                Err(_) => return Ok(false),
            }
        }
        Ok(true)
    }

    fn matching(&self, c: &CallbacksStep, index: Option<usize>) -> Result<Vec<Recorded>, StepStop> {
        let mut out = Vec::new();
        for r in self.h.sink.requests(&self.case.name) {
            if self.matches_filter(c, &r, index)? {
                out.push(r);
            }
        }
        Ok(out)
    }

    /// Waits until `count` requests arrived (or the deadline), then the quiet period.
    async fn wait_for(&self, c: &CallbacksStep, index: Option<usize>) -> Result<Vec<Recorded>, StepStop> {
        let deadline = Instant::now() + scaled(self.h, c.within_ms);
        let mut seen = self.matching(c, index)?;
        // `count: 0` has nothing to wait for: only the quiet period below watches for strays.
        while seen.len() < c.count as usize && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
            seen = self.matching(c, index)?;
        }
        if let Some(quiet) = c.quiet_ms {
            tokio::time::sleep(scaled(self.h, quiet)).await;
            seen = self.matching(c, index)?;
        }
        Ok(seen)
    }

    pub(super) async fn callbacks_step(
        &mut self,
        c: &CallbacksStep,
        index: Option<usize>,
        name: Option<String>,
    ) -> Result<(), StepStop> {
        self.label = name.unwrap_or_else(|| format!("requests to {{Sink}}{}", c.path));
        let seen = self.wait_for(c, index).await?;
        self.checked(None);
        let count_ok = seen.len() == c.count as usize;
        if !count_ok {
            let filter = if c.filter.is_empty() { String::new() } else { format!(" where {:?}", c.filter) };
            self.fail(
                FailureKind::CallbackCount,
                None,
                format!("{} request(s) to {}{filter}", c.count, c.path),
                format!("{}: {}", seen.len(), summary(&seen)),
                format!("wrong number of requests within {} ms", scaled(self.h, c.within_ms).as_millis()),
                None,
            );
        }
        if index.is_none_or(|i| i == 0) {
            let requests: Vec<serde_json::Value> = seen.iter().map(recorded_artifact).collect();
            self.artifacts.push(json!({"step": self.step + 1, "callbacks": c.path, "requests": requests}));
        }
        // What did arrive is checked even when the count is off: its signature and parameters
        // are evidence on their own. Order is judged only against the expected count.
        for (i, r) in seen.iter().enumerate() {
            self.check_request(c, r, i, index)?;
        }
        if count_ok {
            let ordered = in_sequence_order(&seen);
            for (i, (r, expected)) in ordered.iter().zip(&c.sequence).enumerate() {
                self.check_in_order(r, i, expected, &ordered, index)?;
            }
        }
        if let Some(spacing) = &c.spacing {
            self.check_spacing(spacing, &seen, index)?;
        }
        self.capture_params(c, &seen, count_ok);
        Ok(())
    }

    /// Method, body, signature, schema and `each` rules of one request.
    fn check_request(
        &mut self,
        c: &CallbacksStep,
        r: &Recorded,
        i: usize,
        index: Option<usize>,
    ) -> Result<(), StepStop> {
        let at = format!("request #{} ({} {})", i + 1, r.method, r.path);
        let param = FailureKind::CallbackParam;
        if r.method == "GET" && !r.form.is_empty() {
            let message = "a GET request carries its parameters in the query string";
            let actual = format!("a form body of {} parameter(s)", r.form.len());
            self.fail(
                param,
                Some(at.clone()),
                "GET with the parameters in the query string and no body",
                actual,
                message,
                None,
            );
        }
        if let Some(problem) = &r.body_problem {
            let message = "callback bodies are application/x-www-form-urlencoded";
            self.fail(param, Some(at.clone()), "a form-encoded body", problem.clone(), message, None);
        }
        if let Some(m) = &c.method
            && &r.method != m
        {
            self.fail(param, Some(at.clone()), m.clone(), r.method.clone(), "wrong HTTP method", None);
        }
        if c.signed.unwrap_or(true) {
            self.check_signature(r, &at);
        }
        let texts: Vec<&str> =
            std::iter::once(r.url.as_str()).chain(r.params.iter().map(|(_, v)| v.as_str())).collect();
        self.check_no_secret(param, Some(at.clone()), &texts, None);
        if let Some(schema) = &c.schema {
            self.check_params_schema(schema, r, &at);
        }
        for (name, rule) in &c.each {
            self.check_one_param(rule, r, name, &at, index, None)?;
        }
        Ok(())
    }

    /// The parameters of the i-th request against the i-th entry of `sequence`.
    fn check_in_order(
        &mut self,
        r: &Recorded,
        i: usize,
        expected: &BTreeMap<String, ParamRule>,
        seen: &[Recorded],
        index: Option<usize>,
    ) -> Result<(), StepStop> {
        let at = format!("request #{} ({} {})", i + 1, r.method, r.path);
        for (name, rule) in expected {
            self.check_one_param(rule, r, name, &at, index, Some(seen))?;
        }
        Ok(())
    }

    /// One parameter rule; with `arrived`, a mismatch is an order failure that lists the arrivals.
    fn check_one_param(
        &mut self,
        rule: &ParamRule,
        r: &Recorded,
        name: &str,
        at: &str,
        index: Option<usize>,
        arrived: Option<&[Recorded]>,
    ) -> Result<(), StepStop> {
        match check_param(rule, r.param(name), &self.vars, index) {
            Ok(()) => Ok(()),
            Err(RuleError::Mismatch(m)) => {
                let pointer = Some(format!("{at}/{name}"));
                match arrived {
                    None => self.fail(
                        FailureKind::CallbackParam,
                        pointer,
                        m.expected,
                        m.actual,
                        "parameter does not match",
                        None,
                    ),
                    Some(seen) => self.fail(
                        FailureKind::CallbackOrder,
                        pointer,
                        m.expected,
                        format!("{} (arrived: {})", m.actual, summary(seen)),
                        "requests out of order or with the wrong parameters",
                        None,
                    ),
                }
                Ok(())
            }
            Err(RuleError::Template(e)) => Err(self.template_stop(e)),
            Err(RuleError::BadRegex(e)) => Err(StepStop::Fault(super::HarnessFault::Fixture(e))),
        }
    }

    fn check_params_schema(&mut self, schema: &str, r: &Recorded, at: &str) {
        let params = r.params_json();
        let requirement =
            super::checks::schema_requirement(schema).map(str::to_owned).or_else(|| self.requirement.clone());
        self.checked(requirement.as_deref());
        let Ok(mut violations) = self.h.schemas.validate(schema, &params) else { return };
        violations.sort_by_key(|v| v.message.contains(" does not match \""));
        let mut seen = std::collections::BTreeSet::new();
        for v in violations.into_iter().filter(|v| seen.insert(violation_target(v, &params).0)).take(10) {
            let (pointer, found) = violation_target(&v, &params);
            let what = (
                Some(format!("{at}{pointer}")),
                format!("valid against schemas/{schema}.schema.json"),
                found,
                v.message,
            );
            self.fail_as(requirement.clone(), FailureKind::Schema, what, None);
        }
    }

    fn check_signature(&mut self, r: &Recorded, at: &str) {
        let requirement = if r.method == "GET" { GET_SIGNATURE_REQUIREMENT } else { SIGNATURE_REQUIREMENT };
        self.checked(Some(requirement));
        let pointer = Some(format!("{at}/X-Twilio-Signature"));
        let what = match &r.signature {
            None => (
                pointer,
                "an X-Twilio-Signature header".to_owned(),
                "(absent)".to_owned(),
                "every request the target makes must be signed".to_owned(),
            ),
            Some(sig) => {
                let params: &[(String, String)] = if r.method == "POST" { &r.form } else { &[] };
                if signature::validate(&self.account.token, &r.url, params, sig) {
                    return;
                }
                (
                    pointer,
                    format!("HMAC-SHA1 with the account's auth token over {} plus the sorted POST parameters", r.url),
                    sig.clone(),
                    "X-Twilio-Signature does not validate".to_owned(),
                )
            }
        };
        self.fail_as(Some(requirement.to_owned()), FailureKind::Signature, what, None);
    }

    /// Arrival times of consecutive requests against `min_ms` (less a scaled tolerance) and `max_ms`;
    /// the span from the first to the last arrival against `min_average_ms`.
    fn check_spacing(&mut self, spacing: &Spacing, seen: &[Recorded], index: Option<usize>) -> Result<(), StepStop> {
        // Delivery jitter grows on slow machines: the tolerance scales, the minimum does not.
        let tolerance = scaled(self.h, spacing.tolerance_ms.unwrap_or(0)).as_millis() as u64;
        for (i, pair) in seen.windows(2).enumerate() {
            let between = Some(format!("requests #{}→#{}", i + 1, i + 2));
            let gap_ms = pair[1].at.duration_since(pair[0].at).as_millis() as u64;
            if let Some(min) = spacing.min_ms
                && gap_ms < min.saturating_sub(tolerance)
            {
                let expected =
                    format!("at least {min} ms between requests (tolerance {} ms)", spacing.tolerance_ms.unwrap_or(0));
                let actual = format!("{gap_ms} ms: {}", summary(pair));
                self.fail(FailureKind::Timing, between.clone(), expected, actual, "requests too close together", None);
            }
            if let Some(max) = spacing.max_ms {
                let ceiling = scaled(self.h, max).as_millis() as u64;
                if gap_ms > ceiling {
                    let expected = format!("at most {ceiling} ms between requests");
                    let actual = format!("{gap_ms} ms: {}", summary(pair));
                    self.fail(FailureKind::Timing, between.clone(), expected, actual, "requests too far apart", None);
                }
            }
        }
        let Some(average) = &spacing.min_average_ms else { return Ok(()) };
        let average = match average {
            Millis::Number(n) => *n,
            Millis::Template(t) => {
                let text = self.vars.render(t, index).map_err(|e| self.template_stop(e))?;
                text.trim().parse::<u64>().map_err(|e| {
                    let why = format!("min_average_ms {t:?} renders to {text:?}, not a number of milliseconds: {e}");
                    StepStop::Fault(super::HarnessFault::Fixture(why))
                })?
            }
        };
        let (Some(first), Some(last)) = (seen.iter().map(|r| r.at).min(), seen.iter().map(|r| r.at).max()) else {
            return Ok(());
        };
        let gaps = seen.len().saturating_sub(1) as u64;
        let span_ms = last.duration_since(first).as_millis() as u64;
        let wanted = average.saturating_mul(gaps);
        if gaps > 0 && span_ms < wanted.saturating_sub(tolerance) {
            let expected = format!(
                "{} requests at least {average} ms apart on average: a span of at least {wanted} ms (tolerance {} ms)",
                seen.len(),
                spacing.tolerance_ms.unwrap_or(0)
            );
            let actual = format!("{span_ms} ms from the first to the last: {}", summary(seen));
            let message = "requests closer together than the average allows";
            self.fail(FailureKind::Timing, Some("first→last request".into()), expected, actual, message, None);
        }
        Ok(())
    }

    /// Keeps parameters of the last request; with the wrong count, the values would be the wrong
    /// request's, so they are left missing.
    fn capture_params(&mut self, c: &CallbacksStep, seen: &[Recorded], count_ok: bool) {
        let last = seen.last().filter(|_| count_ok);
        for (var, param) in &c.capture {
            let name = var.strip_suffix("[]").unwrap_or(var);
            let Some(value) = last.map(|r| r.param(param).unwrap_or("").to_owned()) else {
                let why = format!("step {} did not get the expected requests", self.step + 1);
                self.missing.entry(name.to_owned()).or_insert(why);
                continue;
            };
            match var.strip_suffix("[]") {
                Some(list) => self.vars.push(list, value),
                None => self.vars.set(var, value),
            }
        }
    }
}
