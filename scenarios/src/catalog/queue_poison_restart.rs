//! Jobs that crash the process running them, and restarts: every lost attempt must be
//! counted so a poison job is dead-lettered after five attempts instead of crashing the
//! workers forever (DGW's `reset_claimed_jobs` requeues without counting).

use crate::defaults::{queue_spec, QUEUE_FAULTS, QUEUE_WORKLOAD};
use alarmsim_sim::scenario::{AttemptWeights, DurabilityChoice, QueueWorkload, ScenarioSpec};

pub fn spec() -> ScenarioSpec {
    queue_spec(
        "queue-poison-restart",
        "job queue: jobs that crash their worker, restarts, reclaimed leases must count attempts",
        QueueWorkload { jobs: 25, attempts: AttemptWeights { succeed: 40, throw: 10, crash: 40, slow: 10 }, ..QUEUE_WORKLOAD },
        QUEUE_FAULTS,
        DurabilityChoice::Either,
        900_000,
    )
}
