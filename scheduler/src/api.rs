//! The pluggable seam: what a scheduler must implement to run under the simulator.
//!
//! The simulator (and the scenario catalog) drive a scheduler only through these traits,
//! never through the reference types, so a user's own scheduler — or a re-introduced
//! historical bug — runs through the whole catalog. Both traits are object safe and
//! sans-IO: time is passed in, effects are polled out.
//!
//! The reference implementations are [`ActorAlarms`] and [`ManagerCore`]; see
//! `docs/TEST_YOUR_SCHEDULER.md` for a walkthrough.

use crate::actor::{ActorAlarms, ActorEffect, ArmDecision, DurableState, Gate, WriteOptions};
use crate::backoff::{FailureFacts, RetryPolicy, RetryState};
use crate::error::AlarmError;
use crate::fence::Fence;
use crate::ids::{ActorId, CallId, CommitId};
use crate::manager::{AlarmRow, Applied, Fire, FireResult, ManagerCore, ManagerEffect};
use crate::probe::{Probe, Probes};
use crate::time::{AlarmTime, Millis};
use rand::RngCore;

/// The actor side of a scheduler (one instance per actor incarnation).
pub trait ActorScheduler {
    fn get_alarm(&self) -> Result<AlarmTime, AlarmError>;
    fn set_alarm(&mut self, time: Millis, now: Millis, options: WriteOptions) -> Result<(), AlarmError>;
    fn delete_alarm(&mut self, options: WriteOptions) -> Result<(), AlarmError>;
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, AlarmError>;
    fn put(&mut self, key: &str, value: Vec<u8>, options: WriteOptions) -> Result<(), AlarmError>;
    /// `storage.delete(key)`: the key reads as none afterwards; it commits with the turn (R6).
    fn delete(&mut self, key: &str, options: WriteOptions) -> Result<(), AlarmError>;
    fn delete_all(&mut self, delete_alarm: bool, options: WriteOptions) -> Result<(), AlarmError>;
    /// `storage.transaction()` opens an explicit, possibly nested, transaction (R5, R6). Until
    /// it commits, its writes are seen only by reads inside it: `getAlarm` returns the
    /// transaction's value, and after a rollback the value before it (inside a handler with
    /// its deferred delete pending that is null again). `deleteAll` inside one throws
    /// [`AlarmError::InTransaction`].
    fn txn_begin(&mut self) -> Result<(), AlarmError>;
    /// Commits the innermost explicit transaction: a nested one folds into its parent; the
    /// outermost applies its writes as one write of the turn (a set or delete in it cancels
    /// the deferred delete, R11). Without an open transaction: [`AlarmError::NoTransaction`].
    fn txn_commit(&mut self, options: WriteOptions) -> Result<(), AlarmError>;
    /// Discards the innermost explicit transaction's writes (R5: "after rollback, null again").
    fn txn_rollback(&mut self) -> Result<(), AlarmError>;
    /// The end of a turn: the implicit transaction commits locally.
    fn end_turn(&mut self);
    fn arm_alarm_handler(&mut self, scheduled: Millis, now: Millis) -> Result<ArmDecision, AlarmError>;
    fn handler_finished(&mut self, succeeded: bool);
    fn abandon_alarm(&mut self, scheduled: Millis) -> Result<AlarmTime, AlarmError>;
    /// The value (and fence) to attach to a handler outcome or to send as the abandon answer,
    /// taken when the reply leaves, after the output gate opened (R11, R16).
    fn report(&mut self) -> (AlarmTime, Fence);
    fn on_commit_result(&mut self, id: CommitId, ok: bool);
    fn on_schedule_result(&mut self, call: CallId, ok: bool);
    fn poll_effect(&mut self) -> Option<ActorEffect>;
    fn gate(&self) -> Gate;
    /// The alarm as stored locally (S), for traces and checkers.
    fn stored_alarm(&self) -> AlarmTime;
    /// Schedule commands in flight plus queued (I3 allows at most 2).
    fn commands_outstanding(&self) -> usize;
}

/// The manager side of a scheduler (one instance per manager process lifetime).
pub trait ManagerScheduler {
    /// Applies a schedule command and says what it did: `Applied` if it changed what the
    /// manager will fire, `Unchanged` if the fence advanced over a value it already had,
    /// `Stale` if the fence was not newer (a late or duplicated command, workerd #5431).
    fn schedule(&mut self, actor: &ActorId, time: AlarmTime, fence: Fence, name: Option<String>) -> Applied;
    fn take_due(&mut self, now: Millis) -> Vec<Fire>;
    fn next_wakeup(&self) -> Option<Millis>;
    fn on_fire_result(&mut self, actor: &ActorId, scheduled: Millis, result: FireResult, now: Millis, rng: &mut dyn RngCore);
    fn on_abandon_result(&mut self, actor: &ActorId, scheduled: Millis, answer: Result<(AlarmTime, Fence), ()>, now: Millis);
    fn poll_effect(&mut self) -> Option<ManagerEffect>;
    /// When the manager will fire `actor` next (a running or retrying alarm counts at its own
    /// time). The simulator compares this with durable storage for I1 and I2.
    fn effective_time(&self, actor: &ActorId) -> AlarmTime;
    /// Retry bookkeeping of `actor`'s current alarm, for traces.
    fn retry_state(&self, actor: &ActorId) -> Option<RetryState>;
}

