"""Owns the second, independent validator of schemas/: Python's jsonschema, patterns only.

callspec's own validator (crates/conformance/src/schema.rs) checks SIDs and dates with custom
formats. Other validators ignore those formats, so the payload schemas repeat each rule as a
`pattern`. This script checks that the patterns alone hold: with jsonschema's Draft 2020-12
validator and NO format checker, the docs' example outputs (fixtures/schema-examples/, with
their placeholder SIDs replaced by hex ones, as the Rust schema tests do) are accepted, and
bodies with a 31-hex SID, a SID of the wrong kind, an ISO 8601 date or a missing required
field are rejected, at the expected place and for the expected keyword.

Usage: python schema_check.py REPO_ROOT
Prints one line per failed assertion and a closing `N passed, M failed`; exits 1 on any failure.
"""

import copy
import json
import sys
from pathlib import Path

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

ROOT = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2]

# Hex SIDs standing in for the docs' `XX…` placeholders: the same values as
# crates/conformance/tests/selftest/schemas.rs.
AC = "AC0123456789abcdef0123456789abcdef"
CA = "CAfedcba9876543210fedcba9876543210"
PN = "PN00112233445566778899aabbccddeeff"
RE = "RE0f1e2d3c4b5a69788796a5b4c3d2e1f0"
GP = "GP" + "0123456789abcdef" * 2
TK = "TK" + "fedcba9876543210" * 2

SEED_EXAMPLES = ["seed-phone", "seed-client", "seed-sip", "seed-send-digits"]
PAYLOAD_SCHEMAS = [
    "call", "call-page", "error", "status-callback", "recording-callback", "recording", "recording-page",
    "call-event", "call-event-page",
]

ISO_DATE = "2010-08-31T20:36:28Z"
DATE = "Tue, 31 Aug 2010 20:36:28 +0000"

passed = 0
failed = 0


