//! The reference job queue (`SqliteQueue`), promise by promise (queue/mod.rs), on a test
//! `Db` whose clock is set by hand: durable enqueue, due-only claims with owner and lease,
//! fencing of stale owners, the 30 s · 2ⁿ⁻¹ retry schedule, dead letters, reclaimed leases,
//! migrations (v1 → v3, too new, a crash at every statement) and concurrent connections to
//! one on-disk file.
//!
//! A "crash image" is a copy of the database file and its WAL taken while the process is
//! stopped at a statement boundary: what a SIGKILL at that point leaves on disk.

use alarmsim_scheduler::queue::inspect::{contents, DeadRow, JobRow};
use alarmsim_scheduler::queue::real::{block_on, RealDb};
use alarmsim_scheduler::queue::schema::{install_version, user_version, LATEST};
use alarmsim_scheduler::queue::{status, ClaimedJob, Db, FailOutcome, JobQueue, NewJob, QueueConfig, QueueError, Reclaimed, SqliteQueue, Ulid, Wakeup};
use alarmsim_scheduler::Durability;
use rusqlite::{params, Connection};
use std::collections::BTreeSet;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier};
use std::time::Duration;

const SEC: u64 = 1_000;
const LEASE: u64 = 30 * SEC;
/// The test clock's start (any value well above every delay).
const T0: u64 = 1_000_000;

/// A SQLite connection plus a clock the test sets; every statement is logged by label, and
/// an optional hook runs before each one (to take a crash image, or to crash).
struct ManualDb {
    conn: Connection,
    now: u64,
    labels: Vec<&'static str>,
    hook: Option<Box<dyn FnMut(usize, &'static str)>>,
    /// The next statement with this label fails with `SQLITE_IOERR` instead of running.
    fail_next: Option<&'static str>,
}

impl ManualDb {
    fn memory(now: u64) -> ManualDb {
        ManualDb { conn: Connection::open_in_memory().unwrap(), now, labels: Vec::new(), hook: None, fail_next: None }
    }

    /// An on-disk connection set up like `RealDb` (WAL, busy timeout), `synchronous=NORMAL`
    /// to spare the tests fsyncs (a process crash loses no commit at NORMAL either).
    fn file(path: &Path, now: u64) -> ManualDb {
        let conn = Connection::open(path).unwrap();
        conn.busy_timeout(Duration::from_secs(5)).unwrap();
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(())).unwrap();
        conn.pragma_update(None, "synchronous", "NORMAL").unwrap();
        ManualDb { conn, now, labels: Vec::new(), hook: None, fail_next: None }
    }
}

impl Db for ManualDb {
    async fn statement(&mut self, label: &'static str) -> Result<u64, rusqlite::Error> {
        let index = self.labels.len();
        self.labels.push(label);
        if let Some(hook) = self.hook.as_mut() {
            hook(index, label);
        }
        if self.fail_next == Some(label) {
            self.fail_next = None;
            return Err(rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_IOERR), Some(format!("injected before `{label}`"))));
        }
        Ok(self.now)
    }

    async fn busy(&mut self, attempt: u32) -> bool {
        std::thread::sleep(Duration::from_millis(1));
        attempt < 50
    }

    fn conn(&self) -> &Connection {
        &self.conn
    }
}

/// No job reclaimed.
const NONE: [Reclaimed; 0] = [];

/// The panic payload of a simulated crash (raised with `resume_unwind`: no panic message).
struct Crash;

fn queue() -> SqliteQueue {
    SqliteQueue::with_config(QueueConfig::default())
}

/// A queue opened (migrated) on a fresh in-memory database at `now`.
fn opened(now: u64) -> (SqliteQueue, ManualDb) {
    let (mut q, mut db) = (queue(), ManualDb::memory(now));
    assert_eq!(block_on(q.open(&mut db)).unwrap(), NONE);
    (q, db)
}

/// A queue opened (migrated) on the on-disk file `path` at `now`.
fn opened_file(path: &Path, now: u64) -> (SqliteQueue, ManualDb) {
    let (mut q, mut db) = (queue(), ManualDb::file(path, now));
    block_on(q.open(&mut db)).unwrap();
    (q, db)
}

fn id(n: u64) -> Ulid {
    Ulid::from_parts(1_700_000_000_000 + n, 0xabc)
}

fn job(n: u64, at: u64) -> NewJob {
    NewJob { id: id(n), name: format!("job-{n}"), payload: format!("{{\"n\":{n}}}"), scheduled_for_ms: at }
}

fn enqueue(q: &mut SqliteQueue, db: &mut ManualDb, n: u64, at: u64) {
    block_on(q.enqueue(db, job(n, at))).unwrap();
}

