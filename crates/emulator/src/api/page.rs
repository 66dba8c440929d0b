//! `PageSize` / `Page` parsing and the page envelope shared by every list.

use crate::error::ApiError;
use callspec_model::Form;
use callspec_model::error::code;
use serde_json::{Map, Value, json};

/// Default `PageSize`.
pub(super) const DEFAULT_PAGE_SIZE: usize = 50;
/// Largest `PageSize`; larger values are clamped to it.
pub(super) const MAX_PAGE_SIZE: usize = 1000;

/// `PageSize` (default 50, clamped to 1000; 0 or non-numbers refused) and `Page` (default 0).
pub(super) fn page_params(query: &Form) -> Result<(usize, usize), ApiError> {
    let size = match query.get("PageSize") {
        None => DEFAULT_PAGE_SIZE,
        Some(v) => match v.trim().parse::<u64>() {
            Ok(n) if n >= 1 => usize::try_from(n).unwrap_or(MAX_PAGE_SIZE).min(MAX_PAGE_SIZE),
            _ => {
                return Err(ApiError::bad_request(
                    code::INVALID_PARAMETER,
                    format!("PageSize must be an integer from 1 to {MAX_PAGE_SIZE}, not {v:?}"),
                ));
            }
        },
    };
    let page = match query.get("Page") {
        None => 0,
        Some(v) => v.trim().parse::<usize>().map_err(|_| {
            ApiError::bad_request(code::INVALID_PARAMETER, format!("Page must be a non-negative integer, not {v:?}"))
        })?,
    };
    Ok((size, page))
}

/// `path?filters&PageSize=..&Page=..[&PageToken=..]`, percent-encoded.
pub(super) fn page_uri(
    path: &str,
    filters: &[(String, String)],
    size: usize,
    page: usize,
    token: Option<&str>,
) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    s.extend_pairs(filters.iter());
    s.append_pair("PageSize", &size.to_string());
    s.append_pair("Page", &page.to_string());
    if let Some(t) = token {
        s.append_pair("PageToken", t);
    }
    format!("{path}?{}", s.finish())
}

/// The page envelope around `items` under `key`.
pub(super) struct Envelope<'a> {
    /// `calls`, `recordings`...
    pub(super) key: &'a str,
    /// The list path, without query.
    pub(super) path: &'a str,
    /// Filters echoed in every URI.
    pub(super) filters: &'a [(String, String)],
    /// Page size.
    pub(super) size: usize,
    /// Page number.
    pub(super) page: usize,
    /// `PageToken` of this request, echoed in `uri`.
    pub(super) token: Option<&'a str>,
    /// `PageToken` of the next page, when there is one.
    pub(super) next_token: Option<String>,
    /// `PageToken` of the previous page, when `page > 0`.
    pub(super) previous_token: Option<String>,
}

impl Envelope<'_> {
    /// The envelope JSON.
    pub(super) fn render(&self, items: Vec<Value>) -> Value {
        let count = items.len();
        let start = self.page.saturating_mul(self.size);
        let end = if count == 0 { 0 } else { start + count - 1 };
        let mut out = Map::new();
        out.insert(self.key.to_owned(), Value::Array(items));
        out.insert("end".to_owned(), json!(end));
        out.insert("first_page_uri".to_owned(), json!(page_uri(self.path, self.filters, self.size, 0, None)));
        out.insert(
            "next_page_uri".to_owned(),
            match &self.next_token {
                Some(t) => json!(page_uri(self.path, self.filters, self.size, self.page + 1, Some(t))),
                None => Value::Null,
            },
        );
        out.insert("page".to_owned(), json!(self.page));
        out.insert("page_size".to_owned(), json!(self.size));
        out.insert(
            "previous_page_uri".to_owned(),
            match (&self.previous_token, self.page) {
                (_, 0) => Value::Null,
                (Some(t), p) => json!(page_uri(self.path, self.filters, self.size, p - 1, Some(t))),
                (None, p) => json!(page_uri(self.path, self.filters, self.size, p - 1, None)),
            },
        );
        out.insert("start".to_owned(), json!(start));
        out.insert("uri".to_owned(), json!(page_uri(self.path, self.filters, self.size, self.page, self.token)));
        Value::Object(out)
    }
}

/// A whole small list (numbers, applications, accounts) paged by `Page` alone.
pub(super) fn simple(key: &str, path: &str, query: &Form, all: Vec<Value>) -> Result<Value, ApiError> {
    filtered(key, path, query, &[], all)
}

/// A whole small list paged by `Page` alone, with the filters it was read with echoed in its
/// URIs (recordings).
pub(super) fn filtered(
    key: &str,
    path: &str,
    query: &Form,
    filters: &[(String, String)],
    all: Vec<Value>,
) -> Result<Value, ApiError> {
    let (size, page) = page_params(query)?;
    let start = page.saturating_mul(size);
    let more = all.len() > start.saturating_add(size);
    let items: Vec<Value> = all.into_iter().skip(start).take(size).collect();
    let envelope = Envelope { key, path, filters, size, page, token: None, next_token: None, previous_token: None };
    let mut value = envelope.render(items);
    if more {
        value["next_page_uri"] = json!(page_uri(path, filters, size, page + 1, None));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_encode_filters_and_paging() {
        let filters = vec![("StartTime>".to_owned(), "2024-01-02".to_owned()), ("To".to_owned(), "+1415".to_owned())];
        assert_eq!(
            page_uri("/p.json", &filters, 2, 1, Some("PAx")),
            "/p.json?StartTime%3E=2024-01-02&To=%2B1415&PageSize=2&Page=1&PageToken=PAx"
        );
    }

    #[test]
    fn page_size_defaults_clamps_and_refuses() {
        assert_eq!(page_params(&Form::new()).ok(), Some((50, 0)));
        assert_eq!(page_params(&Form::from_pairs([("PageSize", "5000"), ("Page", "2")])).ok(), Some((1000, 2)));
        assert!(page_params(&Form::from_pairs([("PageSize", "0")])).is_err());
        assert!(page_params(&Form::from_pairs([("PageSize", "x")])).is_err());
        assert!(page_params(&Form::from_pairs([("Page", "-1")])).is_err());
    }
}
