//! # alarmsim-scenarios
//!
//! The scenario catalog (one file per real case in [`catalog`]) and the registry of
//! scheduler variants the simulator can run: the reference and the bug library
//! ([`variants`], one file per re-introduced bug).

pub mod catalog;
pub mod defaults;
pub mod library;
pub mod variants;

use alarmsim_scheduler::api::{Reference, SchedulerFactory};
use alarmsim_sim::ScenarioSpec;
use std::sync::Arc;

/// Every scenario, in catalog order.
pub fn scenarios() -> Vec<ScenarioSpec> {
    vec![
        catalog::standard::spec(),
        catalog::deferred_delete_race::spec(),
        catalog::restart_persistence::spec(),
        catalog::retry_backoff::spec(),
        catalog::concurrent_rearm::spec(),
        catalog::move_later_coalescing::spec(),
        catalog::mismatched_fire::spec(),
        catalog::abandon_vs_replacement::spec(),
        catalog::power_loss::normal(),
        catalog::power_loss::full(),
        catalog::everything::spec(),
    ]
}

/// Every scheduler variant, the reference first.
pub fn variants() -> Vec<Arc<dyn SchedulerFactory>> {
    use variants::*;
    vec![
        Arc::new(Reference),
        Arc::new(b1_deferred_delete_retry::B1DeferredDeleteRetry),
        Arc::new(b2_stale_move_later::B2StaleMoveLater),
        Arc::new(b4_unbounded_chain::B4UnboundedChain),
        Arc::new(b5_parked_races_earlier::B5ParkedRacesEarlier),
        Arc::new(b7_abandon_unconditional::B7AbandonUnconditional),
        Arc::new(b8_abandon_drops_replacement::B8AbandonDropsReplacement),
        Arc::new(b10_cancel_without_reschedule::B10CancelWithoutReschedule),
        Arc::new(b12_deferred_delete_clobbers::B12DeferredDeleteClobbers),
        Arc::new(b13_delete_erases_running::B13DeleteErasesRunning),
        Arc::new(b16_container_spin::B16ContainerSpin),
        Arc::new(in_memory_manager::InMemoryManager),
        Arc::new(no_clock_recheck::NoClockRecheck),
        Arc::new(retry_no_backoff::RetryNoBackoff),
        Arc::new(notify_after_commit::NotifyAfterCommit),
    ]
}

/// Looks a scenario up by name.
pub fn scenario(name: &str) -> Option<ScenarioSpec> {
    scenarios().into_iter().find(|s| s.name == name)
}

/// Looks a variant up by name.
pub fn variant(name: &str) -> Option<Arc<dyn SchedulerFactory>> {
    variants().into_iter().find(|v| v.name() == name)
}
