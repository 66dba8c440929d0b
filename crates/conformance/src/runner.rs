//! Running one case against the target: account setup, steps, checks, verdict.
//!
//! Invariants: a target's misbehaviour is a FAIL with expected and actual values; a harness
//! or setup fault (fixture template error, subaccount creation refused, sink gone) is an
//! ERROR. Every wait has a deadline scaled by the profile's multiplier, and the whole case
//! runs under its own deadline, so no target can hang a run.

use crate::client::{Client, Incoming, Outgoing, curl};
use crate::fixture::{
    AccountChoice, Action, Auth, CallbacksStep, Case, Expect, Matcher, PaginateStep, PollStep, RequestSpec, RequestStep,
    SaturateStep, SequenceStep, Step,
};
use crate::matcher::{Mismatch, check_param, check_rule, show, shorten};
use crate::outcome::{CaseResult, Failure, Status};
use crate::profile::{Account, Profile};
use crate::schema::SchemaSet;
use crate::sink::{Recorded, Route, Sink};
use crate::template::Vars;
use callspec_model::signature;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

/// Everything cases share during a run.
pub struct Harness {
    /// The target profile.
    pub profile: Profile,
    /// Loaded JSON Schemas.
    pub schemas: Arc<SchemaSet>,
    /// The callback sink.
    pub sink: Sink,
    /// HTTP client to the target.
    pub client: Client,
    /// The target's base URL, without a trailing slash.
    pub base_url: String,
    /// The main account.
    pub main: Account,
    /// The trial account, if the profile has one.
    pub trial: Option<Account>,
    /// Today's date, `YYYY-MM-DD`, for known-failure expiry.
    pub today: String,
    shared_account: tokio::sync::Mutex<()>,
}

/// A step could not be evaluated: the case is an ERROR, not a FAIL.
struct HarnessFault(String);

impl From<String> for HarnessFault {
    fn from(s: String) -> HarnessFault {
        HarnessFault(s)
    }
}

/// The state of one running case.
struct Run<'h> {
    h: &'h Harness,
    case: &'h Case,
    vars: Vars,
    account: Account,
    failures: Vec<Failure>,
    step: usize,
    label: String,
    requirement: Option<String>,
}

fn scaled(h: &Harness, ms: u64) -> Duration {
    Duration::from_millis((ms as f64 * h.profile.timeout_multiplier).round() as u64)
}

fn random_digits(n: usize) -> String {
    let v = callspec_model::Sid::random(callspec_model::SidKind::Call).value();
    let s = format!("{:040}", v);
    s[s.len() - n..].to_owned()
}

impl Harness {
    /// Builds the harness state shared by every case.
    pub fn new(
        profile: Profile,
        schemas: Arc<SchemaSet>,
        sink: Sink,
        client: Client,
        base_url: String,
        main: Account,
        trial: Option<Account>,
        today: String,
    ) -> Harness {
        Harness {
            profile,
            schemas,
            sink,
            client,
            base_url: base_url.trim_end_matches('/').to_owned(),
            main,
            trial,
            today,
            shared_account: tokio::sync::Mutex::new(()),
        }
    }

    /// Runs one case to its result; never panics on target behaviour and never exceeds the case deadline.
    pub async fn run_case(&self, case: &Case) -> CaseResult {
        let started = Instant::now();
        let deadline = scaled(self, case.data.deadline_ms.or(self.profile.case_deadline_ms).unwrap_or(30_000));
        let mut result = CaseResult {
            name: case.name.clone(),
            file: case.file.clone(),
            title: case.data.title.clone(),
            requirements: case.data.requirements.clone(),
            tags: case.data.tags.clone(),
            status: Status::Pass,
            reason: None,
            error: None,
            failures: Vec::new(),
            duration: Duration::ZERO,
        };
        let isolated = case.data.account == AccountChoice::Fresh && self.profile.capabilities.subaccounts;
        // Shared-account cases that create calls run one at a time so the account's CPS stays theirs.
        let _turn = if !isolated && case.data.account == AccountChoice::Main && case.creates_calls {
            Some(self.shared_account.lock().await)
        } else {
            None
        };
        let outcome = tokio::time::timeout(deadline, self.run_steps(case, isolated)).await;
        self.sink.close(&case.name);
        match outcome {
            Err(_) => {
                result.status = Status::Fail;
                result.failures.push(Failure {
                    requirement: case.data.requirements.first().cloned(),
                    step: 0,
                    step_label: "case deadline".into(),
                    pointer: None,
                    expected: format!("the case to finish within {} ms", deadline.as_millis()),
                    actual: "still running: the target did not answer or call back in time".into(),
                    message: "case deadline exceeded".into(),
                    curl: None,
                });
            }
            Ok(Err(HarnessFault(e))) => {
                result.status = Status::Error;
                result.error = Some(e);
            }
            Ok(Ok(failures)) => {
                result.status = if failures.is_empty() { Status::Pass } else { Status::Fail };
                result.failures = failures;
            }
        }
        if let Some(known) = self.profile.known_failure(&case.name) {
            if known.expired(&self.today) {
                result.reason = Some(format!("known-failure entry expired on {}: {}", known.expires.as_deref().unwrap_or(""), known.reason));
            } else {
                match result.status {
                    Status::Fail => {
                        result.status = Status::XFail;
                        result.reason = Some(known.reason.clone());
                    }
                    Status::Pass => {
                        result.status = Status::XPass;
                        result.reason = Some(known.reason.clone());
                    }
                    _ => {}
                }
            }
        }
        result.duration = started.elapsed();
        result
    }

