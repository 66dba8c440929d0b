//! JSON Schema validation against `schemas/*.schema.json`: loading the set, callspec's custom formats, offline cross-file `$ref`s, and violations.
//!
//! [`SchemaSet::load`] reads every `*.schema.json` file of a directory, refuses any `format`
//! it does not check (see [`CUSTOM_FORMATS`] and [`STANDARD_FORMATS`]), registers every
//! document under its `$id` so that `$ref`s between files resolve without network or
//! filesystem access, and compiles one validator per file with format assertion on.
//! [`SchemaSet::validate`] returns every violation of one instance.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use callspec_model::rfc2822;
use callspec_model::sid::{Sid, SidKind};
use jsonschema::{Registry, ValidationOptions, Validator};
use serde_json::Value;

/// The file-name suffix of a schema file; the schema's name is the file name without it.
pub const SCHEMA_SUFFIX: &str = ".schema.json";

/// The base of the `$id` given to a schema file that has none: `<base><file name>`.
pub const DEFAULT_ID_BASE: &str = "https://callspec.dev/schemas/";

/// The formats callspec registers itself, each checked by `callspec-model`.
///
/// `rfc2822` is [`rfc2822::parse`]; the `*-sid` formats are [`Sid::parse_kind`] with the
/// matching [`SidKind`] (prefix + exactly 32 hex digits, so `CAXXXX…` placeholders fail).
pub const CUSTOM_FORMATS: &[&str] = &[
    "rfc2822",
    "call-sid",
    "account-sid",
    "phone-number-sid",
    "recording-sid",
    "application-sid",
    "group-sid",
    "trunk-sid",
];

/// Whether `value` is in the callspec format `format` (one of [`CUSTOM_FORMATS`]); `None` when
/// callspec does not register that format.
///
/// The one checker behind both the schemas' `format` keyword and the fixtures' `format` rule.
pub fn check_custom_format(format: &str, value: &str) -> Option<bool> {
    if format == "rfc2822" {
        return Some(rfc2822::parse(value).is_ok());
    }
    sid_format_kind(format).map(|kind| Sid::parse_kind(value, kind).is_ok())
}

/// The standard JSON Schema formats a schema may use; `jsonschema` checks them itself.
///
/// Any `format` in neither this list nor [`CUSTOM_FORMATS`] makes loading fail.
pub const STANDARD_FORMATS: &[&str] =
    &["uri", "uri-reference", "date-time", "date", "email", "hostname", "uuid", "regex"];

/// The SID kind a `*-sid` format checks.
fn sid_format_kind(format: &str) -> Option<SidKind> {
    Some(match format {
        "call-sid" => SidKind::Call,
        "account-sid" => SidKind::Account,
        "phone-number-sid" => SidKind::PhoneNumber,
        "recording-sid" => SidKind::Recording,
        "application-sid" => SidKind::Application,
        "group-sid" => SidKind::Group,
        "trunk-sid" => SidKind::Trunk,
        _ => return None,
    })
}

/// Why a schema set could not be loaded or used.
#[derive(Debug)]
#[non_exhaustive]
pub enum SchemaError {
    /// A directory or file could not be read.
    Io {
        /// The directory or file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A schema file is not valid JSON.
    InvalidJson {
        /// The file.
        path: PathBuf,
        /// serde_json's message, with line and column.
        message: String,
    },
    /// A schema uses a `format` that is neither registered nor an allowed standard format.
    UnknownFormat {
        /// The file.
        path: PathBuf,
        /// JSON pointer to the `format` keyword inside the file, e.g. `/properties/sid/format`.
        pointer: String,
        /// The format name.
        format: String,
    },
    /// A schema could not be registered or compiled (invalid schema, unresolvable `$ref`...).
    Compile {
        /// The file; the directory when registering the set fails as a whole (e.g. a `$ref`
        /// to a document the directory does not hold, whose URI the message names).
        path: PathBuf,
        /// jsonschema's message.
        message: String,
    },
    /// The suite's `schemas/` could not be read.
    Suite(crate::suite::SuiteError),
    /// [`SchemaSet::validate`] was asked for a schema the set does not hold.
    UnknownSchema {
        /// The name asked for.
        name: String,
        /// The names the set holds.
        known: Vec<String>,
    },
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SchemaError::Io { path, source } => {
                write!(f, "cannot read {}: {source}", path.display())
            }
            SchemaError::Suite(e) => e.fmt(f),
            SchemaError::InvalidJson { path, message } => {
                write!(f, "{} is not valid JSON: {message}", path.display())
            }
            SchemaError::UnknownFormat { path, pointer, format } => write!(
                f,
                "{} uses unknown format {format:?} at {pointer}; known formats: {}",
                path.display(),
                CUSTOM_FORMATS.iter().chain(STANDARD_FORMATS).copied().collect::<Vec<_>>().join(", ")
            ),
            SchemaError::Compile { path, message } => {
                write!(f, "cannot compile schema {}: {message}", path.display())
            }
            SchemaError::UnknownSchema { name, known } => {
                write!(f, "no schema named {name:?}; the set holds: {}", known.join(", "))
            }
        }
    }
}

