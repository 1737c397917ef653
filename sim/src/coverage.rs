//! What a sweep explored: per scenario, each coverage probe's hits, the seeds that reached it
//! and the first of them, and the declared probes no seed reached (FoundationDB's code-probe
//! report). Built from the `ProbeHits` of every run (`RunOptions::coverage`); shards add up
//! (`merge`), and the order seeds finish in changes nothing.

use alarmsim_scheduler::probe::{Probe, ProbeHits};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A probe is *rare* in a sweep when fewer than one seed in this many reached it.
pub const RARE_ONE_IN: u64 = 10;

/// One probe over the seeds of one scenario.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeStat {
    /// Times it was reached, over every seed.
    pub hits: u64,
    /// Seeds that reached it at least once.
    pub seeds: u64,
    /// The lowest such seed (replay it to see the probe's condition happen).
    pub first_seed: u64,
}

/// One scenario's coverage.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    /// Seeds counted.
    pub seeds: u64,
    /// Every probe the system under test and the world declare for this scenario.
    pub declared: BTreeSet<String>,
    /// Every probe reached, declared or not.
    pub reached: BTreeMap<String, ProbeStat>,
}

impl Coverage {
    /// An empty coverage of a scenario whose subject and world declare `declared`.
    pub fn declaring<'a>(declared: impl IntoIterator<Item = &'a &'static Probe>) -> Coverage {
        Coverage { declared: declared.into_iter().map(|p| p.name.to_string()).collect(), ..Coverage::default() }
    }

    /// Counts one seed's run.
    pub fn add_run(&mut self, seed: u64, hits: &ProbeHits) {
        self.seeds += 1;
        for (probe, times) in hits.iter() {
            let stat = self.reached.entry(probe.name.to_string()).or_insert(ProbeStat { hits: 0, seeds: 0, first_seed: seed });
            stat.hits += times;
            stat.seeds += 1;
            stat.first_seed = stat.first_seed.min(seed);
        }
    }

    /// Adds another shard's coverage of the same scenario.
    pub fn merge(&mut self, other: &Coverage) {
        self.seeds += other.seeds;
        self.declared.extend(other.declared.iter().cloned());
        for (name, theirs) in &other.reached {
            let stat = self.reached.entry(name.clone()).or_insert(ProbeStat { first_seed: theirs.first_seed, ..ProbeStat::default() });
            stat.hits += theirs.hits;
            stat.seeds += theirs.seeds;
            stat.first_seed = stat.first_seed.min(theirs.first_seed);
        }
    }

    /// The declared probes no seed reached, in name order.
    pub fn unreached(&self) -> Vec<&str> {
        self.declared.iter().filter(|n| !self.reached.contains_key(*n)).map(String::as_str).collect()
    }

    /// Declared probes reached, and declared in all.
    pub fn reached_of_declared(&self) -> (usize, usize) {
        (self.declared.iter().filter(|n| self.reached.contains_key(*n)).count(), self.declared.len())
    }

    /// Whether `name` is rare here: reached, but by fewer than one seed in [`RARE_ONE_IN`].
    pub fn is_rare(&self, name: &str) -> bool {
        self.reached.get(name).is_some_and(|s| s.seeds * RARE_ONE_IN < self.seeds)
    }
}

/// Per-seed rarity over a whole run of seeds, for the guided search's reward: how many seeds
/// so far reached each probe.
#[derive(Clone, Debug, Default)]
pub struct Tally {
    seeds_reaching: BTreeMap<&'static str, u64>,
    /// Every probe reached so far.
    pub runs: u64,
}

impl Tally {
    /// The novelty of a run's hits against the seeds before it: each probe it reached counts
    /// 1 / (1 + seeds that reached it before), so a probe nobody reached yet counts 1.
    pub fn novelty(&self, hits: &ProbeHits) -> f64 {
        hits.iter().map(|(p, _)| 1.0 / (1.0 + self.seeds_reaching.get(p.name).copied().unwrap_or(0) as f64)).sum()
    }

    /// The rarity of a run: 1 / (1 + the seeds that reached its rarest probe before it), so a
    /// probe nobody reached yet makes it 1 and a run of only common probes is near 0.
    pub fn rarity(&self, hits: &ProbeHits) -> f64 {
        hits.iter().map(|(p, _)| 1.0 / (1.0 + self.seeds_reaching.get(p.name).copied().unwrap_or(0) as f64)).fold(0.0, f64::max)
    }

    /// Counts a run.
    pub fn add(&mut self, hits: &ProbeHits) {
        self.runs += 1;
        for (p, _) in hits.iter() {
            *self.seeds_reaching.entry(p.name).or_default() += 1;
        }
    }

    /// Probes reached so far.
    pub fn reached(&self) -> usize {
        self.seeds_reaching.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static A: Probe = Probe { name: "t.a", doc: "a" };
    static B: Probe = Probe { name: "t.b", doc: "b" };
    static C: Probe = Probe { name: "t.c", doc: "c" };

    fn hits(probes: &[&'static Probe]) -> ProbeHits {
        let mut h = ProbeHits::default();
        for p in probes {
            h.add(p, 2);
        }
        h
    }

    #[test]
    fn shards_add_up_to_the_whole_in_any_order() {
        let runs = [(0, hits(&[&A])), (1, hits(&[&A, &B])), (2, hits(&[])), (3, hits(&[&B]))];
        let mut whole = Coverage::declaring(&[&A, &B, &C]);
        for (seed, h) in &runs {
            whole.add_run(*seed, h);
        }
        let (mut odd, mut even) = (Coverage::declaring(&[&A, &B, &C]), Coverage::declaring(&[&A, &B, &C]));
        for (seed, h) in runs.iter().rev() {
            if seed % 2 == 1 { &mut odd } else { &mut even }.add_run(*seed, h);
        }
        odd.merge(&even);
        assert_eq!(odd, whole);
        assert_eq!(whole.reached["t.b"], ProbeStat { hits: 4, seeds: 2, first_seed: 1 });
        assert_eq!(whole.unreached(), ["t.c"]);
        assert_eq!(whole.reached_of_declared(), (2, 3));
    }

    #[test]
    fn a_probe_few_seeds_reach_is_rare() {
        let mut c = Coverage::declaring(&[&A, &B]);
        for seed in 0..30 {
            let reached = if seed == 7 { hits(&[&A, &B]) } else { hits(&[&A]) };
            c.add_run(seed, &reached);
        }
        assert!(c.is_rare("t.b") && !c.is_rare("t.a") && !c.is_rare("t.c"));
    }

    #[test]
    fn novelty_rewards_what_few_seeds_reached() {
        let mut t = Tally::default();
        assert_eq!(t.novelty(&hits(&[&A, &B])), 2.0);
        t.add(&hits(&[&A]));
        t.add(&hits(&[&A]));
        assert!((t.novelty(&hits(&[&A, &B])) - (1.0 / 3.0 + 1.0)).abs() < 1e-9);
        assert_eq!(t.reached(), 1);
    }
}
