//! Cases as data: the fixture file format, and loading every case with its errors collected.
//!
//! A case is one JSON file `fixtures/cases/<area>/<NNN-slug>.json`, validated against
//! `schemas/fixture.schema.json` before it is read, so a mistake is reported with the file
//! and the JSON pointer. The format is documented in that schema and in `ARCHITECTURE.md`.

use crate::error::{LoadError, LoadErrorKind, LoadErrors};
use crate::requirements::Catalog;
use crate::schema::SchemaSet;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One case file.
#[derive(Debug, Clone, Deserialize)]
pub struct CaseFile {
    /// One line saying what the case checks.
    pub title: String,
    /// Longer notes: the doc passage behind the expectations.
    #[serde(default)]
    pub description: Option<String>,
    /// Requirement IDs from `fixtures/requirements.toml` this case covers.
    pub requirements: Vec<String>,
    /// Free-form tags for selection and reports.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Capabilities the target must declare; otherwise the case is skipped.
    #[serde(default)]
    pub needs: Vec<String>,
    /// Which account the case acts as.
    #[serde(default)]
    pub account: AccountChoice,
    /// The case counts on its account's calls being its own (calls it creates stay queued behind
    /// each other, it measures the dequeue rate, or it lists the account's calls): on a shared
    /// account it runs alone.
    #[serde(default)]
    pub exclusive: bool,
    /// Responses the callback sink serves under the case's prefix, keyed by path (`/twiml`).
    #[serde(default)]
    pub sink: BTreeMap<String, SinkRoute>,
    /// Deadline for the whole case in milliseconds, before the profile's multiplier.
    #[serde(default)]
    pub deadline_ms: Option<u64>,
    /// The steps, run in order.
    pub steps: Vec<Step>,
}

/// Which account a case acts as.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AccountChoice {
    /// A fresh subaccount with its own number when the target can create them; else the main account.
    #[default]
    Fresh,
    /// The profile's main account, shared with other cases.
    Main,
    /// The profile's trial account.
    Trial,
}

/// A canned response of the callback sink.
#[derive(Debug, Clone, Deserialize)]
pub struct SinkRoute {
    /// HTTP status, default 200.
    #[serde(default = "default_status")]
    pub status: u16,
    /// Body; templated (`{Sink}` etc.).
    #[serde(default)]
    pub body: Option<String>,
    /// Content type, default `text/xml` when there is a body.
    #[serde(default)]
    pub content_type: Option<String>,
    /// Delay before answering, in milliseconds.
    #[serde(default)]
    pub delay_ms: Option<u64>,
}

fn default_status() -> u16 {
    200
}

/// One step of a case.
#[derive(Debug, Clone, Deserialize)]
pub struct Step {
    /// A label for messages; defaults to a description of the action.
    #[serde(default)]
    pub name: Option<String>,
    /// The requirement a failure of this step is reported under; defaults to the case's first.
    #[serde(default)]
    pub requirement: Option<String>,
    /// Run the step this many times; `{i}` is the zero-based repetition.
    #[serde(default)]
    pub repeat: Option<u32>,
    /// What the step does.
    #[serde(flatten)]
    pub action: Action,
}

/// What a step does; exactly one key of the step object.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Send one request to the target and check the response.
    Request(RequestStep),
    /// Repeat a request until matchers hold, within a deadline.
    Poll(PollStep),
    /// Wait for requests the target makes to the sink and check them.
    Callbacks(CallbacksStep),
    /// Check a captured list of values: increasing, with a minimum step.
    Sequence(SequenceStep),
    /// Follow `next_page_uri` from a first page and check the items seen.
    Paginate(PaginateStep),
    /// Hold requests open and check that one more is refused with 429.
    Saturate(SaturateStep),
}

impl Step {
    /// What the step does in a few words (its name, else its kind and target), for reports.
    pub fn describe(&self) -> String {
        if let Some(name) = &self.name {
            return name.clone();
        }
        match &self.action {
            Action::Request(r) => format!("request {} {}", r.request.method, r.request.path),
            Action::Poll(p) => format!("poll {} {}", p.request.method, p.request.path),
            Action::Callbacks(c) => format!("wait for callbacks to {}", c.path),
            Action::Sequence(s) => format!("check the sequence {}", s.values),
            Action::Paginate(p) => format!("page through {}", p.request.path),
            Action::Saturate(s) => format!("saturate {}", s.request.path),
        }
    }
}

