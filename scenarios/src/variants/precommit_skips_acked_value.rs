//! §2 transition 1 with a cache: a move earlier is not told to the manager first when the
//! manager already acknowledged that very time ("it has it"), so the commit ships at once.
//!
//! Saving the round trip looks safe: the manager confirmed this time before. But it may have
//! heard a later value since, or be about to: set(x) is told and acknowledged; deleteAlarm
//! commits and its `sR(none)` is slow; set(x) again moves the alarm earlier than what the
//! manager is about to hold, yet the variant ships it untold. The slow `sR(none)` lands and
//! the manager holds nothing while storage holds x (I1). Only a repeat of an acknowledged
//! time reaches it (the edge-seeking workload's set(x) → delete → set(x)).
//!
//! The wrapper lets the reference precommit and answers its `sR` itself; where the reference's
//! channel queued that `sR` behind a command in flight, the commit ships once that command
//! completes rather than at once (same bug, a little later).

use super::support::{ActorHooks, Ctx, Parts, Sent, Wrapped};
use alarmsim_scheduler::time::fires_earlier;
use alarmsim_scheduler::{ActorEffect, AlarmTime, CallId};
use std::collections::BTreeMap;

#[derive(Debug, Default)]
pub struct Hooks {
    /// The commands on their way, with their times.
    sent: BTreeMap<CallId, AlarmTime>,
    /// The last time the manager acknowledged.
    acked: Option<AlarmTime>,
    /// The precommit the variant skips: the time it carries.
    skip: Option<AlarmTime>,
    /// Skipped precommits to acknowledge to the inner actor as if the manager had.
    faked: Vec<CallId>,
}

impl ActorHooks for Hooks {
    fn end_turn(&mut self, x: &mut Parts) {
        let s = x.inner.stored_alarm();
        let moves_earlier = fires_earlier(s, x.inner.scheduled_no_later_than());
        if moves_earlier && s.is_some() && self.acked == Some(s) {
            self.skip = Some(s); // "The manager has this time already."
        }
        x.inner.end_turn();
    }

    fn effect(&mut self, x: &mut Parts, _ctx: Ctx, effect: ActorEffect) {
        match effect {
            ActorEffect::Schedule { call, time, .. } if self.skip.is_some_and(|t| t == time) => {
                self.skip = None;
                self.faked.push(call);
            }
            ActorEffect::Schedule { call, time, fence } => {
                self.sent.insert(call, time);
                x.pass(ActorEffect::Schedule { call, time, fence });
            }
            other => x.pass(other),
        }
    }

    fn after(&mut self, x: &mut Parts, _ctx: Ctx) {
        for call in std::mem::take(&mut self.faked) {
            x.inner.on_schedule_result(call, true);
        }
    }

    fn schedule_result(&mut self, x: &mut Parts, call: CallId, sent: Option<Sent>, ok: bool) {
        let time = self.sent.remove(&call);
        if ok {
            self.acked = time;
        }
        super::support::forward_result(x, call, sent, ok);
    }
}

crate::variant_factory! {
    /// §2.1: a move earlier to a time the manager acknowledged before is not told first.
    PrecommitSkipsAckedValue,
    name: "precommit-skips-acked-value",
    description: "§2.1: a move earlier to a time the manager already acknowledged is committed without telling the manager first, so a slower later command (a delete's sR(none)) overtakes it",
    actor: |inner| Wrapped::new(inner, Hooks::default()),
    manager: |inner| inner,
}
