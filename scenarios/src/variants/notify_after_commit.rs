//! A deliberately broken actor: it tells the manager *after* the commit when it moves an
//! alarm earlier.
//!
//! The rule is "move earlier eagerly, move later lazily" (§2 transition 1): an earlier alarm
//! must reach the manager before it becomes durable, or for a while storage holds T while
//! the manager would fire later (I1), and a crash in that window loses T until the actor
//! restarts. This actor commits first and sends the earlier time once the commit is
//! acknowledged, as it does for a move later.

use super::support::{ActorHooks, Ctx, Parts, Wrapped};
use alarmsim_scheduler::{ActorEffect, AlarmTime, CommitId, Fence};
use std::collections::BTreeMap;

#[derive(Debug, Default)]
pub struct Hooks {
    /// Move-earlier commands of the turn being committed.
    held: Vec<(AlarmTime, Fence)>,
    /// Commands to send once their commit is acknowledged.
    after_commit: BTreeMap<CommitId, Vec<(AlarmTime, Fence)>>,
}

impl ActorHooks for Hooks {
    fn effect(&mut self, x: &mut Parts, ctx: Ctx, effect: ActorEffect) {
        match effect {
            ActorEffect::Schedule { call, time, fence } if ctx == Ctx::EndTurn => {
                // Precommit scheduling: the actor carries on as if the manager already knew.
                self.held.push((time, fence));
                x.inner.on_schedule_result(call, true);
            }
            ActorEffect::Commit { id, batch } => {
                if !self.held.is_empty() {
                    self.after_commit.insert(id, std::mem::take(&mut self.held));
                }
                x.pass(ActorEffect::Commit { id, batch });
            }
            other => x.pass(other),
        }
    }

    fn commit_result(&mut self, x: &mut Parts, id: CommitId, ok: bool) {
        if let Some(held) = self.after_commit.remove(&id) {
            if ok && !x.inner.is_broken() {
                for (time, fence) in held {
                    x.inject(time, fence);
                }
            }
        }
        x.inner.on_commit_result(id, ok);
    }
}

crate::variant_factory! {
    /// Tells the manager after the commit when moving earlier.
    NotifyAfterCommit,
    name: "notify-after-commit",
    description: "a deliberately broken actor: it moves an alarm earlier by committing first and telling the manager afterwards, so the manager may fire late (I1)",
    actor: |inner| Wrapped::new(inner, Hooks::default()),
    manager: |inner| inner,
}
