//! R8 at the actor: a fire for another time runs the stored alarm, even before it is due.
//!
//! workerd's `armAlarmHandler` cancels a clean mismatched fire that is early for the stored
//! alarm and points the manager at storage (PR #2648); only an *overdue* stored alarm runs
//! from a mismatched fire (#5764). A scheduler that reasons "the manager fired, storage holds
//! an alarm, so this is it" runs the handler for the stored alarm whenever the manager fires
//! (a stale earlier entry, a move later the manager has not heard yet) and its deferred
//! delete then ends an alarm that was never due. The handler did start, so `at-least-once`
//! counts it, and the manager never fired early by its own entry (`never-early`): only
//! conservation, which does not count a run before the alarm's time as its delivery, sees it.
//! Found as a cargo-mutants survivor (`<` → `>` in the overdue test) before that check existed.

use super::support::{ActorHooks, Parts, Wrapped};
use alarmsim_scheduler::{AlarmError, ArmDecision, Millis};

#[derive(Debug, Default)]
pub struct Hooks;

impl ActorHooks for Hooks {
    fn arm(&mut self, x: &mut Parts, scheduled: Millis, now: Millis) -> Result<ArmDecision, AlarmError> {
        let stored = x.inner.stored_alarm();
        // Clean (nothing unconfirmed) and a later stored alarm: "it is the one firing".
        let premature = stored.is_some_and(|s| s != scheduled && s > now) && stored == x.inner.last_confirmed();
        match stored {
            Some(s) if premature => x.inner.arm_alarm_handler(s, now),
            _ => x.inner.arm_alarm_handler(scheduled, now),
        }
    }
}

crate::variant_factory! {
    /// R8: a mismatched fire runs the stored alarm before it is due.
    PrematureFireRuns,
    name: "premature-fire-runs",
    description: "R8/PR #2648: a fire for another time runs the handler for the stored alarm even when it is not due yet, and its deferred delete ends that alarm",
    actor: |inner| Wrapped::new(inner, Hooks),
    manager: |inner| inner,
}