fn claim(q: &mut SqliteQueue, db: &mut ManualDb, owner: &str) -> Option<ClaimedJob> {
    block_on(q.claim(db, owner)).unwrap()
}

fn row(db: &ManualDb, n: u64) -> Option<JobRow> {
    contents(&db.conn).unwrap().jobs.get(&id(n).to_string()).cloned()
}

fn queued(scheduled_for_ms: u64, attempts: u32) -> JobRow {
    JobRow { status: status::QUEUED, attempts, scheduled_for_ms, owner: None, lease_until_ms: None }
}

fn running(job: &ClaimedJob) -> JobRow {
    JobRow {
        status: status::RUNNING,
        attempts: job.attempts,
        scheduled_for_ms: job.scheduled_for_ms,
        owner: Some(job.owner.clone()),
        lease_until_ms: Some(job.lease_until_ms),
    }
}

fn assert_fenced(result: Result<impl std::fmt::Debug, QueueError>, job: &ClaimedJob) {
    match result {
        Err(QueueError::Fenced { id, owner }) => assert_eq!((id, owner), (job.id.to_string(), job.owner.clone())),
        other => panic!("expected Fenced for {} owned by {}, got {other:?}", job.id, job.owner),
    }
}

/// Copies `path` and its WAL (not the shared-memory index, which SQLite rebuilds) to
/// `into/image.sqlite`: the file a process killed right now leaves behind.
fn crash_image(path: &Path, into: &Path) -> PathBuf {
    let image = into.join("image.sqlite");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", image.display()));
    }
    std::fs::copy(path, &image).unwrap();
    let wal = PathBuf::from(format!("{}-wal", path.display()));
    if wal.exists() {
        std::fs::copy(&wal, format!("{}-wal", image.display())).unwrap();
    }
    image
}

// ---------------------------------------------------------------------------------------
// Enqueue and claim

#[test]
fn enqueue_is_committed_and_durable_when_it_returns() {
    let dir = tempfile::tempdir().unwrap();
    let images = tempfile::tempdir().unwrap();
    let path = dir.path().join("queue.sqlite");
    let (mut q, mut db) = opened_file(&path, T0);
    for n in 0..3 {
        enqueue(&mut q, &mut db, n, T0 + n * SEC);
        assert!(db.conn.is_autocommit(), "enqueue {n} returned inside an open transaction");
        // Committed: another connection sees it; durable: a crash image holds it.
        let other = contents(&Connection::open(&path).unwrap()).unwrap();
        let image = contents(&Connection::open(crash_image(&path, images.path())).unwrap()).unwrap();
        for seen in [other, image] {
            assert_eq!(seen.jobs.len() as u64, n + 1);
            assert_eq!(seen.jobs[&id(n).to_string()], queued(T0 + n * SEC, 0));
        }
    }
}

#[test]
fn claim_takes_the_earliest_due_job_and_only_once_it_is_due() {
    let (mut q, mut db) = opened(T0);
    enqueue(&mut q, &mut db, 1, T0 + 5 * SEC);
    enqueue(&mut q, &mut db, 3, T0 + 3 * SEC);
    enqueue(&mut q, &mut db, 2, T0 + 3 * SEC); // Same time as job 3, smaller id: first.

    db.now = T0 + 3 * SEC - 1;
    assert_eq!(claim(&mut q, &mut db, "w1"), None, "nothing is due yet");

    db.now = T0 + 3 * SEC;
    let first = claim(&mut q, &mut db, "w1").expect("job 2 is due");
    assert_eq!(
        first,
        ClaimedJob {
            id: id(2),
            name: "job-2".into(),
            payload: "{\"n\":2}".into(),
            attempts: 0,
            owner: "w1".into(),
            lease_until_ms: T0 + 3 * SEC + LEASE,
            scheduled_for_ms: T0 + 3 * SEC,
        }
    );
    assert_eq!(row(&db, 2), Some(running(&first)));
    assert_eq!(row(&db, 2).unwrap().owner.as_deref(), Some("w1"));

    let second = claim(&mut q, &mut db, "w2").expect("job 3 is due");
    assert_eq!((second.id, second.owner.as_str(), second.lease_until_ms), (id(3), "w2", T0 + 3 * SEC + LEASE));
    assert_eq!(claim(&mut q, &mut db, "w3"), None, "job 1 is not due and the others are running");
    assert_eq!(row(&db, 1), Some(queued(T0 + 5 * SEC, 0)));

    db.now = T0 + 5 * SEC;
    assert_eq!(claim(&mut q, &mut db, "w3").map(|j| j.id), Some(id(1)));
    assert_eq!(claim(&mut q, &mut db, "w4"), None);
}

