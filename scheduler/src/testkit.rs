//! A hand-driven environment for [`ActorAlarms`], in the style of workerd's
//! `actor-sqlite-test`: every commit ("C") and schedule command ("sR") the actor issues is
//! recorded, and the test completes, fails or reorders them one at a time.
//!
//! A small fake manager applies successful `sR` values with fences, and a fake backend
//! applies successful commits, so tests can assert I1 (`manager ≤ durable`) at any point.
//! The harness also asserts I3 (at most one `sR` pending) on every recorded call.

use crate::actor::{ActorAlarms, ActorEffect, ArmDecision, DurableState, Gate, WriteOptions};
use crate::batch::CommitBatch;
use crate::error::AlarmError;
use crate::fence::Fence;
use crate::ids::{ActorId, ArmId, CallId, CommitId};
use crate::time::{fires_earlier, show, AlarmTime, Millis};
use std::collections::BTreeMap;

/// A recorded call the test has not completed yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pending {
    Commit { id: CommitId, batch: CommitBatch },
    Schedule { call: CallId, time: AlarmTime, fence: Fence },
}

impl Pending {
    fn label(&self) -> String {
        match self {
            Pending::Commit { .. } => "C".to_string(),
            Pending::Schedule { time, .. } => format!("sR({})", show(*time)),
        }
    }
}

/// The harness. `now` starts at 1 ms so `set(1)`-style tests read like workerd's.
#[derive(Debug)]
pub struct Harness {
    pub actor: ActorAlarms,
    pub now: Millis,
    pending: Vec<Pending>,
    log: Vec<String>,
    arms: BTreeMap<ArmId, bool>,
    /// The fake manager's value and the fence it last applied.
    manager: (AlarmTime, Fence),
    /// The fake backend: the alarm of the newest completed commit.
    durable_alarm: AlarmTime,
    durable_commit: CommitId,
    incarnation: u64,
    /// An `abandonAlarm` answer (value, fence) held back by the actor's output gate.
    held_answer: Option<(AlarmTime, Fence)>,
}

impl Default for Harness {
    fn default() -> Harness {
        Harness::new()
    }
}

impl Harness {
    /// An actor with empty storage.
    pub fn new() -> Harness {
        Harness::with_durable(DurableState::default())
    }

    /// An actor restarted on `durable` (its re-announcement, if any, is recorded as pending).
    pub fn with_durable(durable: DurableState) -> Harness {
        let alarm = durable.alarm;
        let mut h = Harness {
            actor: ActorAlarms::load(ActorId::new("actor"), 1, durable),
            now: Millis(1),
            pending: Vec::new(),
            log: Vec::new(),
            arms: BTreeMap::new(),
            manager: (None, Fence::default()),
            durable_alarm: alarm,
            durable_commit: CommitId(0),
            incarnation: 1,
            held_answer: None,
        };
        h.pump();
        h
    }

    /// workerd's `base(t)`: `set(t)`, end the turn, complete every call.
    pub fn base(t: i64) -> Harness {
        let mut h = Harness::new();
        h.set(t);
        h.settle();
        h.take_calls();
        h
    }

    /// Simulates a restart of the actor on what the fake backend holds.
    pub fn restart(&mut self) {
        self.incarnation += 1;
        let durable = DurableState { kv: BTreeMap::new(), alarm: self.durable_alarm };
        self.actor = ActorAlarms::load(ActorId::new("actor"), self.incarnation, durable);
        // The new incarnation numbers its commits from 1 again.
        self.durable_commit = CommitId(0);
        self.pending.clear();
        self.held_answer = None; // The reset actor never answers: the manager keeps its alarm.
        self.pump();
    }

    // ----- API shortcuts: each is one turn unless named `_in_turn` -------------------------

    pub fn set(&mut self, t: i64) {
        self.set_in_turn(t);
        self.end_turn();
    }

    pub fn set_in_turn(&mut self, t: i64) {
        self.actor.set_alarm(Millis(t), self.now, WriteOptions::default()).expect("setAlarm");
        self.pump();
    }

    pub fn set_unconfirmed(&mut self, t: i64) {
        self.actor.set_alarm(Millis(t), self.now, WriteOptions { allow_unconfirmed: true }).expect("setAlarm");
        self.end_turn();
    }

    pub fn delete(&mut self) {
        self.actor.delete_alarm(WriteOptions::default()).expect("deleteAlarm");
        self.end_turn();
    }

