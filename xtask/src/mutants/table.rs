//! What a mutation run reports: the counts (generated, excluded, unreachable, fired, killed,
//! survivors), `target/mutants/results.json`, and `docs/mutation.md`, written from the run.

use super::Fate;
use super::catalog::{Mutant, Op, Target};
use serde_json::json;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

/// The counts of one run.
#[derive(Debug, Clone, Default)]
pub(crate) struct Summary {
    pub(crate) generated: usize,
    pub(crate) excluded: usize,
    pub(crate) unreachable: usize,
    pub(crate) not_fired: usize,
    pub(crate) killed: usize,
    pub(crate) survived: usize,
    pub(crate) broken: usize,
    pub(crate) wall: Duration,
    pub(crate) jobs: usize,
}

impl Summary {
    pub(crate) fn of(generated: usize, fates: &BTreeMap<String, Fate>, wall: Duration, jobs: usize) -> Summary {
        let mut s = Summary { generated, wall, jobs, ..Summary::default() };
        for fate in fates.values() {
            match fate {
                Fate::Excluded(_) => s.excluded += 1,
                Fate::Unreachable => s.unreachable += 1,
                Fate::NotFired => s.not_fired += 1,
                Fate::Killed(_) => s.killed += 1,
                Fate::Survived(_) => s.survived += 1,
                Fate::Broken(_) => s.broken += 1,
            }
        }
        s
    }

    pub(crate) fn fired(&self) -> usize {
        self.killed + self.survived
    }

    pub(crate) fn ratio(&self) -> f64 {
        if self.fired() == 0 { 1.0 } else { self.killed as f64 / self.fired() as f64 }
    }

    pub(crate) fn line(&self) -> String {
        format!(
            "==> xtask: mutants: {} generated, {} excluded (Twilio may produce them), {} reached by no case, \
             {} reached but not fired, {} fired: {} killed, {} survived ({:.1}% killed), {} broken runs; {:.0} s \
             with {} jobs",
            self.generated,
            self.excluded,
            self.unreachable,
            self.not_fired,
            self.fired(),
            self.killed,
            self.survived,
            self.ratio() * 100.0,
            self.broken,
            self.wall.as_secs_f64(),
            self.jobs
        )
    }

    /// Fails on a broken run, a survivor without a reason, or (full runs) a ratio under `goal`.
    pub(crate) fn gate(&self, fates: &BTreeMap<String, Fate>, goal: Option<f64>) -> Result<(), String> {
        let mut problems: Vec<String> = fates
            .iter()
            .filter_map(|(id, f)| match f {
                Fate::Broken(p) => Some(format!("{id}: the run went wrong: {p}")),
                Fate::Survived(None) => Some(format!("{id}: survived, and no reason says Twilio allows it")),
                _ => None,
            })
            .collect();
        if let Some(goal) = goal.filter(|g| self.ratio() < *g) {
            problems.push(format!("kill ratio {:.1}% is under the goal of {:.0}%", self.ratio() * 100.0, goal * 100.0));
        }
        if problems.is_empty() { Ok(()) } else { Err(format!("mutants:\n  {}", problems.join("\n  "))) }
    }
}

/// One word for a fate, for progress lines and the table.
pub(crate) fn fate_word(fate: &Fate) -> String {
    match fate {
        Fate::Excluded(_) => "excluded".into(),
        Fate::Unreachable => "reached by no case".into(),
        Fate::NotFired => "not fired".into(),
        Fate::Killed(cases) => format!("killed by {}", cases.first().map(String::as_str).unwrap_or("?")),
        Fate::Survived(Some(_)) => "survived (allowed)".into(),
        Fate::Survived(None) => "SURVIVED".into(),
        Fate::Broken(p) => format!("broken run: {p}"),
    }
}

fn cell(fate: Option<&Fate>) -> &'static str {
    match fate {
        Some(Fate::Killed(_)) => "K",
        Some(Fate::Survived(_)) => "**S**",
        Some(Fate::NotFired) => "·",
        Some(Fate::Unreachable) | None => "–",
        Some(Fate::Excluded(_)) => "=",
        Some(Fate::Broken(_)) => "!",
    }
}

