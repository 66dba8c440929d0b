//! A dequeued call's life: ringing, the callee's outcome, TwiML execution with fallback and
//! redirects, and the end. One task per dialed call; updates reach it through [`Control`].

use crate::amd;
use crate::callee::{self, Answerer, Outcome};
use crate::callflow::{self, Answered};
use crate::dial::{self, DialEnd};
use crate::gather;
use crate::policy;
use crate::redact::MaskedUrl;
use crate::state::{Account, CallRecord, Control, Shared, now_ms};
use crate::timelimit;
use crate::twiml::{self, Verb};
use crate::webhook::{Target, WebhookError, WebhookKind};
use callspec_model::callback::VoiceRequestParams;
use callspec_model::error::code;
use callspec_model::params::{HttpMethod, Instructions};
use callspec_model::{CallStatus, Form};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::Instant;

/// Most TwiML documents one call loads (redirect loops end the call after this many).
const MAX_DOCUMENTS: usize = 100;

/// The call a task runs: what loading documents needs.
struct Core {
    shared: Arc<Shared>,
    account: Arc<Account>,
    sid: u128,
}

/// The call plus the channel updates reach it through.
struct Ctx {
    core: Core,
    control: UnboundedReceiver<Control>,
}

/// Longest wait honoured for one verb or ring (a year): keeps absurd `length`s from overflowing.
const MAX_WAIT: Duration = Duration::from_secs(365 * 86_400);

/// `now + d`, with `d` capped at [`MAX_WAIT`].
fn deadline_after(d: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(d.min(MAX_WAIT)).unwrap_or(now)
}

/// How waiting ended.
enum Wake {
    Elapsed,
    Stop,
    Redirect(Instructions),
}

/// How the call's TwiML ended it.
enum End {
    Completed,
    Busy,
    Stopped,
}

/// Where the next document comes from.
enum Source {
    /// The call's instructions (initial, or from an update): failures try the fallback.
    Primary(Instructions),
    /// A `<Redirect>`: failures end the call.
    Redirect(Target),
    /// A `<Gather>`'s action, with its parameters: failures end the call.
    GatherAction(Target, Form),
    /// A `<Dial action>`, with its parameters: failures end the call.
    DialAction(Target, Form),
}

impl Core {
    fn with_call<R>(&self, f: impl FnOnce(&Shared, &Account, &mut CallRecord) -> R) -> Option<R> {
        let mut data = self.account.write();
        let rec = data.call_mut(self.sid)?;
        Some(f(&self.shared, &self.account, rec))
    }

    fn finish(&self, status: CallStatus) {
        self.with_call(|s, a, rec| callflow::finish(s, a, rec, status, now_ms()));
    }
}

impl Ctx {
    /// Waits `d` unless an update stops or redirects the call first.
    async fn wait(&mut self, d: Duration) -> Wake {
        let deadline = deadline_after(d);
        tokio::select! {
            () = tokio::time::sleep_until(deadline) => Wake::Elapsed,
            msg = self.control.recv() => match msg {
                Some(Control::Redirect(i)) => Wake::Redirect(i),
                Some(Control::Stop) | None => Wake::Stop,
            },
        }
    }

    /// Sync machine detection: waits for its result before the first document (a redirect
    /// meanwhile replaces the instructions), then stores it and adds it to the request
    /// parameters. False when the call was stopped.
    async fn detect(&mut self, d: amd::Detection, answered: &mut Answered) -> bool {
        let deadline = deadline_after(d.after);
        loop {
            match self.wait(deadline.saturating_duration_since(Instant::now())).await {
                Wake::Elapsed => break,
                Wake::Stop => return false,
                Wake::Redirect(i) => answered.instructions = Some(i),
            }
        }
        answered.params.answered_by = amd::conclude(&self.core.shared, &self.core.account, self.core.sid, d);
        true
    }

