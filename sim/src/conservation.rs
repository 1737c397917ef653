//! Alarm conservation: every durable alarm value ends in exactly one legitimate way
//! (alarm-semantics.md R4, R7, R11, R13, R15, R16), and no durable value comes from nowhere.
//!
//! A value D leaves durable storage only by
//! - **delivery**: a handler armed with a deferred delete for it succeeded, and nobody wrote
//!   the alarm between the arm and the handler's end (R11; any set/delete in between cancels
//!   the delete, a failed, timed-out or crashed attempt never ends the alarm);
//! - **replacement**: a user write newer than the one that produced D (set, delete, or
//!   `deleteAll` with `deleteAlarm`, R4/R7) is what storage holds now;
//! - **abandon**: the manager gave up on it after the counted-retry limit (R15, R16) or after
//!   `ctx.abort(…, {retryAlarm: false})` (R13).
//!
//! `at-least-once` counts a handler *start* as a delivery, so an alarm whose only attempt
//! failed, then deleted, passed it; this checker does not accept that. A power loss under
//! `synchronous=NORMAL` may roll D back to what the sync model kept (the durability checker
//! judges exactly which values may vanish); that rollback is accepted, and what is durable
//! afterwards may again end only in one of the three ways.
//!
//! Writes are numbered per actor in the order the actor's code made them; commits apply in
//! order, so the write that produced a durable value is the earliest newer write with that
//! value (the most permissive reading, so a correct scheduler is never blamed).

use crate::checker::{rel, Violation};
use crate::scenario::Invariant;
use alarmsim_scheduler::{AlarmTime, Millis};
use std::collections::VecDeque;

/// A user write of the alarm: its number, the value (R2-clamped) and the raw time asked for.
#[derive(Clone, Copy, Debug)]
struct Write {
    seq: u64,
    value: AlarmTime,
    raw: AlarmTime,
}

#[derive(Clone, Debug, Default)]
struct ActorLedger {
    /// D, and the number of the write that produced it (0: none, or what a rollback restored).
    durable: AlarmTime,
    produced_by: u64,
    /// The number of the newest user write.
    seq: u64,
    /// User writes newer than `produced_by`, oldest first.
    writes: VecDeque<Write>,
    /// A handler armed with a deferred delete: the value it serves, at which write number.
    armed: Option<(Millis, u64)>,
    /// Values that may end by delivery or abandon, with the write number when that was earned.
    delivered: Option<(Millis, u64)>,
    abandoned: Option<(Millis, u64)>,
}

/// The conservation ledger of one run.
#[derive(Clone)]
pub struct Conservation {
    actors: Vec<ActorLedger>,
    on: bool,
}

impl Conservation {
    pub fn new(actors: usize, on: bool) -> Conservation {
        Conservation { actors: vec![ActorLedger::default(); actors], on }
    }

    /// The actor's code wrote the alarm: `value` as R2 clamps it, `raw` as asked.
    pub fn user_write(&mut self, index: usize, value: AlarmTime, raw: AlarmTime) {
        let ledger = &mut self.actors[index];
        ledger.seq += 1;
        ledger.writes.push_back(Write { seq: ledger.seq, value, raw });
    }

    /// `armAlarmHandler` ran the handler; with a deferred delete, for the value it serves.
    pub fn armed(&mut self, index: usize, serving: AlarmTime, deferred_delete: bool) {
        let ledger = &mut self.actors[index];
        ledger.armed = match (deferred_delete, serving) {
            (true, Some(v)) => Some((v, ledger.seq)),
            _ => None,
        };
    }

    /// The handler ended. A success with no alarm write since the arm delivers the served value.
    pub fn handler_finished(&mut self, index: usize, succeeded: bool) {
        let ledger = &mut self.actors[index];
        if let Some((value, at)) = ledger.armed.take() {
            if succeeded && at == ledger.seq {
                ledger.delivered = Some((value, at));
            }
        }
    }

    /// The manager asked the actor to abandon `scheduled`, justified by the retry rules.
    pub fn abandon_justified(&mut self, index: usize, scheduled: Millis) {
        let ledger = &mut self.actors[index];
        ledger.abandoned = Some((scheduled, ledger.seq));
    }

    /// A new incarnation loaded: a handler of the old one never finishes.
    pub fn loaded(&mut self, index: usize) {
        self.actors[index].armed = None;
    }

    /// A power loss rolled D back to `restored` (the sync model's business): from now on only
    /// newer writes, or a delivery or abandon earned from now on, may end it.
    pub fn rolled_back(&mut self, index: usize, restored: AlarmTime) {
        let ledger = &mut self.actors[index];
        ledger.durable = restored;
        ledger.produced_by = ledger.seq;
        ledger.writes.clear();
        ledger.delivered = None;
        ledger.abandoned = None;
    }