/// Idle workers and restarts are most of a queue's traffic: a claim that finds nothing due
/// and the open of an up-to-date database only read, so they never contend for the write
/// lock (and never meet BUSY behind a long transaction).
#[test]
fn an_idle_claim_and_an_up_to_date_open_take_no_write_lock() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("queue.sqlite");
    let (mut q, mut db) = opened_file(&path, T0);
    enqueue(&mut q, &mut db, 1, T0 + 5 * SEC);
    db.labels.clear();
    assert_eq!(claim(&mut q, &mut db, "w1"), None, "nothing is due yet");
    assert_eq!(std::mem::take(&mut db.labels), ["claim: peek due"]);

    // Another process holds the write lock: the idle claim still answers at once.
    let holder = Connection::open(&path).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    assert_eq!(claim(&mut q, &mut db, "w1"), None);
    assert_eq!(std::mem::take(&mut db.labels), ["claim: peek due"]);
    holder.execute_batch("COMMIT").unwrap();

    // A restart finds the schema current: no migration transaction (only the reclaim's).
    let mut restarted = ManualDb::file(&path, T0);
    assert_eq!(block_on(queue().open(&mut restarted)).unwrap(), NONE);
    assert_eq!(restarted.labels, ["migrate: peek user_version", "reclaim: begin immediate", "reclaim: select expired", "commit"]);

    db.now = T0 + 5 * SEC;
    assert_eq!(claim(&mut q, &mut db, "w1").map(|j| j.id), Some(id(1)), "a due job is claimed under the lock");
    assert_eq!(db.labels, ["claim: peek due", "claim: begin immediate", "claim: select due", "claim: update", "commit"]);
}

#[test]
fn a_running_job_is_not_claimed_again_until_its_lease_is_reclaimed() {
    let (mut q, mut db) = opened(T0);
    enqueue(&mut q, &mut db, 1, T0);
    let held = claim(&mut q, &mut db, "w1").unwrap();
    for now in [T0, T0 + LEASE - 1, T0 + LEASE, T0 + 10 * LEASE] {
        db.now = now;
        assert_eq!(claim(&mut q, &mut db, "w2"), None, "claim at {now} took a running job");
        assert_eq!(row(&db, 1), Some(running(&held)));
    }
}

#[test]
fn wakeup_reports_the_next_due_job_and_the_next_lease_expiry() {
    let (mut q, mut db) = opened(T0);
    assert_eq!(block_on(q.wakeup(&mut db)).unwrap(), Wakeup::default());
    enqueue(&mut q, &mut db, 1, T0);
    enqueue(&mut q, &mut db, 2, T0 + 7 * SEC);
    assert_eq!(block_on(q.wakeup(&mut db)).unwrap(), Wakeup { next_due_ms: Some(T0), next_lease_expiry_ms: None });
    db.now = T0 + 2 * SEC;
    claim(&mut q, &mut db, "w1").unwrap();
    assert_eq!(block_on(q.wakeup(&mut db)).unwrap(), Wakeup { next_due_ms: Some(T0 + 7 * SEC), next_lease_expiry_ms: Some(T0 + 2 * SEC + LEASE) });
}

// ---------------------------------------------------------------------------------------
// Complete, fail, fencing

#[test]
fn the_owner_completes_its_job_once() {
    let (mut q, mut db) = opened(T0);
    enqueue(&mut q, &mut db, 1, T0);
    let job = claim(&mut q, &mut db, "w1").unwrap();
    db.now = T0 + 10;
    block_on(q.complete(&mut db, &job)).unwrap();
    let done = JobRow { status: status::DONE, attempts: 0, scheduled_for_ms: T0, owner: None, lease_until_ms: None };
    assert_eq!(row(&db, 1), Some(done.clone()));
    let finished: i64 = db.conn.query_row("SELECT finished_at FROM job_queue", [], |r| r.get(0)).unwrap();
    assert_eq!(finished, (T0 + 10) as i64);

    assert_fenced(block_on(q.complete(&mut db, &job)), &job);
    assert_fenced(block_on(q.fail(&mut db, &job, "late")), &job);
    assert_eq!(row(&db, 1), Some(done), "a second finish changed the row");
    assert_eq!(claim(&mut q, &mut db, "w2"), None, "a done job is claimed again");
    assert_eq!(block_on(q.wakeup(&mut db)).unwrap(), Wakeup::default());
}