impl std::error::Error for SchemaError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SchemaError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// One way an instance fails a schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaViolation {
    /// JSON pointer into the instance, e.g. `/duration` (empty for the root).
    pub instance_pointer: String,
    /// JSON pointer to the failing keyword, e.g. `/properties/duration/type`, within the
    /// document that holds it: after a `$ref` (say `call-page` to `call`), the referenced one.
    pub schema_pointer: String,
    /// jsonschema's message, e.g. `"queue_time" is a required property`.
    pub message: String,
}

impl fmt::Display for SchemaViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.instance_pointer.is_empty() { "(root)" } else { &self.instance_pointer };
        write!(f, "at {at}: {}", self.message)
    }
}

/// One loaded schema file.
#[derive(Debug)]
struct Loaded {
    path: PathBuf,
    validator: Validator,
}

/// Every `*.schema.json` file of a directory, compiled, keyed by file name without the suffix
/// (`call`, `call-page`, `error`, `status-callback`, `recording-callback`, ...).
#[derive(Debug)]
pub struct SchemaSet {
    schemas: BTreeMap<String, Loaded>,
}

impl SchemaSet {
    /// Loads and compiles every `*.schema.json` file in `dir` (not recursive).
    ///
    /// Fails on the first unreadable file, invalid JSON, `format` outside [`CUSTOM_FORMATS`]
    /// and [`STANDARD_FORMATS`], or schema that does not compile (including a `$ref` to a
    /// document that is not in the directory: nothing is fetched).
    pub fn load(dir: &Path) -> Result<SchemaSet, SchemaError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| SchemaError::Io { path, source }
        };
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io(dir))? {
            let entry = entry.map_err(io(dir))?;
            let file_name = entry.file_name();
            let Some(file_name) = file_name.to_str() else {
                continue;
            };
            if let Some(name) = file_name.strip_suffix(SCHEMA_SUFFIX)
                && !name.is_empty()
            {
                files.push((name.to_owned(), file_name.to_owned(), entry.path()));
            }
        }
        files.sort();
        let mut texts = Vec::with_capacity(files.len());
        for (name, file_name, path) in files {
            let text = std::fs::read_to_string(&path).map_err(io(&path))?;
            texts.push((name, file_name, path, text));
        }
        SchemaSet::compile(dir, texts)
    }

    /// Loads and compiles every `schemas/*.schema.json` file of a suite (embedded or on disk),
    /// as [`SchemaSet::load`] does.
    pub fn from_suite(suite: &crate::suite::Suite) -> Result<SchemaSet, SchemaError> {
        let mut texts = Vec::new();
        for rel in suite.files_under("schemas", SCHEMA_SUFFIX).map_err(SchemaError::Suite)? {
            let file_name = rel.trim_start_matches("schemas/").to_owned();
            // Not recursive, as on disk.
            let Some(name) = file_name.strip_suffix(SCHEMA_SUFFIX).filter(|n| !n.is_empty() && !n.contains('/')) else {
                continue;
            };
            let text = suite.read(&rel).map_err(SchemaError::Suite)?;
            texts.push((name.to_owned(), file_name.clone(), suite.path(&rel), text));
        }
        SchemaSet::compile(&suite.path("schemas"), texts)
    }

    /// Parses, checks and compiles schema texts: `(name, file name, path, text)`, sorted.
    fn compile(dir: &Path, texts: Vec<(String, String, PathBuf, String)>) -> Result<SchemaSet, SchemaError> {
        // Parse, check formats, and pick the URI each document is registered under.
        let mut documents = Vec::with_capacity(texts.len());
        for (name, file_name, path, text) in texts {
            let document: Value = serde_json::from_str(&text)
                .map_err(|e| SchemaError::InvalidJson { path: path.clone(), message: e.to_string() })?;
            check_formats(&document, &path)?;
            let (id, has_id) = match document.get("$id").and_then(Value::as_str) {
                Some(id) => (id.trim_end_matches('#').to_owned(), true),
                None => (format!("{DEFAULT_ID_BASE}{file_name}"), false),
            };
            documents.push((name, path, document, id, has_id));
        }

        // Register every document so `$ref`s by `$id` resolve offline. The registry's default
        // retriever fetches nothing; known meta-schemas are built in.
        let mut builder = Registry::new().retrieve_known_draft_meta_schemas(false);
        for (_, path, document, id, _) in &documents {
            builder = builder
                .add(id, document.clone())
                .map_err(|e| SchemaError::Compile { path: path.clone(), message: e.to_string() })?;
        }
        let registry =
            builder.prepare().map_err(|e| SchemaError::Compile { path: dir.to_path_buf(), message: e.to_string() })?;

        let mut schemas = BTreeMap::new();
        for (name, path, document, id, has_id) in documents {
            let mut options = validation_options(&registry);
            if !has_id {
                options = options.with_base_uri(id);
            }
            let validator = options
                .build(&document)
                .map_err(|e| SchemaError::Compile { path: path.clone(), message: e.to_string() })?;
            schemas.insert(name, Loaded { path, validator });
        }
        Ok(SchemaSet { schemas })
    }

    /// The names of the loaded schemas, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.schemas.keys().map(String::as_str)
    }

    /// The file a schema was loaded from.
    pub fn path(&self, name: &str) -> Option<&Path> {
        self.schemas.get(name).map(|l| l.path.as_path())
    }

    /// Every violation of `instance` against the schema `name`; empty when it conforms.
    ///
    /// Fails only when the set holds no schema of that name.
    pub fn validate(&self, name: &str, instance: &Value) -> Result<Vec<SchemaViolation>, SchemaError> {
        let loaded = self.schemas.get(name).ok_or_else(|| SchemaError::UnknownSchema {
            name: name.to_owned(),
            known: self.schemas.keys().cloned().collect(),
        })?;
        Ok(loaded
            .validator
            .iter_errors(instance)
            .map(|e| SchemaViolation {
                instance_pointer: e.instance_path().as_str().to_owned(),
                schema_pointer: e.schema_path().as_str().to_owned(),
                message: e.to_string(),
            })
            .collect())
    }
}

