//! # alarmsim-scenarios
//!
//! The scenario catalog (one file per real case in [`catalog`]) and the registry of
//! systems the simulator can run: for alarms and for the job queue, the reference and the
//! bug library ([`variants`], one file per re-introduced bug).

pub mod catalog;
pub mod defaults;
pub mod library;
pub mod variants;

use alarmsim_scheduler::api::{Reference, SchedulerFactory};
use alarmsim_sim::queue::{QueueFactory, QueueVariant};
use alarmsim_sim::{ScenarioSpec, Subject};
use std::sync::Arc;

/// Every scenario, in catalog order: the alarm scenarios, then the job queue's.
pub fn scenarios() -> Vec<ScenarioSpec> {
    let mut all = alarm_scenarios();
    all.extend(queue_scenarios());
    all
}

/// The job-queue scenarios (seed 004).
pub fn queue_scenarios() -> Vec<ScenarioSpec> {
    vec![
        catalog::queue_standard::spec(),
        catalog::queue_concurrent_claims::spec(),
        catalog::queue_zombies::spec(),
        catalog::queue_poison_restart::spec(),
        catalog::queue_migration_crash::spec(),
        catalog::queue_power_loss::normal(),
        catalog::queue_power_loss::full(),
    ]
}

/// The alarm scenarios.
pub fn alarm_scenarios() -> Vec<ScenarioSpec> {
    vec![
        catalog::standard::spec(),
        catalog::deferred_delete_race::spec(),
        catalog::restart_persistence::spec(),
        catalog::retry_backoff::spec(),
        catalog::cpu_limit_retries::spec(),
        catalog::concurrent_rearm::spec(),
        catalog::move_later_coalescing::spec(),
        catalog::mismatched_fire::spec(),
        catalog::abandon_vs_replacement::spec(),
        catalog::power_loss::normal(),
        catalog::power_loss::full(),
        catalog::everything::spec(),
        catalog::multi_namespace::spec(),
        catalog::edge_values::spec(),
        catalog::unconfirmed_writes::spec(),
        catalog::explicit_transactions::spec(),
        catalog::large_namespace::spec(),
    ]
}

/// Seeds per scenario of the main job, `alarmsim sweep` without `--seeds` (each scenario gets
/// its [`default_seeds`] share of them).
pub const SWEEP_SEEDS: u64 = 100;

/// Seeds a run gives `spec` when it was not told how many: `seeds` (a sweep's 100, the test
/// suite's 500), or a share of them for a scenario whose seeds are far longer than the others'
/// (`large-namespace`: a tenth), so the main job stays short. At least one.
pub fn default_seeds(spec: &ScenarioSpec, seeds: u64) -> u64 {
    let share = if spec.name == catalog::large_namespace::NAME { catalog::large_namespace::SEED_SHARE } else { 1 };
    (seeds / share).max(1)
}

