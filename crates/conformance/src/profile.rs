//! Target profiles: where the target is, how to authenticate, which numbers and
//! capabilities it has, and its known failures. TOML, validated by `schemas/profile.schema.json`.

use crate::error::{LoadError, LoadErrorKind, LoadErrors};
use crate::outcome::{Failure, FailureKind};
use crate::schema::SchemaSet;
use serde::Deserialize;
use std::path::Path;

/// A target profile.
#[derive(Debug, Clone, Deserialize)]
pub struct Profile {
    /// Short name used in reports.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// The target's version, for reports.
    #[serde(default)]
    pub version: Option<String>,
    /// Base URL of the target's API, e.g. `http://localhost:4010`; `--target` overrides it.
    #[serde(default)]
    pub base_url: Option<String>,
    /// Scales every deadline and wait (slow targets, CI machines).
    #[serde(default = "one")]
    pub timeout_multiplier: f64,
    /// Deadline of one case, before the multiplier. Default 30 s.
    #[serde(default)]
    pub case_deadline_ms: Option<u64>,
    /// Timeout of one HTTP request, before the multiplier. Default 10 s.
    #[serde(default)]
    pub request_timeout_ms: Option<u64>,
    /// At most this many requests a second to the target, from every case together (a target
    /// with a quota). Default: no limit.
    #[serde(default)]
    pub max_requests_per_second: Option<f64>,
    /// The main account.
    #[serde(default)]
    pub credentials: Credentials,
    /// A trial account, unrelated to the main one.
    #[serde(default)]
    pub trial: Option<TrialAccount>,
    /// Numbers the cases use.
    pub numbers: Numbers,
    /// Callees of each kind the target connects (busy, no answer, failed, scripted).
    #[serde(default)]
    pub callees: Callees,
    /// What the target supports.
    #[serde(default)]
    pub capabilities: Capabilities,
    /// The callback sink.
    #[serde(default)]
    pub sink: SinkConfig,
    /// Failures expected on this target: the profile's own entries, then the baseline file's.
    #[serde(default)]
    pub known_failures: Vec<KnownFailure>,
    /// The baseline file holding more known failures, relative to the profile.
    #[serde(default)]
    pub baseline: Option<String>,
    /// Compare each passing case with the reference emulator's golden snapshot. Default: no; the
    /// reference emulator's profile says yes. The goldens record one Twilio-possible behaviour under
    /// that profile, so another target or profile opts in (with waivers for what it may word
    /// differently) or keeps its own ([`Profile::snapshot_dir`]); `false` with a `snapshot_dir` is a
    /// load error.
    #[serde(default)]
    pub snapshots: Option<bool>,
    /// Snapshot values this target may differ in, by JSON pointer inside each artifact.
    #[serde(default)]
    pub snapshot_waivers: Vec<SnapshotWaiver>,
    /// The target's own snapshot directory, relative to the profile (`--snapshot-dir` overrides
    /// it): compared instead of the goldens; the first run records, later runs report drift.
    #[serde(default)]
    pub snapshot_dir: Option<String>,
}

/// JSON pointers a target's snapshots may differ in, with the reason.
#[derive(Debug, Clone, Deserialize)]
pub struct SnapshotWaiver {
    /// A case name or an area prefix ending in `::`.
    pub case: String,
    /// Pointers inside each artifact, e.g. `/body/message`; `*` matches any key or index.
    pub pointers: Vec<String>,
    /// Why the target differs there.
    pub reason: String,
}

impl SnapshotWaiver {
    /// Whether the waiver covers a case name.
    pub fn matches(&self, case: &str) -> bool {
        if self.case.ends_with("::") { case.starts_with(&self.case) } else { case == self.case }
    }
}

fn one() -> f64 {
    1.0
}

/// Account credentials; each field falls back to an environment variable.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Credentials {
    /// `AC…`; default from `$TWILIO_ACCOUNT_SID` (or the variable named by `account_sid_env`).
    #[serde(default)]
    pub account_sid: Option<String>,
    /// Default from `$TWILIO_AUTH_TOKEN` (or the variable named by `auth_token_env`).
    #[serde(default)]
    pub auth_token: Option<String>,
    /// Environment variable holding the account SID.
    #[serde(default)]
    pub account_sid_env: Option<String>,
    /// Environment variable holding the auth token.
    #[serde(default)]
    pub auth_token_env: Option<String>,
}

