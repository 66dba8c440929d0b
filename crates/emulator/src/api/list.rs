//! `GET …/Calls.json`: filters, `PageSize` / `Page` / `PageToken` paging, newest first.
//!
//! Calls are ordered by creation (newest first; creation order breaks ties of equal
//! `date_created`). `PageToken=PA{sid}` continues after that call, `PB{sid}` is the page
//! just before it, so following `next_page_uri` visits every call exactly once.

use super::Req;
use super::page::{Envelope, page_params};
use crate::error::{ApiError, json_response};
use crate::policy;
use crate::resources::{self, View};
use crate::state::CallRecord;
use axum::http::StatusCode;
use axum::response::Response;
use callspec_model::error::code;
use callspec_model::{CallStatus, Form, Sid, SidKind, rfc2822};
use std::ops::Bound;

/// Query parameters the calls list understands.
pub(super) const LIST_PARAMETERS: &[&str] = &[
    "To",
    "From",
    "Status",
    "ParentCallSid",
    "StartTime",
    "StartTime<",
    "StartTime>",
    "EndTime",
    "EndTime<",
    "EndTime>",
    "PageSize",
    "Page",
    "PageToken",
];

/// A date filter's value: a whole UTC day, or an instant (to the second).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum When {
    /// `[start, end)` in ms.
    Day(i64, i64),
    /// ms, whole seconds.
    Instant(i64),
}

/// `=`, `<` or `>` on a date filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    /// On that day (or that second).
    On,
    /// Strictly before.
    Before,
    /// On or after.
    OnOrAfter,
}

impl When {
    pub(super) fn parse(s: &str) -> Option<When> {
        let s = s.trim();
        let date_format = time::macros::format_description!("[year]-[month]-[day]");
        if let Ok(date) = time::Date::parse(s, &date_format) {
            let start = date.midnight().assume_utc().unix_timestamp() * 1000;
            return Some(When::Day(start, start + 86_400_000));
        }
        if let Ok(at) = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339) {
            return Some(When::Instant(at.unix_timestamp() * 1000));
        }
        rfc2822::parse(s).ok().map(|at| When::Instant(at.unix_timestamp() * 1000))
    }

    pub(super) fn matches(self, op: Op, t: i64) -> bool {
        let (lo, hi) = match self {
            When::Day(lo, hi) => (lo, hi),
            When::Instant(at) => (at, at + 1000),
        };
        match op {
            Op::On => (lo..hi).contains(&t),
            Op::Before => t < lo,
            Op::OnOrAfter => t >= lo,
        }
    }
}

/// The operator of a date filter named `name` on the field `base` (`base`, `base<`, `base>`).
pub(super) fn date_op(name: &str, base: &str) -> Option<Op> {
    match name.strip_prefix(base)? {
        "" => Some(Op::On),
        "<" => Some(Op::Before),
        ">" => Some(Op::OnOrAfter),
        _ => None,
    }
}

/// Where a page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    /// `PA{sid}`: the calls after (older than) this one.
    After(u128),
    /// `PB{sid}`: the calls before (newer than) this one.
    Before(u128),
}

impl Token {
    fn parse(s: &str) -> Option<Token> {
        let (kind, sid) = (s.get(..2)?, s.get(2..)?);
        let sid = Sid::parse_kind(sid, SidKind::Call).ok()?.value();
        match kind {
            "PA" => Some(Token::After(sid)),
            "PB" => Some(Token::Before(sid)),
            _ => None,
        }
    }
}

#[derive(Debug, Default)]
struct Filters {
    echoed: Vec<(String, String)>,
    to: Option<String>,
    from: Option<String>,
    status: Option<CallStatus>,
    parent: Option<Sid>,
    start: Vec<(Op, When)>,
    end: Vec<(Op, When)>,
}

pub(super) fn invalid(name: &str, value: &str, why: &str) -> ApiError {
    ApiError::bad_request(code::INVALID_PARAMETER, format!("{name} {why}: {value:?}"))
}

impl Filters {
    fn parse(query: &Form) -> Result<Filters, ApiError> {
        let mut f = Filters::default();
        for (name, value) in query.pairs() {
            match name.as_str() {
                "To" => f.to = Some(value.clone()),
                "From" => f.from = Some(value.clone()),
                "Status" => {
                    let status =
                        value.parse::<CallStatus>().map_err(|_| invalid(name, value, "is not a call status"))?;
                    f.status = Some(status);
                }
                "ParentCallSid" => {
                    let sid =
                        Sid::parse_kind(value, SidKind::Call).map_err(|_| invalid(name, value, "is not a call SID"))?;
                    f.parent = Some(sid);
                }
                _ => {
                    if let Some(op) = date_op(name, "StartTime") {
                        let when =
                            When::parse(value).ok_or_else(|| invalid(name, value, "is not a date (YYYY-MM-DD)"))?;
                        f.start.push((op, when));
                    } else if let Some(op) = date_op(name, "EndTime") {
                        let when =
                            When::parse(value).ok_or_else(|| invalid(name, value, "is not a date (YYYY-MM-DD)"))?;
                        f.end.push((op, when));
                    } else {
                        continue;
                    }
                }
            }
            f.echoed.push((name.clone(), value.clone()));
        }
        Ok(f)
    }

