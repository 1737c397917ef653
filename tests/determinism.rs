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
            // The spot-check's fingerprint is the same traced or not, one stamp per event of
            // the text form (so its index names a line of the trace).
            assert_eq!(traced.fingerprint, untraced.fingerprint, "{} seed {seed}: fingerprints", spec.name);
            let shown = traced.trace.events.iter().filter(|e| e.kind != alarmsim_sim::trace::EventKind::Gauge).count();
            assert_eq!(untraced.fingerprint.len(), shown, "{} seed {seed}: a stamp per traced event", spec.name);
        }
    }
}

/// A sweep ends with the determinism spot-check: a leaked static (madsim #174) is reported
/// with its seed and the first differing event, exit 1; the reference's sample matches, and
/// the sample is printed either way.
#[test]
fn a_sweep_spot_checks_determinism_and_reports_a_leaked_static() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let sweep = |variant: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_alarmsim"))
            .args(["sweep", "--scenario", "retry-backoff", "--seeds", "50", "--variant", variant, "--no-shrink", "--quiet"])
            .arg("--failures-dir")
            .arg(dir.path())
            .output()
            .expect("alarmsim runs")
    };
    let leaky = sweep("leaky-static");
    let (stdout, stderr) = (String::from_utf8_lossy(&leaky.stdout), String::from_utf8_lossy(&leaky.stderr));
    assert_eq!(leaky.status.code(), Some(1), "a nondeterministic scheduler is a violation\n{stdout}{stderr}");
    assert!(stderr.contains("NONDETERMINISM scenario=retry-backoff variant=leaky-static: seed 0 ran differently"), "{stderr}");
    assert!(stderr.contains("the first difference is event") && stderr.contains("madsim #174"), "{stderr}");
    assert!(stdout.contains("determinism spot-check: re-ran 2 seeds after the sweep, each on a fresh thread (seeds 0, 25)"), "{stdout}");

    let reference = sweep("reference");
    let stdout = String::from_utf8_lossy(&reference.stdout);
    assert_eq!(reference.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("(seeds 0, 25): every fingerprint matched"), "{stdout}");
}

/// The same check runs at the end of every `assert_all_pass` suite (`cargo test`).
#[test]
fn catalog_assertions_spot_check_determinism_too() {
    let spec = alarmsim_scenarios::scenario("retry-backoff").expect("a catalog scenario");
    let leaky = alarmsim_scenarios::variant("leaky-static").expect("a registered variant");
    let seeds: Vec<u64> = (0..25).collect();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| alarmsim_sim::sweep::assert_catalog_passes(std::slice::from_ref(&spec), leaky, &seeds, "determinism")));
    let message = outcome.expect_err("the leak is reported").downcast::<String>().map(|s| *s).unwrap_or_default();
    assert!(message.contains("the determinism spot-check failed") && message.contains("seed 0 ran differently"), "{message}");
}
