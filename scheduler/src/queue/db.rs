//! The queue's only access to the world: a SQLite connection plus a hook before every
//! statement.

use super::error::QueueError;
use crate::probe::{queue as probe, Probe};
use rusqlite::{Connection, ErrorCode};

/// How the queue reaches SQLite and the clock.
#[allow(async_fn_in_trait)]
pub trait Db {
    /// Called before every SQL statement. Returns the current time in ms. In simulation this
    /// is where other processes interleave and where this process may crash, so a crash can
    /// land at every statement boundary; in real mode it returns at once.
    ///
    /// An `Err` is the statement's own failure (the simulator injects `SQLITE_IOERR`,
    /// `SQLITE_FULL` and `SQLITE_BUSY` here): the statement does not run, and the queue sees
    /// exactly what SQLite would have answered. [`run`] treats it like any other error.
    async fn statement(&mut self, label: &'static str) -> Result<u64, rusqlite::Error>;

    /// The database was busy (another connection holds the write lock). Waits before the
    /// retry, or returns false to give up.
    async fn busy(&mut self, attempt: u32) -> bool;

    fn conn(&self) -> &Connection;

    /// A coverage probe was reached (`crate::probe`): the simulator counts it when a sweep
    /// asks for coverage; real mode ignores it.
    fn probe(&mut self, _probe: &'static Probe) {}
}

/// Runs one statement: the hook, then `f` with the connection and the time, retrying
/// while SQLite answers BUSY (a `BEGIN IMMEDIATE` or a write racing another process).
pub async fn run<D: Db, T>(db: &mut D, label: &'static str, mut f: impl FnMut(&Connection, u64) -> rusqlite::Result<T>) -> Result<T, QueueError> {
    let mut attempt = 0;
    loop {
        let outcome = match db.statement(label).await {
            Ok(now) => f(db.conn(), now),
            Err(injected) => Err(injected),
        };
        match outcome {
            Err(e) if e.sqlite_error_code() == Some(ErrorCode::DatabaseBusy) => {
                db.probe(&probe::BUSY_RETRIED);
                attempt += 1;
                if !db.busy(attempt).await {
                    return Err(QueueError::Busy { op: label, attempts: attempt });
                }
            }
            result => return result.map_err(|source| QueueError::Sql { op: label, source }),
        }
    }
}
