//! A port of the actor side of workerd's `ActorSqlite` alarm logic,
//! `src/workerd/io/actor-sqlite.c++` at the pinned commit (`mod.rs`), re-expressed as a
//! sans-IO `ActorScheduler`. Upstream names are kept (`alarmScheduledNoLaterThan` is
//! `asnlt`, `pendingLaterAlarmTime` is `pending_later`, …) so the two read side by side.
//!
//! None of the reference's protections are added: no fences the manager looks at, no reports,
//! no re-announce on load, no retry of a failed move-later, the "clean" test is `S == LC`.
//!
//! Where the seam differs from workerd's, the port decides, and each decision says so in a
//! `SEAM:` comment:
//! - promises become requests and completions: a `scheduleRun` is a `Schedule` effect and its
//!   settlement `on_schedule_result`; `commitCallback()` is a `Commit` effect and its
//!   settlement `on_commit_result`; the continuations upstream runs on them run there;
//! - `priorTask` (`alarmLaterInFlight`) is honoured or ignored by the hooks (`PriorTask`):
//!   local workerd's `ActorSqliteHooks` ignore it (R20), production's manager awaits it;
//! - the implicit transaction commits at `end_turn` (upstream: after `kj::yield()`);
//! - SQLite itself (savepoints, the metadata row, the KV table) is a few fields.

use alarmsim_scheduler::api::ActorScheduler;
use alarmsim_scheduler::time::{earliest, fires_earlier};
use alarmsim_scheduler::{ActorEffect, AlarmError, AlarmTime, ArmDecision, ArmId, CallId, CommitBatch, CommitId, DurableState, Fence, Gate, Millis, WriteOptions};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::fixes::Fixes;

/// What the embedder's `Hooks::scheduleRun(time, priorTask)` does with `priorTask`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PriorTask {
    /// Local workerd (`server.c++`'s `ActorSqliteHooks`, R20): ignored, the call goes out at
    /// once.
    Ignore,
    /// Production's alarm manager: awaited before the RPC is made.
    Await,
}

/// A request made by `requestScheduledAlarm`: what to do once `scheduleRun` settles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum After {
    /// The first precommit request of commit job `job` (`startPrecommitAlarmScheduling`).
    Precommit { leader: u64 },
    /// One turn of `commitImpl`'s `while S < ASNLT` loop.
    CatchUp { leader: u64 },
    /// `scheduleLaterAlarm`'s request.
    MoveLater,
    /// `armAlarmHandler`'s reschedule before a Cancel (the earlier-than-clean case, on the
    /// `alarmLaterInFlight` chain).
    Cancel { arm: ArmId },
    /// `armAlarmHandler`'s reschedule before a Cancel (the later-than-clean case, READY_NOW).
    CancelLate { arm: ArmId },
}

#[derive(Clone, Copy, Debug)]
struct Request {
    time: AlarmTime,
    moving_later: bool,
    after: After,
    /// Sent as this call; `None` while it waits for its prior request (`held`).
    call: Option<CallId>,
}

/// One explicit transaction (a SQLite savepoint): what a rollback restores, and its flags.
#[derive(Clone, Debug)]
struct Savepoint {
    alarm: AlarmTime,
    kv: BTreeMap<String, Vec<u8>>,
    unshipped_kv: BTreeMap<String, Option<Vec<u8>>>,
    unshipped_clear: bool,
    alarm_dirty: bool,
    some_write_confirmed: bool,
    /// `alarmVersion` when the savepoint was taken (read only by fix F3).
    alarm_version: u64,
}

/// A `commitImpl()` that has not called `commitCallback()` yet (`pendingCommit`): the jobs
/// merged into it share its callback.
#[derive(Clone, Debug)]
struct PendingCommit {
    leader: u64,
    jobs: Vec<u64>,
}

/// A `commitCallback()` in flight.
#[derive(Clone, Debug)]
struct InflightCommit {
    alarm_for_commit: AlarmTime,
    version_before: u64,
    jobs: Vec<u64>,
}

