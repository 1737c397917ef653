//! The bug library: every variant is found on the scenario made for it within a fixed seed
//! budget, and the reference passes the same seeds of that scenario.
//!
//! Budgets come from measurement (`alarmsim sweep --variant V --scenario S --start-seed K`
//! for ten start seeds K): each is about eight times the most seeds any start needed, and
//! never above 200. The variant's run stops at its first failing seed; the reference runs
//! the whole budget, so every seed the variant may need is one the reference passes.
//!
//! Replay one case by hand: `alarmsim replay --scenario S --variant V --seed N`.

use alarmsim_scenarios::variants::support::Passthrough;
use alarmsim_scenarios::library::{self, Case, CASES};
use alarmsim_scenarios::{queue_variants, reference_for, scenario, subject, subjects, variants};
use alarmsim_scheduler::api::{Reference, SchedulerFactory};
use alarmsim_sim::{run_seed, run_seed_traced, Invariant, RunReport, Subject};
use alarmsim_sim::scenario::ScenarioSpec;
use std::sync::Arc;

fn case(name: &str) -> &'static Case {
    library::case(name).unwrap_or_else(|| panic!("no bug-library case for {name}"))
}

/// Runs one seed without a trace; a report that needs explaining is replayed with it.
fn run(spec: &alarmsim_sim::ScenarioSpec, subject: &Subject, seed: u64) -> RunReport {
    run_seed_traced(spec, subject, seed, false)
}

/// The variant fails some seed of `0..budget` on its scenario, caught by one of the expected
/// invariants, and the reference passes every seed of the budget.
fn found(name: &str) {
    let case = case(name);
    let spec = scenario(case.scenario).unwrap_or_else(|| panic!("unknown scenario {}", case.scenario));
    let buggy = subject(case.variant, &spec).unwrap_or_else(|| panic!("{} is not registered for scenario {}", case.variant, case.scenario));
    let Some(failure) = (0..case.budget).map(|seed| run(&spec, &buggy, seed)).find(|r| !r.passed()) else {
        panic!(
            "{} was not found by {} within {} seeds: the scenario no longer exposes the bug (`alarmsim sweep --variant {} --scenario {} --seeds 200`)",
            case.variant, case.scenario, case.budget, case.variant, case.scenario
        );
    };
    let violation = failure.violation.as_ref().expect("a failing report has a violation");
    if !case.caught_by.contains(&violation.invariant) {
        let traced = run_seed(&spec, &buggy, failure.seed);
        panic!(
            "{} was caught on {} seed {} by {}, not by one of {:?}: is this its bug?\n{}",
            case.variant,
            case.scenario,
            failure.seed,
            violation.invariant,
            case.caught_by.iter().map(|i| i.name()).collect::<Vec<_>>(),
            traced.failure_text(40).unwrap_or_default()
        );
    }
    let reference = reference_for(&spec);
    for seed in 0..case.budget {
        let report = run(&spec, &reference, seed);
        if !report.passed() {
            let traced = run_seed(&spec, &reference, seed);
            panic!(
                "the reference fails {} seed {}, within the budget of {}: {}",
                case.scenario,
                seed,
                case.variant,
                traced.failure_text(40).unwrap_or_default()
            );
        }
    }
    println!(
        "{} found by {} at seed {} ({}); the reference passes seeds 0..{}",
        case.variant, case.scenario, failure.seed, violation.invariant, case.budget
    );
}

#[test]
fn b1_deferred_delete_retry() {
    found("b1-deferred-delete-retry");
}

#[test]
fn b2_stale_move_later() {
    found("b2-stale-move-later");
}

#[test]
fn b4_unbounded_chain() {
    found("b4-unbounded-chain");
}

#[test]
fn b5_parked_races_earlier() {
    found("b5-parked-races-earlier");
}

#[test]
fn b7_abandon_unconditional() {
    found("b7-abandon-unconditional");
}

#[test]
fn b8_abandon_drops_replacement() {
    found("b8-abandon-drops-replacement");
}

