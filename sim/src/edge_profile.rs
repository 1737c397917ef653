//! The per-seed options of the edge-seeking workload (TigerBeetle's `options_swarm`): which
//! symbolic alarm times a seed uses and how often, how many bursts of operations that only
//! make sense together, and how often a handler runs a script. Drawn from the scenario's
//! [`EdgeBounds`] with a random stream of its own, printed in the profile, and switched off
//! knob by knob by the shrinker.
//!
//! Why a stream of its own: with the workload switched off (`NO_EDGES`, `sweep --edges off`)
//! no draw is made at all and every world is byte for byte what it was before this workload
//! existed; with it on, the base plan (which actor, when, which operation) is still the same
//! and only the arguments, the bursts added and the handlers differ.

use crate::draws::{draw_u64, maybe_f64, stream_seed};
use crate::scenario::EdgeBounds;
use crate::time_arg::{ArgKind, TimeArg};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The stream the plan's edge draws come from (its argument kinds and bursts).
pub const PLAN_STREAM: u64 = 0x6564_6765_706c_616e; // "edgeplan"
/// Actor `a`'s edge stream (its handler scripts) is `stream_seed(seed ^ ACTOR_SALT, a)`.
pub const ACTOR_SALT: u64 = 0x6564_6765_6163_7472; // "edgeactr"

/// The random stream of a seed's edge draws during plan generation.
pub fn plan_rng(seed: u64) -> ChaCha8Rng {
    rand::SeedableRng::seed_from_u64(stream_seed(seed, PLAN_STREAM))
}

/// Actor `actor`'s edge stream during the run (handler scripts).
pub fn actor_rng(seed: u64, actor: usize) -> ChaCha8Rng {
    rand::SeedableRng::seed_from_u64(stream_seed(seed ^ ACTOR_SALT, actor as u64))
}

/// The edge-seeking options of one seed. The default is everything off.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EdgeProfile {
    /// Weight of each alarm-time argument kind; a kind that is absent or 0 is off. With no
    /// symbolic kind on, every time is a plain delay.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub args: BTreeMap<ArgKind, u32>,
    #[serde(default)]
    pub bursts_per_hour: f64,
    /// Probability that a handler runs a script.
    #[serde(default)]
    pub handler_scripts: f64,
    /// Probability that a scripted handler takes zero ms.
    #[serde(default)]
    pub zero_duration: f64,
}

impl EdgeProfile {
    /// The knobs [`EdgeProfile::switch_off`] knows: handler scripts, then one per symbolic
    /// argument kind.
    pub const KNOBS: usize = 1 + ArgKind::ALL.len() - 1;

    /// Draws the options from `bounds`. Nothing is drawn when the bounds are off.
    pub fn draw(bounds: &EdgeBounds, rng: &mut ChaCha8Rng) -> EdgeProfile {
        if bounds.is_off() {
            return EdgeProfile::default();
        }
        let p = bounds.enable_probability;
        let mut args = BTreeMap::new();
        args.insert(ArgKind::Delay, draw_u64(rng, range_u64(bounds.delay_weight)) as u32);
        for kind in ArgKind::symbolic() {
            if rng.random_bool(p) {
                args.insert(kind, draw_u64(rng, range_u64(bounds.arg_weight)) as u32);
            }
        }
        args.retain(|_, w| *w > 0);
        EdgeProfile {
            args,
            bursts_per_hour: maybe_f64(rng, p, bounds.bursts_per_hour),
            handler_scripts: maybe_f64(rng, p, bounds.handler_scripts),
            zero_duration: maybe_f64(rng, p, bounds.zero_duration),
        }
    }

    /// Whether any symbolic argument kind is on.
    pub fn symbolic_on(&self) -> bool {
        self.args.iter().any(|(k, w)| *k != ArgKind::Delay && *w > 0)
    }

    pub fn is_on(&self) -> bool {
        self.symbolic_on() || self.bursts_per_hour > 0.0 || self.handler_scripts > 0.0
    }