/// The port of `ActorSqlite` (alarm state, transactions, the output gate's view of commits).
#[derive(Debug)]
pub struct WorkerdActor {
    incarnation: u64,
    prior_task: PriorTask,
    fixes: Fixes,
    // ----- the SQLite database ------------------------------------------------------------
    /// `metadata.getAlarm()`: the alarm in the database, uncommitted savepoint writes included.
    alarm: AlarmTime,
    kv: BTreeMap<String, Vec<u8>>,
    savepoints: Vec<Savepoint>,
    /// An implicit transaction is open (a write happened in this turn).
    implicit_open: bool,
    implicit_confirmed: bool,
    /// Locally committed writes not yet handed to `commitCallback()`.
    unshipped_kv: BTreeMap<String, Option<Vec<u8>>>,
    unshipped_clear: bool,
    // ----- ActorSqlite's alarm state (field names as upstream) ------------------------------
    last_confirmed_alarm_db_state: AlarmTime,
    /// R3's fix: a report went out after the newest request (its settlement must not set
    /// `alarmScheduledNoLaterThan`).
    reported_since_request: bool,
    /// The newest commit acknowledged (a SEAM: see `commit_succeeded`).
    durable_commit: CommitId,
    alarm_scheduled_no_later_than: AlarmTime,
    alarm_later_is_in_flight: bool,
    pending_later_alarm_time: Option<AlarmTime>,
    /// `alarmLaterInFlight`: the request whose settlement resolves it, if it is unresolved.
    alarm_later_in_flight: Option<u64>,
    pending_commit: Option<PendingCommit>,
    alarm_version: u64,
    have_deferred_delete: bool,
    in_alarm_handler: bool,
    broken: bool,
    /// F1 only: the alarm was written while the handler ran.
    retell_after_success: bool,
    /// F1 only: the kept alarm to tell again once no earlier value can be durable.
    retell_kept: AlarmTime,
    /// F1 only: the time the running handler was fired for (the scheduler entry a success
    /// drops).
    handler_alarm: AlarmTime,
    /// F1 only: the latest `scheduleRun` time requested while the handler ran (`None`: none).
    handler_last_request: Option<AlarmTime>,
    /// F1 only: the time a successful run made the scheduler drop (nothing was requested
    /// during the run), until a request goes out.
    dropped_by_success: AlarmTime,
    // ----- the port's own bookkeeping -----------------------------------------------------
    requests: BTreeMap<u64, Request>,
    /// Requests waiting for a prior request to settle: prior → waiting, in order.
    held: BTreeMap<u64, Vec<u64>>,
    by_call: BTreeMap<CallId, u64>,
    next_request: u64,
    next_call: u64,
    seq: u64,
    reports: u32,
    next_commit: u64,
    inflight_commits: BTreeMap<CommitId, InflightCommit>,
    next_job: u64,
    /// Commit jobs whose writes must be confirmed before output leaves (the output gate).
    confirmed_jobs: BTreeSet<u64>,
    next_arm: u64,
    effects: VecDeque<ActorEffect>,
}

impl WorkerdActor {
    /// The constructor: `lastConfirmedAlarmDbState = alarmScheduledNoLaterThan =
    /// metadata.getAlarm()`. Nothing is told to the manager (no re-announce upstream). `fixes`:
    /// the proposed fixes to switch on (none upstream).
    pub fn load_with(incarnation: u64, durable: DurableState, prior_task: PriorTask, fixes: Fixes) -> WorkerdActor {
        WorkerdActor {
            incarnation,
            prior_task,
            fixes,
            alarm: durable.alarm,
            kv: durable.kv,
            savepoints: Vec::new(),
            implicit_open: false,
            implicit_confirmed: false,
            unshipped_kv: BTreeMap::new(),
            unshipped_clear: false,
            last_confirmed_alarm_db_state: durable.alarm,
            durable_commit: CommitId(0),
            reported_since_request: false,
            alarm_scheduled_no_later_than: durable.alarm,
            alarm_later_is_in_flight: false,
            pending_later_alarm_time: None,
            alarm_later_in_flight: None,
            pending_commit: None,
            alarm_version: 0,
            have_deferred_delete: false,
            in_alarm_handler: false,
            broken: false,
            retell_after_success: false,
            retell_kept: None,
            handler_alarm: None,
            handler_last_request: None,
            dropped_by_success: None,
            requests: BTreeMap::new(),
            held: BTreeMap::new(),
            by_call: BTreeMap::new(),
            next_request: 0,
            next_call: 0,
            seq: 0,
            reports: 0,
            next_commit: 0,
            inflight_commits: BTreeMap::new(),
            next_job: 0,
            confirmed_jobs: BTreeSet::new(),
            next_arm: 0,
            effects: VecDeque::new(),
        }
    }

