//! The actor side: a sans-IO model of workerd's `ActorSqlite` alarm state machine
//! (alarm-semantics.md §1 R1–R7, R11, R16 and §2 transitions 1–5).
//!
//! Time is passed in and effects come out ([`ActorEffect`], polled with
//! [`ActorAlarms::poll_effect`]); completions are fed back with
//! [`ActorAlarms::on_commit_result`] and [`ActorAlarms::on_schedule_result`]. Nothing here
//! performs I/O, so the simulator, the real-time driver and the hand-driven test harness all
//! run the same code.
//!
//! "Move earlier eagerly, move later lazily": a commit that moves the alarm earlier tells the
//! manager *before* it becomes durable, a commit that moves it later (or deletes it) tells
//! the manager *after*. So the manager's time never exceeds the durable time (I1).

use crate::batch::CommitBatch;
use crate::channel::{InFlight, ManagerChannel, Waiter};
use crate::error::AlarmError;
use crate::fence::Fence;
use crate::ids::{ActorId, ArmId, CallId, CommitId};
use crate::probe::{actor as probe, Probes};
use crate::time::{earliest, fires_earlier, latest, AlarmTime, Millis};
use std::collections::{BTreeMap, VecDeque};

/// What the actor asks its environment to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ActorEffect {
    /// Make `batch` durable. Backends apply commits in `id` order; completions may arrive in
    /// any order and are reported with [`ActorAlarms::on_commit_result`].
    Commit { id: CommitId, batch: CommitBatch },
    /// `scheduleRun(time)`: tell the alarm manager to fire at `time` (`None` deletes).
    Schedule { call: CallId, time: AlarmTime, fence: Fence },
    /// An `armAlarmHandler` Cancel finished waiting for its reschedule (`ok = false`: the
    /// reschedule failed, so the attempt counts as an uncounted failure).
    ArmResolved { arm: ArmId, ok: bool },
}

/// `armAlarmHandler`'s decision (§2 transition 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArmDecision {
    /// Run the handler; on success the alarm is deleted if `deferred_delete` still holds.
    Run { deferred_delete: bool },
    /// Do not run; resolve as CANCELED once [`ActorEffect::ArmResolved`] for `arm` arrives,
    /// by which time the manager has been rescheduled to the stored value.
    Cancel { arm: ArmId },
}

/// The output gate (R6, R11): outgoing results wait for confirmed writes to be durable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    Open,
    /// Confirmed writes up to this commit are not durable yet.
    Blocked { until: CommitId },
    Broken,
}

/// `allowUnconfirmed` and friends.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriteOptions {
    /// The write does not close the output gate (it still breaks it if its commit fails).
    pub allow_unconfirmed: bool,
}

/// What durable storage held when the actor (re)started.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DurableState {
    pub kv: BTreeMap<String, Vec<u8>>,
    pub alarm: AlarmTime,
}

/// Writes of one open explicit transaction (a savepoint).
#[derive(Clone, Debug, Default)]
struct Overlay {
    alarm: Option<AlarmTime>,
    kv: BTreeMap<String, Option<Vec<u8>>>,
}

#[derive(Clone, Copy, Debug)]
struct InflightCommit {
    alarm: AlarmTime,
    /// `alarmVersion` just before the commit was handed to the backend (workerd #5589).
    version_before: u64,
}

