//! The requirement catalog (`fixtures/requirements.toml`): loading, validating and looking up requirements by ID.
//!
//! Loading collects every problem of the file instead of stopping at the first, and points at each
//! one with the JSON pointer of its TOML value (`/requirement/3/id`, indices from 0).

use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;
use toml::{Table, Value};

use crate::error::{LoadError, LoadErrorKind, LoadErrors};
use crate::outcome::RequirementInfo;

/// The letters `observable` may hold: R = the REST exchange, CB = a request the target makes to the
/// harness, T = timing, D = the answer of an SDK driver (`callspec sdk`).
pub const OBSERVABLE: [&str; 4] = ["R", "CB", "T", "D"];

/// The text fields every requirement must have, in file order.
const TEXT_FIELDS: [&str; 4] = ["id", "area", "statement", "source"];

/// One requirement of the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Requirement {
    /// Stable ID, e.g. `C-TO-1`; fixtures cite it.
    pub id: String,
    /// The catalog area, e.g. `CREATE: addressing`.
    pub area: String,
    /// The requirement in one or two sentences.
    pub statement: String,
    /// The Twilio documentation page it comes from.
    pub source: String,
    /// How a black-box harness sees it: some of `R`, `CB`, `T`.
    pub observable: Vec<String>,
}

impl Requirement {
    /// Whether it is a requirement on an SDK (ID `SDK-…`): what a client library sends and how
    /// it reads the answers, checked by `callspec sdk`, never by the server suite's cases.
    pub fn is_sdk(&self) -> bool {
        is_sdk_id(&self.id)
    }

    /// The requirement as reports show it.
    pub fn info(&self) -> RequirementInfo {
        RequirementInfo { id: self.id.clone(), area: self.area.clone(), statement: self.statement.clone() }
    }
}

/// The loaded catalog, in file order, with an index by ID.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    requirements: Vec<Requirement>,
    index: HashMap<String, usize>,
}

