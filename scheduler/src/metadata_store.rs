//! The manager's per-namespace store, `metadata.sqlite` (R18, PR #6104).
//!
//! Table `_cf_ALARM(actor_id PK, scheduled_time, actor_name, fence_*)`. Times are ms.
//! Schema history, kept as migrations so old files open (alarm-scheduler-test "migrates a
//! database created before the actor_name column existed"):
//! 1. the original table; 2. `actor_name`; 3. fences and tombstones (nullable time);
//! 4. a row checksum (`checksum.rs`) over the actor, its time and its fence (not the
//!    informational `actor_name`), checked on every load: a flipped bit is an error naming the
//!    row, never a different alarm.

use crate::checksum::RowSum;
use crate::error::{retry_when_locked, StoreError};
use crate::fence::Fence;
use crate::ids::ActorId;
use crate::manager::AlarmRow;
use crate::sqlite_file::{self, classify, Durability, Location};
use crate::store_file::StoreKind;
use crate::time::Millis;
use rusqlite::{params, Connection};
use rusqlite_migration::{Migrations, M};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

/// The file name inside a namespace directory.
pub const METADATA_FILE: &str = "metadata.sqlite";

static MIGRATIONS: LazyLock<Migrations<'static>> = LazyLock::new(|| {
    Migrations::new(vec![
        M::up("CREATE TABLE _cf_ALARM (actor_id TEXT PRIMARY KEY, scheduled_time INTEGER NOT NULL) WITHOUT ROWID;"),
        M::up("ALTER TABLE _cf_ALARM ADD COLUMN actor_name TEXT;"),
        M::up(
            "CREATE TABLE _cf_ALARM_v3 (
                actor_id TEXT PRIMARY KEY,
                scheduled_time INTEGER,
                actor_name TEXT,
                fence_incarnation INTEGER NOT NULL DEFAULT 0,
                fence_seq INTEGER NOT NULL DEFAULT 0,
                fence_report INTEGER NOT NULL DEFAULT 0
             ) WITHOUT ROWID;
             INSERT INTO _cf_ALARM_v3 (actor_id, scheduled_time, actor_name)
                SELECT actor_id, scheduled_time, actor_name FROM _cf_ALARM;
             DROP TABLE _cf_ALARM;
             ALTER TABLE _cf_ALARM_v3 RENAME TO _cf_ALARM;",
        ),
        // Rows already there get their checksum in the same transaction.
        M::up_with_hook("ALTER TABLE _cf_ALARM ADD COLUMN checksum INTEGER NOT NULL DEFAULT 0;", |tx: &rusqlite::Transaction| {
            let rows = read_rows(tx, false)?;
            let mut update = tx.prepare("UPDATE _cf_ALARM SET checksum = ?1 WHERE actor_id = ?2")?;
            for (row, _) in rows {
                update.execute(params![row_checksum(&row), row.actor.0])?;
            }
            Ok(())
        }),
    ])
});

/// The newest schema version this build writes.
pub const METADATA_SCHEMA_VERSION: i64 = 4;

/// What `store_file.rs` checks before a `metadata.sqlite` is opened for writing.
static KIND: StoreKind = StoreKind {
    name: "alarm manager (metadata.sqlite)",
    latest: METADATA_SCHEMA_VERSION,
    install: |conn, version| sqlite_file::install_version(&MIGRATIONS, conn, version),
    check_rows: |conn, path, version| match version {
        METADATA_SCHEMA_VERSION => load_rows(conn, path).map(drop),
        _ => Ok(()), // Older rows are read (strictly) by the migration that checksums them.
    },
};

/// The checksum of a row (`checksum.rs`): everything that decides when the alarm fires.
fn row_checksum(row: &AlarmRow) -> i64 {
    RowSum::new("_cf_ALARM")
        .text(Some(&row.actor.0))
        .int(row.time.map(|t| t.0))
        .int(Some(row.fence.incarnation as i64))
        .int(Some(row.fence.seq as i64))
        .int(Some(row.fence.report as i64))
        .finish()
}

