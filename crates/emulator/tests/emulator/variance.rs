//! Variance mode (`Config::variance`, `--twilio-variance SEED`) over real HTTP: each behaviour
//! happens for some seed, the same seed makes the same decisions again, and without a seed
//! nothing varies.
//!
//! One observation is a fresh emulator making the same calls on the main account: answered calls
//! to a San Francisco number from a Little Rock one, and a no-answer call. The ring time (300 ms)
//! is longer than the window in which a held callback waits to be overtaken (100 ms), so only
//! callbacks fired together (`initiated` and `ringing` at the dequeue) can swap: the observation
//! does not depend on timing.

use super::{Api, FROM, MAIN, Receiver, TO, calls, emulator_with, sid_of};
use callspec_emulator::{Config, seed};
use serde_json::Value;
use std::time::{Duration, Instant};

/// Answered calls per observation.
const ANSWERED: usize = 4;
/// The geographic parameters of each family when both parties are known places.
const GEO: [(&str, &str); 8] = [
    ("CallerCity", "LITTLE ROCK"),
    ("FromState", "AR"),
    ("CallerZip", "72201"),
    ("FromCountry", "US"),
    ("CalledCity", "SAN FRANCISCO"),
    ("ToState", "CA"),
    ("CalledZip", "94103"),
    ("ToCountry", "US"),
];

/// What variance changed, per answered call (in creation order) and for the no-answer call.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Seen {
    /// The create's 201 body had null `date_created` and `date_updated`.
    null_dates: Vec<bool>,
    /// The create's `queue_time` (the later calls are queued behind the first).
    queue_time: Vec<String>,
    /// The fetched call had `trunk_sid: ""` and `caller_name: ""`.
    empty_strings: Vec<bool>,
    /// The Call JSON carried a field beyond the 26 (and a 10th subresource URI).
    added_fields: Vec<bool>,
    /// The status callbacks' `SequenceNumber`s in arrival order.
    arrival: Vec<Vec<u32>>,
    /// The TwiML request and every status callback carried the geographic parameters.
    geo: Vec<bool>,
    /// `Duration` of the no-answer call's `completed` callback.
    no_answer_duration: Option<String>,
}

fn config(variance: Option<u64>) -> Config {
    Config { cps: 20.0, ring: Duration::from_millis(300), variance, ..Config::default() }
}

/// Whether the request carries every geographic parameter (and, when not, carries none).
fn geo_of(hit: &super::Hit) -> bool {
    let present = GEO.iter().filter(|(name, value)| hit.get(name) == Some(*value)).count();
    assert!(present == 0 || present == GEO.len(), "partial geography in {:?}", hit.params);
    present == GEO.len()
}

/// Creates the calls on a fresh emulator with `variance` and reports what varied.
async fn observe(variance: Option<u64>) -> Seen {
    let emu = emulator_with(config(variance)).await;
    let api = Api::new(&emu);
    let rx = Receiver::start().await;
    rx.serve("/twiml", 200, "<Response><Pause length=\"1\"/></Response>").await;
    let events = ["initiated", "ringing", "answered", "completed"].map(|e| ("StatusCallbackEvent", e));
    let mut seen = Seen::default();
    let mut sids = Vec::new();
    for _ in 0..ANSWERED {
        let mut form = vec![("To", TO), ("From", FROM)];
        let (url, status) = (rx.url("/twiml"), rx.url("/status"));
        form.extend([("Url", url.as_str()), ("StatusCallback", status.as_str())]);
        form.extend(events);
        let created = api.create(&form).await;
        seen.null_dates.push(created["date_created"].is_null() && created["date_updated"].is_null());
        seen.queue_time.push(created["queue_time"].as_str().unwrap_or("?").to_owned());
        sids.push(sid_of(&created));
    }
    let (url, status) = (rx.url("/twiml"), rx.url("/no-answer"));
    let no_answer = api
        .create(&[
            ("To", seed::CALLEE_NO_ANSWER),
            ("From", FROM),
            ("Url", &url),
            ("StatusCallback", &status),
            ("Timeout", "1"),
        ])
        .await;
    for sid in &sids {
        let status = rx.wait_for("/status", sid, 4).await;
        let twiml = rx.wait_for("/twiml", sid, 1).await;
        seen.arrival.push(status.iter().map(|h| h.param("SequenceNumber").parse().expect("a number")).collect());
        let geo: Vec<bool> = status.iter().chain(&twiml).map(geo_of).collect();
        assert!(geo.iter().all(|g| *g == geo[0]), "geography differs between the requests of one call: {geo:?}");
        seen.geo.push(geo[0]);
        let fetched = api.wait_call(MAIN, sid, |c| c["status"] == "completed").await;
        seen.empty_strings.push(fetched["trunk_sid"] == "" && fetched["caller_name"] == "");
        seen.added_fields.push(added(&fetched));
    }
    let completed = rx.wait_for("/no-answer", &sid_of(&no_answer), 1).await;
    assert_eq!(completed[0].param("CallDuration"), "0");
    seen.no_answer_duration = completed[0].get("Duration").map(str::to_owned);
    emu.shutdown().await;
    seen
}

/// Whether a Call JSON carries added fields; when it does not, it is exactly the 26 known ones.
fn added(call: &Value) -> bool {
    let (fields, subresources) =
        (call.as_object().map_or(0, |o| o.len()), call["subresource_uris"].as_object().map_or(0, |o| o.len()));
    assert!(matches!((fields, subresources), (26, 9) | (27, 10)), "{call}");
    fields == 27
}

