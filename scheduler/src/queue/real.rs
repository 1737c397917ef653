//! Real mode: the queue on an on-disk SQLite file, the system clock, and a blocking loop.

use super::db::Db;
use crate::sqlite_file::Durability;
use rusqlite::{Connection, ErrorCode, OpenFlags};
use std::future::Future;
use std::path::Path;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long SQLite's own busy handler waits for the write lock before a statement reports BUSY.
pub const BUSY_TIMEOUT_MS: u64 = 5_000;
/// BUSY answers (each after a full busy timeout) before an operation gives up.
const BUSY_RETRIES: u32 = 3;

/// An on-disk queue connection: WAL, the chosen `synchronous`, a busy timeout.
pub struct RealDb {
    conn: Connection,
}

impl RealDb {
    /// Opens (creating) the queue file. `journal_mode=WAL` persists in the file; the rest are
    /// connection settings and are set on every open (queue-anchors.md §5 fact 4).
    pub fn open(path: &Path, durability: Durability) -> rusqlite::Result<RealDb> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags)?;
        conn.busy_timeout(Duration::from_millis(BUSY_TIMEOUT_MS))?;
        set_wal(&conn)?;
        conn.pragma_update(None, "synchronous", durability.pragma())?;
        Ok(RealDb { conn })
    }
}

/// Switches the file to WAL. When two processes open a fresh file at once, both try to
/// upgrade a shared lock to switch it; SQLite answers one of them BUSY at once, without
/// calling the busy handler (it would deadlock), so the switch is retried here.
fn set_wal(conn: &Connection) -> rusqlite::Result<()> {
    let give_up = Instant::now() + Duration::from_millis(BUSY_TIMEOUT_MS);
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
    async fn statement(&mut self, _label: &'static str) -> u64 {
        unix_ms()
    }

    async fn busy(&mut self, attempt: u32) -> bool {
        attempt < BUSY_RETRIES // SQLite's busy handler already waited BUSY_TIMEOUT_MS.
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
