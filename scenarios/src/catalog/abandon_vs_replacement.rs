//! Abandon versus a replacement alarm (workerd #6396, `67dd86ade`): handlers abort with
//! `retryAlarm: false` or exhaust their retries while clients set new alarms. The abandon
//! clears only the alarm it abandons (S == T and clean), and a replacement queued while the
//! abandon was pending survives it, in memory and in the manager's rows (so also a restart).

use crate::defaults::{ALL_INVARIANTS, NO_FAULTS, SOME_EDGES};
use alarmsim_sim::scenario::{range, DurabilityChoice, FaultBounds, HandlerWeights, OpWeights, ScenarioSpec, System};

pub fn spec() -> ScenarioSpec {
    ScenarioSpec {
        name: "abandon-vs-replacement",
        description: "aborts and retry exhaustion while clients set new alarms; manager restarts",
        hosts: 2,
        actors_per_host: 1,
        namespaces: 1,
        clients: 2,
        ops: 180,
        chaos_ms: 900_000,
        quiesce_limit_ms: 1_800_000,
        op_weights: OpWeights {
            set_alarm: 60,
            delete_alarm: 5,
            get_alarm: 10,
            put: 10,
            set_and_put: 10,
            set_twice: 5,
            delete_all: 0,
            schedule_next: 0,
        },
        handler_weights: HandlerWeights {
            succeed: 20,
            throw: 20,
            exceed_wall_time: 0,
            rearm: 10,
            delete_inside: 0,
            container_heartbeat: 0,
            abort: 50,
            cpu_limit: 0,
        },
        alarm_delay_ms: range(0, 60_000),
        handler_ms: range(1, 2_000),
        faults: FaultBounds {
            enable_probability: 0.8,
            manager_crashes_per_hour: range(60.0, 200.0),
            downtime_ms: range(200, 3_000),
            commit_latency_ms: range(1, 20),
            link_latency_ms: range(200, 3_000),
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
