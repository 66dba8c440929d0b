//! Checking values against fixture rules: JSON-pointer matchers on bodies and parameter
//! rules on callback requests. Each check returns what was expected and what was found.

use crate::fixture::{Matcher, ParamRule, Rule};
use crate::schema::check_custom_format;
use crate::template::{TemplateError, Vars};
use serde_json::Value;

/// Why a rule did not hold: the target's value differs (a FAIL), or the rule itself could not be
/// evaluated (a fault of the case: an ERROR, or a step blocked by an earlier failure).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleError {
    /// The value does not match.
    Mismatch(Mismatch),
    /// The rule's template names a value that does not exist.
    Template(TemplateError),
    /// The rule's regular expression does not compile.
    BadRegex(String),
}

impl From<TemplateError> for RuleError {
    fn from(e: TemplateError) -> RuleError {
        RuleError::Template(e)
    }
}

/// A rule that did not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// What the rule wanted.
    pub expected: String,
    /// What was there.
    pub actual: String,
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Shows a found value for a message: JSON, shortened.
pub fn show(v: Option<&Value>) -> String {
    match v {
        None => "(absent)".to_owned(),
        Some(v) => shorten(&v.to_string(), 300),
    }
}

/// Cuts text to `max` characters with an ellipsis.
pub fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max { s.to_owned() } else { format!("{}…", s.chars().take(max).collect::<String>()) }
}

/// A rule in words, for messages: `equals "completed"`, `matches /^CA/`.
pub fn describe_rule(rule: &Rule) -> String {
    match rule {
        Rule::Equals(v) => format!("equals {v}"),
        Rule::Regex(r) => format!("matches /{r}/"),
        Rule::Type(t) => format!("is of type {t}"),
        Rule::Present(true) => "is present".into(),
        Rule::Present(false) => "is absent".into(),
        Rule::OneOf(v) => format!("is one of {}", Value::Array(v.clone())),
        Rule::StartsWith(p) => format!("starts with {p:?}"),
        Rule::Format(name) => format!("is in format {name}"),
        Rule::RecentS(s) => format!("is a date within {s} s of now, or null"),
        Rule::AbsentOr(inner) => format!("is absent or {}", describe_rule(inner)),
        Rule::AgreesWith(t) => format!("agrees with {t:?} where both are set"),
        Rule::SomeItem(matchers) => format!("has an item where {}", describe_matchers(matchers)),
    }
}

/// Matchers in words: `/a equals 1 and /b is present`.
fn describe_matchers(matchers: &[Matcher]) -> String {
    let each: Vec<String> = matchers.iter().map(|m| format!("{} {}", m.pointer, describe_rule(&m.rule))).collect();
    each.join(" and ")
}

