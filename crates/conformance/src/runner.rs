//! Running one case against the target: account setup, steps, checks, verdict.
//!
//! Invariants: a target's misbehaviour is a FAIL with expected and actual values; a harness
//! or setup fault (fixture template error, subaccount creation refused, sink gone) is an
//! ERROR. Every wait has a deadline scaled by the profile's multiplier, and the whole case
//! runs under its own deadline, so no target can hang a run.

use crate::client::{Client, Incoming, Outgoing, curl};
use crate::fixture::{
    AccountChoice, Action, Auth, CallbacksStep, Case, Expect, Matcher, PaginateStep, PollStep, RequestSpec,
    RequestStep, SaturateStep, SequenceStep, Step,
};
use crate::matcher::{Mismatch, check_param, check_rule, describe_rule, shorten, show};
use crate::outcome::{CaseResult, Failure, Status};
use crate::profile::{Account, Profile};
use crate::schema::SchemaSet;
use crate::sink::{Recorded, Route, Sink};
use crate::snapshot::{Artifacts, Literals, Normalizer, diff, read_snapshot, snapshot_file, waive};
use crate::template::Vars;
use callspec_model::signature;
use serde_json::json;
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
    /// Snapshot settings; off unless set with [`Harness::with_snapshots`].
    pub snapshots: Option<SnapshotSettings>,
    /// One turn at a time per shared account (main, trial) for cases that create calls.
    shared_main: tokio::sync::Mutex<()>,
    shared_trial: tokio::sync::Mutex<()>,
}

/// How a run treats golden snapshots.
#[derive(Debug, Clone)]
pub struct SnapshotSettings {
    /// Repository root holding `fixtures/snapshots/`.
    pub root: std::path::PathBuf,
    /// Target name and version, recorded in regenerated snapshots.
    pub source: String,
}