/// Whose credentials a request carries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Auth {
    /// The case's account.
    #[default]
    Account,
    /// No `Authorization` header.
    None,
    /// The case's account SID with a wrong auth token.
    WrongToken,
    /// The profile's main account (the parent of a fresh subaccount).
    Main,
    /// The profile's trial account.
    Trial,
    /// An unrelated account: the trial account, or the main one when the case runs as trial.
    Foreign,
}

/// An HTTP request to the target.
#[derive(Debug, Clone, Deserialize)]
pub struct RequestSpec {
    /// GET, POST, DELETE, PUT...
    #[serde(default = "default_method")]
    pub method: String,
    /// Path template, e.g. `/2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json`.
    pub path: String,
    /// Credentials.
    #[serde(default)]
    pub auth: Auth,
    /// Form parameters in wire order, as `[name, value]` pairs; repeated names are list values.
    #[serde(default, deserialize_with = "pairs")]
    pub form: Vec<(String, String)>,
    /// Query parameters, as `[name, value]` pairs.
    #[serde(default, deserialize_with = "pairs")]
    pub query: Vec<(String, String)>,
    /// A raw body instead of a form (for garbage-in cases), with its content type.
    #[serde(default)]
    pub raw_body: Option<RawBody>,
}

impl RequestSpec {
    /// Whether the request creates a call (`POST …/Calls.json`): what a shared account's CPS
    /// paces and what Twilio's test credentials allow.
    pub fn creates_call(&self) -> bool {
        self.method.eq_ignore_ascii_case("POST") && self.path.ends_with("/Calls.json")
    }

    /// Whether the request uses the Recordings resource beyond `Record=true`'s list of a call's
    /// recordings: it starts a recording, or names one (`…/Recordings/{Sid}`), or reads the
    /// account's `Recordings.json`.
    pub fn uses_recordings_resource(&self) -> bool {
        let path = self.path.as_str();
        path.contains("/Recordings/")
            || path.ends_with("/Accounts/{AccountSid}/Recordings.json")
            || (self.method.eq_ignore_ascii_case("POST") && path.ends_with("/Recordings.json"))
    }

    /// Whether the request names a call's Events (`…/Calls/{CallSid}/Events.json`), with any
    /// method: what `capabilities.call_events` declares.
    pub fn uses_call_events(&self) -> bool {
        self.path.split('?').next().is_some_and(|p| p.ends_with("/Events.json"))
    }
}

fn default_method() -> String {
    "GET".to_owned()
}

/// The keys of a request whose value is a list of parameters.
pub const PAIR_KEYS: [&str; 2] = ["form", "query"];

/// How a case writes parameters: the one layout, and why it is the only one.
pub const PAIRS_LAYOUT: &str = "an array of [name, value] pairs of strings in wire order, e.g. \
     [[\"To\", \"+14155551212\"], [\"StatusCallbackEvent\", \"initiated\"], [\"StatusCallbackEvent\", \"answered\"]] \
     (only pairs keep a repeated name and the order)";

/// Reads `form` and `query`: only [`PAIRS_LAYOUT`]; an object or a query string is refused by name.
fn pairs<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<(String, String)>, D::Error> {
    struct PairsVisitor;
    impl<'de> Visitor<'de> for PairsVisitor {
        type Value = Vec<(String, String)>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(PAIRS_LAYOUT)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(pair) = seq.next_element::<(String, String)>()? {
                out.push(pair);
            }
            Ok(out)
        }
        fn visit_map<A: MapAccess<'de>>(self, _map: A) -> Result<Self::Value, A::Error> {
            Err(de::Error::custom(format!("parameters must be {PAIRS_LAYOUT}, not an object")))
        }
        fn visit_str<E: de::Error>(self, _text: &str) -> Result<Self::Value, E> {
            Err(E::custom(format!("parameters must be {PAIRS_LAYOUT}, not a query string")))
        }
    }
    deserializer.deserialize_any(PairsVisitor)
}