#[test]
fn the_owner_fails_its_job_and_it_returns_after_30_s() {
    let (mut q, mut db) = opened(T0);
    enqueue(&mut q, &mut db, 1, T0);
    let job = claim(&mut q, &mut db, "w1").unwrap();
    db.now = T0 + 100;
    let at = T0 + 100 + 30 * SEC;
    assert_eq!(block_on(q.fail(&mut db, &job, "boom")).unwrap(), FailOutcome::Retry { at_ms: at, attempts: 1 });
    assert_eq!(row(&db, 1), Some(queued(at, 1)));
    assert_fenced(block_on(q.complete(&mut db, &job)), &job);

    db.now = at - 1;
    assert_eq!(claim(&mut q, &mut db, "w2"), None, "retried before its backoff");
    db.now = at;
    let again = claim(&mut q, &mut db, "w2").unwrap();
    assert_eq!((again.id, again.attempts, again.owner.as_str()), (id(1), 1, "w2"));
}

#[test]
fn another_owner_is_fenced_and_changes_nothing() {
    let (mut q, mut db) = opened(T0);
    enqueue(&mut q, &mut db, 1, T0);
    let job = claim(&mut q, &mut db, "w1").unwrap();
    let forged = ClaimedJob { owner: "w2".into(), ..job.clone() };
    assert_fenced(block_on(q.complete(&mut db, &forged)), &forged);
    assert_fenced(block_on(q.fail(&mut db, &forged, "not mine")), &forged);
    assert_eq!(row(&db, 1), Some(running(&job)));
    assert!(db.conn.is_autocommit(), "a fenced fail left its transaction open");
    block_on(q.complete(&mut db, &job)).unwrap();
}

#[test]
fn an_expired_lease_is_reclaimed_with_the_attempt_counted_and_the_stale_owner_fenced() {
    let (mut q, mut db) = opened(T0);
    enqueue(&mut q, &mut db, 1, T0);
    let stale = claim(&mut q, &mut db, "w1").unwrap();

    db.now = T0 + LEASE - 1;
    assert_eq!(block_on(q.reclaim_expired(&mut db)).unwrap(), NONE, "reclaimed a live lease");
    assert_eq!(row(&db, 1), Some(running(&stale)));

    db.now = T0 + LEASE;
    let at = T0 + LEASE + 30 * SEC;
    let reclaimed = block_on(q.reclaim_expired(&mut db)).unwrap();
    assert_eq!(reclaimed, [Reclaimed { id: id(1), stale_owner: "w1".into(), outcome: FailOutcome::Retry { at_ms: at, attempts: 1 }, read_at_ms: T0 + LEASE }]);
    assert_eq!(row(&db, 1), Some(queued(at, 1)));
    assert_eq!(block_on(q.reclaim_expired(&mut db)).unwrap(), NONE, "reclaimed twice");

    // The stale worker wakes up: both of its finishes are rejected and change nothing.
    assert_fenced(block_on(q.complete(&mut db, &stale)), &stale);
    assert_fenced(block_on(q.fail(&mut db, &stale, "late failure")), &stale);
    assert_eq!(row(&db, 1), Some(queued(at, 1)));

    // Also once the job is running again under a new owner.
    db.now = at;
    let fresh = claim(&mut q, &mut db, "w2").unwrap();
    assert_eq!((fresh.attempts, fresh.lease_until_ms), (1, at + LEASE));
    assert_fenced(block_on(q.complete(&mut db, &stale)), &stale);
    assert_fenced(block_on(q.fail(&mut db, &stale, "late failure")), &stale);
    assert_eq!(row(&db, 1), Some(running(&fresh)));
    block_on(q.complete(&mut db, &fresh)).unwrap();
    assert_eq!(row(&db, 1).unwrap().status, status::DONE);
}

/// Owners may repeat (issue 13 item 2): a worker's concurrent claims and its restarts can
/// share its name, as a pod name is shared. A stale claim under the same name as the claim
/// that took the job over is still fenced, by the attempt count it read.
#[test]
fn a_stale_claim_is_fenced_even_under_the_same_owner_name() {
    let (mut q, mut db) = opened(T0);
    enqueue(&mut q, &mut db, 1, T0);
    let stale = claim(&mut q, &mut db, "worker-0").unwrap();
    db.now = T0 + LEASE;
    block_on(q.reclaim_expired(&mut db)).unwrap();
    db.now = T0 + LEASE + 30 * SEC;
    let fresh = claim(&mut q, &mut db, "worker-0").unwrap();
    assert_eq!((fresh.owner.as_str(), fresh.attempts), ("worker-0", 1));
    assert_fenced(block_on(q.complete(&mut db, &stale)), &stale);
    assert_fenced(block_on(q.fail(&mut db, &stale, "late failure")), &stale);
    assert_eq!(row(&db, 1), Some(running(&fresh)));
    block_on(q.complete(&mut db, &fresh)).unwrap();
}