pub(crate) fn write_json(path: &Path, fates: &BTreeMap<String, Fate>, s: &Summary) -> Result<(), String> {
    let rows: serde_json::Map<String, serde_json::Value> = fates
        .iter()
        .map(|(id, f)| {
            let detail = match f {
                Fate::Killed(cases) => json!({"fate": "killed", "cases": cases}),
                Fate::Survived(r) => json!({"fate": "survived", "reason": r}),
                Fate::Excluded(r) => json!({"fate": "excluded", "reason": r}),
                Fate::Broken(p) => json!({"fate": "broken", "problem": p}),
                Fate::NotFired => json!({"fate": "not-fired"}),
                Fate::Unreachable => json!({"fate": "unreachable"}),
            };
            (id.clone(), detail)
        })
        .collect();
    let value = json!({"generated": s.generated, "fired": s.fired(), "killed": s.killed, "survived": s.survived,
        "wall_s": s.wall.as_secs_f64(), "jobs": s.jobs, "mutants": rows});
    let text = serde_json::to_string_pretty(&value).map_err(|e| e.to_string())?;
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The group (`api/create`, `hook/status`) and the field of a mutant.
fn group(m: &Mutant) -> (String, String) {
    match &m.target {
        Target::Api { op, field } => (format!("api/{}", op.name()), field.clone()),
        Target::Hook { kind, param } => (format!("hook/{}", kind.name()), param.clone()),
    }
}

pub(crate) fn write_markdown(
    path: &Path,
    all: &[Mutant],
    fates: &BTreeMap<String, Fate>,
    s: &Summary,
    plan: &BTreeMap<String, Vec<String>>,
) -> Result<(), String> {
    let mut t = String::new();
    let _ = writeln!(t, "# Mutation: responses and webhooks\n");
    let _ = writeln!(
        t,
        "Generated by `cargo xtask mutants` from its last full run; do not edit by hand. How it works is in \
         [ARCHITECTURE.md](../ARCHITECTURE.md) (`xtask/`); the wall time is in [benchmarks.md](benchmarks.md).\n"
    );
    let _ = writeln!(t, "| Mutants | Count |\n|---|---:|");
    let _ = writeln!(t, "| generated from the schemas and webhook parameter lists | {} |", s.generated);
    let _ = writeln!(t, "| excluded: Twilio itself may produce them | {} |", s.excluded);
    let _ = writeln!(t, "| reached by no case of the control run (cannot fire) | {} |", s.unreachable);
    let _ = writeln!(t, "| reached, but changed nothing in their own run | {} |", s.not_fired);
    let _ = writeln!(t, "| **fired** | **{}** |", s.fired());
    let _ = writeln!(t, "| killed (a case FAILed, snapshots off) | {} |", s.killed);
    let _ = writeln!(t, "| survived, each with its reason below | {} |", s.survived);
    let _ = writeln!(t, "| broken runs | {} |", s.broken);
    let _ =
        writeln!(t, "\n**Kill ratio: {}/{} = {:.1}%** of the fired mutants.\n", s.killed, s.fired(), s.ratio() * 100.0);
    let _ = writeln!(t, "## Survivors\n");
    let survivors: Vec<_> = fates
        .iter()
        .filter_map(|(id, f)| match f {
            Fate::Survived(r) => Some((id, r.unwrap_or("**no reason: must be killed**"))),
            _ => None,
        })
        .collect();
    if survivors.is_empty() {
        let _ = writeln!(t, "None.");
    }
    for (id, reason) in survivors {
        let _ = writeln!(t, "- `{id}`: {reason}");
    }
    let _ = writeln!(t, "\n## Excluded (Twilio may do this)\n");
    for (id, f) in fates {
        if let Fate::Excluded(reason) = f {
            let _ = writeln!(t, "- `{id}`: {reason}");
        }
    }
    let _ = writeln!(
        t,
        "\n## The table\n\nK killed, **S** survived, · reached but not fired, – reached by no case, = excluded, \
         ! broken run. The number after a field is how many cases its mutants rerun.\n"
    );
    tables(&mut t, all, fates, plan);
    std::fs::write(path, t).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// One table per group (`api/create`, `hook/status`…): a row per field, a column per operator.
fn tables(t: &mut String, all: &[Mutant], fates: &BTreeMap<String, Fate>, plan: &BTreeMap<String, Vec<String>>) {
    let mut groups: BTreeMap<String, Vec<&Mutant>> = BTreeMap::new();
    for m in all {
        groups.entry(group(m).0).or_default().push(m);
    }
    for (name, members) in &groups {
        let ops: Vec<Op> = {
            let mut ops: Vec<Op> = members.iter().map(|m| m.op).collect();
            ops.dedup();
            ops.sort();
            ops.dedup();
            ops
        };
        let _ = writeln!(t, "### `{name}`\n");
        let _ = writeln!(t, "| field | {} |", ops.iter().map(|o| o.name()).collect::<Vec<_>>().join(" | "));
        let _ = writeln!(t, "|---|{}", ":-:|".repeat(ops.len()));
        let mut fields: Vec<String> = members.iter().map(|m| group(m).1).collect();
        fields.dedup();
        for field in fields {
            let row: Vec<&str> = ops
                .iter()
                .map(|op| {
                    let m = members.iter().find(|m| m.op == *op && group(m).1 == field);
                    m.map_or("", |m| cell(fates.get(&m.id())))
                })
                .collect();
            let reach = members
                .iter()
                .filter(|m| group(m).1 == field)
                .filter_map(|m| plan.get(&m.id()).map(Vec::len))
                .max()
                .unwrap_or(0);
            let _ = writeln!(t, "| `{field}` {reach} | {} |", row.join(" | "));
        }
        let _ = writeln!(t);
    }
}
