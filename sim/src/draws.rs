//! Random draws shared by every generator (plans of both worlds, fault and edge profiles):
//! weighted picks, values from bounds, how many faults of a rate fall into the chaos phase,
//! and the seeds of independent random streams. Depends on nothing else in the crate.

use crate::scenario::Range;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// The seed of one random stream of a run (SplitMix64 of the seed and the stream number).
/// Independent streams keep one part of a run from shifting another's draws: removing a plan
/// step for one actor leaves the others' draws unchanged, and the edge-seeking workload
/// (`edge_profile.rs`) draws from streams of its own, so with it switched off every world is
/// exactly what it was before it existed.
pub fn stream_seed(seed: u64, stream: u64) -> u64 {
    let mut z = seed ^ stream.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A value from `r` with probability `enable`, else 0 (a swarm option switched off). A bound
/// whose `hi` is 0 draws nothing at all, so a fault a scenario disables costs no draw.
pub fn maybe_f64(rng: &mut ChaCha8Rng, enable: f64, r: Range<f64>) -> f64 {
    if r.hi <= 0.0 || !rng.random_bool(enable) {
        return 0.0;
    }
    r.lo + (r.hi - r.lo) * rng.random::<f64>()
}

pub fn draw_u64(rng: &mut ChaCha8Rng, r: Range<u64>) -> u64 {
    rng.random_range(r.lo..=r.hi)
}

pub fn draw_i64(rng: &mut ChaCha8Rng, r: Range<i64>) -> i64 {
    rng.random_range(r.lo..=r.hi)
}

/// How many events of `per_hour` fall into a chaos phase of `chaos_ms` (the fraction by a coin).
pub(crate) fn count(rng: &mut ChaCha8Rng, per_hour: f64, chaos_ms: u64) -> u64 {
    if per_hour <= 0.0 {
        return 0;
    }
    let expected = per_hour * chaos_ms as f64 / 3_600_000.0;
    expected.floor() as u64 + u64::from(rng.random_bool(expected.fract()))
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
