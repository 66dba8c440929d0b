//! The mutating proxy: between the runner and the emulator (API responses, `/2010-04-01/…`) and
//! between the emulator and the runner's sink (webhooks, `/s{sink port}/c/…`: the profile's
//! `sink.public_base_url` sends the target here). With no mutant it is the control: every body
//! is re-serialized and every webhook re-signed, and it records which accounts' traffic each
//! mutant could change. With a mutant it applies that one wherever it can and counts the firings.

use super::catalog::{ApiOp, HookKind, Mutant, Op, Target};
use super::http::{self, Message};
use super::mutate;
use callspec_model::form::Form;
use callspec_model::signature;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::BufReader;
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// How long a client connection may idle, and an upstream exchange take.
const IDLE: Duration = Duration::from_secs(90);
const UPSTREAM: Duration = Duration::from_secs(40);
/// How long a webhook held for [`Op::Reorder`] waits for the next one of its call.
const HOLD: Duration = Duration::from_secs(2);

/// What the proxy learned and did; shared by its connection threads.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    upstream: String,
    public_base: String,
    mutant: Option<Mutant>,
    /// Every mutant, in the control run, to record where each could fire.
    all: Vec<Mutant>,
    tokens: Mutex<HashMap<String, String>>,
    /// Subaccount SID → the case that created it (`FriendlyName` "callspec CASE").
    owners: Mutex<HashMap<String, String>>,
    /// Mutant id → the account SIDs of the traffic it could change.
    touches: Mutex<BTreeMap<String, BTreeSet<String>>>,
    fired: AtomicUsize,
    /// Reorder: a held webhook per call, released once another of its call went through.
    held: Mutex<HashMap<String, Arc<Release>>>,
    stop: AtomicBool,
}

/// A held webhook's release: set once the next webhook of its call went through.
type Release = (Mutex<bool>, Condvar);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    /// How many times the mutant changed something.
    pub(crate) fn fired(&self) -> usize {
        self.fired.load(Ordering::SeqCst)
    }

    /// The cases that created an account of their own.
    pub(crate) fn owning_cases(&self) -> BTreeSet<String> {
        lock(&self.owners).values().cloned().collect()
    }

    /// Mutant id → the cases whose traffic it could change; `shared` stands for traffic of an
    /// account no case created (the main and trial accounts).
    pub(crate) fn touches(&self, shared: &str) -> BTreeMap<String, BTreeSet<String>> {
        let owners = lock(&self.owners);
        let touched = lock(&self.touches);
        touched
            .iter()
            .map(|(id, accounts)| {
                let cases = accounts.iter().map(|a| owners.get(a).cloned().unwrap_or_else(|| shared.to_owned()));
                (id.clone(), cases.collect())
            })
            .collect()
    }

    fn touch(&self, id: String, account: &str) {
        lock(&self.touches).entry(id).or_default().insert(account.to_owned());
    }
}

/// A running proxy: its port and what it shares with its threads.
pub(crate) struct Proxy {
    pub(crate) port: u16,
    pub(crate) shared: Arc<Shared>,
}

impl Proxy {
    /// Listens on a free loopback port and forwards API requests to `upstream` (host:port).
    /// `tokens` are the accounts known beforehand (main, trial).
    pub(crate) fn start(
        upstream: String,
        mutant: Option<Mutant>,
        all: Vec<Mutant>,
        tokens: HashMap<String, String>,
    ) -> Result<Proxy, String> {
        let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("proxy: cannot bind: {e}"))?;
        let port = listener.local_addr().map_err(|e| format!("proxy: {e}"))?.port();
        let shared = Arc::new(Shared {
            upstream,
            public_base: format!("http://127.0.0.1:{port}"),
            mutant,
            all,
            tokens: Mutex::new(tokens),
            ..Shared::default()
        });
        let accept = shared.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if accept.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let shared = accept.clone();
                std::thread::spawn(move || serve(&shared, stream));
            }
        });
        Ok(Proxy { port, shared })
    }

    /// Stops accepting (open connections end with their peers).
    pub(crate) fn stop(&self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve(shared: &Shared, stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(IDLE));
    let Ok(mut out) = stream.try_clone() else { return };
    let mut reader = BufReader::new(stream);
    while let Ok(Some(request)) = http::read_head(&mut reader) {
        let close = request.header("connection").is_some_and(|c| c.eq_ignore_ascii_case("close"));
        let (response, body_read) = handle(shared, request, &mut reader, &out).unwrap_or_else(|problem| {
            let message = Message {
                start: "HTTP/1.1 502 Bad Gateway".into(),
                headers: vec![("content-type".into(), "text/plain".into())],
                body: problem.into_bytes(),
            };
            (message, false)
        });
        let close = close || !body_read;
        if response.write_to(&mut out, if close { "close" } else { "keep-alive" }).is_err() || close {
            return;
        }
    }
}

