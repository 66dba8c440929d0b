//! Reading `<Gather>`: its attributes with Twilio's defaults, and the `<Say>`, `<Play>` and
//! `<Pause>` it nests (played while it listens). Running it is the emulator's `gather` module's.

use super::{Element, Verb, verb};
use callspec_model::params::HttpMethod;
use std::time::Duration;

/// `timeout` when absent or not a positive whole number: five seconds.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// `finishOnKey` when absent.
pub(crate) const DEFAULT_FINISH_KEY: char = '#';
/// The keys `finishOnKey` may name (error 13310 otherwise).
const FINISH_KEYS: &str = "0123456789#*";

/// A `<Gather>` as written, defaults applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Gather {
    /// `action` as written (may be relative); `None`: the current document's URL.
    pub(crate) action: Option<String>,
    /// `method`, POST by default.
    pub(crate) method: HttpMethod,
    /// Whether `input` includes `dtmf` (the default `input` is `dtmf`).
    pub(crate) dtmf: bool,
    /// `finishOnKey`, `#` by default; `None` when set to `""` (no finish key).
    pub(crate) finish_on_key: Option<char>,
    /// `numDigits`: the request is made once this many keys arrive.
    pub(crate) num_digits: Option<usize>,
    /// `timeout`: how long silence lasts before the input ends.
    pub(crate) timeout: Duration,
    /// `actionOnEmptyResult="true"`: request the action even with no input.
    pub(crate) action_on_empty_result: bool,
    /// The nested `<Say>`, `<Play>` and `<Pause>`, in order.
    pub(crate) prompt: Vec<Verb>,
}

impl Gather {
    /// How long the nested prompt plays.
    pub(crate) fn prompt_duration(&self) -> Duration {
        self.prompt.iter().map(Verb::duration).sum()
    }
}

fn finish_on_key(value: Option<&str>) -> Option<char> {
    let Some(value) = value else {
        return Some(DEFAULT_FINISH_KEY);
    };
    let value = value.trim();
    let mut chars = value.chars();
    match (chars.next(), chars.next()) {
        (None, _) => None,
        (Some(c), None) if FINISH_KEYS.contains(c) => Some(c),
        // An invalid value is a warning (13310) on Twilio; the default stands.
        _ => Some(DEFAULT_FINISH_KEY),
    }
}

fn positive(value: Option<&str>) -> Option<u64> {
    value.and_then(|v| v.trim().parse::<u64>().ok()).filter(|n| *n > 0)
}

/// Reads a `<Gather>` element; invalid attribute values fall back to their defaults.
pub(crate) fn read(el: &Element) -> Gather {
    let dtmf = el.attr("input").is_none_or(|v| v.split_whitespace().any(|w| w.eq_ignore_ascii_case("dtmf")));
    Gather {
        action: el.attr("action").map(str::trim).filter(|a| !a.is_empty()).map(str::to_owned),
        method: el.attr("method").and_then(HttpMethod::parse).unwrap_or_default(),
        dtmf,
        finish_on_key: finish_on_key(el.attr("finishOnKey")),
        num_digits: positive(el.attr("numDigits")).and_then(|n| usize::try_from(n).ok()),
        timeout: positive(el.attr("timeout")).map_or(DEFAULT_TIMEOUT, Duration::from_secs),
        action_on_empty_result: el.attr("actionOnEmptyResult").is_some_and(|v| v.trim().eq_ignore_ascii_case("true")),
        prompt: el
            .children
            .iter()
            .filter(|c| matches!(c.name.as_str(), "Say" | "Play" | "Pause"))
            .map(|c| verb(c.clone()))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::twiml::parse;

    fn gather(doc: &str) -> Gather {
        match parse(doc).expect("valid TwiML").into_iter().next() {
            Some(Verb::Gather(g)) => *g,
            other => panic!("not a <Gather>: {other:?}"),
        }
    }

    #[test]
    fn defaults() {
        let g = gather("<Response><Gather/></Response>");
        assert_eq!(g.action, None);
        assert_eq!(g.method, HttpMethod::Post);
        assert!(g.dtmf);
        assert_eq!(g.finish_on_key, Some('#'));
        assert_eq!(g.num_digits, None);
        assert_eq!(g.timeout, Duration::from_secs(5));
        assert!(!g.action_on_empty_result);
        assert!(g.prompt.is_empty());
    }

    #[test]
    fn attributes_and_prompt() {
        let g = gather(
            r#"<Response><Gather action="/menu" method="get" input="speech dtmf" finishOnKey="*"
                numDigits="3" timeout="1" actionOnEmptyResult="true">
                <Say>Press</Say><Pause length="2"/><Play>x.mp3</Play><Other/></Gather></Response>"#,
        );
        assert_eq!(g.action.as_deref(), Some("/menu"));
        assert_eq!(g.method, HttpMethod::Get);
        assert!(g.dtmf);
        assert_eq!(g.finish_on_key, Some('*'));
        assert_eq!(g.num_digits, Some(3));
        assert_eq!(g.timeout, Duration::from_secs(1));
        assert!(g.action_on_empty_result);
        assert_eq!(g.prompt.len(), 3);
        assert_eq!(g.prompt_duration(), Duration::from_millis(300) + Duration::from_secs(3));
    }

    #[test]
    fn odd_values_fall_back_to_defaults() {
        let g = gather(r#"<Response><Gather finishOnKey="" timeout="0" numDigits="x" input="speech"/></Response>"#);
        assert_eq!(g.finish_on_key, None, "an empty finishOnKey disables it");
        assert_eq!(g.timeout, DEFAULT_TIMEOUT);
        assert_eq!(g.num_digits, None);
        assert!(!g.dtmf);
        let g = gather(r#"<Response><Gather finishOnKey="ab" method="PUT" action=" "/></Response>"#);
        assert_eq!(g.finish_on_key, Some('#'));
        assert_eq!(g.method, HttpMethod::Post);
        assert_eq!(g.action, None);
    }
}
