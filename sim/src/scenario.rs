//! What a scenario is: a workload, the bounds of its fault profile, and the checks that
//! apply. The catalog of named scenarios lives in the `alarmsim-scenarios` crate.

use serde::Serialize;

/// How actors and their managers reach each other, and what runs them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LinkModel {
    /// A production-style deployment: actors and managers are separate nodes, every message
    /// crosses a network with latency, loss, duplicates and partitions, commits go to a
    /// remote storage layer that may be slow or fail, and every node has its own clock.
    #[default]
    Rpc,
    /// Local workerd (`server.c++`): one process. `scheduleRun` is a synchronous call into the
    /// in-process scheduler (R20), fires, results and abandons are in-process calls (0 ms,
    /// never lost or duplicated, no partition), `commitCallback` resolves at once and never
    /// fails (`READY_NOW`), there is one clock, and a crash takes the whole process down.
    Local,
}

impl LinkModel {
    /// `rpc` or `local`, as `--link` names them.
    pub fn name(self) -> &'static str {
        match self {
            LinkModel::Rpc => "rpc",
            LinkModel::Local => "local",
        }
    }
}

/// An inclusive range a per-seed value is drawn from.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Range<T> {
    pub lo: T,
    pub hi: T,
}

pub const fn range<T>(lo: T, hi: T) -> Range<T> {
    Range { lo, hi }
}

/// Relative weights of client operations.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct OpWeights {
    pub set_alarm: u32,
    pub delete_alarm: u32,
    pub get_alarm: u32,
    pub put: u32,
    /// `setAlarm` and a put in one turn (R6).
    pub set_and_put: u32,
    /// Two `setAlarm` calls in one turn (only the last one is committed).
    pub set_twice: u32,
    pub delete_all: u32,
    /// A container-style `scheduleNextAlarm(delay)` (containers #191).
    pub schedule_next: u32,
}

/// Relative weights of what an alarm handler does.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct HandlerWeights {
    pub succeed: u32,
    /// Throws: a counted failure, retried with backoff.
    pub throw: u32,
    /// Runs past the 15-minute wall-clock limit (R12): counted, retried.
    pub exceed_wall_time: u32,
    /// Re-arms from inside: `setAlarm(now + x)` with x drawn from `alarm_delay_ms` (x may be ≤ 0).
    pub rearm: u32,
    /// Deletes its own alarm from inside.
    pub delete_inside: u32,
    /// The container heartbeat: re-arms on exit through the variant's `exit_rearm` (containers #191).
    pub container_heartbeat: u32,
    /// `ctx.abort(…, {retryAlarm: false})`: abandoned at once.
    pub abort: u32,
    /// Hits its CPU-time limit inside a storage write: SQLite is interrupted, the write never
    /// commits and the output gate breaks. Counted all the same (R14's
    /// `resourceLimitExceeded` term; B15, STOR-5337).
    pub cpu_limit: u32,
}

/// Bounds of the per-seed fault profile (swarm testing: each fault is on or off per seed,
/// at an intensity drawn from its range). A `hi` of zero disables that fault entirely.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct FaultBounds {
    /// Probability that a given fault kind is switched on for a seed.
    pub enable_probability: f64,
    pub host_crashes_per_hour: Range<f64>,
    pub manager_crashes_per_hour: Range<f64>,
    /// Chance that a crash is a power loss (unsynced commits are lost).
    pub power_loss_fraction: Range<f64>,
    pub partitions_per_hour: Range<f64>,
    pub partition_ms: Range<u64>,
    pub downtime_ms: Range<u64>,
    pub commit_latency_ms: Range<u64>,
    pub commit_fail_before: Range<f64>,
    pub commit_fail_after: Range<f64>,
    pub link_latency_ms: Range<u64>,
    /// The request is lost: the link retries, then reports failure.
    pub link_drop_request: Range<f64>,
    /// The command was applied but the answer is lost: the actor sees a failure.
    pub link_drop_response: Range<f64>,
    /// A copy of the command lands again later (a zombie, workerd #5431).
    pub link_duplicate: Range<f64>,
    pub zombie_delay_ms: Range<u64>,
    pub clock_offset_ms: Range<i64>,
    pub clock_drift_ppm: Range<i64>,
    /// How often an actor host checkpoints (syncs) its WAL under `synchronous=NORMAL`.
    pub sync_interval_ms: Range<u64>,
    /// Chance that a process crashes before any one SQL statement (job-queue scenarios:
    /// crashes at every statement boundary). A `hi` of zero draws nothing.
    pub statement_crash: Range<f64>,
}

