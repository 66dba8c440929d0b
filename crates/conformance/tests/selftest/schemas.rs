//! The JSON Schemas under `schemas/` and their validator: the seed's example outputs pass, literal bad bodies fail at the expected pointer, and with format assertion off (any other validator) the SID and date patterns alone still hold.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use callspec_conformance::schema::{SchemaError, SchemaSet};
use serde_json::{Value, json};

/// Hex SIDs standing in for the docs' `XX…` placeholders (prefix + 32 hex digits).
pub(crate) const AC: &str = "AC0123456789abcdef0123456789abcdef";
pub(crate) const CA: &str = "CAfedcba9876543210fedcba9876543210";
pub(crate) const PN: &str = "PN00112233445566778899aabbccddeeff";
pub(crate) const RE: &str = "RE0f1e2d3c4b5a69788796a5b4c3d2e1f0";

/// The four distinct example outputs of the seed (Making Calls guide). The Record example
/// repeats the phone one, both StatusCallback examples repeat the SendDigits one.
pub(crate) const SEED_EXAMPLES: [&str; 4] = ["seed-phone", "seed-client", "seed-sip", "seed-send-digits"];

pub(crate) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub(crate) fn schemas() -> &'static SchemaSet {
    static SET: OnceLock<SchemaSet> = OnceLock::new();
    SET.get_or_init(|| SchemaSet::load(&repo_root().join("schemas")).expect("schemas/ loads"))
}

/// The literal doc text of a seed example, placeholders included.
pub(crate) fn seed_text(name: &str) -> String {
    let path = repo_root().join("fixtures/schema-examples").join(format!("{name}.json"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Replaces the docs' placeholder SIDs (`ACXXXX…`, `CAXXXX…`, `PNXXXX…`) by hex ones.
pub(crate) fn with_hex_sids(text: &str) -> String {
    let x32 = "X".repeat(32);
    [AC, CA, PN].iter().fold(text.to_owned(), |text, sid| text.replace(&format!("{}{x32}", &sid[..2]), sid))
}

pub(crate) fn parse(text: &str) -> Value {
    serde_json::from_str(text).expect("valid JSON")
}

/// The seed's phone example with hex SIDs: a valid Call body to mutate.
pub(crate) fn call() -> Value {
    parse(&with_hex_sids(&seed_text("seed-phone")))
}

pub(crate) fn set(base: &Value, key: &str, value: Value) -> Value {
    let mut v = base.clone();
    v[key] = value;
    v
}

pub(crate) fn without(base: &Value, key: &str) -> Value {
    let mut v = base.clone();
    v.as_object_mut().expect("an object").remove(key);
    v
}

use Expect::{Fails, Valid};

#[derive(Debug, Clone, Copy)]
pub(crate) enum Expect {
    Valid,
    /// Some violation is at this instance pointer and its message contains this text.
    Fails {
        at: &'static str,
        naming: &'static str,
    },
}

pub(crate) fn check(label: &str, schema: &str, instance: &Value, expect: Expect) {
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
pub(crate) fn the_set_holds_the_expected_schemas() {
    let names: Vec<&str> = schemas().names().collect();
    for name in [
        "call",
        "call-page",
        "call-event",
        "call-event-page",
        "error",
        "recording",
        "recording-page",
        "recording-callback",
        "status-callback",
    ] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    match schemas().validate("no-such-schema", &json!({})) {
        Err(SchemaError::UnknownSchema { name, .. }) => assert_eq!(name, "no-such-schema"),
        other => panic!("expected UnknownSchema, got {other:?}"),
    }
}

#[test]
pub(crate) fn seed_examples_validate_once_their_placeholder_sids_are_hex() {
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
pub(crate) fn call_bodies() {
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
pub(crate) fn rfc2822_format() {
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
pub(crate) fn error_bodies() {
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
pub(crate) fn status_callback_parameters() {
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
pub(crate) fn recording_callback_parameters() {
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
pub(crate) fn call_pages() {
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
