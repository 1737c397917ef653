//! The Durable Objects alarms post: handlers that throw. A failed alarm is retried with
//! exponential backoff (2, 4, 8, … s plus jitter, R15), `retryCount` counts the counted
//! failures (R10, R14), it is abandoned after 6 counted retries (R16), and a new alarm set
//! meanwhile beats the retries (R17). Every due alarm is delivered at least once.

use crate::defaults::{ALL_INVARIANTS, NO_FAULTS, SOME_EDGES};
use alarmsim_sim::scenario::{range, DurabilityChoice, FaultBounds, HandlerWeights, OpWeights, ScenarioSpec, System};

pub fn spec() -> ScenarioSpec {
    ScenarioSpec {
        name: "retry-backoff",
        description: "handlers that throw or run out of wall time: backoff, retry counts, abandon, at-least-once",
        hosts: 1,
        actors_per_host: 2,
        namespaces: 1,
        clients: 1,
        ops: 24,
        chaos_ms: 1_800_000,
        quiesce_limit_ms: 1_800_000,
        op_weights: OpWeights {
            set_alarm: 60,
            delete_alarm: 5,
            get_alarm: 10,
            put: 10,
            set_and_put: 5,
            set_twice: 5,
            delete_all: 0,
            schedule_next: 0,
        },
        handler_weights: HandlerWeights {
            succeed: 20,
            throw: 60,
            exceed_wall_time: 5,
            rearm: 5,
            delete_inside: 5,
            container_heartbeat: 0,
            abort: 5,
            cpu_limit: 0,
        },
        alarm_delay_ms: range(0, 120_000),
        handler_ms: range(1, 2_000),
        faults: FaultBounds {
            enable_probability: 0.5,
            partitions_per_hour: range(1.0, 4.0),
            partition_ms: range(500, 5_000),
            commit_latency_ms: range(1, 100),
            link_latency_ms: range(1, 100),
            link_drop_request: range(0.0, 0.05),
            link_drop_response: range(0.0, 0.05),
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