/// Serves one request whose head was read; its body is still in `reader`. The flag says whether
/// the body was read whole (if not, the connection must close after the answer).
fn handle(
    shared: &Shared,
    mut request: Message,
    reader: &mut (impl std::io::BufRead + Send),
    client: &TcpStream,
) -> Result<(Message, bool), String> {
    let target = request.method_target().1.to_owned();
    let read = |e: std::io::Error| format!("proxy: reading the request: {e}");
    if let Some((port, rest)) = sink_route(&target) {
        http::read_body(reader, &mut request, false, false).map_err(read)?;
        return webhook(shared, request, port, rest).map(|response| (response, true));
    }
    // API request bodies stream through as they arrive, so a held request is held at the target too.
    let (response, body_read) = match http::content_length(&request).map_err(read)? {
        Some(length) => http::stream_exchange(&shared.upstream, &request, reader, length, Some(client), UPSTREAM),
        None => {
            http::read_body(reader, &mut request, false, false).map_err(read)?;
            http::exchange(&shared.upstream, &request, UPSTREAM).map(|response| (response, true))
        }
    }
    .map_err(|e| format!("proxy: upstream: {e}"))?;
    Ok((api(shared, &request, response), body_read))
}

/// `/s{port}/c/…` → the sink's port and its own path.
fn sink_route(target: &str) -> Option<(u16, String)> {
    let rest = target.strip_prefix("/s")?;
    let (port, path) = rest.split_once('/')?;
    Some((port.parse().ok()?, format!("/{path}")))
}

/// Which Calls operation a request and its response are, and the account in the path.
fn classify(request: &Message, response: &Message) -> Option<(ApiOp, String)> {
    let (method, target) = request.method_target();
    let path = target.split('?').next().unwrap_or(target);
    let (_, in_account) = path.split_once("/Accounts/")?;
    let (account, rest) = in_account.split_once('/')?;
    let segments: Vec<&str> = rest.strip_suffix(".json")?.split('/').collect();
    let op = match (method, segments.as_slice()) {
        (_, ["Calls", ..] | ["Recordings", ..]) if response.status() >= 400 => ApiOp::Error,
        ("POST", ["Calls"]) => ApiOp::Create,
        ("GET", ["Calls"]) => ApiOp::ListEnvelope,
        ("GET", ["Calls", _]) => ApiOp::Fetch,
        ("POST", ["Calls", _]) => ApiOp::Update,
        ("DELETE", ["Calls", _]) => ApiOp::Delete,
        ("POST", ["Calls", _, "Recordings"]) => ApiOp::RecordingStart,
        ("GET", ["Calls", _, "Recordings"] | ["Recordings"]) => ApiOp::RecordingListEnvelope,
        ("GET", ["Calls", _, "Recordings", _] | ["Recordings", _]) => ApiOp::RecordingFetch,
        ("POST", ["Calls", _, "Recordings", _]) => ApiOp::RecordingUpdate,
        ("DELETE", ["Calls", _, "Recordings", _] | ["Recordings", _]) => ApiOp::RecordingDelete,
        ("GET", ["Calls", _, "Events"]) => ApiOp::EventListEnvelope,
        _ => return None,
    };
    Some((op, account.to_owned()))
}

/// Learns a subaccount's token and case from its creation response.
fn learn(shared: &Shared, request: &Message, body: &Value) {
    let (method, target) = request.method_target();
    if method != "POST" || !target.split('?').next().unwrap_or("").ends_with("/Accounts.json") {
        return;
    }
    let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned);
    if let (Some(sid), Some(token)) = (text("sid"), text("auth_token")) {
        lock(&shared.tokens).insert(sid.clone(), token);
        if let Some(case) = text("friendly_name").and_then(|n| n.strip_prefix("callspec ").map(str::to_owned)) {
            lock(&shared.owners).insert(sid, case);
        }
    }
}

