//! Data-driven tests of the model: signature vectors, every validation rule with a valid and
//! an invalid input, and the Call JSON round trip. Expected codes are literals from Twilio's
//! docs (`docs/reference/calls-api-facts.md#error-codes`), never computed by the code under test.

use callspec_model::params::{AccountDirectory, CreateCallParams, UpdateCallParams};
use callspec_model::{Form, Sid, signature};

#[path = "model/props.rs"]
mod props;

const TOKEN: &str = "12345";
const BASE_URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn base_params() -> Vec<(String, String)> {
    pairs(&[
        ("CallSid", "CA1234567890ABCDE"),
        ("Caller", "+14158675309"),
        ("Digits", "1234"),
        ("From", "+14158675309"),
        ("To", "+18005551212"),
    ])
}

/// A signature vector: name, URL, POST parameters, expected signature.
type Vector = (&'static str, String, Vec<(String, String)>, &'static str);

/// Vectors V1-V14 of `docs/reference/calls-api-facts.md#signature-test-vectors`, literally:
/// (name, URL, params, expected).
#[test]
fn signature_vectors() {
    let body_hash = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
    let empty_hash = "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
    let v5 =
        pairs(&[("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234"), ("Digits", "1234")]);
    let v9 = pairs(&[("MessagingBinding.Address", "+1415xxxxxxx"), ("MessagingBinding.Address", "+1325xxxxxxx")]);
    let cases: Vec<Vector> = vec![
        ("V1", BASE_URL.into(), base_params(), "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
        ("V2", "https://mycompany.com:443/myapp.php?foo=1&bar=2".into(), base_params(), "kvajT1Ptam85bY51eRf/AJRuM3w="),
        ("V3", "http://mycompany.com:80/myapp.php?foo=1&bar=2".into(), base_params(), "0ZXoZLH/DfblKGATFgpif+LLRf4="),
        ("V4", "http://mycompany.com:1234/myapp.php?foo=1&bar=2".into(), base_params(), "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="),
        ("V5", BASE_URL.into(), v5, "IK+Dwps556ElfBT0I3Rgjkr1wJU="),
        ("V6", format!("{BASE_URL}&bodySHA256={body_hash}"), vec![], "a9nBmqA0ju/hNViExpshrM61xv4="),
        (
            "V7",
            format!("https://mycompany.com:443/myapp.php?foo=1&bar=2&bodySHA256={empty_hash}"),
            vec![],
            "Ldidvp12m26NI7eqEvxnEpkd9Hc=",
        ),
        (
            "V8",
            format!("https://mycompany.com/myapp.php?bodySHA256={body_hash}"),
            vec![],
            "y77kIzt2vzLz71DgmJGsen2scGs=",
        ),
        ("V9", BASE_URL.into(), v9, "83O6e2vORAoJHUNzJjDWN1jz+BA="),
        ("V10", format!("{BASE_URL}&Body=It%27s+amazing"), base_params(), "TfZzewPq8wqrGlMfyAud8+/IvJ0="),
        (
            "V11",
            "https://user:pass@mycompany.com/myapp.php?foo=1&bar=2".into(),
            base_params(),
            "CukzLTc1tT5dXEDIHm/tKBanW10=",
        ),
        (
            "V12",
            "https://user:pass@mycompany.com:443/myapp.php?foo=1&bar=2".into(),
            base_params(),
            "ZQFR1PTIZXF2MXB8ZnKCvnnA+rI=",
        ),
        (
            "V13",
            "https://user@mycompany.com/myapp.php?foo=1&bar=2".into(),
            base_params(),
            "2YRLlVAflCqxaNicjMpJcSTgzSs=",
        ),
        (
            "V14",
            "https://mycompany.com/myapp.php?foo=1&bar=2&CallSid=CA1234567890ABCDE&Digits=1234".into(),
            vec![],
            "L2PBWCn+V0G1KfmEqKao6qMzPqo=",
        ),
    ];
    for (name, url, params, expected) in &cases {
        assert_eq!(signature::sign(TOKEN, url, params), *expected, "{name}: computed signature");
        assert!(signature::validate(TOKEN, url, params, expected), "{name}: validates");
        assert!(!signature::validate("54321", url, params, expected), "{name}: wrong token refused");
    }
    assert!(!signature::validate(TOKEN, BASE_URL, &base_params(), "RSOYDt4T1cUTdK1PDd93/VVr8B8"), "truncated");
}

#[test]
fn signature_body_hashes_and_variants() {
    assert_eq!(
        signature::body_sha256(br#"{"property": "value", "boolean": true}"#),
        "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
    );
    assert_eq!(signature::body_sha256(b"{}"), "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
    // Port variants: a signature made over the URL with the default port validates without
    // it, and the reverse (V1 vs V2, V3).
    assert!(signature::validate(TOKEN, BASE_URL, &base_params(), "kvajT1Ptam85bY51eRf/AJRuM3w="));
    assert!(signature::validate(
        TOKEN,
        "https://mycompany.com:443/myapp.php?foo=1&bar=2",
        &base_params(),
        "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    ));
    assert!(signature::validate(
        TOKEN,
        "http://mycompany.com/myapp.php?foo=1&bar=2",
        &base_params(),
        "0ZXoZLH/DfblKGATFgpif+LLRf4="
    ));
    // The validator given the unescaped apostrophe accepts the signature over `%27` (V10).
    assert!(signature::validate(
        TOKEN,
        &format!("{BASE_URL}&Body=It's+amazing"),
        &base_params(),
        "TfZzewPq8wqrGlMfyAud8+/IvJ0="
    ));
    // Credentials: the signature Twilio makes after dropping `user:pass@` validates too (V11 vs V1).
    assert!(signature::validate(
        TOKEN,
        "https://user:pass@mycompany.com/myapp.php?foo=1&bar=2",
        &base_params(),
        "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    ));
}

/// An account for validation tests.
struct Account {
    trial: bool,
    numbers: &'static [&'static str],
    verified: &'static [&'static str],
    applications: &'static [&'static str],
}

const MAIN: Account = Account {
    trial: false,
    numbers: &["+15017122661", "+18668675310"],
    verified: &["+14155550100"],
    applications: &["AP0123456789abcdef0123456789abcdef"],
};

const TRIAL: Account =
    Account { trial: true, numbers: &["+15017122661"], verified: &["+14155551212"], applications: &[] };

impl AccountDirectory for Account {
    fn is_trial(&self) -> bool {
        self.trial
    }
    fn owns_number(&self, e164: &str) -> bool {
        self.numbers.contains(&e164)
    }
    fn is_verified_caller_id(&self, e164: &str) -> bool {
        self.verified.contains(&e164)
    }
    fn has_application(&self, sid: &Sid) -> bool {
        self.applications.iter().any(|a| *a == sid.to_string())
    }
}

const URL: (&str, &str) = ("Url", "http://demo.twilio.com/docs/voice.xml");
const TO: (&str, &str) = ("To", "+14155551212");
const FROM: (&str, &str) = ("From", "+15017122661");

/// Parses a create form against an account; asserts the violation codes, in order.
fn check(account: &Account, form: &[(&str, &str)], expected_codes: &[u32]) {
    let form = Form::from_pairs(form.iter().copied());
    let result = CreateCallParams::parse(&form, account).into_result();
    let codes: Vec<u32> = match &result {
        Ok(_) => vec![],
        Err(violations) => violations.iter().map(|v| v.error.code).collect(),
    };
    assert_eq!(codes, expected_codes, "form {:?}: {:?}", form.pairs(), result.err());
    if let Err(violations) = result {
        for v in violations {
            assert_eq!(v.error.status, 400, "{v}");
            assert_eq!(v.error.more_info, format!("https://www.twilio.com/docs/errors/{}", v.error.code));
            assert!(!v.error.message.is_empty());
        }
    }
}

#[test]
fn seed_examples_are_accepted() {
    check(&MAIN, &[URL, TO, FROM], &[]);
    check(&MAIN, &[URL, ("To", "client:charlie"), FROM], &[]);
    check(
        &MAIN,
        &[
            ("Url", "http://www.example.com/sipdial.xml"),
            ("To", "sip:kate@example.com?hatchkey=4815162342"),
            ("From", "Jack"),
        ],
        &[],
    );
    check(&MAIN, &[("Method", "GET"), ("SendDigits", "1234#"), URL, TO, ("From", "+18668675310")], &[]);
    check(&MAIN, &[("Record", "true"), URL, TO, FROM], &[]);
    check(
        &MAIN,
        &[
            ("Method", "GET"),
            ("StatusCallback", "https://www.myapp.com/events"),
            ("StatusCallbackEvent", "initiated"),
            ("StatusCallbackEvent", "answered"),
            ("StatusCallbackMethod", "POST"),
            URL,
            TO,
            ("From", "+18668675310"),
        ],
        &[],
    );
}

#[test]
fn to_rules() {
    check(&MAIN, &[URL, FROM], &[21201]);
    check(&MAIN, &[URL, ("To", ""), FROM], &[21201]);
    check(&MAIN, &[URL, ("To", "5551234567"), FROM], &[21211]);
    check(&MAIN, &[URL, ("To", "+1415555121299999"), FROM], &[21211]);
    check(&MAIN, &[URL, ("To", "sip:"), FROM], &[21211]);
    check(&MAIN, &[URL, ("To", "client:"), FROM], &[21211]);
    check(&MAIN, &[URL, ("To", "+442071838750"), FROM], &[]);
    check(&MAIN, &[URL, ("To", "client:joey"), ("From", "client:charlie")], &[]);
}

#[test]
fn from_rules() {
    check(&MAIN, &[URL, TO], &[21213]);
    check(&MAIN, &[URL, TO, ("From", "client:charlie")], &[21212]);
    check(&MAIN, &[URL, TO, ("From", "Jack")], &[21212]);
    check(&MAIN, &[URL, TO, ("From", "+0800918468")], &[21212]);
    check(&MAIN, &[URL, ("To", "client:charlie"), ("From", "Jack")], &[21212]);
    check(&MAIN, &[URL, TO, ("From", "+14155559999")], &[21210]);
    check(&MAIN, &[URL, TO, ("From", "+14155550100")], &[]);
    check(&MAIN, &[URL, ("To", "sip:pat@example.com"), ("From", "Jack")], &[]);
}

#[test]
fn trial_accounts_call_only_verified_numbers() {
    check(&TRIAL, &[URL, ("To", "+14155550199"), FROM], &[21219]);
    check(&TRIAL, &[URL, ("To", "+14155551212"), FROM], &[]);
    check(&TRIAL, &[URL, ("To", "client:charlie"), FROM], &[]);
}

#[test]
fn instruction_rules() {
    check(&MAIN, &[TO, FROM], &[21205]);
    check(&MAIN, &[("Url", "/docs/voice.xml"), TO, FROM], &[21205]);
    check(&MAIN, &[("Url", "ftp://demo.twilio.com/voice.xml"), TO, FROM], &[21205]);
    check(&MAIN, &[("Url", "http://my_app.example.com/voice.xml"), TO, FROM], &[21205]);
    check(&MAIN, &[("Url", "http://127.0.0.1:4010/voice.xml"), TO, FROM], &[]);
    check(&MAIN, &[("Twiml", "<Response><Say>Ahoy</Say></Response>"), TO, FROM], &[]);
    let long = format!("<Response><Say>{}</Say></Response>", "a".repeat(4000));
    check(&MAIN, &[("Twiml", &long), TO, FROM], &[21200]);
    check(&MAIN, &[URL, ("Method", "PUT"), TO, FROM], &[21209]);
    check(&MAIN, &[URL, ("Method", "get"), TO, FROM], &[]);
    check(&MAIN, &[URL, ("FallbackUrl", "http://fall_back.example.com/"), TO, FROM], &[21205]);
    check(
        &MAIN,
        &[URL, ("FallbackUrl", "https://fallback.example.com/"), ("FallbackMethod", "DELETE"), TO, FROM],
        &[21209],
    );
}

#[test]
fn application_rules() {
    check(&MAIN, &[("ApplicationSid", "AP0123456789abcdef0123456789abcdef"), TO, FROM], &[]);
    check(&MAIN, &[("ApplicationSid", "APffffffffffffffffffffffffffffffff"), TO, FROM], &[21218]);
    check(&MAIN, &[("ApplicationSid", "AP123"), TO, FROM], &[21218]);
    // With ApplicationSid, Url, Method and the callbacks are ignored, even if invalid.
    check(
        &MAIN,
        &[
            ("ApplicationSid", "AP0123456789abcdef0123456789abcdef"),
            ("Url", "not a url"),
            ("Method", "PUT"),
            ("StatusCallback", "x"),
            TO,
            FROM,
        ],
        &[],
    );
}

#[test]
fn callback_rules() {
    check(&MAIN, &[URL, ("StatusCallback", "https://www.myapp.com/events"), TO, FROM], &[]);
    check(&MAIN, &[URL, ("StatusCallback", "https://my_app.example.com/events"), TO, FROM], &[21609]);
    check(
        &MAIN,
        &[URL, ("StatusCallback", "https://www.myapp.com/events"), ("StatusCallbackMethod", "PATCH"), TO, FROM],
        &[21209],
    );
    for event in ["initiated", "ringing", "answered", "completed"] {
        check(&MAIN, &[URL, ("StatusCallbackEvent", event), TO, FROM], &[]);
    }
    check(&MAIN, &[URL, ("StatusCallbackEvent", "in-progress"), TO, FROM], &[21626]);
    check(&MAIN, &[URL, ("StatusCallbackEvent", "initiated"), ("StatusCallbackEvent", "queued"), TO, FROM], &[21626]);
}

#[test]
fn digits_and_timeout_rules() {
    for digits in ["1234#", "W1234#", "wwww1234", "ABCD*#0", &"1".repeat(32)] {
        check(&MAIN, &[URL, ("SendDigits", digits), TO, FROM], &[]);
    }
    for digits in ["12x4", "1234 ", &"1".repeat(33), ""] {
        check(&MAIN, &[URL, ("SendDigits", digits), TO, FROM], &[21206]);
    }
    check(&MAIN, &[URL, ("Timeout", "600"), TO, FROM], &[]);
    check(&MAIN, &[URL, ("Timeout", "1"), TO, FROM], &[]);
    check(&MAIN, &[URL, ("Timeout", "ten"), TO, FROM], &[21208]);
    check(&MAIN, &[URL, ("Timeout", "601"), TO, FROM], &[21208]);
}

#[test]
fn remaining_create_parameter_rules() {
    const SIP: (&str, &str) = ("To", "sip:kate@example.com");
    let valid = [
        ("CallerId", "+15017122661"),
        ("Trim", "do-not-trim"),
        ("CallReason", "Your appointment tomorrow"),
        ("RecordingTrack", "inbound"),
        ("RecordingStatusCallbackMethod", "GET"),
        ("TimeLimit", "60"),
        ("CallToken", "an opaque token"),
    ];
    for pair in valid {
        check(&MAIN, &[URL, pair, TO, FROM], &[]);
    }
    check(&MAIN, &[URL, ("Trim", "trim"), TO, FROM], &[21200]);
    check(&MAIN, &[URL, ("RecordingTrack", "left"), TO, FROM], &[21200]);
    check(&MAIN, &[URL, ("TimeLimit", "0"), TO, FROM], &[21200]);
    check(&MAIN, &[URL, ("SipAuthUsername", "kate"), ("SipAuthPassword", "secret"), SIP, FROM], &[]);
    check(&MAIN, &[URL, ("SipAuthUsername", "kate"), SIP, FROM], &[21225]);
    check(&MAIN, &[URL, ("SipAuthPassword", "secret"), SIP, FROM], &[]);
    let (long, longest) = ("u".repeat(256), "u".repeat(255));
    check(&MAIN, &[URL, ("SipAuthUsername", &longest), ("SipAuthPassword", &longest), SIP, FROM], &[]);
    check(&MAIN, &[URL, ("SipAuthUsername", &long), ("SipAuthPassword", "secret"), SIP, FROM], &[21221]);
    check(&MAIN, &[URL, ("SipAuthUsername", "kate"), ("SipAuthPassword", &long), SIP, FROM], &[21223]);
    let byoc = "BYaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    check(&MAIN, &[URL, ("Byoc", byoc), SIP, FROM], &[]);
    check(&MAIN, &[URL, ("Byoc", byoc), ("To", "client:charlie"), FROM], &[]);
    check(&MAIN, &[URL, ("Byoc", byoc), TO, FROM], &[21300]);
    for malformed in ["BY123", "TKaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "BYgggggggggggggggggggggggggggggggg"] {
        check(&MAIN, &[URL, ("Byoc", malformed), SIP, FROM], &[21300]);
    }
}

#[test]
fn recording_rules() {
    check(&MAIN, &[URL, ("Record", "true"), ("RecordingChannels", "dual"), TO, FROM], &[]);
    check(&MAIN, &[URL, ("Record", "yes"), TO, FROM], &[21200]);
    check(
        &MAIN,
        &[URL, ("Record", "true"), ("RecordingStatusCallbackEvent", "in-progress completed absent"), TO, FROM],
        &[],
    );
    check(&MAIN, &[URL, ("Record", "true"), ("RecordingStatusCallbackEvent", "started"), TO, FROM], &[21200]);
}

/// Answering machine detection (`docs/reference/calls-api-facts.md#answering-machine-detection`):
/// the two modes, the documented ranges of the tuning parameters (21234 outside them), the
/// async mode, and `SendDigits` turning detection off.
#[test]
fn machine_detection_rules() {
    check(&MAIN, &[URL, ("MachineDetection", "Enable"), TO, FROM], &[]);
    check(&MAIN, &[URL, ("MachineDetection", "DetectMessageEnd"), TO, FROM], &[]);
    check(&MAIN, &[URL, ("MachineDetection", "Maybe"), TO, FROM], &[21234]);
    for (name, low, high) in [
        ("MachineDetectionSpeechThreshold", "1000", "6000"),
        ("MachineDetectionSpeechEndThreshold", "500", "5000"),
        ("MachineDetectionSilenceTimeout", "2000", "10000"),
        ("MachineDetectionTimeout", "3", "60"),
    ] {
        check(&MAIN, &[URL, ("MachineDetection", "Enable"), (name, low), (name, high), TO, FROM], &[]);
    }
    for (name, bad) in [
        ("MachineDetectionSpeechThreshold", "999"),
        ("MachineDetectionSpeechThreshold", "6001"),
        ("MachineDetectionSpeechEndThreshold", "499"),
        ("MachineDetectionSpeechEndThreshold", "5001"),
        ("MachineDetectionSilenceTimeout", "1999"),
        ("MachineDetectionSilenceTimeout", "10001"),
        ("MachineDetectionSilenceTimeout", "five"),
    ] {
        check(&MAIN, &[URL, ("MachineDetection", "Enable"), (name, bad), TO, FROM], &[21234]);
    }
    let async_amd = [
        URL,
        ("MachineDetection", "Enable"),
        ("AsyncAmd", "true"),
        ("AsyncAmdStatusCallback", "https://www.myapp.com/amd"),
        ("AsyncAmdStatusCallbackMethod", "GET"),
        TO,
        FROM,
    ];
    check(&MAIN, &async_amd, &[]);
    check(&MAIN, &[URL, ("MachineDetection", "Enable"), ("AsyncAmd", "sometimes"), TO, FROM], &[21200]);
    check(&MAIN, &[URL, ("MachineDetection", "Enable"), ("AsyncAmdStatusCallbackMethod", "PUT"), TO, FROM], &[21209]);
    // No callback URL at all is no error (21262 is a warning).
    check(&MAIN, &[URL, ("MachineDetection", "Enable"), ("AsyncAmd", "true"), TO, FROM], &[]);
    let parse = |form: &[(&str, &str)]| CreateCallParams::parse(&Form::from_pairs(form.iter().copied()), &MAIN).value;
    let parsed = parse(&async_amd);
    assert!(parsed.machine_detection().is_some_and(|a| a.async_amd));
    assert_eq!(CreateCallParams::parse(&parsed.to_form(), &MAIN).value, parsed, "encodes back");
    assert!(
        parse(&[URL, ("MachineDetection", "Enable"), ("SendDigits", "1234"), TO, FROM]).machine_detection().is_none()
    );
    assert!(parse(&[URL, TO, FROM]).machine_detection().is_none());
}

#[test]
fn every_violation_is_reported_not_just_the_first() {
    check(
        &MAIN,
        &[("Method", "PUT"), ("SendDigits", "xyz"), ("Timeout", "-1")],
        &[21201, 21213, 21205, 21209, 21206, 21208],
    );
}

#[test]
fn list_parameters_parse_from_repeated_keys_and_spaces_and_encode_back() {
    let form = Form::from_pairs([
        URL,
        TO,
        FROM,
        ("StatusCallbackEvent", "initiated"),
        ("StatusCallbackEvent", "answered"),
        ("Record", "true"),
        ("RecordingStatusCallbackEvent", "in-progress completed"),
        ("RecordingStatusCallbackEvent", "absent"),
    ]);
    let params = CreateCallParams::parse(&form, &MAIN).into_result().expect("valid");
    assert_eq!(params.status_callback_events.iter().map(|e| e.as_str()).collect::<Vec<_>>(), ["initiated", "answered"]);
    assert_eq!(
        params.recording_status_callback_events.iter().map(|e| e.as_str()).collect::<Vec<_>>(),
        ["in-progress", "completed", "absent"]
    );
    let encoded = params.to_form();
    assert_eq!(encoded.all("StatusCallbackEvent"), ["initiated", "answered"]);
    assert_eq!(encoded.all("RecordingStatusCallbackEvent"), ["in-progress", "completed", "absent"]);
    assert_eq!(encoded.get("Record"), Some("true"));
    assert_eq!(CreateCallParams::parse(&encoded, &MAIN).into_result(), Ok(params));
}

#[test]
fn update_rules() {
    let codes =
        |form: &[(&str, &str)]| match UpdateCallParams::parse(&Form::from_pairs(form.iter().copied())).into_result() {
            Ok(_) => vec![],
            Err(v) => v.iter().map(|v| v.error.code).collect::<Vec<_>>(),
        };
    assert_eq!(codes(&[("Status", "canceled")]), Vec::<u32>::new());
    assert_eq!(codes(&[("Status", "completed")]), Vec::<u32>::new());
    assert_eq!(codes(&[("Url", "https://example.com/next.xml"), ("Method", "GET")]), Vec::<u32>::new());
    assert_eq!(codes(&[("Status", "ringing")]), [21200]);
    assert_eq!(codes(&[("Url", "example.com/next.xml")]), [21205]);
    assert_eq!(codes(&[("Url", "https://example.com/next.xml"), ("Method", "PUT")]), [21209]);
    assert_eq!(codes(&[("Url", "https://example.com/x"), ("Twiml", "<Response/>")]), [21200]);
    assert_eq!(codes(&[("Twiml", "<Response><Pause/></Response>")]), Vec::<u32>::new());
    assert_eq!(codes(&[("TimeLimit", "60")]), Vec::<u32>::new());
    assert_eq!(codes(&[("TimeLimit", "0")]), [21200]);
    assert_eq!(codes(&[("TimeLimit", "sixty")]), [21200]);
    let params = UpdateCallParams::parse(&Form::from_pairs([("Url", "https://example.com/x"), ("Method", "GET")]))
        .into_result()
        .expect("valid");
    assert_eq!(UpdateCallParams::parse(&params.to_form()).into_result(), Ok(params));
}

/// The docs' example outputs (`fixtures/schema-examples/seed-*.json`, literal copies of the
/// seed with its placeholder SIDs) deserialize into `Call` once the placeholders are hex, and
/// serialize back to exactly the same JSON: field names, `null`s, string `duration`, `price`
/// and `queue_time` kept.
#[test]
fn seed_example_outputs_round_trip_through_call() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/schema-examples");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("fixtures/schema-examples") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("readable");
        let text = text
            .replace("ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", "AC0123456789abcdef0123456789abcdef")
            .replace("CAXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", "CAfedcba9876543210fedcba9876543210")
            .replace("PNXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", "PN00112233445566778899aabbccddeeff");
        let original: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        let call: callspec_model::Call =
            serde_json::from_value(original.clone()).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(call.duration.as_deref(), Some("15"), "{}", path.display());
        assert_eq!(call.queue_time.as_deref(), Some("1000"));
        assert_eq!(call.price.as_deref(), Some("-0.03000"));
        assert_eq!(call.status, callspec_model::CallStatus::Completed);
        assert!(call.sid().is_ok() && call.account_sid().is_ok());
        assert_eq!(serde_json::to_value(&call).expect("serializes"), original, "{} round trip", path.display());
        seen += 1;
    }
    assert_eq!(seen, 4, "the four distinct example outputs of the seed");
}

/// A Call missing a field, or with a numeric `duration`, is refused.
#[test]
fn call_deserialization_refuses_missing_fields_and_numbers() {
    let json = serde_json::json!({"sid": "CA0123456789abcdef0123456789abcdef", "status": "queued"});
    assert!(serde_json::from_value::<callspec_model::Call>(json).is_err());
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/schema-examples/seed-phone.json");
    let mut value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir).expect("readable")).expect("JSON");
    value["duration"] = serde_json::json!(15);
    assert!(serde_json::from_value::<callspec_model::Call>(value).is_err());
}
