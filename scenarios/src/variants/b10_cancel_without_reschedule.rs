//! B10, workerd PR #2648 review (`49f408c47`, `4aa2aa046`, `d1faebb06`): a mismatched fire is
//! cancelled without rescheduling the manager.
//!
//! The interleaving: S moves 1 → 5, C ✓, `sR(5)` is lost (a crash, a failed call) → the
//! manager fires 1 → the old `armAlarmHandler` said Cancel without an `sR(S)` → the manager
//! deletes its entry. Storage holds 5, the manager nothing. (The same for a late fire, and for
//! S = none a stale entry lingers.)
//!
//! Here a clean mismatch (premature or late) is cancelled at once; the reference's decision
//! is used everywhere else.

use super::support::{ActorHooks, Parts, Wrapped};
use alarmsim_scheduler::{ActorEffect, AlarmError, ArmDecision, Millis};

#[derive(Debug, Default)]
pub struct Hooks;

impl ActorHooks for Hooks {
    fn arm(&mut self, x: &mut Parts, scheduled: Millis, now: Millis) -> Result<ArmDecision, AlarmError> {
        let stored = x.inner.stored_alarm();
        let clean = stored == x.inner.last_confirmed();
        let overdue = stored.is_some_and(|s| s < now);
        let runs = !clean || overdue || stored == Some(scheduled);
        if x.inner.is_broken() || x.inner.in_handler() || runs {
            return x.inner.arm_alarm_handler(scheduled, now);
        }
        // Clean mismatch: Cancel, and tell nobody.
        let arm = x.new_arm();
        x.out.push_back(ActorEffect::ArmResolved { arm, ok: true });
        Ok(ArmDecision::Cancel { arm })
    }
}

crate::variant_factory! {
    /// B10: cancel without reschedule.
    B10CancelWithoutReschedule,
    name: "b10-cancel-without-reschedule",
    description: "B10 (workerd PR #2648): a fire that mismatches clean storage is cancelled without rescheduling the manager to S, so a lost move-later loses the alarm",
    actor: |inner| Wrapped::new(inner, Hooks),
    manager: |inner| inner,
}
