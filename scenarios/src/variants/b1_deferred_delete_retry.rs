//! B1, workerd #5431 (`ac15659f9`): move-later commands are independent, retried tasks.
//!
//! Before the fix, post-commit scheduling (move later, including the deferred delete's
//! `sR(none)`) ran in a task set, and a failed call was retried on its own up to 4 times
//! instead of being serialized with later commands. The interleaving: the handler succeeds →
//! `C(none)` → `sR(none)` fails and waits to retry → `setAlarm(2)` → `sR(2)` ✓ → `C(2)` → the
//! retried `sR(none)` lands last. Storage holds 2, the manager nothing: the alarm never fires.
//!
//! Here a failed move-later is retried as a fresh request after a backoff (modelled as: once
//! the actor's own commands are done), carrying a fresh fence, since pre-fix requests were
//! not ordered by anything but their arrival. Everything else is the reference.

use super::support::{forward_result, ActorHooks, Ctx, Parts, Sent, Wrapped};
use alarmsim_scheduler::{ActorEffect, AlarmTime, CallId};
use std::collections::{BTreeMap, VecDeque};

/// Production retried a failed move-later task up to 4 times.
const MAX_RETRIES: u32 = 4;

#[derive(Debug, Default)]
pub struct Hooks {
    /// Move-later commands (post-commit scheduling) in flight.
    later: BTreeMap<CallId, AlarmTime>,
    /// Failed move-laters waiting out their backoff, with the retries made so far.
    backoff: VecDeque<(AlarmTime, u32)>,
    /// Retries in flight.
    retrying: BTreeMap<CallId, (AlarmTime, u32)>,
}

impl ActorHooks for Hooks {
    fn effect(&mut self, x: &mut Parts, ctx: Ctx, effect: ActorEffect) {
        if let (Ctx::CommitResult, ActorEffect::Schedule { call, time, .. }) = (ctx, &effect) {
            self.later.insert(*call, *time);
        }
        x.pass(effect);
    }

    fn schedule_result(&mut self, x: &mut Parts, call: CallId, sent: Option<Sent>, ok: bool) {
        if let Some(time) = self.later.remove(&call) {
            if !ok {
                self.backoff.push_back((time, 0));
            }
        }
        if let Some((time, tries)) = self.retrying.remove(&call) {
            if !ok && tries + 1 < MAX_RETRIES {
                self.backoff.push_back((time, tries + 1));
            }
        }
        // The actor is told as usual: it moves on without waiting for the retry (the bug).
        forward_result(x, call, sent, ok);
    }

    fn after(&mut self, x: &mut Parts, _ctx: Ctx) {
        if x.inner.commands_outstanding() == 0 && x.wire.is_empty() {
            if let Some((time, tries)) = self.backoff.pop_front() {
                let fence = x.own_fence();
                let call = x.inject(time, fence);
                self.retrying.insert(call, (time, tries));
            }
        }
    }
}

crate::variant_factory! {
    /// B1: independent, retried move-later tasks.
    B1DeferredDeleteRetry,
    name: "b1-deferred-delete-retry",
    description: "B1 (workerd #5431): move-later calls are independent tasks retried on failure, so a retried deferred-delete sR(none) lands after a newer setAlarm and clobbers it",
    actor: |inner| Wrapped::new(inner, Hooks::default()),
    manager: |inner| inner,
}
