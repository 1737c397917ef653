//! The job-queue world: producer and worker processes (madsim tasks, each with its own
//! SQLite connection to one shared database), the plan's crashes and power losses, and the
//! checker.
//!
//! Processes run the queue under test as ordinary async code. Every SQL statement first
//! passes [`SimDb::statement`], which waits a drawn latency (other processes interleave
//! there) and may crash the process (a crash at a statement boundary). A crash aborts the
//! process's task: its connection is dropped and SQLite rolls back whatever transaction it
//! had open, as it would for a killed process.

use super::clocks::ProcessClocks;
use super::checker::QueueChecker;
use super::disk::{PooledConn, QueueDisk};
use crate::checker::{Violation, EPOCH_MS};
use crate::driver::{Phase, TwoPhases};
use crate::plan::{Action, Attempt, JobScript, Node, Plan, Step, DEADLINE_MARGIN_MS};
use crate::profile::FaultProfile;
use crate::scenario::{Invariant, QueueWorkload, ScenarioSpec};
use crate::trace::{EventKind, Gauges, Trace, TraceEvent};
use crate::probes::queue as probe;
use crate::run_options::RunOptions;
use alarmsim_scheduler::probe::{Probe, Probes};
use alarmsim_scheduler::queue::inspect::{self, contents, Contents};
use alarmsim_scheduler::queue::{schema, status, ClaimedJob, Db, FailOutcome, JobQueue, NewJob, QueueError, Reclaimed, Ulid};
use madsim::task::JoinHandle;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rusqlite::{params, Connection};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// A statement that meets `SQLITE_BUSY` waits, as under SQLite's `busy_timeout`, for at most
/// this long (drawn per statement) before the queue is told to give up (`Db::busy` answers
/// false), as `RealDb` does after its lock wait. About what the 40 polls of the world before
/// took (their back-offs plus a statement's latency each), so a lock contended without any
/// fault rarely outlasts it.
const BUSY_TIMEOUT_MS: (u64, u64) = (4_000, 12_000);
/// A process killed by its own job restarts after this long (its supervisor's delay).
const SUPERVISOR_RESTART_MS: u64 = 1_000;
/// A bound on the retries of one statement within its busy timeout (each waits for the lock
/// to change hands, so it is never reached in practice). An injected busy streak answers
/// BUSY this many times: past the busy timeout.
const BUSY_RETRY_CAP: u32 = 1_000;
/// Legacy jobs are due within this long after the start.
const LEGACY_DUE_MS: u64 = 60_000;
/// Plan job numbers of legacy jobs start here (plan jobs count from 0).
const LEGACY_JOB_BASE: u32 = 1_000_000;

/// One process.
struct Proc {
    node: Node,
    up: bool,
    incarnation: u64,
    /// Claims taken by this incarnation (the owner token's counter).
    claims: u64,
    /// The incarnation's tasks: one per claim slot (`QueueFaultProfile::worker_slots`).
    tasks: Vec<JoinHandle<()>>,
    /// Producers: the index of the next plan step to look at, across restarts.
    cursor: usize,
    /// Producers: every step is done and nothing is buffered.
    finished: bool,
    /// When this incarnation started.
    started_at: u64,
    /// The incarnation's connections, one per slot (shared with its tasks), so a kill can
    /// end their transactions at once, as the death of a real process releases its locks.
    conns: Vec<Rc<PooledConn>>,
    /// Workers, per slot: a job was enqueued since this slot last looked (the doorbell).
    rung: Vec<bool>,
    /// Workers, per slot: the waker of its idle wait, if it is waiting.
    idle: Vec<Option<Waker>>,
    /// The connection of its reclaim transaction, from its `BEGIN IMMEDIATE` to its
    /// `commit` or `rollback`, for the probe of a claim that races it (inside it while that
    /// connection holds a transaction: a BEGIN that failed began nothing).
    reclaim_conn: Option<Rc<PooledConn>>,
    /// A planned pause holds the process at its next statement boundary until this time.
    paused_until: u64,
    /// Injected `SQLITE_BUSY` answers still to come (a busy streak past the busy timeout).
    busy_left: u32,
    /// SQL faults injected into this incarnation so far (an `open` that fails after one is
    /// the environment's doing, not the queue's).
    injected: u64,
    /// Its supervisor gave up on it while it was paused and started a replacement under the
    /// same name (a later process index): this incarnation is a zombie that never restarts,
    /// and exits when it next looks for work.
    replaced: bool,
}

impl Proc {
    fn new(node: Node, finished: bool) -> Proc {
        Proc {
            node,
            up: false,
            incarnation: 0,
            claims: 0,
            tasks: Vec::new(),
            cursor: 0,
            finished,
            started_at: 0,
            conns: Vec::new(),
            rung: Vec::new(),
            idle: Vec::new(),
            reclaim_conn: None,
            paused_until: 0,
            busy_left: 0,
            injected: 0,
            replaced: false,
        }
    }
}

/// What a statement meets, drawn before it runs.
struct StatementDraw {
    latency_ms: u64,
    crash: bool,
    /// A pause before the statement (`statement_pause`).
    pause_ms: u64,
    fault: Option<SqlFault>,
}

/// An SQL fault injected into one statement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SqlFault {
    /// The statement fails with this primary result code instead of running.
    Error(std::os::raw::c_int),
    /// The statement meets `SQLITE_BUSY` for longer than the busy timeout.
    Busy,
    /// The commit the statement makes fails and rolls the transaction back (commit hook).
    CommitFails,
}

/// A job of the plan.
struct JobInfo {
    name: String,
    script: JobScript,
    /// Attempts started so far (indexes the script; never rolled back).
    executions: u32,
    /// For the trace's gauges: when the job is next due, and its lease while it runs.
    due_ms: Option<u64>,
    lease_until_ms: Option<u64>,
}

pub struct QueueWorld<Q> {
    pub spec: ScenarioSpec,
    workload: QueueWorkload,
    pub profile: FaultProfile,
    steps: Vec<Step>,
    seed: u64,
    variant: String,
    start: madsim::time::Instant,
    pub phase: Phase,
    disk: QueueDisk,
    procs: Vec<Proc>,
    /// Per process: statement latencies, crash draws, busy waits.
    streams: Vec<ChaCha8Rng>,
    jobs: BTreeMap<String, JobInfo>,
    checker: QueueChecker,
    pub trace: Trace,
    keep_trace: bool,
    /// Where the queue's and the world's coverage probes are counted (off unless asked).
    pub(crate) probes: Probes,
    /// Every event's time, kind and track, traced or not (`fingerprint.rs`).
    pub fingerprint: crate::fingerprint::Fingerprint,
    pub violation: Option<Violation>,
    pub events_handled: u64,
    pub last_event_ms: u64,
    /// Claims committed so far: each claim's number for the checker.
    claims_committed: u64,
    /// Bumped whenever the database's locks may have changed hands (a statement inside a
    /// transaction is about to run, or a dead process's transaction was rolled back);
    /// statements waiting out `SQLITE_BUSY` wake then (`LockWait`) instead of polling.
    lock_changes: u64,
    lock_waiters: Vec<Waker>,
    me: Weak<RefCell<QueueWorld<Q>>>,
    _queue: PhantomData<fn() -> Q>,
}

/// Process `index`'s random stream (statement latencies, crash draws, busy waits).
fn process_stream(seed: u64, index: usize) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed ^ (index as u64 + 1).wrapping_mul(0xd1b5_4a32_d192_ed03))
}

