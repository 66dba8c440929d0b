//! The answering-machine-detection case of `callspec sdk` (`sdk::017_answered_by`): the driver
//! creates a call to the answering machine with `MachineDetection=Enable` and
//! `MachineDetectionSpeechThreshold=1000` (`create_call_amd`); callspec polls the call through its
//! own client, within a deadline, until the API answers a non-null `answered_by`; then the
//! driver fetches the call (`fetch_call`). The wire checks cite `SDK-AUTH-1`, `SDK-PATH-1`,
//! `SDK-FORM-1` (the numbers and TwiML) and `SDK-AMD-1` (the detection parameters under Twilio's
//! names); the answer checks compare both calls with the emulator's journaled answers
//! (`SDK-READ-1` every field, `SDK-AMD-1` `answered_by`: null on create, the result on fetch).
//! The call is hung up when the case ends.

use super::super::checks::{self, Findings, Miss, Sent};
use super::super::driver::Driver;
use super::super::protocol::{Answer, Scenario};
use super::{Ctx, Fault, obj, read_call};
use crate::outcome::FailureKind;
use serde_json::{Value, json};
use std::time::Duration;

const R: &str = "SDK-AMD-1";

/// Runs the case.
pub(super) async fn run(ctx: &Ctx<'_>, driver: &mut Driver, f: &mut Findings) -> Result<(), Fault> {
    const TWIML: &str = "<Response><Pause length=\"30\"/></Response>";
    let params = json!({
        "To": ctx.machine, "From": ctx.from, "Twiml": TWIML,
        "MachineDetection": "Enable", "MachineDetectionSpeechThreshold": 1000,
    });
    let (answer, xs) =
        ctx.ask(driver, Scenario::CreateCallAmd, &ctx.common, obj(json!({"params": params})), 15).await?;
    let Some(x) = read_call(ctx, f, &answer, &xs, "POST", &ctx.calls_path()) else {
        f.not_run(R, "the SDK sent no create to check");
        return Ok(());
    };
    let created = checks::answered_json(x);
    if let Some(form) = checks::form_body(f, x) {
        let sent = |name, value, requirement| Sent { name, values: vec![value], requirement };
        checks::params(
            f,
            &form,
            &[
                sent("To", ctx.machine.as_str(), "SDK-FORM-1"),
                sent("From", ctx.from.as_str(), "SDK-FORM-1"),
                sent("Twiml", TWIML, "SDK-FORM-1"),
                sent("MachineDetection", "Enable", R),
                sent("MachineDetectionSpeechThreshold", "1000", R),
            ],
        );
    }
    let Some(sid) = created.as_ref().and_then(|c| c["sid"].as_str()).map(str::to_owned) else {
        f.not_run(R, "the API created no call (see the request checks), so there is nothing to detect");
        return Ok(());
    };
    surfaced(f, &answer, created.as_ref(), "on create");
    let fetched = match detected(ctx, &sid).await {
        Ok(()) => ctx.ask(driver, Scenario::FetchCall, &ctx.common, obj(json!({"call_sid": sid})), 15).await,
        Err(e) => Err(e),
    };
    let hung_up = ctx.api("POST", &ctx.call_path(&sid), Some(&[("Status", "completed")])).await;
    let (answer, xs) = fetched?;
    hung_up?;
    if let Some(x) = read_call(ctx, f, &answer, &xs, "GET", &ctx.call_path(&sid)) {
        let api = checks::answered_json(x);
        match api.as_ref().map(|c| &c["answered_by"]) {
            Some(Value::Null) => f.not_run(R, "the API's answer to the SDK's fetch had no detection result"),
            _ => surfaced(f, &answer, api.as_ref(), "after detection"),
        }
    }
    Ok(())
}

/// Polls call `sid` through callspec's own client until the API answers a non-null
/// `answered_by`, within a 20 s deadline.
async fn detected(ctx: &Ctx<'_>, sid: &str) -> Result<(), Fault> {
    let until = tokio::time::Instant::now() + ctx.deadline(20);
    loop {
        let (_, body) = ctx.api("GET", &ctx.call_path(sid), None).await?;
        if !body["answered_by"].is_null() {
            return Ok(());
        }
        if tokio::time::Instant::now() >= until {
            return Err(Fault::Setup(format!(
                "call {sid} had no answered_by in time (status {}, answered_by {})",
                body["status"], body["answered_by"]
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `SDK-AMD-1`: the driver's `answered_by` is the one the API answered (`api`, the journaled
/// answer to the SDK's own request), exactly: null as null, the result as its string.
fn surfaced(f: &mut Findings, answer: &Answer, api: Option<&Value>, when: &str) {
    let Some(api) = api else {
        f.not_run(R, "the API answered no call to compare with (see the request checks)");
        return;
    };
    let want = &api["answered_by"];
    let got = match answer {
        Answer::Ok(ok) => ok.get("answered_by"),
        Answer::Error(_) => None,
    };
    if got == Some(want) {
        f.pass(R);
    } else {
        f.fail(Miss {
            requirement: R,
            kind: FailureKind::Matcher,
            pointer: "/answer/ok/answered_by".into(),
            expected: want.to_string(),
            actual: got.map_or_else(|| answer.describe(), Value::to_string),
            message: format!("the SDK's `answered_by` {when} is not what the API answered"),
        });
    }
}
