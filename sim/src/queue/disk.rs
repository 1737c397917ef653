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
//! - The harness chooses `synchronous`, but a queue may set it on its own connection: an
//!   authorizer sees every `PRAGMA name = value` a connection prepares. A FULL disk whose
//!   queue asked for less (`NORMAL`, `OFF`) is *weakened*: from then on it syncs only at
//!   its sync boundaries, as a NORMAL disk does, while the checker keeps the FULL promise.
//!   (All processes run the same queue, so the whole disk is weakened; a FULL commit of
//!   another connection, which would sync the log before it, is not modelled.)

use alarmsim_scheduler::Durability;
use rusqlite::{Connection, OpenFlags, MAIN_DB};
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use std::sync::atomic::{AtomicBool, AtomicI8, AtomicU64, Ordering};
use std::sync::Arc;

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

/// `synchronous` levels as SQLite numbers them (`OFF` 0 … `EXTRA` 3); `FULL` is its default.
pub const SYNCHRONOUS_FULL: i8 = 2;

/// What a process's queue asked of its connection with `PRAGMA name = value`, seen by the
/// connection's authorizer when the statement is prepared (a queue prepares a statement to
/// run it).
#[derive(Debug)]
struct PragmaLog {
    /// A per-connection setting was changed: the connection is no longer as good as new.
    settings_changed: AtomicBool,
    /// The last `synchronous` level asked for and not yet taken, or -1.
    synchronous: AtomicI8,
}

/// SQLite's spellings of a `synchronous` level (`0`–`3`, `OFF`, `NORMAL`, `FULL`, `EXTRA`).
fn synchronous_level(value: &str) -> Option<i8> {
    match value.trim_matches(|c| c == '\'' || c == '"').to_ascii_uppercase().as_str() {
        "0" | "OFF" => Some(0),
        "1" | "NORMAL" => Some(1),
        "2" | "FULL" => Some(2),
        "3" | "EXTRA" => Some(3),
        _ => None,
    }
}

/// A process's connection with its pragma log: the authorizer records the pragmas it prepares.
fn open_for_process(uri: &str) -> (Connection, Arc<PragmaLog>) {
    let conn = open(uri);
    let log = Arc::new(PragmaLog { settings_changed: AtomicBool::new(false), synchronous: AtomicI8::new(-1) });
    let seen = log.clone();
    conn.authorizer(Some(move |ctx: rusqlite::hooks::AuthContext<'_>| {
        if let rusqlite::hooks::AuthAction::Pragma { pragma_name, pragma_value: Some(value) } = ctx.action {
            let name = pragma_name.to_ascii_lowercase();
            if name == "busy_timeout" {
                // SQLite's busy handler sleeps in real time (a sweep would crawl, one BUSY
                // at a time) and sees no other process move meanwhile. The simulated process
                // waits in simulated time instead (`Db::busy`), so the pragma compiles to a
                // no-op (SQLITE_IGNORE).
                return rusqlite::hooks::Authorization::Ignore;
            }
            // The header fields a migration writes belong to the file, not the connection.
            if !matches!(name.as_str(), "user_version" | "application_id") {
                seen.settings_changed.store(true, Ordering::Relaxed);
            }
            if name == "synchronous" {
                if let Some(level) = synchronous_level(value) {
                    seen.synchronous.store(level, Ordering::Relaxed);
                }
            }
        }
        rusqlite::hooks::Authorization::Allow
    }))
    .expect("install the pragma authorizer");
    (conn, log)
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
/// A pooled connection and its pragma log.
type Pooled = (Connection, Arc<PragmaLog>);
type Pool = Rc<RefCell<Vec<Pooled>>>;

/// A process's connection. When the process's last handle drops, a connection SQLite would
/// hand out fresh anyway (no transaction open, no temporary objects) goes back to its
/// disk's pool instead of closing: opening one, reading the schema and preparing every
/// statement again cost more than the rest of a run (processes restart dozens of times per
/// seed). Nothing a process can observe differs from a new connection, except that cached
/// statements are already prepared (one whose queue changed a setting with a pragma closes).
pub struct PooledConn {
    conn: Option<Connection>,
    pragmas: Arc<PragmaLog>,
    home: Weak<RefCell<Vec<Pooled>>>,
}

impl PooledConn {
    /// Drops a busy handler the queue set through the API (`Connection::busy_timeout`; the
    /// pragma is ignored at compile time): it would sleep in real time.
    pub fn no_busy_handler(&self) {
        self.busy_timeout(std::time::Duration::ZERO).expect("clear the busy handler");
    }

