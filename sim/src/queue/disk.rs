//! The job queue's disk: one real SQLite database shared by every process, each with its
//! own connection, plus the same durability model as the alarm hosts (`sim/src/disk.rs`).
//!
//! - The database is an in-memory `memdb` file (`file:/name?vfs=memdb`): several
//!   connections share it with SQLite's real locking, so `BEGIN IMMEDIATE` answers BUSY
//!   while another process holds the write lock, and a process that dies mid-transaction
//!   (its connection dropped) is rolled back by SQLite itself.
//! - A process crash loses nothing committed. A power loss under `synchronous=NORMAL` rolls
//!   the database back to its last sync image; under `FULL` it loses nothing.
//! - Sync images are taken lazily, at the first statement after each sync boundary, and only
//!   while no process holds the write lock (the image must be a committed state).

use alarmsim_scheduler::Durability;
use rusqlite::{Connection, OpenFlags, MAIN_DB};
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use std::sync::atomic::{AtomicU64, Ordering};

/// memdb names are global to the OS process, and seeds run in parallel threads: every disk
/// gets a fresh name. The counter only names files; it never reaches the simulation.
static NEXT_NAME: AtomicU64 = AtomicU64::new(0);

fn fresh_uri() -> String {
    format!("file:/alarmsim-queue-{}?vfs=memdb", NEXT_NAME.fetch_add(1, Ordering::Relaxed))
}

fn open(uri: &str) -> Connection {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(uri, flags).expect("open an in-memory queue database");
    // BUSY must come back at once: SQLite's busy handler would sleep in real time. The
    // simulated process waits in simulated time instead (`Db::busy`).
    conn.busy_timeout(std::time::Duration::ZERO).expect("set busy_timeout");
    conn.set_prepared_statement_cache_capacity(64);
    conn
}

/// The database's bytes. A database nothing was written to has no pages, and SQLite
/// serializes it as nothing at all.
fn bytes(conn: &Connection) -> Vec<u8> {
    let pages: i64 = conn.prepare_cached("PRAGMA page_count").and_then(|mut s| s.query_row([], |r| r.get(0))).expect("read the page count");
    if pages == 0 {
        return Vec::new();
    }
    conn.serialize(MAIN_DB).expect("serialize the queue database").to_vec()
}

/// Connections a dead process left, ready for the next process (of this disk generation).
type Pool = Rc<RefCell<Vec<Connection>>>;

/// A process's connection. When the process's last handle drops, a connection SQLite would
/// hand out fresh anyway (no transaction open, no temporary objects) goes back to its
/// disk's pool instead of closing: opening one, reading the schema and preparing every
/// statement again cost more than the rest of a run (processes restart dozens of times per
/// seed). Nothing a process can observe differs from a new connection, except that cached
/// statements are already prepared.
pub struct PooledConn {
    conn: Option<Connection>,
    home: Weak<RefCell<Vec<Connection>>>,
}

impl std::ops::Deref for PooledConn {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn.as_ref().expect("a pooled connection is present until it drops")
    }
}

impl Drop for PooledConn {
    fn drop(&mut self) {
        let (Some(conn), Some(pool)) = (self.conn.take(), self.home.upgrade()) else { return };
        if reusable(&conn) {
            pool.borrow_mut().push(conn);
        }
    }
}

/// A connection is as good as new when it holds no transaction and no temporary objects; its
/// commit hook (the world's fault injector) is removed, the next process installs its own.
fn reusable(conn: &Connection) -> bool {
    if !conn.is_autocommit() {
        return false;
    }
    let temp: rusqlite::Result<i64> = conn.prepare_cached("SELECT count(*) FROM sqlite_temp_master").and_then(|mut s| s.query_row([], |r| r.get(0)));
    if temp != Ok(0) {
        return false;
    }
    conn.commit_hook(None::<fn() -> bool>).is_ok()
}

pub struct QueueDisk {
    uri: String,
    /// Connections to this generation of the database, ready for reuse (`PooledConn`).
    pool: Pool,
    /// Keeps the shared database alive between processes; also reads it for the checker.
    keeper: Connection,
    durability: Durability,
    sync_interval_ms: u64,
    next_sync_ms: u64,
    /// The last sync image (NORMAL only).
    synced: Option<Vec<u8>>,
    /// `PRAGMA data_version` when the image was taken: unchanged means no commit since.
    synced_version: i64,
}