    fn matches(&self, rec: &CallRecord) -> bool {
        let times = |filters: &[(Op, When)], t: Option<i64>| match t {
            None => filters.is_empty(),
            Some(t) => filters.iter().all(|(op, when)| when.matches(*op, t)),
        };
        self.to.as_deref().is_none_or(|to| *rec.to == *to)
            && self.from.as_deref().is_none_or(|from| *rec.from == *from)
            && self.status.is_none_or(|s| rec.status == s)
            && self.parent.is_none_or(|p| rec.parent == Some(p.value()))
            && times(&self.start, rec.start_ms)
            && times(&self.end, rec.end_ms)
    }
}

/// `PageToken`, when sent: its text and the page it names.
fn page_token(query: &Form) -> Result<Option<(&str, Token)>, ApiError> {
    let Some(text) = query.get("PageToken").filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let invalid = || ApiError::bad_request(code::PAGE_TOKEN_INVALID, format!("Invalid PageToken {text:?}"));
    Ok(Some((text, Token::parse(text).ok_or_else(invalid)?)))
}

/// `GET …/Calls.json`.
pub(super) fn list(req: &Req<'_>) -> Result<Response, ApiError> {
    let query = req.query_form()?;
    req.strict_check(&query, LIST_PARAMETERS, &[])?;
    let faults = req.shared.faults;
    let mut filters = Filters::parse(&query)?;
    if !policy::list_filters_apply(faults) {
        (filters.to, filters.from, filters.status) = (None, None, None);
    }
    let (size, page) = page_params(&query)?;
    let sent = page_token(&query)?;
    let (token_text, token) = (sent.map(|(text, _)| text), sent.map(|(_, token)| token));
    let account = &req.account;
    let data = account.read();
    let seq_of = |sid: u128| {
        data.index.get(&sid).copied().ok_or_else(|| {
            ApiError::bad_request(code::PAGE_TOKEN_INVALID, "Invalid PageToken: it names no call of this account")
        })
    };
    let matching = |r: &&CallRecord| filters.matches(r);
    let (records, more): (Vec<&CallRecord>, bool) = match token {
        None => {
            let skip = page.saturating_mul(size);
            let mut v: Vec<&CallRecord> = if policy::list_newest_first(faults) {
                data.calls.values().rev().filter(matching).skip(skip).take(size + 1).collect()
            } else {
                data.calls.values().filter(matching).skip(skip).take(size + 1).collect()
            };
            let more = v.len() > size;
            v.truncate(size);
            (v, more)
        }
        Some(Token::After(sid)) => {
            let seq = seq_of(sid)?;
            let mut v: Vec<&CallRecord> = data
                .calls
                .range(..policy::next_page_end(faults, seq))
                .rev()
                .map(|(_, r)| r)
                .filter(matching)
                .take(size + 1)
                .collect();
            let more = v.len() > size;
            v.truncate(size);
            (v, more)
        }
        Some(Token::Before(sid)) => {
            let seq = seq_of(sid)?;
            let mut v: Vec<&CallRecord> = data
                .calls
                .range((Bound::Excluded(seq), Bound::Unbounded))
                .map(|(_, r)| r)
                .filter(matching)
                .take(size)
                .collect();
            v.reverse();
            let more = data.calls.range(..=seq).rev().map(|(_, r)| r).any(|r| filters.matches(r));
            (v, more)
        }
    };
    // Copy the page out and render it after releasing the lock.
    let records: Vec<CallRecord> = records.into_iter().map(CallRecord::snapshot).collect();
    drop(data);
    let token_for = |prefix: &str, r: Option<&CallRecord>| r.map(|r| format!("{prefix}{}", r.sid()));
    let envelope = Envelope {
        key: "calls",
        path: req.path,
        filters: &filters.echoed,
        size,
        page,
        token: token_text,
        next_token: if more { token_for("PA", records.last()) } else { None },
        previous_token: token_for("PB", records.first()),
    };
    let calls: Vec<serde_json::Value> =
        records.iter().map(|r| resources::call_body(req.shared, View::Other, &account.sid, r).into_value()).collect();
    Ok(json_response(StatusCode::OK, &envelope.render(calls)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_ops() {
        let day = When::parse("2024-03-05").expect("date");
        let noon = time::macros::datetime!(2024-03-05 12:00 UTC).unix_timestamp() * 1000;
        let next = time::macros::datetime!(2024-03-06 00:00 UTC).unix_timestamp() * 1000;
        assert!(day.matches(Op::On, noon));
        assert!(!day.matches(Op::On, next));
        assert!(day.matches(Op::OnOrAfter, next));
        assert!(!day.matches(Op::Before, noon));
        assert!(When::parse("2024-03-05T12:00:00Z").is_some_and(|w| w.matches(Op::On, noon + 999)));
        assert!(When::parse("Tue, 05 Mar 2024 12:00:00 +0000").is_some_and(|w| w.matches(Op::On, noon)));
        assert_eq!(When::parse("yesterday"), None);
    }

    #[test]
    fn tokens() {
        let sid = "CA0123456789abcdef0123456789abcdef";
        assert!(matches!(Token::parse(&format!("PA{sid}")), Some(Token::After(_))));
        assert!(matches!(Token::parse(&format!("PB{sid}")), Some(Token::Before(_))));
        assert_eq!(Token::parse(&format!("PX{sid}")), None);
        assert_eq!(Token::parse("PA"), None);
        assert_eq!(Token::parse("é"), None);
    }
}