    fn require_not_broken(&self) -> Result<(), AlarmError> {
        if self.broken {
            Err(AlarmError::Broken)
        } else {
            Ok(())
        }
    }

    /// `onWrite(allowUnconfirmed)`: a write opens the implicit transaction (outside an explicit
    /// one) and a confirmed write makes it lock the output gate.
    fn on_write(&mut self, allow_unconfirmed: bool) {
        match self.savepoints.last_mut() {
            Some(sp) => sp.some_write_confirmed |= !allow_unconfirmed,
            None => {
                self.implicit_open = true;
                self.implicit_confirmed |= !allow_unconfirmed;
            }
        }
    }

    /// `metadata.setAlarm(t)`: whether the row changed (R3: setting the same value is no write).
    fn metadata_set_alarm(&mut self, time: AlarmTime, allow_unconfirmed: bool) -> bool {
        if self.alarm == time {
            return false;
        }
        self.alarm = time;
        self.on_write(allow_unconfirmed);
        true
    }

    fn write_kv(&mut self, key: &str, value: Option<Vec<u8>>, allow_unconfirmed: bool) {
        match &value {
            Some(v) => self.kv.insert(key.to_string(), v.clone()),
            None => self.kv.remove(key),
        };
        self.unshipped_kv.insert(key.to_string(), value);
        self.on_write(allow_unconfirmed);
    }

    // ----- requestScheduledAlarm, scheduleLaterAlarm, startPrecommitAlarmScheduling ---------

    /// `requestScheduledAlarm(requestedTime, priorTask)`: ASNLT moves at once for a move
    /// later, on success otherwise. `prior` is the request `priorTask` waits for, if unsettled.
    fn request_scheduled_alarm(&mut self, time: AlarmTime, prior: Option<u64>, after: After) -> u64 {
        let moving_later = fires_earlier(self.alarm_scheduled_no_later_than, time);
        if moving_later {
            self.alarm_scheduled_no_later_than = time;
        }
        if self.in_alarm_handler {
            self.handler_last_request = Some(time);
        }
        self.dropped_by_success = None;
        self.reported_since_request = false;
        self.next_request += 1;
        let id = self.next_request;
        self.requests.insert(id, Request { time, moving_later, after, call: None });
        match (self.prior_task, prior) {
            (PriorTask::Await, Some(prior)) if self.requests.contains_key(&prior) => self.held.entry(prior).or_default().push(id),
            _ => self.send(id),
        }
        id
    }

    /// `hooks.scheduleRun(time)`: the call goes out.
    fn send(&mut self, id: u64) {
        self.next_call += 1;
        self.seq += 1;
        self.reports = 0;
        let call = CallId(self.next_call);
        let request = self.requests.get_mut(&id).expect("a request being sent exists");
        request.call = Some(call);
        self.by_call.insert(call, id);
        // SEAM: the fence is only for the trace; the ported manager never reads it.
        self.effects.push_back(ActorEffect::Schedule { call, time: request.time, fence: Fence::command(self.incarnation, self.seq) });
    }

    /// `scheduleLaterAlarm(newAlarmTime)`: one move-later in flight, the latest time parked.
    fn schedule_later_alarm(&mut self, time: AlarmTime) {
        if self.alarm_later_is_in_flight {
            self.pending_later_alarm_time = Some(time);
            return;
        }
        self.alarm_later_is_in_flight = true;
        let prior = self.alarm_later_in_flight;
        let id = self.request_scheduled_alarm(time, prior, After::MoveLater);
        self.alarm_later_in_flight = Some(id);
    }

    /// `startPrecommitAlarmScheduling()`: a move earlier is told before the local commit.
    fn start_precommit_alarm_scheduling(&mut self) -> Option<u64> {
        // F1 (off upstream): T, which a successful run made the scheduler drop, is told first.
        let dropped = self.fixes.same_time_in_handler_reschedules && self.alarm.is_some() && self.alarm == self.dropped_by_success;
        if self.pending_commit.is_none() && (fires_earlier(self.alarm, self.alarm_scheduled_no_later_than) || dropped) {
            self.pending_later_alarm_time = None;
            let prior = self.alarm_later_in_flight;
            let leader = self.next_job + 1; // The job about to start (see `commit_impl`).
            return Some(self.request_scheduled_alarm(self.alarm, prior, After::Precommit { leader }));
        }
        None
    }

    // ----- commits ------------------------------------------------------------------------

