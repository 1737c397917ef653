//! The manager side: a sans-IO model of workerd's local `AlarmScheduler`
//! (alarm-semantics.md R8–R10, R13–R19), hardened with fences.
//!
//! It keeps one entry per actor with at most one running and one queued alarm (R9), fires
//! only when the clock passed in has reached the alarm time (R8), retries with backoff
//! (R14, R15), abandons through the actor (R16) and persists every change as a row
//! ([`ManagerEffect::Persist`]) that the driver writes synchronously (R18).

use crate::backoff::{RetryDecision, RetryPolicy, RetryState};
use crate::fence::Fence;
use crate::ids::ActorId;
use crate::probe::{manager as probe, Probes};
use crate::time::{AlarmTime, Millis};
use rand::RngCore;
use std::collections::{BTreeSet, HashMap, VecDeque};

/// The persisted form of one entry: what must fire after a restart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlarmRow {
    pub actor: ActorId,
    /// `None` is a tombstone: no alarm, but the fence is kept so stale commands stay stale.
    pub time: AlarmTime,
    pub name: Option<String>,
    pub fence: Fence,
}

/// One alarm delivery (R10 `alarmInfo`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fire {
    pub actor: ActorId,
    pub scheduled: Millis,
    /// Counted retries before this attempt.
    pub retry_count: u32,
    pub is_retry: bool,
    pub name: Option<String>,
}

/// What the manager asks its environment to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ManagerEffect {
    /// Write this row now, before acknowledging anything (R18: synchronous upsert).
    Persist(AlarmRow),
    /// Ask the actor to abandon `scheduled` (R16) and report back with
    /// [`ManagerCore::on_abandon_result`].
    Abandon { actor: ActorId, scheduled: Millis },
}

/// How an attempt ended (R13).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// OK: no retry.
    Succeeded,
    /// The handler threw or exceeded its wall-clock limit (R12); `counted` per R14.
    Failed { counted: bool },
    /// `ctx.abort(…, {retryAlarm: false})`: no retry, abandon.
    Aborted,
    /// `armAlarmHandler` said Cancel: no retry.
    Canceled,
    /// SCRIPT_NOT_FOUND: no retry.
    NoHandler,
}

/// The actor's account of an attempt, with the value the manager should keep afterwards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FireResult {
    pub outcome: Outcome,
    /// The actor's safe value (`ActorAlarms::report_value`) and its fence, if it has one.
    pub report: Option<(AlarmTime, Fence)>,
}

/// R19 entry states, plus the abandon round trip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Waiting for `time` (or a tombstone when `time` is `None`).
    Waiting,
    /// A handler is running for `time`.
    Started,
    /// The attempt failed; the retry fires at `retry_at` (FINISHED in workerd).
    Backoff { retry_at: Millis },
    /// Waiting for the actor's answer to `abandonAlarm(time)`.
    Abandoning,
}

#[derive(Clone, Debug)]
struct Entry {
    time: AlarmTime,
    status: Status,
    /// A value that arrived while the alarm ran; it replaces `time` when the attempt ends
    /// and supersedes its retries (R17). `Some(None)` is a delete that arrived meanwhile.
    queued: Option<AlarmTime>,
    retry: RetryState,
    fence: Fence,
    name: Option<String>,
    /// The wake-up this entry has in [`ManagerCore`]'s index (`wakeups`), if any.
    indexed: Option<Millis>,
}

impl Entry {
    fn tombstone(fence: Fence) -> Entry {
        Entry { time: None, status: Status::Waiting, queued: None, retry: RetryState::default(), fence, name: None, indexed: None }
    }

    /// When this entry needs the clock next: its alarm while WAITING, its retry during a
    /// backoff; a running or abandoning alarm waits for the actor instead.
    fn wakeup(&self) -> Option<Millis> {
        match self.status {
            Status::Waiting => self.time,
            Status::Backoff { retry_at } => Some(retry_at),
            Status::Started | Status::Abandoning => None,
        }
    }

    /// What must fire after a restart.
    fn durable_time(&self) -> AlarmTime {
        self.queued.unwrap_or(self.time)
    }
}

/// Whether a schedule command changed anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// The command changed what the manager will fire (or when it retries).
    Applied,
    /// The fence advanced but the alarm is the one the manager already has.
    Unchanged,
    /// Its fence is not newer than the entry's: a late or duplicated message (workerd #5431).
    Stale,
}

