//! R6's `allowUnconfirmed` (workerd's actor-sqlite tests "allowUnconfirmed setAlarm does not
//! block output gate", "unconfirmed setAlarm failure still breaks output gate"): three client
//! turns in four write without waiting for their commit.
//!
//! With every write confirmed, the output gate holds each handler report and abandon answer
//! until every commit is durable, so the actor never reports while a commit is in flight and
//! the code that covers that case (the report's durable floor, ASNLT raised by a report) is
//! never judged. Here the gate stays open over unconfirmed commits: a report leaves while a
//! commit moving the alarm, or a command, is in flight. Commits are slow (up to 2 s, so a
//! report can reach the manager before the commit is durable) and fail before and after they
//! are durable, which breaks the gate anyway; manager calls are slow and sometimes lost.
//!
//! On its first runs it found two reference bugs (2,000 seeds of the reference before the
//! fixes: 111 failing, the first at seed 0): an older command's completion lowered ASNLT below
//! a report that outranked it, so a move-earlier skipped its precommit (I1); and a lost or
//! earlier report had raised ASNLT, so a move-later skipped its post-commit command (I2 while
//! idle). It also found the second one in the guide's example scheduler, and catches the
//! report's durable floor made a no-op (a cargo-mutants survivor; `report-shows-stored-alarm`).

use crate::defaults::{ALL_INVARIANTS, NO_FAULTS, SOME_EDGES};
use alarmsim_sim::scenario::{range, DurabilityChoice, FaultBounds, HandlerWeights, OpWeights, ScenarioSpec, System};

pub fn spec() -> ScenarioSpec {
    ScenarioSpec {
        name: "unconfirmed-writes",
        description: "R6 allowUnconfirmed: most client turns write without waiting for their commit, so reports leave while commits are in flight; rapid moves over a slow link, failing commits",
        hosts: 2,
        actors_per_host: 1,
        namespaces: 1,
        clients: 3,
        ops: 200,
        chaos_ms: 400_000,
        quiesce_limit_ms: 1_800_000,
        op_weights: OpWeights {
            set_alarm: 60,
            delete_alarm: 5,
            get_alarm: 5,
            put: 10,
            set_and_put: 10,
            set_twice: 8,
            delete_all: 2,
            schedule_next: 0,
        },
        handler_weights: HandlerWeights {
            succeed: 70,
            throw: 10,
            exceed_wall_time: 0,
            rearm: 12,
            delete_inside: 5,
            container_heartbeat: 0,
            abort: 3,
            cpu_limit: 0,
        },
        alarm_delay_ms: range(-1_000, 60_000),
        handler_ms: range(1, 2_000),
        faults: FaultBounds {
            enable_probability: 0.8,
            host_crashes_per_hour: range(0.0, 3.0),
            partitions_per_hour: range(0.0, 4.0),
            partition_ms: range(500, 5_000),
            downtime_ms: range(200, 5_000),
            commit_latency_ms: range(1, 2_000),
            commit_fail_before: range(0.0, 0.03),
            commit_fail_after: range(0.0, 0.03),
            link_latency_ms: range(300, 3_000),
            link_drop_request: range(0.0, 0.1),
            link_drop_response: range(0.0, 0.1),
            link_duplicate: range(0.0, 0.1),
            zombie_delay_ms: range(100, 5_000),
            ..NO_FAULTS
        },
        edges: SOME_EDGES,
        durability: DurabilityChoice::Either,
        invariants: ALL_INVARIANTS,
        max_fires_per_second: 20,
        unconfirmed_writes: 0.75,
        explicit_transactions: 0.0,
        link: alarmsim_sim::scenario::LinkModel::Rpc,
        system: System::Alarms,
    }
}
