//! The findings of `docs/FINDINGS.md`, step by step, without the simulator (issue #15).
//!
//! Each test drives the port of workerd's `ActorSqlite` (`WorkerdActor`) and its local
//! `AlarmScheduler` (`WorkerdLocalScheduler`) by hand, in the style of workerd's
//! `actor-sqlite-test.c++`: a client call, a commit landing, the scheduler firing, the handler
//! ending. Each one runs the interleaving twice: as upstream has it (the alarm is lost or
//! late) and with the finding's proposed fix alone switched on (it is not).
//!
//! The link is local workerd's: `scheduleRun` is applied by the scheduler at once and its
//! answer reaches the actor before anything else happens (R20). Commits land only when a
//! test says so, so a test can hold one in flight.

use alarmsim_scenarios::variants::workerd_head::actor::{PriorTask, WorkerdActor};
use alarmsim_scenarios::variants::workerd_head::manager::WorkerdLocalScheduler;
use alarmsim_scenarios::variants::workerd_head::Fixes;
use alarmsim_scheduler::api::{ActorScheduler, ManagerScheduler};
use alarmsim_scheduler::backoff::RetryPolicy;
use alarmsim_scheduler::time::fires_earlier;
use alarmsim_scheduler::{ActorEffect, ActorId, AlarmRow, AlarmTime, ArmDecision, CallId, CommitId, DurableState, Fence, FireResult, Millis, Outcome, WriteOptions};
use std::collections::VecDeque;

/// Jitter-free randomness for the scheduler's backoff (the tests read only its lower bound).
struct NoJitter;

impl rand::RngCore for NoJitter {
    fn next_u32(&mut self) -> u32 {
        0
    }
    fn next_u64(&mut self) -> u64 {
        0
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        dest.fill(0);
    }
}

/// One actor and its local scheduler, with SQLite's durable alarm beside them.
struct LocalWorkerd {
    fixes: Fixes,
    actor: WorkerdActor,
    scheduler: WorkerdLocalScheduler,
    id: ActorId,
    now: Millis,
    /// What SQLite holds (commits that landed).
    durable: AlarmTime,
    /// Commits shipped and not landed yet, oldest first.
    in_flight: VecDeque<(CommitId, AlarmTime)>,
    incarnation: u64,
    /// R1 only (a production-style RPC link): `scheduleRun` calls wait here until a test
    /// delivers or loses them; `None` is local workerd's link (applied at once).
    wire: Option<VecDeque<(CallId, AlarmTime, Fence)>>,
}

const T: i64 = 1_000_000;

impl LocalWorkerd {
    fn new(fixes: Fixes) -> LocalWorkerd {
        let id = ActorId("a0".to_string());
        LocalWorkerd {
            fixes,
            actor: WorkerdActor::load_with(1, DurableState::default(), PriorTask::Ignore, fixes),
            scheduler: WorkerdLocalScheduler::load_with(Vec::<AlarmRow>::new(), RetryPolicy::default(), fixes),
            id,
            now: Millis(T - 10_000),
            durable: None,
            in_flight: VecDeque::new(),
            incarnation: 1,
            wire: None,
        }
    }

    /// Hands the actor's effects to the scheduler and to the commit queue until it is quiet.
    fn pump(&mut self) {
        while let Some(effect) = self.actor.poll_effect() {
            match effect {
                ActorEffect::Schedule { call, time, fence } => match self.wire.as_mut() {
                    Some(wire) => wire.push_back((call, time, fence)),
                    None => {
                        self.scheduler.schedule(&self.id, time, fence, None);
                        self.actor.on_schedule_result(call, true);
                    }
                },
                ActorEffect::Commit { id, batch } => self.in_flight.push_back((id, batch.alarm)),
                ActorEffect::ArmResolved { .. } => {}
            }
        }
        while let Some(abandon) = self.scheduler.poll_effect() {
            if let alarmsim_scheduler::ManagerEffect::Abandon { scheduled, .. } = abandon {
                let answer = self.actor.abandon_alarm(scheduled).map(|keep| (keep, Fence::default())).map_err(|_| ());
                self.scheduler.on_abandon_result(&self.id, scheduled, answer, self.now);
                self.pump();
            }
        }
    }

    /// A client turn: `setAlarm(t)` (clamped to now, as the API does) and the turn's end.
    fn set_alarm(&mut self, t: i64) {
        self.actor.set_alarm(Millis(t), self.now, WriteOptions::default()).expect("setAlarm");
        self.actor.end_turn();
        self.pump();
    }

    fn delete_alarm(&mut self) {
        self.actor.delete_alarm(WriteOptions::default()).expect("deleteAlarm");
        self.actor.end_turn();
        self.pump();
    }

