//! Accepting a store file before anything is written to it (issue #16).
//!
//! Every on-disk store (an alarm manager's `metadata.sqlite`, an actor's database, a job
//! queue) is checked read-only, in this order, before any `PRAGMA journal_mode`, migration
//! or write; a file refused at any step is left byte-identical:
//!
//! 1. the path is a regular file (or missing: a new store), not a directory, FIFO, device,
//!    socket or dangling symlink;
//! 2. for writing, the file and its directory are writable by this user, by mode bits and
//!    by `access(2)`, so root and other users get the same answer;
//! 3. the 100-byte header has SQLite's magic and a valid page size, and the file holds as
//!    many pages as the header says (a file cut short keeps a valid header);
//! 4. SQLite's `quick_check` passes;
//! 5. `user_version` is one this store has: 0 only for an empty database (a non-empty one
//!    without our tables is another application's), never negative, never newer;
//! 6. the tables and columns are exactly those of that schema version;
//! 7. the store's own row check (types, checksums) passes, at the latest version.
//!
//! The check connection is read-only. A WAL-mode file without a `-wal` file is read as
//! `immutable`, so no `-wal`/`-shm` files are created beside a file that is then refused; a
//! file with a hot rollback journal (an interrupted write) is opened read-write so SQLite can
//! roll the journal back first, which restores the last committed state.

use crate::error::{classify, StoreError, LOCK_WAIT_MS};
use rusqlite::{Connection, OpenFlags};
use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What a store is, for the checks: its name in messages, its newest schema version, how to
/// build any version of it (to compare shapes), and its row check.
pub struct StoreKind {
    /// In messages: "not an alarmsim {name} database".
    pub name: &'static str,
    pub latest: i64,
    /// Builds schema version `version` in an empty database.
    pub install: fn(&mut Connection, i64) -> Result<(), String>,
    /// Checks the rows of a database at schema `version` (types, checksums); read-only.
    pub check_rows: fn(&Connection, &Path, i64) -> Result<(), StoreError>,
}

/// Whether the caller will write the file or only read it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Write,
    Read,
}

/// What the checks found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accepted {
    /// No file yet, or an empty one: a new store.
    New,
    /// A store of ours at this schema version.
    Version(i64),
}

fn cant(path: &Path, what: impl Into<String>) -> StoreError {
    StoreError::NotAFile { path: path.to_path_buf(), what: what.into() }
}

/// Step 1 and 2: what is at `path`, and whether this user may write it. Returns the file's
/// size, or `None` when there is no file.
pub fn check_path(path: &Path, access: Access) -> Result<Option<u64>, StoreError> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let link = match std::fs::symlink_metadata(path) {
        Ok(meta) => Some(meta),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(cant(path, format!("unreadable ({e})"))),
    };
    let Some(link) = link else {
        if access == Access::Read {
            return Err(cant(path, "missing (no such file)"));
        }
        match std::fs::metadata(dir) {
            Ok(meta) if meta.is_dir() => {}
            _ => return Err(StoreError::NoDirectory { path: path.to_path_buf(), dir: dir.to_path_buf() }),
        }
        return writable(dir, "directory", path).map(|()| None);
    };
    let target = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(_) => return Err(cant(path, "a symlink to nothing")),
    };
    let via = if link.file_type().is_symlink() {
        let to = std::fs::read_link(path).map(|t| t.display().to_string()).unwrap_or_default();
        format!("a symlink to {to}, which is ")
    } else {
        String::new()
    };
    let ft = target.file_type();
    let kind = if ft.is_dir() {
        Some("a directory")
    } else if ft.is_fifo() {
        Some("a FIFO (named pipe)")
    } else if ft.is_char_device() || ft.is_block_device() {
        Some("a device")
    } else if ft.is_socket() {
        Some("a socket")
    } else {
        None
    };
    if let Some(kind) = kind {
        return Err(cant(path, format!("{via}{kind}")));
    }
    if access == Access::Write {
        writable(dir, "directory", path)?;
        writable(path, "file", path)?;
    }
    Ok(Some(target.len()))
}

/// The same answer for every user: the mode bits (root may write a read-only file, but the
/// store must not) and `access(2)` (another user's file).
fn writable(target: &Path, what: &'static str, reported: &Path) -> Result<(), StoreError> {
    let read_only = || StoreError::ReadOnly { path: reported.to_path_buf(), what };
    let meta = std::fs::metadata(target).map_err(|_| read_only())?;
    if meta.permissions().readonly() {
        return Err(read_only());
    }
    let Ok(c_path) = std::ffi::CString::new(target.as_os_str().as_encoded_bytes()) else { return Err(read_only()) };
    let mode = if what == "directory" { libc::W_OK | libc::X_OK } else { libc::W_OK };
    // SAFETY: a NUL-terminated path we own; access only reads it.
    if unsafe { libc::access(c_path.as_ptr(), mode) } != 0 {
        return Err(read_only());
    }
    Ok(())
}

