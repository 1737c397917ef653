//! Knobs: a scenario re-weighted before a seed's plan is drawn from it, the arms the guided
//! search (`guided.rs`) pulls. A knob only narrows or re-weights what the scenario already
//! allows (a fault family it never turns on stays off, an operation of weight 0 stays at 0),
//! so every knob's world is one the plain sweep could also draw, only more or less often.
//!
//! A run with knobs replays from its plain seed plus the knobs, which its plan records
//! (`Plan::knobs`) and its replay line names (`--knobs faults=link,ops=writes,…`).

use crate::scenario::{Range, ScenarioSpec};
use serde::{Deserialize, Serialize};

/// Which fault family a seed concentrates on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultFocus {
    /// The scenario's own bounds.
    #[default]
    AsIs,
    /// No fault at all: only the workload's own interleavings.
    Calm,
    /// Host and manager crashes (and queue processes' crashes at statements), no other fault.
    Crashes,
    /// Lost, late and duplicated messages and partitions, no other fault.
    Link,
    /// Failed commits and power losses under `synchronous=NORMAL`, no other fault.
    Storage,
    /// Clock skew only.
    Skew,
}

/// Which client operations a seed favours.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OpFocus {
    #[default]
    AsIs,
    /// `setAlarm` in its forms (alone, twice in a turn, with a put) three times as often.
    Writes,
    /// `deleteAlarm` and `deleteAll` three times as often.
    Deletes,
}

/// How hard a seed leans on the edge-seeking workload.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EdgeFocus {
    #[default]
    AsIs,
    /// Every symbolic kind, burst and script switched on, at the upper half of its bounds.
    Max,
    /// Switched off (`--edges off`).
    Off,
}

/// What a seed's handlers do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HandlerFocus {
    #[default]
    AsIs,
    /// Throwing, running past the limit, aborting, hitting the CPU limit: three times as often.
    Failing,
}

/// The knobs of one seed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Knobs {
    #[serde(default)]
    pub faults: FaultFocus,
    #[serde(default)]
    pub ops: OpFocus,
    #[serde(default)]
    pub edges: EdgeFocus,
    #[serde(default)]
    pub handlers: HandlerFocus,
}

impl FaultFocus {
    pub const ALL: [FaultFocus; 6] = [FaultFocus::AsIs, FaultFocus::Calm, FaultFocus::Crashes, FaultFocus::Link, FaultFocus::Storage, FaultFocus::Skew];
}
impl OpFocus {
    pub const ALL: [OpFocus; 3] = [OpFocus::AsIs, OpFocus::Writes, OpFocus::Deletes];
}
impl EdgeFocus {
    pub const ALL: [EdgeFocus; 3] = [EdgeFocus::AsIs, EdgeFocus::Max, EdgeFocus::Off];
}
impl HandlerFocus {
    pub const ALL: [HandlerFocus; 2] = [HandlerFocus::AsIs, HandlerFocus::Failing];
}

/// Names as they appear in `--knobs` and the replay line.
fn name<T: Serialize>(value: T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

fn parse<T: for<'de> Deserialize<'de> + Serialize + Copy>(key: &str, text: &str, all: &[T]) -> Result<T, String> {
    serde_json::from_value(serde_json::Value::String(text.to_string())).map_err(|_| {
        let valid: Vec<String> = all.iter().map(|v| name(*v)).collect();
        format!("{key}={text} is not a knob: {key} is one of {}", valid.join(", "))
    })
}

impl std::fmt::Display for Knobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "faults={},ops={},edges={},handlers={}", name(self.faults), name(self.ops), name(self.edges), name(self.handlers))
    }
}

impl std::str::FromStr for Knobs {
    type Err = String;

    /// `faults=link,ops=writes,edges=max,handlers=failing`; any key may be left out (as-is).
    fn from_str(text: &str) -> Result<Knobs, String> {
        let mut knobs = Knobs::default();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((key, value)) = part.split_once('=') else {
                return Err(format!("'{part}' is not key=value; knobs look like faults=link,ops=writes,edges=max,handlers=failing"));
            };
            match key.trim() {
                "faults" => knobs.faults = parse("faults", value.trim(), &FaultFocus::ALL)?,
                "ops" => knobs.ops = parse("ops", value.trim(), &OpFocus::ALL)?,
                "edges" => knobs.edges = parse("edges", value.trim(), &EdgeFocus::ALL)?,
                "handlers" => knobs.handlers = parse("handlers", value.trim(), &HandlerFocus::ALL)?,
                other => return Err(format!("'{other}' is not a knob: the knobs are faults, ops, edges and handlers")),
            }
        }
        Ok(knobs)
    }
}

/// The upper half of a range (its intensity at its strongest).
fn upper_f64(r: Range<f64>) -> Range<f64> {
    Range { lo: (r.lo + r.hi) / 2.0, hi: r.hi }
}

const OFF_F64: Range<f64> = Range { lo: 0.0, hi: 0.0 };

/// A weight made `factor` times heavier; a weight of 0 stays 0.
fn heavier(weight: &mut u32, factor: u32) {
    *weight = weight.saturating_mul(factor);
}

