//! Shared building blocks for scenario definitions.

use alarmsim_scheduler::queue::QueueConfig;
use alarmsim_sim::scenario::{range, AttemptWeights, DurabilityChoice, EdgeBounds, FaultBounds, HandlerWeights, Invariant, OpWeights, QueueFaultBounds, QueueWorkload, ScenarioSpec, System, NO_EDGES};

/// Every fault, each switched on for about two seeds in three (swarm testing).
pub const ALL_FAULTS: FaultBounds = FaultBounds {
    enable_probability: 0.65,
    host_crashes_per_hour: range(1.0, 6.0),
    manager_crashes_per_hour: range(1.0, 4.0),
    power_loss_fraction: range(0.2, 0.8),
    partitions_per_hour: range(1.0, 6.0),
    partition_ms: range(500, 20_000),
    downtime_ms: range(200, 30_000),
    commit_latency_ms: range(1, 400),
    commit_fail_before: range(0.005, 0.05),
    commit_fail_after: range(0.005, 0.05),
    link_latency_ms: range(1, 300),
    link_drop_request: range(0.01, 0.15),
    link_drop_response: range(0.01, 0.15),
    link_duplicate: range(0.01, 0.2),
    zombie_delay_ms: range(100, 10_000),
    clock_offset_ms: range(-500, 500),
    clock_drift_ppm: range(-200, 200),
    sync_interval_ms: range(500, 10_000),
    statement_crash: range(0.0, 0.0),
};

/// No fault at all (for workload-only scenarios and calibration).
pub const NO_FAULTS: FaultBounds = FaultBounds {
    enable_probability: 0.0,
    host_crashes_per_hour: range(0.0, 0.0),
    manager_crashes_per_hour: range(0.0, 0.0),
    power_loss_fraction: range(0.0, 0.0),
    partitions_per_hour: range(0.0, 0.0),
    partition_ms: range(0, 0),
    downtime_ms: range(0, 0),
    commit_latency_ms: range(1, 20),
    commit_fail_before: range(0.0, 0.0),
    commit_fail_after: range(0.0, 0.0),
    link_latency_ms: range(1, 20),
    link_drop_request: range(0.0, 0.0),
    link_drop_response: range(0.0, 0.0),
    link_duplicate: range(0.0, 0.0),
    zombie_delay_ms: range(0, 0),
    clock_offset_ms: range(0, 0),
    clock_drift_ppm: range(0, 0),
    sync_interval_ms: range(1_000, 1_000),
    statement_crash: range(0.0, 0.0),
};

/// A client mix that exercises every alarm path.
pub const MIXED_OPS: OpWeights = OpWeights {
    set_alarm: 30,
    delete_alarm: 10,
    get_alarm: 8,
    put: 10,
    set_and_put: 10,
    set_twice: 8,
    delete_all: 3,
    schedule_next: 6,
};

/// Handlers that do a bit of everything.
pub const MIXED_HANDLERS: HandlerWeights = HandlerWeights {
    succeed: 40,
    throw: 15,
    exceed_wall_time: 2,
    rearm: 15,
    delete_inside: 8,
    container_heartbeat: 6,
    abort: 3,
    cpu_limit: 0,
};

/// The edge-seeking workload at full strength (`edge-values`, `everything`): every option
/// on in most seeds, symbolic times on most operations, bursts every few minutes, most handlers
/// scripted.
pub const ALL_EDGES: EdgeBounds = EdgeBounds {
    enable_probability: 0.6,
    delay_weight: range(5, 40),
    arg_weight: range(5, 30),
    bursts_per_hour: range(60.0, 360.0),
    handler_scripts: range(0.3, 0.9),
    zero_duration: range(0.2, 0.7),
};

/// The edge-seeking workload at a strength that leaves a scenario's own workload in charge:
/// on in about half the seeds per option, symbolic times on a minority of operations, a few
/// bursts per hour, some scripted handlers. Scenarios made for equal values and same-ms races
/// (`edge-values`, `everything`) use [`ALL_EDGES`].
pub const SOME_EDGES: EdgeBounds = EdgeBounds {
    enable_probability: 0.5,
    delay_weight: range(20, 60),
    arg_weight: range(5, 20),
    bursts_per_hour: range(10.0, 60.0),
    handler_scripts: range(0.1, 0.4),
    zero_duration: range(0.1, 0.4),
};

/// Every invariant.
pub const ALL_INVARIANTS: &[Invariant] = &Invariant::ALL;

