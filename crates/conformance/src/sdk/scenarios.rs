//! The scenarios of `callspec sdk`, each a case named `sdk::NNN_slug`: what callspec sets up
//! in the emulator itself (calls to fetch, list, update), the request it hands the driver, and
//! the checks on the journaled requests and the driver's answer.

use super::checks::{self, Findings, Miss, Sent};
use super::driver::{Driver, DriverFault};
use super::protocol::{Answer, Common, Scenario, request_line};
use super::vectors::{self, Expect, Vector};
use super::{Exchange, Journal, paging};
use crate::client::{Client, Outgoing};
use crate::outcome::FailureKind;
use serde_json::{Map, Value, json};
use std::time::Duration;

mod amd;
mod recordings;

/// One case of the SDK run.
#[derive(Debug, Clone, Copy)]
pub struct Def {
    /// `sdk::NNN_slug`.
    pub name: &'static str,
    /// What it checks, in a sentence.
    pub title: &'static str,
    /// The scenario the driver performs.
    pub scenario: Scenario,
    /// The requirements its checks cite.
    pub requirements: &'static [&'static str],
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Create,
    Fetch,
    List,
    Update(&'static str),
    FetchUnknown,
    Signatures(Expect),
    DeleteCall,
    Recording(recordings::Case),
    AnsweredBy,
}

const WIRE: &[&str] = &["SDK-AUTH-1", "SDK-PATH-1", "SDK-FORM-1", "SDK-READ-1"];

