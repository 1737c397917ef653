//! Shared building blocks for scenario definitions.

use alarmsim_sim::scenario::{range, FaultBounds, HandlerWeights, Invariant, OpWeights};

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
};

/// Every invariant.
pub const ALL_INVARIANTS: &[Invariant] = &Invariant::ALL;
