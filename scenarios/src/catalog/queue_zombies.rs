//! Zombie workers (issue 13): a process stalls (a GC pause, a stopped VM, a partition), its
//! lease expires, another worker takes the job over, and the stalled process wakes up and
//! acts on a claim it no longer owns. Jobs run for seconds, close to their lease, and
//! processes pause often, from a second to five lease lengths, so a sleeper often wakes
//! while its job is running again under someone else (Kleppmann's fencing-token case).

use crate::defaults::{queue_spec, MIXED_ATTEMPTS, QUEUE_FAULTS, QUEUE_WORKLOAD};
use alarmsim_sim::scenario::{range, AttemptWeights, DurabilityChoice, QueueFaultBounds, QueueWorkload, ScenarioSpec};

/// Frequent pauses of every length; the SQL faults stay rare here (queue-standard has them all).
const ZOMBIE_FAULTS: QueueFaultBounds = QueueFaultBounds {
    enable_probability: 1.0,
    pauses_per_hour: range(20.0, 60.0),
    pause_ms: range(1_000, 150_000),
    statement_pause: range(0.0, 0.01),
    worker_slots: range(1, 3),
    clock_offset_ms: range(0, 3_000),
    clock_drift_ppm: range(-200, 200),
    deadline_attempts: 0.5,
    same_name_owners: 0.5,
    replace_paused_after_ms: range(5_000, 60_000),
    ..QueueFaultBounds::OFF
};

pub fn spec() -> ScenarioSpec {
    queue_spec(
        "queue-zombies",
        "job queue: workers pause for up to five lease lengths while their jobs run for seconds; stale owners wake up",
        QueueWorkload {
            jobs: 30,
            work_ms: range(2_000, 25_000),
            attempts: AttemptWeights { slow: 2, crash: 3, ..MIXED_ATTEMPTS },
            faults: ZOMBIE_FAULTS,
            ..QUEUE_WORKLOAD
        },
        QUEUE_FAULTS,
        DurabilityChoice::Either,
        1_200_000,
    )
}