/// Every row, in actor order, with its stored checksum when `with_checksum`.
fn read_rows(conn: &Connection, with_checksum: bool) -> rusqlite::Result<Vec<(AlarmRow, i64)>> {
    let sql = if with_checksum {
        "SELECT actor_id, scheduled_time, actor_name, fence_incarnation, fence_seq, fence_report, checksum FROM _cf_ALARM ORDER BY actor_id"
    } else {
        "SELECT actor_id, scheduled_time, actor_name, fence_incarnation, fence_seq, fence_report, 0 FROM _cf_ALARM ORDER BY actor_id"
    };
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map([], |r| {
        let row = AlarmRow {
            actor: ActorId(r.get(0)?),
            time: r.get::<_, Option<i64>>(1)?.map(Millis),
            name: r.get(2)?,
            fence: Fence { incarnation: r.get::<_, i64>(3)? as u64, seq: r.get::<_, i64>(4)? as u64, report: r.get(5)? },
        };
        Ok((row, r.get(6)?))
    })?;
    rows.collect()
}

/// Every row, each checked against its checksum.
fn load_rows(conn: &Connection, path: &Path) -> Result<Vec<AlarmRow>, StoreError> {
    let rows = read_rows(conn, true).map_err(|e| classify(path, e))?;
    rows.into_iter()
        .map(|(row, stored)| {
            let computed = row_checksum(&row);
            if computed != stored {
                let detail = format!("checksum mismatch: stored {stored}, computed {computed} from scheduled_time={:?} fence={}", row.time.map(|t| t.0), row.fence);
                return Err(StoreError::Corrupted { path: path.to_path_buf(), table: "_cf_ALARM", row: format!("actor_id={}", row.actor.0), detail });
            }
            Ok(row)
        })
        .collect()
}

/// The migrations, for tools that create old-version files in tests.
pub fn metadata_migrations() -> &'static Migrations<'static> {
    &MIGRATIONS
}

/// One namespace's alarm rows.
pub struct MetadataStore {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for MetadataStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetadataStore").field("path", &self.path).finish()
    }
}

impl MetadataStore {
    /// `<dir>/metadata.sqlite` for an on-disk namespace.
    pub fn open_dir(dir: &Path, durability: Durability) -> Result<MetadataStore, StoreError> {
        MetadataStore::open(&Location::File(dir.join(METADATA_FILE)), durability)
    }

    pub fn open(location: &Location, durability: Durability) -> Result<MetadataStore, StoreError> {
        let conn = sqlite_file::open(location, &KIND, &MIGRATIONS, durability)?;
        Ok(MetadataStore { conn, path: location.display_path() })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every row, in actor order (tombstones included), each checked against its checksum.
    pub fn load(&self) -> Result<Vec<AlarmRow>, StoreError> {
        retry_when_locked(|| load_rows(&self.conn, &self.path))
    }

    /// Upserts one row (R18: synchronous; `COALESCE` keeps a known `actor_name`), with its
    /// checksum.
    pub fn write(&self, row: &AlarmRow) -> Result<(), StoreError> {
        let checksum = row_checksum(row);
        let write = || {
            self.conn
                .prepare_cached(
                    "INSERT INTO _cf_ALARM (actor_id, scheduled_time, actor_name, fence_incarnation, fence_seq, fence_report, checksum)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                     ON CONFLICT(actor_id) DO UPDATE SET
                        scheduled_time = excluded.scheduled_time,
                        actor_name = COALESCE(excluded.actor_name, _cf_ALARM.actor_name),
                        fence_incarnation = excluded.fence_incarnation,
                        fence_seq = excluded.fence_seq,
                        fence_report = excluded.fence_report,
                        checksum = excluded.checksum",
                )
                .and_then(|mut s| {
                    s.execute(params![
                        row.actor.0,
                        row.time.map(|t| t.0),
                        row.name,
                        row.fence.incarnation as i64,
                        row.fence.seq as i64,
                        row.fence.report,
                        checksum
                    ])
                })
                .map(|_| ())
                .map_err(|e| classify(&self.path, e))
        };
        retry_when_locked(write)
    }

    /// Empties the store back to a freshly migrated one (no rows), so one connection can
    /// serve many simulated namespaces in turn. An open transaction (left by a run that
    /// panicked) is rolled back first.
    pub fn reset(&mut self) -> Result<(), StoreError> {
        let err = |e| classify(&self.path, e);
        if !self.conn.is_autocommit() {
            self.conn.prepare_cached("ROLLBACK").and_then(|mut s| s.execute([])).map_err(err)?;
        }
        self.conn.prepare_cached("DELETE FROM _cf_ALARM").and_then(|mut s| s.execute([])).map(|_| ()).map_err(err)
    }

    /// Gives the connection to the simulator, which snapshots it for power-loss modelling.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    pub fn connection_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }
}