#[test]
fn retries_wait_30_60_120_240_s_then_the_job_is_dead_lettered() {
    let (mut q, mut db) = opened(T0);
    enqueue(&mut q, &mut db, 1, T0);
    for (attempt, delay_s) in [30, 60, 120, 240].into_iter().enumerate() {
        let attempt = attempt as u32;
        let job = claim(&mut q, &mut db, &format!("w{attempt}")).expect("the retry is due");
        assert_eq!(job.attempts, attempt);
        db.now += 7; // The job ran for 7 ms.
        let at = db.now + delay_s * SEC;
        let outcome = block_on(q.fail(&mut db, &job, &format!("boom {attempt}"))).unwrap();
        assert_eq!(outcome, FailOutcome::Retry { at_ms: at, attempts: attempt + 1 });
        assert_eq!(row(&db, 1), Some(queued(at, attempt + 1)));
        db.now = at - 1;
        assert_eq!(claim(&mut q, &mut db, "early"), None, "attempt {} started before its {delay_s} s backoff", attempt + 2);
        db.now = at;
    }
    let last = claim(&mut q, &mut db, "w4").unwrap();
    assert_eq!(last.attempts, 4);
    assert_eq!(block_on(q.fail(&mut db, &last, "boom 4")).unwrap(), FailOutcome::Dead { attempts: 5 });

    let after = contents(&db.conn).unwrap();
    assert!(after.jobs.is_empty(), "a dead job is still in job_queue: {:?}", after.jobs);
    assert_eq!(after.dead.into_iter().collect::<Vec<_>>(), [(id(1).to_string(), DeadRow { attempts: 5, last_error: "boom 4".into() })]);
    let (name, def): (String, String) = db.conn.query_row("SELECT name, def FROM dead_letter", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    assert_eq!((name.as_str(), def.as_str()), ("job-1", "{\"n\":1}"));
    db.now += 100 * LEASE;
    assert_eq!(claim(&mut q, &mut db, "w5"), None);
    assert_eq!(block_on(q.wakeup(&mut db)).unwrap(), Wakeup::default());
}

#[test]
fn lost_leases_count_toward_the_dead_letter() {
    let mut db = ManualDb::memory(T0);
    let mut q = SqliteQueue::with_config(QueueConfig { max_attempts: 2, ..QueueConfig::default() });
    block_on(q.open(&mut db)).unwrap();
    enqueue(&mut q, &mut db, 1, T0);
    claim(&mut q, &mut db, "crashes-1").unwrap();
    db.now = T0 + LEASE;
    let first = block_on(q.reclaim_expired(&mut db)).unwrap();
    assert_eq!(first[0].outcome, FailOutcome::Retry { at_ms: T0 + LEASE + 30 * SEC, attempts: 1 });
    db.now = T0 + LEASE + 30 * SEC;
    assert_eq!(claim(&mut q, &mut db, "crashes-2").unwrap().attempts, 1);
    db.now += LEASE;
    let second = block_on(q.reclaim_expired(&mut db)).unwrap();
    assert_eq!(second, [Reclaimed { id: id(1), stale_owner: "crashes-2".into(), outcome: FailOutcome::Dead { attempts: 2 }, read_at_ms: db.now }]);
    let after = contents(&db.conn).unwrap();
    assert!(after.jobs.is_empty());
    let dead = &after.dead[&id(1).to_string()];
    assert_eq!(dead.attempts, 2);
    assert!(dead.last_error.contains("lease expired"), "{dead:?}");
}

#[test]
fn a_restarted_process_reclaims_the_leases_of_a_crashed_one_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("queue.sqlite");
    let (mut q, mut crashed) = opened_file(&path, T0);
    enqueue(&mut q, &mut crashed, 1, T0);
    enqueue(&mut q, &mut crashed, 2, T0);
    let lost = claim(&mut q, &mut crashed, "crashed").unwrap();
    drop(crashed); // Killed while running job 1.

    let mut early = ManualDb::file(&path, T0 + LEASE - 1);
    assert_eq!(block_on(queue().open(&mut early)).unwrap(), NONE, "reclaimed a lease that had not expired");
    drop(early);
    let mut restarted = ManualDb::file(&path, T0 + LEASE);
    let reclaimed = block_on(queue().open(&mut restarted)).unwrap();
    let at = T0 + LEASE + 30 * SEC;
    assert_eq!(reclaimed, [Reclaimed { id: lost.id, stale_owner: "crashed".into(), outcome: FailOutcome::Retry { at_ms: at, attempts: 1 }, read_at_ms: T0 + LEASE }]);
    assert_eq!(row(&restarted, 1), Some(queued(at, 1)));
    assert_eq!(row(&restarted, 2), Some(queued(T0, 0)));
}

