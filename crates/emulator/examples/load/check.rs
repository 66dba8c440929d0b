//! The verdict on a load: every call ended as planned, each observable call's callbacks exactly
//! the expected ones in firing order with valid signatures, and the bad account's receivers
//! slowed no other account. Returns every violation, each naming its call.

use crate::drive::Outcome;
use crate::emulator::Account;
use crate::plan::{BAD_ACCOUNT, Canceled, Kind, Mode, expected_final};
use crate::receiver::Arrival;
use std::collections::HashMap;

/// Terminal `CallStatus` values of a status callback.
const TERMINAL: [&str; 5] = ["completed", "busy", "no-answer", "failed", "canceled"];

/// The largest lag seen (arrival − `Timestamp`, ms) on each side of the fairness check.
#[derive(Debug, Default)]
pub(crate) struct Lags {
    /// Over every callback of the well-behaved accounts.
    pub(crate) others_max_ms: i64,
    /// Over the slow receiver's callbacks on the bad account.
    pub(crate) slow_max_ms: i64,
    /// The longest wait, on the well-behaved accounts, from a call's `initiated` callback to
    /// its `ringing` one: both fire at the dequeue, so this is the delivery of one callback,
    /// to the millisecond.
    pub(crate) others_gap_ms: i64,
}

/// Checks a finished load; `slow_ms` is the slow receiver's delay.
pub(crate) fn check(
    outcomes: &[Outcome],
    arrivals: &[Arrival],
    unreadable: &[String],
    accounts: &[Account],
    slow_ms: i64,
) -> (Vec<String>, Lags) {
    let mut v: Vec<String> = unreadable.iter().map(|u| format!("the receiver could not read a request: {u}")).collect();
    let mut by_call: HashMap<&str, Vec<&Arrival>> = HashMap::new();
    for a in arrivals {
        by_call.entry(a.call_sid.as_str()).or_default().push(a);
    }
    let mut known = 0usize;
    for (i, o) in outcomes.iter().enumerate() {
        let Some(sid) = o.sid.as_deref() else {
            let why = if o.problems.is_empty() { "never created".to_owned() } else { o.problems.join("; ") };
            v.push(format!("call #{i} ({:?}): {why}", o.planned.kind));
            continue;
        };
        let got = by_call.get(sid).map_or(&[][..], Vec::as_slice);
        known += got.len();
        check_call(&mut v, o, sid, got, &accounts[o.planned.account]);
    }
    let strays = arrivals.len() - known;
    if strays > 0 {
        let sids: Vec<&str> = by_call
            .keys()
            .copied()
            .filter(|s| !outcomes.iter().any(|o| o.sid.as_deref() == Some(*s)))
            .take(5)
            .collect();
        v.push(format!("{strays} callbacks for calls the load never created (CallSid {sids:?}…)"));
    }
    let lags = fairness(&mut v, arrivals, slow_ms);
    exercised(&mut v, outcomes);
    (v, lags)
}

/// The checks of one call.
fn check_call(v: &mut Vec<String>, o: &Outcome, sid: &str, got: &[&Arrival], account: &Account) {
    let kind = o.planned.kind;
    v.extend(o.problems.iter().map(|p| format!("{sid} ({kind:?}): {p}")));
    match &o.final_status {
        None => v.push(format!("{sid} ({kind:?}): not ended by the deadline (last status {:?})", o.last_status)),
        Some(s) if s != expected_final(kind) => {
            v.push(format!("{sid} ({kind:?}): ended {s:?}, expected {:?}", expected_final(kind)));
        }
        Some(_) => {}
    }
    for a in got {
        if !a.signed {
            v.push(format!("{sid}: the {:?} callback's X-Twilio-Signature is not valid", a.status));
        }
        if a.account != o.planned.account || a.account_sid != account.sid {
            v.push(format!("{sid}: a callback reached account {}'s URL with AccountSid {}", a.account, a.account_sid));
        }
    }
    let statuses: Vec<&str> = got.iter().map(|a| a.status.as_str()).collect();
    let terminal = statuses.iter().filter(|s| TERMINAL.contains(s)).count();
    let Some(expected) = o.expected() else {
        if !got.is_empty() {
            v.push(format!("{sid}: {} callbacks reached a receiver that refuses connections", got.len()));
        }
        return;
    };
    if kind_is_cancel(kind) && o.canceled == Canceled::No {
        // Its cancel went wrong (reported above): nothing is known to expect.
        return;
    }
    let terminal_expected = usize::from(!expected.is_empty());
    if terminal != terminal_expected {
        let when = if o.canceled == Canceled::WhileQueued { ", canceled while queued" } else { "" };
        v.push(format!(
            "{sid} ({kind:?}{when}): {terminal} terminal callbacks, expected exactly {terminal_expected}: {statuses:?}"
        ));
    }
    if statuses != expected {
        v.push(format!(
            "{sid} ({kind:?}): {}; callbacks {statuses:?}, expected {expected:?}",
            difference(&statuses, expected)
        ));
    }
    let sequence: Vec<Option<u64>> = got.iter().map(|a| a.sequence).collect();
    let consecutive = sequence.iter().enumerate().all(|(n, s)| *s == u64::try_from(n).ok());
    if !consecutive {
        v.push(format!("{sid}: SequenceNumber in arrival order is {sequence:?}, expected 0, 1, 2, …"));
    }
}

