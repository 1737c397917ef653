//! Power loss of the queue's machine. Under `synchronous=NORMAL` commits since the last sync
//! roll back (an acknowledged enqueue may be lost, but only one acknowledged after the last
//! sync); under `FULL` an acknowledged enqueue is never lost.

use crate::defaults::{queue_spec, QUEUE_FAULTS, QUEUE_WORKLOAD};
use alarmsim_sim::scenario::{range, DurabilityChoice, FaultBounds, ScenarioSpec};

const FAULTS: FaultBounds = FaultBounds { enable_probability: 0.9, power_loss_fraction: range(0.5, 1.0), ..QUEUE_FAULTS };

pub fn normal() -> ScenarioSpec {
    queue_spec(
        "queue-power-loss-normal",
        "job queue power loss with synchronous=NORMAL: unsynced commits roll back, synced ones survive",
        QUEUE_WORKLOAD,
        FAULTS,
        DurabilityChoice::Normal,
        1_200_000,
    )
}

pub fn full() -> ScenarioSpec {
    queue_spec(
        "queue-power-loss-full",
        "job queue power loss with synchronous=FULL: no acknowledged enqueue is lost",
        QUEUE_WORKLOAD,
        FAULTS,
        DurabilityChoice::Full,
        1_200_000,
    )
}
