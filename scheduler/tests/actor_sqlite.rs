//! workerd's `src/workerd/io/actor-sqlite-test.c++` (alarm-semantics.md §4), one test per
//! case, plus its removed historical regressions and the ActorCache `abandonAlarm` cases,
//! run against [`ActorAlarms`](alarmsim_scheduler::ActorAlarms) through the hand-driven
//! [`Harness`]. "C" is a commit, "sR(t)" a schedule command; `base(t)` is `set(t)` with
//! every call completed.
//!
//! `h.expect_calls` asserts the exact calls issued since the previous step and checks I1
//! (the manager never fires later than durable storage); the harness itself asserts that
//! at most one sR is ever pending (I3). Where our model deliberately differs from workerd,
//! a one-line `Adaptation` comment says how.

use alarmsim_scheduler::testkit::{Harness, Pending};
use alarmsim_scheduler::{AlarmError, ArmDecision, ArmId, CommitBatch, CommitId, Gate, Millis, WriteOptions};

const RUN: ArmDecision = ArmDecision::Run { deferred_delete: true };
const RUN_WITHOUT_DELETE: ArmDecision = ArmDecision::Run { deferred_delete: false };
const CONFIRMED: WriteOptions = WriteOptions { allow_unconfirmed: false };
const UNCONFIRMED: WriteOptions = WriteOptions { allow_unconfirmed: true };

fn blocked(commit: u64) -> Gate {
    Gate::Blocked { until: CommitId(commit) }
}

#[track_caller]
fn expect_cancel(decision: ArmDecision) -> ArmId {
    match decision {
        ArmDecision::Cancel { arm } => arm,
        other => panic!("expected Cancel, got {other:?}"),
    }
}

/// The batch of the only pending commit.
#[track_caller]
fn pending_batch(h: &Harness) -> CommitBatch {
    let batches: Vec<&CommitBatch> = h
        .pending_calls()
        .iter()
        .filter_map(|p| match p {
            Pending::Commit { batch, .. } => Some(batch),
            Pending::Schedule { .. } => None,
        })
        .collect();
    assert_eq!(batches.len(), 1, "expected one pending commit; pending: {:?}", h.pending());
    batches[0].clone()
}

// ----- setting and getting -----------------------------------------------------------------

#[test]
fn initial_alarm_value_is_unset() {
    let mut h = Harness::new();
    assert_eq!(h.get(), None);
    h.expect_calls(&[]);
    assert_eq!(h.gate(), Gate::Open);
    h.assert_converged();
}

#[test]
fn can_set_and_get_alarm() {
    let mut h = Harness::new();
    h.set(1);
    h.expect_calls(&["sR(1)"]);
    assert_eq!(h.gate(), blocked(1));
    h.complete("sR(1)");
    h.expect_calls(&["C"]);
    h.complete("C");
    h.expect_calls(&[]);
    assert_eq!(h.get(), Some(1));
    assert_eq!(h.gate(), Gate::Open);
    h.assert_converged();
}

#[test]
fn alarm_write_happens_transactionally_with_storage_ops() {
    let mut h = Harness::new();
    h.set_in_turn(1);
    h.put_in_turn("foo", "bar");
    h.end_turn();
    h.expect_calls(&["sR(1)"]);
    h.complete("sR(1)");
    h.expect_calls(&["C"]);
    // R6: one commit carries both writes.
    let batch = pending_batch(&h);
    assert_eq!(batch.alarm, Some(Millis(1)));
    assert_eq!(batch.kv.get("foo"), Some(&Some(b"bar".to_vec())));
    h.complete("C");
    h.expect_calls(&[]);
    assert_eq!(h.get(), Some(1));
    assert_eq!(h.get_key("foo").as_deref(), Some("bar"));
    h.assert_converged();
}

#[test]
fn storage_op_without_alarm_change_does_not_wait_on_scheduler() {
    let mut h = Harness::new();
    h.put("foo", "bar");
    h.expect_calls(&["C"]);
    assert_eq!(h.gate(), blocked(1));
    h.complete("C");
    h.expect_calls(&[]);
    assert_eq!(h.gate(), Gate::Open);
    assert_eq!(h.get_key("foo").as_deref(), Some("bar"));
    assert_eq!(h.get(), None);
    h.assert_converged();
}

#[test]
fn alarm_scheduling_starts_synchronously_before_implicit_local_db_commit() {
    let mut h = Harness::base(2);
    h.set_in_turn(1);
    h.expect_calls(&[]); // Nothing starts while the turn's implicit transaction is open.
    h.end_turn();
    // At the commit point the move-earlier sR goes out first, before anything is committed.
    h.expect_calls(&["sR(1)"]);
    assert_eq!(h.pending(), ["sR(1)"]);
    assert_eq!(h.durable_alarm(), Some(2));
    assert_eq!(h.get(), Some(1));
    h.complete("sR(1)");
    h.expect_calls(&["C"]);
    h.complete("C");
    h.expect_calls(&[]);
    assert_eq!(h.get(), Some(1));
    h.assert_converged();
}

#[test]
fn alarm_scheduling_starts_synchronously_before_explicit_local_db_commit() {
    let mut h = Harness::base(2);
    h.actor.txn_begin().unwrap();
    h.set_in_turn(1);
    h.expect_calls(&[]);
    h.actor.txn_commit(CONFIRMED).unwrap();
    h.poll();
    // Committing the root transaction issues sR(1) itself, before any commit.
    h.expect_calls(&["sR(1)"]);
    assert_eq!(h.durable_alarm(), Some(2));
    h.complete("sR(1)");
    h.expect_calls(&["C"]);
    h.complete("C");
    h.expect_calls(&[]);
    assert_eq!(h.get(), Some(1));
    h.assert_converged();
}

#[test]
fn alarm_scheduling_does_not_start_synchronously_before_nested_explicit_local_db_commit() {
    let mut h = Harness::base(2);
    h.actor.txn_begin().unwrap();
    h.actor.txn_begin().unwrap();
    h.set_in_turn(1);
    h.actor.txn_commit(CONFIRMED).unwrap();
    h.poll();
    h.expect_calls(&[]); // A nested commit only folds into its parent.
    assert_eq!(h.get(), Some(1));
    h.actor.txn_commit(CONFIRMED).unwrap();
    h.poll();
    h.expect_calls(&["sR(1)"]);
    h.complete("sR(1)");
    h.expect_calls(&["C"]);
    h.complete("C");
    h.expect_calls(&[]);
    assert_eq!(h.get(), Some(1));
    h.assert_converged();
}

#[test]
fn synchronous_alarm_scheduling_failure_causes_local_db_commit_to_throw_synchronously() {
    // Adaptation 2: our sR never throws synchronously; the rejected precommit sR breaks the gate and nothing is committed.
    let mut h = Harness::base(2);
    h.set(1);
    h.expect_calls(&["sR(1)"]);
    h.fail("sR(1)");
    h.expect_calls(&[]);
    assert_eq!(h.gate(), Gate::Broken);
    assert_eq!(h.actor.get_alarm(), Err(AlarmError::Broken));
    assert_eq!(h.durable_alarm(), Some(2));
    // The reset actor reads 2 back, as workerd's rolled-back local db does.
    h.restart();
    assert_eq!(h.get(), Some(2));
    h.expect_calls(&["sR(2)"]); // Adaptation 3: load re-announces the stored alarm.
    h.settle();
    h.expect_calls(&[]);
    h.assert_converged();
}

