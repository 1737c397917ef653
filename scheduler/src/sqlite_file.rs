//! Opening a SQLite store safely: typed errors that name the file, no write to a file we
//! have not accepted (`store_file.rs`), a busy timeout on every connection (the lock policy
//! in `error.rs`), and migrations whose `user_version` bump commits with them.

pub use crate::error::classify;
use crate::error::{retry_when_locked, StoreError, LOCK_WAIT_MS};
use crate::store_file::{self, Access, StoreKind};
use rusqlite::{Connection, OpenFlags};
use rusqlite_migration::Migrations;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// SQLite's `synchronous` setting in WAL mode (queue-anchors.md): `Normal` may lose the
/// commits made since the last checkpoint on power loss (never corrupts); `Full` keeps them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub enum Durability {
    Normal,
    #[default]
    Full,
}

impl Durability {
    pub fn pragma(self) -> &'static str {
        match self {
            Durability::Normal => "NORMAL",
            Durability::Full => "FULL",
        }
    }
}

/// Where a store lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// A file on disk (its directory must exist and be writable).
    File(PathBuf),
    /// An in-memory database (in-memory namespaces, PR #6104; the simulator's nodes).
    Memory,
}

impl Location {
    pub fn display_path(&self) -> PathBuf {
        match self {
            Location::File(p) => p.clone(),
            Location::Memory => PathBuf::from(":memory:"),
        }
    }
}

/// Opens (creating if needed) and migrates a store of `kind`. A file is accepted first
/// (`store_file.rs`: what the path is, permissions, header, integrity, version, shape, rows),
/// read-only, so nothing is written to a file that is then refused; the whole open runs
/// under the lock policy ([`crate::error::retry_when_locked`]).
pub fn open(location: &Location, kind: &StoreKind, migrations: &Migrations<'static>, durability: Durability) -> Result<Connection, StoreError> {
    match location {
        Location::Memory => open_memory(migrations, durability),
        Location::File(file) => retry_when_locked(|| open_file(file, kind, migrations, durability)),
    }
}

fn open_memory(migrations: &Migrations<'static>, durability: Durability) -> Result<Connection, StoreError> {
    let path = Location::Memory.display_path();
    let mut conn = Connection::open_in_memory().map_err(|source| StoreError::CannotOpen { path: path.clone(), source })?;
    // The smallest page SQLite allows. An in-memory store holds a few rows, and every
    // write copies whole pages (into the rollback journal and the database): 4 KiB
    // pages made that copying a tenth of a simulated seed (docs/PERFORMANCE.md).
    conn.pragma_update(None, "page_size", 512).map_err(|source| classify(&path, source))?;
    conn.pragma_update(None, "synchronous", durability.pragma()).map_err(|source| classify(&path, source))?;
    migrations.to_latest(&mut conn).map_err(|source| migration_error(&path, source))?;
    Ok(conn)
}

fn open_file(file: &Path, kind: &StoreKind, migrations: &Migrations<'static>, durability: Durability) -> Result<Connection, StoreError> {
    let path = file.to_path_buf();
    store_file::accept(file, kind, Access::Write)?;
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(file, flags).map_err(|source| classify(&path, source))?;
    conn.busy_timeout(Duration::from_millis(LOCK_WAIT_MS)).map_err(|source| classify(&path, source))?;
    // SQLite opens a file it may not write read-only without saying so; the permission
    // check above makes that rare, this makes it impossible.
    if conn.is_readonly(rusqlite::MAIN_DB).map_err(|source| classify(&path, source))? {
        return Err(StoreError::ReadOnly { path, what: "file" });
    }
    conn.pragma_update(None, "synchronous", durability.pragma()).map_err(|source| classify(&path, source))?;
    migrations.to_latest(&mut conn).map_err(|source| migration_error(&path, source))?;
    // WAL only once the migrations committed: switching the journal mode rewrites the header,
    // and a file whose migration fails (and rolls back) must be left exactly as it was.
    conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(())).map_err(|source| classify(&path, source))?;
    Ok(conn)
}

/// A failed migration; a lock is the lock policy's to handle.
fn migration_error(path: &Path, source: rusqlite_migration::Error) -> StoreError {
    match source {
        rusqlite_migration::Error::RusqliteError { err, .. } if matches!(classify(path, clone_error(&err)), StoreError::Locked { .. }) => {
            classify(path, err)
        }
        source => StoreError::Migration { path: path.to_path_buf(), source },
    }
}

fn clone_error(e: &rusqlite::Error) -> rusqlite::Error {
    match e.sqlite_error() {
        Some(inner) => rusqlite::Error::SqliteFailure(*inner, None),
        None => rusqlite::Error::InvalidQuery,
    }
}

/// Builds schema version `version` of a store with `rusqlite_migration` migrations (for the
/// shape comparison of [`StoreKind::install`]).
pub fn install_version(migrations: &Migrations<'static>, conn: &mut Connection, version: i64) -> Result<(), String> {
    let version = usize::try_from(version).map_err(|_| format!("no schema version {version}"))?;
    migrations.to_version(conn, version).map_err(|e| e.to_string())
}
