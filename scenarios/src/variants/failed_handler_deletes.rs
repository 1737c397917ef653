//! R11/R13, the failure half: the deferred delete runs after *any* end of the handler, a throw
//! or a run past the wall-clock limit included, instead of only after success.
//!
//! "The handler ran, so the alarm is done" — the at-least-once checker agreed, since it counts
//! a handler start as a delivery. The manager retries the failed attempt, finds storage empty
//! and cancels, so manager and storage converge. But the alarm was never delivered: its only
//! attempt failed, and no retry ever runs. Conservation refuses the `S = none` (a failed attempt
//! never ends an alarm); the user-view model sees `getAlarm` return none where the alarm
//! should have stayed.

use super::support::{ActorHooks, Parts, Wrapped};
use alarmsim_scheduler::{AlarmError, ArmDecision, Millis};

#[derive(Debug, Default)]
pub struct Hooks {
    /// The running handler was armed with a deferred delete.
    deferred: bool,
}

impl ActorHooks for Hooks {
    fn arm(&mut self, x: &mut Parts, scheduled: Millis, now: Millis) -> Result<ArmDecision, AlarmError> {
        let decision = x.inner.arm_alarm_handler(scheduled, now);
        self.deferred = matches!(decision, Ok(ArmDecision::Run { deferred_delete: true }));
        decision
    }

    fn handler_finished(&mut self, x: &mut Parts, succeeded: bool) {
        // The reference keeps the alarm after a failure; the variant reports every end as a
        // success to the deferred-delete logic (a write in the handler still cancels it).
        let _ = succeeded;
        let deferred = std::mem::take(&mut self.deferred);
        x.inner.handler_finished(deferred || succeeded);
    }
}

crate::variant_factory! {
    /// R11: the deferred delete after a failed attempt too.
    FailedHandlerDeletes,
    name: "failed-handler-deletes",
    description: "R11/R13: the deferred delete runs after a handler that threw or timed out, not only after success, so an alarm whose only attempt failed is never retried",
    actor: |inner| Wrapped::new(inner, Hooks::default()),
    manager: |inner| inner,
}
