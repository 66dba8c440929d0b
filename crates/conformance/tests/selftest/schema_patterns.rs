//! The payload schemas' patterns without callspec's formats: what a validator that ignores custom
//! formats still enforces, that every custom format carries its pattern, and that the patterns
//! agree with the model's own checks.

use crate::schemas::Expect::{Fails, Valid};
use crate::schemas::*;
use callspec_conformance::schema::CUSTOM_FORMATS;
use callspec_model::rfc2822;
use callspec_model::sid::{Sid, SidKind};
use jsonschema::{Registry, Validator};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::OnceLock;

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