/// The local alarm scheduler of one namespace.
#[derive(Debug, Default)]
pub struct ManagerCore {
    /// One entry per actor. Looked up only: whatever walks several entries sorts them by
    /// actor first (`take_due`, `delete_all`, `rows`), so nothing depends on the map's order.
    /// A string-keyed B-tree cost two dozen string comparisons per lookup at 4,000 actors.
    entries: HashMap<ActorId, Entry>,
    /// Every entry's [`Entry::wakeup`], ordered by time: `take_due` and `next_wakeup` read
    /// only the due end of it, so a tick costs what it fires, not the namespace's size
    /// (workerd keeps one timer per alarm). Follows every change of an entry (`reindex`).
    wakeups: BTreeSet<(Millis, ActorId)>,
    policy: RetryPolicy,
    effects: VecDeque<ManagerEffect>,
    /// Where the probes of `probe/manager.rs` are reported.
    probes: Probes,
}

impl ManagerCore {
    /// Starts from persisted rows (R18 `loadAlarmsFromDb`): every row is scheduled, and
    /// past ones fire at the first [`ManagerCore::take_due`]. Retry state starts fresh.
    pub fn load(rows: impl IntoIterator<Item = AlarmRow>, policy: RetryPolicy) -> ManagerCore {
        ManagerCore::load_probed(rows, policy, Probes::off())
    }

    /// [`ManagerCore::load`], reporting coverage probes to `probes`.
    pub fn load_probed(rows: impl IntoIterator<Item = AlarmRow>, policy: RetryPolicy, probes: Probes) -> ManagerCore {
        let mut core = ManagerCore { policy, probes, ..ManagerCore::default() };
        for row in rows {
            core.probes.sometimes(row.time.is_some(), &probe::LOAD_ROWS);
            let mut entry = Entry::tombstone(row.fence);
            entry.time = row.time;
            entry.name = row.name;
            core.entries.insert(row.actor.clone(), entry);
            core.reindex(&row.actor);
        }
        core
    }

    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// `scheduleRun(time)` from an actor (R19): WAITING reschedules, STARTED queues, and a
    /// new value during a backoff supersedes the retry at once (the retried alarm's own time
    /// leaves the backoff alone). Stale fences are ignored.
    pub fn schedule(&mut self, actor: &ActorId, time: AlarmTime, fence: Fence, name: Option<String>) -> Applied {
        let entry = self.entries.entry(actor.clone()).or_insert_with(|| Entry::tombstone(Fence::default()));
        if fence <= entry.fence {
            self.probes.hit(&probe::SCHEDULE_STALE_FENCE);
            return Applied::Stale;
        }
        entry.fence = fence;
        if name.is_some() {
            entry.name = name; // COALESCE: a nameless update keeps the name.
        }
        let before = (entry.time, entry.status, entry.queued);
        match entry.status {
            // R3/R15: the time of the alarm waiting out a backoff (typically the actor's
            // re-announcement after a restart: it still stores T) is not a new setAlarm. It
            // must not cancel the backoff (B13, PR #853: retries without backoff, and a reset
            // retry count). It still carries the newer fence.
            Status::Backoff { .. } if time == entry.time => self.probes.hit(&probe::SCHEDULE_BACKOFF_SAME_TIME),
            // R19: while the alarm runs (or is being abandoned) every value is queued, the
            // running alarm's own time T included: the actor's latest word is T, and if the
            // attempt is cancelled or succeeds without a report, T must stay (workerd queues
            // it too; dropping it instead lost the alarm when a client set exactly T while a
            // premature fire of T was being cancelled: edge-values seed 5391). A failed attempt
            // does not take a queued T as a replacement that beats its retries (R17,
            // `on_fire_result`).
            Status::Started | Status::Abandoning => {
                self.probes.hit(if time == entry.time { &probe::SCHEDULE_QUEUED_OWN_TIME } else { &probe::SCHEDULE_QUEUED_WHILE_RUNNING });
                entry.queued = Some(time);
            }
            Status::Waiting | Status::Backoff { .. } => {
                self.probes.sometimes(matches!(entry.status, Status::Backoff { .. }), &probe::SCHEDULE_BACKOFF_REPLACED);
                if entry.time != time || entry.status != Status::Waiting {
                    entry.retry = RetryState::default();
                }
                entry.time = time;
                entry.status = Status::Waiting;
            }
        }
        let changed = before != (entry.time, entry.status, entry.queued);
        self.persist(actor);
        if changed {
            Applied::Applied
        } else {
            self.probes.hit(&probe::SCHEDULE_UNCHANGED);
            Applied::Unchanged
        }
    }

