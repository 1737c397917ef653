//! The reference scheduler must pass every scenario of the catalog over 500 seeds, with zero
//! violations. Replay one seed with `ALARMSIM_SEED=<seed> cargo test --test scenario_suite`.

use alarmsim_scheduler::api::Reference;
use alarmsim_sim::sweep::seeds_from_env;
use alarmsim_sim::{run_seed_traced, RunReport};
use std::sync::{Arc, Mutex};

/// Seeds per scenario (the floor).
const SEEDS: u64 = 500;

#[test]
fn reference_passes_every_scenario() {
    let scenarios = alarmsim_scenarios::scenarios();
    assert!(!scenarios.is_empty(), "the catalog is empty");
    let seeds = seeds_from_env(0, SEEDS);
    let work: Mutex<Vec<(usize, u64)>> = Mutex::new(
        (0..scenarios.len()).flat_map(|s| seeds.iter().map(move |&seed| (s, seed))).rev().collect(),
    );
    let failures: Mutex<Vec<RunReport>> = Mutex::new(Vec::new());
    let jobs = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| loop {
                let Some((s, seed)) = work.lock().unwrap().pop() else { break };
                let report = run_seed_traced(&scenarios[s], Arc::new(Reference), seed, false);
                if !report.passed() {
                    // Replay with the trace on for the report (the same run, by determinism).
                    failures.lock().unwrap().push(alarmsim_sim::run_seed(&scenarios[s], Arc::new(Reference), seed));
                }
            });
        }
    });
    let mut failures = failures.into_inner().unwrap();
    failures.sort_by_key(|r| (r.scenario.clone(), r.seed));
    if let Some(first) = failures.first() {
        let list: Vec<String> = failures.iter().map(|r| format!("{} seed {}: {}", r.scenario, r.seed, r.violation.as_ref().unwrap())).collect();
        panic!(
            "{} failing seeds:\n  {}\n\n{}  replay one: ALARMSIM_SEED={} cargo test --test scenario_suite\n",
            failures.len(),
            list.join("\n  "),
            first.failure_text(40).unwrap(),
            first.seed
        );
    }
    println!("{} scenarios x {} seeds: no violations", scenarios.len(), seeds.len());
}
