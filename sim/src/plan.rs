//! A plan: everything a run does on purpose. The fault profile (latencies, loss and failure
//! rates, clocks) plus a timed list of steps: client operations, crashes, partitions.
//!
//! Every run starts from a plan. A seed generates one (`Plan::generate`, in `workload.rs` and `queue/plan.rs`); the shrinker
//! removes steps and switches faults off while the failure persists; a saved plan runs again
//! with `alarmsim replay --plan <file>` (Turso's simulator shrinks plans the same way).
//!
//! What the plan does not fix — each message's latency and fate, each handler's behaviour —
//! is drawn during the run from per-actor random streams derived from the seed, so removing
//! a step for one actor does not change what happens to the others.

pub use crate::node::Node;
use crate::profile::FaultProfile;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// A client operation on one actor. Delays are relative to the actor's clock at the time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum Op {
    SetAlarm { delay_ms: i64 },
    DeleteAlarm,
    GetAlarm,
    Put { key: String },
    /// `setAlarm` and a put in one turn (R6).
    SetAndPut { delay_ms: i64, key: String },
    /// Two `setAlarm` calls in one turn.
    SetTwice { first_ms: i64, second_ms: i64 },
    DeleteAll { delete_alarm: bool },
    /// A container-style `scheduleNextAlarm(delay)` (containers #191).
    ScheduleNext { delay_ms: i64 },
}

impl std::fmt::Display for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Op::SetAlarm { delay_ms } => write!(f, "setAlarm(now{delay_ms:+})"),
            Op::DeleteAlarm => f.write_str("deleteAlarm()"),
            Op::GetAlarm => f.write_str("getAlarm()"),
            Op::Put { key } => write!(f, "put({key})"),
            Op::SetAndPut { delay_ms, key } => write!(f, "setAlarm(now{delay_ms:+}) + put({key})"),
            Op::SetTwice { first_ms, second_ms } => write!(f, "setAlarm(now{first_ms:+}); setAlarm(now{second_ms:+})"),
            Op::DeleteAll { delete_alarm } => write!(f, "deleteAll(deleteAlarm={delete_alarm})"),
            Op::ScheduleNext { delay_ms } => write!(f, "scheduleNextAlarm({delay_ms})"),
        }
    }
}

/// One planned thing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Action {
    Op { client: u32, actor: usize, op: Op },
    Crash { node: Node, power: bool, downtime_ms: u64 },
    /// Cuts the link between `host` and one manager (`manager`), or every manager (`None`,
    /// the only one when the world has one namespace), for `ms`.
    Partition {
        host: usize,
        ms: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        manager: Option<Node>,
    },
    /// Job queue: `producer` enqueues job number `job` (its identity in the plan) for
    /// now + `delay_ms`; `script` says what each attempt of it will do.
    Enqueue { producer: usize, job: u32, delay_ms: i64, script: JobScript },
}

/// What one attempt of a job does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Attempt {
    Succeed,
    Throw,
    /// Crashes the process running it.
    Crash,
    /// Outlives its lease, then succeeds.
    Slow,
}

/// A job's behaviour: its work time and its attempts in order (after the last, it succeeds).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobScript {
    pub work_ms: u64,
    pub attempts: Vec<Attempt>,
}

impl JobScript {
    /// What attempt number `n` (0-based) does.
    pub fn attempt(&self, n: u32) -> Attempt {
        self.attempts.get(n as usize).copied().unwrap_or(Attempt::Succeed)
    }
}

impl std::fmt::Display for JobScript {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let attempts: Vec<&str> = self
            .attempts
            .iter()
            .map(|a| match a {
                Attempt::Succeed => "ok",
                Attempt::Throw => "throw",
                Attempt::Crash => "crash",
                Attempt::Slow => "slow",
            })
            .collect();
        write!(f, "work {}ms, attempts [{}]", self.work_ms, attempts.join(","))
    }
}

/// A step: an action at a simulated time (ms since the start).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub at_ms: u64,
    pub action: Action,
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.action {
            Action::Op { client, actor, op } => write!(f, "t={}ms client-{client} a{actor}: {op}", self.at_ms),
            Action::Crash { node, power, downtime_ms } => {
                let kind = if *power { "power loss" } else { "crash" };
                write!(f, "t={}ms {kind} of {node} for {downtime_ms}ms", self.at_ms)
            }
            Action::Partition { host, ms, manager: None } => write!(f, "t={}ms partition host-{host} <-> manager for {ms}ms", self.at_ms),
            Action::Partition { host, ms, manager: Some(m) } => write!(f, "t={}ms partition host-{host} <-> {m} for {ms}ms", self.at_ms),
            Action::Enqueue { producer, job, delay_ms, script } => {
                write!(f, "t={}ms producer-{producer} enqueue job-{job} for now{delay_ms:+}ms ({script})", self.at_ms)
            }
        }
    }
}

/// Everything a run does on purpose.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub scenario: String,
    pub variant: String,
    /// Seeds the per-actor random streams and the madsim executor.
    pub seed: u64,
    pub profile: FaultProfile,
    pub steps: Vec<Step>,
}

/// Why a plan cannot run on its scenario (`plan_check.rs`): the JSON path of the field, its
/// value, and what would be valid.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{path} = {value}: {expected}")]
pub struct PlanInvalid {
    /// The field's JSON path, e.g. `steps[3].action.actor`.
    pub path: String,
    pub value: String,
    /// What would be valid there.
    pub expected: String,
}

/// Why a plan file could not be used. Every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("cannot read the plan file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    /// `field` is the JSON path of the field that failed to parse (`.` for the whole file).
    #[error("{path} is not a valid alarmsim plan (at {field}: {source}); write one with `alarmsim shrink --out <file>`")]
    Parse { path: PathBuf, field: String, source: serde_json::Error },
    /// The plan parsed but does not fit its scenario (`plan_check.rs`).
    #[error("{path} cannot run on scenario {scenario}: {source}")]
    Invalid { path: PathBuf, scenario: String, source: PlanInvalid },
    #[error("cannot write the plan file {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}

impl Plan {
    /// The steps as a short numbered list.
    pub fn numbered(&self) -> String {
        self.steps.iter().enumerate().map(|(i, s)| format!("  {:>2}. {s}\n", i + 1)).collect()
    }

    pub fn load(path: &Path) -> Result<Plan, PlanError> {
        let text = std::fs::read_to_string(path).map_err(|source| PlanError::Read { path: path.to_path_buf(), source })?;
        let mut json = serde_json::Deserializer::from_str(&text);
        serde_path_to_error::deserialize(&mut json).map_err(|e| PlanError::Parse { path: path.to_path_buf(), field: e.path().to_string(), source: e.into_inner() })
    }

    /// Writes the plan as pretty JSON, creating missing directories.
    pub fn save(&self, path: &Path) -> Result<(), PlanError> {
        let write_err = |source| PlanError::Write { path: path.to_path_buf(), source };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(write_err)?;
        }
        let text = serde_json::to_string_pretty(self).expect("plans serialize");
        std::fs::write(path, text + "\n").map_err(write_err)
    }
}
