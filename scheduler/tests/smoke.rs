use alarmsim_scheduler::testkit::Harness;
use alarmsim_scheduler::ArmDecision;

#[test]
fn setting_earlier_alarm_persists_alarm_scheduling_before_db() {
    let mut h = Harness::base(2);
    h.set(1);
    assert_eq!(h.take_calls(), ["sR(1)"]);
    h.complete("sR(1)");
    assert_eq!(h.take_calls(), ["C"]);
    h.settle();
    h.assert_converged();
}

#[test]
fn multiple_set_earlier_in_flight_alarms_wait_for_earliest_before_committing_db() {
    let mut h = Harness::base(5);
    h.set(4);
    assert_eq!(h.take_calls(), ["sR(4)"]);
    h.set(3);
    h.set(2);
    assert_eq!(h.take_calls(), Vec::<String>::new());
    h.complete("sR(4)");
    assert_eq!(h.take_calls(), ["sR(2)"]);
    h.set(1);
    assert!(h.take_calls().is_empty());
    h.complete("sR(2)");
    assert_eq!(h.take_calls(), ["sR(1)"]);
    h.complete("sR(1)");
    assert_eq!(h.take_calls(), ["C"]);
    assert!(matches!(h.gate(), alarmsim_scheduler::Gate::Blocked { .. }));
    h.complete("C");
    assert_eq!(h.gate(), alarmsim_scheduler::Gate::Open);
    h.assert_converged();
}

#[test]
fn rapid_move_later_alarm_changes_coalesce_into_bounded_schedule_run_calls() {
    let mut h = Harness::base(1);
    h.set(2);
    h.complete("C");
    assert_eq!(h.take_calls(), ["C", "sR(2)"]);
    for t in [3, 4, 5] {
        h.set(t);
        h.complete("C");
    }
    assert_eq!(h.take_calls(), ["C", "C", "C"]);
    h.complete("sR(2)");
    assert_eq!(h.take_calls(), ["sR(5)"]);
    h.settle();
    h.assert_converged();
}

#[test]
fn deferred_delete_then_set_does_not_lose_alarm() {
    let mut h = Harness::base(1);
    assert_eq!(h.arm(1), ArmDecision::Run { deferred_delete: true });
    assert_eq!(h.get(), None);
    h.drop_handler();
    assert_eq!(h.take_calls(), ["C"]);
    h.complete("C");
    assert_eq!(h.take_calls(), ["sR(none)"]);
    h.fail("sR(none)");
    h.set(2);
    h.settle();
    h.assert_never_late();
    assert_eq!(h.manager_alarm(), Some(2));
}

#[test]
fn tells_alarm_handler_to_reschedule_when_handler_alarm_is_earlier_than_committed_alarm() {
    let mut h = Harness::base(2);
    let ArmDecision::Cancel { arm } = h.arm(1) else { panic!("expected cancel") };
    assert_eq!(h.take_calls(), ["sR(2)"]);
    assert_eq!(h.arm_resolved(arm), None);
    h.complete("sR(2)");
    assert_eq!(h.arm_resolved(arm), Some(true));
}
