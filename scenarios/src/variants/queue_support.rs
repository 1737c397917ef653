//! Hooks for job-queue bug variants: [`Patched`] runs the reference [`SqliteQueue`] and lets a
//! [`QueuePatch`] replace single operations. Every default is the reference's own code, so a
//! variant differs from the reference exactly where its bug did.

use alarmsim_scheduler::queue::{run, status, ClaimedJob, Db, FailOutcome, JobQueue, NewJob, QueueConfig, QueueError, Reclaimed, SqliteQueue, Ulid, Wakeup};
use rusqlite::{params, Connection};

/// The operations a variant may replace. `q` is the reference queue; `state` the variant's own.
#[allow(async_fn_in_trait)]
pub trait QueuePatch: Default {
    async fn open<D: Db>(&mut self, q: &mut SqliteQueue, db: &mut D) -> Result<Vec<Reclaimed>, QueueError> {
        q.open(db).await
    }

    async fn enqueue<D: Db>(&mut self, q: &mut SqliteQueue, db: &mut D, job: NewJob) -> Result<(), QueueError> {
        q.enqueue(db, job).await
    }

    async fn claim<D: Db>(&mut self, q: &mut SqliteQueue, db: &mut D, owner: &str) -> Result<Option<ClaimedJob>, QueueError> {
        q.claim(db, owner).await
    }

    async fn complete<D: Db>(&mut self, q: &mut SqliteQueue, db: &mut D, job: &ClaimedJob) -> Result<(), QueueError> {
        q.complete(db, job).await
    }

    async fn fail<D: Db>(&mut self, q: &mut SqliteQueue, db: &mut D, job: &ClaimedJob, error: &str) -> Result<FailOutcome, QueueError> {
        q.fail(db, job, error).await
    }

    async fn reclaim_expired<D: Db>(&mut self, q: &mut SqliteQueue, db: &mut D) -> Result<Vec<Reclaimed>, QueueError> {
        q.reclaim_expired(db).await
    }

    async fn background<D: Db>(&mut self, _q: &mut SqliteQueue, _db: &mut D) -> Result<(), QueueError> {
        Ok(())
    }

    fn has_background_work(&self) -> bool {
        false
    }
}

/// The reference queue with one patch applied.
pub struct Patched<P> {
    queue: SqliteQueue,
    patch: P,
}

impl<P: QueuePatch> JobQueue for Patched<P> {
    fn with_config(config: QueueConfig) -> Self {
        Patched { queue: SqliteQueue::with_config(config), patch: P::default() }
    }

    /// The reference's: a patch replaces single operations of it.
    fn probes() -> Vec<&'static alarmsim_scheduler::probe::Probe> {
        SqliteQueue::probes()
    }

    async fn open<D: Db>(&mut self, db: &mut D) -> Result<Vec<Reclaimed>, QueueError> {
        self.patch.open(&mut self.queue, db).await
    }

    async fn enqueue<D: Db>(&mut self, db: &mut D, job: NewJob) -> Result<(), QueueError> {
        self.patch.enqueue(&mut self.queue, db, job).await
    }

    async fn claim<D: Db>(&mut self, db: &mut D, owner: &str) -> Result<Option<ClaimedJob>, QueueError> {
        self.patch.claim(&mut self.queue, db, owner).await
    }

    async fn complete<D: Db>(&mut self, db: &mut D, job: &ClaimedJob) -> Result<(), QueueError> {
        self.patch.complete(&mut self.queue, db, job).await
    }

    async fn fail<D: Db>(&mut self, db: &mut D, job: &ClaimedJob, error: &str) -> Result<FailOutcome, QueueError> {
        self.patch.fail(&mut self.queue, db, job, error).await
    }

    async fn reclaim_expired<D: Db>(&mut self, db: &mut D) -> Result<Vec<Reclaimed>, QueueError> {
        self.patch.reclaim_expired(&mut self.queue, db).await
    }

    async fn wakeup<D: Db>(&mut self, db: &mut D) -> Result<Wakeup, QueueError> {
        self.queue.wakeup(db).await
    }

    async fn background<D: Db>(&mut self, db: &mut D) -> Result<(), QueueError> {
        self.patch.background(&mut self.queue, db).await
    }

    fn has_background_work(&self) -> bool {
        self.patch.has_background_work()
    }
}

/// `complete` with a variant's own UPDATE (`update` answers how many rows it changed): none
/// changed means the claim's fence no longer held.
pub async fn complete_with<D: Db>(db: &mut D, job: &ClaimedJob, update: impl FnMut(&Connection, u64) -> rusqlite::Result<usize>) -> Result<(), QueueError> {
    if run(db, "complete: update", update).await? == 0 {
        return Err(QueueError::Fenced { id: job.id.to_string(), owner: job.owner.clone() });
    }
    Ok(())
}