#[test]
fn can_clear_alarm() {
    let mut h = Harness::base(1);
    assert_eq!(h.get(), Some(1));
    h.delete();
    h.expect_calls(&["C"]);
    h.complete("C");
    h.expect_calls(&["sR(none)"]);
    h.complete("sR(none)");
    h.expect_calls(&[]);
    assert_eq!(h.get(), None);
    h.assert_converged();
}

#[test]
fn can_set_alarm_twice() {
    let mut h = Harness::new();
    h.set_in_turn(1);
    h.set_in_turn(2);
    h.end_turn();
    h.expect_calls(&["sR(2)"]);
    h.complete("sR(2)");
    h.expect_calls(&["C"]);
    h.complete("C");
    h.expect_calls(&[]);
    assert_eq!(h.get(), Some(2));
    h.assert_converged();
}

#[test]
fn setting_duplicate_alarm_is_no_op() {
    let mut h = Harness::new();
    h.delete();
    h.expect_calls(&[]);
    assert_eq!(h.gate(), Gate::Open);
    h.set(1);
    h.expect_calls(&["sR(1)"]);
    h.complete("sR(1)");
    h.expect_calls(&["C"]);
    h.complete("C");
    h.set(1);
    h.expect_calls(&[]);
    assert_eq!(h.gate(), Gate::Open);
    assert_eq!(h.get(), Some(1));
    h.assert_converged();
}

// ----- armAlarmHandler ---------------------------------------------------------------------

#[test]
fn tells_alarm_handler_to_cancel_when_committed_alarm_is_empty() {
    let mut h = Harness::new();
    h.force_manager(Some(1)); // The manager fires 1, so it still held a stale 1 (d1faebb06).
    let arm = expect_cancel(h.arm(1));
    h.expect_calls(&["sR(none)"]);
    assert_eq!(h.arm_resolved(arm), None);
    h.complete("sR(none)");
    assert_eq!(h.arm_resolved(arm), Some(true));
    h.expect_calls(&[]);
    assert!(!h.actor.in_handler());
    assert_eq!(h.manager_alarm(), None);
    h.assert_converged();
}

#[test]
fn tells_alarm_handler_to_reschedule_when_handler_alarm_is_later_than_committed_alarm() {
    let mut h = Harness::base(1);
    h.force_manager(Some(2)); // The manager fires 2, so it held 2: later than storage.
    let arm = expect_cancel(h.arm(2));
    assert_eq!(h.take_calls(), ["sR(1)"]);
    assert_eq!(h.arm_resolved(arm), None);
    h.complete("sR(1)");
    assert_eq!(h.arm_resolved(arm), Some(true));
    h.expect_calls(&[]); // The reschedule restored I1.
    assert_eq!(h.manager_alarm(), Some(1));
    h.assert_converged();
}

#[test]
fn tells_alarm_handler_to_reschedule_when_handler_alarm_is_earlier_than_committed_alarm() {
    let mut h = Harness::base(2);
    h.force_manager(Some(1)); // The manager fires 1: say its sR(2) was lost in a crash (B10).
    let arm = expect_cancel(h.arm(1));
    h.expect_calls(&["sR(2)"]);
    assert_eq!(h.arm_resolved(arm), None);
    h.complete("sR(2)");
    assert_eq!(h.arm_resolved(arm), Some(true));
    h.expect_calls(&[]);
    assert_eq!(h.manager_alarm(), Some(2));
    h.assert_converged();
}

#[test]
fn runs_overdue_alarm_immediately_when_local_alarm_time_is_in_the_past() {
    let mut h = Harness::base(2);
    h.force_manager(Some(1));
    h.now = Millis(5);
    assert_eq!(h.arm(1), RUN); // #5764: clean and overdue, so run instead of rescheduling.
    h.expect_calls(&[]);
    assert_eq!(h.get(), None);
    h.drop_handler();
    h.expect_calls(&["C"]);
    h.complete("C");
    h.expect_calls(&["sR(none)"]);
    h.complete("sR(none)");
    h.expect_calls(&[]);
    assert_eq!(h.get(), None);
    h.assert_converged();
}

#[test]
fn does_not_cancel_handler_when_local_db_alarm_state_is_later_than_scheduled_alarm() {
    let mut h = Harness::base(1);
    h.set_in_turn(2);
    assert_eq!(h.arm(1), RUN_WITHOUT_DELETE); // S ≠ LC: a write is in flight.
    h.drop_handler();
    h.expect_calls(&[]);
    h.end_turn();
    h.expect_calls(&["C"]);
    h.complete("C");
    h.expect_calls(&["sR(2)"]);
    h.complete("sR(2)");
    h.expect_calls(&[]);
    assert_eq!(h.get(), Some(2));
    h.assert_converged();
}

#[test]
fn does_not_cancel_handler_when_local_db_alarm_state_is_earlier_than_scheduled_alarm() {
    let mut h = Harness::base(2);
    h.set_in_turn(1);
    assert_eq!(h.arm(2), RUN_WITHOUT_DELETE);
    h.drop_handler();
    h.expect_calls(&[]);
    h.end_turn();
    h.expect_calls(&["sR(1)"]);
    h.complete("sR(1)");
    h.expect_calls(&["C"]);
    h.complete("C");
    h.expect_calls(&[]);
    assert_eq!(h.get(), Some(1));
    h.assert_converged();
}

// ----- the handler's deferred delete (R5, R11) ---------------------------------------------

#[test]
fn get_alarm_returns_null_during_handler() {
    let mut h = Harness::base(1);
    assert_eq!(h.arm(1), RUN);
    h.expect_calls(&[]);
    assert_eq!(h.get(), None);
    assert_eq!(h.actor.stored_alarm(), Some(Millis(1))); // Hidden, not deleted yet.
    h.drop_handler();
    h.expect_calls(&["C"]);
    h.complete("C");
    h.expect_calls(&["sR(none)"]);
    h.complete("sR(none)");
    h.expect_calls(&[]);
    h.assert_converged();
}

#[test]
fn alarm_handler_handle_clears_alarm_when_dropped_with_no_writes() {
    let mut h = Harness::base(1);
    assert_eq!(h.arm(1), RUN);
    h.drop_handler();
    h.expect_calls(&["C"]);
    assert_eq!(pending_batch(&h).alarm, None);
    h.complete("C");
    h.expect_calls(&["sR(none)"]);
    h.complete("sR(none)");
    h.expect_calls(&[]);
    assert_eq!(h.get(), None);
    assert_eq!(h.durable_alarm(), None);
    h.assert_converged();
}

#[test]
fn alarm_deleter_does_not_clear_alarm_when_dropped_with_writes() {
    let mut h = Harness::base(1);
    assert_eq!(h.arm(1), RUN);
    h.set_in_turn(2);
    assert_eq!(h.get(), Some(2));
    h.drop_handler();
    h.expect_calls(&[]);
    h.end_turn();
    h.expect_calls(&["C"]);
    h.complete("C");
    h.expect_calls(&["sR(2)"]);
    h.complete("sR(2)");
    h.expect_calls(&[]);
    assert_eq!(h.get(), Some(2));
    h.assert_converged();
}

#[test]
fn can_cancel_deferred_alarm_deletion_during_handler() {
    let mut h = Harness::base(1);
    assert_eq!(h.arm(1), RUN);
    h.actor.cancel_deferred_alarm_deletion();
    h.drop_handler();
    h.expect_calls(&[]);
    assert_eq!(h.get(), Some(1));
    h.assert_converged();
}

