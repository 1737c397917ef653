//! B5 (the demo in workerd `cdbbcb47b`): a move-earlier does not drop the parked time.
//!
//! The interleaving: `setAlarm(5)` → `sR(5)` in flight; `setAlarm(10)` → parked;
//! `setAlarm(2)` → `sR(2)` waits for the in-flight call; `sR(5)` ✓ → the drained parked
//! `sR(10)` and `sR(2)` go out concurrently. If `sR(10)` lands last the manager holds 10
//! while storage holds 2. The fix: precommit scheduling clears the parked time, and at most
//! one call is ever in flight.
//!
//! Here the wrapper remembers the parked value the reference dropped and sends it alongside
//! the move-earlier when the channel drains. Neither call is ordered after the other: they
//! carry the same fence, so whichever reaches the manager first wins.

use super::support::{ActorHooks, Ctx, Parts, Wrapped};
use alarmsim_scheduler::time::fires_earlier;
use alarmsim_scheduler::{ActorEffect, AlarmTime, CommitId};

#[derive(Debug, Default)]
pub struct Hooks {
    /// ASNLT before the call being handled.
    asnlt_before: AlarmTime,
    /// A command went out during the call being handled.
    sent: bool,
    /// The value the actor parked (a move-later behind the call in flight).
    parked: Option<AlarmTime>,
    /// A parked value a move-earlier should have dropped: it goes out with the next call.
    racing: Option<AlarmTime>,
}

impl ActorHooks for Hooks {
    fn effect(&mut self, x: &mut Parts, ctx: Ctx, effect: ActorEffect) {
        if let ActorEffect::Schedule { time, fence, .. } = &effect {
            self.sent = true;
            let (time, fence) = (*time, *fence);
            x.pass(effect);
            if ctx == Ctx::ScheduleResult {
                self.parked = None; // The channel drained.
                if let Some(stale) = self.racing.take() {
                    if stale != time {
                        x.inject_now(stale, fence);
                    }
                }
            }
            return;
        }
        x.pass(effect);
    }

    fn commit_result(&mut self, x: &mut Parts, id: CommitId, ok: bool) {
        self.asnlt_before = x.inner.scheduled_no_later_than();
        self.sent = false;
        x.inner.on_commit_result(id, ok);
    }

    fn end_turn(&mut self, x: &mut Parts) {
        let earlier = fires_earlier(x.inner.stored_alarm(), x.inner.scheduled_no_later_than());
        if earlier && x.inner.commands_outstanding() > 0 {
            // The reference drops the parked move-later here; the bug keeps it.
            if let Some(parked) = self.parked.take() {
                self.racing = Some(parked);
            }
        }
        x.inner.end_turn();
    }

    fn after(&mut self, x: &mut Parts, ctx: Ctx) {
        if ctx == Ctx::CommitResult && !self.sent {
            let asnlt = x.inner.scheduled_no_later_than();
            if asnlt != self.asnlt_before && x.inner.commands_outstanding() > 0 {
                self.parked = Some(asnlt); // Post-commit scheduling parked this value.
            }
            self.sent = true;
        }
    }

    fn commands_outstanding(&self, x: &Parts) -> usize {
        x.inner.commands_outstanding()
    }
}

crate::variant_factory! {
    /// B5: the drained parked time races a move-earlier.
    B5ParkedRacesEarlier,
    name: "b5-parked-races-earlier",
    description: "B5 (workerd cdbbcb47b): a move-earlier does not drop the parked move-later, so both go out concurrently and the later one may land last",
    actor: |inner| Wrapped::new(inner, Hooks::default()),
    manager: |inner| inner,
}