impl Knobs {
    /// Whether every knob leaves the scenario as it is.
    pub fn is_as_is(&self) -> bool {
        *self == Knobs::default()
    }

    /// `spec` re-weighted by these knobs. The name stays: a run with knobs is still a run of
    /// that scenario.
    pub fn apply(&self, spec: &ScenarioSpec) -> ScenarioSpec {
        let mut s = spec.clone();
        let f = &mut s.faults;
        let crashes = |f: &mut crate::scenario::FaultBounds, on: bool| {
            if !on {
                f.host_crashes_per_hour = OFF_F64;
                f.manager_crashes_per_hour = OFF_F64;
                f.statement_crash = OFF_F64;
            }
        };
        let link = |f: &mut crate::scenario::FaultBounds, on: bool| {
            if on {
                f.link_drop_request = upper_f64(f.link_drop_request);
                f.link_drop_response = upper_f64(f.link_drop_response);
                f.link_duplicate = upper_f64(f.link_duplicate);
                f.partitions_per_hour = upper_f64(f.partitions_per_hour);
            } else {
                f.link_drop_request = OFF_F64;
                f.link_drop_response = OFF_F64;
                f.link_duplicate = OFF_F64;
                f.partitions_per_hour = OFF_F64;
            }
        };
        let storage = |f: &mut crate::scenario::FaultBounds, on: bool| {
            if on {
                f.commit_fail_before = upper_f64(f.commit_fail_before);
                f.commit_fail_after = upper_f64(f.commit_fail_after);
                f.power_loss_fraction = upper_f64(f.power_loss_fraction);
            } else {
                f.commit_fail_before = OFF_F64;
                f.commit_fail_after = OFF_F64;
                f.power_loss_fraction = OFF_F64;
            }
        };
        let skew = |f: &mut crate::scenario::FaultBounds, on: bool| {
            if !on {
                f.clock_offset_ms = Range { lo: 0, hi: 0 };
                f.clock_drift_ppm = Range { lo: 0, hi: 0 };
            }
        };
        match self.faults {
            FaultFocus::AsIs => {}
            focus => {
                // The focused family is switched on every seed, at the upper half of its
                // bounds; the others are off. Storage faults need crashes for power losses.
                f.enable_probability = 1.0;
                crashes(f, matches!(focus, FaultFocus::Crashes | FaultFocus::Storage));
                if focus == FaultFocus::Crashes {
                    f.host_crashes_per_hour = upper_f64(f.host_crashes_per_hour);
                    f.manager_crashes_per_hour = upper_f64(f.manager_crashes_per_hour);
                    f.statement_crash = upper_f64(f.statement_crash);
                }
                link(f, focus == FaultFocus::Link);
                storage(f, focus == FaultFocus::Storage);
                skew(f, focus == FaultFocus::Skew);
            }
        }
        let o = &mut s.op_weights;
        match self.ops {
            OpFocus::AsIs => {}
            OpFocus::Writes => {
                heavier(&mut o.set_alarm, 3);
                heavier(&mut o.set_twice, 3);
                heavier(&mut o.set_and_put, 3);
            }
            OpFocus::Deletes => {
                heavier(&mut o.delete_alarm, 3);
                heavier(&mut o.delete_all, 3);
            }
        }
        let e = &mut s.edges;
        match self.edges {
            EdgeFocus::AsIs => {}
            EdgeFocus::Off => *e = crate::scenario::NO_EDGES,
            // A scenario without the edge-seeking workload keeps it off: `max` of nothing.
            EdgeFocus::Max if e.is_off() => {}
            EdgeFocus::Max => {
                e.enable_probability = 1.0;
                e.bursts_per_hour = upper_f64(e.bursts_per_hour);
                e.handler_scripts = upper_f64(e.handler_scripts);
                e.arg_weight = Range { lo: e.arg_weight.lo + (e.arg_weight.hi - e.arg_weight.lo) / 2, hi: e.arg_weight.hi };
            }
        }
        let h = &mut s.handler_weights;
        if self.handlers == HandlerFocus::Failing {
            heavier(&mut h.throw, 3);
            heavier(&mut h.exceed_wall_time, 3);
            heavier(&mut h.abort, 3);
            heavier(&mut h.cpu_limit, 3);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knobs_read_back_what_they_print_and_name_what_is_valid() {
        let knobs = Knobs { faults: FaultFocus::Link, ops: OpFocus::Deletes, edges: EdgeFocus::Max, handlers: HandlerFocus::Failing };
        assert_eq!(knobs.to_string(), "faults=link,ops=deletes,edges=max,handlers=failing");
        assert_eq!(knobs.to_string().parse::<Knobs>(), Ok(knobs));
        assert_eq!("".parse::<Knobs>(), Ok(Knobs::default()));
        assert_eq!("ops=writes".parse::<Knobs>().map(|k| k.ops), Ok(OpFocus::Writes));
        let e = "faults=loud".parse::<Knobs>().unwrap_err();
        assert!(e.contains("faults=loud") && e.contains("as-is, calm, crashes, link, storage, skew"), "{e}");
        assert!("colour=red".parse::<Knobs>().unwrap_err().contains("faults, ops, edges and handlers"));
        assert!("faults".parse::<Knobs>().unwrap_err().contains("key=value"));
    }
}