impl QueueDisk {
    /// A disk whose initial contents were written by `setup` (and are synced).
    pub fn new(durability: Durability, sync_interval_ms: u64, setup: impl FnOnce(&Connection)) -> QueueDisk {
        assert!(sync_interval_ms > 0, "a checkpoint interval must be positive");
        let uri = fresh_uri();
        let keeper = open(&uri);
        // Small pages, as for the alarm world's stores (`sqlite_file.rs`): every write copies
        // whole pages into the journal and the database.
        keeper.pragma_update(None, "page_size", 512).expect("set the page size of an empty database");
        setup(&keeper);
        let mut disk = QueueDisk { uri, pool: Pool::default(), keeper, durability, sync_interval_ms, next_sync_ms: sync_interval_ms, synced: None, synced_version: -1 };
        assert!(disk.try_sync(), "nobody holds the write lock before the processes start");
        disk
    }

    /// A connection for a process: one a dead process left, or a new one.
    pub fn connect(&self) -> PooledConn {
        let conn = self.pool.borrow_mut().pop().unwrap_or_else(|| open(&self.uri));
        PooledConn { conn: Some(conn), home: Rc::downgrade(&self.pool) }
    }

    /// The keeper connection, to read the database (checks, final state).
    pub fn reader(&self) -> &Connection {
        &self.keeper
    }

    /// Takes the sync image if a boundary has passed by `now_ms` and the database is at a
    /// committed state. Returns true if an image was taken.
    pub fn before_statement(&mut self, now_ms: u64) -> bool {
        if now_ms < self.next_sync_ms || !self.try_sync() {
            return false;
        }
        let behind = (now_ms - self.next_sync_ms) / self.sync_interval_ms + 1;
        self.next_sync_ms += behind * self.sync_interval_ms;
        true
    }

    /// Takes the image unless a process holds the write lock (then a later statement will).
    fn try_sync(&mut self) -> bool {
        if self.durability == Durability::Full {
            return true; // Every commit is synced; there is no image to keep.
        }
        // BUSY while a process holds the write lock (memdb blocks readers then): try later.
        let Ok(version) = self.data_version() else { return false };
        if version == self.synced_version {
            return true; // Nothing committed since the last image: it is still the synced state.
        }
        if self.keeper.prepare_cached("BEGIN IMMEDIATE").and_then(|mut s| s.execute([])).is_err() {
            return false;
        }
        let image = bytes(&self.keeper);
        self.keeper.prepare_cached("COMMIT").and_then(|mut s| s.execute([])).expect("end the sync transaction");
        self.synced = Some(image);
        self.synced_version = version;
        true
    }

    /// Changes whenever another connection commits (SQLite's `data_version`).
    fn data_version(&self) -> rusqlite::Result<i64> {
        self.keeper.prepare_cached("PRAGMA data_version").and_then(|mut s| s.query_row([], |r| r.get(0)))
    }

    /// A power loss (every process is already dead). Under NORMAL the database becomes its
    /// last sync image; returns true if that lost anything.
    pub fn power_loss(&mut self) -> bool {
        if self.durability == Durability::Full {
            return false;
        }
        let image = self.synced.clone().expect("a NORMAL disk always has an image");
        if bytes(&self.keeper) == image {
            return false;
        }
        // A deserialized database is private to its connection, so the image is copied into
        // a fresh shared file with the backup API; processes reconnect to the new name.
        let uri = fresh_uri();
        let mut keeper = open(&uri);
        if !image.is_empty() {
            let mut source = Connection::open_in_memory().expect("open a scratch database");
            let len = image.len();
            source.deserialize_read_exact(MAIN_DB, &image[..], len, true).expect("deserialize the sync image");
            let backup = rusqlite::backup::Backup::new(&source, &mut keeper).expect("start the restore");
            backup.step(-1).expect("copy the sync image");
        }
        self.keeper = keeper;
        self.uri = uri;
        // Connections to the old generation close as their processes' handles drop.
        self.pool = Pool::default();
        self.synced_version = self.data_version().expect("nobody holds a lock after a power loss");
        true
    }
}
