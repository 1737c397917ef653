//! B7, workerd #6396: abandoning after retry exhaustion ignores what storage holds.
//!
//! Before `abandonAlarm`, the manager simply dropped an alarm whose retries ran out while
//! storage kept T, so `getAlarm` showed a stale past time forever (cloudflare-docs #18324);
//! an unconditional delete also wipes a replacement `setAlarm(T2)` made meanwhile. The fix:
//! clear only if S == T and the value is clean, otherwise answer with S so the manager keeps
//! it.
//!
//! Here `abandonAlarm(T)` answers "none" (the manager drops its alarm) regardless of S == T
//! or cleanliness: S == T is cleared as before, but a replacement (or a running handler's
//! alarm) stays in storage with no manager entry.

use super::support::{ActorHooks, Parts, Wrapped};
use alarmsim_scheduler::{AlarmError, AlarmTime, Fence, Millis, WriteOptions};

#[derive(Debug, Default)]
pub struct Hooks {
    /// Abandon answers still to be sent: each says "none".
    answers: u32,
}

impl ActorHooks for Hooks {
    fn abandon(&mut self, x: &mut Parts, scheduled: Millis) -> Result<AlarmTime, AlarmError> {
        if x.inner.is_broken() {
            return x.inner.abandon_alarm(scheduled);
        }
        if !x.inner.in_handler() && x.inner.stored_alarm() == Some(scheduled) {
            x.inner.delete_alarm(WriteOptions::default())?;
            x.inner.end_turn();
        }
        self.answers += 1;
        Ok(None)
    }

    fn report(&mut self, x: &mut Parts) -> (AlarmTime, Fence) {
        let report = x.inner.report();
        if self.answers > 0 {
            // The abandon answer, taken as the reply leaves (after any handler report of the
            // same gate opening): "none", whatever storage holds.
            self.answers -= 1;
            return (None, report.1);
        }
        report
    }
}

crate::variant_factory! {
    /// B7: abandon deletes regardless of S == T / clean.
    B7AbandonUnconditional,
    name: "b7-abandon-unconditional",
    description: "B7 (workerd #6396): abandonAlarm answers none regardless of S == T / clean, so the manager drops a replacement or dirty alarm that storage keeps",
    actor: |inner| Wrapped::new(inner, Hooks::default()),
    manager: |inner| inner,
}
