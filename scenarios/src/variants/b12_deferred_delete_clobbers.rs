//! B12: the deferred delete ignores writes made in the handler.
//!
//! A naive deleter: `arm(1)`; the handler calls `setAlarm(2)`; the handler returns and the
//! deferred delete still runs, so S = none and the alarm the handler set never fires. workerd
//! guards against it by clearing `haveDeferredDelete` on any alarm write in ActorSqlite (and
//! by the conditional `deleteAlarm(timeToDelete)` in ActorCache).
//!
//! Here the deferred delete decided at arm time runs after every successful handler,
//! whatever the handler (or a client during it) wrote.

use super::support::{ActorHooks, Parts, Wrapped};
use alarmsim_scheduler::{AlarmError, ArmDecision, Millis, WriteOptions};

#[derive(Debug, Default)]
pub struct Hooks {
    /// The running handler was armed with a deferred delete.
    deferred_delete: bool,
}

impl ActorHooks for Hooks {
    fn arm(&mut self, x: &mut Parts, scheduled: Millis, now: Millis) -> Result<ArmDecision, AlarmError> {
        let decision = x.inner.arm_alarm_handler(scheduled, now);
        self.deferred_delete = matches!(decision, Ok(ArmDecision::Run { deferred_delete: true }));
        decision
    }

    fn handler_finished(&mut self, x: &mut Parts, succeeded: bool) {
        let was_running = x.inner.in_handler();
        x.inner.handler_finished(succeeded);
        let delete = std::mem::take(&mut self.deferred_delete);
        if was_running && succeeded && delete && !x.inner.is_broken() && x.inner.stored_alarm().is_some() {
            // The deleter never noticed the write that cancelled it.
            let _ = x.inner.delete_alarm(WriteOptions::default());
            x.inner.end_turn();
        }
    }
}

crate::variant_factory! {
    /// B12: the deferred delete clobbers a write made in the handler.
    B12DeferredDeleteClobbers,
    name: "b12-deferred-delete-clobbers",
    description: "B12: the deferred delete ignores alarm writes made during the handler, so an alarm the handler re-armed is erased",
    actor: |inner| Wrapped::new(inner, Hooks::default()),
    manager: |inner| inner,
}
