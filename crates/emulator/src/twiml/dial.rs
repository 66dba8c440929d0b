//! Reading `<Dial>`: its attributes and its `<Number>`, `<Client>` and `<Sip>` nouns (or a bare
//! number as its text), as `docs/reference/calls-api-facts.md#dial-verb` describes them.
//! Execution lives in the emulator's `dial` module.

use super::Element;
use callspec_model::StatusCallbackEvent;
use callspec_model::params::HttpMethod;

/// `<Dial timeout>` when absent: a `<Dial>` leg rings 30 s.
pub(crate) const DEFAULT_TIMEOUT_S: u32 = 30;
/// Most nouns one `<Dial>` rings at once.
pub(crate) const MAX_NOUNS: usize = 10;

/// A `<Dial>` verb.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Dial {
    /// `action`: requested when the dialed call ends, as written (may be relative).
    pub(crate) action: Option<String>,
    /// `method` of the action request, POST by default.
    pub(crate) method: HttpMethod,
    /// `timeout`: seconds each leg rings before it is `no-answer`.
    pub(crate) timeout_s: u32,
    /// `callerId`: the `From` of every leg (the parent's `From` when absent).
    pub(crate) caller_id: Option<String>,
    /// `timeLimit`: most seconds the bridged call lasts.
    pub(crate) time_limit_s: Option<u64>,
    /// `record`, read but not acted on.
    pub(crate) record: Option<String>,
    /// What to ring, in document order (at most [`MAX_NOUNS`]).
    pub(crate) nouns: Vec<Noun>,
}

/// One party a `<Dial>` rings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Noun {
    /// The leg's `To`: an E.164 number, `client:name` or a `sip:` URI.
    pub(crate) to: String,
    /// `statusCallback`: where the leg's status callbacks go.
    pub(crate) status_callback: Option<String>,
    /// `statusCallbackMethod`, POST by default.
    pub(crate) status_callback_method: HttpMethod,
    /// `statusCallbackEvent`, space-separated in the attribute; empty means `completed` only.
    pub(crate) events: Vec<StatusCallbackEvent>,
}

/// A positive whole number of seconds, if the attribute holds one.
fn seconds(el: &Element, name: &str) -> Option<u64> {
    el.attr(name).and_then(|v| v.trim().parse::<u64>().ok()).filter(|n| *n > 0)
}

fn method(el: &Element, name: &str) -> HttpMethod {
    el.attr(name).and_then(HttpMethod::parse).unwrap_or_default()
}

/// Reads a noun element; `None` for an element that is no noun, or names no one.
fn noun(el: &Element) -> Option<Noun> {
    let text = el.deep_text();
    let text = text.trim();
    let to = match el.name.as_str() {
        "Number" | "Sip" => text.to_owned(),
        // `<Client>` names a client either as its text or in an `<Identity>` child.
        "Client" if text.starts_with("client:") => text.to_owned(),
        "Client" => format!("client:{text}"),
        _ => return None,
    };
    if text.is_empty() {
        return None;
    }
    let events = el
        .attr("statusCallbackEvent")
        .map(|v| v.split_whitespace().filter_map(|e| e.parse::<StatusCallbackEvent>().ok()).collect())
        .unwrap_or_default();
    Some(Noun {
        to,
        status_callback: el.attr("statusCallback").map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()),
        status_callback_method: method(el, "statusCallbackMethod"),
        events,
    })
}

/// Reads a `<Dial>` element.
pub(crate) fn read(el: &Element) -> Dial {
    let mut nouns: Vec<Noun> = el.children.iter().filter_map(noun).collect();
    let bare = el.text.trim();
    if nouns.is_empty() && !bare.is_empty() {
        let events = Vec::new();
        nouns.push(Noun {
            to: bare.to_owned(),
            status_callback: None,
            status_callback_method: HttpMethod::Post,
            events,
        });
    }
    nouns.truncate(MAX_NOUNS);
    Dial {
        action: el.attr("action").map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()),
        method: method(el, "method"),
        timeout_s: seconds(el, "timeout").and_then(|s| u32::try_from(s).ok()).unwrap_or(DEFAULT_TIMEOUT_S),
        caller_id: el.attr("callerId").map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()),
        time_limit_s: seconds(el, "timeLimit"),
        record: el.attr("record").map(str::to_owned),
        nouns,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Verb, parse};
    use super::*;

    fn dial(doc: &str) -> Dial {
        match parse(doc).expect("valid TwiML").remove(0) {
            Verb::Dial(d) => d,
            other => panic!("not a <Dial>: {other:?}"),
        }
    }

    #[test]
    fn reads_attributes_and_nouns() {
        let d = dial(
            r#"<Response><Dial action="/after" method="GET" timeout="2" callerId="+15005550006" timeLimit="60" record="record-from-answer">
                <Number statusCallback="https://x.test/cb" statusCallbackEvent="initiated  ringing answered completed bogus" statusCallbackMethod="GET">+14155551212</Number>
                <Client>joey</Client><Sip>sip:kate@example.com</Sip><Conference>room</Conference></Dial></Response>"#,
        );
        assert_eq!(d.action.as_deref(), Some("/after"));
        assert_eq!((d.method, d.timeout_s, d.time_limit_s), (HttpMethod::Get, 2, Some(60)));
        assert_eq!((d.caller_id.as_deref(), d.record.as_deref()), (Some("+15005550006"), Some("record-from-answer")));
        let to: Vec<_> = d.nouns.iter().map(|n| n.to.as_str()).collect();
        assert_eq!(to, ["+14155551212", "client:joey", "sip:kate@example.com"]);
        assert_eq!(d.nouns[0].events, StatusCallbackEvent::ALL);
        assert_eq!(d.nouns[0].status_callback.as_deref(), Some("https://x.test/cb"));
        assert_eq!(d.nouns[0].status_callback_method, HttpMethod::Get);
        assert_eq!((d.nouns[1].status_callback.as_deref(), d.nouns[1].events.len()), (None, 0));
    }

    #[test]
    fn defaults_and_a_bare_number() {
        let d = dial("<Response><Dial timeout=\"0\"> +14155551212 </Dial></Response>");
        assert_eq!((d.action, d.method, d.timeout_s, d.time_limit_s), (None, HttpMethod::Post, 30, None));
        assert_eq!(d.nouns.len(), 1);
        assert_eq!(d.nouns[0].to, "+14155551212");
        let many = format!("<Response><Dial>{}</Dial></Response>", "<Number>+14155551212</Number>".repeat(12));
        assert_eq!(dial(&many).nouns.len(), MAX_NOUNS);
        assert!(dial("<Response><Dial><Number> </Number></Dial></Response>").nouns.is_empty());
    }
}
