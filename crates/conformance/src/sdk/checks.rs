//! The checks of `callspec sdk`, on both sides of the SDK: the wire form of the requests the
//! emulator journaled (Basic auth, `.json` paths, form encoding, repeated keys, booleans, paging
//! parameters) and the driver's answers against what the emulator returned (the call, every
//! page's SIDs, the error). Each check cites its `SDK-…` requirement; expected values are
//! literals of the scenario or the emulator's own answer, never computed by the model. What the
//! checks assume of SDKs: `docs/reference/calls-api-facts.md#sdk-clients`.

use super::Exchange;
use super::protocol::Answer;
use crate::outcome::{CheckVerdict, Failure, FailureKind, RequirementResult};
use callspec_model::Form;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// What one scenario's checks found, per requirement.
#[derive(Debug, Default)]
pub struct Findings {
    verdicts: BTreeMap<String, (CheckVerdict, Option<String>)>,
    /// The failed checks.
    pub failures: Vec<Failure>,
    /// What every failure's step is labelled.
    pub step_label: String,
}

/// A failed check, before it is a [`Failure`].
pub struct Miss<'a> {
    /// The requirement.
    pub requirement: &'a str,
    /// The kind.
    pub kind: FailureKind,
    /// Where (a JSON pointer into the request or the answer).
    pub pointer: String,
    /// What was expected.
    pub expected: String,
    /// What came.
    pub actual: String,
    /// A sentence.
    pub message: String,
}

impl Findings {
    /// Findings whose failures are labelled `step_label`.
    pub fn new(step_label: impl Into<String>) -> Findings {
        Findings { step_label: step_label.into(), ..Findings::default() }
    }

    /// A check of `requirement` held.
    pub fn pass(&mut self, requirement: &str) {
        let entry = self.verdicts.entry(requirement.to_owned()).or_insert((CheckVerdict::Passed, None));
        if entry.0 == CheckVerdict::NotRun {
            *entry = (CheckVerdict::Passed, None);
        }
    }

    /// A check failed.
    pub fn fail(&mut self, miss: Miss<'_>) {
        self.verdicts.insert(miss.requirement.to_owned(), (CheckVerdict::Failed, None));
        self.failures.push(Failure {
            requirement: Some(miss.requirement.to_owned()),
            kind: miss.kind,
            step: 0,
            step_label: self.step_label.clone(),
            pointer: Some(miss.pointer),
            expected: miss.expected,
            actual: miss.actual,
            message: miss.message,
            curl: None,
            known: None,
        });
    }

    /// The checks of `requirement` could not run, for `why`.
    pub fn not_run(&mut self, requirement: &str, why: &str) {
        self.verdicts.entry(requirement.to_owned()).or_insert((CheckVerdict::NotRun, Some(why.to_owned())));
    }

    /// Per requirement, what the checks said; requirements of the scenario no check reached are
    /// not run.
    pub fn results(&self, requirements: &[&str]) -> Vec<RequirementResult> {
        requirements
            .iter()
            .map(|id| match self.verdicts.get(*id) {
                Some((verdict, why)) => RequirementResult { id: (*id).to_owned(), verdict: *verdict, why: why.clone() },
                None => RequirementResult {
                    id: (*id).to_owned(),
                    verdict: CheckVerdict::NotRun,
                    why: Some("no check of it could run".into()),
                },
            })
            .collect()
    }
}

/// `SDK-AUTH-1`: every exchange carries Basic credentials of the account.
pub fn auth(f: &mut Findings, exchanges: &[Exchange], sid: &str, token: &str) {
    let expected = crate::client::basic_header(sid, token);
    for (i, x) in exchanges.iter().enumerate() {
        let sent = x.header("authorization").unwrap_or("");
        if sent == expected {
            f.pass("SDK-AUTH-1");
        } else {
            f.fail(Miss {
                requirement: "SDK-AUTH-1",
                kind: FailureKind::Status,
                pointer: format!("/requests/{i}/headers/Authorization"),
                expected: format!("Basic base64({sid}:****)"),
                actual: masked_auth(sent, token),
                message: format!("{} {} was not sent with the account's Basic credentials", x.method, x.path),
            });
        }
    }
}