#[test]
fn canceling_deferred_alarm_deletion_outside_handler_has_no_effect() {
    let mut h = Harness::base(1);
    assert_eq!(h.arm(1), RUN);
    h.drop_handler();
    h.expect_calls(&["C"]);
    h.complete("C");
    h.expect_calls(&["sR(none)"]);
    h.complete("sR(none)");
    h.actor.cancel_deferred_alarm_deletion();
    h.poll();
    h.expect_calls(&[]);
    assert_eq!(h.get(), None);
    h.assert_converged();
}

#[test]
fn canceling_deferred_alarm_deletion_outside_handler_edge_case() {
    let mut h = Harness::base(1);
    assert_eq!(h.arm(1), RUN);
    // The handler ends, and the cancel arrives before anything is polled.
    h.actor.handler_finished(true);
    h.actor.cancel_deferred_alarm_deletion();
    h.poll();
    h.expect_calls(&["C"]);
    h.complete("C");
    h.expect_calls(&["sR(none)"]);
    h.complete("sR(none)");
    h.expect_calls(&[]);
    assert_eq!(h.get(), None);
    h.assert_converged();
}

#[test]
fn canceling_deferred_alarm_deletion_is_idempotent() {
    let mut h = Harness::base(1);
    assert_eq!(h.arm(1), RUN);
    h.actor.cancel_deferred_alarm_deletion();
    h.actor.cancel_deferred_alarm_deletion();
    h.drop_handler();
    h.expect_calls(&[]);
    assert_eq!(h.get(), Some(1));
    h.assert_converged();
}

#[test]
fn alarm_handler_cleanup_succeeds_when_output_gate_is_broken() {
    for cancel_first in [true, false] {
        let mut h = Harness::base(1);
        assert_eq!(h.arm(1), RUN);
        h.put("foo", "bar");
        h.expect_calls(&["C"]);
        h.fail("C");
        assert_eq!(h.gate(), Gate::Broken);
        if cancel_first {
            h.actor.cancel_deferred_alarm_deletion(); // The failure path cancels first.
        }
        h.drop_handler(); // Neither panics nor writes (25fa631d7).
        h.expect_calls(&[]);
        assert!(!h.actor.in_handler());
        assert_eq!(h.gate(), Gate::Broken);
        // The deferred delete never ran: the reset actor still has the alarm.
        h.restart();
        assert_eq!(h.get(), Some(1));
        h.expect_calls(&["sR(1)"]); // Adaptation 3: load re-announces the stored alarm.
        h.settle();
        h.assert_converged();
    }
}

#[test]
fn handler_alarm_is_not_deleted_when_commit_fails() {
    let mut h = Harness::base(1);
    assert_eq!(h.arm(1), RUN);
    assert_eq!(h.get(), None);
    h.drop_handler();
    h.expect_calls(&["C"]);
    h.fail("C");
    h.expect_calls(&[]); // No sR(none).
    assert_eq!(h.gate(), Gate::Broken);
    assert_eq!(h.durable_alarm(), Some(1));
    assert_eq!(h.manager_alarm(), Some(1));
    h.restart();
    assert_eq!(h.get(), Some(1));
    h.expect_calls(&["sR(1)"]); // Adaptation 3: load re-announces the stored alarm.
    h.settle();
    h.assert_converged();
}

// ----- move earlier eagerly, move later lazily (§2 transitions 1 and 2) ---------------------

#[test]
fn setting_earlier_alarm_persists_alarm_scheduling_before_db() {
    let mut h = Harness::base(2);
    h.set(1);
    h.expect_calls(&["sR(1)"]);
    assert_eq!(h.durable_alarm(), Some(2));
    h.complete("sR(1)");
    h.expect_calls(&["C"]);
    assert_eq!(h.manager_alarm(), Some(1));
    h.complete("C");
    h.expect_calls(&[]);
    assert_eq!(h.get(), Some(1));
    h.assert_converged();
}

#[test]
fn setting_later_alarm_persists_db_before_alarm_scheduling() {
    let mut h = Harness::base(1);
    h.set(2);
    h.expect_calls(&["C"]);
    assert_eq!(h.manager_alarm(), Some(1));
    h.complete("C");
    h.expect_calls(&["sR(2)"]);
    assert_eq!(h.durable_alarm(), Some(2));
    h.complete("sR(2)");
    h.expect_calls(&[]);
    assert_eq!(h.get(), Some(2));
    h.assert_converged();
}

#[test]
fn multiple_set_earlier_in_flight_alarms_wait_for_earliest_before_committing_db() {
    let mut h = Harness::base(5);
    assert_eq!(h.gate(), Gate::Open);
    h.set(4);
    h.expect_calls(&["sR(4)"]);
    assert_eq!(h.get(), Some(4));
    assert_eq!(h.gate(), blocked(2));
    h.set(3);
    h.expect_calls(&[]);
    assert_eq!(h.get(), Some(3));
    assert_eq!(h.gate(), blocked(2));
    h.set(2);
    h.expect_calls(&[]);
    assert_eq!(h.get(), Some(2));
    assert_eq!(h.gate(), blocked(2));
    h.complete("sR(4)");
    h.expect_calls(&["sR(2)"]); // The current value, not 3.
    h.set(1);
    h.expect_calls(&[]);
    assert_eq!(h.get(), Some(1));
    h.complete("sR(2)");
    h.expect_calls(&["sR(1)"]);
    h.complete("sR(1)");
    // One commit for all four turns; every gate waiter is still blocked until it is durable.
    h.expect_calls(&["C"]);
    assert_eq!(pending_batch(&h).alarm, Some(Millis(1)));
    assert_eq!(h.gate(), blocked(2));
    h.complete("C");
    h.expect_calls(&[]);
    assert_eq!(h.gate(), Gate::Open);
    assert_eq!(h.get(), Some(1));
    h.assert_converged();
}

#[test]
fn setting_later_alarm_times_does_scheduling_after_db_commit() {
    let mut h = Harness::base(1);
    assert_eq!(h.gate(), Gate::Open);
    h.set(2);
    h.expect_calls(&["C"]);
    assert_eq!(h.gate(), blocked(2));
    h.set(3);
    h.expect_calls(&["C"]);
    assert_eq!(h.gate(), blocked(3));
    h.complete("C");
    h.expect_calls(&[]); // #5589: S changed since this commit started, so no sR(2).
    assert_eq!(h.durable_alarm(), Some(2));
    assert_eq!(h.gate(), blocked(3)); // The 2 ms writes are durable; the 3 ms ones are not.
    h.complete("C");
    h.expect_calls(&["sR(3)"]);
    assert_eq!(h.gate(), Gate::Open);
    h.complete("sR(3)");
    h.expect_calls(&[]);
    assert_eq!(h.get(), Some(3));
    h.assert_converged();
}

#[test]
fn rejected_move_earlier_alarm_scheduling_request_breaks_gate() {
    let mut h = Harness::new();
    h.set(1);
    h.expect_calls(&["sR(1)"]);
    h.fail("sR(1)");
    h.expect_calls(&[]);
    assert_eq!(h.gate(), Gate::Broken);
    assert_eq!(h.actor.get_alarm(), Err(AlarmError::Broken));
    // The manager may have applied sR(1) before its answer was lost: the reloaded actor tells
    // it "none" (I2).
    h.restart();
    h.expect_calls(&["sR(none)"]);
    h.settle();
    assert_eq!(h.get(), None);
    h.assert_converged();
}

