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
//! The ledger keeps each actor's *logical* history: every user write is a state, and so is
//! each legitimate ending (a delivery or abandon turns the current value into "none"). Storage
//! must follow that history forward — a commit may skip states merged into it (a value set
//! and delivered before its commit shipped), never go back to an older one or invent one.
//! Writes are numbered per actor in the order the actor's code made them.

use crate::checker::{rel, Violation};
use crate::scenario::Invariant;
use alarmsim_scheduler::{AlarmTime, Millis};
use std::collections::VecDeque;

/// One state of the logical history: its number, the value (R2-clamped) and the raw time
/// asked for.
#[derive(Clone, Copy, Debug)]
struct State {
    seq: u64,
    value: AlarmTime,
    raw: AlarmTime,
}

#[derive(Clone, Debug, Default)]
struct ActorLedger {
    /// D, and the number of the state storage holds (0: the start, a reload or a rollback).
    durable: AlarmTime,
    at_state: u64,
    /// The newest state number, and its value (the alarm as the user last made it).
    seq: u64,
    logical: AlarmTime,
    /// States newer than `at_state`, oldest first.
    ahead: VecDeque<State>,
    /// A handler armed with a deferred delete: the value it serves, at which state.
    armed: Option<(Millis, u64)>,
    /// The last value a handler served before it was due (its start on the actor's clock, R8):
    /// such a run delivers nothing, and the message says why.
    early: Option<(Millis, Millis)>,
    /// The alarm the manager decided to abandon, justified by the retry rules (the decision
    /// outlives the actor's incarnation: its request may reach the next one).
    abandon_justified: Option<Millis>,
    /// The justified abandon the actor last carried out, until its answer came back.
    abandon_carried_out: Option<Millis>,
}

/// The conservation ledger of one run.
#[derive(Clone)]
pub struct Conservation {
    actors: Vec<ActorLedger>,
    on: bool,
}

impl ActorLedger {
    fn push(&mut self, value: AlarmTime, raw: AlarmTime) {
        self.seq += 1;
        self.logical = value;
        self.ahead.push_back(State { seq: self.seq, value, raw });
    }

    /// Storage holds exactly `value` and nothing newer is on its way (a load, a rollback).
    fn settle(&mut self, value: AlarmTime) {
        self.durable = value;
        self.logical = value;
        self.at_state = self.seq;
        self.ahead.clear();
        self.armed = None;
    }
}

impl Conservation {
    pub fn new(actors: usize, on: bool) -> Conservation {
        Conservation { actors: vec![ActorLedger::default(); actors], on }
    }

    /// The actor's code wrote the alarm: `value` as R2 clamps it, `raw` as asked.
    pub fn user_write(&mut self, index: usize, value: AlarmTime, raw: AlarmTime) {
        self.actors[index].push(value, raw);
    }

    /// `armAlarmHandler` ran the handler; with a deferred delete, for the value it serves.
    pub fn armed(&mut self, index: usize, serving: AlarmTime, deferred_delete: bool) {
        let ledger = &mut self.actors[index];
        ledger.armed = match (deferred_delete, serving) {
            (true, Some(v)) => Some((v, ledger.seq)),
            _ => None,
        };
    }

    /// The armed handler starts at `now` on the actor's clock. A value that is not due yet is
    /// not delivered by it, whatever the deferred delete does (R8: an alarm runs at or after its
    /// time; the reference arms a mismatched fire with the deferred delete only for an overdue
    /// S, #5764).
    pub fn handler_started(&mut self, index: usize, now: Millis) {
        let ledger = &mut self.actors[index];
        if let Some((value, _)) = ledger.armed {
            if value > now {
                ledger.armed = None;
                ledger.early = Some((value, now));
            }
        }
    }

    /// The handler ended. A success with no alarm write since the arm delivers the value it
    /// served: the alarm's next state is "none" (R11).
    pub fn handler_finished(&mut self, index: usize, succeeded: bool) {
        let ledger = &mut self.actors[index];
        if let Some((value, at)) = ledger.armed.take() {
            if succeeded && at == ledger.seq && ledger.logical == Some(value) {
                ledger.push(None, None);
            }
        }
    }

    /// The manager decided to abandon `scheduled`, justified by the retry rules (R13, R15).
    pub fn abandon_justified(&mut self, index: usize, scheduled: Millis) {
        self.actors[index].abandon_justified = Some(scheduled);
    }

