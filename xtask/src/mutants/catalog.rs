//! The mutants, generated from the contract: every field of each operation's schema
//! (`schemas/*.json`) and every parameter of each kind of webhook, crossed with every operator;
//! plus the whole-webhook and signature operators per webhook kind. Also which mutants Twilio
//! itself may produce (excluded from the ratio) and why a survivor is allowed to survive.

use serde_json::Value;
use std::fmt;
use std::path::Path;

/// The API response a mutant changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum ApiOp {
    Create,
    Fetch,
    Update,
    ListItem,
    ListEnvelope,
    Delete,
    Error,
    /// The Recordings resource (a call's and the account's): start, fetch, update, list, delete.
    RecordingStart,
    RecordingFetch,
    RecordingUpdate,
    RecordingListItem,
    RecordingListEnvelope,
    RecordingDelete,
    /// A call's Events list: its items and its envelope.
    EventListItem,
    EventListEnvelope,
}

impl ApiOp {
    pub(crate) const ALL: [ApiOp; 15] = [
        ApiOp::Create,
        ApiOp::Fetch,
        ApiOp::Update,
        ApiOp::ListItem,
        ApiOp::ListEnvelope,
        ApiOp::Delete,
        ApiOp::Error,
        ApiOp::RecordingStart,
        ApiOp::RecordingFetch,
        ApiOp::RecordingUpdate,
        ApiOp::RecordingListItem,
        ApiOp::RecordingListEnvelope,
        ApiOp::RecordingDelete,
        ApiOp::EventListItem,
        ApiOp::EventListEnvelope,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            ApiOp::Create => "create",
            ApiOp::Fetch => "fetch",
            ApiOp::Update => "update",
            ApiOp::ListItem => "list-item",
            ApiOp::ListEnvelope => "list-envelope",
            ApiOp::Delete => "delete",
            ApiOp::Error => "error",
            ApiOp::RecordingStart => "recording-start",
            ApiOp::RecordingFetch => "recording-fetch",
            ApiOp::RecordingUpdate => "recording-update",
            ApiOp::RecordingListItem => "recording-list-item",
            ApiOp::RecordingListEnvelope => "recording-list-envelope",
            ApiOp::RecordingDelete => "recording-delete",
            ApiOp::EventListItem => "event-list-item",
            ApiOp::EventListEnvelope => "event-list-envelope",
        }
    }

    /// A list envelope's own operation for its items, and the key that holds them.
    pub(crate) fn items(self) -> Option<(ApiOp, &'static str)> {
        match self {
            ApiOp::ListEnvelope => Some((ApiOp::ListItem, "calls")),
            ApiOp::RecordingListEnvelope => Some((ApiOp::RecordingListItem, "recordings")),
            ApiOp::EventListEnvelope => Some((ApiOp::EventListItem, "events")),
            _ => None,
        }
    }

    /// Whether it is a DELETE (its mutant is the status, not a field).
    pub(crate) fn is_delete(self) -> bool {
        matches!(self, ApiOp::Delete | ApiOp::RecordingDelete)
    }
}

/// The kind of request the target makes to the sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum HookKind {
    /// The TwiML fetch of a call's instructions (`Url`, `FallbackUrl`, a redirect, an action).
    Twiml,
    Status,
    Recording,
    /// The async answering-machine-detection result sent to `AsyncAmdStatusCallback`.
    Amd,
}

impl HookKind {
    pub(crate) const ALL: [HookKind; 4] = [HookKind::Twiml, HookKind::Status, HookKind::Recording, HookKind::Amd];

    pub(crate) fn name(self) -> &'static str {
        match self {
            HookKind::Twiml => "twiml",
            HookKind::Status => "status",
            HookKind::Recording => "recording",
            HookKind::Amd => "amd",
        }
    }
}

/// What a TwiML request carries beyond the call's parameters when it follows a verb: a
/// `<Gather>`'s keys and a `<Dial>`'s outcome (calls-api-facts.md#gather, #dial-child-calls).
const TWIML_ACTION_PARAMS: [&str; 5] = ["Digits", "FinishedOnKey", "DialCallStatus", "DialCallSid", "DialCallDuration"];

/// The async AMD callback's parameters (calls-api-facts.md#answering-machine-detection).
const AMD_CALLBACK_PARAMS: [&str; 4] = ["CallSid", "AccountSid", "AnsweredBy", "MachineDetectionDuration"];

