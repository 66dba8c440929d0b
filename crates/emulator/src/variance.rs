//! Variance mode (`--twilio-variance SEED`), a testing aid: within what Twilio documents or is
//! observed to do, the emulator behaves like the real API rather than like the tidiest reading.
//!
//! Fault injection (`crate::fault`) proves the conformance suite catches what is wrong; variance
//! proves it accepts what is right. Each [`Behaviour`] is one such liberty, backed by a section
//! of `docs/reference/calls-api-facts.md`; this module makes every decision about them, and the
//! modules that render, queue and call back consult it where they consult `policy`.
//!
//! Decisions are deterministic per seed: each is an output of a splitmix64 stream seeded with
//! the seed, the behaviour and a stable key (an account by its `FriendlyName`, a call by its
//! account and creation order in it, a dequeue by its account and count), never a global or
//! OS random source. The same requests in the same order meet the same decisions, however the
//! tasks interleave. Without a seed every decision is Twilio's tidiest reading, which is what
//! the emulator does by default.

use callspec_model::CallStatus;
use callspec_model::callback::Geo;
use serde_json::Value;
use std::time::Duration;

/// A liberty variance mode may take. Each variant's doc says what changes and the fact behind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Behaviour {
    /// `date_created` and `date_updated` are null in the 201 body of a create (later reads have
    /// them): captured real creates (`calls-api-facts.md#create-response`).
    NullDatesAtCreate,
    /// `trunk_sid` and `caller_name` are `""` instead of null on a fetched call: captured real
    /// fetch and responses (`calls-api-facts.md#call-resource-fields`).
    EmptyStringsOnFetch,
    /// A status callback waits briefly and the next callback of its call overtakes it; each keeps
    /// its `SequenceNumber`. Twilio fires in order but sends each callback as its own request, so
    /// they may arrive out of order (`calls-api-facts.md#status-callback-events`).
    CallbacksOutOfOrder,
    /// The gap between two dequeues of an account varies around 1/CPS and every two gaps average
    /// it exactly: the rate holds on average (`calls-api-facts.md#queueing-and-rate-limits`).
    DequeueJitter,
    /// `queue_time` is `"0"` in the 201 body of a create: captured real creates
    /// (`calls-api-facts.md#call-resource-fields`).
    QueueTimeZeroAtCreate,
    /// `Duration=0` (beside `CallDuration=0`) on the `completed` callback of a `no-answer` call:
    /// a captured real callback (`calls-api-facts.md#status-callback-parameters`).
    DurationZeroWhenUnanswered,
    /// The geographic parameters (`CalledCity`, `CallerState`, `FromZip`, `ToCountry`, …) on
    /// TwiML requests and status callbacks, where the emulator knows the place
    /// (`calls-api-facts.md#status-callback-parameters`, `#twiml-request`).
    GeoParameters,
    /// A field the suite does not know in the Call JSON and in its `subresource_uris`: Twilio adds
    /// fields over time (`subresource_uris` grew from 2 keys to 9;
    /// `calls-api-facts.md#call-resource-fields`).
    AddedFields,
    /// A recording start answers 200 instead of 201, and the recording's `duration` reads
    /// `"-1"` instead of null while it runs: Twilio's OpenAPI lists both 200 and 201 for the
    /// start, and `"-1"` has been seen for a running recording
    /// (`calls-api-facts.md#recordings-resource`).
    RecordingStartVariants,
    /// A `<Gather>`'s action request carries `FinishedOnKey` when a key ended the input, and an
    /// empty result sends `Digits=` (empty) instead of leaving `Digits` out: neither is fixed by
    /// Twilio's `<Gather>` page (`calls-api-facts.md#gather`).
    GatherParameters,
    /// The `<Dial action>` request carries `DialCallStatus` alone, without `DialCallSid` and
    /// `DialCallDuration`: no Twilio page this project could read fixes those two names
    /// (`calls-api-facts.md#dial-action-request`).
    DialActionWithoutLegDetails,
    /// Answering machine detection's latitude: the Call's `answered_by` holds the coarse value
    /// (`machine` for every `machine_*` result; the OpenAPI describes the field as "either
    /// `human` or `machine`"), and the async AMD callback leaves out `MachineDetectionDuration`
    /// (only `AnsweredBy` is confirmed there); each decided apart
    /// (`calls-api-facts.md#answering-machine-detection`).
    AmdLatitude,
    /// A call's `TimeLimit` is counted from when it was dialed instead of from when it was
    /// answered: Twilio does not say which (`calls-api-facts.md#time-limits-and-the-remaining-create-parameters`).
    TimeLimitFromDial,
    /// A call's Events list the REST create that made the call first (as Twilio's OpenAPI example
    /// does; the docs' prose speaks only of requests to the application), and list newest first
    /// (Twilio fixes no order) (`calls-api-facts.md#call-events`).
    CallEventsListing,
}

