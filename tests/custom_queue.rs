//! The guide's job-queue example (docs/TEST_YOUR_SCHEDULER.md, "Test your own job queue"):
//! a queue written outside the reference that claims with one `UPDATE … RETURNING`
//! statement (DGW's claim, plus a lease and an owner) instead of a `BEGIN IMMEDIATE`
//! transaction, plugged into the simulator and run through the whole queue catalog.
//!
//! A single statement is atomic in SQLite, so this design is as safe as the reference's
//! transaction, provided the statement is stepped to its end (its commit happens there; see
//! the comment in `claim`). The catalog agrees. Drop the `status = ?` condition from the
//! inner SELECT's WHERE and the catalog fails it at once (exclusive-claims); read the row
//! with `query_row` instead and `queue-standard` fails it through a failed commit: try both.

mod support;

use alarmsim_scheduler::queue::{run, status, ClaimedJob, Db, FailOutcome, JobQueue, NewJob, QueueConfig, QueueError, Reclaimed, SqliteQueue, Ulid, Wakeup};
use alarmsim_sim::queue::{QueueFactory, QueueVariant};
use alarmsim_sim::sweep::{assert_catalog_passes, seeds_from_env};
use rusqlite::params;
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
            // Step to the end, not `query_row`: the UPDATE commits when the statement finishes,
            // after its row was returned, and only the last step reports a failed commit.
            let mut rows: Vec<(String, String, String, i64, i64, i64)> = c
                .prepare_cached(
                    "UPDATE job_queue SET status = ?1, owner = ?2, lease_until = ?3
                     WHERE id = (SELECT id FROM job_queue WHERE status = ?4 AND scheduled_for <= ?5 ORDER BY scheduled_for, id LIMIT 1)
                     RETURNING id, name, def, failed_attempts, scheduled_for, lease_until",
                )?
                .query_map(params![status::RUNNING, owner, (now + lease_ms) as i64, status::QUEUED, now as i64], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
                })?
                .collect::<rusqlite::Result<_>>()?;
            Ok(rows.pop())
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

/// The reference, except that `open` runs one more statement after the migrations, and
/// that statement is broken: `open` fails although every migration step succeeded.
pub struct OpenWarmsACache {
    reference: SqliteQueue,
}

impl JobQueue for OpenWarmsACache {
    fn with_config(config: QueueConfig) -> Self {
        OpenWarmsACache { reference: SqliteQueue::with_config(config) }
    }
    async fn open<D: Db>(&mut self, db: &mut D) -> Result<Vec<Reclaimed>, QueueError> {
        let reclaimed = self.reference.open(db).await?;
        run(db, "open: warm the cache", |c, _| c.prepare_cached("SELECT count(*) FROM job_cache")?.query_row([], |r| r.get::<_, i64>(0))).await?;
        Ok(reclaimed)
    }
    async fn enqueue<D: Db>(&mut self, db: &mut D, job: NewJob) -> Result<(), QueueError> {
        self.reference.enqueue(db, job).await
    }
    async fn claim<D: Db>(&mut self, db: &mut D, owner: &str) -> Result<Option<ClaimedJob>, QueueError> {
        self.reference.claim(db, owner).await
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

/// A failure of `open` after the migrations is `open-fails`, naming the statement; it is not
/// blamed on the migrations (`migration-safe` is only for a failed migration step).
#[test]
fn an_open_that_fails_after_its_migrations_is_open_fails_not_migration_safe() {
    let factory = QueueVariant::<OpenWarmsACache>::new("open-warms-a-cache", "open fails after migrating");
    let spec = alarmsim_scenarios::scenario("queue-standard").expect("a catalog scenario").without_queue_faults();
    let report = alarmsim_sim::queue::run_seed(&spec, &factory, 0, false);
    let violation = report.violation.expect("a broken open must be reported");
    assert_eq!(violation.invariant, alarmsim_sim::Invariant::OpenFails, "{violation}");
    assert!(violation.message.contains("`open: warm the cache`"), "the report must name the failing statement: {violation}");
}

/// docs/TEST_YOUR_SCHEDULER.md quotes this file (section 9): every block it marks as an
/// excerpt of it must appear here verbatim.
#[test]
fn the_guide_quotes_this_file_verbatim() {
    support::assert_guide_quotes("custom_queue.rs", include_str!("custom_queue.rs"), 2);
}