/// Every case, in run order.
pub const CASES: &[Def] = &[
    Def {
        name: "sdk::001_create_call",
        title: "Create a call with a list parameter, a boolean and values that need encoding",
        scenario: Scenario::CreateCall,
        requirements: &["SDK-AUTH-1", "SDK-PATH-1", "SDK-FORM-1", "SDK-FORM-2", "SDK-FORM-3", "SDK-READ-1"],
        kind: Kind::Create,
    },
    Def {
        name: "sdk::002_fetch_call",
        title: "Fetch a completed call and read it (dates, duration)",
        scenario: Scenario::FetchCall,
        requirements: &["SDK-AUTH-1", "SDK-PATH-1", "SDK-READ-1"],
        kind: Kind::Fetch,
    },
    Def {
        name: "sdk::003_list_calls_paged",
        title: "List calls with page size 2, following next_page_uri to the end",
        scenario: Scenario::ListCalls,
        requirements: &["SDK-AUTH-1", "SDK-PATH-1", "SDK-PAGE-1", "SDK-PAGE-2"],
        kind: Kind::List,
    },
    Def {
        name: "sdk::004_update_cancel",
        title: "Cancel a ringing call",
        scenario: Scenario::UpdateCall,
        requirements: WIRE,
        kind: Kind::Update("canceled"),
    },
    Def {
        name: "sdk::005_update_complete",
        title: "Complete (hang up) a call",
        scenario: Scenario::UpdateCall,
        requirements: WIRE,
        kind: Kind::Update("completed"),
    },
    Def {
        name: "sdk::006_fetch_unknown_call",
        title: "Fetch a call that does not exist and surface the error",
        scenario: Scenario::FetchCall,
        requirements: &["SDK-AUTH-1", "SDK-PATH-1", "SDK-ERR-1"],
        kind: Kind::FetchUnknown,
    },
    Def {
        name: "sdk::007_accept_signatures",
        title: "The webhook validator accepts what Twilio signs (vectors V1-V12, V14, port variants)",
        scenario: Scenario::ValidateWebhook,
        requirements: &["SDK-SIG-1"],
        kind: Kind::Signatures(Expect::Accept),
    },
    Def {
        name: "sdk::008_reject_forged_signatures",
        title: "The webhook validator rejects forged signatures, another token, tampered parameters and bodies",
        scenario: Scenario::ValidateWebhook,
        requirements: &["SDK-SIG-2"],
        kind: Kind::Signatures(Expect::Reject),
    },
    Def {
        name: "sdk::009_delete_call",
        title: "Delete an ended call, then fetch it and surface the 404",
        scenario: Scenario::DeleteCall,
        requirements: &["SDK-AUTH-1", "SDK-PATH-1", "SDK-DEL-1", "SDK-ERR-1"],
        kind: Kind::DeleteCall,
    },
    Def {
        name: "sdk::010_start_recording",
        title: "Start a recording of an in-progress call with a list parameter and a callback URL",
        scenario: Scenario::StartRecording,
        requirements: &["SDK-AUTH-1", "SDK-REC-1", "SDK-FORM-1", "SDK-FORM-2", "SDK-REC-2"],
        kind: Kind::Recording(recordings::Case::Start),
    },
    Def {
        name: "sdk::011_update_recording",
        title: "Pause a recording, resume it through Twilio.CURRENT, stop it",
        scenario: Scenario::UpdateRecording,
        requirements: &["SDK-AUTH-1", "SDK-REC-1", "SDK-FORM-1", "SDK-REC-2"],
        kind: Kind::Recording(recordings::Case::Update),
    },
    Def {
        name: "sdk::012_list_recordings",
        title: "List a call's recordings",
        scenario: Scenario::ListRecordings,
        requirements: &["SDK-AUTH-1", "SDK-REC-1", "SDK-REC-2"],
        kind: Kind::Recording(recordings::Case::List),
    },
    Def {
        name: "sdk::013_fetch_recording",
        title: "Fetch a stopped recording",
        scenario: Scenario::FetchRecording,
        requirements: &["SDK-AUTH-1", "SDK-REC-1", "SDK-REC-2"],
        kind: Kind::Recording(recordings::Case::Fetch),
    },
    Def {
        name: "sdk::014_delete_recording",
        title: "Delete a stopped recording",
        scenario: Scenario::DeleteRecording,
        requirements: &["SDK-AUTH-1", "SDK-DEL-1"],
        kind: Kind::Recording(recordings::Case::Delete),
    },
    Def {
        name: "sdk::015_list_account_recordings",
        title: "List the account's recordings of one call (CallSid filter)",
        scenario: Scenario::ListAccountRecordings,
        requirements: &["SDK-AUTH-1", "SDK-REC-1", "SDK-REC-2"],
        kind: Kind::Recording(recordings::Case::AccountList),
    },
    Def {
        name: "sdk::016_fetch_account_recording",
        title: "Fetch a stopped recording through the account's Recordings",
        scenario: Scenario::FetchAccountRecording,
        requirements: &["SDK-AUTH-1", "SDK-REC-1", "SDK-REC-2"],
        kind: Kind::Recording(recordings::Case::AccountFetch),
    },
    Def {
        name: "sdk::017_answered_by",
        title: "Create a call with machine detection to an answering machine, then fetch it and read answered_by",
        scenario: Scenario::CreateCallAmd,
        requirements: &["SDK-AUTH-1", "SDK-PATH-1", "SDK-FORM-1", "SDK-READ-1", "SDK-AMD-1"],
        kind: Kind::AnsweredBy,
    },
];

/// Why a case could not reach a verdict: the case is ERROR.
#[derive(Debug, thiserror::Error)]
pub enum Fault {
    /// The driver crashed, hung or broke the protocol (it is restarted for the next case).
    #[error(transparent)]
    Driver(#[from] DriverFault),
    /// callspec's own setup in the emulator failed.
    #[error("setup in the emulator failed: {0}")]
    Setup(String),
    /// The driver's answer lacks what the protocol requires of it.
    #[error("the driver's answer breaks the protocol: {0}")]
    Protocol(String),
}

/// What a case works with.
pub struct Ctx<'a> {
    /// callspec's own client, for setup.
    pub client: &'a Client,
    /// The fields every request carries.
    pub common: Common,
    /// The emulator's journal.
    pub journal: &'a dyn Journal,
    /// The account's number calls come from.
    pub from: String,
    /// A number that answers.
    pub answer: String,
    /// A number that rings and never answers.
    pub no_answer: String,
    /// A number answered by an answering machine (a greeting of at least 3 s, then a beep).
    pub machine: String,
    /// Scales every deadline.
    pub multiplier: f64,
}