/// What is wrong with a `form` or `query` value, if it is not in [`PAIRS_LAYOUT`].
fn pairs_layout_problem(value: &Value) -> Option<String> {
    let found = match value {
        Value::Array(items) => {
            let (index, item) = items.iter().enumerate().find(
                |(_, item)| !matches!(item, Value::Array(pair) if pair.len() == 2 && pair.iter().all(Value::is_string)),
            )?;
            format!("item {index} is {item}")
        }
        Value::Object(_) => "an object".to_owned(),
        Value::String(_) => "a query string".to_owned(),
        other => format!("{other}"),
    };
    Some(format!("parameters must be {PAIRS_LAYOUT}; found {found}"))
}

/// Every `form` and `query` of a case's steps not written as [`PAIRS_LAYOUT`], with its JSON pointer.
pub fn pairs_layout_problems(case: &Value) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    let steps = case.get("steps").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    for (i, step) in steps.iter().enumerate() {
        let Some(step) = step.as_object() else { continue };
        for (action, body) in step {
            for key in PAIR_KEYS {
                if let Some(problem) = body.get(key).and_then(pairs_layout_problem) {
                    problems.push((format!("/steps/{i}/{action}/{key}"), problem));
                }
            }
        }
    }
    problems
}

/// A raw request body.
#[derive(Debug, Clone, Deserialize)]
pub struct RawBody {
    /// `Content-Type` header.
    pub content_type: String,
    /// The body text.
    pub text: String,
}

/// A request step.
#[derive(Debug, Clone, Deserialize)]
pub struct RequestStep {
    /// The request.
    #[serde(flatten)]
    pub request: RequestSpec,
    /// What the response must be.
    pub expect: Expect,
    /// Values to keep: variable name → JSON pointer into the response body. A name
    /// ending in `[]` appends to a list.
    #[serde(default)]
    pub capture: BTreeMap<String, String>,
}

/// Expectations on a response.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Expect {
    /// HTTP status code.
    #[serde(default)]
    pub status: Option<u16>,
    /// Any of these HTTP status codes (where the docs allow several).
    #[serde(default)]
    pub status_in: Option<Vec<u16>>,
    /// Twilio error code; implies the error body shape and `status` equal to the HTTP status.
    #[serde(default)]
    pub error_code: Option<u32>,
    /// Name of a schema under `schemas/` the body must follow, e.g. `call`.
    #[serde(default)]
    pub schema: Option<String>,
    /// Matchers on the JSON body.
    #[serde(default)]
    pub json: Vec<Matcher>,
    /// Whether the body must be empty (`true`, e.g. 204) or must not be (`false`, e.g. media).
    #[serde(default)]
    pub empty_body: Option<bool>,
    /// The media types the response may be served as (compared without parameters such as
    /// `charset`, case-insensitively): a recording's audio as `audio/x-wav` or `audio/wav`.
    #[serde(default)]
    pub content_type_in: Option<Vec<String>>,
    /// Answers Twilio documents or is seen to give besides each other (400 / 21220 or 404 / 20404):
    /// the first alternative whose `status` or `status_in` names the response's status is checked
    /// too; a status no alternative names is a wrong status.
    #[serde(default)]
    pub either: Vec<Expect>,
}

/// A check on the value at a JSON pointer; exactly one rule.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Matcher {
    /// RFC 6901 pointer, e.g. `/subresource_uris/recordings`.
    pub pointer: String,
    /// The rule.
    #[serde(flatten)]
    pub rule: Rule,
}

/// A rule on one value.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// Equal to this JSON value (strings are templated).
    Equals(Value),
    /// A string matching this regular expression.
    Regex(String),
    /// Of this JSON type: string, number, integer, boolean, null, object, array.
    Type(String),
    /// Present (`true`) or absent (`false`).
    Present(bool),
    /// Equal to one of these values.
    OneOf(Vec<Value>),
    /// A string that starts with this text (templated).
    StartsWith(String),
    /// A string in one of callspec's registered formats ([`crate::schema::CUSTOM_FORMATS`]):
    /// `rfc2822` (Twilio's dates) or a SID kind such as `call-sid`; the same checks as the schemas'.
    Format(String),
    /// An RFC 2822 date within this many seconds of the harness's clock, or null (a date of
    /// something the run did happened during the run; `type` forbids null where it must be set).
    RecentS(u64),
    /// Absent, or present and holding this rule: a value Twilio sends only sometimes but, when it
    /// does, with a documented meaning (`Caller` in a TwiML request).
    AbsentOr(Box<Rule>),
    /// Agrees with this text (templated, usually a value an earlier view of the same resource
    /// showed): equal, unless either side is unset (absent, null or `""`), for a value Twilio
    /// may fill in late but never changes (`phone_number_sid`).
    AgreesWith(String),
    /// An array with at least one item in which every one of these matchers holds (their
    /// pointers relative to the item): an item of a list whose order Twilio does not fix, found
    /// by what it holds (the event whose `request/url` is the case's `Url`).
    SomeItem(Vec<Matcher>),
}

