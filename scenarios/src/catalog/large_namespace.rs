//! A large namespace: 1,000 actors on one alarm manager, the shape of a production namespace
//! rather than a test's (issue 14). Every fault of `standard`, the same client mix at 4
//! operations per actor over 20 simulated minutes.
//!
//! What it holds the world to at this size: a manager tick that fires many actors at once, a
//! manager restart that reloads a thousand rows and fires every overdue alarm in one tick, a
//! host crash that takes 125 actors down (and a power loss that rolls all their disks back),
//! all while every per-event check still sees every actor the event touched.
//!
//! Its seeds are about 60 times longer than `standard`'s, so a sweep that is not told how
//! many seeds to run gives it a tenth of the others' ([`SEED_SHARE`], `alarmsim sweep`).

use alarmsim_sim::scenario::{range, ScenarioSpec};

/// The scenario's name.
pub const NAME: &str = "large-namespace";

/// A sweep without `--seeds` runs 1 in this many of its default seed count here (10 of 100).
pub const SEED_SHARE: u64 = 10;

/// `standard`'s faults, mixes and checks on 1,000 actors for a third of the time.
pub fn spec() -> ScenarioSpec {
    ScenarioSpec {
        name: NAME,
        description: "1,000 actors on one manager (8 hosts of 125), ~4,000 client operations over 20 simulated minutes, all faults",
        hosts: 8,
        actors_per_host: 125,
        clients: 8,
        ops: 4_000,
        chaos_ms: 1_200_000,
        alarm_delay_ms: range(-2_000, 300_000),
        ..super::standard::spec()
    }
}
