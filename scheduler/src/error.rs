//! Typed errors of the scheduler crate.

use std::path::PathBuf;

/// Errors returned by the actor-side storage API (`setAlarm`, `getAlarm`, ...).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AlarmError {
    /// R2: `setAlarm(t ≤ 0)` is a TypeError in workerd.
    #[error("invalid alarm time {0} ms: an alarm time must be a positive number of milliseconds since the Unix epoch")]
    InvalidTime(i64),
    /// The output gate broke (a failed durable commit or a rejected move-earlier); the actor
    /// must be reset and reloaded from durable storage (workerd "getAlarm/setAlarm check for brokenness").
    #[error("actor storage is broken after a failed commit or a rejected alarm schedule; restart the actor")]
    Broken,
    /// `deleteAll()` inside an explicit transaction.
    #[error("deleteAll() cannot run inside an explicit transaction; commit or roll it back first")]
    InTransaction,
    /// An explicit-transaction call that does not match the open transactions.
    #[error("no explicit transaction is open")]
    NoTransaction,
}

/// Errors of the on-disk or in-memory SQLite stores. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: schema version {found} is newer than this build supports (at most {supported}); upgrade alarmsim or use another directory")]
    SchemaTooNew { path: PathBuf, found: i64, supported: i64 },
    #[error("{path}: cannot open or write the store ({source}); the directory must exist and be writable")]
    CannotOpen {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("{path}: migration failed ({source}); the file was left at its previous schema version")]
    Migration {
        path: PathBuf,
        #[source]
        source: rusqlite_migration::Error,
    },
    #[error("{path}: SQLite error ({source})")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    /// The path is there but is no regular file: a directory, a FIFO, a device, a socket, a
    /// dangling symlink (`what` says which).
    #[error("{path} is {what}, not a database file; nothing was changed")]
    NotAFile { path: PathBuf, what: String },
    /// The store's directory does not exist (it is not created: a typo must not become a new
    /// empty store).
    #[error("{path}: the directory {} does not exist", dir.display())]
    NoDirectory { path: PathBuf, dir: PathBuf },
    /// The file or its directory cannot be written by this user (`what`: "file" or "directory").
    /// Refused before any work, by mode bits and by `access(2)`, so the answer is the same for
    /// root and for other users.
    #[error("{path}: the {what} is read-only; nothing was changed (make it writable or use another path)")]
    ReadOnly { path: PathBuf, what: &'static str },
    /// Not a SQLite database, or a damaged one (wrong magic, truncated, failed integrity check).
    #[error("{path}: not a usable SQLite database ({detail}); it was left untouched: move it aside or delete it to start with an empty store")]
    Damaged { path: PathBuf, detail: String },
    /// A SQLite database, but not one of ours: another application's tables, columns that no
    /// version of this store has, or a `user_version` alarmsim never writes.
    #[error("{path} is not an alarmsim {kind} database ({detail}); it was left untouched")]
    Foreign { path: PathBuf, kind: &'static str, detail: String },
    /// Another process holds a lock on the file for longer than the lock policy waits
    /// ([`crate::sqlite_file::LOCK_WAIT_MS`] per attempt, [`crate::sqlite_file::LOCK_ATTEMPTS`] attempts).
    #[error("{path} is locked by another process (waited {waited_ms} ms); stop that process or try again later")]
    Locked { path: PathBuf, waited_ms: u64 },
    /// A row whose checksum does not match its contents, or whose value has the wrong type:
    /// it changed on disk without alarmsim writing it (a flipped bit, an edit by another tool).
    #[error("{path}: row {row} of table {table} is corrupted ({detail}); the value is not used")]
    Corrupted { path: PathBuf, table: &'static str, row: String, detail: String },
}

// ----- the lock policy (one for every store) ---------------------------------------------

/// How long one attempt waits for another process's lock: SQLite's busy timeout, set on
/// every connection to a store file (alarm stores and job queues alike).
pub const LOCK_WAIT_MS: u64 = 5_000;
/// Attempts before an operation on a locked store gives up with [`StoreError::Locked`]
/// (exit 2). Before each retry a line on stderr says what it is waiting for, so no wait is
/// silent and none is longer than `LOCK_WAIT_MS * LOCK_ATTEMPTS` (15 s).
pub const LOCK_ATTEMPTS: u32 = 3;

/// The line printed before retrying an operation on a locked file.
pub fn lock_notice(path: &std::path::Path, next_attempt: u32) {
    eprintln!(
        "waiting: {} is locked by another process (attempt {next_attempt} of {LOCK_ATTEMPTS}, {} s each)",
        path.display(),
        LOCK_WAIT_MS / 1000
    );
}

/// Runs `op` under the lock policy: while it fails with [`StoreError::Locked`] (each attempt
/// already waited [`LOCK_WAIT_MS`] in SQLite's busy handler), says so and retries, up to
/// [`LOCK_ATTEMPTS`] attempts; then the error names the whole wait.
pub fn retry_when_locked<T>(mut op: impl FnMut() -> Result<T, StoreError>) -> Result<T, StoreError> {
    let mut attempt = 1;
    loop {
        match op() {
            Err(StoreError::Locked { path, .. }) if attempt < LOCK_ATTEMPTS => {
                attempt += 1;
                lock_notice(&path, attempt);
            }
            Err(StoreError::Locked { path, .. }) => return Err(StoreError::Locked { path, waited_ms: LOCK_WAIT_MS * u64::from(attempt) }),
            other => return other,
        }
    }
}

/// Maps a SQLite error to the typed error that says what is wrong with the file.
pub fn classify(path: &std::path::Path, source: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    let path = path.to_path_buf();
    match source.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) | Some(ErrorCode::DatabaseCorrupt) => StoreError::Damaged { path, detail: source.to_string() },
        Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => StoreError::Locked { path, waited_ms: LOCK_WAIT_MS },
        Some(ErrorCode::ReadOnly) => StoreError::ReadOnly { path, what: "file" },
        Some(ErrorCode::CannotOpen) | Some(ErrorCode::PermissionDenied) => StoreError::CannotOpen { path, source },
        _ => StoreError::Sqlite { path, source },
    }
}

impl StoreError {
    /// The file the error is about.
    pub fn path(&self) -> &std::path::Path {
        match self {
            StoreError::SchemaTooNew { path, .. }
            | StoreError::CannotOpen { path, .. }
            | StoreError::Migration { path, .. }
            | StoreError::Sqlite { path, .. }
            | StoreError::NotAFile { path, .. }
            | StoreError::NoDirectory { path, .. }
            | StoreError::ReadOnly { path, .. }
            | StoreError::Damaged { path, .. }
            | StoreError::Foreign { path, .. }
            | StoreError::Locked { path, .. }
            | StoreError::Corrupted { path, .. } => path,
        }
    }

    /// Whether retrying the same operation cannot help: the file is not ours, damaged,
    /// corrupted, read-only or locked past the lock policy. A real-mode driver stops on these
    /// (exit 2) instead of feeding them back as transient failures.
    pub fn is_fatal(&self) -> bool {
        !matches!(self, StoreError::Sqlite { .. } | StoreError::Migration { .. })
    }
}