/// What a mutant does to its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Op {
    /// Remove the field or parameter.
    Drop,
    /// JSON `null`; for a webhook parameter the empty string.
    Null,
    /// Another JSON type (string ↔ number, null → 0); for a parameter, numeric ↔ text.
    Type,
    /// Upper case (lower case where the value is upper case already).
    Case,
    /// Exchange the value with the next sibling of the same type whose value differs.
    Swap,
    /// A number + 1, a date + 1 hour.
    Shift,
    /// Deliver the webhook twice.
    Duplicate,
    /// Do not deliver the webhook (the target is answered 200 with an empty `<Response/>`).
    Omit,
    /// Hold the webhook until the next one of its call has been delivered.
    Reorder,
    /// No `X-Twilio-Signature`.
    SigMissing,
    /// Signed with another account's auth token.
    SigWrongToken,
    /// Signed over the URL alone, without the POST parameters.
    SigNoParams,
    /// Signed for another URL (the sink's own address rather than the one the target was given).
    SigOtherUrl,
    /// One character of the signature changed.
    SigGarbled,
    /// A DELETE answered 200 with a body instead of 204.
    Status200,
}

impl Op {
    pub(crate) const FIELD: [Op; 6] = [Op::Drop, Op::Null, Op::Type, Op::Case, Op::Swap, Op::Shift];
    pub(crate) const WHOLE: [Op; 8] = [
        Op::Duplicate,
        Op::Omit,
        Op::Reorder,
        Op::SigMissing,
        Op::SigWrongToken,
        Op::SigNoParams,
        Op::SigOtherUrl,
        Op::SigGarbled,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Op::Drop => "drop",
            Op::Null => "null",
            Op::Type => "type",
            Op::Case => "case",
            Op::Swap => "swap",
            Op::Shift => "shift",
            Op::Duplicate => "duplicate",
            Op::Omit => "omit",
            Op::Reorder => "reorder",
            Op::SigMissing => "sig-missing",
            Op::SigWrongToken => "sig-wrong-token",
            Op::SigNoParams => "sig-no-params",
            Op::SigOtherUrl => "sig-other-url",
            Op::SigGarbled => "sig-garbled",
            Op::Status200 => "status-200",
        }
    }
}

/// Where a mutant applies.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Target {
    /// A field of an API response body (`*` for the response as a whole).
    Api { op: ApiOp, field: String },
    /// A parameter of a webhook (`*` for the webhook as a whole).
    Hook { kind: HookKind, param: String },
}

/// One generated mutant.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Mutant {
    pub(crate) target: Target,
    pub(crate) op: Op,
    /// The fields or parameters of the same object, in schema order (the candidates of a swap).
    pub(crate) siblings: Vec<String>,
}

impl fmt::Display for Mutant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.target {
            Target::Api { op, field } => write!(f, "api/{}/{field}/{}", op.name(), self.op.name()),
            Target::Hook { kind, param } => write!(f, "hook/{}/{param}/{}", kind.name(), self.op.name()),
        }
    }
}

impl Mutant {
    /// Its stable identifier (`api/create/sid/drop`, `hook/status/*/omit`).
    pub(crate) fn id(&self) -> String {
        self.to_string()
    }
}

fn properties(root: &Path, schema: &str) -> Result<Vec<String>, String> {
    let path = root.join("schemas").join(schema);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let value: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let props = value.get("properties").and_then(Value::as_object).ok_or(format!("{schema}: no properties"))?;
    Ok(props.keys().cloned().collect())
}

/// Every mutant, generated from the payload schemas, in a stable order.
pub(crate) fn generate(root: &Path) -> Result<Vec<Mutant>, String> {
    let call = properties(root, "call.schema.json")?;
    let envelope: Vec<String> =
        properties(root, "call-page.schema.json")?.into_iter().filter(|p| p != "calls").collect();
    let error = properties(root, "error.schema.json")?;
    let rec = properties(root, "recording.schema.json")?;
    let rec_envelope: Vec<String> =
        properties(root, "recording-page.schema.json")?.into_iter().filter(|p| p != "recordings").collect();
    let event = properties(root, "call-event.schema.json")?;
    let event_envelope: Vec<String> =
        properties(root, "call-event-page.schema.json")?.into_iter().filter(|p| p != "events").collect();
    let status = properties(root, "status-callback.schema.json")?;
    let recording = properties(root, "recording-callback.schema.json")?;
    let mut out = Vec::new();
    for op in ApiOp::ALL {
        let fields = match op {
            ApiOp::Create | ApiOp::Fetch | ApiOp::Update | ApiOp::ListItem => &call,
            ApiOp::ListEnvelope => &envelope,
            ApiOp::Error => &error,
            ApiOp::RecordingStart | ApiOp::RecordingFetch | ApiOp::RecordingUpdate | ApiOp::RecordingListItem => &rec,
            ApiOp::RecordingListEnvelope => &rec_envelope,
            ApiOp::EventListItem => &event,
            ApiOp::EventListEnvelope => &event_envelope,
            ApiOp::Delete | ApiOp::RecordingDelete => {
                let target = Target::Api { op, field: "*".into() };
                out.push(Mutant { target, op: Op::Status200, siblings: Vec::new() });
                continue;
            }
        };
        for field in fields {
            for fop in Op::FIELD {
                let target = Target::Api { op, field: field.clone() };
                out.push(Mutant { target, op: fop, siblings: fields.clone() });
            }
        }
    }
    // A TwiML request carries the call's parameters, the status callback's minus its own, and
    // after a verb what the verb gathered.
    let twiml: Vec<String> = status.iter().cloned().chain(TWIML_ACTION_PARAMS.map(String::from)).collect();
    let amd: Vec<String> = AMD_CALLBACK_PARAMS.map(String::from).to_vec();
    for kind in HookKind::ALL {
        let params = match kind {
            HookKind::Twiml => &twiml,
            HookKind::Status => &status,
            HookKind::Recording => &recording,
            HookKind::Amd => &amd,
        };
        for param in params {
            for fop in Op::FIELD {
                let target = Target::Hook { kind, param: param.clone() };
                out.push(Mutant { target, op: fop, siblings: params.clone() });
            }
        }
        for wop in Op::WHOLE {
            out.push(Mutant { target: Target::Hook { kind, param: "*".into() }, op: wop, siblings: Vec::new() });
        }
    }
    Ok(out)
}

