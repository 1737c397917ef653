//! B11 (workerd `b4a5ed8cd`): a failed move-later marks the actor broken without breaking
//! the output gate.
//!
//! A move-later `scheduleRun` runs after its commit is durable, so its failure cannot undo
//! anything: workerd's fix only logs it and keeps the gate intact ("rejected move-later
//! alarm scheduling request does not break gate"). Before it, the failure set the actor's
//! broken flag but left the gate open: every later `put`, `getAlarm` or `setAlarm` threw
//! "broken", yet nothing reset the actor, because only a broken gate does. The actor stayed
//! degraded until its process happened to restart.
//!
//! Here the reference runs unchanged, but once a move-later command (one issued after a
//! commit, or drained from the parked slot) fails, every storage call of the actor's code
//! throws `Broken` while `gate()` still answers what the reference says.

use super::support::{forward_result, ActorHooks, Ctx, Parts, Sent, Wrapped};
use alarmsim_scheduler::{ActorEffect, AlarmError, CallId};
use std::collections::BTreeSet;

#[derive(Debug, Default)]
pub struct Hooks {
    /// Move-later commands in flight.
    later: BTreeSet<CallId>,
    /// A move-later failed: the actor's storage throws from now on.
    degraded: bool,
}

impl ActorHooks for Hooks {
    fn storage_check(&self, _x: &Parts) -> Result<(), AlarmError> {
        if self.degraded {
            Err(AlarmError::Broken)
        } else {
            Ok(())
        }
    }

    fn effect(&mut self, x: &mut Parts, ctx: Ctx, effect: ActorEffect) {
        // Post-commit scheduling and the parked time drained after a command: move-later.
        if let (ActorEffect::Schedule { call, .. }, Ctx::CommitResult | Ctx::ScheduleResult) = (&effect, ctx) {
            self.later.insert(*call);
        }
        x.pass(effect);
    }

    fn schedule_result(&mut self, x: &mut Parts, call: CallId, sent: Option<Sent>, ok: bool) {
        if self.later.remove(&call) && !ok {
            self.degraded = true;
        }
        forward_result(x, call, sent, ok);
    }
}

crate::variant_factory! {
    /// B11: a failed move-later leaves the actor degraded with its gate open.
    B11MoveLaterFailureDegrades,
    name: "b11-move-later-failure-degrades",
    description: "B11 (workerd b4a5ed8cd): a failed move-later marks the actor broken without breaking the output gate, so its storage throws forever and nothing resets it",
    actor: |inner| Wrapped::new(inner, Hooks::default()),
    manager: |inner| inner,
}
