//! The `sequence` step: a captured list of values must have the expected length and grow by at
//! least `min_step` from one value to the next (integers, or RFC 2822 dates in seconds).

use super::{Run, StepStop};
use crate::fixture::SequenceStep;
use crate::outcome::FailureKind;

impl Run<'_> {
    pub(super) fn sequence_step(&mut self, s: &SequenceStep, name: Option<String>) -> Result<(), StepStop> {
        self.label = name.unwrap_or_else(|| format!("sequence of {}", s.values));
        let Some(values) = self.vars.list(&s.values).map(<[String]>::to_vec) else {
            return Err(match self.missing.get(&s.values) {
                Some(why) => StepStop::Blocked(format!("needs the list {}, which was not captured: {why}", s.values)),
                None => StepStop::Fault(super::HarnessFault::Fixture(format!("no captured list {:?}", s.values))),
            });
        };
        self.checked(None);
        let kind = FailureKind::Sequence;
        if let Some(n) = s.count
            && values.len() != n
        {
            self.fail(kind, None, format!("{n} values"), format!("{}", values.len()), "wrong number of values", None);
            return Ok(());
        }
        let mut numbers = Vec::new();
        for v in &values {
            let n = match s.read_as.as_str() {
                "rfc2822" => callspec_model::rfc2822::parse(v).map(|t| t.unix_timestamp()).map_err(|e| e.to_string()),
                _ => v.trim().parse::<i64>().map_err(|e| e.to_string()),
            };
            match n {
                Ok(n) => numbers.push(n),
                Err(e) => {
                    let expected = format!("a value readable as {}", s.read_as);
                    self.fail(kind, None, expected, format!("{v:?} ({e})"), "unreadable value", None);
                    return Ok(());
                }
            }
        }
        for (i, pair) in numbers.windows(2).enumerate() {
            if pair[1] - pair[0] < s.min_step {
                self.fail(
                    kind,
                    Some(format!("{}[{}]", s.values, i + 1)),
                    format!("at least {} more than the previous value", s.min_step),
                    format!("{:?} after {:?} (all: {:?})", values[i + 1], values[i], values),
                    "values do not grow as required",
                    None,
                );
            }
        }
        Ok(())
    }
}