/// A job's ULID: its planned time plus 80 bits derived from the seed and its plan number,
/// so removing other jobs (shrinking) does not change it.
fn job_ulid(seed: u64, job: u32, at_ms: u64) -> Ulid {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ (u64::from(job) + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    Ulid::from_parts((EPOCH_MS as u64) + at_ms, rng.random::<u128>())
}

impl<Q: JobQueue + 'static> QueueWorld<Q> {
    pub fn new(spec: ScenarioSpec, variant: &str, plan: Plan, options: RunOptions) -> Rc<RefCell<QueueWorld<Q>>> {
        let keep_trace = options.keep_trace;
        let workload = spec.queue().expect("a queue world needs a queue scenario").clone();
        let profile = plan.profile.clone();
        let seed = plan.seed;
        let mut procs = Vec::new();
        for p in 0..workload.producers as usize {
            procs.push(Proc::new(Node::Producer(p), false));
        }
        for w in 0..workload.workers as usize {
            procs.push(Proc::new(Node::Worker(w), true));
        }
        let streams = (0..procs.len()).map(|i| process_stream(seed, i)).collect();
        let mut jobs = BTreeMap::new();
        for step in &plan.steps {
            if let Action::Enqueue { job, script, .. } = &step.action {
                let id = job_ulid(seed, *job, step.at_ms).to_string();
                jobs.insert(id, JobInfo { name: format!("job-{job}"), script: script.clone(), executions: 0, due_ms: None, lease_until_ms: None });
            }
        }
        let names = procs.iter().map(|p| p.node.to_string()).collect();
        let mut checker = QueueChecker::new(workload.config, profile.durability, ProcessClocks::new(&profile.process_clocks, names));
        let legacy = legacy_jobs(&workload, seed);
        let disk = QueueDisk::new(profile.durability, profile.sync_interval_ms, |conn| install_legacy(conn, &legacy));
        for (id, due, info) in legacy {
            checker.legacy(&id, due);
            jobs.insert(id, info);
        }
        let world = Rc::new(RefCell::new(QueueWorld {
            spec,
            workload,
            profile,
            steps: plan.steps,
            seed,
            variant: variant.to_string(),
            start: madsim::time::Instant::now(),
            phase: Phase::Chaos,
            disk,
            procs,
            streams,
            jobs,
            checker,
            trace: Trace::default(),
            keep_trace,
            probes: if options.coverage { Probes::recording() } else { Probes::off() },
            fingerprint: Default::default(),
            violation: None,
            events_handled: 0,
            last_event_ms: 0,
            claims_committed: 0,
            lock_changes: 0,
            lock_waiters: Vec::new(),
            me: Weak::new(),
            _queue: PhantomData,
        }));
        world.borrow_mut().me = Rc::downgrade(&world);
        world
    }

    /// Simulated ms since the start: the reference clock.
    pub fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    /// What `process`'s own clock reads now (issue 13 item 3): the time its queue sees, and
    /// the one its times are stored on.
    fn clock_ms(&self, process: usize) -> u64 {
        self.checker.clocks().local(process, self.now_ms())
    }

    /// The reference time at which `process`'s clock reads `local_ms`.
    fn reference_ms(&self, process: usize, local_ms: u64) -> u64 {
        self.checker.clocks().reference(process, local_ms)
    }

    fn live(&self) -> bool {
        self.violation.is_none() && self.phase != Phase::Done
    }

    /// Records an event (the text is built only when the trace is kept or logged). An event
    /// of a job carries the job's gauges: when it is next due and, while it runs, its lease.
    fn note(&mut self, kind: EventKind, node: &str, job: Option<&str>, what: impl FnOnce() -> String) {
        // The track as the trace names it: the job's name, else its id.
        let track = job.map_or(0, |id| crate::fingerprint::track_digest(self.jobs.get(id).map_or(id, |j| j.name.as_str())));
        self.fingerprint.record(self.now_ms(), kind, track);
        let live = tracing::enabled!(target: "alarmsim::trace", tracing::Level::DEBUG);
        if !self.keep_trace && !live {
            return;
        }
        let info = job.and_then(|id| self.jobs.get(id));
        let actor = job.map(|id| info.map_or_else(|| id.to_string(), |j| j.name.clone()));
        let mut event = TraceEvent::new(self.now_ms(), node, actor, kind, what());
        if let Some(info) = info {
            event.gauges = Gauges::from([
                ("scheduled_for".to_string(), info.due_ms.map(|v| v as i64)),
                ("lease_until".to_string(), info.lease_until_ms.map(|v| v as i64)),
            ]);
        }
        if live {
            let actor = event.actor.as_deref().unwrap_or("-");
            tracing::debug!(target: "alarmsim::trace", seed = self.seed, t_ms = event.t, node = %event.node, actor, "{}", event.what);
        }
        if self.keep_trace {
            self.trace.push(event);
        }
    }

    /// Updates a job's gauges (what the next event of its track shows).
    fn set_gauges(&mut self, id: &str, due_ms: Option<u64>, lease_until_ms: Option<u64>) {
        if let Some(info) = self.jobs.get_mut(id) {
            info.due_ms = due_ms;
            info.lease_until_ms = lease_until_ms;
        }
    }

    fn fail(&mut self, outcome: Result<(), Violation>) {
        if let Err(mut v) = outcome {
            if !self.spec.checks(v.invariant) {
                return; // A scenario that does not check this invariant (`ScenarioSpec::invariants`).
            }
            // The checker names jobs by ULID; the trace's tracks are the plan's names.
            if let Some(info) = v.actor.as_ref().and_then(|id| self.jobs.get(id)) {
                v.message = format!("(id {}) {}", v.actor.as_deref().unwrap_or_default(), v.message);
                v.actor = Some(info.name.clone());
            }
            if self.violation.is_none() {
                self.note(EventKind::Violation, "world", None, || format!("VIOLATION {v}"));
                self.violation = Some(v);
            }
        }
    }

    /// The current incarnation of `node`: the last process of that name (a replacement is
    /// appended when its supervisor replaces a paused one).
    fn process_of(&self, node: Node) -> usize {
        self.procs.iter().rposition(|p| p.node == node).expect("a plan step names a process of this world (plan_check.rs)")
    }

    fn node_name(&self, process: usize) -> String {
        self.procs[process].node.to_string()
    }

    fn draw(&mut self, process: usize, range: (u64, u64)) -> u64 {
        self.streams[process].random_range(range.0..=range.1)
    }

    // ----- lifecycle ---------------------------------------------------------------------


    /// (Re)starts a process that is down.
    fn restart(&mut self, process: usize) {
        if self.procs[process].up || self.procs[process].replaced || !self.live() {
            return;
        }
        let world = self.me.upgrade().expect("the world is alive while it runs");
        let proc = &mut self.procs[process];
        proc.up = true;
        proc.incarnation += 1;
        proc.claims = 0;
        let incarnation = proc.incarnation;
        let now = self.now_ms();
        let proc = &mut self.procs[process];
        proc.started_at = now;
        let slots = match proc.node {
            Node::Producer(_) => 1,
            _ => self.profile.queue.slots(),
        };
        let proc = &mut self.procs[process];
        proc.rung = vec![false; slots];
        proc.idle = vec![None; slots];
        let task = match proc.node {
            Node::Producer(p) => madsim::task::spawn_local(producer_main::<Q>(world, process, p)),
            _ => madsim::task::spawn_local(worker_main::<Q>(world, process, slots)),
        };
        self.procs[process].tasks.push(task);
        let node = self.node_name(process);
        let clock = if self.checker.clocks().skewed() { format!(", its clock {}", self.checker.clocks().describe(process)) } else { String::new() };
        self.note(if incarnation > 1 { EventKind::Restart } else { EventKind::Note }, &node, None, || format!("start (incarnation {incarnation}{clock})"));
    }

    /// Ends the run's reference cycles (task handles and wakers here, the world in the tasks):
    /// every process task is aborted and forgotten, so the world and its database are freed
    /// with the runtime.
    pub(crate) fn teardown(&mut self) {
        for proc in &mut self.procs {
            for task in proc.tasks.drain(..) {
                task.abort();
            }
            proc.idle.clear();
            proc.conns.clear();
        }
    }

    fn restart_after(&mut self, process: usize, delay_ms: u64) {
        let me = self.me.clone();
        madsim::task::spawn_local(async move {
            madsim::time::sleep(Duration::from_millis(delay_ms)).await;
            if let Some(world) = me.upgrade() {
                world.borrow_mut().restart(process);
            }
        });
    }

    /// Kills a process: its task is aborted, which drops its connection (SQLite rolls back
    /// its open transaction). Then every acknowledged job must still be in the database.
    fn crash(&mut self, process: usize, why: String, downtime_ms: u64) {
        if !self.procs[process].up {
            return;
        }
        let holds = self.probes.is_on() && self.checker.holds_a_claim(process);
        self.probes.sometimes(holds, &probe::CRASH_MID_JOB);
        self.kill(process);
        let node = self.node_name(process);
        self.note(EventKind::Crash, "world", None, || format!("crash: {node} ({why})"));
        self.check_acked_present(&format!("a crash of {node}"));
        self.restart_after(process, downtime_ms);
    }

    fn kill(&mut self, process: usize) {
        let proc = &mut self.procs[process];
        proc.up = false;
        proc.reclaim_conn = None;
        proc.paused_until = 0;
        proc.busy_left = 0;
        proc.injected = 0;
        for task in proc.tasks.drain(..) {
            task.abort(); // Its future (and the last handle of its connection) drops soon.
        }
        let mut released = false;
        for conn in proc.conns.drain(..) {
            if !conn.is_autocommit() {
                conn.execute_batch("ROLLBACK").expect("roll back a dead process's transaction");
                released = true;
            }
        }
        if released {
            self.locks_may_change();
        }
        self.checker.process_died(process);
    }

    /// Every process dies at once; under NORMAL the disk rolls back to its last sync.
    fn power_loss(&mut self, downtime_ms: u64) {
        for process in 0..self.procs.len() {
            if self.procs[process].up {
                self.kill(process);
            }
        }
        let rolled_back = self.disk.power_loss();
        self.probes.sometimes(rolled_back, &probe::POWER_LOSS_ROLLS_BACK);
        // A rollback rewrote the database through the disk's keeper just now, so no process
        // holds a lock: its ids are read once, for both checks.
        let ids = rolled_back.then(|| inspect::ids(self.disk.reader()).expect("read the ids of a database just restored"));
        let now = self.now_ms();
        let outcome = self.checker.power_loss(now, rolled_back, |id| ids.as_ref().is_some_and(|ids| ids.contains(id)));
        self.fail(outcome);
        let lost = if rolled_back { ": commits since the last sync are lost" } else { "" };
        self.note(EventKind::PowerLoss, "world", None, || format!("power loss{lost}"));
        match ids {
            Some(ids) => {
                let outcome = self.checker.check_acked_present(now, |id| ids.contains(id), "a power loss");
                self.fail(outcome);
            }
            None => self.check_acked_present("a power loss"),
        }
        for process in 0..self.procs.len() {
            self.restart_after(process, downtime_ms);
        }
    }

    /// Reads the whole database, or `None` while a process holds the write lock.
    fn contents(&self) -> Option<Contents> {
        contents(self.disk.reader()).ok()
    }

    fn check_acked_present(&mut self, why: &str) {
        // The killed processes' connections close when the executor drops their tasks; until
        // then one may hold the write lock, so read through a fresh look after it is released.
        if !self.try_acked_check(why) {
            self.defer_acked_check(why.to_string(), 1);
        }
    }

    /// Checks that every acknowledged job is in the database; false (nothing checked) while a
    /// process holds the write lock.
    fn try_acked_check(&mut self, why: &str) -> bool {
        let Ok(ids) = inspect::ids(self.disk.reader()) else { return false };
        let now = self.now_ms();
        let outcome = self.checker.check_acked_present(now, |id| ids.contains(id), why);
        self.fail(outcome);
        true
    }

    /// Looks again after `wait_ms`, then at doubling intervals (up to a second) while the
    /// write lock stays held: a paused process can hold it for minutes (a zombie inside a
    /// transaction), and a look every millisecond would cost more than the whole run.
    fn defer_acked_check(&mut self, why: String, wait_ms: u64) {
        let me = self.me.clone();
        madsim::task::spawn_local(async move {
            let mut wait_ms = wait_ms;
            loop {
                madsim::time::sleep(Duration::from_millis(wait_ms)).await;
                let Some(world) = me.upgrade() else { return };
                let mut w = world.borrow_mut();
                if !w.live() || w.try_acked_check(&why) {
                    return;
                }
                wait_ms = (wait_ms * 2).min(1_000);
            }
        });
    }





    // ----- what processes report ----------------------------------------------------------

    /// Draws what a statement meets: its latency, a crash before it, and (with the queue
    /// faults on) a pause before it and an SQL fault. A fault that is off draws nothing, so
    /// a seed without queue faults keeps its world.
    fn draw_statement(&mut self, process: usize, label: &'static str, in_transaction: bool) -> StatementDraw {
        let latency_ms = self.draw(process, self.profile.commit_latency_ms);
        let chaos = self.phase == Phase::Chaos;
        let p = self.profile.statement_crash;
        let crash = chaos && p > 0.0 && self.streams[process].random_bool(p.min(1.0));
        let mut draw = StatementDraw { latency_ms, crash, pause_ms: 0, fault: None };
        let faults = self.profile.queue;
        if !chaos || !faults.statements_faulted() {
            return draw;
        }
        let rng = &mut self.streams[process];
        if faults.statement_pause > 0.0 && rng.random_bool(faults.statement_pause.min(1.0)) {
            draw.pause_ms = faults.draw_pause(rng);
        }
        // A statement that ends a failed transaction is never failed: the queue's way out of
        // a fault must stay open (SQLite's own ROLLBACK fails only with the connection).
        if label.as_bytes().windows(8).any(|w| w.eq_ignore_ascii_case(b"rollback")) {
            return draw;
        }
        if self.procs[process].busy_left > 0 {
            self.procs[process].busy_left -= 1;
            draw.fault = Some(SqlFault::Busy);
        } else if faults.busy_streak > 0.0 && rng.random_bool(faults.busy_streak.min(1.0)) {
            self.procs[process].busy_left = BUSY_RETRY_CAP;
            draw.fault = Some(SqlFault::Busy);
        } else if faults.statement_error > 0.0 && rng.random_bool(faults.statement_error.min(1.0)) {
            // SQLITE_FULL needs a write to fail; inside a transaction, either can happen.
            let full = in_transaction && rng.random_bool(0.5);
            draw.fault = Some(SqlFault::Error(if full { rusqlite::ffi::SQLITE_FULL } else { rusqlite::ffi::SQLITE_IOERR }));
        } else if faults.commit_fail > 0.0 && rng.random_bool(faults.commit_fail.min(1.0)) {
            draw.fault = Some(SqlFault::CommitFails);
        }
        draw
    }

    /// A planned pause (`Action::Pause`): `process` stops at its next statement boundary and
    /// stays there until `until`.
    fn pause(&mut self, process: usize, ms: u64) {
        if !self.procs[process].up {
            return;
        }
        let until = self.now_ms() + ms;
        self.pause_until(process, until);
        let node = self.node_name(process);
        self.note(EventKind::Fault, "world", None, || format!("pause: {node} stops at its next statement until t={until}ms"));
    }

    /// A replaced zombie exits (its connections close, rolling back what they held open).
    fn exit_replaced(&mut self, process: usize) {
        if !self.procs[process].up {
            return;
        }
        let node = self.node_name(process);
        self.kill(process);
        self.note(EventKind::Note, &node, None, || "finds it was replaced and exits".to_string());
    }

    /// Holds `process` at its statement boundaries until `until`. A worker's supervisor that
    /// gives up on unresponsive processes (`replace_paused_after_ms`) checks on it then.
    fn pause_until(&mut self, process: usize, until: u64) {
        let (now, after) = (self.now_ms(), self.profile.queue.replace_paused_after_ms);
        let proc = &mut self.procs[process];
        proc.paused_until = proc.paused_until.max(until);
        if after == 0 || !matches!(proc.node, Node::Worker(_)) || proc.replaced || until <= now + after {
            return;
        }
        let me = self.me.clone();
        let check = madsim::task::spawn_local(async move {
            madsim::time::sleep(Duration::from_millis(after)).await;
            if let Some(world) = me.upgrade() {
                world.borrow_mut().replace(process);
            }
        });
        self.procs[process].tasks.push(check);
    }

    /// Issue 13 item 2: the supervisor has not heard from paused worker `process` for
    /// `replace_paused_after_ms` and starts a replacement under the same name, as an
    /// orchestrator does with a node it cannot reach. The old incarnation is not dead, only
    /// stopped: when it resumes it finishes what it was doing (a stale owner, under the same
    /// name when owners are per name), then exits.
    fn replace(&mut self, process: usize) {
        let now = self.now_ms();
        let proc = &self.procs[process];
        if !self.live() || !proc.up || proc.replaced || proc.paused_until <= now {
            return;
        }
        let (node, incarnation) = (proc.node, proc.incarnation);
        self.procs[process].replaced = true;
        let mut replacement = Proc::new(node, true);
        replacement.incarnation = incarnation;
        self.procs.push(replacement);
        let index = self.procs.len() - 1;
        self.streams.push(process_stream(self.seed, index));
        self.checker.process_added(process);
        self.probes.hit(&probe::REPLACED_WHILE_PAUSED);
        let name = self.node_name(process);
        self.note(EventKind::Fault, "world", None, || format!("{name} is unresponsive: its supervisor starts a replacement under the same name (the paused one lives on)"));
        self.restart(index);
    }

    /// The probes of a statement about to run (or, with `crash`, that its process dies
    /// before): a claim racing a reclaim, a crash inside each migration.
    fn statement_probes(&mut self, process: usize, label: &'static str, crash: bool, conn: &Connection) {
        if crash {
            // The version this process's open transaction has reached (its own uncommitted
            // bumps included) against what is committed.
            let version = |c: &Connection| schema::user_version(c).unwrap_or(0);
            let probe = match label {
                "migrate: statement" | "migrate: bump user_version" => probe::crash_in_migration_to(version(conn) + 1),
                "migrate: end" if version(conn) > version(self.disk.reader()) => Some(&probe::CRASH_IN_MIGRATION_BEFORE_COMMIT),
                _ => None,
            };
            if let Some(probe) = probe {
                self.probes.hit(probe);
            }
            return;
        }
        match label {
            "reclaim: begin immediate" => {
                let proc = &mut self.procs[process];
                proc.reclaim_conn = proc.conns.iter().find(|c| is_conn(c, conn)).cloned();
            }
            // The label "commit or rollback" this matched before never occurs: the probe
            // counted any claim after another process's first reclaim as racing it.
            "commit" | "rollback" => {
                let proc = &mut self.procs[process];
                if proc.reclaim_conn.as_ref().is_some_and(|c| is_conn(c, conn)) {
                    proc.reclaim_conn = None;
                }
            }
            "claim: begin immediate" => {
                let racing = self.procs.iter().enumerate().any(|(p, proc)| p != process && proc.reclaim_conn.as_ref().is_some_and(|c| !c.is_autocommit()));
                self.probes.sometimes(racing, &probe::CLAIM_DURING_RECLAIM);
            }
            _ => {}
        }
    }

    /// `open` failed. After an injected fault or a lock held past the busy timeout that is
    /// the environment's doing: the process exits and its supervisor starts it again. Any
    /// other failure is the queue's: `migration-safe` if a migration step failed (or the
    /// schema is unreadable), else `open-fails`, naming the statement.
    fn open_failed(&mut self, process: usize, error: &QueueError, injected: bool) {
        let node = self.node_name(process);
        let now = self.now_ms();
        if injected || matches!(error, QueueError::Busy { .. }) {
            self.note(EventKind::Fault, &node, None, || format!("open failed ({error}); the process exits and its supervisor restarts it"));
            self.kill(process);
            self.restart_after(process, SUPERVISOR_RESTART_MS);
            return;
        }
        let (invariant, message) = match error.statement() {
            Some(label) if !label.starts_with("migrate") => (Invariant::OpenFails, format!("{node} cannot open the queue: the statement `{label}` failed: {error}")),
            _ => (Invariant::MigrationSafe, format!("{node} cannot open the queue: {error}")),
        };
        self.fail(Err(Violation { invariant, actor: None, at_ms: now, message }));
    }

    /// The owner a claim of `process` presents: a token per claim (`worker-0/3#7`: node,
    /// incarnation, claim), or, when the seed's owners are per name (issue 13 item 2), the
    /// worker's name alone, as a pod or host name is: shared by its concurrent claims and
    /// kept across its restarts. The queue's fence must then tell claims apart itself.
    fn next_owner(&mut self, process: usize) -> String {
        let same_name = self.profile.queue.same_name_owners;
        let proc = &mut self.procs[process];
        proc.claims += 1;
        if same_name {
            return proc.node.to_string();
        }
        format!("{}/{}#{}", proc.node, proc.incarnation, proc.claims)
    }

    fn on_reclaimed(&mut self, process: usize, started: u64, reclaimed: &[Reclaimed]) {
        let now = self.now_ms();
        let node = self.node_name(process);
        for r in reclaimed {
            let id = r.id.to_string();
            let (stale, outcome) = (r.stale_owner.clone(), r.outcome);
            let due = retry_at(outcome).map(|t| self.reference_ms(process, t));
            self.set_gauges(&id, due, None);
            self.note(EventKind::Fire, &node, Some(&id), || format!("reclaim expired lease of {stale}: {}", describe_outcome(outcome)));
        }
        match self.checker.reclaimed(process, started, now, reclaimed) {
            Ok(stale) => {
                let zombie = stale.iter().any(|s| self.procs[s.process].up && self.procs[s.process].paused_until > now);
                self.probes.sometimes(zombie, &probe::ZOMBIE_TAKEN_OVER);
                self.probes.sometimes(stale.iter().any(|s| s.lease_running_on_its_clock), &probe::SKEWED_TAKE_OVER);
            }
            Err(v) => self.fail(Err(v)),
        }
    }

    /// `process`'s claim, begun at `started`, committed `job` (for a claim that ends with its
    /// commit, as the reference's does, that commit is the database's newest write); returns
    /// what this attempt does, for how long, and the claim's number (the checker's name for
    /// it: owners may repeat).
    fn on_claimed(&mut self, process: usize, started: u64, job: &ClaimedJob) -> (Attempt, u64, u64) {
        self.claims_committed += 1;
        let claim = self.claims_committed;
        let id = job.id.to_string();
        let now = self.now_ms();
        let early = self.probes.is_on() && self.checker.due_reference(&id).is_some_and(|due| now < due);
        self.probes.sometimes(early, &probe::SKEWED_EARLY_CLAIM);
        let outcome = self.checker.claimed((started, now), process, claim, job).and_then(|()| self.claim_order((started, now), job));
        let lease_ms = self.workload.config.lease_ms;
        let (attempt, work_ms) = match self.jobs.get_mut(&id) {
            Some(info) => {
                let attempt = info.script.attempt(info.executions);
                info.executions += 1;
                (attempt, info.script.work_ms)
            }
            None => (Attempt::Succeed, 1), // Not a job of this run's plan: finish it quickly.
        };
        let work_ms = if attempt.is_slow() {
            lease_ms + work_ms
        } else if attempt.is_deadline() {
            // Until a moment before the lease ends on this worker's own clock.
            let margin = self.draw(process, (1, DEADLINE_MARGIN_MS));
            job.lease_until_ms.saturating_sub(self.clock_ms(process) + margin)
        } else {
            work_ms
        };
        let (owner, attempts, lease_until) = (job.owner.clone(), job.attempts, job.lease_until_ms);
        let node = self.node_name(process);
        let due = self.jobs.get(&id).and_then(|j| j.due_ms);
        let lease_end = self.reference_ms(process, lease_until);
        self.set_gauges(&id, due, Some(lease_end));
        self.note(EventKind::HandlerStart, &node, Some(&id), || format!("claim as {owner} (attempts={attempts}, lease until {lease_until}): will {attempt:?} after {work_ms}ms"));
        self.fail(outcome);
        (attempt, work_ms, claim)
    }

    /// The claim-order check: the queued jobs the database holds with a due time before the
    /// claimed job's, judged by the checker. Skipped if the database cannot be read now
    /// (a queue whose claim wrote more after its commit may have let another process lock it).
    fn claim_order(&self, span: (u64, u64), job: &ClaimedJob) -> Result<(), Violation> {
        if !self.spec.checks(Invariant::ClaimOrder) {
            return Ok(()); // Its own read of the database: skipped when the scenario does not check it.
        }
        let id = job.id.to_string();
        let due = self.checker.due_stored(&id).unwrap_or(job.scheduled_for_ms);
        match inspect::queued_before(self.disk.reader(), due) {
            Ok(earlier) => {
                let name = |id: &str| self.jobs.get(id).map_or_else(|| format!("job {id}"), |j| format!("{} (id {id})", j.name));
                self.checker.passed_over(span, &job.owner, (&id, due), &earlier, name)
            }
            Err(_) => Ok(()),
        }
    }

    fn on_finished(&mut self, process: usize, claim: u64, started: u64, job: &ClaimedJob, result: Result<Option<FailOutcome>, QueueError>) {
        let id = job.id.to_string();
        let now = self.now_ms();
        let node = self.node_name(process);
        let owner = job.owner.clone();
        let outcome = match &result {
            Ok(None) => {
                self.set_gauges(&id, None, None);
                self.note(EventKind::HandlerEnd, &node, Some(&id), || format!("complete as {owner}: done"));
                self.checker.completed(now, claim, job)
            }
            Ok(Some(fail)) => {
                let fail = *fail;
                let due = retry_at(fail).map(|t| self.reference_ms(process, t));
                self.set_gauges(&id, due, None);
                self.note(EventKind::HandlerEnd, &node, Some(&id), || format!("fail as {owner}: {}", describe_outcome(fail)));
                self.checker.failed(process, claim, started, now, job, fail)
            }
            Err(e) if e.is_fenced() => {
                self.note(EventKind::HandlerEnd, &node, Some(&id), || format!("rejected, {owner} was fenced"));
                self.checker.fenced(claim, job);
                Ok(())
            }
            Err(e) => {
                let e = e.to_string();
                self.note(EventKind::Fault, &node, Some(&id), || format!("finish as {owner} failed: {e}"));
                Ok(())
            }
        };
        self.fail(outcome);
    }

    /// The producer's next planned enqueue (step index, time, job, delay), skipping (and
    /// noting) those that fell due while it was down. The caller consumes it with
    /// [`QueueWorld::consume_step`] when it starts the enqueue.
    fn next_enqueue(&mut self, process: usize, producer: usize) -> Option<(usize, u64, u32, i64)> {
        let (started_at, restarted) = (self.procs[process].started_at, self.procs[process].incarnation > 1);
        loop {
            let index = self.procs[process].cursor;
            let step = self.steps.get(index)?.clone();
            let Action::Enqueue { producer: p, job, delay_ms, .. } = step.action else {
                self.procs[process].cursor += 1;
                continue;
            };
            if p != producer {
                self.procs[process].cursor += 1;
                continue;
            }
            if restarted && step.at_ms < started_at {
                self.procs[process].cursor += 1;
                let node = self.node_name(process);
                self.note(EventKind::Op, &node, None, || format!("enqueue of job-{job} rejected: {node} was down at t={}ms", step.at_ms));
                continue;
            }
            return Some((index, step.at_ms, job, delay_ms));
        }
    }

    fn consume_step(&mut self, process: usize, index: usize) {
        self.procs[process].cursor = index + 1;
    }

    /// `process`'s queue set `PRAGMA synchronous` to `level` on its connection (in its last
    /// statement). Below FULL on a FULL disk, the disk syncs only at checkpoints from now on.
    fn synchronous_requested(&mut self, process: usize, level: i8, now: u64) {
        if !self.disk.synchronous_requested(level, now) {
            return;
        }
        let node = self.node_name(process);
        let name = ["OFF", "NORMAL"][level as usize];
        let why = format!("{node}'s queue set PRAGMA synchronous = {name} at t={now}ms, so this FULL disk syncs its commits only at checkpoints, every {}ms", self.profile.sync_interval_ms);
        self.note(EventKind::Note, &node, None, || why.clone());
        self.checker.weakened(why);
    }

    fn on_acked(&mut self, process: usize, job: &NewJob) {
        let id = job.id.to_string();
        let node = self.node_name(process);
        let due = job.scheduled_for_ms;
        let due_reference = self.reference_ms(process, due);
        self.set_gauges(&id, Some(due_reference), None);
        self.note(EventKind::Op, &node, Some(&id), || format!("enqueue acknowledged (due t={due}ms)"));
        let now = self.now_ms();
        self.checker.acked(now, process, &id, due);
        self.ring();
    }

    /// Whether another live connection holds a lock that `conn`'s statement would meet: a
    /// write transaction (RESERVED or more) blocks a `BEGIN IMMEDIATE` or a write outside a
    /// transaction; any transaction (a SHARED lock too) may block a write or `COMMIT` inside
    /// one (conservative: SQLite blocks only the lock upgrade it cannot get).
    fn lock_held_against(&self, conn: &Rc<PooledConn>) -> bool {
        let inside = !conn.is_autocommit();
        self.procs.iter().flat_map(|p| p.conns.iter()).filter(|other| !Rc::ptr_eq(other, conn)).any(|other| {
            match other.transaction_state(Some(rusqlite::MAIN_DB)).expect("read a connection's transaction state") {
                rusqlite::TransactionState::Write => true,
                rusqlite::TransactionState::Read => inside,
                _ => false,
            }
        })
    }

    /// Wakes every statement waiting out `SQLITE_BUSY`: the lock may be free now.
    fn locks_may_change(&mut self) {
        self.lock_changes += 1;
        for waker in self.lock_waiters.drain(..) {
            waker.wake();
        }
    }

    /// Tells idle workers a job arrived (DGW's in-process `Notify`; across processes a real
    /// deployment would use a socket or LISTEN/NOTIFY). Workers still poll as a fallback.
    fn ring(&mut self) {
        for proc in self.procs.iter_mut().filter(|p| matches!(p.node, Node::Worker(_))) {
            proc.rung.iter_mut().for_each(|rung| *rung = true);
            for waker in proc.idle.iter_mut().filter_map(Option::take) {
                waker.wake();
            }
        }
    }
}

