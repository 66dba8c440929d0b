//! The recording cases of `callspec sdk`, on a call's Recordings subresource: callspec answers
//! a call that pauses 30 s, waits (within a deadline) until it is `in-progress`, sets up the
//! recordings a case needs through its own client, and asks the driver to start, update (pause,
//! resume through `Twilio.CURRENT`, stop), list, fetch or delete one, on the call's
//! subresource or (list, fetch) the account's Recordings. The wire checks cite
//! `SDK-REC-1` (paths and methods), `SDK-FORM-1`/`-2` (the form) and `SDK-DEL-1` (DELETE); the
//! answer checks compare the driver's recording with the emulator's answer (`SDK-REC-2`). The
//! call is hung up when the case ends.

use super::super::checks::{self, Findings, Miss, Sent};
use super::super::driver::Driver;
use super::super::protocol::{Answer, Scenario};
use super::{Ctx, Fault, obj};
use crate::outcome::FailureKind;
use serde_json::{Value, json};

/// Which recording case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Case {
    /// `start_recording` with channels, a callback and its events.
    Start,
    /// `update_recording`: pause (by SID), resume (`Twilio.CURRENT`), stop (by SID).
    Update,
    /// `list_recordings` of a call with two recordings.
    List,
    /// `fetch_recording` of a stopped recording.
    Fetch,
    /// `delete_recording` of a stopped recording.
    Delete,
    /// `list_account_recordings` of a call with two recordings.
    AccountList,
    /// `fetch_account_recording` of a stopped recording.
    AccountFetch,
}

/// Runs the case on a fresh in-progress call, then hangs the call up.
pub(super) async fn run(case: Case, ctx: &Ctx<'_>, driver: &mut Driver, f: &mut Findings) -> Result<(), Fault> {
    let call = ctx.setup_in_progress_call().await?;
    match case {
        Case::Start => start(ctx, driver, f, &call).await?,
        Case::Update => {
            let re = setup_recording(ctx, &call, false).await?;
            update(ctx, driver, f, &call, &re, &[("Status", "paused"), ("PauseBehavior", "skip")]).await?;
            update(ctx, driver, f, &call, "Twilio.CURRENT", &[("Status", "in-progress")]).await?;
            update(ctx, driver, f, &call, &re, &[("Status", "stopped")]).await?;
        }
        Case::List | Case::AccountList => {
            setup_recording(ctx, &call, true).await?;
            setup_recording(ctx, &call, false).await?;
            list(ctx, driver, f, &call, case == Case::AccountList).await?;
        }
        Case::Fetch | Case::AccountFetch => {
            let re = setup_recording(ctx, &call, true).await?;
            let (scenario, path) = if case == Case::Fetch {
                (Scenario::FetchRecording, ctx.recording_path(&call, &re))
            } else {
                (Scenario::FetchAccountRecording, ctx.account_recording_path(&re))
            };
            let (answer, xs) = ask(ctx, driver, scenario, json!({"call_sid": call, "recording_sid": re})).await?;
            checks::auth(f, &xs, &ctx.common.account_sid, &ctx.common.auth_token);
            let x = checks::single_for(f, "SDK-REC-1", &xs, "GET", &path);
            checks::recording(f, &answer, x.and_then(checks::answered_json).as_ref());
        }
        Case::Delete => {
            let re = setup_recording(ctx, &call, true).await?;
            let (answer, xs) =
                ask(ctx, driver, Scenario::DeleteRecording, json!({"call_sid": call, "recording_sid": re})).await?;
            checks::auth(f, &xs, &ctx.common.account_sid, &ctx.common.auth_token);
            if let Some(x) = checks::single_for(f, "SDK-DEL-1", &xs, "DELETE", &ctx.recording_path(&call, &re)) {
                checks::deleted(f, &answer, x);
            }
        }
    }
    ctx.api("POST", &ctx.call_path(&call), Some(&[("Status", "completed")])).await?;
    Ok(())
}

async fn ask(
    ctx: &Ctx<'_>,
    driver: &mut Driver,
    scenario: Scenario,
    extra: Value,
) -> Result<(Answer, Vec<super::Exchange>), Fault> {
    let lists = matches!(scenario, Scenario::ListRecordings | Scenario::ListAccountRecordings);
    let secs = if lists { 30 } else { 15 };
    ctx.ask(driver, scenario, &ctx.common, obj(extra), secs).await
}

/// Starts a recording of `call` through callspec's own client (and stops it when `stopped`);
/// its SID.
async fn setup_recording(ctx: &Ctx<'_>, call: &str, stopped: bool) -> Result<String, Fault> {
    let (status, body) = ctx.api("POST", &ctx.recordings_path(call), Some(&[])).await?;
    let Some(re) = body["sid"].as_str().filter(|_| (200..300).contains(&status)) else {
        return Err(Fault::Setup(format!("starting a recording answered {status}: {body}")));
    };
    if stopped {
        let (status, body) = ctx.api("POST", &ctx.recording_path(call, re), Some(&[("Status", "stopped")])).await?;
        if status != 200 {
            return Err(Fault::Setup(format!("stopping recording {re} answered {status}: {body}")));
        }
    }
    Ok(re.to_owned())
}

