//! Answering machine detection on an answered call: what the callee is detected as and when
//! (from the call's `MachineDetection` settings and the callee table), and where the result
//! goes: onto the call (`answered_by`, and `AnsweredBy` in its later webhooks), into the `Url`
//! request it held (sync), or to `AsyncAmdStatusCallback` (async, a task of its own).

use crate::callee::{Answerer, HUMAN_GREETING, MACHINE_GREETING};
use crate::policy;
use crate::state::{Account, Shared};
use crate::webhook::{Target, WebhookKind};
use callspec_model::CallStatus;
use callspec_model::amd::{AmdCallbackParams, AnsweredBy, MachineDetection};
use callspec_model::params::AmdParams;
use std::sync::Arc;
use std::time::Duration;

/// A detection's outcome: the result and how long after the answer it is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Detection {
    /// `AnsweredBy`.
    pub(crate) answered_by: AnsweredBy,
    /// From the answer to the result.
    pub(crate) after: Duration,
}

/// What `amd` detects `who` as. A callee's speech longer than `MachineDetectionSpeechThreshold`
/// is a machine (at the threshold with `Enable`, at the beep ending its greeting with
/// `DetectMessageEnd`); shorter speech is a person, known once `MachineDetectionSpeechEndThreshold`
/// of silence followed it; no speech is `unknown` after `MachineDetectionSilenceTimeout`; and
/// nothing is known later than `MachineDetectionTimeout` (then `unknown`).
pub(crate) fn detect(amd: &AmdParams, who: Answerer) -> Detection {
    let ms = |v: u32| Duration::from_millis(u64::from(v));
    let (threshold, speech_end) = (ms(amd.speech_threshold_ms), ms(amd.speech_end_threshold_ms));
    let speech = match who {
        Answerer::Silent => None,
        Answerer::Machine => Some(MACHINE_GREETING),
        Answerer::Human | Answerer::Digits | Answerer::HangsUp | Answerer::SlowAnswer => Some(HUMAN_GREETING),
    };
    let (answered_by, after) = match speech {
        None => (AnsweredBy::Unknown, ms(amd.silence_timeout_ms)),
        Some(spoken) if spoken <= threshold => (AnsweredBy::Human, spoken + speech_end),
        Some(spoken) => match amd.mode {
            Some(MachineDetection::DetectMessageEnd) => (AnsweredBy::MachineEndBeep, spoken),
            _ => (AnsweredBy::MachineStart, threshold),
        },
    };
    let limit = Duration::from_secs(u64::from(amd.timeout_s));
    if after > limit {
        Detection { answered_by: AnsweredBy::Unknown, after: limit }
    } else {
        Detection { answered_by, after }
    }
}

/// Starts detection on a call the callee `who` just answered. Sync: the detection the caller
/// waits for before requesting `Url`. Async: `None`, and a task reports the result by itself.
/// `None` as well for a call without detection.
pub(crate) fn start(shared: &Arc<Shared>, account: &Arc<Account>, sid: u128, who: Answerer) -> Option<Detection> {
    let amd = account.read().call(&call_sid(sid)).and_then(|rec| rec.live.as_deref()?.plan.amd.clone())?;
    let detection = detect(&amd, who);
    if !amd.async_amd {
        return Some(detection);
    }
    let (shared_, account) = (shared.clone(), account.clone());
    let callback = amd.async_callback.map(|url| Target { url, method: amd.async_callback_method });
    shared.spawn(async move {
        tokio::time::sleep(detection.after).await;
        if store(&account, sid, detection)
            && let Some(target) = callback
        {
            report(&shared_, &account, sid, detection, &target).await;
        }
    });
    None
}

/// Stores the result on the call if it is still in progress; false when it has ended.
fn store(account: &Account, sid: u128, detection: Detection) -> bool {
    let mut data = account.write();
    let Some(rec) = data.call_mut(sid).filter(|rec| rec.status == CallStatus::InProgress) else {
        return false;
    };
    rec.answered_by = Some(detection.answered_by);
    true
}

