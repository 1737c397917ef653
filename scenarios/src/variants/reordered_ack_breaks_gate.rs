//! §2 transition 1 at the actor: an acknowledgement that arrives out of order is taken for a
//! storage fault, and the output gate breaks although every write succeeded.
//!
//! Backends may acknowledge commits out of order (the reference's `durable_floor` relies only
//! on "an acknowledged commit proves every earlier one durable"). A scheduler written as if
//! acknowledgements were a FIFO reasons "commit 2 confirmed before commit 1 was: storage is
//! confused, be safe and reset". The reset loads what storage holds, which is every write,
//! so nothing durable is lost and the manager hears the alarm again on load: conservation,
//! convergence and the user model all pass (a reset may legitimately drop unconfirmed state).
//! What it costs is the user's: each spurious reset drops writes not yet shipped and fails
//! the handler in progress. Only `no-degraded-actor`'s "a gate breaks only for a failure" sees
//! it. Written from a cargo-mutants survivor (`!ok` → `true` in `on_schedule_result`, where
//! every successful move-earlier broke the gate and nothing noticed).

use super::support::{ActorHooks, Parts, Wrapped};
use alarmsim_scheduler::CommitId;

#[derive(Debug, Default)]
pub struct Hooks {
    /// The newest commit acknowledged so far.
    newest_acked: Option<CommitId>,
}

impl ActorHooks for Hooks {
    fn commit_result(&mut self, x: &mut Parts, id: CommitId, ok: bool) {
        // "Acks come back in order; one that does not is a storage fault."
        let out_of_order = self.newest_acked.is_some_and(|newest| id < newest);
        if ok && !out_of_order {
            self.newest_acked = Some(id);
        }
        x.inner.on_commit_result(id, ok && !out_of_order);
    }
}

crate::variant_factory! {
    /// §2 transition 1: an out-of-order acknowledgement breaks the output gate.
    ReorderedAckBreaksGate,
    name: "reordered-ack-breaks-gate",
    description: "§2 transition 1: a commit acknowledged out of order is taken for a storage fault and breaks the output gate, resetting the actor although every write succeeded",
    actor: |inner| Wrapped::new(inner, Hooks::default()),
    manager: |inner| inner,
}
