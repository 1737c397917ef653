//! Coverage probes (`alarmsim_scheduler::probe`, `alarmsim_sim::probes`): the default sweep
//! (`cargo run --release -- sweep`: every scenario, `SWEEP_SEEDS` seeds each, a share for
//! large-namespace) must keep reaching every probe of the reference alarm scheduler, the
//! reference queue and both worlds. A probe it stops reaching is a branch the main job no
//! longer tests: answer why in the probe's doc (and the workload, or the world) rather than
//! deleting it. And counting probes must change nothing a run does.

use alarmsim_scenarios::{default_seeds, reference_for, scenarios, SWEEP_SEEDS};
use alarmsim_sim::coverage::Coverage;
use alarmsim_sim::{run_seed_traced, RunOptions};
use std::collections::BTreeSet;

#[test]
fn the_default_sweep_reaches_every_reference_probe() {
    let work: Vec<_> = scenarios().into_iter().map(|spec| {
        let seeds = (0..default_seeds(&spec, SWEEP_SEEDS)).collect();
        let subject = reference_for(&spec);
        (spec, subject, seeds)
    }).collect();
    let coverage = alarmsim_sim::sweep::coverage(&work);
    let mut all = Coverage::default();
    for c in &coverage {
        all.merge(c);
    }
    // Every probe the references and worlds declare is in the set the sweep looked for.
    let declared: BTreeSet<&str> = alarmsim_scheduler::probe::reference()
        .into_iter()
        .chain(alarmsim_sim::probes::alarms::ALL.iter().copied())
        .chain(alarmsim_sim::probes::queue::ALL.iter().copied())
        .map(|p| p.name)
        .collect();
    assert_eq!(all.declared.iter().map(String::as_str).collect::<BTreeSet<_>>(), declared, "the references declare every probe they report");
    let unreached = all.unreached();
    assert!(
        unreached.is_empty(),
        "the default sweep ({} seeds) no longer reaches {} probe(s): {}\nsee `cargo run --release -- sweep --coverage`; a probe that cannot be reached is a design question for its doc",
        all.seeds,
        unreached.len(),
        unreached.join(", ")
    );
    let undeclared: Vec<&String> = all.reached.keys().filter(|n| !all.declared.contains(*n)).collect();
    assert!(undeclared.is_empty(), "reached but not declared: {undeclared:?}");
}

/// The same seed with coverage on and off: the same events, verdict and fingerprint (a probe
/// only counts; it draws nothing and decides nothing).
#[test]
fn counting_probes_changes_nothing_the_run_does() {
    for spec in scenarios().into_iter().filter(|s| s.actors() <= 64) {
        let subject = reference_for(&spec);
        for seed in 0..3 {
            let plain = run_seed_traced(&spec, &subject, seed, RunOptions { keep_trace: true, coverage: false });
            let counted = run_seed_traced(&spec, &subject, seed, RunOptions { keep_trace: true, coverage: true });
            assert!(plain.coverage.is_empty(), "{} seed {seed}: coverage off counts nothing", spec.name);
            assert!(!counted.coverage.is_empty(), "{} seed {seed}: coverage on counts", spec.name);
            assert_eq!(plain.trace.to_jsonl(), counted.trace.to_jsonl(), "{} seed {seed}: the trace changed with coverage on", spec.name);
            assert_eq!(plain.fingerprint, counted.fingerprint, "{} seed {seed}", spec.name);
        }
    }
}

/// `shrink --reach`: a seed that reaches a rare condition shrinks to the few steps that make
/// it, and the saved plan records the probe and still reaches it.
#[test]
fn a_rare_condition_shrinks_to_a_plan_that_still_reaches_it() {
    let spec = alarmsim_scenarios::scenario("edge-values").expect("a catalog scenario");
    let subject = reference_for(&spec);
    let probe = "actor.set.same-value-in-handler";
    let plan = alarmsim_sim::Plan::generate(&spec, "reference", 2);
    let original = plan.steps.len();
    let shrunk = alarmsim_sim::shrink::shrink_to_reach(&spec, &subject, plan, probe, Default::default()).expect("seed 2 reaches it");
    assert!(shrunk.plan.steps.len() <= 3 && shrunk.plan.steps.len() < original, "{} of {original} steps:\n{}", shrunk.plan.steps.len(), shrunk.plan.numbered());
    assert_eq!(shrunk.plan.reaches, [probe]);
    let again = alarmsim_sim::run_plan(&spec, &subject, shrunk.plan.clone(), RunOptions { keep_trace: false, coverage: true });
    assert!(again.coverage.count(probe) > 0, "the minimal plan reaches {probe} again");
    assert!(alarmsim_sim::shrink::shrink_to_reach(&spec, &subject, alarmsim_sim::Plan::generate(&spec, "reference", 0), probe, Default::default()).is_none(), "seed 0 never reaches it");
}

/// `sweep --coverage --json --shard i/n` then `merge`: the shards' coverage adds up to the
/// unsharded sweep's, probe by probe.
#[test]
fn sharded_coverage_merges_to_the_whole() {
    let bin = env!("CARGO_BIN_EXE_alarmsim");
    let dir = tempfile::tempdir().unwrap();
    let sweep = |extra: &[&str]| {
        let mut args = vec!["sweep", "--scenario", "retry-backoff", "--seeds", "30", "--coverage", "--json", "--quiet", "--no-shrink"];
        args.extend_from_slice(extra);
        let out = std::process::Command::new(bin).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let whole = sweep(&[]);
    let mut files = Vec::new();
    for shard in ["1/3", "2/3", "3/3"] {
        let path = dir.path().join(format!("shard-{}.json", &shard[..1]));
        std::fs::write(&path, serde_json::to_string(&sweep(&["--shard", shard])).unwrap()).unwrap();
        files.push(path);
    }
    let mut args = vec!["merge".to_string(), "--json".to_string()];
    args.extend(files.iter().map(|p| p.display().to_string()));
    let out = std::process::Command::new(bin).args(&args).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let merged: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let coverage = |v: &serde_json::Value| v["scenarios"][0]["coverage"].clone();
    assert_eq!(coverage(&merged)["seeds"], 30);
    assert_eq!(coverage(&merged)["reached"], coverage(&whole)["reached"], "every probe's hits, seeds and first seed add up");
    assert_eq!(merged["probes"], whole["probes"], "the probes' docs travel with the summary");
}