impl Ctx<'_> {
    fn deadline(&self, secs: u64) -> Duration {
        Duration::from_secs_f64(secs as f64 * self.multiplier)
    }

    fn calls_path(&self) -> String {
        format!("/2010-04-01/Accounts/{}/Calls.json", self.common.account_sid)
    }

    fn call_path(&self, sid: &str) -> String {
        format!("/2010-04-01/Accounts/{}/Calls/{sid}.json", self.common.account_sid)
    }

    fn recordings_path(&self, call: &str) -> String {
        format!("/2010-04-01/Accounts/{}/Calls/{call}/Recordings.json", self.common.account_sid)
    }

    fn recording_path(&self, call: &str, sid: &str) -> String {
        format!("/2010-04-01/Accounts/{}/Calls/{call}/Recordings/{sid}.json", self.common.account_sid)
    }

    fn account_recordings_path(&self) -> String {
        format!("/2010-04-01/Accounts/{}/Recordings.json", self.common.account_sid)
    }

    fn account_recording_path(&self, sid: &str) -> String {
        format!("/2010-04-01/Accounts/{}/Recordings/{sid}.json", self.common.account_sid)
    }

    /// Sends `method` to `path` (with a form body of `pairs` when given) through callspec's own
    /// client, as the account; the status and the JSON body (`null` when there is none).
    async fn api(&self, method: &str, path: &str, pairs: Option<&[(&str, &str)]>) -> Result<(u16, Value), Fault> {
        let body = pairs.map(|p| {
            let form = callspec_model::Form::from_pairs(p.iter().copied()).encode();
            ("application/x-www-form-urlencoded".to_owned(), form.into_bytes())
        });
        let out = Outgoing {
            method: method.into(),
            url: format!("{}{path}", self.common.base_url),
            basic: Some((self.common.account_sid.clone(), self.common.auth_token.clone())),
            body,
        };
        let got = self.client.send(&out).await.map_err(|e| Fault::Setup(e.to_string()))?;
        Ok((got.status, got.json().unwrap_or(Value::Null)))
    }

    /// Creates a call through callspec's own client; its SID.
    async fn setup_call(&self, to: &str) -> Result<String, Fault> {
        self.setup_call_with(to, "<Response><Pause length=\"30\"/></Response>").await
    }

    /// Creates a call that answers, runs a one-second TwiML and ends; its SID once it is
    /// `completed` (so it has a `duration` and an `end_time`), polled within a deadline.
    async fn setup_completed_call(&self) -> Result<String, Fault> {
        let sid = self.setup_call_with(&self.answer, "<Response><Pause length=\"1\"/></Response>").await?;
        self.wait_status(&sid, "completed").await?;
        Ok(sid)
    }

    /// Creates a call that answers and pauses 30 s; its SID once it is `in-progress`.
    async fn setup_in_progress_call(&self) -> Result<String, Fault> {
        let sid = self.setup_call(&self.answer).await?;
        self.wait_status(&sid, "in-progress").await?;
        Ok(sid)
    }

    /// Polls call `sid` until its status is `want`, within a 20 s deadline.
    async fn wait_status(&self, sid: &str, want: &str) -> Result<(), Fault> {
        let until = tokio::time::Instant::now() + self.deadline(20);
        loop {
            let (_, body) = self.api("GET", &self.call_path(sid), None).await?;
            let status = body["status"].as_str().map(str::to_owned);
            if status.as_deref() == Some(want) {
                return Ok(());
            }
            if tokio::time::Instant::now() >= until {
                return Err(Fault::Setup(format!("call {sid} did not become {want} in time (status {status:?})")));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn setup_call_with(&self, to: &str, twiml: &str) -> Result<String, Fault> {
        let pairs = [("To", to), ("From", self.from.as_str()), ("Twiml", twiml)];
        let (status, body) = self.api("POST", &self.calls_path(), Some(&pairs)).await?;
        match (status, body["sid"].as_str()) {
            (201, Some(sid)) => Ok(sid.to_owned()),
            (status, _) => Err(Fault::Setup(format!(
                "creating a call answered {status}: {}",
                crate::matcher::shorten(&body.to_string(), 200)
            ))),
        }
    }

    /// Asks the driver; its answer and the requests the emulator journaled meanwhile.
    async fn ask(
        &self,
        driver: &mut Driver,
        scenario: Scenario,
        common: &Common,
        extra: Map<String, Value>,
        secs: u64,
    ) -> Result<(Answer, Vec<Exchange>), Fault> {
        let mark = self.journal.len();
        let answer = driver.ask(|id| request_line(id, scenario, common, extra), self.deadline(secs)).await?;
        Ok((answer, self.journal.since(mark)))
    }
}

/// What a case found: its findings and notes.
pub struct Found {
    /// The checks' findings.
    pub findings: Findings,
    /// Notes for the report (answers that are reported, not judged).
    pub notes: Vec<String>,
}

/// Runs one case with the driver.
pub async fn run(def: &Def, ctx: &Ctx<'_>, driver: &mut Driver) -> Result<Found, Fault> {
    let mut f = Findings::new(format!("{} via the driver", def.scenario.name()));
    let mut notes = Vec::new();
    match def.kind {
        Kind::Create => create(ctx, driver, &mut f).await?,
        Kind::Fetch => {
            let sid = ctx.setup_completed_call().await?;
            let (answer, xs) = ctx.ask(driver, def.scenario, &ctx.common, obj(json!({"call_sid": sid})), 15).await?;
            read_call(ctx, &mut f, &answer, &xs, "GET", &ctx.call_path(&sid));
        }
        Kind::List => list(ctx, driver, &mut f).await?,
        Kind::Update(status) => {
            let sid = ctx.setup_call(&ctx.no_answer).await?;
            let extra = obj(json!({"call_sid": sid, "params": {"Status": status}}));
            let (answer, xs) = ctx.ask(driver, def.scenario, &ctx.common, extra, 15).await?;
            if let Some(x) = read_call(ctx, &mut f, &answer, &xs, "POST", &ctx.call_path(&sid))
                && let Some(form) = checks::form_body(&mut f, x)
            {
                checks::params(
                    &mut f,
                    &form,
                    &[Sent { name: "Status", values: vec![status], requirement: "SDK-FORM-1" }],
                );
            }
        }
        Kind::FetchUnknown => {
            let sid = "CA0000000000000000000000000000dead";
            let (answer, xs) = ctx.ask(driver, def.scenario, &ctx.common, obj(json!({"call_sid": sid})), 15).await?;
            checks::auth(&mut f, &xs, &ctx.common.account_sid, &ctx.common.auth_token);
            match checks::single(&mut f, &xs, "GET", &ctx.call_path(sid)) {
                Some(x) => checks::error(&mut f, &answer, x),
                None => f.not_run("SDK-ERR-1", "the SDK sent no fetch to compare its error with"),
            }
        }
        Kind::DeleteCall => delete_call(ctx, driver, &mut f).await?,
        Kind::Recording(case) => recordings::run(case, ctx, driver, &mut f).await?,
        Kind::AnsweredBy => amd::run(ctx, driver, &mut f).await?,
        Kind::Signatures(expect) => {
            let list: Vec<&Vector> = match expect {
                Expect::Reject => vectors::REJECT.iter().collect(),
                _ => vectors::ACCEPT.iter().chain(vectors::EITHER).collect(),
            };
            for vector in list {
                signature(ctx, driver, &mut f, &mut notes, vector).await?;
            }
        }
    }
    Ok(Found { findings: f, notes })
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// Auth and path checks of a call operation and `SDK-READ-1` on its answer; the exchange.
fn read_call<'x>(
    ctx: &Ctx<'_>,
    f: &mut Findings,
    answer: &Answer,
    xs: &'x [Exchange],
    method: &str,
    path: &str,
) -> Option<&'x Exchange> {
    checks::auth(f, xs, &ctx.common.account_sid, &ctx.common.auth_token);
    let x = checks::single(f, xs, method, path);
    let api = x.and_then(checks::answered_json);
    checks::call(f, answer, api.as_ref());
    x
}

async fn create(ctx: &Ctx<'_>, driver: &mut Driver, f: &mut Findings) -> Result<(), Fault> {
    const TWIML: &str = "<Response><Say>callspec + SDK: 1 + 1 = 2</Say></Response>";
    const CALLBACK: &str = "https://sdk.callspec.invalid/status?from=callspec&x=a+b";
    const EVENTS: [&str; 4] = ["initiated", "ringing", "answered", "completed"];
    let params = json!({
        "To": ctx.answer, "From": ctx.from, "Twiml": TWIML, "StatusCallback": CALLBACK,
        "StatusCallbackEvent": EVENTS, "StatusCallbackMethod": "POST", "Record": true,
    });
    let (answer, xs) = ctx.ask(driver, Scenario::CreateCall, &ctx.common, obj(json!({"params": params})), 15).await?;
    let Some(x) = read_call(ctx, f, &answer, &xs, "POST", &ctx.calls_path()) else { return Ok(()) };
    let Some(form) = checks::form_body(f, x) else { return Ok(()) };
    let plain = |name, value| Sent { name, values: vec![value], requirement: "SDK-FORM-1" };
    checks::params(
        f,
        &form,
        &[
            plain("To", ctx.answer.as_str()),
            plain("From", ctx.from.as_str()),
            plain("Twiml", TWIML),
            plain("StatusCallback", CALLBACK),
            plain("StatusCallbackMethod", "POST"),
            Sent { name: "StatusCallbackEvent", values: EVENTS.to_vec(), requirement: "SDK-FORM-2" },
            Sent { name: "Record", values: vec!["true"], requirement: "SDK-FORM-3" },
        ],
    );
    Ok(())
}

/// Deletes an ended call through the driver, then fetches it: the SDK must surface the 404.
async fn delete_call(ctx: &Ctx<'_>, driver: &mut Driver, f: &mut Findings) -> Result<(), Fault> {
    let sid = ctx.setup_completed_call().await?;
    let call = obj(json!({"call_sid": sid}));
    let (answer, xs) = ctx.ask(driver, Scenario::DeleteCall, &ctx.common, call.clone(), 15).await?;
    checks::auth(f, &xs, &ctx.common.account_sid, &ctx.common.auth_token);
    if let Some(x) = checks::single_for(f, "SDK-DEL-1", &xs, "DELETE", &ctx.call_path(&sid)) {
        checks::deleted(f, &answer, x);
    }
    let (answer, xs) = ctx.ask(driver, Scenario::FetchCall, &ctx.common, call, 15).await?;
    checks::auth(f, &xs, &ctx.common.account_sid, &ctx.common.auth_token);
    match checks::single(f, &xs, "GET", &ctx.call_path(&sid)) {
        Some(x) if x.status == 404 => checks::error(f, &answer, x),
        Some(x) => f.not_run("SDK-ERR-1", &format!("the API answered the fetch of the deleted call {}", x.status)),
        None => f.not_run("SDK-ERR-1", "the SDK sent no fetch to compare its error with"),
    }
    Ok(())
}

async fn list(ctx: &Ctx<'_>, driver: &mut Driver, f: &mut Findings) -> Result<(), Fault> {
    for _ in 0..5 {
        ctx.setup_call(&ctx.no_answer).await?;
    }
    let (answer, xs) = ctx.ask(driver, Scenario::ListCalls, &ctx.common, obj(json!({"page_size": 2})), 30).await?;
    checks::auth(f, &xs, &ctx.common.account_sid, &ctx.common.auth_token);
    if xs.is_empty() {
        f.fail(Miss {
            requirement: "SDK-PATH-1",
            kind: FailureKind::Matcher,
            pointer: "/requests".into(),
            expected: format!("GET {}", ctx.calls_path()),
            actual: "no request".into(),
            message: "the SDK listed without asking the API".into(),
        });
        f.not_run("SDK-PAGE-1", "the SDK sent no list request");
        f.not_run("SDK-PAGE-2", "the SDK sent no list request, so no page was served");
        return Ok(());
    }
    let served = paging::requests(f, &xs, &ctx.calls_path(), 2);
    paging::answer(f, &answer, &served);
    Ok(())
}

/// Asks the driver to validate one vector and judges its verdict.
async fn signature(
    ctx: &Ctx<'_>,
    driver: &mut Driver,
    f: &mut Findings,
    notes: &mut Vec<String>,
    vector: &Vector,
) -> Result<(), Fault> {
    let common = Common { auth_token: vector.token.to_owned(), ..ctx.common.clone() };
    let params: Vec<Value> = vector.params.iter().map(|(k, v)| json!([k, v])).collect();
    let extra = obj(json!({
        "url": vector.url, "params": params, "body": vector.body, "signature": vector.signature,
    }));
    let (answer, _) = ctx.ask(driver, Scenario::ValidateWebhook, &common, extra, 10).await?;
    let valid = match &answer {
        Answer::Ok(ok) => match ok.get("valid") {
            Some(Value::Bool(b)) => *b,
            _ => return Err(Fault::Protocol(format!("{}: `ok.valid` must be a boolean", vector.name))),
        },
        Answer::Error(_) => {
            let requirement = if vector.expect == Expect::Reject { "SDK-SIG-2" } else { "SDK-SIG-1" };
            if vector.expect == Expect::Either {
                notes.push(format!("{}: the validator raised an error ({})", vector.name, answer.describe()));
                return Ok(());
            }
            f.fail(Miss {
                requirement,
                kind: FailureKind::Signature,
                pointer: format!("/vectors/{}", vector.name),
                expected: if vector.expect == Expect::Accept { "valid".into() } else { "invalid".into() },
                actual: answer.describe(),
                message: format!("{}: the validator raised an error instead of a verdict", vector.name),
            });
            return Ok(());
        }
    };
    let (requirement, want) = match vector.expect {
        Expect::Accept => ("SDK-SIG-1", true),
        Expect::Reject => ("SDK-SIG-2", false),
        Expect::Either => {
            let verdict = if valid { "accepted" } else { "rejected" };
            notes.push(format!(
                "{}: the validator {verdict} it (either is allowed: Twilio removes `user@` before signing, and only \
                 twilio-node's tests accept it)",
                vector.name
            ));
            return Ok(());
        }
    };
    if valid == want {
        f.pass(requirement);
    } else {
        f.fail(Miss {
            requirement,
            kind: FailureKind::Signature,
            pointer: format!("/vectors/{}", vector.name),
            expected: if want { "valid".into() } else { "invalid".into() },
            actual: if valid { "valid".into() } else { "invalid".into() },
            message: format!(
                "{}: the validator {} it (url {}, signature {})",
                vector.name,
                if valid { "accepted" } else { "rejected" },
                vector.url,
                vector.signature
            ),
        });
    }
    Ok(())
}
