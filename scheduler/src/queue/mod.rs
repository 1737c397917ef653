//! A crash-resistant durable job queue in SQLite (seed 004: the Devolutions gateway's job
//! queue, PR #1108), the second system under test.
//!
//! What the reference [`SqliteQueue`] promises, and the historical bug each promise guards:
//! - `enqueue` returns only after its INSERT committed: no acknowledgement from an in-memory
//!   channel (DGW's `JobQueueHandle::enqueue` acks before the row exists, queue-anchors.md §1).
//! - A claim takes the earliest due job (`ORDER BY scheduled_for, id`): no job waits behind
//!   later ones. It runs in one `BEGIN IMMEDIATE` transaction, takes a lease of `lease_ms`
//!   counted from the claim (not from the due time) and records a per-claim
//!   owner (queue-anchors.md §5 fact 6; fang's async claim ran SELECT and UPDATE apart). A
//!   lock-free look comes first, so an idle worker's claim takes no write lock; it decides
//!   nothing (the transaction reads again).
//! - `complete`/`fail` carry the owner and the attempt count the claim read, and are rejected
//!   once another claim took over (fencing, as underway does): a stale worker cannot finish
//!   a job twice. The owner alone is no fence: a worker's concurrent claims and its restarts
//!   may share its name (a pod name); every take-over counts an attempt, so the count tells
//!   claims apart (Kleppmann's fencing token).
//! - Failures back off 30 s · 2ⁿ⁻¹ and after `max_attempts` the job moves to `dead_letter`;
//!   no claim hands out a job whose attempts reached the limit.
//! - Expired leases are reclaimed and the lost attempt is counted, so a job that crashes its
//!   own process is dead-lettered instead of looping forever (DGW's `reset_claimed_jobs`
//!   requeues without counting, and resets live workers' jobs too).
//! - Migrations run in one transaction with their `user_version` bump (DGW bumps it
//!   separately: a crash in between re-runs a migration that already applied). An open that
//!   reads a current `user_version` takes no lock at all.
//!
//! Every statement goes through [`Db::statement`], the queue's only contact with the world:
//! it returns the current time, and in simulation it is an interleaving point and a place
//! where the process may crash. The queue itself is plain async Rust with no runtime.

mod backoff;
mod db;
mod error;
pub mod inspect;
pub mod real;
mod reference;
pub mod schema;

pub use backoff::retry_delay_ms;
pub use db::{run, Db};
pub use error::QueueError;
pub use reference::SqliteQueue;
pub use ulid::Ulid;

/// Row states of `job_queue.status`.
pub mod status {
    pub const QUEUED: i64 = 0;
    pub const RUNNING: i64 = 1;
    pub const DONE: i64 = 2;
}

/// Knobs of a queue. The defaults are DGW's (30 s base, 5 attempts) plus a 30 s lease.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct QueueConfig {
    /// How long a claim is exclusive; after it, the job may be reclaimed and the owner is fenced.
    pub lease_ms: u64,
    /// Attempts (claims) a job gets before it is dead-lettered.
    pub max_attempts: u32,
    /// First retry delay; attempt n waits `backoff_base_ms · 2ⁿ⁻¹`.
    pub backoff_base_ms: u64,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig { lease_ms: 30_000, max_attempts: 5, backoff_base_ms: 30_000 }
    }
}

/// A job to enqueue. The id is a ULID (time-ordered: less index fragmentation than UUIDv4,
/// as in DGW) chosen by the caller, so the simulator can derive it from the seed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewJob {
    pub id: Ulid,
    pub name: String,
    /// The job's definition, as JSON.
    pub payload: String,
    /// Not before this time (ms since the Unix epoch, or since the simulation's origin).
    pub scheduled_for_ms: u64,
}

