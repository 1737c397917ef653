//! B4, workerd #6383 (`b345115e5`): no parking, so every move-later is queued.
//!
//! Before the fix each move-later appended one more call to the chain of scheduling calls.
//! With a slow manager link, repeated later-moves pile up: the manager lags behind (it fires
//! long-past times) and a later move-earlier waits behind the whole chain, blocking commits.
//! The fix keeps at most one call in flight plus one parked value (latest wins), I3.
//!
//! Here every post-commit move-later becomes its own entry of a FIFO chain in front of the
//! link (the actor sets ASNLT at once, as `scheduleLaterAlarm` did); calls that something
//! waits for (a move-earlier, an arm reschedule) queue at the end of the same chain.

use super::support::{ActorHooks, Ctx, Parts, Wrapped};
use alarmsim_scheduler::ActorEffect;

#[derive(Debug, Default)]
pub struct Hooks;

impl ActorHooks for Hooks {
    fn effect(&mut self, x: &mut Parts, ctx: Ctx, effect: ActorEffect) {
        match effect {
            ActorEffect::Schedule { call, time, fence } if matches!(ctx, Ctx::CommitResult | Ctx::Load) => {
                // A move-later nobody waits for: chained, and considered sent at once.
                x.inject(time, fence);
                x.inner.on_schedule_result(call, true);
            }
            other => x.pass(other),
        }
    }

    fn commands_outstanding(&self, x: &Parts) -> usize {
        // The chain, plus whatever the actor still has queued behind its own call on it.
        x.wire.len() + x.inner.commands_outstanding() - x.wire.forwarded().min(x.inner.commands_outstanding())
    }
}

crate::variant_factory! {
    /// B4: an unbounded chain of move-later calls.
    B4UnboundedChain,
    name: "b4-unbounded-chain",
    description: "B4 (workerd #6383): no parking, every move-later is queued, so a slow link builds an unbounded chain of manager calls",
    actor: |inner| Wrapped::new(inner, Hooks),
    manager: |inner| inner,
}
