//! A port of workerd's local alarm scheduler, `src/workerd/server/alarm-scheduler.c++` at
//! the pinned commit (`mod.rs`): what `workerd` runs for Durable Object alarms outside
//! Cloudflare's production, re-expressed as a sans-IO `ManagerScheduler`.
//!
//! Faithful to upstream, on purpose (each is a difference from the reference `ManagerCore`):
//! - **No fences.** `scheduleRun(t)` is `setAlarm(t)` or `deleteAlarm()` as it arrives
//!   (`ActorSqliteHooks` in `server.c++` ignore `priorTask`, R20); a late or duplicated
//!   command overwrites a newer one. The fence a command carries is ignored.
//! - **A value that arrives while the alarm is not WAITING is queued** (STARTED, and FINISHED
//!   during a retry's backoff), the alarm's own time included; the retry keeps its timer (R17).
//! - **A delete while STARTED clears only the queued value**; otherwise a queued value is
//!   promoted (`deleteAlarm`), and the entry is erased only when nothing is queued and it is
//!   not STARTED.
//! - **Rows mirror `setAlarm`/`deleteAlarm`**: an upsert of the new time, or a deleted row.
//!   Retry counters live in memory (R18).
//! - **An attempt's result carries no value**: a report the actor attaches is ignored, and so is
//!   the time an abandon answer returns (upstream: "We ignore the returned remaining time").
//! - **A failed `abandonAlarm` RPC keeps the alarm, with no task**: upstream logs "keeping alarm
//!   in scheduler" and returns; the entry stays FINISHED and nothing fires it again until the
//!   process restarts (`loadAlarmsFromDb`).

use alarmsim_scheduler::api::ManagerScheduler;
use alarmsim_scheduler::backoff::{RetryDecision, RetryPolicy, RetryState};
use alarmsim_scheduler::manager::Applied;
use alarmsim_scheduler::{ActorId, AlarmRow, AlarmTime, Fence, Fire, FireResult, ManagerEffect, Millis, Outcome};
use rand::RngCore;
use std::collections::{BTreeMap, VecDeque};

use super::fixes::Fixes;

/// `AlarmScheduler::AlarmStatus`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Waiting,
    Started,
    /// The attempt ended; a retry may be waiting out its backoff, or an abandon its answer.
    Finished,
}

/// `AlarmScheduler::ScheduledAlarm`.
#[derive(Clone, Debug)]
struct Entry {
    scheduled: Millis,
    queued: Option<Millis>,
    status: Status,
    /// When the entry's task fires (`makeAlarmTask`'s delay); `None` while it runs, while an
    /// abandon is pending, and after a failed abandon (no task at all).
    wake: Option<Millis>,
    /// An `abandonAlarm` request is out and its answer not back.
    abandoning: bool,
    /// F4 only: the entry's task, when it comes, asks `abandonAlarm` again instead of firing.
    abandon_again: bool,
    retry: RetryState,
    name: Option<String>,
}

impl Entry {
    /// `scheduleAlarm(now, actor, scheduledTime)`: a fresh WAITING entry (counters reset).
    fn fresh(scheduled: Millis, name: Option<String>) -> Entry {
        Entry { scheduled, queued: None, status: Status::Waiting, wake: Some(scheduled), abandoning: false, abandon_again: false, retry: RetryState::default(), name }
    }
}

/// The local `AlarmScheduler` of one namespace.
#[derive(Debug, Default)]
pub struct WorkerdLocalScheduler {
    /// `kj::HashMap<ActorKey, ScheduledAlarm>`; a `BTreeMap` here so walks are in actor order.
    alarms: BTreeMap<ActorId, Entry>,
    policy: RetryPolicy,
    fixes: Fixes,
    effects: VecDeque<ManagerEffect>,
    /// R1's fenced commands only: the newest fence applied per actor (kept in its row).
    fences: BTreeMap<ActorId, Fence>,
}