/// Ends a sync detection: stores the result and returns `AnsweredBy` for the `Url` request it
/// held (`None` when the call has ended, or a fault drops it).
pub(crate) fn conclude(shared: &Shared, account: &Account, sid: u128, detection: Detection) -> Option<String> {
    store(account, sid, detection).then(|| policy::url_answered_by(shared.faults, detection.answered_by)).flatten()
}

/// Sends the async result to `AsyncAmdStatusCallback`, signed like every webhook.
async fn report(shared: &Shared, account: &Account, sid: u128, detection: Detection, target: &Target) {
    let (variance_key, events) =
        account.read().call(&call_sid(sid)).map_or((0, None), |rec| (rec.variance_key, Some(rec.events.clone())));
    let duration_ms = u64::try_from(detection.after.as_millis()).unwrap_or(u64::MAX);
    let params = AmdCallbackParams {
        call_sid: call_sid(sid).to_string(),
        account_sid: account.sid.to_string(),
        answered_by: detection.answered_by,
        machine_detection_duration_ms: (!shared.variance.amd_duration_left_out(variance_key)).then_some(duration_ms),
    };
    // Failures are logged by `send`; the call goes on either way.
    let form = params.to_form();
    let _ = shared.webhooks.send(WebhookKind::AmdCallback, target, &form, &account.auth_token, events.as_ref()).await;
}

fn call_sid(sid: u128) -> callspec_model::Sid {
    callspec_model::Sid::from_parts(callspec_model::SidKind::Call, sid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amd(mode: MachineDetection) -> AmdParams {
        AmdParams { mode: Some(mode), ..AmdParams::default() }
    }

    #[test]
    fn each_callee_is_detected_as_its_contract_says() {
        let enable = amd(MachineDetection::Enable);
        let end = amd(MachineDetection::DetectMessageEnd);
        let human = detect(&enable, Answerer::Human);
        assert_eq!((human.answered_by, human.after), (AnsweredBy::Human, Duration::from_millis(1700)));
        assert_eq!(detect(&end, Answerer::Digits).answered_by, AnsweredBy::Human);
        let machine = detect(&enable, Answerer::Machine);
        assert_eq!((machine.answered_by, machine.after), (AnsweredBy::MachineStart, Duration::from_millis(2400)));
        let beep = detect(&end, Answerer::Machine);
        assert_eq!((beep.answered_by, beep.after), (AnsweredBy::MachineEndBeep, MACHINE_GREETING));
        let silent = detect(&enable, Answerer::Silent);
        assert_eq!((silent.answered_by, silent.after), (AnsweredBy::Unknown, Duration::from_secs(5)));
    }

    #[test]
    fn the_tuning_parameters_move_the_result() {
        let fast = AmdParams {
            speech_threshold_ms: 1000,
            speech_end_threshold_ms: 500,
            silence_timeout_ms: 2000,
            ..amd(MachineDetection::Enable)
        };
        assert_eq!(detect(&fast, Answerer::Machine).after, Duration::from_millis(1000));
        assert_eq!(detect(&fast, Answerer::Human).after, Duration::from_millis(1000));
        assert_eq!(detect(&fast, Answerer::Silent).after, Duration::from_millis(2000));
        // A greeting shorter than the threshold sounds like a person.
        let patient = AmdParams { speech_threshold_ms: 6000, ..amd(MachineDetection::Enable) };
        assert_eq!(detect(&patient, Answerer::Machine).answered_by, AnsweredBy::Human);
        // Nothing is known after MachineDetectionTimeout.
        let hasty = AmdParams { timeout_s: 3, silence_timeout_ms: 10_000, ..amd(MachineDetection::Enable) };
        let timed_out = detect(&hasty, Answerer::Silent);
        assert_eq!((timed_out.answered_by, timed_out.after), (AnsweredBy::Unknown, Duration::from_secs(3)));
    }
}
