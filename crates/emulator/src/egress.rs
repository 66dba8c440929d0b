//! Where webhooks may go: the `--webhook-allow-host` patterns ([`HostPattern`]) and the checks
//! that hold every request to them: the URL's host, every redirect hop and every address a name
//! resolves to. With no pattern, any host is allowed (an app in another container is the
//! common case).
//!
//! A refused request fails like an unreachable URL (no connection), so the call reports what
//! Twilio reports for one: 11205, <https://www.twilio.com/docs/errors/11205>.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

/// Redirect hops followed per request, as reqwest's default policy does.
const MAX_REDIRECTS: usize = 10;

/// One `--webhook-allow-host` pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostPattern {
    /// A host name, matched exactly (ASCII case-insensitively, a trailing dot ignored).
    Name(String),
    /// `*.example.com`: any name ending in `.example.com` (held with its leading dot), not the
    /// apex itself.
    Subdomains(String),
    /// An address or a CIDR block (`10.0.0.0/8`, `::1`): IP hosts in it, and names that
    /// resolve to it.
    Net {
        /// The block's address (its host bits need not be zero).
        addr: IpAddr,
        /// The prefix length: 32 or 128 for a single address.
        prefix: u8,
    },
}

/// Why a `--webhook-allow-host` pattern does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostPatternError {
    /// Nothing was given.
    #[error("an empty host pattern")]
    Empty,
    /// The part after `/` is not a prefix length for the address.
    #[error("{pattern:?}: the prefix length must be a number from 0 to {max}")]
    BadPrefix {
        /// The pattern as given.
        pattern: String,
        /// 32 for IPv4, 128 for IPv6.
        max: u8,
    },
    /// The part before `/` is not an IP address.
    #[error("{0:?}: a CIDR block needs an IP address before the '/'")]
    BadNetwork(String),
    /// Not a host name: characters other than letters, digits, `-`, `_` and `.`, or an empty label.
    #[error("{0:?} is not a host name, an IP address, a CIDR block or *.domain")]
    BadName(String),
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.split('.').all(|label| {
            !label.is_empty() && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

fn parse_ip(text: &str) -> Option<IpAddr> {
    let bare = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')).unwrap_or(text);
    bare.parse::<IpAddr>().ok().map(|ip| ip.to_canonical())
}

impl FromStr for HostPattern {
    type Err = HostPatternError;

    fn from_str(text: &str) -> Result<HostPattern, HostPatternError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(HostPatternError::Empty);
        }
        if let Some((network, prefix)) = text.split_once('/') {
            let addr = parse_ip(network).ok_or_else(|| HostPatternError::BadNetwork(text.to_owned()))?;
            let max = if addr.is_ipv4() { 32 } else { 128 };
            let prefix = prefix
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| HostPatternError::BadPrefix { pattern: text.to_owned(), max })?;
            return Ok(HostPattern::Net { addr, prefix });
        }
        if let Some(addr) = parse_ip(text) {
            let prefix = if addr.is_ipv4() { 32 } else { 128 };
            return Ok(HostPattern::Net { addr, prefix });
        }
        let name = text.trim_end_matches('.').to_ascii_lowercase();
        if let Some(domain) = name.strip_prefix("*.") {
            if !valid_name(domain) {
                return Err(HostPatternError::BadName(text.to_owned()));
            }
            return Ok(HostPattern::Subdomains(format!(".{domain}")));
        }
        if !valid_name(&name) {
            return Err(HostPatternError::BadName(text.to_owned()));
        }
        Ok(HostPattern::Name(name))
    }
}

impl fmt::Display for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostPattern::Name(name) => f.write_str(name),
            HostPattern::Subdomains(suffix) => write!(f, "*{suffix}"),
            HostPattern::Net { addr, prefix } => write!(f, "{addr}/{prefix}"),
        }
    }
}

