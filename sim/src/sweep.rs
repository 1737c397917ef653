//! Many seeds: the building block of `cargo test` suites and the `sweep` command.

use crate::report::RunReport;
use crate::run::{run_seed, run_seed_traced};
use crate::scenario::ScenarioSpec;
use crate::fingerprint::Fingerprint;
use crate::spot_check::{self, Nondeterminism};
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
    run_all(scenarios, seeds).0
}

/// A sampled seed's first run: scenario index, seed, fingerprint.
type Sampled = (usize, u64, Fingerprint);

/// Runs every seed of every scenario; returns the failures (as [`failures_of`]) and the
/// fingerprints of the spot-check's sample (`spot_check::sample` of `seeds`).
fn run_all(scenarios: &[(ScenarioSpec, Subject)], seeds: &[u64]) -> (Vec<RunReport>, Vec<Sampled>) {
    let work: Mutex<Vec<(usize, u64)>> = Mutex::new((0..scenarios.len()).flat_map(|s| seeds.iter().map(move |&seed| (s, seed))).rev().collect());
    let sample = spot_check::sample(seeds);
    let found: Mutex<Vec<RunReport>> = Mutex::new(Vec::new());
    let sampled: Mutex<Vec<Sampled>> = Mutex::new(Vec::new());
    // `ALARMSIM_FAIL_FAST=1`: stop at the first failure (a mutation run only needs to know
    // whether the suite fails; docs/PERFORMANCE.md).
    let fail_fast = std::env::var_os("ALARMSIM_FAIL_FAST").is_some_and(|v| v == "1");
    std::thread::scope(|scope| {
        for _ in 0..jobs() {
            scope.spawn(|| loop {
                if fail_fast && !found.lock().expect("failures lock").is_empty() {
                    break;
                }
                let Some((s, seed)) = work.lock().expect("work lock").pop() else { break };
                let (spec, subject) = &scenarios[s];
                let mut report = run_seed_traced(spec, subject, seed, false);
                if sample.contains(&seed) {
                    sampled.lock().expect("sample lock").push((s, seed, std::mem::take(&mut report.fingerprint)));
                }
                if !report.passed() {
                    let traced = run_seed(spec, subject, seed);
                    found.lock().expect("failures lock").push(traced);
                }
            });
        }
    });
    let mut found = found.into_inner().expect("failures lock");
    found.sort_by(|a, b| (&a.scenario, a.seed).cmp(&(&b.scenario, b.seed)));
    let mut sampled = sampled.into_inner().expect("sample lock");
    sampled.sort_by_key(|(s, seed, _)| (*s, *seed));
    (found, sampled)
}

fn jobs() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// The determinism spot-check over a finished run: each sampled seed runs again (on a fresh
/// thread, `jobs()` at a time) and must give its first run's fingerprint.
fn spot_check_all(scenarios: &[(ScenarioSpec, Subject)], sampled: &[Sampled]) -> Vec<(String, Nondeterminism)> {
    let work: Mutex<Vec<&Sampled>> = Mutex::new(sampled.iter().rev().collect());
    let found: Mutex<Vec<(String, Nondeterminism)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..jobs() {
            scope.spawn(|| loop {
                let Some((s, seed, first)) = work.lock().expect("work lock").pop() else { break };
                let (spec, subject) = &scenarios[*s];
                if let Some(n) = spot_check::recheck(spec, subject, *seed, None, first) {
                    found.lock().expect("found lock").push((spec.name.to_string(), n));
                }
            });
        }
    });
    let mut found = found.into_inner().expect("found lock");
    found.sort_by(|a, b| (&a.0, a.1.seed).cmp(&(&b.0, b.1.seed)));
    found
}

/// The coverage of each scenario over its seeds (`RunOptions::coverage`), run on all cores,
/// each seed on its own fresh thread; in the order of `work`. A failing seed counts like any
/// other (its probes were reached all the same).
pub fn coverage(work: &[(ScenarioSpec, Subject, Vec<u64>)]) -> Vec<crate::coverage::Coverage> {
    let queue: Mutex<Vec<(usize, u64)>> = Mutex::new(work.iter().enumerate().flat_map(|(i, (_, _, seeds))| seeds.iter().map(move |&s| (i, s))).rev().collect());
    let hits: Mutex<Vec<(usize, u64, alarmsim_scheduler::probe::ProbeHits)>> = Mutex::new(Vec::new());
    let options = crate::run_options::RunOptions { keep_trace: false, coverage: true };
    std::thread::scope(|scope| {
        for _ in 0..jobs() {
            scope.spawn(|| loop {
                let Some((i, seed)) = queue.lock().expect("work lock").pop() else { break };
                let (spec, subject, _) = &work[i];
                let report = run_seed_traced(spec, subject, seed, options);
                hits.lock().expect("hits lock").push((i, seed, report.coverage));
            });
        }
    });
    let mut out: Vec<crate::coverage::Coverage> = work.iter().map(|(_, subject, _)| crate::coverage::Coverage::declaring(&subject.declared_probes())).collect();
    for (i, seed, h) in hits.into_inner().expect("hits lock") {
        out[i].add_run(seed, &h);
    }
    out
}

/// Panics with the full report of the first failure (seed, profile, invariant, events,
/// replay line) and a list of all failing seeds, if any seed of any scenario fails.
/// `test_name` goes into the replay hint: `ALARMSIM_SEED=<seed> cargo test --test <test_name>`.
pub fn assert_catalog_passes(scenarios: &[ScenarioSpec], subject: impl Into<Subject>, seeds: &[u64], test_name: &str) {
    let subject = subject.into();
    assert_all_pass(&scenarios.iter().map(|s| (s.clone(), subject.clone())).collect::<Vec<_>>(), seeds, test_name);
}

/// [`assert_catalog_passes`] for scenarios that each have their own subject. Ends with the
/// determinism spot-check (`spot_check.rs`): one seed in 25 runs again after all the others
/// and must give the same fingerprint.
pub fn assert_all_pass(scenarios: &[(ScenarioSpec, Subject)], seeds: &[u64], test_name: &str) {
    assert!(!scenarios.is_empty() && !seeds.is_empty(), "nothing to run");
    let (failures, sampled) = run_all(scenarios, seeds);
    let Some(first) = failures.first() else {
        let differing = spot_check_all(scenarios, &sampled);
        let list: Vec<String> = differing.iter().map(|(scenario, n)| format!("{scenario}: {n}")).collect();
        assert!(list.is_empty(), "the determinism spot-check failed:\n  {}", list.join("\n  "));
        return;
    };
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