    /// Starts every alarm that is due at `now` (R8: never early, the caller passes the clock
    /// it just re-read). Each actor has at most one running alarm (R9).
    pub fn take_due(&mut self, now: Millis) -> Vec<Fire> {
        let mut due: Vec<ActorId> = self.wakeups.iter().take_while(|(at, _)| *at <= now).map(|(_, actor)| actor.clone()).collect();
        // In actor order, as a scan of every entry would find them.
        due.sort_unstable();
        let mut fires = Vec::with_capacity(due.len());
        for actor in due {
            let entry = self.entries.get_mut(&actor).expect("the index holds known actors");
            assert!(entry.wakeup().is_some_and(|t| t <= now), "the wake-up index is stale for {actor:?}");
            let scheduled = entry.time.expect("a due entry has a time");
            assert!(scheduled <= now, "R8: never fire early");
            entry.status = Status::Started;
            self.probes.sometimes(entry.retry.counted > 0, &probe::FIRE_RETRY);
            fires.push(Fire {
                actor: actor.clone(),
                scheduled,
                retry_count: entry.retry.counted,
                // R10: isRetry = retryCount > 0, and retryCount counts only counted retries.
                is_retry: entry.retry.counted > 0,
                name: entry.name.clone(),
            });
            self.reindex(&actor);
        }
        fires
    }

    /// When the driver should wake up next to call [`ManagerCore::take_due`].
    pub fn next_wakeup(&self) -> Option<Millis> {
        self.wakeups.first().map(|(at, _)| *at)
    }

    /// An attempt ended (R13, R14, R15, R17).
    pub fn on_fire_result(&mut self, actor: &ActorId, scheduled: Millis, result: FireResult, now: Millis, rng: &mut dyn RngCore) {
        let policy = self.policy;
        let Some(entry) = self.entries.get_mut(actor) else { return };
        if entry.status != Status::Started || entry.time != Some(scheduled) {
            return; // Not the attempt we started (a stale result after a restart).
        }
        let retries = matches!(result.outcome, Outcome::Failed { .. } | Outcome::Aborted);
        // R17: a value queued during the attempt beats retries, unless it is the running
        // alarm's own time (the actor re-announcing T after a restart, say): then a failed
        // attempt is retried (or abandoned) as if nothing had been queued.
        let queued = entry.queued.take();
        self.probes.sometimes(retries && queued == Some(Some(scheduled)), &probe::RESULT_OWN_TIME_RETRIED);
        let replacement = queued.filter(|q| !(retries && *q == Some(scheduled)));
        self.probes.sometimes(retries && replacement.is_some(), &probe::RESULT_REPLACEMENT_BEATS_RETRY);
        if let Some(queued) = replacement {
            entry.time = queued;
            entry.status = Status::Waiting;
            entry.retry = RetryState::default();
        } else {
            match result.outcome {
                Outcome::Succeeded | Outcome::Canceled | Outcome::NoHandler => {
                    entry.time = None;
                    entry.status = Status::Waiting;
                    entry.retry = RetryState::default();
                }
                Outcome::Aborted => {
                    self.probes.hit(&probe::RESULT_ABORT_ABANDONS);
                    entry.status = Status::Abandoning;
                }
                Outcome::Failed { counted } => {
                    self.probes.sometimes(!counted, &probe::RESULT_UNCOUNTED_FAILURE);
                    match entry.retry.on_failure(counted, &policy, rng) {
                        RetryDecision::RetryAfterMs(delay) => {
                            entry.status = Status::Backoff { retry_at: now.saturating_add_ms(delay) };
                        }
                        RetryDecision::Abandon => {
                            self.probes.hit(&probe::RESULT_LIMIT_ABANDONS);
                            entry.status = Status::Abandoning;
                        }
                    }
                }
            }
            if entry.status == Status::Abandoning {
                self.effects.push_back(ManagerEffect::Abandon { actor: actor.clone(), scheduled });
            }
        }
        self.persist(actor);
        if let Some((time, fence)) = result.report {
            let applied = self.schedule(actor, time, fence, None);
            self.probes.sometimes(applied == Applied::Stale, &probe::RESULT_REPORT_STALE);
        }
    }

