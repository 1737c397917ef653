//! A queue written from the promises in `scheduler/src/queue/mod.rs`, with one mistake: the
//! claim does not check its COMMIT (`let _ = tx.commit()`, a logged warning). When the commit
//! fails the transaction rolls back, the job stays queued, but the worker is handed the
//! claim and runs it. The claim never happened as far as the database knows: the attempt
//! is not counted and another worker may run the job at the same time. No commit fails
//! unless the world fails it.

use super::queue_support::QueuePatch;
use alarmsim_scheduler::queue::{run, ClaimedJob, Db, QueueError, SqliteQueue};

#[derive(Default)]
pub struct CommitUnchecked;

impl QueuePatch for CommitUnchecked {
    async fn claim<D: Db>(&mut self, q: &mut SqliteQueue, db: &mut D, owner: &str) -> Result<Option<ClaimedJob>, QueueError> {
        run(db, "claim: begin immediate", |c, _| c.prepare_cached("BEGIN IMMEDIATE")?.execute([]).map(drop)).await?;
        let claimed = match SqliteQueue::claim_statements(db, owner, q.config.lease_ms).await {
            Ok(claimed) => claimed,
            Err(e) => {
                run(db, "rollback", |c, _| c.prepare_cached("ROLLBACK")?.execute([]).map(drop)).await?;
                return Err(e);
            }
        };
        // The mistake: the commit's error is logged and dropped.
        if let Err(_logged) = run(db, "commit", |c, _| c.prepare_cached("COMMIT")?.execute([]).map(drop)).await {
            if !db.conn().is_autocommit() {
                run(db, "rollback", |c, _| c.prepare_cached("ROLLBACK")?.execute([]).map(drop)).await?;
            }
        }
        Ok(claimed)
    }
}
