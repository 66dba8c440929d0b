//! Twilio SIDs: a two-letter prefix naming the resource kind followed by 32 hex digits.

use std::fmt;
use std::str::FromStr;

/// The resource kinds whose SIDs callspec handles, each with its two-letter prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum SidKind {
    /// `CA`: a call.
    Call,
    /// `AC`: an account or subaccount.
    Account,
    /// `PN`: an incoming phone number.
    PhoneNumber,
    /// `RE`: a recording.
    Recording,
    /// `AP`: a TwiML application.
    Application,
    /// `BY`: a BYOC trunk.
    Byoc,
    /// `GP`: a group.
    Group,
    /// `TK`: a SIP trunk.
    Trunk,
    /// `CF`: a conference.
    Conference,
}

impl SidKind {
    /// Every kind, in declaration order.
    pub const ALL: [SidKind; 9] = [
        SidKind::Call,
        SidKind::Account,
        SidKind::PhoneNumber,
        SidKind::Recording,
        SidKind::Application,
        SidKind::Byoc,
        SidKind::Group,
        SidKind::Trunk,
        SidKind::Conference,
    ];

    /// The two-letter prefix, e.g. `CA` for a call.
    pub const fn prefix(self) -> &'static str {
        match self {
            SidKind::Call => "CA",
            SidKind::Account => "AC",
            SidKind::PhoneNumber => "PN",
            SidKind::Recording => "RE",
            SidKind::Application => "AP",
            SidKind::Byoc => "BY",
            SidKind::Group => "GP",
            SidKind::Trunk => "TK",
            SidKind::Conference => "CF",
        }
    }

    /// The kind a prefix names, if callspec knows it.
    pub fn from_prefix(prefix: &str) -> Option<SidKind> {
        SidKind::ALL.into_iter().find(|k| k.prefix() == prefix)
    }

    /// A name for the kind as used in Twilio parameter names (`CallSid`, `AccountSid`...).
    pub const fn name(self) -> &'static str {
        match self {
            SidKind::Call => "Call",
            SidKind::Account => "Account",
            SidKind::PhoneNumber => "PhoneNumber",
            SidKind::Recording => "Recording",
            SidKind::Application => "Application",
            SidKind::Byoc => "Byoc",
            SidKind::Group => "Group",
            SidKind::Trunk => "Trunk",
            SidKind::Conference => "Conference",
        }
    }
}

/// A parsed SID. Displays as the prefix and 32 lower-case hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sid {
    kind: SidKind,
    value: u128,
}

/// Why a string is not a SID.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SidError {
    /// A SID is exactly 34 characters long.
    WrongLength {
        /// The length found, in characters.
        found: usize,
    },
    /// The prefix names no kind callspec knows.
    UnknownPrefix {
        /// The first two characters.
        found: String,
    },
    /// The prefix names another kind than the one required.
    WrongPrefix {
        /// The prefix required.
        expected: &'static str,
        /// The prefix found.
        found: String,
    },
    /// A character after the prefix is not a hex digit.
    NotHex {
        /// The character index, counted from the start of the SID.
        position: usize,
    },
}

impl fmt::Display for SidError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SidError::WrongLength { found } => {
                write!(f, "a SID has 34 characters (2-letter prefix + 32 hex digits), found {found}")
            }
            SidError::UnknownPrefix { found } => write!(f, "unknown SID prefix {found:?}"),
            SidError::WrongPrefix { expected, found } => {
                write!(f, "expected a SID starting with {expected}, found prefix {found:?}")
            }
            SidError::NotHex { position } => {
                write!(f, "character {position} of the SID is not a hex digit")
            }
        }
    }
}

impl std::error::Error for SidError {}

impl Sid {
    /// A SID of the given kind from its 128-bit value.
    pub const fn from_parts(kind: SidKind, value: u128) -> Sid {
        Sid { kind, value }
    }