/// Every scheduler variant, the reference first.
pub fn variants() -> Vec<Arc<dyn SchedulerFactory>> {
    use variants::*;
    vec![
        Arc::new(Reference),
        Arc::new(b1_deferred_delete_retry::B1DeferredDeleteRetry),
        Arc::new(b2_stale_move_later::B2StaleMoveLater),
        Arc::new(b4_unbounded_chain::B4UnboundedChain),
        Arc::new(b5_parked_races_earlier::B5ParkedRacesEarlier),
        Arc::new(b7_abandon_unconditional::B7AbandonUnconditional),
        Arc::new(b8_abandon_drops_replacement::B8AbandonDropsReplacement),
        Arc::new(b10_cancel_without_reschedule::B10CancelWithoutReschedule),
        Arc::new(b11_move_later_failure_degrades::B11MoveLaterFailureDegrades),
        Arc::new(b12_deferred_delete_clobbers::B12DeferredDeleteClobbers),
        Arc::new(b13_delete_erases_running::B13DeleteErasesRunning),
        Arc::new(b15_uncounted_cpu_limit::B15UncountedCpuLimit),
        Arc::new(b16_container_spin::B16ContainerSpin),
        Arc::new(in_memory_manager::InMemoryManager),
        Arc::new(no_clock_recheck::NoClockRecheck),
        Arc::new(retry_no_backoff::RetryNoBackoff),
        Arc::new(notify_after_commit::NotifyAfterCommit),
        // Reachable only with the edge-seeking workload (symbolic times, bursts, scripts).
        Arc::new(deferred_delete_by_value::DeferredDeleteByValue),
        Arc::new(success_drops_equal_report::SuccessDropsEqualReport),
        Arc::new(noop_keeps_deferred_delete::NoopKeepsDeferredDelete),
        Arc::new(precommit_skips_acked_value::PrecommitSkipsAckedValue),
        // What only the checkers of issue #17 see (conservation, idle convergence, the user
        // view, the determinism spot-check), and the failure half of R11 it closes.
        Arc::new(abandon_after_three::AbandonAfterThree),
        Arc::new(failed_handler_deletes::FailedHandlerDeletes),
        Arc::new(lazy_move_later::LazyMoveLater),
        Arc::new(get_alarm_shows_running::GetAlarmShowsRunning),
        // The arm decision's two comparisons, written from cargo-mutants survivors.
        Arc::new(premature_fire_runs::PrematureFireRuns),
        Arc::new(due_now_keeps_alarm::DueNowKeepsAlarm),
        Arc::new(mismatch_runs_keeps_alarm::MismatchRunsKeepsAlarm),
        // The gate breaks only for a failure, written from a cargo-mutants survivor.
        Arc::new(reordered_ack_breaks_gate::ReorderedAckBreaksGate),
        // What only unconfirmed writes reach, written from a cargo-mutants survivor.
        Arc::new(report_shows_stored_alarm::ReportShowsStoredAlarm),
        // What only explicit transactions reach (R5's second bullet, R6's output gate).
        Arc::new(txn_commit_unconfirmed::TxnCommitUnconfirmed),
        Arc::new(txn_rollback_keeps_alarm::TxnRollbackKeepsAlarm),
        Arc::new(leaky_static::LeakyStatic),
        // Ports of upstream code, not bugs (docs/FINDINGS.md).
        Arc::new(workerd_head::WORKERD_HEAD),
        Arc::new(workerd_head::WORKERD_HEAD_AWAITING),
        Arc::new(workerd_head::WORKERD_HEAD_FIXED),
        Arc::new(workerd_head::WORKERD_HEAD_FIXED_RPC),
    ]
}