async fn start(ctx: &Ctx<'_>, driver: &mut Driver, f: &mut Findings, call: &str) -> Result<(), Fault> {
    const CALLBACK: &str = "https://sdk.callspec.invalid/recording?from=callspec&x=a+b";
    const EVENTS: [&str; 3] = ["in-progress", "completed", "absent"];
    let params = json!({
        "RecordingChannels": "dual", "RecordingStatusCallback": CALLBACK,
        "RecordingStatusCallbackEvent": EVENTS, "RecordingStatusCallbackMethod": "POST",
    });
    let (answer, xs) = ask(ctx, driver, Scenario::StartRecording, json!({"call_sid": call, "params": params})).await?;
    checks::auth(f, &xs, &ctx.common.account_sid, &ctx.common.auth_token);
    let Some(x) = checks::single_for(f, "SDK-REC-1", &xs, "POST", &ctx.recordings_path(call)) else {
        f.not_run("SDK-REC-2", "the SDK sent no start to compare its recording with");
        return Ok(());
    };
    checks::recording(f, &answer, checks::answered_json(x).as_ref());
    let Some(form) = checks::form_body(f, x) else { return Ok(()) };
    let plain = |name, value| Sent { name, values: vec![value], requirement: "SDK-FORM-1" };
    checks::params(
        f,
        &form,
        &[
            plain("RecordingChannels", "dual"),
            plain("RecordingStatusCallback", CALLBACK),
            plain("RecordingStatusCallbackMethod", "POST"),
            Sent { name: "RecordingStatusCallbackEvent", values: EVENTS.to_vec(), requirement: "SDK-FORM-2" },
        ],
    );
    Ok(())
}

/// One update of recording `which` (a SID or `Twilio.CURRENT`) with `params`.
async fn update(
    ctx: &Ctx<'_>,
    driver: &mut Driver,
    f: &mut Findings,
    call: &str,
    which: &str,
    params: &[(&'static str, &'static str)],
) -> Result<(), Fault> {
    let map: serde_json::Map<String, Value> = params.iter().map(|(k, v)| ((*k).to_owned(), json!(v))).collect();
    let extra = json!({"call_sid": call, "recording_sid": which, "params": map});
    let (answer, xs) = ask(ctx, driver, Scenario::UpdateRecording, extra).await?;
    checks::auth(f, &xs, &ctx.common.account_sid, &ctx.common.auth_token);
    let Some(x) = checks::single_for(f, "SDK-REC-1", &xs, "POST", &ctx.recording_path(call, which)) else {
        f.not_run("SDK-REC-2", "the SDK sent no update to compare its recording with");
        return Ok(());
    };
    checks::recording(f, &answer, checks::answered_json(x).as_ref());
    if let Some(form) = checks::form_body(f, x) {
        let sent: Vec<Sent<'_>> =
            params.iter().map(|(name, value)| Sent { name, values: vec![*value], requirement: "SDK-FORM-1" }).collect();
        checks::params(f, &form, &sent);
    }
    Ok(())
}

/// Lists the call's recordings, on the call's list path or (`account`) on the account's with
/// `CallSid` in every request's query: only GETs of that path (`SDK-REC-1`), and the driver's
/// `sids` are those of every page served, in order (`SDK-REC-2`).
async fn list(ctx: &Ctx<'_>, driver: &mut Driver, f: &mut Findings, call: &str, account: bool) -> Result<(), Fault> {
    let (scenario, path) = if account {
        (Scenario::ListAccountRecordings, ctx.account_recordings_path())
    } else {
        (Scenario::ListRecordings, ctx.recordings_path(call))
    };
    let (answer, xs) = ask(ctx, driver, scenario, json!({"call_sid": call})).await?;
    checks::auth(f, &xs, &ctx.common.account_sid, &ctx.common.auth_token);
    let filtered = |x: &super::Exchange| {
        !account || callspec_model::Form::parse(x.query.as_bytes()).is_ok_and(|q| q.get("CallSid") == Some(call))
    };
    if xs.is_empty() || xs.iter().any(|x| x.method != "GET" || x.path != path || !filtered(x)) {
        let sent: Vec<String> = xs.iter().map(|x| format!("{} {}?{}", x.method, x.path, x.query)).collect();
        f.fail(Miss {
            requirement: "SDK-REC-1",
            kind: FailureKind::Matcher,
            pointer: "/requests".into(),
            expected: if account {
                format!("only GET {path}?…CallSid={call}…")
            } else {
                format!("only GET {path}")
            },
            actual: if sent.is_empty() { "no request".into() } else { sent.join(", ") },
            message: "listing a call's recordings sent requests other than GETs of the list path (with CallSid)".into(),
        });
    } else {
        f.pass("SDK-REC-1");
    }
    let served: Vec<Value> = xs
        .iter()
        .filter_map(checks::answered_json)
        .flat_map(|page| page["recordings"].as_array().cloned().unwrap_or_default())
        .map(|r| r["sid"].clone())
        .collect();
    if xs.is_empty() {
        f.not_run("SDK-REC-2", "the SDK sent no list request, so no page was served");
        return Ok(());
    }
    match &answer {
        Answer::Ok(ok) if ok.get("sids") == Some(&Value::Array(served.clone())) => f.pass("SDK-REC-2"),
        _ => f.fail(Miss {
            requirement: "SDK-REC-2",
            kind: FailureKind::Paging,
            pointer: "/answer/ok/sids".into(),
            expected: Value::Array(served).to_string(),
            actual: answer.describe(),
            message: "the SDK did not return every recording of every page served, once, in order".into(),
        }),
    }
    Ok(())
}
