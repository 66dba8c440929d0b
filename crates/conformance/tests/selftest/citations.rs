//! Everything the repository cites is in the repository: every citation of a section of
//! `docs/reference/calls-api-facts.md`, in any file, names a section the page has; the page's own
//! links resolve; and no file points at reference material that lives outside the project.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const FACTS: &str = "docs/reference/calls-api-facts.md";

/// Folders not yet held to the no-outside-references rule: the payload schemas' descriptions are
/// rewritten separately; drop the entry once they cite `docs/reference/` too.
const NOT_YET_CHECKED: [&str; 1] = ["schemas"];

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The files a reader of the repository sees: sources, cases, docs and configuration.
fn repo_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable directory") {
        let path = entry.expect("dir entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if name.starts_with('.') || name == "target" {
            continue;
        }
        if path.is_dir() {
            repo_files(&path, out);
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| ["rs", "md", "json", "toml", "py", "yml", "yaml", "txt", "snap"].contains(&e))
        {
            out.push(path);
        }
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// GitHub's anchor for a heading: lower case, spaces to hyphens, other punctuation dropped.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

fn anchors(markdown: &str) -> BTreeSet<String> {
    markdown.lines().filter_map(|l| l.strip_prefix('#')).map(|h| slug(h.trim_start_matches('#'))).collect()
}

/// Every anchor that follows `prefix` in `text`.
fn cited_after<'t>(text: &'t str, prefix: &str) -> Vec<&'t str> {
    text.match_indices(prefix)
        .map(|(at, _)| {
            let rest = &text[at + prefix.len()..];
            let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-')).unwrap_or(rest.len());
            &rest[..end]
        })
        .collect()
}

#[test]
fn every_cited_fact_section_exists() {
    let sections = anchors(&read(&repo_root().join(FACTS)));
    assert!(sections.len() > 20, "the facts page has sections: {sections:?}");
    let mut files = Vec::new();
    repo_files(&repo_root(), &mut files);
    let mut cited = 0;
    for file in &files {
        for anchor in cited_after(&read(file), &format!("{}#", FACTS.trim_start_matches("docs/reference/"))) {
            assert!(sections.contains(anchor), "{} cites {FACTS}#{anchor}, which has no such section", file.display());
            cited += 1;
        }
    }
    assert!(cited > 80, "only {cited} citations of {FACTS} found");
}

#[test]
fn the_facts_page_links_resolve() {
    let page = read(&repo_root().join(FACTS));
    let own = anchors(&page);
    for anchor in cited_after(&page, "](#") {
        assert!(own.contains(anchor), "{FACTS} links to #{anchor}, which it does not have");
    }
    let readme = anchors(&read(&repo_root().join("README.md")));
    for anchor in cited_after(&page, "](../../README.md#") {
        assert!(readme.contains(anchor), "{FACTS} links to README.md#{anchor}, which it does not have");
    }
}

#[test]
fn nothing_points_at_reference_material_outside_the_repository() {
    // Spelled in pieces so that this file does not match what it looks for.
    let outside = [["calls", "-facts"].concat(), ["shared/", "reference"].concat(), ["requirements", ".md"].concat()];
    let mut files = Vec::new();
    repo_files(&repo_root(), &mut files);
    let skipped: Vec<PathBuf> = NOT_YET_CHECKED.iter().map(|d| repo_root().join(d)).collect();
    let mut checked = 0;
    for file in files.iter().filter(|f| !skipped.iter().any(|d| f.starts_with(d))) {
        let text = read(file);
        for needle in &outside {
            assert!(
                !text.contains(needle.as_str()),
                "{} cites {needle:?}, which is not in the repository",
                file.display()
            );
        }
        let openapi_copy = [".openapi", ".json"].concat();
        assert!(!text.contains(&openapi_copy), "{} names an OpenAPI file outside the repository", file.display());
        checked += 1;
    }
    assert!(checked > 150, "only {checked} files checked");
}