/// A trial account and its numbers.
#[derive(Debug, Clone, Deserialize)]
pub struct TrialAccount {
    /// Credentials.
    #[serde(flatten)]
    pub credentials: Credentials,
    /// A From number the trial account owns.
    pub from: String,
    /// A verified caller ID the trial account may call.
    pub verified_number: String,
    /// A number it may not call.
    pub unverified_number: String,
}

/// Numbers the cases use.
#[derive(Debug, Clone, Deserialize)]
pub struct Numbers {
    /// A From number the main account owns (used when no fresh subaccount is made).
    pub from: String,
    /// Other numbers the main account owns (the seed's `+18668675310`).
    #[serde(default)]
    pub other_from: Vec<String>,
    /// A callee that answers.
    pub answer: String,
    /// Deprecated place of [`Callees::busy`], still read.
    #[serde(default)]
    pub busy: Option<String>,
    /// Deprecated place of [`Callees::no_answer`], still read.
    #[serde(default)]
    pub no_answer: Option<String>,
    /// Deprecated place of [`Callees::failed`], still read.
    #[serde(default)]
    pub failed: Option<String>,
    /// Prefix of numbers bought for fresh subaccounts; the harness appends random digits to reach 12 characters.
    #[serde(default)]
    pub fresh_prefix: Option<String>,
}

/// Callees the target connects as each kind; a kind left out skips the cases that need it.
/// The kinds past `failed` are scripted parties an emulator's callee table offers (real Twilio
/// reaches only real phones); each one's behaviour is the contract in [`CALLEE_KINDS`].
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Callees {
    /// A number that answers busy.
    #[serde(default)]
    pub busy: Option<String>,
    /// A number that rings and is never answered.
    #[serde(default)]
    pub no_answer: Option<String>,
    /// A number that cannot be reached.
    #[serde(default)]
    pub failed: Option<String>,
    /// A person: answers after a short ring, speaks briefly, presses nothing, stays on the line.
    #[serde(default)]
    pub human: Option<String>,
    /// An answering machine: answers with a greeting of at least 3 seconds that ends in a beep.
    #[serde(default)]
    pub machine: Option<String>,
    /// Answers and never makes a sound nor presses a key.
    #[serde(default)]
    pub silent: Option<String>,
    /// A person who presses `1234#` when a `<Gather>` listens, each key less than a second after
    /// the last (the cases listen with `timeout="1"`).
    #[serde(default)]
    pub digits: Option<String>,
    /// A person who hangs up about two seconds after answering.
    #[serde(default)]
    pub hangs_up: Option<String>,
    /// A person who rings about three seconds before answering.
    #[serde(default)]
    pub slow_answer: Option<String>,
    /// Every `client:` identity and `sip:` address answers (emulators only).
    #[serde(default)]
    pub scripted: bool,
}

/// One callee kind: its key in `[callees]`, the need a case names, the case variable holding
/// its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CalleeKind {
    /// The key in `[callees]`.
    pub key: &'static str,
    /// The name a case lists in `needs`.
    pub need: &'static str,
    /// The template variable with the number, e.g. `{BusyNumber}`.
    pub variable: &'static str,
}

/// Every callee kind given by a number, in the order of [`Callees`].
pub const CALLEE_KINDS: &[CalleeKind] = &[
    CalleeKind { key: "busy", need: "callees.busy", variable: "BusyNumber" },
    CalleeKind { key: "no_answer", need: "callees.no_answer", variable: "NoAnswerNumber" },
    CalleeKind { key: "failed", need: "callees.failed", variable: "FailedNumber" },
    CalleeKind { key: "human", need: "callees.human", variable: "HumanNumber" },
    CalleeKind { key: "machine", need: "callees.machine", variable: "MachineNumber" },
    CalleeKind { key: "silent", need: "callees.silent", variable: "SilentNumber" },
    CalleeKind { key: "digits", need: "callees.digits", variable: "DigitsNumber" },
    CalleeKind { key: "hangs_up", need: "callees.hangs_up", variable: "HangsUpNumber" },
    CalleeKind { key: "slow_answer", need: "callees.slow_answer", variable: "SlowAnswerNumber" },
];

/// The least [`Capabilities::fast_clock`] factor the cases that need `fast-clock` are written
/// for: a 60-second `TimeLimit` must end the call within a few seconds.
pub const LEAST_FAST_CLOCK: f64 = 30.0;