/// The actor's alarm state machine. Field names follow alarm-semantics.md §2.
#[derive(Debug)]
pub struct ActorAlarms {
    actor: ActorId,
    /// S: the alarm as committed locally (explicit transactions excluded).
    alarm: AlarmTime,
    kv: BTreeMap<String, Vec<u8>>,
    txns: Vec<Overlay>,
    /// LC: the alarm in the newest commit the backend acknowledged.
    last_confirmed: AlarmTime,
    /// The newest acknowledged commit.
    durable_commit: CommitId,
    /// ASNLT: the latest time the manager could fire, given every command sent so far.
    scheduled_no_later_than: AlarmTime,
    /// The latest value reported (handler outcome, abandon answer) since the newest command
    /// was issued, if any. Such a report is fenced above that command, so the manager may hold
    /// it rather than the command's time once the command completes.
    reported_since_issue: Option<AlarmTime>,
    /// The earliest time the manager may end up holding once the commands sent so far have
    /// landed: the newest command's time (failed ones are sent again; it outranks every
    /// earlier report), or a report handed out after it, which outranks it but may be lost.
    /// A move-later's post-commit command is skipped only if this is not earlier than the
    /// commit's alarm. ASNLT (the upper bound) alone is not
    /// enough: a report raises it, but a report may be lost (it is never sent again: the
    /// manager keeps its older value and retries the fire; deferred-delete-race seed 201), or
    /// carry a value earlier than the commands (a handler's move-earlier merged into a waiting
    /// commit; move-later-coalescing seed 895). Either way the post-commit command was skipped
    /// and the manager stayed earlier than storage while the actor sat idle (I2). Both were
    /// found with unconfirmed writes, which let a report leave while a commit is in flight.
    manager_floor: AlarmTime,
    /// Bumped on every real change of S (including deleteAll and the deferred delete).
    alarm_version: u64,
    in_handler: bool,
    /// The actor's clock when the running handler was armed (a write at this instant is the
    /// handler's first millisecond).
    armed_at: Option<Millis>,
    deferred_delete: bool,
    /// Writes committed locally but not yet handed to the backend.
    unshipped: Option<CommitBatch>,
    /// A commit is waiting for its precommit scheduling (move earlier) before it can ship.
    pending_commit: bool,
    next_commit: u64,
    inflight_commits: BTreeMap<CommitId, InflightCommit>,
    /// Confirmed writes are in commits up to this one; the gate is closed until it is durable.
    gate_waits_for: Option<CommitId>,
    broken: bool,
    channel: ManagerChannel,
    next_arm: u64,
    effects: VecDeque<ActorEffect>,
    /// Where the coverage probes of `probe/actor.rs` are reported (off unless a sweep asks).
    probes: Probes,
}

impl ActorAlarms {
    /// Loads an actor from durable state. `incarnation` must grow across restarts of the
    /// same actor (see [`Fence`]).
    ///
    /// The constructor sets `LC = ASNLT = S` from storage (§2). It also re-announces the stored
    /// alarm to the manager (`none` included, from the second incarnation on): if the manager lost it (a crash between a durable
    /// commit and its move-later command, or a power loss on either side), this restores I1 on
    /// restart instead of leaving the alarm lost until the next write; and if the manager holds
    /// a value storage never got (a move-earlier told before a commit that failed), it stops
    /// holding it.
    pub fn load(actor: ActorId, incarnation: u64, durable: DurableState) -> ActorAlarms {
        ActorAlarms::load_probed(actor, incarnation, durable, Probes::off())
    }

    /// [`ActorAlarms::load`], reporting coverage probes to `probes`.
    pub fn load_probed(actor: ActorId, incarnation: u64, durable: DurableState, probes: Probes) -> ActorAlarms {
        let mut alarms = ActorAlarms {
            actor,
            alarm: durable.alarm,
            kv: durable.kv,
            txns: Vec::new(),
            last_confirmed: durable.alarm,
            durable_commit: CommitId(0),
            scheduled_no_later_than: durable.alarm,
            reported_since_issue: None,
            manager_floor: durable.alarm,
            alarm_version: 0,
            in_handler: false,
            armed_at: None,
            deferred_delete: false,
            unshipped: None,
            pending_commit: false,
            next_commit: 1,
            inflight_commits: BTreeMap::new(),
            gate_waits_for: None,
            broken: false,
            channel: ManagerChannel::with_probes(incarnation, probes.clone()),
            next_arm: 0,
            effects: VecDeque::new(),
            probes,
        };
        // Even "none" after a restart: a command of the new incarnation outranks (by its fence)
        // every command the old one may still have on its way, and a move-earlier the old one
        // told the manager before a failed commit (its answer lost, the gate broken) must not
        // stay at the manager while storage holds nothing (I2 when idle: it would fire for
        // nothing). A first incarnation with nothing stored has told the manager nothing.
        if durable.alarm.is_some() || incarnation > 1 {
            if incarnation > 1 {
                alarms.probes.hit(if durable.alarm.is_some() { &probe::LOAD_REANNOUNCE } else { &probe::LOAD_REANNOUNCE_NONE });
            }
            alarms.submit(durable.alarm, None);
        }
        alarms.check_local_invariants();
        alarms
    }