/// A poll step: repeat the request until the matchers hold.
#[derive(Debug, Clone, Deserialize)]
pub struct PollStep {
    /// The request to repeat.
    #[serde(flatten)]
    pub request: RequestSpec,
    /// Stop when all of these hold (on a JSON body).
    #[serde(default)]
    pub until: Vec<Matcher>,
    /// Stop only on one of these HTTP statuses (and `until`, if given): a DELETE repeated until it
    /// answers 204, a fetch until the deleted call answers 404.
    #[serde(default)]
    pub until_status: Option<Vec<u16>>,
    /// Give up after this many milliseconds (times the profile's multiplier): FAIL.
    pub within_ms: u64,
    /// Pause between attempts. Default: 100 ms, doubling after each attempt up to 1 s, which
    /// spares a target's request quota; a poll for a state a call passes through sets it.
    #[serde(default)]
    pub interval_ms: Option<u64>,
    /// Checks on the final response.
    #[serde(default)]
    pub expect: Option<Expect>,
    /// Captures from the final response.
    #[serde(default)]
    pub capture: BTreeMap<String, String>,
}

/// A check on a callback parameter: a string is shorthand for `equals`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum ParamRule {
    /// Equal to this text (templated).
    Text(String),
    /// A rule object.
    Rule(Rule),
}

/// A callbacks step: what the target requested from the sink.
#[derive(Debug, Clone, Deserialize)]
pub struct CallbacksStep {
    /// The sink path the requests went to, relative to the case's prefix (`/status`), or `*`
    /// for every request to the case's prefix.
    pub path: String,
    /// Only requests whose parameters match these count.
    #[serde(default, rename = "where")]
    pub filter: BTreeMap<String, ParamRule>,
    /// Exactly this many requests must arrive.
    pub count: u32,
    /// Wait at most this long for them (times the multiplier); with `count: 0` only `quiet_ms` is waited.
    pub within_ms: u64,
    /// After the count is reached, wait this long to see that no more arrive.
    #[serde(default)]
    pub quiet_ms: Option<u64>,
    /// The HTTP method every request must use.
    #[serde(default)]
    pub method: Option<String>,
    /// A schema the parameter set of every request must follow (`status-callback`).
    #[serde(default)]
    pub schema: Option<String>,
    /// Checks on the parameters of every request.
    #[serde(default)]
    pub each: BTreeMap<String, ParamRule>,
    /// Checks on the requests in the order the target fired them, one object per request: by
    /// `SequenceNumber` when every request carries one (status callbacks may arrive out of order),
    /// else in arrival order.
    #[serde(default)]
    pub sequence: Vec<BTreeMap<String, ParamRule>>,
    /// Spacing of arrival times between consecutive requests.
    #[serde(default)]
    pub spacing: Option<Spacing>,
    /// Whether every request must carry a valid `X-Twilio-Signature` (default true).
    #[serde(default)]
    pub signed: Option<bool>,
    /// Values to keep: variable name → parameter name, from the last request.
    #[serde(default)]
    pub capture: BTreeMap<String, String>,
}

/// Bounds on the time between consecutive events.
#[derive(Debug, Clone, Deserialize)]
pub struct Spacing {
    /// At least this many milliseconds apart.
    #[serde(default)]
    pub min_ms: Option<u64>,
    /// At most this many milliseconds apart (times the multiplier).
    #[serde(default)]
    pub max_ms: Option<u64>,
    /// Allowance for delivery jitter subtracted from `min_ms` (and from the span `min_average_ms` asks for).
    #[serde(default)]
    pub tolerance_ms: Option<u64>,
    /// On average at least this many milliseconds apart: the first and the last request are at least
    /// (count − 1) × this apart, less the tolerance. A number, or a template such as
    /// `{DequeueIntervalMs}` rendering to one.
    #[serde(default)]
    pub min_average_ms: Option<Millis>,
}