/// Options shared by every schema: the registry, format assertion on, unknown formats
/// refused, callspec's formats registered, retrieval off.
fn validation_options<'r>(registry: &'r Registry<'r>) -> ValidationOptions<'r> {
    let mut options = jsonschema::options()
        .with_registry(registry)
        .offline()
        .should_validate_formats(true)
        .should_ignore_unknown_formats(false);
    for format in CUSTOM_FORMATS {
        options = options.with_format(*format, move |s: &str| check_custom_format(format, s) == Some(true));
    }
    options
}

/// Refuses any `format` keyword whose value is not a known format, naming its JSON pointer.
///
/// Walks the document as a schema: values of `const`, `enum`, `examples` and `default` are
/// data, and the keys of `properties`-like maps are names, so neither is taken for a keyword.
fn check_formats(document: &Value, path: &Path) -> Result<(), SchemaError> {
    let mut pointer = String::new();
    walk_schema(document, &mut pointer, path)
}

fn walk_schema(schema: &Value, pointer: &mut String, path: &Path) -> Result<(), SchemaError> {
    match schema {
        Value::Object(map) => {
            for (key, value) in map {
                let len = pointer.len();
                push_segment(pointer, key);
                match key.as_str() {
                    "format" => {
                        if let Value::String(format) = value {
                            let known = CUSTOM_FORMATS.contains(&format.as_str())
                                || STANDARD_FORMATS.contains(&format.as_str());
                            if !known {
                                return Err(SchemaError::UnknownFormat {
                                    path: path.to_path_buf(),
                                    pointer: pointer.clone(),
                                    format: format.clone(),
                                });
                            }
                        }
                    }
                    "const" | "enum" | "examples" | "default" => {}
                    "properties" | "patternProperties" | "$defs" | "definitions" | "dependentSchemas" => {
                        if let Value::Object(members) = value {
                            for (member, subschema) in members {
                                let inner = pointer.len();
                                push_segment(pointer, member);
                                walk_schema(subschema, pointer, path)?;
                                pointer.truncate(inner);
                            }
                        }
                    }
                    _ => walk_schema(value, pointer, path)?,
                }
                pointer.truncate(len);
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&index.to_string());
                walk_schema(item, pointer, path)?;
                pointer.truncate(len);
            }
        }
        _ => {}
    }
    Ok(())
}

/// Appends `/segment` to a JSON pointer, escaping `~` and `/` (RFC 6901).
fn push_segment(pointer: &mut String, segment: &str) {
    pointer.push('/');
    pointer.push_str(&segment.replace('~', "~0").replace('/', "~1"));
}