    pub fn actor(&self) -> &ActorId {
        &self.actor
    }

    // ----- API (R1–R7) -------------------------------------------------------------------

    /// `getAlarm()` (R5): the visible value, or `None` while the handler runs with its
    /// deferred delete still pending.
    pub fn get_alarm(&self) -> Result<AlarmTime, AlarmError> {
        self.check_not_broken()?;
        if let Some(alarm) = self.txns.iter().rev().find_map(|o| o.alarm) {
            return Ok(alarm);
        }
        if self.in_handler && self.deferred_delete {
            return Ok(None);
        }
        Ok(self.alarm)
    }

    /// `setAlarm(t)` (R1–R3): one alarm per actor; past times clamp to `now`; `t ≤ 0` is an
    /// error; setting the current value again writes nothing.
    pub fn set_alarm(&mut self, time: Millis, now: Millis, options: WriteOptions) -> Result<(), AlarmError> {
        self.check_not_broken()?;
        if time.0 <= 0 {
            return Err(AlarmError::InvalidTime(time.0));
        }
        let clamped = if time < now { now } else { time };
        self.probes.sometimes(time < now, &probe::SET_PAST_CLAMPED);
        self.probes.sometimes(self.in_handler && self.armed_at == Some(now), &probe::HANDLER_WRITE_FIRST_MS);
        self.write_alarm(Some(clamped), options);
        Ok(())
    }

    /// `deleteAlarm()` (R4) = `setAlarm(none)`.
    pub fn delete_alarm(&mut self, options: WriteOptions) -> Result<(), AlarmError> {
        self.check_not_broken()?;
        self.write_alarm(None, options);
        Ok(())
    }

    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>, AlarmError> {
        self.check_not_broken()?;
        for overlay in self.txns.iter().rev() {
            if let Some(value) = overlay.kv.get(key) {
                return Ok(value.clone());
            }
        }
        Ok(self.kv.get(key).cloned())
    }

    pub fn put(&mut self, key: &str, value: Vec<u8>, options: WriteOptions) -> Result<(), AlarmError> {
        self.check_not_broken()?;
        self.write_kv(key, Some(value), options);
        Ok(())
    }

    pub fn delete(&mut self, key: &str, options: WriteOptions) -> Result<(), AlarmError> {
        self.check_not_broken()?;
        self.write_kv(key, None, options);
        Ok(())
    }

    /// `deleteAll()` (R7): drops every key; keeps the alarm unless `delete_alarm`.
    /// A deleteAll that deletes the alarm cancels a pending deferred delete (§2 transition 5).
    pub fn delete_all(&mut self, delete_alarm: bool, options: WriteOptions) -> Result<(), AlarmError> {
        self.check_not_broken()?;
        if !self.txns.is_empty() {
            return Err(AlarmError::InTransaction);
        }
        let had_alarm = self.alarm.is_some();
        // Always a write, even with nothing stored: workerd's deleteAll() resets the database
        // and commits ("calling deleteAll() preserves alarm state if alarm is not set": C).
        self.kv.clear();
        let batch = self.unshipped.get_or_insert_with(CommitBatch::default);
        batch.clear_kv = true;
        batch.kv.clear();
        if delete_alarm && had_alarm {
            self.probes.sometimes(self.in_handler && self.deferred_delete, &probe::DELETE_ALL_IN_HANDLER);
            self.apply_alarm_to_base(None);
            self.deferred_delete = false;
        }
        self.note_write(options);
        Ok(())
    }

    /// Opens an explicit (possibly nested) transaction.
    pub fn txn_begin(&mut self) -> Result<(), AlarmError> {
        self.check_not_broken()?;
        self.txns.push(Overlay::default());
        Ok(())
    }

