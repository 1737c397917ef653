//! Bad input to the SQLite stores: every case gives a typed `StoreError` whose message names
//! the file, and the file is left byte-for-byte as it was (sqlite_file.rs: "no write to a file
//! we cannot use").
//!
//! The tests run as root, where the kernel ignores permission bits; sqlite_file.rs checks the
//! mode bits itself, so 0o555 directories are refused either way.

use alarmsim_scheduler::actor_store::ActorStore;
use alarmsim_scheduler::metadata_store::{MetadataStore, METADATA_FILE, METADATA_SCHEMA_VERSION};
use alarmsim_scheduler::{ActorId, AlarmRow, CommitBatch, Durability, Fence, Location, Millis, StoreError};
use rusqlite::Connection;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The schema version of actor databases (two migrations: the tables, the checksums).
const ACTOR_SCHEMA_VERSION: i64 = 2;

fn row(i: usize) -> AlarmRow {
    AlarmRow {
        actor: ActorId(format!("actor-{i:05}-{}", "x".repeat(40))),
        time: Some(Millis(1_000 + i as i64)),
        name: Some(format!("name-{i}-{}", "y".repeat(40))),
        fence: Fence::command(1, i as u64 + 1),
    }
}

/// A real `metadata.sqlite` with `rows` rows, closed cleanly (WAL checkpointed). `Normal`
/// durability only to spare the test hundreds of fsyncs; the file is the same.
fn real_metadata(dir: &Path, rows: usize) -> PathBuf {
    let store = MetadataStore::open_dir(dir, Durability::Normal).unwrap();
    for i in 0..rows {
        store.write(&row(i)).unwrap();
    }
    assert_eq!(store.load().unwrap().len(), rows);
    let path = store.path().to_path_buf();
    drop(store);
    assert!(!dir.join(format!("{METADATA_FILE}-wal")).exists(), "the WAL was checkpointed on close");
    path
}

/// A real actor database with some KV rows and an alarm.
fn real_actor_db(file: &Path, keys: usize) {
    let mut store = ActorStore::open(&Location::File(file.to_path_buf()), Durability::Full).unwrap();
    let mut batch = CommitBatch { alarm: Some(Millis(5_000)), ..CommitBatch::default() };
    for i in 0..keys {
        batch.kv.insert(format!("key-{i:05}"), Some(vec![i as u8; 200]));
    }
    store.apply(&batch).unwrap();
}

fn open_metadata(dir: &Path) -> Result<MetadataStore, StoreError> {
    MetadataStore::open_dir(dir, Durability::Full)
}

fn open_actor(file: &Path) -> Result<ActorStore, StoreError> {
    ActorStore::open(&Location::File(file.to_path_buf()), Durability::Full)
}

/// The path the typed error carries.
fn error_path(err: &StoreError) -> &Path {
    err.path()
}

/// The error is about `file`, and its message says so.
fn assert_names(err: &StoreError, file: &Path) {
    assert_eq!(error_path(err), file, "{err}");
    let message = err.to_string();
    assert!(message.contains(&file.display().to_string()), "the message does not name {}: {message}", file.display());
}

fn expect_err<T: std::fmt::Debug>(result: Result<T, StoreError>) -> StoreError {
    match result {
        Ok(store) => panic!("opened a store that should have been refused: {store:?}"),
        Err(err) => err,
    }
}

/// Runs `f` with `dir` set to 0o555, restoring 0o755 afterwards (even if `f` panics), so the
/// temporary directory can be removed.
fn with_read_only_dir<R>(dir: &Path, f: impl FnOnce() -> R) -> R {
    struct Restore<'a>(&'a Path);
    impl Drop for Restore<'_> {
        fn drop(&mut self) {
            let _ = fs::set_permissions(self.0, fs::Permissions::from_mode(0o755));
        }
    }
    fs::set_permissions(dir, fs::Permissions::from_mode(0o555)).unwrap();
    let _restore = Restore(dir);
    f()
}

