//! The real-mode job queue survives SIGKILL (`alarmsim queue`, src/queue_cmd.rs).
//!
//! - `queue enqueue` prints `acked <id>` only after the job's INSERT committed, so every id a
//!   reader saw must be in the file after a kill at any point (no lost acknowledged job).
//! - `queue work` killed with jobs in flight leaves them running under a lease; a restarted
//!   worker reclaims them once the lease expires (counting the lost attempt) and finishes
//!   every job.

mod support;

use alarmsim_scheduler::queue::inspect::{contents, Contents};
use alarmsim_scheduler::queue::schema::LATEST;
use alarmsim_scheduler::queue::status;
use rusqlite::Connection;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

/// A running `alarmsim queue …` whose stdout lines arrive on a channel. Dropping it kills
/// the process, so a failed assertion never leaves a child behind.
struct Proc {
    child: Child,
    lines: Receiver<String>,
}

impl Proc {
    fn start(args: &[&str]) -> Proc {
        let (child, lines) = support::spawn_alarmsim(&[&["queue"], args].concat());
        Proc { child, lines }
    }

    fn next_line(&self) -> String {
        self.lines.recv_timeout(Duration::from_secs(20)).expect("the child keeps printing")
    }

    /// SIGKILL (what `Child::kill` sends on Unix), reap, and return the lines the child
    /// printed that were not read yet (the reader ends at the pipe's EOF).
    fn kill(&mut self) -> Vec<String> {
        self.child.kill().expect("SIGKILL the child");
        self.child.wait().expect("reap the child");
        self.lines.iter().collect()
    }

    /// Waits for the exit and returns its status and every line not read yet.
    fn finish(&mut self, timeout: Duration) -> (ExitStatus, Vec<String>) {
        let give_up = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("poll the child") {
                return (status, self.lines.iter().collect());
            }
            assert!(Instant::now() < give_up, "alarmsim queue did not exit within {timeout:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn alarmsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_alarmsim")).args(args).output().expect("run alarmsim")
}

/// The ids of the lines `<word> <id> …`.
fn ids<'a>(lines: impl IntoIterator<Item = &'a String>, word: &str) -> BTreeSet<String> {
    lines.into_iter().filter_map(|l| l.strip_prefix(word)?.strip_prefix(' ')?.split(' ').next().map(str::to_string)).collect()
}

/// Reads the queue file as it is, after checking that SQLite finds it intact.
fn read(db: &Path) -> Contents {
    let conn = Connection::open(db).expect("open the queue file");
    let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok", "{} is damaged", db.display());
    contents(&conn).expect("read the queue")
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temp path")
}

#[test]
fn sigkill_during_enqueue_never_loses_an_acknowledged_job() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("queue.sqlite");
    let mut acked = BTreeSet::new();
    // Kill at once (during the open), then after 1, 17, 60, … acknowledgements; one
    // round at NORMAL (a process crash loses no commit at any `synchronous` level).
    for (round, kill_after, durability) in [(0, 0, "full"), (1, 1, "full"), (2, 17, "full"), (3, 60, "full"), (4, 5, "full"), (5, 40, "normal")] {
        let mut enqueue = Proc::start(&["enqueue", "--db", path_str(&db), "--durability", durability, "--count", "1000000"]);
        let mut read_before_kill = Vec::new();
        while read_before_kill.len() < kill_after {
            let line = enqueue.next_line();
            if line.starts_with("acked ") {
                read_before_kill.push(line);
            }
        }
        let after_kill = enqueue.kill();
        let this_round = ids(read_before_kill.iter().chain(&after_kill), "acked");
        assert!(this_round.len() >= kill_after, "round {round}: {this_round:?}");
        acked.extend(this_round);

        let found = read(&db);
        let lost: Vec<&String> = acked.iter().filter(|id| !found.jobs.contains_key(*id)).collect();
        assert!(lost.is_empty(), "round {round}: {} acknowledged job(s) lost after SIGKILL: {lost:?}", lost.len());
        if kill_after > 0 {
            assert_eq!(found.version, LATEST, "round {round}");
        }
        // At most the one INSERT in flight at the kill committed without its line.
        assert!(found.jobs.len() <= acked.len() + round + 1, "round {round}: {} rows for {} acks", found.jobs.len(), acked.len());
        assert!(found.jobs.values().all(|j| j.status == status::QUEUED && j.attempts == 0), "round {round}");
    }
    assert!(acked.len() >= 123, "{} acks", acked.len());
}