    /// The oldest commit in flight lands (`ok`) or fails.
    fn land(&mut self, ok: bool) {
        let (id, alarm) = self.in_flight.pop_front().expect("a commit in flight");
        if ok {
            self.durable = alarm;
        }
        self.actor.on_commit_result(id, ok);
        self.pump();
    }

    fn land_all(&mut self) {
        while !self.in_flight.is_empty() {
            self.land(true);
        }
    }

    /// A broken actor is reset and reloads what SQLite holds (nothing in flight survives).
    fn reset(&mut self) {
        self.in_flight.clear();
        self.incarnation += 1;
        let durable = DurableState { alarm: self.durable, ..DurableState::default() };
        self.actor = WorkerdActor::load_with(self.incarnation, durable, PriorTask::Ignore, self.fixes);
    }

    fn advance_to(&mut self, t: i64) {
        self.now = Millis(t);
    }

    /// The scheduler's due alarms are armed; answers each fire's decision.
    fn fire(&mut self) -> Vec<(Millis, ArmDecision)> {
        let fires = self.scheduler.take_due(self.now);
        let decisions = fires.iter().map(|f| (f.scheduled, self.actor.arm_alarm_handler(f.scheduled, self.now).expect("arm"))).collect();
        self.pump();
        decisions
    }

    /// The handler ends; its result reaches the scheduler.
    fn finish(&mut self, scheduled: Millis, outcome: Outcome) {
        self.actor.handler_finished(outcome == Outcome::Succeeded);
        self.pump();
        self.land_all();
        self.report(scheduled, outcome);
    }

    fn report(&mut self, scheduled: Millis, outcome: Outcome) {
        // The world attaches the actor's report to every result; the port's scheduler reads
        // it only with R1's `result_carries_alarm`.
        let report = Some(self.actor.report());
        self.scheduler.on_fire_result(&self.id, scheduled, FireResult { outcome, report }, self.now, &mut NoJitter);
        self.pump();
    }

    /// R1's RPC link: the oldest `scheduleRun` on the wire arrives (`delivered`) or is lost
    /// (the actor hears it failed).
    fn deliver(&mut self, delivered: bool) {
        let (call, time, fence) = self.wire.as_mut().and_then(|w| w.pop_front()).expect("a scheduleRun on the wire");
        if delivered {
            self.scheduler.schedule(&self.id, time, fence, None);
        }
        self.actor.on_schedule_result(call, delivered);
        self.pump();
    }

    /// When the scheduler will next run this actor's handler (`None`: never).
    fn scheduler_fires_at(&self) -> AlarmTime {
        self.scheduler.effective_time(&self.id)
    }

    fn handler_in_flight(&mut self) -> Millis {
        self.set_alarm(T);
        self.land_all();
        self.advance_to(T);
        let fired = self.fire();
        assert_eq!(fired, vec![(Millis(T), ArmDecision::Run { deferred_delete: true })]);
        Millis(T)
    }
}

fn upstream() -> Fixes {
    Fixes::default()
}

/// R1 (a production-style RPC link): the handler re-arms to X, a move later told after its
/// commit. The handler's result reaches the scheduler before `scheduleRun(X)` does, so the
/// scheduler drops T on success, and then `scheduleRun(X)` is lost: upstream only logs it
/// (b4a5ed8cd), and nothing will fire X. With R1's fixes the result carries X (with a fence
/// newer than the actor's last command), and the lost call is sent again.
#[test]
fn r1_a_rearm_whose_move_later_loses_the_race_with_the_result_is_lost() {
    for (fixes, lost) in [(Fixes::ALL, true), (Fixes::ALL_AND_RPC, false)] {
        let mut w = LocalWorkerd::new(fixes);
        let t = w.handler_in_flight();
        w.wire = Some(VecDeque::new());
        let x = T + 60_000;
        w.set_alarm(x);
        w.finish(t, Outcome::Succeeded);
        assert_eq!(w.durable, Some(Millis(x)), "SQLite holds X");
        w.deliver(false);
        let expected = if lost { None } else { Some(Millis(x)) };
        assert_eq!(w.scheduler_fires_at(), expected, "fixes {fixes:?}");
        // With the fixes the move-later went out again; it lands and changes nothing.
        if !lost {
            w.deliver(true);
            assert_eq!(w.scheduler_fires_at(), Some(Millis(x)));
        }
    }
}

