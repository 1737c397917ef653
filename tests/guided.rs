//! `sweep --guided` (`alarmsim_sim::guided`): deterministic for any number of jobs, every run
//! replays from its seed plus its knobs, a guided failure's replay line and plan carry the
//! knobs, and the bad combinations and values are usage errors that say why (exit 2).

use alarmsim_scenarios::{reference_for, scenario, subject};
use alarmsim_sim::guided;
use alarmsim_sim::run::run_seed_with_knobs;
use alarmsim_sim::{run_plan, Plan, RunOptions};
use std::process::{Command, Output};

fn alarmsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_alarmsim")).args(args).env_remove("RUST_LOG").output().expect("run alarmsim")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_guided_search_chooses_the_same_knobs_and_gets_the_same_runs_on_any_number_of_jobs() {
    let spec = scenario("move-later-coalescing").expect("a catalog scenario");
    let subject = reference_for(&spec);
    let seeds: Vec<u64> = (100..164).collect();
    let one = guided::run(&spec, &subject, &seeds, 1, RunOptions::UNTRACED, &|| {});
    let two = guided::run(&spec, &subject, &seeds, 2, RunOptions::UNTRACED, &|| {});
    assert_eq!(one.len(), seeds.len());
    let key = |runs: &[(alarmsim_sim::RunReport, Option<alarmsim_sim::knobs::Knobs>)]| -> Vec<_> {
        runs.iter().map(|(r, k)| (r.seed, *k, r.events, r.fingerprint.hash(), r.coverage.clone())).collect()
    };
    assert_eq!(key(&one), key(&two));
    let steered = one.iter().filter(|(_, k)| k.is_some()).count();
    assert!(steered > 16 && steered < seeds.len(), "the first batch and every other seed run plain ({steered} of {} steered)", seeds.len());
    assert!(one[..guided::BATCH].iter().all(|(_, k)| k.is_none()), "the first batch runs plain");
}

#[test]
fn a_guided_run_replays_from_its_seed_and_knobs_and_from_its_saved_plan() {
    let spec = scenario("standard").expect("a catalog scenario");
    let subject = reference_for(&spec);
    let seeds: Vec<u64> = (0..48).collect();
    let runs = guided::run(&spec, &subject, &seeds, 2, RunOptions::UNTRACED, &|| {});
    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for (report, knobs) in runs.iter().filter(|(_, k)| k.is_some_and(|k| !k.is_as_is())).take(4) {
        let again = run_seed_with_knobs(&spec, &subject, report.seed, *knobs, false);
        assert_eq!(again.fingerprint.hash(), report.fingerprint.hash(), "seed {} with {:?}", report.seed, knobs);
        // The plan records the knobs: saved and loaded, it runs the same world.
        assert_eq!(report.plan.knobs, *knobs);
        let path = dir.path().join(format!("{}.json", report.seed));
        report.plan.save(&path).unwrap();
        let loaded = Plan::load(&path).unwrap();
        assert_eq!(loaded.knobs, *knobs);
        let replayed = run_plan(&spec, &subject, loaded, false);
        assert_eq!(replayed.fingerprint.hash(), report.fingerprint.hash(), "seed {} from its plan", report.seed);
        // Without its knobs the seed is another world.
        let plain = run_seed_with_knobs(&spec, &subject, report.seed, None, false);
        assert_ne!(plain.fingerprint.hash(), report.fingerprint.hash(), "knobs {:?} changed nothing for seed {}", knobs, report.seed);
        checked += 1;
    }
    assert_eq!(checked, 4, "a guided search steers some seeds");
}

#[test]
fn a_guided_failure_names_its_knobs_in_the_replay_line() {
    let spec = scenario("mismatched-fire").expect("a catalog scenario");
    let buggy = subject("b10-cancel-without-reschedule", &spec).expect("a library variant");
    let seeds: Vec<u64> = (0..96).collect();
    let runs = guided::run(&spec, &buggy, &seeds, 2, RunOptions::UNTRACED, &|| {});
    let (report, knobs) = runs.iter().find(|(r, k)| !r.passed() && k.is_some()).expect("a steered seed finds b10 within 96 seeds");
    let line = report.replay_command();
    assert!(line.contains(&format!("--knobs {}", knobs.unwrap())), "{line}");
    let args: Vec<&str> = line.split_whitespace().skip(4).collect(); // after `cargo run --release --`
    let out = alarmsim(&args);
    assert_eq!(out.status.code(), Some(1), "the replay line fails again: {line}\n{}", text(&out.stderr));
}

#[test]
fn guided_with_a_shard_and_bad_knobs_are_usage_errors_that_say_why() {
    let out = alarmsim(&["sweep", "--guided", "--shard", "1/2", "--seeds", "2"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("--guided cannot run as a shard") && err.contains("every seed before it"), "{err}");

    let out = alarmsim(&["replay", "--scenario", "standard", "--seed", "1", "--knobs", "faults=loud"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("faults=loud") && err.contains("as-is, calm, crashes, link, storage, skew"), "{err}");

    // A plan file with a knob that does not exist names the file and the field.
    let dir = tempfile::tempdir().unwrap();
    let spec = scenario("standard").expect("a catalog scenario");
    let mut plan = serde_json::to_value(Plan::generate(&spec, "reference", 3)).unwrap();
    plan["knobs"] = serde_json::json!({ "faults": "loud" });
    let path = dir.path().join("plan.json");
    std::fs::write(&path, serde_json::to_string(&plan).unwrap()).unwrap();
    let out = alarmsim(&["replay", "--plan", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains(path.to_str().unwrap()) && err.contains("knobs.faults"), "{err}");

    // So does one that names a coverage probe nobody declares (`shrink --reach` writes them).
    plan["knobs"] = serde_json::Value::Null;
    plan["reaches"] = serde_json::json!(["actor.arm.run-current", "actor.nope"]);
    std::fs::write(&path, serde_json::to_string(&plan).unwrap()).unwrap();
    let out = alarmsim(&["replay", "--plan", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains(path.to_str().unwrap()) && err.contains("reaches[1] = 'actor.nope'") && err.contains("actor.arm.run-overdue"), "{err}");
    let out = alarmsim(&["shrink", "--scenario", "standard", "--seed", "1", "--reach", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--reach[0] = 'nope'"), "{}", text(&out.stderr));
}
