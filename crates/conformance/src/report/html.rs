//! `report.html`: one self-contained page (inline CSS, a little JS, no network) rendering a run's
//! record: summary, coverage matrix, filters, and per case its failures and timeline.
//!
//! Everything a target sent reaches the page only through [`esc`]; the one script is a constant,
//! so a hostile value renders as text and never runs.

use std::fmt::Write as _;

use super::{Coverage, CoverageRow, area_of};
use crate::outcome::{CaseResult, CheckVerdict, Direction, Failure, RunRecord, Status, TimelineEvent};

/// The page's file name in the report directory.
pub const REPORT_HTML: &str = "report.html";

/// Bodies longer than this many characters fold behind a `<details>`.
const FOLD_AT: usize = 120;

const STYLE: &str = r#"
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1b1f24;background:#fff}
h1{font-size:1.4em;margin:0 0 .4em}h2{font-size:1.15em;margin:1.2em 0 .4em}
table{border-collapse:collapse}td,th{border:1px solid #d0d7de;padding:2px 6px;text-align:left;vertical-align:top}
code,pre{font:12px/1.35 ui-monospace,monospace}pre{white-space:pre-wrap;word-break:break-all;margin:2px 0}
.meta td:first-child{font-weight:600}
#counts{display:flex;gap:.6em;list-style:none;padding:0;flex-wrap:wrap}
#counts li{border-radius:4px;padding:3px 10px;border:1px solid #d0d7de}
.badge{display:inline-block;min-width:4.2em;text-align:center;border-radius:3px;font-weight:700;font-size:12px;color:#fff}
.s-PASS{background:#1a7f37}.s-FAIL{background:#cf222e}.s-XFAIL{background:#9a6700}.s-XPASS{background:#bc4c00}
.s-SKIP{background:#6e7781}.s-ERROR{background:#8250df}
#counts li.s-PASS,#counts li.s-FAIL,#counts li.s-XFAIL,#counts li.s-XPASS,#counts li.s-SKIP,#counts li.s-ERROR{color:#fff}
.v-passing{color:#1a7f37}.v-failing{color:#cf222e;font-weight:700}.v-known-failure{color:#9a6700}
.filters{display:flex;gap:.6em;flex-wrap:wrap;margin:.6em 0}
details.case{border:1px solid #d0d7de;border-radius:6px;margin:.4em 0;padding:.3em .6em}
details.case>summary{cursor:pointer}
.failure{border-left:4px solid #cf222e;padding:.2em .6em;margin:.5em 0;background:#fff8f8}
.failure .pointer{background:#ffebe9}
ol.timeline{list-style:none;padding:0;margin:.3em 0}
ol.timeline li{display:grid;grid-template-columns:5.5em 12em 1fr;gap:.5em;padding:2px 4px;border-bottom:1px solid #eee}
ol.timeline li.failed{background:#ffebe9;outline:2px solid #cf222e}
.axis{position:relative;height:10px;background:#f0f3f6;border-radius:5px;margin-top:4px}
.dot{position:absolute;top:0;width:10px;height:10px;border-radius:5px;margin-left:-5px}
.api .dot{background:#0969da}.callback .dot{background:#8250df}
.dir{font-weight:600}.api .dir{color:#0969da}.callback .dir{color:#8250df}
.param{background:#eef;border-radius:3px;padding:0 4px;margin-right:3px}
.sig-ok{color:#1a7f37}.sig-bad{color:#cf222e;font-weight:700}
.muted{color:#57606a}
body.only>*:not(#cases),body.only details.case:not(.shown){display:none}
"#;

/// The page's only script: filters and search over the cases, and opening the case a link names
/// (`#case-…`; `#only-case-…` shows that case alone).
const SCRIPT: &str = r#"
document.documentElement.setAttribute('data-js','ready');
(function(){
  var ids=['f-status','f-area','f-req','f-search'];
  function val(id){return document.getElementById(id).value;}
  function apply(){
    var st=val('f-status'),ar=val('f-area'),rq=val('f-req'),tx=val('f-search').toLowerCase(),shown=0;
    document.querySelectorAll('details.case').forEach(function(c){
      var ok=(!st||c.dataset.status===st)&&(!ar||c.dataset.area===ar)
        &&(!rq||c.dataset.reqs.split(' ').indexOf(rq)>=0)&&(!tx||c.textContent.toLowerCase().indexOf(tx)>=0);
      c.hidden=!ok;if(ok){shown++;}
    });
    document.getElementById('shown').textContent=String(shown);
  }
  ids.forEach(function(id){document.getElementById(id).addEventListener('input',apply);});
  var h=location.hash.slice(1),only=h.indexOf('only-')===0,t=document.getElementById(only?h.slice(5):h);
  if(t&&t.tagName==='DETAILS'){t.open=true;
    if(only){document.body.classList.add('only');t.classList.add('shown');}else{t.scrollIntoView();}}
})();
"#;

/// Escapes text for an HTML element or a quoted attribute.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The element id of a case: its name with every character outside `[a-z0-9_-]` as `-`.
pub fn case_id(name: &str) -> String {
    let slug: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c.to_ascii_lowercase() } else { '-' })
        .collect();
    format!("case-{slug}")
}

/// The whole page for `record` with its coverage `rows`.
pub fn render(record: &RunRecord, rows: &[CoverageRow]) -> String {
    let mut h = String::with_capacity(64 * 1024);
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\" data-js=\"off\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(h, "<title>callspec report: {}</title>", esc(&record.target.name));
    let _ = writeln!(h, "<style>{STYLE}</style>\n</head>\n<body>");
    summary(&mut h, record);
    coverage_matrix(&mut h, rows);
    filters(&mut h, record, rows);
    h.push_str("<h2>Cases</h2>\n<div id=\"cases\">\n");
    for case in &record.cases {
        case_section(&mut h, case);
    }
    let _ = writeln!(h, "</div>\n<script>{SCRIPT}</script>\n</body>\n</html>");
    h
}

fn summary(h: &mut String, record: &RunRecord) {
    h.push_str("<h1>callspec report</h1>\n<table class=\"meta\">\n");
    let rows = [
        ("Target", format!("{} ({})", record.target.name, record.target.base_url)),
        ("Profile", record.target.name.clone()),
        ("Embedded emulator", if record.target.embedded { "yes".into() } else { "no".into() }),
        ("Suite version", format!("{} (hash {})", record.suite_version, short_hash(&record.suite_hash))),
        ("callspec", record.tool_version.clone()),
        ("Date", record.started_at.clone()),
        ("Wall time", format!("{:.1} s", record.wall_time.as_secs_f64())),
        ("Requests sent", record.requests_sent.to_string()),
    ];
    for (k, v) in rows {
        let _ = writeln!(h, "<tr><td>{k}</td><td>{}</td></tr>", esc(&v));
    }
    h.push_str("</table>\n<ul id=\"counts\">\n");
    let _ = writeln!(h, "<li class=\"count\" data-status=\"TOTAL\"><b>{}</b> cases</li>", record.cases.len());
    for (status, n) in record.counts() {
        let l = status.label();
        let class = if n > 0 { format!("count s-{l}") } else { "count".to_owned() };
        let _ = writeln!(h, "<li class=\"{class}\" data-status=\"{l}\"><b>{n}</b> {l}</li>");
    }
    h.push_str("</ul>\n");
}

fn short_hash(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

fn coverage_matrix(h: &mut String, rows: &[CoverageRow]) {
    h.push_str("<h2>Requirement coverage</h2>\n<details id=\"coverage\"><summary>");
    let covered = rows.iter().filter(|r| r.verdict.is_covered()).count();
    let failing = rows.iter().filter(|r| r.verdict == Coverage::Failing).count();
    let _ = writeln!(h, "{} requirements: {covered} covered, {failing} failing</summary>", rows.len());
    h.push_str("<table><tr><th>Requirement</th><th>Area</th><th>Verdict</th><th>Passing</th><th>Failing</th>");
    h.push_str("<th>Not run / skipped / known</th><th>Statement</th></tr>\n");
    for r in rows {
        let class = format!("v-{}", r.verdict.label().replace(' ', "-"));
        let _ = writeln!(
            h,
            "<tr data-req=\"{id}\"><td><code>{id}</code></td><td>{area}</td><td class=\"{class}\">{v}</td>\
             <td>{p}</td><td>{f}</td><td>{o}</td><td>{st}</td></tr>",
            id = esc(&r.id),
            area = esc(&r.area),
            v = r.verdict.label(),
            p = r.checked(CheckVerdict::Passed),
            f = r.checked(CheckVerdict::Failed),
            o = r.other(),
            st = esc(&r.statement),
        );
    }
    h.push_str("</table></details>\n");
}

fn filters(h: &mut String, record: &RunRecord, rows: &[CoverageRow]) {
    let mut areas: Vec<&str> = record.cases.iter().map(|c| area_of(&c.name)).collect();
    areas.dedup();
    areas.sort_unstable();
    areas.dedup();
    h.push_str("<div class=\"filters\">\n<select id=\"f-status\"><option value=\"\">every status</option>");
    for s in Status::ALL {
        let _ = write!(h, "<option>{}</option>", s.label());
    }
    h.push_str("</select>\n<select id=\"f-area\"><option value=\"\">every area</option>");
    for a in areas {
        let _ = write!(h, "<option>{}</option>", esc(a));
    }
    h.push_str("</select>\n<select id=\"f-req\"><option value=\"\">every requirement</option>");
    for r in rows.iter().filter(|r| !r.cases.is_empty()) {
        let _ = write!(h, "<option>{}</option>", esc(&r.id));
    }
    h.push_str("</select>\n<input id=\"f-search\" type=\"search\" placeholder=\"search cases\">\n");
    let _ = writeln!(h, "<span class=\"muted\"><span id=\"shown\">{}</span> shown</span>\n</div>", record.cases.len());
}

fn case_section(h: &mut String, case: &CaseResult) {
    let l = case.status.label();
    let open = if matches!(case.status, Status::Fail | Status::Error | Status::XPass) { " open" } else { "" };
    let _ = writeln!(
        h,
        "<details class=\"case\" id=\"{id}\" data-status=\"{l}\" data-area=\"{area}\" data-reqs=\"{reqs}\"{open}>\n\
         <summary><span class=\"badge s-{l}\">{l}</span> <code>{name}</code> {title}</summary>",
        id = case_id(&case.name),
        area = esc(area_of(&case.name)),
        reqs = esc(&case.requirements.join(" ")),
        name = esc(&case.name),
        title = esc(&case.title),
    );
    let _ = writeln!(
        h,
        "<p class=\"muted\"><code>{}</code> · requirements: {} · {} ms (waited {} ms)</p>",
        esc(&case.file),
        esc(&case.requirements.join(", ")),
        case.duration.as_millis(),
        case.queue_wait.as_millis(),
    );
    if let Some(e) = &case.error {
        let _ = writeln!(h, "<p class=\"error\"><b>ERROR</b> (harness or setup): {}</p>", esc(e));
    }
    if let Some(r) = &case.reason {
        let _ = writeln!(h, "<p class=\"reason\">{}</p>", esc(r));
    }
    steps(h, case);
    for f in &case.failures {
        failure(h, f);
    }
    for note in &case.notes {
        let _ = writeln!(h, "<p class=\"muted\">harness note: {}</p>", esc(note));
    }
    timeline(h, case);
    h.push_str("</details>\n");
}

fn steps(h: &mut String, case: &CaseResult) {
    if case.steps.is_empty() {
        return;
    }
    h.push_str("<ol class=\"steps\">");
    for (i, s) in case.steps.iter().enumerate() {
        let failed = case.failures.iter().any(|f| f.step == i);
        let not_run = case.not_run.iter().find(|n| n.step == i);
        let mark = match (failed, not_run) {
            (true, _) => " <b class=\"v-failing\">failed</b>".to_owned(),
            (false, Some(n)) => format!(" <span class=\"muted\">not run: {}</span>", esc(&n.why)),
            _ => String::new(),
        };
        let _ = write!(h, "<li>{}{mark}</li>", esc(s));
    }
    h.push_str("</ol>\n");
}

fn failure(h: &mut String, f: &Failure) {
    let _ = writeln!(
        h,
        "<div class=\"failure\" data-kind=\"{kind}\"><b>[{req}] {kind}</b> at step {step} ({label}): {msg}",
        req = esc(f.requirement.as_deref().unwrap_or("-")),
        kind = f.kind.name(),
        step = f.step + 1,
        label = esc(&f.step_label),
        msg = esc(&f.message),
    );
    if let Some(p) = &f.pointer {
        let _ = writeln!(h, "<div>pointer: <code class=\"pointer\">{}</code></div>", esc(p));
    }
    let _ = writeln!(h, "<div>expected:</div><pre class=\"expected\">{}</pre>", esc(&f.expected));
    let _ = writeln!(h, "<div>actual:</div><pre class=\"actual\">{}</pre>", esc(&f.actual));
    if let Some(c) = &f.curl {
        let _ = writeln!(h, "<details><summary>curl repro</summary><pre class=\"curl\">{}</pre></details>", esc(c));
    }
    if let Some(k) = &f.known {
        let _ = writeln!(h, "<div class=\"muted\">known failure: {}</div>", esc(k));
    }
    h.push_str("</div>\n");
}

fn timeline(h: &mut String, case: &CaseResult) {
    if case.timeline.is_empty() {
        return;
    }
    let span = case.timeline.iter().map(|e| e.at_ms).max().unwrap_or(0).max(1);
    let _ =
        writeln!(h, "<h3>Timeline <span class=\"muted\">({span} ms, {} exchanges)</span></h3>", case.timeline.len());
    h.push_str("<ol class=\"timeline\">\n");
    for e in &case.timeline {
        event(h, e, span);
    }
    h.push_str("</ol>\n");
    if case.timeline_dropped > 0 {
        let _ = writeln!(h, "<p class=\"muted\">{} more exchanges left out</p>", case.timeline_dropped);
    }
}

fn event(h: &mut String, e: &TimelineEvent, span: u64) {
    let (class, dir) = match e.direction {
        Direction::Api => ("api", "→ target"),
        Direction::Callback => ("callback", "← target"),
    };
    let failed = if e.failed { " failed" } else { "" };
    let pct = e.at_ms as f64 * 100.0 / span as f64;
    let _ = write!(
        h,
        "<li class=\"ev {class}{failed}\" data-at=\"{at}\"><span>+{at} ms</span>\
         <span><span class=\"dir\">{dir}</span><div class=\"axis\"><span class=\"dot\" style=\"left:{pct:.1}%\"></span></div></span><span>",
        at = e.at_ms,
    );
    let _ = write!(h, "<b>{}</b> <code class=\"path\">{}</code>", esc(&e.method), esc(&e.path));
    if let Some(s) = e.status {
        let _ = write!(h, " → <b class=\"status\">{s}</b>");
    }
    if let Some(d) = e.duration_ms {
        let _ = write!(h, " <span class=\"muted\">{d} ms</span>");
    }
    if let Some(step) = e.step {
        let _ = write!(h, " <span class=\"muted\">step {}</span>", step + 1);
    }
    for (k, v) in &e.params {
        let _ = write!(h, " <span class=\"param\" data-name=\"{k}\">{k}={v}</span>", k = esc(k), v = esc(v));
    }
    match e.signature_valid {
        Some(true) => h.push_str(" <span class=\"sig-ok\">signature valid</span>"),
        Some(false) => h.push_str(" <span class=\"sig-bad\">signature INVALID</span>"),
        None => {}
    }
    if let Some(b) = &e.body {
        body(h, b);
    }
    h.push_str("</span></li>\n");
}

fn body(h: &mut String, b: &str) {
    if b.chars().count() > FOLD_AT {
        let _ = write!(
            h,
            "<details class=\"body\"><summary>body ({} chars)</summary><pre>{}</pre></details>",
            b.len(),
            esc(b)
        );
    } else if !b.is_empty() {
        let _ = write!(h, "<pre class=\"body\">{}</pre>", esc(b));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{FailureKind, TargetInfo};
    use std::time::Duration;

    const HOSTILE: &str = "<script>document.title='pwned'</script>\"><img src=x onerror=alert(1)>";

    fn record(case: CaseResult) -> RunRecord {
        RunRecord {
            version: 1,
            tool_version: "0".into(),
            suite_version: 1,
            suite_hash: "ab".into(),
            started_at: "2026-01-01T00:00:00Z".into(),
            wall_time: Duration::from_secs(1),
            target: TargetInfo { name: "t<b>".into(), base_url: "http://x".into(), embedded: false },
            requests_sent: 1,
            budget_wait: Duration::ZERO,
            cases: vec![case],
            requirements: Vec::new(),
        }
    }

    fn hostile_case() -> CaseResult {
        let mut c = CaseResult::new("callbacks::001_x", "f.json", HOSTILE, &["C-1".into()], &[]);
        c.status = Status::Fail;
        c.failures.push(Failure {
            requirement: Some("C-1".into()),
            kind: FailureKind::CallbackParam,
            step: 0,
            step_label: HOSTILE.into(),
            pointer: Some(HOSTILE.into()),
            expected: "ringing".into(),
            actual: HOSTILE.into(),
            message: "m".into(),
            curl: Some(HOSTILE.into()),
            known: None,
        });
        c.timeline.push(TimelineEvent {
            at_ms: 5,
            direction: Direction::Callback,
            method: "POST".into(),
            path: HOSTILE.into(),
            status: None,
            duration_ms: None,
            step: None,
            params: vec![("CallStatus".into(), HOSTILE.into())],
            signature_valid: Some(false),
            body: Some(HOSTILE.repeat(3)),
            failed: true,
        });
        c
    }

    #[test]
    fn escapes_every_special_character() {
        assert_eq!(esc("<a href=\"x\">&'</a>"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
    }

    #[test]
    fn a_hostile_value_renders_as_text_everywhere() {
        let html = render(&record(hostile_case()), &[]);
        // The page's own script is the only one; no target value opens an element.
        assert_eq!(html.matches("<script>").count(), 1, "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("t&lt;b&gt;"), "the target's name is escaped too");
        assert!(html.contains("&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;"));
    }

    #[test]
    fn case_ids_are_safe_slugs() {
        assert_eq!(case_id("callbacks::006_All events\"<"), "case-callbacks--006_all-events--");
    }
}