/// The next due time a failure left, if the job is queued again.
fn retry_at(outcome: FailOutcome) -> Option<u64> {
    match outcome {
        FailOutcome::Retry { at_ms, .. } => Some(at_ms),
        FailOutcome::Dead { .. } => None,
    }
}

fn describe_outcome(outcome: FailOutcome) -> String {
    match outcome {
        FailOutcome::Retry { at_ms, attempts } => format!("retry at t={at_ms}ms (attempts={attempts})"),
        FailOutcome::Dead { attempts } => format!("dead-lettered (attempts={attempts})"),
    }
}

/// Jobs a schema-v1 release left: id, due time and script, drawn from the seed.
fn legacy_jobs(workload: &QueueWorkload, seed: u64) -> Vec<(String, u64, JobInfo)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_1e6a_c700_0004);
    (0..workload.legacy_jobs)
        .map(|i| {
            let job = LEGACY_JOB_BASE + i;
            let due = rng.random_range(0..=LEGACY_DUE_MS);
            let script = super::plan::draw_script(workload, &mut rng);
            (job_ulid(seed, job, 0).to_string(), due, JobInfo { name: format!("job-{job}"), script, executions: 0, due_ms: Some(due), lease_until_ms: None })
        })
        .collect()
}

fn install_legacy(conn: &Connection, legacy: &[(String, u64, JobInfo)]) {
    if legacy.is_empty() {
        return;
    }
    schema::install_version(conn, 1).expect("install schema v1");
    for (id, due, info) in legacy {
        conn.execute(
            "INSERT INTO job_queue (id, created_at, scheduled_for, failed_attempts, status, name, def) VALUES (?1, 0, ?2, 0, ?3, ?4, '{}')",
            params![id, *due as i64, status::QUEUED, info.name],
        )
        .expect("insert a legacy job");
    }
}