#[test]
fn rejected_move_later_alarm_scheduling_request_does_not_break_gate() {
    let mut h = Harness::base(1);
    h.set(2);
    h.expect_calls(&["C"]);
    h.complete("C");
    h.expect_calls(&["sR(2)"]);
    h.fail("sR(2)");
    // Adaptation: a failed move-later is sent again until it lands (the manager may still
    // hold 1, or nothing at all after a restart); the gate stays intact either way.
    h.expect_calls(&["sR(2)"]);
    assert_eq!(h.gate(), Gate::Open);
    h.complete("sR(2)");
    h.put("foo", "bar");
    h.expect_calls(&["C"]);
    h.complete("C");
    h.expect_calls(&[]);
    assert_eq!(h.gate(), Gate::Open);
    assert_eq!(h.get_key("foo").as_deref(), Some("bar"));
    // The retry landed: the manager holds 2 without waiting for a fire to reconcile it (the
    // reconcile-on-fire path is covered by the `tells_alarm_handler_to_reschedule_*` tests).
    assert_eq!(h.manager_alarm(), Some(2));
    h.assert_converged();
}

#[test]
fn rapid_move_later_alarm_changes_coalesce_into_bounded_schedule_run_calls() {
    let mut h = Harness::base(1);
    h.set(2);
    h.expect_calls(&["C"]);
    h.complete("C");
    h.expect_calls(&["sR(2)"]);
    assert_eq!(h.get(), Some(2));
    for t in [3, 4, 5] {
        h.set(t);
        h.expect_calls(&["C"]);
        h.complete("C");
        h.expect_calls(&[]); // Parked behind sR(2), latest wins (PR #6383).
        assert_eq!(h.get(), Some(t));
        assert_eq!(h.pending(), ["sR(2)"]);
    }
    h.complete("sR(2)");
    h.expect_calls(&["sR(5)"]); // Exactly one, for the latest value.
    h.complete("sR(5)");
    h.expect_calls(&[]);
    assert_eq!(h.get(), Some(5));
    h.assert_converged();
}

#[test]
fn arm_alarm_handler_with_coalesced_pending_alarms_schedules_reschedule_exactly_once() {
    let mut h = Harness::base(1);
    h.set(3);
    h.expect_calls(&["C"]);
    h.complete("C");
    h.expect_calls(&["sR(3)"]);
    for t in [4, 6] {
        h.set(t);
        h.expect_calls(&["C"]);
        h.complete("C");
        h.expect_calls(&[]);
    }
    assert_eq!(h.get(), Some(6));
    // The manager fires 1; clean storage holds 6, so Cancel after rescheduling to 6.
    let arm = expect_cancel(h.arm(1));
    // Adaptation 1: the reschedule waits behind sR(3) instead of going out at once chained on it.
    h.expect_calls(&[]);
    assert_eq!(h.pending(), ["sR(3)"]);
    h.set(10);
    h.expect_calls(&["C"]);
    h.complete("C");
    // Adaptation 1: 10 replaces the waiting reschedule (latest wins) and the Cancel waits for it.
    h.expect_calls(&[]);
    assert_eq!(h.pending(), ["sR(3)"]);
    h.complete("sR(3)");
    h.expect_calls(&["sR(10)"]); // One reschedule in all; no sR(6) ever goes out.
    assert_eq!(h.arm_resolved(arm), None);
    h.complete("sR(10)");
    assert_eq!(h.arm_resolved(arm), Some(true));
    h.expect_calls(&[]);
    assert_eq!(h.get(), Some(10));
    h.assert_converged();
}

#[test]
fn coalesced_move_later_followed_by_move_earlier_does_not_race() {
    let mut h = Harness::base(1);
    h.set(5);
    h.expect_calls(&["C"]);
    h.complete("C");
    h.expect_calls(&["sR(5)"]);
    h.set(10);
    h.expect_calls(&["C"]);
    h.complete("C");
    h.expect_calls(&[]); // Parked.
    h.set(2);
    h.expect_calls(&[]); // Blocked behind sR(5), as AM's priorTask would block it.
    assert_eq!(h.pending(), ["sR(5)"]);
    assert_eq!(h.gate(), blocked(4));
    h.complete("sR(5)");
    h.expect_calls(&["sR(2)"]); // Only sR(2): the move-earlier dropped the parked 10 (B5).
    assert_eq!(h.pending(), ["sR(2)"]);
    h.complete("sR(2)");
    h.expect_calls(&["C"]);
    h.complete("C");
    h.expect_calls(&[]);
    assert_eq!(h.gate(), Gate::Open);
    assert_eq!(h.get(), Some(2));
    h.assert_converged();
}

#[test]
fn an_exception_thrown_during_merged_commits_does_not_hang() {
    let mut h = Harness::base(5);
    h.set(4);
    h.expect_calls(&["sR(4)"]);
    assert_eq!(h.gate(), blocked(2));
    h.set(3);
    h.expect_calls(&[]); // Merged into the commit waiting for sR(4).
    assert_eq!(h.gate(), blocked(2));
    h.fail("sR(4)");
    // Both turns' gate waiters see the broken gate; nothing is left waiting.
    h.expect_calls(&[]);
    assert_eq!(h.gate(), Gate::Broken);
    assert!(h.pending().is_empty());
    assert!(h.actor.is_quiescent());
    h.restart();
    assert_eq!(h.get(), Some(5));
    h.expect_calls(&["sR(5)"]); // Adaptation 3: load re-announces the stored alarm.
    h.settle();
    h.assert_converged();
}

#[test]
fn get_alarm_set_alarm_check_for_brokenness() {
    let mut h = Harness::new();
    h.put("foo", "bar");
    h.expect_calls(&["C"]);
    h.fail("C");
    assert_eq!(h.gate(), Gate::Broken);
    assert_eq!(h.actor.get_alarm(), Err(AlarmError::Broken));
    assert_eq!(h.actor.set_alarm(Millis(1), h.now, CONFIRMED), Err(AlarmError::Broken));
    assert_eq!(h.actor.delete_alarm(CONFIRMED), Err(AlarmError::Broken));
    h.end_turn();
    h.expect_calls(&[]);
}

// ----- deleteAll (R7, §2 transition 5) -----------------------------------------------------

#[test]
fn calling_delete_all_preserves_alarm_state_if_alarm_is_set() {
    let mut h = Harness::base(1);
    h.delete_all(false);
    assert_eq!(h.get(), Some(1));
    h.expect_calls(&["C"]);
    let batch = pending_batch(&h);
    assert!(batch.clear_kv);
    assert_eq!(batch.alarm, Some(Millis(1)));
    h.complete("C");
    h.expect_calls(&[]);
    assert_eq!(h.get(), Some(1));
    // Adaptation: workerd commits once per deleteAll() (it rewrites the alarm row after each reset); our core commits once per turn.
    h.delete_all_in_turn(false);
    h.delete_all_in_turn(false);
    h.end_turn();
    h.expect_calls(&["C"]);
    h.complete("C");
    h.expect_calls(&[]);
    assert_eq!(h.get(), Some(1));
    // Two calls in two turns give workerd's two commits.
    h.delete_all(false);
    h.delete_all(false);
    h.expect_calls(&["C", "C"]);
    assert_eq!(h.get(), Some(1));
    h.complete("C");
    assert_eq!(h.get(), Some(1));
    h.complete("C");
    h.expect_calls(&[]);
    assert_eq!(h.get(), Some(1));
    h.assert_converged();
}