/// A claimed job: what a worker runs, and the fence it must present to finish it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimedJob {
    pub id: Ulid,
    pub name: String,
    pub payload: String,
    /// Earlier attempts of this job, as stored (failures plus lost claims).
    pub attempts: u32,
    /// This claim's owner token; `complete`/`fail` are rejected unless it still holds.
    pub owner: String,
    pub lease_until_ms: u64,
    pub scheduled_for_ms: u64,
}

/// What a failure (or a reclaimed lease) did to a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum FailOutcome {
    /// Queued again for `at_ms`, with `attempts` recorded.
    Retry { at_ms: u64, attempts: u32 },
    /// Moved to `dead_letter` after `attempts` attempts.
    Dead { attempts: u32 },
}

/// A job whose lease expired and that was taken back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reclaimed {
    pub id: Ulid,
    /// The owner whose lease expired (now fenced).
    pub stale_owner: String,
    pub outcome: FailOutcome,
    /// The time of the read that found the lease expired: the take-over begins there, so the
    /// lease must have ended by then, and from then on the stale owner must be fenced.
    pub read_at_ms: u64,
}

/// When a worker should look again: the earliest queued job or expiring lease.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Wakeup {
    pub next_due_ms: Option<u64>,
    pub next_lease_expiry_ms: Option<u64>,
}

/// A durable job queue. The reference is [`SqliteQueue`]; the bug library re-implements
/// single methods. Every method reaches SQLite only through `db`.
#[allow(async_fn_in_trait)] // Used from one thread (madsim, or a blocking loop); no Send bound wanted.
pub trait JobQueue {
    /// Builds a queue with these knobs (no I/O).
    fn with_config(config: QueueConfig) -> Self
    where
        Self: Sized;

    /// Migrates the schema to the latest version and reclaims expired leases. Called by
    /// every process on start.
    async fn open<D: Db>(&mut self, db: &mut D) -> Result<Vec<Reclaimed>, QueueError>;

    /// Stores a job. `Ok` means durable (as durable as the `synchronous` setting makes a commit).
    async fn enqueue<D: Db>(&mut self, db: &mut D, job: NewJob) -> Result<(), QueueError>;

    /// Claims the earliest due job for `owner`, if any. `owner` names the worker, not
    /// necessarily the claim: it may repeat across one worker's concurrent claims and its
    /// restarts (a pod or host name), so the fence `complete`/`fail` check must tell claims
    /// apart by more than the owner.
    async fn claim<D: Db>(&mut self, db: &mut D, owner: &str) -> Result<Option<ClaimedJob>, QueueError>;

    /// Marks a claimed job done. `Err(Fenced)` if the claim no longer holds.
    async fn complete<D: Db>(&mut self, db: &mut D, job: &ClaimedJob) -> Result<(), QueueError>;

    /// Records a failed attempt: retry with backoff or dead-letter. `Err(Fenced)` if the
    /// claim no longer holds.
    async fn fail<D: Db>(&mut self, db: &mut D, job: &ClaimedJob, error: &str) -> Result<FailOutcome, QueueError>;

    /// Takes back every job whose lease expired, counting the lost attempt.
    async fn reclaim_expired<D: Db>(&mut self, db: &mut D) -> Result<Vec<Reclaimed>, QueueError>;

    /// When the earliest queued job falls due and the earliest lease expires.
    async fn wakeup<D: Db>(&mut self, db: &mut D) -> Result<Wakeup, QueueError>;

    /// Work a process does when idle (the reference has none).
    async fn background<D: Db>(&mut self, _db: &mut D) -> Result<(), QueueError> {
        Ok(())
    }

    /// True while [`JobQueue::background`] has something to do.
    fn has_background_work(&self) -> bool {
        false
    }

    /// The coverage probes this queue reports through [`Db::probe`] (`crate::probe`):
    /// `sweep --coverage` lists the ones no seed reached.
    fn probes() -> Vec<&'static crate::probe::Probe>
    where
        Self: Sized,
    {
        Vec::new()
    }
}
