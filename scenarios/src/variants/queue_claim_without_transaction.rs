//! fang's async claim (`fetch_and_touch_task_query`, queue-anchors.md §3): SELECT the due
//! job, then UPDATE it, as two statements with no transaction around them. Two workers can
//! both select the same job before either updates it, and both run it.

use super::queue_support::QueuePatch;
use alarmsim_scheduler::queue::{ClaimedJob, Db, QueueError, SqliteQueue};

#[derive(Default)]
pub struct ClaimWithoutTransaction;

impl QueuePatch for ClaimWithoutTransaction {
    async fn claim<D: Db>(&mut self, q: &mut SqliteQueue, db: &mut D, owner: &str) -> Result<Option<ClaimedJob>, QueueError> {
        SqliteQueue::claim_statements(db, owner, q.config.lease_ms).await
    }
}
