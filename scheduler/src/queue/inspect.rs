//! Reading a queue database as it is, for checkers, tests and the CLI (no hooks, no writes).

use super::schema::user_version;

/// The schema version that added the dead-letter table.
const DEAD_LETTER_VERSION: i64 = 3;
use rusqlite::{params, Connection};
use std::collections::{BTreeMap, BTreeSet};

/// One `job_queue` row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobRow {
    pub status: i64,
    pub attempts: u32,
    pub scheduled_for_ms: u64,
    pub owner: Option<String>,
    pub lease_until_ms: Option<u64>,
}

/// One `dead_letter` row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeadRow {
    pub attempts: u32,
    pub last_error: String,
}

/// Everything a queue database holds, by job id (ULID text, so in time order).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Contents {
    pub version: i64,
    pub jobs: BTreeMap<String, JobRow>,
    pub dead: BTreeMap<String, DeadRow>,
}

impl Contents {
    /// Whether job `id` is in the database: queued, running, done or dead-lettered.
    pub fn has(&self, id: &str) -> bool {
        self.jobs.contains_key(id) || self.dead.contains_key(id)
    }
}

/// Reads the whole queue. Older versions are read as far as their tables go.
pub fn contents(conn: &Connection) -> rusqlite::Result<Contents> {
    let version = user_version(conn)?;
    let mut out = Contents { version, ..Contents::default() };
    if version >= 1 {
        let leased = version >= 2;
        let sql = if leased {
            "SELECT id, status, failed_attempts, scheduled_for, owner, lease_until FROM job_queue ORDER BY id"
        } else {
            "SELECT id, status, failed_attempts, scheduled_for, NULL, NULL FROM job_queue ORDER BY id"
        };
        let mut stmt = conn.prepare_cached(sql)?;
        let rows = stmt.query_map(params![], |r| {
            Ok((
                r.get::<_, String>(0)?,
                JobRow {
                    status: r.get(1)?,
                    attempts: r.get::<_, i64>(2)? as u32,
                    scheduled_for_ms: r.get::<_, i64>(3)? as u64,
                    owner: r.get(4)?,
                    lease_until_ms: r.get::<_, Option<i64>>(5)?.map(|v| v as u64),
                },
            ))
        })?;
        for row in rows {
            let (id, job) = row?;
            out.jobs.insert(id, job);
        }
    }
    if version >= DEAD_LETTER_VERSION {
        let mut stmt = conn.prepare_cached("SELECT id, attempts, last_error FROM dead_letter ORDER BY id")?;
        let rows = stmt.query_map(params![], |r| Ok((r.get::<_, String>(0)?, DeadRow { attempts: r.get::<_, i64>(1)? as u32, last_error: r.get(2)? })))?;
        for row in rows {
            let (id, dead) = row?;
            out.dead.insert(id, dead);
        }
    }
    Ok(out)
}

/// The queued jobs due before `due_ms`, earliest first, as (id, due): what a claim of a job
/// due at `due_ms` passed over (the simulator's claim-order check; for a queue that claims
/// in order, none or the few enqueued while the claim ran).
pub fn queued_before(conn: &Connection, due_ms: u64) -> rusqlite::Result<Vec<(String, u64)>> {
    let mut stmt = conn.prepare_cached("SELECT id, scheduled_for FROM job_queue WHERE status = ?1 AND scheduled_for < ?2 ORDER BY scheduled_for, id")?;
    let rows = stmt.query_map(params![super::status::QUEUED, due_ms as i64], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))?;
    rows.collect()
}

/// The id of every job and dead letter: what [`contents`] reads, without the rows (the
/// simulator's acknowledged-jobs check runs after every crash and needs only these).
pub fn ids(conn: &Connection) -> rusqlite::Result<BTreeSet<String>> {
    let version = user_version(conn)?;
    let mut out = BTreeSet::new();
    let tables: &[&str] = match version {
        v if v >= DEAD_LETTER_VERSION => &["SELECT id FROM job_queue", "SELECT id FROM dead_letter"],
        v if v >= 1 => &["SELECT id FROM job_queue"],
        _ => &[],
    };
    for sql in tables {
        let mut stmt = conn.prepare_cached(sql)?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            out.insert(row.get(0)?);
        }
    }
    Ok(out)
}
