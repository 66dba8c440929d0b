//! The Recording schemas (`recording`, `recording-page`) against the OpenAPI examples of both
//! forms (call and account) and against bodies each keyword must refuse.

use crate::schemas::{Expect, check, set, without};
use serde_json::{Value, json};

use Expect::{Fails, Valid};

const AC: &str = "AC0123456789abcdef0123456789abcdef";
const CA: &str = "CA0123456789abcdef0123456789abcdef";
const RE: &str = "RE0123456789abcdef0123456789abcdef";

/// The OpenAPI `create201` example of CreateCallRecording, with hex SIDs.
fn call_form() -> Value {
    json!({
        "account_sid": AC, "api_version": "2010-04-01", "call_sid": CA, "conference_sid": null, "channels": 2,
        "date_created": "Fri, 14 Oct 2016 21:56:34 +0000", "date_updated": "Fri, 14 Oct 2016 21:56:34 +0000",
        "start_time": "Fri, 14 Oct 2016 21:56:34 +0000", "price": null, "price_unit": null, "duration": null,
        "sid": RE, "source": "StartCallRecordingAPI", "status": "in-progress", "error_code": null,
        "encryption_details": null, "track": "both",
        "uri": format!("/2010-04-01/Accounts/{AC}/Calls/{CA}/Recordings/{RE}.json"),
    })
}

/// The OpenAPI `fetch` example of FetchRecording (the account form), with hex SIDs and no
/// encryption.
fn account_form() -> Value {
    let base = format!("/2010-04-01/Accounts/{AC}/Recordings/{RE}");
    json!({
        "account_sid": AC, "api_version": "2010-04-01", "call_sid": CA,
        "conference_sid": "CF0123456789abcdef0123456789abcdef", "channels": 1,
        "date_created": "Fri, 14 Oct 2016 21:56:34 +0000", "date_updated": "Fri, 14 Oct 2016 21:56:38 +0000",
        "start_time": "Fri, 14 Oct 2016 21:56:34 +0000", "price": "-0.00250", "price_unit": "USD", "duration": "4",
        "sid": RE, "source": "StartConferenceRecordingAPI", "status": "completed", "error_code": null,
        "uri": format!("{base}.json"),
        "subresource_uris": {
            "add_on_results": format!("{base}/AddOnResults.json"),
            "transcriptions": format!("{base}/Transcriptions.json"),
        },
        "encryption_details": null,
        "media_url": format!("http://api.twilio.com{base}"),
    })
}

#[test]
fn both_forms_of_the_openapi_examples_validate() {
    check("call form", "recording", &call_form(), Valid);
    check("account form", "recording", &account_form(), Valid);
    check("numeric price (the call form's schema)", "recording", &set(&call_form(), "price", json!(-0.0025)), Valid);
    check("running, duration -1", "recording", &set(&call_form(), "duration", json!("-1")), Valid);
    check("soft-deleted", "recording", &set(&account_form(), "status", json!("deleted")), Valid);
    check("absent with its code", "recording", &set(&account_form(), "error_code", json!(16101)), Valid);
}

#[test]
fn each_keyword_refuses_what_twilio_never_sends() {
    let call = call_form();
    let cases: Vec<(&str, Value, Expect)> = vec![
        ("numeric duration", set(&call, "duration", json!(4)), Fails { at: "/duration", naming: "" }),
        ("channels as a string", set(&call, "channels", json!("2")), Fails { at: "/channels", naming: "" }),
        ("unknown status", set(&call, "status", json!("recording")), Fails { at: "/status", naming: "" }),
        ("unknown source", set(&call, "source", json!("Api")), Fails { at: "/source", naming: "" }),
        ("CA sid", set(&call, "sid", json!(CA)), Fails { at: "/sid", naming: "" }),
        ("ISO date", set(&call, "start_time", json!("2016-10-14T21:56:34Z")), Fails { at: "/start_time", naming: "" }),
        ("string error_code", set(&call, "error_code", json!("16101")), Fails { at: "/error_code", naming: "" }),
        ("absolute uri", set(&call, "uri", json!("https://api.twilio.com/x.json")), Fails { at: "/uri", naming: "" }),
        ("no sid", without(&call, "sid"), Fails { at: "", naming: "sid" }),
        ("null status", set(&call, "status", Value::Null), Fails { at: "/status", naming: "" }),
    ];
    for (label, instance, expect) in &cases {
        check(label, "recording", instance, *expect);
    }
}

#[test]
fn the_page_holds_recordings_under_their_key() {
    let list = format!("/2010-04-01/Accounts/{AC}/Recordings.json");
    let page = json!({
        "recordings": [call_form(), account_form()],
        "page": 0, "page_size": 50, "start": 0, "end": 1,
        "uri": format!("{list}?PageSize=50&Page=0"), "first_page_uri": format!("{list}?PageSize=50&Page=0"),
        "next_page_uri": null, "previous_page_uri": null,
    });
    check("two recordings", "recording-page", &page, Valid);
    let mut bad = page.clone();
    bad["recordings"][1]["channels"] = json!("1");
    check(
        "a bad item fails through the $ref",
        "recording-page",
        &bad,
        Fails { at: "/recordings/1/channels", naming: "" },
    );
    check(
        "calls is not the key",
        "recording-page",
        &without(&page, "recordings"),
        Fails { at: "", naming: "recordings" },
    );
}
