//! `callspec sdk` against drivers that are wrong on purpose: the broken driver
//! (`drivers/broken/driver.py`) must FAIL exactly the checks of its three mistakes, pass the
//! rest of what it declares and SKIP the scenarios its handshake leaves out (delete, recordings,
//! machine detection); known failures turn its covered failures XFAIL and a stale entry XPASS; a
//! driver that prints garbage, hangs or never starts is ERROR (exit 2), never FAIL; a
//! known-failure entry naming no scenario is refused. Needs `python3` on the PATH.

use super::command::{BIN, repo_root, scratch, text};
use serde_json::Value;
use std::collections::BTreeMap;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn sdk(args: &[&str]) -> Output {
    Command::new(BIN).arg("sdk").args(args).current_dir(repo_root()).output().expect("callspec starts")
}

/// Per case: its status and the requirements of its failures.
fn outcome(dir: &std::path::Path) -> BTreeMap<String, (String, Vec<String>)> {
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).expect("report.json")).expect("JSON");
    report["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| {
            let mut reqs: Vec<String> = c["failures"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|f| f["requirement"].as_str().map(str::to_owned))
                .collect();
            reqs.dedup();
            (c["name"].as_str().unwrap_or("").to_owned(), (c["status"].as_str().unwrap_or("").to_owned(), reqs))
        })
        .collect()
}

#[test]
fn the_broken_driver_fails_exactly_its_three_mistakes() {
    let dir = scratch("sdk-broken");
    let out = sdk(&["--driver", "python3 drivers/broken/driver.py", "-q", "--report-dir", dir.to_str().unwrap_or(".")]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let got = outcome(&dir);
    let fail = |req: &str| ("FAIL".to_owned(), vec![req.to_owned()]);
    let pass = || ("PASS".to_owned(), Vec::new());
    let skip = || ("SKIP".to_owned(), Vec::new());
    let expected: BTreeMap<String, (String, Vec<String>)> = [
        ("sdk::001_create_call", fail("SDK-FORM-2")),
        ("sdk::002_fetch_call", pass()),
        ("sdk::003_list_calls_paged", fail("SDK-PAGE-1")),
        ("sdk::004_update_cancel", pass()),
        ("sdk::005_update_complete", pass()),
        ("sdk::006_fetch_unknown_call", pass()),
        ("sdk::007_accept_signatures", pass()),
        ("sdk::008_reject_forged_signatures", fail("SDK-SIG-2")),
        ("sdk::009_delete_call", skip()),
        ("sdk::010_start_recording", skip()),
        ("sdk::011_update_recording", skip()),
        ("sdk::012_list_recordings", skip()),
        ("sdk::013_fetch_recording", skip()),
        ("sdk::014_delete_recording", skip()),
        ("sdk::015_list_account_recordings", skip()),
        ("sdk::016_fetch_account_recording", skip()),
        ("sdk::017_answered_by", skip()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(got, expected, "{}", text(&out));
    let junit = std::fs::read_to_string(dir.join("junit.xml")).expect("junit.xml");
    assert!(junit.contains("sdk::003_list_calls_paged") && junit.contains("<failure"), "{junit}");
}

#[test]
fn a_driver_that_prints_garbage_is_error_not_fail() {
    let dir = scratch("sdk-garbage");
    let out = sdk(&["--driver", "echo hello", "-q", "--report-dir", dir.to_str().unwrap_or(".")]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let got = outcome(&dir);
    assert!(got.values().all(|(status, _)| status == "ERROR"), "{got:?}");
    let report = std::fs::read_to_string(dir.join("report.json")).expect("report.json");
    assert!(report.contains("breaks the protocol"), "{report}");
}

#[test]
fn a_driver_that_hangs_is_killed_at_the_deadline_and_is_error() {
    let dir = scratch("sdk-hang");
    let hang =
        r#"python3 -c 'import time; print("{\"callspec_driver\": 1, \"sdk\": \"hang\"}", flush=True); time.sleep(60)'"#;
    let started = Instant::now();
    let out =
        sdk(&["--driver", hang, "-q", "--timeout-multiplier", "0.05", "--report-dir", dir.to_str().unwrap_or(".")]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(started.elapsed() < Duration::from_secs(45), "took {:?}", started.elapsed());
    let got = outcome(&dir);
    assert!(got.values().all(|(status, _)| status == "ERROR"), "{got:?}");
    let report = std::fs::read_to_string(dir.join("report.json")).expect("report.json");
    assert!(report.contains("did not answer within"), "{report}");
}

#[test]
fn a_driver_that_cannot_start_exits_2_and_a_stray_known_failure_is_refused() {
    let out = sdk(&["--driver", "/nonexistent/driver", "-q"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let dir = scratch("sdk-known");
    let file = dir.join("known.toml");
    std::fs::write(&file, "[[known_failures]]\ncase = \"sdk::999_nothing\"\nreason = \"typo\"\ncategory = \"bug\"\n")
        .expect("known failures");
    let out = sdk(&["--driver", "python3 drivers/broken/driver.py", "--known-failures", file.to_str().unwrap_or("")]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("sdk::999_nothing"), "{}", text(&out));
}

#[test]
fn known_failures_make_a_covered_failure_xfail_and_a_stale_entry_xpass() {
    let dir = scratch("sdk-xfail");
    let file = dir.join("known.toml");
    std::fs::write(
        &file,
        "[[known_failures]]\ncase = \"sdk::001_create_call\"\nrequirement = \"SDK-FORM-2\"\n\
         reason = \"comma-joined on purpose\"\ncategory = \"bug\"\n\n\
         [[known_failures]]\ncase = \"sdk::002_fetch_call\"\nreason = \"stale\"\ncategory = \"bug\"\n",
    )
    .expect("known failures");
    let out = sdk(&[
        "--driver",
        "python3 drivers/broken/driver.py",
        "-q",
        "--known-failures",
        file.to_str().unwrap_or(""),
        "--report-dir",
        dir.to_str().unwrap_or("."),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let got = outcome(&dir);
    assert_eq!(got["sdk::001_create_call"].0, "XFAIL", "{got:?}");
    assert_eq!(got["sdk::002_fetch_call"].0, "XPASS", "{got:?}");
    assert_eq!(got["sdk::003_list_calls_paged"].0, "FAIL", "{got:?}");
    let coverage = std::fs::read_to_string(dir.join("coverage.json")).expect("coverage.json");
    let coverage: Value = serde_json::from_str(&coverage).expect("JSON");
    let form2 = coverage["requirements"].as_array().into_iter().flatten().find(|r| r["id"] == "SDK-FORM-2");
    assert_eq!(form2.map(|r| r["verdict"].clone()), Some(Value::from("known_failure")), "{coverage}");
}