    pub fn put(&mut self, key: &str, value: &str) {
        self.put_in_turn(key, value);
        self.end_turn();
    }

    pub fn put_in_turn(&mut self, key: &str, value: &str) {
        self.actor.put(key, value.as_bytes().to_vec(), WriteOptions::default()).expect("put");
    }

    /// `deleteAlarm()` with `allowUnconfirmed`, as one turn.
    pub fn delete_unconfirmed(&mut self) {
        self.actor.delete_alarm(WriteOptions { allow_unconfirmed: true }).expect("deleteAlarm");
        self.end_turn();
    }

    /// `deleteAll()` (R7) as one turn: `delete_alarm` is the `deleteAlarm` option.
    pub fn delete_all(&mut self, delete_alarm: bool) {
        self.delete_all_in_turn(delete_alarm);
        self.end_turn();
    }

    /// `deleteAll()` without ending the turn, so it merges with the turn's other writes.
    pub fn delete_all_in_turn(&mut self, delete_alarm: bool) {
        self.actor.delete_all(delete_alarm, WriteOptions::default()).expect("deleteAll");
        self.pump();
    }

    pub fn end_turn(&mut self) {
        self.actor.end_turn();
        self.pump();
    }

    /// Records whatever the actor issued since the last harness call (workerd's `ws.poll()`),
    /// for tests that call `h.actor` directly.
    pub fn poll(&mut self) {
        self.pump();
    }

    /// A key's value as a string, or `None` if it is not stored.
    pub fn get_key(&self, key: &str) -> Option<String> {
        let value = self.actor.get(key).expect("get")?;
        Some(String::from_utf8(value).expect("test values are UTF-8"))
    }

    /// `getAlarm()` as a raw ms value.
    pub fn get(&self) -> Option<i64> {
        self.actor.get_alarm().expect("getAlarm").map(|t| t.0)
    }

    /// `armAlarmHandler(T, now)`.
    pub fn arm(&mut self, scheduled: i64) -> ArmDecision {
        let decision = self.actor.arm_alarm_handler(Millis(scheduled), self.now).expect("arm");
        self.pump();
        decision
    }

    /// Drops the handler as successful (the deferred deleter's destructor).
    pub fn drop_handler(&mut self) {
        self.actor.handler_finished(true);
        self.pump();
    }

    /// Ends the handler with a failure.
    pub fn fail_handler(&mut self) {
        self.actor.handler_finished(false);
        self.pump();
    }

    /// `abandonAlarm(T)` (R16). Returns the answer at once; the fake manager receives it, with
    /// the report fence taken now, only once the output gate opens (like every reply of an
    /// actor), and replaces its value with it as `ManagerCore::on_abandon_result` does. If
    /// the gate breaks first the reply is lost and the manager keeps its alarm.
    pub fn abandon(&mut self, scheduled: i64) -> Result<Option<i64>, AlarmError> {
        let kept = self.actor.abandon_alarm(Millis(scheduled))?;
        self.held_answer = Some((kept, self.actor.latest_fence()));
        self.pump();
        Ok(kept.map(|t| t.0))
    }

    /// The report of a successful handler (`report()`, taken now), sent to the fake manager:
    /// it applies it if `delivered` and its fence outranks what it holds. A report that is
    /// not delivered is lost for good: nothing sends it again.
    pub fn report(&mut self, delivered: bool) -> Option<i64> {
        let (time, fence) = self.actor.report();
        if delivered && fence > self.manager.1 {
            self.manager = (time, fence);
        }
        time.map(|t| t.0)
    }

    /// Whether an `abandonAlarm` answer is still held by the output gate.
    pub fn answer_held(&self) -> bool {
        self.held_answer.is_some()
    }

    /// Overwrites the fake manager's alarm without a command and without touching its fence:
    /// a manager that missed or lost commands (B10). Later commands still apply.
    pub fn force_manager(&mut self, time: Option<i64>) {
        self.manager.0 = time.map(Millis);
    }

    // ----- recorded calls ------------------------------------------------------------------

    /// The calls issued since the last `take_calls`, e.g. `["sR(1)", "C"]`.
    pub fn take_calls(&mut self) -> Vec<String> {
        std::mem::take(&mut self.log)
    }

    /// The calls still waiting for the test, oldest first.
    pub fn pending(&self) -> Vec<String> {
        self.pending.iter().map(Pending::label).collect()
    }