#[test]
fn b10_cancel_without_reschedule() {
    found("b10-cancel-without-reschedule");
}

#[test]
fn b11_move_later_failure_degrades() {
    found("b11-move-later-failure-degrades");
}

#[test]
fn b12_deferred_delete_clobbers() {
    found("b12-deferred-delete-clobbers");
}

#[test]
fn b13_delete_erases_running() {
    found("b13-delete-erases-running");
}

#[test]
fn b15_uncounted_cpu_limit() {
    found("b15-uncounted-cpu-limit");
}

#[test]
fn b16_container_spin() {
    found("b16-container-spin");
}

#[test]
fn in_memory_manager() {
    found("in-memory-manager");
}

#[test]
fn no_clock_recheck() {
    found("no-clock-recheck");
}

#[test]
fn retry_no_backoff() {
    found("retry-no-backoff");
}

#[test]
fn notify_after_commit() {
    found("notify-after-commit");
}

#[test]
fn deferred_delete_by_value() {
    found("deferred-delete-by-value");
}

#[test]
fn noop_keeps_deferred_delete() {
    found("noop-keeps-deferred-delete");
}

#[test]
fn success_drops_equal_report() {
    found("success-drops-equal-report");
}

#[test]
fn precommit_skips_acked_value() {
    found("precommit-skips-acked-value");
}

/// The variants only the edge-seeking workload reaches (symbolic times, bursts, handler
/// scripts) pass their own scenario with it switched off: what finds them is that workload.
/// (docs/PERFORMANCE.md records the full measurement: 1,000 seeds of every alarm scenario with
/// `--edges off` find none of them.)
#[test]
fn edge_variants_need_the_edge_workload() {
    for name in ["deferred-delete-by-value", "noop-keeps-deferred-delete", "success-drops-equal-report", "precommit-skips-acked-value"] {
        let case = case(name);
        let spec = scenario(case.scenario).expect("a catalog scenario").without_edges();
        let buggy = subject(case.variant, &spec).expect("a registered variant");
        if let Some(failure) = (0..100).map(|seed| run(&spec, &buggy, seed)).find(|r| !r.passed()) {
            let traced = run_seed(&spec, &buggy, failure.seed);
            panic!("{name} was found without the edge-seeking workload:\n{}", traced.failure_text(40).unwrap_or_default());
        }
    }
}

#[test]
fn abandon_after_three() {
    found("abandon-after-three");
}

#[test]
fn failed_handler_deletes() {
    found("failed-handler-deletes");
}

#[test]
fn lazy_move_later() {
    found("lazy-move-later");
}

#[test]
fn get_alarm_shows_running() {
    found("get-alarm-shows-running");
}

#[test]
fn premature_fire_runs() {
    found("premature-fire-runs");
}

#[test]
fn due_now_keeps_alarm() {
    found("due-now-keeps-alarm");
}

#[test]
fn mismatch_runs_keeps_alarm() {
    found("mismatch-runs-keeps-alarm");
}

#[test]
fn reordered_ack_breaks_gate() {
    found("reordered-ack-breaks-gate");
}

#[test]
fn report_shows_stored_alarm() {
    found("report-shows-stored-alarm");
}

#[test]
fn txn_commit_unconfirmed() {
    found("txn-commit-unconfirmed");
}

#[test]
fn txn_rollback_keeps_alarm() {
    found("txn-rollback-keeps-alarm");
}

/// The explicit-transaction variants are correct wherever nothing opens a transaction: the
/// same scenario with its transactions off never exposes them, so the workload finds them.
#[test]
fn txn_variants_need_explicit_transactions() {
    for name in ["txn-commit-unconfirmed", "txn-rollback-keeps-alarm"] {
        let case = case(name);
        let spec = ScenarioSpec { explicit_transactions: 0.0, ..scenario(case.scenario).expect("a catalog scenario") };
        let buggy = subject(case.variant, &spec).expect("a registered variant");
        if let Some(failure) = (0..200).map(|seed| run(&spec, &buggy, seed)).find(|r| !r.passed()) {
            let traced = run_seed(&spec, &buggy, failure.seed);
            panic!("{name} was found without explicit transactions:\n{}", traced.failure_text(40).unwrap_or_default());
        }
    }
}

