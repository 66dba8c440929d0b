//! Golden snapshots: everything a target returned in a case, normalized by meaning, compared
//! with the reviewed copy under `fixtures/snapshots/<area>/<NNN_slug>.snap` (insta's format), or
//! with the copy a target's own snapshot directory recorded from an earlier run.
//!
//! Schemas and matchers say what must hold; snapshots show everything else, so a reviewer sees
//! any drift. Normalization keeps meaning: every SID becomes a numbered reference per kind
//! (`[CallSid:1]`), so "the same call in two responses" stays visible; a string becomes
//! `[rfc2822]` only when it parses as Twilio's RFC 2822 date; volatile numbers (`queue_time`,
//! `duration`, `price`…) become typed placeholders only when they have the documented shape,
//! so a numeric `duration` or a malformed price still shows; secrets never reach a snapshot.

use serde_json::{Map, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// What one step produced, recorded for the snapshot.
#[derive(Debug, Clone, Default)]
pub struct Artifacts {
    items: Vec<Value>,
}

impl Artifacts {
    /// Records one artifact.
    pub fn push(&mut self, item: Value) {
        self.items.push(item);
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The recorded artifacts.
    pub fn items(&self) -> &[Value] {
        &self.items
    }
}

/// Literal texts replaced before anything else: secrets and run-specific URLs and numbers.
#[derive(Debug, Clone, Default)]
pub struct Literals {
    /// `(text, placeholder)` pairs, longest text first when applied.
    pub pairs: Vec<(String, String)>,
}

impl Literals {
    /// Adds a replacement; empty texts are ignored.
    pub fn add(&mut self, text: impl Into<String>, placeholder: impl Into<String>) {
        let text = text.into();
        if !text.is_empty() {
            self.pairs.push((text, placeholder.into()));
        }
    }
}

/// SIDs inside a text: a known prefix, 32 hex digits, and no hex digit right after (so the
/// `CA…` in a `PACA…` page token is found, not an `AC…` one letter earlier).
fn find_sids(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 34 <= bytes.len() {
        let prefix = &text.get(i..i + 2).unwrap_or("");
        let known = matches!(*prefix, "CA" | "AC" | "PN" | "RE" | "AP" | "BY" | "GP" | "TK" | "CF");
        let hex = bytes[i + 2..i + 34].iter().all(u8::is_ascii_hexdigit);
        let boundary = bytes.get(i + 34).is_none_or(|b| !b.is_ascii_hexdigit());
        if known && hex && boundary {
            out.push((i, i + 34));
            i += 34;
        } else {
            i += 1;
        }
    }
    out
}

fn sid_kind(prefix: &str) -> &'static str {
    match prefix {
        "CA" => "CallSid",
        "AC" => "AccountSid",
        "PN" => "PhoneNumberSid",
        "RE" => "RecordingSid",
        "AP" => "ApplicationSid",
        "BY" => "ByocSid",
        "GP" => "GroupSid",
        "TK" => "TrunkSid",
        _ => "ConferenceSid",
    }
}

/// Keys whose values vary from run to run, with the shape that earns the placeholder.
fn volatile(key: &str, text: &str) -> Option<&'static str> {
    let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    match key {
        "queue_time" if digits => Some("[milliseconds]"),
        // A call's Events show the callbacks' parameters under snake_case keys.
        "duration" | "CallDuration" | "RecordingDuration" | "Duration" | "call_duration" | "recording_duration"
            if digits =>
        {
            Some("[seconds]")
        }
        "price"
            if text.strip_prefix('-').unwrap_or(text).split_once('.').is_some_and(|(a, b)| {
                !a.is_empty() && !b.is_empty() && a.bytes().chain(b.bytes()).all(|c| c.is_ascii_digit())
            }) =>
        {
            Some("[price]")
        }
        "auth_token" | "AuthToken" => Some("[secret]"),
        _ => None,
    }
}

/// The longest array kept whole; a longer one (a page of many calls) keeps its count and first item.
pub const MAX_ARRAY: usize = 10;

/// Fields of a call that move while the call is live.
const PROGRESS: [&str; 5] = ["status", "start_time", "end_time", "duration", "price"];