impl Behaviour {
    /// Every behaviour.
    #[cfg(test)]
    pub(crate) const ALL: [Behaviour; 14] = [
        Behaviour::NullDatesAtCreate,
        Behaviour::EmptyStringsOnFetch,
        Behaviour::CallbacksOutOfOrder,
        Behaviour::DequeueJitter,
        Behaviour::QueueTimeZeroAtCreate,
        Behaviour::DurationZeroWhenUnanswered,
        Behaviour::GeoParameters,
        Behaviour::AddedFields,
        Behaviour::RecordingStartVariants,
        Behaviour::GatherParameters,
        Behaviour::DialActionWithoutLegDetails,
        Behaviour::AmdLatitude,
        Behaviour::TimeLimitFromDial,
        Behaviour::CallEventsListing,
    ];

    /// The behaviour's own stream, so that decisions of different behaviours are independent.
    const fn stream(self) -> u64 {
        self as u64 + 1
    }
}

/// The name of the field [`Behaviour::AddedFields`] adds to the Call JSON.
pub(crate) const ADDED_FIELD: &str = "callspec_variance_field";
/// The key [`Behaviour::AddedFields`] adds to `subresource_uris`.
pub(crate) const ADDED_SUBRESOURCE: &str = "callspec_variance_subresource";

/// How far one dequeue gap may stray from 1/CPS, as a fraction of it (the next gap strays the
/// other way by as much).
const MAX_JITTER: f64 = 0.5;

/// splitmix64's increment (the golden ratio in 64 bits).
const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

/// splitmix64's output function: a bijective mix of all 64 bits.
const fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The `n`-th output of the splitmix64 stream seeded with `seed`, `behaviour` and `key`.
const fn draw(seed: u64, behaviour: Behaviour, key: u64, n: u64) -> u64 {
    let start = mix(mix(seed ^ mix(behaviour.stream())) ^ key);
    mix(start.wrapping_add(GOLDEN.wrapping_mul(n.wrapping_add(1))))
}

/// The stable key of an account: FNV-1a of the `FriendlyName` it was created with (`""` when
/// none was given), so a case's subaccount meets the same decisions on every run.
pub(crate) fn account_key(friendly_name: &str) -> u64 {
    friendly_name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// The stable key of a call: its account's key and its place in the account's creation order.
pub(crate) const fn call_key(account: u64, seq: u64) -> u64 {
    mix(account ^ mix(seq.wrapping_add(1)))
}

/// The variance seed in effect, if any. Copy it freely: it is one word.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Variance {
    seed: Option<u64>,
}

impl Variance {
    /// Variance with `seed`, or none.
    pub(crate) const fn new(seed: Option<u64>) -> Variance {
        Variance { seed }
    }

    /// Whether `behaviour` happens for `key` (one chance in two), never without a seed.
    const fn happens(self, behaviour: Behaviour, key: u64, n: u64) -> bool {
        match self.seed {
            Some(seed) => draw(seed, behaviour, key, n) >> 63 == 1,
            None => false,
        }
    }

    /// Whether the 201 body of the call's create has null dates ([`Behaviour::NullDatesAtCreate`]).
    pub(crate) const fn null_dates_at_create(self, call: u64) -> bool {
        self.happens(Behaviour::NullDatesAtCreate, call, 0)
    }

    /// Whether `queue_time` is `"0"` in the 201 body ([`Behaviour::QueueTimeZeroAtCreate`]).
    pub(crate) const fn queue_time_zero_at_create(self, call: u64) -> bool {
        self.happens(Behaviour::QueueTimeZeroAtCreate, call, 0)
    }

