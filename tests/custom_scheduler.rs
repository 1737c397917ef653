//! Testing your own scheduler: a complete example (walkthrough: docs/TEST_YOUR_SCHEDULER.md).
//!
//! `ConservativeActor` is an actor-side alarm scheduler written from scratch against the
//! traits in `alarmsim_scheduler::api`. It uses none of the reference actor (`ActorAlarms`),
//! only the shared vocabulary types (`Fence`, `CommitBatch`, `ActorEffect`, ...). The manager
//! side reuses the reference `ManagerCore`. The tests at the end run it through every scenario of
//! the catalog.
//!
//! The design trades throughput for simplicity: the actor does one thing at a time.
//!
//! - **One I/O at a time.** At any moment the actor waits for at most one thing: one durable
//!   commit or one manager command ([`Io`]). Writes made meanwhile merge into one pending
//!   batch. No reordered acknowledgements, no command queue, no version checks.
//! - **Earlier: tell first. Later: commit first.** `manager_max` is the latest time the manager
//!   could fire given everything this actor sent. A batch whose alarm fires earlier than
//!   `manager_max` is announced (and acknowledged) before it ships; any other batch ships at
//!   once, and once it is durable the manager is told the new value. So the manager never
//!   fires later than durable storage (I1). `manager_min` is the earliest time the manager
//!   may end up holding (a report can carry a value earlier than the commands, and be lost):
//!   while it is earlier than storage the manager hears the durable alarm again (I2).
//! - **Fences.** Every command and report carries a fence `(incarnation, seq, report)`, so a
//!   late or duplicated message can never overwrite a newer one at the manager. A failed
//!   re-announce or move-later is sent again until it lands.
//! - **Mismatched fires.** A fire for a time that is not the stored alarm is cancelled after
//!   rescheduling the manager to the stored alarm whenever the alarm is clean (no write of it
//!   on its way to storage); while a write of it is in flight the handler runs and the alarm
//!   is kept.

mod support;

use alarmsim_scheduler::api::{ActorScheduler, ManagerScheduler, SchedulerFactory};
use alarmsim_scheduler::backoff::RetryPolicy;
use alarmsim_scheduler::probe::{Probe, Probes};
use alarmsim_scheduler::time::{earliest, fires_earlier, latest};
use alarmsim_scheduler::{
    ActorEffect, ActorId, AlarmError, AlarmRow, AlarmTime, ArmDecision, ArmId, CallId, CommitBatch, CommitId, DurableState,
    Fence, Gate, ManagerCore, Millis, WriteOptions,
};
use alarmsim_sim::sweep::{assert_catalog_passes, assert_seeds_pass, seeds_from_env};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

// ----- the factory: what `--variant` would select --------------------------------------------

/// Builds both halves. Registering it as a variant is one line in `alarmsim_scenarios::variants()`;
/// from your own crate, run the catalog with it directly (the tests at the end of this file).
pub struct Conservative;

impl SchedulerFactory for Conservative {
    fn name(&self) -> &str {
        "conservative"
    }

    fn description(&self) -> &str {
        "example: a one-I/O-at-a-time actor written from scratch, with the reference manager"
    }

    fn new_actor(&self, _actor: ActorId, incarnation: u64, durable: DurableState, probes: &Probes) -> Box<dyn ActorScheduler> {
        Box::new(ConservativeActor::load(incarnation, durable, probes.clone()))
    }

    fn new_manager(&self, rows: Vec<AlarmRow>, policy: RetryPolicy, probes: &Probes) -> Box<dyn ManagerScheduler> {
        Box::new(ManagerCore::load_probed(rows, policy, probes.clone()))
    }

    /// Its own probes, and the reference manager's (it reuses `ManagerCore`).
    fn probes(&self) -> Vec<&'static Probe> {
        let mut all = conservative_probes::ALL.to_vec();
        all.extend_from_slice(alarmsim_scheduler::probe::manager::ALL);
        all
    }
}