    async fn setup_account(&self, case: &Case, isolated: bool) -> Result<(Account, String), HarnessFault> {
        match case.data.account {
            AccountChoice::Trial => {
                let trial = self.trial.clone().ok_or_else(|| HarnessFault("the profile has no trial account".into()))?;
                let from = self.profile.trial.as_ref().map(|t| t.from.clone()).unwrap_or_default();
                Ok((trial, from))
            }
            AccountChoice::Main => Ok((self.main.clone(), self.profile.numbers.from.clone())),
            AccountChoice::Fresh if !isolated => Ok((self.main.clone(), self.profile.numbers.from.clone())),
            AccountChoice::Fresh => {
                let setup = |what: &str, e: String| HarnessFault(format!("setup ({what}) failed: {e}"));
                let create = Outgoing {
                    method: "POST".into(),
                    url: format!("{}/2010-04-01/Accounts.json", self.base_url),
                    basic: Some((self.main.sid.clone(), self.main.token.clone())),
                    body: Some(form_body(&[("FriendlyName".into(), format!("callspec {}", case.name))])),
                };
                let resp = self.client.send(&create).await.map_err(|e| setup("create subaccount", e))?;
                let json = expect_created(&resp).map_err(|e| setup("create subaccount", e))?;
                let sid = json_str(&json, "/sid").ok_or_else(|| setup("create subaccount", "no sid in the answer".into()))?;
                let token =
                    json_str(&json, "/auth_token").ok_or_else(|| setup("create subaccount", "no auth_token in the answer".into()))?;
                let account = Account { sid, token };
                let prefix = self.profile.numbers.fresh_prefix.clone().unwrap_or_else(|| "+1555".into());
                let number = format!("{prefix}{}", random_digits(12usize.saturating_sub(prefix.len()).max(1)));
                let buy = Outgoing {
                    method: "POST".into(),
                    url: format!("{}/2010-04-01/Accounts/{}/IncomingPhoneNumbers.json", self.base_url, account.sid),
                    basic: Some((account.sid.clone(), account.token.clone())),
                    body: Some(form_body(&[("PhoneNumber".into(), number.clone())])),
                };
                let resp = self.client.send(&buy).await.map_err(|e| setup("buy a number", e))?;
                expect_created(&resp).map_err(|e| setup("buy a number", e))?;
                Ok((account, number))
            }
        }
    }

    async fn run_steps(&self, case: &Case, isolated: bool) -> Result<Vec<Failure>, HarnessFault> {
        let (account, from) = self.setup_account(case, isolated).await?;
        let mut vars = self.base_vars(&account, &from);
        let sink_url = self.sink.open(&case.name, BTreeMap::new());
        vars.set("Sink", sink_url);
        self.sink.set_routes(&case.name, self.routes(case, &vars)?);
        let mut run = Run { h: self, case, vars, account, failures: Vec::new(), step: 0, label: String::new(), requirement: None };
        for (i, step) in case.data.steps.iter().enumerate() {
            run.step = i;
            run.requirement = step.requirement.clone().or_else(|| case.data.requirements.first().cloned());
            let times = step.repeat.unwrap_or(1) as usize;
            for rep in 0..times {
                let index = step.repeat.map(|_| rep);
                run.run_step(step, index).await?;
                if !run.failures.is_empty() {
                    return Ok(run.failures);
                }
            }
            // Routes may use values captured by this step.
            self.sink.set_routes(&case.name, self.routes(case, &run.vars)?);
        }
        Ok(run.failures)
    }

