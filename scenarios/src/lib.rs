//! # alarmsim-scenarios
//!
//! The scenario catalog (one file per scenario in [`catalog`]) and the registry of scheduler
//! variants the simulator can run: the reference and, later, the bug library.

pub mod catalog;
pub mod defaults;

use alarmsim_scheduler::api::{Reference, SchedulerFactory};
use alarmsim_sim::ScenarioSpec;
use std::sync::Arc;

/// Every scenario, in catalog order.
pub fn scenarios() -> Vec<ScenarioSpec> {
    vec![catalog::standard::spec()]
}

/// Every scheduler variant, the reference first.
pub fn variants() -> Vec<Arc<dyn SchedulerFactory>> {
    vec![Arc::new(Reference)]
}

/// Looks a scenario up by name.
pub fn scenario(name: &str) -> Option<ScenarioSpec> {
    scenarios().into_iter().find(|s| s.name == name)
}

/// Looks a variant up by name.
pub fn variant(name: &str) -> Option<Arc<dyn SchedulerFactory>> {
    variants().into_iter().find(|v| v.name() == name)
}
