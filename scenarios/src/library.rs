//! The bug library: each historical bug variant, the scenario built to expose it, the
//! invariants that may catch it there, and the seed budget within which it must be found
//! (tests, the `bench --bugs` benchmark and the shrink test all read this table).
//!
//! Budgets come from measurement (`alarmsim sweep --variant V --scenario S --start-seed K`
//! for ten start seeds K): about eight times the most seeds any start needed, never above 200.

use alarmsim_sim::Invariant;

/// One entry of the library: the variant, its target scenario, the invariants that may
/// catch it there, and its seed budget.
pub struct Case {
    pub variant: &'static str,
    pub scenario: &'static str,
    pub caught_by: &'static [Invariant],
    pub budget: u64,
}

pub const CASES: &[Case] = &[
    Case { variant: "b1-deferred-delete-retry", scenario: "deferred-delete-race", caught_by: &[Invariant::NeverLate, Invariant::BoundedCommands], budget: 40 },
    Case { variant: "b2-stale-move-later", scenario: "deferred-delete-race", caught_by: &[Invariant::NeverLate], budget: 20 },
    Case { variant: "b4-unbounded-chain", scenario: "move-later-coalescing", caught_by: &[Invariant::BoundedCommands], budget: 10 },
    Case { variant: "b5-parked-races-earlier", scenario: "move-later-coalescing", caught_by: &[Invariant::BoundedCommands, Invariant::NeverLate], budget: 10 },
    Case { variant: "b7-abandon-unconditional", scenario: "abandon-vs-replacement", caught_by: &[Invariant::NeverLate, Invariant::NoLostAlarm], budget: 25 },
    Case { variant: "b8-abandon-drops-replacement", scenario: "abandon-vs-replacement", caught_by: &[Invariant::NeverLate], budget: 100 },
    Case { variant: "b10-cancel-without-reschedule", scenario: "mismatched-fire", caught_by: &[Invariant::NeverLate, Invariant::NoLostAlarm], budget: 30 },
    Case { variant: "b11-move-later-failure-degrades", scenario: "mismatched-fire", caught_by: &[Invariant::NoDegradedActor], budget: 16 },
    Case { variant: "b12-deferred-delete-clobbers", scenario: "deferred-delete-race", caught_by: &[Invariant::NoLostAlarm, Invariant::AlarmConservation], budget: 10 },
    Case { variant: "b13-delete-erases-running", scenario: "deferred-delete-race", caught_by: &[Invariant::NeverLate, Invariant::NoLostAlarm], budget: 40 },
    Case { variant: "b15-uncounted-cpu-limit", scenario: "cpu-limit-retries", caught_by: &[Invariant::RetrySchedule], budget: 10 },
    Case { variant: "b16-container-spin", scenario: "concurrent-rearm", caught_by: &[Invariant::NoSpin], budget: 10 },
    Case { variant: "in-memory-manager", scenario: "restart-persistence", caught_by: &[Invariant::NeverLate, Invariant::NoLostAlarm], budget: 20 },
    Case { variant: "no-clock-recheck", scenario: "mismatched-fire", caught_by: &[Invariant::NeverEarly, Invariant::RetrySchedule], budget: 10 },
    Case { variant: "retry-no-backoff", scenario: "retry-backoff", caught_by: &[Invariant::RetrySchedule], budget: 10 },
    Case { variant: "notify-after-commit", scenario: "move-later-coalescing", caught_by: &[Invariant::NeverLate], budget: 10 },
    // Reachable only with the edge-seeking workload (`sweep --edges off` finds none of them in
    // 1,000 seeds of any alarm scenario; docs/PERFORMANCE.md).
    Case { variant: "deferred-delete-by-value", scenario: "edge-values", caught_by: &[Invariant::NoLostAlarm], budget: 200 },
    Case { variant: "noop-keeps-deferred-delete", scenario: "edge-values", caught_by: &[Invariant::NoLostAlarm], budget: 200 },
    Case { variant: "success-drops-equal-report", scenario: "edge-values", caught_by: &[Invariant::NeverLate, Invariant::NoLostAlarm], budget: 184 },
    Case { variant: "precommit-skips-acked-value", scenario: "move-later-coalescing", caught_by: &[Invariant::NeverLate, Invariant::NoLostAlarm], budget: 120 },
    // What only the checkers of issue #17 see: each passes every other checker
    // (`only_its_own_checker_catches` in scenarios/tests/bug_library.rs).
    Case { variant: "abandon-after-three", scenario: "retry-backoff", caught_by: &[Invariant::AlarmConservation], budget: 10 },
    Case { variant: "failed-handler-deletes", scenario: "retry-backoff", caught_by: &[Invariant::AlarmConservation, Invariant::UserView], budget: 10 },
    Case { variant: "lazy-move-later", scenario: "standard", caught_by: &[Invariant::IdleConvergence], budget: 10 },
    Case { variant: "get-alarm-shows-running", scenario: "edge-values", caught_by: &[Invariant::UserView], budget: 10 },
    // The arm decision, from cargo-mutants survivors (docs/PERFORMANCE.md): a run before the
    // alarm is due delivers nothing, and a clean alarm runs only its own fire (or an overdue
    // one); a matching fire arms the deferred delete.
    Case { variant: "premature-fire-runs", scenario: "move-later-coalescing", caught_by: &[Invariant::UserView, Invariant::AlarmConservation], budget: 10 },
    Case { variant: "due-now-keeps-alarm", scenario: "standard", caught_by: &[Invariant::UserView], budget: 10 },
    Case { variant: "mismatch-runs-keeps-alarm", scenario: "move-later-coalescing", caught_by: &[Invariant::UserView], budget: 10 },
    Case { variant: "reordered-ack-breaks-gate", scenario: "standard", caught_by: &[Invariant::NoDegradedActor], budget: 10 },
    Case { variant: "report-shows-stored-alarm", scenario: "unconfirmed-writes", caught_by: &[Invariant::NeverLate], budget: 10 },
    // What only explicit transactions reach (R5's second bullet; R6's output gate).
    Case { variant: "txn-commit-unconfirmed", scenario: "explicit-transactions", caught_by: &[Invariant::UserView], budget: 10 },
    Case { variant: "txn-rollback-keeps-alarm", scenario: "explicit-transactions", caught_by: &[Invariant::UserView, Invariant::AlarmConservation, Invariant::NoLostAlarm], budget: 10 },
    // The job queue (seed 004).
    Case { variant: "queue-non-atomic-migration", scenario: "queue-migration-crash", caught_by: &[Invariant::MigrationSafe], budget: 10 },
    // The mistakes the reference's lock-free looks invite (issue 13, fourth session): what
    // the look saw (the version, the due job) is not read again under the lock. No fault
    // needed: every seed starts its processes at once on a database that needs migrating,
    // and idle slots race for each due job.
    Case { variant: "queue-migration-trusts-peek", scenario: "queue-migration-crash", caught_by: &[Invariant::MigrationSafe], budget: 10 },
    Case { variant: "queue-claim-trusts-peek", scenario: "queue-concurrent-claims", caught_by: &[Invariant::ExclusiveClaims, Invariant::ExactlyOneTerminal], budget: 10 },
    Case { variant: "queue-ack-before-durable", scenario: "queue-power-loss-full", caught_by: &[Invariant::Durability], budget: 10 },
    Case {
        variant: "queue-requeue-without-count",
        scenario: "queue-poison-restart",
        caught_by: &[Invariant::RetryCounts, Invariant::ExclusiveClaims, Invariant::JobLiveness],
        budget: 10,
    },
    Case {
        variant: "queue-claim-without-transaction",
        scenario: "queue-concurrent-claims",
        caught_by: &[Invariant::ExclusiveClaims, Invariant::ExactlyOneTerminal],
        budget: 10,
    },
    // Written from the queue's promises with one mistake each: reachable only with the zombie
    // pauses and SQL faults (`sweep --queue-faults off` finds none of them in 200 seeds).
    Case { variant: "queue-fence-by-state", scenario: "queue-zombies", caught_by: &[Invariant::ExclusiveClaims], budget: 100 },
    Case { variant: "queue-commit-unchecked", scenario: "queue-standard", caught_by: &[Invariant::RetryCounts, Invariant::ExclusiveClaims], budget: 75 },
    Case { variant: "queue-enqueue-swallows-errors", scenario: "queue-standard", caught_by: &[Invariant::Durability], budget: 25 },
    Case { variant: "queue-complete-swallows-errors", scenario: "queue-standard", caught_by: &[Invariant::ExactlyOneTerminal, Invariant::ExclusiveClaims], budget: 50 },
    Case { variant: "queue-owner-is-hostname", scenario: "queue-zombies", caught_by: &[Invariant::ExclusiveClaims], budget: 200 },
    // Reachable only with skewed process clocks (issue 13 item 3): the reclaimer's clock runs
    // ahead of a holder that finishes in its lease's last moments. At most 120 seeds needed
    // over ten start seeds (docs/PERFORMANCE.md); the cap of 200 is the budget.
    Case { variant: "queue-lease-is-the-fence", scenario: "queue-standard", caught_by: &[Invariant::ExclusiveClaims], budget: 200 },
    // Reachable only with owners per worker name (issue 13 item 2): this was the reference's
    // own fence until they existed. At most 49 seeds needed over ten start seeds.
    Case { variant: "queue-fence-by-owner", scenario: "queue-zombies", caught_by: &[Invariant::ExclusiveClaims], budget: 200 },
    // Written from the promises as a user would (fifth session of 2026-12-07); no checker
    // owned the rule each breaks until then: the order of claims (`claim-order`), the
    // lease's length at the claim and the attempt limit at the claim. No fault needed. Over
    // ten start seeds: 1, 1 and at most 6 seeds needed.
    Case { variant: "queue-claim-newest-first", scenario: "queue-standard", caught_by: &[Invariant::ClaimOrder], budget: 10 },
    Case { variant: "queue-lease-from-due", scenario: "queue-standard", caught_by: &[Invariant::ExclusiveClaims], budget: 10 },
    Case { variant: "queue-steal-past-limit", scenario: "queue-poison-restart", caught_by: &[Invariant::RetrySchedule], budget: 50 },
    // The same session: fang's mistake (`queue-claim-without-transaction`) in the other two
    // operations that read then write. Caught before as now; at most 10 and 1 seeds needed.
    Case { variant: "queue-fail-without-transaction", scenario: "queue-concurrent-claims", caught_by: &[Invariant::ExclusiveClaims], budget: 80 },
    Case { variant: "queue-reclaim-without-transaction", scenario: "queue-concurrent-claims", caught_by: &[Invariant::RetryCounts, Invariant::ExclusiveClaims], budget: 10 },
    // The queue sets `PRAGMA synchronous = NORMAL` itself: uncatchable until the disk saw a
    // queue's own pragmas (0 of 200 before; at most 3 seeds needed over ten starts now).
    Case { variant: "queue-synchronous-normal", scenario: "queue-power-loss-full", caught_by: &[Invariant::Durability], budget: 25 },
];


/// Ports of upstream code, not re-introduced bugs: the catalog judges them, and every
/// violation is a finding to classify (docs/FINDINGS.md), not a budget to meet.
pub const PORTS: &[&str] = &["workerd-head", "workerd-head-awaiting", "workerd-head-fixed", "workerd-head-fixed-rpc"];

/// Variants no invariant of a run can catch, because each of their runs is correct on its
/// own: what they break is determinism, and the sweep's spot-check finds them
/// (`sim/src/spot_check.rs`; `tests/determinism.rs`).
pub const DETERMINISM_VARIANTS: &[&str] = &["leaky-static"];

/// The case of a variant, by name.
pub fn case(variant: &str) -> Option<&'static Case> {
    CASES.iter().find(|c| c.variant == variant)
}
