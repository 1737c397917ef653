//! The guide's job-queue example (docs/TEST_YOUR_SCHEDULER.md, "Test your own job queue"):
//! a queue written outside the reference that claims with one `UPDATE … RETURNING`
//! statement (DGW's claim, plus a lease and an owner) instead of a `BEGIN IMMEDIATE`
//! transaction, plugged into the simulator and run through the whole queue catalog.
//!
//! A single statement is atomic in SQLite, so this design is as safe as the reference's
//! transaction; the catalog agrees. Drop the `status = ?` condition from the inner SELECT's
//! WHERE and the catalog fails it at once (exclusive-claims): try it.

mod support;

use alarmsim_scheduler::queue::{run, status, ClaimedJob, Db, FailOutcome, JobQueue, NewJob, QueueConfig, QueueError, Reclaimed, SqliteQueue, Ulid, Wakeup};
use alarmsim_sim::queue::{QueueFactory, QueueVariant};
use alarmsim_sim::sweep::{assert_catalog_passes, seeds_from_env};
use rusqlite::{params, OptionalExtension};
use std::sync::Arc;

/// One-statement claims; everything else as the reference.
pub struct OneStatementClaims {
    reference: SqliteQueue,
}

impl JobQueue for OneStatementClaims {
    fn with_config(config: QueueConfig) -> Self {
        OneStatementClaims { reference: SqliteQueue::with_config(config) }
    }

    async fn open<D: Db>(&mut self, db: &mut D) -> Result<Vec<Reclaimed>, QueueError> {
        self.reference.open(db).await
    }

    async fn enqueue<D: Db>(&mut self, db: &mut D, job: NewJob) -> Result<(), QueueError> {
        self.reference.enqueue(db, job).await
    }

    async fn claim<D: Db>(&mut self, db: &mut D, owner: &str) -> Result<Option<ClaimedJob>, QueueError> {
        let lease_ms = self.reference.config.lease_ms;
        let row = run(db, "claim: update returning", |c, now| {
            c.prepare_cached(
                "UPDATE job_queue SET status = ?1, owner = ?2, lease_until = ?3
                 WHERE id = (SELECT id FROM job_queue WHERE status = ?4 AND scheduled_for <= ?5 ORDER BY scheduled_for, id LIMIT 1)
                 RETURNING id, name, def, failed_attempts, scheduled_for, lease_until",
            )?
            .query_row(params![status::RUNNING, owner, (now + lease_ms) as i64, status::QUEUED, now as i64], |r| {
                Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get::<_, i64>(3)?, r.get::<_, i64>(4)?, r.get::<_, i64>(5)?))
            })
            .optional()
        })
        .await?;
        let Some((id, name, payload, attempts, scheduled_for, lease_until)) = row else { return Ok(None) };
        let id = Ulid::from_string(&id).map_err(|e| QueueError::Corrupt { id: id.clone(), detail: e.to_string() })?;
        Ok(Some(ClaimedJob {
            id,
            name,
            payload,
            attempts: attempts as u32,
            owner: owner.to_string(),
            lease_until_ms: lease_until as u64,
            scheduled_for_ms: scheduled_for as u64,
        }))
    }

    async fn complete<D: Db>(&mut self, db: &mut D, job: &ClaimedJob) -> Result<(), QueueError> {
        self.reference.complete(db, job).await
    }

    async fn fail<D: Db>(&mut self, db: &mut D, job: &ClaimedJob, error: &str) -> Result<FailOutcome, QueueError> {
        self.reference.fail(db, job, error).await
    }

    async fn reclaim_expired<D: Db>(&mut self, db: &mut D) -> Result<Vec<Reclaimed>, QueueError> {
        self.reference.reclaim_expired(db).await
    }

    async fn wakeup<D: Db>(&mut self, db: &mut D) -> Result<Wakeup, QueueError> {
        self.reference.wakeup(db).await
    }
}

#[test]
fn a_one_statement_claim_queue_passes_the_queue_catalog() {
    let factory: Arc<dyn QueueFactory> = Arc::new(QueueVariant::<OneStatementClaims>::new("one-statement-claims", "claims with UPDATE … RETURNING"));
    let seeds = seeds_from_env(0, 100);
    assert_catalog_passes(&alarmsim_scenarios::queue_scenarios(), factory, &seeds, "custom_queue");
}

/// docs/TEST_YOUR_SCHEDULER.md quotes this file (section 9): every block it marks as an
/// excerpt of it must appear here verbatim.
#[test]
fn the_guide_quotes_this_file_verbatim() {
    support::assert_guide_quotes("custom_queue.rs", include_str!("custom_queue.rs"), 2);
}
