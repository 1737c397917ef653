//! Power loss on the actor hosts, with `synchronous=NORMAL` (`power-loss-normal`: commits
//! since the last WAL checkpoint are lost, so durable storage rolls back) and with `FULL`
//! (`power-loss-full`: every acknowledged commit survives). After a rollback the manager may
//! hold a time storage no longer has; the actor reconciles on restart, and what storage holds
//! afterwards must be exactly what the sync model promises.

use crate::defaults::{ALL_INVARIANTS, MIXED_HANDLERS, MIXED_OPS, NO_FAULTS, SOME_EDGES};
use alarmsim_sim::scenario::{range, DurabilityChoice, FaultBounds, ScenarioSpec, System};

const FAULTS: FaultBounds = FaultBounds {
    enable_probability: 0.9,
    host_crashes_per_hour: range(5.0, 30.0),
    manager_crashes_per_hour: range(1.0, 10.0),
    power_loss_fraction: range(0.7, 1.0),
    downtime_ms: range(200, 20_000),
    commit_latency_ms: range(1, 300),
    link_latency_ms: range(1, 200),
    sync_interval_ms: range(200, 10_000),
    ..NO_FAULTS
};

fn spec(name: &'static str, description: &'static str, durability: DurabilityChoice) -> ScenarioSpec {
    ScenarioSpec {
        name,
        description,
        hosts: 2,
        actors_per_host: 2,
        namespaces: 1,
        clients: 2,
        ops: 60,
        chaos_ms: 1_200_000,
        quiesce_limit_ms: 1_800_000,
        op_weights: MIXED_OPS,
        handler_weights: MIXED_HANDLERS,
        alarm_delay_ms: range(-2_000, 300_000),
        handler_ms: range(1, 2_000),
        faults: FAULTS,
        edges: SOME_EDGES,
        durability,
        invariants: ALL_INVARIANTS,
        max_fires_per_second: 20,
        unconfirmed_writes: 0.0,
        explicit_transactions: 0.0,
        link: alarmsim_sim::scenario::LinkModel::Rpc,
        system: System::Alarms,
    }
}

pub fn normal() -> ScenarioSpec {
    spec(
        "power-loss-normal",
        "host power loss with synchronous=NORMAL: unsynced commits roll back and the actor reconciles",
        DurabilityChoice::Normal,
    )
}

pub fn full() -> ScenarioSpec {
    spec("power-loss-full", "host power loss with synchronous=FULL: no acknowledged commit is lost", DurabilityChoice::Full)
}