    /// Commits the innermost explicit transaction. Committing the root transaction commits
    /// locally and starts precommit scheduling synchronously ("…before explicit local db
    /// commit"); a nested commit only folds into its parent.
    pub fn txn_commit(&mut self, options: WriteOptions) -> Result<(), AlarmError> {
        self.check_not_broken()?;
        let overlay = self.txns.pop().ok_or(AlarmError::NoTransaction)?;
        if let Some(parent) = self.txns.last_mut() {
            self.probes.hit(&probe::TXN_NESTED_COMMIT);
            if overlay.alarm.is_some() {
                parent.alarm = overlay.alarm;
            }
            parent.kv.extend(overlay.kv);
            return Ok(());
        }
        let wrote = overlay.alarm.is_some() || !overlay.kv.is_empty();
        for (key, value) in overlay.kv {
            self.apply_kv_to_base(&key, value);
        }
        if let Some(alarm) = overlay.alarm {
            self.probes.hit(&probe::TXN_ROOT_COMMIT_ALARM);
            self.apply_alarm_to_base(alarm);
            self.deferred_delete = false; // R11: a write in the handler cancels the delete.
        }
        if wrote {
            self.note_write(options);
            self.end_turn();
        }
        Ok(())
    }

    /// Rolls back the innermost explicit transaction.
    pub fn txn_rollback(&mut self) -> Result<(), AlarmError> {
        self.check_not_broken()?;
        let overlay = self.txns.pop().ok_or(AlarmError::NoTransaction)?;
        // R5: inside the handler getAlarm is null again, unless an outer transaction wrote it.
        let hides_again = overlay.alarm.is_some() && self.in_handler && self.deferred_delete && self.txns.iter().all(|o| o.alarm.is_none());
        self.probes.sometimes(hides_again, &probe::TXN_ROLLBACK_IN_HANDLER);
        Ok(())
    }

    /// The end of the current turn: the implicit transaction commits locally and the commit
    /// pipeline starts (§2 transitions 1 and 2). Writes of several turns merge into one
    /// commit while a commit waits for its precommit scheduling.
    pub fn end_turn(&mut self) {
        if self.broken || self.unshipped.is_none() || self.pending_commit {
            self.probes.sometimes(!self.broken && self.unshipped.is_some(), &probe::COMMIT_MERGED);
            return; // Nothing new, or merged into the waiting commit.
        }
        if fires_earlier(self.alarm, self.scheduled_no_later_than) {
            // Move earlier: tell the manager before the commit (startPrecommitAlarmScheduling).
            let dropped = self.channel.drop_parked();
            self.probes.sometimes(dropped, &probe::MOVE_EARLIER_REPLACES_PARKED);
            self.pending_commit = true;
            self.submit(self.alarm, Some(Waiter::PendingCommit));
        } else {
            self.ship_commit();
        }
        self.check_local_invariants();
    }

    // ----- the handler (§2 transitions 3–4, R11, R16) -------------------------------------

    /// `armAlarmHandler(T, now)`: called when the manager fires `scheduled`.
    pub fn arm_alarm_handler(&mut self, scheduled: Millis, now: Millis) -> Result<ArmDecision, AlarmError> {
        self.check_not_broken()?;
        assert!(!self.in_handler, "R9: one alarm handler at a time per actor");
        let stored = self.alarm;
        let clean = self.alarm_is_clean();
        let overdue = stored.is_some_and(|s| s < now);
        let decision = if stored == Some(scheduled) || (clean && overdue) {
            self.probes.hit(if stored == Some(scheduled) { &probe::ARM_RUN_CURRENT } else { &probe::ARM_RUN_OVERDUE });
            ArmDecision::Run { deferred_delete: true } // #5764 for the overdue case.
        } else if !clean {
            self.probes.hit(&probe::ARM_RUN_DIRTY);
            ArmDecision::Run { deferred_delete: false } // A write is in flight.
        } else {
            // Clean mismatch, premature or late: reschedule the manager to S, then cancel
            // (PR #2648, `4aa2aa046`, `d1faebb06`; B10 is cancelling without the reschedule).
            match stored {
                None => self.probes.hit(&probe::ARM_CANCEL_NONE),
                Some(s) => self.probes.sometimes(scheduled < s, &probe::ARM_CANCEL_PREMATURE),
            }
            self.next_arm += 1;
            let arm = ArmId(self.next_arm);
            let dropped = self.channel.drop_parked();
            self.probes.sometimes(dropped, &probe::ARM_CANCEL_DROPS_PARKED);
            self.submit(stored, Some(Waiter::Arm(arm)));
            return Ok(ArmDecision::Cancel { arm });
        };
        if let ArmDecision::Run { deferred_delete } = decision {
            self.in_handler = true;
            self.armed_at = Some(now);
            self.deferred_delete = deferred_delete;
        }
        Ok(decision)
    }