/// A process's view of the database: its own connection plus the world's hooks.
struct SimDb<Q: JobQueue + 'static> {
    world: Rc<RefCell<QueueWorld<Q>>>,
    process: usize,
    conn: Rc<PooledConn>,
    /// The world's probe sink (a clone: reporting borrows nothing).
    probes: Probes,
    /// Set for one statement: its commit fails (SQLite's commit hook turns it into a rollback
    /// and the statement returns an error). The hook clears it when it fires.
    fail_commit: Arc<AtomicBool>,
    /// Set by the hook when it failed a commit; the next statement boundary reports it.
    commit_failed: Arc<AtomicBool>,
    /// The label of the statement whose commit was armed to fail.
    armed_label: &'static str,
    /// When the statement waiting out `SQLITE_BUSY` gives up (its busy timeout).
    busy_deadline: u64,
    /// The retry after a busy wait already spent its latency (in `busy`, where it checked
    /// the lock was still free): the statement runs at once.
    latency_spent: bool,
}

impl<Q: JobQueue + 'static> SimDb<Q> {
    fn new(world: &Rc<RefCell<QueueWorld<Q>>>, process: usize) -> SimDb<Q> {
        let mut w = world.borrow_mut();
        let conn = Rc::new(w.disk.connect());
        let fail_commit = Arc::new(AtomicBool::new(false));
        let commit_failed = Arc::new(AtomicBool::new(false));
        if w.profile.queue.commit_fail > 0.0 {
            let (armed, fired) = (fail_commit.clone(), commit_failed.clone());
            conn.commit_hook(Some(move || {
                let fail = armed.swap(false, Ordering::Relaxed);
                if fail {
                    fired.store(true, Ordering::Relaxed);
                }
                fail
            }))
            .expect("install the commit hook on a connection this thread owns");
        }
        w.procs[process].conns.push(conn.clone());
        SimDb { world: world.clone(), process, conn, probes: w.probes.clone(), fail_commit, commit_failed, armed_label: "", busy_deadline: 0, latency_spent: false }
    }

    /// Reports a commit the hook failed since the last statement, and disarms the hook.
    fn settle_commit_fault(&mut self) {
        self.fail_commit.store(false, Ordering::Relaxed);
        if self.commit_failed.swap(false, Ordering::Relaxed) {
            let label = self.armed_label;
            let mut w = self.world.borrow_mut();
            let node = w.node_name(self.process);
            w.procs[self.process].injected += 1;
            w.probes.hit(&probe::COMMIT_FAILED);
            w.note(EventKind::Fault, &node, None, || format!("injected: the commit of `{label}` failed and rolled back"));
        }
    }

    /// Holds the process while a pause covers `now` (planned, or `extra_ms` before this
    /// statement), then notes when it resumes.
    async fn hold_while_paused(&self, label: &'static str, extra_ms: u64) {
        let (now, until) = {
            let mut w = self.world.borrow_mut();
            let now = w.now_ms();
            if extra_ms > 0 {
                w.pause_until(self.process, now + extra_ms);
            }
            (now, w.procs[self.process].paused_until)
        };
        if until <= now {
            return;
        }
        {
            let mut w = self.world.borrow_mut();
            let node = w.node_name(self.process);
            w.probes.hit(&probe::PAUSED);
            w.note(EventKind::Fault, &node, None, || format!("paused before `{label}` until t={until}ms"));
        }
        madsim::time::sleep(Duration::from_millis(until - now)).await;
        let mut w = self.world.borrow_mut();
        if w.live() && w.procs[self.process].up {
            let node = w.node_name(self.process);
            w.note(EventKind::Fault, &node, None, || format!("resumes before `{label}` (paused since t={now}ms)"));
        }
    }
}