    /// Waits while ringing: redirects only replace the plan then, so they are not expected.
    async fn ring(&mut self, d: Duration) -> bool {
        let deadline = deadline_after(d);
        loop {
            match self.wait(deadline.saturating_duration_since(Instant::now())).await {
                Wake::Elapsed => return true,
                Wake::Stop => return false,
                Wake::Redirect(_) => {}
            }
        }
    }
}

/// Runs a dequeued (ringing) call to its end.
pub(crate) async fn run(shared: Arc<Shared>, account: Arc<Account>, sid: u128, control: UnboundedReceiver<Control>) {
    let mut ctx = Ctx { core: Core { shared, account, sid }, control };
    let dialed = Instant::now();
    let Some((to, timeout)) =
        ctx.core.with_call(|_, _, rec| (rec.to.clone(), rec.live.as_deref().map_or(60, |l| l.plan.timeout_s)))
    else {
        return;
    };
    let Some(Some((limit, key))) =
        ctx.core.with_call(|_, _, rec| rec.live.as_deref().map(|l| (l.limit.subscribe(), rec.variance_key)))
    else {
        return;
    };
    let ring = ctx.core.shared.config.ring;
    let faults = ctx.core.shared.faults;
    match callee::outcome(&to) {
        Outcome::Failed => ctx.core.finish(CallStatus::Failed),
        Outcome::Busy => {
            if ctx.ring(ring).await {
                ctx.core.finish(policy::busy_status(faults));
            }
        }
        Outcome::NoAnswer => {
            if ctx.ring(policy::ring_timeout(faults, timeout)).await {
                ctx.core.finish(CallStatus::NoAnswer);
            }
        }
        Outcome::Answer(who) => {
            if !ctx.ring(who.ring(ring)).await {
                return;
            }
            let Some(Some(mut answered)) = ctx.core.with_call(|s, a, rec| callflow::answer(s, a, rec, now_ms())) else {
                return;
            };
            let detection = amd::start(&ctx.core.shared, &ctx.core.account, ctx.core.sid, who);
            // A callee that hangs up ends the call `completed`, whatever its TwiML was doing;
            // so does its `TimeLimit`, counted from answer (or, in variance, from dialing).
            let hang_up = deadline_after(who.hangs_up_after().unwrap_or(MAX_WAIT));
            let shared = Arc::clone(&ctx.core.shared);
            let counted_from = if shared.variance.time_limit_from_dial(key) { dialed } else { Instant::now() };
            let end = tokio::select! {
                end = async {
                    // Sync machine detection holds the `Url` request until its result, which it carries.
                    if let Some(d) = detection
                        && !ctx.detect(d, &mut answered).await
                    {
                        return End::Stopped;
                    }
                    execute(&mut ctx, answered, who).await
                } => end,
                () = tokio::time::sleep_until(hang_up) => End::Completed,
                () = timelimit::expired(&shared.config, limit, counted_from) => End::Completed,
            };
            match end {
                End::Completed => ctx.core.finish(CallStatus::Completed),
                End::Busy => ctx.core.finish(CallStatus::Busy),
                End::Stopped => {}
            }
        }
    }
}

/// A loaded document: its verbs and the URL relative redirects resolve against.
struct Document {
    verbs: Vec<Verb>,
    url: Option<url::Url>,
}