/// What the target supports; cases that need more are skipped with the reason.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Capabilities {
    /// `POST /2010-04-01/Accounts.json` and `IncomingPhoneNumbers.json`: each case gets a fresh subaccount.
    #[serde(default)]
    pub subaccounts: bool,
    /// `Applications.json`.
    #[serde(default)]
    pub applications: bool,
    /// `Record=true` and the call's `Recordings.json`.
    #[serde(default)]
    pub recordings: bool,
    /// The Recordings resource: start, update (pause, resume, stop), fetch and delete a
    /// recording through `…/Calls/{CA}/Recordings`, and the account's `Recordings.json`.
    #[serde(default)]
    pub recordings_resource: bool,
    /// A call's Events (`…/Calls/{CA}/Events.json`) are served once the call has ended, as the
    /// reference emulator does at once (Twilio: 15 minutes after the call ends).
    #[serde(default)]
    pub call_events: bool,
    /// The target can reach the sink: TwiML fetches and callbacks.
    #[serde(default)]
    pub callbacks: bool,
    /// The target's dequeue rate per account; absent: the rate cases are skipped.
    #[serde(default)]
    pub cps: Option<f64>,
    /// Whether the target queues created calls at a per-account rate, as Twilio does (default: yes).
    /// Where it does, creates of cases sharing an account are spaced at `cps` (1 per second when
    /// undeclared); a mock that never queues says `false` and is not paced.
    #[serde(default)]
    pub queues_calls: Option<bool>,
    /// The target's concurrent-request limit per account; absent: the 429 case is skipped.
    #[serde(default)]
    pub concurrency_limit: Option<u32>,
    /// Twilio's test-credential magic numbers answer their documented errors.
    #[serde(default)]
    pub test_credentials: bool,
    /// The credentials can only create calls: cases that read, update or delete are skipped.
    #[serde(default)]
    pub create_only: bool,
    /// How many times faster than real time the target counts a call's `TimeLimit` (an
    /// emulator's testing aid; the reference emulator's `--fast-clock`). The cases that need
    /// `fast-clock` want at least [`LEAST_FAST_CLOCK`]; absent, they are skipped.
    #[serde(default)]
    pub fast_clock: Option<f64>,
}

/// Every name a case may list in `needs`: capabilities, the trial account, optional numbers and
/// callee kinds. `reads` (the case reads, updates or deletes) is implied by its steps.
pub const NEEDS: &[&str] = &[
    "subaccounts",
    "applications",
    "recordings",
    "recordings-resource",
    "call-events",
    "callbacks",
    "cps",
    "concurrency-limit",
    "trial",
    "test-credentials",
    "reads",
    "fast-clock",
    "numbers.other_from",
    "callees.busy",
    "callees.no_answer",
    "callees.failed",
    "callees.human",
    "callees.machine",
    "callees.silent",
    "callees.digits",
    "callees.hangs_up",
    "callees.slow_answer",
    "callees.scripted",
];

impl Capabilities {
    /// Why a need is not met, in words for the SKIP reason; `None` when it is.
    pub fn missing(&self, name: &str, profile: &Profile) -> Option<String> {
        let declared = match name {
            "subaccounts" => self.subaccounts,
            "applications" => self.applications,
            "recordings" => self.recordings,
            "recordings-resource" => self.recordings_resource,
            "call-events" => self.call_events,
            "callbacks" => self.callbacks,
            "cps" => self.cps.is_some(),
            "concurrency-limit" => self.concurrency_limit.is_some(),
            "test-credentials" => self.test_credentials,
            "reads" => return self.create_only.then(|| "the profile's credentials can only create calls".to_owned()),
            "trial" => return profile.trial.is_none().then(|| "profile has no [trial] account".to_owned()),
            "numbers.other_from" => {
                return profile.numbers.other_from.is_empty().then(|| "profile has no numbers.other_from".to_owned());
            }
            "fast-clock" => {
                return match self.fast_clock {
                    Some(f) if f >= LEAST_FAST_CLOCK => None,
                    Some(f) => {
                        Some(format!("capabilities.fast_clock is {f}; the case needs at least {LEAST_FAST_CLOCK}"))
                    }
                    None => Some("profile does not declare capabilities.fast_clock".to_owned()),
                };
            }
            "callees.scripted" => {
                return (!profile.callees.scripted).then(|| "profile has no callees.scripted".to_owned());
            }
            callee => {
                let Some(kind) = CALLEE_KINDS.iter().find(|k| k.need == callee) else {
                    return Some(format!("unknown need {name:?}"));
                };
                return profile.callee(kind.key).is_none().then(|| format!("profile has no {callee}"));
            }
        };
        (!declared).then(|| format!("profile does not declare capabilities.{}", name.replace('-', "_")))
    }
}

