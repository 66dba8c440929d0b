"""The official twilio Python SDK, unmodified, against callspec's reference emulator.

The SDK is pointed at the emulator through its supported extension point: a custom
`http_client` (the approach Twilio documents for running the SDK against a mock API).
A local HTTP server serves TwiML and records status callbacks; the SDK's own
RequestValidator must accept the emulator's X-Twilio-Signature. `check_recordings` drives the
Recordings resource (start, pause, resume through Twilio.CURRENT, stop, list, fetch, delete).

Usage: python sdk_check.py BASE_URL ACCOUNT_SID AUTH_TOKEN FROM_NUMBER
Exit status 0 when every check held; each failure is printed.
"""

import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

BASE_URL, ACCOUNT_SID, AUTH_TOKEN, FROM = sys.argv[1:5]
DEADLINE_S = 20.0


class EmulatorHttpClient(TwilioHttpClient):
    """Sends every request the SDK makes for api.twilio.com to the emulator instead."""

    def request(self, method, url, params=None, data=None, headers=None, auth=None, timeout=None, allow_redirects=False):
        url = url.replace("https://api.twilio.com", BASE_URL)
        return super().request(method, url, params, data, headers, auth, timeout, allow_redirects)


received = []
received_lock = threading.Condition()


class Receiver(BaseHTTPRequestHandler):
    """Serves TwiML on /voice.xml and records every request with its signature."""

    def _record(self, params):
        with received_lock:
            received.append((self.command, self.path, params, self.headers.get("X-Twilio-Signature")))
            received_lock.notify_all()

    def do_GET(self):
        self._record({})
        self._answer()

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length).decode("utf-8")
        self._record(dict(urllib.parse.parse_qsl(body, keep_blank_values=True)))
        self._answer()

    def _answer(self):
        if self.path.startswith("/voice.xml"):
            body = b"<Response><Say>Hello from the Python SDK check</Say></Response>"
            self.send_response(200)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_response(204)
            self.end_headers()

    def log_message(self, *args):
        pass


failures = []


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what)
    if not condition:
        failures.append(what)


def wait_for(predicate, what):
    deadline = time.monotonic() + DEADLINE_S
    with received_lock:
        while not predicate():
            left = deadline - time.monotonic()
            if left <= 0:
                check(False, what + " (timed out)")
                return False
            received_lock.wait(left)
    return True


# --- Recordings resource -------------------------------------------------------------------
# Kept in one function so it can move to an SDK driver as a unit.


