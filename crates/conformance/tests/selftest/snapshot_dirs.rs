//! Snapshots through the `callspec` binary: no environment variable (`INSTA_UPDATE` and the
//! like) makes a run against another target or profile write into the suite's `fixtures/`; a
//! target's own snapshot directory records on the first run (in CI too), compares on the next,
//! reports a tampered value as drift of kind `snapshot` at its pointer, and is rewritten by
//! `--update-snapshots`; a directory inside `fixtures/` is refused before anything runs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_callspec");
/// The reference emulator's seeded main account.
const SID: &str = "ACc0ffee00000000000000000000000001";
const TOKEN: &str = "c0ffee00c0ffee00c0ffee00c0ffee00";
/// What insta reads; none of it may make callspec write.
const INSTA: [(&str, &str); 4] =
    [("INSTA_UPDATE", "always"), ("INSTA_FORCE_PASS", "1"), ("INSTA_FORCE_UPDATE", "1"), ("INSTA_OUTPUT", "diff")];

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("the repository root")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("callspec-selftest-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// Every file under `dir` with its bytes, skipping `skip` directories by name.
fn files(dir: &Path, skip: &[&str], out: &mut BTreeMap<PathBuf, Vec<u8>>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if skip.iter().any(|s| name == *s) {
            continue;
        }
        if path.is_dir() {
            files(&path, skip, out);
        } else {
            out.insert(path.clone(), std::fs::read(&path).unwrap_or_default());
        }
    }
}

/// The `.snap.new` files in the repository, outside build output.
fn pending_files() -> BTreeSet<PathBuf> {
    let mut names = BTreeSet::new();
    let mut stack = vec![repo_root()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() && !matches!(entry.file_name().to_str(), Some("target" | ".git")) {
                stack.push(path);
            } else if path.to_string_lossy().ends_with(".snap.new") {
                names.insert(path);
            }
        }
    }
    names
}

/// A profile file in `dir`: `source` with `top` keys put before its first table and `edits`
/// (text, replacement) applied.
fn profile_from(dir: &Path, source: &str, top: &str, edits: &[(&str, &str)]) -> PathBuf {
    let mut text = std::fs::read_to_string(repo_root().join("fixtures/targets").join(source)).expect("a profile");
    for (from, to) in edits {
        assert!(text.contains(from), "{source} has {from:?}");
        text = text.replace(from, to);
    }
    let first_table = text.find("\n[").map_or(text.len(), |i| i + 1);
    text.insert_str(first_table, &format!("{top}\n"));
    let path = dir.join("profile.toml");
    std::fs::write(&path, text).expect("the profile is written");
    path
}

/// Runs callspec to its end with insta's variables set and `CI` unset (the case where a local
/// run would write pending files).
fn callspec_insta(args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args).env_remove("CI").env("TWILIO_ACCOUNT_SID", SID).env("TWILIO_AUTH_TOKEN", TOKEN);
    for (k, v) in INSTA {
        cmd.env(k, v);
    }
    cmd.output().expect("callspec starts")
}

/// Runs callspec with `CI` set: a user's own directory is still recorded in CI.
fn callspec_ci(args: &[&str]) -> Output {
    Command::new(BIN).args(args).env("CI", "true").output().expect("callspec starts")
}

