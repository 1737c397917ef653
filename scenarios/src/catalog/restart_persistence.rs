//! workerd #6104 (seed 000): the manager and the actor hosts crash while alarms are pending.
//!
//! Before #6104 the local alarm scheduler kept its alarms in one in-memory database, so a
//! restart lost them. The manager's rows must survive its crashes (R18), a restarted actor
//! must come back with its durable alarm, and past alarms must fire at once after a restart.

use crate::defaults::{ALL_INVARIANTS, NO_FAULTS, SOME_EDGES};
use alarmsim_sim::scenario::{range, DurabilityChoice, FaultBounds, HandlerWeights, OpWeights, ScenarioSpec, System};

pub fn spec() -> ScenarioSpec {
    ScenarioSpec {
        name: "restart-persistence",
        description: "workerd #6104: manager and host crashes (and power loss) with alarms pending",
        hosts: 2,
        actors_per_host: 2,
        namespaces: 1,
        clients: 2,
        ops: 40,
        chaos_ms: 1_200_000,
        quiesce_limit_ms: 1_800_000,
        op_weights: OpWeights {
            set_alarm: 50,
            delete_alarm: 5,
            get_alarm: 5,
            put: 10,
            set_and_put: 10,
            set_twice: 5,
            delete_all: 2,
            schedule_next: 0,
        },
        handler_weights: HandlerWeights {
            succeed: 70,
            throw: 10,
            exceed_wall_time: 0,
            rearm: 15,
            delete_inside: 5,
            container_heartbeat: 0,
            abort: 0,
            cpu_limit: 0,
        },
        alarm_delay_ms: range(1_000, 600_000),
        handler_ms: range(1, 2_000),
        faults: FaultBounds {
            enable_probability: 0.9,
            host_crashes_per_hour: range(2.0, 20.0),
            manager_crashes_per_hour: range(5.0, 30.0),
            power_loss_fraction: range(0.0, 0.5),
            downtime_ms: range(500, 60_000),
            commit_latency_ms: range(1, 200),
            link_latency_ms: range(1, 200),
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
