//! The paging checks of `callspec sdk`'s list scenario: the first request asks for the page size,
//! each later one follows the previous page's `next_page_uri` (its `PageToken`), no page is
//! requested twice, the walk stops at the last page (`SDK-PAGE-1`), and the driver returns every
//! SID of every page served, once, in order (`SDK-PAGE-2`).

use super::Exchange;
use super::checks::{Findings, Miss, answered_json};
use super::protocol::Answer;
use crate::outcome::FailureKind;
use callspec_model::Form;
use serde_json::Value;

const PAGE: &str = "SDK-PAGE-1";

/// A query's parameter `name`, if it is there once.
fn query_param(query: &str, name: &str) -> Option<String> {
    Form::parse(query.as_bytes()).ok().and_then(|f| f.get(name).map(str::to_owned))
}

/// A query parameter's value for messages: the value, or `absent`.
fn shown(value: Option<&str>) -> String {
    value.map_or_else(|| "absent".to_owned(), str::to_owned)
}

/// The query of a `next_page_uri`.
fn next_query(page: &Value) -> Option<String> {
    let uri = page["next_page_uri"].as_str()?;
    Some(uri.split_once('?').map_or("", |(_, q)| q).to_owned())
}

fn miss(pointer: String, expected: String, actual: String, message: &str) -> Miss<'static> {
    Miss { requirement: PAGE, kind: FailureKind::Paging, pointer, expected, actual, message: message.to_owned() }
}

/// Checks the list requests (`exchanges`, every one a GET of `path`) and returns the SIDs of the
/// pages the API served, in order.
pub fn requests(f: &mut Findings, exchanges: &[Exchange], path: &str, page_size: u32) -> Vec<String> {
    let mut served = Vec::new();
    let mut expected_token: Option<String> = None;
    let mut tokens_seen: Vec<String> = Vec::new();
    let mut last_page_done = false;
    for (i, x) in exchanges.iter().enumerate() {
        let at = |what: &str| format!("/requests/{i}/{what}");
        if last_page_done {
            f.fail(miss(
                at("query"),
                "no request after the last page".into(),
                x.query.clone(),
                "the SDK went on after next_page_uri was null",
            ));
        }
        let size = query_param(&x.query, "PageSize");
        if size.as_deref() == Some(page_size.to_string().as_str()) {
            f.pass(PAGE);
        } else {
            f.fail(miss(
                at("query/PageSize"),
                page_size.to_string(),
                format!("{size:?}"),
                "the SDK did not ask for the page size it was given",
            ));
        }
        let token = query_param(&x.query, "PageToken");
        if token == expected_token {
            f.pass(PAGE);
        } else {
            let message = if expected_token.is_none() {
                "the first page was requested with a PageToken"
            } else {
                "the request does not carry the PageToken of the previous page's next_page_uri"
            };
            f.fail(miss(at("query/PageToken"), shown(expected_token.as_deref()), shown(token.as_deref()), message));
        }
        if let Some(t) = &token {
            if tokens_seen.contains(t) {
                f.fail(miss(
                    at("query/PageToken"),
                    "each page once".into(),
                    t.clone(),
                    "the SDK requested a page twice",
                ));
            }
            tokens_seen.push(t.clone());
        }
        let Some(page) = answered_json(x) else { continue };
        served.extend(
            page["calls"].as_array().into_iter().flatten().filter_map(|c| c["sid"].as_str().map(str::to_owned)),
        );
        match next_query(&page) {
            Some(q) => expected_token = query_param(&q, "PageToken"),
            None => last_page_done = true,
        }
    }
    if exchanges.iter().any(|x| x.method != "GET" || x.path != path) {
        let sent: Vec<String> = exchanges.iter().map(|x| format!("{} {}", x.method, x.path)).collect();
        f.fail(Miss {
            requirement: "SDK-PATH-1",
            kind: FailureKind::Matcher,
            pointer: "/requests".into(),
            expected: format!("only GET {path}"),
            actual: sent.join(", "),
            message: "listing sent requests other than GETs of the list path".into(),
        });
    } else if !exchanges.is_empty() {
        f.pass("SDK-PATH-1");
    }
    if !last_page_done && !exchanges.is_empty() {
        f.fail(miss(
            "/requests".into(),
            "requests up to the page whose next_page_uri is null".into(),
            format!("{} request(s)", exchanges.len()),
            "the SDK stopped before the last page",
        ));
    }
    served
}

/// `SDK-PAGE-2`: the driver's `sids` are the served ones, in order.
pub fn answer(f: &mut Findings, answer: &Answer, served: &[String]) {
    const R: &str = "SDK-PAGE-2";
    let got: Option<Vec<String>> = match answer {
        Answer::Ok(ok) => ok["sids"].as_array().and_then(|a| a.iter().map(|v| v.as_str().map(str::to_owned)).collect()),
        Answer::Error(_) => None,
    };
    match got {
        Some(got) if got == served => f.pass(R),
        got => f.fail(Miss {
            requirement: R,
            kind: FailureKind::Paging,
            pointer: "/answer/ok/sids".into(),
            expected: format!("{served:?}"),
            actual: got.map_or_else(|| answer.describe(), |g| format!("{g:?}")),
            message: "the SDK did not return every call of every page served, once, in order".into(),
        }),
    }
}
