//! The bug library: scheduler variants that each re-introduce one historical bug (or one
//! deliberate mistake), one file each. The simulator must find every one of them while the
//! reference passes the same seeds (`scenarios/tests/bug_library.rs`).
//!
//! Variants never touch the reference code path: each wraps the reference cores through the
//! hooks in [`support`] (or only overrides a factory default) and changes exactly what its
//! bug got wrong.

pub mod support;

pub mod abandon_after_three;
pub mod b10_cancel_without_reschedule;
pub mod b11_move_later_failure_degrades;
pub mod b12_deferred_delete_clobbers;
pub mod b13_delete_erases_running;
pub mod b15_uncounted_cpu_limit;
pub mod b16_container_spin;
pub mod b1_deferred_delete_retry;
pub mod b2_stale_move_later;
pub mod b4_unbounded_chain;
pub mod b5_parked_races_earlier;
pub mod b7_abandon_unconditional;
pub mod b8_abandon_drops_replacement;
pub mod deferred_delete_by_value;
pub mod due_now_keeps_alarm;
pub mod failed_handler_deletes;
pub mod get_alarm_shows_running;
pub mod in_memory_manager;
pub mod lazy_move_later;
pub mod leaky_static;
pub mod mismatch_runs_keeps_alarm;
pub mod no_clock_recheck;
pub mod noop_keeps_deferred_delete;
pub mod notify_after_commit;
pub mod precommit_skips_acked_value;
pub mod premature_fire_runs;
pub mod reordered_ack_breaks_gate;
pub mod report_shows_stored_alarm;
pub mod retry_no_backoff;
pub mod success_drops_equal_report;
pub mod txn_commit_unconfirmed;
pub mod txn_rollback_keeps_alarm;

// Ports of upstream code (not re-introduced bugs): judged by the catalog, findings in
// docs/FINDINGS.md.
pub mod workerd_head;

// Job-queue variants (seed 004).
pub mod queue_ack_before_durable;
pub mod queue_claim_without_transaction;
pub mod queue_commit_unchecked;
pub mod queue_complete_swallows_errors;
pub mod queue_enqueue_swallows_errors;
pub mod queue_fence_by_state;
pub mod queue_owner_is_hostname;
pub mod queue_lease_is_the_fence;
pub mod queue_fence_by_owner;
pub mod queue_non_atomic_migration;
pub mod queue_migration_trusts_peek;
pub mod queue_claim_trusts_peek;
pub mod queue_claim_newest_first;
pub mod queue_lease_from_due;
pub mod queue_steal_past_limit;
pub mod queue_fail_without_transaction;
pub mod queue_reclaim_without_transaction;
pub mod queue_synchronous_normal;
pub mod queue_requeue_without_count;
pub mod queue_support;
