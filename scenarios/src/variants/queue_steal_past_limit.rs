//! Written from the promises with one mistake, in a common design: the claim also takes over
//! expired leases itself (`WHERE queued and due OR running and lease expired`), instead of
//! leaving them to a reclaim. It counts the lost attempt, as the promises ask, but it hands
//! the job out again even when that lost attempt was its last: a job that crashes its worker
//! every time runs `max_attempts + 1` times and more. Before the attempt limit was checked at
//! each claim (`retry-schedule`), this was seen only when the over-limit attempt failed too
//! and the job was dead-lettered with too many attempts; one that then succeeded passed.

use super::queue_support::{claim_with, QueuePatch};
use alarmsim_scheduler::queue::{ClaimedJob, Db, QueueError, SqliteQueue};

#[derive(Default)]
pub struct StealPastLimit;

impl QueuePatch for StealPastLimit {
    async fn claim<D: Db>(&mut self, q: &mut SqliteQueue, db: &mut D, owner: &str) -> Result<Option<ClaimedJob>, QueueError> {
        let lease_ms = q.config.lease_ms;
        claim_with(
            db,
            owner,
            "SELECT id, name, def, failed_attempts, scheduled_for, status FROM job_queue
             WHERE (status = :queued AND scheduled_for <= :now) OR (status = :running AND lease_until <= :now)
             ORDER BY scheduled_for, id LIMIT 1",
            // The lost attempt is counted; the mistake: no dead-letter when it was the last.
            |row, now| (row.attempts + u32::from(row.running), now + lease_ms),
        )
        .await
    }
}
