//! The value types and value rules the request parameters share: `GET` / `POST`, the URLs
//! Twilio requests, `SendDigits`, booleans and the inline TwiML limit.

use std::fmt;

/// `GET` or `POST`, the methods Twilio uses to request a URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum HttpMethod {
    /// Parameters in the query string.
    Get,
    /// Parameters in a form body (the default everywhere).
    #[default]
    Post,
}

impl HttpMethod {
    /// `GET` or `POST`.
    pub const fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
        }
    }

    /// Parses `GET` / `POST`, in any letter case.
    pub fn parse(s: &str) -> Option<HttpMethod> {
        if s.eq_ignore_ascii_case("GET") {
            Some(HttpMethod::Get)
        } else if s.eq_ignore_ascii_case("POST") {
            Some(HttpMethod::Post)
        } else {
            None
        }
    }
}

impl fmt::Display for HttpMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The largest inline `Twiml` Twilio accepts, in characters.
pub const TWIML_MAX_CHARS: usize = 4000;

/// Why a URL parameter is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UrlProblem {
    /// Not an absolute URL.
    NotAbsolute,
    /// A scheme other than `http` or `https`.
    Scheme,
    /// No host name.
    NoHost,
    /// Underscores in the host name, which Twilio refuses (the host is otherwise valid).
    UnderscoreInHost,
    /// A host name with empty labels or characters other than letters, digits, `-` and `.`.
    InvalidHost,
}

impl fmt::Display for UrlProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UrlProblem::NotAbsolute => "not an absolute URL",
            UrlProblem::Scheme => "the scheme must be http or https",
            UrlProblem::NoHost => "no host name",
            UrlProblem::UnderscoreInHost => "underscores are not permitted in the host name",
            UrlProblem::InvalidHost => "not a valid host name",
        })
    }
}

/// Why a URL parameter is refused, if it is: Twilio requests absolute `http` / `https` URLs
/// whose host name has no underscores.
pub fn url_problem(s: &str) -> Option<UrlProblem> {
    let Ok(url) = url::Url::parse(s) else { return Some(UrlProblem::NotAbsolute) };
    if !matches!(url.scheme(), "http" | "https") {
        return Some(UrlProblem::Scheme);
    }
    match url.host() {
        None => Some(UrlProblem::NoHost),
        Some(url::Host::Domain(host)) => {
            let invalid = host.is_empty()
                || host.split('.').any(|label| label.is_empty() && host != ".")
                || !host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_');
            if invalid {
                Some(UrlProblem::InvalidHost)
            } else if host.contains('_') {
                Some(UrlProblem::UnderscoreInHost)
            } else {
                None
            }
        }
        Some(_) => None,
    }
}

/// Whether `SendDigits` is valid: 1 to 32 of `0-9 A-D # * w W`.
pub fn send_digits_valid(s: &str) -> bool {
    (1..=32).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit() || b"ABCD#*wW".contains(&b))
}

/// A boolean parameter: `true` or `false`, in any letter case.
pub(super) fn parse_bool(v: &str) -> Option<bool> {
    if v.eq_ignore_ascii_case("true") {
        Some(true)
    } else if v.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_problems_are_typed() {
        assert_eq!(url_problem("https://example.com/a?b=1"), None);
        assert_eq!(url_problem("http://127.0.0.1:4010/voice.xml"), None);
        assert_eq!(url_problem("/voice.xml"), Some(UrlProblem::NotAbsolute));
        assert_eq!(url_problem("ftp://example.com/"), Some(UrlProblem::Scheme));
        assert_eq!(url_problem("http://my_app.example.com/"), Some(UrlProblem::UnderscoreInHost));
        assert_eq!(url_problem("http://my_app..example.com/"), Some(UrlProblem::InvalidHost));
        assert_eq!(UrlProblem::UnderscoreInHost.to_string(), "underscores are not permitted in the host name");
    }

    #[test]
    fn methods_digits_and_booleans() {
        assert_eq!(HttpMethod::parse("get"), Some(HttpMethod::Get));
        assert_eq!(HttpMethod::parse("PUT"), None);
        assert!(send_digits_valid("W1234#") && !send_digits_valid("") && !send_digits_valid("12x4"));
        assert_eq!((parse_bool("TRUE"), parse_bool("false"), parse_bool("yes")), (Some(true), Some(false), None));
    }
}
