//! Written from the enqueue promise with one mistake, a tuning tip followed: `open` sets
//! `PRAGMA synchronous = NORMAL` ("safe in WAL mode": it never corrupts the database, which
//! is true, and it is faster). Under NORMAL a commit is not synced when it returns, only at
//! the next checkpoint, so a power loss can take back an enqueue the queue already
//! acknowledged as durable, or a completion, and the job runs again
//! (queue-anchors.md: WAL with NORMAL vs FULL). The harness hands the queue a FULL
//! connection; the queue weakens it itself.

use super::queue_support::QueuePatch;
use alarmsim_scheduler::queue::{run, Db, JobQueue, QueueError, Reclaimed, SqliteQueue};

#[derive(Default)]
pub struct SynchronousNormal;

impl QueuePatch for SynchronousNormal {
    async fn open<D: Db>(&mut self, q: &mut SqliteQueue, db: &mut D) -> Result<Vec<Reclaimed>, QueueError> {
        // The mistake.
        run(db, "open: pragma synchronous", |c, _| c.pragma_update(None, "synchronous", "NORMAL")).await?;
        q.open(db).await
    }
}