    /// An argument standing for a plain delay of `delay_ms`: a symbol with probability by the
    /// weights, else the delay itself. Draws nothing when no symbolic kind is on.
    pub fn time_arg(&self, delay_ms: i64, rng: &mut ChaCha8Rng) -> TimeArg {
        if !self.symbolic_on() {
            return TimeArg::Delay(delay_ms);
        }
        let kinds: Vec<(ArgKind, u32)> = self.args.iter().map(|(k, w)| (*k, *w)).collect();
        let weights: Vec<u32> = kinds.iter().map(|(_, w)| *w).collect();
        let kind = kinds[crate::draws::pick(rng, &weights)].0;
        let back = rng.random_range(1..=crate::time_arg::REPEAT_DEPTH as u8);
        TimeArg::of_kind(kind, delay_ms, back)
    }

    /// Switches off knob `knob` (for the shrinker); false if it was off already. Knob 0 is the
    /// handler scripts; knob `k ≥ 1` is the `k`-th symbolic argument kind, whose arguments
    /// in the plan's steps the caller turns back into their fallback delays
    /// (`Plan::switch_off_edge`).
    pub fn switch_off(&mut self, knob: usize) -> bool {
        if knob == 0 {
            let was_on = self.handler_scripts > 0.0;
            self.handler_scripts = 0.0;
            return was_on;
        }
        let kind = Self::knob_kind(knob);
        self.args.remove(&kind).is_some_and(|w| w > 0)
    }

    /// The argument kind of knob `knob ≥ 1`.
    pub fn knob_kind(knob: usize) -> ArgKind {
        assert!((1..Self::KNOBS).contains(&knob), "no edge knob {knob}; there are {}", Self::KNOBS);
        ArgKind::symbolic().nth(knob - 1).expect("a symbolic kind per knob")
    }

    /// One line for the profile: `args[delay=40 stored=12] bursts/h=30.0 scripts=0.40 zero_ms=0.20`.
    pub fn describe(&self) -> String {
        let args: Vec<String> = self.args.iter().map(|(k, w)| format!("{}={w}", kind_name(*k))).collect();
        format!(
            "edges: args[{}] bursts/h={:.1} scripts={:.2} zero_ms={:.2}",
            args.join(" "),
            self.bursts_per_hour,
            self.handler_scripts,
            self.zero_duration
        )
    }
}

/// The kebab-case name of an argument kind, as in plans.
pub fn kind_name(kind: ArgKind) -> String {
    serde_json::to_value(kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

fn range_u64(r: crate::scenario::Range<u32>) -> crate::scenario::Range<u64> {
    crate::scenario::range(r.lo as u64, r.hi as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{range, NO_EDGES};

    #[test]
    fn off_bounds_draw_nothing_and_give_plain_delays() {
        let mut rng = plan_rng(7);
        let before = rng.clone();
        let profile = EdgeProfile::draw(&NO_EDGES, &mut rng);
        assert_eq!(profile, EdgeProfile::default());
        assert_eq!(rng, before, "no draw when the workload is off");
        assert_eq!(profile.time_arg(123, &mut rng), TimeArg::Delay(123));
        assert_eq!(rng, before);
    }

    #[test]
    fn knobs_switch_off_scripts_and_each_symbolic_kind() {
        let bounds = EdgeBounds {
            enable_probability: 1.0,
            delay_weight: range(10, 10),
            arg_weight: range(5, 5),
            bursts_per_hour: range(1.0, 2.0),
            handler_scripts: range(0.5, 0.5),
            zero_duration: range(0.1, 0.1),
        };
        let mut profile = EdgeProfile::draw(&bounds, &mut plan_rng(1));
        assert!(profile.is_on() && profile.symbolic_on());
        assert_eq!(profile.args.len(), ArgKind::ALL.len());
        for knob in 0..EdgeProfile::KNOBS {
            assert!(profile.switch_off(knob), "knob {knob} was on");
            assert!(!profile.switch_off(knob), "knob {knob} is off now");
        }
        assert!(!profile.symbolic_on() && profile.handler_scripts == 0.0);
        assert_eq!(profile.args.keys().copied().collect::<Vec<_>>(), vec![ArgKind::Delay]);
    }
}
