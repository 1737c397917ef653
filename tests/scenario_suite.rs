//! The references (the alarm scheduler and the job queue) must pass every scenario of the
//! catalog over 500 seeds, with zero violations. Replay one seed with `ALARMSIM_SEED=<seed> cargo test --test scenario_suite`.

use alarmsim_sim::sweep::{assert_all_pass, seeds_from_env};

/// Seeds per scenario (the floor).
const SEEDS: u64 = 500;

#[test]
fn reference_passes_every_scenario() {
    let scenarios = alarmsim_scenarios::scenarios();
    assert!(scenarios.len() >= 17, "the catalog lost scenarios");
    let pairs: Vec<_> = scenarios.into_iter().map(|spec| (spec.clone(), alarmsim_scenarios::reference_for(&spec))).collect();
    assert_all_pass(&pairs, &seeds_from_env(0, SEEDS), "scenario_suite");
}