/// Every job-queue variant, the reference first.
pub fn queue_variants() -> Vec<Arc<dyn QueueFactory>> {
    use variants::queue_support::Patched;
    use variants::*;
    vec![
        alarmsim_sim::queue::reference(),
        Arc::new(QueueVariant::<Patched<queue_non_atomic_migration::NonAtomicMigration>>::new(
            "queue-non-atomic-migration",
            "DGW #1108: migrations and their user_version bump run as separate statements, outside a transaction",
        )),
        Arc::new(QueueVariant::<Patched<queue_ack_before_durable::AckBeforeDurable>>::new(
            "queue-ack-before-durable",
            "DGW #1108: enqueue returns Ok from an in-memory channel; the INSERT happens later",
        )),
        Arc::new(QueueVariant::<Patched<queue_requeue_without_count::RequeueWithoutCount>>::new(
            "queue-requeue-without-count",
            "DGW #1108: on start every running job is requeued without counting the attempt",
        )),
        Arc::new(QueueVariant::<Patched<queue_claim_without_transaction::ClaimWithoutTransaction>>::new(
            "queue-claim-without-transaction",
            "fang: the claim is a SELECT then an UPDATE with no transaction around them",
        )),
        // Written from the queue's promises with one mistake each; only the zombie and SQL
        // faults of issue 13 reach them (`sweep --queue-faults off` finds none).
        Arc::new(QueueVariant::<Patched<queue_fence_by_state::FenceByState>>::new(
            "queue-fence-by-state",
            "complete and fail check that the job is running, not that this owner still holds it: a zombie finishes a job taken over",
        )),
        Arc::new(QueueVariant::<Patched<queue_commit_unchecked::CommitUnchecked>>::new(
            "queue-commit-unchecked",
            "the claim ignores a failed COMMIT and hands the rolled-back claim to the worker",
        )),
        Arc::new(QueueVariant::<Patched<queue_enqueue_swallows_errors::EnqueueSwallowsErrors>>::new(
            "queue-enqueue-swallows-errors",
            "a failed INSERT is logged and the enqueue still answers Ok",
        )),
        Arc::new(QueueVariant::<Patched<queue_complete_swallows_errors::CompleteSwallowsErrors>>::new(
            "queue-complete-swallows-errors",
            "complete reports done when its UPDATE failed (only a lost fence is an error)",
        )),
        Arc::new(QueueVariant::<Patched<queue_owner_is_hostname::OwnerIsHostname>>::new(
            "queue-owner-is-hostname",
            "the claim's owner is the worker's name, not a token per claim: two claims of one worker share a fence",
        )),
        Arc::new(QueueVariant::<Patched<queue_lease_is_the_fence::LeaseIsTheFence>>::new(
            "queue-lease-is-the-fence",
            "complete and fail skip the owner check while the worker's own clock says its lease runs",
        )),
        Arc::new(QueueVariant::<Patched<queue_fence_by_owner::FenceByOwner>>::new(
            "queue-fence-by-owner",
            "complete and fail are fenced by the owner string alone: a worker's claims and restarts that share its name pass each other's fence",
        )),
        Arc::new(QueueVariant::<Patched<queue_migration_trusts_peek::MigrationTrustsPeek>>::new(
            "queue-migration-trusts-peek",
            "open reads user_version without a lock and migrates from that version under the lock, without reading it again",
        )),
        Arc::new(QueueVariant::<Patched<queue_claim_trusts_peek::ClaimTrustsPeek>>::new(
            "queue-claim-trusts-peek",
            "the claim looks for a due job without a lock, then takes that job under BEGIN IMMEDIATE without reading it again",
        )),
        Arc::new(QueueVariant::<Patched<queue_claim_newest_first::ClaimNewestFirst>>::new(
            "queue-claim-newest-first",
            "the claim takes the latest due job first (ORDER BY scheduled_for DESC): an old job waits behind every newer one",
        )),
        Arc::new(QueueVariant::<Patched<queue_lease_from_due::LeaseFromDue>>::new(
            "queue-lease-from-due",
            "the lease is counted from the job's due time, not from the claim: a late claim gets a lease that has already run down",
        )),
        Arc::new(QueueVariant::<Patched<queue_steal_past_limit::StealPastLimit>>::new(
            "queue-steal-past-limit",
            "the claim also takes over expired leases and counts the lost attempt, but hands the job out again after its last attempt",
        )),
        Arc::new(QueueVariant::<Patched<queue_fail_without_transaction::FailWithoutTransaction>>::new(
            "queue-fail-without-transaction",
            "fail checks its fence and requeues the job in two statements with no transaction around them",
        )),
        Arc::new(QueueVariant::<Patched<queue_reclaim_without_transaction::ReclaimWithoutTransaction>>::new(
            "queue-reclaim-without-transaction",
            "the reclaim reads the expired leases and requeues each in separate statements with no transaction around them",
        )),
        Arc::new(QueueVariant::<Patched<queue_synchronous_normal::SynchronousNormal>>::new(
            "queue-synchronous-normal",
            "open sets PRAGMA synchronous = NORMAL on the connection the harness made FULL: a power loss takes back acknowledged commits",
        )),
    ]
}

/// Every system under test: the alarm variants, then the queue variants. `reference`
/// appears once for each system.
pub fn subjects() -> Vec<Subject> {
    let alarms = variants().into_iter().map(Subject::Alarms);
    alarms.chain(queue_variants().into_iter().map(Subject::Queue)).collect()
}

/// The variant called `name` that can run `spec` (`reference` fits every scenario).
pub fn subject(name: &str, spec: &ScenarioSpec) -> Option<Subject> {
    subjects().into_iter().find(|s| s.name() == name && s.fits(spec))
}

/// The reference of `spec`'s system.
pub fn reference_for(spec: &ScenarioSpec) -> Subject {
    subject("reference", spec).expect("every system has a reference")
}

/// Looks a job-queue variant up by name.
pub fn queue_variant(name: &str) -> Option<Arc<dyn QueueFactory>> {
    queue_variants().into_iter().find(|v| v.name() == name)
}

/// Looks a scenario up by name.
pub fn scenario(name: &str) -> Option<ScenarioSpec> {
    scenarios().into_iter().find(|s| s.name == name)
}

/// Looks a variant up by name.
pub fn variant(name: &str) -> Option<Arc<dyn SchedulerFactory>> {
    variants().into_iter().find(|v| v.name() == name)
}