/// How closely an idle actor's manager entry must match durable storage (the
/// `idle-convergence` checker: I2 during the run).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdleAgreement {
    /// The manager holds exactly what storage holds (alarm-semantics I2; the reference).
    Exact,
    /// The manager may hold an earlier time, or a time storage no longer has: a spurious fire
    /// that the actor's arm decision cancels or reschedules. Only I1 (never later, checked at
    /// every step by `never-late`) and "a durable alarm has a manager entry" are promised while
    /// idle. workerd's `ActorSqlite` header promises exactly this ("equal to or earlier than"),
    /// and its local scheduler keeps a retry for an alarm deleted or replaced meanwhile (R17, R19).
    EarlierAllowed,
}

/// How many of an actor's manager commands may be outstanding at once (`bounded-commands`,
/// I3). The reference serializes every command: one in flight and one parked. workerd's I3
/// (PR #6383) bounds only its move-later chain that way; a precommit move-earlier and a
/// cancel's reschedule go out beside it (`docs/FINDINGS.md`, A3), so its port declares a
/// looser bound that still catches an unbounded chain (B4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommandBound {
    /// Commands on the wire at once.
    pub in_flight: u32,
    /// In flight plus parked inside the actor.
    pub outstanding: usize,
}

impl CommandBound {
    /// One in flight plus one parked (the reference, alarm-semantics I3).
    pub const SERIAL: CommandBound = CommandBound { in_flight: 1, outstanding: 2 };
}

/// Builds the two halves of a scheduler. A variant is one factory, selected by name.
pub trait SchedulerFactory: Send + Sync {
    /// The name `--variant` selects.
    fn name(&self) -> &str;
    /// One line: what this scheduler is (and, for a bug variant, what it gets wrong).
    fn description(&self) -> &str;
    /// A new incarnation of `actor` from what storage holds. `probes` is where its coverage
    /// probes go (`crate::probe`): keep a clone and report through it; it is off unless a
    /// sweep asks for coverage.
    fn new_actor(&self, actor: ActorId, incarnation: u64, durable: DurableState, probes: &Probes) -> Box<dyn ActorScheduler>;
    /// A manager process from the rows it persisted; `probes` as for [`SchedulerFactory::new_actor`].
    fn new_manager(&self, rows: Vec<AlarmRow>, policy: RetryPolicy, probes: &Probes) -> Box<dyn ManagerScheduler>;
    /// The coverage probes this scheduler reports (`crate::probe`): `sweep --coverage` lists
    /// the ones no seed reached. A probe reported but not declared still shows in the report.
    fn probes(&self) -> Vec<&'static Probe> {
        Vec::new()
    }
    /// What this scheduler promises about an idle actor's manager entry (`idle-convergence`).
    /// The reference promises alarm-semantics' I2 exactly; a design that lets the manager keep
    /// an earlier or stale entry and corrects it when it fires declares so here, and the checker
    /// then holds it to the weaker promise (the report says which it used).
    fn idle_agreement(&self) -> IdleAgreement {
        IdleAgreement::Exact
    }
    /// How many commands an actor may have outstanding (`bounded-commands`).
    fn command_bound(&self) -> CommandBound {
        CommandBound::SERIAL
    }
    /// Whether the manager's rows survive a manager restart (false before workerd #6104).
    fn manager_persists_rows(&self) -> bool {
        true
    }
    /// `scheduleNextAlarm(delay)` of a container-style application (containers #191).
    fn schedule_next(&self, existing: AlarmTime, now: Millis, delay_ms: i64) -> Option<Millis> {
        crate::rearm::schedule_next(existing, now, delay_ms)
    }
    /// The handler's exit re-arm of a container-style application (containers #191).
    fn exit_rearm(&self, now: Millis, next_due: AlarmTime, sleep_after: AlarmTime) -> Millis {
        crate::rearm::exit_rearm(now, next_due, sleep_after)
    }
    /// Whether a failed attempt's retry counts against the limit (R14, workerd
    /// `alarmRetryCountsAgainstLimit`), from what the runtime knows about the failure. The
    /// simulator asks this for every handler failure and hands the answer to the manager as
    /// `Outcome::Failed { counted }`.
    fn retry_counts(&self, facts: FailureFacts) -> bool {
        facts.counts_against_limit()
    }
}

/// The reference scheduler.
#[derive(Clone, Copy, Debug, Default)]
pub struct Reference;

impl SchedulerFactory for Reference {
    fn name(&self) -> &str {
        "reference"
    }

    fn description(&self) -> &str {
        "the reference scheduler: ActorSqlite semantics with fenced, serialized manager commands"
    }