    /// A local commit (the implicit transaction's `COMMIT`, or a root savepoint's `RELEASE`),
    /// then `commitImpl(precommit)`: merged into a pending commit if one is waiting, else the
    /// leader of a new one. `confirmed`: the output gate waits for it.
    fn commit_impl(&mut self, precommit: Option<u64>, confirmed: bool) {
        if self.fixes.stale_parked_later_dropped && self.pending_later_alarm_time.is_some_and(|parked| fires_earlier(self.alarm, parked)) {
            // R2 (off upstream): a later time parked behind the move-later in flight is what
            // SQLite held; this commit replaces it with an earlier one, so the drain must not
            // send it (its own post-commit sync tells the new time if it is a move later).
            self.pending_later_alarm_time = None;
        }
        self.next_job += 1;
        let job = self.next_job;
        if confirmed {
            self.confirmed_jobs.insert(job);
        }
        if let Some(pending) = self.pending_commit.as_mut() {
            pending.jobs.push(job); // "wait on it to perform the precommit alarm update and db commit"
            return;
        }
        self.pending_commit = Some(PendingCommit { leader: job, jobs: vec![job] });
        if precommit.is_none() {
            self.catch_up(job);
        }
        // Otherwise the precommit request's settlement continues (`After::Precommit`).
    }

    /// `commitImpl`'s loop: while the local alarm is earlier than what the manager may hold,
    /// request it (READY_NOW); then `commitCallback()`.
    fn catch_up(&mut self, leader: u64) {
        if fires_earlier(self.alarm, self.alarm_scheduled_no_later_than) {
            self.request_scheduled_alarm(self.alarm, None, After::CatchUp { leader });
            return;
        }
        let pending = self.pending_commit.take().expect("the leader's pending commit");
        debug_assert_eq!(pending.leader, leader);
        self.next_commit += 1;
        let id = CommitId(self.next_commit);
        let batch = CommitBatch { clear_kv: std::mem::take(&mut self.unshipped_clear), kv: std::mem::take(&mut self.unshipped_kv), alarm: self.alarm };
        self.inflight_commits.insert(id, InflightCommit { alarm_for_commit: self.alarm, version_before: self.alarm_version, jobs: pending.jobs });
        self.effects.push_back(ActorEffect::Commit { id, batch });
    }

    /// The implicit transaction commits (upstream: the turn after the writes, `kj::yield()`).
    fn commit_implicit(&mut self) {
        if !self.implicit_open || self.broken {
            return;
        }
        let confirmed = std::mem::take(&mut self.implicit_confirmed);
        self.implicit_open = false;
        let precommit = self.start_precommit_alarm_scheduling();
        self.commit_impl(precommit, confirmed);
    }

    /// The output gate breaks and the actor is broken: every waiter fails.
    fn break_gate(&mut self) {
        if self.broken {
            return;
        }
        self.broken = true;
        for request in self.requests.values() {
            if let After::Cancel { arm } | After::CancelLate { arm } = request.after {
                self.effects.push_back(ActorEffect::ArmResolved { arm, ok: false });
            }
        }
        self.requests.clear();
        self.held.clear();
        self.pending_commit = None;
        self.inflight_commits.clear();
    }

    /// `commitCallback()` succeeded for one commit: the last confirmed alarm, the gate's jobs,
    /// and the post-commit sync of a move later.
    fn commit_succeeded(&mut self, id: CommitId, commit: InflightCommit) {
        // SEAM: upstream's commits complete in order (one output-gate chain); our backend
        // applies them in order, but its acknowledgements may overtake each other. A late
        // acknowledgement of an older commit must not put its older alarm back as the last
        // confirmed one (the reference keeps `durable_commit` for the same reason).
        if id > self.durable_commit {
            self.durable_commit = id;
            self.last_confirmed_alarm_db_state = commit.alarm_for_commit;
        }
        for job in &commit.jobs {
            self.confirmed_jobs.remove(job);
        }
        // "If another commit modified the alarm while we were async, skip post-commit alarm
        // sync" (#5589).
        if self.alarm_version == commit.version_before && fires_earlier(self.alarm_scheduled_no_later_than, commit.alarm_for_commit) {
            self.schedule_later_alarm(commit.alarm_for_commit);
        }
        self.retell_kept_alarm();
    }

