//! Call endpoints: E.164 phone numbers, `sip:` addresses, `client:` identifiers and caller names.

use std::fmt;

/// What a `To` or `From` value addresses.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// An E.164 number: `+`, a country code, at most 15 digits in all.
    Phone(String),
    /// A SIP address, kept verbatim with its URI parameters (`sip:kate@example.com?hatchkey=4815162342`).
    Sip(String),
    /// A client identifier; holds the whole `client:name` text.
    Client(String),
    /// A plain caller name, such as the seed's `Jack`, valid as `From` of a SIP call.
    Name(String),
}

/// Why a string is not an endpoint of the kind required.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EndpointError {
    /// Empty or only white space.
    Empty,
    /// Starts like a phone number but is not E.164.
    NotE164(String),
    /// A `sip:` address without `user@host`.
    BadSip(String),
    /// A `client:` prefix with no identifier after it.
    BadClient(String),
    /// Neither a phone number, a SIP address nor a client identifier.
    Unrecognised(String),
}

impl fmt::Display for EndpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EndpointError::Empty => f.write_str("empty endpoint"),
            EndpointError::NotE164(s) => write!(f, "{s:?} is not an E.164 number (+, country code, at most 15 digits)"),
            EndpointError::BadSip(s) => write!(f, "{s:?} is not a SIP address of the form sip:name@host"),
            EndpointError::BadClient(s) => write!(f, "{s:?} has no client identifier after `client:`"),
            EndpointError::Unrecognised(s) => {
                write!(f, "{s:?} is neither an E.164 number, a sip: address nor a client: identifier")
            }
        }
    }
}

impl std::error::Error for EndpointError {}

/// Whether `s` is an E.164 number: `+`, a first digit 1-9, 7 to 15 digits in all.
pub fn is_e164(s: &str) -> bool {
    let Some(digits) = s.strip_prefix('+') else { return false };
    (7..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0')
}

fn parse_sip(s: &str) -> Result<Endpoint, EndpointError> {
    let rest = &s[4..];
    let address = rest.split(['?', ';']).next().unwrap_or("");
    match address.split_once('@') {
        Some((user, host)) if !user.is_empty() && !host.is_empty() && !host.contains(char::is_whitespace) => {
            Ok(Endpoint::Sip(s.to_owned()))
        }
        _ => Err(EndpointError::BadSip(s.to_owned())),
    }
}

fn parse_client(s: &str) -> Result<Endpoint, EndpointError> {
    let name = &s[7..];
    if name.is_empty() || name.contains(char::is_whitespace) {
        Err(EndpointError::BadClient(s.to_owned()))
    } else {
        Ok(Endpoint::Client(s.to_owned()))
    }
}

fn has_prefix(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s.is_char_boundary(prefix.len()) && s[..prefix.len()].eq_ignore_ascii_case(prefix)
}

impl Endpoint {
    /// Classifies a `To` value: a phone number, SIP address or client identifier.
    pub fn parse_to(s: &str) -> Result<Endpoint, EndpointError> {
        if s.trim().is_empty() {
            return Err(EndpointError::Empty);
        }
        if has_prefix(s, "sip:") {
            return parse_sip(s);
        }
        if has_prefix(s, "client:") {
            return parse_client(s);
        }
        if is_e164(s) {
            return Ok(Endpoint::Phone(s.to_owned()));
        }
        if s.starts_with('+') || s.bytes().any(|b| b.is_ascii_digit()) {
            return Err(EndpointError::NotE164(s.to_owned()));
        }
        Err(EndpointError::Unrecognised(s.to_owned()))
    }

    /// Classifies a `From` value: a phone number, client identifier, SIP address or, for
    /// anything else without digits, a plain caller name.
    pub fn parse_from(s: &str) -> Result<Endpoint, EndpointError> {
        match Endpoint::parse_to(s) {
            Ok(e) => Ok(e),
            Err(EndpointError::Unrecognised(_)) => Ok(Endpoint::Name(s.to_owned())),
            Err(e) => Err(e),
        }
    }

    /// The text as sent.
    pub fn as_str(&self) -> &str {
        match self {
            Endpoint::Phone(s) | Endpoint::Sip(s) | Endpoint::Client(s) | Endpoint::Name(s) => s,
        }
    }

    /// Whether this is a phone number.
    pub fn is_phone(&self) -> bool {
        matches!(self, Endpoint::Phone(_))
    }

    /// The display form Twilio puts in `to_formatted` / `from_formatted`.
    pub fn formatted(&self) -> String {
        formatted(self.as_str())
    }
}

/// The display form of an endpoint text: NANP numbers (`+1` and ten digits) as
/// `(415) 555-1212`; everything else verbatim.
pub fn formatted(s: &str) -> String {
    match s.strip_prefix("+1") {
        Some(d) if d.len() == 10 && d.bytes().all(|b| b.is_ascii_digit()) => {
            format!("({}) {}-{}", &d[..3], &d[3..6], &d[6..])
        }
        _ => s.to_owned(),
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_the_seed_examples() {
        assert_eq!(Endpoint::parse_to("+14155551212"), Ok(Endpoint::Phone("+14155551212".into())));
        assert_eq!(Endpoint::parse_to("client:charlie"), Ok(Endpoint::Client("client:charlie".into())));
        assert_eq!(
            Endpoint::parse_to("sip:kate@example.com?hatchkey=4815162342"),
            Ok(Endpoint::Sip("sip:kate@example.com?hatchkey=4815162342".into()))
        );
        assert_eq!(Endpoint::parse_from("Jack"), Ok(Endpoint::Name("Jack".into())));
        assert_eq!(Endpoint::parse_from("+15017122661"), Ok(Endpoint::Phone("+15017122661".into())));
    }

    #[test]
    fn refuses_what_is_not_an_endpoint() {
        for bad in [
            "5551234567",
            "+0800918468",
            "+1415555121234567",
            "+1-415-555-1212",
            "sip:",
            "sip:example.com",
            "client:",
            "Jack",
        ] {
            assert!(Endpoint::parse_to(bad).is_err(), "{bad} should not be a To");
        }
        assert_eq!(Endpoint::parse_to(""), Err(EndpointError::Empty));
        assert!(Endpoint::parse_from("+0800918468").is_err());
    }

    #[test]
    fn formats_nanp_numbers_and_keeps_the_rest() {
        assert_eq!(formatted("+14155551212"), "(415) 555-1212");
        assert_eq!(formatted("+15017122661"), "(501) 712-2661");
        assert_eq!(formatted("+18668675310"), "(866) 867-5310");
        assert_eq!(formatted("+442071838750"), "+442071838750");
        assert_eq!(formatted("client:charlie"), "client:charlie");
        assert_eq!(formatted("sip:kate@example.com?hatchkey=4815162342"), "sip:kate@example.com?hatchkey=4815162342");
        assert_eq!(formatted("Jack"), "Jack");
    }
}