async fn execute(ctx: &mut Ctx, answered: Answered, who: Answerer) -> End {
    let params = answered.params;
    let mut next = answered.instructions.map(Source::Primary);
    let mut loaded = 0usize;
    'documents: while let Some(source) = next.take() {
        loaded += 1;
        if loaded > MAX_DOCUMENTS {
            tracing::warn!(call = %sid_text(ctx.core.sid), "more than {MAX_DOCUMENTS} TwiML documents; ending the call");
            return End::Completed;
        }
        let doc = tokio::select! {
            doc = load(&ctx.core, source, &params) => doc,
            msg = ctx.control.recv() => match msg {
                Some(Control::Redirect(i)) => { next = Some(Source::Primary(i)); continue 'documents; }
                Some(Control::Stop) | None => return End::Stopped,
            },
        };
        let Some(doc) = doc else {
            return End::Completed;
        };
        for verb in doc.verbs {
            let step = match verb {
                Verb::Say { .. } | Verb::Pause { .. } | Verb::Play { .. } => timed_verb(ctx, verb.duration()).await,
                Verb::Redirect { url, method } => redirect_verb(ctx.core.sid, doc.url.as_ref(), &url, method),
                Verb::Gather(g) => gather_verb(ctx, &g, who, doc.url.as_ref(), &params).await,
                Verb::Dial(dial) => dial_verb(ctx, &dial, doc.url.as_ref(), &params).await,
                Verb::Hangup => Err(End::Completed),
                Verb::Reject => Err(End::Busy),
                Verb::Other(name) => {
                    tracing::debug!(call = %sid_text(ctx.core.sid), verb = %name, "skipping unsupported verb");
                    Ok(None)
                }
            };
            match step {
                Ok(None) => {}
                Ok(Some(source)) => {
                    next = Some(source);
                    continue 'documents;
                }
                Err(end) => return end,
            }
        }
        return End::Completed;
    }
    End::Completed
}

/// What a verb leaves the call to do: `Ok(None)` go on with the next verb, `Ok(Some)` load
/// that document instead, `Err` the call is over.
type Step = Result<Option<Source>, End>;

/// `<Say>`, `<Pause>`, `<Play>`: the call is busy for `d`, unless an update stops or redirects it.
async fn timed_verb(ctx: &mut Ctx, d: Duration) -> Step {
    match ctx.wait(d).await {
        Wake::Elapsed => Ok(None),
        Wake::Stop => Err(End::Stopped),
        Wake::Redirect(i) => Ok(Some(Source::Primary(i))),
    }
}

/// `<Redirect>`: the URL resolved against the document's; one that cannot be ends the call.
fn redirect_verb(sid: u128, base: Option<&url::Url>, url: &str, method: HttpMethod) -> Step {
    let resolved = match base {
        Some(base) => base.join(url),
        None => url::Url::parse(url),
    };
    match resolved {
        Ok(u) => Ok(Some(Source::Redirect(Target { url: u.to_string(), method }))),
        Err(e) => {
            let url = MaskedUrl(url);
            tracing::warn!(call = %sid_text(sid), url = %url, error = %e, "<Redirect> URL cannot be resolved; ending the call");
            Err(End::Completed)
        }
    }
}

/// `<Gather>`: listens for what the callee presses, then requests the action, falls through
/// or ends the call, as `gather` decides.
async fn gather_verb(
    ctx: &mut Ctx,
    g: &twiml::gather::Gather,
    who: Answerer,
    base: Option<&url::Url>,
    params: &VoiceRequestParams,
) -> Step {
    let heard = gather::listen(g, who, ctx.core.shared.faults);
    if let Some(source) = timed_verb(ctx, heard.after).await? {
        return Ok(Some(source));
    }
    let key = ctx.core.with_call(|_, _, rec| rec.variance_key).unwrap_or_default();
    let (faults, variance) = (ctx.core.shared.faults, ctx.core.shared.variance);
    match gather::next(g, &heard, base, params, (faults, variance, key)) {
        gather::Next::Request(target, form) => Ok(Some(Source::GatherAction(target, form))),
        gather::Next::FallThrough => Ok(None),
        gather::Next::Hangup => Err(End::Completed),
    }
}

