//! What a case needs from the profile, read from its steps: the optional numbers and accounts
//! its templates name, the capabilities its step kinds use. A case must declare each of these
//! in `needs`, so a profile without them SKIPs the case with the reason instead of an ERROR.

use crate::fixture::{AccountChoice, Action, Auth, CaseFile};
use crate::profile::{CALLEE_KINDS, NEEDS};
use std::collections::BTreeMap;

/// The need a template variable implies, if it is one a profile may lack.
fn need_of_variable(name: &str) -> Option<&'static str> {
    if let Some(kind) = CALLEE_KINDS.iter().find(|k| k.variable == name) {
        return Some(kind.need);
    }
    Some(match name {
        "ConcurrencyLimit" => "concurrency-limit",
        n if n.starts_with("OtherFrom") => "numbers.other_from",
        n if n.starts_with("Trial") => "trial",
        _ => return None,
    })
}

/// The names of the variables a template string uses (`{Name}`, `{Name[i]}`; `{{` is literal).
pub fn template_variables(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find('{') {
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("{{") {
            rest = after;
            continue;
        }
        let Some(end) = tail.find('}') else { break };
        let expr = &tail[1..end];
        out.push(expr.split('[').next().unwrap_or(expr));
        rest = &tail[end + 1..];
    }
    out
}

fn scan(value: &serde_json::Value, at: &str, found: &mut BTreeMap<&'static str, String>) {
    match value {
        serde_json::Value::String(s) => {
            for var in template_variables(s) {
                if let Some(need) = need_of_variable(var) {
                    found.entry(need).or_insert_with(|| format!("{at} uses {{{var}}}"));
                }
            }
        }
        serde_json::Value::Array(a) => a.iter().enumerate().for_each(|(i, v)| scan(v, &format!("{at}/{i}"), found)),
        serde_json::Value::Object(o) => {
            for (k, v) in o.iter().filter(|(k, _)| !matches!(k.as_str(), "title" | "description")) {
                scan(v, &format!("{at}/{k}"), found);
            }
        }
        _ => {}
    }
}

/// Whether a step does more than create calls: Twilio's test credentials allow only creates.
fn reads(action: &Action) -> bool {
    match action {
        Action::Request(r) => !r.request.creates_call(),
        Action::Poll(_) | Action::Paginate(_) => true,
        Action::Saturate(_) | Action::Callbacks(_) | Action::Sequence(_) => false,
    }
}

/// Every need the case's content implies, each with the JSON pointer that implies it.
pub fn implied(raw: &serde_json::Value, data: &CaseFile) -> BTreeMap<&'static str, String> {
    let mut found = BTreeMap::new();
    scan(raw, "", &mut found);
    if data.account == AccountChoice::Trial {
        found.entry("trial").or_insert_with(|| "/account is trial".to_owned());
    }
    for (i, step) in data.steps.iter().enumerate() {
        let auth = match &step.action {
            Action::Request(r) => Some(r.request.auth),
            Action::Poll(p) => Some(p.request.auth),
            Action::Paginate(p) => Some(p.request.auth),
            Action::Saturate(s) => {
                found.entry("concurrency-limit").or_insert_with(|| format!("/steps/{i} saturates"));
                Some(s.request.auth)
            }
            Action::Callbacks(_) => {
                found.entry("callbacks").or_insert_with(|| format!("/steps/{i} waits for callbacks"));
                None
            }
            Action::Sequence(_) => None,
        };
        let request = match &step.action {
            Action::Request(r) => Some(&r.request),
            Action::Poll(p) => Some(&p.request),
            Action::Paginate(p) => Some(&p.request),
            Action::Saturate(_) | Action::Callbacks(_) | Action::Sequence(_) => None,
        };
        if request.is_some_and(|r| r.uses_recordings_resource()) {
            found.entry("recordings-resource").or_insert_with(|| format!("/steps/{i} uses the Recordings resource"));
        }
        if request.is_some_and(|r| r.uses_call_events()) {
            found.entry("call-events").or_insert_with(|| format!("/steps/{i} reads a call's Events"));
        }
        if reads(&step.action) {
            found.entry("reads").or_insert_with(|| format!("/steps/{i} reads, updates or deletes"));
        }
        if matches!(auth, Some(Auth::Trial | Auth::Foreign)) {
            found.entry("trial").or_insert_with(|| format!("/steps/{i} uses the trial account's credentials"));
        }
    }
    found
}