def check_recordings(client, hook):
    """Starts, pauses, resumes, stops, lists, fetches and deletes a recording through the SDK."""
    call = client.calls.create(to="+14155551212", from_=FROM, twiml="<Response><Pause length=\"30\"/></Response>")
    deadline = time.monotonic() + DEADLINE_S
    while client.calls(call.sid).fetch().status != "in-progress":
        if time.monotonic() > deadline:
            check(False, "the recorded call is answered (timed out)")
            return
        time.sleep(0.1)
    recordings = client.calls(call.sid).recordings
    rec = recordings.create(
        recording_status_callback=hook + "/recording",
        recording_status_callback_event=["in-progress", "completed", "absent"],
        recording_channels="dual",
    )
    check(rec.sid.startswith("RE") and len(rec.sid) == 34, "recordings.create returns an RE sid: %s" % rec.sid)
    check(rec.status == "in-progress" and rec.source == "StartCallRecordingAPI" and rec.call_sid == call.sid,
          "a started recording is in-progress, StartCallRecordingAPI (got %s, %s)" % (rec.status, rec.source))
    check(rec.channels == 2, "RecordingChannels=dual gives channels 2 (got %r)" % rec.channels)
    paused = recordings(rec.sid).update(status="paused", pause_behavior="skip")
    check(paused.status == "paused", "update status=paused pauses it (got %s)" % paused.status)
    resumed = recordings("Twilio.CURRENT").update(status="in-progress")
    check(resumed.sid == rec.sid and resumed.status == "in-progress",
          "Twilio.CURRENT resumes the same recording (got %s)" % resumed.status)
    stopped = recordings(rec.sid).update(status="stopped")
    check(stopped.status in ("stopped", "processing", "completed", "absent"), "status=stopped ends it (got %s)" % stopped.status)
    ended = recordings(rec.sid).fetch()
    check(ended.status in ("completed", "absent") and ended.duration is not None and ended.duration.isdigit(),
          "a stopped recording reads %s with duration %r" % (ended.status, ended.duration))
    check([r.sid for r in recordings.list()] == [rec.sid], "the call's recordings list holds it alone")
    listed = client.recordings.list(call_sid=call.sid)
    check([r.sid for r in listed] == [rec.sid], "the account's list with call_sid holds it alone")
    check(client.recordings(rec.sid).fetch().call_sid == call.sid, "the account fetch names the call")

    def recording_callbacks():
        return [(m, path, p, sig) for (m, path, p, sig) in received if path.startswith("/recording")]

    wait_for(lambda: len(recording_callbacks()) >= 2, "two recording callbacks arrive")
    validator = RequestValidator(AUTH_TOKEN)
    for method, path, params, signature in recording_callbacks():
        check(params.get("RecordingSource") == "StartCallRecordingAPI" and params.get("RecordingSid") == rec.sid,
              "the %s recording callback names the recording and StartCallRecordingAPI" % params.get("RecordingStatus"))
        check(signature is not None and validator.validate(hook + path, params, signature),
              "RequestValidator accepts the %s recording callback" % params.get("RecordingStatus"))

    check(recordings(rec.sid).delete() is True, "delete of the stopped recording succeeds")
    check(client.recordings.list(call_sid=call.sid) == [], "the deleted recording leaves the account's list")
    check(client.calls(call.sid).update(status="completed").status == "completed", "the recorded call hangs up")


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    hook = "http://127.0.0.1:%d" % server.server_address[1]

    client = Client(ACCOUNT_SID, AUTH_TOKEN, http_client=EmulatorHttpClient())

    call = client.calls.create(
        to="+14155551212",
        from_=FROM,
        url=hook + "/voice.xml",
        status_callback=hook + "/events",
        status_callback_event=["initiated", "ringing", "answered", "completed"],
    )
    check(call.sid.startswith("CA") and len(call.sid) == 34, "create returns a CA sid: %s" % call.sid)
    check(call.status == "queued", "a new call is queued (got %s)" % call.status)
    check(call.to == "+14155551212" and call.direction == "outbound-api", "create echoes To and direction")

    fetched = client.calls(call.sid).fetch()
    check(fetched.sid == call.sid, "fetch returns the same call")

    def events():
        return [p for (_, path, p, _) in received if path.startswith("/events")]

    wait_for(lambda: len(events()) >= 4, "four status callbacks arrive")
    statuses = [p.get("CallStatus") for p in events()]
    check(statuses == ["initiated", "ringing", "in-progress", "completed"], "callbacks in order: %s" % statuses)

    validator = RequestValidator(AUTH_TOKEN)
    for method, path, params, signature in list(received):
        url = hook + path
        check(signature is not None and validator.validate(url, params if method == "POST" else {}, signature),
              "RequestValidator accepts the %s %s request" % (method, path.split("?")[0]))

    # Paging: the SDK follows next_page_uri itself.
    for _ in range(4):
        client.calls.create(to="+14155551212", from_=FROM, twiml="<Response><Hangup/></Response>")
    listed = client.calls.list(page_size=2)
    sids = [c.sid for c in listed]
    check(len(sids) >= 5 and len(set(sids)) == len(sids), "list with page_size=2 visits %d calls, each once" % len(sids))
    page = client.calls.page(page_size=2)
    check(len(list(page)) == 2 and page.next_page_url is not None, "a first page of 2 has a next page")
    second = page.next_page()
    check(second is not None and len(list(second)) == 2, "the SDK's next_page() follows next_page_uri")

    queued = client.calls.create(to="+14155551212", from_=FROM, url=hook + "/voice.xml")
    queued = client.calls(queued.sid).update(status="canceled")
    check(queued.status == "canceled", "update Status=canceled cancels a queued call (got %s)" % queued.status)

    check(client.calls(call.sid).fetch().status == "completed", "the first call completed")
    check(client.calls(call.sid).delete() is True, "delete of an ended call succeeds")
    try:
        client.calls(call.sid).fetch()
        check(False, "fetch after delete raises")
    except Exception as e:  # TwilioRestException
        check(getattr(e, "status", None) == 404 and getattr(e, "code", None) == 20404, "fetch after delete is 404 / 20404")

    check_recordings(client, hook)

    server.shutdown()
    print("python SDK check: %d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
