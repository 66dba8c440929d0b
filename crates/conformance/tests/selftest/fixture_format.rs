//! The case format itself: every case writes parameters as `[name, value]` pairs, the loader refuses
//! other layouts by name, and `schemas/fixture.schema.json` agrees with the serde types of `fixture.rs`.
//!
//! The agreement is checked both ways. Schema → serde: every case the schema accepts deserializes,
//! every key the schema allows changes what serde reads (no key is silently dropped), and every key
//! the schema requires is required by serde too. Serde → schema: the variants serde knows (listed
//! by serde's own "unknown variant" message) are exactly the schema's step kinds, rules, `auth` and
//! `account` values, and a sample of each passes the schema and reads back as that variant.

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use callspec_conformance::error::LoadErrorKind;
use callspec_conformance::fixture::{AccountChoice, Action, Auth, CaseFile, ParamRule, Rule, parse_case};
use callspec_conformance::requirements::Catalog;
use callspec_conformance::schema::{CUSTOM_FORMATS, SchemaSet, check_custom_format};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn schemas() -> &'static SchemaSet {
    static SET: OnceLock<SchemaSet> = OnceLock::new();
    SET.get_or_init(|| SchemaSet::load(&repo_root().join("schemas")).expect("schemas/ loads"))
}

fn fixture_schema() -> Value {
    let text = std::fs::read_to_string(repo_root().join("schemas/fixture.schema.json")).expect("fixture schema");
    serde_json::from_str(&text).expect("fixture schema is JSON")
}

/// Every case file with its parsed JSON.
fn case_files() -> Vec<(PathBuf, Value)> {
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, Value)>) {
        for entry in std::fs::read_dir(dir).expect("readable cases dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "json") {
                let text = std::fs::read_to_string(&path).expect("readable case");
                let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                out.push((path, value));
            }
        }
    }
    let mut out = Vec::new();
    walk(&repo_root().join("fixtures/cases"), &mut out);
    assert!(out.len() > 90, "expected the whole suite, found {} case files", out.len());
    out
}

fn violations(case: &Value) -> Vec<String> {
    schemas().validate("fixture", case).expect("fixture schema").iter().map(ToString::to_string).collect()
}

