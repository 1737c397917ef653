//! A manager that trusts its timer instead of re-reading the clock (R8).
//!
//! workerd's `checkTimestamp` waits on its timer and then re-checks the wall clock while
//! `now < T`, because timers wake early (coarse granularity, slack, a clock stepped
//! backwards). This manager's timer has a 1 s granularity: it wakes at the start of the
//! second an alarm falls in and fires everything due before that second ends, without
//! looking at the clock again, so alarms fire up to a second early.

use super::support::{ManagerHooks, WrappedManager};
use alarmsim_scheduler::{Fire, ManagerCore, Millis};

/// The timer's granularity.
const GRANULE_MS: i64 = 1_000;

fn granule_start(t: Millis) -> Millis {
    Millis(t.0 - t.0.rem_euclid(GRANULE_MS))
}

#[derive(Debug, Default)]
pub struct Hooks;

impl ManagerHooks for Hooks {
    fn next_wakeup(&self, inner: &ManagerCore) -> Option<Millis> {
        inner.next_wakeup().map(granule_start)
    }

    fn take_due(&mut self, inner: &mut ManagerCore, now: Millis) -> Vec<Fire> {
        // "Due" is whatever the timer was set for: the whole current second.
        inner.take_due(Millis(granule_start(now).0 + GRANULE_MS - 1))
    }
}

crate::variant_factory! {
    /// The manager fires on its timer without re-checking the clock.
    NoClockRecheck,
    name: "no-clock-recheck",
    description: "R8: the manager fires when its coarse (1 s) timer wakes, without re-reading the clock, so alarms fire up to a second early",
    actor: |inner| inner,
    manager: |inner| WrappedManager::new(inner, Hooks),
}