    /// The `synchronous` level the queue asked for on this connection since the last call.
    pub fn take_synchronous_request(&self) -> Option<i8> {
        let level = self.pragmas.synchronous.swap(-1, Ordering::Relaxed);
        (level >= 0).then_some(level)
    }
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
        if !self.pragmas.settings_changed.load(Ordering::Relaxed) && reusable(&conn) {
            pool.borrow_mut().push((conn, self.pragmas.clone()));
        }
    }
}

/// A connection is as good as new when it holds no transaction and never created a
/// temporary object (the temp schema's version is still 0); its commit hook (the world's
/// fault injector) is removed, the next process installs its own.
///
/// The temp schema's version is read, not `sqlite_temp_master`: a query of that table needs
/// the shared lock of `main` too, which memdb refuses while another process holds the write
/// lock, and every connection dropped then was closed (half a seed's connections, each
/// opened, its schema read and its statements prepared again by the next process).
fn reusable(conn: &Connection) -> bool {
    if !conn.is_autocommit() {
        return false;
    }
    let temp: rusqlite::Result<i64> = conn.prepare_cached("PRAGMA temp.schema_version").and_then(|mut s| s.query_row([], |r| r.get(0)));
    if temp != Ok(0) {
        return false;
    }
    conn.commit_hook(None::<fn() -> bool>).is_ok()
}

