//! Hostile input, part 2: the store files of real mode (issue #16). Every hostile file given
//! to `realtime` (its `metadata.sqlite` and an actor's database) and to `queue enqueue`,
//! `work` and `inspect` is refused with exit 2, a message naming the file and the problem,
//! and the file byte-identical afterwards; a locked file is reported after the lock policy's
//! wait (never a silent hang); permissions give the same answer to root and to another user;
//! a value changed behind alarmsim's back is an error naming the row. Old files still open.
//! Part 1 (plans, flags, panics) is `tests/hostile_plans.rs`.

use rusqlite::Connection;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn alarmsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_alarmsim")).args(args).env_remove("RUST_LOG").stdin(Stdio::null()).output().expect("run alarmsim")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// One store under attack: how to make a healthy one, where its file is, and the commands
/// that must refuse a hostile one.
#[derive(Clone, Copy, Debug)]
enum Target {
    /// `realtime --dir D`'s `D/metadata.sqlite`.
    Metadata,
    /// `realtime --dir D`'s `D/actors/a1.sqlite`.
    Actor,
    /// `queue --db D/q.sqlite` (enqueue, work and inspect).
    Queue,
}

const TARGETS: [Target; 3] = [Target::Metadata, Target::Actor, Target::Queue];

impl Target {
    fn file(self, dir: &Path) -> PathBuf {
        match self {
            Target::Metadata => dir.join("metadata.sqlite"),
            Target::Actor => dir.join("actors").join("a1.sqlite"),
            Target::Queue => dir.join("q.sqlite"),
        }
    }

    /// A healthy store in `dir`, closed cleanly (WAL checkpointed).
    fn make(self, dir: &Path) {
        let d = dir.to_str().unwrap();
        let out = match self {
            Target::Metadata | Target::Actor => alarmsim(&["realtime", "--dir", d, "--set", "a1=+3600000", "--run-for-ms", "0"]),
            Target::Queue => alarmsim(&["queue", "enqueue", "--db", self.file(dir).to_str().unwrap(), "--count", "5", "--delay-ms", "3600000"]),
        };
        assert_eq!(out.status.code(), Some(0), "the healthy fixture: {}", text(&out.stderr));
        assert!(self.file(dir).is_file());
    }

    /// The commands that use the store.
    fn commands(self, dir: &Path) -> Vec<Vec<String>> {
        let d = dir.to_str().unwrap().to_string();
        let db = self.file(dir).to_str().unwrap().to_string();
        let v = |args: &[&str]| args.iter().map(|a| a.to_string()).collect::<Vec<_>>();
        match self {
            Target::Metadata | Target::Actor => vec![v(&["realtime", "--dir", &d, "--set", "a2=+1000", "--run-for-ms", "0"])],
            Target::Queue => vec![
                v(&["queue", "enqueue", "--db", &db, "--count", "1"]),
                v(&["queue", "work", "--db", &db, "--until-empty"]),
                v(&["queue", "inspect", "--db", &db]),
            ],
        }
    }
}

/// Runs every command of `target` on the hostile file and checks: exit 2, the message names
/// the file and `needle`, and the file (and its directory listing) is left as it was.
fn refused(target: Target, dir: &Path, needle: &str) {
    let file = target.file(dir);
    let before = bytes_of(&file);
    let listing = listing(file.parent().unwrap());
    for args in target.commands(dir) {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = alarmsim(&args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{target:?} `{}`: exit 2 expected; stderr:\n{stderr}\nstdout:\n{}", args.join(" "), text(&out.stdout));
        assert!(stderr.contains(&file.display().to_string()), "{target:?} `{}`: the message names {}:\n{stderr}", args.join(" "), file.display());
        assert!(stderr.contains(needle), "{target:?} `{}`: the message says {needle:?}:\n{stderr}", args.join(" "));
        assert_eq!(bytes_of(&file), before, "{target:?} `{}`: the refused file was modified", args.join(" "));
        assert_eq!(self::listing(file.parent().unwrap()), listing, "{target:?} `{}`: files appeared or vanished beside it", args.join(" "));
    }
}

/// The bytes of a regular file (never opening a FIFO or a device, which would block).
fn bytes_of(file: &Path) -> Option<Vec<u8>> {
    std::fs::metadata(file).ok().filter(|m| m.is_file()).and_then(|_| std::fs::read(file).ok())
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir).map(|d| d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect()).unwrap_or_default();
    names.sort();
    names
}

