//! Upgrading a database an older release left (schema v1, with jobs in it) while processes
//! crash before SQL statements: every process migrates on open, concurrently, and a crash
//! at any point of a migration must leave a database the next open can use.

use crate::defaults::{queue_spec, QUEUE_FAULTS, QUEUE_WORKLOAD};
use alarmsim_sim::scenario::{range, DurabilityChoice, FaultBounds, QueueWorkload, ScenarioSpec};

pub fn spec() -> ScenarioSpec {
    queue_spec(
        "queue-migration-crash",
        "job queue: every process migrates a schema-v1 database with 20 jobs while crashing before statements",
        QueueWorkload { jobs: 10, legacy_jobs: 20, ..QUEUE_WORKLOAD },
        FaultBounds { enable_probability: 0.9, statement_crash: range(0.02, 0.1), ..QUEUE_FAULTS },
        DurabilityChoice::Either,
        600_000,
    )
}