/// Removes what depends on timing alone: a call still live (queued, ringing, in progress) has
/// its progress fields replaced by `[live]`, since when a response catches it is a race (cases
/// assert those fields where they matter), and a long array keeps its count and first item.
fn settle(value: &Value) -> Value {
    match value {
        Value::Array(a) if a.len() > MAX_ARRAY => {
            serde_json::json!({"count": a.len(), "first": a.first().map(settle)})
        }
        Value::Array(a) => Value::Array(a.iter().map(settle).collect()),
        Value::Object(o) => {
            let live_call = o.get("sid").and_then(Value::as_str).is_some_and(|s| s.starts_with("CA"))
                && o.get("status")
                    .and_then(Value::as_str)
                    .is_some_and(|s| matches!(s, "queued" | "initiated" | "ringing" | "in-progress"));
            o.iter()
                .map(|(k, v)| {
                    let v = if live_call && PROGRESS.contains(&k.as_str()) {
                        Value::String("[live]".into())
                    } else {
                        settle(v)
                    };
                    (k.clone(), v)
                })
                .collect::<Map<String, Value>>()
                .into()
        }
        other => other.clone(),
    }
}

/// Replaces volatile values by placeholders; numbering of SIDs follows first appearance.
pub struct Normalizer {
    literals: Literals,
    numbering: HashMap<String, String>,
    counters: HashMap<&'static str, usize>,
}

impl Normalizer {
    /// A normalizer with the run's literal replacements.
    pub fn new(mut literals: Literals) -> Normalizer {
        literals.pairs.sort_by_key(|(text, _)| std::cmp::Reverse(text.len()));
        Normalizer { literals, numbering: HashMap::new(), counters: HashMap::new() }
    }

    /// Normalizes a whole document; object keys come out sorted.
    pub fn normalize(&mut self, value: &Value) -> Value {
        let stable = settle(value);
        self.walk(None, &stable)
    }

    fn walk(&mut self, key: Option<&str>, value: &Value) -> Value {
        match value {
            Value::String(s) => Value::String(self.text(key, s)),
            // How long a request of a call's Events took, in integer milliseconds.
            Value::Number(n) if key == Some("request_duration") && n.is_u64() => {
                Value::String("[milliseconds]".to_owned())
            }
            Value::Array(a) => Value::Array(a.iter().map(|v| self.walk(None, v)).collect()),
            Value::Object(o) => {
                let mut keys: Vec<&String> = o.keys().collect();
                keys.sort();
                let mut out = Map::new();
                for k in keys {
                    out.insert(k.clone(), self.walk(Some(k), &o[k]));
                }
                Value::Object(out)
            }
            other => other.clone(),
        }
    }

    fn text(&mut self, key: Option<&str>, s: &str) -> String {
        let mut text = s.to_owned();
        for (literal, placeholder) in &self.literals.pairs {
            if text.contains(literal.as_str()) {
                text = text.replace(literal.as_str(), placeholder);
            }
        }
        if let Some(placeholder) = key.and_then(|k| volatile(k, &text)) {
            return placeholder.to_owned();
        }
        if callspec_model::rfc2822::parse(&text).is_ok() {
            return "[rfc2822]".to_owned();
        }
        let sids = find_sids(&text);
        if sids.is_empty() {
            return text;
        }
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for (start, end) in sids {
            out.push_str(&text[last..start]);
            let found = &text[start..end];
            let sid = found.to_ascii_lowercase();
            let kind = sid_kind(&found[..2]);
            let label = match self.numbering.get(&sid) {
                Some(l) => l.clone(),
                None => {
                    let n = self.counters.entry(kind).or_insert(0);
                    *n += 1;
                    let l = format!("[{kind}:{n}]");
                    self.numbering.insert(sid, l.clone());
                    l
                }
            };
            out.push_str(&label);
            last = end;
        }
        out.push_str(&text[last..]);
        out
    }
}

/// Replaces the values at waived pointers by `"[waived]"`; `*` matches any key or index.
/// Pointers apply inside every artifact, e.g. `/body/message`.
pub fn waive(document: &mut Value, pointers: &[String]) {
    if let Value::Array(items) = document {
        for item in items {
            for p in pointers {
                let segments: Vec<&str> = p.trim_start_matches('/').split('/').collect();
                waive_at(item, &segments);
            }
        }
    }
}

