//! B2, workerd #5589 (`5ab21e0b1`): no `alarmVersion` check after a commit.
//!
//! Post-commit scheduling sends the committed time whenever the manager may fire earlier
//! than it, even if the alarm changed while the commit was in flight. The interleaving:
//! S = AM = 100; commit C1 (a slow write) captures 100; `setAlarm(5)` → `sR(5)` → C2; C1
//! completes, sees ASNLT = 5 < 100 and sends `sR(100)`. The manager fires at 100, storage
//! holds 5: late.
//!
//! Here the wrapper watches every acknowledged commit: where the reference skipped the
//! move-later because the alarm changed, the variant sends the stale time anyway (after the
//! commands already in the channel, and dropped if the actor submits something newer first,
//! as a parked value would be replaced).

use super::support::{ActorHooks, Ctx, Parts, Wrapped};
use alarmsim_scheduler::time::fires_earlier;
use alarmsim_scheduler::{ActorEffect, AlarmTime, CommitId};
use std::collections::BTreeMap;

#[derive(Debug, Default)]
pub struct Hooks {
    /// The alarm each commit in flight carries.
    commits: BTreeMap<CommitId, AlarmTime>,
    /// The commit just acknowledged.
    acked: Option<AlarmTime>,
    /// A stale move-later waiting for the channel.
    held: Option<AlarmTime>,
}

impl ActorHooks for Hooks {
    fn effect(&mut self, x: &mut Parts, _ctx: Ctx, effect: ActorEffect) {
        match &effect {
            ActorEffect::Commit { id, batch } => {
                self.commits.insert(*id, batch.alarm);
            }
            ActorEffect::Schedule { .. } => self.held = None, // A newer value replaces a parked one.
            ActorEffect::ArmResolved { .. } => {}
        }
        x.pass(effect);
    }

    fn commit_result(&mut self, x: &mut Parts, id: alarmsim_scheduler::CommitId, ok: bool) {
        let alarm = self.commits.remove(&id);
        x.inner.on_commit_result(id, ok);
        if ok && !x.inner.is_broken() {
            self.acked = alarm;
        }
    }

    fn after(&mut self, x: &mut Parts, ctx: Ctx) {
        if ctx == Ctx::CommitResult {
            // The reference sent (or parked) the committed time unless the alarm changed; in
            // both of those cases ASNLT is now that time. Otherwise it skipped: the bug sends it.
            if let Some(committed) = self.acked.take() {
                if fires_earlier(x.inner.scheduled_no_later_than(), committed) {
                    self.held = Some(committed);
                }
            }
        }
        if x.inner.commands_outstanding() == 0 && x.wire.is_empty() {
            if let Some(time) = self.held.take() {
                let fence = x.own_fence();
                x.inject(time, fence);
            }
        }
    }

    fn commands_outstanding(&self, x: &Parts) -> usize {
        // In the real code the stale value goes through the bounded channel like any other
        // move-later (in flight, or parked where a newer value replaces it); the wrapper only
        // queues the actor's next call behind it on the wire. So the bound itself holds.
        (x.inner.commands_outstanding() + x.wire.own()).min(2)
    }
}

crate::variant_factory! {
    /// B2: no alarmVersion check after commit.
    B2StaleMoveLater,
    name: "b2-stale-move-later",
    description: "B2 (workerd #5589): no alarmVersion check after a commit, so a slow commit's stale move-later overwrites a newer move-earlier at the manager",
    actor: |inner| Wrapped::new(inner, Hooks::default()),
    manager: |inner| inner,
}
