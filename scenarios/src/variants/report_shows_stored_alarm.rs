//! R16/§2 reports at the actor: a handler's report (and an abandon answer) carries the alarm
//! `getAlarm` shows, S, instead of the earliest value storage holds or may come to hold.
//!
//! A report tells the manager which alarm to keep once the handler succeeded. "Report what
//! the user set" reads naturally, and with every write confirmed it is even right: the output
//! gate holds the report until every commit is durable, so S is what storage holds. With an
//! `allowUnconfirmed` write (R6) the gate stays open while its commit is in flight, the report
//! leaves with the new S, and the manager moves to it while storage still holds the old value.
//! If S is later and the commit then fails, or is slow, the manager is later than storage
//! (I1, `never-late`). Only the `unconfirmed-writes` scenario produces it; no other scenario
//! writes unconfirmed. Written from a cargo-mutants survivor (`durable_floor` → `None`).

use super::support::{ActorHooks, Parts, Wrapped};
use alarmsim_scheduler::{AlarmTime, Fence};

#[derive(Debug, Default)]
pub struct Hooks;

impl ActorHooks for Hooks {
    fn report(&mut self, x: &mut Parts) -> (AlarmTime, Fence) {
        let (_, fence) = x.inner.report();
        (x.inner.stored_alarm(), fence) // "What the user set is what the manager should keep."
    }
}

crate::variant_factory! {
    /// R6/R16: a report carries S, ignoring commits still in flight.
    ReportShowsStoredAlarm,
    name: "report-shows-stored-alarm",
    description: "R6/R16: a handler's report carries the alarm getAlarm shows, not the earliest value storage may hold, so with an unconfirmed commit in flight the manager moves later than storage",
    actor: |inner| Wrapped::new(inner, Hooks),
    manager: |inner| inner,
}