fn waive_at(value: &mut Value, segments: &[&str]) {
    let Some((first, rest)) = segments.split_first() else {
        *value = Value::String("[waived]".into());
        return;
    };
    match value {
        Value::Object(o) => {
            if *first == "*" {
                for v in o.values_mut() {
                    waive_at(v, rest);
                }
            } else if let Some(v) = o.get_mut(*first) {
                waive_at(v, rest);
            }
        }
        Value::Array(a) => {
            if *first == "*" {
                for v in a.iter_mut() {
                    waive_at(v, rest);
                }
            } else if let Some(v) = first.parse::<usize>().ok().and_then(|i| a.get_mut(i)) {
                waive_at(v, rest);
            }
        }
        _ => {}
    }
}

/// One difference between the reviewed snapshot and this run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// JSON pointer into the snapshot document.
    pub pointer: String,
    /// The reviewed value, or `(absent)`.
    pub expected: String,
    /// This run's value, or `(absent)`.
    pub actual: String,
}

/// Every difference between two documents, by JSON pointer, in document order.
pub fn diff(expected: &Value, actual: &Value) -> Vec<Difference> {
    let mut out = Vec::new();
    diff_at(String::new(), Some(expected), Some(actual), &mut out);
    out
}

fn show(v: Option<&Value>) -> String {
    v.map_or_else(|| "(absent)".to_owned(), |v| crate::matcher::shorten(&v.to_string(), 200))
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn diff_at(pointer: String, expected: Option<&Value>, actual: Option<&Value>, out: &mut Vec<Difference>) {
    match (expected, actual) {
        (Some(Value::Object(e)), Some(Value::Object(a))) => {
            let mut keys: Vec<&String> = e.keys().chain(a.keys().filter(|k| !e.contains_key(*k))).collect();
            keys.sort();
            for k in keys {
                diff_at(format!("{pointer}/{}", escape(k)), e.get(k), a.get(k), out);
            }
        }
        (Some(Value::Array(e)), Some(Value::Array(a))) => {
            for i in 0..e.len().max(a.len()) {
                diff_at(format!("{pointer}/{i}"), e.get(i), a.get(i), out);
            }
        }
        (e, a) if e == a => {}
        (e, a) => out.push(Difference {
            pointer: if pointer.is_empty() { "/".into() } else { pointer },
            expected: show(e),
            actual: show(a),
        }),
    }
}

/// Where a case's snapshot lives in a snapshot directory: `<dir>/<area>/<NNN_slug>.snap`.
pub fn snapshot_file(dir: &Path, case_name: &str) -> PathBuf {
    let mut parts: Vec<&str> = case_name.split("::").collect();
    let last = parts.pop().unwrap_or(case_name);
    let mut path = dir.to_path_buf();
    for p in parts {
        path.push(p);
    }
    path.push(format!("{last}.snap"));
    path
}

/// Snapshot files in `dir` that belong to none of `case_names` (the case was renamed or removed).
pub fn orphans(dir: &Path, case_names: &[&str]) -> Vec<PathBuf> {
    let wanted: std::collections::HashSet<PathBuf> = case_names.iter().map(|n| snapshot_file(dir, n)).collect();
    let mut found = Vec::new();
    collect_snaps(dir, &mut found);
    found.retain(|p| !wanted.contains(p));
    found.sort();
    found
}

fn collect_snaps(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_snaps(&path, out);
        } else if path.extension().is_some_and(|e| e == "snap") {
            out.push(path);
        }
    }
}

/// The contents of an insta `.snap` file (after its YAML header), if it exists.
pub fn read_snapshot(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    parse_snapshot(&text).map(|s| s.body)
}

/// Where a snapshot came from, as its header says (`info:` of the files the runner writes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SnapshotHeader {
    /// The case it belongs to.
    pub case: Option<String>,
    /// The target it was recorded from: the profile's name and version.
    pub target: Option<String>,
    /// The day it was recorded, `YYYY-MM-DD`.
    pub recorded: Option<String>,
}

/// A `.snap` file: its header and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotFile {
    /// What the header says.
    pub header: SnapshotHeader,
    /// The snapshot itself (JSON text), without the trailing newline.
    pub body: String,
}

