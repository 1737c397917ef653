//! The reference queue: every promise of the module docs, statement by statement.

use super::db::{run, Db};
use super::error::QueueError;
use super::schema::migrate_atomically;
use super::{retry_delay_ms, status, ClaimedJob, FailOutcome, JobQueue, NewJob, QueueConfig, Reclaimed, Ulid, Wakeup};
use crate::probe::queue as probe;
use rusqlite::{params, Connection, OptionalExtension};

/// The reference job queue.
#[derive(Clone, Debug)]
pub struct SqliteQueue {
    pub config: QueueConfig,
}

/// A job row as the claim reads it.
struct DueRow {
    id: String,
    name: String,
    def: String,
    attempts: u32,
    scheduled_for: u64,
}

pub(crate) fn parse_id(id: &str) -> Result<Ulid, QueueError> {
    Ulid::from_string(id).map_err(|e| QueueError::Corrupt { id: id.to_string(), detail: format!("not a ULID: {e}") })
}

impl SqliteQueue {
    /// The INSERT of [`JobQueue::enqueue`], for variants that defer it.
    pub async fn insert<D: Db>(db: &mut D, job: &NewJob) -> Result<(), QueueError> {
        let id = job.id.to_string();
        run(db, "enqueue: insert", |c, now| {
            c.prepare_cached(
                "INSERT INTO job_queue (id, created_at, scheduled_for, failed_attempts, status, name, def)
                 VALUES (?1, ?2, ?3, 0, ?4, ?5, ?6)",
            )?
            .execute(params![id, now as i64, job.scheduled_for_ms as i64, status::QUEUED, job.name, job.payload])
        })
        .await?;
        Ok(())
    }

    /// The earliest due queued job (read inside or outside a transaction).
    async fn select_due<D: Db>(db: &mut D) -> Result<Option<(DueRow, u64)>, QueueError> {
        run(db, "claim: select due", |c, now| {
            c.prepare_cached(
                "SELECT id, name, def, failed_attempts, scheduled_for FROM job_queue
                 WHERE status = ?1 AND scheduled_for <= ?2 ORDER BY scheduled_for, id LIMIT 1",
            )?
            .query_row(
                params![status::QUEUED, now as i64],
                |r| {
                    Ok(DueRow {
                        id: r.get(0)?,
                        name: r.get(1)?,
                        def: r.get(2)?,
                        attempts: r.get::<_, i64>(3)? as u32,
                        scheduled_for: r.get::<_, i64>(4)? as u64,
                    })
                },
            )
            .optional()
            .map(|row| row.map(|row| (row, now)))
        })
        .await
    }

    /// Whether a queued job is due, read without a lock (a hint: see `claim`).
    async fn peek_due<D: Db>(db: &mut D) -> Result<Option<()>, QueueError> {
        run(db, "claim: peek due", |c, now| {
            c.prepare_cached("SELECT 1 FROM job_queue WHERE status = ?1 AND scheduled_for <= ?2 LIMIT 1")?
                .query_row(params![status::QUEUED, now as i64], |_| Ok(()))
                .optional()
        })
        .await
    }

    /// Marks `row` running for `owner` (unconditionally: the caller holds the write lock).
    async fn take<D: Db>(db: &mut D, row: DueRow, owner: &str, lease_ms: u64) -> Result<ClaimedJob, QueueError> {
        let lease_until = run(db, "claim: update", |c, now| {
            let lease_until = now + lease_ms;
            c.prepare_cached(
                "UPDATE job_queue SET status = ?1, owner = ?2, lease_until = ?3 WHERE id = ?4",
            )?
            .execute(params![status::RUNNING, owner, lease_until as i64, row.id])?;
            Ok(lease_until)
        })
        .await?;
        Ok(ClaimedJob {
            id: parse_id(&row.id)?,
            name: row.name,
            payload: row.def,
            attempts: row.attempts,
            owner: owner.to_string(),
            lease_until_ms: lease_until,
            scheduled_for_ms: row.scheduled_for,
        })
    }

    /// The claim of `SELECT` then `UPDATE`, for variants that drop the transaction.
    pub async fn claim_statements<D: Db>(db: &mut D, owner: &str, lease_ms: u64) -> Result<Option<ClaimedJob>, QueueError> {
        match Self::select_due(db).await? {
            Some((row, _)) => {
                if row.attempts > 0 {
                    db.probe(&probe::CLAIM_RETRY);
                }
                Ok(Some(Self::take(db, row, owner, lease_ms).await?))
            }
            None => {
                db.probe(&probe::CLAIM_EMPTY);
                Ok(None)
            }
        }
    }