    /// `cancelDeferredAlarmDeletion()`: keep the alarm even if the handler succeeds.
    /// Outside a handler it has no effect; it is idempotent.
    pub fn cancel_deferred_alarm_deletion(&mut self) {
        if self.in_handler {
            self.deferred_delete = false;
        }
    }

    /// The handler ended. On success the deferred delete writes `S = none` as a confirmed
    /// commit (a move later: commit, then `sR(none)`); on failure the alarm stays (R11).
    /// With a broken gate there is nothing to clean up and nothing is written (`25fa631d7`).
    pub fn handler_finished(&mut self, succeeded: bool) {
        if !self.in_handler {
            return;
        }
        self.in_handler = false;
        self.armed_at = None;
        let delete = std::mem::take(&mut self.deferred_delete);
        self.probes.sometimes(delete && !succeeded && !self.broken, &probe::HANDLER_FAILED_KEEPS);
        if self.broken || !succeeded || !delete {
            return;
        }
        if self.alarm.is_some() {
            self.probes.hit(&probe::HANDLER_DEFERRED_DELETE);
            self.apply_alarm_to_base(None);
            self.note_write(WriteOptions::default());
            self.end_turn();
        }
    }

    pub fn in_handler(&self) -> bool {
        self.in_handler
    }

    /// `abandonAlarm(T)` (R16, B7) after the manager exhausted retries. Returns the value the
    /// manager should keep: `None` when the alarm was cleared here, the safe report value
    /// otherwise (a replacement alarm must survive, B8; a running handler decides itself).
    pub fn abandon_alarm(&mut self, scheduled: Millis) -> Result<AlarmTime, AlarmError> {
        self.check_not_broken()?;
        if self.in_handler {
            self.probes.hit(&probe::ABANDON_IN_HANDLER);
            // R16 says none here, but the manager keeps the answer: none would leave it at ∞
            // while storage keeps T if the handler then fails (I1; the B7 stale alarm). The
            // handler's deferred delete, or its failure, settles the alarm instead.
            return Ok(self.report_value());
        }
        let clean = self.alarm_is_clean(); // B7: clear only a CLEAN S == T.
        if self.alarm == Some(scheduled) && clean {
            self.probes.hit(&probe::ABANDON_CLEARS);
            self.apply_alarm_to_base(None);
            self.note_write(WriteOptions::default());
            self.end_turn();
            return Ok(None);
        }
        self.probes.hit(if self.alarm == Some(scheduled) { &probe::ABANDON_DIRTY } else { &probe::ABANDON_OTHER_VALUE });
        Ok(self.report_value())
    }

    /// The value to attach to a handler outcome or an abandon answer: the earliest alarm that
    /// is or may become durable (LC, S, every commit in flight). Never later than the
    /// durable value, so applying it cannot make the manager late.
    pub fn report_value(&self) -> AlarmTime {
        earliest(self.alarm, self.durable_floor())
    }

    /// §2.3 "clean": no write of the alarm is in flight. S equals LC, and every commit not yet
    /// known durable (shipped or not) carries that same alarm. A KV-only commit keeps the
    /// alarm clean, so a premature fire is still cancelled rather than run early (R8).
    fn alarm_is_clean(&self) -> bool {
        let newer = self.inflight_commits.range(CommitId(self.durable_commit.0 + 1)..);
        self.alarm == self.last_confirmed
            && newer.into_iter().all(|(_, c)| c.alarm == self.alarm)
            && self.unshipped.as_ref().is_none_or(|b| b.alarm == self.alarm)
    }

    /// The earliest value that is durable or may become durable through a commit already
    /// handed to the backend (LC and every commit in flight).
    fn durable_floor(&self) -> AlarmTime {
        // Backends apply commits in order, so an acknowledged commit proves every earlier one
        // durable too: only commits newer than it can still change D (acks may reorder).
        self.inflight_commits
            .range(CommitId(self.durable_commit.0 + 1)..)
            .map(|(_, c)| c.alarm)
            .fold(self.last_confirmed, earliest)
    }

