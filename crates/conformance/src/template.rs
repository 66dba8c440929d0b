//! Variables and `{Name}` templates in fixture strings.
//!
//! A case's variables are the profile's numbers and accounts, the sink URL, and what
//! earlier steps captured. `{Name[i]}` indexes a list with the repetition counter `i` and
//! `{Name[2]}` with a literal; `{{` and `}}` are literal braces.

use std::collections::BTreeMap;

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
    pub fn render(&self, template: &str, index: Option<usize>) -> Result<String, String> {
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
                return Err(format!("unclosed `{{` in {template:?}"));
            };
            let expr = &tail[1..end];
            out.push_str(&self.lookup(expr, index)?);
            rest = &tail[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    fn lookup(&self, expr: &str, index: Option<usize>) -> Result<String, String> {
        if expr == "i" {
            return index.map(|i| i.to_string()).ok_or_else(|| "{i} used outside a repeated step".to_owned());
        }
        if let Some((name, idx)) = expr.strip_suffix(']').and_then(|e| e.split_once('[')) {
            let list =
                self.list(name).ok_or_else(|| format!("no list variable {name:?} (captured with `{name}[]`)"))?;
            let i = if idx == "i" {
                index.ok_or_else(|| format!("{{{expr}}} used outside a repeated step"))?
            } else {
                idx.parse::<usize>().map_err(|_| format!("bad index in {{{expr}}}"))?
            };
            return list.get(i).cloned().ok_or_else(|| format!("{name} has {} values, no index {i}", list.len()));
        }
        match self.values.get(expr) {
            Some(Value::Text(s)) => Ok(s.clone()),
            Some(Value::List(_)) => Err(format!("{expr:?} is a list; index it as {{{expr}[i]}}")),
            None => Err(format!("unknown variable {{{expr}}}")),
        }
    }

    /// Renders every string inside a JSON value.
    pub fn render_json(&self, value: &serde_json::Value, index: Option<usize>) -> Result<serde_json::Value, String> {
        Ok(match value {
            serde_json::Value::String(s) => serde_json::Value::String(self.render(s, index)?),
            serde_json::Value::Array(a) => {
                serde_json::Value::Array(a.iter().map(|v| self.render_json(v, index)).collect::<Result<_, _>>()?)
            }
            serde_json::Value::Object(o) => serde_json::Value::Object(
                o.iter().map(|(k, v)| Ok((k.clone(), self.render_json(v, index)?))).collect::<Result<_, String>>()?,
            ),
            other => other.clone(),
        })
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
}
