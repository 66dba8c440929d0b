//! Running a `<Gather>`: the keys the callee presses while it listens, when the input ends
//! (finish key, `numDigits`, or silence for `timeout`), and what follows: the action request
//! with `Digits`, or the next verb when nothing was heard. The lifecycle task waits and fetches.

use crate::callee::{Answerer, DIGIT_GAP, DIGITS_PRESSED};
use crate::fault::FaultSet;
use crate::policy;
use crate::redact::MaskedUrl;
use crate::twiml::gather::Gather;
use crate::variance::Variance;
use crate::webhook::Target;
use callspec_model::Form;
use callspec_model::callback::{GatherActionParams, VoiceRequestParams};
use std::time::Duration;

/// What a `<Gather>` heard, and when its input ended (from the start of the `<Gather>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Heard {
    /// How long the `<Gather>` lasted.
    pub(crate) after: Duration,
    /// The keys collected (the finish key left out).
    pub(crate) digits: String,
    /// The finish key, when one ended the input.
    pub(crate) finished_on: Option<char>,
}

/// What the call does once the `<Gather>` ended.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Next {
    /// Request the action and run the TwiML it returns.
    Request(Target, Form),
    /// Go on with the verb after the `<Gather>`.
    FallThrough,
    /// End the call (only under a fault).
    Hangup,
}

/// The keys `who` presses while a `<Gather>` listens, each with its time from the start.
fn keys(who: Answerer) -> Vec<(Duration, char)> {
    if who != Answerer::Digits {
        return Vec::new();
    }
    (1u32..).zip(DIGITS_PRESSED.chars()).map(|(n, key)| (DIGIT_GAP * n, key)).collect()
}

/// Listens to `who`: keys pressed during the prompt interrupt it (barge-in), and the silence
/// timer starts when the prompt ends and again after each key.
pub(crate) fn listen(g: &Gather, who: Answerer, faults: FaultSet) -> Heard {
    let mut digits = String::new();
    let mut quiet_from = g.prompt_duration();
    let heard = if g.dtmf { keys(who) } else { Vec::new() };
    for (at, key) in heard {
        if at > quiet_from + g.timeout {
            break;
        }
        if Some(key) == g.finish_on_key {
            return Heard { after: at, digits: policy::gather_digits(faults, digits, key), finished_on: Some(key) };
        }
        digits.push(key);
        if g.num_digits == Some(digits.chars().count()) {
            return Heard { after: at, digits, finished_on: None };
        }
        quiet_from = at;
    }
    Heard { after: quiet_from + g.timeout, digits, finished_on: None }
}

