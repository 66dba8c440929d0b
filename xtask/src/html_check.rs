//! report.html in headless Chromium: the self-test `html::html_report_of_a_mixed_run` writes the
//! reports of a run with PASS, FAIL, SKIP and ERROR cases into `target/html-check`; Chromium
//! (`--dump-dom`, `--screenshot`, no driver) renders it, and the DOM must show the counts, a
//! failing case's pointer and expected value, the callbacks in arrival order, and no sign that a
//! hostile target's `<script>` ran. Chromium is installed with apt where missing and we are root;
//! where it cannot be, the check is skipped with a loud message.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::python_sdk::run;

/// The failing callbacks case of the self-test's run (see crates/conformance/tests/selftest/html.rs).
const CASE_ID: &str = "case-callbacks--901_out_of_order";
/// Longest a Chromium invocation may take.
const CHROMIUM_DEADLINE: Duration = Duration::from_secs(90);
/// The screenshot of the failing callbacks case's timeline, in the report directory.
pub(crate) const SCREENSHOT: &str = "timeline-failing-callbacks.png";

/// Renders the self-test's report in Chromium and checks the DOM; skips loudly without Chromium.
#[allow(clippy::print_stderr, reason = "xtask reports progress on stderr")]
pub(crate) fn check(root: &Path, cargo: &mut Command) -> Result<(), String> {
    let Some(chromium) = chromium() else {
        eprintln!("\n!!! xtask: SKIPPED the report.html check: no `chromium` on PATH and it could not be installed");
        eprintln!(
            "!!! (apt-get install -y chromium needs root and Debian's archive); report.html is NOT checked in a browser\n"
        );
        return Ok(());
    };
    let dir = root.join("target/html-check");
    run(
        "the report.html self-test",
        cargo
            .args(["test", "--quiet", "-p", "callspec-conformance", "--test", "selftest", "html::"])
            .env("CALLSPEC_HTML_DIR", &dir),
    )?;
    let page = dir.join("report.html");
    let url = format!("file://{}", page.display());
    let dom_file = dir.join("dom.html");
    chrome(&chromium, &["--dump-dom", &url], Some(&dom_file))?;
    let dom = std::fs::read_to_string(&dom_file).map_err(|e| format!("{}: {e}", dom_file.display()))?;
    judge(&dom)?;
    let shot = dir.join(SCREENSHOT);
    let _ = std::fs::remove_file(&shot);
    let screenshot = format!("--screenshot={}", shot.display());
    chrome(&chromium, &["--window-size=1280,1000", &screenshot, &format!("{url}#only-{CASE_ID}")], None)?;
    let size = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
    if size == 0 {
        return Err(format!("Chromium wrote no screenshot at {}", shot.display()));
    }
    eprintln!("report.html checked in Chromium; the failing callbacks case's timeline: {}", shot.display());
    Ok(())
}

/// What the rendered DOM must show.
fn judge(dom: &str) -> Result<(), String> {
    let mut problems = Vec::new();
    let html_tag = dom.find("<html").and_then(|i| dom[i..].find('>').map(|j| &dom[i..i + j]));
    match html_tag {
        Some(tag) if tag.contains("data-pwned") => problems.push(format!("a target's <script> ran: {tag}>")),
        Some(tag) if !tag.contains("data-js=\"ready\"") => {
            problems.push(format!("the page's own script did not run, so the injection check proves nothing: {tag}>"))
        }
        Some(_) => {}
        None => problems.push("no <html> element in the DOM".to_owned()),
    }
    if !dom.contains("&lt;script&gt;document.documentElement.setAttribute(") {
        problems.push("the hostile value is not shown as text".to_owned());
    }
    for (status, n) in [("PASS", 1), ("FAIL", 2), ("SKIP", 1), ("ERROR", 1)] {
        if !dom.contains(&format!("data-status=\"{status}\"><b>{n}</b>")) {
            problems.push(format!("the summary does not count {n} {status}"));
        }
    }
    let case = dom.find(&format!("id=\"{CASE_ID}\"")).map(|i| &dom[i..]);
    let case = case.map(|c| c.find("<details class=\"case\"").map_or(c, |end| &c[..end]));
    match case {
        None => problems.push(format!("no case {CASE_ID} in the DOM")),
        Some(case) => problems.extend(judge_case(case)),
    }
    if problems.is_empty() { Ok(()) } else { Err(format!("report.html in Chromium:\n  {}", problems.join("\n  "))) }
}