impl WorkerdLocalScheduler {
    /// `loadAlarmsFromDb()`: every row is scheduled (past ones fire at once); counters fresh.
    /// `fixes` are the proposed fixes to switch on (none upstream).
    pub fn load_with(rows: Vec<AlarmRow>, policy: RetryPolicy, fixes: Fixes) -> WorkerdLocalScheduler {
        let mut s = WorkerdLocalScheduler { policy, fixes, ..WorkerdLocalScheduler::default() };
        for row in rows {
            if fixes.commands_fenced {
                s.fences.insert(row.actor.clone(), row.fence);
            }
            if let Some(time) = row.time {
                s.alarms.insert(row.actor, Entry::fresh(time, row.name));
            }
        }
        s
    }

    /// The row `stmtSetAlarm` upserts (the name is kept when none is given: COALESCE).
    fn upsert(&mut self, actor: &ActorId, time: Millis, name: Option<String>) {
        let fence = self.fence(actor);
        self.effects.push_back(ManagerEffect::Persist(AlarmRow { actor: actor.clone(), time: Some(time), name, fence }));
    }

    /// `stmtDeleteAlarm`: the row goes (with R1's fenced commands, a row without a time keeps
    /// the fence).
    fn delete_row(&mut self, actor: &ActorId) {
        let fence = self.fence(actor);
        self.effects.push_back(ManagerEffect::Persist(AlarmRow { actor: actor.clone(), time: None, name: None, fence }));
    }

    /// The newest fence applied for `actor` (the default while commands are not fenced).
    fn fence(&self, actor: &ActorId) -> Fence {
        self.fences.get(actor).copied().unwrap_or_default()
    }

    /// `AlarmScheduler::setAlarm`.
    fn set_alarm(&mut self, actor: &ActorId, time: Millis, name: Option<String>) {
        let kept_name = name.clone().or_else(|| self.alarms.get(actor).and_then(|e| e.name.clone()));
        self.upsert(actor, time, kept_name.clone());
        let fix_backoff = self.fixes.replacement_beats_backoff;
        match self.alarms.get_mut(actor) {
            // F2 (off upstream): a new time replaces a retry waiting out its backoff.
            Some(entry) if fix_backoff && entry.status == Status::Finished && entry.wake.is_some() && entry.scheduled != time => {
                *entry = Entry::fresh(time, kept_name);
            }
            // "We queue any new alarm after the existing alarm even if the new alarm has the
            // same scheduled time." (R17: during a backoff too, so it waits behind the retry.)
            Some(entry) if entry.status != Status::Waiting => entry.queued = Some(time),
            _ => {
                self.alarms.insert(actor.clone(), Entry::fresh(time, kept_name));
            }
        }
    }

    /// `AlarmScheduler::deleteAlarm`.
    fn delete_alarm(&mut self, actor: &ActorId) {
        self.delete_row(actor);
        let Some(entry) = self.alarms.get_mut(actor) else { return };
        match entry.queued {
            // "If we are currently running an alarm, we want to delete the queued instead of
            // current."
            Some(_) if entry.status == Status::Started => entry.queued = None,
            // The queued alarm is scheduled in memory; its row was just deleted.
            Some(queued) => *entry = Entry::fresh(queued, entry.name.clone()),
            // "We can't remove running alarms."
            None if entry.status != Status::Started => {
                self.alarms.remove(actor);
            }
            None => {}
        }
    }

    /// `abandonAlarm` is requested (the entry's task becomes the request).
    fn abandon(&mut self, actor: &ActorId, scheduled: Millis) {
        if let Some(entry) = self.alarms.get_mut(actor) {
            entry.wake = None;
            entry.abandoning = true;
        }
        self.effects.push_back(ManagerEffect::Abandon { actor: actor.clone(), scheduled });
    }
}