/// Why Twilio itself may produce this mutant (it is then no mutant, and not counted), or `None`.
/// Each reason names the section of `docs/reference/calls-api-facts.md` behind the emulator's
/// variance mode (`crates/emulator/src/variance.rs`).
pub(crate) fn twilio_may_produce(id: &str) -> Option<&'static str> {
    match id {
        "api/create/date_created/null" | "api/create/date_updated/null" => {
            Some("Twilio's 201 body may carry null dates (calls-api-facts.md#create-response)")
        }
        "api/create/price/null" | "api/fetch/price/null" | "api/list-item/price/null" | "api/update/price/null" => {
            Some(
                "Twilio's price is null until the call is priced, possibly late (calls-api-facts.md#call-resource-fields)",
            )
        }
        "api/create/phone_number_sid/null"
        | "api/fetch/phone_number_sid/null"
        | "api/list-item/phone_number_sid/null"
        | "api/update/phone_number_sid/null" => Some(
            "Twilio sends phone_number_sid null or \"\" where no number of the account placed the call \
             (calls-api-facts.md#call-resource-fields)",
        ),
        "hook/twiml/Caller/drop" | "hook/twiml/Called/drop" => Some(
            "Twilio's TwiML request parameters do not include Caller and Called, so it may leave them out \
             (calls-api-facts.md#twiml-request); where sent, they are checked against From and To",
        ),
        "api/create/price/shift" | "api/fetch/price/shift" | "api/list-item/price/shift" | "api/update/price/shift" => {
            Some(
                "a call's price is whatever the account's rate makes it, so another well-formed price is one \
                 Twilio may give (calls-api-facts.md#call-resource-fields)",
            )
        }
        // A later view pins the fetched and listed lengths (the cases compare them), not these.
        "api/create/queue_time/shift"
        | "api/update/duration/shift"
        | "hook/recording/RecordingDuration/shift"
        | "hook/twiml/DialCallDuration/shift"
        | "hook/amd/MachineDetectionDuration/shift" => Some(
            "a length Twilio measures, one unit longer, in a view no later view of the same call pins \
                 (the queue time at create, the length in the update's answer, the recording's, a dialed leg's, \
                 the detection's): Twilio may measure that (calls-api-facts.md#call-resource-fields)",
        ),
        "api/recording-start/duration/shift"
        | "api/recording-fetch/duration/shift"
        | "api/recording-update/duration/shift"
        | "api/recording-list-item/duration/shift" => Some(
            "a recording's length, measured by Twilio, one second longer: no other view pins it \
             (calls-api-facts.md#recordings-resource)",
        ),
        "api/recording-start/price/type"
        | "api/recording-fetch/price/type"
        | "api/recording-update/price/type"
        | "api/recording-list-item/price/type" => Some(
            "a recording's price is a string in Twilio's examples and a number in the call form's OpenAPI schema \
             (calls-api-facts.md#recordings-resource)",
        ),
        "hook/recording/ErrorCode/drop" => Some(
            "Twilio does not confirm the name of the absent recording's error parameter, so it may send none \
             named ErrorCode (calls-api-facts.md#recording-callbacks)",
        ),
        "hook/recording/ErrorCode/shift" => Some(
            "16101 (too short) shifted is 16102 (silent), the other documented code of an absent recording \
             (calls-api-facts.md#recording-callbacks)",
        ),
        "hook/twiml/DialCallSid/drop" | "hook/twiml/DialCallDuration/drop" | "hook/twiml/FinishedOnKey/drop" => Some(
            "Twilio's pages do not confirm these names of a verb's action request, so it may send none by them \
             (calls-api-facts.md#gather, #dial-child-calls)",
        ),
        "hook/amd/AccountSid/drop" | "hook/amd/MachineDetectionDuration/drop" | "hook/status/AnsweredBy/drop" => Some(
            "only AnsweredBy is confirmed in the async AMD callback, and AnsweredBy in status callbacks not at all \
             (calls-api-facts.md#answering-machine-detection)",
        ),
        "hook/amd/*/reorder" => Some(
            "the AMD result and the call's status callbacks are separate requests, in no documented order \
             (calls-api-facts.md#answering-machine-detection)",
        ),
        "hook/status/*/reorder" => Some(
            "each status callback is its own request, so they may arrive out of order \
             (calls-api-facts.md#status-callback-events)",
        ),
        "hook/recording/*/reorder" => Some(
            "a recording callback and the call's status callbacks are separate requests, in no documented \
             order (calls-api-facts.md#status-callback-events)",
        ),
        _ => None,
    }
}

