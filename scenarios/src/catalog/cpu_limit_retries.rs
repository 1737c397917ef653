//! B15 (STOR-5337): a handler that exceeds its CPU limit inside a storage write. SQLite is
//! interrupted (`SQLITE_INTERRUPT`), the write never commits and the output gate breaks, so
//! the failure is neither clean nor the user's error; R14 still counts it, through its
//! `resourceLimitExceeded` term. Without that term every such retry is uncounted and
//! uncounted retries are unlimited: a handler that always hits the limit retries forever.
//!
//! What it holds the world to: `alarmInfo.retryCount` counts exactly the failures R14 counts
//! (R10), retries back off (R15) and the alarm is abandoned at the limit (R16), while the
//! broken gate resets the actor from its disk and clients keep setting alarms.

use crate::defaults::{ALL_INVARIANTS, NO_FAULTS};
use alarmsim_sim::scenario::{range, DurabilityChoice, FaultBounds, HandlerWeights, OpWeights, ScenarioSpec, System};

pub fn spec() -> ScenarioSpec {
    ScenarioSpec {
        name: "cpu-limit-retries",
        description: "B15 (STOR-5337): handlers interrupted at their CPU limit inside a write break the output gate; the retries must still count",
        hosts: 1,
        actors_per_host: 2,
        namespaces: 1,
        clients: 1,
        ops: 24,
        chaos_ms: 1_800_000,
        quiesce_limit_ms: 1_800_000,
        op_weights: OpWeights {
            set_alarm: 60,
            delete_alarm: 5,
            get_alarm: 10,
            put: 10,
            set_and_put: 10,
            set_twice: 5,
            delete_all: 0,
            schedule_next: 0,
        },
        handler_weights: HandlerWeights {
            succeed: 25,
            throw: 10,
            exceed_wall_time: 0,
            rearm: 5,
            delete_inside: 5,
            container_heartbeat: 0,
            abort: 0,
            cpu_limit: 55,
        },
        alarm_delay_ms: range(0, 120_000),
        handler_ms: range(1, 2_000),
        faults: FaultBounds {
            enable_probability: 0.5,
            commit_latency_ms: range(1, 100),
            link_latency_ms: range(1, 100),
            link_drop_request: range(0.0, 0.05),
            link_drop_response: range(0.0, 0.05),
            ..NO_FAULTS
        },
        durability: DurabilityChoice::Either,
        invariants: ALL_INVARIANTS,
        max_fires_per_second: 20,
        system: System::Alarms,
    }
}
