//! Real-time mode: the reference scheduler in an ordinary process, on the system clock and
//! on-disk SQLite.
//!
//! [`RealtimeNode`] is a single-threaded driver built only from the real implementations in
//! [`crate::io`] ([`SystemClock`], [`SqliteBackend`], [`LocalManager`] behind an
//! [`InProcessLink`]) and the two sans-IO cores. Every real adapter completes at once, so
//! the driver never has more than one thing in flight: it hands an effect to its adapter,
//! feeds the result straight back, and repeats until the core has nothing left to say.
//!
//! On-disk layout under the namespace directory `DIR` (R18):
//! - `DIR/metadata.sqlite`: the manager's rows ([`MetadataStore`]);
//! - `DIR/actors/<actor>.sqlite`: each actor's KV rows and alarm ([`SqliteBackend`]).
//!
//! A process killed at any point restarts on the same directory with every pending alarm
//! intact: the manager reloads its rows, and an alarm whose handler was cut short still has
//! its row (the deferred delete only runs after a successful handler, R11), so it runs again
//! (at-least-once, R18, R21).

use crate::actor::{ActorAlarms, ActorEffect, ArmDecision, Gate, WriteOptions};
use crate::backoff::RetryPolicy;
use crate::error::{AlarmError, StoreError};
use crate::ids::{ActorId, ArmId};
use crate::io::{now_or_never, BackendError, Clock, InProcessLink, LinkError, LocalManager, ManagerLink, SqliteBackend, StorageBackend, SystemClock};
use crate::manager::{Fire, FireResult, ManagerCore, ManagerEffect, Outcome};
use crate::metadata_store::MetadataStore;
use crate::sqlite_file::Durability;
use crate::time::{AlarmTime, Millis};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// Why the real-time driver stopped with an error. Commit and schedule failures are not
/// errors here: they are fed back to the actor, which breaks its gate and is reloaded.
#[derive(Debug, thiserror::Error)]
pub enum RealtimeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Backend(#[from] BackendError),
    #[error("{path}: cannot list actor databases ({source})")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("actor {actor}: {source}")]
    Alarm {
        actor: ActorId,
        #[source]
        source: AlarmError,
    },
}

/// Why [`RealtimeNode::run`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stopped {
    Deadline,
    Condition,
}

/// The whole scheduler (one namespace) in one process.
#[derive(Debug)]
pub struct RealtimeNode {
    clock: SystemClock,
    backend: SqliteBackend,
    /// Owns the [`LocalManager`]; the driver borrows it between link calls.
    link: InProcessLink,
    actors: BTreeMap<ActorId, ActorAlarms>,
    /// Retry jitter (R15). Seeded, so a run's backoff delays are reproducible.
    rng: ChaCha8Rng,
    actors_dir: PathBuf,
}

impl RealtimeNode {
    /// Opens (or creates) the namespace in `dir`, which must exist.
    ///
    /// R18 `loadAlarmsFromDb`: the manager schedules every stored row again, with fresh
    /// retry state; rows in the past fire at the first [`RealtimeNode::run`] step.
    ///
    /// Every actor with a database is loaded here too, before anything fires. Loading
    /// re-announces a stored alarm to the manager, which repairs a manager row lost to a power
    /// failure. Doing it now, while the manager's entries are still WAITING, means the
    /// re-announcement is a no-op for rows that survived. Done later, during an attempt, it
    /// would be queued (R17) and would cancel that attempt's backoff.
    pub fn open(dir: &Path, durability: Durability, seed: u64) -> Result<RealtimeNode, RealtimeError> {
        // The manager's file first: a refused `metadata.sqlite` leaves the directory as it was.
        let store = MetadataStore::open_dir(dir, durability)?;
        let backend = SqliteBackend::new(dir, durability)?;
        let core = ManagerCore::load(store.load()?, RetryPolicy::default());
        let link = InProcessLink { manager: Rc::new(RefCell::new(LocalManager { core, store })), outbox: Rc::default() };
        let mut node = RealtimeNode {
            clock: SystemClock,
            backend,
            link,
            actors: BTreeMap::new(),
            rng: ChaCha8Rng::seed_from_u64(seed),
            actors_dir: dir.join("actors"),
        };
        for actor in node.stored_actors()? {
            node.ensure_loaded(&actor)?;
        }
        node.settle_manager()?;
        Ok(node)
    }