fn kind_is_cancel(kind: Kind) -> bool {
    matches!(kind, Kind::CancelQueued | Kind::CancelRinging)
}

/// What is wrong with a call's callbacks: duplicated, missing, unexpected, or out of order.
fn difference(got: &[&str], expected: &[&str]) -> String {
    let mut what = Vec::new();
    let mut counts: HashMap<&str, i32> = HashMap::new();
    for s in got {
        *counts.entry(s).or_default() += 1;
    }
    let duplicated: Vec<&&str> = counts.iter().filter(|(_, n)| **n > 1).map(|(s, _)| s).collect();
    let missing: Vec<&&str> = expected.iter().filter(|s| !got.contains(s)).collect();
    let unexpected: Vec<&&str> = got.iter().filter(|s| !expected.contains(s)).collect();
    if !duplicated.is_empty() {
        what.push(format!("duplicated {duplicated:?}"));
    }
    if !missing.is_empty() {
        what.push(format!("missing {missing:?}"));
    }
    if !unexpected.is_empty() {
        what.push(format!("unexpected {unexpected:?}"));
    }
    if what.is_empty() {
        what.push("out of order".to_owned());
    }
    what.join(", ")
}

/// The lag of a callback: its arrival minus its `Timestamp` (whole seconds, so up to 999 ms
/// more than the true lag).
fn lag_ms(a: &Arrival) -> Option<i64> {
    a.fired_s.map(|s| a.arrived_ms - s * 1000)
}

/// The bad account's slow receiver must show in its own lags and in no other account's.
fn fairness(v: &mut Vec<String>, arrivals: &[Arrival], slow_ms: i64) -> Lags {
    let mut lags = Lags::default();
    let mut slow_seen = 0usize;
    for a in arrivals {
        let Some(lag) = lag_ms(a) else {
            v.push(format!("{}: the {:?} callback has no readable Timestamp", a.call_sid, a.status));
            continue;
        };
        if a.account != BAD_ACCOUNT {
            lags.others_max_ms = lags.others_max_ms.max(lag);
        } else if a.mode == Mode::Slow {
            lags.slow_max_ms = lags.slow_max_ms.max(lag);
            slow_seen += 1;
        }
    }
    lags.others_gap_ms = dial_gap(arrivals);
    if lags.others_gap_ms >= slow_ms {
        v.push(format!(
            "a well-behaved account's `ringing` callback arrived {} ms after its `initiated` one: as late as the \
             bad account's slow receiver ({slow_ms} ms) makes its own",
            lags.others_gap_ms
        ));
    }
    if lags.others_max_ms >= slow_ms {
        v.push(format!(
            "a well-behaved account's callback arrived {} ms after its Timestamp: as late as the bad account's \
             slow receiver ({slow_ms} ms) makes its own",
            lags.others_max_ms
        ));
    }
    // A call's second callback waits for the slow answer to its first, so the measure must see it.
    let slow_calls_rang =
        arrivals.iter().any(|a| a.account == BAD_ACCOUNT && a.mode == Mode::Slow && a.status == "ringing");
    if slow_calls_rang && slow_seen > 0 && lags.slow_max_ms < slow_ms {
        v.push(format!(
            "the slow receiver's callbacks lagged at most {} ms, less than its {slow_ms} ms delay: the lag is not measured",
            lags.slow_max_ms
        ));
    }
    lags
}