    /// Counts a lost or failed attempt of the running job `id` (whose fence the caller
    /// checked inside the same transaction): queue it again with backoff, or dead-letter it.
    pub async fn record_failure<D: Db>(&self, db: &mut D, id: &str, attempts_before: u32, error: &str) -> Result<FailOutcome, QueueError> {
        let attempts = attempts_before + 1;
        if attempts >= self.config.max_attempts {
            run(db, "fail: dead-letter insert", |c, now| {
                c.prepare_cached(
                    "INSERT INTO dead_letter (id, name, def, attempts, last_error, died_at)
                     SELECT id, name, def, ?2, ?3, ?4 FROM job_queue WHERE id = ?1",
                )?
                .execute(params![id, attempts, error, now as i64])
            })
            .await?;
            run(db, "fail: dead-letter delete", |c, _| c.prepare_cached("DELETE FROM job_queue WHERE id = ?1")?.execute(params![id])).await?;
            return Ok(FailOutcome::Dead { attempts });
        }
        let base = self.config.backoff_base_ms;
        let at_ms = run(db, "fail: requeue", |c, now| {
            let at = now + retry_delay_ms(base, attempts);
            c.prepare_cached(
                "UPDATE job_queue SET status = ?1, failed_attempts = ?2, scheduled_for = ?3, owner = NULL, lease_until = NULL
                 WHERE id = ?4",
            )?
            .execute(params![status::QUEUED, attempts, at as i64, id])?;
            Ok(at)
        })
        .await?;
        Ok(FailOutcome::Retry { at_ms, attempts })
    }

    /// Begins an immediate transaction, runs `body`, commits on success and rolls back on error.
    ///
    /// A COMMIT can fail too (`SQLITE_FULL`, `SQLITE_IOERR`, `SQLITE_BUSY`). SQLite then may
    /// or may not have ended the transaction; if it is still open it is rolled back here, or
    /// the connection's next statement would run inside it and the next `BEGIN` would fail
    /// for ever. Either way the operation failed: nothing of it is durable.
    pub async fn immediate<D: Db, T>(db: &mut D, op: &'static str, body: impl AsyncFnOnce(&mut D) -> Result<T, QueueError>) -> Result<T, QueueError> {
        run(db, op, |c, _| c.prepare_cached("BEGIN IMMEDIATE")?.execute([]).map(drop)).await?;
        let outcome = match body(db).await {
            Ok(value) => run(db, "commit", |c, _| c.prepare_cached("COMMIT")?.execute([]).map(drop)).await.map(|()| value),
            Err(e) => Err(e),
        };
        if outcome.is_err() && !db.conn().is_autocommit() {
            run(db, "rollback", |c, _| c.prepare_cached("ROLLBACK")?.execute([]).map(drop)).await?;
        }
        outcome
    }

    /// The attempts of `id` if `owner`'s claim still holds.
    /// The job's attempts if `job`'s claim still holds it. The fence is the owner *and* the
    /// attempt count the claim read: owners may repeat (a worker's concurrent claims and its
    /// restarts share its name), but every take-over (a reclaim, a failure) counts an attempt,
    /// so the count is a fencing token per claim (Kleppmann's monotonic token).
    fn fenced_attempts(c: &Connection, job: &ClaimedJob) -> rusqlite::Result<Option<u32>> {
        c.prepare_cached(
            "SELECT failed_attempts FROM job_queue WHERE id = ?1 AND status = ?2 AND owner = ?3 AND failed_attempts = ?4",
        )?
        .query_row(
            params![job.id.to_string(), status::RUNNING, job.owner, job.attempts],
            |r| Ok(r.get::<_, i64>(0)? as u32),
        )
        .optional()
    }
}