    /// The report a driver attaches to a handler outcome or sends as the `abandonAlarm` answer,
    /// taken when the reply leaves (after the output gate opened, R11). Like every value the
    /// actor hands the manager, it is covered by ASNLT from now on: the manager may adopt it,
    /// so a later move must not assume the manager is earlier than it.
    pub fn report(&mut self) -> (AlarmTime, Fence) {
        let value = self.report_value();
        self.probes.sometimes(self.channel.in_flight().is_some(), &probe::REPORT_COMMAND_IN_FLIGHT);
        let newer = self.inflight_commits.range(CommitId(self.durable_commit.0 + 1)..);
        self.probes.sometimes(newer.into_iter().any(|(_, c)| c.alarm != self.last_confirmed), &probe::REPORT_COMMIT_IN_FLIGHT);
        if fires_earlier(self.scheduled_no_later_than, value) {
            self.scheduled_no_later_than = value;
        }
        self.manager_floor = earliest(self.manager_floor, value);
        self.reported_since_issue = Some(self.reported_since_issue.map_or(value, |before| latest(before, value)));
        self.check_local_invariants();
        (value, self.channel.next_report_fence())
    }

    /// The fence of the newest command or report this actor handed out (a variant that sends
    /// commands of its own ranks them just above it).
    pub fn latest_fence(&self) -> Fence {
        self.channel.latest_fence()
    }

    // ----- completions ---------------------------------------------------------------------

    /// The backend finished commit `id`. A failure breaks the gate (the actor must be reset).
    pub fn on_commit_result(&mut self, id: CommitId, ok: bool) {
        if self.broken {
            return;
        }
        let Some(commit) = self.inflight_commits.remove(&id) else {
            self.probes.hit(&probe::COMMIT_DUPLICATE_COMPLETION);
            return; // Duplicate completion.
        };
        if !ok {
            self.probes.hit(&probe::GATE_BROKEN_BY_COMMIT);
            self.break_gate();
            return;
        }
        if id > self.durable_commit {
            self.durable_commit = id;
            self.last_confirmed = commit.alarm;
        }
        if self.gate_waits_for.is_some_and(|until| until <= self.durable_commit) {
            self.gate_waits_for = None;
        }
        // Move later after the commit, unless S changed since (workerd #5589, B2).
        if commit.version_before == self.alarm_version && fires_earlier(self.manager_floor, commit.alarm) {
            self.probes.sometimes(self.channel.in_flight().is_some(), &probe::MOVE_LATER_PARKED);
            self.submit(commit.alarm, None);
        } else {
            // B2: the move-later this commit would need is skipped because S moved since.
            let needed = fires_earlier(self.manager_floor, commit.alarm);
            self.probes.sometimes(needed && commit.version_before != self.alarm_version, &probe::MOVE_LATER_SKIPPED_VERSION);
        }
        self.check_local_invariants();
    }

