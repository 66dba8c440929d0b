//! The field operators: how one mutant changes one JSON object (an API response) or one list of
//! webhook parameters. Each returns whether anything changed, which is what "fired" means.

use super::catalog::Op;
use serde_json::{Map, Value};

/// What kind of text a string holds, so a swap exchanges like with like.
#[derive(Debug, PartialEq, Eq)]
enum Class {
    Date,
    Sid,
    Number,
    Uri,
    Text,
}

fn class(s: &str) -> Class {
    if callspec_model::rfc2822::parse(s).is_ok() {
        Class::Date
    } else if s.len() == 34 && s.as_bytes()[..2].iter().all(u8::is_ascii_uppercase) {
        Class::Sid
    } else if !s.is_empty() && s.parse::<f64>().is_ok() {
        Class::Number
    } else if s.starts_with('/') || s.contains("://") {
        Class::Uri
    } else {
        Class::Text
    }
}

/// Upper case, or lower case where that is what changes the text.
fn recase(s: &str) -> Option<String> {
    let upper = s.to_uppercase();
    if upper != s {
        return Some(upper);
    }
    let lower = s.to_lowercase();
    (lower != s).then_some(lower)
}

/// A number + 1 (keeping its decimals), a date + 1 hour.
fn shift_text(s: &str) -> Option<String> {
    if let Ok(at) = callspec_model::rfc2822::parse(s) {
        return Some(callspec_model::rfc2822::format(at + time::Duration::hours(1)));
    }
    if let Ok(n) = s.parse::<i64>() {
        return Some((n + 1).to_string());
    }
    let decimals = s.split_once('.').map(|(_, d)| d.len())?;
    let n: f64 = s.parse().ok()?;
    Some(format!("{:.*}", decimals, n + 1.0))
}

fn same_type(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(a), Value::String(b)) => class(a) == class(b),
        (Value::Number(_), Value::Number(_)) | (Value::Bool(_), Value::Bool(_)) => true,
        (Value::Object(_), Value::Object(_)) | (Value::Array(_), Value::Array(_)) => true,
        _ => false,
    }
}

/// The next sibling after `field` (cyclically, in schema order) accepted by `fits`.
fn partner<'a>(field: &str, siblings: &'a [String], fits: impl Fn(&str) -> bool) -> Option<&'a String> {
    let at = siblings.iter().position(|s| s == field)?;
    siblings.iter().cycle().skip(at + 1).take(siblings.len().saturating_sub(1)).find(|s| fits(s))
}

/// Applies `op` to `field` of `object`; whether it changed anything.
pub(crate) fn json(object: &mut Map<String, Value>, field: &str, op: Op, siblings: &[String]) -> bool {
    let Some(value) = object.get(field).cloned() else { return false };
    let new = match op {
        Op::Drop => {
            object.remove(field);
            return true;
        }
        Op::Null => (!value.is_null()).then_some(Value::Null),
        Op::Type => Some(match &value {
            Value::String(s) => Value::from(s.parse::<i64>().unwrap_or(1)),
            Value::Number(n) => Value::String(n.to_string()),
            Value::Null => Value::from(0),
            Value::Bool(b) => Value::String(b.to_string()),
            Value::Object(_) | Value::Array(_) => Value::String(String::new()),
        }),
        Op::Case => value.as_str().and_then(recase).map(Value::String),
        Op::Shift => match &value {
            Value::Number(n) => n.as_i64().map(|n| Value::from(n + 1)).or(n.as_f64().map(|f| Value::from(f + 1.0))),
            Value::String(s) => shift_text(s).map(Value::String),
            _ => None,
        },
        Op::Swap => {
            let other =
                partner(field, siblings, |s| object.get(s).is_some_and(|v| v != &value && same_type(v, &value)));
            let Some(other) = other.cloned() else { return false };
            let theirs = object.get(&other).cloned().unwrap_or(Value::Null);
            object.insert(other, value);
            Some(theirs)
        }
        _ => None,
    };
    match new {
        Some(new) => {
            object.insert(field.to_owned(), new);
            true
        }
        None => false,
    }
}