/// R2 (a production-style RPC link): a move-later to B is in flight; a client moves the alarm
/// later to C (parked behind it), then back to B. That commit is neither earlier nor later
/// than `alarmScheduledNoLaterThan` (B), so it tells nothing, and C stays parked: when the
/// move-later to B lands, the drain tells C. The scheduler then holds C while SQLite holds B,
/// and the alarm fires late. With R2's fix the commit of B drops the parked C.
#[test]
fn r2_a_write_back_to_the_in_flight_time_leaves_a_stale_later_time_parked() {
    for (fixes, late) in [(Fixes::ALL, true), (Fixes::ALL_AND_RPC, false)] {
        let mut w = LocalWorkerd::new(fixes);
        let (a, b, c) = (T, T + 60_000, T + 500_000);
        w.set_alarm(a);
        w.land_all();
        assert_eq!(w.scheduler_fires_at(), Some(Millis(a)));
        w.wire = Some(VecDeque::new());
        w.set_alarm(b);
        w.land_all(); // The move-later to B goes out and stays on the wire.
        w.set_alarm(c);
        w.land_all(); // C is parked behind it.
        w.set_alarm(b);
        w.land_all(); // Back to B: no move either way.
        assert_eq!(w.durable, Some(Millis(b)));
        while w.wire.as_ref().is_some_and(|wire| !wire.is_empty()) {
            w.deliver(true); // B lands; the drain tells whatever is parked.
        }
        let expected = if late { Some(Millis(c)) } else { Some(Millis(b)) };
        assert_eq!(w.scheduler_fires_at(), expected, "fixes {fixes:?}");
    }
}

/// R3 (a production-style RPC link): a request that did not move the alarm later sets
/// `alarmScheduledNoLaterThan` to its time when it settles, even if a newer request went out
/// meanwhile. Here the fire of A finds the alarm moved to V (told by a move-later still on the
/// wire) and reschedules to V before cancelling; a client then moves the alarm later to X.
/// The reschedule's answer comes back after X's move-later left and rewinds the actor's belief
/// to V, so a write of Y between V and X is told only after its commit, while the scheduler
/// already holds X: it is later than SQLite (I1), and if that call is lost, the alarm fires
/// late. With R3's fix only the newest request's answer sets it, and Y is told before its
/// commit, as the move earlier it is.
#[test]
fn r3_an_older_requests_late_answer_rewinds_what_the_actor_believes_the_scheduler_holds() {
    let rpc_without_r3 = Fixes { newest_request_sets_asnlt: false, ..Fixes::ALL_AND_RPC };
    for (fixes, late) in [(rpc_without_r3, true), (Fixes::ALL_AND_RPC, false)] {
        let mut w = LocalWorkerd::new(fixes);
        let (a, v, x, y) = (T, T + 10_000, T + 90_000, T + 50_000);
        w.set_alarm(a);
        w.land_all();
        w.wire = Some(VecDeque::new());
        w.set_alarm(v);
        w.land_all(); // The move-later to V goes out and stays on the wire.
        w.advance_to(a);
        let fired = w.fire();
        assert!(matches!(fired[..], [(at, ArmDecision::Cancel { .. })] if at == Millis(a)), "A is cancelled after rescheduling to V: {fired:?}");
        w.deliver(true); // The move-later to V lands.
        w.set_alarm(x);
        w.land_all(); // The move-later to X goes out, behind the reschedule to V.
        w.deliver(true); // The reschedule's answer: upstream now believes the scheduler holds V.
        w.deliver(true); // X lands.
        assert_eq!(w.scheduler_fires_at(), Some(Millis(x)));
        w.set_alarm(y);
        let mut scheduler_later_than_sqlite = false;
        loop {
            if !w.in_flight.is_empty() {
                w.land(true);
            } else if w.wire.as_ref().is_some_and(|wire| !wire.is_empty()) {
                w.deliver(true);
            } else {
                break;
            }
            scheduler_later_than_sqlite |= fires_earlier(w.durable, w.scheduler_fires_at());
        }
        assert_eq!(w.durable, Some(Millis(y)));
        assert_eq!(scheduler_later_than_sqlite, late, "fixes {fixes:?}");
        assert_eq!(w.scheduler_fires_at(), Some(Millis(y)), "both end with Y once every call lands");
    }
}

/// F1: the handler calls `setAlarm` with its own time (here `setAlarm(Date.now())` in the
/// handler's first millisecond, clamped to T). The write is a no-op for the row, so nothing
/// is committed or scheduled, but it cancels the deferred delete: SQLite keeps T, the
/// scheduler drops T on success, and the alarm never fires.
#[test]
fn f1_a_handler_that_sets_its_own_time_loses_the_alarm() {
    for (fixes, lost) in [(upstream(), true), (Fixes { same_time_in_handler_reschedules: true, ..upstream() }, false)] {
        let mut w = LocalWorkerd::new(fixes);
        let t = w.handler_in_flight();
        w.set_alarm(T - 5_000); // setAlarm(past) in the handler: clamped to now = T.
        w.finish(t, Outcome::Succeeded);
        assert_eq!(w.durable, Some(t), "SQLite keeps T: the deferred delete was cancelled");
        let expected = if lost { None } else { Some(t) };
        assert_eq!(w.scheduler_fires_at(), expected, "fixes {fixes:?}");
    }
}

