//! R11, the deferred delete decided by value: after a successful handler the alarm is deleted
//! if storage still holds the time that fired, instead of "unless the handler (or anyone)
//! wrote the alarm meanwhile".
//!
//! A natural shortcut ("if S is still T, nobody changed it"), and ActorCache's conditional
//! `deleteAlarm(timeToDelete)` compares values too — but there any write during the handler
//! also cancels the delete (R11). The two differ exactly when the handler writes the alarm
//! to the value it fired for: `setAlarm(now)` in the handler's first millisecond, when now
//! is T (R3 makes it a no-op write, yet it cancels the deferred delete). The variant erases
//! that alarm, so the re-armed handler never runs again.

use super::support::{ActorHooks, Parts, Wrapped};
use alarmsim_scheduler::{AlarmError, AlarmTime, ArmDecision, Millis, WriteOptions};

#[derive(Debug, Default)]
pub struct Hooks {
    /// The time the running handler fired for, if it was armed with a deferred delete.
    deletes: Option<Millis>,
    /// The alarm was set since that arm: `getAlarm` shows it again (R5).
    written: bool,
}

impl ActorHooks for Hooks {
    /// The variant keeps R5 right: while its own deferred delete is pending, `getAlarm` is
    /// null, as the reference's is (its bug is only in how the delete decides).
    fn get_alarm(&self, x: &Parts) -> Result<AlarmTime, AlarmError> {
        let s = x.inner.get_alarm()?;
        Ok(if self.deletes.is_some() && !self.written && x.inner.in_handler() { None } else { s })
    }

    fn set_alarm(&mut self, x: &mut Parts, time: Millis, now: Millis, options: WriteOptions) -> Result<(), AlarmError> {
        let result = x.inner.set_alarm(time, now, options);
        self.written |= result.is_ok();
        result
    }

    fn arm(&mut self, x: &mut Parts, scheduled: Millis, now: Millis) -> Result<ArmDecision, AlarmError> {
        let decision = x.inner.arm_alarm_handler(scheduled, now);
        self.deletes = None;
        self.written = false;
        if matches!(decision, Ok(ArmDecision::Run { deferred_delete: true })) {
            // The variant does the deleting itself, by value.
            x.inner.cancel_deferred_alarm_deletion();
            self.deletes = Some(scheduled);
        }
        decision
    }

    fn handler_finished(&mut self, x: &mut Parts, succeeded: bool) {
        let was_running = x.inner.in_handler();
        x.inner.handler_finished(succeeded);
        let Some(fired) = self.deletes.take() else { return };
        if was_running && succeeded && !x.inner.is_broken() && x.inner.stored_alarm() == Some(fired) {
            let _ = x.inner.delete_alarm(WriteOptions::default());
            x.inner.end_turn();
        }
    }
}

crate::variant_factory! {
    /// R11: the deferred delete compares values instead of watching for writes.
    DeferredDeleteByValue,
    name: "deferred-delete-by-value",
    description: "R11: after a successful handler the alarm is deleted if storage still holds the fired time, so a handler that re-arms to that same time (setAlarm(now) in its first ms) loses it",
    actor: |inner| Wrapped::new(inner, Hooks::default()),
    manager: |inner| inner,
}