    /// Whether a fetched call shows `""` for its empty `trunk_sid` and `caller_name`
    /// ([`Behaviour::EmptyStringsOnFetch`]).
    pub(crate) const fn empty_strings_on_fetch(self, call: u64) -> bool {
        self.happens(Behaviour::EmptyStringsOnFetch, call, 0)
    }

    /// Whether the call's status callback numbered `sequence` lets the next callback overtake
    /// it ([`Behaviour::CallbacksOutOfOrder`]).
    pub(crate) const fn overtaken(self, call: u64, sequence: u32) -> bool {
        self.happens(Behaviour::CallbacksOutOfOrder, call, sequence as u64)
    }

    /// The time from an account's dequeue number `dequeue` (from 0) to its next one: `period`,
    /// or under [`Behaviour::DequeueJitter`] `period × (1 ± e)` with `e` up to one half, drawn per
    /// pair of dequeues: the pair's first gap is `1 + e`, its second `1 − e`, so every two gaps
    /// average `period` exactly.
    pub(crate) fn dequeue_gap(self, period: Duration, account: u64, dequeue: u64) -> Duration {
        let Some(seed) = self.seed else {
            return period;
        };
        let bits = draw(seed, Behaviour::DequeueJitter, account, dequeue / 2) >> 11;
        #[allow(clippy::cast_precision_loss, reason = "53 bits: exact in an f64")]
        let unit = bits as f64 / (1u64 << 53) as f64;
        let e = (unit * 2.0 - 1.0) * MAX_JITTER;
        let factor = if dequeue.is_multiple_of(2) { 1.0 + e } else { 1.0 - e };
        period.mul_f64(factor)
    }

    /// `Duration` of the terminal callback of a call that was never answered and ended `status`:
    /// none, or `Some(0)` for a `no-answer` call under [`Behaviour::DurationZeroWhenUnanswered`].
    pub(crate) const fn unanswered_duration(self, call: u64, status: CallStatus) -> Option<u64> {
        if matches!(status, CallStatus::NoAnswer) && self.happens(Behaviour::DurationZeroWhenUnanswered, call, 0) {
            Some(0)
        } else {
            None
        }
    }

    /// Where a party of the call is, as sent in its webhooks: nothing, or under
    /// [`Behaviour::GeoParameters`] what the emulator knows (`crate::seed::geography`).
    pub(crate) fn geography(self, call: u64, endpoint: &str) -> Geo {
        if self.happens(Behaviour::GeoParameters, call, 0) { crate::seed::geography(endpoint) } else { Geo::default() }
    }

    /// Whether the call's JSON carries added fields ([`Behaviour::AddedFields`]).
    pub(crate) const fn adds_fields(self, call: u64) -> bool {
        self.happens(Behaviour::AddedFields, call, 0)
    }

    /// Whether the call's recording number `index` (from 0) answers its start 200 and reads
    /// `duration` `"-1"` while it runs ([`Behaviour::RecordingStartVariants`]).
    pub(crate) const fn recording_start_variants(self, call: u64, index: usize) -> bool {
        self.happens(Behaviour::RecordingStartVariants, call, index as u64)
    }

    /// Whether the call's `<Gather>` action requests carry `FinishedOnKey`
    /// ([`Behaviour::GatherParameters`]).
    pub(crate) const fn finished_on_key_sent(self, call: u64) -> bool {
        self.happens(Behaviour::GatherParameters, call, 0)
    }

    /// Whether an empty `<Gather>` result sends `Digits` empty rather than leaving it out
    /// ([`Behaviour::GatherParameters`]).
    pub(crate) const fn empty_digits_sent(self, call: u64) -> bool {
        self.happens(Behaviour::GatherParameters, call, 1)
    }

    /// Whether the call's `dial`-th `<Dial action>` request leaves out `DialCallSid` and
    /// `DialCallDuration` ([`Behaviour::DialActionWithoutLegDetails`]).
    pub(crate) const fn dial_action_without_leg_details(self, call: u64, dial: u64) -> bool {
        self.happens(Behaviour::DialActionWithoutLegDetails, call, dial)
    }

    /// Whether the call's `answered_by` shows the coarse value ([`Behaviour::AmdLatitude`]).
    pub(crate) const fn coarse_answered_by(self, call: u64) -> bool {
        self.happens(Behaviour::AmdLatitude, call, 0)
    }