    fn base_vars(&self, account: &Account, from: &str) -> Vars {
        let mut v = Vars::default();
        let n = &self.profile.numbers;
        v.set("AccountSid", account.sid.clone());
        v.set_secret("AuthToken", account.token.clone());
        v.set("From", from);
        v.set("MainAccountSid", self.main.sid.clone());
        v.set("MainFrom", n.from.clone());
        for (i, other) in n.other_from.iter().enumerate() {
            v.set(&format!("OtherFrom{i}"), other.clone());
        }
        v.set("AnswerNumber", n.answer.clone());
        for (name, value) in [("BusyNumber", &n.busy), ("NoAnswerNumber", &n.no_answer), ("FailedNumber", &n.failed)] {
            if let Some(value) = value {
                v.set(name, value.clone());
            }
        }
        if let (Some(t), Some(acct)) = (&self.profile.trial, &self.trial) {
            v.set("TrialAccountSid", acct.sid.clone());
            v.set("TrialFrom", t.from.clone());
            v.set("TrialVerifiedNumber", t.verified_number.clone());
            v.set("TrialUnverifiedNumber", t.unverified_number.clone());
        }
        if let Some(limit) = self.profile.capabilities.concurrency_limit {
            v.set("ConcurrencyLimit", limit.to_string());
        }
        v.set("Unreachable", self.profile.sink.unreachable_url.clone().unwrap_or_else(|| "http://127.0.0.1:9/unreachable".into()));
        v
    }

    fn routes(&self, case: &Case, vars: &Vars) -> Result<BTreeMap<String, Route>, HarnessFault> {
        let mut routes = BTreeMap::new();
        for (path, r) in &case.data.sink {
            // A body that names a variable not captured yet is served once the capture exists.
            let body = match &r.body {
                Some(b) => match vars.render(b, None) {
                    Ok(text) => Some(text),
                    Err(_) => continue,
                },
                None => None,
            };
            let content_type = r.content_type.clone().unwrap_or_else(|| "text/xml".into());
            routes.insert(path.clone(), Route { status: r.status, body, content_type, delay: r.delay_ms.map(Duration::from_millis) });
        }
        Ok(routes)
    }
}

fn form_body(pairs: &[(String, String)]) -> (String, Vec<u8>) {
    let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs.iter()).finish();
    ("application/x-www-form-urlencoded".into(), body.into_bytes())
}

fn expect_created(resp: &Incoming) -> Result<serde_json::Value, String> {
    if resp.status != 201 && resp.status != 200 {
        return Err(format!("HTTP {}: {}", resp.status, shorten(&String::from_utf8_lossy(&resp.body), 300)));
    }
    resp.json()
}

fn json_str(v: &serde_json::Value, pointer: &str) -> Option<String> {
    v.pointer(pointer).and_then(|x| x.as_str()).map(str::to_owned)
}

