//! Random draws shared by the plan generators of both worlds: weighted picks, how many
//! faults of a rate fall into the chaos phase, and node crashes.

use crate::node::Node;
use crate::plan::{Action, Step};
use crate::profile::FaultProfile;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

pub(crate) fn count(rng: &mut ChaCha8Rng, per_hour: f64, chaos_ms: u64) -> u64 {
    if per_hour <= 0.0 {
        return 0;
    }
    let expected = per_hour * chaos_ms as f64 / 3_600_000.0;
    expected.floor() as u64 + u64::from(rng.random_bool(expected.fract()))
}

pub(crate) fn node_faults(steps: &mut Vec<Step>, profile: &FaultProfile, node: Node, per_hour: f64, chaos_ms: u64, rng: &mut ChaCha8Rng) {
    for _ in 0..count(rng, per_hour, chaos_ms) {
        let at_ms = rng.random_range(0..chaos_ms);
        let power = rng.random_bool(profile.power_loss_fraction.clamp(0.0, 1.0));
        let downtime_ms = rng.random_range(profile.downtime_ms.0..=profile.downtime_ms.1);
        steps.push(Step { at_ms, action: Action::Crash { node, power, downtime_ms } });
    }
}

/// Picks an index with probability proportional to its weight.
pub fn pick(rng: &mut ChaCha8Rng, weights: &[u32]) -> usize {
    let total: u32 = weights.iter().sum();
    assert!(total > 0, "a weight table must not be all zero");
    let mut roll = rng.random_range(0..total);
    for (i, &w) in weights.iter().enumerate() {
        if roll < w {
            return i;
        }
        roll -= w;
    }
    unreachable!("roll < total")
}
