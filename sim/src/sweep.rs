//! Many seeds: the building block of `cargo test` suites and the `sweep` command.

use crate::run::{run_seed, RunReport};
use crate::scenario::ScenarioSpec;
use alarmsim_scheduler::api::SchedulerFactory;
use std::sync::Arc;

/// Seeds to run: `start..start + count`, or one seed from `ALARMSIM_SEED` to replay it.
pub fn seeds_from_env(start: u64, count: u64) -> Vec<u64> {
    match std::env::var("ALARMSIM_SEED") {
        Ok(seed) => vec![seed.trim().parse().unwrap_or_else(|_| panic!("ALARMSIM_SEED={seed:?} is not a u64 seed"))],
        Err(_) => (start..start + count).collect(),
    }
}

/// Runs `seeds` of `spec` and returns the first failure, if any (every seed on its own thread).
pub fn first_failure(spec: &ScenarioSpec, factory: Arc<dyn SchedulerFactory>, seeds: &[u64]) -> Option<RunReport> {
    seeds.iter().map(|&seed| run_seed(spec, factory.clone(), seed)).find(|r| !r.passed())
}

/// Panics with the full failure report (seed, profile, invariant, events, replay line) if
/// any seed fails. Meant for `cargo test` suites.
pub fn assert_seeds_pass(spec: &ScenarioSpec, factory: Arc<dyn SchedulerFactory>, seeds: &[u64]) {
    if let Some(report) = first_failure(spec, factory, seeds) {
        panic!(
            "{}  replay just this seed: ALARMSIM_SEED={} cargo test\n",
            report.failure_text(40).expect("a failing report"),
            report.seed
        );
    }
}