/// The objects of a body a mutant of `want` changes, in a response of operation `op` (a list
/// envelope's items for an item operation).
fn objects(body: &mut Value, op: ApiOp, want: ApiOp) -> Vec<&mut serde_json::Map<String, Value>> {
    match op.items() {
        Some((item, key)) if item == want => body
            .get_mut(key)
            .and_then(Value::as_array_mut)
            .map(|items| items.iter_mut().filter_map(Value::as_object_mut).collect())
            .unwrap_or_default(),
        _ => body.as_object_mut().into_iter().collect(),
    }
}

/// Applies `mutant` to a body of operation `op` (a list envelope's items are not its fields).
fn apply_api(mutant: &Mutant, op: ApiOp, body: &mut Value) -> bool {
    let Target::Api { op: want, field } = &mutant.target else { return false };
    let holds = match op.items() {
        Some((item, key)) => *want == item || (*want == op && field != key),
        None => *want == op,
    };
    if !holds {
        return false;
    }
    let mut changed = false;
    for object in objects(body, op, *want) {
        changed |= mutate::json(object, field, mutant.op, &mutant.siblings);
    }
    changed
}

fn api(shared: &Shared, request: &Message, mut response: Message) -> Message {
    let parsed: Option<Value> = serde_json::from_slice(&response.body).ok();
    if let Some(body) = &parsed {
        learn(shared, request, body);
    }
    let Some((op, account)) = classify(request, &response) else { return response };
    if op.is_delete() {
        let fires = response.status() == 204;
        let id = format!("api/{}/*/status-200", op.name());
        match &shared.mutant {
            None if fires => shared.touch(id, &account),
            Some(m) if fires && m.id() == id => {
                shared.fired.fetch_add(1, Ordering::SeqCst);
                response.start = "HTTP/1.1 200 OK".into();
                response.set_header("content-type", "application/json".into());
                response.body = b"{}".to_vec();
            }
            _ => {}
        }
        return response;
    }
    let Some(mut body) = parsed else { return response };
    match &shared.mutant {
        None => {
            for m in &shared.all {
                if apply_api(m, op, &mut body.clone()) {
                    shared.touch(m.id(), &account);
                }
            }
        }
        Some(m) => {
            if apply_api(m, op, &mut body) {
                shared.fired.fetch_add(1, Ordering::SeqCst);
            }
        }
    }
    // The identity part of every mutation: the body re-serialized.
    response.body = serde_json::to_vec(&body).unwrap_or(response.body);
    response
}

fn hook_kind(params: &[(String, String)]) -> HookKind {
    let has = |n: &str| params.iter().any(|(k, _)| k == n);
    if has("RecordingSid") && has("RecordingStatus") {
        HookKind::Recording
    } else if has("AnsweredBy") && !has("CallStatus") {
        HookKind::Amd
    } else if has("CallbackSource") || has("SequenceNumber") {
        HookKind::Status
    } else {
        HookKind::Twiml
    }
}

/// A webhook as the proxy sees it: where it goes, its parameters and whose they are.
#[derive(Clone)]
struct Hook {
    get: bool,
    path: String,
    query: Vec<(String, String)>,
    form: Vec<(String, String)>,
    account: String,
    call: String,
}

impl Hook {
    fn params(&mut self) -> &mut Vec<(String, String)> {
        if self.get { &mut self.query } else { &mut self.form }
    }

    /// The path and query, as sent on.
    fn target(&self) -> String {
        if self.query.is_empty() {
            self.path.clone()
        } else {
            format!("{}?{}", self.path, Form::from_pairs(self.query.clone()).encode())
        }
    }
}

fn parse_hook(request: &Message, rest: &str) -> Hook {
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let get = request.method_target().0 == "GET";
    let query = Form::parse(query.as_bytes()).map(Form::into_pairs).unwrap_or_default();
    let form = if get { Vec::new() } else { Form::parse(&request.body).map(Form::into_pairs).unwrap_or_default() };
    let find = |n: &str| form.iter().chain(&query).find(|(k, _)| k == n).map(|(_, v)| v.clone()).unwrap_or_default();
    let (account, call) = (find("AccountSid"), find("CallSid"));
    Hook { get, path: path.to_owned(), query, form, account, call }
}

