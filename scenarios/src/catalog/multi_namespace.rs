//! Several namespaces (R18: one `metadata.sqlite` per namespace; the topology: one
//! alarm-manager node per namespace). 16 actors of 3 namespaces on 4 hosts, so every host
//! holds actors of several namespaces, and each namespace's manager crashes on its own.
//!
//! What it holds the world to: every command, fire, result and abandon of an actor goes to
//! its own namespace's manager; one manager's crash, restart or power loss leaves the others
//! serving their actors; each actor's storage converges with its own manager's row, and no
//! other manager holds an alarm for it.

use crate::defaults::{ALL_FAULTS, ALL_INVARIANTS, MIXED_HANDLERS, MIXED_OPS, SOME_EDGES};
use alarmsim_sim::scenario::{range, DurabilityChoice, FaultBounds, ScenarioSpec, System};

pub fn spec() -> ScenarioSpec {
    ScenarioSpec {
        name: "multi-namespace",
        description: "3 namespaces, one manager each, 16 actors on 4 hosts, all faults, frequent manager crashes",
        hosts: 4,
        actors_per_host: 4,
        namespaces: 3,
        clients: 4,
        ops: 160,
        chaos_ms: 1_800_000,
        quiesce_limit_ms: 3_600_000,
        op_weights: MIXED_OPS,
        handler_weights: MIXED_HANDLERS,
        alarm_delay_ms: range(-2_000, 300_000),
        handler_ms: range(1, 2_000),
        // Manager crashes are what sets the namespaces apart: each manager draws its own, at
        // 4–12 per hour, so a seed usually has one manager down while another fires.
        faults: FaultBounds { manager_crashes_per_hour: range(4.0, 12.0), ..ALL_FAULTS },
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