impl<Q: JobQueue + 'static> SimDb<Q> {
    /// The error SQLite would have answered `label` with; noted in the trace (a busy streak
    /// once, where it starts).
    fn inject(&self, label: &'static str, code: std::os::raw::c_int) -> rusqlite::Error {
        let mut w = self.world.borrow_mut();
        let node = w.node_name(self.process);
        w.procs[self.process].injected += 1;
        let busy = code == rusqlite::ffi::SQLITE_BUSY;
        let what = match code {
            rusqlite::ffi::SQLITE_FULL => Some("SQLITE_FULL".to_string()),
            rusqlite::ffi::SQLITE_BUSY if w.procs[self.process].busy_left == BUSY_RETRY_CAP => {
                Some("SQLITE_BUSY for longer than the busy timeout".to_string())
            }
            rusqlite::ffi::SQLITE_BUSY => None, // The rest of a streak already noted.
            _ => Some("SQLITE_IOERR".to_string()),
        };
        if let Some(what) = what {
            w.probes.hit(if busy { &probe::BUSY_PAST_BUDGET } else { &probe::STATEMENT_FAILED });
            w.note(EventKind::Fault, &node, None, || format!("injected: `{label}` fails with {what}"));
        }
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), Some(format!("injected by alarmsim before `{label}`")))
    }
}