fn webhook(shared: &Shared, mut request: Message, port: u16, rest: String) -> Result<Message, String> {
    let mut hook = parse_hook(&request, &rest);
    let kind = hook_kind(if hook.get { &hook.query } else { &hook.form });
    let mut whole = None;
    match &shared.mutant {
        None => {
            for m in shared.all.iter().filter(|m| matches!(&m.target, Target::Hook { kind: k, .. } if *k == kind)) {
                if hook_applies(m, &mut hook.clone()) {
                    shared.touch(m.id(), &hook.account);
                }
            }
        }
        Some(m) if matches!(&m.target, Target::Hook { kind: k, .. } if *k == kind) => {
            if matches!(&m.target, Target::Hook { param, .. } if param == "*") {
                whole = Some(m.op);
            } else if hook_applies(m, &mut hook) {
                shared.fired.fetch_add(1, Ordering::SeqCst);
            }
        }
        Some(_) => {}
    }
    // Re-sign for the URL the target requested, with the account's own token.
    let public_url = format!("{}/s{port}{}", shared.public_base, hook.target());
    let token = lock(&shared.tokens).get(&hook.account).cloned().unwrap_or_default();
    let mut sig = signature::sign(&token, &public_url, &hook.form);
    if let Some(op) = whole
        && let Some(changed) = sign_mutation(shared, op, &hook, &token, &public_url, port)
    {
        shared.fired.fetch_add(1, Ordering::SeqCst);
        sig = changed;
    }
    request.start = format!("{} {} HTTP/1.1", request.method_target().0, hook.target());
    if !hook.get {
        request.body = Form::from_pairs(hook.form.clone()).encode().into_bytes();
    }
    if whole == Some(Op::SigMissing) {
        request.remove_header("x-twilio-signature");
    } else {
        request.set_header("X-Twilio-Signature", sig);
    }
    deliver(shared, whole, &hook, &request, port)
}

/// Whether a parameter mutant changes `hook` (whole-webhook mutants always could).
fn hook_applies(m: &Mutant, hook: &mut Hook) -> bool {
    let Target::Hook { param, .. } = &m.target else { return false };
    if param == "*" {
        return !(m.op == Op::SigNoParams && hook.get);
    }
    mutate::params(hook.params(), param, m.op, &m.siblings)
}

/// The wrong signature of a signature mutant, or `None` for other operators.
fn sign_mutation(shared: &Shared, op: Op, hook: &Hook, token: &str, url: &str, port: u16) -> Option<String> {
    match op {
        Op::SigMissing => Some(String::new()),
        Op::SigWrongToken => {
            let tokens = lock(&shared.tokens);
            let other = tokens.values().filter(|t| *t != token).min()?.clone();
            Some(signature::sign(&other, url, &hook.form))
        }
        Op::SigNoParams => (!hook.get).then(|| signature::sign(token, url, &[])),
        Op::SigOtherUrl => {
            Some(signature::sign(token, &format!("http://127.0.0.1:{port}{}", hook.target()), &hook.form))
        }
        Op::SigGarbled => {
            let good = signature::sign(token, url, &hook.form);
            let first = if good.starts_with('A') { 'B' } else { 'A' };
            Some(format!("{first}{}", good.get(1..).unwrap_or("")))
        }
        _ => None,
    }
}

/// Sends the webhook on to the sink (or not, or twice, or after the next one of its call).
fn deliver(shared: &Shared, whole: Option<Op>, hook: &Hook, request: &Message, port: u16) -> Result<Message, String> {
    let upstream = format!("127.0.0.1:{port}");
    let send = || http::exchange(&upstream, request, UPSTREAM).map_err(|e| format!("proxy: sink: {e}"));
    match whole {
        Some(Op::Omit) => {
            shared.fired.fetch_add(1, Ordering::SeqCst);
            return Ok(Message {
                start: "HTTP/1.1 200 OK".into(),
                headers: vec![("content-type".into(), "text/xml".into())],
                body: b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>".to_vec(),
            });
        }
        Some(Op::Duplicate) => {
            shared.fired.fetch_add(1, Ordering::SeqCst);
            let first = send()?;
            let _ = send();
            return Ok(first);
        }
        Some(Op::Reorder) => return reorder(shared, &hook.call, send),
        _ => {}
    }
    // Any webhook of a call releases the one held for it (after going through itself).
    let response = send();
    let waiting = lock(&shared.held).remove(&hook.call);
    if let Some(pair) = waiting {
        *lock(&pair.0) = true;
        pair.1.notify_all();
    }
    response
}