/// F1, second shape: `setAlarm(X)` then `setAlarm(T)` in one handler. X's post-commit sync
/// is skipped (the version moved on) and T is not earlier than what the scheduler holds.
#[test]
fn f1_moving_away_and_back_to_the_handlers_own_time_loses_the_alarm() {
    for (fixes, lost) in [(upstream(), true), (Fixes { same_time_in_handler_reschedules: true, ..upstream() }, false)] {
        let mut w = LocalWorkerd::new(fixes);
        let t = w.handler_in_flight();
        w.set_alarm(T + 60_000);
        w.set_alarm(T);
        w.finish(t, Outcome::Succeeded);
        assert_eq!(w.durable, Some(t));
        assert_eq!(w.scheduler_fires_at(), if lost { None } else { Some(t) }, "fixes {fixes:?}");
    }
}

/// F1, third shape: the handler ends and, before its result reaches the scheduler, a client
/// turn sets the alarm to T again.
#[test]
fn f1_setting_t_between_the_handlers_end_and_its_result_loses_the_alarm() {
    for (fixes, lost) in [(upstream(), true), (Fixes { same_time_in_handler_reschedules: true, ..upstream() }, false)] {
        let mut w = LocalWorkerd::new(fixes);
        let t = w.handler_in_flight();
        w.actor.handler_finished(true);
        w.pump();
        w.set_alarm(T - 60_000); // A client's setAlarm(past): clamped to now = T.
        w.land_all();
        w.report(t, Outcome::Succeeded);
        assert_eq!(w.durable, Some(t));
        assert_eq!(w.scheduler_fires_at(), if lost { None } else { Some(t) }, "fixes {fixes:?}");
    }
}

/// F2: a new alarm set while a failed alarm waits out its backoff is queued behind the retry
/// timer (R17) and runs only when the retry would have: here 2 s late (up to 64 s with more
/// failures), although the docs say retries apply only to the most recent setAlarm().
#[test]
fn f2_a_new_alarm_waits_behind_the_failed_alarms_backoff() {
    for (fixes, late) in [(upstream(), true), (Fixes { replacement_beats_backoff: true, ..upstream() }, false)] {
        let mut w = LocalWorkerd::new(fixes);
        let t = w.handler_in_flight();
        w.finish(t, Outcome::Failed { counted: true });
        w.advance_to(T + 100);
        w.set_alarm(T + 500); // A new alarm, due before the retry (T + 2000 ms).
        w.land_all();
        let fires_at = w.scheduler_fires_at().expect("scheduled");
        assert_eq!(fires_at > Millis(T + 500), late, "fixes {fixes:?}: the scheduler fires at {fires_at:?}");
    }
}

/// F3: a rolled-back explicit transaction that wrote the alarm keeps its `alarmVersion`
/// bump, so the handler's move-later commit skips its post-commit sync; the scheduler then
/// drops T on success while SQLite holds the later time.
#[test]
fn f3_a_rolled_back_transaction_cancels_a_move_later_sync() {
    for (fixes, lost) in [(upstream(), true), (Fixes { rollback_restores_alarm_version: true, ..upstream() }, false)] {
        let mut w = LocalWorkerd::new(fixes);
        let t = w.handler_in_flight();
        w.set_alarm(T + 20_000); // Move later: its commit is in flight, synced after it lands.
        w.actor.txn_begin().expect("begin");
        w.actor.set_alarm(Millis(T + 180_000), w.now, WriteOptions::default()).expect("set");
        w.actor.txn_rollback().expect("rollback");
        w.actor.end_turn();
        w.pump();
        w.finish(t, Outcome::Succeeded);
        assert_eq!(w.durable, Some(Millis(T + 20_000)));
        assert_eq!(w.scheduler_fires_at(), if lost { None } else { Some(Millis(T + 20_000)) }, "fixes {fixes:?}");
    }
}