/// Bounds of the edge-seeking workload, drawn per seed like the faults (`edge_profile.rs`):
/// symbolic alarm times (equal values, the handler's own millisecond), bursts of operations
/// that only make sense together, and handler scripts. `NO_EDGES` switches all of it off,
/// and then every world is exactly what it was before the edge-seeking workload existed.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct EdgeBounds {
    /// Probability that each symbolic argument kind (and each of the other options) is
    /// switched on for a seed.
    pub enable_probability: f64,
    /// The plain delay's weight against the symbolic kinds.
    pub delay_weight: Range<u32>,
    /// The weight of a symbolic argument kind that is switched on.
    pub arg_weight: Range<u32>,
    /// Bursts: a few operations on one actor within a few ms, from one or several clients.
    pub bursts_per_hour: Range<f64>,
    /// Probability that a handler runs a script (storage calls at its first instant, middle
    /// and end) instead of a fixed behaviour.
    pub handler_scripts: Range<f64>,
    /// Probability that a scripted handler takes zero ms (its end is its first instant).
    pub zero_duration: Range<f64>,
}

impl EdgeBounds {
    pub fn is_off(&self) -> bool {
        self.enable_probability <= 0.0
    }
}

/// The edge-seeking workload switched off.
pub const NO_EDGES: EdgeBounds = EdgeBounds {
    enable_probability: 0.0,
    delay_weight: range(0, 0),
    arg_weight: range(0, 0),
    bursts_per_hour: range(0.0, 0.0),
    handler_scripts: range(0.0, 0.0),
    zero_duration: range(0.0, 0.0),
};

/// Which durability setting the actor stores use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum DurabilityChoice {
    Normal,
    Full,
    /// Drawn per seed.
    Either,
}

/// The named invariants. Every run checks all of those a scenario enables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Invariant {
    /// I1: the manager's time ≤ the durable time, at every step.
    NeverLate,
    /// I2: manager and storage agree at quiescence (and the world does quiesce).
    Convergence,
    /// A durable alarm always has a manager entry at quiescence.
    NoLostAlarm,
    /// Every durable alarm that falls due is delivered.
    AtLeastOnce,
    /// No handler starts before its scheduled time (R8).
    NeverEarly,
    /// Bounded fires per actor per second (containers #191).
    NoSpin,
    /// Retries follow R15's backoff and stop at the limit.
    RetrySchedule,
    /// Storage holds after a restart exactly what the sync model says.
    Durability,
    /// At most one manager command in flight plus one parked per actor (I3).
    BoundedCommands,
    /// The scheduler under test must not panic (its own assertions count).
    NoPanic,
    /// An actor whose storage calls throw "broken" has broken its output gate, so the runtime
    /// resets it; it never stays half-broken, throwing forever (B11, workerd `b4a5ed8cd`).
    NoDegradedActor,
    /// Every durable alarm value ends by a delivery, a newer user write or a justified abandon,
    /// and no durable value comes from nowhere (R11, R13, R15, R16; `conservation.rs`).
    AlarmConservation,
    /// I2 per actor during the run: whenever an actor is idle (nothing of its own in flight,
    /// host and manager up, link not cut) its manager and durable storage agree.
    IdleConvergence,
    /// Every answer of the alarm API (getAlarm, errors, alarmInfo) is what a sequential model of
    /// R1–R5, R10, R11, R16 allows (`user_view.rs`).
    UserView,
    /// Queue: every durably enqueued job reaches exactly one terminal state (done or dead).
    ExactlyOneTerminal,
    /// Queue: no two live claims of a job unless the lease expired, and then the stale
    /// owner's complete/fail is rejected (fencing).
    ExclusiveClaims,
    /// Queue: the recorded attempts of a job equal its earlier claims, across restarts.
    RetryCounts,
    /// Queue: a crash at any point of a migration leaves a schema every process can open
    /// (only failures of a migration step count here).
    MigrationSafe,
    /// Queue: `open` fails at a statement that is not a migration step, for a reason that is
    /// not the environment's (an injected SQL fault or a lock held past the busy timeout only
    /// restart the process, as its supervisor would).
    OpenFails,
    /// Queue: during quiescence every due job runs to a terminal state.
    JobLiveness,
    /// Queue: a claim takes the earliest due job; none that was already waiting when the
    /// claim began is passed over for a later one (`JobQueue::claim`).
    ClaimOrder,
}

