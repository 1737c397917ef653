//! Real mode: the queue on an on-disk SQLite file, the system clock, and a blocking loop.
//!
//! [`RealDb::open`] accepts the file first (`store_file.rs`: what the path is, permissions,
//! header, integrity, `user_version`, tables and columns, row checksums), read-only, so a
//! refused file is left byte-identical. Every connection waits for locks under the one lock
//! policy of all stores (`error.rs`: 5 s per attempt, 3 attempts, a line on stderr before
//! each retry). [`RealDb::keep_checksums`] makes the connection keep and check each job
//! row's checksum (schema v4) with temporary triggers: a row changed behind alarmsim's back
//! makes the statement touching it fail, naming the row, instead of running a different job.

use super::db::Db;
use super::schema::{install_version, LATEST};
use crate::checksum::RowSum;
use crate::error::{classify, lock_notice, retry_when_locked, StoreError, LOCK_ATTEMPTS, LOCK_WAIT_MS};
use crate::sqlite_file::Durability;
use crate::store_file::{self, Access, StoreKind};
use rusqlite::functions::FunctionFlags;
use rusqlite::{Connection, ErrorCode, OpenFlags};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The schema version that added the job checksum column.
const CHECKSUM_VERSION: i64 = 4;

/// The columns a job checksum covers, in order (every column of schema v4 but the checksum).
const SUMMED: &str = "id, created_at, scheduled_for, failed_attempts, status, name, def, owner, lease_until, finished_at";

/// What `store_file.rs` checks before a queue file is opened (or inspected).
pub static QUEUE_KIND: StoreKind = StoreKind {
    name: "job queue",
    latest: LATEST,
    install: |conn, version| install_version(conn, version).map_err(|e| e.to_string()),
    check_rows: |conn, path, version| if version >= CHECKSUM_VERSION { check_job_sums(conn, path) } else { Ok(()) },
};

/// One job row's fields as the checksum reads them.
type JobFields = (String, i64, i64, i64, i64, String, String, Option<String>, Option<i64>, Option<i64>);

fn job_checksum(f: &JobFields) -> i64 {
    RowSum::new("job_queue")
        .text(Some(&f.0))
        .int(Some(f.1))
        .int(Some(f.2))
        .int(Some(f.3))
        .int(Some(f.4))
        .text(Some(&f.5))
        .text(Some(&f.6))
        .text(f.7.as_deref())
        .int(f.8)
        .int(f.9)
        .finish()
}

fn job_fields(ctx: &rusqlite::functions::Context<'_>, first: usize) -> rusqlite::Result<JobFields> {
    Ok((
        ctx.get(first)?,
        ctx.get(first + 1)?,
        ctx.get(first + 2)?,
        ctx.get(first + 3)?,
        ctx.get(first + 4)?,
        ctx.get(first + 5)?,
        ctx.get(first + 6)?,
        ctx.get(first + 7)?,
        ctx.get(first + 8)?,
        ctx.get(first + 9)?,
    ))
}

fn mismatch(path: &Path, fields: &JobFields, stored: i64, computed: i64) -> StoreError {
    let detail = format!("checksum mismatch: stored {stored}, computed {computed} from scheduled_for={} status={} failed_attempts={}", fields.2, fields.4, fields.3);
    StoreError::Corrupted { path: path.to_path_buf(), table: "job_queue", row: format!("id={}", fields.0), detail }
}

/// Every job row that has a checksum, checked against it (read-only).
fn check_job_sums(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let err = |e| classify(path, e);
    let mut stmt = conn.prepare(&format!("SELECT {SUMMED}, checksum FROM job_queue WHERE checksum IS NOT NULL ORDER BY id")).map_err(err)?;
    let mut rows = stmt.query([]).map_err(err)?;
    while let Some(r) = rows.next().map_err(err)? {
        let fields: JobFields =
            (r.get(0).map_err(err)?, r.get(1).map_err(err)?, r.get(2).map_err(err)?, r.get(3).map_err(err)?, r.get(4).map_err(err)?, r.get(5).map_err(err)?, r.get(6).map_err(err)?, r.get(7).map_err(err)?, r.get(8).map_err(err)?, r.get(9).map_err(err)?);
        let stored: i64 = r.get(10).map_err(err)?;
        let computed = job_checksum(&fields);
        if stored != computed {
            return Err(mismatch(path, &fields, stored, computed));
        }
    }
    Ok(())
}

/// An on-disk queue connection: WAL, the chosen `synchronous`, the lock policy's busy timeout.
pub struct RealDb {
    conn: Connection,
    path: PathBuf,
}

impl RealDb {
    /// Accepts the queue file (creating it if missing; see the module docs), then opens it.
    /// `journal_mode=WAL` persists in the file; the rest are connection settings and are set
    /// on every open (queue-anchors.md §5 fact 4).
    pub fn open(path: &Path, durability: Durability) -> Result<RealDb, StoreError> {
        retry_when_locked(|| RealDb::open_once(path, durability))
    }

