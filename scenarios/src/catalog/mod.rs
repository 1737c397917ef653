//! The named scenarios, one file per real case.

pub mod abandon_vs_replacement;
pub mod concurrent_rearm;
pub mod cpu_limit_retries;
pub mod deferred_delete_race;
pub mod edge_values;
pub mod everything;
pub mod explicit_transactions;
pub mod large_namespace;
pub mod mismatched_fire;
pub mod move_later_coalescing;
pub mod multi_namespace;
pub mod power_loss;
pub mod restart_persistence;
pub mod retry_backoff;
pub mod standard;
pub mod unconfirmed_writes;
pub mod queue_concurrent_claims;
pub mod queue_migration_crash;
pub mod queue_poison_restart;
pub mod queue_power_loss;
pub mod queue_standard;
pub mod queue_zombies;