#[test]
fn calling_delete_all_preserves_alarm_state_if_alarm_is_not_set() {
    let mut h = Harness::base(1);
    h.delete();
    h.expect_calls(&["C"]);
    h.complete("C");
    h.expect_calls(&["sR(none)"]);
    h.complete("sR(none)");
    h.expect_calls(&[]);
    assert_eq!(h.get(), None);
    h.delete_all(false);
    assert_eq!(h.get(), None);
    h.expect_calls(&["C"]); // deleteAll() always commits, even on empty storage.
    assert_eq!(h.gate(), blocked(3));
    let batch = pending_batch(&h);
    assert!(batch.clear_kv);
    assert_eq!(batch.alarm, None); // No alarm row to restore.
    h.complete("C");
    h.expect_calls(&[]);
    assert_eq!(h.get(), None);
    // Two in a row coalesce into one commit.
    h.delete_all_in_turn(false);
    h.delete_all_in_turn(false);
    h.end_turn();
    h.expect_calls(&["C"]);
    assert_eq!(h.get(), None);
    h.complete("C");
    h.expect_calls(&[]);
    assert_eq!(h.get(), None);
    h.assert_converged();
}

#[test]
fn calling_delete_all_during_an_implicit_transaction_preserves_alarm_state() {
    let mut h = Harness::new();
    h.set_in_turn(1);
    h.delete_all_in_turn(false);
    assert_eq!(h.get(), Some(1));
    h.end_turn();
    h.expect_calls(&["sR(1)"]);
    h.complete("sR(1)");
    h.expect_calls(&["C"]);
    let batch = pending_batch(&h);
    assert!(batch.clear_kv);
    assert_eq!(batch.alarm, Some(Millis(1)));
    h.complete("C");
    h.expect_calls(&[]);
    assert_eq!(h.get(), Some(1));
    h.assert_converged();
}

#[test]
fn delete_all_with_delete_alarm_option_deletes_alarm() {
    let mut h = Harness::base(1);
    h.delete_all(true);
    assert_eq!(h.get(), None);
    h.expect_calls(&["C"]);
    h.complete("C");
    h.expect_calls(&["sR(none)"]);
    h.complete("sR(none)");
    h.expect_calls(&[]);
    assert_eq!(h.get(), None);
    h.assert_converged();
}

#[test]
fn delete_all_without_delete_alarm_option_preserves_alarm() {
    let mut h = Harness::base(1);
    h.delete_all(false);
    assert_eq!(h.get(), Some(1));
    h.expect_calls(&["C"]);
    h.complete("C");
    h.expect_calls(&[]);
    assert_eq!(h.get(), Some(1));
    h.assert_converged();
}

#[test]
fn delete_all_with_delete_alarm_during_alarm_handler_cancels_deferred_delete() {
    let mut h = Harness::base(1);
    assert_eq!(h.arm(1), RUN);
    assert_eq!(h.get(), None);
    h.delete_all(true);
    assert_eq!(h.get(), None);
    h.expect_calls(&["C"]);
    h.drop_handler();
    h.expect_calls(&[]); // deleteAll cleared the deferred delete: no second write.
    h.complete("C");
    h.expect_calls(&["sR(none)"]);
    h.complete("sR(none)");
    h.expect_calls(&[]);
    assert_eq!(h.get(), None);
    h.assert_converged();
}

#[test]
fn delete_all_without_delete_alarm_during_alarm_handler_still_has_deferred_delete() {
    let mut h = Harness::base(1);
    assert_eq!(h.arm(1), RUN);
    assert_eq!(h.get(), None);
    h.delete_all_in_turn(false);
    assert_eq!(h.get(), None); // The alarm row is kept, and so is the deferred delete.
    // The deleter drops in the same turn, as in workerd, so both writes share one commit.
    h.drop_handler();
    h.expect_calls(&["C"]);
    let batch = pending_batch(&h);
    assert!(batch.clear_kv);
    assert_eq!(batch.alarm, None);
    h.complete("C");
    h.expect_calls(&["sR(none)"]);
    h.complete("sR(none)");
    h.expect_calls(&[]);
    assert_eq!(h.get(), None);
    h.assert_converged();
}

#[test]
fn delete_all_delete_alarm_does_not_schedule_alarm_cancellation_if_set_alarm_interleaves() {
    let mut h = Harness::base(1);
    h.delete_all(true);
    h.expect_calls(&["C"]);
    h.set(2);
    h.expect_calls(&["C"]);
    assert_eq!(h.get(), Some(2));
    h.complete("C"); // deleteAll's commit.
    h.expect_calls(&[]); // #5589: S changed since, so no sR(none).
    assert_eq!(h.durable_alarm(), None);
    assert_eq!(h.manager_alarm(), Some(1));
    h.complete("C");
    h.expect_calls(&["sR(2)"]);
    h.complete("sR(2)");
    h.expect_calls(&[]);
    assert_eq!(h.get(), Some(2));
    h.assert_converged();
}

// ----- explicit transactions ---------------------------------------------------------------

#[test]
fn rolling_back_transaction_leaves_alarm_in_expected_state() {
    let mut h = Harness::base(2);
    h.actor.txn_begin().unwrap();
    assert_eq!(h.get(), Some(2));
    h.set_in_turn(1);
    assert_eq!(h.get(), Some(1));
    h.actor.txn_rollback().unwrap();
    assert_eq!(h.get(), Some(2));
    h.end_turn();
    h.expect_calls(&[]);
    h.assert_converged();
}

#[test]
fn rolling_back_transaction_leaves_deferred_alarm_deletion_in_expected_state() {
    let mut h = Harness::base(2);
    assert_eq!(h.arm(2), RUN);
    h.actor.txn_begin().unwrap();
    assert_eq!(h.get(), None);
    h.set_in_turn(1);
    assert_eq!(h.get(), Some(1));
    h.actor.txn_rollback().unwrap();
    assert_eq!(h.get(), None); // Still the deferred delete's view.
    h.end_turn();
    h.expect_calls(&[]); // Nothing committed, nothing rescheduled.
    h.drop_handler();
    h.expect_calls(&["C"]);
    h.complete("C");
    h.expect_calls(&["sR(none)"]);
    h.complete("sR(none)");
    h.expect_calls(&[]);
    assert_eq!(h.get(), None);
    h.assert_converged();
}

#[test]
fn committing_transaction_leaves_deferred_alarm_deletion_in_expected_state() {
    let mut h = Harness::base(2);
    assert_eq!(h.arm(2), RUN);
    h.actor.txn_begin().unwrap();
    assert_eq!(h.get(), None);
    h.set_in_turn(1);
    assert_eq!(h.get(), Some(1));
    h.actor.txn_commit(CONFIRMED).unwrap();
    h.poll();
    assert_eq!(h.get(), Some(1));
    h.expect_calls(&["sR(1)"]);
    h.complete("sR(1)");
    h.expect_calls(&["C"]);
    h.complete("C");
    h.expect_calls(&[]);
    h.drop_handler();
    h.expect_calls(&[]); // The committed write cancelled the deferred delete.
    assert_eq!(h.get(), Some(1));
    h.assert_converged();
}

#[test]
fn rolling_back_nested_transaction_leaves_deferred_alarm_deletion_in_expected_state() {
    let mut h = Harness::base(2);
    assert_eq!(h.arm(2), RUN);
    h.actor.txn_begin().unwrap();
    assert_eq!(h.get(), None);
    // A rolled-back child leaves the deferred delete in place.
    h.actor.txn_begin().unwrap();
    assert_eq!(h.get(), None);
    h.set_in_turn(1);
    assert_eq!(h.get(), Some(1));
    h.actor.txn_rollback().unwrap();
    assert_eq!(h.get(), None);
    // A committed child makes its parent dirty.
    h.actor.txn_begin().unwrap();
    assert_eq!(h.get(), None);
    h.set_in_turn(1);
    assert_eq!(h.get(), Some(1));
    h.actor.txn_commit(CONFIRMED).unwrap();
    assert_eq!(h.get(), Some(1));
    // A child of a dirty parent is dirty; rolling it back changes nothing.
    h.actor.txn_begin().unwrap();
    assert_eq!(h.get(), Some(1));
    h.actor.txn_rollback().unwrap();
    assert_eq!(h.get(), Some(1));
    // Rolling back the root restores the deferred delete's view.
    h.actor.txn_rollback().unwrap();
    assert_eq!(h.get(), None);
    h.end_turn();
    h.expect_calls(&[]);
    h.drop_handler();
    h.expect_calls(&["C"]);
    h.complete("C");
    h.expect_calls(&["sR(none)"]);
    h.complete("sR(none)");
    h.expect_calls(&[]);
    assert_eq!(h.get(), None);
    h.assert_converged();
}

