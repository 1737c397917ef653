//! I2 without the move-later: after a commit moves the alarm later (or deletes it) the
//! manager is not told; the manager fires the old, earlier time, and the arm decision's
//! reschedule (B10's fix) then points it at storage.
//!
//! A plausible economy — "the manager firing early is safe, the actor corrects it" — and I1
//! holds throughout: the manager is never *later* than storage. But every move later costs a
//! spurious fire and an extra handler attempt, and the manager disagrees with storage for as
//! long as the actor sits idle. The quiescence check waits for the early fire to heal it, so
//! only the idle-convergence check sees it.

use super::support::{ActorHooks, Ctx, Parts, Wrapped};
use alarmsim_scheduler::{ActorEffect, CallId};

#[derive(Debug, Default)]
pub struct Hooks {
    /// Post-commit commands the variant swallowed: acknowledged to the inner actor as if sent.
    swallowed: Vec<CallId>,
}

impl ActorHooks for Hooks {
    fn effect(&mut self, x: &mut Parts, ctx: Ctx, effect: ActorEffect) {
        match effect {
            // The command a commit's acknowledgement sends is the move-later (§2 transition 2).
            ActorEffect::Schedule { call, .. } if ctx == Ctx::CommitResult => self.swallowed.push(call),
            other => x.pass(other),
        }
    }

    fn after(&mut self, x: &mut Parts, _ctx: Ctx) {
        for call in std::mem::take(&mut self.swallowed) {
            x.inner.on_schedule_result(call, true);
        }
    }
}

crate::variant_factory! {
    /// I2: no post-commit move-later; the manager learns on its next (early) fire.
    LazyMoveLater,
    name: "lazy-move-later",
    description: "I2: a commit that moves the alarm later or deletes it is not told to the manager; its early fire and the Cancel reschedule correct it, so it stays earlier than storage while the actor is idle",
    actor: |inner| Wrapped::new(inner, Hooks::default()),
    manager: |inner| inner,
}
