//! A queue written from the promises in `scheduler/src/queue/mod.rs`, with one mistake:
//! `complete` treats every error but a lost fence as done ("the job ran; bookkeeping can
//! fail"). When the UPDATE fails the row stays `running`, its lease expires, a reclaim
//! counts a lost attempt and the job runs again after the worker was told it was done.
//! The fence is kept, so only a statement that fails (or stays busy past the busy timeout)
//! reaches the mistake.

use super::queue_support::QueuePatch;
use alarmsim_scheduler::queue::{ClaimedJob, Db, JobQueue, QueueError, SqliteQueue};

#[derive(Default)]
pub struct CompleteSwallowsErrors;

impl QueuePatch for CompleteSwallowsErrors {
    async fn complete<D: Db>(&mut self, q: &mut SqliteQueue, db: &mut D, job: &ClaimedJob) -> Result<(), QueueError> {
        match q.complete(db, job).await {
            Err(e) if !e.is_fenced() => Ok(()),
            outcome => outcome,
        }
    }
}