/// Whether `item` holds every matcher; a template or regex error is the rule's, not a mismatch.
fn item_holds(item: &Value, matchers: &[Matcher], vars: &Vars, index: Option<usize>) -> Result<bool, RuleError> {
    for m in matchers {
        match check_rule(&m.rule, item.pointer(&m.pointer), vars, index) {
            Ok(()) => {}
            Err(RuleError::Mismatch(_)) => return Ok(false),
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// Checks one rule against an optional value. Templates in the rule are rendered with `vars`.
pub fn check_rule(rule: &Rule, found: Option<&Value>, vars: &Vars, index: Option<usize>) -> Result<(), RuleError> {
    let mismatch = |expected: String| Err(RuleError::Mismatch(Mismatch { expected, actual: show(found) }));
    match rule {
        Rule::AbsentOr(inner) => match found {
            None => Ok(()),
            Some(_) => check_rule(inner, found, vars, index).map_err(|e| match e {
                RuleError::Mismatch(m) => {
                    RuleError::Mismatch(Mismatch { expected: format!("absent, or {}", m.expected), actual: m.actual })
                }
                other => other,
            }),
        },
        Rule::AgreesWith(earlier) => {
            let earlier = vars.render(earlier, index)?;
            let unset = |s: &str| s.is_empty() || s == "null";
            match found {
                None | Some(Value::Null) => Ok(()),
                Some(Value::String(s)) if unset(s) || unset(&earlier) || *s == earlier => Ok(()),
                _ if unset(&earlier) => Ok(()),
                _ => mismatch(format!("{earlier:?} (the value shown earlier), or unset")),
            }
        }
        Rule::SomeItem(matchers) => {
            let items = match found {
                Some(Value::Array(items)) => items.as_slice(),
                _ => &[],
            };
            for item in items {
                if item_holds(item, matchers, vars, index)? {
                    return Ok(());
                }
            }
            mismatch(format!("an array with an item where {}", describe_matchers(matchers)))
        }
        Rule::Present(want) => {
            if found.is_some() == *want {
                Ok(())
            } else {
                mismatch(if *want { "present".into() } else { "absent".into() })
            }
        }
        Rule::Equals(want) => {
            let want = vars.render_json(want, index)?;
            if found == Some(&want) { Ok(()) } else { mismatch(want.to_string()) }
        }
        Rule::OneOf(options) => {
            let options = options.iter().map(|o| vars.render_json(o, index)).collect::<Result<Vec<_>, _>>()?;
            if found.is_some_and(|f| options.contains(f)) {
                Ok(())
            } else {
                mismatch(format!("one of {}", Value::Array(options)))
            }
        }
        Rule::Type(t) => match found {
            Some(v) if type_name(v) == t || (t == "number" && v.is_number()) => Ok(()),
            _ => mismatch(format!("a value of type {t}")),
        },
        Rule::Regex(pattern) => {
            let re = regex::Regex::new(pattern).map_err(|e| RuleError::BadRegex(e.to_string()))?;
            match found {
                Some(Value::String(s)) if re.is_match(s) => Ok(()),
                _ => mismatch(format!("a string matching /{pattern}/")),
            }
        }
        Rule::StartsWith(prefix) => {
            let prefix = vars.render(prefix, index)?;
            match found {
                Some(Value::String(s)) if s.starts_with(&prefix) => Ok(()),
                _ => mismatch(format!("a string starting with {prefix:?}")),
            }
        }
        Rule::Format(name) => match found {
            Some(Value::String(s)) if check_custom_format(name, s) == Some(true) => Ok(()),
            _ => mismatch(format!("a string in format {name}")),
        },
        Rule::RecentS(seconds) => {
            let now = time::OffsetDateTime::now_utc();
            let near = |s: &str| {
                callspec_model::rfc2822::parse(s)
                    .is_ok_and(|at| (at - now).abs() <= time::Duration::seconds(*seconds as i64))
            };
            match found {
                Some(Value::Null) => Ok(()),
                Some(Value::String(s)) if near(s) => Ok(()),
                _ => mismatch(format!("an RFC 2822 date within {seconds} s of the harness's clock ({now}), or null")),
            }
        }
    }
}

/// Checks a callback parameter (a string, or absent) against a parameter rule.
pub fn check_param(rule: &ParamRule, found: Option<&str>, vars: &Vars, index: Option<usize>) -> Result<(), RuleError> {
    let value = found.map(|s| Value::String(s.to_owned()));
    match rule {
        ParamRule::Text(text) => check_rule(&Rule::Equals(Value::String(text.clone())), value.as_ref(), vars, index),
        ParamRule::Rule(rule) => check_rule(rule, value.as_ref(), vars, index),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rules_hold_and_fail_with_expected_and_actual() {
        let vars = Vars::default();
        let v = json!("queued");
        assert!(check_rule(&Rule::Equals(json!("queued")), Some(&v), &vars, None).is_ok());
        let m = check_rule(&Rule::Equals(json!("completed")), Some(&v), &vars, None).expect_err("mismatch");
        assert_eq!(m, RuleError::Mismatch(Mismatch { expected: "\"completed\"".into(), actual: "\"queued\"".into() }));
        let t = check_rule(&Rule::Equals(json!("{NoSuchVar}")), Some(&v), &vars, None).expect_err("template");
        assert_eq!(t, RuleError::Template(TemplateError::UnknownVariable("NoSuchVar".into())));
        assert!(check_rule(&Rule::Type("null".into()), Some(&Value::Null), &vars, None).is_ok());
        assert!(check_rule(&Rule::Type("string".into()), Some(&json!(15)), &vars, None).is_err());
        assert!(check_rule(&Rule::Present(false), None, &vars, None).is_ok());
        assert!(check_rule(&Rule::Regex("^CA[0-9a-f]{32}$".into()), Some(&json!("CAXX")), &vars, None).is_err());
        assert!(check_param(&ParamRule::Text("0".into()), Some("0"), &vars, None).is_ok());
        assert!(check_param(&ParamRule::Text("0".into()), None, &vars, None).is_err());
    }

    #[test]
    fn agreeing_values_are_equal_where_both_are_set() {
        let mut vars = Vars::default();
        let rule = Rule::AgreesWith("{Earlier}".into());
        let holds = |vars: &Vars, v: Option<Value>| check_rule(&rule, v.as_ref(), vars, None).is_ok();
        vars.set("Earlier", "PNab".to_owned());
        assert!(holds(&vars, Some(json!("PNab"))));
        assert!(!holds(&vars, Some(json!("PNAB"))), "another case is another value");
        assert!(!holds(&vars, Some(json!(7))));
        assert!(holds(&vars, Some(json!(""))) && holds(&vars, Some(Value::Null)) && holds(&vars, None), "unset now");
        for unset in ["", "null"] {
            vars.set("Earlier", unset.to_owned());
            assert!(holds(&vars, Some(json!("PNab"))), "unset earlier: {unset:?}");
        }
    }

    #[test]
    fn absent_or_holds_when_absent_else_applies_its_rule() {
        let vars = Vars::default();
        let rule: Rule = serde_json::from_value(json!({ "absent_or": { "equals": "+15017122661" } })).expect("a rule");
        assert!(check_param(&ParamRule::Rule(rule.clone()), None, &vars, None).is_ok());
        assert!(check_param(&ParamRule::Rule(rule.clone()), Some("+15017122661"), &vars, None).is_ok());
        let m = check_param(&ParamRule::Rule(rule.clone()), Some(""), &vars, None).expect_err("empty is present");
        assert_eq!(
            m,
            RuleError::Mismatch(Mismatch { expected: "absent, or \"+15017122661\"".into(), actual: "\"\"".into() })
        );
        assert_eq!(describe_rule(&rule), "is absent or equals \"+15017122661\"");
    }

    #[test]
    fn recent_dates_are_near_the_clock_or_null() {
        let vars = Vars::default();
        let recent = Rule::RecentS(900);
        let holds = |v: Value| check_rule(&recent, Some(&v), &vars, None).is_ok();
        let now = time::OffsetDateTime::now_utc();
        assert!(holds(json!(callspec_model::rfc2822::format(now))));
        assert!(holds(json!(callspec_model::rfc2822::format(now - time::Duration::minutes(10)))));
        assert!(!holds(json!(callspec_model::rfc2822::format(now + time::Duration::hours(1)))), "an hour ahead");
        assert!(!holds(json!("Tue, 31 Aug 2010 20:36:28 +0000")), "years ago");
        assert!(!holds(json!("not a date")));
        assert!(holds(Value::Null), "null is for `type` to refuse");
        assert!(check_rule(&recent, None, &vars, None).is_err(), "absent");
    }

    #[test]
    fn format_rules_use_the_schemas_checks() {
        let vars = Vars::default();
        let rfc2822 = Rule::Format("rfc2822".into());
        let holds = |rule: &Rule, v: Value| check_rule(rule, Some(&v), &vars, None).is_ok();
        assert!(holds(&rfc2822, json!("Tue, 31 Aug 2010 20:36:28 +0000")));
        // The pasted regexes accepted these; the model's parser does not.
        assert!(!holds(&rfc2822, json!("Mon, 31 Aug 2010 20:36:28 +0000")), "wrong weekday");
        assert!(!holds(&rfc2822, json!("Tue, 31 Feb 2010 20:36:28 +0000")), "no such day");
        assert!(!holds(&rfc2822, json!("2010-08-31T20:36:28Z")));
        assert!(!holds(&rfc2822, json!(1283286988)));
        let call_sid = Rule::Format("call-sid".into());
        assert!(holds(&call_sid, json!("CAfedcba9876543210FEDCBA9876543210")));
        assert!(!holds(&call_sid, json!("AC0123456789abcdef0123456789abcdef")), "an account SID");
        assert!(!holds(&call_sid, json!("CAXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX")));
        let m = check_rule(&rfc2822, None, &vars, None).expect_err("absent");
        assert_eq!(
            m,
            RuleError::Mismatch(Mismatch { expected: "a string in format rfc2822".into(), actual: "(absent)".into() })
        );
        assert!(!holds(&Rule::Format("no-such-format".into()), json!("x")));
        assert_eq!(describe_rule(&call_sid), "is in format call-sid");
    }

    #[test]
    fn some_item_finds_an_item_by_what_it_holds_in_any_order() {
        let vars = Vars::default();
        let rule: Rule = serde_json::from_value(json!({ "some_item": [
            { "pointer": "/request/url", "equals": "https://x/voice" },
            { "pointer": "/response/response_code", "equals": 200 }
        ] }))
        .expect("a rule");
        let events = json!([
            { "request": { "url": "https://x/status" }, "response": { "response_code": 200 } },
            { "request": { "url": "https://x/voice" }, "response": { "response_code": 200 } }
        ]);
        assert!(check_rule(&rule, Some(&events), &vars, None).is_ok());
        let wrong = json!([{ "request": { "url": "https://x/voice" }, "response": { "response_code": 500 } }]);
        let m = check_rule(&rule, Some(&wrong), &vars, None).expect_err("no item holds both");
        let RuleError::Mismatch(m) = m else { panic!("a mismatch") };
        assert_eq!(
            m.expected,
            "an array with an item where /request/url equals \"https://x/voice\" and /response/response_code equals 200"
        );
        assert!(check_rule(&rule, Some(&json!({})), &vars, None).is_err(), "not an array");
        assert!(check_rule(&rule, None, &vars, None).is_err(), "absent");
        let templated: Rule =
            serde_json::from_value(json!({ "some_item": [{ "pointer": "/a", "equals": "{Nope}" }] })).expect("a rule");
        let e = check_rule(&templated, Some(&json!([{ "a": 1 }])), &vars, None).expect_err("template");
        assert!(matches!(e, RuleError::Template(_)), "{e:?}");
    }
}