impl JobQueue for SqliteQueue {
    fn probes() -> Vec<&'static crate::probe::Probe> {
        probe::ALL.to_vec()
    }

    fn with_config(config: QueueConfig) -> Self {
        assert!(config.max_attempts >= 1 && config.lease_ms > 0, "a queue needs a lease and at least one attempt");
        SqliteQueue { config }
    }

    async fn open<D: Db>(&mut self, db: &mut D) -> Result<Vec<Reclaimed>, QueueError> {
        migrate_atomically(db).await?;
        self.reclaim_expired(db).await
    }

    async fn enqueue<D: Db>(&mut self, db: &mut D, job: NewJob) -> Result<(), QueueError> {
        Self::insert(db, &job).await
    }

    async fn claim<D: Db>(&mut self, db: &mut D, owner: &str) -> Result<Option<ClaimedJob>, QueueError> {
        // Most claims find nothing due (idle workers polling): look without a lock first,
        // and take the write lock only when there is something to claim. The look decides
        // nothing: the claim re-reads under the lock, where another worker may have taken
        // the job meanwhile.
        if Self::peek_due(db).await?.is_none() {
            db.probe(&probe::CLAIM_EMPTY);
            return Ok(None);
        }
        let lease_ms = self.config.lease_ms;
        Self::immediate(db, "claim: begin immediate", async |db: &mut D| Self::claim_statements(db, owner, lease_ms).await).await
    }

    async fn complete<D: Db>(&mut self, db: &mut D, job: &ClaimedJob) -> Result<(), QueueError> {
        let id = job.id.to_string();
        let changed = run(db, "complete: update", |c, now| {
            c.prepare_cached(
                "UPDATE job_queue SET status = ?1, owner = NULL, lease_until = NULL, finished_at = ?2
                 WHERE id = ?3 AND status = ?4 AND owner = ?5 AND failed_attempts = ?6",
            )?
            // The fence: owner and attempt count (`fenced_attempts` says why both).
            .execute(params![status::DONE, now as i64, id, status::RUNNING, job.owner, job.attempts])
        })
        .await?;
        if changed == 0 {
            db.probe(&probe::COMPLETE_FENCED);
            return Err(QueueError::Fenced { id, owner: job.owner.clone() });
        }
        Ok(())
    }

    async fn fail<D: Db>(&mut self, db: &mut D, job: &ClaimedJob, error: &str) -> Result<FailOutcome, QueueError> {
        let id = job.id.to_string();
        let owner = job.owner.clone();
        Self::immediate(db, "fail: begin immediate", async |db: &mut D| {
            let attempts = run(db, "fail: check fence", |c, _| Self::fenced_attempts(c, job)).await?;
            match attempts {
                Some(attempts) => {
                    let outcome = self.record_failure(db, &id, attempts, error).await?;
                    if matches!(outcome, FailOutcome::Dead { .. }) {
                        db.probe(&probe::FAIL_DEAD_LETTER);
                    }
                    Ok(outcome)
                }
                None => {
                    db.probe(&probe::FAIL_FENCED);
                    Err(QueueError::Fenced { id: id.clone(), owner: owner.clone() })
                }
            }
        })
        .await
    }

    async fn reclaim_expired<D: Db>(&mut self, db: &mut D) -> Result<Vec<Reclaimed>, QueueError> {
        Self::immediate(db, "reclaim: begin immediate", async |db: &mut D| {
            let (expired, read_at_ms) = run(db, "reclaim: select expired", |c, now| {
                let mut stmt = c.prepare_cached(
                    "SELECT id, owner, failed_attempts FROM job_queue
                     WHERE status = ?1 AND lease_until <= ?2 ORDER BY lease_until, id",
                )?;
                let rows = stmt.query_map(params![status::RUNNING, now as i64], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?.unwrap_or_default(), r.get::<_, i64>(2)? as u32))
                })?;
                Ok((rows.collect::<rusqlite::Result<Vec<_>>>()?, now))
            })
            .await?;
            let mut reclaimed = Vec::with_capacity(expired.len());
            for (id, stale_owner, attempts) in expired {
                db.probe(&probe::RECLAIM_EXPIRED);
                let outcome = self.record_failure(db, &id, attempts, "lease expired: the worker crashed or the job outlived its lease").await?;
                if matches!(outcome, FailOutcome::Dead { .. }) {
                    db.probe(&probe::RECLAIM_DEAD_LETTER);
                }
                reclaimed.push(Reclaimed { id: parse_id(&id)?, stale_owner, outcome, read_at_ms });
            }
            Ok(reclaimed)
        })
        .await
    }

    async fn wakeup<D: Db>(&mut self, db: &mut D) -> Result<Wakeup, QueueError> {
        run(db, "wakeup: select", |c, _| {
            c.prepare_cached(
                "SELECT (SELECT MIN(scheduled_for) FROM job_queue WHERE status = ?1),
                        (SELECT MIN(lease_until) FROM job_queue WHERE status = ?2)",
            )?
            .query_row(
                params![status::QUEUED, status::RUNNING],
                |r| {
                    Ok(Wakeup {
                        next_due_ms: r.get::<_, Option<i64>>(0)?.map(|v| v as u64),
                        next_lease_expiry_ms: r.get::<_, Option<i64>>(1)?.map(|v| v as u64),
                    })
                },
            )
        })
        .await
    }
}