    /// The earliest alarm SQLite holds or may hold through a commit already in flight.
    fn durable_floor(&self) -> AlarmTime {
        self.inflight_commits.range(CommitId(self.durable_commit.0 + 1)..).map(|(_, c)| c.alarm_for_commit).fold(self.last_confirmed_alarm_db_state, earliest)
    }

    /// F1: tell the kept alarm T again, once nothing earlier can be durable. A newer write
    /// replaces the need (its own sync tells it).
    fn retell_kept_alarm(&mut self) {
        let Some(kept) = self.retell_kept else { return };
        if self.broken || self.alarm != Some(kept) {
            self.retell_kept = None;
            return;
        }
        if fires_earlier(self.durable_floor(), Some(kept)) {
            return; // An earlier value is durable or in flight: wait for its commits.
        }
        self.retell_kept = None;
        self.schedule_later_alarm(Some(kept));
    }

    fn settle(&mut self, id: u64, ok: bool) {
        let Some(request) = self.requests.remove(&id) else { return };
        // Whatever waits on this request's settlement (`alarmLaterInFlight` resolves on
        // failure too: its forks catch) goes out now.
        if self.alarm_later_in_flight == Some(id) {
            self.alarm_later_in_flight = None;
        }
        for waiting in self.held.remove(&id).unwrap_or_default() {
            if self.requests.contains_key(&waiting) {
                self.send(waiting);
            }
        }
        // R3's fix (off upstream): an older request settling after a newer one went out must
        // not overwrite what the newer one set.
        // A report the scheduler may take (R1's fix) is newer than every request before it.
        let newest = !self.fixes.newest_request_sets_asnlt || (id == self.next_request && !self.reported_since_request);
        if ok && !request.moving_later && newest {
            self.alarm_scheduled_no_later_than = request.time;
        }
        match request.after {
            After::Precommit { leader } | After::CatchUp { leader } => {
                if !ok {
                    // The commit promise rejects: the output gate breaks (upstream's catch).
                    return self.break_gate();
                }
                if self.pending_commit.as_ref().is_some_and(|p| p.leader == leader) {
                    self.catch_up(leader);
                }
            }
            After::MoveLater => {
                // Failures are only logged upstream; the chain resolves either way.
                self.alarm_later_is_in_flight = false;
                if let Some(next) = self.pending_later_alarm_time.take() {
                    self.schedule_later_alarm(next);
                } else if !ok && self.fixes.move_later_retried && self.alarm == request.time {
                    // R1's fix (off upstream): the lost move-later goes out again.
                    self.schedule_later_alarm(request.time);
                }
            }
            After::Cancel { arm } | After::CancelLate { arm } => self.effects.push_back(ActorEffect::ArmResolved { arm, ok }),
        }
    }
}

impl ActorScheduler for WorkerdActor {
    /// `getAlarm()`: null in a handler whose deferred delete is pending, unless the open
    /// explicit transaction wrote the alarm.
    fn get_alarm(&self) -> Result<AlarmTime, AlarmError> {
        self.require_not_broken()?;
        let dirty = self.savepoints.last().is_some_and(|sp| sp.alarm_dirty);
        if self.have_deferred_delete && !dirty {
            return Ok(None);
        }
        Ok(self.alarm)
    }

    /// `setAlarm(t)` (the API clamps a past `t` to now and rejects `t ≤ 0` before it).
    fn set_alarm(&mut self, time: Millis, now: Millis, options: WriteOptions) -> Result<(), AlarmError> {
        self.require_not_broken()?;
        if time.0 <= 0 {
            return Err(AlarmError::InvalidTime(time.0));
        }
        self.write_alarm(Some(time.max(now)), options);
        Ok(())
    }

    fn delete_alarm(&mut self, options: WriteOptions) -> Result<(), AlarmError> {
        self.require_not_broken()?;
        self.write_alarm(None, options);
        Ok(())
    }

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, AlarmError> {
        self.require_not_broken()?;
        Ok(self.kv.get(key).cloned())
    }

    fn put(&mut self, key: &str, value: Vec<u8>, options: WriteOptions) -> Result<(), AlarmError> {
        self.require_not_broken()?;
        self.write_kv(key, Some(value), options.allow_unconfirmed);
        Ok(())
    }

    fn delete(&mut self, key: &str, options: WriteOptions) -> Result<(), AlarmError> {
        self.require_not_broken()?;
        self.write_kv(key, None, options.allow_unconfirmed);
        Ok(())
    }