/// Holds this webhook until the next one of its call went through (then it fired), or [`HOLD`].
fn reorder(shared: &Shared, call: &str, send: impl Fn() -> Result<Message, String>) -> Result<Message, String> {
    let waiting = lock(&shared.held).remove(call);
    if let Some(pair) = waiting {
        let response = send();
        *lock(&pair.0) = true;
        pair.1.notify_all();
        return response;
    }
    let pair = Arc::new((Mutex::new(false), Condvar::new()));
    lock(&shared.held).insert(call.to_owned(), pair.clone());
    let guard = lock(&pair.0);
    let (released, _) = pair.1.wait_timeout_while(guard, HOLD, |done| !*done).unwrap_or_else(|p| p.into_inner());
    if *released {
        shared.fired.fetch_add(1, Ordering::SeqCst);
    } else {
        lock(&shared.held).remove(call);
    }
    drop(released);
    send()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(start: &str) -> Message {
        Message { start: start.into(), ..Message::default() }
    }

    #[test]
    fn operations_are_told_apart() {
        let ok = request("HTTP/1.1 200 OK");
        let base = "/2010-04-01/Accounts/AC1/Calls";
        let op = |start: String, response: &Message| classify(&request(&start), response).map(|(op, _)| op);
        assert_eq!(op(format!("POST {base}.json HTTP/1.1"), &request("HTTP/1.1 201 Created")), Some(ApiOp::Create));
        assert_eq!(op(format!("GET {base}.json?PageSize=2 HTTP/1.1"), &ok), Some(ApiOp::ListEnvelope));
        assert_eq!(op(format!("GET {base}/CA1.json HTTP/1.1"), &ok), Some(ApiOp::Fetch));
        assert_eq!(op(format!("POST {base}/CA1.json HTTP/1.1"), &ok), Some(ApiOp::Update));
        assert_eq!(
            op(format!("DELETE {base}/CA1.json HTTP/1.1"), &request("HTTP/1.1 204 No Content")),
            Some(ApiOp::Delete)
        );
        let recordings = "/2010-04-01/Accounts/AC1/Recordings";
        let created = request("HTTP/1.1 201 Created");
        assert_eq!(op(format!("POST {base}/CA1/Recordings.json HTTP/1.1"), &created), Some(ApiOp::RecordingStart));
        assert_eq!(op(format!("GET {base}/CA1/Recordings.json HTTP/1.1"), &ok), Some(ApiOp::RecordingListEnvelope));
        assert_eq!(op(format!("GET {recordings}.json?CallSid=CA1 HTTP/1.1"), &ok), Some(ApiOp::RecordingListEnvelope));
        assert_eq!(op(format!("GET {base}/CA1/Recordings/RE1.json HTTP/1.1"), &ok), Some(ApiOp::RecordingFetch));
        assert_eq!(op(format!("GET {recordings}/RE1.json HTTP/1.1"), &ok), Some(ApiOp::RecordingFetch));
        assert_eq!(op(format!("POST {base}/CA1/Recordings/RE1.json HTTP/1.1"), &ok), Some(ApiOp::RecordingUpdate));
        let gone = request("HTTP/1.1 204 No Content");
        assert_eq!(op(format!("DELETE {recordings}/RE1.json HTTP/1.1"), &gone), Some(ApiOp::RecordingDelete));
        assert_eq!(op(format!("GET {recordings}/RE1.mp3 HTTP/1.1"), &ok), None, "media is no JSON operation");
        assert_eq!(op(format!("GET {base}/CA1.json HTTP/1.1"), &request("HTTP/1.1 404 Not Found")), Some(ApiOp::Error));
        assert_eq!(op("GET /2010-04-01/Accounts/AC1/IncomingPhoneNumbers.json HTTP/1.1".into(), &ok), None);
        assert_eq!(sink_route("/s4242/c/run/case/status?x=1"), Some((4242, "/c/run/case/status?x=1".into())));
        assert_eq!(sink_route("/2010-04-01/Accounts.json"), None);
    }

    #[test]
    fn webhook_kinds() {
        let p = |names: &[&str]| names.iter().map(|n| ((*n).to_owned(), "v".to_owned())).collect::<Vec<_>>();
        assert_eq!(hook_kind(&p(&["CallSid", "CallbackSource", "SequenceNumber"])), HookKind::Status);
        assert_eq!(hook_kind(&p(&["CallSid", "RecordingSid", "RecordingStatus"])), HookKind::Recording);
        assert_eq!(hook_kind(&p(&["CallSid", "CallStatus"])), HookKind::Twiml);
        assert_eq!(hook_kind(&p(&["CallSid", "CallStatus", "AnsweredBy", "Digits"])), HookKind::Twiml);
        assert_eq!(hook_kind(&p(&["CallSid", "AccountSid", "AnsweredBy"])), HookKind::Amd);
    }
}