    /// The manager link finished command `call`.
    pub fn on_schedule_result(&mut self, call: CallId, ok: bool) {
        if self.broken {
            return;
        }
        let Some((done, next)) = self.channel.complete(call) else {
            self.probes.hit(&probe::COMPLETION_STALE);
            return; // Duplicate or stale completion.
        };
        // Reports handed out while `done` was in flight outrank it (their fences are higher).
        let reported = self.reported_since_issue.take();
        if ok {
            // The manager now holds `done.time`, or a report handed out meanwhile that outranks
            // it (found with unconfirmed writes, move-later-coalescing seed 1: a report raised
            // ASNLT to a later S and so suppressed the post-commit command; this completion
            // then lowered ASNLT to the older command's time, and the next move-earlier
            // skipped its precommit, I1). A queued value may still replace either.
            let queued = self.channel.queued().map(|q| q.time).or(next.as_ref().map(|n| n.time));
            let held = reported.map_or(done.time, |r| latest(done.time, r));
            self.probes.sometimes(held != done.time, &probe::COMPLETION_REPORT_OUTRANKS);
            self.scheduled_no_later_than = match queued {
                Some(q) if fires_earlier(held, q) => {
                    self.probes.hit(&probe::COMPLETION_ASNLT_TO_QUEUED);
                    q
                }
                _ => held,
            };
        }
        // A failed move-earlier breaks the gate below; anything else is sent again.
        let retry = !ok && next.is_none() && !done.waiters.contains(&Waiter::PendingCommit);
        self.send(next);
        if retry {
            self.probes.hit(&probe::COMMAND_RETRIED);
            // A move-later, a re-announce or a Cancel's reschedule failed and nothing newer is
            // queued: the manager may still hold an older value, or none at all (it lost the
            // alarm, or a power loss rolled storage back while it was down: restart-persistence
            // seed 2049), or the stale time it fired (mismatched-fire seed 108, where it stayed
            // earlier than storage while the actor sat idle). Send it again until it lands.
            // Safe for I1: a newer move-earlier would be queued instead.
            self.submit(done.time, None);
        }
        for waiter in done.waiters {
            match waiter {
                Waiter::Arm(arm) => self.effects.push_back(ActorEffect::ArmResolved { arm, ok }),
                Waiter::PendingCommit if !ok => {
                    // A rejected move-earlier breaks the gate (§2 transition 1).
                    self.probes.hit(&probe::GATE_BROKEN_BY_MOVE_EARLIER);
                    self.break_gate();
                    return;
                }
                Waiter::PendingCommit => self.continue_pending_commit(),
            }
        }
        self.check_local_invariants();
    }

    // ----- state for drivers and checkers --------------------------------------------------

    pub fn poll_effect(&mut self) -> Option<ActorEffect> {
        self.effects.pop_front()
    }

    pub fn gate(&self) -> Gate {
        if self.broken {
            Gate::Broken
        } else if let Some(until) = self.gate_waits_for {
            Gate::Blocked { until }
        } else {
            Gate::Open
        }
    }

    pub fn is_broken(&self) -> bool {
        self.broken
    }

    /// ASNLT, for checkers and traces.
    pub fn scheduled_no_later_than(&self) -> AlarmTime {
        self.scheduled_no_later_than
    }

    /// LC, for checkers and traces.
    pub fn last_confirmed(&self) -> AlarmTime {
        self.last_confirmed
    }

    /// S, ignoring the handler's deferred delete and open explicit transactions.
    pub fn stored_alarm(&self) -> AlarmTime {
        self.alarm
    }

    /// Commands in flight plus queued: never more than 2 (I3, PR #6383).
    pub fn commands_outstanding(&self) -> usize {
        usize::from(self.channel.in_flight().is_some()) + usize::from(self.channel.queued().is_some())
    }

    /// Nothing in flight: no commit, no command, no pending writes.
    pub fn is_quiescent(&self) -> bool {
        self.inflight_commits.is_empty()
            && self.unshipped.is_none()
            && !self.pending_commit
            && self.commands_outstanding() == 0
            && self.effects.is_empty()
    }

    // ----- internals -----------------------------------------------------------------------

    fn check_not_broken(&self) -> Result<(), AlarmError> {
        if self.broken {
            Err(AlarmError::Broken)
        } else {
            Ok(())
        }
    }

    fn write_alarm(&mut self, alarm: AlarmTime, options: WriteOptions) {
        if let Some(overlay) = self.txns.last_mut() {
            overlay.alarm = Some(alarm);
            return;
        }
        // R11: any set/delete in the handler cancels the deferred delete.
        let cancels_delete = self.in_handler && self.deferred_delete;
        self.probes.sometimes(cancels_delete, &probe::HANDLER_WRITE_CANCELS_DELETE);
        self.deferred_delete = false;
        if self.alarm == alarm {
            self.probes.hit(if cancels_delete { &probe::SET_SAME_VALUE_IN_HANDLER } else { &probe::SET_SAME_VALUE });
            return; // R3: no write, no commit, no sR.
        }
        self.apply_alarm_to_base(alarm);
        self.note_write(options);
    }

    fn write_kv(&mut self, key: &str, value: Option<Vec<u8>>, options: WriteOptions) {
        if let Some(overlay) = self.txns.last_mut() {
            overlay.kv.insert(key.to_string(), value);
            return;
        }
        self.apply_kv_to_base(key, value);
        self.note_write(options);
    }

