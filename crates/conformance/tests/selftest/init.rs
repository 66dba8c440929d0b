//! `callspec init` as a newcomer meets it: against the reference emulator (every capability
//! found, the numbers listed), against a stateless mock such as Prism (nothing but the Calls
//! paths: a loadable profile with placeholders and reasons, and a run that FAILs for real
//! reasons, never ERRORs), and against a dead port (exit 2, nothing written).

use crate::command::{BIN, repo_root, scratch, text};
use crate::fake::{AC, call_body};
use callspec_conformance::profile::Profile;
use callspec_conformance::schema::SchemaSet;
use serde_json::json;
use std::process::{Command, Output};
use std::time::{Duration, Instant};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// `callspec init` against the reference emulator, started through the library on its own
/// runtime (kept alive while the binary probes it).
fn init_against_emulator(args: &[&str]) -> Output {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime");
    let emulator =
        runtime.block_on(callspec_emulator::spawn(callspec_emulator::Config::default())).expect("the emulator starts");
    let out = Command::new(BIN)
        .args(["init", "--target", &emulator.base_url()])
        .args(args)
        .env("TWILIO_ACCOUNT_SID", "ACc0ffee00000000000000000000000001")
        .env("TWILIO_AUTH_TOKEN", "c0ffee00c0ffee00c0ffee00c0ffee00")
        .output()
        .expect("callspec starts");
    runtime.block_on(emulator.shutdown());
    out
}

#[test]
fn init_writes_a_profile_that_loads_and_declares_what_the_emulator_can_do() {
    let dir = scratch("init");
    let file = dir.join("my.toml");
    let out = init_against_emulator(&["--output", file.to_str().unwrap_or_default()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("--list"), "{}", text(&out));
    let written = std::fs::read_to_string(&file).expect("the profile is written");
    let schemas = SchemaSet::load(&repo_root().join("schemas")).expect("schemas");
    let profile = Profile::parse(&written, &file, &schemas).expect("it loads");
    let c = &profile.capabilities;
    assert!(c.subaccounts && c.applications && c.callbacks, "{written}");
    assert!(!written.contains("PLACEHOLDER") && profile.numbers.from.starts_with("+1"), "{written}");
    assert!(written.contains("validly signed"), "{written}");
    let again = init_against_emulator(&["--output", file.to_str().unwrap_or_default()]);
    assert_eq!(again.status.code(), Some(2), "{}", text(&again));
    assert!(text(&again).contains("--force"), "{}", text(&again));
    assert_eq!(std::fs::read_to_string(&file).expect("still there"), written);
    let forced = init_against_emulator(&["--output", file.to_str().unwrap_or_default(), "--force"]);
    assert_eq!(forced.status.code(), Some(0), "{}", text(&forced));
}

#[test]
fn init_against_a_dead_port_exits_2_at_once_and_writes_nothing() {
    let dir = scratch("init-dead");
    let file = dir.join("my.toml");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    drop(listener);
    let started = Instant::now();
    let out = Command::new(BIN)
        .args(["init", "--target", &url, "--output", file.to_str().unwrap_or_default()])
        .args(["--account-sid", "ACx", "--auth-token", "t"])
        .output()
        .expect("callspec starts");
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("cannot be reached"), "{}", text(&out));
    assert!(!file.exists());
}

/// A stateless mock of the Calls paths alone, as Prism serves an OpenAPI description: a canned
/// list, a canned 201 for every create, 404 for anything else (accounts, numbers, fetches).
async fn calls_only_mock() -> MockServer {
    let server = MockServer::builder().start().await;
    let list = json!({ "calls": [], "page": 0, "page_size": 1, "start": 0, "end": 0,
                       "uri": format!("/2010-04-01/Accounts/{AC}/Calls.json?PageSize=1&Page=0"),
                       "first_page_uri": format!("/2010-04-01/Accounts/{AC}/Calls.json?PageSize=1&Page=0"),
                       "next_page_uri": null, "previous_page_uri": null });
    let canned = |status: u16, body: &serde_json::Value| {
        ResponseTemplate::new(status).set_body_raw(body.to_string().into_bytes(), "application/json")
    };
    let calls = || path_regex(r"^/2010-04-01/Accounts/[^/]+/Calls\.json$");
    server.register(Mock::given(method("GET")).and(calls()).respond_with(canned(200, &list))).await;
    let call = call_body("CAfedcba9876543210fedcba9876543210", "+14155551212", "+15017122661");
    server.register(Mock::given(method("POST")).and(calls()).respond_with(canned(201, &call))).await;
    server
}

#[test]
fn init_against_a_calls_only_mock_writes_placeholders_with_reasons_and_the_run_fails_for_real_reasons() {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime");
    let mock = runtime.block_on(calls_only_mock());
    let dir = scratch("init-mock");
    let file = dir.join("mock.toml");
    let init = Command::new(BIN)
        .args(["init", "--target", &mock.uri(), "--output", file.to_str().unwrap_or_default()])
        .args(["--account-sid", AC, "--auth-token", "mock-token", "--callback-wait", "2"])
        .env_remove("TWILIO_ACCOUNT_SID")
        .env_remove("TWILIO_AUTH_TOKEN")
        .output()
        .expect("callspec starts");
    assert_eq!(init.status.code(), Some(0), "{}", text(&init));
    let written = std::fs::read_to_string(&file).expect("the profile is written");
    let schemas = SchemaSet::load(&repo_root().join("schemas")).expect("schemas");
    let profile = Profile::parse(&written, &file, &schemas).expect("it loads");
    let c = &profile.capabilities;
    assert!(!c.subaccounts && !c.applications && !c.callbacks, "{written}");
    for reason in
        ["PLACEHOLDER: GET IncomingPhoneNumbers.json answered HTTP 404", "POST /Accounts.json answered HTTP 404"]
    {
        assert!(written.contains(reason), "{reason:?} in:\n{written}");
    }
    assert!(written.contains("no status callback reached the sink within 2 s"), "{written}");
    assert!(written.contains(&format!("account_sid = \"{AC}\"")), "the given credentials are written: {written}");
    // As the written profile's comment suggests for a mock that never queues calls.
    assert!(written.contains("# queues_calls = false"), "{written}");
    std::fs::write(&file, written.replace("[capabilities]\n", "[capabilities]\nqueues_calls = false\n"))
        .expect("edited");
    let run = Command::new(BIN)
        .args(["--target", &mock.uri(), "--profile", file.to_str().unwrap_or_default(), "--no-coverage", "-q"])
        .args(["--report-dir", dir.join("report").to_str().unwrap_or_default()])
        // The areas that answer at once; a mock's polls wait out their deadlines (resource::).
        .args(["create::", "transport::", "instructions::", "callbacks::"])
        .env("CI", "true")
        .output()
        .expect("callspec starts");
    let shown = text(&run);
    assert_eq!(run.status.code(), Some(1), "the mock fails cases, and the gate says so: {shown}");
    assert!(shown.contains(" 0 ERROR"), "a mock's answers are verdicts, never harness errors: {shown}");
    let report = std::fs::read_to_string(dir.join("report/report.json")).expect("report.json");
    assert!(report.contains("profile does not declare capabilities.callbacks"), "SKIPs say why: {report}");
}
