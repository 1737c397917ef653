//! B8, workerd `67dd86ade` (PR #6996): a replacement queued during an abandon loses its row.
//!
//! The interleaving: ABORTED → `abandonAlarm` awaiting → `setAlarm(T2)` arrives and is
//! queued (row = T2) → the old code's `deleteAlarm` after the abandon deleted the row while
//! memory kept T2. T2 fires only as long as the manager process lives: after a restart it
//! is gone.
//!
//! Here the manager is the reference, except that the row it persists after an abandon
//! answer is a tombstone whenever a replacement was queued.

use super::support::{ManagerHooks, WrappedManager};
use alarmsim_scheduler::manager::Status;
use alarmsim_scheduler::{ActorId, AlarmTime, Fence, ManagerCore, ManagerEffect, Millis};

#[derive(Debug, Default)]
pub struct Hooks {
    /// The actor whose next persisted row the old `deleteAlarm` wipes.
    wipe: Option<ActorId>,
}

impl ManagerHooks for Hooks {
    fn on_abandon_result(&mut self, inner: &mut ManagerCore, actor: &ActorId, scheduled: Millis, answer: Result<(AlarmTime, Fence), ()>, now: Millis) {
        // While abandoning, the manager's time is the queued replacement if there is one.
        let queued = inner.effective_time(actor);
        let replaced = inner.status(actor) == Some(Status::Abandoning) && queued.is_some() && queued != Some(scheduled);
        inner.on_abandon_result(actor, scheduled, answer, now);
        if replaced {
            self.wipe = Some(actor.clone());
        }
    }

    fn effect(&mut self, effect: ManagerEffect) -> Option<ManagerEffect> {
        match effect {
            ManagerEffect::Persist(mut row) if self.wipe.as_ref() == Some(&row.actor) => {
                self.wipe = None;
                row.time = None; // The row is deleted; memory keeps the replacement.
                Some(ManagerEffect::Persist(row))
            }
            other => Some(other),
        }
    }
}

crate::variant_factory! {
    /// B8: the abandon result deletes the row of a queued replacement.
    B8AbandonDropsReplacement,
    name: "b8-abandon-drops-replacement",
    description: "B8 (workerd 67dd86ade): the abandon result deletes the persisted row even though a replacement alarm was queued, so the replacement is lost on restart",
    actor: |inner| inner,
    manager: |inner| WrappedManager::new(inner, Hooks::default()),
}
