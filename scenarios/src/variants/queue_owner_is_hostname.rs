//! A queue written from the promises in `scheduler/src/queue/mod.rs`, with one mistake: the
//! claim's owner is the worker's name (its hostname), not a token per claim. The fence then
//! tells workers apart but not two claims of one worker, nor a worker and its replacement
//! under the same name: when a job's lease runs out under one claim and the same worker
//! claims it again in another slot, the stale claim's `complete` still matches. Only a
//! worker that runs several claims at once reaches it (issue 13's concurrent claims). Its
//! fence is the owner alone (`owner_only_fence`): the reference's fence also compares the
//! attempt count, which would hide the name.

use super::queue_support::{owner_only_fence, QueuePatch};
use alarmsim_scheduler::queue::{ClaimedJob, Db, FailOutcome, JobQueue, QueueError, SqliteQueue};

#[derive(Default)]
pub struct OwnerIsHostname;

impl QueuePatch for OwnerIsHostname {
    async fn claim<D: Db>(&mut self, q: &mut SqliteQueue, db: &mut D, owner: &str) -> Result<Option<ClaimedJob>, QueueError> {
        // The world names a claim `worker-0/3#7` (node, incarnation, claim); the mistake keeps
        // only the node.
        let hostname = owner.split('/').next().unwrap_or(owner);
        q.claim(db, hostname).await
    }

    async fn complete<D: Db>(&mut self, _q: &mut SqliteQueue, db: &mut D, job: &ClaimedJob) -> Result<(), QueueError> {
        owner_only_fence::complete(db, job).await
    }

    async fn fail<D: Db>(&mut self, q: &mut SqliteQueue, db: &mut D, job: &ClaimedJob, error: &str) -> Result<FailOutcome, QueueError> {
        owner_only_fence::fail(q, db, job, error).await
    }
}
