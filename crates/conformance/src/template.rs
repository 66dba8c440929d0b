//! Variables and `{Name}` templates in fixture strings.
//!
//! A case's variables are the profile's numbers and accounts, the sink URL, and what
//! earlier steps captured. `{Name[i]}` indexes a list with the repetition counter `i` and
//! `{Name[2]}` with a literal; `{{` and `}}` are literal braces. `{Name|formatted}` is a phone
//! number as Twilio displays it in `to_formatted` / `from_formatted` (see [`formatted`]).

use std::collections::BTreeMap;

/// Why a template could not be rendered: always a fault of the case (or of a step before it
/// that could not capture a value), never a verdict on the target.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// `{Name}` names no variable.
    #[error("unknown variable {{{0}}}")]
    UnknownVariable(String),
    /// `{Name[i]}` names no list variable.
    #[error("no list variable {0:?} (captured with `{0}[]`)")]
    NoList(String),
    /// `{Name}` names a list.
    #[error("{0:?} is a list; index it as {{{0}[i]}}")]
    IsList(String),
    /// `{Name[n]}` is past the end of the list.
    #[error("{name} has {len} values, no index {index}")]
    OutOfRange {
        /// The list.
        name: String,
        /// How many values it has.
        len: usize,
        /// The index asked for.
        index: usize,
    },
    /// `{i}` outside a repeated step.
    #[error("{{{0}}} used outside a repeated step")]
    NotRepeated(String),
    /// `{Name|filter}` with a filter that does not exist.
    #[error("unknown filter in {{{0}}} (the only filter is `formatted`)")]
    UnknownFilter(String),
    /// `{Name[x]}` with an index that is neither a number nor `i`.
    #[error("bad index in {{{0}}}")]
    BadIndex(String),
    /// A `{` without its `}`.
    #[error("unclosed `{{` in {0:?}")]
    Unclosed(String),
}

impl TemplateError {
    /// The variable the template needed, where the error is about one.
    pub fn variable(&self) -> Option<&str> {
        match self {
            TemplateError::UnknownVariable(v) | TemplateError::NoList(v) | TemplateError::IsList(v) => Some(v),
            TemplateError::OutOfRange { name, .. } => Some(name),
            _ => None,
        }
    }
}

/// A variable's value: one text, or a list built by `Name[]` captures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// One value.
    Text(String),
    /// Values appended in capture order.
    List(Vec<String>),
}

/// The variables of a running case.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    values: BTreeMap<String, Value>,
    /// Names whose values are secrets, masked in messages.
    secrets: Vec<String>,
}