// ---------------------------------------------------------------------------------------
// Migrations

/// A v1 database as a previous release (DGW's schema) left it: two queued jobs and one it
/// had claimed (status 1, no lease: v1 has none) when it was killed.
fn v1_fixture(path: &Path) {
    let conn = Connection::open(path).unwrap();
    install_version(&conn, 1).unwrap();
    for (n, scheduled, attempts, state) in [(1, T0 + SEC, 0, status::QUEUED), (2, T0, 2, status::QUEUED), (3, T0 - SEC, 1, status::RUNNING)] {
        conn.execute(
            "INSERT INTO job_queue (id, created_at, scheduled_for, failed_attempts, status, name, def) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![id(n).to_string(), (T0 - 60 * SEC) as i64, scheduled as i64, attempts, state, format!("job-{n}"), format!("{{\"n\":{n}}}")],
        )
        .unwrap();
    }
}

fn v1_jobs() -> Vec<(String, JobRow)> {
    let v1 = |status, attempts, scheduled_for_ms| JobRow { status, attempts, scheduled_for_ms, owner: None, lease_until_ms: None };
    vec![
        (id(1).to_string(), v1(status::QUEUED, 0, T0 + SEC)),
        (id(2).to_string(), v1(status::QUEUED, 2, T0)),
        (id(3).to_string(), v1(status::RUNNING, 1, T0 - SEC)),
    ]
}

/// `path` holds exactly the v1 fixture: version 1, its rows, none of v2's or v3's schema.
fn assert_still_v1(path: &Path, what: &str) {
    let conn = Connection::open(path).unwrap();
    assert_eq!(user_version(&conn).unwrap(), 1, "{what}: version");
    assert_eq!(contents(&conn).unwrap().jobs.into_iter().collect::<Vec<_>>(), v1_jobs(), "{what}: jobs");
    assert!(conn.prepare("SELECT owner FROM job_queue").is_err(), "{what}: v2's owner column exists");
    let tables: i64 = conn.query_row("SELECT count(*) FROM sqlite_master WHERE name IN ('dead_letter', 'job_queue_due')", [], |r| r.get(0)).unwrap();
    assert_eq!(tables, 0, "{what}: v2's index or v3's dead_letter exists");
    assert_eq!(conn.query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0)).unwrap(), "ok");
}

/// After a successful open of the v1 fixture at T0: v3, every job kept, and the job v1 had
/// claimed reclaimed (its lost attempt counted) instead of stuck running without a lease.
fn assert_migrated(db: &mut ManualDb, reclaimed: &[Reclaimed]) {
    let after = contents(&db.conn).unwrap();
    assert_eq!(after.version, LATEST);
    assert!(after.dead.is_empty());
    assert_eq!(after.jobs[&id(1).to_string()], queued(T0 + SEC, 0));
    assert_eq!(after.jobs[&id(2).to_string()], queued(T0, 2));
    let retry_at = T0 + 60 * SEC; // Its second attempt: 30 s · 2.
    assert_eq!(reclaimed, [Reclaimed { id: id(3), stale_owner: String::new(), outcome: FailOutcome::Retry { at_ms: retry_at, attempts: 2 }, read_at_ms: T0 }]);
    assert_eq!(after.jobs[&id(3).to_string()], queued(retry_at, 2));

    // Names and payloads survived too, and every job runs to completion.
    let mut q = queue();
    let mut done = Vec::new();
    for now in [T0, T0 + SEC, retry_at] {
        db.now = now;
        while let Some(job) = claim(&mut q, db, "w") {
            assert_eq!(job.payload, format!("{{\"n\":{}}}", job.name.trim_start_matches("job-")));
            block_on(q.complete(db, &job)).unwrap();
            done.push(job.id);
        }
    }
    assert_eq!(done, [id(2), id(1), id(3)]);
}

#[test]
fn open_migrates_a_v1_database_to_the_latest_version_keeping_its_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("queue.sqlite");
    v1_fixture(&path);
    assert_still_v1(&path, "fixture");
    let mut db = ManualDb::file(&path, T0);
    let reclaimed = block_on(queue().open(&mut db)).unwrap();
    assert_migrated(&mut db, &reclaimed);
    // Opening again is a no-op.
    assert_eq!(block_on(queue().open(&mut db)).unwrap(), NONE);
    assert_eq!(user_version(&db.conn).unwrap(), LATEST);
}