/// `report-shows-stored-alarm` is correct whenever every write is confirmed: the same
/// scenario with its unconfirmed writes off never exposes it, so the workload is what finds it.
#[test]
fn report_shows_stored_alarm_needs_unconfirmed_writes() {
    let case = case("report-shows-stored-alarm");
    let spec = ScenarioSpec { unconfirmed_writes: 0.0, ..scenario(case.scenario).expect("a catalog scenario") };
    let buggy = subject(case.variant, &spec).expect("a registered variant");
    if let Some(failure) = (0..200).map(|seed| run(&spec, &buggy, seed)).find(|r| !r.passed()) {
        let traced = run_seed(&spec, &buggy, failure.seed);
        panic!("report-shows-stored-alarm was found with every write confirmed:\n{}", traced.failure_text(40).unwrap_or_default());
    }
}

/// Each of the issue-17 checkers (and the queue's `claim-order`) has a variant only it catches: with that checker switched
/// off, the variant passes every other checker, over its own scenario and the others it fails
/// most (200 seeds each, the bound), so the checker is what finds it.
#[test]
fn only_its_own_checker_catches() {
    let proofs: [(&str, Invariant, &[&str]); 9] = [
        ("abandon-after-three", Invariant::AlarmConservation, &["retry-backoff", "cpu-limit-retries", "standard"]),
        ("lazy-move-later", Invariant::IdleConvergence, &["standard", "mismatched-fire", "edge-values"]),
        ("get-alarm-shows-running", Invariant::UserView, &["edge-values", "deferred-delete-race", "standard"]),
        // The checks cargo-mutants asked for (the arm decision). `premature-fire-runs` is
        // caught by conservation and by the clean-arm check of user-view, so it proves neither
        // alone; conservation's proof is `abandon-after-three`.
        ("due-now-keeps-alarm", Invariant::UserView, &["standard", "everything", "edge-values"]),
        ("mismatch-runs-keeps-alarm", Invariant::UserView, &["move-later-coalescing", "deferred-delete-race", "mismatched-fire"]),
        // The gate breaks only for a failure (cargo-mutants: `!ok` → `true` for a move-earlier).
        ("reordered-ack-breaks-gate", Invariant::NoDegradedActor, &["standard", "deferred-delete-race", "move-later-coalescing"]),
        // The output gate of a confirmed write (R6), which only explicit transactions reach
        // with this mistake.
        ("txn-commit-unconfirmed", Invariant::UserView, &["explicit-transactions", "standard", "unconfirmed-writes"]),
        // The job queue's order of claims: a queue that takes the newest due job first runs
        // every job in the end, so only `claim-order` sees it.
        ("queue-claim-newest-first", Invariant::ClaimOrder, &["queue-standard", "queue-concurrent-claims", "queue-migration-crash"]),
        // A lease counted from the due time: the fence still works, so only the lease check
        // at the claim (part of `exclusive-claims`) sees it.
        ("queue-lease-from-due", Invariant::ExclusiveClaims, &["queue-standard", "queue-zombies", "queue-power-loss-full"]),
    ];
    for (name, invariant, scenarios) in proofs {
        assert!(case(name).caught_by == [invariant], "{name} is the proof of {invariant} alone");
        for scenario_name in scenarios {
            let mut spec = scenario(scenario_name).expect("a catalog scenario");
            assert!(spec.checks(invariant), "{scenario_name} checks {invariant}");
            let others: Vec<Invariant> = spec.invariants.iter().copied().filter(|i| *i != invariant).collect();
            spec.invariants = Box::leak(others.into_boxed_slice());
            let buggy = subject(name, &spec).expect("a registered variant");
            if let Some(failure) = (0..200).map(|seed| run(&spec, &buggy, seed)).find(|r| !r.passed()) {
                let traced = run_seed(&spec, &buggy, failure.seed);
                panic!("{name} is caught by another checker than {invariant} on {scenario_name}:\n{}", traced.failure_text(40).unwrap_or_default());
            }
        }
    }
}