    /// A new random SID of the given kind, from the operating system's random source.
    pub fn random(kind: SidKind) -> Sid {
        let mut bytes = [0u8; 16];
        // The OS source failing is unrecoverable for an id generator; fall back to a time-seeded value.
        if getrandom::fill(&mut bytes).is_err() {
            let nanos =
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
            bytes = nanos.to_le_bytes();
        }
        Sid { kind, value: u128::from_le_bytes(bytes) }
    }

    /// Parses any SID whose prefix callspec knows.
    pub fn parse(s: &str) -> Result<Sid, SidError> {
        let len = s.chars().count();
        if len != 34 || s.len() != 34 {
            return Err(SidError::WrongLength { found: len });
        }
        let prefix = &s[..2];
        let kind = SidKind::from_prefix(prefix).ok_or_else(|| SidError::UnknownPrefix { found: prefix.to_owned() })?;
        let mut value: u128 = 0;
        for (i, c) in s.bytes().enumerate().skip(2) {
            let digit = (c as char).to_digit(16).ok_or(SidError::NotHex { position: i })?;
            value = (value << 4) | u128::from(digit);
        }
        Ok(Sid { kind, value })
    }

    /// Parses a SID and requires the given kind.
    pub fn parse_kind(s: &str, kind: SidKind) -> Result<Sid, SidError> {
        if let Some(prefix) = s.get(..2)
            && prefix != kind.prefix()
            && s.len() == 34
        {
            return Err(SidError::WrongPrefix { expected: kind.prefix(), found: prefix.to_owned() });
        }
        let sid = Sid::parse(s)?;
        if sid.kind != kind {
            return Err(SidError::WrongPrefix { expected: kind.prefix(), found: sid.kind.prefix().to_owned() });
        }
        Ok(sid)
    }

    /// The kind this SID names.
    pub const fn kind(&self) -> SidKind {
        self.kind
    }

    /// The 128-bit value after the prefix.
    pub const fn value(&self) -> u128 {
        self.value
    }
}

impl fmt::Display for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{:032x}", self.kind.prefix(), self.value)
    }
}

impl FromStr for Sid {
    type Err = SidError;
    fn from_str(s: &str) -> Result<Sid, SidError> {
        Sid::parse(s)
    }
}

impl serde::Serialize for Sid {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Sid {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Sid, D::Error> {
        let s = String::deserialize(deserializer)?;
        Sid::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_displays_round_trip() {
        let s = "CA0123456789abcdef0123456789ABCDEF";
        let sid = Sid::parse(s).expect("valid");
        assert_eq!(sid.kind(), SidKind::Call);
        assert_eq!(sid.to_string(), s.to_lowercase().replace("ca", "CA"));
    }

    #[test]
    fn rejects_wrong_prefix_length_and_non_hex() {
        let hex = "0123456789abcdef0123456789abcdef";
        assert_eq!(
            Sid::parse_kind(&format!("AC{hex}"), SidKind::Call),
            Err(SidError::WrongPrefix { expected: "CA", found: "AC".into() })
        );
        assert_eq!(Sid::parse(&format!("CA{}", &hex[1..])), Err(SidError::WrongLength { found: 33 }));
        assert_eq!(Sid::parse(&format!("CA{hex}0")), Err(SidError::WrongLength { found: 35 }));
        assert_eq!(Sid::parse("CAXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"), Err(SidError::NotHex { position: 2 }));
        assert_eq!(Sid::parse(&format!("ZZ{hex}")), Err(SidError::UnknownPrefix { found: "ZZ".into() }));
        assert!(Sid::parse(&format!("CA{}é", &hex[..31])).is_err());
    }

    #[test]
    fn random_sids_have_their_prefix_and_differ() {
        let a = Sid::random(SidKind::Recording);
        let b = Sid::random(SidKind::Recording);
        assert!(a.to_string().starts_with("RE"));
        assert_eq!(a.to_string().len(), 34);
        assert_ne!(a, b);
        assert_eq!(Sid::parse(&a.to_string()), Ok(a));
    }
}
