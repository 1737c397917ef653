//! Hooks for job-queue bug variants: [`Patched`] runs the reference [`SqliteQueue`] and lets a
//! [`QueuePatch`] replace single operations. Every default is the reference's own code, so a
//! variant differs from the reference exactly where its bug did.

use alarmsim_scheduler::queue::{ClaimedJob, Db, FailOutcome, JobQueue, NewJob, QueueConfig, QueueError, Reclaimed, SqliteQueue, Wakeup};

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
        self.queue.reclaim_expired(db).await
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