/// SQLite's 16-byte magic string.
const MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// Step 3: the header, read with plain file I/O. Returns whether the file is in WAL mode.
fn check_header(path: &Path, size: u64) -> Result<bool, StoreError> {
    let damaged = |detail: String| StoreError::Damaged { path: path.to_path_buf(), detail };
    let mut header = [0u8; 100];
    let mut file = std::fs::File::open(path).map_err(|e| damaged(format!("cannot read it: {e}")))?;
    let read = file.read(&mut header).map_err(|e| damaged(format!("cannot read it: {e}")))?;
    if read < header.len() {
        // A short read of a regular file means the file is that short.
        return Err(damaged(format!("truncated to {size} bytes; a SQLite database starts with a 100-byte header")));
    }
    if &header[..16] != MAGIC {
        return Err(damaged("wrong magic: the file does not start with \"SQLite format 3\"".to_string()));
    }
    let page_size = match u32::from(u16::from_be_bytes([header[16], header[17]])) {
        1 => 65_536,
        p => p,
    };
    if !(512..=65_536).contains(&page_size) || !page_size.is_power_of_two() {
        return Err(damaged(format!("the header's page size {page_size} is not a power of two from 512 to 65536")));
    }
    let wal = header[18] == 2 || header[19] == 2;
    // The in-header page count is valid when "version-valid-for" equals the change counter.
    let change_counter = u32::from_be_bytes([header[24], header[25], header[26], header[27]]);
    let valid_for = u32::from_be_bytes([header[92], header[93], header[94], header[95]]);
    let pages = u64::from(u32::from_be_bytes([header[28], header[29], header[30], header[31]]));
    let expected = pages * u64::from(page_size);
    let wal_has_frames = std::fs::metadata(sibling(path, "-wal")).is_ok_and(|m| m.len() > 0);
    if change_counter == valid_for && !wal_has_frames && size < expected {
        return Err(damaged(format!("truncated: the header says {pages} pages of {page_size} bytes ({expected} bytes) but the file has {size} bytes")));
    }
    Ok(wal)
}

/// Whether the header, however damaged, has SQLite's magic and says WAL mode (so that a check
/// connection reads it without creating `-wal`/`-shm` files beside it).
fn wal_bit(path: &Path) -> bool {
    let mut header = [0u8; 20];
    std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut header)).is_ok() && &header[..16] == MAGIC && (header[18] == 2 || header[19] == 2)
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// A connection for the checks: read-only, and `immutable` for a WAL file without a `-wal`
/// (so nothing is created beside it); read-write only to let SQLite roll back a hot journal.
pub fn check_connection(path: &Path, wal: bool) -> Result<Connection, StoreError> {
    let hot_journal = std::fs::metadata(sibling(path, "-journal")).is_ok_and(|m| m.len() > 0);
    let wal_file = sibling(path, "-wal").exists();
    let conn = if hot_journal {
        Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
    } else {
        let mut uri = url_path(path);
        uri.push_str(if wal && !wal_file { "?mode=ro&immutable=1" } else { "?mode=ro" });
        Connection::open_with_flags(uri, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX)
    }
    .map_err(|e| classify(path, e))?;
    conn.busy_timeout(Duration::from_millis(LOCK_WAIT_MS)).map_err(|e| classify(path, e))?;
    Ok(conn)
}

/// `file:` URI of a path, with the characters URIs reserve escaped.
fn url_path(path: &Path) -> String {
    let mut uri = String::from("file:");
    for b in path.as_os_str().as_encoded_bytes() {
        match b {
            b'?' | b'#' | b'%' => uri.push_str(&format!("%{b:02X}")),
            _ => uri.push(*b as char),
        }
    }
    uri
}

/// A store's tables and their columns: (name, declared type in upper case). Constraints are
/// left out: an older writer's equivalent table (a rowid table where ours is `WITHOUT
/// ROWID`, so its key may be NULL) is still ours.
type Shape = BTreeMap<String, Vec<(String, String)>>;