    /// The actor answered `abandonAlarm(scheduled)` (R16). `Err` means the RPC threw: the
    /// alarm is kept and tried again after the longest backoff.
    pub fn on_abandon_result(&mut self, actor: &ActorId, scheduled: Millis, answer: Result<(AlarmTime, Fence), ()>, now: Millis) {
        let max_delay = self.policy.base_delay_ms(self.policy.backoff_max);
        let Some(entry) = self.entries.get_mut(actor) else { return };
        if entry.status != Status::Abandoning || entry.time != Some(scheduled) {
            return;
        }
        entry.retry = RetryState::default();
        match answer {
            // Nothing queued, or only the abandoned alarm's own time (a re-announcement): keep
            // the alarm and try again after the longest backoff.
            Err(()) if entry.queued.is_none_or(|q| q == Some(scheduled)) => {
                self.probes.hit(&probe::ABANDON_FAILED_KEEPS);
                entry.queued = None;
                entry.status = Status::Backoff { retry_at: now.saturating_add_ms(max_delay) };
            }
            Err(()) => {
                // B8: a replacement queued while the abandon was pending survives it.
                self.probes.hit(&probe::ABANDON_FAILED_REPLACEMENT);
                entry.time = entry.queued.take().unwrap_or(None);
                entry.status = Status::Waiting;
            }
            // R16: the answer is the actor's alarm as of its fence ("return S so AM can
            // re-register"). It is authoritative unless a newer command arrived meanwhile; a
            // report fence equal to the one already applied is the same report or a later
            // one of the same actor state (the abandon runs after the failed attempt's
            // report), so it counts as current, or a kept alarm would be lost.
            Ok((time, fence)) if fence >= entry.fence => {
                self.probes.hit(&probe::ABANDON_ANSWER_APPLIED);
                entry.time = time;
                entry.queued = None;
                entry.fence = fence;
                entry.status = Status::Waiting;
            }
            Ok(_) => {
                // B8: a command newer than the answer wins: the queued replacement, or (when
                // nothing is queued) the newer command re-set the abandoned time itself.
                self.probes.hit(&probe::ABANDON_ANSWER_OUTRANKED);
                if let Some(queued) = entry.queued.take() {
                    entry.time = queued;
                }
                entry.status = Status::Waiting;
            }
        }
        self.persist(actor);
    }

    /// `deleteAllDurableObjects()` (R19): forget every alarm.
    pub fn delete_all(&mut self) {
        let mut actors: Vec<ActorId> = self.entries.keys().cloned().collect();
        actors.sort_unstable(); // Rows are persisted in actor order.
        for actor in actors {
            let entry = self.entries.get_mut(&actor).expect("key from the map");
            // The tombstone keeps the entry's place in the wake-up index until `persist`
            // moves it.
            *entry = Entry { indexed: entry.indexed, ..Entry::tombstone(entry.fence) };
            self.persist(&actor);
        }
    }

    /// `getAlarm` of the local scheduler (R5): the queued alarm, or `None` while STARTED.
    pub fn get_alarm(&self, actor: &ActorId) -> AlarmTime {
        let entry = self.entries.get(actor)?;
        match entry.status {
            Status::Started | Status::Abandoning => entry.queued.unwrap_or(None),
            Status::Waiting | Status::Backoff { .. } => entry.time,
        }
    }

    /// The time this manager will fire the actor next, counting a running or retrying alarm
    /// as firing at its own time. The simulator's I1 checker compares this with storage.
    pub fn effective_time(&self, actor: &ActorId) -> AlarmTime {
        let entry = self.entries.get(actor)?;
        match entry.status {
            Status::Waiting => entry.time,
            // A retry fires `time` again at `retry_at` (only its handler runs late, not the alarm).
            Status::Backoff { .. } => entry.time,
            Status::Started | Status::Abandoning => entry.durable_time(),
        }
    }

    pub fn status(&self, actor: &ActorId) -> Option<Status> {
        self.entries.get(actor).map(|e| e.status)
    }

    pub fn retry_state(&self, actor: &ActorId) -> Option<RetryState> {
        self.entries.get(actor).map(|e| e.retry)
    }

    /// All rows, in actor order.
    pub fn rows(&self) -> Vec<AlarmRow> {
        let mut rows: Vec<AlarmRow> = self.entries.iter().map(|(actor, e)| Self::row(actor, e)).collect();
        rows.sort_unstable_by(|a, b| a.actor.cmp(&b.actor));
        rows
    }

    pub fn poll_effect(&mut self) -> Option<ManagerEffect> {
        self.effects.pop_front()
    }

