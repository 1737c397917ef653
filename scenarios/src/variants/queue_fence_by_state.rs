//! A queue written from the promises in `scheduler/src/queue/mod.rs`, with one mistake: its
//! fence checks the job's *state*, not its owner token. `complete` and `fail` succeed while
//! the job is `running`, whoever runs it. Kleppmann's fencing case ("How to do distributed
//! locking"): a worker stalls past its lease, another worker takes the job over, and the
//! stale one wakes up and finishes a job it no longer owns. Only a pause long enough for the
//! job to be reclaimed, retried after its backoff and claimed again reaches it; a slow job
//! overruns its lease by seconds, and the 30 s backoff keeps the job queued that long.

use super::queue_support::QueuePatch;
use alarmsim_scheduler::queue::{run, status, ClaimedJob, Db, FailOutcome, QueueError, SqliteQueue};
use rusqlite::{params, OptionalExtension};

#[derive(Default)]
pub struct FenceByState;

impl QueuePatch for FenceByState {
    async fn complete<D: Db>(&mut self, _q: &mut SqliteQueue, db: &mut D, job: &ClaimedJob) -> Result<(), QueueError> {
        let id = job.id.to_string();
        let changed = run(db, "complete: update", |c, now| {
            // The mistake: `status = running` stands in for "my claim still holds".
            c.prepare_cached("UPDATE job_queue SET status = ?1, owner = NULL, lease_until = NULL, finished_at = ?2 WHERE id = ?3 AND status = ?4")?
                .execute(params![status::DONE, now as i64, id, status::RUNNING])
        })
        .await?;
        if changed == 0 {
            return Err(QueueError::Fenced { id, owner: job.owner.clone() });
        }
        Ok(())
    }

    async fn fail<D: Db>(&mut self, q: &mut SqliteQueue, db: &mut D, job: &ClaimedJob, error: &str) -> Result<FailOutcome, QueueError> {
        let id = job.id.to_string();
        let owner = job.owner.clone();
        let queue = q.clone();
        SqliteQueue::immediate(db, "fail: begin immediate", async |db: &mut D| {
            let attempts = run(db, "fail: check fence", |c, _| {
                c.prepare_cached("SELECT failed_attempts FROM job_queue WHERE id = ?1 AND status = ?2")?
                    .query_row(params![id, status::RUNNING], |r| Ok(r.get::<_, i64>(0)? as u32))
                    .optional()
            })
            .await?;
            match attempts {
                Some(attempts) => queue.record_failure(db, &id, attempts, error).await,
                None => Err(QueueError::Fenced { id: id.clone(), owner: owner.clone() }),
            }
        })
        .await
    }
}