/// Never returns: the process is dead (or the run is over) and its task is being dropped.
async fn halt() -> ! {
    std::future::pending::<()>().await;
    unreachable!("a pending future never completes")
}

impl<Q: JobQueue + 'static> SimDb<Q> {
    /// What happens as a statement is about to run: the event is counted, a due sync is
    /// taken, and a planned crash takes the process down. `None` when the process is (now)
    /// down and must halt; else the time the statement runs at on the process's own clock.
    fn before_statement(&self, label: &'static str, crash: bool) -> Option<u64> {
        let mut w = self.world.borrow_mut();
        if !w.live() || !w.procs[self.process].up {
            return None;
        }
        w.events_handled += 1;
        let now = w.now_ms();
        w.last_event_ms = now;
        if let Some(level) = self.conn.take_synchronous_request() {
            w.synchronous_requested(self.process, level, now);
        }
        self.conn.no_busy_handler();
        if w.disk.before_statement(now) {
            w.checker.synced();
        }
        if w.probes.is_on() {
            w.statement_probes(self.process, label, crash, &self.conn);
        }
        if crash {
            let range = w.profile.downtime_ms;
            let downtime = w.draw(self.process, range);
            w.crash(self.process, format!("crash before the statement `{label}`"), downtime);
            return None;
        }
        Some(w.clock_ms(self.process))
    }
}

impl<Q: JobQueue + 'static> Db for SimDb<Q> {
    async fn statement(&mut self, label: &'static str) -> Result<u64, rusqlite::Error> {
        self.settle_commit_fault();
        let in_transaction = !self.conn.is_autocommit();
        let draw = self.world.borrow_mut().draw_statement(self.process, label, in_transaction);
        if !std::mem::take(&mut self.latency_spent) {
            madsim::time::sleep(Duration::from_millis(draw.latency_ms)).await;
        }
        // A zombie stops here: at a statement boundary, possibly inside a transaction.
        self.hold_while_paused(label, draw.pause_ms).await;
        // The borrow ends before any await: another process's task borrows the world next.
        let Some(now) = self.before_statement(label, draw.crash) else { halt().await };
        if !self.conn.is_autocommit() {
            // This statement may end the transaction that holds a lock others wait for; they
            // retry once it ran (it runs before this task next yields).
            self.world.borrow_mut().locks_may_change();
        }
        match draw.fault {
            None => Ok(now),
            Some(SqlFault::CommitFails) => {
                self.armed_label = label;
                self.fail_commit.store(true, Ordering::Relaxed);
                Ok(now)
            }
            Some(SqlFault::Error(code)) => Err(self.inject(label, code)),
            Some(SqlFault::Busy) => Err(self.inject(label, rusqlite::ffi::SQLITE_BUSY)),
        }
    }

    /// SQLite's busy handler, without its polling: the statement waits until another process
    /// may have released a lock (then it retries) or its busy timeout passes (then the queue
    /// gets `SQLITE_BUSY`). Polling every 100 ms, as SQLite's handler does, made most of a
    /// seed's statements futile retries while a paused process held the write lock, each one
    /// a chance to crash.
    async fn busy(&mut self, attempt: u32) -> bool {
        if attempt == 1 {
            let wait = self.world.borrow_mut().draw(self.process, BUSY_TIMEOUT_MS);
            self.busy_deadline = now_of(&self.world) + wait;
        }
        while attempt <= BUSY_RETRY_CAP && now_of(&self.world) < self.busy_deadline {
            let changes = self.world.borrow().lock_changes;
            let timeout = Box::pin(madsim::time::sleep(Duration::from_millis(self.busy_deadline - now_of(&self.world))));
            if !(LockWait { world: self.world.clone(), conn: self.conn.clone(), changes, timeout }.await) {
                break;
            }
            // The retry's latency, spent here: if another waiter took the lock meanwhile,
            // this one waits again instead of running a statement bound to meet BUSY.
            let latency = {
                let mut w = self.world.borrow_mut();
                let range = w.profile.commit_latency_ms;
                w.draw(self.process, range)
            };
            madsim::time::sleep(Duration::from_millis(latency)).await;
            if !self.world.borrow().lock_held_against(&self.conn) {
                self.latency_spent = true;
                return true;
            }
        }
        self.world.borrow_mut().procs[self.process].busy_left = 0; // An injected streak ends with the wait.
        false
    }

    fn conn(&self) -> &Connection {
        &self.conn
    }

    fn probe(&mut self, probe: &'static Probe) {
        self.probes.hit(probe);
    }
}

