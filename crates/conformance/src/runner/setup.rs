//! Account setup before a case's first step: a fresh subaccount with its own number when the
//! target can make them, else a shared account; the case's variables and the sink's routes.

use super::{Harness, HarnessFault};
use crate::client::{Incoming, Outgoing};
use crate::fixture::{AccountChoice, Case};
use crate::matcher::shorten;
use crate::profile::{Account, CALLEE_KINDS};
use crate::sink::Route;
use crate::template::Vars;
use std::collections::BTreeMap;
use std::time::Duration;

/// The From of most of the guide's examples (https://www.twilio.com/docs/voice/make-calls).
const DOCS_FROM: &str = "+15017122661";
/// The From of the guide's SendDigits and StatusCallback examples.
const DOCS_OTHER_FROM: &str = "+18668675310";
/// The To of the guide's examples.
const DOCS_TO: &str = "+14155551212";

/// A form body with its content type.
pub(super) fn form_body(pairs: &[(String, String)]) -> (String, Vec<u8>) {
    let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs.iter()).finish();
    ("application/x-www-form-urlencoded".into(), body.into_bytes())
}

fn random_digits(n: usize) -> String {
    let v = callspec_model::Sid::random(callspec_model::SidKind::Call).value();
    let s = format!("{:040}", v);
    s[s.len() - n..].to_owned()
}

/// The JSON body of a 200 or 201 answer to a setup request.
fn expect_created(
    what: &'static str,
    resp: Result<Incoming, crate::client::ClientError>,
) -> Result<serde_json::Value, HarnessFault> {
    let setup = |detail: String| HarnessFault::Setup { what, detail };
    let resp = resp.map_err(|e| setup(e.to_string()))?;
    if resp.status != 201 && resp.status != 200 {
        return Err(setup(format!("HTTP {}: {}", resp.status, shorten(&String::from_utf8_lossy(&resp.body), 300))));
    }
    resp.json().map_err(|e| setup(e.to_string()))
}

fn json_str(v: &serde_json::Value, pointer: &str) -> Option<String> {
    v.pointer(pointer).and_then(|x| x.as_str()).map(str::to_owned)
}

impl Harness {
    /// The account a case acts as, and its From number.
    pub(super) async fn setup_account(&self, case: &Case, isolated: bool) -> Result<(Account, String), HarnessFault> {
        match case.data.account {
            AccountChoice::Trial => {
                let trial = self.trial.clone().ok_or(HarnessFault::Profile("a trial account"))?;
                let from = self.profile.trial.as_ref().map(|t| t.from.clone()).unwrap_or_default();
                Ok((trial, from))
            }
            AccountChoice::Main => Ok((self.main.clone(), self.profile.numbers.from.clone())),
            AccountChoice::Fresh if !isolated => Ok((self.main.clone(), self.profile.numbers.from.clone())),
            AccountChoice::Fresh => self.fresh_account(case).await,
        }
    }

    /// Creates a subaccount and buys it a number.
    async fn fresh_account(&self, case: &Case) -> Result<(Account, String), HarnessFault> {
        const CREATE: &str = "create subaccount";
        let create = Outgoing {
            method: "POST".into(),
            url: format!("{}/2010-04-01/Accounts.json", self.base_url),
            basic: Some((self.main.sid.clone(), self.main.token.clone())),
            body: Some(form_body(&[("FriendlyName".into(), format!("callspec {}", case.name))])),
        };
        let json = expect_created(CREATE, self.client.send(&create).await)?;
        let field = |pointer: &str, name: &str| {
            json_str(&json, pointer)
                .ok_or_else(|| HarnessFault::Setup { what: CREATE, detail: format!("no {name} in the answer") })
        };
        let account = Account { sid: field("/sid", "sid")?, token: field("/auth_token", "auth_token")? };
        let prefix = self.profile.numbers.fresh_prefix.clone().unwrap_or_else(|| "+1555".into());
        let number = format!("{prefix}{}", random_digits(12usize.saturating_sub(prefix.len()).max(1)));
        let buy = Outgoing {
            method: "POST".into(),
            url: format!("{}/2010-04-01/Accounts/{}/IncomingPhoneNumbers.json", self.base_url, account.sid),
            basic: Some((account.sid.clone(), account.token.clone())),
            body: Some(form_body(&[("PhoneNumber".into(), number.clone())])),
        };
        expect_created("buy a number", self.client.send(&buy).await)?;
        Ok((account, number))
    }

