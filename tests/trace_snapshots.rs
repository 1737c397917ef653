//! One trace snapshot per scenario: seed 1 of every scenario in the catalog, run with the
//! reference scheduler, as compact text (ms-rounded simulated time, deterministic order).
//!
//! Any change to what the world does — a scheduler decision, a fault draw, a message
//! latency, the wording of an event — shows up as a diff of these files. Review it with
//! `cargo insta review` (or accept everything with
//! `INSTA_UPDATE=always cargo test --test trace_snapshots`); see README.md "Snapshots".
//!
//! The test walks `alarmsim_scenarios::scenarios()` itself, so a scenario added to the
//! catalog gets a snapshot without touching this file: until its snapshot is accepted, this
//! test fails (insta never passes on a missing snapshot unless told to write it).

use alarmsim_sim::{run_seed, RunReport};
use std::sync::Mutex;

/// The one seed every scenario is snapshotted at.
const SEED: u64 = 1;
/// A trace longer than this is snapshotted as its first `HEAD_LINES` lines plus a summary.
const MAX_SNAPSHOT_BYTES: usize = 300 * 1024;
const HEAD_LINES: usize = 400;

#[test]
fn every_scenario_trace_matches_its_snapshot() {
    let scenarios = alarmsim_scenarios::scenarios();
    assert!(!scenarios.is_empty(), "the catalog is empty");
    let reports = run_all(&scenarios);

    // Check every snapshot, not only up to the first mismatch, so one run writes every
    // pending `.snap.new` and the failure lists all scenarios whose trace changed.
    let mut changed = Vec::new();
    for report in &reports {
        let text = snapshot_text(report);
        let mut settings = insta::Settings::clone_current();
        settings.set_omit_expression(true);
        settings.set_description(format!(
            "scenario {} / variant {} / seed {}: {} events, {} ms simulated, {}",
            report.scenario,
            report.variant,
            report.seed,
            report.events,
            report.sim_ms,
            outcome(report)
        ));
        let name = report.scenario.clone();
        let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            settings.bind(|| insta::assert_snapshot!(name, text));
        }));
        if checked.is_err() {
            changed.push(report.scenario.clone());
        }
    }
    assert!(
        changed.is_empty(),
        "the trace of seed {SEED} changed (or has no accepted snapshot) for: {}\n\
         review the diffs with `cargo insta review`, or accept them all with \
         `INSTA_UPDATE=always cargo test --test trace_snapshots`",
        changed.join(", ")
    );
}

/// Runs seed `SEED` of every scenario (two at a time; each seed gets its own thread and
/// runtime inside `run_seed`, so the order of runs cannot change a trace).
fn run_all(scenarios: &[alarmsim_sim::ScenarioSpec]) -> Vec<RunReport> {
    let next = Mutex::new(0usize);
    let done = Mutex::new(Vec::new());
    let jobs = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).min(scenarios.len());
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| loop {
                let index = {
                    let mut next = next.lock().unwrap();
                    *next += 1;
                    *next - 1
                };
                let Some(spec) = scenarios.get(index) else { break };
                let report = run_seed(spec, alarmsim_scenarios::reference_for(spec), SEED);
                done.lock().unwrap().push((index, report));
            });
        }
    });
    let mut done = done.into_inner().unwrap();
    done.sort_by_key(|(index, _)| *index);
    done.into_iter().map(|(_, report)| report).collect()
}

fn outcome(report: &RunReport) -> String {
    match &report.violation {
        Some(v) => format!("VIOLATION {v}"),
        None => "no violation".to_string(),
    }
}

/// The whole compact trace, or (past `MAX_SNAPSHOT_BYTES`) its head plus a summary line whose
/// hash covers the whole JSONL trace, so a change anywhere still shows as a diff.
fn snapshot_text(report: &RunReport) -> String {
    let text = report.trace.to_text();
    if text.len() <= MAX_SNAPSHOT_BYTES {
        return text;
    }
    let mut head: String = text.lines().take(HEAD_LINES).flat_map(|l| [l, "\n"]).collect();
    head.push_str(&format!(
        "... {} more events; {} events in all, {}, jsonl fnv1a64={:016x}\n",
        report.trace.len().saturating_sub(HEAD_LINES),
        report.trace.len(),
        outcome(report),
        fnv1a64(report.trace.to_jsonl().as_bytes())
    ));
    head
}

/// FNV-1a, 64 bit: stable across Rust versions and platforms (unlike `DefaultHasher`).
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

#[test]
fn fnv1a64_matches_the_reference_values() {
    assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
    assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
}
