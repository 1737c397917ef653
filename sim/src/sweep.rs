//! Many seeds: the building block of `cargo test` suites and the `sweep` command.

use crate::report::RunReport;
use crate::run::{run_seed, run_seed_traced};
use crate::scenario::ScenarioSpec;
use crate::subject::Subject;
use std::sync::Mutex;

/// Seeds to run: `start..start + count`, or one seed from `ALARMSIM_SEED` to replay it.
pub fn seeds_from_env(start: u64, count: u64) -> Vec<u64> {
    match std::env::var("ALARMSIM_SEED") {
        Ok(seed) => vec![seed.trim().parse().unwrap_or_else(|_| panic!("ALARMSIM_SEED={seed:?} is not a u64 seed"))],
        Err(_) => (start..start + count).collect(),
    }
}

/// Runs every seed of every scenario on all cores (each seed untraced, on its own fresh
/// thread) and returns the failures, replayed with their traces (the same runs, by
/// determinism), sorted by scenario and seed.
pub fn failures(scenarios: &[ScenarioSpec], subject: impl Into<Subject>, seeds: &[u64]) -> Vec<RunReport> {
    let subject = subject.into();
    failures_of(&scenarios.iter().map(|s| (s.clone(), subject.clone())).collect::<Vec<_>>(), seeds)
}

/// [`failures`] for scenarios that each have their own subject (alarm scenarios with an
/// alarm scheduler, queue scenarios with a queue).
pub fn failures_of(scenarios: &[(ScenarioSpec, Subject)], seeds: &[u64]) -> Vec<RunReport> {
    let work: Mutex<Vec<(usize, u64)>> = Mutex::new((0..scenarios.len()).flat_map(|s| seeds.iter().map(move |&seed| (s, seed))).rev().collect());
    let found: Mutex<Vec<RunReport>> = Mutex::new(Vec::new());
    let jobs = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| loop {
                let Some((s, seed)) = work.lock().expect("work lock").pop() else { break };
                let (spec, subject) = &scenarios[s];
                if !run_seed_traced(spec, subject, seed, false).passed() {
                    let traced = run_seed(spec, subject, seed);
                    found.lock().expect("failures lock").push(traced);
                }
            });
        }
    });
    let mut found = found.into_inner().expect("failures lock");
    found.sort_by(|a, b| (&a.scenario, a.seed).cmp(&(&b.scenario, b.seed)));
    found
}

/// Panics with the full report of the first failure (seed, profile, invariant, events,
/// replay line) and a list of all failing seeds, if any seed of any scenario fails.
/// `test_name` goes into the replay hint: `ALARMSIM_SEED=<seed> cargo test --test <test_name>`.
pub fn assert_catalog_passes(scenarios: &[ScenarioSpec], subject: impl Into<Subject>, seeds: &[u64], test_name: &str) {
    let subject = subject.into();
    assert_all_pass(&scenarios.iter().map(|s| (s.clone(), subject.clone())).collect::<Vec<_>>(), seeds, test_name);
}

/// [`assert_catalog_passes`] for scenarios that each have their own subject.
pub fn assert_all_pass(scenarios: &[(ScenarioSpec, Subject)], seeds: &[u64], test_name: &str) {
    assert!(!scenarios.is_empty() && !seeds.is_empty(), "nothing to run");
    let failures = failures_of(scenarios, seeds);
    let Some(first) = failures.first() else { return };
    let list: Vec<String> = failures
        .iter()
        .map(|r| format!("{} seed {}: {}", r.scenario, r.seed, r.violation.as_ref().expect("a failure has a violation")))
        .collect();
    panic!(
        "{} failing seeds:\n  {}\n\n{}  replay one: ALARMSIM_SEED={} cargo test --test {test_name}\n",
        failures.len(),
        list.join("\n  "),
        first.failure_text(40).expect("a failing report"),
        first.seed
    );
}

/// [`assert_catalog_passes`] for one scenario.
pub fn assert_seeds_pass(spec: &ScenarioSpec, subject: impl Into<Subject>, seeds: &[u64]) {
    assert_catalog_passes(std::slice::from_ref(spec), subject, seeds, "<your test>");
}