/// F4 and F5: the scheduler gives up after the retry limit and asks the actor to abandon T
/// while a commit is still in flight. Upstream the actor answers "cleared" at once; the
/// commit then fails, the actor resets and reloads T, and the scheduler has dropped it.
/// With F5 the actor refuses until its commits settle, and with F4 the scheduler asks again
/// after a backoff instead of keeping an entry that no task will ever fire.
#[test]
fn f4_f5_an_abandon_answered_before_a_failing_commit_loses_the_alarm() {
    let fixed = Fixes { failed_abandon_retries: true, abandon_waits_for_commits: true, ..upstream() };
    for (fixes, lost) in [(upstream(), true), (fixed, false)] {
        let mut w = LocalWorkerd::new(fixes);
        let mut t = w.handler_in_flight();
        for _ in 0..RetryPolicy::default().max_counted_retries {
            w.finish(t, Outcome::Failed { counted: true });
            w.advance_to(w.scheduler.next_wakeup().expect("a retry").0);
            let fired = w.fire();
            t = fired[0].0;
        }
        // The last attempt writes (a key) and fails; its commit is still in flight when the
        // scheduler, at its limit, asks to abandon T.
        w.actor.put("k", b"v".to_vec(), WriteOptions::default()).expect("put");
        w.actor.handler_finished(false);
        w.pump();
        assert!(!w.in_flight.is_empty());
        w.report(t, Outcome::Failed { counted: true });
        w.land(false); // The commit fails: the output gate breaks and the actor resets.
        w.reset();
        assert_eq!(w.durable, Some(t), "SQLite still holds T");
        w.advance_to(w.now.0 + 10_000);
        let _ = w.fire();
        w.land_all();
        let still_scheduled = w.scheduler_fires_at().is_some() || w.durable.is_none();
        assert_eq!(!still_scheduled, lost, "fixes {fixes:?}: scheduler {:?}, SQLite {:?}", w.scheduler_fires_at(), w.durable);
    }
}

/// F6: `setAlarm(T)` and then `deleteAlarm()`, both commits in flight, and T fires. The
/// local value (none) equals the last confirmed one (none), so `armAlarmHandler` calls the
/// state clean (ABA), cancels the run and the scheduler drops T, while SQLite holds T once
/// the first commit lands and until the delete lands: the scheduler is later than storage
/// (I1). If the delete's commit then fails, the actor reloads T and nothing will fire it.
/// With the fix the state is in flux, so the handler runs without its deferred delete, as
/// upstream does for any alarm write in flight.
#[test]
fn f6_two_commits_in_flight_look_clean_and_the_scheduler_drops_t() {
    for (fixes, lost) in [(upstream(), true), (Fixes { clean_needs_no_commit_in_flight: true, ..upstream() }, false)] {
        let mut w = LocalWorkerd::new(fixes);
        w.advance_to(T);
        w.set_alarm(T); // A move earlier: the scheduler holds T before the commit ships.
        w.delete_alarm();
        assert_eq!(w.in_flight.len(), 2);
        let decisions = w.fire();
        let (t, decision) = decisions[0];
        if let ArmDecision::Cancel { .. } = decision {
            w.report(t, Outcome::Canceled);
        }
        w.land(true); // SQLite holds T; the delete is still in flight.
        assert_eq!(w.durable, Some(Millis(T)));
        assert_eq!(w.scheduler_fires_at().is_none(), lost, "fixes {fixes:?}: decision {decision:?}");
    }
}

/// F7: the handler moves its alarm away (here `deleteAlarm()`) and back to its own time T,
/// then throws. The scheduler queued T while the attempt ran, and "if an alarm is queued,
/// there's no point in retrying the current one": T runs again at once, with retryCount 0,
/// no backoff, and the retry limit never comes.
#[test]
fn f7_re_setting_the_failing_alarms_own_time_skips_the_backoff() {
    for (fixes, at_once) in [(upstream(), true), (Fixes { own_time_keeps_retry: true, ..upstream() }, false)] {
        let mut w = LocalWorkerd::new(fixes);
        let t = w.handler_in_flight();
        w.delete_alarm();
        w.land_all();
        w.set_alarm(T - 1); // setAlarm(past): clamped to now = T, a move earlier from none.
        w.finish(t, Outcome::Failed { counted: true });
        let next = w.scheduler.next_wakeup().expect("T is scheduled again");
        assert_eq!(next == t, at_once, "fixes {fixes:?}: the next run is at {next:?}");
        let counted = w.scheduler.retry_state(&w.id).expect("an entry").counted;
        assert_eq!(counted == 0, at_once, "fixes {fixes:?}: the failure counted {counted} times");
    }
}

/// F8: the process crashed after the user's `setAlarm(T2)` committed and before its
/// post-commit `scheduleRun(T2)`, so on restart SQLite holds T2 and the scheduler's row T.
/// T fires once T2 is overdue, runs (the overdue rule, #5764) and aborts with
/// `retryAlarm: false`; the scheduler asks to abandon T, and the actor answers "I hold T2"
/// so that it re-registers it. Upstream ignores the answer and deletes its entry.
#[test]
fn f8_an_abandon_answer_naming_another_alarm_is_ignored() {
    for (fixes, lost) in [(upstream(), true), (Fixes { abandon_answer_reregisters: true, ..upstream() }, false)] {
        let t2 = Millis(T + 1_000);
        let row = AlarmRow { actor: ActorId("a0".to_string()), time: Some(Millis(T)), name: None, fence: Fence::default() };
        let mut w = LocalWorkerd::new(fixes);
        w.actor = WorkerdActor::load_with(2, DurableState { alarm: Some(t2), ..DurableState::default() }, PriorTask::Ignore, fixes);
        w.scheduler = WorkerdLocalScheduler::load_with(vec![row], RetryPolicy::default(), fixes);
        w.durable = Some(t2);
        w.advance_to(T + 5_000);
        let fired = w.fire();
        assert_eq!(fired, vec![(Millis(T), ArmDecision::Run { deferred_delete: true })], "the overdue T2 runs for the fire of T");
        w.finish(Millis(T), Outcome::Aborted);
        assert_eq!(w.durable, Some(t2), "the abort keeps T2");
        assert_eq!(w.scheduler_fires_at().is_none(), lost, "fixes {fixes:?}");
    }
}