    /// `deleteAll()`: never unconfirmed; the implicit transaction's writes are rolled back
    /// (the alarm read before it is what is kept); inside an explicit transaction it throws.
    fn delete_all(&mut self, delete_alarm: bool, _options: WriteOptions) -> Result<(), AlarmError> {
        self.require_not_broken()?;
        if !self.savepoints.is_empty() {
            return Err(AlarmError::InTransaction);
        }
        let local_alarm_state = self.alarm;
        // SEAM: the implicit transaction's KV writes are blown away with everything else.
        self.kv.clear();
        self.unshipped_kv.clear();
        self.unshipped_clear = true;
        // kv.deleteAll() deleted the metadata row too; it is restored unless `deleteAlarm`.
        self.alarm = None;
        if local_alarm_state.is_some() {
            if delete_alarm {
                self.alarm_version += 1;
                self.have_deferred_delete = false;
            } else if self.metadata_set_alarm(local_alarm_state, false) {
                self.alarm_version += 1;
            }
        }
        // "Make sure a commit callback is queued for the deleteAll()" (always confirmed).
        self.implicit_open = true;
        self.implicit_confirmed = true;
        Ok(())
    }

    /// `startTransaction()`: a savepoint.
    fn txn_begin(&mut self) -> Result<(), AlarmError> {
        self.require_not_broken()?;
        // SEAM: upstream waits for an open implicit transaction to complete before the
        // explicit one starts; here the implicit one commits now.
        self.commit_implicit();
        let (alarm_dirty, some_write_confirmed) = self.savepoints.last().map_or((false, false), |sp| (sp.alarm_dirty, sp.some_write_confirmed));
        self.savepoints.push(Savepoint {
            alarm: self.alarm,
            kv: self.kv.clone(),
            unshipped_kv: self.unshipped_kv.clone(),
            unshipped_clear: self.unshipped_clear,
            alarm_dirty,
            some_write_confirmed,
            alarm_version: self.alarm_version,
        });
        Ok(())
    }

    /// `ExplicitTxn::commit()`: a nested one folds into its parent; the root one starts the
    /// precommit scheduling, releases the savepoint and runs `commitImpl`.
    fn txn_commit(&mut self, _options: WriteOptions) -> Result<(), AlarmError> {
        self.require_not_broken()?;
        let sp = self.savepoints.pop().ok_or(AlarmError::NoTransaction)?;
        if let Some(parent) = self.savepoints.last_mut() {
            parent.alarm_dirty |= sp.alarm_dirty;
            parent.some_write_confirmed |= sp.some_write_confirmed;
            return Ok(());
        }
        let precommit = self.start_precommit_alarm_scheduling();
        if sp.alarm_dirty {
            // F1 (off upstream): as in `write_alarm`; the savepoint may have rewritten T.
            if self.fixes.same_time_in_handler_reschedules {
                self.retell_after_success |= self.in_alarm_handler;
            }
            self.have_deferred_delete = false;
        }
        self.commit_impl(precommit, sp.some_write_confirmed);
        Ok(())
    }

    /// `ExplicitTxn::rollback()`: `ROLLBACK TO` the savepoint (alarmVersion is not undone).
    fn txn_rollback(&mut self) -> Result<(), AlarmError> {
        self.require_not_broken()?;
        let sp = self.savepoints.pop().ok_or(AlarmError::NoTransaction)?;
        self.alarm = sp.alarm;
        // Upstream keeps the version a rolled-back `setAlarm` bumped, so an in-flight commit's
        // post-commit sync is skipped although no replacement commit will sync (F3, FINDINGS).
        if self.fixes.rollback_restores_alarm_version {
            self.alarm_version = sp.alarm_version;
        }
        self.kv = sp.kv;
        self.unshipped_kv = sp.unshipped_kv;
        self.unshipped_clear = sp.unshipped_clear;
        Ok(())
    }

    fn end_turn(&mut self) {
        self.commit_implicit();
    }

