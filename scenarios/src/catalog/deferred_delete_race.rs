//! workerd #5431 (seed 001): a deferred delete races a new `setAlarm` while manager calls are
//! retried, duplicated and delayed.
//!
//! The handler succeeds, its deferred delete commits `S = none` and sends `sR(none)`; a client
//! sets a new alarm right after. If the late `sR(none)` (a retry, a zombie copy, a slow commit's
//! stale move-later) lands after the new alarm's `sR(t)`, storage holds t and the manager holds
//! nothing. Two actors on two hosts, short alarms that fire often, handlers that mostly succeed
//! (or re-arm), and a manager link that drops, duplicates and delays calls.

use crate::defaults::{ALL_INVARIANTS, NO_FAULTS, SOME_EDGES};
use alarmsim_sim::scenario::{range, DurabilityChoice, FaultBounds, HandlerWeights, OpWeights, ScenarioSpec, System};

pub fn spec() -> ScenarioSpec {
    ScenarioSpec {
        name: "deferred-delete-race",
        description: "workerd #5431: deferred deletes race new setAlarm calls over a link that drops, duplicates and delays manager calls",
        hosts: 2,
        actors_per_host: 1,
        namespaces: 1,
        clients: 2,
        ops: 120,
        chaos_ms: 600_000,
        quiesce_limit_ms: 1_800_000,
        op_weights: OpWeights {
            set_alarm: 45,
            delete_alarm: 5,
            get_alarm: 5,
            put: 10,
            set_and_put: 10,
            set_twice: 5,
            delete_all: 2,
            schedule_next: 0,
        },
        handler_weights: HandlerWeights {
            succeed: 60,
            throw: 5,
            exceed_wall_time: 0,
            rearm: 20,
            delete_inside: 10,
            container_heartbeat: 0,
            abort: 0,
            cpu_limit: 0,
        },
        alarm_delay_ms: range(-1_000, 20_000),
        handler_ms: range(1, 8_000),
        faults: FaultBounds {
            enable_probability: 0.8,
            partitions_per_hour: range(1.0, 10.0),
            partition_ms: range(500, 5_000),
            commit_latency_ms: range(1, 1_500),
            link_latency_ms: range(1, 1_500),
            link_drop_request: range(0.05, 0.3),
            link_drop_response: range(0.05, 0.3),
            link_duplicate: range(0.05, 0.3),
            zombie_delay_ms: range(100, 5_000),
            ..NO_FAULTS
        },
        edges: SOME_EDGES,
        durability: DurabilityChoice::Either,
        invariants: ALL_INVARIANTS,
        max_fires_per_second: 20,
        unconfirmed_writes: 0.0,
        explicit_transactions: 0.0,
        link: alarmsim_sim::scenario::LinkModel::Rpc,
        system: System::Alarms,
    }
}
