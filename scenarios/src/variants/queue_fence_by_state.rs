//! A queue written from the promises in `scheduler/src/queue/mod.rs`, with one mistake: its
//! fence checks the job's *state*, not its owner token. `complete` and `fail` succeed while
//! the job is `running`, whoever runs it. Kleppmann's fencing case ("How to do distributed
//! locking"): a worker stalls past its lease, another worker takes the job over, and the
//! stale one wakes up and finishes a job it no longer owns. Only a pause long enough for the
//! job to be reclaimed, retried after its backoff and claimed again reaches it; a slow job
//! overruns its lease by seconds, and the 30 s backoff keeps the job queued that long.

use super::queue_support::{complete_with, fail_with, QueuePatch};
use alarmsim_scheduler::queue::{status, ClaimedJob, Db, FailOutcome, QueueError, SqliteQueue};
use rusqlite::{params, OptionalExtension};

#[derive(Default)]
pub struct FenceByState;

impl QueuePatch for FenceByState {
    async fn complete<D: Db>(&mut self, _q: &mut SqliteQueue, db: &mut D, job: &ClaimedJob) -> Result<(), QueueError> {
        let id = job.id.to_string();
        complete_with(db, job, |c, now| {
            // The mistake: `status = running` stands in for "my claim still holds".
            c.prepare_cached("UPDATE job_queue SET status = ?1, owner = NULL, lease_until = NULL, finished_at = ?2 WHERE id = ?3 AND status = ?4")?
                .execute(params![status::DONE, now as i64, id, status::RUNNING])
        })
        .await
    }

    async fn fail<D: Db>(&mut self, q: &mut SqliteQueue, db: &mut D, job: &ClaimedJob, error: &str) -> Result<FailOutcome, QueueError> {
        let id = job.id.to_string();
        fail_with(q, db, job, error, |c, _| {
            c.prepare_cached("SELECT failed_attempts FROM job_queue WHERE id = ?1 AND status = ?2")?
                .query_row(params![id, status::RUNNING], |r| Ok(r.get::<_, i64>(0)? as u32))
                .optional()
        })
        .await
    }
}
