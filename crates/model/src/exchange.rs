//! One HTTP exchange as it crossed the wire: what a server journals of a request and its answer,
//! and what a checker of a client's wire form reads back.

/// A request (method, path, raw query, headers in order, raw body) and the answer it got.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exchange {
    /// The request method, e.g. `POST`.
    pub method: String,
    /// The request path, e.g. `/2010-04-01/Accounts/AC…/Calls.json`.
    pub path: String,
    /// The raw query string, without `?` (empty when there was none).
    pub query: String,
    /// Every request header, in arrival order, values as sent (lossy UTF-8).
    pub headers: Vec<(String, String)>,
    /// The raw request body (empty when none was read).
    pub body: Vec<u8>,
    /// The status of the answer.
    pub status: u16,
    /// The answer's body.
    pub response_body: Vec<u8>,
}

impl Exchange {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_found_whatever_their_case_first_one_wins() {
        let x = Exchange {
            headers: vec![("Content-Type".into(), "a".into()), ("content-type".into(), "b".into())],
            ..Exchange::default()
        };
        assert_eq!(x.header("CONTENT-TYPE"), Some("a"));
        assert_eq!(x.header("Authorization"), None);
    }
}