#[test]
fn no_environment_variable_makes_a_third_party_run_write_into_the_fixtures() {
    let root = repo_root();
    let mut before = BTreeMap::new();
    files(&root.join("fixtures"), &[], &mut before);
    let pending_before = pending_files();
    let dir = scratch("third-party");
    let edits = [("bind = \"127.0.0.1:8099\"", "bind = \"127.0.0.1:0\"")];
    let profile = profile_from(&dir, "example-third-party.toml", "snapshots = true", &edits);
    let p = profile.to_str().unwrap_or_default();

    // The reference emulator as a third-party target: its own process, a profile of another target.
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime");
    let emulator =
        runtime.block_on(callspec_emulator::spawn(callspec_emulator::Config::default())).expect("the emulator starts");
    let remote = callspec_insta(&["--target", &emulator.base_url(), "--profile", p, "--no-coverage", "create::00"]);
    runtime.block_on(emulator.shutdown());
    // The embedded emulator under the same profile: before, this wrote `.snap.new` files.
    let embedded = callspec_insta(&["--profile", p, "--no-coverage", "create::00"]);

    for out in [&remote, &embedded] {
        // The goldens were compared and differ (a shared account shows its From number), so a
        // run that wrote pending files or updates would have written here.
        assert_eq!(out.status.code(), Some(1), "{}", text(out));
        assert!(text(out).contains("snapshot check, step 1 (snapshot fixtures/snapshots/create/"), "{}", text(out));
        assert!(!text(out).contains("panicked"), "{}", text(out));
    }
    let mut after = BTreeMap::new();
    files(&root.join("fixtures"), &[], &mut after);
    let changed: Vec<&PathBuf> =
        after.iter().filter(|(p, bytes)| before.get(*p) != Some(*bytes)).map(|(p, _)| p).collect();
    let removed: Vec<&PathBuf> = before.keys().filter(|p| !after.contains_key(*p)).collect();
    assert!(changed.is_empty() && removed.is_empty(), "fixtures/ changed: {changed:?}, removed: {removed:?}");
    let new_pending: Vec<PathBuf> = pending_files().difference(&pending_before).cloned().collect();
    assert!(new_pending.is_empty(), "a run left pending snapshots: {new_pending:?}");
}

/// The cases of `report.json` by name.
fn report_cases(report_dir: &Path) -> BTreeMap<String, Value> {
    let text = std::fs::read_to_string(report_dir.join("report.json")).expect("report.json");
    let report: Value = serde_json::from_str(&text).expect("JSON");
    let cases = report["cases"].as_array().cloned().unwrap_or_default();
    cases.into_iter().map(|c| (c["name"].as_str().unwrap_or_default().to_owned(), c)).collect()
}

const CASES: [&str; 3] = ["--exact", "create::001_missing_to", "create::003_e164_to"];

#[test]
fn an_own_snapshot_directory_records_compares_and_reports_drift() {
    let dir = scratch("own-snapshots");
    let snaps = dir.join("snaps");
    let reports = dir.join("reports");
    let (s, r) = (snaps.to_str().unwrap_or_default(), reports.to_str().unwrap_or_default());
    // First run: the profile's key, relative to the profile; CI set, and the directory is written.
    let profile = profile_from(&dir, "reference-emulator.toml", "snapshot_dir = \"snaps\"", &[]);
    let first =
        callspec_ci(&[&["--profile", profile.to_str().unwrap_or_default(), "--report-dir", r][..], &CASES].concat());
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    assert!(text(&first).contains("test create::001_missing_to ... ok (snapshot recorded)"), "{}", text(&first));
    let shown = snaps.canonicalize().expect("the directory exists");
    assert!(text(&first).contains(&format!("snapshots in {}: 2 recorded", shown.display())), "{}", text(&first));
    let file = snaps.join("create/001_missing_to.snap");
    let recorded = std::fs::read_to_string(&file).expect("the first run records");
    assert!(recorded.contains("\"code\": 21201") && recorded.contains("target: \"reference-emulator\""), "{recorded}");
    assert!(snaps.join("create/003_e164_to.snap").is_file());
    let cases = report_cases(&reports);
    assert_eq!(cases["create::001_missing_to"]["snapshot"], "recorded");
    assert_eq!(cases["create::001_missing_to"]["status"], "PASS");

    // Second run: the flag, the same directory; everything matches.
    let second = callspec_ci(&[&["--snapshot-dir", s, "--report-dir", r][..], &CASES].concat());
    assert_eq!(second.status.code(), Some(0), "{}", text(&second));
    assert_eq!(report_cases(&reports)["create::003_e164_to"]["snapshot"], "matched");
    assert_eq!(std::fs::read_to_string(&file).expect("kept"), recorded);

    // A tampered value is drift at its pointer, one compact failure, no backtrace.
    let tampered = recorded.replace("\"code\": 21201", "\"code\": 21299");
    std::fs::write(&file, &tampered).expect("tamper");
    let third = callspec_ci(&[&["--snapshot-dir", s, "--report-dir", r][..], &CASES].concat());
    assert_eq!(third.status.code(), Some(1), "{}", text(&third));
    assert!(!text(&third).contains("panicked") && text(&third).contains("drift since the run recorded on"));
    let case = &report_cases(&reports)["create::001_missing_to"];
    assert_eq!((&case["status"], &case["snapshot"]), (&Value::from("FAIL"), &Value::from("differed")));
    let failure = &case["failures"][0];
    assert_eq!((&failure["kind"], &failure["pointer"]), (&Value::from("snapshot"), &Value::from("/0/body/code")));
    assert_eq!((&failure["expected"], &failure["actual"]), (&Value::from("21299"), &Value::from("21201")));
    assert_eq!(report_cases(&reports)["create::003_e164_to"]["status"], "PASS");
    assert_eq!(std::fs::read_to_string(&file).expect("kept"), tampered, "a difference rewrites nothing");

    // `--update-snapshots` with the directory accepts this run.
    let update = callspec_ci(&[&["--snapshot-dir", s, "--update-snapshots", "--report-dir", r][..], &CASES].concat());
    assert_eq!(update.status.code(), Some(0), "{}", text(&update));
    assert!(std::fs::read_to_string(&file).expect("rewritten").contains("\"code\": 21201"));
    assert_eq!(report_cases(&reports)["create::001_missing_to"]["snapshot"], "updated");
}

