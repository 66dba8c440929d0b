//! The driver protocol's messages (`docs/sdk-driver.md`): the handshake line a driver prints
//! first, the request lines callspec writes, and the answer lines a driver writes back, each read
//! into a typed value or a typed reason why it is not one.

use serde_json::{Map, Value};

/// The protocol version callspec speaks; a driver's handshake must name it.
pub const PROTOCOL_VERSION: u64 = 1;

/// The longest line callspec reads from a driver, in bytes.
pub const MAX_LINE: usize = 1 << 20;

/// What a driver can be asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// Create a call with `params`; answer the call.
    CreateCall,
    /// Create a call with `params` that ask for answering machine detection; answer the call.
    CreateCallAmd,
    /// Fetch call `call_sid`; answer the call.
    FetchCall,
    /// List the account's calls with `page_size`; answer every SID.
    ListCalls,
    /// Update call `call_sid` with `params`; answer the call.
    UpdateCall,
    /// Validate a webhook's signature; answer whether it is valid.
    ValidateWebhook,
    /// Delete call `call_sid`; answer `{"deleted": true}`.
    DeleteCall,
    /// Start a recording of call `call_sid` with `params`; answer the recording.
    StartRecording,
    /// Update recording `recording_sid` of call `call_sid` with `params`; answer the recording.
    UpdateRecording,
    /// List the recordings of call `call_sid`; answer every SID.
    ListRecordings,
    /// Fetch recording `recording_sid` of call `call_sid`; answer the recording.
    FetchRecording,
    /// Delete recording `recording_sid` of call `call_sid`; answer `{"deleted": true}`.
    DeleteRecording,
    /// List the account's recordings of call `call_sid` (the `CallSid` filter); answer every SID.
    ListAccountRecordings,
    /// Fetch recording `recording_sid` through the account's Recordings; answer the recording.
    FetchAccountRecording,
}

impl Scenario {
    /// Every scenario, in the order the run asks them.
    pub const ALL: [Scenario; 14] = [
        Scenario::CreateCall,
        Scenario::FetchCall,
        Scenario::ListCalls,
        Scenario::UpdateCall,
        Scenario::ValidateWebhook,
        Scenario::DeleteCall,
        Scenario::StartRecording,
        Scenario::UpdateRecording,
        Scenario::ListRecordings,
        Scenario::FetchRecording,
        Scenario::DeleteRecording,
        Scenario::ListAccountRecordings,
        Scenario::FetchAccountRecording,
        Scenario::CreateCallAmd,
    ];

    /// The name on the wire.
    pub const fn name(self) -> &'static str {
        match self {
            Scenario::CreateCall => "create_call",
            Scenario::CreateCallAmd => "create_call_amd",
            Scenario::FetchCall => "fetch_call",
            Scenario::ListCalls => "list_calls",
            Scenario::UpdateCall => "update_call",
            Scenario::ValidateWebhook => "validate_webhook",
            Scenario::DeleteCall => "delete_call",
            Scenario::StartRecording => "start_recording",
            Scenario::UpdateRecording => "update_recording",
            Scenario::ListRecordings => "list_recordings",
            Scenario::FetchRecording => "fetch_recording",
            Scenario::DeleteRecording => "delete_recording",
            Scenario::ListAccountRecordings => "list_account_recordings",
            Scenario::FetchAccountRecording => "fetch_account_recording",
        }
    }
}

/// The driver's first line: `{"callspec_driver": 1, "sdk": "...", "version": "...", "scenarios": [...]}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hello {
    /// The SDK's name, e.g. `twilio-python`.
    pub sdk: String,
    /// The SDK's version, if the driver says.
    pub version: Option<String>,
    /// The scenarios the driver performs; `None`: every one.
    pub scenarios: Option<Vec<String>>,
}

impl Hello {
    /// Whether the driver declares `scenario`.
    pub fn declares(&self, scenario: Scenario) -> bool {
        self.scenarios.as_ref().is_none_or(|s| s.iter().any(|n| n == scenario.name()))
    }

    /// `twilio-python 9.13.0`.
    pub fn label(&self) -> String {
        match &self.version {
            Some(v) => format!("{} {v}", self.sdk),
            None => self.sdk.clone(),
        }
    }
}

/// Why a line is not what the protocol says it must be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// Not a JSON object.
    #[error("not a JSON object ({0})")]
    NotJson(String),
    /// The handshake names another protocol version, or none.
    #[error("the handshake must say \"callspec_driver\": {PROTOCOL_VERSION}, found {0}")]
    Version(String),
    /// A field is missing or has the wrong type.
    #[error("field `{field}`: {problem}")]
    Field {
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// The answer is for another request.
    #[error("answer for request {found}, expected {expected}")]
    WrongId {
        /// The request's id.
        expected: u64,
        /// The answer's.
        found: String,
    },
}

fn object(line: &str) -> Result<Map<String, Value>, ProtocolError> {
    match serde_json::from_str::<Value>(line) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(ProtocolError::NotJson(format!("a JSON {}", kind(&other)))),
        Err(e) => Err(ProtocolError::NotJson(e.to_string())),
    }
}

