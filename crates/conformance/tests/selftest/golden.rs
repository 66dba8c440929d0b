//! Golden snapshots against fake targets: a reviewed snapshot (a literal, written here) holds
//! for a target that only changes SIDs, dates and durations, and a target that changes one
//! value, adds a field or renames a callback parameter fails with the JSON pointer named. A
//! target's own snapshot directory records on the first run, matches on the next, reports drift
//! (with the recorded run's date and target) on a change, and an update rewrites it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use callspec_conformance::client::Client;
use callspec_conformance::fixture::parse_case;
use callspec_conformance::outcome::{CaseResult, FailureKind, SnapshotOutcome, Status};
use callspec_conformance::profile::Profile;
use callspec_conformance::requirements::Catalog;
use callspec_conformance::runner::{Accounts, Harness, SnapshotMode, SnapshotSettings};
use callspec_conformance::schema::SchemaSet;
use callspec_conformance::sink::Sink;
use callspec_model::{Form, signature};
use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const AC: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "golden-token";

/// The reviewed snapshot of the case below, as `cargo xtask snapshots` would write it.
const REVIEWED: &str = r#"[
  {
    "body": {
      "date_created": "[rfc2822]",
      "direction": "outbound-api",
      "duration": "[seconds]",
      "sid": "[CallSid:1]",
      "status": "completed",
      "uri": "/2010-04-01/Accounts/[AccountSid:1]/Calls/[CallSid:1].json"
    },
    "request": "POST /2010-04-01/Accounts/[AccountSid:1]/Calls.json",
    "status": 201,
    "step": 1
  },
  {
    "callbacks": "/events",
    "requests": [
      {
        "method": "POST",
        "params": {
          "CallSid": "[CallSid:1]",
          "CallStatus": "completed",
          "Timestamp": "[rfc2822]"
        },
        "path": "/events"
      }
    ],
    "step": 2
  }
]"#;

/// What a fake target answers and sends back.
#[derive(Clone)]
struct Fake {
    sid: &'static str,
    date: &'static str,
    duration: &'static str,
    direction: &'static str,
    extra_field: bool,
    status_param: &'static str,
}

const REFERENCE: Fake = Fake {
    sid: "CA00000000000000000000000000000001",
    date: "Tue, 31 Aug 2010 20:36:28 +0000",
    duration: "15",
    direction: "outbound-api",
    extra_field: false,
    status_param: "CallStatus",
};

impl Respond for Fake {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let form = Form::parse(&request.body).unwrap_or_default();
        let mut body = json!({
            "sid": self.sid,
            "date_created": self.date,
            "direction": self.direction,
            "duration": self.duration,
            "status": "completed",
            "uri": format!("/2010-04-01/Accounts/{AC}/Calls/{}.json", self.sid),
        });
        if self.extra_field {
            body["annotation"] = json!("surprise");
        }
        if let Some(url) = form.get("StatusCallback").map(str::to_owned) {
            let params: Vec<(String, String)> = vec![
                ("CallSid".into(), self.sid.into()),
                (self.status_param.into(), "completed".into()),
                ("Timestamp".into(), self.date.into()),
            ];
            let signature = signature::sign(TOKEN, &url, &params);
            let body = Form::from_pairs(params).encode();
            std::thread::spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
                rt.block_on(async move {
                    let _ = reqwest::Client::new()
                        .post(&url)
                        .header("Content-Type", "application/x-www-form-urlencoded")
                        .header("X-Twilio-Signature", signature)
                        .body(body)
                        .send()
                        .await;
                });
            });
        }
        ResponseTemplate::new(201).set_body_raw(body.to_string().into_bytes(), "application/json")
    }
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs the case against `fake` with the reviewed snapshot stored under a fresh root.
async fn run(test: &str, fake: Fake) -> CaseResult {
    let root = repo_root().join("target/tmp/selftest-golden").join(test);
    let dir = root.join("fixtures/snapshots/golden");
    std::fs::create_dir_all(&dir).expect("snapshot dir");
    let header = "---\nsource: crates/conformance/src/runner.rs\n---\n";
    std::fs::write(dir.join("case.snap"), format!("{header}{REVIEWED}\n")).expect("write the reviewed snapshot");
    let settings =
        SnapshotSettings { dir: root.join("fixtures/snapshots"), source: "golden".into(), mode: SnapshotMode::Pending };
    run_with(settings, fake).await
}