def record(ok, label, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {label}{': ' + detail if detail else ''}")


def load_schemas():
    documents = {}
    for name in PAYLOAD_SCHEMAS:
        path = ROOT / "schemas" / f"{name}.schema.json"
        documents[name] = json.loads(path.read_text(encoding="utf-8"))
    registry = Registry().with_resources(
        (doc["$id"], Resource.from_contents(doc)) for doc in documents.values()
    )
    validators = {}
    for name, doc in documents.items():
        try:
            Draft202012Validator.check_schema(doc)
            record(True, f"{name}: a valid Draft 2020-12 schema")
        except Exception as e:  # noqa: BLE001 - any problem is a failed assertion
            record(False, f"{name}: a valid Draft 2020-12 schema", str(e).splitlines()[0])
        # No format_checker: `format` is an annotation only, so patterns must do the work.
        validators[name] = Draft202012Validator(doc, registry=registry)
    return documents, registry, validators


def seed_text(name):
    return (ROOT / "fixtures" / "schema-examples" / f"{name}.json").read_text(encoding="utf-8")


def with_hex_sids(text):
    for sid in (AC, CA, PN):
        text = text.replace(sid[:2] + "X" * 32, sid)
    return text


def pointer(error):
    return "".join(f"/{part}" for part in error.absolute_path)


def errors(validator, instance):
    return [(pointer(e), e.validator, e.message) for e in validator.iter_errors(instance)]


def expect_valid(validators, schema, label, instance):
    found = errors(validators[schema], instance)
    record(not found, f"{schema}: {label} is accepted", "; ".join(f"{p or '/'}: {m}" for p, _, m in found[:3]))


def expect_rejected(validators, schema, label, instance, at, keywords=("pattern",)):
    """Some error is at JSON pointer `at` and comes from one of `keywords`."""
    found = errors(validators[schema], instance)
    ok = any(p == at and k in keywords for p, k, _ in found)
    detail = f"expected a {'/'.join(keywords)} error at {at or '(root)'}, got " + (
        "; ".join(f"{p or '(root)'} [{k}]" for p, k, _ in found) or "no error"
    )
    record(ok, f"{schema}: {label} is rejected", "" if ok else detail)


def with_value(base, key, value):
    copy_ = copy.deepcopy(base)
    copy_[key] = value
    return copy_


def without(base, key):
    copy_ = copy.deepcopy(base)
    del copy_[key]
    return copy_


def call_checks(validators):
    for name in SEED_EXAMPLES:
        text = seed_text(name)
        expect_valid(validators, "call", f"{name} (hex SIDs)", json.loads(with_hex_sids(text)))
        # The literal doc text keeps the placeholders, which are not hex.
        expect_rejected(validators, "call", f"{name} (placeholder SIDs)", json.loads(text), "/sid")

    call = json.loads(with_hex_sids(seed_text("seed-phone")))
    good = [
        ("a SID in upper-case hex", with_value(call, "sid", "CA" + CA[2:].upper())),
        ("nullable SIDs and dates as null", {**call, "parent_call_sid": None, "phone_number_sid": None,
                                             "group_sid": None, "trunk_sid": None,
                                             "start_time": None, "end_time": None}),
        ("every nullable SID set", {**call, "parent_call_sid": CA, "group_sid": GP, "trunk_sid": TK}),
        ("a date on 29 Feb 2016", with_value(call, "date_created", "Mon, 29 Feb 2016 23:59:59 +0000")),
        # Real creates answered null dates; a real fetch trunk_sid "", real lists phone_number_sid "".
        ("date_created and date_updated null", {**call, "date_created": None, "date_updated": None}),
        ("trunk_sid and phone_number_sid empty", {**call, "trunk_sid": "", "phone_number_sid": ""}),
        ("api_version of an inbound call", with_value(call, "api_version", "2008-08-01")),
    ]
    for label, body in good:
        expect_valid(validators, "call", label, body)

    sid_fields = [("sid", CA), ("account_sid", AC), ("parent_call_sid", CA), ("phone_number_sid", PN),
                  ("group_sid", GP), ("trunk_sid", TK)]
    for field, sid in sid_fields:
        other = "RE" if sid[:2] != "RE" else "CA"
        # The SIDs that may also be "" fail their anyOf.
        kinds = ("pattern", "anyOf")
        expect_rejected(validators, "call", f"{field} with 31 hex digits", with_value(call, field, sid[:33]),
                        f"/{field}", kinds)
        expect_rejected(validators, "call", f"{field} with 33 hex digits", with_value(call, field, sid + "0"),
                        f"/{field}", kinds)
        expect_rejected(validators, "call", f"{field} with the prefix {other}",
                        with_value(call, field, other + sid[2:]), f"/{field}", kinds)
        expect_rejected(validators, "call", f"{field} with a trailing newline",
                        with_value(call, field, sid + "\n"), f"/{field}", ("pattern", "maxLength", "anyOf"))
    expect_rejected(validators, "call", "sid not hex", with_value(call, "sid", "CA" + "g" * 32), "/sid")
    expect_rejected(validators, "call", "sid null", with_value(call, "sid", None), "/sid", ("type",))

    for field in ("date_created", "date_updated", "start_time", "end_time"):
        expect_rejected(validators, "call", f"{field} in ISO 8601", with_value(call, field, ISO_DATE), f"/{field}")
    bad_dates = [
        ("GMT instead of +0000", "Tue, 31 Aug 2010 20:36:28 GMT"),
        ("another offset", "Tue, 31 Aug 2010 20:36:28 +0100"),
        ("a one-digit day", "Tue,  1 Aug 2010 20:36:28 +0000"),
        ("a lower-case month", "Tue, 31 aug 2010 20:36:28 +0000"),
        ("no seconds", "Tue, 31 Aug 2010 20:36 +0000"),
        ("hour 24", "Tue, 31 Aug 2010 24:00:00 +0000"),
        ("day 32", "Tue, 32 Aug 2010 20:36:28 +0000"),
        ("a trailing newline", DATE + "\n"),
    ]
    for label, date in bad_dates:
        expect_rejected(validators, "call", f"date_created with {label}", with_value(call, "date_created", date),
                        "/date_created", ("pattern", "maxLength"))
    expect_rejected(validators, "call", "date_created a number", with_value(call, "date_created", 1283286988),
                    "/date_created", ("type",))
    expect_rejected(validators, "call", "group_sid empty", with_value(call, "group_sid", ""), "/group_sid")

    for field in ("sid", "account_sid", "date_created", "to", "queue_time", "subresource_uris"):
        expect_rejected(validators, "call", f"{field} missing", without(call, field), "", ("required",))


def call_page_checks(validators):
    calls = [json.loads(with_hex_sids(seed_text(name))) for name in SEED_EXAMPLES]
    listing = f"/2010-04-01/Accounts/{AC}/Calls.json"
    page = {
        "calls": calls,
        "page": 0,
        "page_size": 4,
        "start": 0,
        "end": 3,
        "uri": f"{listing}?PageSize=4&Page=0",
        "first_page_uri": f"{listing}?PageSize=4&Page=0",
        "next_page_uri": f"{listing}?PageSize=4&Page=1&PageToken=PA{CA}",
        "previous_page_uri": None,
    }
    expect_valid(validators, "call-page", "a page of the four examples", page)
    bad = copy.deepcopy(page)
    bad["calls"][1]["sid"] = CA[:33]
    expect_rejected(validators, "call-page", "a call with a 31-hex sid", bad, "/calls/1/sid")
    bad = copy.deepcopy(page)
    bad["calls"][2]["account_sid"] = "CA" + AC[2:]
    expect_rejected(validators, "call-page", "a call with an account_sid of the wrong kind", bad, "/calls/2/account_sid")
    bad = copy.deepcopy(page)
    bad["calls"][3]["date_updated"] = ISO_DATE
    expect_rejected(validators, "call-page", "a call with an ISO 8601 date", bad, "/calls/3/date_updated")
    bad = copy.deepcopy(page)
    del bad["calls"][0]["sid"]
    expect_rejected(validators, "call-page", "a call without sid", bad, "/calls/0", ("required",))
    expect_rejected(validators, "call-page", "next_page_uri missing", without(page, "next_page_uri"), "",
                    ("required",))


def callback_checks(validators, schema, good, sid_fields, date_fields, required):
    expect_valid(validators, schema, "a complete callback", good)
    for field, sid in sid_fields:
        other = "RE" if sid[:2] != "RE" else "CA"
        expect_rejected(validators, schema, f"{field} with 31 hex digits", with_value(good, field, sid[:33]), f"/{field}")
        expect_rejected(validators, schema, f"{field} with the prefix {other}", with_value(good, field, other + sid[2:]),
                        f"/{field}")
        expect_rejected(validators, schema, f"{field} as a placeholder", with_value(good, field, sid[:2] + "X" * 32),
                        f"/{field}")
    for field in date_fields:
        expect_rejected(validators, schema, f"{field} in ISO 8601", with_value(good, field, ISO_DATE), f"/{field}")
        expect_rejected(validators, schema, f"{field} with GMT", with_value(good, field, DATE.replace("+0000", "GMT")),
                        f"/{field}")
    for field in required:
        expect_rejected(validators, schema, f"{field} missing", without(good, field), "", ("required",))


def status_callback_checks(validators):
    good = {
        "AccountSid": AC,
        "ApiVersion": "2010-04-01",
        "CallSid": CA,
        "CallStatus": "completed",
        "CallbackSource": "call-progress-events",
        "Called": "+14155551212",
        "Caller": "+15017122661",
        "CallDuration": "10",
        "Direction": "outbound-api",
        "Duration": "1",
        "From": "+15017122661",
        "ParentCallSid": CA,
        "RecordingSid": RE,
        "SequenceNumber": "0",
        "Timestamp": "Fri, 08 Jan 2016 17:18:38 +0000",
        "To": "+14155551212",
    }
    callback_checks(
        validators,
        "status-callback",
        good,
        [("CallSid", CA), ("AccountSid", AC), ("ParentCallSid", CA), ("RecordingSid", RE)],
        ["Timestamp"],
        ["CallSid", "AccountSid", "CallStatus", "Direction"],
    )
    # The progress-event parameters come as a set, or not at all (the default completed callback).
    for field in ("CallbackSource", "SequenceNumber", "Timestamp"):
        expect_rejected(validators, "status-callback", f"{field} alone missing", without(good, field), "",
                        ("dependentRequired",))
    bare = {k: v for k, v in good.items() if k not in ("CallbackSource", "SequenceNumber", "Timestamp")}
    expect_valid(validators, "status-callback", "a callback without the progress-event parameters", bare)


def recording_callback_checks(validators):
    good = {
        "AccountSid": AC,
        "CallSid": CA,
        "RecordingSid": RE,
        "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/{AC}/Recordings/{RE}",
        "RecordingStatus": "completed",
        "RecordingDuration": "12",
        "RecordingChannels": "1",
        "RecordingSource": "OutboundAPI",
        "RecordingStartTime": "Fri, 08 Jan 2016 17:18:38 +0000",
        "RecordingTrack": "both",
    }
    callback_checks(
        validators,
        "recording-callback",
        good,
        [("AccountSid", AC), ("CallSid", CA), ("RecordingSid", RE)],
        ["RecordingStartTime"],
        ["AccountSid", "CallSid", "RecordingSid", "RecordingStatus"],
    )
    # The file's parameters are due on completed only.
    for field in ("RecordingUrl", "RecordingDuration", "RecordingChannels", "RecordingSource"):
        expect_rejected(validators, "recording-callback", f"completed without {field}", without(good, field), "",
                        ("required",))
    bare = {k: v for k, v in good.items()
            if k not in ("RecordingUrl", "RecordingDuration", "RecordingChannels", "RecordingSource")}
    for status in ("in-progress", "absent"):
        expect_valid(validators, "recording-callback", f"{status} without the file's parameters",
                     {**bare, "RecordingStatus": status})
    expect_rejected(validators, "recording-callback", "completed with RecordingDuration -1",
                    with_value(good, "RecordingDuration", "-1"), "/RecordingDuration")


def recording_checks(validators):
    """The OpenAPI create201 example of CreateCallRecording (the call form) and a page of it."""
    good = {
        "account_sid": AC, "api_version": "2010-04-01", "call_sid": CA, "conference_sid": None, "channels": 2,
        "date_created": DATE, "date_updated": DATE, "start_time": DATE, "price": None, "price_unit": None,
        "duration": None, "sid": RE, "source": "StartCallRecordingAPI", "status": "in-progress",
        "error_code": None, "encryption_details": None, "track": "both",
        "uri": f"/2010-04-01/Accounts/{AC}/Calls/{CA}/Recordings/{RE}.json",
    }
    expect_valid(validators, "recording", "the create201 example", good)
    expect_valid(validators, "recording", "a completed one, duration \"4\"", with_value(good, "duration", "4"))
    expect_rejected(validators, "recording", "a 31-hex sid", with_value(good, "sid", RE[:33]), "/sid")
    expect_rejected(validators, "recording", "an ISO start_time", with_value(good, "start_time", ISO_DATE), "/start_time")
    expect_rejected(validators, "recording", "duration 4.5", with_value(good, "duration", "4.5"), "/duration")
    list_ = f"/2010-04-01/Accounts/{AC}/Recordings.json"
    page = {"recordings": [good], "page": 0, "page_size": 50, "start": 0, "end": 0, "uri": list_,
            "first_page_uri": list_, "next_page_uri": None, "previous_page_uri": None}
    expect_valid(validators, "recording-page", "a page of one recording", page)
    bad = copy.deepcopy(page)
    bad["recordings"][0]["call_sid"] = CA[:33]
    expect_rejected(validators, "recording-page", "a recording with a 31-hex call_sid", bad, "/recordings/0/call_sid")


def call_event_checks(validators):
    """Twilio's OpenAPI example of ListCallEvent (the REST create as its one event)."""
    event = {
        "request": {"method": "POST", "url": f"https://api.twilio.com/2010-04-01/Accounts/{AC}/Calls/{CA}.json",
                    "parameters": {"to": "+123456789", "from": "+987654321", "account_sid": AC}},
        "response": {"response_code": 201, "request_duration": 50, "content_type": "application/json",
                     "response_body": "{}", "date_created": "Tue, 11 Aug 2020 17:44:08 +0000"},
    }
    expect_valid(validators, "call-event", "the readFull example's event", event)
    expect_valid(validators, "call-event", "null request and response", {"request": None, "response": None})
    bad = copy.deepcopy(event)
    bad["response"]["date_created"] = ISO_DATE
    expect_rejected(validators, "call-event", "an ISO date_created", bad, "/response/date_created")
    list_ = f"/2010-04-01/Accounts/{AC}/Calls/{CA}/Events.json"
    page = {"events": [event], "page": 0, "page_size": 50, "start": 0, "end": 0, "uri": list_,
            "first_page_uri": list_, "next_page_uri": None, "previous_page_uri": None}
    expect_valid(validators, "call-event-page", "a page of one event", page)
    expect_rejected(validators, "call-event-page", "no events key", without(page, "events"), "", ("required",))


def error_checks(validators):
    good = {
        "code": 21201,
        "message": "No to number is specified",
        "more_info": "https://www.twilio.com/docs/errors/21201",
        "status": 400,
    }
    expect_valid(validators, "error", "the 21201 body", good)
    for field in ("code", "message", "status"):
        expect_rejected(validators, "error", f"{field} missing", without(good, field), "", ("required",))


def control(documents, registry):
    """Without its patterns, the call schema accepts a 31-hex SID and an ISO date: the
    validator really ignores `format`, so the rejections above come from the patterns."""

    def strip(node):
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k not in ("pattern", "maxLength")}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    stripped = strip(documents["call"])
    validator = Draft202012Validator(stripped, registry=registry)
    call = json.loads(with_hex_sids(seed_text("seed-phone")))
    call["sid"] = CA[:33]
    call["date_created"] = ISO_DATE
    record(validator.is_valid(call), "control: formats alone do not reject a 31-hex sid and an ISO date here")


def main():
    documents, registry, validators = load_schemas()
    call_checks(validators)
    call_page_checks(validators)
    status_callback_checks(validators)
    recording_callback_checks(validators)
    recording_checks(validators)
    call_event_checks(validators)
    error_checks(validators)
    control(documents, registry)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