impl Profile {
    /// The number of a callee kind (a [`CalleeKind::key`]), from `[callees]` or, for `busy`,
    /// `no_answer` and `failed`, as before from `[numbers]`.
    pub fn callee(&self, kind: &str) -> Option<&str> {
        let c = &self.callees;
        let (new, old) = match kind {
            "busy" => (&c.busy, &self.numbers.busy),
            "no_answer" => (&c.no_answer, &self.numbers.no_answer),
            "failed" => (&c.failed, &self.numbers.failed),
            "human" => (&c.human, &None),
            "machine" => (&c.machine, &None),
            "silent" => (&c.silent, &None),
            "digits" => (&c.digits, &None),
            "hangs_up" => (&c.hangs_up, &None),
            "slow_answer" => (&c.slow_answer, &None),
            _ => return None,
        };
        new.as_deref().or(old.as_deref())
    }
}

/// Where the callback sink listens and how the target reaches it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SinkConfig {
    /// Address to bind, default `127.0.0.1:0`.
    #[serde(default)]
    pub bind: Option<String>,
    /// URL under which the target reaches the sink (a tunnel, a container name);
    /// `{port}` is replaced by the bound port. Default `http://127.0.0.1:{port}`.
    #[serde(default)]
    pub public_base_url: Option<String>,
    /// A URL that refuses connections, for fallback cases. Default `http://127.0.0.1:9/unreachable`.
    #[serde(default)]
    pub unreachable_url: Option<String>,
}

/// Why a case is expected to fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureCategory {
    /// The target has a bug.
    Bug,
    /// The target does not implement the feature yet.
    MissingFeature,
    /// The behaviour does not apply to this target.
    Irrelevant,
}

/// A known failure: failures of a case (or an area) expected on this target, for a stated reason.
/// `requirement`, `kind` and `pointer` narrow the entry to some of the case's failures.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
pub struct KnownFailure {
    /// A case name (`create::001_phone`) or an area prefix ending in `::`.
    pub case: String,
    /// Only failures charged to this requirement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requirement: Option<String>,
    /// Only failures of this kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<FailureKind>,
    /// Only failures at this JSON pointer; `*` matches one segment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    /// Why; required and non-empty.
    pub reason: String,
    /// What kind of failure.
    pub category: FailureCategory,
    /// An issue or doc link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// Last day the entry suppresses the failure (`YYYY-MM-DD`); afterwards the case fails again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// Whether the entry comes from the baseline file rather than the profile.
    #[serde(skip)]
    pub from_baseline: bool,
}

/// Whether a pointer pattern (`*` for one segment) matches a pointer.
fn pointer_matches(pattern: &str, pointer: &str) -> bool {
    let (p, q): (Vec<&str>, Vec<&str>) = (pattern.split('/').collect(), pointer.split('/').collect());
    p.len() == q.len() && p.iter().zip(&q).all(|(a, b)| *a == "*" || a == b)
}

impl KnownFailure {
    /// Whether the entry covers a case name.
    pub fn matches(&self, case: &str) -> bool {
        if self.case.ends_with("::") { case.starts_with(&self.case) } else { case == self.case }
    }

    /// Whether the entry covers one failure of a case it matches. A transport failure is never
    /// covered: a target that stopped answering must not pass for one with known bugs.
    pub fn covers(&self, failure: &Failure) -> bool {
        failure.kind != FailureKind::Transport
            && self.requirement.as_ref().is_none_or(|r| failure.requirement.as_ref() == Some(r))
            && self.kind.is_none_or(|k| failure.kind == k)
            && self.pointer.as_ref().is_none_or(|p| failure.pointer.as_deref().is_some_and(|q| pointer_matches(p, q)))
    }

