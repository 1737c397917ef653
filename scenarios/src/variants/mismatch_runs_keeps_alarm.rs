//! §2.3 at the actor: every fire that does not match the stored alarm runs the handler, and
//! keeps the alarm, as if a write were always in flight.
//!
//! workerd's `armAlarmHandler` runs a mismatched fire without a deferred delete only while the
//! alarm is *dirty* (a write of it in flight, S ≠ LC): storage may be about to change, so the
//! handler gets to run and nothing is deleted. A *clean* mismatched fire that is not overdue is
//! cancelled after rescheduling the manager to S (PR #2648, `d1faebb06` for S = none,
//! `4aa2aa046` for a late manager). A scheduler that reasons "I do not recognise this fire,
//! so let the handler run and keep the alarm, nothing can be lost" calls the user's handler
//! for every stale or premature fire: after a move later the manager has not heard of yet, it
//! runs for an alarm that is not due. Nothing is lost and the manager converges (the handler's
//! report reschedules it), so conservation, at-least-once and never-late all pass; only
//! user-view's check of a clean arm sees the spurious run. Written from a cargo-mutants
//! survivor (`==` → `!=` in `alarm_is_clean`).

use super::support::{ActorHooks, Parts, Wrapped};
use alarmsim_scheduler::{AlarmError, ArmDecision, Millis};

#[derive(Debug, Default)]
pub struct Hooks;

impl ActorHooks for Hooks {
    fn arm(&mut self, x: &mut Parts, scheduled: Millis, now: Millis) -> Result<ArmDecision, AlarmError> {
        match x.inner.stored_alarm() {
            // A mismatch, not overdue: "storage may be changing, run and keep the alarm".
            Some(stored) if stored != scheduled && stored >= now => {
                let decision = x.inner.arm_alarm_handler(stored, now)?;
                x.inner.cancel_deferred_alarm_deletion();
                debug_assert_eq!(decision, ArmDecision::Run { deferred_delete: true }, "arming the stored time itself runs it");
                Ok(ArmDecision::Run { deferred_delete: false })
            }
            _ => x.inner.arm_alarm_handler(scheduled, now),
        }
    }
}

crate::variant_factory! {
    /// §2.3: a mismatched fire always runs, without its deferred delete, even when clean.
    MismatchRunsKeepsAlarm,
    name: "mismatch-runs-keeps-alarm",
    description: "§2.3/PR #2648: a fire that does not match the stored alarm always runs the handler and keeps the alarm, as if a write were in flight, so a stale or premature fire calls the handler for an alarm that is not due",
    actor: |inner| Wrapped::new(inner, Hooks),
    manager: |inner| inner,
}