pub struct QueueDisk {
    uri: String,
    /// Connections to this generation of the database, ready for reuse (`PooledConn`).
    pool: Pool,
    /// Connections opened for processes, over every generation (the pool's misses).
    opened: std::cell::Cell<u64>,
    /// Keeps the shared database alive between processes; also reads it for the checker.
    keeper: Connection,
    durability: Durability,
    sync_interval_ms: u64,
    next_sync_ms: u64,
    /// The last sync image (NORMAL only).
    synced: Option<Vec<u8>>,
    /// `PRAGMA data_version` when the image was taken: unchanged means no commit since.
    synced_version: i64,
    /// A FULL disk whose queue set a weaker `synchronous` (see the module docs).
    weakened: bool,
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
        let mut disk = QueueDisk { uri, pool: Pool::default(), opened: Default::default(), keeper, durability, sync_interval_ms, next_sync_ms: sync_interval_ms, synced: None, synced_version: -1, weakened: false };
        assert!(disk.try_sync(), "nobody holds the write lock before the processes start");
        disk
    }

    /// A connection for a process: one a dead process left, or a new one.
    pub fn connect(&self) -> PooledConn {
        let (conn, pragmas) = self.pool.borrow_mut().pop().unwrap_or_else(|| {
            self.opened.set(self.opened.get() + 1);
            open_for_process(&self.uri)
        });
        PooledConn { conn: Some(conn), pragmas, home: Rc::downgrade(&self.pool) }
    }

    /// A queue asked for `synchronous` `level` at `now_ms`. Returns true if that weakened a
    /// FULL disk: it syncs only at its boundaries from now on, starting with an image of what
    /// is committed (every commit so far was synced).
    pub fn synchronous_requested(&mut self, level: i8, now_ms: u64) -> bool {
        if self.durability != Durability::Full || self.weakened || level >= SYNCHRONOUS_FULL {
            return false;
        }
        self.weakened = true;
        if !self.try_sync() {
            self.next_sync_ms = now_ms; // A process holds the write lock: the next statement takes it.
        }
        true
    }

    /// Whether commits are synced only at sync boundaries (NORMAL, or a weakened FULL disk).
    fn syncs_at_boundaries(&self) -> bool {
        self.durability == Durability::Normal || self.weakened
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
        if !self.syncs_at_boundaries() {
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
        if !self.syncs_at_boundaries() {
            return false;
        }
        let Some(image) = self.synced.clone() else {
            // Weakened while a process held the write lock, and no image taken since: every
            // commit so far was synced.
            assert!(self.weakened, "a NORMAL disk always has an image");
            return false;
        };
        if bytes(&self.keeper) == image {
            return false;
        }
        if self.restore_rows(&image) {
            // The restored file's pages differ from the image's: the image must be taken
            // again, or the next power loss would see a loss where there was none.
            self.synced = Some(bytes(&self.keeper));
            self.synced_version = self.data_version().expect("nobody holds a lock after a power loss");
            return true;
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

    /// Rolls the shared database back to `image` row by row, inside the file the processes
    /// already use, when the image has the same schema. Returns false, having changed
    /// nothing, when it has not (a power loss that undid a migration) or when the schema has
    /// something a plain copy of rows would not restore exactly (triggers, virtual tables,
    /// planner statistics, a column that shadows the rowid).
    ///
    /// Why not always a new file: every process would then open a new connection, read the
    /// schema and prepare each of its statements again; with power losses a few times per
    /// seed that was a quarter of a queue seed's time. A copy of rows changes no schema, so
    /// the pooled connections and their prepared statements stay valid. What the processes
    /// can observe is the same: every table's rows, their rowids, `sqlite_sequence` and
    /// `user_version`; only the page layout differs.
    fn restore_rows(&mut self, image: &[u8]) -> bool {
        if image.is_empty() {
            return false; // The image is a database with no pages: no schema to compare.
        }
        self.keeper.execute_batch("ATTACH DATABASE ':memory:' AS synced_image").expect("attach a scratch schema");
        self.keeper.deserialize_read_exact(c"synced_image", image, image.len(), false).expect("deserialize the sync image");
        let copies = row_copies(&self.keeper);
        if let Some(copies) = &copies {
            // Foreign keys are on by default in this build (SQLITE_DEFAULT_FOREIGN_KEYS=1):
            // off while tables are emptied and refilled one by one (no check, no cascade; the
            // image is consistent as a whole). The pragma is a no-op inside a transaction.
            let mut sql = String::from("PRAGMA foreign_keys = OFF; BEGIN IMMEDIATE;");
            for (table, columns) in copies {
                sql.push_str(&format!("DELETE FROM main.{table}; INSERT INTO main.{table} ({columns}) SELECT {columns} FROM synced_image.{table};"));
            }
            sql.push_str("COMMIT; PRAGMA foreign_keys = ON;");
            self.keeper.execute_batch(&sql).expect("copy the sync image's rows (every process is dead)");
        }
        self.keeper.execute_batch("DETACH DATABASE synced_image").expect("detach the scratch schema");
        copies.is_some()
    }
}

/// For each table of the attached `synced_image`: its quoted name and the quoted list of
/// its columns (the rowid first, for a rowid table). `None` when `main` and the image differ
/// in schema or `user_version`, or a plain copy of rows would not restore the image exactly.
fn row_copies(conn: &Connection) -> Option<Vec<(String, String)>> {
    let schema_of = |db: &str| -> Vec<(String, String, Option<String>)> {
        let sql = format!("SELECT type, name, sql FROM {db}.sqlite_schema ORDER BY type, name");
        let mut stmt = conn.prepare(&sql).expect("read a schema");
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).expect("read a schema");
        rows.map(|r| r.expect("read a schema row")).collect()
    };
    let version_of = |db: &str| -> (i64, i64) {
        let read = |pragma: &str| conn.query_row(&format!("PRAGMA {db}.{pragma}"), [], |r| r.get(0)).expect("read a header field");
        (read("user_version"), read("application_id"))
    };
    let schema = schema_of("main");
    if schema != schema_of("synced_image") || version_of("main") != version_of("synced_image") {
        return None;
    }
    let plain = |(kind, name, sql): &(String, String, Option<String>)| {
        kind != "trigger" && !name.starts_with("sqlite_stat") && !sql.as_deref().unwrap_or("").trim_start().to_ascii_uppercase().starts_with("CREATE VIRTUAL")
    };
    if !schema.iter().all(plain) {
        return None;
    }
    let mut copies = Vec::new();
    for (_, table, _) in schema.iter().filter(|(kind, _, _)| kind == "table") {
        let mut stmt = conn.prepare("SELECT name, hidden FROM pragma_table_xinfo(?1, 'synced_image') ORDER BY cid").expect("read a table's columns");
        let columns: Vec<(String, i64)> = stmt.query_map([table], |r| Ok((r.get(0)?, r.get(1)?))).expect("read a table's columns").map(|r| r.expect("read a column")).collect();
        if columns.iter().any(|(name, hidden)| *hidden != 0 || ["rowid", "_rowid_", "oid"].contains(&name.to_ascii_lowercase().as_str())) {
            return None; // Generated or hidden columns, or one that shadows the rowid.
        }
        let without_rowid: bool = conn.query_row("SELECT wr FROM pragma_table_list WHERE schema = 'synced_image' AND name = ?1", [table], |r| r.get(0)).expect("read a table's kind");
        let mut names: Vec<String> = columns.iter().map(|(name, _)| quoted(name)).collect();
        if !without_rowid {
            names.insert(0, "_rowid_".to_string());
        }
        copies.push((quoted(table), names.join(", ")));
    }
    Some(copies)
}

fn quoted(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: &str = "CREATE TABLE jobs (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL) STRICT;
                          CREATE TABLE notes (body TEXT);
                          CREATE INDEX notes_body ON notes (body);";

    fn disk() -> QueueDisk {
        QueueDisk::new(Durability::Normal, 1_000, |c| c.execute_batch(SCHEMA).unwrap())
    }

    fn rows(conn: &Connection) -> Vec<(i64, String)> {
        let mut stmt = conn.prepare_cached("SELECT rowid, name FROM jobs UNION ALL SELECT rowid, body FROM notes ORDER BY 2").unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
    }

    fn sequence(conn: &Connection) -> i64 {
        conn.query_row("SELECT seq FROM sqlite_sequence WHERE name = 'jobs'", [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn a_power_loss_restores_the_synced_rows_into_the_same_file() {
        let mut disk = disk();
        let conn = disk.connect();
        conn.execute_batch("INSERT INTO jobs (name) VALUES ('a'), ('b'); INSERT INTO notes VALUES ('x'); DELETE FROM jobs WHERE name = 'a';").unwrap();
        assert!(disk.before_statement(1_000), "a sync boundary passed");
        let synced = (rows(&conn), sequence(&conn));
        conn.execute_batch("INSERT INTO jobs (name) VALUES ('c'); UPDATE notes SET body = 'y'; DELETE FROM jobs WHERE name = 'b';").unwrap();
        let uri = disk.uri.clone();
        drop(conn);

        assert!(disk.power_loss(), "the unsynced commits are lost");
        assert_eq!(disk.uri, uri, "the rows were restored in place");
        let conn = disk.connect();
        assert_eq!((rows(&conn), sequence(&conn)), synced, "rows, rowids and the AUTOINCREMENT counter are the synced ones");
        conn.execute("INSERT INTO jobs (name) VALUES ('d')", []).unwrap();
        assert_eq!(conn.last_insert_rowid(), 3, "AUTOINCREMENT continues from the synced counter: the lost row's id comes again, as from a real power loss");
        drop(conn);
        assert!(!disk.power_loss() || disk.uri == uri, "a second loss compares with an image of the restored file");
    }

    #[test]
    fn a_power_loss_restores_tables_that_reference_each_other() {
        let mut disk = QueueDisk::new(Durability::Normal, 1_000, |c| {
            c.execute_batch(
                "CREATE TABLE parent (id INTEGER PRIMARY KEY);
                 CREATE TABLE child (parent INTEGER NOT NULL REFERENCES parent (id) ON DELETE CASCADE, body TEXT) STRICT;",
            )
            .unwrap()
        });
        let conn = disk.connect();
        conn.execute_batch("INSERT INTO parent VALUES (1); INSERT INTO child VALUES (1, 'kept');").unwrap();
        assert!(disk.before_statement(1_000));
        conn.execute_batch("INSERT INTO parent VALUES (2); INSERT INTO child VALUES (2, 'lost'); DELETE FROM child WHERE body = 'kept';").unwrap();
        let uri = disk.uri.clone();
        drop(conn);
        assert!(disk.power_loss());
        assert_eq!(disk.uri, uri, "restored in place");
        let conn = disk.connect();
        let bodies: Vec<String> = conn.prepare("SELECT body FROM child ORDER BY rowid").unwrap().query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
        assert_eq!(bodies, ["kept"], "no cascade emptied the child table, no check refused a row");
        let fk: i64 = disk.reader().query_row("PRAGMA foreign_keys", [], |r| r.get(0)).unwrap();
        assert_eq!(fk, 1, "the keeper's foreign keys are on again");
    }

    #[test]
    fn a_power_loss_that_undoes_a_schema_change_opens_a_new_file() {
        let mut disk = disk();
        let conn = disk.connect();
        conn.execute_batch("INSERT INTO notes VALUES ('kept')").unwrap();
        assert!(disk.before_statement(1_000));
        conn.execute_batch("CREATE TABLE later (x); INSERT INTO notes VALUES ('lost')").unwrap();
        let uri = disk.uri.clone();
        drop(conn);
        assert!(disk.power_loss());
        assert_ne!(disk.uri, uri, "a restore of rows cannot undo a schema change");
        let conn = disk.connect();
        assert_eq!(rows(&conn), [(1, "kept".to_string())]);
        let later: i64 = conn.query_row("SELECT count(*) FROM sqlite_schema WHERE name = 'later'", [], |r| r.get(0)).unwrap();
        assert_eq!(later, 0);
    }

    #[test]
    fn a_connection_dropped_while_another_holds_the_write_lock_is_reused() {
        let disk = disk();
        let holder = disk.connect();
        holder.execute_batch("BEGIN IMMEDIATE; INSERT INTO notes VALUES ('held')").unwrap();
        // A process starts while another holds the write lock: its first statement meets
        // BUSY before its schema is ever read (memdb refuses readers while a writer holds
        // the lock), and it dies. Reading any table now, even `sqlite_temp_master`, would
        // need main's shared lock to read the schema first.
        let first = disk.connect();
        let busy = first.query_row("SELECT count(*) FROM notes", [], |r| r.get::<_, i64>(0)).unwrap_err();
        assert_eq!(busy.sqlite_error_code(), Some(rusqlite::ErrorCode::DatabaseBusy));
        drop(first);
        let opened = disk.opened.get();
        let _next = disk.connect();
        assert_eq!(disk.opened.get(), opened, "the pool kept the connection");
        holder.execute_batch("COMMIT").unwrap();
    }

    #[test]
    fn a_connection_that_made_a_temporary_object_is_not_reused() {
        let disk = disk();
        let first = disk.connect();
        first.execute_batch("CREATE TEMP TABLE scratch (x); DROP TABLE scratch;").unwrap();
        drop(first);
        let opened = disk.opened.get();
        let _next = disk.connect();
        assert_eq!(disk.opened.get(), opened + 1, "a process must not inherit another's temp schema");
    }

    #[test]
    fn a_queue_that_weakens_synchronous_makes_a_full_disk_lose_what_it_committed_after() {
        let mut disk = QueueDisk::new(Durability::Full, 1_000, |c| c.execute_batch(SCHEMA).unwrap());
        let conn = disk.connect();
        conn.execute_batch("INSERT INTO notes VALUES ('before')").unwrap();
        drop(conn);
        assert!(!disk.power_loss(), "FULL: nothing committed is lost");
        let conn = disk.connect();
        conn.execute_batch("PRAGMA synchronous = NORMAL").unwrap();
        let level = conn.take_synchronous_request();
        assert_eq!(level, Some(1), "the authorizer saw the pragma");
        assert_eq!(conn.take_synchronous_request(), None, "a request is taken once");
        assert!(disk.synchronous_requested(1, 10), "a FULL disk is weakened");
        assert!(!disk.synchronous_requested(1, 20), "once");
        conn.execute_batch("INSERT INTO notes VALUES ('after')").unwrap();
        drop(conn);
        assert!(disk.power_loss(), "what was committed after the pragma and before a sync is lost");
        let conn = disk.connect();
        assert_eq!(rows(&conn), [(1, "before".to_string())], "what was committed before the pragma survives");
    }

    #[test]
    fn a_connection_whose_queue_changed_a_setting_is_not_reused() {
        let disk = QueueDisk::new(Durability::Full, 1_000, |c| c.execute_batch(SCHEMA).unwrap());
        let conn = disk.connect();
        conn.execute_batch("PRAGMA user_version = 7").unwrap();
        drop(conn);
        let reused = disk.connect();
        assert_eq!(disk.opened.get(), 1, "a header field (user_version) is the file's, not the connection's");
        reused.execute_batch("PRAGMA cache_size = 100").unwrap();
        drop(reused);
        let fresh = disk.connect();
        assert_eq!(disk.opened.get(), 2, "a changed setting would leak into the next process");
        let cache: i64 = fresh.query_row("PRAGMA cache_size", [], |r| r.get(0)).unwrap();
        assert_ne!(cache, 100, "the next process gets SQLite's default");
        assert!(!QueueDisk::new(Durability::Normal, 1_000, |_| ()).synchronous_requested(0, 0), "only a FULL disk is weakened");
    }

    #[test]
    fn a_queues_busy_timeout_never_sleeps_in_real_time() {
        let disk = QueueDisk::new(Durability::Full, 1_000, |c| c.execute_batch(SCHEMA).unwrap());
        let conn = disk.connect();
        let timeout = |c: &Connection| -> i64 { c.query_row("PRAGMA busy_timeout", [], |r| r.get(0)).unwrap() };
        conn.execute_batch("PRAGMA busy_timeout = 5000").unwrap();
        assert_eq!(timeout(&conn), 0, "the pragma compiles to a no-op");
        conn.busy_timeout(std::time::Duration::from_secs(5)).unwrap();
        assert_eq!(timeout(&conn), 5_000, "the API call is not a pragma");
        conn.no_busy_handler();
        assert_eq!(timeout(&conn), 0, "cleared before the process's next statement");
        drop(conn);
        assert!(disk.connect().is_autocommit() && disk.opened.get() == 1, "an ignored pragma changed nothing: the connection is reused");
    }
}