/// Observes each seed, concurrently.
async fn observe_all(seeds: &[u64]) -> Vec<(u64, Seen)> {
    let tasks: Vec<_> = seeds.iter().map(|s| (*s, tokio::spawn(observe(Some(*s))))).collect();
    let mut seen = Vec::new();
    for (seed, task) in tasks {
        seen.push((seed, task.await.expect("observation")));
    }
    seen
}

/// Whether the behaviour `happened` (per call of an observation) happens for some call of some
/// seed, and not for some other.
fn varies(seen: &[(u64, Seen)], what: &str, happened: impl Fn(&Seen) -> Vec<bool>) {
    let all: Vec<bool> = seen.iter().flat_map(|(_, s)| happened(s)).collect();
    assert!(all.iter().any(|h| *h), "{what}: happens for no seed: {seen:#?}");
    assert!(!all.iter().all(|h| *h), "{what}: happens for every call of every seed, so nothing varies: {seen:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_behaviour_happens_for_some_seed_and_again_for_the_same_seed() {
    let seen = observe_all(&[1, 2, 3, 4, 5, 6]).await;
    varies(&seen, "null dates at create", |s| s.null_dates.clone());
    varies(&seen, "\"\" trunk_sid and caller_name on fetch", |s| s.empty_strings.clone());
    varies(&seen, "added fields", |s| s.added_fields.clone());
    varies(&seen, "geographic parameters", |s| s.geo.clone());
    varies(&seen, "Duration=0 on a no-answer callback", |s| vec![s.no_answer_duration.as_deref() == Some("0")]);
    // The first call is never queued behind another: its queue_time is "0" anyway.
    varies(&seen, "queue_time \"0\" at create for a queued call", |s| {
        s.queue_time[1..].iter().map(|q| q == "0").collect()
    });
    varies(&seen, "callbacks out of order", |s| s.arrival.iter().map(|a| a.starts_with(&[1, 0])).collect());
    for (seed, s) in &seen {
        for arrival in &s.arrival {
            let mut sorted = arrival.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, [0, 1, 2, 3], "seed {seed}: each callback keeps its SequenceNumber");
        }
        for q in &s.queue_time {
            assert!(q.parse::<u64>().is_ok(), "seed {seed}: queue_time {q:?}");
        }
    }
    // The same seed decides the same again.
    for (seed, again) in observe_all(&[2, 5]).await {
        let first = seen.iter().find(|(s, _)| *s == seed).map(|(_, s)| s).expect("observed");
        assert_eq!(
            (first.null_dates.clone(), first.empty_strings.clone()),
            (again.null_dates.clone(), again.empty_strings.clone())
        );
        assert_eq!(
            (&first.added_fields, &first.geo, &first.arrival),
            (&again.added_fields, &again.geo, &again.arrival)
        );
        assert_eq!(first.no_answer_duration, again.no_answer_duration, "seed {seed}");
        let zero = |s: &Seen| s.queue_time.iter().map(|q| q == "0").collect::<Vec<_>>();
        assert_eq!(zero(first), zero(&again), "seed {seed}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_seed_nothing_varies() {
    assert_eq!(Config::default().variance, None);
    let seen = observe(None).await;
    assert_eq!(seen.null_dates, [false; ANSWERED]);
    assert_eq!(seen.empty_strings, [false; ANSWERED]);
    assert_eq!(seen.added_fields, [false; ANSWERED]);
    assert_eq!(seen.geo, [false; ANSWERED]);
    assert_eq!(seen.arrival, vec![vec![0, 1, 2, 3]; ANSWERED]);
    assert_eq!(seen.no_answer_duration, None);
    assert_eq!(seen.queue_time[0], "0");
    assert!(seen.queue_time[1..].iter().all(|q| q.parse::<u64>().is_ok_and(|ms| ms > 0)), "{:?}", seen.queue_time);
}

/// The `initiated` callbacks' arrival times of `n` calls created at once (dequeue times, give or
/// take the same small delay).
async fn dequeue_gaps(variance: Option<u64>, cps: f64, n: usize) -> Vec<Duration> {
    let emu = emulator_with(Config { cps, ring: Duration::from_millis(50), variance, ..Config::default() }).await;
    let api = Api::new(&emu);
    let rx = Receiver::start().await;
    let (url, status) = (rx.url("/twiml"), rx.url("/status"));
    let form = [("To", TO), ("From", FROM), ("Url", url.as_str()), ("StatusCallback", status.as_str())];
    let mut sids = Vec::new();
    for _ in 0..n {
        let mut form = form.to_vec();
        form.push(("StatusCallbackEvent", "initiated"));
        let answer = api.post(&calls(MAIN.0), &form).await;
        assert_eq!(answer.status, 201);
        sids.push(sid_of(&answer.json));
    }
    let mut at: Vec<Instant> = Vec::new();
    for sid in &sids {
        at.push(rx.wait_for("/status", sid, 1).await[0].at);
    }
    emu.shutdown().await;
    at.windows(2).map(|w| w[1].saturating_duration_since(w[0])).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dequeue_gaps_vary_around_the_cps_and_average_it() {
    let period = Duration::from_millis(200);
    // Seed 3's first two pairs of gaps stray from the period by more than 25 % each way.
    let gaps = dequeue_gaps(Some(3), 5.0, 5).await;
    let mean = gaps.iter().sum::<Duration>() / 4;
    assert!(mean.abs_diff(period) < Duration::from_millis(40), "mean gap {mean:?}: {gaps:?}");
    assert!(gaps.iter().any(|g| g.abs_diff(period) > Duration::from_millis(50)), "no gap varies: {gaps:?}");
    assert!(gaps.iter().any(|g| *g < Duration::from_millis(170)), "no gap is short: {gaps:?}");
    assert_eq!(gaps.len(), 4);
}