/// A number of milliseconds, given as a number or as a template that renders to one.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Millis {
    /// A literal.
    Number(u64),
    /// A template such as `{DequeueIntervalMs}`.
    Template(String),
}

/// A sequence step: checks a captured list.
#[derive(Debug, Clone, Deserialize)]
pub struct SequenceStep {
    /// The list variable (without `[]`).
    pub values: String,
    /// How to read the values: `integer` or `rfc2822` (seconds).
    #[serde(rename = "as")]
    pub read_as: String,
    /// Each value must be at least this much larger than the one before (0 = non-decreasing).
    pub min_step: i64,
    /// The list must have this many values.
    #[serde(default)]
    pub count: Option<usize>,
}

/// A paginate step: follows `next_page_uri`.
#[derive(Debug, Clone, Deserialize)]
pub struct PaginateStep {
    /// The first page's request.
    #[serde(flatten)]
    pub request: RequestSpec,
    /// Pointer to the items array of a page, e.g. `/calls`.
    pub items: String,
    /// Pointer to an item's identity inside the item, e.g. `/sid`.
    pub id: String,
    /// Schema every page must follow.
    #[serde(default)]
    pub schema: Option<String>,
    /// How many items in all; each must be seen exactly once.
    pub expect_total: usize,
    /// The `page_size` every page but the last must have.
    #[serde(default)]
    pub page_size: Option<usize>,
    /// Stop following after this many pages: FAIL.
    #[serde(default)]
    pub max_pages: Option<u32>,
    /// Every id seen must be in this captured list.
    #[serde(default)]
    pub ids_from: Option<String>,
}

/// A saturate step: hold `hold` requests open, then one more must be refused.
#[derive(Debug, Clone, Deserialize)]
pub struct SaturateStep {
    /// The request to hold open (its body is sent slowly).
    #[serde(flatten)]
    pub request: RequestSpec,
    /// How many to hold; `{ConcurrencyLimit}` is templated from the profile.
    pub hold: String,
    /// What the extra request must get.
    pub expect: Expect,
}

/// A loaded case.
#[derive(Debug, Clone)]
pub struct Case {
    /// Trial name, `area::NNN_slug`.
    pub name: String,
    /// The area (folder).
    pub area: String,
    /// Path relative to the repository root.
    pub file: String,
    /// The parsed file.
    pub data: CaseFile,
    /// Whether a step creates calls (on a shared account, their creates are paced at the CPS).
    pub creates_calls: bool,
    /// Whether the case needs its account's call queue to itself: it says so (`exclusive`), needs
    /// the CPS or the concurrency limit, or saturates the account.
    pub alone: bool,
    /// How many create requests the case sends at most (repetitions counted): the calls it may
    /// place on a real account.
    pub creates: usize,
}

/// Why a case may not cite `id`: it is not in the catalog, or it is an SDK requirement, which
/// `callspec sdk`'s scenarios cover, never a server case.
fn unknown_requirement(catalog: &Catalog, id: &str) -> String {
    if catalog.contains(id) {
        format!("requirement {id:?} is an SDK requirement (checked by `callspec sdk`), not one a server case can cite")
    } else {
        format!("unknown requirement ID {id:?}")
    }
}

/// What is wrong with step `i` of a case beyond its schema: an unknown requirement, a poll for a
/// passing state without its own interval, an inconsistent callbacks step.
fn step_problems(shown: &Path, i: usize, step: &Step, catalog: &Catalog) -> Vec<LoadError> {
    let mut errors = Vec::new();
    if let Some(id) = &step.requirement
        && !catalog.contains_server(id)
    {
        errors.push(
            LoadError::new(shown, LoadErrorKind::UnknownRequirement, unknown_requirement(catalog, id))
                .at(format!("/steps/{i}/requirement")),
        );
    }
    if let Action::Poll(p) = &step.action
        && p.interval_ms.is_none()
        && let Some(state) = transient_state(&p.until)
    {
        errors.push(
            LoadError::new(
                shown,
                LoadErrorKind::Invalid,
                format!(
                    "a poll until status {state:?} needs `interval_ms`: the default back-off (100 ms doubling \
                     to 1 s) may step over a state a call passes through"
                ),
            )
            .at(format!("/steps/{i}/poll")),
        );
    }
    if let Action::Callbacks(c) = &step.action {
        if !c.sequence.is_empty() && c.sequence.len() != c.count as usize {
            errors.push(
                LoadError::new(
                    shown,
                    LoadErrorKind::Invalid,
                    format!("`sequence` has {} entries but `count` is {}", c.sequence.len(), c.count),
                )
                .at(format!("/steps/{i}/callbacks/sequence")),
            );
        }
        if c.count == 0 && c.quiet_ms.is_none() {
            errors.push(
                LoadError::new(
                    shown,
                    LoadErrorKind::Invalid,
                    "`count: 0` needs `quiet_ms`: how long to watch for requests that must not come",
                )
                .at(format!("/steps/{i}/callbacks")),
            );
        }
    }
    errors
}

