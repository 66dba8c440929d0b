// callspec SDK driver for twilio-node: performs callspec's scenarios with the official SDK.
//
// Protocol: docs/sdk-driver.md (JSON lines on stdin/stdout). Run it through callspec, with
// twilio installed where Node resolves it (NODE_PATH, or a node_modules next to this file):
//
//     callspec sdk --driver "node drivers/node/driver.js"
//
// The SDK is used unmodified; its requests go to callspec's emulator through the SDK's supported
// extension point, a custom `httpClient` that swaps the host of `https://api.twilio.com`.
// Logs go to stderr; stdout carries protocol lines only.

"use strict";
const readline = require("readline");
const twilio = require("twilio");
const RequestClient = require("twilio/lib/base/RequestClient");
const { version } = require("twilio/package.json");

class Redirect extends RequestClient {
  constructor(baseUrl) {
    super();
    this.baseUrl = baseUrl;
  }
  request(opts) {
    return super.request({ ...opts, uri: opts.uri.replace("https://api.twilio.com", this.baseUrl) });
  }
}

const client = (req) => twilio(req.account_sid, req.auth_token, { httpClient: new Redirect(req.base_url) });

// Twilio's parameter names in the SDK's camelCase (`StatusCallbackEvent` -> `statusCallbackEvent`).
const options = (params) =>
  Object.fromEntries(Object.entries(params).map(([k, v]) => [k[0].toLowerCase() + k.slice(1), v]));

const call = (c) => ({
  sid: c.sid,
  status: c.status,
  to: c.to,
  from: c.from,
  date_created: c.dateCreated ? c.dateCreated.toISOString() : null,
  end_time: c.endTime ? c.endTime.toISOString() : null,
  duration: c.duration ?? null,
  answered_by: c.answeredBy ?? null,
});

const recording = (r) => ({
  sid: r.sid,
  call_sid: r.callSid,
  status: r.status,
  source: r.source,
  channels: r.channels,
  duration: r.duration ?? null,
});

async function perform(req) {
  switch (req.scenario) {
    case "create_call":
    case "create_call_amd":
      return call(await client(req).calls.create(options(req.params)));
    case "fetch_call":
      return call(await client(req).calls(req.call_sid).fetch());
    case "list_calls":
      return { sids: (await client(req).calls.list({ pageSize: req.page_size })).map((c) => c.sid) };
    case "update_call":
      return call(await client(req).calls(req.call_sid).update(options(req.params)));
    case "delete_call":
      return { deleted: await client(req).calls(req.call_sid).remove() };
    case "start_recording":
      return recording(await client(req).calls(req.call_sid).recordings.create(options(req.params)));
    case "update_recording":
      return recording(await client(req).calls(req.call_sid).recordings(req.recording_sid).update(options(req.params)));
    case "list_recordings":
      return { sids: (await client(req).calls(req.call_sid).recordings.list()).map((r) => r.sid) };
    case "fetch_recording":
      return recording(await client(req).calls(req.call_sid).recordings(req.recording_sid).fetch());
    case "delete_recording":
      return { deleted: await client(req).calls(req.call_sid).recordings(req.recording_sid).remove() };
    case "list_account_recordings":
      return { sids: (await client(req).recordings.list({ callSid: req.call_sid })).map((r) => r.sid) };
    case "fetch_account_recording":
      return recording(await client(req).recordings(req.recording_sid).fetch());
    case "validate_webhook": {
      if (req.body !== null && req.body !== undefined) {
        return { valid: twilio.validateRequestWithBody(req.auth_token, req.signature, req.url, req.body) };
      }
      const params = {};
      for (const [name, value] of req.params) {
        params[name] = name in params ? [].concat(params[name], value) : value;
      }
      return { valid: twilio.validateRequest(req.auth_token, req.signature, req.url, params) };
    }
    default:
      throw new Error(`unknown scenario ${req.scenario}`);
  }
}

async function main() {
  process.stdout.write(JSON.stringify({ callspec_driver: 1, sdk: "twilio-node", version }) + "\n");
  for await (const line of readline.createInterface({ input: process.stdin })) {
    if (!line.trim()) continue;
    const req = JSON.parse(line);
    let answer;
    try {
      answer = { id: req.id, ok: await perform(req) };
    } catch (e) {
      if (!(e instanceof twilio.RestException)) throw e;
      answer = {
        id: req.id,
        error: { status: e.status, code: e.code ?? null, message: e.message ?? null, more_info: e.moreInfo ?? null },
      };
    }
    process.stdout.write(JSON.stringify(answer) + "\n");
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
