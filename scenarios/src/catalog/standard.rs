//! The standard scenario: 16 actors on 4 hosts, ~200 client operations over one simulated
//! hour, every fault available. The benchmark's yardstick (many short seeds find more than a
//! few long ones).

use crate::defaults::{ALL_FAULTS, ALL_INVARIANTS, MIXED_HANDLERS, MIXED_OPS, SOME_EDGES};
use alarmsim_sim::scenario::{range, DurabilityChoice, ScenarioSpec, System};

pub fn spec() -> ScenarioSpec {
    ScenarioSpec {
        name: "standard",
        description: "16 actors on 4 hosts, ~200 concurrent client operations over 1 simulated hour, all faults",
        hosts: 4,
        actors_per_host: 4,
        namespaces: 1,
        clients: 4,
        ops: 200,
        chaos_ms: 3_600_000,
        quiesce_limit_ms: 3_600_000,
        op_weights: MIXED_OPS,
        handler_weights: MIXED_HANDLERS,
        alarm_delay_ms: range(-2_000, 600_000),
        handler_ms: range(1, 2_000),
        faults: ALL_FAULTS,
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

/// The standard scenario's shape at `actors` actors (a multiple of its 4 hosts): the same 4
/// hosts, clients, hour, faults and mixes, and the same operations per actor (12.5), so only
/// the namespace's size changes. With the hosts fixed, a seed draws the same fault profile at
/// every size. `alarmsim bench --scale` runs it at 16 to 10,000 actors (docs/PERFORMANCE.md).
pub fn at_scale(actors: u32) -> ScenarioSpec {
    let standard = spec();
    assert!(actors > 0 && actors % standard.hosts == 0, "the standard shape needs a positive multiple of {} actors, not {actors}", standard.hosts);
    let ops = u64::from(standard.ops) * u64::from(actors) / u64::from(standard.actors());
    ScenarioSpec {
        description: "the standard scenario's shape at scale: 4 hosts, 12.5 client operations per actor over 1 simulated hour, all faults",
        actors_per_host: actors / standard.hosts,
        ops: u32::try_from(ops).expect("operations fit a u32"),
        ..standard
    }
}
