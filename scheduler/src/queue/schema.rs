//! The queue's schema, versioned by `PRAGMA user_version` (DGW's approach), and the
//! migration runner.
//!
//! Why not `rusqlite_migration` here (the alarm stores use it): the simulator must be able
//! to crash between any two statements, so every statement has to pass through
//! [`Db::statement`]. The runner is the same idea in a dozen lines: all pending migrations
//! and the `user_version` bump in one `BEGIN IMMEDIATE` transaction, so a crash at any
//! point leaves the previous version intact (queue-anchors.md §5 fact 5).

use super::db::{run, Db};
use super::error::QueueError;
use crate::probe::queue as probe;
use rusqlite::Connection;

/// Migration `i` takes the schema from version `i` to `i + 1`. Several statements each, so
/// a non-atomic runner has somewhere to crash in the middle.
pub const MIGRATIONS: &[&[&str]] = &[
    // v1: DGW's original table (timestamps in ms here; DGW uses seconds).
    &[
        "CREATE TABLE job_queue (
            id TEXT PRIMARY KEY,
            created_at INTEGER NOT NULL,
            scheduled_for INTEGER NOT NULL,
            failed_attempts INTEGER NOT NULL DEFAULT 0,
            status INTEGER NOT NULL,
            name TEXT NOT NULL,
            def TEXT NOT NULL
        ) STRICT",
        "CREATE INDEX job_queue_scheduled_for ON job_queue(scheduled_for)",
    ],
    // v2: leases and owners, so a crashed worker's job comes back and a stale one is fenced.
    &[
        "ALTER TABLE job_queue ADD COLUMN owner TEXT",
        "ALTER TABLE job_queue ADD COLUMN lease_until INTEGER",
        "ALTER TABLE job_queue ADD COLUMN finished_at INTEGER",
        "CREATE INDEX job_queue_due ON job_queue(status, scheduled_for, id)",
        // A v1 claim (status 1) has no lease, and `lease_until <= now` never holds for NULL:
        // without this, a job a v1 process was running when it died stays running forever.
        // Its lease counts as expired, so the next reclaim takes it back (attempt counted).
        "UPDATE job_queue SET lease_until = 0 WHERE status = 1",
    ],
    // v3: a dead-letter table for jobs that used up their attempts.
    &[
        "CREATE TABLE dead_letter (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            def TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            last_error TEXT NOT NULL,
            died_at INTEGER NOT NULL
        ) STRICT",
    ],
    // v4: a row checksum (issue #16), kept and checked by real mode's connections
    // (`real.rs`); NULL in rows no checksumming connection wrote (the simulator's).
    &["ALTER TABLE job_queue ADD COLUMN checksum INTEGER"],
];

/// The schema version this build writes.
pub const LATEST: i64 = MIGRATIONS.len() as i64;

pub fn user_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.prepare_cached("PRAGMA user_version")?.query_row([], |r| r.get(0))
}

/// Runs a statement that takes no parameters and returns no rows, prepared once per
/// connection (every process runs these on every open; parsing them again each time was
/// the simulator's largest single cost).
fn execute_cached(c: &Connection, sql: &str) -> rusqlite::Result<()> {
    c.prepare_cached(sql)?.execute([]).map(drop)
}

/// Migrates to [`LATEST`] atomically: one immediate transaction that re-reads the version
/// once it holds the write lock (another process may have migrated meanwhile).
///
/// The version is read first without a lock: a migration commits its statements and its
/// `user_version` bump together, so a current version means a complete schema, and the
/// open of an up-to-date database (every open but the first) takes no write lock. Taking it
/// on every open made each restart contend with the running workers for nothing.
pub async fn migrate_atomically<D: Db>(db: &mut D) -> Result<(), QueueError> {
    let seen = run(db, "migrate: peek user_version", |c, _| user_version(c)).await?;
    if seen == LATEST {
        return Ok(());
    }
    run(db, "migrate: begin immediate", |c, _| execute_cached(c, "BEGIN IMMEDIATE")).await?;
    let outcome = migrate_in_transaction(db).await;
    let end = if outcome.is_ok() { "COMMIT" } else { "ROLLBACK" };
    run(db, "migrate: end", |c, _| execute_cached(c, end)).await?;
    outcome
}

async fn migrate_in_transaction<D: Db>(db: &mut D) -> Result<(), QueueError> {
    let found = run(db, "migrate: read user_version", |c, _| user_version(c)).await?;
    if found > LATEST {
        return Err(QueueError::SchemaTooNew { found, latest: LATEST });
    }
    db.probe(match found {
        0 => &probe::MIGRATE_FROM_EMPTY,
        LATEST => &probe::MIGRATE_RACED,
        _ => &probe::MIGRATE_FROM_OLDER,
    });
    for (version, statements) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        for sql in *statements {
            run(db, "migrate: statement", |c, _| c.execute_batch(sql)).await?;
        }
        let bump = format!("PRAGMA user_version = {}", version + 1);
        run(db, "migrate: bump user_version", |c, _| c.execute_batch(&bump)).await?;
    }
    Ok(())
}

/// Installs schema version `version` directly (fixtures: a database a previous release left).
pub fn install_version(conn: &Connection, version: i64) -> rusqlite::Result<()> {
    assert!((0..=LATEST).contains(&version), "schema version {version} does not exist (0..={LATEST})");
    let tx = conn.unchecked_transaction()?;
    for statements in &MIGRATIONS[..version as usize] {
        for sql in *statements {
            tx.execute_batch(sql)?;
        }
    }
    tx.pragma_update(None, "user_version", version)?;
    tx.commit()
}