#[test]
fn sigkill_during_work_then_a_restarted_worker_reclaims_and_finishes_every_job() {
    const JOBS: usize = 12;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("queue.sqlite");
    let db = path_str(&db);
    let enqueued = alarmsim(&["queue", "enqueue", "--db", db, "--count", &JOBS.to_string()]);
    assert!(enqueued.status.success(), "{}", String::from_utf8_lossy(&enqueued.stderr));
    let lines: Vec<String> = String::from_utf8(enqueued.stdout).unwrap().lines().map(str::to_string).collect();
    let all = ids(&lines, "acked");
    assert_eq!(all.len(), JOBS);

    // Short leases and backoff, so the restart does not wait 30 s; a lease longer than a job
    // (no heartbeat), and a job long enough that a loaded CI machine which starves this thread
    // for a second still kills it mid-job.
    let config = ["--db", db, "--lease-ms", "2500", "--backoff-ms", "50"];
    let mut worker = Proc::start(&[&["work", "--workers", "2", "--job-ms", "1200"][..], &config[..]].concat());
    let mut seen = Vec::new();
    let just_claimed = loop {
        let line = worker.next_line();
        seen.push(line.clone());
        let done = ids(&seen, "done").len();
        if let (true, Some(id)) = (done >= 3, line.strip_prefix("claimed ")) {
            break id.split(' ').next().unwrap().to_string(); // Mid-job: 1.2 s of work ahead.
        }
    };
    seen.extend(worker.kill());
    let (claimed, done) = (ids(&seen, "claimed"), ids(&seen, "done"));

    // On disk: what the killed worker reported done is done; what it was running still is.
    let at_kill = read(Path::new(db));
    let running: BTreeSet<String> = at_kill.jobs.iter().filter(|(_, j)| j.status == status::RUNNING).map(|(id, _)| id.clone()).collect();
    assert!(running.contains(&just_claimed), "{just_claimed} was mid-job at the kill; running on disk: {running:?}");
    assert!(running.is_subset(&claimed), "running jobs nobody claimed: {running:?} vs {claimed:?}");
    assert!(running.is_disjoint(&done));
    for id in &done {
        assert_eq!(at_kill.jobs[id].status, status::DONE, "{id} was reported done before the kill");
    }

    let mut restart = Proc::start(&[&["work", "--workers", "2", "--job-ms", "10", "--until-empty"][..], &config[..]].concat());
    let (exit, lines) = restart.finish(Duration::from_secs(30));
    assert!(exit.success(), "the restarted worker exited with {exit}: {lines:#?}");
    assert_eq!(ids(&lines, "reclaimed"), running, "every job in flight at the kill is reclaimed, nothing else: {lines:#?}");
    for id in &running {
        assert!(lines.iter().any(|l| l.starts_with(&format!("reclaimed {id} attempts=1 "))), "{id}: the lost attempt is counted: {lines:#?}");
    }
    let finished_now = ids(&lines, "done");
    assert!(finished_now.is_disjoint(&done), "a job completed twice: {finished_now:?} and {done:?}");

    let end = read(Path::new(db));
    assert!(end.dead.is_empty(), "{:?}", end.dead);
    assert_eq!(end.jobs.keys().cloned().collect::<BTreeSet<_>>(), all);
    for (id, job) in &end.jobs {
        assert_eq!(job.status, status::DONE, "{id} never finished: {job:?}");
        assert_eq!(job.attempts, u32::from(running.contains(id)), "{id}: attempts recorded");
    }
}

#[test]
fn two_processes_opening_a_fresh_queue_at_once_both_succeed() {
    for round in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("queue.sqlite");
        let mut both: Vec<Proc> = (0..2).map(|_| Proc::start(&["enqueue", "--db", path_str(&db), "--count", "5"])).collect();
        for (i, p) in both.iter_mut().enumerate() {
            let (exit, lines) = p.finish(Duration::from_secs(30));
            assert!(exit.success(), "round {round}, process {i} exited with {exit}: {lines:?}");
            assert_eq!(ids(&lines, "acked").len(), 5);
        }
        let found = read(&db);
        assert_eq!((found.version, found.jobs.len()), (LATEST, 10), "round {round}");
    }
}

#[test]
fn bad_input_exits_2_and_names_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("queue.sqlite");
    let db = path_str(&db);
    let missing = dir.path().join("no-such-dir/queue.sqlite");
    let not_sqlite = dir.path().join("notes.txt");
    std::fs::write(&not_sqlite, "not a database, just some text that is long enough to have a header").unwrap();
    let cases: [(&[&str], &str); 7] = [
        (&["enqueue", "--db", db, "--count", "1", "--durability", "sometimes"], "--durability"),
        (&["enqueue", "--db", db, "--count", "0"], "--count"),
        (&["enqueue", "--db", path_str(&missing), "--count", "1"], "--db"),
        (&["enqueue", "--db", path_str(&not_sqlite), "--count", "1"], "--db"),
        (&["work", "--db", db, "--workers", "0"], "--workers"),
        (&["inspect", "--db", path_str(&missing)], "--db"),
        (&["bench", "--dir", db, "--jobs", "x"], "--jobs"),
    ];
    for (args, flag) in cases {
        let out = alarmsim(&[&["queue"][..], args].concat());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(flag), "{args:?}: the error names {flag}: {stderr}");
    }
    assert!(!missing.exists() && !Path::new(db).exists(), "a refused command created a file");
}

#[test]
fn inspect_counts_jobs_by_state() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("queue.sqlite");
    let db = path_str(&db);
    for args in [&["enqueue", "--count", "3"][..], &["work", "--until-empty"], &["enqueue", "--count", "2", "--delay-ms", "3600000"]] {
        let out = alarmsim(&[&["queue"][..], args, &["--db", db]].concat());
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let out = alarmsim(&["queue", "inspect", "--db", db, "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let count = |key: &str| report[key].as_u64();
    assert_eq!(report["schema_version"], LATEST);
    assert_eq!(
        [count("queued"), count("due"), count("running"), count("done"), count("dead")],
        [Some(2), Some(0), Some(0), Some(3), Some(0)],
        "{report}"
    );
}
