//! Many workers racing for jobs that are all due at once, with short leases and slow jobs:
//! a claim that is not one transaction hands a job to two workers (fang's async claim), and
//! a stale owner that is not fenced finishes a job twice.

use crate::defaults::{queue_spec, MIXED_ATTEMPTS, QUEUE_CONFIG, QUEUE_FAULTS, QUEUE_WORKLOAD};
use alarmsim_sim::scenario::{range, AttemptWeights, DurabilityChoice, QueueWorkload, ScenarioSpec};
use alarmsim_scheduler::queue::QueueConfig;

pub fn spec() -> ScenarioSpec {
    queue_spec(
        "queue-concurrent-claims",
        "job queue: 5 workers race for 60 jobs due at once; short leases, slow jobs",
        QueueWorkload {
            workers: 5,
            jobs: 60,
            delay_ms: range(-1_000, 2_000),
            work_ms: range(10, 3_000),
            attempts: AttemptWeights { slow: 20, ..MIXED_ATTEMPTS },
            config: QueueConfig { lease_ms: 5_000, ..QUEUE_CONFIG },
            poll_ms: 10_000,
            ..QUEUE_WORKLOAD
        },
        QUEUE_FAULTS,
        DurabilityChoice::Either,
        600_000,
    )
}