/// Applies `op` to the parameter `name` of `params` (every occurrence); whether it changed anything.
pub(crate) fn params(params: &mut Vec<(String, String)>, name: &str, op: Op, siblings: &[String]) -> bool {
    let Some(value) = params.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()) else { return false };
    let new = match op {
        Op::Drop => {
            params.retain(|(n, _)| n != name);
            return true;
        }
        Op::Null => (!value.is_empty()).then(String::new),
        Op::Type => Some(if class(&value) == Class::Number { "x".to_owned() } else { "1".to_owned() }),
        Op::Case => recase(&value),
        Op::Shift => shift_text(&value),
        Op::Swap => {
            let get = |s: &str| params.iter().find(|(n, _)| n == s).map(|(_, v)| v.clone());
            let other = partner(name, siblings, |s| get(s).is_some_and(|v| v != value && class(&v) == class(&value)));
            let Some(other) = other.cloned() else { return false };
            let theirs = get(&other).unwrap_or_default();
            for (n, v) in params.iter_mut() {
                if *n == other {
                    v.clone_from(&value);
                }
            }
            Some(theirs)
        }
        _ => None,
    };
    let Some(new) = new else { return false };
    for (n, v) in params.iter_mut() {
        if n == name {
            v.clone_from(&new);
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(v: Value) -> Map<String, Value> {
        v.as_object().cloned().expect("object")
    }

    #[test]
    fn json_operators() {
        let siblings: Vec<String> = ["sid", "to", "from", "duration", "start_time", "end_time", "page"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let base = object(json!({"sid": "CA0123456789abcdef0123456789abcdef", "to": "+14155551212",
            "from": "+15017122661", "duration": "12", "start_time": "Fri, 24 Apr 2026 11:00:00 +0000",
            "end_time": null, "page": 0}));
        let run = |field: &str, op: Op| {
            let mut o = base.clone();
            json(&mut o, field, op, &siblings).then_some(Value::Object(o))
        };
        assert_eq!(run("duration", Op::Shift).map(|o| o["duration"].clone()), Some(json!("13")));
        assert_eq!(run("page", Op::Shift).map(|o| o["page"].clone()), Some(json!(1)));
        assert_eq!(
            run("start_time", Op::Shift).map(|o| o["start_time"].clone()),
            Some(json!("Fri, 24 Apr 2026 12:00:00 +0000"))
        );
        assert_eq!(
            run("to", Op::Swap).map(|o| (o["to"].clone(), o["from"].clone())),
            Some((json!("+15017122661"), json!("+14155551212")))
        );
        assert_eq!(run("end_time", Op::Null), None, "null stays null: not fired");
        assert_eq!(run("end_time", Op::Type).map(|o| o["end_time"].clone()), Some(json!(0)));
        assert_eq!(run("to", Op::Case), None, "a number has no case");
        assert_eq!(run("sid", Op::Case).map(|o| o["sid"].clone()), Some(json!("CA0123456789ABCDEF0123456789ABCDEF")));
        assert!(run("missing", Op::Drop).is_none());
        assert!(run("sid", Op::Drop).is_some_and(|o| o.get("sid").is_none()));
        assert_eq!(shift_text("-0.01700").as_deref(), Some("0.98300"));
    }

    #[test]
    fn parameter_operators() {
        let siblings: Vec<String> = ["CallStatus", "Direction", "Duration"].iter().map(|s| (*s).to_owned()).collect();
        let base: Vec<(String, String)> = vec![
            ("CallStatus".into(), "completed".into()),
            ("Direction".into(), "outbound-api".into()),
            ("Duration".into(), "1".into()),
        ];
        let run = |name: &str, op: Op| {
            let mut p = base.clone();
            params(&mut p, name, op, &siblings).then_some(p)
        };
        assert_eq!(run("CallStatus", Op::Swap).map(|p| p[0].1.clone()).as_deref(), Some("outbound-api"));
        assert_eq!(run("Duration", Op::Type).map(|p| p[2].1.clone()).as_deref(), Some("x"));
        assert_eq!(run("Duration", Op::Shift).map(|p| p[2].1.clone()).as_deref(), Some("2"));
        assert_eq!(run("CallStatus", Op::Null).map(|p| p[0].1.clone()).as_deref(), Some(""));
        assert_eq!(run("Duration", Op::Case), None);
        assert_eq!(run("Duration", Op::Swap), None, "no other number to swap with");
    }
}