/// The rare conditions this actor's own design adds: `sweep --coverage` reports how often a
/// run reached each, and lists them when no seed did.
pub mod conservative_probes {
    alarmsim_scheduler::probes! {
        CANCEL_WAITS = "conservative.cancel-waits":
            "a clean mismatched fire arrived while a commit or command was under way: its cancel waits for that I/O";
        RETELL = "conservative.retell":
            "a re-announce, move-later or cancel did not land: the stored alarm is told again (restart-persistence seed 2049)";
    }
}

// ----- the actor ------------------------------------------------------------------------------

/// The one thing the actor waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Io {
    Idle,
    /// A durable commit of `alarm` (and the KV writes beside it).
    Commit { id: CommitId, alarm: AlarmTime, confirmed: bool },
    /// A schedule command telling the manager `time`.
    Command { call: CallId, time: AlarmTime, why: Why },
}

/// Why a command was sent, which decides what its completion does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Why {
    /// A restarted actor re-announces its stored alarm (the manager may have lost it).
    Announce,
    /// The pending batch moves the alarm earlier: the manager must know before it ships.
    BeforeCommit,
    /// A commit moved the alarm later (or deleted it): catch the manager up.
    AfterCommit,
    /// `armAlarmHandler` cancels a mismatched fire once the manager holds the stored alarm.
    Cancel { arm: ArmId },
}

#[derive(Debug)]
pub struct ConservativeActor {
    incarnation: u64,
    /// S: the alarm as written locally (what `getAlarm` shows).
    alarm: AlarmTime,
    kv: BTreeMap<String, Vec<u8>>,
    /// The alarm of the newest acknowledged commit (at load: what storage held).
    durable: AlarmTime,
    /// Writes not handed to storage yet, merged; its `alarm` is always S.
    pending: Option<CommitBatch>,
    /// The pending batch holds a confirmed write (one that closes the output gate).
    pending_confirmed: bool,
    /// A turn is writing: the pending batch must not ship before `end_turn`.
    turn_open: bool,
    io: Io,
    /// The latest time the manager could fire, given every command and report sent so far.
    manager_max: AlarmTime,
    /// The earliest time the manager may end up holding: the newest command's time, or a
    /// report sent after it (which outranks it, but may be lost on the way).
    manager_min: AlarmTime,
    /// Reports handed out while the current command was in flight: they rank above it, so
    /// the manager may hold one of them rather than the command's value.
    reported_during_command: Option<AlarmTime>,
    /// A re-announce or a move-later failed: the manager may hold an older value, or none.
    retell: bool,
    /// A clean mismatched fire arrived while other I/O was under way: its cancel is sent
    /// (with the durable alarm) as soon as the actor is free (§2.3, R8).
    cancel_waiting: Option<ArmId>,
    seq: u64,
    reports: u32,
    next_call: u64,
    next_commit: u64,
    next_arm: u64,
    in_handler: bool,
    deferred_delete: bool,
    broken: bool,
    /// Open explicit transactions, innermost last (R5).
    savepoints: Vec<Savepoint>,
    effects: VecDeque<ActorEffect>,
    /// Where this actor's coverage probes go (`conservative_probes`).
    probes: Probes,
}

/// What an explicit transaction restores on rollback. Its writes apply at once: nothing
/// ships before the turn ends (`turn_open`), so a rollback is a restore and a commit keeps
/// what is there.
#[derive(Debug)]
struct Savepoint {
    alarm: AlarmTime,
    kv: BTreeMap<String, Vec<u8>>,
    pending: Option<CommitBatch>,
    pending_confirmed: bool,
    turn_open: bool,
    deferred_delete: bool,
}