    fn new_actor(&self, actor: ActorId, incarnation: u64, durable: DurableState, probes: &Probes) -> Box<dyn ActorScheduler> {
        Box::new(ActorAlarms::load_probed(actor, incarnation, durable, probes.clone()))
    }

    fn new_manager(&self, rows: Vec<AlarmRow>, policy: RetryPolicy, probes: &Probes) -> Box<dyn ManagerScheduler> {
        Box::new(ManagerCore::load_probed(rows, policy, probes.clone()))
    }

    fn probes(&self) -> Vec<&'static Probe> {
        crate::probe::reference_alarms()
    }
}

impl ActorScheduler for ActorAlarms {
    fn get_alarm(&self) -> Result<AlarmTime, AlarmError> {
        ActorAlarms::get_alarm(self)
    }
    fn set_alarm(&mut self, time: Millis, now: Millis, options: WriteOptions) -> Result<(), AlarmError> {
        ActorAlarms::set_alarm(self, time, now, options)
    }
    fn delete_alarm(&mut self, options: WriteOptions) -> Result<(), AlarmError> {
        ActorAlarms::delete_alarm(self, options)
    }
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, AlarmError> {
        ActorAlarms::get(self, key)
    }
    fn put(&mut self, key: &str, value: Vec<u8>, options: WriteOptions) -> Result<(), AlarmError> {
        ActorAlarms::put(self, key, value, options)
    }
    fn delete(&mut self, key: &str, options: WriteOptions) -> Result<(), AlarmError> {
        ActorAlarms::delete(self, key, options)
    }
    fn delete_all(&mut self, delete_alarm: bool, options: WriteOptions) -> Result<(), AlarmError> {
        ActorAlarms::delete_all(self, delete_alarm, options)
    }
    fn txn_begin(&mut self) -> Result<(), AlarmError> {
        ActorAlarms::txn_begin(self)
    }
    fn txn_commit(&mut self, options: WriteOptions) -> Result<(), AlarmError> {
        ActorAlarms::txn_commit(self, options)
    }
    fn txn_rollback(&mut self) -> Result<(), AlarmError> {
        ActorAlarms::txn_rollback(self)
    }
    fn end_turn(&mut self) {
        ActorAlarms::end_turn(self)
    }
    fn arm_alarm_handler(&mut self, scheduled: Millis, now: Millis) -> Result<ArmDecision, AlarmError> {
        ActorAlarms::arm_alarm_handler(self, scheduled, now)
    }
    fn handler_finished(&mut self, succeeded: bool) {
        ActorAlarms::handler_finished(self, succeeded)
    }
    fn abandon_alarm(&mut self, scheduled: Millis) -> Result<AlarmTime, AlarmError> {
        ActorAlarms::abandon_alarm(self, scheduled)
    }
    fn report(&mut self) -> (AlarmTime, Fence) {
        ActorAlarms::report(self)
    }
    fn on_commit_result(&mut self, id: CommitId, ok: bool) {
        ActorAlarms::on_commit_result(self, id, ok)
    }
    fn on_schedule_result(&mut self, call: CallId, ok: bool) {
        ActorAlarms::on_schedule_result(self, call, ok)
    }
    fn poll_effect(&mut self) -> Option<ActorEffect> {
        ActorAlarms::poll_effect(self)
    }
    fn gate(&self) -> Gate {
        ActorAlarms::gate(self)
    }
    fn stored_alarm(&self) -> AlarmTime {
        ActorAlarms::stored_alarm(self)
    }
    fn commands_outstanding(&self) -> usize {
        ActorAlarms::commands_outstanding(self)
    }
}

impl ManagerScheduler for ManagerCore {
    fn schedule(&mut self, actor: &ActorId, time: AlarmTime, fence: Fence, name: Option<String>) -> Applied {
        ManagerCore::schedule(self, actor, time, fence, name)
    }
    fn take_due(&mut self, now: Millis) -> Vec<Fire> {
        ManagerCore::take_due(self, now)
    }
    fn next_wakeup(&self) -> Option<Millis> {
        ManagerCore::next_wakeup(self)
    }
    fn on_fire_result(&mut self, actor: &ActorId, scheduled: Millis, result: FireResult, now: Millis, rng: &mut dyn RngCore) {
        ManagerCore::on_fire_result(self, actor, scheduled, result, now, rng)
    }
    fn on_abandon_result(&mut self, actor: &ActorId, scheduled: Millis, answer: Result<(AlarmTime, Fence), ()>, now: Millis) {
        ManagerCore::on_abandon_result(self, actor, scheduled, answer, now)
    }
    fn poll_effect(&mut self) -> Option<ManagerEffect> {
        ManagerCore::poll_effect(self)
    }
    fn effective_time(&self, actor: &ActorId) -> AlarmTime {
        ManagerCore::effective_time(self, actor)
    }
    fn retry_state(&self, actor: &ActorId) -> Option<RetryState> {
        ManagerCore::retry_state(self, actor)
    }
}