impl HostPattern {
    fn matches_name(&self, name: &str) -> bool {
        match self {
            HostPattern::Name(n) => n == name,
            HostPattern::Subdomains(suffix) => name.len() > suffix.len() && name.ends_with(suffix.as_str()),
            HostPattern::Net { .. } => false,
        }
    }

    fn matches_ip(&self, ip: IpAddr) -> bool {
        let HostPattern::Net { addr, prefix } = self else {
            return false;
        };
        match (addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(*prefix)).unwrap_or(0);
                u32::from(*net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(*prefix)).unwrap_or(0);
                u128::from(*net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// A host no pattern allows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0} is not allowed by --webhook-allow-host")]
pub(crate) struct Refused(pub(crate) String);

/// What the URL's host alone says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Allowed as it stands.
    Allowed,
    /// A name no name pattern allows: allowed only to the addresses it resolves to that a
    /// block allows (the resolver keeps only those).
    ByAddress,
    /// Refused.
    Refused(Refused),
}

/// The allow list; empty allows everything.
#[derive(Debug, Clone, Default)]
pub(crate) struct Egress {
    patterns: Arc<[HostPattern]>,
}

impl Egress {
    /// An allow list of `patterns` (none: anything goes).
    pub(crate) fn new(patterns: &[HostPattern]) -> Egress {
        Egress { patterns: patterns.into() }
    }

    /// Whether any host is allowed.
    pub(crate) fn is_open(&self) -> bool {
        self.patterns.is_empty()
    }

    fn allows_name(&self, name: &str) -> bool {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        self.patterns.iter().any(|p| p.matches_name(&name))
    }

    fn allows_ip(&self, ip: IpAddr) -> bool {
        self.patterns.iter().any(|p| p.matches_ip(ip))
    }

    fn has_blocks(&self) -> bool {
        self.patterns.iter().any(|p| matches!(p, HostPattern::Net { .. }))
    }

    /// What the URL's host says about the request.
    pub(crate) fn check(&self, url: &url::Url) -> Verdict {
        if self.is_open() {
            return Verdict::Allowed;
        }
        let refused = || Verdict::Refused(Refused(url.host_str().unwrap_or("a URL without a host").to_owned()));
        match url.host() {
            Some(url::Host::Domain(name)) if self.allows_name(name) => Verdict::Allowed,
            Some(url::Host::Domain(_)) if self.has_blocks() => Verdict::ByAddress,
            Some(url::Host::Ipv4(ip)) if self.allows_ip(IpAddr::V4(ip)) => Verdict::Allowed,
            Some(url::Host::Ipv6(ip)) if self.allows_ip(IpAddr::V6(ip)) => Verdict::Allowed,
            _ => refused(),
        }
    }

    /// Applies the list to a client: redirect hops are checked like the first URL, and names
    /// resolve only to allowed addresses. An open list leaves the client as it is.
    pub(crate) fn apply(&self, builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
        if self.is_open() {
            return builder;
        }
        let hops = self.clone();
        let redirects = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= MAX_REDIRECTS {
                return attempt.error(format!("more than {MAX_REDIRECTS} redirects"));
            }
            match hops.check(attempt.url()) {
                Verdict::Refused(refused) => attempt.error(refused),
                Verdict::Allowed | Verdict::ByAddress => attempt.follow(),
            }
        });
        builder.redirect(redirects).dns_resolver(Arc::new(self.clone()))
    }
}

