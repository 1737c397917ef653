//! Written from the reclaim promise with one mistake: the expired leases are read, then each
//! is requeued, as separate autocommit statements (a maintenance loop written like a batch
//! job). Between the read and a write, the holder may finish the job, or another process may
//! reclaim it first: the requeue then overwrites a finished job or counts the lost attempt a
//! second time. The per-row writes do not re-check that the lease is still the one read.

use super::queue_support::QueuePatch;
use alarmsim_scheduler::queue::{run, status, Db, QueueError, Reclaimed, SqliteQueue, Ulid};
use rusqlite::params;

#[derive(Default)]
pub struct ReclaimWithoutTransaction;

impl QueuePatch for ReclaimWithoutTransaction {
    async fn reclaim_expired<D: Db>(&mut self, q: &mut SqliteQueue, db: &mut D) -> Result<Vec<Reclaimed>, QueueError> {
        // The mistake: no `BEGIN IMMEDIATE` around the read and the writes.
        let (expired, read_at_ms) = run(db, "reclaim: select expired", |c, now| {
            let mut stmt = c.prepare_cached("SELECT id, owner, failed_attempts FROM job_queue WHERE status = ?1 AND lease_until <= ?2 ORDER BY lease_until, id")?;
            let rows = stmt.query_map(params![status::RUNNING, now as i64], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?.unwrap_or_default(), r.get::<_, i64>(2)? as u32)))?;
            Ok((rows.collect::<rusqlite::Result<Vec<_>>>()?, now))
        })
        .await?;
        let mut reclaimed = Vec::with_capacity(expired.len());
        for (id, stale_owner, attempts) in expired {
            let outcome = q.record_failure(db, &id, attempts, "lease expired").await?;
            let id = Ulid::from_string(&id).map_err(|e| QueueError::Corrupt { id: id.clone(), detail: format!("not a ULID: {e}") })?;
            reclaimed.push(Reclaimed { id, stale_owner, outcome, read_at_ms });
        }
        Ok(reclaimed)
    }
}