impl ConservativeActor {
    /// A new incarnation, from what storage holds. The stored alarm is re-announced: the
    /// manager may have lost it (a crash between a commit and its command, a power loss), or
    /// hold one storage never got.
    pub fn load(incarnation: u64, durable: DurableState, probes: Probes) -> ConservativeActor {
        let mut actor = ConservativeActor {
            incarnation,
            alarm: durable.alarm,
            kv: durable.kv,
            durable: durable.alarm,
            pending: None,
            pending_confirmed: false,
            turn_open: false,
            io: Io::Idle,
            // The manager holds at most what storage holds. With nothing stored that bound
            // is `None`, +∞: the first alarm set is announced before it is committed.
            manager_max: durable.alarm,
            manager_min: durable.alarm,
            reported_during_command: None,
            retell: false,
            cancel_waiting: None,
            seq: 0,
            reports: 0,
            next_call: 0,
            next_commit: 0,
            next_arm: 0,
            in_handler: false,
            deferred_delete: false,
            broken: false,
            savepoints: Vec::new(),
            effects: VecDeque::new(),
            probes,
        };
        // Even `none` after a restart: a reset after a failed move-earlier leaves the manager
        // holding a time storage never got, and it would stay earlier than storage until it
        // fired (I2 while idle, `idle-convergence`). A first incarnation with nothing stored
        // has told the manager nothing.
        if durable.alarm.is_some() || incarnation > 1 {
            actor.send(durable.alarm, Why::Announce);
        }
        actor
    }

    /// Nothing written that is not durable, and nothing in flight.
    fn idle(&self) -> bool {
        self.io == Io::Idle && self.pending.is_none() && !self.turn_open
    }

    /// §2.3 "clean": no write of the alarm is on its way to storage. The pending batch always
    /// carries S, so only S against the durable value and the commit in flight matter.
    fn alarm_is_clean(&self) -> bool {
        let in_flight = match self.io {
            Io::Commit { alarm, .. } => alarm,
            _ => self.alarm,
        };
        self.alarm == self.durable && in_flight == self.alarm
    }

    /// The earliest alarm that is durable or may become durable (the commit in flight).
    fn durable_floor(&self) -> AlarmTime {
        match self.io {
            Io::Commit { alarm, .. } => earliest(self.durable, alarm),
            _ => self.durable,
        }
    }

    /// The value a handler outcome or an abandon answer reports: never later than storage.
    fn report_value(&self) -> AlarmTime {
        earliest(self.alarm, self.durable_floor())
    }

    fn check_not_broken(&self) -> Result<(), AlarmError> {
        if self.broken {
            Err(AlarmError::Broken)
        } else {
            Ok(())
        }
    }

    /// Records a write in the pending batch (and keeps the batch's alarm equal to S).
    fn stage(&mut self, options: WriteOptions) -> &mut CommitBatch {
        self.turn_open = true;
        if !options.allow_unconfirmed {
            self.pending_confirmed = true;
        }
        let alarm = self.alarm;
        let batch = self.pending.get_or_insert_with(CommitBatch::default);
        batch.alarm = alarm;
        batch
    }

    fn write_alarm(&mut self, value: AlarmTime, options: WriteOptions) {
        self.deferred_delete = false; // Any alarm write inside the handler keeps the alarm (R11).
        if self.alarm == value {
            return; // Setting the current value writes nothing (R3).
        }
        self.alarm = value;
        self.stage(options);
    }

    /// Starts the next I/O if the actor is free: the pending batch first (announced first if
    /// it moves the alarm earlier), else the manager catches up with a later durable alarm
    /// (or hears it again after a failed command).
    fn advance(&mut self) {
        if self.broken || self.turn_open || self.io != Io::Idle {
            return;
        }
        if let Some(arm) = self.cancel_waiting.take() {
            self.send(self.durable, Why::Cancel { arm });
        } else if let Some(batch) = &self.pending {
            let alarm = batch.alarm;
            if fires_earlier(alarm, self.manager_max) {
                self.send(alarm, Why::BeforeCommit);
            } else {
                self.ship();
            }
        } else if self.retell || fires_earlier(self.manager_min, self.durable) {
            self.retell = false;
            self.send(self.durable, Why::AfterCommit);
        }
        self.check_invariants();
    }

    fn ship(&mut self) {
        let batch = self.pending.take().expect("a pending batch");
        let confirmed = std::mem::take(&mut self.pending_confirmed);
        self.next_commit += 1;
        let id = CommitId(self.next_commit);
        self.io = Io::Commit { id, alarm: batch.alarm, confirmed };
        self.effects.push_back(ActorEffect::Commit { id, batch });
    }

