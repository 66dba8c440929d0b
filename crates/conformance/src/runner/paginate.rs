//! The `paginate` step: follow `next_page_uri` from a first page to the end, checking each page
//! (status, schema, page size) and that the items seen are every expected item exactly once.

use super::{Run, StepStop};
use crate::client::Outgoing;
use crate::fixture::{Expect, PaginateStep};
use crate::matcher::show;
use crate::outcome::FailureKind;
use serde_json::json;
use std::collections::HashSet;

/// The requirement on every page's envelope.
const PAGE_REQUIREMENT: &str = "D-PAGE-1";

/// What following the pages found.
#[derive(Default)]
struct Walk {
    ids: Vec<String>,
    envelopes: Vec<serde_json::Value>,
    pages: u32,
}

impl Run<'_> {
    pub(super) async fn paginate_step(
        &mut self,
        p: &PaginateStep,
        index: Option<usize>,
        name: Option<String>,
    ) -> Result<(), StepStop> {
        let first = self.build(&p.request, index)?;
        self.label = self.label_for(&first, name);
        let Some(walk) = self.walk_pages(p, first, index).await? else { return Ok(()) };
        self.artifacts.push(json!({"step": self.step + 1, "paginate": self.label, "pages": walk.envelopes}));
        self.check_items(p, &walk);
        Ok(())
    }

    /// Follows the pages; `None` when a page could not be read (its failure is recorded).
    async fn walk_pages(
        &mut self,
        p: &PaginateStep,
        mut out: Outgoing,
        index: Option<usize>,
    ) -> Result<Option<Walk>, StepStop> {
        let mut walk = Walk::default();
        let max_pages = p.max_pages.unwrap_or(1000);
        // The filters and page size of the first request, which every page URI must keep.
        let first_query: Vec<(String, String)> = out
            .url
            .split_once('?')
            .and_then(|(_, q)| callspec_model::form::Form::parse(q.as_bytes()).ok())
            .map(|f| f.into_pairs().into_iter().filter(|(k, _)| k != "Page" && k != "PageToken").collect())
            .unwrap_or_default();
        loop {
            walk.pages += 1;
            if walk.pages > max_pages {
                let actual = format!("page {} still has next_page_uri {}", walk.pages, out.url);
                let expected = format!("at most {max_pages} pages");
                self.fail(FailureKind::Paging, None, expected, actual, "next_page_uri never ends", Some(&out));
                return Ok(None);
            }
            let resp = match self.send(&out).await {
                Ok(r) => r,
                Err(e) => {
                    let message = format!("page {} did not answer", walk.pages);
                    self.fail(FailureKind::Transport, None, "an HTTP response", e.to_string(), message, Some(&out));
                    return Ok(None);
                }
            };
            let expect = Expect { status: Some(200), schema: p.schema.clone(), ..Expect::default() };
            // A wrong status or a body that is not JSON ends the walk; a schema gap does not.
            let Some(json) = self.check_expect(&expect, &resp, &out, index)? else { return Ok(None) };
            let next = json.get("next_page_uri").and_then(|n| n.as_str()).map(str::to_owned);
            self.check_envelope(&json, walk.pages, &first_query, &out);
            self.read_page(p, &json, next.is_some(), &mut walk, &out);
            match next {
                Some(uri) if !uri.is_empty() => {
                    let url = format!("{}{}", self.h.base_url, uri);
                    out = Outgoing { url, body: None, method: "GET".into(), basic: out.basic.clone() };
                }
                _ => return Ok(Some(walk)),
            }
        }
    }

    /// The envelope of page `number` (from 1), charged to D-PAGE-1: `page` counts from 0,
    /// `previous_page_uri` is null on the first page only, every page URI keeps `filters`, and a
    /// URI that names its `Page` names the right one.
    fn check_envelope(&mut self, json: &serde_json::Value, number: u32, filters: &[(String, String)], out: &Outgoing) {
        self.checked(Some(PAGE_REQUIREMENT));
        let mut problems = Vec::new();
        if json.get("page").and_then(serde_json::Value::as_u64) != Some(u64::from(number - 1)) {
            problems.push(("/page".to_owned(), (number - 1).to_string(), show(json.get("page"))));
        }
        let previous = json.get("previous_page_uri");
        match (number, previous.and_then(|v| v.as_str())) {
            (1, None) if previous.is_some_and(serde_json::Value::is_null) => {}
            (1, _) => problems.push(("/previous_page_uri".into(), "null on the first page".into(), show(previous))),
            (_, Some(uri)) if uri.starts_with('/') => {}
            _ => problems.push(("/previous_page_uri".into(), "a URI on every later page".into(), show(previous))),
        }
        // Each URI's own `Page`, where it names one: this page, the first, the next, the previous.
        let page = i64::from(number) - 1;
        for (key, want) in
            [("uri", page), ("first_page_uri", 0), ("next_page_uri", page + 1), ("previous_page_uri", page - 1)]
        {
            let Some(uri) = json.get(key).and_then(|v| v.as_str()) else { continue };
            let pairs = uri
                .split_once('?')
                .and_then(|(_, q)| callspec_model::form::Form::parse(q.as_bytes()).ok())
                .map(callspec_model::form::Form::into_pairs)
                .unwrap_or_default();
            let named = pairs.iter().find(|(k, _)| k == "Page").map(|(_, v)| v.as_str());
            if let Some(named) = named.filter(|n| n.parse::<i64>().ok() != Some(want)) {
                problems.push((format!("/{key}"), format!("a URI of page {want}"), format!("Page={named}: {uri}")));
            }
            for pair in filters.iter().filter(|pair| !pairs.contains(pair)) {
                problems.push((format!("/{key}"), format!("a URI keeping {}={}", pair.0, pair.1), uri.to_owned()));
            }
        }
        for (pointer, expected, actual) in problems {
            let what = (Some(pointer), expected, actual, format!("page {number}: the page envelope"));
            self.fail_as(Some(PAGE_REQUIREMENT.to_owned()), FailureKind::Paging, what, Some(out));
        }
    }

    /// Keeps a page's envelope and item ids; a page with a next page must be full.
    fn read_page(
        &mut self,
        p: &PaginateStep,
        json: &serde_json::Value,
        has_next: bool,
        walk: &mut Walk,
        out: &Outgoing,
    ) {
        let items = json.pointer(&p.items).and_then(|i| i.as_array()).cloned().unwrap_or_default();
        let mut envelope = json.clone();
        if let Some(list) = envelope.pointer_mut(&p.items) {
            // Pages of many items stay readable: the count and the first item.
            *list = json!({"count": items.len(), "first": items.first()});
        }
        walk.envelopes.push(envelope);
        if let Some(size) = p.page_size
            && has_next
            && items.len() != size
        {
            self.fail(
                FailureKind::Paging,
                Some(p.items.clone()),
                format!("{size} items on a page that has a next page"),
                items.len().to_string(),
                format!("page {} is short", walk.pages),
                Some(out),
            );
        }
        for item in &items {
            match item.pointer(&p.id) {
                Some(id) => walk.ids.push(super::checks::value_text(id)),
                None => self.fail(
                    FailureKind::Paging,
                    Some(format!("{}/…{}", p.items, p.id)),
                    "an id on every item",
                    show(Some(item)),
                    "item without id",
                    Some(out),
                ),
            }
        }
    }

    /// Every item exactly once, the expected total, and every id of `ids_from`.
    fn check_items(&mut self, p: &PaginateStep, walk: &Walk) {
        let seen = &walk.ids;
        let unique: HashSet<&String> = seen.iter().collect();
        if unique.len() != seen.len() {
            let mut dupes: Vec<&String> = seen.iter().filter(|s| seen.iter().filter(|t| t == s).count() > 1).collect();
            dupes.dedup();
            let shown = dupes.iter().take(5).map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
            let actual = format!("repeated: {shown}");
            self.fail(FailureKind::Paging, None, "every item exactly once", actual, "paging repeats items", None);
        }
        if unique.len() != p.expect_total {
            self.fail(
                FailureKind::Paging,
                None,
                format!("{} distinct items over {} pages", p.expect_total, walk.pages),
                unique.len().to_string(),
                "paging does not visit every item",
                None,
            );
        }
        if let Some(list) = &p.ids_from {
            let want: HashSet<String> = self.vars.list(list).map(|l| l.iter().cloned().collect()).unwrap_or_default();
            let missing: Vec<&String> = want.iter().filter(|w| !unique.contains(w)).take(5).collect();
            if !missing.is_empty() {
                let (expected, actual) = (format!("every id of {list}"), format!("missing {missing:?}"));
                self.fail(FailureKind::Paging, None, expected, actual, "paging skipped items", None);
            }
        }
    }
}
