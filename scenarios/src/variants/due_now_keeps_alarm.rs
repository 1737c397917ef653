//! R11 at the handler's own millisecond: a fire that arrives exactly at T runs without its
//! deferred delete.
//!
//! The arm decision arms the deferred delete for a fire that matches S, and for an overdue S
//! (#5764). A scheduler that writes the match as "S is due: `s < now`" instead of
//! "S == T" still deletes every alarm whose fire arrives a millisecond or more after T, which
//! is every fire that crosses a link with latency. Only a fire handled in T's own millisecond
//! keeps its alarm: the handler succeeds, storage still holds T, `getAlarm` inside the handler
//! shows T (R5), and the manager fires it again, so the user's handler runs twice for one alarm.
//! Storage, the manager and every delivery agree throughout; only the user view's check of the
//! arm sees it. Written from a cargo-mutants survivor (`==` → `!=` in the match test).

use super::support::{ActorHooks, Parts, Wrapped};
use alarmsim_scheduler::{AlarmError, ArmDecision, Millis};

#[derive(Debug, Default)]
pub struct Hooks;

impl ActorHooks for Hooks {
    fn arm(&mut self, x: &mut Parts, scheduled: Millis, now: Millis) -> Result<ArmDecision, AlarmError> {
        let decision = x.inner.arm_alarm_handler(scheduled, now)?;
        let not_yet_overdue = x.inner.stored_alarm().is_some_and(|s| s >= now);
        if decision == (ArmDecision::Run { deferred_delete: true }) && not_yet_overdue {
            x.inner.cancel_deferred_alarm_deletion();
            return Ok(ArmDecision::Run { deferred_delete: false });
        }
        Ok(decision)
    }
}

crate::variant_factory! {
    /// R11: the deferred delete only for `s < now`, so a fire in T's own millisecond keeps T.
    DueNowKeepsAlarm,
    name: "due-now-keeps-alarm",
    description: "R11: the deferred delete is armed only for an alarm already overdue (s < now), so a fire handled in its own millisecond keeps the alarm and the handler runs again",
    actor: |inner| Wrapped::new(inner, Hooks),
    manager: |inner| inner,
}
