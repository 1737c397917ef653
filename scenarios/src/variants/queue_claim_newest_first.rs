//! Written from the claim promise with one mistake: the claim takes the *latest* due job
//! (`ORDER BY scheduled_for DESC`, as a user who wants fresh work first, or who copied a
//! "recent first" listing query, would write). Everything else is right: one transaction,
//! a lease, a per-claim owner. Every job still runs once the load stops, so no invariant
//! about states or counts sees it; under steady load an old job waits behind every newer
//! one. Only `claim-order` catches it (no checker owned the order of claims before).

use super::queue_support::{claim_with, QueuePatch};
use alarmsim_scheduler::queue::{ClaimedJob, Db, QueueError, SqliteQueue};

#[derive(Default)]
pub struct ClaimNewestFirst;

impl QueuePatch for ClaimNewestFirst {
    async fn claim<D: Db>(&mut self, q: &mut SqliteQueue, db: &mut D, owner: &str) -> Result<Option<ClaimedJob>, QueueError> {
        let lease_ms = q.config.lease_ms;
        claim_with(
            db,
            owner,
            // The mistake: DESC.
            "SELECT id, name, def, failed_attempts, scheduled_for, status FROM job_queue
             WHERE status = :queued AND scheduled_for <= :now ORDER BY scheduled_for DESC, id LIMIT 1",
            |row, now| (row.attempts, now + lease_ms),
        )
        .await
    }
}