    pub fn pending_calls(&self) -> &[Pending] {
        &self.pending
    }

    /// Completes the oldest pending call with this label (`"C"` or `"sR(5)"`).
    pub fn complete(&mut self, label: &str) {
        self.finish(label, true);
    }

    /// Fails the oldest pending call with this label.
    pub fn fail(&mut self, label: &str) {
        self.finish(label, false);
    }

    /// Completes every pending call, oldest first, until none is left.
    pub fn settle(&mut self) {
        while let Some(first) = self.pending.first() {
            let label = first.label();
            self.complete(&label);
        }
    }

    /// Whether the Cancel with this id resolved, and how.
    pub fn arm_resolved(&self, arm: ArmId) -> Option<bool> {
        self.arms.get(&arm).copied()
    }

    pub fn gate(&self) -> Gate {
        self.actor.gate()
    }

    /// The fake manager's current alarm.
    pub fn manager_alarm(&self) -> Option<i64> {
        self.manager.0.map(|t| t.0)
    }

    /// The fake backend's durable alarm.
    pub fn durable_alarm(&self) -> Option<i64> {
        self.durable_alarm.map(|t| t.0)
    }

    /// Asserts that exactly `expected` was issued since the last `take_calls` (e.g.
    /// `["sR(1)", "C"]`, `[]` for nothing), then checks I1.
    #[track_caller]
    pub fn expect_calls(&mut self, expected: &[&str]) {
        assert_eq!(self.take_calls(), expected, "calls issued; still pending: {:?}", self.pending());
        self.assert_never_late();
    }

    /// I1: the manager never fires later than durable storage.
    #[track_caller]
    pub fn assert_never_late(&self) {
        assert!(
            !fires_earlier(self.durable_alarm, self.manager.0),
            "I1 violated: manager {} is later than durable {}",
            show(self.manager.0),
            show(self.durable_alarm)
        );
    }

    /// I2: with nothing in flight, manager and storage agree.
    #[track_caller]
    pub fn assert_converged(&self) {
        assert!(self.pending.is_empty(), "calls still pending: {:?}", self.pending());
        assert_eq!(self.manager.0, self.durable_alarm, "I2 violated: manager and durable storage disagree");
        assert_eq!(self.actor.stored_alarm(), self.durable_alarm, "I2 violated: local and durable storage disagree");
    }

    fn finish(&mut self, label: &str, ok: bool) {
        let index = self
            .pending
            .iter()
            .position(|p| p.label() == label)
            .unwrap_or_else(|| panic!("no pending call {label}; pending: {:?}", self.pending()));
        match self.pending.remove(index) {
            Pending::Commit { id, batch } => {
                if ok && id > self.durable_commit {
                    self.durable_commit = id;
                    self.durable_alarm = batch.alarm;
                }
                self.actor.on_commit_result(id, ok);
            }
            Pending::Schedule { call, time, fence } => {
                if ok && fence > self.manager.1 {
                    self.manager = (time, fence);
                }
                self.actor.on_schedule_result(call, ok);
            }
        }
        self.pump();
    }

    fn pump(&mut self) {
        while let Some(effect) = self.actor.poll_effect() {
            match effect {
                ActorEffect::Commit { id, batch } => self.record(Pending::Commit { id, batch }),
                ActorEffect::Schedule { call, time, fence } => self.record(Pending::Schedule { call, time, fence }),
                ActorEffect::ArmResolved { arm, ok } => {
                    self.arms.insert(arm, ok);
                }
            }
        }
        // Deliver a held `abandonAlarm` answer once the output gate allows replies.
        match self.actor.gate() {
            Gate::Blocked { .. } => {}
            Gate::Broken => self.held_answer = None,
            Gate::Open => {
                if let Some((_, _)) = self.held_answer.take() {
                    // The answer is the actor's report when the reply leaves (R16).
                    let (time, fence) = self.actor.report();
                    if fence > self.manager.1 {
                        self.manager = (time, fence);
                    }
                }
            }
        }
    }

    fn record(&mut self, pending: Pending) {
        if matches!(pending, Pending::Schedule { .. }) {
            assert!(
                !self.pending.iter().any(|p| matches!(p, Pending::Schedule { .. })),
                "I3: {} issued while {:?} is pending; at most one schedule command may be in flight",
                pending.label(),
                self.pending()
            );
        }
        self.log.push(pending.label());
        self.pending.push(pending);
    }
}