/// A healthy store of `target` in a fresh directory, then `hostile` applied to its file.
fn with_hostile_file(target: Target, hostile: impl Fn(&Path)) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    target.make(dir.path());
    hostile(&target.file(dir.path()));
    dir
}

fn rewrite(file: &Path, edit: impl FnOnce(&mut Vec<u8>)) {
    let mut bytes = std::fs::read(file).unwrap();
    edit(&mut bytes);
    std::fs::write(file, bytes).unwrap();
}

/// Runs SQL on the file with a plain connection (no checksum triggers), as another tool would.
fn sql(file: &Path, statements: &str) {
    let conn = Connection::open(file).unwrap();
    conn.execute_batch(statements).unwrap();
}

fn table_of(target: Target) -> &'static str {
    match target {
        Target::Metadata => "_cf_ALARM",
        Target::Actor => "_cf_METADATA",
        Target::Queue => "job_queue",
    }
}

#[test]
fn truncated_files_are_refused_untouched() {
    for target in TARGETS {
        let dir = with_hostile_file(target, |f| rewrite(f, |b| b.truncate(100)));
        refused(target, dir.path(), "truncated");
        let dir = with_hostile_file(target, |f| rewrite(f, |b| b.truncate(b.len() / 2)));
        refused(target, dir.path(), "not a usable SQLite database");
        let dir = with_hostile_file(target, |f| rewrite(f, |b| b.truncate(60)));
        refused(target, dir.path(), "truncated to 60 bytes");
    }
}

#[test]
fn a_file_truncated_to_zero_is_an_empty_database_to_sqlite_and_becomes_a_new_store() {
    // SQLite reads a 0-byte file as an empty database, and two processes creating a store
    // at once both see one, so it is accepted as new (its rows are gone either way).
    for target in TARGETS {
        let dir = with_hostile_file(target, |f| rewrite(f, Vec::clear));
        for args in target.commands(dir.path()).into_iter().take(1) {
            let out = alarmsim(&args.iter().map(String::as_str).collect::<Vec<_>>());
            assert_eq!(out.status.code(), Some(0), "{target:?}: {}", text(&out.stderr));
        }
    }
}