/// `fail` with a variant's own fence check (`check` answers the job's attempts while the
/// claim holds it): the check and the reference's `record_failure` in one `BEGIN IMMEDIATE`
/// transaction, as the reference's `fail` runs them.
pub async fn fail_with<D: Db>(
    q: &SqliteQueue,
    db: &mut D,
    job: &ClaimedJob,
    error: &str,
    mut check: impl FnMut(&Connection, u64) -> rusqlite::Result<Option<u32>>,
) -> Result<FailOutcome, QueueError> {
    let id = job.id.to_string();
    SqliteQueue::immediate(db, "fail: begin immediate", async |db: &mut D| match run(db, "fail: check fence", &mut check).await? {
        Some(attempts) => q.record_failure(db, &id, attempts, error).await,
        None => Err(QueueError::Fenced { id: id.clone(), owner: job.owner.clone() }),
    })
    .await
}

/// `complete` and `fail` fenced by the owner alone (the reference before owners could repeat):
/// right while every claim has an owner of its own, wrong once a worker's claims or restarts
/// share its name. Shared by the variants whose mistake is that fence.
pub mod owner_only_fence {
    use super::{complete_with, fail_with};
    use alarmsim_scheduler::queue::{status, ClaimedJob, Db, FailOutcome, QueueError, SqliteQueue};
    use rusqlite::{params, OptionalExtension};

    pub async fn complete<D: Db>(db: &mut D, job: &ClaimedJob) -> Result<(), QueueError> {
        let id = job.id.to_string();
        complete_with(db, job, |c, now| {
            c.prepare_cached("UPDATE job_queue SET status = ?1, owner = NULL, lease_until = NULL, finished_at = ?2 WHERE id = ?3 AND status = ?4 AND owner = ?5")?
                .execute(params![status::DONE, now as i64, id, status::RUNNING, job.owner])
        })
        .await
    }

    pub async fn fail<D: Db>(q: &SqliteQueue, db: &mut D, job: &ClaimedJob, error: &str) -> Result<FailOutcome, QueueError> {
        let id = job.id.to_string();
        fail_with(q, db, job, error, |c, _| {
            c.prepare_cached("SELECT failed_attempts FROM job_queue WHERE id = ?1 AND status = ?2 AND owner = ?3")?
                .query_row(params![id, status::RUNNING, job.owner], |r| Ok(r.get::<_, i64>(0)? as u32))
                .optional()
        })
        .await
    }
}

/// The row a variant's claim picked: `running` when it was a running job (a claim that also
/// takes over expired leases).
pub struct PickedRow {
    pub id: String,
    pub name: String,
    pub def: String,
    pub attempts: u32,
    pub scheduled_for: u64,
    pub running: bool,
}

/// A claim in one `BEGIN IMMEDIATE` transaction, as the reference's, with a variant's own
/// `select` (any of the parameters `:queued`, `:running` and `:now`; columns id, name, def,
/// failed_attempts, scheduled_for, status) and its own `take`, which answers the attempts
/// to record and the lease end for the row it picked at time `now`.
pub async fn claim_with<D: Db>(
    db: &mut D,
    owner: &str,
    select: &'static str,
    take: impl Fn(&PickedRow, u64) -> (u32, u64),
) -> Result<Option<ClaimedJob>, QueueError> {
    SqliteQueue::immediate(db, "claim: begin immediate", async |db: &mut D| {
        let picked = run(db, "claim: select due", |c, now| {
            let mut stmt = c.prepare_cached(select)?;
            for (name, value) in [(":queued", status::QUEUED), (":running", status::RUNNING), (":now", now as i64)] {
                if let Some(index) = stmt.parameter_index(name)? {
                    stmt.raw_bind_parameter(index, value)?;
                }
            }
            let mut rows = stmt.raw_query();
            let Some(r) = rows.next()? else { return Ok(None) };
            Ok(Some(PickedRow {
                id: r.get(0)?,
                name: r.get(1)?,
                def: r.get(2)?,
                attempts: r.get::<_, i64>(3)? as u32,
                scheduled_for: r.get::<_, i64>(4)? as u64,
                running: r.get::<_, i64>(5)? == status::RUNNING,
            }))
        })
        .await?;
        let Some(row) = picked else { return Ok(None) };
        let (attempts, lease_until) = run(db, "claim: update", |c, now| {
            let (attempts, lease_until) = take(&row, now);
            c.prepare_cached("UPDATE job_queue SET status = ?1, owner = ?2, lease_until = ?3, failed_attempts = ?4 WHERE id = ?5")?
                .execute(params![status::RUNNING, owner, lease_until as i64, attempts, row.id])?;
            Ok((attempts, lease_until))
        })
        .await?;
        let id = Ulid::from_string(&row.id).map_err(|e| QueueError::Corrupt { id: row.id.clone(), detail: format!("not a ULID: {e}") })?;
        Ok(Some(ClaimedJob { id, name: row.name, payload: row.def, attempts, owner: owner.to_string(), lease_until_ms: lease_until, scheduled_for_ms: row.scheduled_for }))
    })
    .await
}
