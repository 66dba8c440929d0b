//! `application/x-www-form-urlencoded` bodies and query strings as ordered name/value pairs.

use std::fmt;

/// Form parameters in wire order; a list parameter is a repeated name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Form {
    pairs: Vec<(String, String)>,
}

/// Why bytes are not a form body.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FormError {
    /// A name or value does not decode to UTF-8.
    InvalidUtf8 {
        /// Zero-based index of the pair.
        pair: usize,
    },
    /// The body is not form-encoded text at all (a JSON object, say).
    NotAForm,
}

impl fmt::Display for FormError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormError::InvalidUtf8 { pair } => {
                write!(f, "form parameter #{} does not decode to UTF-8", pair + 1)
            }
            FormError::NotAForm => f.write_str("the body is not application/x-www-form-urlencoded"),
        }
    }
}

impl std::error::Error for FormError {}

fn decode(part: &[u8]) -> Result<String, ()> {
    let plus_as_space: Vec<u8> = part.iter().map(|&b| if b == b'+' { b' ' } else { b }).collect();
    percent_encoding::percent_decode(&plus_as_space).decode_utf8().map(|s| s.into_owned()).map_err(|_| ())
}

impl Form {
    /// An empty form.
    pub fn new() -> Form {
        Form::default()
    }

    /// Decodes a body or query string, refusing names or values that are not UTF-8.
    pub fn parse(body: &[u8]) -> Result<Form, FormError> {
        let mut pairs = Vec::new();
        for (i, piece) in body.split(|&b| b == b'&').filter(|p| !p.is_empty()).enumerate() {
            let (name, value) = match piece.iter().position(|&b| b == b'=') {
                Some(at) => (&piece[..at], &piece[at + 1..]),
                None => (piece, &b""[..]),
            };
            let name = decode(name).map_err(|()| FormError::InvalidUtf8 { pair: i })?;
            let value = decode(value).map_err(|()| FormError::InvalidUtf8 { pair: i })?;
            pairs.push((name, value));
        }
        Ok(Form { pairs })
    }

    /// A form from pairs, kept in the given order.
    pub fn from_pairs<N: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (N, V)>) -> Form {
        Form { pairs: pairs.into_iter().map(|(n, v)| (n.into(), v.into())).collect() }
    }

    /// Appends a pair.
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.pairs.push((name.into(), value.into()));
    }

    /// The first value of a name.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// Every value of a name, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.pairs.iter().filter(|(n, _)| n == name).map(|(_, v)| v.as_str()).collect()
    }

    /// Whether the name occurs.
    pub fn contains(&self, name: &str) -> bool {
        self.pairs.iter().any(|(n, _)| n == name)
    }

    /// The pairs in wire order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// Consumes the form into its pairs.
    pub fn into_pairs(self) -> Vec<(String, String)> {
        self.pairs
    }

    /// Names that are not in `known`, each once, in wire order.
    pub fn unknown_names<'a>(&'a self, known: &[&str]) -> Vec<&'a str> {
        let mut out: Vec<&str> = Vec::new();
        for (name, _) in &self.pairs {
            if !known.contains(&name.as_str()) && !out.contains(&name.as_str()) {
                out.push(name);
            }
        }
        out
    }

    /// Encodes as `application/x-www-form-urlencoded`.
    pub fn encode(&self) -> String {
        form_urlencoded::Serializer::new(String::new()).extend_pairs(self.pairs.iter()).finish()
    }

    /// Whether the form is empty.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_repeated_keys_in_order_and_round_trips() {
        let form = Form::parse(b"To=%2B14155551212&StatusCallbackEvent=initiated&StatusCallbackEvent=answered&Url=http%3A%2F%2Fx.test%2Fa+b").expect("form");
        assert_eq!(form.get("To"), Some("+14155551212"));
        assert_eq!(form.all("StatusCallbackEvent"), ["initiated", "answered"]);
        assert_eq!(form.get("Url"), Some("http://x.test/a b"));
        assert_eq!(Form::parse(form.encode().as_bytes()), Ok(form));
    }

    #[test]
    fn refuses_invalid_utf8() {
        assert_eq!(Form::parse(b"To=%FF%FE"), Err(FormError::InvalidUtf8 { pair: 0 }));
        assert_eq!(Form::parse(b"A=1&To=\xff"), Err(FormError::InvalidUtf8 { pair: 1 }));
    }
}