impl ManagerScheduler for WorkerdLocalScheduler {
    fn schedule(&mut self, actor: &ActorId, time: AlarmTime, fence: Fence, name: Option<String>) -> Applied {
        if self.fixes.commands_fenced {
            // R1's fix (off upstream): a command no newer than the last applied is late or
            // duplicated (#5431).
            if fence <= self.fence(actor) {
                return Applied::Stale;
            }
            self.fences.insert(actor.clone(), fence);
        }
        let before = self.alarms.get(actor).map(|e| (e.scheduled, e.queued, e.status));
        match time {
            Some(t) => self.set_alarm(actor, t, name),
            None => self.delete_alarm(actor),
        }
        let after = self.alarms.get(actor).map(|e| (e.scheduled, e.queued, e.status));
        // No fence is consulted: nothing is ever stale here.
        if before == after {
            Applied::Unchanged
        } else {
            Applied::Applied
        }
    }

    /// `makeAlarmTask` → `checkTimestamp`: an entry fires once its task's time has come and the
    /// clock passed in is at or past its scheduled time (R8).
    fn take_due(&mut self, now: Millis) -> Vec<Fire> {
        let mut fires = Vec::new();
        let mut abandons = Vec::new();
        for (actor, entry) in self.alarms.iter_mut() {
            if entry.abandon_again && entry.wake.is_some_and(|w| w <= now) {
                entry.abandon_again = false;
                abandons.push((actor.clone(), entry.scheduled));
                continue;
            }
            if entry.wake.is_some_and(|w| w <= now) && entry.scheduled <= now {
                entry.status = Status::Started;
                entry.wake = None;
                let retry_count = entry.retry.counted;
                fires.push(Fire { actor: actor.clone(), scheduled: entry.scheduled, retry_count, is_retry: retry_count > 0, name: entry.name.clone() });
            }
        }
        for (actor, scheduled) in abandons {
            self.abandon(&actor, scheduled);
        }
        fires
    }

    fn next_wakeup(&self) -> Option<Millis> {
        self.alarms.values().filter_map(|e| e.wake.map(|w| w.max(e.scheduled))).min()
    }

    /// The rest of `makeAlarmTask`, once `runAlarm` returned.
    fn on_fire_result(&mut self, actor: &ActorId, scheduled: Millis, result: FireResult, now: Millis, rng: &mut dyn RngCore) {
        let policy = self.policy;
        let Some(entry) = self.alarms.get_mut(actor) else { return };
        // The task that ran belongs to this entry only while it is STARTED for this time (a
        // replaced entry's old task is cancelled upstream: its result never arrives).
        if entry.status != Status::Started || entry.scheduled != scheduled {
            return;
        }
        // F7 (off upstream): the alarm's own time, queued during its failed attempt, is not a
        // new alarm: the retry (with its backoff and count) goes on.
        // The same for an abort (R13): the own time, queued during the attempt or its
        // backoff (a move-later sent again under R1's fix), must not run the aborted alarm
        // again as a new one.
        let failed = matches!(result.outcome, Outcome::Failed { .. } | Outcome::Aborted);
        if self.fixes.own_time_keeps_retry && failed && entry.queued == Some(scheduled) {
            entry.queued = None;
        }
        // "If an alarm is queued, there's no point in retrying the current one."
        if let Some(queued) = entry.queued {
            *entry = Entry::fresh(queued, entry.name.clone());
            return;
        }
        entry.status = Status::Finished;
        let (retry, counted) = match result.outcome {
            Outcome::Failed { counted } => (true, counted),
            Outcome::Succeeded | Outcome::Aborted | Outcome::Canceled | Outcome::NoHandler => (false, false),
        };
        // R1's fix (off upstream): a run that did not fail tells the alarm the actor holds.
        // Taken after the outcome, as a command with the report's fence (newer than the
        // actor's last command): a move-later still in flight or lost cannot leave the
        // scheduler without the alarm the handler set.
        let report = result.report.filter(|_| self.fixes.result_carries_alarm && !retry && result.outcome != Outcome::Aborted);
        if retry {
            match entry.retry.on_failure(counted, &policy, rng) {
                RetryDecision::RetryAfterMs(delay) => entry.wake = Some(now.saturating_add_ms(delay)),
                RetryDecision::Abandon => self.abandon(actor, scheduled),
            }
        } else if result.outcome == Outcome::Aborted {
            self.abandon(actor, scheduled);
        } else {
            self.delete_alarm(actor);
        }
        if let Some((time, fence)) = report {
            self.schedule(actor, time, fence, None);
        }
    }