    fn send(&mut self, time: AlarmTime, why: Why) {
        debug_assert_eq!(self.io, Io::Idle);
        self.seq += 1;
        self.reports = 0;
        self.next_call += 1;
        self.reported_during_command = None;
        // From now on the manager may hold `time`.
        self.manager_max = latest(self.manager_max, time);
        self.manager_min = time;
        let call = CallId(self.next_call);
        self.io = Io::Command { call, time, why };
        self.effects.push_back(ActorEffect::Schedule { call, time, fence: Fence::command(self.incarnation, self.seq) });
    }

    fn break_gate(&mut self) {
        self.broken = true;
        if let Io::Command { why: Why::Cancel { arm }, .. } = self.io {
            self.effects.push_back(ActorEffect::ArmResolved { arm, ok: false });
        }
        if let Some(arm) = self.cancel_waiting.take() {
            self.effects.push_back(ActorEffect::ArmResolved { arm, ok: false });
        }
        self.io = Io::Idle;
        self.pending = None;
    }

    /// I1 as far as this actor can see it: the manager never fires later than any alarm
    /// storage holds or may hold. A failed assertion is a `no-panic` violation with a trace.
    fn check_invariants(&self) {
        if !self.broken {
            assert!(
                !fires_earlier(self.durable_floor(), self.manager_max),
                "I1 (local): the manager may fire at {:?} but storage may hold {:?}",
                self.manager_max,
                self.durable_floor()
            );
        }
    }
}

impl ActorScheduler for ConservativeActor {
    fn get_alarm(&self) -> Result<AlarmTime, AlarmError> {
        self.check_not_broken()?;
        // While the handler runs with its deferred delete pending, the alarm reads as none (R5).
        Ok(if self.in_handler && self.deferred_delete { None } else { self.alarm })
    }

    fn set_alarm(&mut self, time: Millis, now: Millis, options: WriteOptions) -> Result<(), AlarmError> {
        self.check_not_broken()?;
        if time.0 <= 0 {
            return Err(AlarmError::InvalidTime(time.0));
        }
        self.write_alarm(Some(time.max(now)), options); // A past time fires now (R2).
        Ok(())
    }

    fn delete_alarm(&mut self, options: WriteOptions) -> Result<(), AlarmError> {
        self.check_not_broken()?;
        self.write_alarm(None, options);
        Ok(())
    }

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, AlarmError> {
        self.check_not_broken()?;
        Ok(self.kv.get(key).cloned())
    }

    fn put(&mut self, key: &str, value: Vec<u8>, options: WriteOptions) -> Result<(), AlarmError> {
        self.check_not_broken()?;
        self.kv.insert(key.to_string(), value.clone());
        self.stage(options).kv.insert(key.to_string(), Some(value));
        Ok(())
    }

    fn delete(&mut self, key: &str, options: WriteOptions) -> Result<(), AlarmError> {
        self.check_not_broken()?;
        self.kv.remove(key);
        self.stage(options).kv.insert(key.to_string(), None);
        Ok(())
    }

    fn delete_all(&mut self, delete_alarm: bool, options: WriteOptions) -> Result<(), AlarmError> {
        self.check_not_broken()?;
        if !self.savepoints.is_empty() {
            return Err(AlarmError::InTransaction);
        }
        self.kv.clear();
        if delete_alarm && self.alarm.is_some() {
            self.alarm = None;
            self.deferred_delete = false;
        }
        let batch = self.stage(options); // Always a write, even with nothing stored (R7).
        batch.clear_kv = true;
        batch.kv.clear();
        Ok(())
    }

    fn txn_begin(&mut self) -> Result<(), AlarmError> {
        self.check_not_broken()?;
        self.savepoints.push(Savepoint {
            alarm: self.alarm,
            kv: self.kv.clone(),
            pending: self.pending.clone(),
            pending_confirmed: self.pending_confirmed,
            turn_open: self.turn_open,
            deferred_delete: self.deferred_delete,
        });
        Ok(())
    }

