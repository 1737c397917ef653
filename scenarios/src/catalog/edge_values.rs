//! Equal values and the same millisecond (alarm-semantics.md R2, R3, R11, R16, §2 transitions
//! 1–3): few actors, slow commits and manager commands, and many operations in one
//! millisecond, so the branches that compare two times and find them *equal* are taken.
//!
//! Symbolic alarm times (the stored alarm, the value in flight, the handler's own T, exactly
//! now, a repeat of an earlier value) on most operations; bursts of operations that only make
//! sense together (the same value twice, set → delete → set, a value between two others, set
//! and delete in one turn, deleteAll beside a set, several clients in one ms); handlers that
//! write at their first instant, in their middle and at their end, some in zero ms. Links and
//! commits may take zero ms, and clocks are skewed, so a fire reaches the actor in the very
//! millisecond T and a handler writes `setAlarm(now)` = T.

use crate::defaults::{ALL_EDGES, ALL_INVARIANTS, NO_FAULTS};
use alarmsim_sim::scenario::{range, DurabilityChoice, FaultBounds, HandlerWeights, OpWeights, ScenarioSpec, System};


pub fn spec() -> ScenarioSpec {
    ScenarioSpec {
        name: "edge-values",
        description: "equal alarm values, same-millisecond races and writes in the handler's own millisecond: symbolic times, bursts, handler scripts",
        hosts: 2,
        actors_per_host: 1,
        namespaces: 1,
        clients: 4,
        ops: 120,
        chaos_ms: 600_000,
        quiesce_limit_ms: 1_800_000,
        op_weights: OpWeights {
            set_alarm: 45,
            delete_alarm: 8,
            get_alarm: 8,
            put: 8,
            set_and_put: 10,
            set_twice: 10,
            delete_all: 5,
            schedule_next: 6,
        },
        handler_weights: HandlerWeights {
            succeed: 55,
            throw: 15,
            exceed_wall_time: 2,
            rearm: 12,
            delete_inside: 6,
            container_heartbeat: 4,
            abort: 4,
            cpu_limit: 2,
        },
        alarm_delay_ms: range(-1_000, 20_000),
        handler_ms: range(0, 3_000),
        faults: FaultBounds {
            enable_probability: 0.6,
            host_crashes_per_hour: range(1.0, 10.0),
            manager_crashes_per_hour: range(1.0, 6.0),
            power_loss_fraction: range(0.2, 0.8),
            partitions_per_hour: range(1.0, 10.0),
            partition_ms: range(200, 5_000),
            downtime_ms: range(100, 10_000),
            commit_latency_ms: range(0, 800),
            commit_fail_before: range(0.005, 0.03),
            commit_fail_after: range(0.005, 0.03),
            link_latency_ms: range(0, 600),
            link_drop_request: range(0.02, 0.2),
            link_drop_response: range(0.02, 0.2),
            link_duplicate: range(0.02, 0.2),
            zombie_delay_ms: range(0, 5_000),
            clock_offset_ms: range(-2_000, 2_000),
            clock_drift_ppm: range(-200, 200),
            sync_interval_ms: range(200, 5_000),
            ..NO_FAULTS
        },
        edges: ALL_EDGES,
        durability: DurabilityChoice::Either,
        invariants: ALL_INVARIANTS,
        max_fires_per_second: 20,
        unconfirmed_writes: 0.0,
        explicit_transactions: 0.0,
        link: alarmsim_sim::scenario::LinkModel::Rpc,
        system: System::Alarms,
    }
}