impl Catalog {
    /// Reads and validates the catalog file, reporting every problem found.
    pub fn load(path: &Path) -> Result<Catalog, LoadErrors> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            LoadError::new(path, LoadErrorKind::Io, format!("cannot read the requirement catalog: {e}"))
        })?;
        Catalog::parse(&text, path)
    }

    /// Reads and validates a suite's catalog, `fixtures/requirements.toml` (embedded or on disk).
    pub fn from_suite(suite: &crate::suite::Suite) -> Result<Catalog, LoadErrors> {
        let rel = "fixtures/requirements.toml";
        let text = suite.read(rel).map_err(|e| {
            LoadError::new(suite.path(rel), LoadErrorKind::Io, format!("cannot read the requirement catalog: {e}"))
        })?;
        Catalog::parse(&text, &suite.path(rel))
    }

    /// Validates catalog text; `file` only names the source in errors.
    pub fn parse(text: &str, file: &Path) -> Result<Catalog, LoadErrors> {
        let table: Table = toml::from_str(text).map_err(|e| toml_error(file, text, &e))?;
        let mut errors = Vec::new();
        let invalid =
            |pointer: String, message: String| LoadError::new(file, LoadErrorKind::Invalid, message).at(pointer);

        for key in table.keys().filter(|k| k.as_str() != "requirement") {
            errors.push(invalid(
                format!("/{}", pointer_token(key)),
                format!("unknown key `{key}`: the catalog holds only [[requirement]] entries"),
            ));
        }

        let entries: &[Value] = match table.get("requirement") {
            None => {
                errors.push(invalid(String::new(), "the catalog has no [[requirement]] entries".to_owned()));
                &[]
            }
            Some(Value::Array(entries)) => {
                if entries.is_empty() {
                    errors.push(invalid("/requirement".to_owned(), "the catalog has no requirements".to_owned()));
                }
                entries
            }
            Some(other) => {
                errors.push(invalid(
                    "/requirement".to_owned(),
                    format!("`requirement` must be an array of tables ([[requirement]]), found {}", other.type_str()),
                ));
                &[]
            }
        };

        let mut catalog = Catalog::default();
        // Where each ID was first defined, for duplicate messages; broken entries claim their ID too.
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (i, entry) in entries.iter().enumerate() {
            let at = format!("/requirement/{i}");
            let Some(entry) = entry.as_table() else {
                errors.push(invalid(at, format!("a requirement must be a table, found {}", entry.type_str())));
                continue;
            };
            let before = errors.len();
            let requirement = read_requirement(entry, &at, &mut |p, m| errors.push(invalid(p, m)));
            let Some(requirement) = requirement else {
                continue;
            };
            if let Some(&first) = seen.get(&requirement.id) {
                errors.push(
                    LoadError::new(
                        file,
                        LoadErrorKind::Duplicate,
                        format!("requirement ID `{}` is already defined at /requirement/{first}", requirement.id),
                    )
                    .at(format!("{at}/id")),
                );
                continue;
            }
            seen.insert(requirement.id.clone(), i);
            if errors.len() == before {
                catalog.index.insert(requirement.id.clone(), catalog.requirements.len());
                catalog.requirements.push(requirement);
            }
        }

        if errors.is_empty() { Ok(catalog) } else { Err(LoadErrors(errors)) }
    }

    /// Whether the catalog defines `id`.
    pub fn contains(&self, id: &str) -> bool {
        self.index.contains_key(id)
    }

    /// Whether the catalog defines `id` as a requirement on a server (not an SDK requirement),
    /// which a case may cite.
    pub fn contains_server(&self, id: &str) -> bool {
        self.contains(id) && !is_sdk_id(id)
    }

    /// The requirement with this ID.
    pub fn get(&self, id: &str) -> Option<&Requirement> {
        self.index.get(id).and_then(|&i| self.requirements.get(i))
    }

    /// The requirements in file order.
    pub fn iter(&self) -> std::slice::Iter<'_, Requirement> {
        self.requirements.iter()
    }

    /// How many requirements the catalog has.
    pub fn len(&self) -> usize {
        self.requirements.len()
    }

    /// Whether the catalog is empty (a loaded catalog never is).
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// The server requirements as reports show them, in file order: what the suite's cases
    /// cover (the SDK requirements are `callspec sdk`'s, see [`Catalog::sdk_infos`]).
    pub fn infos(&self) -> Vec<RequirementInfo> {
        self.requirements.iter().filter(|r| !r.is_sdk()).map(Requirement::info).collect()
    }

    /// The SDK requirements (IDs `SDK-…`) as reports show them, in file order: what the
    /// scenarios of `callspec sdk` cover.
    pub fn sdk_infos(&self) -> Vec<RequirementInfo> {
        self.requirements.iter().filter(|r| r.is_sdk()).map(Requirement::info).collect()
    }
}

impl<'a> IntoIterator for &'a Catalog {
    type Item = &'a Requirement;
    type IntoIter = std::slice::Iter<'a, Requirement>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Reads one `[[requirement]]` table, reporting each problem through `report`.
///
/// Returns the requirement when its ID is usable (for duplicate detection), even if other fields are
/// wrong; the caller keeps it only if nothing was reported.
fn read_requirement(entry: &Table, at: &str, report: &mut dyn FnMut(String, String)) -> Option<Requirement> {
    for key in entry.keys().filter(|k| !TEXT_FIELDS.contains(&k.as_str()) && k.as_str() != "observable") {
        report(format!("{at}/{}", pointer_token(key)), format!("unknown field `{key}`"));
    }

    let mut text = |field: &str| -> Option<String> {
        let pointer = format!("{at}/{field}");
        match entry.get(field) {
            None => {
                report(pointer, format!("missing field `{field}`"));
                None
            }
            Some(Value::String(s)) if s.trim().is_empty() => {
                report(pointer, format!("`{field}` must not be empty"));
                None
            }
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                report(pointer, format!("`{field}` must be a string, found {}", other.type_str()));
                None
            }
        }
    };
    let id = text("id");
    let area = text("area");
    let statement = text("statement");
    let source = text("source");

