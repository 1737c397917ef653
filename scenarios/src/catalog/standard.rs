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
        system: System::Alarms,
    }
}