#[test]
fn a_snapshot_dir_inside_the_fixtures_is_refused_before_anything_runs() {
    let root = repo_root();
    let dir = scratch("inside-fixtures");
    let sneaky = root.join("fixtures/snapshots/../mine");
    let refused = callspec_ci(&["--snapshot-dir", sneaky.to_str().unwrap_or_default(), "create::001"]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    assert!(text(&refused).contains("is inside the suite's own fixtures"), "{}", text(&refused));
    assert!(!root.join("fixtures/mine").exists());

    let inside = format!("snapshot_dir = {:?}", root.join("fixtures/targets/mine").display().to_string());
    let profile = profile_from(&dir, "reference-emulator.toml", &inside, &[]);
    let refused = callspec_ci(&["--profile", profile.to_str().unwrap_or_default(), "create::001"]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    assert!(text(&refused).contains("is inside the suite's own fixtures"), "{}", text(&refused));

    #[cfg(unix)]
    {
        let link = dir.join("link");
        std::os::unix::fs::symlink(root.join("fixtures"), &link).expect("a symlink");
        let through = link.join("own");
        let refused = callspec_ci(&["--snapshot-dir", through.to_str().unwrap_or_default(), "create::001"]);
        assert_eq!(refused.status.code(), Some(2), "a link into fixtures/ is seen through: {}", text(&refused));
        assert!(!root.join("fixtures/own").exists());
    }

    // Against another target, --update-snapshots needs a directory of the target's own.
    let reference = root.join("fixtures/targets/reference-emulator.toml");
    let p = reference.to_str().unwrap_or_default();
    let refused = callspec_ci(&["--target", "http://127.0.0.1:9", "--profile", p, "--update-snapshots"]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    assert!(text(&refused).contains("give --snapshot-dir DIR"), "{}", text(&refused));

    let both = profile_from(
        &dir,
        "reference-emulator.toml",
        "snapshot_dir = \"s\"",
        &[("snapshots = true", "snapshots = false")],
    );
    let refused = callspec_ci(&["--profile", both.to_str().unwrap_or_default(), "create::001"]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    assert!(text(&refused).contains("/snapshot_dir"), "{}", text(&refused));
}