    /// The entry in one line, for messages: `case [requirement] (kind) at pointer`.
    pub fn describe(&self) -> String {
        let mut s = self.case.clone();
        if let Some(r) = &self.requirement {
            s.push_str(&format!(" [{r}]"));
        }
        if let Some(k) = &self.kind {
            s.push_str(&format!(" ({k})"));
        }
        if let Some(p) = &self.pointer {
            s.push_str(&format!(" at {p}"));
        }
        s
    }

    /// Whether the entry has expired on `today` (`YYYY-MM-DD`, compared as text).
    pub fn expired(&self, today: &str) -> bool {
        self.expires.as_deref().is_some_and(|e| e < today)
    }
}

/// Credentials resolved from the profile and the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// `AC…`.
    pub sid: String,
    /// The auth token.
    pub token: String,
}

impl Credentials {
    /// The credentials, from the profile or the environment.
    pub fn resolve(&self, what: &str) -> Result<Account, String> {
        let from_env = |field: &Option<String>, var: &Option<String>, default_var: &str| -> Option<String> {
            field.clone().or_else(|| std::env::var(var.as_deref().unwrap_or(default_var)).ok())
        };
        let sid = from_env(&self.account_sid, &self.account_sid_env, "TWILIO_ACCOUNT_SID");
        let token = from_env(&self.auth_token, &self.auth_token_env, "TWILIO_AUTH_TOKEN");
        match (sid, token) {
            (Some(sid), Some(token)) if !sid.is_empty() && !token.is_empty() => Ok(Account { sid, token }),
            _ => Err(format!(
                "no credentials for the {what}: set account_sid and auth_token in the profile, or TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"
            )),
        }
    }
}

/// The entries of a baseline file.
#[derive(Debug, Default, Deserialize)]
struct BaselineFile {
    #[serde(default)]
    known_failures: Vec<KnownFailure>,
}

/// Reads a baseline file, checked against `schemas/baseline.schema.json`.
pub fn load_baseline(path: &Path, schemas: &SchemaSet) -> Result<Vec<KnownFailure>, LoadErrors> {
    let text = std::fs::read_to_string(path).map_err(|e| LoadError::new(path, LoadErrorKind::Io, e.to_string()))?;
    parse_baseline(&text, path, schemas)
}

/// Baseline text, checked against `schemas/baseline.schema.json`; `path` names it in errors.
fn parse_baseline(text: &str, path: &Path, schemas: &SchemaSet) -> Result<Vec<KnownFailure>, LoadErrors> {
    let file: BaselineFile = validated_toml(text, path, "baseline", schemas)?;
    Ok(file.known_failures.into_iter().map(|k| KnownFailure { from_baseline: true, ..k }).collect())
}

/// TOML text checked against `schemas/<schema>.schema.json` (every violation reported, by
/// pointer), then read into `T`.
fn validated_toml<T: serde::de::DeserializeOwned>(
    text: &str,
    path: &Path,
    schema: &str,
    schemas: &SchemaSet,
) -> Result<T, LoadErrors> {
    let value: toml::Value =
        toml::from_str(text).map_err(|e| LoadError::new(path, LoadErrorKind::Toml, e.to_string()))?;
    let json = toml_to_json(value);
    let violations =
        schemas.validate(schema, &json).map_err(|e| LoadError::new(path, LoadErrorKind::Schema, e.to_string()))?;
    if !violations.is_empty() {
        return Err(LoadErrors(
            violations
                .into_iter()
                .map(|v| LoadError::new(path, LoadErrorKind::Schema, v.message.clone()).at(v.instance_pointer.clone()))
                .collect(),
        ));
    }
    serde_json::from_value(json).map_err(|e| LoadError::new(path, LoadErrorKind::Schema, e.to_string()).into())
}

