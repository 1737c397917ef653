//! Written from the claim promise with one mistake, the other one the reference's lock-free
//! look invites: the claim reads the due job without a lock (as the reference's look does),
//! then takes *that* job inside `BEGIN IMMEDIATE` without reading it again. The transaction
//! makes the UPDATE atomic, not the decision: two workers that looked at the same moment
//! both take the job the first of them already took.

use super::queue_support::QueuePatch;
use alarmsim_scheduler::queue::{run, status, ClaimedJob, Db, QueueError, SqliteQueue, Ulid};
use rusqlite::{params, OptionalExtension};

#[derive(Default)]
pub struct ClaimTrustsPeek;

impl QueuePatch for ClaimTrustsPeek {
    async fn claim<D: Db>(&mut self, q: &mut SqliteQueue, db: &mut D, owner: &str) -> Result<Option<ClaimedJob>, QueueError> {
        let seen = run(db, "claim: peek due", |c, now| {
            c.prepare_cached(
                "SELECT id, name, def, failed_attempts, scheduled_for FROM job_queue
                 WHERE status = ?1 AND scheduled_for <= ?2 ORDER BY scheduled_for, id LIMIT 1",
            )?
            .query_row(params![status::QUEUED, now as i64], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, i64>(3)? as u32, r.get::<_, i64>(4)? as u64))
            })
            .optional()
        })
        .await?;
        let Some((id, name, payload, attempts, scheduled_for_ms)) = seen else { return Ok(None) };
        let lease_ms = q.config.lease_ms;
        let lease_until_ms = SqliteQueue::immediate(db, "claim: begin immediate", async |db: &mut D| {
            // The mistake: the row is not read again now that the lock is held.
            run(db, "claim: update", |c, now| {
                c.prepare_cached("UPDATE job_queue SET status = ?1, owner = ?2, lease_until = ?3 WHERE id = ?4")?
                    .execute(params![status::RUNNING, owner, (now + lease_ms) as i64, id])
                    .map(|_| now + lease_ms)
            })
            .await
        })
        .await?;
        let id = Ulid::from_string(&id).map_err(|e| QueueError::Corrupt { id: id.clone(), detail: format!("not a ULID: {e}") })?;
        Ok(Some(ClaimedJob { id, name, payload, attempts, owner: owner.to_string(), lease_until_ms, scheduled_for_ms }))
    }
}