    /// The system clock, in ms since the Unix epoch.
    pub fn now(&self) -> Millis {
        self.clock.now()
    }

    /// `setAlarm(at)` through the full actor path: the write commits locally, the turn ends,
    /// and the pump runs the pipeline (move earlier: `sR` then `C`; move later: `C` then
    /// `sR`, §2). It returns once the write is durable (the output gate is open).
    pub fn set_alarm(&mut self, actor: &ActorId, at: Millis) -> Result<(), RealtimeError> {
        self.ensure_loaded(actor)?;
        let now = self.clock.now();
        let alarms = self.actors.get_mut(actor).expect("loaded above");
        alarms.set_alarm(at, now, WriteOptions::default()).map_err(|source| RealtimeError::Alarm { actor: actor.clone(), source })?;
        alarms.end_turn();
        self.pump(actor)?;
        self.settle_manager()?;
        match self.actors[actor].gate() {
            Gate::Open => Ok(()),
            Gate::Broken => Err(RealtimeError::Alarm { actor: actor.clone(), source: AlarmError::Broken }),
            Gate::Blocked { .. } => unreachable!("every real adapter completes at once"),
        }
    }

    /// `getAlarm()` of a loaded actor.
    pub fn get_alarm(&self, actor: &ActorId) -> Option<AlarmTime> {
        self.actors.get(actor).and_then(|a| a.get_alarm().ok())
    }

    /// The manager's pending alarms, in actor order.
    pub fn pending(&self) -> Vec<(ActorId, Millis)> {
        let manager = self.link.manager.borrow();
        manager.core.rows().into_iter().filter_map(|row| Some((row.actor, row.time?))).collect()
    }

    /// When the manager wants to fire next (a pending alarm or a retry).
    pub fn next_wakeup(&self) -> Option<Millis> {
        self.link.manager.borrow().core.next_wakeup()
    }

    /// Nothing left to fire or retry.
    pub fn is_idle(&self) -> bool {
        self.next_wakeup().is_none()
    }

    /// The main loop. It returns at `deadline` or as soon as `stop` holds (checked before
    /// every wait). `handler` is the actor's `alarm()`: it gets the fire's `alarmInfo` (R10)
    /// and the actor's storage, and returns whether it succeeded.
    pub fn run<H>(&mut self, deadline: Millis, mut stop: impl FnMut(&RealtimeNode) -> bool, handler: &mut H) -> Result<Stopped, RealtimeError>
    where
        H: FnMut(&Fire, &mut ActorAlarms) -> bool,
    {
        loop {
            if stop(self) {
                return Ok(Stopped::Condition);
            }
            if self.clock.now() >= deadline {
                return Ok(Stopped::Deadline);
            }
            let wake = self.next_wakeup().map_or(deadline, |t| t.min(deadline));
            now_or_never(self.clock.sleep_until(wake));
            // R8: the timer is only a hint. Re-read the clock and fire only what is due by
            // it; if we woke early, nothing is due and the loop waits again.
            let now = self.clock.now();
            let fires = self.link.manager.borrow_mut().core.take_due(now);
            for fire in fires {
                self.deliver(fire, handler)?;
            }
        }
    }

    // ----- one attempt ---------------------------------------------------------------------

