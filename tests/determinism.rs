//! Running a seed twice gives a byte-identical trace (the product is worthless without it),
//! and a sweep's untraced run reaches the same outcome as its traced replay.

use alarmsim_scheduler::api::Reference;
use alarmsim_sim::{run_seed, run_seed_traced};
use std::sync::Arc;

const SEEDS: u64 = 100;

#[test]
fn the_same_seed_gives_a_byte_identical_trace() {
    let spec = alarmsim_scenarios::scenario("standard").expect("the standard scenario");
    for seed in 0..SEEDS {
        let first = run_seed(&spec, Arc::new(Reference), seed);
        let second = run_seed(&spec, Arc::new(Reference), seed);
        assert!(first.trace.len() > 100, "seed {seed}: a run this short checks nothing");
        let (a, b) = (first.trace.to_jsonl(), second.trace.to_jsonl());
        if a != b {
            let at = a.lines().zip(b.lines()).position(|(x, y)| x != y).unwrap_or(0);
            panic!(
                "seed {seed}: two runs differ at event {at}:\n  {}\n  {}",
                a.lines().nth(at).unwrap_or(""),
                b.lines().nth(at).unwrap_or("")
            );
        }
    }
}

/// The job queue's world is byte-identical per seed too (processes are madsim tasks with
/// their own SQLite connections; their interleaving must come from the seed alone).
#[test]
fn the_same_queue_seed_gives_a_byte_identical_trace() {
    for spec in alarmsim_scenarios::queue_scenarios() {
        let reference = alarmsim_scenarios::reference_for(&spec);
        for seed in 0..10 {
            let (a, b) = (run_seed(&spec, &reference, seed).trace.to_jsonl(), run_seed(&spec, &reference, seed).trace.to_jsonl());
            assert!(a.lines().count() > 50, "{} seed {seed}: a run this short checks nothing", spec.name);
            if a != b {
                let at = a.lines().zip(b.lines()).position(|(x, y)| x != y).unwrap_or(0);
                panic!("{} seed {seed}: two runs differ at event {at}:\n  {}\n  {}", spec.name, a.lines().nth(at).unwrap_or(""), b.lines().nth(at).unwrap_or(""));
            }
        }
    }
}

#[test]
fn untraced_runs_reach_the_same_outcome_as_traced_runs() {
    for spec in alarmsim_scenarios::scenarios() {
        let reference = alarmsim_scenarios::reference_for(&spec);
        // 10 seeds each (1 of large-namespace: a traced 1,000-actor seed is long).
        for seed in 0..alarmsim_scenarios::default_seeds(&spec, 10) {
            let traced = run_seed(&spec, &reference, seed);
            let untraced = run_seed_traced(&spec, &reference, seed, false);
            assert!(untraced.trace.is_empty());
            assert_eq!((traced.events, traced.sim_ms), (untraced.events, untraced.sim_ms), "{} seed {seed}", spec.name);
            assert_eq!(traced.violation, untraced.violation, "{} seed {seed}", spec.name);
        }
    }
}