    fn txn_commit(&mut self, _options: WriteOptions) -> Result<(), AlarmError> {
        self.check_not_broken()?;
        // The writes are in place already; they ship when the turn ends.
        self.savepoints.pop().map(drop).ok_or(AlarmError::NoTransaction)
    }

    fn txn_rollback(&mut self) -> Result<(), AlarmError> {
        self.check_not_broken()?;
        let saved = self.savepoints.pop().ok_or(AlarmError::NoTransaction)?;
        self.alarm = saved.alarm;
        self.kv = saved.kv;
        self.pending = saved.pending;
        self.pending_confirmed = saved.pending_confirmed;
        self.turn_open = saved.turn_open;
        self.deferred_delete = saved.deferred_delete; // R5: null again inside the handler.
        Ok(())
    }

    fn end_turn(&mut self) {
        if std::mem::take(&mut self.turn_open) {
            self.advance();
        }
    }

    fn arm_alarm_handler(&mut self, scheduled: Millis, _now: Millis) -> Result<ArmDecision, AlarmError> {
        self.check_not_broken()?;
        assert!(!self.in_handler, "one alarm handler at a time (R9)");
        if self.alarm == Some(scheduled) {
            self.in_handler = true;
            self.deferred_delete = true;
            return Ok(ArmDecision::Run { deferred_delete: true });
        }
        if self.alarm_is_clean() {
            // Storage holds S (≠ scheduled): running now would run the handler before (or
            // long after) its alarm (R8). Point the manager at S, then cancel this fire; if a
            // command or a KV-only commit is under way, the cancel goes out right after it.
            self.next_arm += 1;
            let arm = ArmId(self.next_arm);
            self.probes.sometimes(self.io != Io::Idle, &conservative_probes::CANCEL_WAITS);
            self.cancel_waiting = Some(arm);
            self.advance();
            return Ok(ArmDecision::Cancel { arm });
        }
        // A write of the alarm is on its way: run the handler but keep the alarm.
        self.in_handler = true;
        self.deferred_delete = false;
        Ok(ArmDecision::Run { deferred_delete: false })
    }

    fn handler_finished(&mut self, succeeded: bool) {
        if !std::mem::take(&mut self.in_handler) {
            return;
        }
        let delete = std::mem::take(&mut self.deferred_delete);
        if succeeded && delete && !self.broken && self.alarm.is_some() {
            self.alarm = None; // The deferred delete: a confirmed write like any other.
            self.stage(WriteOptions::default());
            self.end_turn();
        }
    }

    fn abandon_alarm(&mut self, scheduled: Millis) -> Result<AlarmTime, AlarmError> {
        self.check_not_broken()?;
        if !self.in_handler && self.idle() && self.alarm == Some(scheduled) {
            // Only an alarm that is exactly the abandoned one, with nothing in flight, is
            // cleared; a replacement (or a write on its way) is kept and reported.
            self.alarm = None;
            self.stage(WriteOptions::default());
            self.end_turn();
            return Ok(None);
        }
        Ok(self.report_value())
    }

    fn report(&mut self) -> (AlarmTime, Fence) {
        let value = self.report_value();
        self.manager_max = latest(self.manager_max, value);
        self.manager_min = earliest(self.manager_min, value);
        if matches!(self.io, Io::Command { .. }) {
            self.reported_during_command = Some(match self.reported_during_command {
                Some(before) => latest(before, value),
                None => value,
            });
        }
        self.reports += 1;
        self.check_invariants();
        (value, Fence::nth_report(self.incarnation, self.seq, self.reports))
    }

    fn on_commit_result(&mut self, id: CommitId, ok: bool) {
        let Io::Commit { id: waiting, alarm, .. } = self.io else { return };
        if self.broken || waiting != id {
            return; // A duplicate or stale completion.
        }
        self.io = Io::Idle;
        if !ok {
            self.break_gate(); // The driver reloads the actor from storage.
            return;
        }
        self.durable = alarm;
        self.advance();
    }