    fn apply_alarm_to_base(&mut self, alarm: AlarmTime) {
        if self.alarm != alarm {
            self.alarm_version += 1;
        }
        self.alarm = alarm;
        self.unshipped.get_or_insert_with(CommitBatch::default).alarm = alarm;
    }

    fn apply_kv_to_base(&mut self, key: &str, value: Option<Vec<u8>>) {
        match &value {
            Some(v) => self.kv.insert(key.to_string(), v.clone()),
            None => self.kv.remove(key),
        };
        let batch = self.unshipped.get_or_insert_with(CommitBatch::default);
        batch.alarm = self.alarm;
        batch.kv.insert(key.to_string(), value);
    }

    /// Records that the implicit transaction holds a write destined for commit `next_commit`.
    fn note_write(&mut self, options: WriteOptions) {
        let batch = self.unshipped.get_or_insert_with(CommitBatch::default);
        batch.alarm = self.alarm;
        if !options.allow_unconfirmed {
            self.gate_waits_for = Some(CommitId(self.next_commit));
        }
    }

    /// The precommit scheduling completed: catch up with merged turns, then commit.
    fn continue_pending_commit(&mut self) {
        debug_assert!(self.pending_commit);
        if fires_earlier(self.alarm, self.scheduled_no_later_than) {
            // A merged turn moved the alarm earlier again: `while S < ASNLT: await sR(S)`.
            self.probes.hit(&probe::PRECOMMIT_CATCH_UP);
            self.submit(self.alarm, Some(Waiter::PendingCommit));
            return;
        }
        self.pending_commit = false;
        self.ship_commit();
    }

    fn ship_commit(&mut self) {
        let Some(mut batch) = self.unshipped.take() else {
            return;
        };
        batch.alarm = self.alarm;
        let id = CommitId(self.next_commit);
        self.next_commit += 1;
        self.inflight_commits.insert(id, InflightCommit { alarm: self.alarm, version_before: self.alarm_version });
        self.effects.push_back(ActorEffect::Commit { id, batch });
    }

    /// Offers a value to the manager. ASNLT covers it at once: from now on the manager may
    /// end up holding it, so a later commit must not treat the manager as earlier than it
    /// (a Cancel's reschedule to `none` in flight, then a move-later committed first, would
    /// leave the manager at `none` while storage holds an alarm).
    fn submit(&mut self, time: AlarmTime, waiter: Option<Waiter>) {
        if fires_earlier(self.scheduled_no_later_than, time) {
            self.scheduled_no_later_than = time;
        }
        self.manager_floor = time;
        let sent = self.channel.submit(time, waiter);
        self.send(sent);
    }

    fn send(&mut self, sent: Option<InFlight>) {
        if let Some(sent) = sent {
            // Reports from here on are fenced above this command, and earlier ones below it.
            self.reported_since_issue = None;
            self.effects.push_back(ActorEffect::Schedule { call: sent.call, time: sent.time, fence: sent.fence });
        }
    }

    fn break_gate(&mut self) {
        self.broken = true;
        for waiter in self.channel.clear() {
            if let Waiter::Arm(arm) = waiter {
                self.effects.push_back(ActorEffect::ArmResolved { arm, ok: false });
            }
        }
        self.pending_commit = false;
        self.unshipped = None;
        self.inflight_commits.clear();
    }

    /// What this actor can know locally about I1 (TIGER_STYLE: assert the invariant).
    fn check_local_invariants(&self) {
        if self.broken {
            return;
        }
        // The latest time the manager could fire never exceeds the durable value, nor any
        // value a shipped commit may still make durable (a move earlier is told first).
        let floor = self.durable_floor();
        let asnlt = self.scheduled_no_later_than;
        assert!(
            !fires_earlier(floor, asnlt),
            "I1 (local): actor {} may be fired at {:?} but storage may hold {:?}",
            self.actor,
            asnlt,
            floor
        );
        assert!(!fires_earlier(asnlt, self.manager_floor), "the manager's floor {:?} is above ASNLT {:?}", self.manager_floor, asnlt);
        assert!(self.commands_outstanding() <= 2, "I3: at most one command in flight and one parked");
    }
}