/// Reads insta's format: a YAML header between `---` lines, then the text. The header is read
/// for the three keys the runner writes; values may be quoted (JSON strings) or bare.
pub fn parse_snapshot(text: &str) -> Option<SnapshotFile> {
    let rest = text.strip_prefix("---\n")?;
    let at = rest.find("\n---\n")?;
    let mut header = SnapshotHeader::default();
    for line in rest[..at].lines() {
        let Some((key, value)) = line.trim().split_once(':') else { continue };
        let value = value.trim();
        let value = serde_json::from_str::<String>(value).unwrap_or_else(|_| value.to_owned());
        match key {
            "case" => header.case = Some(value),
            "target" => header.target = Some(value),
            "recorded" => header.recorded = Some(value),
            _ => {}
        }
    }
    Some(SnapshotFile { header, body: rest[at + 5..].trim_end_matches('\n').to_owned() })
}

/// A snapshot directory the run may not use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotDirError {
    /// A target's own snapshots would land among the suite's reviewed files.
    #[error(
        "the snapshot directory {} is inside the suite's own fixtures ({}): a target's snapshots live outside \
         the suite; choose a directory of your own (only `--update-snapshots` against the embedded reference \
         emulator writes under fixtures/)",
        dir.display(),
        fixtures.display()
    )]
    InsideFixtures {
        /// The directory, resolved.
        dir: PathBuf,
        /// The suite's `fixtures/`, resolved.
        fixtures: PathBuf,
    },
    /// `--update-snapshots` against another target, with no directory of its own to update.
    #[error(
        "--update-snapshots against --target rewrites that target's own snapshots: give --snapshot-dir DIR or \
         the profile's snapshot_dir (the suite's goldens are written only from the embedded reference emulator)"
    )]
    UpdateNeedsDir,
}