    /// The actor handled a request to abandon `scheduled`: a justified one, of the alarm as it
    /// is, makes the alarm's next state "none" (R16).
    pub fn abandon_arrived(&mut self, index: usize, scheduled: Millis) {
        let ledger = &mut self.actors[index];
        if ledger.abandon_justified == Some(scheduled) && ledger.logical == Some(scheduled) {
            ledger.abandon_justified = None;
            ledger.abandon_carried_out = Some(scheduled);
            ledger.push(None, None);
        }
    }

    /// The manager heard the answer to abandoning `scheduled`. If it failed and the actor had
    /// carried the abandon out,
    /// its delete may have failed to commit (the actor reset and reloaded the alarm): the
    /// manager is as justified as before to ask again.
    pub fn abandon_answered(&mut self, index: usize, scheduled: Millis, ok: bool) {
        let ledger = &mut self.actors[index];
        if ledger.abandon_carried_out.take() == Some(scheduled) && !ok {
            ledger.abandon_justified = Some(scheduled);
        }
    }

    /// A new incarnation loaded `durable`: what the old one had not made durable is gone.
    pub fn loaded(&mut self, index: usize, durable: AlarmTime) {
        self.actors[index].settle(durable);
    }

    /// A power loss rolled D back to `restored` (the sync model's business, judged by the
    /// durability checker); the reload that follows starts the history from there.
    pub fn rolled_back(&mut self, index: usize, restored: AlarmTime) {
        self.actors[index].settle(restored);
    }

    /// A commit made `new` durable. Returns the violation if it is no state of the logical
    /// history after the one storage held.
    pub fn durable_changed(&mut self, index: usize, actor: &str, new: AlarmTime, at_ms: u64) -> Option<Violation> {
        let ledger = &mut self.actors[index];
        let old = ledger.durable;
        if new == old {
            return None;
        }
        if let Some(state) = ledger.ahead.iter().find(|s| s.value == new || s.raw == new).copied() {
            ledger.durable = new;
            ledger.at_state = state.seq;
            ledger.ahead.retain(|s| s.seq > state.seq);
            return None;
        }
        let message = match (old, new) {
            (Some(v), None) if ledger.early.is_some_and(|(e, _)| e == v) => format!(
                "durable storage went from {} to none, deleted by a handler that started at {}, before the alarm was due: a run before an alarm's time does not deliver it (R8, R11)",
                rel(Some(v)),
                rel(ledger.early.map(|(_, at)| at))
            ),
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
        ledger.at_state = ledger.seq;
        ledger.ahead.clear();
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
        c.loaded(0, Some(T)); // The request may reach the next incarnation.
        c.abandon_arrived(0, T);
        assert!(c.durable_changed(0, "a0", None, 2).is_none());
    }

    #[test]
    fn a_value_set_and_delivered_before_its_commit_may_be_skipped() {
        let mut c = ledger();
        c.user_write(0, Some(U), Some(U)); // Told first (a move earlier), fired at once...
        c.armed(0, Some(U), true);
        c.handler_finished(0, true); // ...and delivered: the commit ships "none" directly.
        assert!(c.durable_changed(0, "a0", None, 2).is_none());
    }

    #[test]
    fn writes_after_a_delivery_still_land_after_its_delete() {
        let mut c = ledger();
        c.armed(0, Some(T), true);
        c.handler_finished(0, true);
        c.user_write(0, Some(U), Some(U)); // After the handler: its deferred delete commits first.
        assert!(c.durable_changed(0, "a0", None, 2).is_none());
        assert!(c.durable_changed(0, "a0", Some(U), 3).is_none(), "the later write is not from nowhere");
    }

    #[test]
    fn a_rollback_is_accepted_and_resets_what_may_end_it() {
        let mut c = ledger();
        c.armed(0, Some(T), true);
        c.handler_finished(0, true);
        c.rolled_back(0, Some(T)); // The delete was not synced.
        c.loaded(0, Some(T));
        assert!(c.clone().durable_changed(0, "a0", None, 2).is_some(), "the delivery before the rollback does not count twice");
        c.armed(0, Some(T), true);
        c.handler_finished(0, true);
        assert!(c.durable_changed(0, "a0", None, 3).is_none(), "after the rollback the alarm is delivered again");
    }
}