/// Job-queue faults: process crashes (workers and producers), crashes before SQL
/// statements, power loss, statement latency, sync intervals. The link and clock bounds of
/// the alarm world do not apply.
pub const QUEUE_FAULTS: FaultBounds = FaultBounds {
    enable_probability: 0.7,
    host_crashes_per_hour: range(2.0, 20.0),
    manager_crashes_per_hour: range(1.0, 10.0),
    power_loss_fraction: range(0.1, 0.5),
    downtime_ms: range(100, 20_000),
    commit_latency_ms: range(1, 200),
    sync_interval_ms: range(200, 10_000),
    statement_crash: range(0.002, 0.03),
    ..NO_FAULTS
};

/// Attempts that do a bit of everything: most succeed, some throw, a few crash their
/// process or outlive their lease.
pub const MIXED_ATTEMPTS: AttemptWeights = AttemptWeights { succeed: 70, throw: 15, crash: 7, slow: 8 };

/// DGW's knobs (30 s backoff base, 5 attempts) with a 30 s lease.
pub const QUEUE_CONFIG: QueueConfig = QueueConfig { lease_ms: 30_000, max_attempts: 5, backoff_base_ms: 30_000 };

/// A workload with three workers and two producers; scenarios change what they stress.
pub const QUEUE_WORKLOAD: QueueWorkload = QueueWorkload {
    producers: 2,
    workers: 3,
    jobs: 40,
    delay_ms: range(-5_000, 120_000),
    work_ms: range(10, 5_000),
    attempts: MIXED_ATTEMPTS,
    config: QUEUE_CONFIG,
    poll_ms: 30_000,
    legacy_jobs: 0,
    faults: NO_QUEUE_FAULTS,
};

/// No zombie pauses and no SQL faults: the queue faults of the world before issue 13.
pub const NO_QUEUE_FAULTS: QueueFaultBounds = QueueFaultBounds::OFF;

/// Zombie processes and SQL faults (issue 13). Pauses run from a few ms to five lease lengths,
/// so a paused worker's lease expires and another worker takes its job over before it wakes.
pub const QUEUE_PROCESS_FAULTS: QueueFaultBounds = QueueFaultBounds {
    enable_probability: 0.6,
    pauses_per_hour: range(2.0, 30.0),
    pause_ms: range(5, 150_000),
    statement_pause: range(0.001, 0.02),
    statement_error: range(0.002, 0.03),
    busy_streak: range(0.001, 0.01),
    commit_fail: range(0.002, 0.03),
    worker_slots: range(1, 3),
    // Clocks seconds apart (a VM resumed from suspend, NTP not yet synced): a process whose
    // clock runs ahead reclaims a lease its holder still believes in.
    clock_offset_ms: range(0, 3_000),
    clock_drift_ppm: range(-200, 200),
    deadline_attempts: 0.5,
    same_name_owners: 0.3,
    replace_paused_after_ms: range(5_000, 60_000),
};

/// A job-queue scenario. The alarm-only fields of [`ScenarioSpec`] are zero.
pub fn queue_spec(
    name: &'static str,
    description: &'static str,
    workload: QueueWorkload,
    faults: FaultBounds,
    durability: DurabilityChoice,
    chaos_ms: u64,
) -> ScenarioSpec {
    const NO_OPS: OpWeights = OpWeights { set_alarm: 0, delete_alarm: 0, get_alarm: 0, put: 0, set_and_put: 0, set_twice: 0, delete_all: 0, schedule_next: 0 };
    const NO_HANDLERS: HandlerWeights = HandlerWeights { succeed: 0, throw: 0, exceed_wall_time: 0, rearm: 0, delete_inside: 0, container_heartbeat: 0, abort: 0, cpu_limit: 0 };
    ScenarioSpec {
        name,
        description,
        hosts: 0,
        actors_per_host: 0,
        namespaces: 1,
        clients: 0,
        ops: 0,
        chaos_ms,
        // Five attempts back off 30+60+120+240 s; leases and restarts add minutes.
        quiesce_limit_ms: 3_600_000,
        op_weights: NO_OPS,
        handler_weights: NO_HANDLERS,
        alarm_delay_ms: range(0, 0),
        handler_ms: range(0, 0),
        faults,
        edges: NO_EDGES,
        durability,
        invariants: &Invariant::QUEUE,
        max_fires_per_second: 0,
        unconfirmed_writes: 0.0,
        explicit_transactions: 0.0,
        link: alarmsim_sim::scenario::LinkModel::Rpc,
        system: System::Queue(workload),
    }
}