/// Whether `pooled` is the connection `conn` (the same SQLite connection, not an equal one).
fn is_conn(pooled: &PooledConn, conn: &Connection) -> bool {
    std::ptr::eq(&**pooled, conn)
}

fn now_of<Q: JobQueue + 'static>(world: &Rc<RefCell<QueueWorld<Q>>>) -> u64 {
    world.borrow().now_ms()
}

async fn sleep_until<Q: JobQueue + 'static>(world: &Rc<RefCell<QueueWorld<Q>>>, at_ms: u64) {
    let now = now_of(world);
    madsim::time::sleep(Duration::from_millis(at_ms.saturating_sub(now))).await;
}

/// Opens the queue (migrations, reclaim). False if it failed (a violation).
async fn open<Q: JobQueue + 'static>(world: &Rc<RefCell<QueueWorld<Q>>>, process: usize, queue: &mut Q, db: &mut SimDb<Q>) -> bool {
    let started = now_of(world);
    let injected_before = world.borrow().procs[process].injected;
    let outcome = queue.open(db).await;
    db.settle_commit_fault();
    match outcome {
        Ok(reclaimed) => {
            world.borrow_mut().on_reclaimed(process, started, &reclaimed);
            true
        }
        Err(e) => {
            let mut w = world.borrow_mut();
            let injected = w.procs[process].injected > injected_before;
            w.open_failed(process, &e, injected);
            false
        }
    }
}

async fn producer_main<Q: JobQueue + 'static>(world: Rc<RefCell<QueueWorld<Q>>>, process: usize, producer: usize) {
    let config = world.borrow().workload.config;
    let mut db = SimDb::new(&world, process);
    let mut queue = Q::with_config(config);
    if !open(&world, process, &mut queue, &mut db).await {
        return;
    }
    loop {
        if queue.has_background_work() {
            // DGW's detached push task: it runs a moment after the enqueue returned.
            let wait = world.borrow_mut().draw(process, (1, 500));
            madsim::time::sleep(Duration::from_millis(wait)).await;
            if let Err(e) = queue.background(&mut db).await {
                let node = world.borrow().node_name(process);
                world.borrow_mut().note(EventKind::Fault, &node, None, || format!("background work failed: {e}"));
            }
            continue;
        }
        let next = world.borrow_mut().next_enqueue(process, producer);
        let Some((index, at_ms, job, delay_ms)) = next else {
            world.borrow_mut().procs[process].finished = true;
            return;
        };
        sleep_until(&world, at_ms).await;
        world.borrow_mut().consume_step(process, index);
        let id = job_ulid(world.borrow().seed, job, at_ms);
        // The producer's application picks the due time on its own clock, as the queue's
        // `now` is (and the delay may be negative: a job due in the past).
        let now = world.borrow().clock_ms(process);
        let new = NewJob { id, name: format!("job-{job}"), payload: format!("{{\"job\":{job}}}"), scheduled_for_ms: now.saturating_add_signed(delay_ms) };
        match queue.enqueue(&mut db, new.clone()).await {
            Ok(()) => world.borrow_mut().on_acked(process, &new),
            Err(e) => {
                let node = world.borrow().node_name(process);
                world.borrow_mut().note(EventKind::Fault, &node, None, || format!("enqueue of job-{job} failed: {e}"));
            }
        }
    }
}

/// A worker process: it opens the queue, starts its other claim slots (issue 13: several
/// claims at once, each on a connection of its own, interleaving at statement boundaries),
/// and runs slot 0, the one that also reclaims expired leases.
async fn worker_main<Q: JobQueue + 'static>(world: Rc<RefCell<QueueWorld<Q>>>, process: usize, slots: usize) {
    let config = world.borrow().workload.config;
    let mut db = SimDb::new(&world, process);
    let mut queue = Q::with_config(config);
    if !open(&world, process, &mut queue, &mut db).await {
        return;
    }
    for slot in 1..slots {
        let task = madsim::task::spawn_local(worker_slot::<Q>(world.clone(), process, slot, None));
        world.borrow_mut().procs[process].tasks.push(task);
    }
    worker_slot(world, process, 0, Some((queue, db))).await
}

/// One claim loop of a worker. Slot 0 arrives with the queue and connection that opened it.
async fn worker_slot<Q: JobQueue + 'static>(world: Rc<RefCell<QueueWorld<Q>>>, process: usize, slot: usize, opened: Option<(Q, SimDb<Q>)>) {
    let (config, poll_ms) = {
        let w = world.borrow();
        (w.workload.config, w.workload.poll_ms)
    };
    let (mut queue, mut db) = opened.unwrap_or_else(|| (Q::with_config(config), SimDb::new(&world, process)));
    let mut next_reclaim = now_of(&world) + config.lease_ms / 2;
    loop {
        if world.borrow().procs[process].replaced {
            // A replaced zombie notices when it next looks for work, and exits.
            world.borrow_mut().exit_replaced(process);
            halt().await
        }
        if slot == 0 && now_of(&world) >= next_reclaim {
            reclaim(&world, process, &mut queue, &mut db).await;
            next_reclaim = now_of(&world) + config.lease_ms / 2;
        }
        let owner = world.borrow_mut().next_owner(process);
        let claim_started = now_of(&world);
        match queue.claim(&mut db, &owner).await {
            Ok(Some(job)) => run_job(&world, process, &mut queue, &mut db, claim_started, job).await,
            Ok(None) => {
                world.borrow_mut().procs[process].rung[slot] = false;
                let now = now_of(&world);
                // The queue's times are on this process's clock (and other processes'):
                // compared with its own clock, slept on the reference clock.
                let clock = world.borrow().clock_ms(process);
                let wake = match queue.wakeup(&mut db).await {
                    Ok(w) => {
                        let expired = w.next_lease_expiry_ms.is_some_and(|t| t <= clock);
                        if expired && slot == 0 {
                            next_reclaim = now; // An expired lease waits: reclaim before sleeping.
                            continue;
                        }
                        // Only slot 0 reclaims; the others wake for due jobs (and the doorbell).
                        let lease = if slot == 0 { w.next_lease_expiry_ms } else { None };
                        let wake = [w.next_due_ms, lease].into_iter().flatten().min();
                        wake.map_or(u64::MAX, |t| world.borrow().reference_ms(process, t))
                    }
                    Err(_) => now + poll_ms,
                };
                let jitter = world.borrow_mut().draw(process, (1, 50));
                let until = wake.min(now + poll_ms).max(now) + jitter;
                let sleep = Box::pin(madsim::time::sleep(Duration::from_millis(until - now)));
                IdleWait { world: world.clone(), process, slot, sleep }.await;
            }
            Err(e) => {
                let node = world.borrow().node_name(process);
                world.borrow_mut().note(EventKind::Fault, &node, None, || format!("claim failed: {e}"));
                madsim::time::sleep(Duration::from_millis(poll_ms)).await;
            }
        }
    }
}

/// A statement's wait for a lock: true once no other connection holds the lock it needs,
/// false when its busy timeout passed first.
struct LockWait<Q: JobQueue + 'static> {
    world: Rc<RefCell<QueueWorld<Q>>>,
    /// The waiting statement's connection.
    conn: Rc<PooledConn>,
    /// `lock_changes` when it last looked.
    changes: u64,
    timeout: Pin<Box<madsim::time::Sleep>>,
}

