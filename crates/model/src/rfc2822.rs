//! RFC 2822 date-times as Twilio writes them: `Tue, 31 Aug 2010 20:36:28 +0000`, always UTC.

use std::fmt;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset, Weekday};

const BODY: &[BorrowedFormatItem<'static>] =
    format_description!("[day] [month repr:short] [year] [hour]:[minute]:[second]");

/// Why a string is not a Twilio RFC 2822 date-time.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rfc2822Error {
    /// The text does not have the shape `Ddd, DD Mon YYYY HH:MM:SS +0000`.
    Shape(String),
    /// The weekday does not match the date.
    Weekday {
        /// The weekday written.
        found: String,
        /// The weekday of the date.
        expected: String,
    },
}

impl fmt::Display for Rfc2822Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rfc2822Error::Shape(why) => {
                write!(f, "not an RFC 2822 date-time like `Tue, 31 Aug 2010 20:36:28 +0000`: {why}")
            }
            Rfc2822Error::Weekday { found, expected } => {
                write!(f, "weekday {found} does not match the date, which is a {expected}")
            }
        }
    }
}

impl std::error::Error for Rfc2822Error {}

fn weekday_abbrev(day: Weekday) -> &'static str {
    match day {
        Weekday::Monday => "Mon",
        Weekday::Tuesday => "Tue",
        Weekday::Wednesday => "Wed",
        Weekday::Thursday => "Thu",
        Weekday::Friday => "Fri",
        Weekday::Saturday => "Sat",
        Weekday::Sunday => "Sun",
    }
}

/// Formats a date-time in UTC, e.g. `Tue, 31 Aug 2010 20:36:28 +0000`.
pub fn format(at: OffsetDateTime) -> String {
    let utc = at.to_offset(UtcOffset::UTC);
    let body = utc.format(BODY).unwrap_or_default();
    format!("{}, {body} +0000", weekday_abbrev(utc.weekday()))
}

/// Formats a time in milliseconds since the Unix epoch (to the second, rounding down);
/// empty for a time `time` cannot represent.
pub fn format_unix_ms(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000)).map(format).unwrap_or_default()
}

/// Parses exactly the shape Twilio writes: a weekday that matches the date, a two-digit day,
/// an English month abbreviation, a four-digit year, `HH:MM:SS` and the offset `+0000`.
pub fn parse(s: &str) -> Result<OffsetDateTime, Rfc2822Error> {
    let shape = |why: &str| Rfc2822Error::Shape(why.to_owned());
    if !s.is_ascii() {
        return Err(shape("non-ASCII characters"));
    }
    if s.len() != 31 {
        return Err(Rfc2822Error::Shape(format!("expected 31 characters, found {}", s.len())));
    }
    let (weekday, rest) = s.split_at(3);
    let rest = rest.strip_prefix(", ").ok_or_else(|| shape("missing `, ` after the weekday"))?;
    let body = rest.strip_suffix(" +0000").ok_or_else(|| shape("the offset must be `+0000`"))?;
    let naive = PrimitiveDateTime::parse(body, BODY).map_err(|e| Rfc2822Error::Shape(e.to_string()))?;
    let at = naive.assume_utc();
    let expected = weekday_abbrev(at.weekday());
    if weekday != expected {
        return Err(Rfc2822Error::Weekday { found: weekday.to_owned(), expected: expected.to_owned() });
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_the_docs_examples() {
        for text in
            ["Tue, 31 Aug 2010 20:36:28 +0000", "Fri, 20 Aug 2010 01:13:42 +0000", "Fri, 08 Jan 2016 17:18:38 +0000"]
        {
            let at = parse(text).expect(text);
            assert_eq!(format(at), text);
        }
        assert_eq!(parse("Tue, 31 Aug 2010 20:36:28 +0000").map(|t| t.unix_timestamp()), Ok(1_283_286_988));
        assert_eq!(format_unix_ms(1_283_286_988_999), "Tue, 31 Aug 2010 20:36:28 +0000");
        assert_eq!(format_unix_ms(i64::MAX), "");
    }

    #[test]
    fn rejects_other_shapes() {
        for bad in [
            "2010-08-31T20:36:28Z",
            "Tue, 31 Aug 2010 20:36:28 GMT",
            "Tue, 31 Aug 2010 20:36:28 +0100",
            "Tue,  1 Aug 2010 20:36:28 +0000",
            "Tue, 31 aug 2010 20:36:28 +0000",
            "Tue, 31 Aug 2010 20:36 +0000",
            "",
        ] {
            assert!(parse(bad).is_err(), "{bad} should be refused");
        }
        assert!(matches!(parse("Mon, 31 Aug 2010 20:36:28 +0000"), Err(Rfc2822Error::Weekday { .. })));
    }
}
