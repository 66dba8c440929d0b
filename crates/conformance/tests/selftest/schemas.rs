//! The JSON Schemas under `schemas/` and their validator: the seed's example outputs pass, literal bad bodies fail at the expected pointer, and with format assertion off (any other validator) the SID and date patterns alone still hold.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use callspec_conformance::schema::{CUSTOM_FORMATS, SchemaError, SchemaSet};
use callspec_model::rfc2822;
use callspec_model::sid::{Sid, SidKind};
use jsonschema::{Registry, Validator};
use serde_json::{Value, json};

/// Hex SIDs standing in for the docs' `XX…` placeholders (prefix + 32 hex digits).
const AC: &str = "AC0123456789abcdef0123456789abcdef";
const CA: &str = "CAfedcba9876543210fedcba9876543210";
const PN: &str = "PN00112233445566778899aabbccddeeff";
const RE: &str = "RE0f1e2d3c4b5a69788796a5b4c3d2e1f0";

/// The four distinct example outputs of the seed (Making Calls guide). The Record example
/// repeats the phone one, both StatusCallback examples repeat the SendDigits one.
const SEED_EXAMPLES: [&str; 4] = ["seed-phone", "seed-client", "seed-sip", "seed-send-digits"];

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn schemas() -> &'static SchemaSet {
    static SET: OnceLock<SchemaSet> = OnceLock::new();
    SET.get_or_init(|| SchemaSet::load(&repo_root().join("schemas")).expect("schemas/ loads"))
}

