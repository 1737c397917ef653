//! A plan: everything a run does on purpose. The fault profile (latencies, loss and failure
//! rates, clocks) plus a timed list of steps: client operations, crashes, partitions.
//!
//! Every run starts from a plan. A seed generates one ([`Plan::generate`]); the shrinker
//! removes steps and switches faults off while the failure persists; a saved plan runs again
//! with `alarmsim replay --plan <file>` (Turso's simulator shrinks plans the same way).
//!
//! What the plan does not fix — each message's latency and fate, each handler's behaviour —
//! is drawn during the run from per-actor random streams derived from the seed, so removing
//! a step for one actor does not change what happens to the others.

use crate::profile::FaultProfile;
use crate::scenario::ScenarioSpec;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// A node of the simulated topology.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Node {
    /// The alarm manager of a world with one namespace (`manager`).
    Manager,
    /// The alarm manager of namespace `k` in a world with several (`manager-<k>`). A variant
    /// of its own, so single-namespace plans keep their names and their JSON (`"manager"`).
    NamespaceManager(usize),
    Host(usize),
    /// A job-queue process that enqueues.
    Producer(usize),
    /// A job-queue process that claims and runs jobs.
    Worker(usize),
}

impl std::fmt::Display for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Node::Manager => f.write_str("manager"),
            Node::NamespaceManager(k) => write!(f, "manager-{k}"),
            Node::Host(h) => write!(f, "host-{h}"),
            Node::Producer(p) => write!(f, "producer-{p}"),
            Node::Worker(w) => write!(f, "worker-{w}"),
        }
    }
}

impl Node {
    /// The manager node of `namespace` in a world of `namespaces` namespaces.
    pub fn manager_of(namespace: usize, namespaces: u32) -> Node {
        if namespaces == 1 {
            Node::Manager
        } else {
            Node::NamespaceManager(namespace)
        }
    }

    /// The namespace a manager node serves; `None` for every other node.
    pub fn served_namespace(self) -> Option<usize> {
        match self {
            Node::Manager => Some(0),
            Node::NamespaceManager(k) => Some(k),
            Node::Host(_) | Node::Producer(_) | Node::Worker(_) => None,
        }
    }
}

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

/// Why a plan file could not be used. Every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("cannot read the plan file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path} is not a valid alarmsim plan ({source}); write one with `alarmsim shrink --out <file>`")]
    Parse { path: PathBuf, source: serde_json::Error },
    #[error("cannot write the plan file {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}