/// What follows a `<Gather>` that heard `heard`, in a document fetched from `document` (none
/// for inline TwiML). `call` is the call's voice-request parameter set; `key` its variance key.
pub(crate) fn next(
    g: &Gather,
    heard: &Heard,
    document: Option<&url::Url>,
    call: &VoiceRequestParams,
    (faults, variance, key): (FaultSet, Variance, u64),
) -> Next {
    let empty = heard.digits.is_empty();
    if empty && !g.action_on_empty_result {
        return if policy::gather_falls_through(faults) { Next::FallThrough } else { Next::Hangup };
    }
    let url = match (&g.action, document) {
        (Some(action), Some(base)) => base.join(action),
        (Some(action), None) => url::Url::parse(action),
        (None, Some(base)) => Ok(base.clone()),
        (None, None) => {
            tracing::warn!(call = %call.call_sid, "<Gather> without action in inline TwiML; going on");
            return Next::FallThrough;
        }
    };
    let url = match url {
        Ok(url) => url,
        Err(e) => {
            let action = MaskedUrl(g.action.as_deref().unwrap_or_default());
            tracing::warn!(call = %call.call_sid, action = %action, error = %e, "<Gather> action cannot be resolved; going on");
            return Next::FallThrough;
        }
    };
    let params = GatherActionParams {
        call: call.clone(),
        digits: (!empty || variance.empty_digits_sent(key)).then(|| heard.digits.clone()),
        finished_on_key: heard.finished_on.filter(|_| variance.finished_on_key_sent(key)).map(String::from),
    };
    Next::Request(Target { url: url.to_string(), method: g.method }, params.to_form())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fault::Fault;
    use crate::twiml::{Verb, parse};
    use callspec_model::params::HttpMethod;

    fn gather(doc: &str) -> Gather {
        match parse(doc).expect("valid TwiML").into_iter().next() {
            Some(Verb::Gather(g)) => *g,
            other => panic!("not a <Gather>: {other:?}"),
        }
    }

    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn the_finish_key_ends_the_input_and_is_left_out() {
        let g = gather(r#"<Response><Gather timeout="1"/></Response>"#);
        let heard = listen(&g, Answerer::Digits, FaultSet::default());
        assert_eq!(heard, Heard { after: MS(500), digits: "1234".into(), finished_on: Some('#') });
        let faulty = listen(&g, Answerer::Digits, FaultSet::new(&[Fault::GatherDigitsIncludeFinishKey]));
        assert_eq!(faulty.digits, "1234#");
    }

    #[test]
    fn num_digits_another_finish_key_or_none() {
        let two = gather(r#"<Response><Gather numDigits="2"/></Response>"#);
        assert_eq!(
            listen(&two, Answerer::Digits, FaultSet::default()),
            Heard { after: MS(200), digits: "12".into(), finished_on: None }
        );
        let three = gather(r#"<Response><Gather finishOnKey="3"/></Response>"#);
        assert_eq!(listen(&three, Answerer::Digits, FaultSet::default()).digits, "12");
        let none = gather(r#"<Response><Gather finishOnKey="" timeout="1"/></Response>"#);
        let heard = listen(&none, Answerer::Digits, FaultSet::default());
        assert_eq!(heard, Heard { after: MS(1500), digits: "1234#".into(), finished_on: None });
    }

    #[test]
    fn silence_waits_for_the_prompt_then_the_timeout() {
        let g = gather(r#"<Response><Gather timeout="1"><Pause length="2"/></Gather></Response>"#);
        for who in [Answerer::Silent, Answerer::Human, Answerer::Machine] {
            assert_eq!(
                listen(&g, who, FaultSet::default()),
                Heard { after: MS(3000), digits: String::new(), finished_on: None }
            );
        }
        let speech = gather(r#"<Response><Gather input="speech" timeout="1"/></Response>"#);
        assert_eq!(
            listen(&speech, Answerer::Digits, FaultSet::default()).digits,
            "",
            "keys are not heard without dtmf"
        );
    }

    fn call() -> VoiceRequestParams {
        VoiceRequestParams {
            call_sid: "CA1".into(),
            account_sid: "AC1".into(),
            from: "+15017122661".into(),
            to: "+15005559006".into(),
            call_status: "in-progress".into(),
            api_version: "2010-04-01".into(),
            direction: "outbound-api".into(),
            parent_call_sid: None,
            answered_by: None,
            error_code: None,
            error_url: None,
            from_geo: Default::default(),
            to_geo: Default::default(),
        }
    }

    #[test]
    fn the_action_is_the_document_unless_given() {
        let base = url::Url::parse("http://127.0.0.1:9/c/menu.xml?x=1").expect("url");
        let heard = Heard { after: MS(1), digits: "1234".into(), finished_on: Some('#') };
        let plain = (FaultSet::default(), Variance::default(), 0);
        let g = gather("<Response><Gather/></Response>");
        let Next::Request(target, form) = next(&g, &heard, Some(&base), &call(), plain) else { panic!("a request") };
        assert_eq!(target, Target { url: base.to_string(), method: HttpMethod::Post });
        assert_eq!(form.get("Digits"), Some("1234"));
        assert_eq!(form.get("FinishedOnKey"), None);
        assert_eq!(form.get("CallSid"), Some("CA1"));
        let g = gather(r#"<Response><Gather action="next" method="GET"/></Response>"#);
        let Next::Request(target, _) = next(&g, &heard, Some(&base), &call(), plain) else { panic!("a request") };
        assert_eq!(target, Target { url: "http://127.0.0.1:9/c/next".into(), method: HttpMethod::Get });
        assert_eq!(next(&g, &heard, None, &call(), plain), Next::FallThrough, "relative, inline");
    }

    #[test]
    fn an_empty_result_falls_through_unless_asked() {
        let base = url::Url::parse("http://127.0.0.1:9/menu.xml").expect("url");
        let empty = Heard { after: MS(1), digits: String::new(), finished_on: None };
        let plain = (FaultSet::default(), Variance::default(), 0);
        let g = gather("<Response><Gather/></Response>");
        assert_eq!(next(&g, &empty, Some(&base), &call(), plain), Next::FallThrough);
        let faulty = (FaultSet::new(&[Fault::GatherNoInputSkipsNextVerb]), Variance::default(), 0);
        assert_eq!(next(&g, &empty, Some(&base), &call(), faulty), Next::Hangup);
        let g = gather(r#"<Response><Gather actionOnEmptyResult="true"/></Response>"#);
        let Next::Request(_, form) = next(&g, &empty, Some(&base), &call(), plain) else { panic!("a request") };
        assert_eq!(form.get("Digits"), None);
    }
}
