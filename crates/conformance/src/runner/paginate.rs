//! The `paginate` step: follow `next_page_uri` from a first page to the end, checking each page
//! (status, schema, page size) and that the items seen are every expected item exactly once.

use super::{Run, StepStop};
use crate::client::Outgoing;
use crate::fixture::{Expect, PaginateStep};
use crate::matcher::show;
use crate::outcome::FailureKind;
use serde_json::json;
use std::collections::HashSet;

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