impl Plan {
    /// The plan a seed stands for: the fault profile, then the client operations and node
    /// faults of the chaos phase, in time order.
    pub fn generate(spec: &ScenarioSpec, variant: &str, seed: u64) -> Plan {
        if let Some(workload) = spec.queue() {
            return crate::queue::plan::generate(spec, workload, variant, seed);
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let profile = FaultProfile::draw(spec, &mut rng);
        let mut steps = client_ops(spec, &mut rng);
        for host in 0..spec.hosts as usize {
            node_faults(&mut steps, &profile, Node::Host(host), profile.host_crashes_per_hour, spec.chaos_ms, &mut rng);
            partitions(&mut steps, &profile, host, spec, &mut rng);
        }
        // Each namespace's manager crashes on its own, at the profile's rate. Namespace 0's
        // draws come first, where the single manager's always were.
        for namespace in 0..spec.namespaces as usize {
            let node = Node::manager_of(namespace, spec.namespaces);
            node_faults(&mut steps, &profile, node, profile.manager_crashes_per_hour, spec.chaos_ms, &mut rng);
        }
        steps.sort_by_key(|s| s.at_ms); // Stable: equal times keep their generation order.
        Plan { scenario: spec.name.to_string(), variant: variant.to_string(), seed, profile, steps }
    }

    /// The steps as a short numbered list.
    pub fn numbered(&self) -> String {
        self.steps.iter().enumerate().map(|(i, s)| format!("  {:>2}. {s}\n", i + 1)).collect()
    }

    pub fn load(path: &Path) -> Result<Plan, PlanError> {
        let text = std::fs::read_to_string(path).map_err(|source| PlanError::Read { path: path.to_path_buf(), source })?;
        serde_json::from_str(&text).map_err(|source| PlanError::Parse { path: path.to_path_buf(), source })
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

fn client_ops(spec: &ScenarioSpec, rng: &mut ChaCha8Rng) -> Vec<Step> {
    let per_client = (spec.ops / spec.clients.max(1)).max(1) as u64;
    let gap = (2 * spec.chaos_ms / per_client).max(1);
    let actors = spec.actors() as usize;
    let w = spec.op_weights;
    let weights = [w.set_alarm, w.delete_alarm, w.get_alarm, w.put, w.set_and_put, w.set_twice, w.delete_all, w.schedule_next];
    let mut steps = Vec::new();
    for client in 0..spec.clients {
        let mut at = rng.random_range(0..=gap);
        while at < spec.chaos_ms {
            let actor = rng.random_range(0..actors);
            let delay = |rng: &mut ChaCha8Rng| rng.random_range(spec.alarm_delay_ms.lo..=spec.alarm_delay_ms.hi);
            let key = |rng: &mut ChaCha8Rng| format!("k{}", rng.random_range(0..4));
            let op = match pick(rng, &weights) {
                0 => Op::SetAlarm { delay_ms: delay(rng) },
                1 => Op::DeleteAlarm,
                2 => Op::GetAlarm,
                3 => Op::Put { key: key(rng) },
                4 => Op::SetAndPut { delay_ms: delay(rng), key: key(rng) },
                5 => Op::SetTwice { first_ms: delay(rng), second_ms: delay(rng) },
                6 => Op::DeleteAll { delete_alarm: rng.random_bool(0.5) },
                _ => Op::ScheduleNext { delay_ms: delay(rng).max(0) },
            };
            steps.push(Step { at_ms: at, action: Action::Op { client, actor, op } });
            at += rng.random_range(1..=gap);
        }
    }
    // The scenario's operation budget: the earliest `ops` operations of all clients.
    steps.sort_by_key(|s| s.at_ms);
    steps.truncate(spec.ops as usize);
    steps
}

fn count(rng: &mut ChaCha8Rng, per_hour: f64, chaos_ms: u64) -> u64 {
    if per_hour <= 0.0 {
        return 0;
    }
    let expected = per_hour * chaos_ms as f64 / 3_600_000.0;
    expected.floor() as u64 + u64::from(rng.random_bool(expected.fract()))
}

pub(crate) fn node_faults(steps: &mut Vec<Step>, profile: &FaultProfile, node: Node, per_hour: f64, chaos_ms: u64, rng: &mut ChaCha8Rng) {
    for _ in 0..count(rng, per_hour, chaos_ms) {
        let at_ms = rng.random_range(0..chaos_ms);
        let power = rng.random_bool(profile.power_loss_fraction.clamp(0.0, 1.0));
        let downtime_ms = rng.random_range(profile.downtime_ms.0..=profile.downtime_ms.1);
        steps.push(Step { at_ms, action: Action::Crash { node, power, downtime_ms } });
    }
}

/// A host's partitions. With several namespaces each cuts the host off from one manager, drawn
/// uniformly (managers sit on different machines, so one link fails while the others work;
/// overlapping draws cut several). With one namespace nothing more is drawn, so those plans are
/// what they always were.
fn partitions(steps: &mut Vec<Step>, profile: &FaultProfile, host: usize, spec: &ScenarioSpec, rng: &mut ChaCha8Rng) {
    let chaos_ms = spec.chaos_ms;
    for _ in 0..count(rng, profile.partitions_per_hour, chaos_ms) {
        let at_ms = rng.random_range(0..chaos_ms);
        let ms = rng.random_range(profile.partition_ms.0..=profile.partition_ms.1);
        let manager = (spec.namespaces > 1).then(|| Node::NamespaceManager(rng.random_range(0..spec.namespaces as usize)));
        steps.push(Step { at_ms, action: Action::Partition { host, ms, manager } });
    }
}

/// Picks an index with probability proportional to its weight.
pub fn pick(rng: &mut ChaCha8Rng, weights: &[u32]) -> usize {
    let total: u32 = weights.iter().sum();
    assert!(total > 0, "a weight table must not be all zero");
    let mut roll = rng.random_range(0..total);
    for (i, &w) in weights.iter().enumerate() {
        if roll < w {
            return i;
        }
        roll -= w;
    }
    unreachable!("roll < total")
}
