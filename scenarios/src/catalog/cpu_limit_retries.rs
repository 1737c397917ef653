//! B15 (STOR-5337): a handler that exceeds its CPU limit inside a storage write. SQLite is
//! interrupted (`SQLITE_INTERRUPT`), the write never commits and the output gate breaks, so
//! the failure is neither clean nor the user's error; R14 still counts it, through its
//! `resourceLimitExceeded` term. Without that term every such retry is uncounted and
//! uncounted retries are unlimited: a handler that always hits the limit retries forever.
//!
//! The `retry-backoff` world (one host, two actors, a client setting alarms, light link
//! faults) with most handlers interrupted that way. What it holds the world to:
//! `alarmInfo.retryCount` counts exactly the failures R14 counts (R10), retries back off
//! (R15) and the alarm is abandoned at the limit (R16), while the broken gate resets the
//! actor from its disk.

use super::retry_backoff;
use alarmsim_sim::scenario::{HandlerWeights, ScenarioSpec};

pub fn spec() -> ScenarioSpec {
    ScenarioSpec {
        name: "cpu-limit-retries",
        description: "B15 (STOR-5337): handlers interrupted at their CPU limit inside a write break the output gate; the retries must still count",
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
        ..retry_backoff::spec()
    }
}