#[test]
fn queue_non_atomic_migration() {
    found("queue-non-atomic-migration");
}

#[test]
fn queue_migration_trusts_peek() {
    found("queue-migration-trusts-peek");
}

#[test]
fn queue_claim_trusts_peek() {
    found("queue-claim-trusts-peek");
}

#[test]
fn queue_ack_before_durable() {
    found("queue-ack-before-durable");
}

#[test]
fn queue_requeue_without_count() {
    found("queue-requeue-without-count");
}

#[test]
fn queue_claim_without_transaction() {
    found("queue-claim-without-transaction");
}

#[test]
fn queue_fence_by_state() {
    found("queue-fence-by-state");
}

#[test]
fn queue_commit_unchecked() {
    found("queue-commit-unchecked");
}

#[test]
fn queue_enqueue_swallows_errors() {
    found("queue-enqueue-swallows-errors");
}

#[test]
fn queue_complete_swallows_errors() {
    found("queue-complete-swallows-errors");
}

#[test]
fn queue_owner_is_hostname() {
    found("queue-owner-is-hostname");
}

#[test]
fn queue_lease_is_the_fence() {
    found("queue-lease-is-the-fence");
}

#[test]
fn queue_fence_by_owner() {
    found("queue-fence-by-owner");
}

#[test]
fn queue_claim_newest_first() {
    found("queue-claim-newest-first");
}

#[test]
fn queue_lease_from_due() {
    found("queue-lease-from-due");
}

#[test]
fn queue_steal_past_limit() {
    found("queue-steal-past-limit");
}

#[test]
fn queue_fail_without_transaction() {
    found("queue-fail-without-transaction");
}

#[test]
fn queue_reclaim_without_transaction() {
    found("queue-reclaim-without-transaction");
}

#[test]
fn queue_synchronous_normal() {
    found("queue-synchronous-normal");
}

/// The queue variants written from the queue's promises (issue 13) pass their own scenario
/// for 200 seeds with the zombie pauses, SQL faults, concurrent claims, skewed clocks and per-name owners switched off: what
/// finds them is those faults. (docs/PERFORMANCE.md, issue 13's table, records the seeds each needed with them on.)
#[test]
fn zombie_and_sql_fault_variants_need_those_faults() {
    for name in ["queue-fence-by-state", "queue-commit-unchecked", "queue-enqueue-swallows-errors", "queue-complete-swallows-errors", "queue-owner-is-hostname", "queue-lease-is-the-fence", "queue-fence-by-owner"] {
        let case = case(name);
        let spec = scenario(case.scenario).expect("a catalog scenario").without_queue_faults();
        let buggy = subject(case.variant, &spec).expect("a registered variant");
        if let Some(failure) = (0..200).map(|seed| run(&spec, &buggy, seed)).find(|r| !r.passed()) {
            let traced = run_seed(&spec, &buggy, failure.seed);
            panic!("{name} was found without the zombie and SQL faults:\n{}", traced.failure_text(40).unwrap_or_default());
        }
    }
}