fn dir_listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

fn set_user_version(file: &Path, version: i64) {
    let conn = Connection::open(file).unwrap();
    conn.pragma_update(None, "user_version", version).unwrap();
}

// ===== metadata.sqlite =========================================================================

#[test]
fn corrupt_metadata_text_file_is_not_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(METADATA_FILE);
    let text = "actor-1,2026-08-22T00:00:00Z\n".repeat(400);
    fs::write(&file, &text).unwrap();

    let err = expect_err(open_metadata(dir.path()));
    assert!(matches!(err, StoreError::Damaged { .. }), "{err:?}");
    assert_names(&err, &file);
    assert_eq!(fs::read(&file).unwrap(), text.as_bytes(), "the file was modified");
    assert_eq!(dir_listing(dir.path()), [METADATA_FILE], "side files were left behind");
}

#[test]
fn corrupt_metadata_short_text_file_is_not_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(METADATA_FILE);
    fs::write(&file, b"not sqlite").unwrap();

    let err = expect_err(open_metadata(dir.path()));
    assert!(matches!(err, StoreError::Damaged { .. }), "{err:?}");
    assert_names(&err, &file);
    assert_eq!(fs::read(&file).unwrap(), b"not sqlite");
}

/// A valid 100-byte SQLite header followed by garbage pages.
#[test]
fn corrupt_metadata_garbage_after_a_valid_header_is_not_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let file = real_metadata(dir.path(), 200);
    let mut bytes = fs::read(&file).unwrap();
    for (i, b) in bytes.iter_mut().enumerate().skip(100) {
        *b = (i * 7 % 251) as u8;
    }
    fs::write(&file, &bytes).unwrap();

    let err = expect_err(open_metadata(dir.path()));
    assert!(matches!(err, StoreError::Damaged { .. }), "{err:?}");
    assert_names(&err, &file);
    assert_eq!(fs::read(&file).unwrap(), bytes);
}

/// A real database cut short at several places: whole pages lost, a partial page, only the
/// header left, and most of the last page lost (the page count still matches the header, so
/// only reading the rows shows the damage; without an integrity check the open succeeded
/// and `load` failed later with a column-type error).
#[test]
fn truncated_metadata_database_is_not_a_database() {
    let probe = tempfile::tempdir().unwrap();
    let full_len = fs::read(real_metadata(probe.path(), 300)).unwrap().len();
    assert!(full_len >= 8 * 4096, "the database spans many pages ({full_len} bytes)");

    for keep in [full_len / 2, 4096 + 1_000, 4096, 2 * 4096 + 17, 100, full_len - 4096, full_len - 4000] {
        let dir = tempfile::tempdir().unwrap();
        let file = real_metadata(dir.path(), 300);
        let mut bytes = fs::read(&file).unwrap();
        bytes.truncate(keep);
        fs::write(&file, &bytes).unwrap();
        let err = expect_err(open_metadata(dir.path()));
        assert!(matches!(err, StoreError::Damaged { .. }), "truncated to {keep} bytes: {err:?}");
        assert_names(&err, &file);
        assert_eq!(fs::read(&file).unwrap(), bytes, "truncated to {keep} bytes: the file was modified");
    }
}

#[test]
fn metadata_schema_newer_than_supported_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = real_metadata(dir.path(), 3);
    set_user_version(&file, METADATA_SCHEMA_VERSION + 1);
    let before = fs::read(&file).unwrap();

    let err = expect_err(open_metadata(dir.path()));
    match &err {
        StoreError::SchemaTooNew { found, supported, .. } => {
            assert_eq!((*found, *supported), (METADATA_SCHEMA_VERSION + 1, METADATA_SCHEMA_VERSION));
        }
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
    assert_names(&err, &file);
    assert!(err.to_string().contains(&format!("{}", METADATA_SCHEMA_VERSION + 1)), "{err}");
    assert_eq!(fs::read(&file).unwrap(), before, "the file was modified");
}

