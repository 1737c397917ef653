//! A queue written from the promises in `scheduler/src/queue/mod.rs`, with one mistake: a
//! failed INSERT is logged and the enqueue still answers Ok ("the database hiccuped; the
//! caller should not fail for that"). The producer believes a job is durable that was never
//! written. Under the old world no statement ever failed and BUSY was retried for ever, so
//! nothing reached the error path.

use super::queue_support::QueuePatch;
use alarmsim_scheduler::queue::{Db, NewJob, QueueError, SqliteQueue};

#[derive(Default)]
pub struct EnqueueSwallowsErrors;

impl QueuePatch for EnqueueSwallowsErrors {
    async fn enqueue<D: Db>(&mut self, _q: &mut SqliteQueue, db: &mut D, job: NewJob) -> Result<(), QueueError> {
        let _logged = SqliteQueue::insert(db, &job).await;
        Ok(())
    }
}