#[test]
fn open_migrates_every_older_version_to_the_schema_of_a_fresh_database() {
    let schema = |conn: &Connection| -> Vec<String> {
        let mut stmt = conn.prepare("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name").unwrap();
        stmt.query_map([], |r| r.get(0)).unwrap().collect::<rusqlite::Result<_>>().unwrap()
    };
    let (_, fresh) = opened(T0);
    let expected = schema(&fresh.conn);
    assert_eq!(expected.len(), 4, "job_queue, dead_letter and two indexes: {expected:#?}");
    for version in 0..=LATEST {
        let mut db = ManualDb::memory(T0);
        install_version(&db.conn, version).unwrap();
        block_on(queue().open(&mut db)).unwrap();
        assert_eq!(user_version(&db.conn).unwrap(), LATEST, "from v{version}");
        assert_eq!(schema(&db.conn), expected, "from v{version}");
    }
}

#[test]
fn open_refuses_a_newer_schema_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("queue.sqlite");
    {
        let (mut q, mut db) = opened_file(&path, T0);
        enqueue(&mut q, &mut db, 1, T0);
        enqueue(&mut q, &mut db, 2, T0);
        claim(&mut q, &mut db, "w1").unwrap();
        db.conn.pragma_update(None, "user_version", LATEST + 1).unwrap();
    } // Closed: the WAL is checkpointed into the file.
    let before = std::fs::read(&path).unwrap();
    let rows_before = contents(&Connection::open(&path).unwrap()).unwrap();

    // Long after job 1's lease expired: a successful open would reclaim it.
    let mut db = ManualDb::file(&path, T0 + 10 * LEASE);
    match block_on(queue().open(&mut db)) {
        Err(QueueError::SchemaTooNew { found, latest }) => assert_eq!((found, latest), (LATEST + 1, LATEST)),
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
    assert!(db.conn.is_autocommit(), "the refused open left its transaction open");
    assert!(!db.labels.iter().any(|l| l.starts_with("migrate: statement") || l.starts_with("reclaim")), "{:?}", db.labels);
    assert_eq!(contents(&db.conn).unwrap(), rows_before);
    drop(db);
    assert!(std::fs::read(&path).unwrap() == before, "the refused open changed the file");
}

#[test]
fn a_crash_at_any_migration_statement_leaves_the_old_version_intact() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = dir.path().join("v1.sqlite");
    v1_fixture(&fixture);

    // A clean run, to learn the statements of the open.
    let dry = dir.path().join("dry.sqlite");
    std::fs::copy(&fixture, &dry).unwrap();
    let mut db = ManualDb::file(&dry, T0);
    block_on(queue().open(&mut db)).unwrap();
    let labels = std::mem::take(&mut db.labels);
    let commit = labels.iter().position(|l| *l == "migrate: end").expect("the migration commits");
    let bumps = labels[..commit].iter().filter(|l| **l == "migrate: bump user_version").count();
    assert_eq!((labels[0], labels[1], bumps as i64), ("migrate: peek user_version", "migrate: begin immediate", LATEST - 1), "v1 → latest: a look without the lock, then one transaction with a bump per version: {labels:?}");

    // Crash before each migration statement (the last being the COMMIT), and right after it.
    for (k, label) in labels.iter().enumerate().take(commit + 2) {
        let case = tempfile::tempdir().unwrap();
        let path = case.path().join("queue.sqlite");
        std::fs::copy(&fixture, &path).unwrap();
        let image_dir = case.path().join("image");
        std::fs::create_dir(&image_dir).unwrap();
        let mut db = ManualDb::file(&path, T0);
        let (live, images) = (path.clone(), image_dir.clone());
        db.hook = Some(Box::new(move |i, _| {
            if i == k {
                crash_image(&live, &images);
                resume_unwind(Box::new(Crash));
            }
        }));
        let outcome = catch_unwind(AssertUnwindSafe(|| block_on(queue().open(&mut db))));
        assert!(outcome.is_err_and(|payload| payload.is::<Crash>()), "crash {k} did not happen");
        let image = image_dir.join("image.sqlite");
        let what = format!("crash image before statement {k} ({label})");
        if k <= commit {
            assert_still_v1(&image, &what);
            drop(db); // The live connection rolls back.
            assert_still_v1(&path, &format!("live file after {what}"));
        } else {
            let conn = Connection::open(&image).unwrap();
            assert_eq!(user_version(&conn).unwrap(), LATEST, "{what}: the committed migration is lost");
            assert_eq!(contents(&conn).unwrap().jobs.len(), 3, "{what}");
        }
        // The next process migrates the image as if nothing happened.
        let mut restarted = ManualDb::file(&image, T0);
        let reclaimed = block_on(queue().open(&mut restarted)).unwrap();
        assert_migrated(&mut restarted, &reclaimed);
    }
}