// ----- the same findings in the simulator ------------------------------------------------

use alarmsim_scenarios::variants::workerd_head::WorkerdPort;
use alarmsim_scheduler::api::SchedulerFactory;
use alarmsim_sim::scenario::{LinkModel, ScenarioSpec};
use std::sync::Arc;

/// Every fix alone, by its name in `docs/FINDINGS.md`.
fn each_fix() -> Vec<(&'static str, Fixes)> {
    let none = Fixes::default();
    vec![
        ("F1", Fixes { same_time_in_handler_reschedules: true, ..none }),
        ("F2", Fixes { replacement_beats_backoff: true, ..none }),
        ("F3", Fixes { rollback_restores_alarm_version: true, ..none }),
        ("F4+F5", Fixes { failed_abandon_retries: true, abandon_waits_for_commits: true, ..none }),
        ("F6", Fixes { clean_needs_no_commit_in_flight: true, ..none }),
        ("F7", Fixes { own_time_keeps_retry: true, ..none }),
        ("F8", Fixes { abandon_answer_reregisters: true, ..none }),
        ("R1", Fixes { commands_fenced: true, result_carries_alarm: true, move_later_retried: true, ..none }),
        ("R2", Fixes { stale_parked_later_dropped: true, ..none }),
        ("R3", Fixes { newest_request_sets_asnlt: true, ..none }),
    ]
}

/// A catalog scenario under `link`.
fn on_link(scenario: &str, link: LinkModel) -> ScenarioSpec {
    let mut spec = alarmsim_scenarios::scenario(scenario).expect("a catalog scenario");
    spec.link = link;
    spec
}

fn rpc(scenario: &str) -> ScenarioSpec {
    on_link(scenario, LinkModel::Rpc)
}

fn local(scenario: &str) -> ScenarioSpec {
    on_link(scenario, LinkModel::Local)
}

/// A run's verdict: its violation, named.
fn verdict(report: alarmsim_sim::RunReport) -> Result<(), String> {
    match report.violation {
        None => Ok(()),
        Some(v) => Err(format!("{}: {}", v.invariant.name(), v.message)),
    }
}

fn port(fixes: Fixes) -> Arc<dyn SchedulerFactory> {
    Arc::new(WorkerdPort::with_fixes(fixes))
}

fn passes(spec: &ScenarioSpec, fixes: Fixes, seed: u64) -> Result<(), String> {
    verdict(alarmsim_sim::run_seed_traced(spec, port(fixes), seed, alarmsim_sim::RunOptions { keep_trace: false, coverage: false }))
}

/// How a seed shows its finding.
#[derive(Clone, Copy, Debug)]
enum Shows {
    /// Upstream fails the seed and the finding's fix alone repairs it.
    FixedAlone,
    /// Every other fix on still fails the seed; adding the finding's fix repairs it (the
    /// finding hides behind the others on upstream).
    FixedLast,
}

/// Seeds per finding, under the local link, found by `find_the_seed_each_fix_repairs` below
/// (and, for `FixedLast`, by sweeping `workerd-head-fixed` before its last fix). The
/// reference and `workerd-head` run the same seeds in `tests/regressions.txt`.
const SEEDS: &[(&str, &str, u64, Shows)] = &[
    ("F1", "standard", 14, Shows::FixedAlone),
    ("F1", "edge-values", 4, Shows::FixedAlone),
    ("F2", "retry-backoff", 2, Shows::FixedAlone),
    ("F2", "standard", 2, Shows::FixedAlone),
    ("F3", "explicit-transactions", 236, Shows::FixedAlone),
    ("F4+F5", "cpu-limit-retries", 29, Shows::FixedAlone),
    ("F6", "mismatched-fire", 6, Shows::FixedAlone),
    ("F6", "edge-values", 497, Shows::FixedAlone),
    ("F7", "unconfirmed-writes", 265, Shows::FixedLast),
    ("F8", "abandon-vs-replacement", 3158, Shows::FixedLast),
];

