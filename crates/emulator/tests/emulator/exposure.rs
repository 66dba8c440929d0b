//! `webhook_allow_hosts`: webhooks reach only the allowed hosts, also through redirects, and a
//! refused one fails as an unreachable URL does (the fallback gets `ErrorCode` 11205).

use super::*;
use callspec_emulator::HostPattern;

fn allow(patterns: &[&str]) -> Vec<HostPattern> {
    patterns.iter().map(|p| p.parse().expect("pattern")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_reach_only_allowed_hosts_and_a_refused_one_looks_unreachable() {
    let config = Config { cps: 20.0, ring: Duration::from_millis(20), ..Config::default() };
    let emu = emulator_with(Config { webhook_allow_hosts: allow(&["localhost"]), ..config.clone() }).await;
    let receiver = Receiver::start().await;
    let api = Api::new(&emu);
    let port = receiver.server.address().port();
    let named = |p: &str| format!("http://localhost:{port}{p}");
    // The receiver answers at this address too, but only its name is allowed.
    let refused = receiver.url("/refused");
    let redirect_to_refused = ResponseTemplate::new(302).insert_header("location", refused.as_str());
    Mock::given(path("/redirecting")).respond_with(redirect_to_refused).with_priority(1).mount(&receiver.server).await;

    let direct =
        api.create(&[("To", TO), ("From", FROM), ("Url", &refused), ("FallbackUrl", &named("/fb-direct"))]).await;
    let hit = &receiver.wait_for("/fb-direct", &sid_of(&direct), 1).await[0];
    assert_eq!((hit.param("ErrorCode"), hit.param("ErrorUrl")), ("11205", refused.as_str()));

    let via = [("To", TO), ("From", FROM), ("Url", &named("/redirecting")), ("FallbackUrl", &named("/fb-redirect"))];
    let via = api.create(&via).await;
    let hit = &receiver.wait_for("/fb-redirect", &sid_of(&via), 1).await[0];
    assert_eq!(hit.param("ErrorCode"), "11205", "a redirect to a refused host is refused too");

    // A block admits the addresses in it, and names that resolve into it.
    let by_address = emulator_with(Config { webhook_allow_hosts: allow(&["127.0.0.0/8"]), ..config.clone() }).await;
    let both = [("To", TO), ("From", FROM), ("Url", &named("/by-name")), ("StatusCallback", &receiver.url("/by-ip"))];
    let call = Api::new(&by_address).create(&both).await;
    receiver.wait_for("/by-name", &sid_of(&call), 1).await;
    // Only `completed` is subscribed by default.
    receiver.wait_for("/by-ip", &sid_of(&call), 1).await;

    // The unreachable case for comparison: nothing listens on port 9, same code.
    let open = emulator_with(config).await;
    let gone = [("To", TO), ("From", FROM), ("Url", NOWHERE), ("FallbackUrl", &receiver.url("/fb-gone"))];
    let gone = Api::new(&open).create(&gone).await;
    assert_eq!(receiver.wait_for("/fb-gone", &sid_of(&gone), 1).await[0].param("ErrorCode"), "11205");
    assert!(receiver.hits().iter().all(|h| h.path != "/refused"), "a refused URL was requested");
}