impl Invariant {
    /// The alarm scheduler's invariants.
    pub const ALL: [Invariant; 14] = [
        Invariant::NeverLate,
        Invariant::Convergence,
        Invariant::NoLostAlarm,
        Invariant::AtLeastOnce,
        Invariant::NeverEarly,
        Invariant::NoSpin,
        Invariant::RetrySchedule,
        Invariant::Durability,
        Invariant::BoundedCommands,
        Invariant::NoPanic,
        Invariant::NoDegradedActor,
        Invariant::AlarmConservation,
        Invariant::IdleConvergence,
        Invariant::UserView,
    ];

    /// The job queue's invariants (`Durability`: an acknowledged enqueue survives what the
    /// sync model promises; `NeverEarly` and `RetrySchedule`: claims respect due times and
    /// the 30 s·2ⁿ⁻¹ backoff).
    pub const QUEUE: [Invariant; 11] = [
        Invariant::ExactlyOneTerminal,
        Invariant::ExclusiveClaims,
        Invariant::RetryCounts,
        Invariant::MigrationSafe,
        Invariant::OpenFails,
        Invariant::JobLiveness,
        Invariant::ClaimOrder,
        Invariant::Durability,
        Invariant::NeverEarly,
        Invariant::RetrySchedule,
        Invariant::NoPanic,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Invariant::NeverLate => "never-late",
            Invariant::Convergence => "convergence",
            Invariant::NoLostAlarm => "no-lost-alarm",
            Invariant::AtLeastOnce => "at-least-once",
            Invariant::NeverEarly => "never-early",
            Invariant::NoSpin => "no-spin",
            Invariant::RetrySchedule => "retry-schedule",
            Invariant::Durability => "durability",
            Invariant::BoundedCommands => "bounded-commands",
            Invariant::NoPanic => "no-panic",
            Invariant::NoDegradedActor => "no-degraded-actor",
            Invariant::AlarmConservation => "alarm-conservation",
            Invariant::IdleConvergence => "idle-convergence",
            Invariant::UserView => "user-view",
            Invariant::ExactlyOneTerminal => "exactly-one-terminal",
            Invariant::ExclusiveClaims => "exclusive-claims",
            Invariant::RetryCounts => "retry-counts",
            Invariant::MigrationSafe => "migration-safe",
            Invariant::OpenFails => "open-fails",
            Invariant::JobLiveness => "job-liveness",
            Invariant::ClaimOrder => "claim-order",
        }
    }
}

impl std::fmt::Display for Invariant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What a scenario simulates.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[allow(clippy::large_enum_variant)] // One per scenario spec, never in a hot path or a large collection.
pub enum System {
    /// Durable Object alarms: actor hosts, the alarm manager, clients.
    Alarms,
    /// The durable job queue (seed 004). The alarm-only fields of [`ScenarioSpec`] (hosts,
    /// actors, clients, op and handler weights, alarm delays) are unused.
    Queue(QueueWorkload),
}

/// Relative weights of what one attempt of a job does.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct AttemptWeights {
    pub succeed: u32,
    /// Returns an error: a counted failure, retried with backoff.
    pub throw: u32,
    /// Crashes its own process (the attempt is counted when the lease is reclaimed).
    pub crash: u32,
    /// Runs past its lease, then succeeds (its owner must be fenced if the job was reclaimed).
    pub slow: u32,
}

