//! The determinism spot-check (issue #17 item 5): after every other seed of a sweep has run,
//! a small, deterministic sample of its seeds runs again, each on a fresh thread, and each
//! re-run's fingerprint (`fingerprint.rs`) must equal its first run's.
//!
//! Why after the others: a scheduler that keeps state in a `static` (or a thread-local that
//! outlives its thread's seed, a process-wide cache, a leaked file) behaves differently once
//! the process has run other seeds (madsim #174). Re-running a seed straight away would
//! usually repeat the same leak; re-running it at the end of the sweep sees the process in a
//! different state. The first seed of the range is always in the sample: it ran first, on a
//! process that had run nothing.
//!
//! The cost bound: at most one seed in [`SAMPLE_EVERY`] is re-run (and untraced), so the
//! check costs at most 1/[`SAMPLE_EVERY`] of the sweep's seed time, 4 %. A sweep of fewer
//! than [`SAMPLE_EVERY`] seeds of a scenario re-runs none of them and says so;
//! `--check-determinism` re-runs every seed and compares whole traces.

use crate::fingerprint::{Divergence, Fingerprint};
use crate::run::run_seed_with_knobs;
use crate::scenario::ScenarioSpec;
use crate::subject::Subject;

/// One seed in this many is re-run.
pub const SAMPLE_EVERY: usize = 25;

/// The seeds of `seeds` the spot-check re-runs: `len / SAMPLE_EVERY` of them, evenly spaced,
/// starting with the first. Deterministic: a function of the range alone.
pub fn sample(seeds: &[u64]) -> Vec<u64> {
    let count = seeds.len() / SAMPLE_EVERY;
    (0..count).map(|i| seeds[i * seeds.len() / count]).collect()
}

/// A seed whose re-run parted from its first run.
#[derive(Clone, Debug)]
pub struct Nondeterminism {
    pub seed: u64,
    pub divergence: Divergence,
    /// The fingerprints' hashes (first run, re-run).
    pub hashes: (u64, u64),
    /// The differing event of each run, in words.
    pub first: String,
    pub second: String,
    /// The event where they part, as a traced third run shows it (if that run took the
    /// re-run's path; a leak can change again from run to run).
    pub line: Option<String>,
}

impl std::fmt::Display for Nondeterminism {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "seed {} ran differently when it ran again after the sweep (fingerprints {:016x} and {:016x}): the first difference is event {}, {} in the sweep's run and {} in the re-run",
            self.seed, self.hashes.0, self.hashes.1, self.divergence.index, self.first, self.second
        )?;
        if let Some(line) = &self.line {
            write!(f, " (`{}`)", line.trim())?;
        }
        write!(f, "; state that outlives a seed (a static, a thread-local, a process-wide cache) makes a run depend on the seeds run before it (madsim #174)")
    }
}

/// Re-runs `seed` (with the knobs its first run had, if guided) untraced on a fresh thread
/// and compares its fingerprint with the first run's.
pub fn recheck(spec: &ScenarioSpec, subject: &Subject, seed: u64, knobs: Option<crate::knobs::Knobs>, first: &Fingerprint) -> Option<Nondeterminism> {
    let again = run_seed_with_knobs(spec, subject.clone(), seed, knobs, false);
    let divergence = first.first_divergence(&again.fingerprint)?;
    // The event's text, from a traced run that took the re-run's path.
    let traced = run_seed_with_knobs(spec, subject.clone(), seed, knobs, true);
    let line = (traced.fingerprint == again.fingerprint)
        .then(|| traced.trace.events.iter().filter(|e| e.kind != crate::trace::EventKind::Gauge).nth(divergence.index).map(|e| e.line()))
        .flatten();
    let (first_text, second_text) = (first.describe(divergence.first), again.fingerprint.describe(divergence.second));
    Some(Nondeterminism { seed, divergence, hashes: (first.hash(), again.fingerprint.hash()), first: first_text, second: second_text, line })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_starts_with_the_first_seed_and_stays_within_budget() {
        let seeds: Vec<u64> = (10..110).collect();
        let s = sample(&seeds);
        assert_eq!(s, vec![10, 35, 60, 85]);
        assert!(sample(&seeds[..24]).is_empty());
        assert_eq!(sample(&seeds[..25]), vec![10]);
        let big: Vec<u64> = (0..100_000).collect();
        assert_eq!(sample(&big).len(), 4_000);
    }
}