    /// `AlarmScheduler::abandonAlarm`'s continuation. The answer's time is ignored upstream.
    fn on_abandon_result(&mut self, actor: &ActorId, scheduled: Millis, answer: Result<(AlarmTime, Fence), ()>, now: Millis) {
        let retry_delay_ms = self.policy.base_delay_ms(0);
        let fix_failed_abandon = self.fixes.failed_abandon_retries;
        let Some(entry) = self.alarms.get_mut(actor) else { return };
        // A late answer for an alarm the entry no longer holds (deleted and set again since,
        // and abandoned again) is not this entry's answer: its own request is still out.
        if entry.scheduled == scheduled {
            entry.abandoning = false;
        }
        if answer.is_err() {
            // "abandonAlarm notification failed, keeping alarm in scheduler": no task.
            if fix_failed_abandon && entry.status == Status::Finished && entry.scheduled == scheduled {
                // F4 (off upstream): a replacement queued meanwhile makes the abandon moot (it
                // runs, as after a successful abandon); otherwise ask again after the first
                // backoff step.
                match entry.queued {
                    Some(replacement) => *entry = Entry::fresh(replacement, entry.name.clone()),
                    None => {
                        entry.wake = Some(now.saturating_add_ms(retry_delay_ms));
                        entry.abandon_again = true;
                    }
                }
            }
            return;
        }
        if entry.status != Status::Finished || entry.scheduled != scheduled {
            return;
        }
        // Upstream: "We ignore the returned remaining time". F8 (off upstream): the actor
        // returns the alarm it still holds so that the scheduler re-registers it.
        let remaining = match answer {
            Ok((Some(time), _)) if self.fixes.abandon_answer_reregisters => Some(time),
            _ => None,
        };
        match (entry.queued, remaining) {
            (Some(replacement), _) => *entry = Entry::fresh(replacement, entry.name.clone()),
            (None, Some(time)) => {
                let name = entry.name.clone();
                *entry = Entry::fresh(time, name.clone());
                self.upsert(actor, time, name);
            }
            (None, None) => self.delete_alarm(actor),
        }
    }

    fn poll_effect(&mut self) -> Option<ManagerEffect> {
        self.effects.pop_front()
    }

    /// When this scheduler will fire `actor` next: a waiting alarm at its time; a running one
    /// or one waiting out a backoff at its own time (its retry fires it again), or the queued
    /// value that replaces it; nothing for an entry no task will ever fire (a failed abandon).
    fn effective_time(&self, actor: &ActorId) -> AlarmTime {
        let entry = self.alarms.get(actor)?;
        match entry.status {
            Status::Waiting => Some(entry.scheduled),
            Status::Started => Some(entry.queued.unwrap_or(entry.scheduled)),
            // A replacement queued during the backoff waits for the retry's task (R17): it is
            // delivered at the retry (the actor runs it as overdue, or reschedules it), so not
            // before `wake`.
            Status::Finished => match (entry.wake, entry.queued) {
                // The alarm's own time, queued during its backoff, is no new alarm: the retry
                // fires it (a failed alarm waiting out its backoff is not late, R10).
                (Some(_), Some(queued)) if queued == entry.scheduled => Some(entry.scheduled),
                (Some(wake), Some(queued)) => Some(queued.max(wake)),
                (Some(_), None) => Some(entry.scheduled),
                // A value queued while the abandon is out runs once its answer comes back,
                // whatever the answer (`on_abandon_result`); the abandoned time never fires again.
                (None, queued) if entry.abandoning => Some(queued.unwrap_or(entry.scheduled)),
                (None, _) => None,
            },
        }
    }

    fn retry_state(&self, actor: &ActorId) -> Option<RetryState> {
        self.alarms.get(actor).map(|e| e.retry)
    }
}