    /// Every change of an entry is persisted (R18), so this is also where the wake-up index
    /// follows it.
    fn persist(&mut self, actor: &ActorId) {
        self.reindex(actor);
        let entry = self.entries.get(actor).expect("persisting a known actor");
        self.effects.push_back(ManagerEffect::Persist(Self::row(actor, entry)));
    }

    /// Moves `actor`'s place in the wake-up index to its entry's current wake-up.
    fn reindex(&mut self, actor: &ActorId) {
        let entry = self.entries.get_mut(actor).expect("indexing a known actor");
        let wakeup = entry.wakeup();
        if wakeup == entry.indexed {
            return;
        }
        if let Some(old) = entry.indexed.take() {
            let removed = self.wakeups.remove(&(old, actor.clone()));
            assert!(removed, "the wake-up index lost {actor:?} at {old:?}");
        }
        if let Some(at) = wakeup {
            self.wakeups.insert((at, actor.clone()));
        }
        entry.indexed = wakeup;
    }

    fn row(actor: &ActorId, entry: &Entry) -> AlarmRow {
        AlarmRow { actor: actor.clone(), time: entry.durable_time(), name: entry.name.clone(), fence: entry.fence }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// The index is exactly every entry's wake-up, as a scan of all entries finds it.
    fn assert_index_matches_a_scan(core: &ManagerCore, step: usize) {
        let scanned: BTreeSet<(Millis, ActorId)> = core.entries.iter().filter_map(|(actor, e)| e.wakeup().map(|t| (t, actor.clone()))).collect();
        assert_eq!(core.wakeups, scanned, "step {step}: the wake-up index drifted from the entries");
        assert_eq!(core.next_wakeup(), scanned.iter().map(|(t, _)| *t).min(), "step {step}");
    }

    /// Random commands, ticks, results, abandons, deletes and reloads: after each one the
    /// wake-up index equals a scan of every entry, and a tick fires exactly the entries a scan
    /// finds due, in actor order (the order the unindexed scan fired them in).
    #[test]
    fn the_wakeup_index_follows_every_change() {
        let mut rng = ChaCha8Rng::seed_from_u64(14);
        let actors: Vec<ActorId> = (0..12).map(|i| ActorId(format!("a{i}"))).collect();
        let mut core = ManagerCore::load(Vec::new(), RetryPolicy::default());
        let mut now = Millis(1_000);
        let mut seq = 0;
        for step in 0..20_000 {
            let actor = actors[rng.random_range(0..actors.len())].clone();
            match rng.random_range(0..100) {
                0..40 => {
                    seq += 1;
                    let time = rng.random_bool(0.8).then(|| Millis(now.0 + rng.random_range(-500..5_000)));
                    core.schedule(&actor, time, Fence { incarnation: 1, seq, report: 0 }, None);
                }
                40..60 => {
                    now = Millis(now.0 + rng.random_range(0..3_000));
                    let mut expected: Vec<ActorId> = core.entries.iter().filter(|(_, e)| e.wakeup().is_some_and(|t| t <= now)).map(|(a, _)| a.clone()).collect();
                    expected.sort_unstable();
                    let fired: Vec<ActorId> = core.take_due(now).into_iter().map(|f| f.actor).collect();
                    assert_eq!(fired, expected, "step {step}: a tick fires what a scan finds due");
                }
                60..85 => {
                    if let Some(scheduled) = core.entries.get(&actor).filter(|e| e.status == Status::Started).and_then(|e| e.time) {
                        let outcome = match rng.random_range(0..4) {
                            0 => Outcome::Succeeded,
                            1 => Outcome::Aborted,
                            _ => Outcome::Failed { counted: rng.random_bool(0.7) },
                        };
                        core.on_fire_result(&actor, scheduled, FireResult { outcome, report: None }, now, &mut rng);
                    }
                }
                85..95 => {
                    if let Some(scheduled) = core.entries.get(&actor).filter(|e| e.status == Status::Abandoning).and_then(|e| e.time) {
                        seq += 1;
                        let answer = if rng.random_bool(0.5) { Ok((None, Fence { incarnation: 1, seq, report: 0 })) } else { Err(()) };
                        core.on_abandon_result(&actor, scheduled, answer, now);
                    }
                }
                95..98 => core.delete_all(),
                _ => core = ManagerCore::load(core.rows(), RetryPolicy::default()),
            }
            while core.poll_effect().is_some() {}
            assert_index_matches_a_scan(&core, step);
        }
    }
}