/// A schema far in the future, in a file that is not in WAL mode (so that a careless open
/// would switch it), is refused untouched too.
#[test]
fn metadata_schema_newer_than_supported_rollback_journal_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(METADATA_FILE);
    {
        let conn = Connection::open(&file).unwrap();
        conn.execute_batch("CREATE TABLE future (x); PRAGMA user_version = 1000;").unwrap();
    }
    let before = fs::read(&file).unwrap();
    let err = expect_err(open_metadata(dir.path()));
    assert!(matches!(err, StoreError::SchemaTooNew { found: 1000, .. }), "{err:?}");
    assert_names(&err, &file);
    assert_eq!(fs::read(&file).unwrap(), before);
    assert_eq!(dir_listing(dir.path()), [METADATA_FILE]);
}

/// A file with an alarm table this build did not make (workerd's own pre-#6104 layout, with
/// no `user_version`): a non-empty database at version 0 is another application's, refused
/// before any migration, and left as it was.
#[test]
fn metadata_with_a_foreign_alarm_table_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(METADATA_FILE);
    {
        let conn = Connection::open(&file).unwrap();
        conn.execute_batch(
            "CREATE TABLE _cf_ALARM (actor_unique_key TEXT, actor_id TEXT, scheduled_time INTEGER,
                                     PRIMARY KEY (actor_unique_key, actor_id)) WITHOUT ROWID;
             INSERT INTO _cf_ALARM VALUES ('ns', 'a', 86400000000000);",
        )
        .unwrap();
    }
    let before = fs::read(&file).unwrap();
    let err = expect_err(open_metadata(dir.path()));
    assert!(matches!(err, StoreError::Foreign { .. }), "{err:?}");
    assert_names(&err, &file);
    assert_eq!(fs::read(&file).unwrap(), before, "the file was modified");
    assert_eq!(dir_listing(dir.path()), [METADATA_FILE]);
}

#[test]
fn metadata_in_a_read_only_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = real_metadata(dir.path(), 3);
    let before = fs::read(&file).unwrap();

    let err = with_read_only_dir(dir.path(), || expect_err(open_metadata(dir.path())));
    assert!(matches!(err, StoreError::ReadOnly { what: "directory", .. }), "{err:?}");
    assert_names(&err, &file);
    assert!(err.to_string().contains("read-only"), "{err}");
    assert_eq!(fs::read(&file).unwrap(), before);
    assert_eq!(dir_listing(dir.path()), [METADATA_FILE]);

    // Nothing was harmed: with the permissions back, the rows are all there.
    assert_eq!(open_metadata(dir.path()).unwrap().load().unwrap(), (0..3).map(row).collect::<Vec<_>>());
}

#[test]
fn metadata_in_a_read_only_directory_is_not_created() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(METADATA_FILE);
    let err = with_read_only_dir(dir.path(), || expect_err(open_metadata(dir.path())));
    assert!(matches!(err, StoreError::ReadOnly { .. }), "{err:?}");
    assert_names(&err, &file);
    assert!(dir_listing(dir.path()).is_empty(), "a file was created in a read-only directory");
}

#[test]
fn metadata_read_only_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = real_metadata(dir.path(), 3);
    let before = fs::read(&file).unwrap();
    fs::set_permissions(&file, fs::Permissions::from_mode(0o444)).unwrap();
    let err = expect_err(open_metadata(dir.path()));
    assert!(matches!(err, StoreError::ReadOnly { what: "file", .. }), "{err:?}");
    assert_names(&err, &file);
    assert_eq!(fs::read(&file).unwrap(), before);
}