/// Why a mutant that fired may survive: what Twilio's docs leave unconstrained. `None` for a
/// mutant that must be killed.
pub(crate) fn survivor_reason(id: &str) -> Option<&'static str> {
    let (target, op) = id.rsplit_once('/').unwrap_or((id, ""));
    let field = target.rsplit('/').next().unwrap_or("");
    let api = id.starts_with("api/");
    let date = ["date_created", "date_updated", "start_time", "end_time"].contains(&field);
    Some(match (api, field, op) {
        (true, _, "shift") if date => {
            "a well-formed RFC 2822 date an hour off: Twilio's docs give no clock or tolerance to hold a \
             target's dates to (calls-api-facts.md#dates)"
        }
        (true, _, "swap") if date => {
            "two well-formed dates of one call exchanged: Twilio's docs state no order between a call's dates"
        }
        (true, "duration", "null") if id.starts_with("api/recording-update/") => {
            "the update's answer may show the recording still running, whose duration is null \
             (calls-api-facts.md#recordings-resource)"
        }
        (true, "date_created" | "date_updated" | "start_time", "null") if id.starts_with("api/recording-start/") => {
            "a start's 201 may carry null dates, as Twilio's 201 for a call does (calls-api-facts.md#create-response)"
        }
        (true, "price_unit", "null") => {
            "a price is set after the call or recording ends, possibly late, at the account's rate \
             (calls-api-facts.md#call-resource-fields); price_unit comes with it"
        }
        (true, "phone_number_sid", "case") => {
            "Twilio's SID pattern admits upper-case hex, and no documented value tells the suite which number's \
             SID it must be (calls-api-facts.md#call-resource-fields)"
        }
        (true, "message", _) if id.starts_with("api/error/") => {
            "an error's message is free text; Twilio documents code, status and more_info (calls-api-facts.md#error-body)"
        }
        (true, "duration" | "end_time", "null") if id.starts_with("api/update/") => {
            "the update's 200 body may show the call before it has ended: Twilio documents no state for it \
             (calls-api-facts.md#update)"
        }
        (false, "Timestamp" | "RecordingStartTime", "shift") => {
            "an event time an hour off: Twilio's docs give no clock or tolerance to hold it to"
        }
        (false, "SipResponseCode", "shift") => {
            "another SIP status: the docs give 487 (timed out) and 404 only as examples of the terminal code \
             (calls-api-facts.md#status-callback-parameters)"
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_from_the_schemas() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("root");
        let all = generate(root).expect("generate");
        let ids: Vec<String> = all.iter().map(Mutant::id).collect();
        assert!(ids.contains(&"api/create/sid/drop".to_owned()));
        assert!(ids.contains(&"api/list-envelope/next_page_uri/null".to_owned()));
        assert!(ids.contains(&"hook/status/SequenceNumber/shift".to_owned()));
        assert!(ids.contains(&"hook/recording/*/sig-wrong-token".to_owned()));
        let mut unique = ids.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), ids.len(), "every id is unique");
        assert!(twilio_may_produce("api/create/date_created/null").is_some());
        assert!(twilio_may_produce("api/fetch/date_created/null").is_none());
        assert!(survivor_reason("api/fetch/start_time/shift").is_some());
        assert!(twilio_may_produce("hook/twiml/Caller/drop").is_some(), "Twilio's TwiML request omits Caller");
        assert!(survivor_reason("hook/twiml/Caller/case").is_none(), "where sent, Caller is From");
        assert!(survivor_reason("hook/status/CallDuration/shift").is_none(), "the call's duration pins it");
        assert!(survivor_reason("hook/status/Caller/drop").is_none(), "the status callback carries Caller");
        assert!(survivor_reason("api/fetch/to_formatted/null").is_none());
    }
}