/// Every value under a `form` or `query` key anywhere in `value`, with its pointer.
fn parameter_lists<'v>(value: &'v Value, pointer: String, out: &mut Vec<(String, &'v Value)>) {
    match value {
        Value::Object(map) => {
            for (key, item) in map {
                let at = format!("{pointer}/{key}");
                if key == "form" || key == "query" {
                    out.push((at.clone(), item));
                }
                parameter_lists(item, at, out);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                parameter_lists(item, format!("{pointer}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn every_case_writes_parameters_as_name_value_pairs() {
    let mut seen = 0;
    for (path, case) in case_files() {
        let mut lists = Vec::new();
        parameter_lists(&case, String::new(), &mut lists);
        for (pointer, list) in lists {
            let is_pairs = list.as_array().is_some_and(|items| {
                items.iter().all(|p| p.as_array().is_some_and(|p| p.len() == 2 && p.iter().all(Value::is_string)))
            });
            assert!(is_pairs, "{} {pointer}: not an array of [name, value] pairs: {list}", path.display());
            seen += 1;
        }
    }
    // 154 forms and 23 queries when this test was written: the walk does find them.
    assert!(seen > 150, "only {seen} form or query lists found");
}

fn load(case: Value) -> Result<(), Vec<(LoadErrorKind, Option<String>, String)>> {
    let catalog = Catalog::load(&repo_root().join("fixtures/requirements.toml")).expect("catalog loads");
    parse_case("selftest::layout", "selftest", Path::new("selftest/layout.json"), case, schemas(), &catalog)
        .map(|_| ())
        .map_err(|e| e.0.into_iter().map(|e| (e.kind, e.pointer, e.message)).collect())
}

fn create_with(key: &str, params: Value) -> Value {
    json!({
        "title": "layout", "requirements": ["T-FORM-1"],
        "steps": [{ "request": { "method": "POST", "path": "/2010-04-01/Accounts/{AccountSid}/Calls.json",
                                 key: params, "expect": { "status": 201 } } }]
    })
}

#[test]
fn the_loader_refuses_other_parameter_layouts_by_name() {
    load(create_with("form", json!([["To", "+14155551212"], ["StatusCallbackEvent", "initiated"]])))
        .expect("pairs load");
    let others = [
        ("form", json!({ "To": "+14155551212", "From": "+15017122661" }), "found an object"),
        ("form", json!("To=%2B14155551212&From=%2B15017122661"), "found a query string"),
        ("query", json!([{ "name": "PageSize", "value": "1" }]), "found item 0 is {"),
        ("query", json!([["PageSize", "1", "2"]]), "found item 0 is [\"PageSize\",\"1\",\"2\"]"),
    ];
    for (key, params, found) in others {
        let errors = load(create_with(key, params.clone())).expect_err("another layout is refused");
        let pointer = format!("/steps/0/request/{key}");
        assert_eq!(errors.len(), 1, "{params}: one error, not the schema's too: {errors:#?}");
        let (kind, at, message) = &errors[0];
        assert_eq!((*kind, at.as_deref()), (LoadErrorKind::Invalid, Some(pointer.as_str())), "{params}");
        assert!(message.contains("[name, value] pairs") && message.contains(found), "{params}: {message}");
    }
}

#[test]
fn a_poll_for_a_passing_state_must_set_its_interval() {
    let poll = |until: &str, interval: Option<u64>| {
        let mut poll = json!({ "path": "/2010-04-01/Accounts/{AccountSid}/Calls.json", "within_ms": 5000,
                               "until": [{ "pointer": "/status", "equals": until }] });
        if let Some(ms) = interval {
            poll["interval_ms"] = json!(ms);
        }
        json!({ "title": "poll", "requirements": ["D-FETCH-1"], "needs": ["reads"], "steps": [{ "poll": poll }] })
    };
    for passing in ["queued", "initiated", "ringing", "in-progress"] {
        let errors = load(poll(passing, None)).expect_err("the back-off may step over it");
        assert_eq!(errors.len(), 1, "{errors:#?}");
        let (kind, at, message) = &errors[0];
        assert_eq!((*kind, at.as_deref()), (LoadErrorKind::Invalid, Some("/steps/0/poll")));
        assert!(message.contains(&format!("until status \"{passing}\" needs `interval_ms`")), "{message}");
        load(poll(passing, Some(100))).expect("with its own interval it loads");
    }
    load(poll("completed", None)).expect("a final state may be polled with the back-off");
}

#[test]
fn every_case_file_the_schema_accepts_deserializes() {
    for (path, case) in case_files() {
        let found = violations(&case);
        assert!(found.is_empty(), "{} fails the fixture schema: {found:#?}", path.display());
        if let Err(e) = serde_json::from_value::<CaseFile>(case) {
            panic!("{} passes the schema but serde refuses it: {e}", path.display());
        }
    }
}

/// The variant names serde knows for `T`, read from its "unknown variant" message.
fn serde_variants<T: DeserializeOwned + Debug>(probe: Value) -> BTreeSet<String> {
    let message = serde_json::from_value::<T>(probe).expect_err("an unknown variant").to_string();
    let (_, expected) = message.split_once("expected").unwrap_or_else(|| panic!("unexpected message {message:?}"));
    let names: BTreeSet<String> = expected.split('`').skip(1).step_by(2).map(str::to_owned).collect();
    assert!(names.len() > 1, "no variants read from {message:?}");
    names
}

fn schema_keys(schema: &Value, pointer: &str) -> BTreeSet<String> {
    let object = schema.pointer(pointer).and_then(Value::as_object);
    object.unwrap_or_else(|| panic!("the fixture schema has an object at {pointer}")).keys().cloned().collect()
}

fn schema_enum(schema: &Value, pointer: &str) -> BTreeSet<String> {
    let values = schema.pointer(pointer).and_then(Value::as_array);
    let values = values.unwrap_or_else(|| panic!("the fixture schema has an enum at {pointer}"));
    values.iter().map(|v| v.as_str().expect("string enum value").to_owned()).collect()
}

fn without(mut set: BTreeSet<String>, remove: &[&str]) -> BTreeSet<String> {
    set.retain(|k| !remove.contains(&k.as_str()));
    set
}

#[test]
fn serde_variants_are_the_schema_keywords() {
    let schema = fixture_schema();
    let actions = serde_variants::<Action>(json!({ "no-such-step": {} }));
    assert_eq!(actions, without(schema_keys(&schema, "/$defs/step/properties"), &["name", "requirement", "repeat"]));
    let one_of: BTreeSet<String> = schema["$defs"]["step"]["oneOf"]
        .as_array()
        .expect("step oneOf")
        .iter()
        .map(|r| r["required"][0].as_str().expect("one required key").to_owned())
        .collect();
    assert_eq!(actions, one_of, "exactly one action per step");
    let rules = serde_variants::<Rule>(json!({ "no-such-rule": null }));
    assert_eq!(rules, schema_keys(&schema, "/$defs/rule/properties"));
    assert_eq!(rules, without(schema_keys(&schema, "/$defs/matcher/properties"), &["pointer"]));
    assert_eq!(
        serde_variants::<Auth>(json!("no-such-auth")),
        schema_enum(&schema, "/$defs/request/properties/auth/enum")
    );
    let accounts = serde_variants::<AccountChoice>(json!("no-such-account"));
    assert_eq!(accounts, schema_enum(&schema, "/properties/account/enum"));
    let formats: BTreeSet<String> = CUSTOM_FORMATS.iter().map(|f| (*f).to_owned()).collect();
    assert_eq!(schema_enum(&schema, "/$defs/rule/properties/format/enum"), formats);
    assert_eq!(schema_enum(&schema, "/$defs/matcher/properties/format/enum"), formats);
}

fn action_name(action: &Action) -> &'static str {
    match action {
        Action::Request(_) => "request",
        Action::Poll(_) => "poll",
        Action::Callbacks(_) => "callbacks",
        Action::Sequence(_) => "sequence",
        Action::Paginate(_) => "paginate",
        Action::Saturate(_) => "saturate",
    }
}

fn rule_name(rule: &Rule) -> &'static str {
    match rule {
        Rule::Equals(_) => "equals",
        Rule::Regex(_) => "regex",
        Rule::Type(_) => "type",
        Rule::Present(_) => "present",
        Rule::OneOf(_) => "one_of",
        Rule::StartsWith(_) => "starts_with",
        Rule::Format(_) => "format",
        Rule::RecentS(_) => "recent_s",
        Rule::AbsentOr(_) => "absent_or",
        Rule::AgreesWith(_) => "agrees_with",
        Rule::SomeItem(_) => "some_item",
    }
}

/// One sample value per rule, as a matcher (`pointer` given) or a parameter rule.
fn rule_samples(pointer: Option<&str>) -> Vec<Value> {
    let rules = [
        json!({ "equals": "completed" }),
        json!({ "regex": "^[0-9]+$" }),
        json!({ "type": "string" }),
        json!({ "present": false }),
        json!({ "one_of": ["busy", "failed"] }),
        json!({ "starts_with": "{Sink}/" }),
        json!({ "format": "rfc2822" }),
        json!({ "recent_s": 900 }),
        json!({ "absent_or": { "equals": "{From}" } }),
        json!({ "agrees_with": "{From}" }),
        json!({ "some_item": [{ "pointer": "/request/url", "equals": "{Sink}/voice.xml" }] }),
    ];
    rules
        .into_iter()
        .map(|mut rule| {
            if let Some(pointer) = pointer {
                rule["pointer"] = json!(pointer);
            }
            rule
        })
        .collect()
}

/// The request keys every request-like step may carry, each with a value unlike its default.
fn request_keys() -> serde_json::Map<String, Value> {
    let request = json!({
        "method": "POST", "path": "/2010-04-01/Accounts/{AccountSid}/Calls.json", "auth": "foreign",
        "form": [["To", "{AnswerNumber}"], ["StatusCallbackEvent", "initiated"]], "query": [["PageSize", "1"]],
        "raw_body": { "content_type": "text/plain", "text": "To=x" }
    });
    request.as_object().expect("an object").clone()
}

fn with_request(step: Value) -> Value {
    let mut object = request_keys();
    object.extend(step.as_object().expect("an object").clone());
    Value::Object(object)
}

/// A case using every key the fixture schema allows, each with a value unlike serde's default, and
/// every step kind and every rule.
fn every_key_case() -> Value {
    let each: serde_json::Map<String, Value> =
        rule_samples(None).into_iter().enumerate().map(|(i, rule)| (format!("P{i}"), rule)).collect();
    let callbacks = json!({
        "path": "/events", "where": { "CallStatus": "completed" }, "count": 1, "within_ms": 100, "quiet_ms": 5,
        "method": "GET", "schema": "status-callback", "each": each,
        "sequence": [{ "SequenceNumber": "0" }],
        "spacing": { "min_ms": 1, "max_ms": 2, "tolerance_ms": 3, "min_average_ms": "{DequeueIntervalMs}" },
        "signed": false, "capture": { "Z": "CallSid" }
    });
    json!({
        "$schema": "../../../schemas/fixture.schema.json", "title": "every key", "description": "d",
        "requirements": ["T-FORM-1"], "tags": ["selftest"], "needs": ["callbacks"], "account": "trial", "exclusive": true,
        "sink": { "/twiml": { "status": 500, "body": "<Response/>", "content_type": "text/plain", "delay_ms": 5 } },
        "deadline_ms": 5000,
        "steps": [
            { "name": "n", "requirement": "T-FORM-2", "repeat": 2, "request": with_request(json!({
                "expect": { "status": 400, "status_in": [400, 404], "error_code": 21201, "schema": "error",
                            "json": rule_samples(Some("/status")), "empty_body": true,
                            "content_type_in": ["audio/x-wav", "audio/wav"],
                            "either": [{ "status": 400, "error_code": 21220 }, { "status_in": [404] }] },
                "capture": { "X": "/sid" } })) },
            { "poll": with_request(json!({
                "until": [{ "pointer": "/status", "equals": "completed" }], "until_status": [200], "within_ms": 100,
                "interval_ms": 10,
                "expect": { "status": 200 }, "capture": { "Y": "/x" } })) },
            { "callbacks": callbacks },
            { "sequence": { "values": "Y", "as": "rfc2822", "min_step": 1, "count": 2 } },
            { "paginate": with_request(json!({
                "items": "/calls", "id": "/sid", "schema": "call-page", "expect_total": 3, "page_size": 2,
                "max_pages": 4, "ids_from": "Ids" })) },
            { "saturate": with_request(json!({ "hold": "{ConcurrencyLimit}", "expect": { "status": 429 } })) }
        ]
    })
}

#[test]
fn a_sample_of_every_variant_passes_the_schema_and_reads_back_as_that_variant() {
    let case = every_key_case();
    let found = violations(&case);
    assert!(found.is_empty(), "the every-key sample fails the fixture schema: {found:#?}");
    let parsed: CaseFile = serde_json::from_value(case).expect("serde reads the every-key sample");
    let actions: BTreeSet<String> = parsed.steps.iter().map(|s| action_name(&s.action).to_owned()).collect();
    assert_eq!(actions, serde_variants::<Action>(json!({ "no-such-step": {} })));
    let all_rules = serde_variants::<Rule>(json!({ "no-such-rule": null }));
    let Action::Request(request) = &parsed.steps[0].action else { panic!("step 0 is a request") };
    let matchers: BTreeSet<String> = request.expect.json.iter().map(|m| rule_name(&m.rule).to_owned()).collect();
    assert_eq!(matchers, all_rules, "as JSON-pointer matchers");
    let Action::Callbacks(callbacks) = &parsed.steps[2].action else { panic!("step 2 is callbacks") };
    let params: BTreeSet<String> = callbacks
        .each
        .values()
        .map(|r| match r {
            ParamRule::Rule(rule) => rule_name(rule).to_owned(),
            ParamRule::Text(text) => panic!("a rule object read as the text {text:?}"),
        })
        .collect();
    assert_eq!(params, all_rules, "as callback parameter rules");
    assert_eq!(callbacks.filter.get("CallStatus"), Some(&ParamRule::Text("completed".into())));
    for format in CUSTOM_FORMATS {
        let matcher = json!({ "pointer": "/x", "format": format });
        let mut case = every_key_case();
        case["steps"][0]["request"]["expect"]["json"] = json!([matcher]);
        assert!(violations(&case).is_empty(), "{matcher}");
        let parsed: CaseFile = serde_json::from_value(case).expect("serde reads it");
        let Action::Request(request) = &parsed.steps[0].action else { panic!("step 0 is a request") };
        assert_eq!(request.expect.json[0].rule, Rule::Format((*format).to_owned()));
        assert!(check_custom_format(format, "").is_some(), "the matcher can check format {format}");
    }
}

/// Where the every-key sample holds an object of each schema definition.
const OBJECTS: [(&str, &str); 11] = [
    ("", "/properties"),
    ("/sink/~1twiml", "/$defs/sinkRoute/properties"),
    ("/steps/0/request", "/$defs/requestStep/properties"),
    ("/steps/0/request/expect", "/$defs/expect/properties"),
    ("/steps/0/request/raw_body", "/$defs/request/properties/raw_body/properties"),
    ("/steps/1/poll", "/$defs/pollStep/properties"),
    ("/steps/2/callbacks", "/$defs/callbacksStep/properties"),
    ("/steps/2/callbacks/spacing", "/$defs/callbacksStep/properties/spacing/properties"),
    ("/steps/3/sequence", "/$defs/sequenceStep/properties"),
    ("/steps/4/paginate", "/$defs/paginateStep/properties"),
    ("/steps/5/saturate", "/$defs/saturateStep/properties"),
];

/// Keys the schema allows that serde deliberately does not read.
const IGNORED_BY_SERDE: [&str; 1] = ["$schema"];

/// Checks one key of the every-key sample: an optional key changes what serde reads; a required one
/// (the schema refuses the case without it) is required by serde too.
fn check_key(case: &Value, full: &str, object: &str, key: &str) {
    let mut cut = case.clone();
    cut.pointer_mut(object).and_then(Value::as_object_mut).expect("an object").remove(key);
    let read = serde_json::from_value::<CaseFile>(cut.clone()).map(|c| format!("{c:?}"));
    if violations(&cut).is_empty() {
        let read = read.unwrap_or_else(|e| panic!("{object}/{key}: optional in the schema, required by serde: {e}"));
        assert_ne!(read, full, "{object}/{key}: the schema allows it but serde ignores it");
    } else {
        assert!(read.is_err(), "{object}/{key}: required by the schema, optional for serde");
    }
}

#[test]
fn every_key_the_schema_allows_is_read_by_serde_and_required_keys_agree() {
    let schema = fixture_schema();
    let case = every_key_case();
    let full = format!("{:?}", serde_json::from_value::<CaseFile>(case.clone()).expect("serde reads the sample"));
    for (object, definition) in OBJECTS {
        let keys = schema_keys(&case, object);
        let missing: Vec<_> = schema_keys(&schema, definition).difference(&keys).cloned().collect();
        assert!(missing.is_empty(), "the sample at {object:?} lacks schema keys {missing:?} of {definition}");
        for key in keys.iter().filter(|k| !IGNORED_BY_SERDE.contains(&k.as_str())) {
            check_key(&case, &full, object, key);
        }
    }
    let step_keys: BTreeSet<String> = case["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .flat_map(|s| s.as_object().expect("a step").keys().cloned())
        .collect();
    assert_eq!(step_keys, schema_keys(&schema, "/$defs/step/properties"), "every step key is in some step");
    for key in ["name", "requirement", "repeat", "request"] {
        check_key(&case, &full, "/steps/0", key);
    }
}
