//! The reference scheduler must pass every scenario of the catalog over 500 seeds, with zero
//! violations. Replay one seed with `ALARMSIM_SEED=<seed> cargo test --test scenario_suite`.

use alarmsim_scheduler::api::Reference;
use alarmsim_sim::sweep::{assert_catalog_passes, seeds_from_env};
use std::sync::Arc;

/// Seeds per scenario (the floor).
const SEEDS: u64 = 500;

#[test]
fn reference_passes_every_scenario() {
    let scenarios = alarmsim_scenarios::scenarios();
    assert!(scenarios.len() >= 11, "the catalog lost scenarios");
    assert_catalog_passes(&scenarios, Arc::new(Reference), &seeds_from_env(0, SEEDS), "scenario_suite");
}