/// Runs the case against `fake`, comparing snapshots as `settings` say.
async fn run_with(settings: SnapshotSettings, fake: Fake) -> CaseResult {
    let schemas = Arc::new(SchemaSet::load(&repo_root().join("schemas")).expect("schemas"));
    let catalog = Catalog::load(&repo_root().join("fixtures/requirements.toml")).expect("catalog");
    let case = parse_case(
        "golden::case",
        "golden",
        Path::new("golden/case.json"),
        json!({
            "title": "snapshot self-test",
            "requirements": ["S-CB-1"],
            "needs": ["callbacks"],
            "steps": [
                {"request": {"method": "POST", "path": "/2010-04-01/Accounts/{AccountSid}/Calls.json",
                             "form": [["To", "+14155551212"], ["StatusCallback", "{Sink}/events"]],
                             "expect": {"status": 201}}},
                {"callbacks": {"path": "/events", "count": 1, "within_ms": 5000}}
            ]
        }),
        &schemas,
        &catalog,
    )
    .expect("case loads");
    let profile_text = format!(
        "name = \"golden\"\n[credentials]\naccount_sid = \"{AC}\"\nauth_token = \"{TOKEN}\"\n[numbers]\nfrom = \"+15017122661\"\nanswer = \"+14155551212\"\n"
    );
    let profile = Profile::parse(&profile_text, Path::new("golden.toml"), &schemas).expect("profile");
    let server = MockServer::start().await;
    server.register(Mock::given(method("POST")).respond_with(fake)).await;
    let sink = Sink::start("127.0.0.1:0", "http://127.0.0.1:{port}").await.expect("sink");
    let client = Client::new(Duration::from_secs(3), 1 << 20).expect("client");
    let main = profile.credentials.resolve("main").expect("credentials");
    let harness =
        Harness::new(profile, schemas, sink, client, server.uri(), Accounts { main, trial: None }, "2026-01-01".into())
            .with_snapshots(settings);
    tokio::time::timeout(Duration::from_secs(20), harness.run_case(&case)).await.expect("the case ends")
}