// ----- allowUnconfirmed and the output gate (R6) --------------------------------------------

#[test]
fn allow_unconfirmed_set_alarm_does_not_block_output_gate() {
    let mut h = Harness::new();
    assert_eq!(h.gate(), Gate::Open);
    h.set_unconfirmed(1);
    assert_eq!(h.gate(), Gate::Open);
    h.expect_calls(&["sR(1)"]);
    h.complete("sR(1)");
    assert_eq!(h.gate(), Gate::Open);
    h.expect_calls(&["C"]);
    h.complete("C");
    assert_eq!(h.gate(), Gate::Open);
    h.expect_calls(&[]);
    assert_eq!(h.get(), Some(1));
    h.assert_converged();
}

#[test]
fn allow_unconfirmed_set_alarm_with_storage_ops() {
    let mut h = Harness::new();
    h.actor.set_alarm(Millis(1), h.now, UNCONFIRMED).unwrap();
    h.actor.put("foo", b"bar".to_vec(), UNCONFIRMED).unwrap();
    h.end_turn();
    assert_eq!(h.gate(), Gate::Open);
    h.expect_calls(&["sR(1)"]);
    h.complete("sR(1)");
    assert_eq!(h.gate(), Gate::Open);
    h.expect_calls(&["C"]);
    h.complete("C");
    assert_eq!(h.gate(), Gate::Open);
    h.expect_calls(&[]);
    assert_eq!(h.get(), Some(1));
    assert_eq!(h.get_key("foo").as_deref(), Some("bar"));
    h.assert_converged();
}

#[test]
fn allow_unconfirmed_set_alarm_in_explicit_transaction_does_not_block_output_gate() {
    let mut h = Harness::new();
    h.actor.txn_begin().unwrap();
    h.actor.set_alarm(Millis(1), h.now, UNCONFIRMED).unwrap();
    assert_eq!(h.gate(), Gate::Open);
    // Adaptation: a transaction's writes take allowUnconfirmed from the root txn_commit, not from each write.
    h.actor.txn_commit(UNCONFIRMED).unwrap();
    h.poll();
    assert_eq!(h.gate(), Gate::Open);
    h.expect_calls(&["sR(1)"]);
    h.complete("sR(1)");
    h.expect_calls(&["C"]);
    h.complete("C");
    assert_eq!(h.gate(), Gate::Open);
    h.expect_calls(&[]);
    assert_eq!(h.get(), Some(1));
    h.assert_converged();
}

#[test]
fn confirmed_set_alarm_blocks_output_gate() {
    let mut h = Harness::new();
    assert_eq!(h.gate(), Gate::Open);
    h.set(1);
    h.expect_calls(&["sR(1)"]);
    h.complete("sR(1)");
    assert_eq!(h.gate(), blocked(1));
    h.expect_calls(&["C"]);
    h.complete("C");
    assert_eq!(h.gate(), Gate::Open);
    h.expect_calls(&[]);
    assert_eq!(h.get(), Some(1));
    h.assert_converged();
}

#[test]
fn allow_unconfirmed_set_alarm_then_confirmed_put_uses_output_gate() {
    let mut h = Harness::new();
    h.actor.set_alarm(Millis(1), h.now, UNCONFIRMED).unwrap();
    h.put_in_turn("foo", "bar");
    h.end_turn();
    h.expect_calls(&["sR(1)"]);
    h.complete("sR(1)");
    assert_eq!(h.gate(), blocked(1));
    h.expect_calls(&["C"]);
    h.complete("C");
    assert_eq!(h.gate(), Gate::Open);
    h.expect_calls(&[]);
    assert_eq!(h.get(), Some(1));
    assert_eq!(h.get_key("foo").as_deref(), Some("bar"));
    h.assert_converged();
}

#[test]
fn allow_unconfirmed_set_alarm_updating_existing_alarm() {
    let mut h = Harness::base(2);
    h.set_unconfirmed(1);
    assert_eq!(h.gate(), Gate::Open);
    h.expect_calls(&["sR(1)"]);
    h.complete("sR(1)");
    assert_eq!(h.gate(), Gate::Open);
    h.expect_calls(&["C"]);
    h.complete("C");
    assert_eq!(h.gate(), Gate::Open);
    h.expect_calls(&[]);
    assert_eq!(h.get(), Some(1));
    h.assert_converged();
}

#[test]
fn allow_unconfirmed_set_alarm_to_later_time() {
    let mut h = Harness::base(1);
    h.set_unconfirmed(2);
    assert_eq!(h.gate(), Gate::Open);
    h.expect_calls(&["C"]);
    h.complete("C");
    assert_eq!(h.gate(), Gate::Open);
    h.expect_calls(&["sR(2)"]);
    h.complete("sR(2)");
    assert_eq!(h.gate(), Gate::Open);
    h.expect_calls(&[]);
    assert_eq!(h.get(), Some(2));
    h.assert_converged();
}

#[test]
fn allow_unconfirmed_set_alarm_to_clear_alarm() {
    let mut h = Harness::base(1);
    h.delete_unconfirmed();
    assert_eq!(h.gate(), Gate::Open);
    h.expect_calls(&["C"]);
    h.complete("C");
    assert_eq!(h.gate(), Gate::Open);
    h.expect_calls(&["sR(none)"]);
    h.complete("sR(none)");
    assert_eq!(h.gate(), Gate::Open);
    h.expect_calls(&[]);
    assert_eq!(h.get(), None);
    h.assert_converged();
}

#[test]
fn unconfirmed_set_alarm_failure_still_breaks_output_gate() {
    let mut h = Harness::new();
    h.set_unconfirmed(1);
    assert_eq!(h.gate(), Gate::Open);
    h.expect_calls(&["sR(1)"]);
    h.complete("sR(1)");
    h.expect_calls(&["C"]);
    h.fail("C");
    assert_eq!(h.gate(), Gate::Broken);
    h.expect_calls(&[]); // The manager holds 1 and storage nothing: early, not late.
    // The reset actor loads no alarm and says so (deliberately stricter than workerd: the
    // manager must not keep the 1 storage never got, I2 when idle)...
    h.restart();
    h.expect_calls(&["sR(none)"]);
    h.complete("sR(none)");
    assert_eq!(h.get(), None);
    h.assert_converged();
    // ...and a fire of 1 that was already on its way cancels with sR(none) all the same.
    let arm = expect_cancel(h.arm(1));
    h.expect_calls(&["sR(none)"]);
    h.complete("sR(none)");
    assert_eq!(h.arm_resolved(arm), Some(true));
    h.assert_converged();
}

// Found by the `unconfirmed-writes` scenario (no workerd test): with the gate open over an
// unconfirmed commit, a handler's report leaves while a commit and a command are in flight.