/// `base` with the named fix's switches on (`true`) or off.
fn with(base: Fixes, finding: &str, on: bool) -> Fixes {
    let fix = each_fix().into_iter().find(|(name, _)| *name == finding).expect("a named fix").1;
    let pick = |mine: bool, theirs: bool| if mine { on } else { theirs };
    Fixes {
        same_time_in_handler_reschedules: pick(fix.same_time_in_handler_reschedules, base.same_time_in_handler_reschedules),
        replacement_beats_backoff: pick(fix.replacement_beats_backoff, base.replacement_beats_backoff),
        rollback_restores_alarm_version: pick(fix.rollback_restores_alarm_version, base.rollback_restores_alarm_version),
        failed_abandon_retries: pick(fix.failed_abandon_retries, base.failed_abandon_retries),
        abandon_waits_for_commits: pick(fix.abandon_waits_for_commits, base.abandon_waits_for_commits),
        clean_needs_no_commit_in_flight: pick(fix.clean_needs_no_commit_in_flight, base.clean_needs_no_commit_in_flight),
        own_time_keeps_retry: pick(fix.own_time_keeps_retry, base.own_time_keeps_retry),
        abandon_answer_reregisters: pick(fix.abandon_answer_reregisters, base.abandon_answer_reregisters),
        commands_fenced: pick(fix.commands_fenced, base.commands_fenced),
        result_carries_alarm: pick(fix.result_carries_alarm, base.result_carries_alarm),
        move_later_retried: pick(fix.move_later_retried, base.move_later_retried),
        stale_parked_later_dropped: pick(fix.stale_parked_later_dropped, base.stale_parked_later_dropped),
        newest_request_sets_asnlt: pick(fix.newest_request_sets_asnlt, base.newest_request_sets_asnlt),
    }
}

#[test]
fn each_finding_has_seeds_its_fix_repairs() {
    for &(finding, scenario, seed, shows) in SEEDS {
        let spec = local(scenario);
        let (without, with_fix) = match shows {
            Shows::FixedAlone => (Fixes::default(), with(Fixes::default(), finding, true)),
            Shows::FixedLast => (with(Fixes::ALL, finding, false), Fixes::ALL),
        };
        let before = passes(&spec, without, seed);
        assert!(before.is_err(), "{finding}: {scenario} seed {seed} passes without the fix ({shows:?}); it no longer shows the finding");
        if let Err(why) = passes(&spec, with_fix, seed) {
            panic!("{finding}: {scenario} seed {seed} still fails with the fix ({shows:?}): {why}\n(without: {})", before.unwrap_err());
        }
        assert!(passes(&spec, Fixes::ALL, seed).is_ok(), "{finding}: {scenario} seed {seed} fails on workerd-head-fixed");
    }
}

/// Not run by default: under the RPC link, the first seeds per scenario that every fix but
/// one of R1-R3 fails and every fix repairs (`ALARMSIM_FIND_SEEDS=n`).
#[test]
#[ignore]
fn find_the_rpc_seed_each_fix_repairs_last() {
    let seeds: u64 = std::env::var("ALARMSIM_FIND_SEEDS").ok().and_then(|n| n.parse().ok()).unwrap_or(30);
    for scenario in ["standard", "move-later-coalescing", "deferred-delete-race", "unconfirmed-writes", "edge-values", "abandon-vs-replacement"] {
        let spec = rpc(scenario);
        let mut found: std::collections::BTreeMap<&str, Vec<u64>> = Default::default();
        for seed in 0..seeds {
            if passes(&spec, Fixes::ALL_AND_RPC, seed).is_err() {
                continue;
            }
            for finding in ["R1", "R2", "R3"] {
                if passes(&spec, with(Fixes::ALL_AND_RPC, finding, false), seed).is_err() {
                    found.entry(finding).or_default().push(seed);
                }
            }
        }
        println!("{scenario}: {found:?}");
    }
}

/// Not run by default: for each scenario, the first seeds that upstream fails and a single
/// fix repairs, to choose `SEEDS` (`cargo test --release --test workerd_findings -- --ignored
/// --nocapture`).
#[test]
#[ignore]
fn find_the_seed_each_fix_repairs() {
    // ALARMSIM_FIND_SCENARIOS=a,b and ALARMSIM_FIND_SEEDS=n narrow or widen the search.
    let only = std::env::var("ALARMSIM_FIND_SCENARIOS").unwrap_or_default();
    let seeds: u64 = std::env::var("ALARMSIM_FIND_SEEDS").ok().and_then(|n| n.parse().ok()).unwrap_or(100);
    let scenarios: Vec<String> = alarmsim_scenarios::scenarios()
        .iter()
        .filter(|s| s.queue().is_none() && s.name != "large-namespace" && (only.is_empty() || only.split(',').any(|o| o == s.name)))
        .map(|s| s.name.to_string())
        .collect();
    for scenario in &scenarios {
        let spec = local(scenario);
        let mut found: std::collections::BTreeMap<&str, Vec<u64>> = Default::default();
        for seed in 0..seeds {
            if passes(&spec, Fixes::default(), seed).is_ok() {
                continue;
            }
            for (name, fixes) in each_fix() {
                if passes(&spec, fixes, seed).is_ok() {
                    found.entry(name).or_default().push(seed);
                }
            }
        }
        println!("{scenario}: {found:?}");
    }
}