/// The failing callbacks case: its pointer and expected value, its timeline in arrival order.
fn judge_case(case: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let wanted = [
        ("the failure's pointer", "<code class=\"pointer\">request #1 (POST /events)/CallStatus</code>"),
        ("the failure's expected value", "<pre class=\"expected\">\"initiated\"</pre>"),
        ("a highlighted callback", "<li class=\"ev callback failed\""),
    ];
    for (what, needle) in wanted {
        if !case.contains(needle) {
            problems.push(format!("{what} is missing: {needle}"));
        }
    }
    let timeline = case.find("class=\"timeline\"").map_or("", |i| &case[i..]);
    let order: Vec<&str> = timeline
        .match_indices("data-name=\"CallStatus\">CallStatus=")
        .map(|(i, m)| &timeline[i + m.len()..])
        .filter_map(|rest| rest.split('<').next())
        .collect();
    if order != ["in-progress", "initiated"] {
        problems.push(format!("the timeline's callbacks are {order:?}, not in arrival order [in-progress, initiated]"));
    }
    problems
}

/// `chromium` on PATH, installed with apt-get where missing and we are root.
#[allow(clippy::print_stderr, reason = "xtask reports progress on stderr")]
fn chromium() -> Option<PathBuf> {
    if let Some(found) = on_path("chromium") {
        return Some(found);
    }
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    if !root || on_path("apt-get").is_none() {
        return None;
    }
    eprintln!("xtask: installing Debian's chromium for the report.html check");
    let install = || {
        Command::new("apt-get")
            .args(["install", "-y", "--no-install-recommends", "chromium"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .is_ok_and(|s| s.success())
    };
    if !install() {
        // A fresh image may have no package lists yet.
        let _ = Command::new("apt-get").arg("update").status();
        install();
    }
    on_path("chromium")
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file())
}

/// Runs headless Chromium with `args`, stdout into `out` (or discarded), under a deadline.
fn chrome(chromium: &Path, args: &[&str], out: Option<&Path>) -> Result<(), String> {
    let stdout = match out {
        Some(path) => Stdio::from(File::create(path).map_err(|e| format!("{}: {e}", path.display()))?),
        None => Stdio::null(),
    };
    // As root Chromium refuses its sandbox; the page is our own file and makes no requests.
    let mut child = Command::new(chromium)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run"])
        .args(args)
        .stdout(stdout)
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", chromium.display()))?;
    let deadline = Instant::now() + CHROMIUM_DEADLINE;
    loop {
        match child.try_wait().map_err(|e| format!("chromium: {e}"))? {
            Some(status) if status.success() => return Ok(()),
            Some(status) => return Err(format!("chromium {args:?}: {status}")),
            None if Instant::now() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("chromium {args:?} did not finish within {CHROMIUM_DEADLINE:?}"));
            }
            None => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{judge, judge_case};

    #[test]
    fn a_script_that_ran_is_caught() {
        let dom = "<html lang=\"en\" data-js=\"ready\" data-pwned=\"yes\"><body></body></html>";
        let err = judge(dom).expect_err("the injection must be caught");
        assert!(err.contains("a target's <script> ran"), "{err}");
    }

    #[test]
    fn an_empty_page_fails_every_check() {
        let err = judge("<html lang=\"en\" data-js=\"ready\"><body></body></html>").expect_err("nothing is there");
        assert!(err.contains("does not count 2 FAIL") && err.contains("no case"), "{err}");
        assert!(err.contains("not shown as text"), "{err}");
    }

    #[test]
    fn callbacks_out_of_arrival_order_are_caught() {
        let case = "<ol class=\"timeline\"><span data-name=\"CallStatus\">CallStatus=initiated</span>\
                    <span data-name=\"CallStatus\">CallStatus=in-progress</span></ol>";
        let problems = judge_case(case);
        assert!(problems.iter().any(|p| p.contains("not in arrival order")), "{problems:?}");
    }
}