/// The job-queue workload.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QueueWorkload {
    /// Processes that enqueue (each with its own connection).
    pub producers: u32,
    /// Processes that claim and run jobs (each with its own connection).
    pub workers: u32,
    /// Jobs enqueued during the chaos phase, in total.
    pub jobs: u32,
    /// A job is scheduled for now + this (negative: already due).
    pub delay_ms: Range<i64>,
    pub work_ms: Range<u64>,
    pub attempts: AttemptWeights,
    pub config: alarmsim_scheduler::queue::QueueConfig,
    /// Longest idle sleep of a worker between looks at the queue.
    pub poll_ms: u64,
    /// Jobs a release with schema v1 left behind: the run starts from that database and
    /// every process migrates it on open.
    pub legacy_jobs: u32,
    /// Zombie processes and SQL faults, drawn per seed (`sim/src/queue/faults.rs`).
    pub faults: QueueFaultBounds,
}

/// Bounds of the job-queue world's process and SQL faults (issue 13), drawn per seed from a
/// stream of their own, so a scenario without them (`NO_QUEUE_FAULTS`) keeps its worlds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct QueueFaultBounds {
    /// Probability that each fault kind below is switched on for a seed.
    pub enable_probability: f64,
    /// Planned pauses of each process (a GC pause, a stopped VM): plan steps, like crashes.
    pub pauses_per_hour: Range<f64>,
    /// How long a pause lasts, from milliseconds to many lease lengths.
    pub pause_ms: Range<u64>,
    /// Chance that a process pauses before any one SQL statement (so also between the read
    /// and the write of one operation).
    pub statement_pause: Range<f64>,
    /// Chance that a statement fails with `SQLITE_IOERR` (`SQLITE_FULL` inside a write
    /// transaction) instead of running.
    pub statement_error: Range<f64>,
    /// Chance that a statement meets `SQLITE_BUSY` for longer than the busy timeout.
    pub busy_streak: Range<f64>,
    /// Chance that the commit a statement makes (its own, or an explicit `COMMIT`) fails and
    /// rolls the transaction back.
    pub commit_fail: Range<f64>,
    /// Claims each worker process runs at once (one connection each); `lo = hi = 1` for one.
    pub worker_slots: Range<u32>,
    /// How far each process's clock runs ahead of the reference (issue 13 item 3): drawn per
    /// process, so two processes disagree by up to the range's width. Never behind the
    /// reference, so no process's clock reads before the run's start (the queue's times are
    /// unsigned ms since then); a negative drift still lets one fall behind another.
    pub clock_offset_ms: Range<u64>,
    pub clock_drift_ppm: Range<i64>,
    /// Chance that a slow attempt of a job's script (one that outlives its lease) instead
    /// runs until just before its lease ends on its worker's clock (`Attempt::Deadline`):
    /// the lease's last moments, where a reclaimer whose clock runs ahead meets a holder
    /// that still believes in its lease. Drawn into the plan's scripts from the fault stream.
    pub deadline_attempts: f64,
    /// Chance that a seed's workers claim under their name (a pod or host name), shared by
    /// their concurrent claims and kept across restarts, instead of a token per claim.
    pub same_name_owners: f64,
    /// A worker's supervisor replaces a worker paused this long (drawn per seed, switched on
    /// with `enable_probability`; `hi = 0` for never) under the same name, and the paused
    /// one lives on: two incarnations of one worker at once.
    pub replace_paused_after_ms: Range<u64>,
}

impl QueueFaultBounds {
    /// No zombie pauses and no SQL faults: the queue faults of the world before issue 13.
    pub const OFF: QueueFaultBounds = QueueFaultBounds {
        enable_probability: 0.0,
        pauses_per_hour: Range { lo: 0.0, hi: 0.0 },
        pause_ms: Range { lo: 0, hi: 0 },
        statement_pause: Range { lo: 0.0, hi: 0.0 },
        statement_error: Range { lo: 0.0, hi: 0.0 },
        busy_streak: Range { lo: 0.0, hi: 0.0 },
        commit_fail: Range { lo: 0.0, hi: 0.0 },
        worker_slots: Range { lo: 1, hi: 1 },
        clock_offset_ms: Range { lo: 0, hi: 0 },
        clock_drift_ppm: Range { lo: 0, hi: 0 },
        deadline_attempts: 0.0,
        same_name_owners: 0.0,
        replace_paused_after_ms: Range { lo: 0, hi: 0 },
    };