#[test]
fn random_bytes_and_a_wrong_magic_are_refused_untouched() {
    for target in TARGETS {
        let dir = with_hostile_file(target, |f| std::fs::write(f, (0..8192u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect::<Vec<_>>()).unwrap());
        refused(target, dir.path(), "wrong magic");
        let dir = with_hostile_file(target, |f| rewrite(f, |b| b[0] = b'X'));
        refused(target, dir.path(), "wrong magic");
    }
}

#[test]
fn a_flipped_page_type_byte_is_refused_untouched() {
    for target in TARGETS {
        // Page 2's first byte is its b-tree page type; 0x01 is no valid type.
        let dir = with_hostile_file(target, |f| rewrite(f, |b| b[4096] = 0x01));
        refused(target, dir.path(), "not a usable SQLite database");
    }
}

/// Sets `user_version` in the header (bytes 60..64, big-endian), as a newer or foreign
/// writer would have left it.
fn set_user_version(file: &Path, version: i32) {
    rewrite(file, |b| b[60..64].copy_from_slice(&version.to_be_bytes()));
}

#[test]
fn user_version_99_and_minus_1_are_refused_untouched() {
    for target in TARGETS {
        let dir = with_hostile_file(target, |f| set_user_version(f, 99));
        refused(target, dir.path(), "schema version 99 is newer than this build supports");
        let dir = with_hostile_file(target, |f| set_user_version(f, -1));
        refused(target, dir.path(), "user_version -1");
    }
}

#[test]
fn another_applications_database_is_not_adopted() {
    for target in TARGETS {
        let dir = with_hostile_file(target, |f| {
            std::fs::remove_file(f).unwrap();
            sql(f, "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers (name) VALUES ('ada');");
        });
        refused(target, dir.path(), "another application's database");
    }
}

#[test]
fn a_file_at_the_latest_version_with_the_wrong_columns_is_refused_untouched() {
    for target in TARGETS {
        let statement = match target {
            Target::Metadata => "ALTER TABLE _cf_ALARM RENAME COLUMN actor_name TO who;",
            Target::Actor => "ALTER TABLE kv RENAME COLUMN value TO v;",
            Target::Queue => "ALTER TABLE job_queue DROP COLUMN finished_at;",
        };
        let dir = with_hostile_file(target, |f| sql(f, statement));
        refused(target, dir.path(), "has columns");
    }
}

#[test]
fn a_value_changed_behind_alarmsims_back_is_an_error_naming_the_row() {
    // Finding 7: an actor's alarm moved two years later and fired then, with exit 0.
    const TWO_YEARS_MS: i64 = 2 * 365 * 86_400_000;
    for target in TARGETS {
        let statement = match target {
            Target::Metadata => format!("UPDATE _cf_ALARM SET scheduled_time = scheduled_time + {TWO_YEARS_MS};"),
            Target::Actor => format!("UPDATE _cf_METADATA SET value = value + {TWO_YEARS_MS} WHERE key = 'alarm';"),
            Target::Queue => "UPDATE job_queue SET scheduled_for = scheduled_for - 3600000 WHERE rowid = 3;".to_string(),
        };
        let dir = with_hostile_file(target, |f| sql(f, &statement));
        refused(target, dir.path(), &format!("of table {} is corrupted (checksum mismatch", table_of(target)));
    }
    // An actor row of the wrong type is named the same way.
    let dir = with_hostile_file(Target::Actor, |f| sql(f, "UPDATE _cf_METADATA SET value = 'soon' WHERE key = 'alarm';"));
    refused(Target::Actor, dir.path(), "row key=alarm of table _cf_METADATA is corrupted (its value is Text, not an integer)");
}

#[test]
fn a_checksummed_queue_row_changed_while_workers_run_stops_the_claim_that_meets_it() {
    // The file is accepted, then a row changes: the worker's claim of it fails, naming it,
    // instead of running a job whose due time someone else moved.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("q.sqlite");
    let d = db.to_str().unwrap();
    assert_eq!(alarmsim(&["queue", "enqueue", "--db", d, "--count", "1", "--delay-ms", "2000"]).status.code(), Some(0));
    let mut worker = Command::new(env!("CARGO_BIN_EXE_alarmsim")).args(["queue", "work", "--db", d]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    sql(&db, "UPDATE job_queue SET def = '{\"evil\":1}';");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = worker.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the worker went on after the row changed");
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = worker.wait_with_output().unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("of table job_queue is corrupted (checksum mismatch") && stderr.contains(d), "{stderr}");
    assert!(!text(&out.stdout).contains("claimed"), "the changed job never ran:\n{}", text(&out.stdout));
}

#[test]
fn a_directory_a_symlink_to_a_device_and_a_fifo_are_named_as_such() {
    for target in TARGETS {
        let dir = with_hostile_file(target, |f| {
            std::fs::remove_file(f).unwrap();
            std::fs::create_dir(f).unwrap();
        });
        refused(target, dir.path(), "is a directory, not a database file");
        let dir = with_hostile_file(target, |f| {
            std::fs::remove_file(f).unwrap();
            std::os::unix::fs::symlink("/dev/null", f).unwrap();
        });
        refused(target, dir.path(), "is a symlink to /dev/null, which is a device");
        let dir = with_hostile_file(target, |f| {
            std::fs::remove_file(f).unwrap();
            let c = std::ffi::CString::new(f.as_os_str().as_encoded_bytes()).unwrap();
            // SAFETY: a NUL-terminated path we own.
            assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        });
        refused(target, dir.path(), "is a FIFO (named pipe)");
        let dir = with_hostile_file(target, |f| {
            std::fs::remove_file(f).unwrap();
            std::os::unix::fs::symlink("no-such-target", f).unwrap();
        });
        refused(target, dir.path(), "is a symlink to nothing");
    }
}

#[test]
fn inspect_of_a_missing_or_empty_file_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("q.sqlite");
    let out = alarmsim(&["queue", "inspect", "--db", db.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("missing (no such file)"), "{}", text(&out.stderr));
    assert!(!db.exists(), "inspect created the file");
    std::fs::write(&db, b"").unwrap();
    let out = alarmsim(&["queue", "inspect", "--db", db.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("the file is empty"), "{}", text(&out.stderr));
}

#[test]
fn read_only_files_and_directories_are_refused_before_any_work_as_root() {
    for target in TARGETS {
        let dir = with_hostile_file(target, |f| std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o444)).unwrap());
        // `inspect` only reads: it may read a read-only file.
        refused_writers(target, dir.path(), "the file is read-only");
        let dir = with_hostile_file(target, |f| std::fs::set_permissions(f.parent().unwrap(), std::fs::Permissions::from_mode(0o555)).unwrap());
        refused_writers(target, dir.path(), "the directory is read-only");
        std::fs::set_permissions(target.file(dir.path()).parent().unwrap(), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// [`refused`] for the commands of `target` that write (not `inspect`).
fn refused_writers(target: Target, dir: &Path, needle: &str) {
    let file = target.file(dir);
    let before = std::fs::read(&file).unwrap();
    for args in target.commands(dir).into_iter().filter(|a| a[1] != "inspect") {
        let out = alarmsim(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{target:?} {args:?}: {stderr}");
        assert!(stderr.contains(&file.display().to_string()) && stderr.contains(needle), "{target:?} {args:?}: {stderr}");
        assert_eq!(std::fs::read(&file).unwrap(), before, "{target:?} {args:?}: the refused file was modified");
    }
}

/// Runs `alarmsim` as the unprivileged user `nobody`, or says why it cannot.
fn as_nobody(args: &[&str]) -> Result<Output, String> {
    let probe = Command::new("setpriv").args(["--reuid=65534", "--regid=65534", "--clear-groups", "true"]).output();
    match probe {
        Ok(o) if o.status.success() => {}
        Ok(o) => return Err(format!("setpriv cannot switch to nobody here: {}", text(&o.stderr))),
        Err(e) => return Err(format!("no setpriv on this machine: {e}")),
    }
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", env!("CARGO_BIN_EXE_alarmsim")])
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .map_err(|e| e.to_string())?;
    if text(&out.stderr).contains("Permission denied") && out.status.code() == Some(127) {
        return Err("nobody cannot run the alarmsim binary from here".to_string());
    }
    Ok(out)
}

#[test]
fn read_only_files_and_directories_give_the_same_message_to_an_unprivileged_user() {
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("SKIPPED: this test switches users and must run as root (it compares root with nobody)");
        return;
    }
    for target in TARGETS {
        for (mode_file, mode_dir, needle) in [(0o444, 0o777, "the file is read-only"), (0o666, 0o555, "the directory is read-only")] {
            let top = tempfile::tempdir().unwrap();
            std::fs::set_permissions(top.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
            target.make(top.path());
            let file = target.file(top.path());
            // Everything else the command writes is writable by both users; only the store
            // under test has the mode of this case.
            std::fs::set_permissions(top.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
            for entry in std::fs::read_dir(top.path()).unwrap() {
                let path = entry.unwrap().path();
                let mode = if path.is_dir() { 0o777 } else { 0o666 };
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            }
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode_file)).unwrap();
            std::fs::set_permissions(file.parent().unwrap(), std::fs::Permissions::from_mode(mode_dir)).unwrap();
            let before = std::fs::read(&file).unwrap();
            for args in target.commands(top.path()).into_iter().filter(|a| a[1] != "inspect") {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                // nobody first: files root creates while it runs would be root's.
                let nobody = match as_nobody(&args) {
                    Ok(out) => out,
                    Err(why) => {
                        eprintln!("SKIPPED (as nobody): {why}");
                        return;
                    }
                };
                let root = alarmsim(&args);
                for (who, out) in [("root", &root), ("nobody", &nobody)] {
                    let stderr = text(&out.stderr);
                    assert_eq!(out.status.code(), Some(2), "{target:?} as {who}: {stderr}");
                    assert!(stderr.contains(needle) && stderr.contains(&file.display().to_string()), "{target:?} as {who}: {stderr}");
                }
                assert_eq!(text(&root.stderr), text(&nobody.stderr), "{target:?}: root and nobody are told the same");
                assert_eq!(std::fs::read(&file).unwrap(), before);
            }
            std::fs::set_permissions(file.parent().unwrap(), std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    }
}

/// Not a test of its own: the lock holder, run as a child process of this test binary
/// (`ALARMSIM_TEST_LOCK=<file>`): takes `BEGIN EXCLUSIVE` on the file, prints `locked`, and
/// holds it until its stdin closes.
#[test]
fn lock_holder_helper() {
    let Some(file) = std::env::var_os("ALARMSIM_TEST_LOCK") else { return };
    let conn = Connection::open(&file).unwrap();
    conn.execute_batch("BEGIN EXCLUSIVE;").unwrap();
    println!("locked");
    let mut sink = String::new();
    let _ = std::io::stdin().read_line(&mut sink);
}

#[test]
fn a_locked_store_is_reported_after_the_lock_policys_wait_never_a_silent_hang() {
    // Finding 5: `realtime` on a locked metadata.sqlite waited, silently, until killed at 65 s.
    let cases: Vec<_> = TARGETS
        .into_iter()
        .map(|target| {
            std::thread::spawn(move || {
                let dir = tempfile::tempdir().unwrap();
                target.make(dir.path());
                let file = target.file(dir.path());
                let mut holder = Command::new(std::env::current_exe().unwrap())
                    .args(["--exact", "lock_holder_helper", "--nocapture", "--test-threads=1"])
                    .env("ALARMSIM_TEST_LOCK", &file)
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .spawn()
                    .unwrap();
                let mut line = String::new();
                let mut reader = std::io::BufReader::new(holder.stdout.take().unwrap());
                while !line.contains("locked") {
                    line.clear();
                    assert!(std::io::BufRead::read_line(&mut reader, &mut line).unwrap() > 0, "the lock holder died");
                }
                let args = target.commands(dir.path()).remove(0);
                let started = Instant::now();
                let out = alarmsim(&args.iter().map(String::as_str).collect::<Vec<_>>());
                let waited = started.elapsed();
                drop(holder.stdin.take());
                holder.wait().unwrap();
                (target, file, out, waited)
            })
        })
        .collect();
    for case in cases {
        let (target, file, out, waited) = case.join().unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{target:?}: {stderr}");
        assert!(stderr.contains(&format!("{} is locked by another process", file.display())), "{target:?}: {stderr}");
        assert!(stderr.contains("waiting:") && stderr.contains("attempt 3 of 3"), "{target:?}: every retry is announced: {stderr}");
        assert!(waited >= Duration::from_secs(10) && waited < Duration::from_secs(40), "{target:?}: waited {waited:?}, the policy is 3 × 5 s");
    }
}

#[test]
fn files_of_older_versions_still_open_and_are_migrated() {
    // metadata.sqlite at schema v3 (before row checksums), with a pending alarm.
    let dir = tempfile::tempdir().unwrap();
    let meta = dir.path().join("metadata.sqlite");
    {
        let mut conn = Connection::open(&meta).unwrap();
        alarmsim_scheduler::metadata_store::metadata_migrations().to_version(&mut conn, 3).unwrap();
        conn.execute("INSERT INTO _cf_ALARM (actor_id, scheduled_time, actor_name) VALUES ('old', 4102444800000, 'old')", []).unwrap();
    }
    // Actor databases at schema v1 (before checksums), with their alarms. (Each actor's own
    // storage is what its alarm is: a loaded actor re-announces it, even none, I2.)
    std::fs::create_dir(dir.path().join("actors")).unwrap();
    sql(
        &dir.path().join("actors").join("old.sqlite"),
        "CREATE TABLE kv (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
         CREATE TABLE _cf_METADATA (key TEXT PRIMARY KEY, value INTEGER) WITHOUT ROWID;
         INSERT INTO _cf_METADATA VALUES ('alarm', 4102444800000), ('incarnation', 1);
         PRAGMA user_version = 1;",
    );
    sql(
        &dir.path().join("actors").join("old2.sqlite"),
        "CREATE TABLE kv (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
         CREATE TABLE _cf_METADATA (key TEXT PRIMARY KEY, value INTEGER) WITHOUT ROWID;
         INSERT INTO _cf_METADATA VALUES ('alarm', 4102444900000), ('incarnation', 3);
         PRAGMA user_version = 1;",
    );
    let out = alarmsim(&["realtime", "--dir", dir.path().to_str().unwrap(), "--run-for-ms", "0"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(stdout.contains("pending old scheduled=4102444800000") && stdout.contains("pending old2 scheduled=4102444900000"), "{stdout}");
    let version = |f: &Path| Connection::open(f).unwrap().query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0)).unwrap();
    assert_eq!(version(&meta), alarmsim_scheduler::metadata_store::METADATA_SCHEMA_VERSION);
    assert_eq!(version(&dir.path().join("actors").join("old2.sqlite")), 2);

    // A queue at schema v3 (before row checksums), with jobs: they run, and get checksums.
    let db = dir.path().join("q.sqlite");
    {
        let conn = Connection::open(&db).unwrap();
        alarmsim_scheduler::queue::schema::install_version(&conn, 3).unwrap();
        for i in 0..3 {
            conn.execute(
                "INSERT INTO job_queue (id, created_at, scheduled_for, failed_attempts, status, name, def) VALUES (?1, 0, 0, 0, 0, 'noop', '{}')",
                [alarmsim_scheduler::queue::Ulid::from_parts(1_000 + i, 7).to_string()],
            )
            .unwrap();
        }
    }
    let out = alarmsim(&["queue", "work", "--db", db.to_str().unwrap(), "--until-empty"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("empty: 3 job(s) done"), "{}", text(&out.stdout));
    let unsummed: i64 = Connection::open(&db).unwrap().query_row("SELECT count(*) FROM job_queue WHERE checksum IS NULL", [], |r| r.get(0)).unwrap();
    assert_eq!(unsummed, 0, "every row got its checksum");
}

#[test]
fn a_refused_metadata_file_leaves_the_namespace_directory_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("metadata.sqlite"), b"garbage, not a database").unwrap();
    let out = alarmsim(&["realtime", "--dir", dir.path().to_str().unwrap(), "--set", "a1=+10", "--run-for-ms", "0"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert_eq!(listing(dir.path()), ["metadata.sqlite"], "no actors/ directory, no side files");
}
