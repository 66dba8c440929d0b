//! `X-Twilio-Signature`: HMAC-SHA1 over the URL and the sorted POST parameters, Base64-encoded.
//!
//! The algorithm follows Twilio's security docs and the validators of the official SDKs:
//! sort parameter names (byte order), and for a repeated name its distinct values, append
//! each name and value to the URL, sign with the auth token. GET requests sign the URL alone.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// The string Twilio signs: the URL followed by each sorted name and value.
pub fn string_to_sign(url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out = String::with_capacity(url.len() + sorted.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>());
    out.push_str(url);
    for (k, v) in sorted {
        out.push_str(k);
        out.push_str(v);
    }
    out
}

/// The `X-Twilio-Signature` value for a request to `url` with form `params` (empty for GET).
pub fn sign(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    // HMAC accepts keys of any length, so new_from_slice cannot fail.
    let mut mac = match Hmac::<Sha1>::new_from_slice(auth_token.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(string_to_sign(url, params).as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

/// Lower-case hex SHA-256 of a raw body, the `bodySHA256` query parameter of JSON webhooks.
pub fn body_sha256(body: &[u8]) -> String {
    Sha256::digest(body).iter().map(|b| format!("{b:02x}")).collect()
}

/// The URL Twilio signs for a request to `url`: without `user:pass@`, and for HTTPS without
/// the port.
pub fn signed_url(url: &url::Url) -> String {
    let mut u = url.clone();
    if !u.username().is_empty() || u.password().is_some() {
        let _ = u.set_username("");
        let _ = u.set_password(None);
    }
    if u.scheme() == "https" {
        let _ = u.set_port(None);
    }
    u.to_string()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The URLs a validator tries: as given, with the scheme's default port added, and with
/// the port removed, each also without `user:pass@` (Twilio drops credentials before signing).
pub fn url_variants(url: &str) -> Vec<String> {
    let mut out = vec![url.to_owned()];
    if let Ok(parsed) = url::Url::parse(url) {
        let mut bases = vec![parsed.clone()];
        if !parsed.username().is_empty() || parsed.password().is_some() {
            let mut bare = parsed.clone();
            let _ = bare.set_username("");
            let _ = bare.set_password(None);
            bases.push(bare);
        }
        for base in bases {
            let text = base.to_string();
            push_unique(&mut out, text.clone());
            let default_port = base.port_or_known_default();
            if base.port().is_some() {
                let mut without = base.clone();
                let _ = without.set_port(None);
                push_unique(&mut out, without.to_string());
            } else if let Some(port) = default_port {
                // Url::to_string drops a default port, so splice it into the authority by hand.
                if let Some(host) = base.host_str() {
                    let authority = format!("{host}:{port}");
                    let prefix = format!("{}://", base.scheme());
                    let userinfo = match (base.username(), base.password()) {
                        ("", None) => String::new(),
                        (u, None) => format!("{u}@"),
                        (u, Some(p)) => format!("{u}:{p}@"),
                    };
                    let rest = &text[prefix.len() + userinfo.len() + host.len()..];
                    push_unique(&mut out, format!("{prefix}{userinfo}{authority}{rest}"));
                }
            }
        }
    }
    out
}

fn push_unique(out: &mut Vec<String>, s: String) {
    if !out.contains(&s) {
        out.push(s);
    }
}

/// Whether `signature` is valid for the request under any of the [`url_variants`].
pub fn validate(auth_token: &str, url: &str, params: &[(String, String)], signature: &str) -> bool {
    url_variants(url)
        .iter()
        .any(|candidate| constant_time_eq(sign(auth_token, candidate, params).as_bytes(), signature.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn signed_url_drops_credentials_and_https_port() {
        let u = url::Url::parse("https://u:p@example.com:8443/a?b=1").expect("url");
        assert_eq!(signed_url(&u), "https://example.com/a?b=1");
        let u = url::Url::parse("http://u:p@127.0.0.1:8080/a").expect("url");
        assert_eq!(signed_url(&u), "http://127.0.0.1:8080/a");
    }

    #[test]
    fn docs_worked_example() {
        let params = pairs(&[
            ("Digits", "1234"),
            ("To", "+18005551212"),
            ("From", "+14158675310"),
            ("Caller", "+14158675310"),
            ("CallSid", "CA1234567890ABCDE"),
        ]);
        let url = "https://example.com/myapp.php?foo=1&bar=2";
        assert_eq!(
            string_to_sign(url, &params),
            "https://example.com/myapp.php?foo=1&bar=2CallSidCA1234567890ABCDECaller+14158675310Digits1234From+14158675310To+18005551212"
        );
        assert_eq!(sign("12345", url, &params), "L/OH5YylLD5NRKLltdqwSvS0BnU=");
    }
}
