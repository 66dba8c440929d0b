//! The Call Event schemas (`call-event`, `call-event-page`) against Twilio's OpenAPI example of
//! ListCallEvent (its `readFull` and `readEmpty` pages), the emulator's unanswered-request form,
//! and bodies each keyword must refuse.

use crate::schemas::{Expect, check, set};
use serde_json::{Value, json};

use Expect::{Fails, Valid};

const LIST: &str = "/2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Calls/CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Events.json?PageSize=50&Page=0";

/// The one event of the OpenAPI `readFull` example: the REST create itself.
fn create_event() -> Value {
    json!({
        "request": {
            "method": "POST",
            "url": "https://api.twilio.com/2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Calls/CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.json",
            "parameters": {
                "status_callback_method": "POST", "twiml": "<Response><Say>Hi!</Say></Response>",
                "trim": "trim-silence", "timeout": "55", "method": "POST", "from": "+987654321",
                "to": "+123456789", "account_sid": "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                "machine_detection_timeout": "0"
            }
        },
        "response": {
            "response_code": 201, "request_duration": 50, "content_type": "application/json",
            "response_body": "{\"sid\": \"CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
            "date_created": "Tue, 11 Aug 2020 17:44:08 +0000"
        }
    })
}

fn page(events: Vec<Value>) -> Value {
    json!({
        "events": events, "end": 0, "first_page_uri": LIST, "next_page_uri": null, "page": 0,
        "page_size": 50, "previous_page_uri": null, "start": 0, "uri": LIST
    })
}

#[test]
fn the_openapi_examples_validate() {
    check("readFull's event", "call-event", &create_event(), Valid);
    check("readFull", "call-event-page", &page(vec![create_event()]), Valid);
    check("readEmpty", "call-event-page", &page(Vec::new()), Valid);
}

#[test]
fn nullability_is_the_openapis_and_no_stricter() {
    check("null request and response", "call-event", &json!({"request": null, "response": null}), Valid);
    check("an empty event (nothing is required)", "call-event", &json!({}), Valid);
    let unanswered = set(
        &create_event(),
        "response",
        json!({"response_code": null, "content_type": null, "response_body": null, "request_duration": 15000,
               "date_created": "Tue, 11 Aug 2020 17:44:08 +0000"}),
    );
    check("an unanswered request", "call-event", &unanswered, Valid);
    check("an added key", "call-event", &set(&create_event(), "sid", json!("x")), Valid);
}

#[test]
fn wrong_types_are_refused() {
    let mut event = create_event();
    event["response"]["response_code"] = json!("201");
    check("a string response_code", "call-event", &event, Fails { at: "/response/response_code", naming: "" });
    let mut event = create_event();
    event["response"]["request_duration"] = json!(50.5);
    check(
        "a fractional request_duration",
        "call-event",
        &event,
        Fails { at: "/response/request_duration", naming: "" },
    );
    let mut event = create_event();
    event["response"]["date_created"] = json!("2020-08-11T17:44:08Z");
    check("an ISO date", "call-event", &event, Fails { at: "/response/date_created", naming: "" });
    let mut event = create_event();
    event["request"]["parameters"] = json!([["call_sid", "CA"]]);
    check("parameters as pairs", "call-event", &event, Fails { at: "/request/parameters", naming: "" });
    let bad = page(vec![json!({"request": "POST /voice"})]);
    check("an event whose request is text", "call-event-page", &bad, Fails { at: "/events/0/request", naming: "" });
    let mut no_key = page(Vec::new());
    no_key.as_object_mut().map(|o| o.remove("events"));
    check("no events key", "call-event-page", &no_key, Fails { at: "", naming: "events" });
}
