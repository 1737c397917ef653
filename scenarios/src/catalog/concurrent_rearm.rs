//! cloudflare/containers #191 (seed 003): many concurrent `scheduleNextAlarm()` callers plus
//! container-heartbeat handlers.
//!
//! Before the fix the handler's exit re-armed to "now" and `scheduleNextAlarm` wrote
//! unconditionally, so the alarm spun (fired ~280 ms apart) and starved the object. Callers
//! must converge on the earliest request (floored at 100 ms), the heartbeat re-arms minutes
//! ahead, and no actor fires more than a few times a second.

use crate::defaults::{ALL_INVARIANTS, NO_FAULTS, SOME_EDGES};
use alarmsim_sim::scenario::{range, DurabilityChoice, FaultBounds, HandlerWeights, OpWeights, ScenarioSpec, System};

pub fn spec() -> ScenarioSpec {
    ScenarioSpec {
        name: "concurrent-rearm",
        description: "containers #191: concurrent scheduleNextAlarm callers and heartbeat handlers; alarms must not spin",
        hosts: 1,
        actors_per_host: 2,
        namespaces: 1,
        clients: 4,
        ops: 150,
        chaos_ms: 150_000,
        quiesce_limit_ms: 1_200_000,
        op_weights: OpWeights {
            set_alarm: 5,
            delete_alarm: 0,
            get_alarm: 10,
            put: 5,
            set_and_put: 0,
            set_twice: 0,
            delete_all: 0,
            schedule_next: 80,
        },
        handler_weights: HandlerWeights {
            succeed: 10,
            throw: 5,
            exceed_wall_time: 0,
            rearm: 0,
            delete_inside: 0,
            container_heartbeat: 85,
            abort: 0,
            cpu_limit: 0,
        },
        alarm_delay_ms: range(0, 5_000),
        handler_ms: range(1, 50),
        faults: FaultBounds {
            enable_probability: 0.7,
            commit_latency_ms: range(1, 100),
            link_latency_ms: range(1, 50),
            ..NO_FAULTS
        },
        edges: SOME_EDGES,
        durability: DurabilityChoice::Either,
        invariants: ALL_INVARIANTS,
        max_fires_per_second: 4,
        unconfirmed_writes: 0.0,
        explicit_transactions: 0.0,
        link: alarmsim_sim::scenario::LinkModel::Rpc,
        system: System::Alarms,
    }
}