    /// `armAlarmHandler(scheduledTime, currentTime)`.
    fn arm_alarm_handler(&mut self, scheduled: Millis, now: Millis) -> Result<ArmDecision, AlarmError> {
        self.require_not_broken()?;
        assert!(!self.in_alarm_handler, "KJ_ASSERT(!inAlarmHandler)");
        let local = self.alarm;
        // Upstream calls the local state "clean" when it equals the last confirmed one; two
        // commits in flight that write T and then put back the old value fool it (ABA): the
        // handler is cancelled although SQLite holds T until the second lands (F6, FINDINGS).
        let settled = !self.fixes.clean_needs_no_commit_in_flight || self.inflight_commits.values().all(|c| c.alarm_for_commit == local);
        if local != Some(scheduled) {
            if local == self.last_confirmed_alarm_db_state && settled {
                if fires_earlier(local, Some(now)) {
                    // "SQLite alarm overdue, running despite AlarmManager mismatch".
                    self.have_deferred_delete = true;
                    self.in_alarm_handler = true;
                    self.handler_alarm = Some(scheduled);
                    return Ok(ArmDecision::Run { deferred_delete: true });
                }
                self.next_arm += 1;
                let arm = ArmId(self.next_arm);
                if fires_earlier(Some(scheduled), local) {
                    // Reschedule to the clean time on the `alarmLaterInFlight` chain, then cancel.
                    let prior = self.alarm_later_in_flight;
                    let id = self.request_scheduled_alarm(local, prior, After::Cancel { arm });
                    self.pending_later_alarm_time = None;
                    self.alarm_later_in_flight = Some(id);
                } else {
                    // The manager is late: reschedule (READY_NOW), then cancel.
                    self.request_scheduled_alarm(local, None, After::CancelLate { arm });
                }
                return Ok(ArmDecision::Cancel { arm });
            }
            // "There's a alarm write that hasn't been set yet pending for a time different
            // than ours": run, without the deferred delete.
            self.have_deferred_delete = false;
        } else {
            self.have_deferred_delete = true;
        }
        self.in_alarm_handler = true;
        self.handler_alarm = Some(scheduled);
        Ok(ArmDecision::Run { deferred_delete: self.have_deferred_delete })
    }

    /// The handler's deleter is dropped (`maybeDeleteDeferredAlarm`), after
    /// `cancelDeferredAlarmDeletion()` on failure.
    fn handler_finished(&mut self, succeeded: bool) {
        if !succeeded {
            self.have_deferred_delete = false;
        }
        self.in_alarm_handler = false;
        let kept = std::mem::take(&mut self.handler_alarm);
        let last_request = self.handler_last_request.take();
        if std::mem::take(&mut self.retell_after_success) && succeeded && !self.broken && kept.is_some() && self.alarm == kept && last_request != Some(kept) {
            // F1 (off upstream): the scheduler would drop the alarm the handler kept. Only the
            // kept value (a value the handler changed reaches the scheduler through its own
            // commit, and telling it early would move the scheduler later than storage, I1),
            // and only if no scheduleRun(T) already went out during the handler (a precommit
            // move-earlier back to T): the scheduler queued that one. Told once SQLite can no
            // longer hold an earlier value: a client's earlier write between the handler's
            // write of T and its end may still be what SQLite holds (I1).
            self.retell_kept = kept;
            self.retell_kept_alarm();
        } else if self.fixes.same_time_in_handler_reschedules && succeeded && last_request.is_none() {
            // F1 (off upstream): on success the scheduler drops T and holds nothing (nothing
            // was requested during the run), but `alarmScheduledNoLaterThan` still says T. A
            // later setAlarm(T) (a client's `setAlarm(Date.now())` in the handler's last
            // millisecond, before the result reaches the scheduler) is then neither a move
            // earlier nor later and is never told. Until a request goes out, T is told before
            // its commit, as a move earlier. (A later time X is still told only after its
            // commit: `docs/FINDINGS.md`, F1, "what the fix leaves".)
            self.dropped_by_success = kept;
        }
        if self.have_deferred_delete {
            if !self.broken && self.metadata_set_alarm(None, false) {
                self.alarm_version += 1;
            }
            self.have_deferred_delete = false;
        }
        // SEAM: the deferred delete's write commits on the next turn upstream; here, now.
        self.commit_implicit();
    }