/// A status a call passes through (not one it stays in) that a poll's `until` waits for.
fn transient_state(until: &[Matcher]) -> Option<&str> {
    until.iter().filter(|m| m.pointer == "/status").find_map(|m| match &m.rule {
        Rule::Equals(Value::String(s)) if matches!(s.as_str(), "queued" | "initiated" | "ringing" | "in-progress") => {
            Some(s.as_str())
        }
        _ => None,
    })
}

/// The trial name of a case file: `fixtures/cases/create/001-phone.json` → `create::001_phone`.
pub fn case_name(cases_dir: &Path, file: &Path) -> Option<(String, String)> {
    let rel = file.strip_prefix(cases_dir).ok()?;
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let last = parts.pop()?;
    let stem = last.strip_suffix(".json")?;
    let area = parts.join("::");
    let name = format!("{area}::{}", stem.replace(['-', '.'], "_"));
    Some((name, area))
}

fn collect_json_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_json_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    Ok(())
}

/// Loads every case under `cases_dir`, collecting every problem of every file.
pub fn load_cases(
    root: &Path,
    cases_dir: &Path,
    schemas: &SchemaSet,
    catalog: &Catalog,
) -> Result<Vec<Case>, LoadErrors> {
    let mut files = Vec::new();
    if let Err(e) = collect_json_files(cases_dir, &mut files) {
        return Err(LoadError::new(cases_dir, LoadErrorKind::Io, e.to_string()).into());
    }
    files.sort();
    let sources = files.into_iter().map(|file| {
        let shown = file.strip_prefix(root).unwrap_or(&file).to_path_buf();
        let text = std::fs::read_to_string(&file).map_err(|e| e.to_string());
        (file, shown, text)
    });
    collect_cases(sources, cases_dir, schemas, catalog)
}

/// Loads every case of a suite (`fixtures/cases/**.json`, embedded or on disk), collecting
/// every problem of every file; cases are named by their path as [`load_cases`] names them.
pub fn load_suite_cases(
    suite: &crate::suite::Suite,
    schemas: &SchemaSet,
    catalog: &Catalog,
) -> Result<Vec<Case>, LoadErrors> {
    let dir = "fixtures/cases";
    let files = suite
        .files_under(dir, ".json")
        .map_err(|e| LoadErrors::from(LoadError::new(suite.path(dir), LoadErrorKind::Io, e.to_string())))?;
    let sources = files.into_iter().map(|rel| {
        let text = suite.read(&rel).map_err(|e| e.to_string());
        (PathBuf::from(&rel), PathBuf::from(&rel), text)
    });
    collect_cases(sources, Path::new(dir), schemas, catalog)
}

/// Parses case texts, `(file, shown, text)`, refusing duplicate names; every problem collected.
fn collect_cases(
    sources: impl Iterator<Item = (PathBuf, PathBuf, Result<String, String>)>,
    cases_dir: &Path,
    schemas: &SchemaSet,
    catalog: &Catalog,
) -> Result<Vec<Case>, LoadErrors> {
    let mut errors = Vec::new();
    let mut cases: Vec<Case> = Vec::new();
    for (file, shown, text) in sources {
        match load_case(&file, &shown, text, cases_dir, schemas, catalog) {
            Ok(case) => {
                if let Some(other) = cases.iter().find(|c| c.name == case.name) {
                    errors.push(LoadError::new(
                        &shown,
                        LoadErrorKind::Duplicate,
                        format!("case name {} is also the name of {}", case.name, other.file),
                    ));
                } else {
                    cases.push(case);
                }
            }
            Err(mut e) => errors.append(&mut e.0),
        }
    }
    if errors.is_empty() { Ok(cases) } else { Err(LoadErrors(errors)) }
}

