//! Devolutions gateway PR #1108: each migration runs `execute_batch(sql)` and then, as a
//! separate statement, `PRAGMA user_version = i + 1`, with no enclosing transaction. A crash
//! in between (or inside a multi-statement migration) leaves the schema changed but the
//! version old, and the next open re-runs a migration that already applied ("duplicate
//! column name"); two processes opening at once can also both run it.

use super::queue_support::QueuePatch;
use alarmsim_scheduler::queue::schema::{user_version, MIGRATIONS};
use alarmsim_scheduler::queue::{run, Db, JobQueue, QueueError, Reclaimed, SqliteQueue};

#[derive(Default)]
pub struct NonAtomicMigration;

impl QueuePatch for NonAtomicMigration {
    async fn open<D: Db>(&mut self, q: &mut SqliteQueue, db: &mut D) -> Result<Vec<Reclaimed>, QueueError> {
        let found = run(db, "migrate: read user_version", |c, _| user_version(c)).await?;
        for (version, statements) in MIGRATIONS.iter().enumerate().skip(found.max(0) as usize) {
            for sql in *statements {
                run(db, "migrate: statement", |c, _| c.execute_batch(sql)).await?;
            }
            let bump = format!("PRAGMA user_version = {}", version + 1);
            run(db, "migrate: bump user_version", |c, _| c.execute_batch(&bump)).await?;
        }
        q.reclaim_expired(db).await
    }
}
