//! A slow manager link and rapid later moves (workerd #6383, "rapid move-later alarm changes
//! coalesce into bounded scheduleRun calls").
//!
//! Clients move one actor's alarm later and earlier several times per manager round trip.
//! At most one call may be in flight plus one parked value (latest wins, I3); a move earlier
//! drops the parked value and is the only call to go out next; the manager must end up with
//! the stored time.

use crate::defaults::{ALL_INVARIANTS, NO_FAULTS, SOME_EDGES};
use alarmsim_sim::scenario::{range, DurabilityChoice, FaultBounds, HandlerWeights, OpWeights, ScenarioSpec, System};

pub fn spec() -> ScenarioSpec {
    ScenarioSpec {
        name: "move-later-coalescing",
        description: "a slow manager link and rapid later (and earlier) moves: bounded, ordered, coalesced manager calls",
        hosts: 1,
        actors_per_host: 2,
        namespaces: 1,
        clients: 3,
        ops: 200,
        chaos_ms: 300_000,
        quiesce_limit_ms: 1_200_000,
        op_weights: OpWeights {
            set_alarm: 70,
            delete_alarm: 5,
            get_alarm: 5,
            put: 5,
            set_and_put: 10,
            set_twice: 10,
            delete_all: 0,
            schedule_next: 0,
        },
        handler_weights: HandlerWeights {
            succeed: 80,
            throw: 10,
            exceed_wall_time: 0,
            rearm: 10,
            delete_inside: 0,
            container_heartbeat: 0,
            abort: 0,
            cpu_limit: 0,
        },
        alarm_delay_ms: range(5_000, 600_000),
        handler_ms: range(1, 1_000),
        faults: FaultBounds {
            enable_probability: 0.8,
            commit_latency_ms: range(1, 200),
            link_latency_ms: range(500, 4_000),
            link_duplicate: range(0.0, 0.2),
            zombie_delay_ms: range(100, 10_000),
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