// ---------------------------------------------------------------------------------------
// Several connections to one file

#[test]
fn concurrent_claims_on_one_file_never_hand_out_a_job_twice() {
    const JOBS: u64 = 150;
    const THREADS: usize = 4;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("queue.sqlite");
    let (mut q, mut db) = opened_file(&path, T0);
    for n in 0..JOBS {
        enqueue(&mut q, &mut db, n, T0);
    }
    let barrier = Arc::new(Barrier::new(THREADS));
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (path, barrier) = (path.clone(), barrier.clone());
            std::thread::spawn(move || {
                let (mut q, mut db) = (queue(), ManualDb::file(&path, T0));
                barrier.wait();
                let mut got = Vec::new();
                while let Some(job) = block_on(q.claim(&mut db, &format!("t{t}-{}", got.len()))).expect("a claim fails under contention") {
                    block_on(q.complete(&mut db, &job)).expect("the owner completes");
                    got.push(job.id);
                }
                got
            })
        })
        .collect();
    let per_thread: Vec<Vec<Ulid>> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    let all: Vec<Ulid> = per_thread.iter().flatten().copied().collect();
    let distinct: BTreeSet<Ulid> = all.iter().copied().collect();
    assert_eq!(all.len() as u64, JOBS, "claims per thread: {:?}", per_thread.iter().map(Vec::len).collect::<Vec<_>>());
    assert_eq!(distinct, (0..JOBS).map(id).collect(), "a job was claimed twice or never");
    let after = contents(&db.conn).unwrap();
    assert!(after.jobs.values().all(|r| r.status == status::DONE), "{after:?}");
}

#[test]
fn connections_opening_a_fresh_file_at_once_all_succeed() {
    const OPENERS: usize = 3;
    for round in 0..10 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("queue.sqlite");
        let barrier = Arc::new(Barrier::new(OPENERS));
        let openers: Vec<_> = (0..OPENERS)
            .map(|_| {
                let (path, barrier) = (path.clone(), barrier.clone());
                std::thread::spawn(move || -> Result<(), String> {
                    barrier.wait();
                    let mut db = RealDb::open(&path, Durability::Full).map_err(|e| format!("RealDb::open: {e}"))?;
                    block_on(queue().open(&mut db)).map_err(|e| format!("open: {e}"))?;
                    Ok(())
                })
            })
            .collect();
        for (i, opener) in openers.into_iter().enumerate() {
            assert_eq!(opener.join().unwrap(), Ok(()), "round {round}, opener {i}");
        }
        let conn = Connection::open(&path).unwrap();
        assert_eq!(user_version(&conn).unwrap(), LATEST, "round {round}");
        assert_eq!(contents(&conn).unwrap().jobs.len(), 0);
    }
}

/// A statement that fails, or a COMMIT that fails, leaves nothing behind: the claim is
/// reported as failed, no transaction stays open on the connection (the next claim would run
/// inside it and its BEGIN fail for ever), and the job is still queued with nothing counted.
#[test]
fn a_failed_statement_or_commit_rolls_the_claim_back() {
    for label in ["claim: begin immediate", "claim: select due", "claim: update", "commit"] {
        let (mut q, mut db) = opened(T0);
        enqueue(&mut q, &mut db, 1, T0);
        db.fail_next = Some(label);
        assert!(block_on(q.claim(&mut db, "w1")).is_err(), "{label}: the claim must fail");
        assert!(db.conn.is_autocommit(), "{label}: the failed claim left a transaction open");
        assert_eq!(row(&db, 1), Some(queued(T0, 0)), "{label}: the failed claim changed the job");
        assert_eq!(claim(&mut q, &mut db, "w2").map(|j| j.owner).as_deref(), Some("w2"), "{label}: the next claim must work");
    }
}

/// SQLite itself fails the COMMIT (the commit hook turns it into a rollback, as a full disk
/// or an I/O error at commit time does): the claim fails and the job is untouched.
#[test]
fn a_commit_sqlite_rolls_back_fails_the_claim() {
    let (mut q, mut db) = opened(T0);
    enqueue(&mut q, &mut db, 1, T0);
    db.conn.commit_hook(Some(|| true)).unwrap();
    assert!(block_on(q.claim(&mut db, "w1")).is_err(), "a claim whose commit rolled back must fail");
    db.conn.commit_hook(None::<fn() -> bool>).unwrap();
    assert!(db.conn.is_autocommit());
    assert_eq!(row(&db, 1), Some(queued(T0, 0)));
    assert_eq!(claim(&mut q, &mut db, "w2").map(|j| j.owner).as_deref(), Some("w2"));
}
