//! A queue written from the promises in `scheduler/src/queue/mod.rs`, with one mistake: its
//! fence is the owner string alone. Right while the caller names every claim uniquely (the
//! world's default tokens, `worker-0/3#7`), wrong when owners are worker names, as a pod or
//! host name is: a worker's concurrent claims share it, and so does the process a supervisor
//! starts under the same name. A claim whose lease ran out then finishes a job its own
//! worker has claimed again, and the fence cannot tell the two claims apart. Only the world's
//! per-name owners (issue 13 item 2, `same_name_owners`) reach it; this was the reference's
//! own fence until they existed.

use super::queue_support::{owner_only_fence, QueuePatch};
use alarmsim_scheduler::queue::{ClaimedJob, Db, FailOutcome, QueueError, SqliteQueue};

#[derive(Default)]
pub struct FenceByOwner;

impl QueuePatch for FenceByOwner {
    async fn complete<D: Db>(&mut self, _q: &mut SqliteQueue, db: &mut D, job: &ClaimedJob) -> Result<(), QueueError> {
        owner_only_fence::complete(db, job).await
    }

    async fn fail<D: Db>(&mut self, q: &mut SqliteQueue, db: &mut D, job: &ClaimedJob, error: &str) -> Result<FailOutcome, QueueError> {
        owner_only_fence::fail(q, db, job, error).await
    }
}