    /// Runs one attempt (R9: the manager marked it STARTED, so the actor has no other one)
    /// and reports its outcome (R13).
    fn deliver<H>(&mut self, fire: Fire, handler: &mut H) -> Result<(), RealtimeError>
    where
        H: FnMut(&Fire, &mut ActorAlarms) -> bool,
    {
        let id = fire.actor.clone();
        self.ensure_loaded(&id)?;
        let now = self.clock.now();
        let alarms = self.actors.get_mut(&id).expect("loaded above");
        let result = match alarms.arm_alarm_handler(fire.scheduled, now) {
            Ok(ArmDecision::Run { .. }) => {
                let ok = handler(&fire, alarms);
                // The handler's own writes end its turn; then the deferred delete (R11):
                // success deletes the alarm unless the handler wrote it, failure keeps it.
                alarms.end_turn();
                alarms.handler_finished(ok);
                self.pump(&id)?;
                self.run_result(&id, ok)
            }
            Ok(ArmDecision::Cancel { arm }) => {
                // §2 transition 3: the actor reschedules the manager to its stored value and
                // cancels only once that command completed (B10).
                let resolved = self.pump(&id)?;
                let ok = resolved.get(&arm).copied().expect("a real link resolves a Cancel at once");
                if ok {
                    let alarms = self.actors.get_mut(&id).expect("loaded");
                    FireResult { outcome: Outcome::Canceled, report: Some(alarms.report()) }
                } else {
                    FireResult { outcome: Outcome::Failed { counted: false }, report: None }
                }
            }
            // A broken actor cannot run anything; it is reloaded on its next use.
            Err(_) => FireResult { outcome: Outcome::Failed { counted: false }, report: None },
        };
        let now = self.clock.now();
        self.link.manager.borrow_mut().core.on_fire_result(&id, fire.scheduled, result, now, &mut self.rng);
        self.settle_manager()
    }

    /// The outcome of a handler that ran, once its writes are done.
    ///
    /// R11: report only after the output gate opens, so the manager never reads a stale
    /// value. The pump completed every commit, so the gate is open unless a commit failed.
    fn run_result(&mut self, actor: &ActorId, ok: bool) -> FireResult {
        let alarms = self.actors.get_mut(actor).expect("loaded");
        match alarms.gate() {
            Gate::Open if ok => FireResult { outcome: Outcome::Succeeded, report: Some(alarms.report()) },
            // No report with a failure: the alarm keeps its value, and a report (a newer
            // fence) during the backoff would replace the pending retry (R17).
            Gate::Open => FireResult { outcome: Outcome::Failed { counted: true }, report: None },
            // R14: a broken gate is not the handler's fault unless the handler threw too.
            Gate::Broken => FireResult { outcome: Outcome::Failed { counted: !ok }, report: None },
            Gate::Blocked { .. } => unreachable!("every real adapter completes at once"),
        }
    }

    /// R16: the manager gave up on `scheduled` (retries exhausted, or an abort). The actor
    /// clears it only if it still holds exactly that value (B7); the manager keeps whatever
    /// the actor answers, so a replacement survives (B8). A broken actor answers with an
    /// error, and the manager keeps the alarm.
    fn abandon(&mut self, actor: &ActorId, scheduled: Millis) -> Result<(), RealtimeError> {
        self.ensure_loaded(actor)?;
        let kept = self.actors.get_mut(actor).expect("loaded above").abandon_alarm(scheduled);
        self.pump(actor)?;
        let alarms = self.actors.get_mut(actor).expect("loaded above");
        // R16: the answer is the actor's report once its writes are durable (the pump above
        // completed them), not the value `abandon_alarm` saw at call time.
        let answer = match kept {
            Ok(_) if !alarms.is_broken() => Ok(alarms.report()),
            _ => Err(()),
        };
        let now = self.clock.now();
        self.link.manager.borrow_mut().core.on_abandon_result(actor, scheduled, answer, now);
        Ok(())
    }

    // ----- plumbing ------------------------------------------------------------------------

    /// Loads `actor` from its database if it is not loaded, or reloads it if its gate broke
    /// (workerd resets such an actor). Each load is a new incarnation whose fences outrank
    /// everything the old one sent.
    fn ensure_loaded(&mut self, actor: &ActorId) -> Result<(), RealtimeError> {
        if self.actors.get(actor).is_some_and(|a| !a.is_broken()) {
            return Ok(());
        }
        let (incarnation, durable) = now_or_never(self.backend.load(actor))?;
        self.actors.insert(actor.clone(), ActorAlarms::load(actor.clone(), incarnation, durable));
        self.pump(actor)?; // The re-announcement of a stored alarm.
        Ok(())
    }