    fn on_schedule_result(&mut self, call: CallId, ok: bool) {
        let Io::Command { call: waiting, time, why } = self.io else { return };
        if self.broken || waiting != call {
            return;
        }
        self.io = Io::Idle;
        let reported = self.reported_during_command.take();
        if ok {
            // The manager applied `time`, unless a report sent meanwhile (fenced above it) won.
            self.manager_max = match reported {
                Some(r) => latest(time, r),
                None => time,
            };
        }
        match why {
            Why::BeforeCommit if !ok => {
                // The manager may not know the earlier alarm: the commit must not happen.
                self.break_gate();
                return;
            }
            Why::Cancel { arm } => {
                // A cancel that did not land leaves the manager holding the fire it cancels:
                // tell it the stored alarm again, or it stays out of step while the actor is
                // idle (I2, `idle-convergence`, mismatched-fire seed 12).
                self.retell = !ok;
                self.probes.sometimes(!ok, &conservative_probes::RETELL);
                self.effects.push_back(ActorEffect::ArmResolved { arm, ok });
            }
            // Found by the simulator (restart-persistence seed 2049): a re-announce that failed
            // while the manager was down left the alarm lost. Say it again until it lands.
            Why::Announce | Why::AfterCommit if !ok => {
                self.probes.hit(&conservative_probes::RETELL);
                self.retell = true;
            }
            Why::Announce | Why::BeforeCommit | Why::AfterCommit => self.retell = false,
        }
        self.advance();
    }

    fn poll_effect(&mut self) -> Option<ActorEffect> {
        self.effects.pop_front()
    }

    fn gate(&self) -> Gate {
        if self.broken {
            return Gate::Broken;
        }
        if self.pending_confirmed {
            return Gate::Blocked { until: CommitId(self.next_commit + 1) };
        }
        match self.io {
            Io::Commit { id, confirmed: true, .. } => Gate::Blocked { until: id },
            _ => Gate::Open,
        }
    }

    fn stored_alarm(&self) -> AlarmTime {
        self.alarm
    }

    fn commands_outstanding(&self) -> usize {
        usize::from(matches!(self.io, Io::Command { .. }))
    }
}

// ----- the tests ------------------------------------------------------------------------------

const T0: i64 = 1_700_000_000_000;

/// Sans-IO by hand: time goes in, effects come out, completions go back in.
#[test]
fn moving_earlier_tells_the_manager_before_the_commit_and_later_after_it() {
    let mut actor = ConservativeActor::load(1, DurableState::default(), Probes::off());
    let now = Millis(T0);

    // Earlier than anything the manager may hold: announce first, ship after the ack.
    actor.set_alarm(Millis(T0 + 5_000), now, WriteOptions::default()).unwrap();
    actor.end_turn();
    let Some(ActorEffect::Schedule { call, time, fence }) = actor.poll_effect() else { panic!("announce first") };
    assert_eq!((time, fence), (Some(Millis(T0 + 5_000)), Fence::command(1, 1)));
    assert_eq!(actor.poll_effect(), None, "nothing ships before the manager knows");
    assert_eq!(actor.gate(), Gate::Blocked { until: CommitId(1) });
    actor.on_schedule_result(call, true);
    let Some(ActorEffect::Commit { id, batch }) = actor.poll_effect() else { panic!("then the commit") };
    assert_eq!(batch.alarm, Some(Millis(T0 + 5_000)));
    actor.on_commit_result(id, true);
    assert_eq!((actor.poll_effect(), actor.gate()), (None, Gate::Open));

    // Later: the commit ships at once, and the manager hears of it once it is durable.
    actor.set_alarm(Millis(T0 + 9_000), now, WriteOptions::default()).unwrap();
    actor.end_turn();
    let Some(ActorEffect::Commit { id, .. }) = actor.poll_effect() else { panic!("commit first") };
    actor.on_commit_result(id, true);
    let Some(ActorEffect::Schedule { time, fence, .. }) = actor.poll_effect() else { panic!("then tell") };
    assert_eq!((time, fence), (Some(Millis(T0 + 9_000)), Fence::command(1, 2)));
}