fn value_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Run<'_> {
    fn fail(&mut self, pointer: Option<String>, expected: impl Into<String>, actual: impl Into<String>, message: impl Into<String>, out: Option<&Outgoing>) {
        let secrets = self.secrets();
        let secret_refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
        self.failures.push(Failure {
            requirement: self.requirement.clone(),
            step: self.step,
            step_label: self.label.clone(),
            pointer,
            expected: expected.into(),
            actual: actual.into(),
            message: message.into(),
            curl: out.map(|o| curl(o, &secret_refs)),
        });
    }

    fn secrets(&self) -> Vec<String> {
        let mut s = vec![self.account.token.clone(), self.h.main.token.clone()];
        if let Some(t) = &self.h.trial {
            s.push(t.token.clone());
        }
        s
    }

    async fn run_step(&mut self, step: &Step, index: Option<usize>) -> Result<(), HarnessFault> {
        let name = step.name.clone();
        match &step.action {
            Action::Request(r) => self.request_step(r, index, name).await,
            Action::Poll(p) => self.poll_step(p, index, name).await,
            Action::Callbacks(c) => self.callbacks_step(c, index, name).await,
            Action::Sequence(s) => self.sequence_step(s, name),
            Action::Paginate(p) => self.paginate_step(p, index, name).await,
            Action::Saturate(s) => self.saturate_step(s, index, name).await,
        }
    }

    fn credentials(&self, auth: Auth) -> Result<Option<(String, String)>, HarnessFault> {
        let trial = || self.h.trial.clone().ok_or_else(|| HarnessFault("the case needs the profile's trial account".into()));
        Ok(match auth {
            Auth::None => None,
            Auth::Account => Some((self.account.sid.clone(), self.account.token.clone())),
            Auth::WrongToken => Some((self.account.sid.clone(), format!("{}x", self.account.token.chars().rev().collect::<String>()))),
            Auth::Main => Some((self.h.main.sid.clone(), self.h.main.token.clone())),
            Auth::Trial => {
                let t = trial()?;
                Some((t.sid, t.token))
            }
            Auth::Foreign => {
                let t = trial()?;
                if t.sid == self.account.sid {
                    Some((self.h.main.sid.clone(), self.h.main.token.clone()))
                } else {
                    Some((t.sid, t.token))
                }
            }
        })
    }

    fn build(&self, spec: &RequestSpec, index: Option<usize>) -> Result<Outgoing, HarnessFault> {
        let path = self.vars.render(&spec.path, index)?;
        let mut url = format!("{}{}", self.h.base_url, path);
        if !spec.query.is_empty() {
            let pairs = self.render_pairs(&spec.query, index)?;
            let q = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs.iter()).finish();
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&q);
        }
        let body = if let Some(raw) = &spec.raw_body {
            Some((raw.content_type.clone(), self.vars.render(&raw.text, index)?.into_bytes()))
        } else if !spec.form.is_empty() || spec.method.eq_ignore_ascii_case("POST") {
            Some(form_body(&self.render_pairs(&spec.form, index)?))
        } else {
            None
        };
        Ok(Outgoing { method: spec.method.to_uppercase(), url, basic: self.credentials(spec.auth)?, body })
    }

    fn render_pairs(&self, pairs: &[(String, String)], index: Option<usize>) -> Result<Vec<(String, String)>, HarnessFault> {
        pairs.iter().map(|(k, v)| Ok((k.clone(), self.vars.render(v, index)?))).collect()
    }

    fn label_for(&self, out: &Outgoing, name: Option<String>) -> String {
        let path = out.url.strip_prefix(&self.h.base_url).unwrap_or(&out.url);
        name.unwrap_or_else(|| format!("{} {}", out.method, path))
    }

    async fn request_step(&mut self, r: &RequestStep, index: Option<usize>, name: Option<String>) -> Result<(), HarnessFault> {
        let out = self.build(&r.request, index)?;
        self.label = self.label_for(&out, name);
        let resp = match self.h.client.send(&out).await {
            Ok(resp) => resp,
            Err(e) => {
                self.fail(None, "an HTTP response", e, "the target did not answer", Some(&out));
                return Ok(());
            }
        };
        let json = self.check_expect(&r.expect, &resp, &out, index);
        if self.failures.is_empty() {
            self.capture(&r.capture, json.as_ref(), &out)?;
        }
        Ok(())
    }

    fn capture(&mut self, captures: &BTreeMap<String, String>, json: Option<&serde_json::Value>, out: &Outgoing) -> Result<(), HarnessFault> {
        for (var, pointer) in captures {
            let found = json.and_then(|j| j.pointer(pointer));
            let Some(found) = found else {
                self.fail(Some(pointer.clone()), "a value to capture", "(absent)", format!("cannot capture {var}"), Some(out));
                return Ok(());
            };
            match var.strip_suffix("[]") {
                Some(list) => self.vars.push(list, value_text(found)),
                None => self.vars.set(var, value_text(found)),
            }
        }
        Ok(())
    }

    /// Checks a response against an expectation; returns the parsed JSON body when there is one.
    fn check_expect(&mut self, expect: &Expect, resp: &Incoming, out: &Outgoing, index: Option<usize>) -> Option<serde_json::Value> {
        if let Some(status) = expect.status {
            if resp.status != status {
                let body = shorten(&String::from_utf8_lossy(&resp.body), 300);
                self.fail(None, format!("HTTP {status}"), format!("HTTP {} {body}", resp.status), "wrong status code", Some(out));
            }
        }
        if let Some(any) = &expect.status_in {
            if !any.contains(&resp.status) {
                let body = shorten(&String::from_utf8_lossy(&resp.body), 300);
                self.fail(None, format!("HTTP status in {any:?}"), format!("HTTP {} {body}", resp.status), "wrong status code", Some(out));
            }
        }
        if expect.empty_body == Some(true) && !resp.body.is_empty() {
            self.fail(None, "an empty body", shorten(&String::from_utf8_lossy(&resp.body), 300), "the body must be empty", Some(out));
        }
        let wants_json = expect.schema.is_some() || !expect.json.is_empty() || expect.error_code.is_some();
        if !wants_json {
            return resp.json().ok();
        }
        let ct = resp.content_type.clone().unwrap_or_default();
        if !ct.starts_with("application/json") {
            self.fail(None, "Content-Type: application/json", format!("Content-Type: {ct:?}"), "JSON bodies carry Content-Type application/json", Some(out));
        }
        let json = match resp.json() {
            Ok(j) => j,
            Err(e) => {
                self.fail(None, "a JSON body", e, "the body is not JSON", Some(out));
                return None;
            }
        };
        if let Some(code) = expect.error_code {
            self.check_schema("error", &json, out, "");
            if json.get("code") != Some(&serde_json::Value::from(code)) {
                self.fail(Some("/code".into()), code.to_string(), show(json.get("code")), "wrong Twilio error code", Some(out));
            }
            if json.get("status") != Some(&serde_json::Value::from(resp.status)) {
                self.fail(Some("/status".into()), resp.status.to_string(), show(json.get("status")), "the error body's status must equal the HTTP status", Some(out));
            }
            let more = json.get("more_info").and_then(|m| m.as_str()).unwrap_or("");
            if !more.contains(&code.to_string()) {
                self.fail(Some("/more_info".into()), format!("a URL naming {code}"), show(json.get("more_info")), "more_info must name the error code", Some(out));
            }
        }
        if let Some(schema) = &expect.schema {
            self.check_schema(schema, &json, out, "");
        }
        self.check_matchers(&expect.json, &json, out, index);
        Some(json)
    }

    fn check_schema(&mut self, schema: &str, json: &serde_json::Value, out: &Outgoing, prefix: &str) {
        match self.h.schemas.validate(schema, json) {
            Ok(violations) => {
                for v in violations.into_iter().take(10) {
                    let pointer = format!("{prefix}{}", v.instance_pointer);
                    let found = json.pointer(&v.instance_pointer);
                    self.fail(Some(pointer), format!("valid against schemas/{schema}.schema.json"), show(found), v.message, Some(out));
                }
            }
            Err(e) => self.fail(None, format!("schema {schema}"), e.to_string(), "schema could not be applied", Some(out)),
        }
    }

    fn check_matchers(&mut self, matchers: &[Matcher], json: &serde_json::Value, out: &Outgoing, index: Option<usize>) {
        for m in matchers {
            if let Err(Mismatch { expected, actual }) = check_rule(&m.rule, json.pointer(&m.pointer), &self.vars, index) {
                self.fail(Some(m.pointer.clone()), expected, actual, "value does not match", Some(out));
            }
        }
    }

    async fn poll_step(&mut self, p: &PollStep, index: Option<usize>, name: Option<String>) -> Result<(), HarnessFault> {
        let out = self.build(&p.request, index)?;
        self.label = match name {
            Some(n) => n,
            None => format!("poll {}", self.label_for(&out, None)),
        };
        let deadline = Instant::now() + scaled(self.h, p.within_ms);
        let interval = Duration::from_millis(p.interval_ms.unwrap_or(100));
        let mut last: Option<(Incoming, Option<serde_json::Value>)> = None;
        let mut last_error = String::new();
        loop {
            match self.h.client.send(&out).await {
                Ok(resp) => {
                    let json = resp.json().ok();
                    let holds = json.as_ref().is_some_and(|j| {
                        p.until.iter().all(|m| check_rule(&m.rule, j.pointer(&m.pointer), &self.vars, index).is_ok())
                    });
                    last = Some((resp, json));
                    if holds {
                        break;
                    }
                }
                Err(e) => last_error = e,
            }
            if Instant::now() + interval > deadline {
                let actual = match &last {
                    Some((_, Some(j))) => p
                        .until
                        .iter()
                        .map(|m| format!("{} = {}", m.pointer, show(j.pointer(&m.pointer))))
                        .collect::<Vec<_>>()
                        .join(", "),
                    Some((resp, None)) => format!("HTTP {} with a non-JSON body", resp.status),
                    None => format!("no response: {last_error}"),
                };
                let expected = p.until.iter().map(|m| format!("{} {:?}", m.pointer, m.rule)).collect::<Vec<_>>().join(", ");
                self.fail(None, expected, actual, format!("condition not reached within {} ms", scaled(self.h, p.within_ms).as_millis()), Some(&out));
                return Ok(());
            }
            tokio::time::sleep(interval).await;
        }
        if let Some((resp, _)) = &last {
            let json = match &p.expect {
                Some(expect) => self.check_expect(expect, resp, &out, index),
                None => resp.json().ok(),
            };
            if self.failures.is_empty() {
                self.capture(&p.capture, json.as_ref(), &out)?;
            }
        }
        Ok(())
    }

    fn matches_filter(&self, c: &CallbacksStep, r: &Recorded, index: Option<usize>) -> bool {
        r.path == c.path && c.filter.iter().all(|(k, rule)| check_param(rule, r.param(k), &self.vars, index).is_ok())
    }

    async fn callbacks_step(&mut self, c: &CallbacksStep, index: Option<usize>, name: Option<String>) -> Result<(), HarnessFault> {
        self.label = name.unwrap_or_else(|| format!("requests to {{Sink}}{}", c.path));
        let deadline = Instant::now() + scaled(self.h, c.within_ms);
        let count = c.count as usize;
        let mut seen: Vec<Recorded>;
        loop {
            seen = self.h.sink.requests(&self.case.name).into_iter().filter(|r| self.matches_filter(c, r, index)).collect();
            if seen.len() >= count && (count > 0 || c.quiet_ms.is_none()) || Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if let Some(quiet) = c.quiet_ms {
            tokio::time::sleep(scaled(self.h, quiet)).await;
            seen = self.h.sink.requests(&self.case.name).into_iter().filter(|r| self.matches_filter(c, r, index)).collect();
        }
        let summary = |list: &[Recorded]| -> String {
            if list.is_empty() {
                return "none".into();
            }
            list.iter()
                .map(|r| {
                    let key: Vec<String> = ["CallStatus", "SequenceNumber", "RecordingStatus"]
                        .iter()
                        .filter_map(|k| r.param(k).map(|v| format!("{k}={v}")))
                        .collect();
                    format!("{} {} [{}]", r.method, r.path, key.join(" "))
                })
                .collect::<Vec<_>>()
                .join("; ")
        };
        if seen.len() != count {
            let filter = if c.filter.is_empty() { String::new() } else { format!(" where {:?}", c.filter) };
            self.fail(
                None,
                format!("{count} request(s) to {}{filter}", c.path),
                format!("{}: {}", seen.len(), summary(&seen)),
                format!("wrong number of requests within {} ms", scaled(self.h, c.within_ms).as_millis()),
                None,
            );
            return Ok(());
        }
        let signed = c.signed.unwrap_or(true);
        for (i, r) in seen.iter().enumerate() {
            let at = format!("request #{} ({} {})", i + 1, r.method, r.path);
            if let Some(problem) = &r.body_problem {
                self.fail(Some(at.clone()), "a form-encoded body", problem.clone(), "callback bodies are application/x-www-form-urlencoded", None);
            }
            if let Some(m) = &c.method {
                if &r.method != m {
                    self.fail(Some(at.clone()), m.clone(), r.method.clone(), "wrong HTTP method", None);
                }
            }
            if signed {
                self.check_signature(r, &at);
            }
            if let Some(schema) = &c.schema {
                let params = r.params_json();
                if let Ok(violations) = self.h.schemas.validate(schema, &params) {
                    for v in violations.into_iter().take(10) {
                        let found = params.pointer(&v.instance_pointer);
                        self.fail(Some(format!("{at}{}", v.instance_pointer)), format!("valid against schemas/{schema}.schema.json"), show(found), v.message, None);
                    }
                }
            }
            for (param, rule) in &c.each {
                if let Err(m) = check_param(rule, r.param(param), &self.vars, index) {
                    self.fail(Some(format!("{at}/{param}")), m.expected, m.actual, "parameter does not match", None);
                }
            }
            if let Some(expected) = c.sequence.get(i) {
                for (param, rule) in expected {
                    if let Err(m) = check_param(rule, r.param(param), &self.vars, index) {
                        self.fail(
                            Some(format!("{at}/{param}")),
                            m.expected,
                            format!("{} (arrived: {})", m.actual, summary(&seen)),
                            "requests out of order or with the wrong parameters",
                            None,
                        );
                    }
                }
            }
        }
        if !c.sequence.is_empty() && c.sequence.len() != count {
            return Err(HarnessFault(format!("step {}: `sequence` has {} entries but `count` is {count}", self.step + 1, c.sequence.len())));
        }
        if let Some(spacing) = &c.spacing {
            for pair in seen.windows(2) {
                let gap = pair[1].at.duration_since(pair[0].at);
                let gap_ms = gap.as_millis() as u64;
                if let Some(min) = spacing.min_ms {
                    let floor = min.saturating_sub(spacing.tolerance_ms.unwrap_or(0));
                    if gap_ms < floor {
                        self.fail(None, format!("at least {min} ms between requests (tolerance {} ms)", spacing.tolerance_ms.unwrap_or(0)), format!("{gap_ms} ms: {}", summary(pair)), "requests too close together", None);
                    }
                }
                if let Some(max) = spacing.max_ms {
                    let ceiling = scaled(self.h, max).as_millis() as u64;
                    if gap_ms > ceiling {
                        self.fail(None, format!("at most {ceiling} ms between requests"), format!("{gap_ms} ms"), "requests too far apart", None);
                    }
                }
            }
        }
        if self.failures.is_empty() {
            if let Some(last) = seen.last() {
                for (var, param) in &c.capture {
                    let value = last.param(param).unwrap_or("").to_owned();
                    match var.strip_suffix("[]") {
                        Some(list) => self.vars.push(list, value),
                        None => self.vars.set(var, value),
                    }
                }
            }
        }
        Ok(())
    }

    fn check_signature(&mut self, r: &Recorded, at: &str) {
        match &r.signature {
            None => self.fail(Some(format!("{at}/X-Twilio-Signature")), "an X-Twilio-Signature header", "(absent)", "every request the target makes must be signed", None),
            Some(sig) => {
                let params: &[(String, String)] = if r.method == "POST" { &r.form } else { &[] };
                if !signature::validate(&self.account.token, &r.url, params, sig) {
                    self.fail(
                        Some(format!("{at}/X-Twilio-Signature")),
                        format!("HMAC-SHA1 with the account's auth token over {} plus the sorted POST parameters", r.url),
                        sig.clone(),
                        "X-Twilio-Signature does not validate",
                        None,
                    );
                }
            }
        }
    }

    fn sequence_step(&mut self, s: &SequenceStep, name: Option<String>) -> Result<(), HarnessFault> {
        self.label = name.unwrap_or_else(|| format!("sequence of {}", s.values));
        let Some(values) = self.vars.list(&s.values).map(<[String]>::to_vec) else {
            return Err(HarnessFault(format!("no captured list {:?}", s.values)));
        };
        if let Some(n) = s.count {
            if values.len() != n {
                self.fail(None, format!("{n} values"), format!("{}", values.len()), "wrong number of values", None);
                return Ok(());
            }
        }
        let mut numbers = Vec::new();
        for v in &values {
            let n = match s.read_as.as_str() {
                "rfc2822" => callspec_model::rfc2822::parse(v).map(|t| t.unix_timestamp()).map_err(|e| e.to_string()),
                _ => v.trim().parse::<i64>().map_err(|e| e.to_string()),
            };
            match n {
                Ok(n) => numbers.push(n),
                Err(e) => {
                    self.fail(None, format!("a value readable as {}", s.read_as), format!("{v:?} ({e})"), "unreadable value", None);
                    return Ok(());
                }
            }
        }
        for (i, pair) in numbers.windows(2).enumerate() {
            if pair[1] - pair[0] < s.min_step {
                self.fail(
                    Some(format!("{}[{}]", s.values, i + 1)),
                    format!("at least {} more than the previous value", s.min_step),
                    format!("{:?} after {:?} (all: {:?})", values[i + 1], values[i], values),
                    "values do not grow as required",
                    None,
                );
            }
        }
        Ok(())
    }

    async fn paginate_step(&mut self, p: &PaginateStep, index: Option<usize>, name: Option<String>) -> Result<(), HarnessFault> {
        let mut out = self.build(&p.request, index)?;
        self.label = self.label_for(&out, name);
        let mut seen: Vec<String> = Vec::new();
        let mut pages = 0u32;
        let max_pages = p.max_pages.unwrap_or(1000);
        loop {
            pages += 1;
            if pages > max_pages {
                self.fail(None, format!("at most {max_pages} pages"), "more", "next_page_uri never ends", Some(&out));
                return Ok(());
            }
            let resp = match self.h.client.send(&out).await {
                Ok(r) => r,
                Err(e) => {
                    self.fail(None, "an HTTP response", e, format!("page {pages} did not answer"), Some(&out));
                    return Ok(());
                }
            };
            let expect = Expect { status: Some(200), schema: p.schema.clone(), ..Expect::default() };
            let Some(json) = self.check_expect(&expect, &resp, &out, index) else { return Ok(()) };
            if !self.failures.is_empty() {
                return Ok(());
            }
            let items = json.pointer(&p.items).and_then(|i| i.as_array()).cloned().unwrap_or_default();
            let next = json.get("next_page_uri").and_then(|n| n.as_str()).map(str::to_owned);
            if let (Some(size), Some(_)) = (p.page_size, &next) {
                if items.len() != size {
                    self.fail(Some(p.items.clone()), format!("{size} items on a page that has a next page"), items.len().to_string(), format!("page {pages} is short"), Some(&out));
                }
            }
            for item in &items {
                match item.pointer(&p.id) {
                    Some(id) => seen.push(value_text(id)),
                    None => self.fail(Some(format!("{}/…{}", p.items, p.id)), "an id on every item", show(Some(item)), "item without id", Some(&out)),
                }
            }
            match next {
                Some(uri) if !uri.is_empty() => {
                    out = Outgoing { url: format!("{}{}", self.h.base_url, uri), body: None, method: "GET".into(), basic: out.basic.clone() };
                }
                _ => break,
            }
        }
        let unique: HashSet<&String> = seen.iter().collect();
        if unique.len() != seen.len() {
            let mut dupes: Vec<&String> = seen.iter().filter(|s| seen.iter().filter(|t| t == s).count() > 1).collect();
            dupes.dedup();
            self.fail(None, "every item exactly once", format!("repeated: {}", dupes.iter().take(5).map(|s| s.as_str()).collect::<Vec<_>>().join(", ")), "paging repeats items", None);
        }
        if unique.len() != p.expect_total {
            self.fail(None, format!("{} distinct items over {pages} pages", p.expect_total), unique.len().to_string(), "paging does not visit every item", None);
        }
        if let Some(list) = &p.ids_from {
            let want: HashSet<String> = self.vars.list(list).map(|l| l.iter().cloned().collect()).unwrap_or_default();
            let missing: Vec<&String> = want.iter().filter(|w| !unique.contains(w)).take(5).collect();
            if !missing.is_empty() {
                self.fail(None, format!("every id of {list}"), format!("missing {missing:?}"), "paging skipped items", None);
            }
        }
        Ok(())
    }

    async fn saturate_step(&mut self, s: &SaturateStep, index: Option<usize>, name: Option<String>) -> Result<(), HarnessFault> {
        let probe = self.build(&s.request, index)?;
        self.label = name.unwrap_or_else(|| "saturate the concurrency limit".into());
        let hold: usize = self.vars.render(&s.hold, index)?.parse().map_err(|e| HarnessFault(format!("hold: {e}")))?;
        let url = url::Url::parse(&probe.url).map_err(|e| HarnessFault(e.to_string()))?;
        if url.scheme() != "http" {
            return Err(HarnessFault("saturate holds requests over plain TCP and needs an http:// target".into()));
        }
        let host = url.host_str().unwrap_or("127.0.0.1").to_owned();
        let port = url.port_or_known_default().unwrap_or(80);
        let (user, pass) = probe.basic.clone().unwrap_or_default();
        let head = format!(
            "POST {} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 64\r\n\r\nTo=",
            url.path(),
            crate::client::basic_header(&user, &pass)
        );
        let mut held = Vec::new();
        for _ in 0..hold {
            let mut stream = tokio::net::TcpStream::connect((host.as_str(), port)).await.map_err(|e| HarnessFault(format!("cannot open a held request: {e}")))?;
            stream.write_all(head.as_bytes()).await.map_err(|e| HarnessFault(e.to_string()))?;
            held.push(stream);
        }
        // The target sees the held requests a moment after they are written: probe until the
        // expected status arrives or the deadline passes.
        let deadline = Instant::now() + scaled(self.h, 3000);
        let mut last = None;
        while Instant::now() < deadline {
            if let Ok(resp) = self.h.client.send(&probe).await {
                let done = Some(resp.status) == s.expect.status;
                last = Some(resp);
                if done {
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        drop(held);
        match last {
            Some(resp) => {
                self.check_expect(&s.expect, &resp, &probe, index);
            }
            None => self.fail(None, "an HTTP response", "none", "the probe request did not answer", Some(&probe)),
        }
        Ok(())
    }
}