    let id = id.filter(|id| {
        let ok = is_valid_id(id);
        if !ok {
            report(format!("{at}/id"), format!("requirement ID `{id}` does not match ^([A-Z]|SDK)-[A-Z]+-[0-9]+$"));
        }
        ok
    });
    if let Some(source) = &source
        && !(source.starts_with("https://") || source.starts_with("http://"))
    {
        report(format!("{at}/source"), format!("`source` must be an http(s) URL, found `{source}`"));
    }
    let observable = read_observable(entry, at, report);

    // The ID alone is enough to detect duplicates; the other fields fall back to empty values, and
    // the caller drops the requirement because a problem was reported.
    Some(Requirement {
        id: id?,
        area: area.unwrap_or_default(),
        statement: statement.unwrap_or_default(),
        source: source.unwrap_or_default(),
        observable: observable.unwrap_or_default(),
    })
}

/// Reads `observable`: a non-empty array of distinct letters from [`OBSERVABLE`].
fn read_observable(entry: &Table, at: &str, report: &mut dyn FnMut(String, String)) -> Option<Vec<String>> {
    let pointer = format!("{at}/observable");
    let items = match entry.get("observable") {
        None => {
            report(pointer, "missing field `observable`".to_owned());
            return None;
        }
        Some(Value::Array(items)) if items.is_empty() => {
            report(pointer, format!("`observable` must name at least one of {}", OBSERVABLE.join(", ")));
            return None;
        }
        Some(Value::Array(items)) => items,
        Some(other) => {
            report(pointer, format!("`observable` must be an array of strings, found {}", other.type_str()));
            return None;
        }
    };
    let mut letters: Vec<String> = Vec::with_capacity(items.len());
    let mut ok = true;
    for (j, item) in items.iter().enumerate() {
        let item_at = format!("{pointer}/{j}");
        match item.as_str() {
            Some(letter) if !OBSERVABLE.contains(&letter) => {
                report(item_at, format!("unknown observable `{letter}`: expected one of {}", OBSERVABLE.join(", ")));
                ok = false;
            }
            Some(letter) if letters.iter().any(|l| l == letter) => {
                report(item_at, format!("observable `{letter}` is listed twice"));
                ok = false;
            }
            Some(letter) => letters.push(letter.to_owned()),
            None => {
                report(item_at, format!("an observable must be a string, found {}", item.type_str()));
                ok = false;
            }
        }
    }
    ok.then_some(letters)
}

/// Whether `id` names an SDK requirement (`SDK-…`).
pub fn is_sdk_id(id: &str) -> bool {
    id.starts_with("SDK-")
}

/// Whether `id` matches `^([A-Z]|SDK)-[A-Z]+-[0-9]+$`.
fn is_valid_id(id: &str) -> bool {
    let mut parts = id.split('-');
    let (Some(letter), Some(word), Some(number), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    (letter.len() == 1 || letter == "SDK")
        && letter.bytes().all(|b| b.is_ascii_uppercase())
        && !word.is_empty()
        && word.bytes().all(|b| b.is_ascii_uppercase())
        && !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit())
}

/// Escapes a key for use as a JSON pointer token (RFC 6901).
fn pointer_token(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// A TOML syntax error, located by line and column rather than the parser's multi-line snippet.
fn toml_error(file: &Path, text: &str, error: &toml::de::Error) -> LoadError {
    let message = match error.span() {
        Some(span) => {
            let before = text.get(..span.start).unwrap_or(text);
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("invalid TOML at line {line}, column {column}: {}", error.message().trim_end())
        }
        None => format!("invalid TOML: {}", error.message().trim_end()),
    };
    LoadError::new(file, LoadErrorKind::Toml, message)
}
