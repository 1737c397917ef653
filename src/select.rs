//! Resolving scenario and variant names, with errors that list the valid values.

use alarmsim_sim::{ScenarioSpec, Subject};

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

/// The variants of one system, for error messages.
fn names(system: &str) -> String {
    let names: Vec<String> = alarmsim_scenarios::subjects().iter().filter(|s| s.system() == system).map(|s| s.name().to_string()).collect();
    names.join(", ")
}

/// The scenarios named (or all) that the variant named (default: the reference) can run,
/// each with that variant: alarm variants run alarm scenarios, queue variants queue ones.
pub fn pairs(scenario: Option<&str>, variant: Option<&str>) -> Result<Vec<(ScenarioSpec, Subject)>, UsageError> {
    let name = variant.unwrap_or("reference");
    let specs = scenarios(scenario)?;
    let pairs: Vec<(ScenarioSpec, Subject)> = specs.iter().filter_map(|spec| alarmsim_scenarios::subject(name, spec).map(|s| (spec.clone(), s))).collect();
    if !pairs.is_empty() {
        return Ok(pairs);
    }
    let known = alarmsim_scenarios::subjects().into_iter().find(|s| s.name() == name);
    Err(UsageError(match (known, scenario) {
        (Some(subject), Some(scenario)) => format!(
            "variant '{name}' tests the {} system and cannot run scenario '{scenario}'; variants for that scenario: {}",
            subject.system(),
            names(if subject.system() == "alarms" { "queue" } else { "alarms" })
        ),
        _ => format!("unknown variant '{name}' for --variant; alarm variants: {}; queue variants: {}", names("alarms"), names("queue")),
    }))
}

/// One scenario with the variant named (default: the reference).
pub fn pair(scenario: &str, variant: Option<&str>) -> Result<(ScenarioSpec, Subject), UsageError> {
    Ok(pairs(Some(scenario), variant)?.remove(0))
}

/// `--edges on|off`: keep each scenario's edge-seeking workload (symbolic alarm times,
/// bursts, handler scripts) or switch it off, which gives exactly the worlds the scenarios
/// had before that workload existed (to measure what it finds that they do not).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Edges {
    #[default]
    On,
    Off,
}

impl Edges {
    /// The scenario as this setting runs it.
    pub fn apply(self, spec: ScenarioSpec) -> ScenarioSpec {
        match self {
            Edges::On => spec,
            Edges::Off => spec.without_edges(),
        }
    }

    /// What a replay line must add to rerun a seed run with this setting.
    pub fn replay_flags(self) -> &'static str {
        match self {
            Edges::On => "",
            Edges::Off => " --edges off",
        }
    }
}

/// `--queue-faults on|off`: keep each job-queue scenario's zombie pauses and SQL faults or
/// switch them off, which leaves the faults the queue worlds had before them (to show
/// what only they find). Alarm scenarios are unchanged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum QueueFaults {
    #[default]
    On,
    Off,
}

impl QueueFaults {
    /// The scenario as this setting runs it.
    pub fn apply(self, spec: ScenarioSpec) -> ScenarioSpec {
        match self {
            QueueFaults::On => spec,
            QueueFaults::Off => spec.without_queue_faults(),
        }
    }

    /// What a replay line must add to rerun a seed run with this setting.
    pub fn replay_flags(self) -> &'static str {
        match self {
            QueueFaults::On => "",
            QueueFaults::Off => " --queue-faults off",
        }
    }
}

/// `--link`: how actors reach their managers (`LinkModel`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Link {
    /// A production-style deployment: messages cross a lossy network, storage is remote.
    #[default]
    Rpc,
    /// Local workerd: one process, synchronous in-process calls, local SQLite.
    Local,
}

impl Link {
    /// The scenario as this link runs it (job-queue scenarios have no alarm link: unchanged).
    pub fn apply(self, mut spec: ScenarioSpec) -> ScenarioSpec {
        if spec.queue().is_none() {
            spec.link = self.model();
        }
        spec
    }

    /// The simulator's link model this flag selects.
    pub fn model(self) -> alarmsim_sim::scenario::LinkModel {
        match self {
            Link::Rpc => alarmsim_sim::scenario::LinkModel::Rpc,
            Link::Local => alarmsim_sim::scenario::LinkModel::Local,
        }
    }
}

/// Checks that every name in `names` is a coverage probe `subject` declares (its own and its
/// world's); the error names `whence` (a file and field, or a flag) and lists the valid names.
pub fn check_probes(names: &[String], subject: &alarmsim_sim::Subject, scenario: &str, whence: &str) -> Result<(), UsageError> {
    let known: Vec<&str> = subject.declared_probes().iter().map(|p| p.name).collect();
    match names.iter().enumerate().find(|(_, n)| !known.contains(&n.as_str())) {
        None => Ok(()),
        Some((i, unknown)) => Err(UsageError(format!(
            "{whence}[{i}] = '{unknown}': not a coverage probe variant {} declares on scenario {scenario}; the valid names are {} (`alarmsim list --probes` explains each)",
            subject.name(),
            known.join(", ")
        ))),
    }
}

/// Parses a seed flag (`--seed`, `--start-seed`): clap names the flag and the value, this
/// says what a seed is.
pub fn parse_seed(text: &str) -> Result<u64, String> {
    text.parse().map_err(|_| format!("a seed is a whole number from 0 to {}", u64::MAX))
}
