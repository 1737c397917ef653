//! Devolutions gateway PR #1108: on start, `reset_claimed_jobs` moves every Running row back
//! to Queued without touching `failed_attempts`. The attempt that was running is never
//! counted, so a job that crashes its process is retried forever; and with more than one
//! process it also takes jobs away from live workers.

use super::queue_support::QueuePatch;
use alarmsim_scheduler::queue::schema::migrate_atomically;
use alarmsim_scheduler::queue::{run, status, Db, QueueError, Reclaimed, SqliteQueue};
use rusqlite::params;

#[derive(Default)]
pub struct RequeueWithoutCount;

impl QueuePatch for RequeueWithoutCount {
    async fn open<D: Db>(&mut self, _q: &mut SqliteQueue, db: &mut D) -> Result<Vec<Reclaimed>, QueueError> {
        migrate_atomically(db).await?;
        run(db, "reset claimed jobs", |c, _| {
            c.execute("UPDATE job_queue SET status = ?1, owner = NULL, lease_until = NULL WHERE status = ?2", params![status::QUEUED, status::RUNNING])
        })
        .await?;
        Ok(Vec::new())
    }
}