/// Problems with a case's `needs`: unknown names, and implied needs it does not declare.
pub fn problems(raw: &serde_json::Value, data: &CaseFile) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (i, need) in data.needs.iter().enumerate() {
        if !NEEDS.contains(&need.as_str()) {
            out.push((format!("/needs/{i}"), format!("unknown need {need:?}; known: {}", NEEDS.join(", "))));
        }
    }
    for (need, because) in implied(raw, data) {
        if !data.needs.iter().any(|n| n == need) {
            out.push(("/needs".to_owned(), format!("the case needs {need:?} ({because}): add it to `needs`")));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixture_schema_lists_every_need_and_every_callee_has_one() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../schemas/fixture.schema.json");
        let schema: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).expect("the fixture schema reads")).expect("JSON");
        let listed: Vec<&str> = schema["properties"]["needs"]["items"]["enum"]
            .as_array()
            .expect("an enum of needs")
            .iter()
            .filter_map(serde_json::Value::as_str)
            .collect();
        assert_eq!(listed, NEEDS, "schemas/fixture.schema.json's needs and profile::NEEDS differ");
        for kind in CALLEE_KINDS {
            assert!(NEEDS.contains(&kind.need), "{} is not a need", kind.need);
            assert_eq!(need_of_variable(kind.variable), Some(kind.need));
        }
    }

    #[test]
    fn template_variables_are_read_past_indexes_and_escapes() {
        assert_eq!(template_variables("{CallSid[i]} {{x}} {BusyNumber}"), ["CallSid", "BusyNumber"]);
        assert_eq!(need_of_variable("OtherFrom0"), Some("numbers.other_from"));
        assert_eq!(need_of_variable("TrialFrom"), Some("trial"));
        assert_eq!(need_of_variable("AnswerNumber"), None);
    }

    #[test]
    fn the_recordings_resource_is_read_from_method_and_path() {
        let uses = |method: &str, path: &str| {
            let spec: crate::fixture::RequestSpec =
                serde_json::from_value(serde_json::json!({"method": method, "path": path})).expect("a request");
            spec.uses_recordings_resource()
        };
        let call = "/2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}";
        assert!(uses("POST", &format!("{call}/Recordings.json")), "a start");
        assert!(uses("POST", &format!("{call}/Recordings/Twilio.CURRENT.json")), "an update");
        assert!(uses("DELETE", "/2010-04-01/Accounts/{AccountSid}/Recordings/{Sid}.json"), "a delete");
        assert!(uses("GET", "/2010-04-01/Accounts/{AccountSid}/Recordings.json"), "the account's list");
        assert!(!uses("GET", &format!("{call}/Recordings.json")), "Record=true's list of a call needs `recordings`");
        assert!(!uses("GET", "{Recordings}"), "a captured list URI");
        assert!(!uses("POST", "/2010-04-01/Accounts/{AccountSid}/Calls.json"));
    }

    #[test]
    fn call_events_are_read_from_the_path() {
        let uses = |method: &str, path: &str| {
            let spec: crate::fixture::RequestSpec =
                serde_json::from_value(serde_json::json!({"method": method, "path": path})).expect("a request");
            spec.uses_call_events()
        };
        let call = "/2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}";
        assert!(uses("GET", &format!("{call}/Events.json")));
        assert!(uses("GET", &format!("{call}/Events.json?PageSize=1")));
        assert!(uses("POST", &format!("{call}/Events.json")), "a refused method still names the resource");
        assert!(!uses("GET", &format!("{call}.json")));
        assert!(!uses("GET", &format!("{call}/Recordings.json")));
    }
}
