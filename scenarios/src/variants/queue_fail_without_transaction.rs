//! Written from the `fail` promise with one mistake: the fence check and the requeue are two
//! autocommit statements, not one transaction (the claim is in one, so the author thought the
//! rest safe). A reclaim that lands between them takes the job back and counts the lost
//! attempt; the stale `fail` is then accepted (`exclusive-claims`: a stale owner not fenced),
//! counting the same attempt again and requeueing the job over the reclaim's retry. fang's
//! claim had the same shape (`queue-claim-without-transaction`). No fault needed: a slow
//! attempt's lease runs out while it fails.

use super::queue_support::QueuePatch;
use alarmsim_scheduler::queue::{run, status, ClaimedJob, Db, FailOutcome, QueueError, SqliteQueue};
use rusqlite::{params, OptionalExtension};

#[derive(Default)]
pub struct FailWithoutTransaction;

impl QueuePatch for FailWithoutTransaction {
    async fn fail<D: Db>(&mut self, q: &mut SqliteQueue, db: &mut D, job: &ClaimedJob, error: &str) -> Result<FailOutcome, QueueError> {
        let id = job.id.to_string();
        // The mistake: no `BEGIN IMMEDIATE` around the check and the write.
        let attempts = run(db, "fail: check fence", |c, _| {
            c.prepare_cached("SELECT failed_attempts FROM job_queue WHERE id = ?1 AND status = ?2 AND owner = ?3 AND failed_attempts = ?4")?
                .query_row(params![id, status::RUNNING, job.owner, job.attempts], |r| Ok(r.get::<_, i64>(0)? as u32))
                .optional()
        })
        .await?;
        match attempts {
            Some(attempts) => q.record_failure(db, &id, attempts, error).await,
            None => Err(QueueError::Fenced { id, owner: job.owner.clone() }),
        }
    }
}
