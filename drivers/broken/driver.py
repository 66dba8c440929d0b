"""A deliberately wrong callspec SDK driver, for callspec's self-test (docs/sdk-driver.md).

It speaks the protocol correctly and talks to the API over plain HTTP (standard library only),
but makes three mistakes an SDK could make, each of which `callspec sdk` must FAIL by name:

- it comma-joins StatusCallbackEvent instead of repeating the key (SDK-FORM-2);
- it follows next_page_uri with its PageToken dropped (SDK-PAGE-1);
- its webhook validator accepts every signature, forged ones included (SDK-SIG-2).

Everything else (Basic auth, .json paths, form encoding, booleans, error fields) is right. Its
handshake lists the scenarios it performs, so the delete, recording and machine detection
(`create_call_amd`) scenarios are SKIP.
"""

import base64
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime
from email.utils import parsedate_to_datetime


# The scenarios it performs: the others (deleting, recordings, machine detection) are SKIP.
SCENARIOS = ["create_call", "fetch_call", "list_calls", "update_call", "validate_webhook"]


def send(req, method, path, form=None):
    auth = base64.b64encode(f"{req['account_sid']}:{req['auth_token']}".encode()).decode()
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(req["base_url"] + path, data=data, method=method)
    request.add_header("Authorization", "Basic " + auth)
    if data is not None:
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as e:
        raise ApiError(e.code, json.loads(e.read()))


class ApiError(Exception):
    def __init__(self, status, body):
        super().__init__(body.get("message"))
        self.status, self.body = status, body


def wire(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(value)  # MISTAKE: one comma-joined value instead of a repeated key
    return value


def date(value):
    return parsedate_to_datetime(value).isoformat() if value else None


def call(body):
    return {"sid": body["sid"], "status": body["status"], "to": body["to"], "from": body["from"],
            "date_created": date(body.get("date_created")), "end_time": date(body.get("end_time")),
            "duration": body.get("duration"), "answered_by": body.get("answered_by")}


def calls_path(req):
    return f"/2010-04-01/Accounts/{req['account_sid']}/Calls"


def perform(req):
    scenario = req["scenario"]
    if scenario == "create_call":
        form = {name: wire(value) for name, value in req["params"].items()}
        return call(send(req, "POST", calls_path(req) + ".json", form))
    if scenario == "fetch_call":
        return call(send(req, "GET", f"{calls_path(req)}/{req['call_sid']}.json"))
    if scenario == "update_call":
        form = {name: wire(value) for name, value in req["params"].items()}
        return call(send(req, "POST", f"{calls_path(req)}/{req['call_sid']}.json", form))
    if scenario == "list_calls":
        sids, uri = [], f"{calls_path(req)}.json?PageSize={req['page_size']}"
        for _ in range(50):
            page = send(req, "GET", uri)
            sids += [c["sid"] for c in page["calls"]]
            if not page.get("next_page_uri"):
                break
            path, _, query = page["next_page_uri"].partition("?")
            kept = [(k, v) for k, v in urllib.parse.parse_qsl(query) if k != "PageToken"]  # MISTAKE
            uri = path + "?" + urllib.parse.urlencode(kept)
        return {"sids": sids}
    if scenario == "validate_webhook":
        return {"valid": True}  # MISTAKE: accepts every signature
    raise ValueError(f"unknown scenario {scenario}")


def main():
    print(json.dumps({"callspec_driver": 1, "sdk": "broken-driver", "version": "0", "scenarios": SCENARIOS}),
          flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        try:
            answer = {"id": req["id"], "ok": perform(req)}
        except ApiError as e:
            answer = {"id": req["id"], "error": {"status": e.status, "code": e.body.get("code"),
                                                  "message": e.body.get("message"),
                                                  "more_info": e.body.get("more_info")}}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
