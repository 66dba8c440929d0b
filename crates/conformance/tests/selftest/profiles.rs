//! Profiles as users write them: every key of `schemas/profile.schema.json` is documented in the
//! README, the README's example loads, and a target's own SIDs are accepted in its credentials.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use callspec_conformance::schema::SchemaSet;
use serde_json::Value;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn schemas() -> &'static SchemaSet {
    static SET: OnceLock<SchemaSet> = OnceLock::new();
    SET.get_or_init(|| SchemaSet::load(&repo_root().join("schemas")).expect("schemas/ loads"))
}

#[test]
fn a_profile_takes_whatever_account_sid_its_target_issues() {
    let text = "name = \"own-sids\"\n[credentials]\naccount_sid = \"acct-0001\"\nauth_token = \"t\"\n[numbers]\nfrom = \"+15017122661\"\nanswer = \"+14155551212\"\n";
    let profile = callspec_conformance::profile::Profile::parse(text, Path::new("own-sids.toml"), schemas())
        .unwrap_or_else(|e| panic!("a target's own SID is its business:\n{e}"));
    assert_eq!(profile.credentials.account_sid.as_deref(), Some("acct-0001"));
}

/// Every key a profile may have, with its dotted path: `numbers.from`, `known_failures.reason`.
fn profile_keys(schema: &Value, defs: &Value, prefix: &str, out: &mut Vec<String>) {
    let schema = match schema.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/$defs/")) {
        Some(name) => &defs[name],
        None => schema,
    };
    if let Some(items) = schema.get("items") {
        profile_keys(items, defs, prefix, out);
    }
    for part in schema.get("allOf").and_then(Value::as_array).into_iter().flatten() {
        profile_keys(part, defs, prefix, out);
    }
    for (key, sub) in schema.get("properties").and_then(Value::as_object).into_iter().flatten() {
        let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
        if !out.contains(&path) {
            out.push(path.clone());
        }
        profile_keys(sub, defs, &path, out);
    }
}

#[test]
fn the_readme_documents_every_profile_key() {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("schemas/profile.schema.json")).expect("the profile schema"),
    )
    .expect("JSON");
    let mut keys = Vec::new();
    profile_keys(&schema, &schema["$defs"], "", &mut keys);
    let readme = std::fs::read_to_string(repo_root().join("README.md")).expect("README.md");
    let section = readme.split("## Target profiles").nth(1).and_then(|s| s.split("\n## ").next()).unwrap_or("");
    let missing: Vec<&String> = keys
        .iter()
        .filter(|path| {
            let key = path.rsplit('.').next().unwrap_or(path);
            !section.contains(&format!("{key} ="))
                && !section.contains(&format!("`{key}`"))
                && !section.contains(&format!("[{key}]"))
        })
        .collect();
    assert!(missing.is_empty(), "README's \"Target profiles\" section does not document: {missing:?}");
}

#[test]
fn the_readme_profile_example_is_a_valid_profile() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).expect("README.md");
    let section = readme.split("## Target profiles").nth(1).expect("the section");
    let example = section.split("```toml\n").nth(1).and_then(|s| s.split("```").next()).expect("a TOML example");
    callspec_conformance::profile::Profile::parse(example, Path::new("README.md"), schemas())
        .unwrap_or_else(|e| panic!("README's profile example must load:\n{e}"));
}
