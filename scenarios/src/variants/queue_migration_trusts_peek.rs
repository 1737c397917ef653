//! Written from the migration promise with one mistake, the one the reference's lock-free
//! look invites (double-checked locking without the second check): `user_version` is read
//! without a lock, and when it is behind the migrations run inside `BEGIN IMMEDIATE` from
//! the version that look saw, not from the version read again under the lock. Two processes
//! that open an old database at once both see it behind; the second to get the lock runs
//! the migrations the first already committed (`CREATE TABLE` of a table that exists).

use super::queue_support::QueuePatch;
use alarmsim_scheduler::queue::schema::{user_version, MIGRATIONS};
use alarmsim_scheduler::queue::{run, Db, JobQueue, QueueError, Reclaimed, SqliteQueue};

#[derive(Default)]
pub struct MigrationTrustsPeek;

impl QueuePatch for MigrationTrustsPeek {
    async fn open<D: Db>(&mut self, q: &mut SqliteQueue, db: &mut D) -> Result<Vec<Reclaimed>, QueueError> {
        let seen = run(db, "migrate: peek user_version", |c, _| user_version(c)).await?;
        let pending = MIGRATIONS.len().saturating_sub(seen.max(0) as usize);
        if pending > 0 {
            SqliteQueue::immediate(db, "migrate: begin immediate", async |db: &mut D| {
                // The mistake: `seen` is not read again now that the lock is held.
                for (version, statements) in MIGRATIONS.iter().enumerate().skip(seen.max(0) as usize) {
                    for sql in *statements {
                        run(db, "migrate: statement", |c, _| c.execute_batch(sql)).await?;
                    }
                    let bump = format!("PRAGMA user_version = {}", version + 1);
                    run(db, "migrate: bump user_version", |c, _| c.execute_batch(&bump)).await?;
                }
                Ok(())
            })
            .await?;
        }
        q.reclaim_expired(db).await
    }
}
