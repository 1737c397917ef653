//! Everything at once: every fault, every client operation, every handler behaviour, the
//! edge-seeking workload at full strength (symbolic times, bursts, handler scripts), on a
//! smaller world than `standard` (6 actors, 20 simulated minutes) so seeds are short. The
//! mixed handlers plus a few interrupted at their CPU limit inside a write (B15), which
//! `standard` leaves out.

use crate::defaults::{ALL_EDGES, ALL_FAULTS, ALL_INVARIANTS, MIXED_HANDLERS, MIXED_OPS};
use alarmsim_sim::scenario::{range, DurabilityChoice, HandlerWeights, ScenarioSpec, System};

pub fn spec() -> ScenarioSpec {
    ScenarioSpec {
        name: "everything",
        description: "6 actors on 2 hosts, ~100 client operations over 20 simulated minutes, all faults, all operations",
        hosts: 2,
        actors_per_host: 3,
        namespaces: 1,
        clients: 3,
        ops: 100,
        chaos_ms: 1_200_000,
        quiesce_limit_ms: 3_600_000,
        op_weights: MIXED_OPS,
        handler_weights: HandlerWeights { cpu_limit: 3, ..MIXED_HANDLERS },
        alarm_delay_ms: range(-2_000, 300_000),
        handler_ms: range(1, 2_000),
        faults: ALL_FAULTS,
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
