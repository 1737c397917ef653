//! The actor's durable storage: KV rows plus the alarm, in SQLite (the durable side "D").
//!
//! A commit applies one [`CommitBatch`] in one transaction, so the alarm is durable exactly
//! when the KV writes made alongside it are (R6).

use crate::actor::DurableState;
use crate::batch::CommitBatch;
use crate::checksum::RowSum;
use crate::error::{retry_when_locked, StoreError};
use crate::sqlite_file::{self, classify, Durability, Location};
use crate::store_file::StoreKind;
use crate::time::Millis;
use rusqlite::{params, Connection, OptionalExtension};
use rusqlite_migration::{Migrations, M};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

static MIGRATIONS: LazyLock<Migrations<'static>> = LazyLock::new(|| {
    Migrations::new(vec![
        M::up(
            "CREATE TABLE kv (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
             CREATE TABLE _cf_METADATA (key TEXT PRIMARY KEY, value INTEGER) WITHOUT ROWID;",
        ),
        // v2: a checksum per metadata row (the alarm, the incarnation; `checksum.rs`), checked
        // on every read. Rows already there get theirs in the same transaction.
        M::up_with_hook("ALTER TABLE _cf_METADATA ADD COLUMN checksum INTEGER NOT NULL DEFAULT 0;", |tx: &rusqlite::Transaction| {
            let rows: Vec<(String, i64)> = tx.prepare("SELECT key, value FROM _cf_METADATA")?.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
            let mut update = tx.prepare("UPDATE _cf_METADATA SET checksum = ?1 WHERE key = ?2")?;
            for (key, value) in rows {
                update.execute(params![metadata_checksum(&key, value), key])?;
            }
            Ok(())
        }),
    ])
});

/// The schema version of a fully migrated actor store.
const MIGRATIONS_LEN: i64 = 2;

/// What `store_file.rs` checks before an actor database is opened for writing.
static KIND: StoreKind = StoreKind {
    name: "actor",
    latest: MIGRATIONS_LEN,
    install: |conn, version| sqlite_file::install_version(&MIGRATIONS, conn, version),
    check_rows: |conn, path, version| match version {
        MIGRATIONS_LEN => [ALARM_KEY, INCARNATION_KEY].into_iter().try_for_each(|key| read_metadata(conn, path, key).map(drop)),
        _ => Ok(()), // Older rows are read (strictly) by the migration that checksums them.
    },
};

/// The checksum of a `_cf_METADATA` row (`checksum.rs`).
fn metadata_checksum(key: &str, value: i64) -> i64 {
    RowSum::new("_cf_METADATA").text(Some(key)).int(Some(value)).finish()
}

/// One `_cf_METADATA` value, checked against its checksum.
fn read_metadata(conn: &Connection, path: &Path, key: &str) -> Result<Option<i64>, StoreError> {
    let row: Option<(i64, i64)> = conn
        .prepare_cached("SELECT value, checksum FROM _cf_METADATA WHERE key = ?1")
        .and_then(|mut s| s.query_row(params![key], |r| Ok((r.get(0)?, r.get(1)?))))
        .optional()
        .map_err(|e| match e {
            rusqlite::Error::InvalidColumnType(_, column, kind) => {
                let detail = format!("its {column} is {kind}, not an integer");
                StoreError::Corrupted { path: path.to_path_buf(), table: "_cf_METADATA", row: format!("key={key}"), detail }
            }
            e => classify(path, e),
        })?;
    let Some((value, stored)) = row else { return Ok(None) };
    let computed = metadata_checksum(key, value);
    if computed != stored {
        let detail = format!("checksum mismatch: stored {stored}, computed {computed} from value {value}");
        return Err(StoreError::Corrupted { path: path.to_path_buf(), table: "_cf_METADATA", row: format!("key={key}"), detail });
    }
    Ok(Some(value))
}

const ALARM_KEY: &str = "alarm";
const INCARNATION_KEY: &str = "incarnation";

/// Switches off `conn`'s lookaside arena (`SQLITE_DBCONFIG_LOOKASIDE` with no slots). Must
/// run before the connection prepares anything: SQLite refuses (`SQLITE_BUSY`) while any
/// lookaside memory is in use.
fn without_lookaside(conn: &Connection) -> Result<(), rusqlite::Error> {
    // SAFETY: the handle is this open connection's, used on this thread only; a null buffer
    // with size and count 0 asks SQLite to allocate (nothing) itself.
    let rc = unsafe {
        rusqlite::ffi::sqlite3_db_config(conn.handle(), rusqlite::ffi::SQLITE_DBCONFIG_LOOKASIDE, std::ptr::null_mut::<std::ffi::c_void>(), 0 as std::ffi::c_int, 0 as std::ffi::c_int)
    };
    if rc == rusqlite::ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rc), Some("cannot switch off the lookaside arena".to_string())))
    }
}

/// One actor's SQLite database.
pub struct ActorStore {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for ActorStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActorStore").field("path", &self.path).finish()
    }
}

