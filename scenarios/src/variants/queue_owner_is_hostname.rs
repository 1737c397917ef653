//! A queue written from the promises in `scheduler/src/queue/mod.rs`, with one mistake: the
//! claim's owner is the worker's name (its hostname), not a token per claim. The fence then
//! tells workers apart but not two claims of one worker, nor a worker and its replacement
//! under the same name: when a job's lease runs out under one claim and the same worker
//! claims it again in another slot, the stale claim's `complete` still matches. Only a
//! worker that runs several claims at once reaches it (issue 13's concurrent claims).

use super::queue_support::QueuePatch;
use alarmsim_scheduler::queue::{ClaimedJob, Db, JobQueue, QueueError, SqliteQueue};

#[derive(Default)]
pub struct OwnerIsHostname;

impl QueuePatch for OwnerIsHostname {
    async fn claim<D: Db>(&mut self, q: &mut SqliteQueue, db: &mut D, owner: &str) -> Result<Option<ClaimedJob>, QueueError> {
        // The world names a claim `worker-0/3#7` (node, incarnation, claim); the mistake keeps
        // only the node.
        let hostname = owner.split('/').next().unwrap_or(owner);
        q.claim(db, hostname).await
    }
}