#[test]
fn a_mismatched_fire_reschedules_then_cancels() {
    let stored = DurableState { alarm: Some(Millis(T0 + 9_000)), ..DurableState::default() };
    let mut actor = ConservativeActor::load(2, stored, Probes::off());
    let Some(ActorEffect::Schedule { call, .. }) = actor.poll_effect() else { panic!("re-announce on load") };
    actor.on_schedule_result(call, true);

    let decision = actor.arm_alarm_handler(Millis(T0 + 5_000), Millis(T0 + 5_000)).unwrap();
    let ArmDecision::Cancel { arm } = decision else { panic!("a stale fire is cancelled: {decision:?}") };
    let Some(ActorEffect::Schedule { call, time, .. }) = actor.poll_effect() else { panic!("reschedule first") };
    assert_eq!(time, Some(Millis(T0 + 9_000)));
    actor.on_schedule_result(call, true);
    assert_eq!(actor.poll_effect(), Some(ActorEffect::ArmResolved { arm, ok: true }));
}

/// The simplest way to run the catalog against a scheduler: scenario after scenario, every
/// seed traced, and the first failure reported in full (seed, profile, invariant, the events
/// before it, how to replay it). 10 seeds each here; the test below runs 100, in parallel.
#[test]
fn the_simple_way() {
    for spec in alarmsim_scenarios::alarm_scenarios() {
        assert_seeds_pass(&spec, Arc::new(Conservative), &seeds_from_env(0, 10));
    }
}

/// Seeds per scenario: 100, or `ALARMSIM_SEEDS=<n>` for a longer hunt
/// (`ALARMSIM_SEED=<seed>` runs just that one seed of every scenario).
fn seed_count() -> u64 {
    std::env::var("ALARMSIM_SEEDS").map(|n| n.trim().parse().expect("ALARMSIM_SEEDS is a number of seeds")).unwrap_or(100)
}

/// The whole catalog, every scenario × `seed_count()` seeds (a tenth of them for
/// `large-namespace`, whose seeds are far longer), on every core (a failing seed is replayed
/// with its trace and reported in full).
#[test]
fn conservative_passes_the_whole_catalog() {
    for spec in alarmsim_scenarios::alarm_scenarios() {
        let seeds = seeds_from_env(0, alarmsim_scenarios::default_seeds(&spec, seed_count()));
        assert_catalog_passes(std::slice::from_ref(&spec), Arc::new(Conservative), &seeds, "custom_scheduler");
    }
}

/// Its own probes show in the coverage report beside the manager's and the world's: a sweep
/// of the scenarios that make mismatched fires and lost commands reaches both, and the report
/// lists any declared probe no seed reached.
#[test]
fn its_own_probes_show_in_the_coverage_report() {
    let subject: alarmsim_sim::Subject = Arc::new(Conservative).into();
    let work: Vec<_> = ["mismatched-fire", "restart-persistence", "standard"]
        .into_iter()
        .map(|name| (alarmsim_scenarios::scenario(name).expect("a catalog scenario"), subject.clone(), (0..100).collect()))
        .collect();
    let mut coverage = alarmsim_sim::coverage::Coverage::default();
    for c in alarmsim_sim::sweep::coverage(&work) {
        coverage.merge(&c);
    }
    for probe in conservative_probes::ALL {
        assert!(coverage.declared.contains(probe.name), "{} is declared", probe.name);
        let reached = coverage.reached.get(probe.name).unwrap_or_else(|| panic!("no seed reached {}", probe.name));
        println!("{}: {} hits in {} of {} seeds, first at seed {}", probe.name, reached.hits, reached.seeds, coverage.seeds, reached.first_seed);
    }
    assert!(coverage.reached.contains_key("manager.schedule.stale-fence"), "the reference manager's probes count too");
}

/// docs/TEST_YOUR_SCHEDULER.md quotes this file: every code block it marks as an excerpt must
/// appear here verbatim, so the guide cannot drift from the code that runs.
#[test]
fn the_guide_quotes_this_file_verbatim() {
    support::assert_guide_quotes("custom_scheduler.rs", include_str!("custom_scheduler.rs"), 4);
}