    /// The variables every case starts with: accounts, numbers, dates, limits.
    pub(super) fn base_vars(&self, account: &Account, from: &str) -> Vars {
        let mut v = Vars::default();
        let n = &self.profile.numbers;
        v.set("AccountSid", account.sid.clone());
        v.set_secret("AuthToken", account.token.clone());
        v.set("From", from);
        v.set("MainAccountSid", self.main.sid.clone());
        v.set("MainFrom", n.from.clone());
        for (i, other) in n.other_from.iter().enumerate() {
            v.set(&format!("OtherFrom{i}"), other.clone());
        }
        v.set("AnswerNumber", n.answer.clone());
        self.docs_numbers(&mut v, account, from);
        for kind in CALLEE_KINDS {
            if let Some(value) = self.profile.callee(kind.key) {
                v.set(kind.variable, value);
            }
        }
        if let (Some(t), Some(acct)) = (&self.profile.trial, &self.trial) {
            v.set("TrialAccountSid", acct.sid.clone());
            v.set("TrialFrom", t.from.clone());
            v.set("TrialVerifiedNumber", t.verified_number.clone());
            v.set("TrialUnverifiedNumber", t.unverified_number.clone());
        }
        if let Some(limit) = self.profile.capabilities.concurrency_limit {
            v.set("ConcurrencyLimit", limit.to_string());
        }
        // The dequeue rate the profile declares, and the average time between dequeues it implies.
        if let Some(cps) = self.profile.capabilities.cps.filter(|c| c.is_finite() && *c > 0.0) {
            v.set("Cps", cps.to_string());
            v.set("DequeueIntervalMs", ((1000.0 / cps).round() as u64).to_string());
        }
        let now = time::OffsetDateTime::now_utc().date();
        v.set("Today", now.to_string());
        v.set("Yesterday", now.previous_day().map(|d| d.to_string()).unwrap_or_default());
        v.set("Tomorrow", now.next_day().map(|d| d.to_string()).unwrap_or_default());
        v.set(
            "Unreachable",
            self.profile.sink.unreachable_url.clone().unwrap_or_else(|| "http://127.0.0.1:9/unreachable".into()),
        );
        v
    }

    /// `{DocsFrom}`, `{DocsOtherFrom}`, `{DocsTo}`: the numbers of Twilio's Making Calls guide where
    /// the case may use them, else the case's own. A From is the docs' only when the case acts as
    /// the main account and the profile lists the number among that account's (`numbers.from`,
    /// `numbers.other_from`); the To only when it is the profile's `numbers.answer`. So no verdict
    /// depends on owning a number the profile does not list.
    fn docs_numbers(&self, v: &mut Vars, account: &Account, from: &str) {
        let n = &self.profile.numbers;
        let owned = |docs: &str| {
            (account.sid == self.main.sid && (n.from == docs || n.other_from.iter().any(|o| o == docs)))
                .then(|| docs.to_owned())
        };
        v.set("DocsFrom", owned(DOCS_FROM).unwrap_or_else(|| from.to_owned()));
        v.set("DocsOtherFrom", owned(DOCS_OTHER_FROM).unwrap_or_else(|| from.to_owned()));
        v.set("DocsTo", if n.answer == DOCS_TO { DOCS_TO.to_owned() } else { n.answer.clone() });
    }

    /// The sink's canned responses for a case, rendered with the variables known so far.
    pub(super) fn routes(&self, case: &Case, vars: &Vars) -> BTreeMap<String, Route> {
        let mut routes = BTreeMap::new();
        for (path, r) in &case.data.sink {
            // A body that names a variable not captured yet is served once the capture exists.
            let body = match &r.body {
                Some(b) => match vars.render(b, None) {
                    Ok(text) => Some(text),
                    Err(_) => continue,
                },
                None => None,
            };
            let content_type = r.content_type.clone().unwrap_or_else(|| "text/xml".into());
            routes.insert(
                path.clone(),
                Route { status: r.status, body, content_type, delay: r.delay_ms.map(Duration::from_millis) },
            );
        }
        routes
    }
}