/// Runs a `<Dial>`: `Ok(None)` to go on with the next verb, `Ok(Some)` for the document to
/// load instead (the action, or an update's redirect), `Err` when the call is over.
async fn dial_verb(ctx: &mut Ctx, d: &twiml::dial::Dial, base: Option<&url::Url>, params: &VoiceRequestParams) -> Step {
    let (shared, account, sid) = (ctx.core.shared.clone(), ctx.core.account.clone(), ctx.core.sid);
    let outcome = match dial::run(&shared, &account, sid, &params.from, &mut ctx.control, d).await {
        DialEnd::Done(outcome) => outcome,
        DialEnd::Stopped => return Err(End::Stopped),
        DialEnd::Redirect(i) => return Ok(Some(Source::Primary(i))),
    };
    match dial::action(shared.faults, d, base) {
        Ok(None) => Ok(None),
        Ok(Some(target)) => {
            let key = ctx.core.with_call(|_, _, rec| rec.variance_key).unwrap_or(0);
            Ok(Some(Source::DialAction(target, dial::action_params(&shared, params, key, 0, &outcome).to_form())))
        }
        Err(e) => {
            tracing::warn!(call = %sid_text(sid), error = %e, "<Dial action> cannot be resolved; ending the call");
            Err(End::Completed)
        }
    }
}

fn sid_text(sid: u128) -> String {
    callspec_model::Sid::from_parts(callspec_model::SidKind::Call, sid).to_string()
}

/// Fetches and parses one document: `Some` when it is TwiML to run.
async fn fetch(ctx: &Core, kind: WebhookKind, target: &Target, form: &Form) -> Result<Document, u32> {
    let events = ctx.with_call(|_, _, rec| rec.events.clone());
    let result = ctx.shared.webhooks.send(kind, target, form, &ctx.account.auth_token, events.as_ref()).await;
    match result {
        Ok(body) => match twiml::parse(&body) {
            Ok(verbs) => Ok(Document { verbs, url: url::Url::parse(&target.url).ok() }),
            Err(e) => {
                let url = MaskedUrl(&target.url);
                tracing::warn!(call = %sid_text(ctx.sid), %kind, url = %url, error = %e, "not TwiML");
                Err(code::DOCUMENT_PARSE_FAILURE)
            }
        },
        Err(WebhookError::Status(_)) => Err(code::HTTP_RETRIEVAL_FAILURE),
        // A host the allow list refuses is reported as unreachable, not as a distinct case.
        Err(_) => Err(code::HTTP_CONNECTION_FAILURE),
    }
}

async fn load(ctx: &Core, source: Source, params: &VoiceRequestParams) -> Option<Document> {
    match source {
        Source::Primary(Instructions::Twiml(text)) => match twiml::parse(&text) {
            Ok(verbs) => Some(Document { verbs, url: None }),
            Err(e) => {
                tracing::warn!(call = %sid_text(ctx.sid), error = %e, "inline Twiml is not TwiML; ending the call");
                None
            }
        },
        Source::Primary(Instructions::Url { url, method }) => {
            let target = Target { url, method };
            let code = match fetch(ctx, WebhookKind::Twiml, &target, &params.to_form()).await {
                Ok(doc) => return Some(doc),
                Err(code) => code,
            };
            if !policy::uses_fallback(ctx.shared.faults) {
                return None;
            }
            let fallback = ctx.with_call(|_, _, rec| callflow::fallback(rec)).flatten()?;
            let mut with_error = params.clone();
            with_error.error_code = Some(code.to_string());
            with_error.error_url = Some(target.url.clone());
            fetch(ctx, WebhookKind::Fallback, &fallback, &with_error.to_form()).await.ok()
        }
        Source::Primary(Instructions::Application(_)) => None,
        Source::Redirect(target) => fetch(ctx, WebhookKind::Redirect, &target, &params.to_form()).await.ok(),
        Source::GatherAction(target, form) => fetch(ctx, WebhookKind::GatherAction, &target, &form).await.ok(),
        Source::DialAction(target, form) => fetch(ctx, WebhookKind::DialAction, &target, &form).await.ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absurd_waits_do_not_overflow() {
        let far = deadline_after(Duration::MAX);
        assert!(far > Instant::now() + Duration::from_secs(364 * 86_400));
        assert!(deadline_after(Duration::ZERO) <= Instant::now());
        assert_eq!(Verb::Pause { seconds: u64::MAX }.duration(), Duration::from_secs(u64::MAX));
    }
}
