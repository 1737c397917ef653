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
    #[error("{path}: not a usable SQLite database ({source}); move the file aside or delete it to start with an empty store")]
    NotADatabase {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
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
}
