"""callspec SDK driver for twilio-python: performs callspec's scenarios with the official SDK.

Protocol: docs/sdk-driver.md (JSON lines on stdin/stdout). Run it through callspec:

    callspec sdk --driver "python3 drivers/python/driver.py"

The SDK is used unmodified; its requests go to callspec's emulator through the SDK's supported
extension point, a custom `http_client` that swaps the host of `https://api.twilio.com`.
Logs go to stderr; stdout carries protocol lines only.
"""

import json
import sys

import twilio
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

# The SDK's keyword for each Twilio parameter callspec sends.
KEYWORDS = {
    "To": "to", "From": "from_", "Url": "url", "Twiml": "twiml", "Method": "method",
    "StatusCallback": "status_callback", "StatusCallbackEvent": "status_callback_event",
    "StatusCallbackMethod": "status_callback_method", "Record": "record", "Status": "status",
    "Timeout": "timeout", "PauseBehavior": "pause_behavior", "RecordingChannels": "recording_channels",
    "RecordingStatusCallback": "recording_status_callback",
    "RecordingStatusCallbackEvent": "recording_status_callback_event",
    "RecordingStatusCallbackMethod": "recording_status_callback_method",
    "MachineDetection": "machine_detection",
    "MachineDetectionSpeechThreshold": "machine_detection_speech_threshold",
}


class Redirect(TwilioHttpClient):
    """Sends every request meant for api.twilio.com to `base_url` instead."""

    def __init__(self, base_url):
        super().__init__()
        self.base_url = base_url

    def request(self, method, url, *args, **kwargs):
        return super().request(method, url.replace("https://api.twilio.com", self.base_url), *args, **kwargs)


def client(req):
    return Client(req["account_sid"], req["auth_token"], http_client=Redirect(req["base_url"]))


def date(value):
    return value.isoformat() if value else None


def call_json(call):
    return {"sid": call.sid, "status": call.status, "to": call.to, "from": call._from,
            "date_created": date(call.date_created), "end_time": date(call.end_time), "duration": call.duration,
            "answered_by": call.answered_by}


def recordings(req):
    return client(req).calls(req["call_sid"]).recordings


def recording_json(rec):
    return {"sid": rec.sid, "call_sid": rec.call_sid, "status": rec.status, "source": rec.source,
            "channels": rec.channels, "duration": rec.duration}


def kwargs(params):
    return {KEYWORDS[name]: value for name, value in params.items()}


class Params:
    """Webhook parameters with repeated names, as the validator reads them (`getall`)."""

    def __init__(self, pairs):
        self.pairs = pairs

    def __iter__(self):
        return iter(dict.fromkeys(name for name, _ in self.pairs))

    def getall(self, name):
        return [value for n, value in self.pairs if n == name]


def perform(req):
    scenario = req["scenario"]
    if scenario in ("create_call", "create_call_amd"):
        return call_json(client(req).calls.create(**kwargs(req["params"])))
    if scenario == "fetch_call":
        return call_json(client(req).calls(req["call_sid"]).fetch())
    if scenario == "list_calls":
        return {"sids": [c.sid for c in client(req).calls.stream(page_size=req["page_size"])]}
    if scenario == "update_call":
        return call_json(client(req).calls(req["call_sid"]).update(**kwargs(req["params"])))
    if scenario == "delete_call":
        return {"deleted": client(req).calls(req["call_sid"]).delete()}
    if scenario == "start_recording":
        return recording_json(recordings(req).create(**kwargs(req["params"])))
    if scenario == "update_recording":
        return recording_json(recordings(req)(req["recording_sid"]).update(**kwargs(req["params"])))
    if scenario == "list_recordings":
        return {"sids": [r.sid for r in recordings(req).stream()]}
    if scenario == "fetch_recording":
        return recording_json(recordings(req)(req["recording_sid"]).fetch())
    if scenario == "delete_recording":
        return {"deleted": recordings(req)(req["recording_sid"]).delete()}
    if scenario == "list_account_recordings":
        return {"sids": [r.sid for r in client(req).recordings.stream(call_sid=req["call_sid"])]}
    if scenario == "fetch_account_recording":
        return recording_json(client(req).recordings(req["recording_sid"]).fetch())
    if scenario == "validate_webhook":
        validator = RequestValidator(req["auth_token"])
        params = req["body"] if req.get("body") is not None else Params(req["params"])
        return {"valid": bool(validator.validate(req["url"], params, req["signature"]))}
    raise ValueError(f"unknown scenario {scenario}")


def main():
    print(json.dumps({"callspec_driver": 1, "sdk": "twilio-python", "version": twilio.__version__}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        try:
            answer = {"id": req["id"], "ok": perform(req)}
        except TwilioRestException as e:
            answer = {"id": req["id"], "error": {"status": e.status, "code": e.code, "message": e.msg,
                                                  "more_info": getattr(e, "more_info", None)}}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
