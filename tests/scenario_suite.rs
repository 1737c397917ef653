//! The references (the alarm scheduler and the job queue) must pass every scenario of the
//! catalog over 500 seeds, with zero violations; `large-namespace` (1,000 actors, seeds about
//! 60 times longer) over 50 here, to keep the suite within CI's time (its 1,000-seed run is
//! in docs/PERFORMANCE.md). Replay one seed with `ALARMSIM_SEED=<seed> cargo test --test scenario_suite`.
//! `ALARMSIM_SUITE=alarms` runs the alarm scenarios only and `ALARMSIM_FAIL_FAST=1` stops at the
//! first failure (both for mutation testing of the alarm cores).

use alarmsim_sim::sweep::{assert_all_pass, seeds_from_env};

/// Seeds per scenario (the floor).
const SEEDS: u64 = 500;

#[test]
fn reference_passes_every_scenario() {
    let scenarios = alarmsim_scenarios::scenarios();
    assert!(scenarios.len() >= 18, "the catalog lost scenarios");
    // `ALARMSIM_SUITE=alarms`: the alarm scenarios only (a mutation run of the alarm cores;
    // docs/PERFORMANCE.md).
    let alarms_only = std::env::var("ALARMSIM_SUITE").is_ok_and(|v| v == "alarms");
    let scenarios: Vec<_> = scenarios.into_iter().filter(|spec| !alarms_only || spec.queue().is_none()).collect();
    // The scenarios that get the full count together (one pool of seeds on every core), then
    // each that gets a share.
    let (full, shared): (Vec<_>, Vec<_>) = scenarios.into_iter().partition(|spec| alarmsim_scenarios::default_seeds(spec, SEEDS) == SEEDS);
    let pairs: Vec<_> = full.into_iter().map(|spec| (spec.clone(), alarmsim_scenarios::reference_for(&spec))).collect();
    assert_all_pass(&pairs, &seeds_from_env(0, SEEDS), "scenario_suite");
    for spec in shared {
        let seeds = seeds_from_env(0, alarmsim_scenarios::default_seeds(&spec, SEEDS));
        assert_all_pass(&[(spec.clone(), alarmsim_scenarios::reference_for(&spec))], &seeds, "scenario_suite");
    }
}