impl reqwest::dns::Resolve for Egress {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let egress = self.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let by_name = egress.allows_name(&host);
            let allowed: Vec<SocketAddr> = found.filter(|a| by_name || egress.allows_ip(a.ip())).collect();
            if allowed.is_empty() {
                return Err(Box::new(Refused(host)) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn egress(patterns: &[&str]) -> Egress {
        let parsed: Vec<HostPattern> = patterns.iter().map(|p| p.parse().expect("pattern")).collect();
        Egress::new(&parsed)
    }

    fn verdict(e: &Egress, url: &str) -> Verdict {
        e.check(&url::Url::parse(url).expect("url"))
    }

    #[test]
    fn patterns_parse_and_print() {
        for (text, shown) in [
            ("App.Example.com.", "app.example.com"),
            ("*.example.com", "*.example.com"),
            ("10.1.2.3", "10.1.2.3/32"),
            ("[::1]", "::1/128"),
            ("10.0.0.0/8", "10.0.0.0/8"),
            ("::ffff:10.0.0.1", "10.0.0.1/32"),
            ("fd00::/8", "fd00::/8"),
            ("app", "app"),
        ] {
            let pattern: HostPattern = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(pattern.to_string(), shown);
        }
        for bad in ["", " ", "10.0.0.0/33", "::/129", "x/8", "10.0.0.0/", "a..b", "exa mple", "*.", "http://x/", "*"] {
            assert!(bad.parse::<HostPattern>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn an_empty_list_allows_everything() {
        let open = Egress::default();
        assert!(open.is_open());
        assert_eq!(verdict(&open, "http://169.254.169.254/latest"), Verdict::Allowed);
    }

    #[test]
    fn names_match_exactly_or_as_subdomains() {
        let e = egress(&["app", "*.example.com"]);
        assert_eq!(verdict(&e, "http://APP:8080/twiml"), Verdict::Allowed);
        assert_eq!(verdict(&e, "https://hooks.example.com/x"), Verdict::Allowed);
        assert!(matches!(verdict(&e, "https://example.com/x"), Verdict::Refused(_)));
        assert!(matches!(verdict(&e, "https://evilexample.com/x"), Verdict::Refused(_)));
        assert!(matches!(verdict(&e, "http://127.0.0.1:9/"), Verdict::Refused(_)));
        assert!(matches!(verdict(&e, "http://other/"), Verdict::Refused(_)));
    }

    #[test]
    fn addresses_match_blocks_and_names_defer_to_resolution() {
        let e = egress(&["10.0.0.0/8", "::1"]);
        assert_eq!(verdict(&e, "http://10.200.0.1/"), Verdict::Allowed);
        // The URL parser normalizes hex and short forms before the check.
        assert_eq!(verdict(&e, "http://0x0a.1/"), Verdict::Allowed);
        assert_eq!(verdict(&e, "http://[::1]:8080/"), Verdict::Allowed);
        assert_eq!(verdict(&e, "http://[::ffff:10.0.0.9]/"), Verdict::Allowed);
        assert!(matches!(verdict(&e, "http://11.0.0.1/"), Verdict::Refused(_)));
        assert!(matches!(verdict(&e, "http://[::2]/"), Verdict::Refused(_)));
        assert_eq!(verdict(&e, "http://app.internal/"), Verdict::ByAddress);
        assert!(e.allows_ip("10.9.9.9".parse().expect("ip")));
        assert!(!egress(&["10.0.0.0/0"]).allows_ip("::1".parse().expect("ip")));
        assert!(egress(&["0.0.0.0/0"]).allows_ip("192.0.2.1".parse().expect("ip")));
    }

    #[tokio::test]
    async fn the_resolver_keeps_only_allowed_addresses() {
        use reqwest::dns::Resolve as _;
        let name = |n: &str| reqwest::dns::Name::from_str(n).expect("name");
        let loopback = egress(&["127.0.0.0/8"]);
        let found: Vec<SocketAddr> = loopback.resolve(name("localhost")).await.expect("resolves").collect();
        assert!(!found.is_empty() && found.iter().all(|a| a.ip().is_loopback() && a.is_ipv4()), "{found:?}");
        let elsewhere = egress(&["10.0.0.0/8"]);
        let refused = elsewhere.resolve(name("localhost")).await.err().expect("refused");
        assert!(refused.to_string().contains("not allowed"), "{refused}");
        let by_name = egress(&["localhost"]);
        assert!(by_name.resolve(name("localhost")).await.is_ok());
    }
}