fn shape_of(conn: &Connection) -> rusqlite::Result<Shape> {
    let mut shape = Shape::new();
    let mut tables = conn.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name")?;
    let names = tables.query_map([], |r| r.get::<_, String>(0))?.collect::<rusqlite::Result<Vec<_>>>()?;
    for name in names {
        let mut info = conn.prepare("SELECT name, upper(type) FROM pragma_table_info(?1) ORDER BY cid")?;
        let columns = info.query_map([&name], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<Vec<_>>>()?;
        shape.insert(name, columns);
    }
    Ok(shape)
}

/// The first difference between two shapes, in words.
fn difference(found: &Shape, expected: &Shape, version: i64) -> Option<String> {
    let columns = |cols: &[(String, String)]| cols.iter().map(|(n, t)| format!("{n} {t}")).collect::<Vec<_>>().join(", ");
    for (table, want) in expected {
        match found.get(table) {
            None => return Some(format!("it has no table {table}, which schema version {version} has")),
            Some(have) if have != want => {
                return Some(format!("table {table} has columns ({}) where schema version {version} has ({})", columns(have), columns(want)));
            }
            Some(_) => {}
        }
    }
    found.keys().find(|t| !expected.contains_key(*t)).map(|t| format!("it has a table {t} that schema version {version} does not have"))
}

/// Refusals of a file that changed while it was checked are checked again, this many times.
const CHANGED_RECHECKS: u32 = 50;

/// Steps 1 to 7 for `path` as a store of `kind`. Nothing is written (see the module docs for
/// the one exception, a hot journal).
///
/// A WAL file without a `-wal` is read `immutable`, without SQLite's locks, so a process that
/// writes it meanwhile (a checkpoint copying pages in, a migration of a file it just
/// created) can show the check a torn state: tables beside `user_version` 0, a failed
/// `quick_check` (`queue_kill.rs`, two processes opening a fresh queue at once). A refusal is
/// trusted only if the file did not change while it was checked; otherwise it is checked again.
pub fn accept(path: &Path, kind: &StoreKind, access: Access) -> Result<Accepted, StoreError> {
    let mut rechecks = 0;
    loop {
        let before = FileState::of(path);
        let result = accept_once(path, kind, access);
        if result.is_ok() || rechecks == CHANGED_RECHECKS || FileState::of(path) == before {
            return result;
        }
        rechecks += 1;
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// What tells that another process wrote a file: its size, its modification time, and
/// whether its `-wal` and `-journal` exist.
#[derive(Debug, PartialEq, Eq)]
struct FileState {
    len: Option<u64>,
    modified: Option<std::time::SystemTime>,
    wal: bool,
    journal: bool,
}

impl FileState {
    fn of(path: &Path) -> FileState {
        let meta = std::fs::metadata(path).ok();
        FileState {
            len: meta.as_ref().map(|m| m.len()),
            modified: meta.and_then(|m| m.modified().ok()),
            wal: sibling(path, "-wal").exists(),
            journal: sibling(path, "-journal").exists(),
        }
    }
}

fn accept_once(path: &Path, kind: &StoreKind, access: Access) -> Result<Accepted, StoreError> {
    let Some(size) = check_path(path, access)? else { return Ok(Accepted::New) };
    if size == 0 {
        return Ok(Accepted::New);
    }
    let conn = open_for_checks(path, size)?;
    check_database(&conn, path, kind).map(Accepted::Version)
}

/// Step 3, then a check connection. The header is read without a lock, so a header that
/// looks wrong is confirmed by SQLite under its shared lock (another process may have been
/// writing the first page of a new file just then); the header's words are the ones reported.
pub fn open_for_checks(path: &Path, size: u64) -> Result<Connection, StoreError> {
    match check_header(path, size) {
        Ok(wal) => check_connection(path, wal),
        Err(header_error) => {
            let confirmed = check_connection(path, wal_bit(path)).and_then(|c| c.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0)).map(|_| c).map_err(|e| classify(path, e)));
            match confirmed {
                Ok(conn) if check_header(path, std::fs::metadata(path).map_or(size, |m| m.len())).is_ok() => Ok(conn),
                _ => Err(header_error),
            }
        }
    }
}

/// Steps 4 to 7 on an open connection; returns the schema version.
pub fn check_database(conn: &Connection, path: &Path, kind: &StoreKind) -> Result<i64, StoreError> {
    let err = |e| classify(path, e);
    let problems: Vec<String> = conn.prepare("PRAGMA quick_check").and_then(|mut s| s.query_map([], |r| r.get(0))?.collect()).map_err(err)?;
    if problems != ["ok"] {
        return Err(StoreError::Damaged { path: path.to_path_buf(), detail: format!("integrity check failed: {}", problems.join("; ")) });
    }
    let foreign = |detail: String| StoreError::Foreign { path: path.to_path_buf(), kind: kind.name, detail };
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(err)?;
    if version < 0 {
        return Err(foreign(format!("user_version {version}: alarmsim writes versions 0 to {}", kind.latest)));
    }
    if version > kind.latest {
        return Err(StoreError::SchemaTooNew { path: path.to_path_buf(), found: version, supported: kind.latest });
    }
    let found = shape_of(conn).map_err(err)?;
    if version == 0 {
        return match found.keys().next() {
            None => Ok(0),
            Some(table) => Err(foreign(format!("it holds tables (such as {table}) but user_version 0: another application's database"))),
        };
    }
    let mut model = Connection::open_in_memory().map_err(err)?;
    (kind.install)(&mut model, version).map_err(|e| foreign(format!("cannot build schema version {version} to compare: {e}")))?;
    let expected = shape_of(&model).map_err(err)?;
    if let Some(detail) = difference(&found, &expected, version) {
        return Err(foreign(detail));
    }
    (kind.check_rows)(conn, path, version)?;
    Ok(version)
}
