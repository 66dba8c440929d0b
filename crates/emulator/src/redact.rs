//! What logs may show: URLs with their password masked ([`MaskedUrl`], used by every log
//! line that names a URL) and, in the text format, field values with control characters
//! escaped ([`TextFields`]), so input such as a `To` holding a newline cannot forge a line.

use std::borrow::Cow;
use std::fmt::{self, Write as _};
use tracing::field::{Field, Visit};
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::FormatFields;
use tracing_subscriber::fmt::format::Writer;

/// What a URL's password is replaced by.
const MASK: &str = "***";

/// A URL (or anything a user gave as one) as logged: the password of its `user:password@`
/// masked, the rest as given. Works on text that does not parse as a URL too.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MaskedUrl<'a>(pub(crate) &'a str);

/// Where the authority of `url` starts: after `scheme://` or a leading `//`.
fn authority_start(url: &str) -> Option<usize> {
    let at = url.find("//")?;
    let scheme = &url[..at];
    let plain = scheme.is_empty()
        || scheme.strip_suffix(':').is_some_and(|s| {
            s.starts_with(|c: char| c.is_ascii_alphabetic())
                && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        });
    plain.then_some(at + 2)
}

/// The URL with its password masked; borrowed when there is none.
pub(crate) fn mask_url(url: &str) -> Cow<'_, str> {
    let Some(start) = authority_start(url) else {
        return Cow::Borrowed(url);
    };
    let rest = &url[start..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let Some(at) = authority.rfind('@') else {
        return Cow::Borrowed(url);
    };
    let Some(colon) = authority[..at].find(':') else {
        return Cow::Borrowed(url);
    };
    let password_start = start + colon + 1;
    Cow::Owned(format!("{}{MASK}{}", &url[..password_start], &url[start + at..]))
}

impl fmt::Display for MaskedUrl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&mask_url(self.0))
    }
}

/// `text` with every control character (newline, carriage return, escape, …) written as a Rust
/// escape (`\n`, `\r`, `\u{1b}`); borrowed when there is none.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            // Writing to a String cannot fail.
            let _ = write!(out, "{}", c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// The field formatter of the text log format: `name=value` pairs as tracing-subscriber's
/// default writes them, but every value with its control characters escaped, so one event is
/// always one line and carries no terminal escape sequences.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextFields;

impl<'writer> FormatFields<'writer> for TextFields {
    fn format_fields<R: RecordFields>(&self, writer: Writer<'writer>, fields: R) -> fmt::Result {
        let mut visitor = EscapingVisitor { writer, first: true, result: Ok(()) };
        fields.record(&mut visitor);
        visitor.result
    }
}

struct EscapingVisitor<'writer> {
    writer: Writer<'writer>,
    first: bool,
    result: fmt::Result,
}

impl Visit for EscapingVisitor<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if self.result.is_err() {
            return;
        }
        let separator = if self.first { "" } else { " " };
        self.first = false;
        let text = format!("{value:?}");
        let text = escape_controls(&text);
        self.result = match field.name() {
            "message" => write!(self.writer, "{separator}{text}"),
            name => write!(self.writer, "{separator}{}={text}", name.trim_start_matches("r#")),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_password_is_masked() {
        for (url, shown) in [
            ("https://user:secret@example.com/twiml?x=1", "https://user:***@example.com/twiml?x=1"),
            ("http://user:p%40ss:word@host:8080", "http://user:***@host:8080"),
            ("//user:secret@host/relative", "//user:***@host/relative"),
            ("not a url://user:secret@x", "not a url://user:secret@x"),
            ("ht!tp://user:secret@x", "ht!tp://user:secret@x"),
            ("https://user@example.com/", "https://user@example.com/"),
            ("https://example.com/path@x:y", "https://example.com/path@x:y"),
            ("https://example.com/?u=a:b@c", "https://example.com/?u=a:b@c"),
            ("https://:secret@example.com", "https://:***@example.com"),
            ("", ""),
            ("//", "//"),
            ("https://a:b@", "https://a:***@"),
        ] {
            assert_eq!(MaskedUrl(url).to_string(), shown, "{url}");
        }
    }

    #[test]
    fn masking_agrees_with_the_url_parser() {
        let url = url::Url::parse("https://user:secret@example.com/a?b=c").expect("url");
        let mut expected = url.clone();
        let _ = expected.set_password(Some(MASK));
        assert_eq!(mask_url(url.as_str()), expected.as_str());
    }

    #[test]
    fn control_characters_are_escaped() {
        assert!(matches!(escape_controls("plain +1 (415) ünïcode"), Cow::Borrowed(_)));
        assert_eq!(escape_controls("a\nINFO forged\r\t\u{1b}[31m\u{7f}"), "a\\nINFO forged\\r\\t\\u{1b}[31m\\u{7f}");
    }
}