/// An `Authorization` value with the token masked.
fn masked_auth(value: &str, token: &str) -> String {
    use base64::Engine as _;
    let Some(b64) = value.strip_prefix("Basic ") else {
        return if value.is_empty() { "no Authorization header".into() } else { "a non-Basic Authorization".into() };
    };
    match base64::engine::general_purpose::STANDARD.decode(b64.trim()) {
        Ok(raw) => {
            let text = String::from_utf8_lossy(&raw).replace(token, "****");
            format!("Basic base64({text})")
        }
        Err(_) => "Basic with invalid base64".into(),
    }
}

/// `SDK-PATH-1`: the SDK sent exactly one request, `method` on `path`; that exchange.
pub fn single<'a>(f: &mut Findings, exchanges: &'a [Exchange], method: &str, path: &str) -> Option<&'a Exchange> {
    single_for(f, "SDK-PATH-1", exchanges, method, path)
}

/// `requirement` (`SDK-PATH-1`, `SDK-REC-1`, `SDK-DEL-1`): the SDK sent exactly one request,
/// `method` on `path`; that exchange.
pub fn single_for<'a>(
    f: &mut Findings,
    requirement: &'static str,
    exchanges: &'a [Exchange],
    method: &str,
    path: &str,
) -> Option<&'a Exchange> {
    let listed: Vec<String> = exchanges.iter().map(|x| format!("{} {}", x.method, x.path)).collect();
    match exchanges {
        [x] if x.method == method && x.path == path => {
            f.pass(requirement);
            Some(x)
        }
        _ => {
            f.fail(Miss {
                requirement,
                kind: FailureKind::Matcher,
                pointer: "/requests".into(),
                expected: format!("one request: {method} {path}"),
                actual: if listed.is_empty() { "no request".into() } else { listed.join(", ") },
                message: "the SDK did not send the operation once to its .json path".into(),
            });
            exchanges.iter().find(|x| x.method == method && x.path == path)
        }
    }
}

/// The form body of `x`, with `SDK-FORM-1`'s content-type check; `None` when it is not a form.
pub fn form_body(f: &mut Findings, x: &Exchange) -> Option<Form> {
    let ct = x.header("content-type").unwrap_or("");
    let essence = ct.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        f.fail(Miss {
            requirement: "SDK-FORM-1",
            kind: FailureKind::Matcher,
            pointer: "/headers/Content-Type".into(),
            expected: "application/x-www-form-urlencoded".into(),
            actual: if ct.is_empty() { "no Content-Type".into() } else { ct.to_owned() },
            message: format!("the body of {} {} is not form-encoded", x.method, x.path),
        });
    }
    match Form::parse(&x.body) {
        Ok(form) => Some(form),
        Err(e) => {
            f.fail(Miss {
                requirement: "SDK-FORM-1",
                kind: FailureKind::Matcher,
                pointer: "/body".into(),
                expected: "a form-urlencoded body".into(),
                actual: crate::matcher::shorten(&String::from_utf8_lossy(&x.body), 200),
                message: format!("the body is not valid form data: {e}"),
            });
            None
        }
    }
}

/// The values a parameter must arrive with, and the requirement that says how it is encoded.
pub struct Sent<'a> {
    /// The parameter.
    pub name: &'a str,
    /// Its values on the wire (one, except for list parameters); any order for lists.
    pub values: Vec<&'a str>,
    /// `SDK-FORM-1` (plain value), `SDK-FORM-2` (repeated key), `SDK-FORM-3` (boolean),
    /// `SDK-AMD-1` (a machine detection setting).
    pub requirement: &'a str,
}

