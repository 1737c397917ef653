//! B13, workerd PR #797: `deleteAlarm` while the alarm runs erases the running entry.
//!
//! R19: a delete that reaches the local scheduler while an alarm is STARTED only clears the
//! queued alarm; the running entry stays until its attempt ends. Before PR #797 the delete
//! erased the entry under the running attempt, and the attempt's completion then operated on
//! whatever entry the actor had by then (in workerd: a crash). Here the attempt's result lands
//! on the actor's current entry: a success deletes it, so a replacement `setAlarm` made after
//! the delete and before the attempt ended is lost.
//!
//! (B13's other half, PR #853's `checkTimestamp` busy loop, burns CPU without changing what
//! fires when, so the simulator cannot observe it; its no-backoff retries are
//! `retry-no-backoff`.)

use super::support::{ManagerHooks, NoRng, WrappedManager};
use alarmsim_scheduler::manager::{Applied, Status};
use alarmsim_scheduler::{ActorId, AlarmTime, Fence, Fire, FireResult, ManagerCore, Millis, Outcome};
use rand::RngCore;
use std::collections::BTreeMap;

#[derive(Debug, Default)]
pub struct Hooks {
    /// The attempt running for each actor.
    running: BTreeMap<ActorId, Millis>,
    /// Attempts whose entry a delete erased.
    erased: BTreeMap<ActorId, Millis>,
}

impl ManagerHooks for Hooks {
    fn take_due(&mut self, inner: &mut ManagerCore, now: Millis) -> Vec<Fire> {
        let fires = inner.take_due(now);
        for fire in &fires {
            self.running.insert(fire.actor.clone(), fire.scheduled);
        }
        fires
    }

    fn schedule(&mut self, inner: &mut ManagerCore, actor: &ActorId, time: AlarmTime, fence: Fence, name: Option<String>) -> Applied {
        let running = self.running.get(actor).copied().filter(|_| inner.status(actor) == Some(Status::Started));
        let applied = inner.schedule(actor, time, fence, name);
        if let (None, Some(scheduled), Applied::Applied) = (time, running, applied) {
            // The delete erases the running entry: end the attempt now, as if it were over.
            let result = FireResult { outcome: Outcome::Canceled, report: None };
            inner.on_fire_result(actor, scheduled, result, Millis(0), &mut NoRng);
            self.running.remove(actor);
            self.erased.insert(actor.clone(), scheduled);
        }
        applied
    }

    fn on_fire_result(&mut self, inner: &mut ManagerCore, actor: &ActorId, scheduled: Millis, result: FireResult, now: Millis, rng: &mut dyn RngCore) {
        if self.erased.get(actor) == Some(&scheduled) {
            self.erased.remove(actor);
            // The completion finds the actor's current entry and finishes it instead.
            if matches!(result.outcome, Outcome::Succeeded | Outcome::Canceled | Outcome::NoHandler) {
                let current = inner.rows().into_iter().find(|r| &r.actor == actor).map(|r| r.fence).unwrap_or_default();
                let fence = Fence { report: current.report.saturating_add(1), ..current };
                inner.schedule(actor, None, fence, None);
            }
            return;
        }
        if self.running.get(actor) == Some(&scheduled) {
            self.running.remove(actor);
        }
        inner.on_fire_result(actor, scheduled, result, now, rng);
    }
}

crate::variant_factory! {
    /// B13: a delete erases the running entry.
    B13DeleteErasesRunning,
    name: "b13-delete-erases-running",
    description: "B13 (workerd PR #797): deleteAlarm while the alarm runs erases the running entry, and the attempt's completion then deletes a replacement set meanwhile",
    actor: |inner| inner,
    manager: |inner| WrappedManager::new(inner, Hooks::default()),
}