fn toml_to_json(value: toml::Value) -> serde_json::Value {
    match value {
        toml::Value::String(s) => serde_json::Value::String(s),
        toml::Value::Integer(i) => serde_json::Value::from(i),
        toml::Value::Float(f) => {
            serde_json::Number::from_f64(f).map_or(serde_json::Value::Null, serde_json::Value::Number)
        }
        toml::Value::Boolean(b) => serde_json::Value::Bool(b),
        toml::Value::Datetime(d) => serde_json::Value::String(d.to_string()),
        toml::Value::Array(a) => serde_json::Value::Array(a.into_iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => serde_json::Value::Object(t.into_iter().map(|(k, v)| (k, toml_to_json(v))).collect()),
    }
}

impl Profile {
    /// Loads and validates a profile, and the baseline file it names (a missing baseline file is
    /// an empty baseline, so `--write-baseline` can create it).
    pub fn load(path: &Path, schemas: &SchemaSet) -> Result<Profile, LoadErrors> {
        let text = std::fs::read_to_string(path).map_err(|e| LoadError::new(path, LoadErrorKind::Io, e.to_string()))?;
        let mut profile = Profile::parse(&text, path, schemas)?;
        if let Some(file) = profile.baseline_path(path)
            && file.exists()
        {
            let mut entries = load_baseline(&file, schemas)?;
            profile.known_failures.append(&mut entries);
        }
        Ok(profile)
    }

    /// Loads a profile shipped with the suite (`fixtures/targets/NAME.toml`, embedded or on
    /// disk), and the baseline file it names beside it, as [`Profile::load`] does.
    pub fn from_suite(suite: &crate::suite::Suite, rel: &str, schemas: &SchemaSet) -> Result<Profile, LoadErrors> {
        let io = |e: crate::suite::SuiteError| LoadError::new(suite.path(rel), LoadErrorKind::Io, e.to_string());
        let text = suite.read(rel).map_err(io)?;
        let mut profile = Profile::parse(&text, &suite.path(rel), schemas)?;
        if let Some(name) = &profile.baseline {
            let dir = rel.rsplit_once('/').map_or("", |(dir, _)| dir);
            let baseline = if dir.is_empty() { name.clone() } else { format!("{dir}/{name}") };
            if let Some(bytes) = suite.read_optional(&baseline).map_err(io)? {
                let text = String::from_utf8_lossy(&bytes);
                let mut entries = parse_baseline(&text, &suite.path(&baseline), schemas)?;
                profile.known_failures.append(&mut entries);
            }
        }
        Ok(profile)
    }

    /// The baseline file the profile names, relative to the profile's own directory.
    pub fn baseline_path(&self, profile_path: &Path) -> Option<std::path::PathBuf> {
        let name = self.baseline.as_ref()?;
        Some(profile_path.parent().unwrap_or(Path::new(".")).join(name))
    }

    /// The target's own snapshot directory, relative to the profile's own directory.
    pub fn snapshot_dir_path(&self, profile_path: &Path) -> Option<std::path::PathBuf> {
        let dir = self.snapshot_dir.as_ref()?;
        Some(profile_path.parent().unwrap_or(Path::new(".")).join(dir))
    }

    /// Parses and validates profile text; `path` names it in errors.
    pub fn parse(text: &str, path: &Path, schemas: &SchemaSet) -> Result<Profile, LoadErrors> {
        let profile: Profile = validated_toml(text, path, "profile", schemas)?;
        let mut errors = Vec::new();
        for (i, k) in profile.known_failures.iter().enumerate() {
            if k.reason.trim().is_empty() {
                errors.push(
                    LoadError::new(path, LoadErrorKind::Invalid, "a known failure needs a reason")
                        .at(format!("/known_failures/{i}/reason")),
                );
            }
        }
        if profile.snapshots == Some(false) && profile.snapshot_dir.is_some() {
            let message = "`snapshots = false` turns off the comparison that `snapshot_dir` asks for: remove one \
                           (--no-snapshots turns snapshots off for one run)";
            errors.push(LoadError::new(path, LoadErrorKind::Invalid, message).at("/snapshot_dir"));
        }
        if errors.is_empty() { Ok(profile) } else { Err(LoadErrors(errors)) }
    }

    /// Checks that every known failure matches at least one case.
    pub fn check_known_failures(&self, path: &Path, case_names: &[&str]) -> Result<(), LoadErrors> {
        let errors: Vec<LoadError> = self
            .known_failures
            .iter()
            .enumerate()
            .filter(|(_, k)| !case_names.iter().any(|n| k.matches(n)))
            .map(|(i, k)| {
                LoadError::new(
                    path,
                    LoadErrorKind::Invalid,
                    format!("known failure {:?} matches no case (renamed or removed?)", k.case),
                )
                .at(format!("/known_failures/{i}/case"))
            })
            .collect();
        if errors.is_empty() { Ok(()) } else { Err(LoadErrors(errors)) }
    }

    /// The known failures matching a case.
    pub fn known_failures_of<'a>(&'a self, case: &'a str) -> impl Iterator<Item = &'a KnownFailure> + 'a {
        self.known_failures.iter().filter(move |k| k.matches(case))
    }
}
