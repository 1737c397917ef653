//! R3 before R11: `setAlarm` of the value already stored returns at once, before it cancels
//! the handler's deferred delete.
//!
//! R3 ("setting the current value again is a no-op: no write, no commit, no sR") is an
//! early return, and the deferred delete's cancellation (R11: any set/delete in the handler)
//! sits after it. ActorCache deliberately does *not* skip the write while a deferred delete is
//! pending, and ActorSqlite clears `haveDeferredDelete` first. The order matters only when the
//! handler sets exactly the stored value, which during a handler is T: `setAlarm(now)` at its
//! first millisecond. The deferred delete then erases the alarm the handler just re-armed.

use super::support::{ActorHooks, Parts, Wrapped};
use alarmsim_scheduler::{AlarmError, Millis, WriteOptions};

#[derive(Debug, Default)]
pub struct Hooks;

impl ActorHooks for Hooks {
    fn set_alarm(&mut self, x: &mut Parts, time: Millis, now: Millis, options: WriteOptions) -> Result<(), AlarmError> {
        let clamped = time.max(now); // R2
        // getAlarm is null while a deferred delete is pending in the handler (R5).
        let delete_pending = x.inner.in_handler() && x.inner.get_alarm()?.is_none();
        if delete_pending && x.inner.stored_alarm() == Some(clamped) && time.0 > 0 {
            return Ok(()); // "Nothing to write" — and the deferred delete stays armed.
        }
        x.inner.set_alarm(time, now, options)
    }
}

crate::variant_factory! {
    /// R3 before R11: a same-value setAlarm in the handler keeps the deferred delete.
    NoopKeepsDeferredDelete,
    name: "noop-keeps-deferred-delete",
    description: "R3/R11: setAlarm of the stored value returns before cancelling the handler's deferred delete, so a handler's setAlarm(now) at T is erased",
    actor: |inner| Wrapped::new(inner, Hooks),
    manager: |inner| inner,
}
