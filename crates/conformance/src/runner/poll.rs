//! The `poll` step: repeat a request until its `until` matchers hold (and, with `until_status`, it
//! answers one of those statuses), within a deadline, then check the final response and keep its
//! captures.

use super::{HarnessFault, Run, StepStop, scaled};
use crate::client::{ClientError, Incoming};
use crate::fixture::{Matcher, PollStep};
use crate::matcher::{RuleError, check_rule, describe_rule, show};
use crate::outcome::FailureKind;
use crate::pace::Backoff;
use std::time::{Duration, Instant};

/// The last answer a poll saw.
type LastAnswer = Option<(Incoming, Option<serde_json::Value>)>;

impl Run<'_> {
    pub(super) async fn poll_step(
        &mut self,
        p: &PollStep,
        index: Option<usize>,
        name: Option<String>,
    ) -> Result<(), StepStop> {
        let out = self.build(&p.request, index)?;
        self.label = match name {
            Some(n) => n,
            None => format!("poll {}", self.label_for(&out, None)),
        };
        let within = scaled(self.h, p.within_ms);
        let deadline = Instant::now() + within;
        // A fixed pause where the case sets one; else back off, sparing the target's quota.
        let mut pauses = match p.interval_ms {
            Some(ms) => Backoff::new(Duration::from_millis(ms), Duration::from_millis(ms)),
            None => Backoff::new(Duration::from_millis(100), Duration::from_secs(1)),
        };
        let mut last: LastAnswer = None;
        let mut last_error: Option<ClientError> = None;
        loop {
            match self.send(&out).await {
                Ok(resp) => {
                    let json = resp.json().ok();
                    let status_holds = p.until_status.as_ref().is_none_or(|s| s.contains(&resp.status));
                    let holds = status_holds
                        && match &json {
                            _ if p.until.is_empty() => true,
                            Some(j) => self.holds(&p.until, j, index)?,
                            None => false,
                        };
                    last = Some((resp, json));
                    if holds {
                        break;
                    }
                }
                Err(e) => last_error = Some(e),
            }
            let pause = pauses.next_wait();
            // The last attempt is made at the deadline rather than skipped for a long pause.
            let pause = pause.min(deadline.saturating_duration_since(Instant::now()));
            if pause.is_zero() {
                self.checked(None);
                let (kind, actual) = describe_last(p, &last, last_error.as_ref());
                let mut expected =
                    p.until.iter().map(|m| format!("{} {}", m.pointer, describe_rule(&m.rule))).collect::<Vec<_>>();
                if let Some(statuses) = &p.until_status {
                    expected.insert(0, format!("HTTP status in {statuses:?}"));
                }
                let message = format!("condition not reached within {} ms", within.as_millis());
                self.fail(kind, None, expected.join(", "), actual, message, Some(&out));
                self.captures_missing(&p.capture, &format!("step {} never reached its condition", self.step + 1));
                return Ok(());
            }
            tokio::time::sleep(pause).await;
        }
        if let Some((resp, json)) = &last {
            self.record_response(index, "poll", resp);
            let mark = self.mark();
            let json = match &p.expect {
                Some(expect) => self.check_expect(expect, resp, &out, index)?,
                None => {
                    self.checked(None);
                    json.clone()
                }
            };
            self.capture_after(&p.capture, json.as_ref(), &out, mark, resp.status);
        }
        Ok(())
    }

    /// Whether every matcher holds on a body.
    fn holds(&self, until: &[Matcher], json: &serde_json::Value, index: Option<usize>) -> Result<bool, StepStop> {
        for m in until {
            match check_rule(&m.rule, json.pointer(&m.pointer), &self.vars, index) {
                Ok(()) => {}
                Err(RuleError::Mismatch(_)) => return Ok(false),
                Err(RuleError::Template(e)) => return Err(self.template_stop(e)),
                Err(RuleError::BadRegex(e)) => return Err(StepStop::Fault(HarnessFault::Fixture(e))),
            }
        }
        Ok(true)
    }
}

/// What the poll last saw, and the kind of failure it makes: a target that never answered is a
/// transport failure, one that answered but never reached the condition a poll failure.
fn describe_last(p: &PollStep, last: &LastAnswer, error: Option<&ClientError>) -> (FailureKind, String) {
    match last {
        Some((resp, json)) => {
            let mut parts = Vec::new();
            if p.until_status.is_some() {
                parts.push(format!("HTTP {}", resp.status));
            }
            match json {
                Some(j) => {
                    parts.extend(p.until.iter().map(|m| format!("{} = {}", m.pointer, show(j.pointer(&m.pointer)))))
                }
                None if !p.until.is_empty() => parts.push(format!("HTTP {} with a non-JSON body", resp.status)),
                None => {}
            }
            (FailureKind::Poll, parts.join(", "))
        }
        None => {
            (FailureKind::Transport, format!("no response: {}", error.map(ToString::to_string).unwrap_or_default()))
        }
    }
}