/// The JSON type of a value, for messages.
pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Reads the handshake line.
pub fn parse_hello(line: &str) -> Result<Hello, ProtocolError> {
    let map = object(line)?;
    match map.get("callspec_driver") {
        Some(v) if v.as_u64() == Some(PROTOCOL_VERSION) => {}
        other => return Err(ProtocolError::Version(other.map_or_else(|| "nothing".to_owned(), Value::to_string))),
    }
    let field = |field: &'static str, problem: &str| ProtocolError::Field { field, problem: problem.to_owned() };
    let sdk = match map.get("sdk") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        _ => return Err(field("sdk", "must be the SDK's name, a non-empty string")),
    };
    let version = match map.get("version") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(field("version", "must be a string")),
    };
    let scenarios = match map.get("scenarios") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .map(|i| i.as_str().map(str::to_owned))
                .collect::<Option<Vec<String>>>()
                .ok_or_else(|| field("scenarios", "must be an array of scenario names"))?,
        ),
        Some(_) => return Err(field("scenarios", "must be an array of scenario names")),
    };
    Ok(Hello { sdk, version, scenarios })
}

/// What a driver answered: the SDK's result, or the error it raised.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// `{"id": N, "ok": {...}}`.
    Ok(Map<String, Value>),
    /// `{"id": N, "error": {"status": .., "code": .., "message": .., "more_info": ..}}`.
    Error(Map<String, Value>),
}

impl Answer {
    /// The answer as one line of JSON, for messages.
    pub fn describe(&self) -> String {
        let (key, map) = match self {
            Answer::Ok(m) => ("ok", m),
            Answer::Error(m) => ("error", m),
        };
        let text = Value::Object(map.clone()).to_string();
        format!("{key} {}", crate::matcher::shorten(&text, 300))
    }
}

/// Reads an answer line to request `id`.
pub fn parse_answer(line: &str, id: u64) -> Result<Answer, ProtocolError> {
    let mut map = object(line)?;
    match map.get("id") {
        Some(v) if v.as_u64() == Some(id) => {}
        other => {
            let found = other.map_or_else(|| "none".to_owned(), Value::to_string);
            return Err(ProtocolError::WrongId { expected: id, found });
        }
    }
    let ok = map.remove("ok");
    let error = map.remove("error");
    let field = |field: &'static str, problem: &str| ProtocolError::Field { field, problem: problem.to_owned() };
    match (ok, error) {
        (Some(Value::Object(m)), None) => Ok(Answer::Ok(m)),
        (None, Some(Value::Object(m))) => Ok(Answer::Error(m)),
        (Some(_), None) => Err(field("ok", "must be an object")),
        (None, Some(_)) => Err(field("error", "must be an object")),
        _ => Err(field("ok", "an answer has exactly one of `ok` and `error`")),
    }
}

/// A request line: the common fields, then the scenario's own.
pub fn request_line(id: u64, scenario: Scenario, common: &Common, extra: Map<String, Value>) -> String {
    let mut map = Map::new();
    map.insert("id".into(), id.into());
    map.insert("scenario".into(), scenario.name().into());
    map.insert("base_url".into(), common.base_url.clone().into());
    map.insert("account_sid".into(), common.account_sid.clone().into());
    map.insert("auth_token".into(), common.auth_token.clone().into());
    map.extend(extra);
    Value::Object(map).to_string()
}

/// The fields every request carries.
#[derive(Debug, Clone)]
pub struct Common {
    /// Where the API is (the emulator), e.g. `http://127.0.0.1:41234`.
    pub base_url: String,
    /// The account the SDK authenticates as.
    pub account_sid: String,
    /// Its auth token (for `validate_webhook`: the token to validate with).
    pub auth_token: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_lines_are_read_or_refused_with_a_reason() {
        let hello = parse_hello(r#"{"callspec_driver":1,"sdk":"twilio-python","version":"9.13.0"}"#).expect("valid");
        assert_eq!(hello.label(), "twilio-python 9.13.0");
        assert!(hello.declares(Scenario::ListCalls));
        let some = parse_hello(r#"{"callspec_driver":1,"sdk":"x","scenarios":["create_call"]}"#).expect("valid");
        assert!(some.declares(Scenario::CreateCall) && !some.declares(Scenario::ListCalls));
        assert!(matches!(parse_hello(r#"{"callspec_driver":2,"sdk":"x"}"#), Err(ProtocolError::Version(_))));
        assert!(matches!(parse_hello("hello"), Err(ProtocolError::NotJson(_))));
        assert!(matches!(parse_hello(r#"{"callspec_driver":1}"#), Err(ProtocolError::Field { field: "sdk", .. })));
    }

    #[test]
    fn answers_need_their_id_and_one_outcome() {
        assert!(matches!(parse_answer(r#"{"id":3,"ok":{"sid":"CA1"}}"#, 3), Ok(Answer::Ok(_))));
        assert!(matches!(parse_answer(r#"{"id":3,"error":{"status":404}}"#, 3), Ok(Answer::Error(_))));
        assert!(matches!(parse_answer(r#"{"id":2,"ok":{}}"#, 3), Err(ProtocolError::WrongId { .. })));
        assert!(matches!(parse_answer(r#"{"id":3,"ok":{},"error":{}}"#, 3), Err(ProtocolError::Field { .. })));
        assert!(matches!(parse_answer(r#"{"id":3,"ok":[1]}"#, 3), Err(ProtocolError::Field { field: "ok", .. })));
        assert!(matches!(parse_answer("[]", 3), Err(ProtocolError::NotJson(_))));
    }

    #[test]
    fn requests_carry_the_common_fields() {
        let common = Common { base_url: "http://h".into(), account_sid: "AC1".into(), auth_token: "t".into() };
        let mut extra = Map::new();
        extra.insert("page_size".into(), 2.into());
        let line = request_line(7, Scenario::ListCalls, &common, extra);
        let v: Value = serde_json::from_str(&line).expect("JSON");
        assert_eq!(v["id"], 7);
        assert_eq!(v["scenario"], "list_calls");
        assert_eq!(v["page_size"], 2);
        assert!(!line.contains('\n'));
    }
}
