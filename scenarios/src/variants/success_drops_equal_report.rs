//! R13/R11 at the manager: after a successful attempt, a report equal to the time that just
//! ran is taken for that same alarm ("already delivered") and the entry is dropped.
//!
//! A plausible dedup: the report after a success is usually `none` (the deferred delete)
//! or a new time the handler set, and "the alarm we just ran" looks like a stale echo. But a
//! handler that re-arms to its own time — `setAlarm(now)` in its first millisecond, when now
//! is T — cancels its deferred delete and keeps T (R3, R11): the report is T and means "fire
//! again". The manager drops it while storage holds T: the alarm is lost (I1).

use super::support::{ManagerHooks, WrappedManager};
use alarmsim_scheduler::{ActorId, FireResult, ManagerCore, Millis, Outcome};
use rand::RngCore;

#[derive(Debug, Default)]
pub struct Hooks;

impl ManagerHooks for Hooks {
    fn on_fire_result(&mut self, inner: &mut ManagerCore, actor: &ActorId, scheduled: Millis, result: FireResult, now: Millis, rng: &mut dyn RngCore) {
        let mut result = result;
        if let (Outcome::Succeeded, Some((time, fence))) = (result.outcome, result.report) {
            if time == Some(scheduled) {
                result.report = Some((None, fence)); // "That is the alarm that just ran."
            }
        }
        inner.on_fire_result(actor, scheduled, result, now, rng);
    }
}

crate::variant_factory! {
    /// R13/R11: a success's report equal to the fired time is dropped as an echo.
    SuccessDropsEqualReport,
    name: "success-drops-equal-report",
    description: "R13/R11: after a success the manager drops a report equal to the time that ran, so a handler that re-armed to its own time (setAlarm(now) at T) is never fired again",
    actor: |inner| inner,
    manager: |inner| WrappedManager::new(inner, Hooks),
}
