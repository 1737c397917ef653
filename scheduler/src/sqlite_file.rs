//! Opening a SQLite store safely: typed errors that name the file, no write to a file we
//! cannot use, and migrations whose `user_version` bump commits with them.

use crate::error::StoreError;
use rusqlite::{Connection, ErrorCode, OpenFlags};
use rusqlite_migration::Migrations;
use std::path::{Path, PathBuf};

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

/// Opens (creating if needed) and migrates a store. Checks, in order, before anything is
/// written: the directory is writable, the file is a SQLite database (header and, for files,
/// `quick_check`), and its schema version is not newer than `migrations` know.
pub fn open(location: &Location, migrations: &Migrations<'static>, durability: Durability) -> Result<Connection, StoreError> {
    let path = location.display_path();
    let mut conn = match location {
        Location::Memory => {
            let conn = Connection::open_in_memory().map_err(|source| StoreError::CannotOpen { path: path.clone(), source })?;
            // The smallest page SQLite allows. An in-memory store holds a few rows, and every
            // write copies whole pages (into the rollback journal and the database): 4 KiB
            // pages made that copying a tenth of a simulated seed (docs/PERFORMANCE.md).
            conn.pragma_update(None, "page_size", 512).map_err(|source| classify(&path, source))?;
            conn
        }
        Location::File(file) => open_file(file)?,
    };
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|source| classify(&path, source))?;
    if matches!(location, Location::File(_)) {
        check_integrity(&conn, &path)?;
    }
    let supported = migrations_len(migrations, &conn, &path)?;
    if found > supported {
        return Err(StoreError::SchemaTooNew { path, found, supported });
    }
    conn.pragma_update(None, "synchronous", durability.pragma()).map_err(|source| classify(&path, source))?;
    migrations.to_latest(&mut conn).map_err(|source| StoreError::Migration { path: path.clone(), source })?;
    // WAL only once the migrations committed: switching the journal mode rewrites the header,
    // and a file whose migration fails (and rolls back) must be left exactly as it was.
    if matches!(location, Location::File(_)) {
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(())).map_err(|source| classify(&path, source))?;
    }
    Ok(conn)
}

fn open_file(file: &Path) -> Result<Connection, StoreError> {
    let path = file.to_path_buf();
    let dir = file.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let cannot_open = |detail: &str| StoreError::CannotOpen {
        path: path.clone(),
        source: rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN), Some(detail.to_string())),
    };
    let meta = std::fs::metadata(dir).map_err(|_| cannot_open("the directory does not exist"))?;
    // Checked from the mode bits as well, so the answer is the same when running as root.
    if meta.permissions().readonly() {
        return Err(cannot_open("the directory is read-only"));
    }
    if file.exists() && std::fs::metadata(file).map(|m| m.permissions().readonly()).unwrap_or(false) {
        return Err(cannot_open("the file is read-only"));
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    Connection::open_with_flags(file, flags).map_err(|source| classify(&path, source))
}

/// "The file is a SQLite database": reading the header is not enough, because a file cut
/// short inside its last page keeps a valid header and page count and only fails when the
/// lost rows are read, after the open has already switched the journal mode and migrated.
/// `quick_check` only reads, so a damaged file is refused untouched.
fn check_integrity(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let mut stmt = conn.prepare("PRAGMA quick_check").map_err(|source| classify(path, source))?;
    let problems = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
        .map_err(|source| classify(path, source))?;
    if problems == ["ok"] {
        return Ok(());
    }
    let detail = format!("integrity check failed: {}", problems.join("; "));
    Err(StoreError::NotADatabase {
        path: path.to_path_buf(),
        source: rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CORRUPT), Some(detail)),
    })
}

fn migrations_len(migrations: &Migrations<'static>, conn: &Connection, path: &Path) -> Result<i64, StoreError> {
    // `pending_migrations` = len - user_version, so len = pending + user_version.
    let pending = migrations.pending_migrations(conn).map_err(|source| StoreError::Migration { path: path.to_path_buf(), source })?;
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|source| classify(path, source))?;
    Ok(i64::from(pending) + current)
}

/// Maps a SQLite error to the typed error that says what is wrong with the file.
pub fn classify(path: &Path, source: rusqlite::Error) -> StoreError {
    let path = path.to_path_buf();
    match source.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) | Some(ErrorCode::DatabaseCorrupt) => StoreError::NotADatabase { path, source },
        Some(ErrorCode::CannotOpen) | Some(ErrorCode::ReadOnly) | Some(ErrorCode::PermissionDenied) => {
            StoreError::CannotOpen { path, source }
        }
        _ => StoreError::Sqlite { path, source },
    }
}