/// A directory as the file system resolves it, whether it exists yet or not: absolute, `.` and
/// `..` applied, symlinks followed as far as the path exists (so a link into `fixtures/` is seen).
pub fn resolve_dir(dir: &Path) -> PathBuf {
    use std::path::Component;
    let absolute =
        if dir.is_absolute() { dir.to_path_buf() } else { std::env::current_dir().unwrap_or_default().join(dir) };
    let mut out = PathBuf::new();
    for part in absolute.components() {
        match part {
            Component::Prefix(_) | Component::RootDir => out.push(part.as_os_str()),
            Component::CurDir => {}
            // `out` is canonical wherever it exists, so its parent is the real one.
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(name) => {
                out.push(name);
                if let Ok(real) = out.canonicalize() {
                    out = real;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn normalize(v: &Value) -> Value {
        let mut lits = Literals::default();
        lits.add("http://127.0.0.1:4000/c/run/case", "[Sink]");
        Normalizer::new(lits).normalize(v)
    }

    #[test]
    fn sids_are_numbered_by_kind_and_first_appearance() {
        let a = "CA0123456789abcdef0123456789abcdef";
        let b = "CAffffffffffffffffffffffffffffffff";
        let acct = "AC0123456789abcdef0123456789abcdef";
        let doc =
            json!([{"sid": a, "uri": format!("/2010-04-01/Accounts/{acct}/Calls/{a}.json")}, {"sid": b, "parent": a}]);
        assert_eq!(
            normalize(&doc),
            json!([{"sid": "[CallSid:1]", "uri": "/2010-04-01/Accounts/[AccountSid:1]/Calls/[CallSid:1].json"}, {"parent": "[CallSid:1]", "sid": "[CallSid:2]"}])
        );
    }

    #[test]
    fn live_calls_and_long_lists_are_settled() {
        let live =
            json!({"sid": "CA0123456789abcdef0123456789abcdef", "status": "ringing", "start_time": null, "to": "+1"});
        let done = json!({"sid": "CA0123456789abcdef0123456789abcdee", "status": "busy", "start_time": null});
        assert_eq!(
            normalize(&json!([live, done])),
            json!([{"sid": "[CallSid:1]", "start_time": "[live]", "status": "[live]", "to": "+1"},
                   {"sid": "[CallSid:2]", "start_time": null, "status": "busy"}])
        );
        let long: Vec<Value> = (0..12).map(|i| json!(i)).collect();
        assert_eq!(normalize(&json!({"calls": long})), json!({"calls": {"count": 12, "first": 0}}));
    }

    #[test]
    fn a_page_token_holds_a_call_sid_not_an_account_sid() {
        let call = "CAab0123456789abcdef0123456789abcd";
        let doc = json!({"next_page_uri": format!("/Calls.json?Page=1&PageToken=PA{call}")});
        assert_eq!(normalize(&doc), json!({"next_page_uri": "/Calls.json?Page=1&PageToken=PA[CallSid:1]"}));
    }

    #[test]
    fn placeholders_only_for_the_documented_shape() {
        let doc = json!({"date_created": "Tue, 31 Aug 2010 20:36:28 +0000", "date_updated": "2010-08-31T20:36:28Z",
                         "duration": "15", "price": "-0.03000", "queue_time": 1000, "url": "http://127.0.0.1:4000/c/run/case/events"});
        assert_eq!(
            normalize(&doc),
            json!({"date_created": "[rfc2822]", "date_updated": "2010-08-31T20:36:28Z", "duration": "[seconds]",
                   "price": "[price]", "queue_time": 1000, "url": "[Sink]/events"})
        );
        let event = json!({"request": {"parameters": {"call_duration": "3"}},
                           "response": {"request_duration": 41, "response_code": 200}});
        assert_eq!(
            normalize(&event),
            json!({"request": {"parameters": {"call_duration": "[seconds]"}},
                   "response": {"request_duration": "[milliseconds]", "response_code": 200}})
        );
    }

    #[test]
    fn diff_names_pointers_of_changed_added_and_removed_values() {
        let e = json!([{"body": {"status": "queued", "to": "+1"}, "params": {"CallStatus": "initiated"}}]);
        let a =
            json!([{"body": {"status": "ringing", "to": "+1", "extra": 1}, "params": {"Call_Status": "initiated"}}]);
        let d = diff(&e, &a);
        let pointers: Vec<&str> = d.iter().map(|d| d.pointer.as_str()).collect();
        assert_eq!(pointers, ["/0/body/extra", "/0/body/status", "/0/params/CallStatus", "/0/params/Call_Status"]);
        assert_eq!(d[1].expected, "\"queued\"");
        assert_eq!(d[1].actual, "\"ringing\"");
    }

    #[test]
    fn waivers_replace_values_inside_every_artifact() {
        let mut doc =
            json!([{"body": {"message": "a"}}, {"requests": [{"params": {"X": "1"}}, {"params": {"X": "2"}}]}]);
        waive(&mut doc, &["/body/message".into(), "/requests/*/params/X".into()]);
        assert_eq!(
            doc,
            json!([{"body": {"message": "[waived]"}}, {"requests": [{"params": {"X": "[waived]"}}, {"params": {"X": "[waived]"}}]}])
        );
    }

    #[test]
    fn headers_are_read_quoted_or_bare() {
        let text = "---\nsource: x\ninfo:\n  case: \"a::b\"\n  target: \"my-emulator 1.4.0\"\n  recorded: 2026-01-01\ninput_file: f\n---\n[1]\n";
        let file = parse_snapshot(text).expect("a snapshot");
        assert_eq!(file.body, "[1]");
        assert_eq!(file.header.case.as_deref(), Some("a::b"));
        assert_eq!(file.header.target.as_deref(), Some("my-emulator 1.4.0"));
        assert_eq!(file.header.recorded.as_deref(), Some("2026-01-01"));
        assert_eq!(parse_snapshot("[1]\n"), None);
    }

    #[test]
    fn directories_resolve_through_dots_and_links() {
        let base = std::env::temp_dir().join(format!("callspec-resolve-{}", std::process::id()));
        let real = base.join("real");
        std::fs::create_dir_all(&real).expect("a directory");
        let real = real.canonicalize().expect("canonical");
        assert_eq!(resolve_dir(&base.join("real/./x/../y")), real.join("y"));
        #[cfg(unix)]
        {
            let link = base.join("link");
            let _ = std::fs::remove_file(&link);
            std::os::unix::fs::symlink(&real, &link).expect("a symlink");
            assert_eq!(resolve_dir(&link.join("new/dir")), real.join("new/dir"));
        }
        let _ = std::fs::remove_dir_all(&base);
    }

    #[test]
    fn snapshot_files_mirror_case_paths() {
        assert_eq!(
            snapshot_file(Path::new("/r/fixtures/snapshots"), "seed::001_phone"),
            PathBuf::from("/r/fixtures/snapshots/seed/001_phone.snap")
        );
    }
}