fn load_case(
    file: &Path,
    shown: &Path,
    text: Result<String, String>,
    cases_dir: &Path,
    schemas: &SchemaSet,
    catalog: &Catalog,
) -> Result<Case, LoadErrors> {
    let text = text.map_err(|e| LoadError::new(shown, LoadErrorKind::Io, e))?;
    let value: Value =
        serde_json::from_str(&text).map_err(|e| LoadError::new(shown, LoadErrorKind::Json, e.to_string()))?;
    let Some((name, area)) = case_name(cases_dir, file) else {
        return Err(LoadError::new(
            shown,
            LoadErrorKind::Invalid,
            "a case file must sit in an area folder and end in .json",
        )
        .into());
    };
    parse_case(&name, &area, shown, value, schemas, catalog)
}

/// Checks a case against the fixture schema. Parameters in another layout than [`PAIRS_LAYOUT`] are
/// reported as such, in place of the schema's messages about the same values.
fn check_schema(shown: &Path, value: &Value, schemas: &SchemaSet) -> Result<(), LoadErrors> {
    let violations =
        schemas.validate("fixture", value).map_err(|e| LoadError::new(shown, LoadErrorKind::Schema, e.to_string()))?;
    let layout = pairs_layout_problems(value);
    let mut errors: Vec<LoadError> = layout
        .iter()
        .map(|(pointer, problem)| LoadError::new(shown, LoadErrorKind::Invalid, problem.clone()).at(pointer.clone()))
        .collect();
    let about_layout = |pointer: &str| layout.iter().any(|(at, _)| pointer.starts_with(at.as_str()));
    errors.extend(
        violations
            .into_iter()
            .filter(|v| !about_layout(&v.instance_pointer))
            .map(|v| LoadError::new(shown, LoadErrorKind::Schema, v.message.clone()).at(v.instance_pointer.clone())),
    );
    if errors.is_empty() { Ok(()) } else { Err(LoadErrors(errors)) }
}

/// Checks a case given as JSON against the fixture schema and the catalog; `shown` names it in errors.
pub fn parse_case(
    name: &str,
    area: &str,
    shown: &Path,
    value: Value,
    schemas: &SchemaSet,
    catalog: &Catalog,
) -> Result<Case, LoadErrors> {
    check_schema(shown, &value, schemas)?;
    let data: CaseFile = serde_json::from_value(value.clone())
        .map_err(|e| LoadError::new(shown, LoadErrorKind::Schema, e.to_string()))?;
    let mut errors: Vec<LoadError> = crate::needs::problems(&value, &data)
        .into_iter()
        .map(|(at, message)| LoadError::new(shown, LoadErrorKind::Invalid, message).at(at))
        .collect();
    for (i, id) in data.requirements.iter().enumerate() {
        if !catalog.contains_server(id) {
            errors.push(
                LoadError::new(shown, LoadErrorKind::UnknownRequirement, unknown_requirement(catalog, id))
                    .at(format!("/requirements/{i}")),
            );
        }
    }
    for (i, step) in data.steps.iter().enumerate() {
        errors.extend(step_problems(shown, i, step, catalog));
    }
    if !errors.is_empty() {
        return Err(LoadErrors(errors));
    }
    let creates_calls = data.steps.iter().any(|s| match &s.action {
        Action::Request(r) => r.request.creates_call(),
        Action::Saturate(r) => r.request.path.ends_with("/Calls.json"),
        _ => false,
    });
    let alone = data.exclusive
        || data.needs.iter().any(|n| n == "cps" || n == "concurrency-limit")
        || data.steps.iter().any(|s| matches!(s.action, Action::Saturate(_)));
    let creates = data
        .steps
        .iter()
        .filter(|s| match &s.action {
            Action::Request(r) => r.request.creates_call(),
            _ => false,
        })
        .map(|s| s.repeat.unwrap_or(1) as usize)
        .sum();
    Ok(Case {
        name: name.to_owned(),
        area: area.to_owned(),
        file: shown.to_string_lossy().replace('\\', "/"),
        data,
        creates_calls,
        alone,
        creates,
    })
}
