//! Explicit transactions (alarm-semantics.md R5's second bullet, R6, R11; workerd's
//! `ActorSqlite` "…before explicit local db commit" precommit path): half the client turns,
//! and some of a scripted handler's calls, run inside `storage.transaction()`, committed or
//! rolled back, sometimes nested.
//!
//! Everywhere else a turn's writes are implicit, so the transaction paths of a scheduler
//! (reads that see the transaction's value, a rollback that restores the value before it, and
//! inside a handler the null of a pending deferred delete, a root commit that ships at once)
//! are never driven: cargo-mutants showed `txn_begin`, `txn_commit` and `txn_rollback` of the
//! reference could be emptied with every other scenario still passing. `user-view` judges
//! every read inside and after a transaction; the other checkers judge what the committed
//! writes do to the manager. A few actors, so transactions and fires of one actor overlap.

use crate::defaults::{ALL_FAULTS, ALL_INVARIANTS, MIXED_HANDLERS};
use alarmsim_sim::scenario::{range, DurabilityChoice, EdgeBounds, OpWeights, ScenarioSpec, System};

pub fn spec() -> ScenarioSpec {
    ScenarioSpec {
        name: "explicit-transactions",
        description: "R5 explicit transactions: half the client turns and some handler calls inside storage.transaction(), committed or rolled back, nested; all faults",
        hosts: 2,
        actors_per_host: 2,
        namespaces: 1,
        clients: 3,
        ops: 200,
        chaos_ms: 1_200_000,
        quiesce_limit_ms: 3_600_000,
        op_weights: OpWeights {
            set_alarm: 40,
            delete_alarm: 10,
            get_alarm: 5,
            put: 10,
            set_and_put: 15,
            set_twice: 15,
            delete_all: 3,
            schedule_next: 0,
        },
        handler_weights: MIXED_HANDLERS,
        alarm_delay_ms: range(-1_000, 120_000),
        handler_ms: range(1, 2_000),
        faults: ALL_FAULTS,
        // Scripted handlers in most seeds: their calls are where a transaction meets a pending
        // deferred delete.
        edges: EdgeBounds {
            enable_probability: 0.7,
            delay_weight: range(20, 60),
            arg_weight: range(5, 20),
            bursts_per_hour: range(10.0, 60.0),
            handler_scripts: range(0.4, 0.9),
            zero_duration: range(0.1, 0.4),
        },
        durability: DurabilityChoice::Either,
        invariants: ALL_INVARIANTS,
        max_fires_per_second: 20,
        unconfirmed_writes: 0.0,
        explicit_transactions: 0.5,
        link: alarmsim_sim::scenario::LinkModel::Rpc,
        system: System::Alarms,
    }
}