    /// Whether the call's async AMD callback leaves out `MachineDetectionDuration`
    /// ([`Behaviour::AmdLatitude`]).
    pub(crate) const fn amd_duration_left_out(self, call: u64) -> bool {
        self.happens(Behaviour::AmdLatitude, call, 1)
    }

    /// Whether the call's `TimeLimit` counts from dialing rather than from answer
    /// ([`Behaviour::TimeLimitFromDial`]).
    pub(crate) const fn time_limit_from_dial(self, call: u64) -> bool {
        self.happens(Behaviour::TimeLimitFromDial, call, 0)
    }

    /// Whether the call's Events list its REST create first ([`Behaviour::CallEventsListing`]).
    pub(crate) const fn events_list_create(self, call: u64) -> bool {
        self.happens(Behaviour::CallEventsListing, call, 0)
    }

    /// Whether the call's Events are listed newest first ([`Behaviour::CallEventsListing`]).
    pub(crate) const fn events_newest_first(self, call: u64) -> bool {
        self.happens(Behaviour::CallEventsListing, call, 1)
    }

    /// Adds [`ADDED_FIELD`] to the Call JSON and [`ADDED_SUBRESOURCE`] to its
    /// `subresource_uris` (beside the call's `uri`), when [`Variance::adds_fields`].
    pub(crate) fn add_fields(self, call: u64, json: &mut Value) {
        if !self.adds_fields(call) {
            return;
        }
        let Some(object) = json.as_object_mut() else {
            return;
        };
        let uri = object.get("uri").and_then(Value::as_str).map(|u| u.trim_end_matches(".json").to_owned());
        if let (Some(uri), Some(Value::Object(subresources))) = (uri, object.get_mut("subresource_uris")) {
            subresources.insert(ADDED_SUBRESOURCE.to_owned(), Value::from(format!("{uri}/VarianceAdded.json")));
        }
        object.insert(ADDED_FIELD.to_owned(), Value::from("added by callspec variance mode"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The seeds the tests try.
    fn seeds() -> std::ops::Range<u64> {
        0..64
    }

    /// Whether `behaviour` happens for `key` under `seed`, through its public decision.
    fn decided(variance: Variance, behaviour: Behaviour, key: u64) -> bool {
        match behaviour {
            Behaviour::NullDatesAtCreate => variance.null_dates_at_create(key),
            Behaviour::EmptyStringsOnFetch => variance.empty_strings_on_fetch(key),
            Behaviour::CallbacksOutOfOrder => variance.overtaken(key, 0),
            Behaviour::DequeueJitter => variance.dequeue_gap(Duration::from_secs(1), key, 0) != Duration::from_secs(1),
            Behaviour::QueueTimeZeroAtCreate => variance.queue_time_zero_at_create(key),
            Behaviour::DurationZeroWhenUnanswered => variance.unanswered_duration(key, CallStatus::NoAnswer).is_some(),
            Behaviour::GeoParameters => !variance.geography(key, "+14155551212").is_empty(),
            Behaviour::AddedFields => variance.adds_fields(key),
            Behaviour::RecordingStartVariants => variance.recording_start_variants(key, 0),
            Behaviour::GatherParameters => variance.finished_on_key_sent(key),
            Behaviour::DialActionWithoutLegDetails => variance.dial_action_without_leg_details(key, 0),
            Behaviour::AmdLatitude => variance.coarse_answered_by(key),
            Behaviour::TimeLimitFromDial => variance.time_limit_from_dial(key),
            Behaviour::CallEventsListing => variance.events_list_create(key),
        }
    }

    #[test]
    fn without_a_seed_nothing_varies() {
        let off = Variance::new(None);
        assert_eq!(off, Variance::default());
        for behaviour in Behaviour::ALL {
            assert!(seeds().all(|key| !decided(off, behaviour, key)), "{behaviour:?}");
        }
        assert_eq!(off.dequeue_gap(Duration::from_millis(700), 1, 3), Duration::from_millis(700));
        let mut json = serde_json::json!({"uri": "/x.json", "subresource_uris": {}});
        off.add_fields(1, &mut json);
        assert_eq!(json, serde_json::json!({"uri": "/x.json", "subresource_uris": {}}));
    }

    #[test]
    fn every_behaviour_happens_for_some_seeds_and_not_for_others() {
        let key = call_key(account_key("callspec main"), 0);
        for behaviour in Behaviour::ALL {
            let happened = seeds().filter(|seed| decided(Variance::new(Some(*seed)), behaviour, key)).count();
            assert!(happened > 0, "{behaviour:?} never happens");
            if behaviour != Behaviour::DequeueJitter {
                assert!(happened < seeds().end as usize, "{behaviour:?} always happens");
            }
        }
    }

    #[test]
    fn decisions_are_deterministic_per_seed_and_independent_per_behaviour() {
        for seed in seeds() {
            let (a, b) = (Variance::new(Some(seed)), Variance::new(Some(seed)));
            for behaviour in Behaviour::ALL {
                for key in 0..8 {
                    assert_eq!(decided(a, behaviour, key), decided(b, behaviour, key));
                }
            }
        }
        // Two behaviours do not always decide alike for the same key.
        let v = Variance::new(Some(7));
        assert!((0..64).any(|key| v.null_dates_at_create(key) != v.queue_time_zero_at_create(key)));
    }

    #[test]
    fn keys_are_stable() {
        assert_eq!(account_key(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(account_key("callspec main"), account_key("callspec main"));
        assert_ne!(account_key("callspec a::001"), account_key("callspec a::002"));
        assert_ne!(call_key(1, 0), call_key(1, 1));
        assert_ne!(call_key(1, 0), call_key(2, 0));
    }

    #[test]
    fn dequeue_gaps_vary_but_average_the_period() {
        let period = Duration::from_millis(1000);
        for seed in 0..16 {
            let v = Variance::new(Some(seed));
            let gaps: Vec<Duration> = (0..20).map(|n| v.dequeue_gap(period, 42, n)).collect();
            let total: Duration = gaps.iter().sum();
            let mean_ms = total.as_secs_f64() * 1000.0 / 20.0;
            assert!((mean_ms - 1000.0).abs() < 1.0, "seed {seed}: mean {mean_ms} ms");
            assert!(gaps.iter().all(|g| *g >= period / 2 && *g <= period * 3 / 2), "{gaps:?}");
            assert!(gaps.iter().any(|g| g.abs_diff(period) > Duration::from_millis(50)), "{gaps:?}");
            let again: Vec<Duration> = (0..20).map(|n| v.dequeue_gap(period, 42, n)).collect();
            assert_eq!(gaps, again);
        }
    }

    #[test]
    fn durations_vary_for_no_answer_calls_only() {
        let on =
            (0..64).map(|s| Variance::new(Some(s))).find(|v| v.unanswered_duration(5, CallStatus::NoAnswer).is_some());
        let on = on.expect("some seed sends Duration=0");
        assert_eq!(on.unanswered_duration(5, CallStatus::NoAnswer), Some(0));
        for other in [CallStatus::Busy, CallStatus::Failed, CallStatus::Canceled, CallStatus::Completed] {
            assert_eq!(on.unanswered_duration(5, other), None, "{other}");
        }
    }

    #[test]
    fn added_fields_go_beside_the_known_ones() {
        let on = (0..64).map(|s| Variance::new(Some(s))).find(|v| v.adds_fields(9)).expect("some seed adds fields");
        let mut json = serde_json::json!({
            "uri": "/2010-04-01/Accounts/AC1/Calls/CA1.json",
            "subresource_uris": {"recordings": "/2010-04-01/Accounts/AC1/Calls/CA1/Recordings.json"},
        });
        on.add_fields(9, &mut json);
        assert_eq!(json[ADDED_FIELD], "added by callspec variance mode");
        assert_eq!(
            json["subresource_uris"][ADDED_SUBRESOURCE],
            "/2010-04-01/Accounts/AC1/Calls/CA1/VarianceAdded.json"
        );
        assert_eq!(json["subresource_uris"]["recordings"], "/2010-04-01/Accounts/AC1/Calls/CA1/Recordings.json");
        let mut odd = serde_json::json!([1]);
        on.add_fields(9, &mut odd);
        assert_eq!(odd, serde_json::json!([1]));
    }

    #[test]
    fn amd_latitudes_are_decided_apart() {
        let seeds = || (0..64).map(|s| Variance::new(Some(s)));
        assert!(seeds().any(|v| v.coarse_answered_by(3) && !v.amd_duration_left_out(3)));
        assert!(seeds().any(|v| !v.coarse_answered_by(3) && v.amd_duration_left_out(3)));
    }
}