    /// `abandonAlarm(T)`: none while a handler runs; clears a stored S == T (no "clean" test);
    /// otherwise answers S.
    fn abandon_alarm(&mut self, scheduled: Millis) -> Result<AlarmTime, AlarmError> {
        if self.in_alarm_handler {
            return Ok(None);
        }
        match self.alarm {
            Some(stored) if stored == scheduled => {
                // `setAlarm(kj::none, {}, nullptr)`.
                self.require_not_broken()?;
                if self.fixes.abandon_waits_for_commits && (self.pending_commit.is_some() || !self.inflight_commits.is_empty()) {
                    // F5 (off upstream): the answer "none" must not overtake a commit that can
                    // still fail and reset the actor (losing the delete while the scheduler
                    // drops its entry). Without an asynchronous answer in the plug-in API, the
                    // port refuses now and the scheduler asks again (F4); upstream would
                    // `co_await` the deletion's commit before answering.
                    return Err(AlarmError::Broken);
                }
                self.write_alarm(None, WriteOptions::default());
                // SEAM: its implicit transaction commits now (upstream: the next turn).
                self.commit_implicit();
                Ok(None)
            }
            stored => Ok(stored),
        }
    }

    /// SEAM: workerd's `runAlarm` result and `abandonAlarm` answer carry no value the local
    /// scheduler reads; the port answers S with a report fence, which the ported manager
    /// ignores (the reference manager would take it).
    fn report(&mut self) -> (AlarmTime, Fence) {
        // R1's fix (off upstream): the scheduler may take the reported alarm, so a report of a
        // later time moves `alarmScheduledNoLaterThan` as a move-later request does; a write
        // earlier than it is then told before its commit, and the scheduler is never later
        // than SQLite (I1). (Had the scheduler ignored the report, it is only earlier.)
        // The value is the earliest SQLite may hold until the next command: the local alarm,
        // the last confirmed one and every commit in flight. An unconfirmed write's commit
        // (allowUnconfirmed) may still be in flight when the output gate opens, and reporting
        // its time would move the scheduler later than SQLite (I1), as the reference's report
        // also avoids.
        let mut value = self.alarm;
        if self.fixes.result_carries_alarm {
            value = earliest(value, self.durable_floor());
            if fires_earlier(self.alarm_scheduled_no_later_than, value) {
                self.alarm_scheduled_no_later_than = value;
            }
        }
        self.reports += 1;
        self.reported_since_request = true;
        (value, Fence::nth_report(self.incarnation, self.seq, self.reports))
    }

    /// `commitCallback()` settled.
    fn on_commit_result(&mut self, id: CommitId, ok: bool) {
        if self.broken {
            return;
        }
        let Some(commit) = self.inflight_commits.remove(&id) else { return };
        if !ok {
            return self.break_gate();
        }
        self.commit_succeeded(id, commit);
    }

    fn on_schedule_result(&mut self, call: CallId, ok: bool) {
        if self.broken {
            return;
        }
        let Some(id) = self.by_call.remove(&call) else { return };
        self.settle(id, ok);
    }

    fn poll_effect(&mut self) -> Option<ActorEffect> {
        self.effects.pop_front()
    }

    fn gate(&self) -> Gate {
        if self.broken {
            Gate::Broken
        } else if self.confirmed_jobs.is_empty() {
            Gate::Open
        } else {
            Gate::Blocked { until: CommitId(self.next_commit + 1) }
        }
    }

    fn stored_alarm(&self) -> AlarmTime {
        // SEAM: the committed alarm, without an open savepoint's writes.
        self.savepoints.first().map_or(self.alarm, |sp| sp.alarm)
    }

    /// Requests in flight plus held (upstream bounds move-laters to one in flight and one
    /// parked; other requests are not bounded by construction).
    fn commands_outstanding(&self) -> usize {
        self.requests.len()
    }
}

impl WorkerdActor {
    /// `setAlarm` after the API's checks: the row, `alarmVersion`, and the deferred delete
    /// (cancelled by a write outside an explicit transaction; inside one, `alarmDirty`).
    fn write_alarm(&mut self, time: AlarmTime, options: WriteOptions) {
        let changed = self.metadata_set_alarm(time, options.allow_unconfirmed);
        if changed {
            self.alarm_version += 1;
        }
        match self.savepoints.last_mut() {
            Some(sp) => sp.alarm_dirty = true,
            None => {
                // F1 (off upstream): a write that cancels the deferred delete may leave T stored
                // with no scheduleRun telling the scheduler to fire it again: setAlarm(T) is a
                // metadata no-op, and setAlarm(X) then setAlarm(T) skips both syncs (X's
                // post-commit sync sees the version moved on; T is not earlier than T). So
                // remember it, and `handler_finished` re-tells T if T is still stored.
                if self.fixes.same_time_in_handler_reschedules {
                    self.retell_after_success |= self.in_alarm_handler;
                }
                self.have_deferred_delete = false;
            }
        }
    }
}
