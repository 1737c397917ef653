//! Written from the claim promise with one mistake: the lease is counted from the job's due
//! time, not from the claim (`lease_until = scheduled_for + lease`, the one time the row
//! already holds). A job claimed on time gets nearly its whole lease; one claimed late (a
//! retry picked up after a busy spell, a job that waited for a free worker) gets less, or a
//! lease that has already ended, and a reclaim takes it from a worker still inside what it
//! was promised: the job runs twice at once. The fence works, so the late finisher is
//! rejected and every count adds up; only the lease check at the claim (`exclusive-claims`:
//! a lease ends no sooner than `lease_ms` after the claim began) sees it.

use super::queue_support::{claim_with, QueuePatch};
use alarmsim_scheduler::queue::{ClaimedJob, Db, QueueError, SqliteQueue};

#[derive(Default)]
pub struct LeaseFromDue;

impl QueuePatch for LeaseFromDue {
    async fn claim<D: Db>(&mut self, q: &mut SqliteQueue, db: &mut D, owner: &str) -> Result<Option<ClaimedJob>, QueueError> {
        let lease_ms = q.config.lease_ms;
        claim_with(
            db,
            owner,
            "SELECT id, name, def, failed_attempts, scheduled_for, status FROM job_queue
             WHERE status = :queued AND scheduled_for <= :now ORDER BY scheduled_for, id LIMIT 1",
            // The mistake: from the due time.
            |row, _now| (row.attempts, row.scheduled_for + lease_ms),
        )
        .await
    }
}