    fn open_once(path: &Path, durability: Durability) -> Result<RealDb, StoreError> {
        store_file::accept(path, &QUEUE_KIND, Access::Write)?;
        let err = |e| classify(path, e);
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(err)?;
        conn.busy_timeout(Duration::from_millis(LOCK_WAIT_MS)).map_err(err)?;
        if conn.is_readonly(rusqlite::MAIN_DB).map_err(err)? {
            return Err(StoreError::ReadOnly { path: path.to_path_buf(), what: "file" });
        }
        set_wal(&conn).map_err(err)?;
        conn.pragma_update(None, "synchronous", durability.pragma()).map_err(err)?;
        register_functions(&conn, path).map_err(err)?;
        Ok(RealDb { conn, path: path.to_path_buf() })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Keeps and checks job checksums on this connection from now on: rows from before
    /// schema v4 get theirs, and temporary triggers (this connection's only; nothing is added
    /// to the file's schema) set the checksum of every row written and check the old one of
    /// every row updated or deleted. Call it once the schema is at v4 or later (after the
    /// queue's migration), before any other write.
    pub fn keep_checksums(&self) -> Result<(), StoreError> {
        let sql = format!(
            "UPDATE job_queue SET checksum = alarmsim_job_checksum({SUMMED}) WHERE checksum IS NULL;
             CREATE TEMP TRIGGER IF NOT EXISTS alarmsim_job_sum_insert AFTER INSERT ON main.job_queue BEGIN
                 UPDATE job_queue SET checksum = alarmsim_job_checksum({new}) WHERE id = NEW.id;
             END;
             CREATE TEMP TRIGGER IF NOT EXISTS alarmsim_job_sum_update AFTER UPDATE OF {cols} ON main.job_queue BEGIN
                 UPDATE job_queue SET checksum = alarmsim_job_checksum({new}) WHERE id = NEW.id;
             END;
             CREATE TEMP TRIGGER IF NOT EXISTS alarmsim_job_check_update BEFORE UPDATE OF {cols} ON main.job_queue BEGIN
                 SELECT alarmsim_job_verify(OLD.checksum, {old});
             END;
             CREATE TEMP TRIGGER IF NOT EXISTS alarmsim_job_check_delete BEFORE DELETE ON main.job_queue BEGIN
                 SELECT alarmsim_job_verify(OLD.checksum, {old});
             END;",
            new = prefixed("NEW"),
            old = prefixed("OLD"),
            cols = SUMMED.strip_prefix("id, ").expect("the id comes first"),
        );
        retry_when_locked(|| self.conn.execute_batch(&sql).map_err(|e| classify(&self.path, e)))
    }
}

/// `NEW.id, NEW.created_at, …`
fn prefixed(row: &str) -> String {
    SUMMED.split(", ").map(|c| format!("{row}.{c}")).collect::<Vec<_>>().join(", ")
}

/// `alarmsim_job_checksum(<fields>)` and `alarmsim_job_verify(checksum, <fields>)`, which
/// fails the statement with [`StoreError::Corrupted`]'s words when a stored checksum does
/// not match its row.
fn register_functions(conn: &Connection, path: &Path) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("alarmsim_job_checksum", 10, flags, |ctx| job_fields(ctx, 0).map(|f| job_checksum(&f)))?;
    let path = path.to_path_buf();
    conn.create_scalar_function("alarmsim_job_verify", 11, flags, move |ctx| {
        let Some(stored) = ctx.get::<Option<i64>>(0)? else { return Ok(true) };
        let fields = job_fields(ctx, 1)?;
        let computed = job_checksum(&fields);
        if stored == computed {
            return Ok(true);
        }
        Err(rusqlite::Error::UserFunctionError(Box::new(mismatch(&path, &fields, stored, computed))))
    })
}

/// Switches the file to WAL. When two processes open a fresh file at once, both try to
/// upgrade a shared lock to switch it; SQLite answers one of them BUSY at once, without
/// calling the busy handler (it would deadlock), so the switch is retried here.
fn set_wal(conn: &Connection) -> rusqlite::Result<()> {
    let give_up = Instant::now() + Duration::from_millis(LOCK_WAIT_MS);
    loop {
        match conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(())) {
            Err(e) if e.sqlite_error_code() == Some(ErrorCode::DatabaseBusy) && Instant::now() < give_up => {
                std::thread::sleep(Duration::from_millis(1));
            }
            result => return result,
        }
    }
}

/// Milliseconds since the Unix epoch, from the system clock.
pub fn unix_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

impl Db for RealDb {
    async fn statement(&mut self, _label: &'static str) -> Result<u64, rusqlite::Error> {
        Ok(unix_ms())
    }

    /// The lock policy: SQLite's busy handler already waited [`LOCK_WAIT_MS`]; say so and
    /// retry, up to [`LOCK_ATTEMPTS`] attempts in all.
    async fn busy(&mut self, attempt: u32) -> bool {
        if attempt >= LOCK_ATTEMPTS {
            return false;
        }
        lock_notice(&self.path, attempt + 1);
        true
    }

    fn conn(&self) -> &Connection {
        &self.conn
    }
}

/// Runs a queue operation to completion on this thread. With [`RealDb`] nothing ever waits
/// on a waker (the hooks return at once), so one poll finishes it.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        // Only a Db whose hooks really wait would get here; yield and poll again.
        std::thread::yield_now();
    }
}