// ----- short plans that replay each finding ----------------------------------------------

/// A finding's saved plan (`tests/findings/`), the fixes it fails with, and the fixes that
/// repair it. The plan's own seed and steps make the world; the subject is swapped.
struct FindingPlan {
    finding: &'static str,
    file: &'static str,
    fails_with: fn() -> Fixes,
    passes_with: fn() -> Fixes,
}

const PLANS: &[FindingPlan] = &[
    // F6 needs two turns in one millisecond, ordered by the seed: `setAlarm(past)` and
    // `deleteAlarm()` from two clients at once (the sweep's seeds shrink only to 55-62 steps,
    // because there that order comes from the rest of the run).
    FindingPlan { finding: "F6", file: "f6-two-commits-look-clean.json", fails_with: || Fixes::NONE, passes_with: || with(Fixes::NONE, "F6", true) },
    FindingPlan { finding: "R1", file: "r1-rearm-races-the-result.json", fails_with: || Fixes::ALL, passes_with: || Fixes::ALL_AND_RPC },
    FindingPlan { finding: "R2", file: "r2-stale-parked-later-time.json", fails_with: || with(Fixes::ALL_AND_RPC, "R2", false), passes_with: || Fixes::ALL_AND_RPC },
    FindingPlan { finding: "R3", file: "r3-older-answer-rewinds-asnlt.json", fails_with: || with(Fixes::ALL_AND_RPC, "R3", false), passes_with: || Fixes::ALL_AND_RPC },
];

fn findings_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/findings")
}

fn run_finding_plan(plan: &alarmsim_sim::Plan, fixes: Fixes) -> Result<(), String> {
    let spec = alarmsim_scenarios::scenario(&plan.scenario).expect("a catalog scenario");
    verdict(alarmsim_sim::run_plan(&spec, port(fixes), plan.clone(), false))
}

/// Each finding's plan keeps at most 12 steps, fails without its fix, passes with it, and the
/// reference passes it too (`replay --plan tests/findings/<file>` shows the trace).
#[test]
fn each_findings_short_plan_fails_without_its_fix_and_passes_with_it() {
    for p in PLANS {
        let path = findings_dir().join(p.file);
        let plan = alarmsim_sim::Plan::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(plan.steps.len() <= 12, "{}: {} steps", p.finding, plan.steps.len());
        let without = run_finding_plan(&plan, (p.fails_with)());
        assert!(without.is_err(), "{}: {} passes without its fix", p.finding, p.file);
        if let Err(why) = run_finding_plan(&plan, (p.passes_with)()) {
            panic!("{}: {} still fails with its fix: {why}", p.finding, p.file);
        }
        let spec = alarmsim_scenarios::scenario(&plan.scenario).expect("a catalog scenario");
        let reference = alarmsim_scenarios::subject("reference", &spec).expect("the reference");
        let report = alarmsim_sim::run_plan(&spec, reference, plan.clone(), false);
        assert!(report.violation.is_none(), "{}: the reference fails {}: {:?}", p.finding, p.file, report.violation);
    }
}

/// Not run by default: shrinks the R findings' seeds with every fix but the finding's on, and
/// saves the plans to `tests/findings/` (F6's two-step plan was written by hand).
#[test]
#[ignore]
fn shrink_the_rpc_findings_into_plans() {
    use alarmsim_sim::shrink::{shrink_best, ShrinkLimits};
    let cases = [("R1", "standard", 0..20), ("R2", "move-later-coalescing", 0..40), ("R3", "move-later-coalescing", 0..40)];
    for (finding, scenario, seeds) in cases {
        let p = PLANS.iter().find(|p| p.finding == finding).expect("a plan entry");
        let spec = rpc(scenario);
        let factory = port((p.fails_with)());
        let limits = ShrinkLimits { max_runs: 5_000, max_time: std::time::Duration::from_secs(120) };
        let passes_fixed = |seed: u64| passes(&spec, (p.passes_with)(), seed).is_ok();
        let candidates: Vec<u64> = seeds.filter(|&s| passes_fixed(s)).collect();
        let (seed, shrunk) = shrink_best(&spec, factory, candidates, 5, limits).expect("a failing seed");
        println!("{finding}: {scenario} seed {seed} -> {} steps\n{}", shrunk.plan.steps.len(), shrunk.summary());
        shrunk.plan.save(&findings_dir().join(p.file)).expect("save the plan");
    }
}