#[test]
fn a_command_completing_after_a_report_keeps_asnlt_at_the_report() {
    // Storage and the manager at 5, then a move later to 8 whose sR(8) is still in flight
    // when the manager fires 8 (the manager applied it; the acknowledgement is slow).
    let mut h = Harness::base(8);
    h.set_unconfirmed(5);
    h.complete("sR(5)");
    h.complete("C");
    h.set_unconfirmed(8);
    h.complete("C");
    h.expect_calls(&["sR(5)", "C", "C", "sR(8)"]);
    assert_eq!(h.arm(8), ArmDecision::Run { deferred_delete: true });
    h.drop_handler(); // The deferred delete: C(none), confirmed.
    h.set_unconfirmed(30); // Before C(none) is acknowledged: ships at once, no precommit.
    h.expect_calls(&["C", "C"]);
    h.complete("C"); // C(none): the gate opens (C(30) is unconfirmed).
    assert_eq!(h.gate(), Gate::Open);
    // The handler's report: S = 30, fenced above sR(8). The manager now holds 30.
    assert_eq!(h.report(true), Some(30));
    assert_eq!(h.manager_alarm(), Some(30));
    h.complete("C"); // C(30) durable.
    h.take_calls();
    h.complete("sR(8)"); // Outranked by the report: the manager keeps 30.
    assert_eq!(h.manager_alarm(), Some(30));
    // The completion of sR(8) must not bring ASNLT down to 8: the manager holds 30, so a move
    // earlier to 20 must be announced before its commit (I1; before the fix it shipped
    // straight away and the manager stayed at 30 while storage held 20).
    h.settle();
    h.take_calls();
    h.set(20);
    h.expect_calls(&["sR(20)"]);
    h.settle();
    h.assert_converged();
}

#[test]
fn a_lost_report_does_not_stand_in_for_the_post_commit_command() {
    let mut h = Harness::base(10);
    assert_eq!(h.arm(10), ArmDecision::Run { deferred_delete: true });
    h.drop_handler(); // C(none), confirmed.
    h.set_unconfirmed(30); // A move later: ships at once.
    h.expect_calls(&["C", "C"]);
    h.complete("C"); // C(none): the gate opens.
    // The report (30) is lost on the way: the manager keeps 10 and will retry its fire.
    assert_eq!(h.report(false), Some(30));
    assert_eq!(h.manager_alarm(), Some(10));
    h.complete("C"); // C(30) durable: the manager must still hear 30 (I2).
    h.expect_calls(&["sR(30)"]);
    h.settle();
    h.assert_converged();
}

// ----- abandonAlarm (R16, B7, B8) ----------------------------------------------------------

#[test]
fn actor_sqlite_alarm_cleared_by_abandon_alarm() {
    let mut h = Harness::base(1);
    assert_eq!(h.abandon(1), Ok(None));
    h.expect_calls(&["C"]);
    assert_eq!(h.gate(), blocked(2));
    assert!(h.answer_held()); // The answer waits for the confirmed clear to be durable.
    assert_eq!(h.manager_alarm(), Some(1));
    h.complete("C");
    assert!(!h.answer_held());
    h.expect_calls(&["sR(none)"]);
    h.complete("sR(none)");
    h.expect_calls(&[]);
    assert_eq!(h.get(), None);
    h.assert_converged();
}

#[test]
fn actor_sqlite_alarm_preserved_after_alarm_retry_max_tries_uncounted_internal_failures() {
    let mut h = Harness::base(1);
    for _ in 0..100 {
        assert_eq!(h.arm(1), RUN);
        h.actor.cancel_deferred_alarm_deletion();
        h.drop_handler();
        h.expect_calls(&[]);
    }
    assert_eq!(h.get(), Some(1));
    h.assert_converged();
}

#[test]
fn actor_sqlite_abandon_alarm_is_a_no_op_when_a_newer_alarm_has_replaced_the_abandoned_one() {
    let mut h = Harness::base(1);
    h.set(2);
    h.expect_calls(&["C"]);
    h.complete("C");
    h.expect_calls(&["sR(2)"]);
    h.complete("sR(2)");
    assert_eq!(h.abandon(1), Ok(Some(2)));
    h.expect_calls(&[]);
    assert!(!h.answer_held());
    assert_eq!(h.get(), Some(2));
    h.assert_converged();
}

#[test]
fn actor_sqlite_abandon_alarm_returns_kj_none_when_no_alarm_is_stored() {
    let mut h = Harness::new();
    h.force_manager(Some(1)); // The manager is giving up on a stale 1.
    assert_eq!(h.abandon(1), Ok(None));
    h.expect_calls(&[]);
    assert_eq!(h.manager_alarm(), None);
    assert_eq!(h.get(), None);
    h.assert_converged();
}

#[test]
fn actor_sqlite_abandon_alarm_returns_kj_none_when_in_alarm_handler() {
    // Adaptation: workerd answers none, but the manager keeps the answer, and the handler below fails and keeps 1 in storage: none would lose it (I1, B7). We answer the safe value 1.
    let mut h = Harness::base(1);
    assert_eq!(h.arm(1), RUN);
    assert_eq!(h.abandon(1), Ok(Some(1)));
    h.expect_calls(&[]); // No write: the handler settles the alarm.
    assert_eq!(h.manager_alarm(), Some(1));
    h.actor.cancel_deferred_alarm_deletion();
    h.fail_handler();
    h.expect_calls(&[]);
    assert_eq!(h.get(), Some(1));
    h.assert_converged();
}

#[test]
fn actor_cache_alarm_cleared_by_abandon_alarm() {
    let mut h = Harness::base(1);
    assert_eq!(h.abandon(1), Ok(None));
    h.expect_calls(&["C"]);
    h.settle();
    h.expect_calls(&["sR(none)"]);
    // ActorCache drops to Unknown and refetches: a reloaded actor reads no alarm (and
    // re-announces it, as every reload does).
    h.restart();
    h.expect_calls(&["sR(none)"]);
    h.settle();
    assert_eq!(h.get(), None);
    h.assert_converged();
}

#[test]
fn actor_cache_alarm_preserved_after_alarm_retry_max_tries_uncounted_internal_failures() {
    let mut h = Harness::base(1);
    for _ in 0..100 {
        assert_eq!(h.arm(1), RUN);
        h.fail_handler(); // R11: a failed handler keeps the alarm.
        h.expect_calls(&[]);
    }
    assert_eq!(h.get(), Some(1));
    h.assert_converged();
}

#[test]
fn actor_cache_abandon_alarm_is_a_no_op_when_a_newer_alarm_has_replaced_the_abandoned_one() {
    let mut h = Harness::base(2);
    h.force_manager(Some(1)); // The manager is giving up on an older 1.
    assert_eq!(h.abandon(1), Ok(Some(2)));
    h.expect_calls(&[]);
    assert_eq!(h.manager_alarm(), Some(2)); // The answer re-registers 2.
    assert_eq!(h.get(), Some(2));
    h.assert_converged();
}

#[test]
fn actor_cache_abandon_alarm_returns_kj_none_when_no_alarm_is_stored() {
    let mut h = Harness::base(1);
    h.delete();
    h.settle();
    h.expect_calls(&["C", "sR(none)"]);
    h.force_manager(Some(1)); // The manager missed the sR(none).
    assert_eq!(h.abandon(1), Ok(None));
    h.expect_calls(&[]);
    assert_eq!(h.get(), None);
    h.assert_converged();
}

