//! The `request` step: build one request from its templates, send it, check the response
//! against `expect`, keep the `capture`d values. Also how every step builds its requests.

use super::setup::form_body;
use super::{HarnessFault, Run, StepStop};
use crate::client::Outgoing;
use crate::fixture::{Auth, Expect, RequestSpec, RequestStep};
use crate::outcome::FailureKind;

/// Whether an answer may be a created call: a create the target refuses (400, 401…) queues
/// nothing, so it needs no CPS slot.
fn may_succeed(expect: &Expect) -> bool {
    let named = |e: &Expect| e.status.is_some() || e.status_in.is_some();
    let created = |e: &Expect| e.status == Some(201) || e.status_in.as_ref().is_some_and(|s| s.contains(&201));
    (!named(expect) && expect.either.is_empty()) || created(expect) || expect.either.iter().any(created)
}

impl Run<'_> {
    /// Whose credentials a request carries.
    fn credentials(&self, auth: Auth) -> Result<Option<(String, String)>, HarnessFault> {
        let trial = || self.h.trial.clone().ok_or(HarnessFault::Profile("a trial account"));
        Ok(match auth {
            Auth::None => None,
            Auth::Account => Some((self.account.sid.clone(), self.account.token.clone())),
            Auth::WrongToken => {
                Some((self.account.sid.clone(), format!("{}x", self.account.token.chars().rev().collect::<String>())))
            }
            Auth::Main => Some((self.h.main.sid.clone(), self.h.main.token.clone())),
            Auth::Trial => {
                let t = trial()?;
                Some((t.sid, t.token))
            }
            Auth::Foreign => {
                let t = trial()?;
                if t.sid == self.account.sid {
                    Some((self.h.main.sid.clone(), self.h.main.token.clone()))
                } else {
                    Some((t.sid, t.token))
                }
            }
        })
    }

    /// The request a spec describes, with every template rendered.
    pub(super) fn build(&self, spec: &RequestSpec, index: Option<usize>) -> Result<Outgoing, StepStop> {
        let path = self.render(&spec.path, index)?;
        let mut url = format!("{}{}", self.h.base_url, path);
        if !spec.query.is_empty() {
            let pairs = self.render_pairs(&spec.query, index)?;
            let q = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs.iter()).finish();
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&q);
        }
        let body = if let Some(raw) = &spec.raw_body {
            Some((raw.content_type.clone(), self.render(&raw.text, index)?.into_bytes()))
        } else if !spec.form.is_empty() || spec.method.eq_ignore_ascii_case("POST") {
            Some(form_body(&self.render_pairs(&spec.form, index)?))
        } else {
            None
        };
        Ok(Outgoing { method: spec.method.to_uppercase(), url, basic: self.credentials(spec.auth)?, body })
    }

    fn render_pairs(
        &self,
        pairs: &[(String, String)],
        index: Option<usize>,
    ) -> Result<Vec<(String, String)>, StepStop> {
        pairs.iter().map(|(k, v)| Ok((k.clone(), self.render(v, index)?))).collect()
    }

    /// The step's label: its name, or the method and path.
    pub(super) fn label_for(&self, out: &Outgoing, name: Option<String>) -> String {
        let path = out.url.strip_prefix(&self.h.base_url).unwrap_or(&out.url);
        name.unwrap_or_else(|| format!("{} {}", out.method, path))
    }

    pub(super) async fn request_step(
        &mut self,
        r: &RequestStep,
        index: Option<usize>,
        name: Option<String>,
    ) -> Result<(), StepStop> {
        let out = self.build(&r.request, index)?;
        self.label = self.label_for(&out, name);
        if let Some(pacer) = self.pacer
            && r.request.creates_call()
            && may_succeed(&r.expect)
        {
            let wait = pacer.book();
            // Recorded before the wait, so the case deadline moves while it lasts.
            super::lock(&self.log).paced += wait;
            tokio::time::sleep(wait).await;
        }
        let resp = match self.send(&out).await {
            Ok(resp) => resp,
            Err(e) => {
                let message = "no usable response from the target";
                self.fail(FailureKind::Transport, None, "an HTTP response", e.to_string(), message, Some(&out));
                self.captures_missing(&r.capture, &format!("step {} got no response", self.step + 1));
                return Ok(());
            }
        };
        self.record_response(index, "request", &resp);
        let mark = self.mark();
        let json = self.check_expect(&r.expect, &resp, &out, index)?;
        self.capture_after(&r.capture, json.as_ref(), &out, mark, resp.status);
        Ok(())
    }
}
