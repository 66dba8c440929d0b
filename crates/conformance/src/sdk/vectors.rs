//! The webhook signatures `callspec sdk` asks a driver to validate, with the verdict each must
//! get, as literals: the vectors V1–V14 of `docs/reference/calls-api-facts.md#signature-test-vectors`
//! (the SDKs' shared test vectors, token `12345`), the port variants of
//! `calls-api-facts.md#request-signatures`, and forgeries of them. Nothing here is computed.

/// The token every vector is signed with.
pub const TOKEN: &str = "12345";

const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
const GET_URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2&CallSid=CA1234567890ABCDE&Digits=1234";
const BODY: &str = r#"{"property": "value", "boolean": true}"#;
const BASE: &[(&str, &str)] = &[
    ("CallSid", "CA1234567890ABCDE"),
    ("Caller", "+14158675309"),
    ("Digits", "1234"),
    ("From", "+14158675309"),
    ("To", "+18005551212"),
];
const V5: &[(&str, &str)] =
    &[("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234"), ("Digits", "1234")];
const V9: &[(&str, &str)] =
    &[("MessagingBinding.Address", "+1415xxxxxxx"), ("MessagingBinding.Address", "+1325xxxxxxx")];
/// V5's parameters with one value changed after signing.
const V5_TAMPERED: &[(&str, &str)] =
    &[("Sid", "CA124"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234"), ("Digits", "1234")];

/// What the validator must say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Valid (`SDK-SIG-1`).
    Accept,
    /// Invalid (`SDK-SIG-2`).
    Reject,
    /// Either: Twilio never signs this form, and only one SDK's tests include it (reported, not judged).
    Either,
}

/// One webhook to validate.
#[derive(Debug, Clone, Copy)]
pub struct Vector {
    /// Its name in reports.
    pub name: &'static str,
    /// The URL the webhook was requested at.
    pub url: &'static str,
    /// Its POST parameters, in the order sent (repeated names included).
    pub params: &'static [(&'static str, &'static str)],
    /// Its raw JSON body, for the `bodySHA256` vectors (then `params` is empty).
    pub body: Option<&'static str>,
    /// `X-Twilio-Signature`.
    pub signature: &'static str,
    /// The token to validate with.
    pub token: &'static str,
    /// The verdict.
    pub expect: Expect,
}

const fn v(
    name: &'static str,
    url: &'static str,
    params: &'static [(&'static str, &'static str)],
    signature: &'static str,
) -> Vector {
    Vector { name, url, params, body: None, signature, token: TOKEN, expect: Expect::Accept }
}

const fn json(name: &'static str, url: &'static str, body: &'static str, signature: &'static str) -> Vector {
    Vector { name, url, params: &[], body: Some(body), signature, token: TOKEN, expect: Expect::Accept }
}

const fn reject(vector: Vector) -> Vector {
    Vector { expect: Expect::Reject, ..vector }
}

/// What Twilio signs: every validator must accept these (`SDK-SIG-1`).
pub const ACCEPT: &[Vector] = &[
    v("V1", URL, BASE, "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
    v("V2", "https://mycompany.com:443/myapp.php?foo=1&bar=2", BASE, "kvajT1Ptam85bY51eRf/AJRuM3w="),
    v("V3", "http://mycompany.com:80/myapp.php?foo=1&bar=2", BASE, "0ZXoZLH/DfblKGATFgpif+LLRf4="),
    v("V4", "http://mycompany.com:1234/myapp.php?foo=1&bar=2", BASE, "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="),
    v("V5", URL, V5, "IK+Dwps556ElfBT0I3Rgjkr1wJU="),
    json(
        "V6",
        "https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620",
        BODY,
        "a9nBmqA0ju/hNViExpshrM61xv4=",
    ),
    json(
        "V7",
        "https://mycompany.com:443/myapp.php?foo=1&bar=2&bodySHA256=44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
        "{}",
        "Ldidvp12m26NI7eqEvxnEpkd9Hc=",
    ),
    json(
        "V8",
        "https://mycompany.com/myapp.php?bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620",
        BODY,
        "y77kIzt2vzLz71DgmJGsen2scGs=",
    ),
    v("V9", URL, V9, "83O6e2vORAoJHUNzJjDWN1jz+BA="),
    v("V10", "https://mycompany.com/myapp.php?foo=1&bar=2&Body=It%27s+amazing", BASE, "TfZzewPq8wqrGlMfyAud8+/IvJ0="),
    v("V11", "https://user:pass@mycompany.com/myapp.php?foo=1&bar=2", BASE, "CukzLTc1tT5dXEDIHm/tKBanW10="),
    v("V12", "https://user:pass@mycompany.com:443/myapp.php?foo=1&bar=2", BASE, "ZQFR1PTIZXF2MXB8ZnKCvnnA+rI="),
    // A GET carries its parameters in the query string: the signed string is the URL alone.
    v("V14", GET_URL, &[], "L2PBWCn+V0G1KfmEqKao6qMzPqo="),
    // Twilio signs voice webhooks over HTTPS without the port: an application that sees its URL
    // with `:443` must still accept the signature made without it, and the reverse.
    v("V1 given :443", "https://mycompany.com:443/myapp.php?foo=1&bar=2", BASE, "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
    v("V2 given no port", URL, BASE, "kvajT1Ptam85bY51eRf/AJRuM3w="),
];

/// Twilio removes `user@` before signing; only twilio-node's tests accept V13, so either verdict is
/// allowed (the answer is reported, not judged).
pub const EITHER: &[Vector] = &[Vector {
    expect: Expect::Either,
    ..v("V13", "https://user@mycompany.com/myapp.php?foo=1&bar=2", BASE, "2YRLlVAflCqxaNicjMpJcSTgzSs=")
}];

/// Forgeries: every validator must reject these (`SDK-SIG-2`).
pub const REJECT: &[Vector] = &[
    reject(v("V1 forged signature", URL, BASE, "RSOYDt4T1cUTdK1PDd93/VVr8B9=")),
    reject(Vector { token: "54321", ..v("V1 signed with another token", URL, BASE, "RSOYDt4T1cUTdK1PDd93/VVr8B8=") }),
    reject(v("V5 with a tampered parameter", URL, V5_TAMPERED, "IK+Dwps556ElfBT0I3Rgjkr1wJU=")),
    reject(v(
        "V14 with a query parameter changed",
        "https://mycompany.com/myapp.php?foo=1&bar=2&CallSid=CA1234567890ABCDE&Digits=1235",
        &[],
        "L2PBWCn+V0G1KfmEqKao6qMzPqo=",
    )),
    reject(v("V1 truncated signature", URL, BASE, "RSOYDt4T1cUTdK1PDd93/VVr8B8")),
    reject(v(
        "V1 signature on another URL",
        "https://mycompany.com/other.php?foo=1&bar=2",
        BASE,
        "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
    )),
    reject(json(
        "V6 with a tampered body",
        "https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620",
        r#"{"property": "value", "boolean": false}"#,
        "a9nBmqA0ju/hNViExpshrM61xv4=",
    )),
];