fn assert_fails_at(result: &CaseResult, pointer: &str, expected: &str, actual: &str) {
    assert_eq!(result.status, Status::Fail, "{}", result.message());
    let f = result.failures.iter().find(|f| f.pointer.as_deref() == Some(pointer));
    let f = f.unwrap_or_else(|| panic!("no failure at {pointer}:\n{}", result.message()));
    assert_eq!((f.expected.as_str(), f.actual.as_str()), (expected, actual), "{}", result.message());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_target_matches_its_reviewed_snapshot() {
    let result = run("reference", REFERENCE).await;
    assert_eq!(result.status, Status::Pass, "{}", result.message());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_sids_dates_and_durations_still_match() {
    let fake = Fake {
        sid: "CAffffffffffffffffffffffffffffffff",
        date: "Fri, 08 Jan 2016 17:18:38 +0000",
        duration: "49",
        ..REFERENCE
    };
    let result = run("volatile", fake).await;
    assert_eq!(result.status, Status::Pass, "{}", result.message());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_value_fails_naming_its_pointer() {
    let result = run("changed", Fake { direction: "inbound", ..REFERENCE }).await;
    assert_fails_at(&result, "/0/body/direction", "\"outbound-api\"", "\"inbound\"");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_added_field_fails_naming_its_pointer() {
    let result = run("added", Fake { extra_field: true, ..REFERENCE }).await;
    assert_fails_at(&result, "/0/body/annotation", "(absent)", "\"surprise\"");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renamed_callback_parameter_fails_naming_both_pointers() {
    let result = run("renamed", Fake { status_param: "Status", ..REFERENCE }).await;
    assert_fails_at(&result, "/1/requests/0/params/CallStatus", "\"completed\"", "(absent)");
    assert_fails_at(&result, "/1/requests/0/params/Status", "(absent)", "\"completed\"");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_date_in_another_format_is_not_hidden_by_the_placeholder() {
    let result = run("iso-date", Fake { date: "2010-08-31T20:36:28Z", ..REFERENCE }).await;
    assert_fails_at(&result, "/0/body/date_created", "\"[rfc2822]\"", "\"2010-08-31T20:36:28Z\"");
}

/// Settings for a target's own snapshot directory, emptied first.
fn own_dir(test: &str, mode: SnapshotMode) -> SnapshotSettings {
    let dir = repo_root().join("target/tmp/selftest-golden-own").join(test);
    if mode == SnapshotMode::Record {
        let _ = std::fs::remove_dir_all(&dir);
    }
    SnapshotSettings { dir, source: "my-emulator 1.4.0".into(), mode }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_own_snapshot_directory_records_then_compares_then_reports_drift() {
    let settings = own_dir("drift", SnapshotMode::Record);
    let file = settings.dir.join("golden/case.snap");
    let first = run_with(settings.clone(), REFERENCE).await;
    assert_eq!((first.status, first.snapshot), (Status::Pass, Some(SnapshotOutcome::Recorded)), "{}", first.message());
    let recorded = std::fs::read_to_string(&file).expect("the first run records the snapshot");
    assert!(recorded.contains("target: \"my-emulator 1.4.0\"\n  recorded: \"2026-01-01\""), "{recorded}");
    assert!(recorded.ends_with(&format!("{REVIEWED}\n")), "the recorded text is the normalized one:\n{recorded}");

    let second = run_with(settings.clone(), Fake { sid: "CAffffffffffffffffffffffffffffffff", ..REFERENCE }).await;
    assert_eq!(
        (second.status, second.snapshot),
        (Status::Pass, Some(SnapshotOutcome::Matched)),
        "{}",
        second.message()
    );

    let drifted = run_with(settings.clone(), Fake { direction: "inbound", ..REFERENCE }).await;
    assert_fails_at(&drifted, "/0/body/direction", "\"outbound-api\"", "\"inbound\"");
    assert_eq!(drifted.snapshot, Some(SnapshotOutcome::Differed));
    let f = &drifted.failures[0];
    assert_eq!(f.kind, FailureKind::Snapshot);
    assert!(f.message.contains("drift since the run recorded on 2026-01-01 from my-emulator 1.4.0"), "{}", f.message);
    assert!(f.step_label.contains(&file.display().to_string()), "the failure names the file: {}", f.step_label);
    assert_eq!(std::fs::read_to_string(&file).expect("still there"), recorded, "a difference never rewrites a record");

    let update = SnapshotSettings { mode: SnapshotMode::Update, ..settings };
    let updated = run_with(update, Fake { direction: "inbound", ..REFERENCE }).await;
    assert_eq!(
        (updated.status, updated.snapshot),
        (Status::Pass, Some(SnapshotOutcome::Updated)),
        "{}",
        updated.message()
    );
    assert!(std::fs::read_to_string(&file).expect("rewritten").contains("\"direction\": \"inbound\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_own_snapshot_is_an_error_and_is_left_alone() {
    let settings = own_dir("unreadable", SnapshotMode::Record);
    let file = settings.dir.join("golden/case.snap");
    std::fs::create_dir_all(file.parent().expect("a parent")).expect("the directory");
    std::fs::write(&file, "[\"hand-edited\"]\n").expect("a file");
    let result = run_with(settings, REFERENCE).await;
    assert_eq!(result.status, Status::Error, "{}", result.message());
    assert!(result.message().contains("unreadable"), "{}", result.message());
    assert_eq!(std::fs::read_to_string(&file).expect("still there"), "[\"hand-edited\"]\n");
}
