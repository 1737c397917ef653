//! Resolving scenario and variant names, with errors that list the valid values.

use alarmsim_scheduler::api::SchedulerFactory;
use alarmsim_sim::ScenarioSpec;
use std::sync::Arc;

/// A usage error: printed as is, exit code 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// The scenarios named, or all of them.
pub fn scenarios(name: Option<&str>) -> Result<Vec<ScenarioSpec>, UsageError> {
    let all = alarmsim_scenarios::scenarios();
    let Some(name) = name else { return Ok(all) };
    match all.iter().find(|s| s.name == name) {
        Some(spec) => Ok(vec![spec.clone()]),
        None => {
            let valid: Vec<&str> = all.iter().map(|s| s.name).collect();
            Err(UsageError(format!("unknown scenario '{name}' for --scenario; valid scenarios: {}", valid.join(", "))))
        }
    }
}

/// The variant named (default: the reference).
pub fn variant(name: Option<&str>) -> Result<Arc<dyn SchedulerFactory>, UsageError> {
    let name = name.unwrap_or("reference");
    alarmsim_scenarios::variant(name).ok_or_else(|| {
        let valid: Vec<String> = alarmsim_scenarios::variants().iter().map(|v| v.name().to_string()).collect();
        UsageError(format!("unknown variant '{name}' for --variant; valid variants: {}", valid.join(", ")))
    })
}