/// The accounts a run acts as.
#[derive(Debug, Clone)]
pub struct Accounts {
    /// The main account.
    pub main: Account,
    /// The trial account, if the profile has one.
    pub trial: Option<Account>,
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
    artifacts: Artifacts,
    /// The step running now, shared with `run_case` so a deadline names it.
    progress: Arc<std::sync::Mutex<(usize, String)>>,
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
        accounts: Accounts,
        today: String,
    ) -> Harness {
        let Accounts { main, trial } = accounts;
        Harness {
            profile,
            schemas,
            sink,
            client,
            base_url: base_url.trim_end_matches('/').to_owned(),
            main,
            trial,
            today,
            snapshots: None,
            shared_main: tokio::sync::Mutex::new(()),
            shared_trial: tokio::sync::Mutex::new(()),
        }
    }

    /// Compares every passing case with its golden snapshot.
    pub fn with_snapshots(mut self, settings: SnapshotSettings) -> Harness {
        self.snapshots = Some(settings);
        self
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
        let _turn = match (isolated, case.data.account, case.creates_calls) {
            (false, AccountChoice::Trial, true) => Some(self.shared_trial.lock().await),
            (false, _, true) => Some(self.shared_main.lock().await),
            _ => None,
        };
        let progress = Arc::new(std::sync::Mutex::new((0usize, String::from("account setup"))));
        let outcome = tokio::time::timeout(deadline, self.run_steps(case, isolated, progress.clone())).await;
        self.sink.close(&case.name);
        match outcome {
            Err(_) => {
                let (step, label) = progress.lock().unwrap_or_else(|p| p.into_inner()).clone();
                result.status = Status::Fail;
                result.failures.push(Failure {
                    requirement: case.data.requirements.first().cloned(),
                    step,
                    step_label: format!("{label}, when the case deadline passed"),
                    pointer: None,
                    expected: format!("the case to finish within {} ms", deadline.as_millis()),
                    actual: "still running: the target did not answer or call back in time".into(),
                    message: "case deadline exceeded".into(),
                    curl: None,
                });
            }
            Ok(Err(HarnessFault(e))) => {
                result.status = Status::Error;
                let mut secrets = vec![self.main.token.as_str()];
                if let Some(t) = &self.trial {
                    secrets.push(t.token.as_str());
                }
                result.error = Some(mask(e, &secrets));
            }
            Ok(Ok(failures)) => {
                result.status = if failures.is_empty() { Status::Pass } else { Status::Fail };
                result.failures = failures;
            }
        }
        if let Some(known) = self.profile.known_failure(&case.name) {
            if known.expired(&self.today) {
                result.reason = Some(format!(
                    "known-failure entry expired on {}: {}",
                    known.expires.as_deref().unwrap_or(""),
                    known.reason
                ));
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
                let trial =
                    self.trial.clone().ok_or_else(|| HarnessFault("the profile has no trial account".into()))?;
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
                let sid =
                    json_str(&json, "/sid").ok_or_else(|| setup("create subaccount", "no sid in the answer".into()))?;
                let token = json_str(&json, "/auth_token")
                    .ok_or_else(|| setup("create subaccount", "no auth_token in the answer".into()))?;
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

    async fn run_steps(
        &self,
        case: &Case,
        isolated: bool,
        progress: Arc<std::sync::Mutex<(usize, String)>>,
    ) -> Result<Vec<Failure>, HarnessFault> {
        let (account, from) = self.setup_account(case, isolated).await?;
        let mut vars = self.base_vars(&account, &from);
        let sink_url = self.sink.open(&case.name, BTreeMap::new());
        vars.set("Sink", sink_url);
        self.sink.set_routes(&case.name, self.routes(case, &vars));
        let mut run = Run {
            h: self,
            case,
            vars,
            account,
            failures: Vec::new(),
            step: 0,
            label: String::new(),
            requirement: None,
            artifacts: Artifacts::default(),
            progress,
        };
        for (i, step) in case.data.steps.iter().enumerate() {
            run.step = i;
            run.requirement = step.requirement.clone().or_else(|| case.data.requirements.first().cloned());
            *run.progress.lock().unwrap_or_else(|p| p.into_inner()) =
                (i, step.name.clone().unwrap_or_else(|| format!("step {}", i + 1)));
            let times = step.repeat.unwrap_or(1) as usize;
            for rep in 0..times {
                let index = step.repeat.map(|_| rep);
                run.run_step(step, index).await?;
                if !run.failures.is_empty() {
                    return Ok(run.failures);
                }
            }
            // Routes may use values captured by this step.
            self.sink.set_routes(&case.name, self.routes(case, &run.vars));
        }
        if let Some(settings) = &self.snapshots {
            let failures = run.compare_snapshot(settings, isolated);
            run.failures.extend(failures);
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
        let now = time::OffsetDateTime::now_utc().date();
        v.set("Today", now.to_string());
        v.set("Yesterday", now.previous_day().map(|d| d.to_string()).unwrap_or_default());
        v.set("Tomorrow", now.next_day().map(|d| d.to_string()).unwrap_or_default());
        v.set(
            "Unreachable",
            self.profile.sink.unreachable_url.clone().unwrap_or_else(|| "http://127.0.0.1:9/unreachable".into()),
        );
        v
    }

    fn routes(&self, case: &Case, vars: &Vars) -> BTreeMap<String, Route> {
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
            routes.insert(
                path.clone(),
                Route { status: r.status, body, content_type, delay: r.delay_ms.map(Duration::from_millis) },
            );
        }
        routes
    }
}

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

/// Where a schema violation is and what was found there. A missing required property is
/// reported at the property's own pointer, as absent, rather than at its parent.
fn violation_target(v: &crate::schema::SchemaViolation, json: &serde_json::Value) -> (String, String) {
    if let Some(name) =
        v.message.strip_suffix(" is a required property").and_then(|q| serde_json::from_str::<String>(q).ok())
    {
        let escaped = name.replace('~', "~0").replace('/', "~1");
        return (format!("{}/{escaped}", v.instance_pointer), "(absent)".to_owned());
    }
    let pointer = if v.instance_pointer.is_empty() { "(root)".to_owned() } else { v.instance_pointer.clone() };
    (pointer, show(json.pointer(&v.instance_pointer)))
}

/// Replaces every secret in `text` by `****`.
fn mask(mut text: String, secrets: &[&str]) -> String {
    for s in secrets.iter().filter(|s| !s.is_empty()) {
        if text.contains(s) {
            text = text.replace(s, "****");
        }
    }
    text
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
    fn fail(
        &mut self,
        pointer: Option<String>,
        expected: impl Into<String>,
        actual: impl Into<String>,
        message: impl Into<String>,
        out: Option<&Outgoing>,
    ) {
        let secrets = self.secrets();
        let secret_refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
        // A target may echo credentials back; nothing it sends reaches a message unmasked.
        let masked = |text: String| mask(text, &secret_refs);
        self.failures.push(Failure {
            requirement: self.requirement.clone(),
            step: self.step,
            step_label: masked(self.label.clone()),
            pointer,
            expected: masked(expected.into()),
            actual: masked(actual.into()),
            message: masked(message.into()),
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
        let trial =
            || self.h.trial.clone().ok_or_else(|| HarnessFault("the case needs the profile's trial account".into()));
        Ok(match auth {
            Auth::None => None,
            Auth::Account => Some((self.account.sid.clone(), self.account.token.clone())),
            Auth::WrongToken => {
                Some((self.account.sid.clone(), format!("{}x", self.account.token.chars().rev().collect::<String>())))
            }
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

    fn render_pairs(
        &self,
        pairs: &[(String, String)],
        index: Option<usize>,
    ) -> Result<Vec<(String, String)>, HarnessFault> {
        pairs.iter().map(|(k, v)| Ok((k.clone(), self.vars.render(v, index)?))).collect()
    }

    fn label_for(&self, out: &Outgoing, name: Option<String>) -> String {
        let path = out.url.strip_prefix(&self.h.base_url).unwrap_or(&out.url);
        name.unwrap_or_else(|| format!("{} {}", out.method, path))
    }

    async fn request_step(
        &mut self,
        r: &RequestStep,
        index: Option<usize>,
        name: Option<String>,
    ) -> Result<(), HarnessFault> {
        let out = self.build(&r.request, index)?;
        self.label = self.label_for(&out, name);
        let resp = match self.h.client.send(&out).await {
            Ok(resp) => resp,
            Err(e) => {
                self.fail(None, "an HTTP response", e, "no usable response from the target", Some(&out));
                return Ok(());
            }
        };
        self.record_response(index, "request", &resp);
        let json = self.check_expect(&r.expect, &resp, &out, index);
        if self.failures.is_empty() {
            self.capture(&r.capture, json.as_ref(), &out)?;
        }
        Ok(())
    }

    /// Keeps a response for the snapshot; of a repeated step only the first repetition.
    fn record_response(&mut self, index: Option<usize>, kind: &str, resp: &Incoming) {
        if index.is_some_and(|i| i > 0) {
            return;
        }
        let body = match resp.json() {
            Ok(j) => j,
            Err(_) if resp.body.is_empty() => serde_json::Value::Null,
            Err(_) => serde_json::Value::String(shorten(&String::from_utf8_lossy(&resp.body), 2000)),
        };
        self.artifacts.push(json!({"step": self.step + 1, kind: self.label, "status": resp.status, "body": body}));
    }

    /// Normalizes the artifacts and compares them with the case's golden snapshot.
    fn compare_snapshot(&mut self, settings: &SnapshotSettings, isolated: bool) -> Vec<Failure> {
        if !self.failures.is_empty() {
            return Vec::new();
        }
        let mut literals = Literals::default();
        for secret in self.secrets() {
            literals.add(secret, "[secret]");
        }
        if let Some(sink) = self.vars.get("Sink") {
            literals.add(sink, "[Sink]");
        }
        literals.add(self.h.base_url.clone(), "[Target]");
        if isolated && let Some(from) = self.vars.get("From") {
            // The fresh number is random: hide it in both its forms.
            literals.add(callspec_model::endpoint::formatted(from), "[From formatted]");
            literals.add(from.replace('+', "%2B"), "[From]");
            literals.add(from, "[From]");
        }
        let document = serde_json::Value::Array(self.artifacts.items().to_vec());
        let mut normalized = Normalizer::new(literals).normalize(&document);
        let waivers: Vec<String> = self
            .h
            .profile
            .snapshot_waivers
            .iter()
            .filter(|w| w.matches(&self.case.name))
            .flat_map(|w| w.pointers.iter().cloned())
            .collect();
        waive(&mut normalized, &waivers);
        let text = serde_json::to_string_pretty(&normalized).unwrap_or_default();
        let file = snapshot_file(&settings.root, &self.case.name);
        let reviewed = read_snapshot(&file);
        let dir = file.parent().map(std::path::Path::to_path_buf).unwrap_or_default();
        let name = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let mut insta_settings = insta::Settings::new();
        insta_settings.set_snapshot_path(&dir);
        insta_settings.set_prepend_module_to_snapshot(false);
        insta_settings.set_omit_expression(true);
        insta_settings.set_input_file(&self.case.file);
        insta_settings.set_info(&json!({"case": self.case.name, "target": settings.source, "recorded": self.h.today}));
        // insta decides pass, update or pending (INSTA_UPDATE); its panic on a mismatch is caught
        // and replaced by a diff by JSON pointer.
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            insta_settings.bind(|| insta::assert_snapshot!(name.as_str(), text.as_str()));
        }));
        if outcome.is_ok() {
            return Vec::new();
        }
        let shown = file.strip_prefix(&settings.root).unwrap_or(&file).display().to_string();
        let base = |pointer: Option<String>, expected: String, actual: String, message: String| Failure {
            requirement: None,
            step: self.case.data.steps.len().saturating_sub(1),
            step_label: format!("snapshot {shown}"),
            pointer,
            expected,
            actual,
            message,
            curl: None,
        };
        let Some(reviewed) = reviewed.and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok()) else {
            return vec![base(
                None,
                format!("a reviewed snapshot at {shown}"),
                "none".into(),
                "no snapshot yet: run `cargo xtask snapshots` against the reference emulator and review it".into(),
            )];
        };
        let differences = diff(&reviewed, &normalized);
        let total = differences.len();
        let mut failures: Vec<Failure> = differences
            .into_iter()
            .take(10)
            .map(|d| {
                base(
                    Some(d.pointer),
                    d.expected,
                    d.actual,
                    "differs from the reviewed snapshot (`cargo insta review` to accept)".into(),
                )
            })
            .collect();
        if total > 10 {
            failures.push(base(None, String::new(), format!("{} more", total - 10), "more differences".into()));
        }
        if failures.is_empty() {
            failures.push(base(
                None,
                "identical text".into(),
                "different formatting".into(),
                "snapshot text differs".into(),
            ));
        }
        failures
    }

    fn capture(
        &mut self,
        captures: &BTreeMap<String, String>,
        json: Option<&serde_json::Value>,
        out: &Outgoing,
    ) -> Result<(), HarnessFault> {
        for (var, pointer) in captures {
            let found = json.and_then(|j| j.pointer(pointer));
            let Some(found) = found else {
                self.fail(
                    Some(pointer.clone()),
                    "a value to capture",
                    "(absent)",
                    format!("cannot capture {var}"),
                    Some(out),
                );
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
    fn check_expect(
        &mut self,
        expect: &Expect,
        resp: &Incoming,
        out: &Outgoing,
        index: Option<usize>,
    ) -> Option<serde_json::Value> {
        // A wrong status makes the body checks noise (an error body is not a Call): stop there.
        let allowed: Vec<u16> = expect.status.into_iter().chain(expect.status_in.iter().flatten().copied()).collect();
        if !allowed.is_empty() && !allowed.contains(&resp.status) {
            let wanted = match allowed.as_slice() {
                [one] => format!("HTTP {one}"),
                many => format!("HTTP status in {many:?}"),
            };
            let body = shorten(&String::from_utf8_lossy(&resp.body), 300);
            self.fail(None, wanted, format!("HTTP {} {body}", resp.status), "wrong status code", Some(out));
            return resp.json().ok();
        }
        if expect.empty_body == Some(true) && !resp.body.is_empty() {
            self.fail(
                None,
                "an empty body",
                shorten(&String::from_utf8_lossy(&resp.body), 300),
                "the body must be empty",
                Some(out),
            );
        }
        let wants_json = expect.schema.is_some() || !expect.json.is_empty() || expect.error_code.is_some();
        if !wants_json {
            return resp.json().ok();
        }
        let ct = resp.content_type.clone().unwrap_or_default();
        if !ct.starts_with("application/json") {
            self.fail(
                None,
                "Content-Type: application/json",
                format!("Content-Type: {ct:?}"),
                "JSON bodies carry Content-Type application/json",
                Some(out),
            );
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
                self.fail(
                    Some("/code".into()),
                    code.to_string(),
                    show(json.get("code")),
                    "wrong Twilio error code",
                    Some(out),
                );
            }
            if json.get("status") != Some(&serde_json::Value::from(resp.status)) {
                self.fail(
                    Some("/status".into()),
                    resp.status.to_string(),
                    show(json.get("status")),
                    "the error body's status must equal the HTTP status",
                    Some(out),
                );
            }
            let more = json.get("more_info").and_then(|m| m.as_str()).unwrap_or("");
            if !more.contains(&code.to_string()) {
                self.fail(
                    Some("/more_info".into()),
                    format!("a URL naming {code}"),
                    show(json.get("more_info")),
                    "more_info must name the error code",
                    Some(out),
                );
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
                    let (pointer, found) = violation_target(&v, json);
                    self.fail(
                        Some(format!("{prefix}{pointer}")),
                        format!("valid against schemas/{schema}.schema.json"),
                        found,
                        v.message,
                        Some(out),
                    );
                }
            }
            Err(e) => {
                self.fail(None, format!("schema {schema}"), e.to_string(), "schema could not be applied", Some(out))
            }
        }
    }

    fn check_matchers(&mut self, matchers: &[Matcher], json: &serde_json::Value, out: &Outgoing, index: Option<usize>) {
        for m in matchers {
            if let Err(Mismatch { expected, actual }) = check_rule(&m.rule, json.pointer(&m.pointer), &self.vars, index)
            {
                self.fail(Some(m.pointer.clone()), expected, actual, "value does not match", Some(out));
            }
        }
    }

    async fn poll_step(
        &mut self,
        p: &PollStep,
        index: Option<usize>,
        name: Option<String>,
    ) -> Result<(), HarnessFault> {
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
                let expected = p
                    .until
                    .iter()
                    .map(|m| format!("{} {}", m.pointer, describe_rule(&m.rule)))
                    .collect::<Vec<_>>()
                    .join(", ");
                self.fail(
                    None,
                    expected,
                    actual,
                    format!("condition not reached within {} ms", scaled(self.h, p.within_ms).as_millis()),
                    Some(&out),
                );
                return Ok(());
            }
            tokio::time::sleep(interval).await;
        }
        if let Some((resp, _)) = &last {
            self.record_response(index, "poll", resp);
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
        // `*` counts every request the target made to the case's prefix, whatever its path.
        (c.path == "*" || r.path == c.path)
            && c.filter.iter().all(|(k, rule)| check_param(rule, r.param(k), &self.vars, index).is_ok())
    }

    async fn callbacks_step(
        &mut self,
        c: &CallbacksStep,
        index: Option<usize>,
        name: Option<String>,
    ) -> Result<(), HarnessFault> {
        self.label = name.unwrap_or_else(|| format!("requests to {{Sink}}{}", c.path));
        let deadline = Instant::now() + scaled(self.h, c.within_ms);
        let count = c.count as usize;
        let matching = || -> Vec<Recorded> {
            self.h.sink.requests(&self.case.name).into_iter().filter(|r| self.matches_filter(c, r, index)).collect()
        };
        let mut seen = matching();
        // `count: 0` has nothing to wait for: only the quiet period below watches for strays.
        while seen.len() < count && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
            seen = matching();
        }
        if let Some(quiet) = c.quiet_ms {
            tokio::time::sleep(scaled(self.h, quiet)).await;
            seen = matching();
        }
        let summary = |list: &[Recorded]| -> String {
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
        if index.is_none_or(|i| i == 0) {
            let requests: Vec<serde_json::Value> = seen.iter().map(recorded_artifact).collect();
            self.artifacts.push(json!({"step": self.step + 1, "callbacks": c.path, "requests": requests}));
        }
        let signed = c.signed.unwrap_or(true);
        for (i, r) in seen.iter().enumerate() {
            let at = format!("request #{} ({} {})", i + 1, r.method, r.path);
            if r.method == "GET" && !r.form.is_empty() {
                self.fail(
                    Some(at.clone()),
                    "GET with the parameters in the query string and no body",
                    format!("a form body of {} parameter(s)", r.form.len()),
                    "a GET request carries its parameters in the query string",
                    None,
                );
            }
            if let Some(problem) = &r.body_problem {
                self.fail(
                    Some(at.clone()),
                    "a form-encoded body",
                    problem.clone(),
                    "callback bodies are application/x-www-form-urlencoded",
                    None,
                );
            }
            if let Some(m) = &c.method
                && &r.method != m
            {
                self.fail(Some(at.clone()), m.clone(), r.method.clone(), "wrong HTTP method", None);
            }
            if signed {
                self.check_signature(r, &at);
            }
            if let Some(schema) = &c.schema {
                let params = r.params_json();
                if let Ok(violations) = self.h.schemas.validate(schema, &params) {
                    for v in violations.into_iter().take(10) {
                        let (pointer, found) = violation_target(&v, &params);
                        self.fail(
                            Some(format!("{at}{pointer}")),
                            format!("valid against schemas/{schema}.schema.json"),
                            found,
                            v.message,
                            None,
                        );
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
        if let Some(spacing) = &c.spacing {
            for (i, pair) in seen.windows(2).enumerate() {
                let between = format!("requests #{}→#{}", i + 1, i + 2);
                let gap = pair[1].at.duration_since(pair[0].at);
                let gap_ms = gap.as_millis() as u64;
                if let Some(min) = spacing.min_ms {
                    // Delivery jitter grows on slow machines: the tolerance scales, the minimum does not.
                    let tolerance = scaled(self.h, spacing.tolerance_ms.unwrap_or(0)).as_millis() as u64;
                    let floor = min.saturating_sub(tolerance);
                    if gap_ms < floor {
                        self.fail(
                            Some(between.clone()),
                            format!(
                                "at least {min} ms between requests (tolerance {} ms)",
                                spacing.tolerance_ms.unwrap_or(0)
                            ),
                            format!("{gap_ms} ms: {}", summary(pair)),
                            "requests too close together",
                            None,
                        );
                    }
                }
                if let Some(max) = spacing.max_ms {
                    let ceiling = scaled(self.h, max).as_millis() as u64;
                    if gap_ms > ceiling {
                        self.fail(
                            Some(between.clone()),
                            format!("at most {ceiling} ms between requests"),
                            format!("{gap_ms} ms: {}", summary(pair)),
                            "requests too far apart",
                            None,
                        );
                    }
                }
            }
        }
        if self.failures.is_empty()
            && let Some(last) = seen.last()
        {
            for (var, param) in &c.capture {
                let value = last.param(param).unwrap_or("").to_owned();
                match var.strip_suffix("[]") {
                    Some(list) => self.vars.push(list, value),
                    None => self.vars.set(var, value),
                }
            }
        }
        Ok(())
    }

    fn check_signature(&mut self, r: &Recorded, at: &str) {
        match &r.signature {
            None => self.fail(
                Some(format!("{at}/X-Twilio-Signature")),
                "an X-Twilio-Signature header",
                "(absent)",
                "every request the target makes must be signed",
                None,
            ),
            Some(sig) => {
                let params: &[(String, String)] = if r.method == "POST" { &r.form } else { &[] };
                if !signature::validate(&self.account.token, &r.url, params, sig) {
                    self.fail(
                        Some(format!("{at}/X-Twilio-Signature")),
                        format!(
                            "HMAC-SHA1 with the account's auth token over {} plus the sorted POST parameters",
                            r.url
                        ),
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
        if let Some(n) = s.count
            && values.len() != n
        {
            self.fail(None, format!("{n} values"), format!("{}", values.len()), "wrong number of values", None);
            return Ok(());
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
                    self.fail(
                        None,
                        format!("a value readable as {}", s.read_as),
                        format!("{v:?} ({e})"),
                        "unreadable value",
                        None,
                    );
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

    async fn paginate_step(
        &mut self,
        p: &PaginateStep,
        index: Option<usize>,
        name: Option<String>,
    ) -> Result<(), HarnessFault> {
        let mut out = self.build(&p.request, index)?;
        self.label = self.label_for(&out, name);
        let mut seen: Vec<String> = Vec::new();
        let mut pages_seen: Vec<serde_json::Value> = Vec::new();
        let mut pages = 0u32;
        let max_pages = p.max_pages.unwrap_or(1000);
        loop {
            pages += 1;
            if pages > max_pages {
                self.fail(
                    None,
                    format!("at most {max_pages} pages"),
                    format!("page {pages} still has next_page_uri {}", out.url),
                    "next_page_uri never ends",
                    Some(&out),
                );
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
            let mut envelope = json.clone();
            if let Some(list) = envelope.pointer_mut(&p.items) {
                // Pages of many items stay readable: the count and the first item.
                *list = json!({"count": items.len(), "first": items.first()});
            }
            pages_seen.push(envelope);
            let next = json.get("next_page_uri").and_then(|n| n.as_str()).map(str::to_owned);
            if let (Some(size), Some(_)) = (p.page_size, &next)
                && items.len() != size
            {
                self.fail(
                    Some(p.items.clone()),
                    format!("{size} items on a page that has a next page"),
                    items.len().to_string(),
                    format!("page {pages} is short"),
                    Some(&out),
                );
            }
            for item in &items {
                match item.pointer(&p.id) {
                    Some(id) => seen.push(value_text(id)),
                    None => self.fail(
                        Some(format!("{}/…{}", p.items, p.id)),
                        "an id on every item",
                        show(Some(item)),
                        "item without id",
                        Some(&out),
                    ),
                }
            }
            match next {
                Some(uri) if !uri.is_empty() => {
                    out = Outgoing {
                        url: format!("{}{}", self.h.base_url, uri),
                        body: None,
                        method: "GET".into(),
                        basic: out.basic.clone(),
                    };
                }
                _ => break,
            }
        }
        self.artifacts.push(json!({"step": self.step + 1, "paginate": self.label, "pages": pages_seen}));
        let unique: HashSet<&String> = seen.iter().collect();
        if unique.len() != seen.len() {
            let mut dupes: Vec<&String> = seen.iter().filter(|s| seen.iter().filter(|t| t == s).count() > 1).collect();
            dupes.dedup();
            self.fail(
                None,
                "every item exactly once",
                format!("repeated: {}", dupes.iter().take(5).map(|s| s.as_str()).collect::<Vec<_>>().join(", ")),
                "paging repeats items",
                None,
            );
        }
        if unique.len() != p.expect_total {
            self.fail(
                None,
                format!("{} distinct items over {pages} pages", p.expect_total),
                unique.len().to_string(),
                "paging does not visit every item",
                None,
            );
        }
        if let Some(list) = &p.ids_from {
            let want: HashSet<String> = self.vars.list(list).map(|l| l.iter().cloned().collect()).unwrap_or_default();
            let missing: Vec<&String> = want.iter().filter(|w| !unique.contains(w)).take(5).collect();
            if !missing.is_empty() {
                self.fail(
                    None,
                    format!("every id of {list}"),
                    format!("missing {missing:?}"),
                    "paging skipped items",
                    None,
                );
            }
        }
        Ok(())
    }

    async fn saturate_step(
        &mut self,
        s: &SaturateStep,
        index: Option<usize>,
        name: Option<String>,
    ) -> Result<(), HarnessFault> {
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
        let open = || async {
            let mut stream = tokio::net::TcpStream::connect((host.as_str(), port))
                .await
                .map_err(|e| HarnessFault(format!("cannot open a held request: {e}")))?;
            stream.write_all(head.as_bytes()).await.map_err(|e| HarnessFault(e.to_string()))?;
            Ok::<_, HarnessFault>(stream)
        };
        let mut held = Vec::new();
        for _ in 0..hold {
            held.push(open().await?);
        }
        // The target sees the held requests a moment after they are written, so a probe may be
        // counted first and a held request refused instead: before each probe, re-open every
        // held request the target has already answered, then probe until the expected status.
        let deadline = Instant::now() + scaled(self.h, 3000);
        let mut last = None;
        while Instant::now() < deadline {
            for stream in held.iter_mut() {
                let mut buf = [0u8; 1];
                let answered =
                    !matches!(stream.try_read(&mut buf), Err(ref e) if e.kind() == std::io::ErrorKind::WouldBlock);
                if answered {
                    *stream = open().await?;
                }
            }
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
                self.record_response(index, "saturate", &resp);
                self.check_expect(&s.expect, &resp, &probe, index);
            }
            None => self.fail(None, "an HTTP response", "none", "the probe request did not answer", Some(&probe)),
        }
        Ok(())
    }
}
