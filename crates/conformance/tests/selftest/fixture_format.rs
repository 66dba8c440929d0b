//! The case format's parameter layout: every case writes `form` and `query` as `[name, value]`
//! pairs, and the loader refuses any other layout by name.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use callspec_conformance::error::LoadErrorKind;
use callspec_conformance::fixture::parse_case;
use callspec_conformance::requirements::Catalog;
use callspec_conformance::schema::SchemaSet;
use serde_json::{Value, json};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn schemas() -> &'static SchemaSet {
    static SET: OnceLock<SchemaSet> = OnceLock::new();
    SET.get_or_init(|| SchemaSet::load(&repo_root().join("schemas")).expect("schemas/ loads"))
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