/// The literal doc text of a seed example, placeholders included.
fn seed_text(name: &str) -> String {
    let path = repo_root().join("fixtures/schema-examples").join(format!("{name}.json"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Replaces the docs' placeholder SIDs (`ACXXXX…`, `CAXXXX…`, `PNXXXX…`) by hex ones.
fn with_hex_sids(text: &str) -> String {
    let x32 = "X".repeat(32);
    [AC, CA, PN].iter().fold(text.to_owned(), |text, sid| text.replace(&format!("{}{x32}", &sid[..2]), sid))
}

fn parse(text: &str) -> Value {
    serde_json::from_str(text).expect("valid JSON")
}

/// The seed's phone example with hex SIDs: a valid Call body to mutate.
fn call() -> Value {
    parse(&with_hex_sids(&seed_text("seed-phone")))
}

fn set(base: &Value, key: &str, value: Value) -> Value {
    let mut v = base.clone();
    v[key] = value;
    v
}

fn without(base: &Value, key: &str) -> Value {
    let mut v = base.clone();
    v.as_object_mut().expect("an object").remove(key);
    v
}

use Expect::{Fails, Valid};

#[derive(Debug, Clone, Copy)]
enum Expect {
    Valid,
    /// Some violation is at this instance pointer and its message contains this text.
    Fails {
        at: &'static str,
        naming: &'static str,
    },
}

fn check(label: &str, schema: &str, instance: &Value, expect: Expect) {
    let violations = schemas().validate(schema, instance).expect("known schema");
    let listing: Vec<String> = violations.iter().map(ToString::to_string).collect();
    match expect {
        Valid => assert!(violations.is_empty(), "{label}: expected valid against {schema}, got {listing:#?}"),
        Fails { at, naming } => assert!(
            violations.iter().any(|v| v.instance_pointer == at && v.message.contains(naming)),
            "{label}: expected a violation at {at:?} naming {naming:?} against {schema}, got {listing:#?}"
        ),
    }
}

#[test]
fn the_set_holds_the_expected_schemas() {
    let names: Vec<&str> = schemas().names().collect();
    for name in ["call", "call-page", "error", "recording-callback", "status-callback"] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    match schemas().validate("no-such-schema", &json!({})) {
        Err(SchemaError::UnknownSchema { name, .. }) => assert_eq!(name, "no-such-schema"),
        other => panic!("expected UnknownSchema, got {other:?}"),
    }
}

#[test]
fn seed_examples_validate_once_their_placeholder_sids_are_hex() {
    for name in SEED_EXAMPLES {
        let text = seed_text(name);
        assert!(text.contains("CAXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"), "{name}: stored with the doc's placeholders");
        check(name, "call", &parse(&with_hex_sids(&text)), Valid);
        // The literal doc text has placeholder SIDs, which the strict SID formats refuse.
        let literal = parse(&text);
        for at in ["/sid", "/account_sid", "/phone_number_sid", "/uri", "/subresource_uris/recordings"] {
            check(&format!("{name} (placeholders)"), "call", &literal, Fails { at, naming: "" });
        }
    }
}

#[test]
fn call_bodies() {
    let c = call();
    let fresh = {
        let mut v = c.clone();
        for key in ["start_time", "end_time", "duration", "price", "forwarded_from", "phone_number_sid"] {
            v[key] = Value::Null;
        }
        v["status"] = json!("queued");
        v["direction"] = json!("outbound-api");
        v
    };
    let mut with_transcriptions = c.clone();
    with_transcriptions["subresource_uris"]["transcriptions"] =
        json!(format!("/2010-04-01/Accounts/{AC}/Calls/{CA}/Transcriptions.json"));
    let mut bad_transcriptions = c.clone();
    bad_transcriptions["subresource_uris"]["transcriptions"] =
        json!(format!("/2010-04-01/Accounts/{AC}/Calls/{CA}/Recordings.json"));
    let mut missing_recordings = c.clone();
    missing_recordings["subresource_uris"].as_object_mut().expect("object").remove("recordings");

    let cases: Vec<(&str, Value, Expect)> = vec![
        ("seed phone example", c.clone(), Valid),
        ("fresh queued outbound call with nulls", fresh, Valid),
        ("extra key allowed", set(&c, "annotation", Value::Null), Valid),
        ("transcriptions present and right", with_transcriptions, Valid),
        (
            "transcriptions pointing elsewhere",
            bad_transcriptions,
            Fails { at: "/subresource_uris/transcriptions", naming: "" },
        ),
        ("recordings subresource missing", missing_recordings, Fails { at: "/subresource_uris", naming: "recordings" }),
        ("queue_time missing", without(&c, "queue_time"), Fails { at: "", naming: "queue_time" }),
        ("to missing", without(&c, "to"), Fails { at: "", naming: "\"to\"" }),
        ("duration as a number", set(&c, "duration", json!(15)), Fails { at: "/duration", naming: "15" }),
        ("duration not digits", set(&c, "duration", json!("15s")), Fails { at: "/duration", naming: "" }),
        ("price as a number", set(&c, "price", json!(-0.03)), Fails { at: "/price", naming: "" }),
        ("queue_time as a number", set(&c, "queue_time", json!(1000)), Fails { at: "/queue_time", naming: "" }),
        ("price_unit lower case", set(&c, "price_unit", json!("usd")), Fails { at: "/price_unit", naming: "" }),
        ("sid with 31 hex digits", set(&c, "sid", json!(&CA[..33])), Fails { at: "/sid", naming: "" }),
        (
            "sid with the wrong prefix",
            set(&c, "sid", json!(format!("AC{}", &CA[2..]))),
            Fails { at: "/sid", naming: "" },
        ),
        ("sid null", set(&c, "sid", Value::Null), Fails { at: "/sid", naming: "" }),
        (
            "parent_call_sid not hex",
            set(&c, "parent_call_sid", json!(format!("CA{}", "g".repeat(32)))),
            Fails { at: "/parent_call_sid", naming: "" },
        ),
        ("group_sid of another kind", set(&c, "group_sid", json!(PN)), Fails { at: "/group_sid", naming: "" }),
        (
            "ISO 8601 date_created",
            set(&c, "date_created", json!("2010-08-31T20:36:28Z")),
            Fails { at: "/date_created", naming: "rfc2822" },
        ),
        ("status null", set(&c, "status", Value::Null), Fails { at: "/status", naming: "" }),
        ("status answered", set(&c, "status", json!("answered")), Fails { at: "/status", naming: "" }),
        (
            "direction with underscore",
            set(&c, "direction", json!("outbound_api")),
            Fails { at: "/direction", naming: "" },
        ),
        // An inbound call carries the API version its number is configured with.
        ("api_version of an inbound call", set(&c, "api_version", json!("2008-08-01")), Valid),
        ("api_version not a version", set(&c, "api_version", json!("v1")), Fails { at: "/api_version", naming: "" }),
        // Real creates answered null dates (2014, 2016, 2025); the OpenAPI marks them nullable.
        (
            "date_created and date_updated null",
            set(&set(&c, "date_created", Value::Null), "date_updated", Value::Null),
            Valid,
        ),
        // A real fetch carried trunk_sid "", real lists phone_number_sid "".
        ("trunk_sid empty", set(&c, "trunk_sid", json!("")), Valid),
        ("phone_number_sid empty", set(&c, "phone_number_sid", json!("")), Valid),
        ("trunk_sid of another kind", set(&c, "trunk_sid", json!(PN)), Fails { at: "/trunk_sid", naming: "" }),
        (
            "phone_number_sid blank",
            set(&c, "phone_number_sid", json!(" ")),
            Fails { at: "/phone_number_sid", naming: "" },
        ),
        ("group_sid empty", set(&c, "group_sid", json!("")), Fails { at: "/group_sid", naming: "" }),
        (
            "uri of another call",
            set(&c, "uri", json!(format!("/2010-04-01/Accounts/{AC}/Calls/{PN}.json"))),
            Fails { at: "/uri", naming: "" },
        ),
    ];
    for (label, instance, expect) in &cases {
        check(label, "call", instance, *expect);
    }
}

#[test]
fn rfc2822_format() {
    let c = call();
    let cases = [
        ("Tue, 31 Aug 2010 20:36:28 +0000", Valid),
        ("Tue, 31 Aug 2010 20:36:28 GMT", Fails { at: "/date_created", naming: "rfc2822" }),
        ("2010-08-31T20:36:28Z", Fails { at: "/date_created", naming: "rfc2822" }),
    ];
    for (date, expect) in cases {
        check(date, "call", &set(&c, "date_created", json!(date)), expect);
    }
}

#[test]
fn error_bodies() {
    let ok = json!({
        "code": 21201,
        "message": "No to number is specified",
        "more_info": "https://www.twilio.com/docs/errors/21201",
        "status": 400
    });
    let cases: Vec<(&str, Value, Expect)> = vec![
        ("21201 body", ok.clone(), Valid),
        ("with detail", set(&ok, "detail", json!("Your AccountSid or AuthToken was incorrect.")), Valid),
        ("code as a string", set(&ok, "code", json!("21201")), Fails { at: "/code", naming: "" }),
        (
            "more_info over http",
            set(&ok, "more_info", json!("http://www.twilio.com/docs/errors/21201")),
            Fails { at: "/more_info", naming: "" },
        ),
        ("status 200", set(&ok, "status", json!(200)), Fails { at: "/status", naming: "" }),
        ("message missing", without(&ok, "message"), Fails { at: "", naming: "message" }),
    ];
    for (label, instance, expect) in &cases {
        check(label, "error", instance, *expect);
    }
}

#[test]
fn status_callback_parameters() {
    // Shape of the third-party sample in `docs/reference/calls-api-facts.md#status-callback-parameters`,
    // with hex SIDs.
    let ok = json!({
        "AccountSid": AC,
        "ApiVersion": "2010-04-01",
        "CallSid": CA,
        "CallStatus": "completed",
        "CallbackSource": "call-progress-events",
        "Called": "+14155551212",
        "CalledCity": "SAN FRANCISCO",
        "Caller": "+15017122661",
        "CallDuration": "10",
        "Direction": "outbound-api",
        "Duration": "1",
        "From": "+15017122661",
        "SequenceNumber": "0",
        "Timestamp": "Fri, 08 Jan 2016 17:18:38 +0000",
        "To": "+14155551212",
        "ToCountry": "US",
        "AnsweredBy": "human"
    });
    let cases: Vec<(&str, Value, Expect)> = vec![
        ("completed callback", ok.clone(), Valid),
        ("CallStatus answered", set(&ok, "CallStatus", json!("answered")), Fails { at: "/CallStatus", naming: "" }),
        ("ISO Timestamp", set(&ok, "Timestamp", json!("2016-01-08T17:18:38Z")), Fails { at: "/Timestamp", naming: "" }),
        (
            "SequenceNumber as a number",
            set(&ok, "SequenceNumber", json!(0)),
            Fails { at: "/SequenceNumber", naming: "" },
        ),
        // Progress-event parameters come as a set: one missing is refused, all three missing (the
        // default completed callback, documented with the standard parameters) is not.
        ("CallbackSource missing", without(&ok, "CallbackSource"), Fails { at: "", naming: "CallbackSource" }),
        ("SequenceNumber missing", without(&ok, "SequenceNumber"), Fails { at: "", naming: "SequenceNumber" }),
        (
            "no progress-event parameters",
            without(&without(&without(&ok, "CallbackSource"), "SequenceNumber"), "Timestamp"),
            Valid,
        ),
        ("Direction missing", without(&ok, "Direction"), Fails { at: "", naming: "Direction" }),
        (
            "placeholder CallSid",
            set(&ok, "CallSid", json!("CAXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX")),
            Fails { at: "/CallSid", naming: "" },
        ),
        ("geo value not a string", set(&ok, "ToCountry", json!(1)), Fails { at: "/ToCountry", naming: "" }),
        (
            "SipResponseCode of 4 digits",
            set(&ok, "SipResponseCode", json!("4040")),
            Fails { at: "/SipResponseCode", naming: "" },
        ),
    ];
    for (label, instance, expect) in &cases {
        check(label, "status-callback", instance, *expect);
    }
}

#[test]
fn recording_callback_parameters() {
    let ok = json!({
        "AccountSid": AC,
        "CallSid": CA,
        "RecordingSid": RE,
        "RecordingUrl": format!("https://api.twilio.com/2010-04-01/Accounts/{AC}/Recordings/{RE}"),
        "RecordingStatus": "completed",
        "RecordingDuration": "12",
        "RecordingChannels": "1",
        "RecordingSource": "OutboundAPI",
        "RecordingStartTime": "Fri, 08 Jan 2016 17:18:38 +0000",
        "RecordingTrack": "both"
    });
    let in_progress = ["RecordingUrl", "RecordingDuration", "RecordingChannels", "RecordingSource"]
        .into_iter()
        .fold(set(&ok, "RecordingStatus", json!("in-progress")), |body, key| without(&body, key));
    let cases: Vec<(&str, Value, Expect)> = vec![
        ("completed recording", ok.clone(), Valid),
        (
            "absent with ErrorCode",
            set(&set(&ok, "RecordingStatus", json!("absent")), "ErrorCode", json!("16101")),
            Valid,
        ),
        ("three channels", set(&ok, "RecordingChannels", json!("3")), Fails { at: "/RecordingChannels", naming: "" }),
        (
            "channels as a number",
            set(&ok, "RecordingChannels", json!(1)),
            Fails { at: "/RecordingChannels", naming: "" },
        ),
        ("RecordingSid of a call", set(&ok, "RecordingSid", json!(CA)), Fails { at: "/RecordingSid", naming: "" }),
        ("unknown source", set(&ok, "RecordingSource", json!("Api")), Fails { at: "/RecordingSource", naming: "" }),
        (
            "RecordingUrl not a URI",
            set(&ok, "RecordingUrl", json!("not a url")),
            Fails { at: "/RecordingUrl", naming: "" },
        ),
        ("RecordingDuration missing", without(&ok, "RecordingDuration"), Fails { at: "", naming: "RecordingDuration" }),
        ("RecordingUrl missing", without(&ok, "RecordingUrl"), Fails { at: "", naming: "RecordingUrl" }),
        (
            "RecordingDuration not seconds",
            set(&ok, "RecordingDuration", json!("-1")),
            Fails { at: "/RecordingDuration", naming: "" },
        ),
        // Only a completed recording has a file: the file's parameters are not required on
        // in-progress and absent callbacks, and not held to the completed values.
        ("in-progress without the file's parameters", in_progress.clone(), Valid),
        ("in-progress with RecordingDuration -1", set(&in_progress, "RecordingDuration", json!("-1")), Valid),
        ("absent without the file's parameters", set(&in_progress, "RecordingStatus", json!("absent")), Valid),
        (
            "absent without RecordingSid",
            without(&set(&in_progress, "RecordingStatus", json!("absent")), "RecordingSid"),
            Fails { at: "", naming: "RecordingSid" },
        ),
        (
            "RecordingStatus failed",
            set(&ok, "RecordingStatus", json!("failed")),
            Fails { at: "/RecordingStatus", naming: "" },
        ),
    ];
    for (label, instance, expect) in &cases {
        check(label, "recording-callback", instance, *expect);
    }
}

#[test]
fn call_pages() {
    let list = format!("/2010-04-01/Accounts/{AC}/Calls.json");
    let second = parse(&with_hex_sids(&seed_text("seed-client")));
    let ok = json!({
        "calls": [call(), second],
        "page": 0,
        "page_size": 2,
        "start": 0,
        "end": 1,
        "uri": format!("{list}?PageSize=2&Page=0"),
        "first_page_uri": format!("{list}?PageSize=2&Page=0"),
        "next_page_uri": format!("{list}?PageSize=2&Page=1&PageToken=PA{CA}"),
        "previous_page_uri": null
    });
    let mut bad_call = ok.clone();
    bad_call["calls"][1]["duration"] = json!(15);
    let cases: Vec<(&str, Value, Expect)> = vec![
        ("two calls", ok.clone(), Valid),
        ("last page", set(&ok, "next_page_uri", Value::Null), Valid),
        ("next_page_uri missing", without(&ok, "next_page_uri"), Fails { at: "", naming: "next_page_uri" }),
        ("a call inside fails through the $ref", bad_call, Fails { at: "/calls/1/duration", naming: "" }),
        ("negative page", set(&ok, "page", json!(-1)), Fails { at: "/page", naming: "" }),
        (
            "absolute uri",
            set(&ok, "uri", json!(format!("https://api.twilio.com{list}"))),
            Fails { at: "/uri", naming: "" },
        ),
    ];
    for (label, instance, expect) in &cases {
        check(label, "call-page", instance, *expect);
    }
}

/// The payload schemas (Twilio's shapes), as opposed to callspec's own `fixture` and `profile`.
const PAYLOAD_SCHEMAS: [&str; 5] = ["call", "call-page", "error", "recording-callback", "status-callback"];

/// The SID kind each `*-sid` format names; `rfc2822` is the only other custom format.
const SID_FORMATS: [(&str, SidKind); 7] = [
    ("call-sid", SidKind::Call),
    ("account-sid", SidKind::Account),
    ("phone-number-sid", SidKind::PhoneNumber),
    ("recording-sid", SidKind::Recording),
    ("application-sid", SidKind::Application),
    ("group-sid", SidKind::Group),
    ("trunk-sid", SidKind::Trunk),
];

fn schema_document(file: &str) -> Value {
    let path = repo_root().join("schemas").join(file);
    parse(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// The payload schemas as a validator that knows none of callspec's formats sees them:
/// format assertion off, so SIDs and dates are held by their `pattern` and `maxLength` alone.
fn patterns_only(name: &str) -> &'static Validator {
    static SET: OnceLock<BTreeMap<String, Validator>> = OnceLock::new();
    let set = SET.get_or_init(|| {
        let documents: Vec<(&str, Value)> =
            PAYLOAD_SCHEMAS.iter().map(|name| (*name, schema_document(&format!("{name}.schema.json")))).collect();
        let mut builder = Registry::new().retrieve_known_draft_meta_schemas(false);
        for (name, document) in &documents {
            let id = document["$id"].as_str().unwrap_or_else(|| panic!("{name} has an $id"));
            builder = builder.add(id, document.clone()).unwrap_or_else(|e| panic!("{name} registers: {e}"));
        }
        let registry = builder.prepare().expect("the payload schemas register");
        documents
            .iter()
            .map(|(name, document)| {
                let validator = jsonschema::options()
                    .with_registry(&registry)
                    .offline()
                    .should_validate_formats(false)
                    .build(document)
                    .unwrap_or_else(|e| panic!("{name} compiles with formats off: {e}"));
                ((*name).to_owned(), validator)
            })
            .collect()
    });
    set.get(name).unwrap_or_else(|| panic!("no payload schema {name}"))
}

/// [`check`] against [`patterns_only`].
fn check_without_formats(label: &str, schema: &str, instance: &Value, expect: Expect) {
    let violations: Vec<(String, String)> = patterns_only(schema)
        .iter_errors(instance)
        .map(|e| (e.instance_path().as_str().to_owned(), e.to_string()))
        .collect();
    match expect {
        Valid => assert!(
            violations.is_empty(),
            "{label}: expected valid against {schema} without formats, got {violations:#?}"
        ),
        Fails { at, naming } => assert!(
            violations.iter().any(|(pointer, message)| pointer == at && message.contains(naming)),
            "{label}: expected a violation at {at:?} naming {naming:?} against {schema} without formats, got {violations:#?}"
        ),
    }
}

fn status_callback_body() -> Value {
    json!({
        "AccountSid": AC, "ApiVersion": "2010-04-01", "CallSid": CA, "CallStatus": "completed",
        "CallbackSource": "call-progress-events", "Direction": "outbound-api", "From": "+15017122661",
        "To": "+14155551212", "SequenceNumber": "0", "Timestamp": "Fri, 08 Jan 2016 17:18:38 +0000",
        "ParentCallSid": CA, "RecordingSid": RE
    })
}

fn recording_callback_body() -> Value {
    json!({
        "AccountSid": AC, "CallSid": CA, "RecordingSid": RE,
        "RecordingUrl": format!("https://api.twilio.com/2010-04-01/Accounts/{AC}/Recordings/{RE}"),
        "RecordingStatus": "completed", "RecordingDuration": "12", "RecordingChannels": "1",
        "RecordingSource": "OutboundAPI", "RecordingStartTime": "Fri, 08 Jan 2016 17:18:38 +0000"
    })
}

/// With format assertion off (as in any validator without callspec's formats), the docs'
/// examples still pass and a 31-hex SID, a SID of another kind, an ISO 8601 date and a missing
/// required field still fail, in every payload schema where they apply.
#[test]
fn without_formats_the_patterns_alone_hold() {
    for name in SEED_EXAMPLES {
        let text = seed_text(name);
        check_without_formats(name, "call", &parse(&with_hex_sids(&text)), Valid);
        for at in ["/sid", "/account_sid", "/phone_number_sid"] {
            check_without_formats(&format!("{name} (placeholders)"), "call", &parse(&text), Fails { at, naming: "" });
        }
    }
    let (c, status, recording) = (call(), status_callback_body(), recording_callback_body());
    let gp = format!("GP{}", &CA[2..]);
    let tk = format!("TK{}", &AC[2..]);
    // (schema, a valid body, the pointer of a SID field, a valid SID for it)
    let sid_fields: [(&str, &Value, &'static str, &str); 13] = [
        ("call", &c, "/sid", CA),
        ("call", &c, "/account_sid", AC),
        ("call", &c, "/parent_call_sid", CA),
        ("call", &c, "/phone_number_sid", PN),
        ("call", &c, "/group_sid", &gp),
        ("call", &c, "/trunk_sid", &tk),
        ("status-callback", &status, "/CallSid", CA),
        ("status-callback", &status, "/AccountSid", AC),
        ("status-callback", &status, "/ParentCallSid", CA),
        ("status-callback", &status, "/RecordingSid", RE),
        ("recording-callback", &recording, "/AccountSid", AC),
        ("recording-callback", &recording, "/CallSid", CA),
        ("recording-callback", &recording, "/RecordingSid", RE),
    ];
    for (schema, body, at, sid) in sid_fields {
        let key = &at[1..];
        let other = if sid.starts_with("RE") { "CA" } else { "RE" };
        let cases = [
            ("a valid SID", sid.to_owned(), Valid),
            ("upper-case hex", format!("{}{}", &sid[..2], sid[2..].to_uppercase()), Valid),
            ("31 hex digits", sid[..33].to_owned(), Fails { at, naming: "" }),
            ("33 hex digits", format!("{sid}0"), Fails { at, naming: "" }),
            ("another kind's prefix", format!("{other}{}", &sid[2..]), Fails { at, naming: "" }),
            ("a trailing newline", format!("{sid}\n"), Fails { at, naming: "" }),
        ];
        for (label, value, expect) in cases {
            check_without_formats(&format!("{at}: {label}"), schema, &set(body, key, json!(value)), expect);
        }
    }
    let date_fields: [(&str, &Value, &'static str); 6] = [
        ("call", &c, "/date_created"),
        ("call", &c, "/date_updated"),
        ("call", &c, "/start_time"),
        ("call", &c, "/end_time"),
        ("status-callback", &status, "/Timestamp"),
        ("recording-callback", &recording, "/RecordingStartTime"),
    ];
    for (schema, body, at) in date_fields {
        let cases = [
            ("ISO 8601", "2010-08-31T20:36:28Z", Fails { at, naming: "" }),
            ("GMT", "Tue, 31 Aug 2010 20:36:28 GMT", Fails { at, naming: "" }),
            ("Twilio's shape", "Tue, 31 Aug 2010 20:36:28 +0000", Valid),
        ];
        for (label, value, expect) in cases {
            check_without_formats(&format!("{at}: {label}"), schema, &set(body, &at[1..], json!(value)), expect);
        }
    }
    let nulls = ["parent_call_sid", "phone_number_sid", "group_sid", "trunk_sid", "start_time", "end_time"]
        .into_iter()
        .fold(c.clone(), |body, key| set(&body, key, Value::Null));
    let mut page = json!({
        "calls": [c.clone()], "page": 0, "page_size": 1, "start": 0, "end": 0,
        "uri": format!("/2010-04-01/Accounts/{AC}/Calls.json?PageSize=1&Page=0"),
        "first_page_uri": format!("/2010-04-01/Accounts/{AC}/Calls.json?PageSize=1&Page=0"),
        "next_page_uri": null, "previous_page_uri": null
    });
    check_without_formats("a page of one call", "call-page", &page, Valid);
    let whole_page = page.clone();
    page["calls"][0]["sid"] = json!(&CA[..33]);
    let error = json!({"code": 21201, "message": "No to number is specified", "status": 400,
        "more_info": "https://www.twilio.com/docs/errors/21201"});
    let cases: Vec<(&str, &str, Value, Expect)> = vec![
        ("nullable SIDs and dates as null", "call", nulls, Valid),
        ("sid null", "call", set(&c, "sid", Value::Null), Fails { at: "/sid", naming: "" }),
        ("date_created null", "call", set(&c, "date_created", Value::Null), Valid),
        ("trunk_sid empty", "call", set(&c, "trunk_sid", json!("")), Valid),
        ("trunk_sid blank", "call", set(&c, "trunk_sid", json!(" ")), Fails { at: "/trunk_sid", naming: "" }),
        ("a call inside with 31 hex digits", "call-page", page, Fails { at: "/calls/0/sid", naming: "" }),
        ("sid missing", "call", without(&c, "sid"), Fails { at: "", naming: "\"sid\"" }),
        ("date_created missing", "call", without(&c, "date_created"), Fails { at: "", naming: "date_created" }),
        (
            "next_page_uri missing",
            "call-page",
            without(&whole_page, "next_page_uri"),
            Fails { at: "", naming: "next_page_uri" },
        ),
        ("CallSid missing", "status-callback", without(&status, "CallSid"), Fails { at: "", naming: "CallSid" }),
        ("Timestamp missing", "status-callback", without(&status, "Timestamp"), Fails { at: "", naming: "Timestamp" }),
        (
            "RecordingSid missing",
            "recording-callback",
            without(&recording, "RecordingSid"),
            Fails { at: "", naming: "RecordingSid" },
        ),
        ("code missing", "error", without(&error, "code"), Fails { at: "", naming: "code" }),
        // The control: formats really are off here (callspec's own validator refuses this URL).
        ("RecordingUrl not a URI", "recording-callback", set(&recording, "RecordingUrl", json!("not a url")), Valid),
    ];
    for (label, schema, instance, expect) in &cases {
        check_without_formats(label, schema, instance, *expect);
    }
    check(
        "RecordingUrl not a URI, formats on",
        "recording-callback",
        &set(&recording, "RecordingUrl", json!("not a url")),
        Fails { at: "/RecordingUrl", naming: "" },
    );
}

/// One `format` keyword naming a custom format, with the `pattern` and `maxLength` beside it.
struct FormatUse {
    file: String,
    pointer: String,
    format: String,
    pattern: Option<String>,
    max_length: Option<u64>,
}

/// Every use of a custom format in every schema file.
fn custom_format_uses() -> Vec<FormatUse> {
    fn walk(node: &Value, pointer: &str, file: &str, out: &mut Vec<FormatUse>) {
        match node {
            Value::Object(map) => {
                if let Some(format) = map.get("format").and_then(Value::as_str)
                    && CUSTOM_FORMATS.contains(&format)
                {
                    out.push(FormatUse {
                        file: file.to_owned(),
                        pointer: pointer.to_owned(),
                        format: format.to_owned(),
                        pattern: map.get("pattern").and_then(Value::as_str).map(str::to_owned),
                        max_length: map.get("maxLength").and_then(Value::as_u64),
                    });
                }
                for (key, value) in map {
                    if !matches!(key.as_str(), "const" | "enum" | "examples" | "default") {
                        walk(value, &format!("{pointer}/{key}"), file, out);
                    }
                }
            }
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    walk(item, &format!("{pointer}/{index}"), file, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    let mut files: Vec<String> = std::fs::read_dir(repo_root().join("schemas"))
        .expect("schemas/")
        .map(|entry| entry.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".schema.json"))
        .collect();
    files.sort();
    for file in files {
        walk(&schema_document(&file), "", &file, &mut out);
    }
    out
}

/// Each use of a custom format carries the pattern and maxLength a validator without that
/// format needs; the payload schemas keep them once, in `$defs`.
#[test]
fn every_custom_format_carries_its_pattern() {
    let uses = custom_format_uses();
    for name in PAYLOAD_SCHEMAS.iter().filter(|n| !matches!(**n, "call-page" | "error")) {
        assert!(uses.iter().any(|u| u.file == format!("{name}.schema.json")), "{name} uses no custom format any more?");
    }
    for FormatUse { file, pointer, format, pattern, max_length: max } in &uses {
        assert!(pattern.is_some() && max.is_some(), "{file}{pointer}: format {format} without pattern and maxLength");
        assert!(pointer.starts_with("/$defs/"), "{file}{pointer}: define {format} once in $defs and $ref it");
    }
}

/// The patterns accept what the model's formats accept and refuse what they refuse: exactly
/// for SIDs; for dates, only a real calendar date with its weekday is left to the format.
#[test]
fn patterns_agree_with_the_formats() {
    for format in CUSTOM_FORMATS {
        assert!(*format == "rfc2822" || SID_FORMATS.iter().any(|(f, _)| f == format), "{format} not in SID_FORMATS");
    }
    let mut seen = std::collections::BTreeSet::new();
    for FormatUse { file, pointer, format, pattern, max_length: max } in custom_format_uses() {
        let (Some(pattern), Some(max)) = (pattern, max) else { continue };
        if !seen.insert((format.clone(), pattern.clone(), max)) {
            continue;
        }
        let schema = json!({"type": "string", "pattern": pattern, "maxLength": max});
        let foreign = jsonschema::options().should_validate_formats(false).build(&schema).expect("compiles");
        let agrees = |s: &str, model_ok: bool| {
            assert_eq!(
                foreign.is_valid(&json!(s)),
                model_ok,
                "{file}{pointer}: {format} pattern {pattern:?} says {} for {s:?}, the format says {model_ok}",
                !model_ok
            );
        };
        if let Some((_, kind)) = SID_FORMATS.iter().find(|(f, _)| *f == format) {
            let mut samples = Vec::new();
            for any in SidKind::ALL {
                let sid = Sid::random(any).to_string();
                samples.push(sid.clone());
                samples.push(format!("{}{}", &sid[..2], sid[2..].to_uppercase()));
                samples.push(format!("{}{}", sid[..2].to_lowercase(), &sid[2..]));
                samples.push(sid[..33].to_owned());
                samples.push(format!("{sid}a"));
                samples.push(format!("{sid}\n"));
                samples.push(format!(" {sid}"));
                samples.push(format!("{}{}", &sid[..2], "X".repeat(32)));
                samples.push(format!("{}é", &sid[..32]));
            }
            samples.push(String::new());
            for s in &samples {
                agrees(s, Sid::parse_kind(s, *kind).is_ok());
            }
        } else {
            assert_eq!(format, "rfc2822");
            // Not stricter: every date the model writes, about every 2.3 days from 1970 to 2096,
            // plus the edges of the range and of the day.
            let mut stamps: Vec<i64> = (0..20_000).map(|i| i * 199_999 + 3_599).collect();
            stamps.extend([-62_135_596_800, 253_402_300_799, 951_782_400, 951_868_799]);
            for t in stamps {
                let at = time::OffsetDateTime::from_unix_timestamp(t).expect("in range");
                let text = rfc2822::format(at);
                agrees(&text, true);
            }
            // Not looser in ways that matter: shapes the model refuses.
            for bad in [
                "2010-08-31T20:36:28Z",
                "2010-08-31T20:36:28+00:00",
                "Tue, 31 Aug 2010 20:36:28 GMT",
                "Tue, 31 Aug 2010 20:36:28 +0100",
                "Tue, 31 Aug 2010 20:36:28 -0000",
                "Tue, 31 Aug 2010 20:36:28 Z",
                "Tue,  1 Aug 2010 20:36:28 +0000",
                "Tue, 1 Aug 2010 20:36:28 +0000",
                "Tue 31 Aug 2010 20:36:28 +0000",
                "tue, 31 Aug 2010 20:36:28 +0000",
                "Tue, 31 aug 2010 20:36:28 +0000",
                "Tue, 31 August 2010 20:36:28 +0000",
                "Tue, 31 Aug 10 20:36:28 +0000",
                "Tue, 31 Aug 2010 20:36 +0000",
                "Tue, 31 Aug 2010 24:00:00 +0000",
                "Tue, 31 Aug 2010 20:60:28 +0000",
                "Tue, 31 Aug 2010 20:36:60 +0000",
                "Tue, 00 Aug 2010 20:36:28 +0000",
                "Tue, 32 Aug 2010 20:36:28 +0000",
                "Tue, 31 Aug 2010 20:36:28 +0000\n",
                " Tue, 31 Aug 2010 20:36:28 +0000",
                "Tue, 31 Aug 2010 20:36:28 +0000 ",
                "",
            ] {
                agrees(bad, rfc2822::parse(bad).is_ok());
            }
            // The pattern's known limit, stated in the schemas: the calendar and the weekday.
            for gap in ["Mon, 31 Aug 2010 20:36:28 +0000", "Wed, 31 Feb 2010 20:36:28 +0000"] {
                assert!(rfc2822::parse(gap).is_err(), "{gap}");
                assert!(foreign.is_valid(&json!(gap)), "{gap}: the pattern checks the shape only");
            }
        }
    }
    assert!(seen.len() >= 7, "expected the six SID formats in use and rfc2822, found {seen:?}");
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> TempDir {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let path = std::env::temp_dir().join(format!("callspec-selftest-{label}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }

    fn write(&self, file: &str, schema: &Value) {
        std::fs::write(self.0.join(file), schema.to_string()).expect("write schema");
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn an_unknown_format_fails_to_load() {
    let dir = TempDir::new("unknown-format");
    dir.write(
        "odd.schema.json",
        &json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "https://callspec.dev/schemas/odd.schema.json",
            "type": "object",
            "properties": {
                "format": {"type": "string", "enum": [{"format": "not-a-keyword"}]},
                "to": {"type": "string", "format": "e164-phone-number"}
            }
        }),
    );
    match SchemaSet::load(&dir.0) {
        Err(e @ SchemaError::UnknownFormat { .. }) => {
            let SchemaError::UnknownFormat { pointer, format, path, .. } = &e else { unreachable!() };
            assert_eq!(format, "e164-phone-number");
            assert_eq!(pointer, "/properties/to/format");
            assert!(path.ends_with("odd.schema.json"), "{}", path.display());
            assert!(e.to_string().contains("e164-phone-number"), "{e}");
        }
        other => panic!("expected UnknownFormat, got {other:?}"),
    }
}

#[test]
fn a_ref_outside_the_set_fails_to_load_without_fetching() {
    let dir = TempDir::new("dangling-ref");
    dir.write(
        "dangling.schema.json",
        &json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "https://callspec.dev/schemas/dangling.schema.json",
            "$ref": "https://callspec.dev/schemas/absent.schema.json"
        }),
    );
    match SchemaSet::load(&dir.0) {
        Err(SchemaError::Compile { .. }) => {}
        other => panic!("expected Compile, got {other:?}"),
    }
}

#[test]
fn invalid_json_fails_to_load() {
    let dir = TempDir::new("invalid-json");
    std::fs::write(dir.0.join("broken.schema.json"), "{\"type\": ").expect("write");
    match SchemaSet::load(&dir.0) {
        Err(SchemaError::InvalidJson { path, .. }) => assert!(path.ends_with("broken.schema.json")),
        other => panic!("expected InvalidJson, got {other:?}"),
    }
}

/// Every profile shipped in `fixtures/targets/` loads and validates.
#[test]
fn shipped_profiles_load() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let schemas = SchemaSet::load(&root.join("schemas")).expect("schemas load");
    let mut seen = 0;
    for entry in std::fs::read_dir(root.join("fixtures/targets")).expect("fixtures/targets") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "toml") {
            callspec_conformance::profile::Profile::load(&path, &schemas)
                .unwrap_or_else(|e| panic!("{} does not load:\n{e}", path.display()));
            seen += 1;
        }
    }
    assert!(seen >= 2, "expected the reference and the example profile, found {seen}");
}