impl ActorStore {
    pub fn open(location: &Location, durability: Durability) -> Result<ActorStore, StoreError> {
        let conn = sqlite_file::open(location, &KIND, &MIGRATIONS, durability)?;
        Ok(ActorStore { conn, path: location.display_path() })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A new in-memory store copied from `image`, a serialized store at the current schema
    /// (see [`ActorStore::image`]). The simulator opens thousands of stores; copying one
    /// migrated image is several times faster than migrating each one.
    ///
    /// These stores have no lookaside: SQLite gives every connection a 48 KiB arena for its
    /// small allocations, which was most of a simulated actor's memory (10,000 actors would
    /// have needed 0.5 GiB for it alone; docs/PERFORMANCE.md "Scale"). It only decides where
    /// small objects live, so the engine behaves exactly the same without it.
    pub fn from_image(image: &[u8]) -> Result<ActorStore, StoreError> {
        let path = Location::Memory.display_path();
        let mut conn = Connection::open_in_memory().map_err(|e| classify(&path, e))?;
        without_lookaside(&conn).map_err(|e| classify(&path, e))?;
        conn.deserialize_read_exact(rusqlite::MAIN_DB, image, image.len(), false).map_err(|e| classify(&path, e))?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|e| classify(&path, e))?;
        let supported = MIGRATIONS_LEN;
        if version != supported {
            return Err(StoreError::SchemaTooNew { path, found: version, supported });
        }
        Ok(ActorStore { conn, path })
    }

    /// The whole database as bytes (`sqlite3_serialize`).
    pub fn image(&self) -> Result<Vec<u8>, StoreError> {
        let data = self.conn.serialize(rusqlite::MAIN_DB).map_err(|e| classify(&self.path, e))?;
        Ok(data.to_vec())
    }

    /// Reads everything durable (the alarm checked against its checksum).
    pub fn load(&self) -> Result<DurableState, StoreError> {
        retry_when_locked(|| self.load_once())
    }

    fn load_once(&self) -> Result<DurableState, StoreError> {
        let err = |e| classify(&self.path, e);
        let mut stmt = self.conn.prepare_cached("SELECT key, value FROM kv ORDER BY key").map_err(err)?;
        let kv = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?)))
            .map_err(err)?
            .collect::<Result<_, _>>()
            .map_err(err)?;
        let alarm = self.metadata(ALARM_KEY)?.map(Millis);
        Ok(DurableState { kv, alarm })
    }

    /// Durably bumps and returns the actor's incarnation (see `Fence`).
    pub fn next_incarnation(&mut self) -> Result<u64, StoreError> {
        retry_when_locked(|| {
            let next = self.metadata(INCARNATION_KEY)?.unwrap_or(0) + 1;
            self.put_metadata(INCARNATION_KEY, next)?;
            Ok(next as u64)
        })
    }

    /// Applies one commit atomically.
    ///
    /// `BEGIN`/`COMMIT` go through the statement cache like every other statement: the
    /// simulator applies hundreds of commits per seed, and parsing them each time was a
    /// tenth of its run time (docs/PERFORMANCE.md).
    ///
    /// A batch that writes the alarm alone is one statement, which SQLite runs as its own
    /// transaction (autocommit): atomic and durable exactly like the same statement between
    /// `BEGIN` and `COMMIT`, with two statements fewer.
    pub fn apply(&mut self, batch: &CommitBatch) -> Result<(), StoreError> {
        retry_when_locked(|| self.apply_once(batch))
    }

    fn apply_once(&mut self, batch: &CommitBatch) -> Result<(), StoreError> {
        // An alarm-only commit is one statement, in autocommit (no BEGIN/COMMIT round trip).
        if batch.kv.is_empty() && !batch.clear_kv {
            return self.write_alarm(batch.alarm);
        }
        self.cached("BEGIN", [])?;
        match self.apply_in_transaction(batch) {
            Ok(()) => self.cached("COMMIT", []),
            Err(e) => {
                // The batch must not half-apply (R6): undo what the transaction wrote.
                let _ = self.cached("ROLLBACK", []);
                Err(e)
            }
        }
    }

    fn apply_in_transaction(&mut self, batch: &CommitBatch) -> Result<(), StoreError> {
        if batch.clear_kv {
            self.cached("DELETE FROM kv", [])?;
        }
        for (key, value) in &batch.kv {
            match value {
                Some(v) => self.cached(
                    "INSERT INTO kv (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    params![key, v],
                )?,
                None => self.cached("DELETE FROM kv WHERE key = ?1", params![key])?,
            }
        }
        self.write_alarm(batch.alarm)
    }

    fn write_alarm(&mut self, alarm: Option<Millis>) -> Result<(), StoreError> {
        match alarm {
            Some(t) => self.put_metadata(ALARM_KEY, t.0),
            None => self.cached("DELETE FROM _cf_METADATA WHERE key = ?1", params![ALARM_KEY]),
        }
    }

    /// Upserts one `_cf_METADATA` value with its checksum.
    fn put_metadata(&self, key: &str, value: i64) -> Result<(), StoreError> {
        self.cached(
            "INSERT INTO _cf_METADATA (key, value, checksum) VALUES (?1, ?2, ?3)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value, checksum = excluded.checksum",
            params![key, value, metadata_checksum(key, value)],
        )
    }

    /// Empties the store back to a freshly migrated one (no rows, incarnation 0), so one
    /// connection can serve many simulated actors in turn. An open transaction (left by a
    /// run that panicked) is rolled back first.
    pub fn reset(&mut self) -> Result<(), StoreError> {
        if !self.conn.is_autocommit() {
            self.cached("ROLLBACK", [])?;
        }
        self.cached("DELETE FROM kv", [])?;
        self.cached("DELETE FROM _cf_METADATA", [])
    }

    /// Runs one statement through the connection's statement cache.
    fn cached(&self, sql: &str, params: impl rusqlite::Params) -> Result<(), StoreError> {
        self.conn.prepare_cached(sql).and_then(|mut s| s.execute(params)).map(|_| ()).map_err(|e| classify(&self.path, e))
    }

    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    pub fn connection_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    fn metadata(&self, key: &str) -> Result<Option<i64>, StoreError> {
        read_metadata(&self.conn, &self.path, key)
    }
}