#[test]
fn metadata_in_a_missing_directory_is_refused() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("no-such-namespace");
    let file = dir.join(METADATA_FILE);
    let err = expect_err(open_metadata(&dir));
    assert!(matches!(err, StoreError::NoDirectory { .. }), "{err:?}");
    assert_names(&err, &file);
    assert!(err.to_string().contains("does not exist"), "{err}");
    assert!(!dir.exists(), "the missing directory was created");
}

/// The control: a healthy file opens, keeps its rows, and a refused open does not count as
/// an open (the next good one still works).
#[test]
fn healthy_metadata_opens_after_a_refused_sibling() {
    let bad = tempfile::tempdir().unwrap();
    fs::write(bad.path().join(METADATA_FILE), b"garbage").unwrap();
    assert!(open_metadata(bad.path()).is_err());
    let good = tempfile::tempdir().unwrap();
    real_metadata(good.path(), 5);
    assert_eq!(open_metadata(good.path()).unwrap().load().unwrap().len(), 5);
}

// ===== actor databases ==========================================================================

#[test]
fn corrupt_actor_database_text_file_is_not_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("actor.sqlite");
    let text = "key=value\n".repeat(1_000);
    fs::write(&file, &text).unwrap();
    let err = expect_err(open_actor(&file));
    assert!(matches!(err, StoreError::Damaged { .. }), "{err:?}");
    assert_names(&err, &file);
    assert_eq!(fs::read(&file).unwrap(), text.as_bytes());
    assert_eq!(dir_listing(dir.path()), ["actor.sqlite"]);
}

#[test]
fn truncated_actor_database_is_not_a_database() {
    let probe = tempfile::tempdir().unwrap();
    let probe_file = probe.path().join("actor.sqlite");
    real_actor_db(&probe_file, 300);
    let full_len = fs::read(&probe_file).unwrap().len();
    assert!(full_len >= 8 * 4096, "the database spans many pages ({full_len} bytes)");

    for keep in [full_len / 2, 4096 + 1_000, 100, full_len - 4096, full_len - 4000] {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("actor.sqlite");
        real_actor_db(&file, 300);
        let mut bytes = fs::read(&file).unwrap();
        bytes.truncate(keep);
        fs::write(&file, &bytes).unwrap();
        let err = expect_err(open_actor(&file));
        assert!(matches!(err, StoreError::Damaged { .. }), "truncated to {keep} bytes: {err:?}");
        assert_names(&err, &file);
        assert_eq!(fs::read(&file).unwrap(), bytes, "truncated to {keep} bytes: the file was modified");
    }
}

#[test]
fn actor_database_schema_newer_than_supported_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("actor.sqlite");
    real_actor_db(&file, 3);
    set_user_version(&file, ACTOR_SCHEMA_VERSION + 1);
    let before = fs::read(&file).unwrap();
    let err = expect_err(open_actor(&file));
    match &err {
        StoreError::SchemaTooNew { found, supported, .. } => {
            assert_eq!((*found, *supported), (ACTOR_SCHEMA_VERSION + 1, ACTOR_SCHEMA_VERSION))
        }
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
    assert_names(&err, &file);
    assert_eq!(fs::read(&file).unwrap(), before);
}

#[test]
fn actor_database_in_a_read_only_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("actor.sqlite");
    real_actor_db(&file, 3);
    let before = fs::read(&file).unwrap();
    let err = with_read_only_dir(dir.path(), || expect_err(open_actor(&file)));
    assert!(matches!(err, StoreError::ReadOnly { .. }), "{err:?}");
    assert_names(&err, &file);
    assert_eq!(fs::read(&file).unwrap(), before);
    let store = open_actor(&file).unwrap();
    assert_eq!(store.load().unwrap().alarm, Some(Millis(5_000)));
}

#[test]
fn actor_database_in_a_missing_directory_is_refused() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("actors");
    let file = dir.join("actor.sqlite");
    let err = expect_err(open_actor(&file));
    assert!(matches!(err, StoreError::NoDirectory { .. }), "{err:?}");
    assert_names(&err, &file);
    assert!(!dir.exists());
}