impl<Q: JobQueue + 'static> Future for LockWait<Q> {
    type Output = bool;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<bool> {
        let world = self.world.clone();
        let mut w = world.borrow_mut();
        if w.lock_changes != self.changes {
            if !w.lock_held_against(&self.conn) {
                return Poll::Ready(true);
            }
            self.changes = w.lock_changes; // Still held: a statement that kept its transaction.
        }
        if self.timeout.as_mut().poll(cx).is_ready() {
            return Poll::Ready(false);
        }
        w.lock_waiters.push(cx.waker().clone());
        Poll::Pending
    }
}

/// A worker's idle wait: until `sleep` ends or the doorbell rings.
struct IdleWait<Q: JobQueue + 'static> {
    world: Rc<RefCell<QueueWorld<Q>>>,
    process: usize,
    slot: usize,
    sleep: Pin<Box<madsim::time::Sleep>>,
}

impl<Q: JobQueue + 'static> Future for IdleWait<Q> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let (process, slot) = (self.process, self.slot);
        let world = self.world.clone();
        let mut w = world.borrow_mut();
        let proc = &mut w.procs[process];
        if std::mem::take(&mut proc.rung[slot]) || self.sleep.as_mut().poll(cx).is_ready() {
            proc.idle[slot] = None;
            return Poll::Ready(());
        }
        proc.idle[slot] = Some(cx.waker().clone());
        Poll::Pending
    }
}

async fn reclaim<Q: JobQueue + 'static>(world: &Rc<RefCell<QueueWorld<Q>>>, process: usize, queue: &mut Q, db: &mut SimDb<Q>) {
    let started = now_of(world);
    match queue.reclaim_expired(db).await {
        Ok(reclaimed) => world.borrow_mut().on_reclaimed(process, started, &reclaimed),
        Err(e) => {
            let node = world.borrow().node_name(process);
            world.borrow_mut().note(EventKind::Fault, &node, None, || format!("reclaim failed: {e}"));
        }
    }
}

async fn run_job<Q: JobQueue + 'static>(world: &Rc<RefCell<QueueWorld<Q>>>, process: usize, queue: &mut Q, db: &mut SimDb<Q>, claim_started: u64, job: ClaimedJob) {
    let (attempt, work_ms, claim) = world.borrow_mut().on_claimed(process, claim_started, &job);
    if attempt == Attempt::Crash {
        // The job takes its own process down half way through ("even when the job itself
        // crashed the process"); its supervisor restarts it.
        madsim::time::sleep(Duration::from_millis(work_ms / 2)).await;
        {
            let mut w = world.borrow_mut();
            if w.live() {
                let name = w.jobs.get(&job.id.to_string()).map_or_else(String::new, |j| j.name.clone());
                w.crash(process, format!("{name} crashed its process"), SUPERVISOR_RESTART_MS);
            }
        }
        halt().await
    }
    madsim::time::sleep(Duration::from_millis(work_ms)).await;
    let started = now_of(world);
    {
        let w = world.borrow();
        let stale = w.probes.is_on() && w.checker.is_stale(claim, &job);
        w.probes.sometimes(stale, if attempt.throws() { &probe::STALE_OWNER_FAIL } else { &probe::STALE_OWNER_COMPLETE });
    }
    let result = if attempt.throws() {
        queue.fail(db, &job, "the job threw").await.map(Some)
    } else {
        queue.complete(db, &job).await.map(|()| None)
    };
    world.borrow_mut().on_finished(process, claim, started, &job, result);
}

impl<Q: JobQueue + 'static> TwoPhases for QueueWorld<Q> {
    /// Starts every process and the plan's fault steps.
    fn start(&mut self) {
        let (seed, name, variant) = (self.seed, self.spec.name, self.variant.clone());
        self.note(EventKind::Note, "world", None, || format!("seed {seed} scenario {name} variant {variant}"));
        let profile = self.profile.describe_queue();
        self.note(EventKind::Note, "world", None, || format!("profile {profile}"));
        for process in 0..self.procs.len() {
            self.restart(process);
        }
        let me = self.me.clone();
        let faults: Vec<(u64, Action)> = self.steps.iter().filter(|s| matches!(s.action, Action::Crash { .. } | Action::Pause { .. })).map(|s| (s.at_ms, s.action.clone())).collect();
        madsim::task::spawn_local(async move {
            for (at_ms, action) in faults {
                let now = match me.upgrade() {
                    Some(w) => w.borrow().now_ms(),
                    None => return,
                };
                madsim::time::sleep(Duration::from_millis(at_ms.saturating_sub(now))).await;
                let Some(world) = me.upgrade() else { return };
                let mut w = world.borrow_mut();
                if w.phase != Phase::Chaos || !w.live() {
                    return;
                }
                match action {
                    Action::Crash { power: true, downtime_ms, .. } => w.power_loss(downtime_ms),
                    Action::Crash { node, downtime_ms, .. } => {
                        let process = w.process_of(node);
                        w.crash(process, "planned crash".to_string(), downtime_ms);
                    }
                    Action::Pause { node, ms } => {
                        let process = w.process_of(node);
                        w.pause(process, ms);
                    }
                    _ => unreachable!("only crashes and pauses were kept"),
                }
            }
        });
    }
    /// The end of the chaos phase: no more planned or statement crashes; every process up.
    fn heal(&mut self) {
        self.phase = Phase::Quiesce;
        self.note(EventKind::Heal, "world", None, || "heal: faults off, restarting every process".to_string());
        for process in 0..self.procs.len() {
            self.restart(process);
        }
    }
    /// Every acknowledged job is terminal, producers are done, and no row waits.
    fn quiescent(&self) -> bool {
        if !self.checker.pending().is_empty() || self.procs.iter().any(|p| !p.finished) {
            return false;
        }
        match self.contents() {
            Some(c) => c.jobs.values().all(|j| j.status == status::DONE),
            None => false,
        }
    }
    fn final_checks(&mut self) {
        let now = self.now_ms();
        let Some(contents) = self.contents() else {
            return self.fail(Err(Violation { invariant: Invariant::JobLiveness, actor: None, at_ms: now, message: "the database stayed locked at the end".to_string() }));
        };
        let outcome = self.checker.check_acked_present(now, |id| contents.has(id), "the run").and_then(|_| self.checker.final_check(now, &contents));
        self.fail(outcome);
        if self.violation.is_none() {
            let (done, dead) = (contents.jobs.len(), contents.dead.len());
            self.note(EventKind::Note, "world", None, || format!("quiescent: {done} jobs done, {dead} dead-lettered; every invariant holds"));
        }
    }
    fn quiesce_timeout(&mut self) {
        // A job that never finishes because it is not in the database at all was lost, not
        // stuck: say durability, the cause, rather than job-liveness, the symptom.
        if let Some(contents) = self.contents() {
            let now = self.now_ms();
            let lost = self.checker.check_acked_present(now, |id| contents.has(id), "the quiesce limit");
            if lost.is_err() {
                return self.fail(lost);
            }
        }
        let pending = self.checker.pending();
        let names: Vec<String> = pending.iter().take(5).map(|id| self.jobs.get(id).map_or_else(|| id.clone(), |j| j.name.clone())).collect();
        let now = self.now_ms();
        let stuck_producers: Vec<String> = (0..self.procs.len()).filter(|&p| !self.procs[p].finished).map(|p| self.node_name(p)).collect();
        let message = format!(
            "{} acknowledged jobs never reached a terminal state within the quiesce limit (first: {}){}",
            pending.len(),
            names.join(", "),
            if stuck_producers.is_empty() { String::new() } else { format!("; unfinished: {}", stuck_producers.join(", ")) }
        );
        self.fail(Err(Violation { invariant: Invariant::JobLiveness, actor: pending.first().cloned(), at_ms: now, message }));
    }

    fn violated(&self) -> bool {
        self.violation.is_some()
    }

    fn now_ms(&self) -> u64 {
        Self::now_ms(self)
    }

    fn spec(&self) -> &ScenarioSpec {
        &self.spec
    }

    fn finish(&mut self) {
        self.last_event_ms = Self::now_ms(self);
        self.phase = Phase::Done;
    }
}
