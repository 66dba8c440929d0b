//! From what a case found to its result: repeated failures folded, known failures applied per
//! failure, the status, and a verdict per requirement from the checks that actually ran.

use super::{CaseLog, Harness};
use crate::fixture::{Action, Case, Step};
use crate::outcome::{CaseResult, CheckVerdict, Failure, NotRun, RequirementResult, Status};
use std::collections::{BTreeMap, BTreeSet};

/// The variables a step would capture.
pub(super) fn captures_of(step: &Step) -> Vec<String> {
    let keys: Vec<&String> = match &step.action {
        Action::Request(r) => r.capture.keys().collect(),
        Action::Poll(p) => p.capture.keys().collect(),
        Action::Callbacks(c) => c.capture.keys().collect(),
        _ => Vec::new(),
    };
    keys.into_iter().map(|k| k.strip_suffix("[]").unwrap_or(k).to_owned()).collect()
}

/// Records every step from `first` on as not run, for `why`.
pub(super) fn not_run_from(case: &Case, first: usize, why: &str, out: &mut Vec<NotRun>) {
    for (i, step) in case.data.steps.iter().enumerate().skip(first) {
        let requirement = step.requirement.clone().or_else(|| case.data.requirements.first().cloned());
        out.push(NotRun { step: i, requirement, why: why.to_owned() });
    }
}

/// A pointer with its array indexes and request numbers blurred, so the same gap found in every
/// item of a list is one failure.
fn blurred(pointer: &str) -> String {
    let mut out = String::with_capacity(pointer.len());
    let mut in_number = false;
    for c in pointer.chars() {
        if c.is_ascii_digit() {
            if !in_number {
                out.push('N');
            }
            in_number = true;
        } else {
            in_number = false;
            out.push(c);
        }
    }
    out
}

/// Folds failures of one step that say the same thing about the same place (a field missing from
/// every call of a page, or from every callback) into one, with a count.
fn fold(failures: Vec<Failure>) -> Vec<Failure> {
    let mut order: Vec<(String, Failure, usize)> = Vec::new();
    for f in failures {
        let key = format!(
            "{}|{:?}|{}|{}|{}|{}",
            f.step,
            f.requirement,
            f.kind,
            blurred(f.pointer.as_deref().unwrap_or("")),
            f.message,
            f.expected
        );
        match order.iter_mut().find(|(k, _, _)| *k == key) {
            Some((_, _, n)) => *n += 1,
            None => order.push((key, f, 1)),
        }
    }
    order
        .into_iter()
        .map(|(_, mut f, n)| {
            if n > 1 {
                f.message = format!("{} ({n} times in this case)", f.message);
            }
            f
        })
        .collect()
}

/// Fills in the result's failures, status, reason and per-requirement verdicts.
pub(super) fn conclude(h: &Harness, case: &Case, log: CaseLog, result: &mut CaseResult) {
    let CaseLog { failures, not_run, checked, .. } = log;
    if result.status == Status::Error {
        result.checks = case
            .data
            .requirements
            .iter()
            .map(|id| RequirementResult {
                id: id.clone(),
                verdict: CheckVerdict::NotRun,
                why: Some("harness error".into()),
            })
            .collect();
        return;
    }
    result.failures = fold(failures);
    result.not_run = not_run;
    apply_known_failures(h, case, result);
    let uncovered = result.failures.iter().any(|f| f.known.is_none());
    result.status = if uncovered {
        Status::Fail
    } else if !result.stale_known.is_empty() {
        Status::XPass
    } else if !result.failures.is_empty() {
        Status::XFail
    } else {
        Status::Pass
    };
    result.checks = requirement_verdicts(case, result, &checked);
}

/// Marks each failure covered by a live known-failure entry; entries that cover nothing are stale.
fn apply_known_failures(h: &Harness, case: &Case, result: &mut CaseResult) {
    let mut reasons: BTreeSet<String> = BTreeSet::new();
    let mut notes = Vec::new();
    for entry in h.profile.known_failures_of(&case.name) {
        if entry.expired(&h.today) {
            notes.push(format!(
                "known-failure entry {} expired on {}: {}",
                entry.describe(),
                entry.expires.as_deref().unwrap_or(""),
                entry.reason
            ));
            continue;
        }
        let mut covered = 0;
        for f in result.failures.iter_mut().filter(|f| f.known.is_none() && entry.covers(f)) {
            f.known = Some(entry.reason.clone());
            covered += 1;
        }
        if covered == 0 {
            result.stale_known.push(entry.describe());
        }
        reasons.insert(entry.reason.clone());
    }
    notes.extend(reasons);
    if !notes.is_empty() {
        result.reason = Some(notes.join("; "));
    }
}

/// One verdict per requirement the case cites or its checks touched.
///
/// A cited requirement that no step names shares its checks with the case's first requirement
/// (the default of every step), so it takes that requirement's verdict, except that a failure
/// there leaves it inconclusive rather than failing.
fn requirement_verdicts(case: &Case, result: &CaseResult, checked: &BTreeSet<String>) -> Vec<RequirementResult> {
    let first = case.data.requirements.first();
    let named: BTreeSet<&String> = case.data.steps.iter().filter_map(|s| s.requirement.as_ref()).collect();
    let mut ids: BTreeSet<&String> = case.data.requirements.iter().collect();
    ids.extend(checked.iter());
    ids.extend(result.failures.iter().filter_map(|f| f.requirement.as_ref()));
    let mut out: BTreeMap<&String, RequirementResult> = BTreeMap::new();
    for id in ids {
        out.insert(id, own_verdict(id, result, checked));
    }
    if let Some(first) = first {
        let base = out.get(first).cloned();
        for id in &case.data.requirements {
            let shares = Some(id) != Some(first) && !named.contains(id) && !checked.contains(id);
            if let (true, Some(base), Some(slot)) = (shares, &base, out.get_mut(id))
                && slot.verdict == CheckVerdict::NotRun
            {
                *slot = match base.verdict {
                    CheckVerdict::Failed => RequirementResult {
                        id: id.clone(),
                        verdict: CheckVerdict::NotRun,
                        why: Some(format!("inconclusive: its checks are charged to {first}, which failed")),
                    },
                    v => RequirementResult { id: id.clone(), verdict: v, why: base.why.clone() },
                };
            }
        }
    }
    // Cited requirements first, in the case's order, then the ones its checks touched.
    let mut ordered: Vec<RequirementResult> = Vec::new();
    for id in &case.data.requirements {
        if let Some(r) = out.remove(id) {
            ordered.push(r);
        }
    }
    ordered.extend(out.into_values());
    ordered
}

fn own_verdict(id: &str, result: &CaseResult, checked: &BTreeSet<String>) -> RequirementResult {
    let mine: Vec<&Failure> = result.failures.iter().filter(|f| f.requirement.as_deref() == Some(id)).collect();
    let (verdict, why) = if mine.iter().any(|f| f.known.is_none()) {
        (CheckVerdict::Failed, None)
    } else if !mine.is_empty() {
        (CheckVerdict::KnownFailure, None)
    } else if checked.contains(id) {
        (CheckVerdict::Passed, None)
    } else {
        let why = result
            .not_run
            .iter()
            .find(|n| n.requirement.as_deref() == Some(id))
            .map(|n| format!("step {} not run: {}", n.step + 1, n.why))
            .unwrap_or_else(|| "no check of it ran".into());
        (CheckVerdict::NotRun, Some(why))
    };
    RequirementResult { id: id.to_owned(), verdict, why }
}