/// The largest `initiated` → `ringing` arrival gap of a call of the well-behaved accounts, ms.
fn dial_gap(arrivals: &[Arrival]) -> i64 {
    let mut initiated: HashMap<&str, &Arrival> = HashMap::new();
    let mut gap = 0;
    for a in arrivals.iter().filter(|a| a.account != BAD_ACCOUNT) {
        match a.status.as_str() {
            "initiated" => {
                initiated.insert(&a.call_sid, a);
            }
            "ringing" => {
                if let Some(first) = initiated.get(a.call_sid.as_str()) {
                    let ms = a.at.saturating_duration_since(first.at).as_millis();
                    gap = gap.max(i64::try_from(ms).unwrap_or(i64::MAX));
                }
            }
            _ => {}
        }
    }
    gap
}

/// The load must have exercised what it claims: a cancel while queued, and one while ringing.
fn exercised(v: &mut Vec<String>, outcomes: &[Outcome]) {
    let planned = |k: Kind| outcomes.iter().any(|o| o.planned.kind == k);
    let got = |c: Canceled| outcomes.iter().any(|o| o.canceled == c);
    if planned(Kind::CancelQueued) && !got(Canceled::WhileQueued) {
        v.push("no cancel found its call still queued: the queue was never exercised".into());
    }
    if planned(Kind::CancelRinging) && !got(Canceled::WhileRinging) {
        v.push("no call was canceled while ringing".into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Planned;
    use tokio::time::Instant;

    fn outcome(kind: Kind, canceled: Canceled, sid: &str) -> Outcome {
        let planned = Planned { account: 1, kind, mode: Mode::Ok };
        Outcome {
            planned,
            sid: Some(sid.to_owned()),
            canceled,
            final_status: Some(expected_final(kind).to_owned()),
            last_status: None,
            problems: vec![],
        }
    }

    fn arrival(sid: &str, status: &str, sequence: u64) -> Arrival {
        Arrival {
            account: 1,
            mode: Mode::Ok,
            call_sid: sid.to_owned(),
            account_sid: "AC1".to_owned(),
            status: status.to_owned(),
            sequence: Some(sequence),
            fired_s: Some(100),
            arrived_ms: 100_050,
            at: Instant::now(),
            signed: true,
        }
    }

    fn accounts() -> Vec<Account> {
        let a = Account { sid: "AC1".into(), token: "t".into(), number: "+16505551001".into() };
        vec![a.clone(), a]
    }

    fn run(outcomes: &[Outcome], arrivals: &[Arrival]) -> Vec<String> {
        check(outcomes, arrivals, &[], &accounts(), 3000).0
    }

    #[test]
    fn a_clean_call_passes_and_each_fault_is_named() {
        let busy = [outcome(Kind::Busy, Canceled::No, "CA1")];
        let clean = [arrival("CA1", "initiated", 0), arrival("CA1", "ringing", 1), arrival("CA1", "busy", 2)];
        assert_eq!(run(&busy, &clean), Vec::<String>::new());

        let swapped = [arrival("CA1", "ringing", 0), arrival("CA1", "initiated", 1), arrival("CA1", "busy", 2)];
        assert!(run(&busy, &swapped).iter().any(|v| v.contains("out of order")));

        let twice = [clean[0].clone(), clean[1].clone(), clean[2].clone(), arrival("CA1", "busy", 3)];
        let v = run(&busy, &twice);
        assert!(v.iter().any(|v| v.contains("2 terminal callbacks")) && v.iter().any(|v| v.contains("duplicated")));

        let mut unsigned = clean.clone();
        unsigned[1].signed = false;
        assert!(run(&busy, &unsigned).iter().any(|v| v.contains("X-Twilio-Signature")));

        let gap = [arrival("CA1", "initiated", 0), arrival("CA1", "ringing", 2), arrival("CA1", "busy", 3)];
        assert!(run(&busy, &gap).iter().any(|v| v.contains("SequenceNumber")));

        let mut late = clean.clone();
        late[2].arrived_ms = 104_000;
        assert!(run(&busy, &late).iter().any(|v| v.contains("well-behaved account")));
    }

    #[test]
    fn a_call_canceled_while_queued_must_stay_silent() {
        let queued = [outcome(Kind::CancelQueued, Canceled::WhileQueued, "CA2")];
        assert_eq!(run(&queued, &[]), Vec::<String>::new());
        assert!(run(&queued, &[arrival("CA2", "canceled", 0)]).iter().any(|v| v.contains("canceled while queued")));
        let mut unfinished = queued.clone();
        unfinished[0].final_status = None;
        assert!(run(&unfinished, &[]).iter().any(|v| v.contains("not ended")));
        assert!(run(&queued, &[arrival("CA9", "initiated", 0)]).iter().any(|v| v.contains("never created")));
    }
}
