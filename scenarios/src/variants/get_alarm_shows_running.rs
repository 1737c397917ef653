//! R5: `getAlarm()` inside the handler returns the alarm that is running instead of null.
//!
//! workerd hides the running alarm while its deferred delete is pending (`haveDeferredDelete
//! && !txn.alarmDirty`; docs PR #20175) so that handler code reading "is there a next alarm?"
//! does not see the one it is running. A scheduler that forgets returns S: storage, the
//! manager and every delivery are right, so only a check of what the API answers sees it.

use super::support::{ActorHooks, Parts, Wrapped};
use alarmsim_scheduler::{AlarmError, AlarmTime};

#[derive(Debug, Default)]
pub struct Hooks;

impl ActorHooks for Hooks {
    fn get_alarm(&self, x: &Parts) -> Result<AlarmTime, AlarmError> {
        x.inner.get_alarm()?;
        Ok(x.inner.stored_alarm()) // S, even while the deferred delete hides it (R5).
    }
}

crate::variant_factory! {
    /// R5: getAlarm shows the running alarm.
    GetAlarmShowsRunning,
    name: "get-alarm-shows-running",
    description: "R5: getAlarm() inside a handler returns the alarm being run instead of null while its deferred delete is pending",
    actor: |inner| Wrapped::new(inner, Hooks),
    manager: |inner| inner,
}
