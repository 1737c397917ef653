//! The job queue under every fault: three workers and two producers over 20 simulated
//! minutes; crashes of any process (also before any SQL statement), power loss under
//! NORMAL or FULL, jobs that throw, crash their process or outlive their lease, processes
//! that pause (zombies whose leases expire), and SQL statements that fail, stay busy past their
//! busy timeout or fail to commit.

use crate::defaults::{queue_spec, QUEUE_FAULTS, QUEUE_PROCESS_FAULTS, QUEUE_WORKLOAD};
use alarmsim_sim::scenario::QueueWorkload;
use alarmsim_sim::scenario::{DurabilityChoice, ScenarioSpec};

pub fn spec() -> ScenarioSpec {
    queue_spec(
        "queue-standard",
        "job queue: 3 workers, 2 producers, 40 jobs over 20 simulated minutes, every queue fault (zombie pauses and SQL faults too)",
        QueueWorkload { faults: QUEUE_PROCESS_FAULTS, ..QUEUE_WORKLOAD },
        QUEUE_FAULTS,
        DurabilityChoice::Either,
        1_200_000,
    )
}