/// Every parameter of `sent` arrived as it must: decoded, its values equal (lists: the same
/// values, each under its own key, in any order).
pub fn params(f: &mut Findings, form: &Form, sent: &[Sent<'_>]) {
    for s in sent {
        let mut got: Vec<&str> = form.all(s.name);
        let mut want = s.values.clone();
        if s.values.len() > 1 {
            got.sort_unstable();
            want.sort_unstable();
        }
        if got == want {
            f.pass(s.requirement);
        } else {
            let how = match s.requirement {
                "SDK-FORM-2" => "each value under its own repeated key",
                "SDK-FORM-3" => "the boolean as the string `true` or `false`",
                "SDK-AMD-1" => "under Twilio's name, a number as its decimal digits",
                _ => "its value percent-encoded, so that it decodes to what was given",
            };
            f.fail(Miss {
                requirement: s.requirement,
                kind: FailureKind::Matcher,
                pointer: format!("/body/{}", s.name),
                expected: format!("{:?}", want),
                actual: format!("{got:?}"),
                message: format!("{} did not arrive as sent: {how}", s.name),
            });
        }
    }
}

/// The answer's body as JSON, when the exchange succeeded.
pub fn answered_json(x: &Exchange) -> Option<Value> {
    (200..300).contains(&x.status).then(|| serde_json::from_slice(&x.response_body).ok()).flatten()
}

/// `SDK-READ-1`: the driver's call is the one the API answered (`api`).
pub fn call(f: &mut Findings, answer: &Answer, api: Option<&Value>) {
    const R: &str = "SDK-READ-1";
    let Some(api) = api else {
        f.not_run(R, "the API answered no call to compare with (see the request checks)");
        return;
    };
    let ok = match answer {
        Answer::Ok(ok) => ok,
        Answer::Error(_) => {
            f.fail(Miss {
                requirement: R,
                kind: FailureKind::Status,
                pointer: "/answer".into(),
                expected: format!("the call {} the API answered", api["sid"]),
                actual: answer.describe(),
                message: "the SDK raised an error where the API answered the call".into(),
            });
            return;
        }
    };
    for field in ["sid", "status", "to", "from", "answered_by"] {
        same(f, R, field, ok.get(field), &api[field]);
    }
    for field in ["date_created", "end_time"] {
        date(f, field, ok.get(field), &api[field]);
    }
    duration(f, "SDK-READ-1", ok.get("duration"), &api["duration"]);
}

/// `SDK-REC-2`: the driver's recording is the one the API answered (`api`): `sid`, `call_sid`,
/// `status`, `source`, `channels` and `duration`.
pub fn recording(f: &mut Findings, answer: &Answer, api: Option<&Value>) {
    const R: &str = "SDK-REC-2";
    let Some(api) = api else {
        f.not_run(R, "the API answered no recording to compare with (see the request checks)");
        return;
    };
    match answer {
        Answer::Ok(ok) => {
            for field in ["sid", "call_sid", "status", "source", "channels"] {
                same(f, R, field, ok.get(field), &api[field]);
            }
            duration(f, R, ok.get("duration"), &api["duration"]);
        }
        Answer::Error(_) => f.fail(Miss {
            requirement: R,
            kind: FailureKind::Status,
            pointer: "/answer".into(),
            expected: format!("the recording {} the API answered", api["sid"]),
            actual: answer.describe(),
            message: "the SDK raised an error where the API answered the recording".into(),
        }),
    }
}

/// `SDK-DEL-1`: the API answered the DELETE (`x`) with 204 and the driver reports
/// `{"deleted": true}`.
pub fn deleted(f: &mut Findings, answer: &Answer, x: &Exchange) {
    const R: &str = "SDK-DEL-1";
    if x.status != 204 {
        f.not_run(R, "the API did not answer the DELETE with 204 (see the request checks)");
        return;
    }
    match answer {
        Answer::Ok(ok) if ok.get("deleted") == Some(&Value::Bool(true)) => f.pass(R),
        _ => f.fail(Miss {
            requirement: R,
            kind: FailureKind::Status,
            pointer: "/answer/ok/deleted".into(),
            expected: "true (the API answered 204)".into(),
            actual: answer.describe(),
            message: format!("the SDK did not report the deletion of {} as a success", x.path),
        }),
    }
}

/// `duration`: Twilio sends a string of seconds (or null); an SDK may keep the string or read it
/// as a number of the same value.
fn duration(f: &mut Findings, requirement: &str, got: Option<&Value>, want: &Value) {
    let seconds = want.as_str().and_then(|s| s.parse::<i64>().ok());
    let holds = got == Some(want) || (seconds.is_some() && got.and_then(Value::as_i64) == seconds);
    if holds {
        f.pass(requirement);
    } else {
        f.fail(Miss {
            requirement,
            kind: FailureKind::Matcher,
            pointer: "/answer/ok/duration".into(),
            expected: format!("{want}, as that string or its number of seconds"),
            actual: got.map_or_else(|| "absent".into(), Value::to_string),
            message: "the SDK did not read `duration` as the API answered it".into(),
        });
    }
}

fn same(f: &mut Findings, requirement: &str, field: &str, got: Option<&Value>, want: &Value) {
    if got == Some(want) {
        f.pass(requirement);
    } else {
        f.fail(Miss {
            requirement,
            kind: FailureKind::Matcher,
            pointer: format!("/answer/ok/{field}"),
            expected: want.to_string(),
            actual: got.map_or_else(|| "absent".into(), Value::to_string),
            message: format!("the SDK's `{field}` is not what the API answered"),
        });
    }
}

/// A date field: the API's RFC 2822 date and the driver's RFC 3339 one are the same instant
/// (null for null).
fn date(f: &mut Findings, field: &str, got: Option<&Value>, want: &Value) {
    use time::format_description::well_known::Rfc3339;
    let api = want.as_str().and_then(|s| callspec_model::rfc2822::parse(s).ok());
    let sdk = got.and_then(Value::as_str).and_then(|s| time::OffsetDateTime::parse(s, &Rfc3339).ok());
    let holds = match (want, got) {
        (Value::Null, Some(Value::Null)) => true,
        _ => api.is_some() && api == sdk,
    };
    if holds {
        f.pass("SDK-READ-1");
    } else {
        f.fail(Miss {
            requirement: "SDK-READ-1",
            kind: FailureKind::Matcher,
            pointer: format!("/answer/ok/{field}"),
            expected: format!("{want} as an RFC 3339 date of the same instant"),
            actual: got.map_or_else(|| "absent".into(), Value::to_string),
            message: format!("the SDK did not read `{field}` as the instant the API answered"),
        });
    }
}

/// `SDK-ERR-1`: the driver's error carries the status, code, message and more_info of the
/// API's error body (`x`).
pub fn error(f: &mut Findings, answer: &Answer, x: &Exchange) {
    const R: &str = "SDK-ERR-1";
    let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(&x.response_body) else {
        f.not_run(R, "the API's answer has no JSON error body to compare with");
        return;
    };
    let err = match answer {
        Answer::Error(e) => e,
        Answer::Ok(_) => {
            f.fail(Miss {
                requirement: R,
                kind: FailureKind::ErrorCode,
                pointer: "/answer".into(),
                expected: format!("an error with status {} and code {}", x.status, body_field(&body, "code")),
                actual: answer.describe(),
                message: "the SDK returned a result where the API answered an error".into(),
            });
            return;
        }
    };
    same_error(f, "status", err.get("status"), &Value::from(x.status));
    for field in ["code", "more_info"] {
        same_error(f, field, err.get(field), body.get(field).unwrap_or(&Value::Null));
    }
    // An SDK may put the API's message in context ("Unable to fetch record: …"); it must carry it.
    let want = body.get("message").and_then(Value::as_str).unwrap_or("");
    match err.get("message").and_then(Value::as_str) {
        Some(got) if got.contains(want) => f.pass(R),
        got => f.fail(Miss {
            requirement: R,
            kind: FailureKind::ErrorCode,
            pointer: "/answer/error/message".into(),
            expected: format!("a message containing {want:?}"),
            actual: got.map_or_else(|| "absent".into(), |g| format!("{g:?}")),
            message: "the SDK's error does not carry the API's `message`".into(),
        }),
    }
}

fn body_field(body: &Map<String, Value>, field: &str) -> String {
    body.get(field).map_or_else(|| "none".into(), Value::to_string)
}

fn same_error(f: &mut Findings, field: &str, got: Option<&Value>, want: &Value) {
    if got == Some(want) {
        f.pass("SDK-ERR-1");
    } else {
        f.fail(Miss {
            requirement: "SDK-ERR-1",
            kind: FailureKind::ErrorCode,
            pointer: format!("/answer/error/{field}"),
            expected: want.to_string(),
            actual: got.map_or_else(|| "absent".into(), Value::to_string),
            message: format!("the SDK's error does not surface the API's `{field}`"),
        });
    }
}