    /// Whether processes get skewed clocks.
    pub fn skews_clocks(&self) -> bool {
        self.clock_offset_ms.hi > 0 || self.clock_drift_ppm.lo != 0 || self.clock_drift_ppm.hi != 0
    }
}

/// A whole scenario.
#[derive(Clone, Debug, Serialize)]
pub struct ScenarioSpec {
    pub name: &'static str,
    pub description: &'static str,
    pub hosts: u32,
    pub actors_per_host: u32,
    /// Alarm namespaces (≥ 1), each served by its own alarm-manager node with its own
    /// `metadata.sqlite`. Actors are dealt round-robin ([`ScenarioSpec::namespace_of`]), so a
    /// host holds actors of several namespaces.
    pub namespaces: u32,
    pub clients: u32,
    /// Client operations issued during the chaos phase, in total.
    pub ops: u32,
    /// Length of the chaos phase (simulated ms).
    pub chaos_ms: u64,
    /// How long the heal-and-quiesce phase may take before convergence counts as failed.
    pub quiesce_limit_ms: u64,
    pub op_weights: OpWeights,
    pub handler_weights: HandlerWeights,
    /// Client alarm times are now + a delay drawn from here (negative: in the past, R2).
    pub alarm_delay_ms: Range<i64>,
    pub handler_ms: Range<u64>,
    pub faults: FaultBounds,
    /// The edge-seeking workload (symbolic times, bursts, handler scripts); `NO_EDGES` for none.
    pub edges: EdgeBounds,
    pub durability: DurabilityChoice,
    pub invariants: &'static [Invariant],
    /// At most this many handler starts per actor within any one second (no-spin).
    pub max_fires_per_second: u32,
    /// The share of client turns that write with `allowUnconfirmed` (R6: the output gate
    /// does not wait for their commit, so reports and abandon answers can leave while a
    /// commit is in flight). 0 in every scenario but `unconfirmed-writes`.
    pub unconfirmed_writes: f64,
    /// The share of client turns, and of scripted handlers' calls, that run inside an
    /// explicit transaction (`storage.transaction()`, R5's second bullet), committed or
    /// rolled back. 0 in every scenario but `explicit-transactions`.
    pub explicit_transactions: f64,
    /// How the actors reach their manager (`LinkModel`): an RPC link, or local workerd's
    /// in-process calls. `sweep --link local` switches every scenario to the latter.
    pub link: LinkModel,
    pub system: System,
}

impl ScenarioSpec {
    pub fn actors(&self) -> u32 {
        self.hosts * self.actors_per_host
    }

    /// The namespace of actor number `actor`: the one whose manager serves all its alarms.
    pub fn namespace_of(&self, actor: usize) -> usize {
        assert!(self.namespaces >= 1, "scenario {}: namespaces must be at least 1", self.name);
        actor % self.namespaces as usize
    }

    /// The queue workload, if this is a job-queue scenario.
    pub fn queue(&self) -> Option<&QueueWorkload> {
        match &self.system {
            System::Queue(q) => Some(q),
            System::Alarms => None,
        }
    }

    pub fn checks(&self, invariant: Invariant) -> bool {
        self.invariants.contains(&invariant)
    }

    /// The same scenario with the edge-seeking workload switched off: exactly the world the
    /// scenario had before symbolic times, bursts and handler scripts existed (`sweep --edges off`).
    pub fn without_edges(&self) -> ScenarioSpec {
        ScenarioSpec { edges: NO_EDGES, ..self.clone() }
    }

    /// The same scenario without zombie pauses and SQL faults: the faults the queue world had
    /// before they existed (`sweep --queue-faults off`). Alarm scenarios are unchanged.
    pub fn without_queue_faults(&self) -> ScenarioSpec {
        let mut spec = self.clone();
        if let System::Queue(q) = &mut spec.system {
            q.faults = QueueFaultBounds::OFF;
        }
        spec
    }
}