    /// A commit made `new` durable. Returns the violation if nothing legitimate explains it.
    pub fn durable_changed(&mut self, index: usize, actor: &str, new: AlarmTime, at_ms: u64) -> Option<Violation> {
        let ledger = &mut self.actors[index];
        let old = ledger.durable;
        if new == old {
            return None;
        }
        let floor = ledger.produced_by;
        // A replacement: a newer user write of this value.
        if let Some(write) = ledger.writes.iter().find(|w| w.seq > floor && (w.value == new || w.raw == new)).copied() {
            ledger.durable = new;
            ledger.produced_by = write.seq;
            ledger.writes.retain(|w| w.seq > write.seq);
            return None;
        }
        // A delivery or an abandon of the value storage held.
        let earned = |ended: Option<(Millis, u64)>| old.zip(ended).is_some_and(|(v, (e, at))| v == e && at >= floor);
        if new.is_none() && (earned(ledger.delivered) || earned(ledger.abandoned)) {
            ledger.durable = None;
            ledger.produced_by = ledger.seq;
            ledger.writes.clear();
            ledger.delivered = None;
            ledger.abandoned = None;
            return None;
        }
        let message = match (old, new) {
            (Some(v), None) => format!(
                "durable storage went from {} to none, but the alarm was neither delivered (a handler for it succeeding with its deferred delete pending, R11), replaced by a user write, nor abandoned after the retry limit or an abort (R13, R15, R16): a failed or interrupted attempt never ends an alarm",
                rel(Some(v))
            ),
            (_, Some(w)) => format!(
                "durable storage went from {} to {}, a value no user write since asked for: the alarm came from nowhere (or from an older write, overtaking a newer one)",
                rel(old),
                rel(Some(w))
            ),
            (None, None) => unreachable!("new != old"),
        };
        // Adopt what storage holds, so one finding does not cascade.
        ledger.durable = new;
        ledger.produced_by = ledger.seq;
        ledger.writes.clear();
        self.on.then(|| Violation { invariant: Invariant::AlarmConservation, actor: Some(actor.to_string()), at_ms, message })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Millis = Millis(1_000);
    const U: Millis = Millis(2_000);

    fn ledger() -> Conservation {
        let mut c = Conservation::new(1, true);
        c.user_write(0, Some(T), Some(T));
        assert!(c.durable_changed(0, "a0", Some(T), 1).is_none(), "a user write made durable");
        c
    }

    #[test]
    fn a_successful_handler_delivers_its_alarm() {
        let mut c = ledger();
        c.armed(0, Some(T), true);
        c.handler_finished(0, true);
        assert!(c.durable_changed(0, "a0", None, 2).is_none());
    }

    #[test]
    fn a_failed_attempt_never_ends_the_alarm() {
        let mut c = ledger();
        c.armed(0, Some(T), true);
        c.handler_finished(0, false);
        let v = c.durable_changed(0, "a0", None, 2).expect("a failed attempt deleted the alarm");
        assert!(v.message.contains("R11") && v.invariant == Invariant::AlarmConservation, "{}", v.message);
    }

    #[test]
    fn a_write_in_the_handler_cancels_the_delivery() {
        let mut c = ledger();
        c.armed(0, Some(T), true);
        c.user_write(0, Some(T), Some(T)); // setAlarm(T) at T: no new value, still a write (R11).
        c.handler_finished(0, true);
        assert!(c.durable_changed(0, "a0", None, 2).is_some(), "the deferred delete was cancelled");
    }

    #[test]
    fn replacements_must_be_newer_writes_and_abandons_must_be_earned() {
        let mut c = ledger();
        c.user_write(0, Some(U), Some(U));
        c.user_write(0, None, None);
        assert!(c.durable_changed(0, "a0", Some(U), 2).is_none());
        assert!(c.durable_changed(0, "a0", None, 3).is_none());
        assert!(c.durable_changed(0, "a0", Some(U), 4).is_some(), "U again, from an older write");
        let mut c = ledger();
        assert!(c.durable_changed(0, "a0", None, 2).is_some(), "no abandon asked for");
        let mut c = ledger();
        c.abandon_justified(0, T);
        assert!(c.durable_changed(0, "a0", None, 2).is_none());
    }

    #[test]
    fn a_rollback_is_accepted_and_resets_what_may_end_it() {
        let mut c = ledger();
        c.armed(0, Some(T), true);
        c.handler_finished(0, true);
        c.rolled_back(0, Some(T)); // The delete was not synced.
        assert!(c.clone().durable_changed(0, "a0", None, 2).is_some(), "the delivery before the rollback does not count twice");
        c.armed(0, Some(T), true);
        c.handler_finished(0, true);
        assert!(c.durable_changed(0, "a0", None, 3).is_none(), "after the rollback the alarm is delivered again");
    }
}