/// Every registered variant has a case (and every case a registered variant, with a budget
/// the issue allows); the reference comes first.
#[test]
fn every_variant_has_a_case() {
    assert_eq!(variants().first().map(|v| v.name().to_string()).as_deref(), Some("reference"), "the alarm reference must come first");
    assert_eq!(queue_variants().first().map(|v| v.name().to_string()).as_deref(), Some("reference"), "the queue reference must come first");
    let registered: Vec<String> = subjects().iter().map(|v| v.name().to_string()).filter(|n| n != "reference").collect();
    for name in registered.iter().filter(|n| !library::DETERMINISM_VARIANTS.contains(&n.as_str()) && !library::PORTS.contains(&n.as_str())) {
        let case = case(name);
        assert!(case.budget > 0 && case.budget <= 200, "{name}: a budget must be 1..=200 seeds");
        assert!(scenario(case.scenario).is_some(), "{name}: unknown scenario {}", case.scenario);
    }
    for case in CASES {
        assert!(registered.iter().any(|n| n == case.variant), "{} has a case but is not registered", case.variant);
    }
    let mut names = registered.clone();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), registered.len(), "variant names must be unique");
    for v in subjects() {
        assert!(!v.description().is_empty() && !v.description().contains('\n'), "{}: the description must be one line", v.name());
    }
    for case in CASES {
        let spec = scenario(case.scenario).expect("checked above");
        assert!(subject(case.variant, &spec).is_some(), "{} cannot run its scenario {}", case.variant, case.scenario);
    }
}

/// A scheduler that leaves the command on the wire out of `commands_outstanding()` (it counts
/// only the parked one) is reported: the idle and quiescence tests trust that count, so it can
/// never be below what the world sees in flight (I3). Not a library variant: the count is the
/// scheduler's report of itself, and this is the check of that report (a cargo-mutants
/// survivor, `commands_outstanding` → `0`, before it existed).
#[test]
fn an_under_counted_command_is_reported() {
    use alarmsim_scenarios::variants::support::{ActorHooks, Parts, Wrapped};

    #[derive(Debug, Default)]
    struct ParkedOnly;
    impl ActorHooks for ParkedOnly {
        fn commands_outstanding(&self, x: &Parts) -> usize {
            x.inner.commands_outstanding().saturating_sub(1)
        }
    }
    alarmsim_scenarios::variant_factory! {
        CountsParkedOnly,
        name: "counts-parked-only",
        description: "commands_outstanding() leaves out the command in flight",
        actor: |inner| Wrapped::new(inner, ParkedOnly),
        manager: |inner| inner,
    }
    let spec = scenario("standard").expect("a catalog scenario");
    let buggy: Arc<dyn SchedulerFactory> = Arc::new(CountsParkedOnly);
    let report = run_seed(&spec, buggy, 0);
    let violation = report.violation.expect("the under-count is caught on the first seed");
    assert_eq!(violation.invariant, Invariant::BoundedCommands, "{}", violation.message);
    assert!(violation.message.contains("commands_outstanding() says 0 but 1"), "{}", violation.message);
}

/// The wrappers the variants are built on change nothing by themselves: the reference behind
/// pass-through hooks produces the reference's trace, event for event.
#[test]
fn passthrough_wrappers_are_the_reference() {
    let wrapped: Arc<dyn SchedulerFactory> = Arc::new(Passthrough);
    let reference: Arc<dyn SchedulerFactory> = Arc::new(Reference);
    for name in ["deferred-delete-race", "abandon-vs-replacement", "everything"] {
        let spec = scenario(name).expect("a catalog scenario");
        for seed in 0..2 {
            let a = run_seed(&spec, reference.clone(), seed);
            let b = run_seed(&spec, wrapped.clone(), seed);
            assert!(a.passed() && b.passed(), "{name} seed {seed}: reference {:?}, pass-through {:?}", a.violation, b.violation);
            let (a, b) = (a.trace.to_text(), b.trace.to_text());
            let a = a.replace("variant reference", "variant ?");
            let b = b.replace("variant passthrough", "variant ?");
            if a != b {
                let at = a.lines().zip(b.lines()).position(|(x, y)| x != y).unwrap_or(0);
                panic!(
                    "{name} seed {seed}: the pass-through trace departs from the reference at event {at}:\n  reference:    {}\n  pass-through: {}",
                    a.lines().nth(at).unwrap_or(""),
                    b.lines().nth(at).unwrap_or("")
                );
            }
        }
    }
}
