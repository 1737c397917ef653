//! A queue written from the promises in `scheduler/src/queue/mod.rs`, with one mistake: it
//! treats its lease as the lock. While the worker's own clock says its lease still runs,
//! `complete` and `fail` skip the owner check ("nobody else can have the job before my lease
//! ends"); only after it do they fence by owner. Kleppmann's point about timing-based
//! safety ("How to do distributed locking"): the reclaiming process judges the lease on *its*
//! clock, and when that clock runs ahead of the holder's, the job is taken back while the
//! holder still believes in its lease. A pause cannot reach it (the check reads the clock
//! in the very statement that writes), a slow job finishes after its lease on every clock;
//! only clock skew between processes does (issue 13 item 3).

use super::queue_support::{complete_with, fail_with, QueuePatch};
use alarmsim_scheduler::queue::{status, ClaimedJob, Db, FailOutcome, QueueError, SqliteQueue};
use rusqlite::{params, OptionalExtension};

#[derive(Default)]
pub struct LeaseIsTheFence;

impl QueuePatch for LeaseIsTheFence {
    async fn complete<D: Db>(&mut self, _q: &mut SqliteQueue, db: &mut D, job: &ClaimedJob) -> Result<(), QueueError> {
        let id = job.id.to_string();
        complete_with(db, job, |c, now| {
            if now < job.lease_until_ms {
                // The mistake: inside my lease the job is mine, so no fence is needed.
                c.prepare_cached("UPDATE job_queue SET status = ?1, owner = NULL, lease_until = NULL, finished_at = ?2 WHERE id = ?3")?
                    .execute(params![status::DONE, now as i64, id])
            } else {
                // Past it, the reference's fence (owner and attempt count).
                c.prepare_cached("UPDATE job_queue SET status = ?1, owner = NULL, lease_until = NULL, finished_at = ?2 WHERE id = ?3 AND status = ?4 AND owner = ?5 AND failed_attempts = ?6")?
                    .execute(params![status::DONE, now as i64, id, status::RUNNING, job.owner, job.attempts])
            }
        })
        .await
    }

    async fn fail<D: Db>(&mut self, q: &mut SqliteQueue, db: &mut D, job: &ClaimedJob, error: &str) -> Result<FailOutcome, QueueError> {
        let id = job.id.to_string();
        fail_with(q, db, job, error, |c, now| {
            if now < job.lease_until_ms {
                // The same mistake: inside my lease, the row is mine whatever it says.
                c.prepare_cached("SELECT failed_attempts FROM job_queue WHERE id = ?1")?.query_row(params![id], |r| Ok(r.get::<_, i64>(0)? as u32)).optional()
            } else {
                c.prepare_cached("SELECT failed_attempts FROM job_queue WHERE id = ?1 AND status = ?2 AND owner = ?3 AND failed_attempts = ?4")?
                    .query_row(params![id, status::RUNNING, job.owner, job.attempts], |r| Ok(r.get::<_, i64>(0)? as u32))
                    .optional()
            }
        })
        .await
    }
}