    /// Runs `actor`'s effects to completion: each commit goes to the backend (in `CommitId`
    /// order) and each schedule command to the manager, and the result is fed straight back.
    /// Returns the Cancel decisions that resolved on the way.
    ///
    /// A store error no retry can cure (a file locked past the lock policy, a corrupted row,
    /// a read-only or foreign file: [`StoreError::is_fatal`]) stops the driver with that error
    /// instead: fed back as a failed command, the actor would retry it forever, silently
    /// (issue #16: a locked `metadata.sqlite` hung `realtime`).
    fn pump(&mut self, actor: &ActorId) -> Result<BTreeMap<ArmId, bool>, RealtimeError> {
        let mut resolved = BTreeMap::new();
        let Some(alarms) = self.actors.get_mut(actor) else { return Ok(resolved) };
        while let Some(effect) = alarms.poll_effect() {
            match effect {
                ActorEffect::Commit { id, batch } => {
                    let result = now_or_never(self.backend.commit(actor, id, batch));
                    if let Err(e) = result {
                        match e {
                            BackendError::Store(e) if e.is_fatal() => return Err(RealtimeError::Store(e)),
                            e => tracing::warn!(%actor, error = %e, "commit failed; the actor's gate breaks"),
                        }
                        alarms.on_commit_result(id, false);
                    } else {
                        alarms.on_commit_result(id, true);
                    }
                }
                ActorEffect::Schedule { call, time, fence } => {
                    // InProcessLink applies and persists the command before returning (R20).
                    let result = now_or_never(self.link.schedule(actor, time, fence));
                    if let Err(e) = result {
                        match e {
                            LinkError::Store(e) if e.is_fatal() => return Err(RealtimeError::Store(e)),
                            e => tracing::warn!(%actor, error = %e, "schedule command failed"),
                        }
                        alarms.on_schedule_result(call, false);
                    } else {
                        alarms.on_schedule_result(call, true);
                    }
                }
                ActorEffect::ArmResolved { arm, ok } => {
                    resolved.insert(arm, ok);
                }
            }
        }
        Ok(resolved)
    }

    /// Writes the manager's pending rows (R18: before anything else happens) and acts on its
    /// other effects until there are none.
    fn settle_manager(&mut self) -> Result<(), RealtimeError> {
        loop {
            let rest = self.link.manager.borrow_mut().flush()?;
            self.link.outbox.borrow_mut().extend(rest);
            let next = {
                let mut outbox = self.link.outbox.borrow_mut();
                if outbox.is_empty() {
                    None
                } else {
                    Some(outbox.remove(0))
                }
            };
            match next {
                None => return Ok(()),
                Some(ManagerEffect::Abandon { actor, scheduled }) => self.abandon(&actor, scheduled)?,
                Some(ManagerEffect::Persist(row)) => self.link.manager.borrow().store.write(&row)?,
            }
        }
    }

    /// Actors with a database under `DIR/actors/`, plus actors the manager has a row for.
    fn stored_actors(&self) -> Result<BTreeSet<ActorId>, RealtimeError> {
        let io_err = |source| RealtimeError::Io { path: self.actors_dir.clone(), source };
        let mut actors: BTreeSet<ActorId> = self.pending().into_iter().map(|(actor, _)| actor).collect();
        for entry in std::fs::read_dir(&self.actors_dir).map_err(io_err)? {
            let path = entry.map_err(io_err)?.path();
            if path.extension().is_some_and(|e| e == "sqlite") {
                if let Some(stem) = path.file_stem().and_then(|s| s.to_str()) {
                    actors.insert(ActorId::new(stem));
                }
            }
        }
        Ok(actors)
    }
}