impl Vars {
    /// Sets a text variable.
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        self.values.insert(name.to_owned(), Value::Text(value.into()));
    }

    /// Sets a secret: usable in templates, never shown.
    pub fn set_secret(&mut self, name: &str, value: impl Into<String>) {
        self.set(name, value);
        self.secrets.push(name.to_owned());
    }

    /// Appends to a list variable, creating it.
    pub fn push(&mut self, name: &str, value: impl Into<String>) {
        match self.values.entry(name.to_owned()).or_insert_with(|| Value::List(Vec::new())) {
            Value::List(list) => list.push(value.into()),
            slot @ Value::Text(_) => *slot = Value::List(vec![value.into()]),
        }
    }

    /// A text variable.
    pub fn get(&self, name: &str) -> Option<&str> {
        match self.values.get(name) {
            Some(Value::Text(s)) => Some(s),
            _ => None,
        }
    }

    /// A list variable.
    pub fn list(&self, name: &str) -> Option<&[String]> {
        match self.values.get(name) {
            Some(Value::List(l)) => Some(l),
            _ => None,
        }
    }

    /// The values of secret variables, to mask in output.
    pub fn secret_values(&self) -> Vec<&str> {
        self.secrets.iter().filter_map(|n| self.get(n)).filter(|v| !v.is_empty()).collect()
    }

    /// Expands `{Name}`, `{Name[i]}`, `{Name[3]}` in `template`; `index` is the repetition counter.
    pub fn render(&self, template: &str, index: Option<usize>) -> Result<String, TemplateError> {
        let mut out = String::with_capacity(template.len());
        let mut rest = template;
        while let Some(at) = rest.find(['{', '}']) {
            out.push_str(&rest[..at]);
            let tail = &rest[at..];
            if let Some(after) = tail.strip_prefix("{{") {
                out.push('{');
                rest = after;
                continue;
            }
            if let Some(after) = tail.strip_prefix("}}") {
                out.push('}');
                rest = after;
                continue;
            }
            if let Some(after) = tail.strip_prefix('}') {
                out.push('}');
                rest = after;
                continue;
            }
            let Some(end) = tail.find('}') else {
                return Err(TemplateError::Unclosed(template.to_owned()));
            };
            let expr = &tail[1..end];
            out.push_str(&self.lookup(expr, index)?);
            rest = &tail[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    fn lookup(&self, expr: &str, index: Option<usize>) -> Result<String, TemplateError> {
        if let Some((inner, filter)) = expr.split_once('|') {
            let value = self.lookup(inner, index)?;
            return match filter {
                "formatted" => Ok(formatted(&value)),
                _ => Err(TemplateError::UnknownFilter(expr.to_owned())),
            };
        }
        if expr == "i" {
            return index.map(|i| i.to_string()).ok_or_else(|| TemplateError::NotRepeated(expr.to_owned()));
        }
        if let Some((name, idx)) = expr.strip_suffix(']').and_then(|e| e.split_once('[')) {
            let list = self.list(name).ok_or_else(|| TemplateError::NoList(name.to_owned()))?;
            let i = if idx == "i" {
                index.ok_or_else(|| TemplateError::NotRepeated(expr.to_owned()))?
            } else {
                idx.parse::<usize>().map_err(|_| TemplateError::BadIndex(expr.to_owned()))?
            };
            return list.get(i).cloned().ok_or_else(|| TemplateError::OutOfRange {
                name: name.to_owned(),
                len: list.len(),
                index: i,
            });
        }
        match self.values.get(expr) {
            Some(Value::Text(s)) => Ok(s.clone()),
            Some(Value::List(_)) => Err(TemplateError::IsList(expr.to_owned())),
            None => Err(TemplateError::UnknownVariable(expr.to_owned())),
        }
    }

    /// Renders every string inside a JSON value.
    pub fn render_json(
        &self,
        value: &serde_json::Value,
        index: Option<usize>,
    ) -> Result<serde_json::Value, TemplateError> {
        Ok(match value {
            serde_json::Value::String(s) => serde_json::Value::String(self.render(s, index)?),
            serde_json::Value::Array(a) => {
                serde_json::Value::Array(a.iter().map(|v| self.render_json(v, index)).collect::<Result<_, _>>()?)
            }
            serde_json::Value::Object(o) => serde_json::Value::Object(
                o.iter()
                    .map(|(k, v)| Ok((k.clone(), self.render_json(v, index)?)))
                    .collect::<Result<_, TemplateError>>()?,
            ),
            other => other.clone(),
        })
    }
}

/// A number as Twilio shows it in `to_formatted` and `from_formatted`: a North American (NANP)
/// E.164 number as `(415) 555-1212`, anything else verbatim (the Call resource's field table,
/// <https://www.twilio.com/docs/voice/api/call-resource>; docs/reference/calls-api-facts.md).
///
/// Written here, apart from the model crate the reference emulator formats with, so that the
/// suite's expectation never comes from the code it tests.
pub fn formatted(number: &str) -> String {
    let digits = number.strip_prefix("+1").filter(|d| d.len() == 10 && d.bytes().all(|b| b.is_ascii_digit()));
    match digits {
        Some(d) => format!("({}) {}-{}", &d[..3], &d[3..6], &d[6..]),
        None => number.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_text_lists_and_escapes() {
        let mut vars = Vars::default();
        vars.set("AccountSid", "AC1");
        vars.push("CallSid", "CA1");
        vars.push("CallSid", "CA2");
        assert_eq!(
            vars.render("/Accounts/{AccountSid}/Calls/{CallSid[i]}.json", Some(1)),
            Ok("/Accounts/AC1/Calls/CA2.json".into())
        );
        assert_eq!(vars.render("{CallSid[0]} {{x}}", None), Ok("CA1 {x}".into()));
        assert!(vars.render("{Nope}", None).is_err());
        assert!(vars.render("{CallSid[5]}", None).is_err());
        assert!(vars.render("{i}", None).is_err());
    }

    #[test]
    fn formats_north_american_numbers_as_the_docs_show_them() {
        // The docs' own pairs (Making Calls; the Call resource's field table).
        assert_eq!(formatted("+14155551212"), "(415) 555-1212");
        assert_eq!(formatted("+15017122661"), "(501) 712-2661");
        assert_eq!(formatted("+14158675309"), "(415) 867-5309");
        // Others verbatim: E.164 outside the NANP, SIP, client, caller names, malformed numbers.
        for verbatim in ["+442071838750", "sip:kate@example.com", "client:charlie", "Jack", "+1415555", "+1415555121x"]
        {
            assert_eq!(formatted(verbatim), verbatim);
        }
        let mut vars = Vars::default();
        vars.set("From", "+18668675310");
        assert_eq!(vars.render("{From|formatted}", None), Ok("(866) 867-5310".into()));
        assert_eq!(vars.render("{From|upper}", None), Err(TemplateError::UnknownFilter("From|upper".into())));
        assert_eq!(vars.render("{Nope|formatted}", None), Err(TemplateError::UnknownVariable("Nope".into())));
    }
}