#[test]
fn actor_cache_abandon_alarm_returns_kj_none_when_alarm_is_dirty_not_the_uncommitted_time() {
    // Adaptation: ActorCache answers none (its flush re-registers 2); storage still holds 1, so our core answers the safe value 1 (I1) and the flush's sR(2) supersedes it.
    let mut h = Harness::base(1);
    h.set_in_turn(2); // DIRTY.
    assert_eq!(h.abandon(1), Ok(Some(1)));
    h.expect_calls(&[]); // The dirty 2 is not touched.
    assert_eq!(h.get(), Some(2));
    h.end_turn();
    h.expect_calls(&["C"]);
    h.complete("C");
    h.expect_calls(&["sR(2)"]);
    assert!(!h.answer_held());
    h.complete("sR(2)");
    h.expect_calls(&[]);
    assert_eq!(h.get(), Some(2));
    h.assert_converged();
}

// ----- removed historical tests (regressions) ----------------------------------------------

#[test]
fn in_flight_later_alarm_times_dont_affect_subsequent_commits() {
    let mut h = Harness::base(1);
    h.set(5);
    h.expect_calls(&["C"]);
    h.complete("C");
    h.expect_calls(&["sR(5)"]);
    // 2 is earlier than the 5 the manager may already hold, so it is a move earlier.
    h.set(2);
    // Adaptation 1: sR(2) waits for sR(5) instead of going out at once chained on it.
    h.expect_calls(&[]);
    assert_eq!(h.pending(), ["sR(5)"]);
    h.complete("sR(5)");
    h.expect_calls(&["sR(2)"]);
    h.complete("sR(2)");
    h.expect_calls(&["C"]);
    h.complete("C");
    h.expect_calls(&[]);
    assert_eq!(h.get(), Some(2));
    h.assert_converged();
    // The same for a later time drained from the parked slot: with sR(7) in flight, 6 moves earlier.
    h.set(5);
    h.expect_calls(&["C"]);
    h.complete("C");
    h.expect_calls(&["sR(5)"]);
    h.set(7);
    h.expect_calls(&["C"]);
    h.complete("C");
    h.expect_calls(&[]);
    h.complete("sR(5)");
    h.expect_calls(&["sR(7)"]);
    h.set(6);
    h.expect_calls(&[]); // Adaptation 1: sR(6) waits for sR(7); no commit before it.
    h.complete("sR(7)");
    h.expect_calls(&["sR(6)"]);
    h.complete("sR(6)");
    h.expect_calls(&["C"]);
    h.complete("C");
    h.expect_calls(&[]);
    assert_eq!(h.get(), Some(6));
    h.assert_converged();
}

#[test]
fn tells_alarm_handler_to_cancel_when_handler_alarm_is_later_than_committed_alarm() {
    // B10: this old test expected a bare Cancel; the Cancel must wait for the reschedule to S.
    let mut h = Harness::base(1);
    let arm = expect_cancel(h.arm(2));
    h.expect_calls(&["sR(1)"]);
    assert_eq!(h.arm_resolved(arm), None);
    h.complete("sR(1)");
    assert_eq!(h.arm_resolved(arm), Some(true));
    h.expect_calls(&[]);
    assert_eq!(h.get(), Some(1));
    h.assert_converged();
}

#[test]
fn coalesced_move_later_followed_by_move_earlier_serializes_schedule_run_calls() {
    // The B5 demo: record every sR and the most ever outstanding at once.
    let mut h = Harness::base(1);
    let mut issued: Vec<String> = Vec::new();
    let mut most_pending = 0;
    let mut step = |h: &mut Harness| {
        issued.extend(h.take_calls().into_iter().filter(|c| c.starts_with("sR")));
        most_pending = most_pending.max(h.pending().iter().filter(|c| c.starts_with("sR")).count());
        h.assert_never_late();
    };
    h.set(5);
    step(&mut h);
    h.complete("C");
    step(&mut h);
    h.set(10);
    step(&mut h);
    h.complete("C");
    step(&mut h);
    h.set(2);
    step(&mut h);
    assert_eq!(h.pending(), ["sR(5)"]);
    h.complete("sR(5)");
    step(&mut h);
    h.complete("sR(2)");
    step(&mut h);
    h.complete("C");
    step(&mut h);
    // One at a time, and the parked 10 never goes out (workerd sent it, serialized by priorTask).
    assert_eq!(issued, ["sR(5)", "sR(2)"]);
    assert_eq!(most_pending, 1);
    assert_eq!(h.get(), Some(2));
    h.assert_converged();
}

// ----- moved from smoke.rs -----------------------------------------------------------------

/// B1 (workerd #5431): a failed deferred-delete sR(none) must not clobber a later set.
#[test]
fn deferred_delete_then_set_does_not_lose_alarm() {
    let mut h = Harness::base(1);
    assert_eq!(h.arm(1), RUN);
    assert_eq!(h.get(), None);
    h.drop_handler();
    h.expect_calls(&["C"]);
    h.complete("C");
    h.expect_calls(&["sR(none)"]);
    h.fail("sR(none)");
    h.expect_calls(&["sR(none)"]); // Retried until it lands.
    h.set(2);
    // ASNLT became none with the delete, so 2 moves earlier: its sR waits behind the retry,
    // and the retried sR(none) can never land after it (I3, fences).
    h.expect_calls(&[]);
    h.complete("sR(none)");
    h.expect_calls(&["sR(2)"]);
    h.complete("sR(2)");
    h.expect_calls(&["C"]);
    h.complete("C");
    h.expect_calls(&[]);
    assert_eq!(h.manager_alarm(), Some(2));
    assert_eq!(h.get(), Some(2));
    h.assert_converged();
}

/// Found by the simulator (`deferred-delete-race`, seed 98): a Cancel's reschedule to `none`
/// is still in flight when a client moves the alarm later. The move-later must not commit
/// before that reschedule lands, or the manager ends at `none` while storage holds the alarm.
#[test]
fn arm_cancel_reschedule_in_flight_counts_as_the_latest_manager_time() {
    let mut h = Harness::new();
    h.set(5);
    assert_eq!(h.take_calls(), ["sR(5)"]);
    h.delete(); // merges into the commit waiting for sR(5)
    h.complete("sR(5)");
    assert_eq!(h.take_calls(), ["C"]); // the merged commit ships alarm = none
    let ArmDecision::Cancel { arm } = h.arm(5) else { panic!("S = none is clean: cancel") };
    assert_eq!(h.take_calls(), ["sR(none)"]);
    h.set(10);
    // The manager may end at none: 10 is a move earlier now, told before its commit.
    assert!(h.take_calls().is_empty(), "no commit before the manager knows 10");
    h.complete("C");
    h.assert_never_late();
    h.complete("sR(none)");
    assert_eq!(h.arm_resolved(arm), Some(true));
    assert_eq!(h.take_calls(), ["sR(10)"]);
    h.complete("sR(10)");
    assert_eq!(h.take_calls(), ["C"]);
    h.settle();
    h.assert_never_late();
    h.assert_converged();
    assert_eq!(h.manager_alarm(), Some(10));
}

/// Deliberately stricter than workerd (found by the idle-convergence check, mismatched-fire
/// seed 108): a Cancel's reschedule that fails resolves the attempt as a failure and is sent
/// again, so the manager does not keep the stale time it fired while the actor sits idle.
#[test]
fn a_failed_cancel_reschedule_is_sent_again() {
    let mut h = Harness::base(2);
    let arm = expect_cancel(h.arm(1));
    h.expect_calls(&["sR(2)"]);
    h.fail("sR(2)");
    assert_eq!(h.arm_resolved(arm), Some(false), "the attempt fails (uncounted); the manager retries it");
    h.expect_calls(&["sR(2)"]);
    h.complete("sR(2)");
    h.expect_calls(&[]);
    h.assert_converged();
}
