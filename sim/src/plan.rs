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

use crate::call::{show_calls, Call};
use crate::draws::count;
pub use crate::node::Node;
use crate::profile::FaultProfile;
use crate::time_arg::{ArgKind, TimeArg};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// A client operation on one actor. Alarm times are [`TimeArg`]s: a delay relative to the
/// actor's clock at the time, or a symbol resolved against the actor's live state then.
/// (Plans saved before symbols existed spell a delay `delay_ms`, `first_ms`, `second_ms`; they
/// load with their old meaning.)
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum Op {
    SetAlarm {
        #[serde(alias = "delay_ms")]
        time: TimeArg,
    },
    DeleteAlarm,
    GetAlarm,
    Put { key: String },
    /// `setAlarm` and a put in one turn (R6).
    SetAndPut {
        #[serde(alias = "delay_ms")]
        time: TimeArg,
        key: String,
    },
    /// Two `setAlarm` calls in one turn.
    SetTwice {
        #[serde(alias = "first_ms")]
        first: TimeArg,
        #[serde(alias = "second_ms")]
        second: TimeArg,
    },
    DeleteAll { delete_alarm: bool },
    /// A container-style `scheduleNextAlarm(delay)` (containers #191).
    ScheduleNext { delay_ms: i64 },
    /// Several storage calls in one turn (set and delete together, deleteAll beside a set, …).
    Turn { calls: Vec<Call> },
}

impl Op {
    /// Every alarm-time argument of the operation, for the shrinker to simplify.
    pub fn time_args_mut(&mut self) -> Vec<&mut TimeArg> {
        match self {
            Op::SetAlarm { time } | Op::SetAndPut { time, .. } => vec![time],
            Op::SetTwice { first, second } => vec![first, second],
            Op::Turn { calls } => calls.iter_mut().flat_map(Call::time_args_mut).collect(),
            Op::DeleteAlarm | Op::GetAlarm | Op::Put { .. } | Op::DeleteAll { .. } | Op::ScheduleNext { .. } => Vec::new(),
        }
    }
}

impl Op {
    /// The storage calls the operation makes, in order, in one turn.
    pub fn into_calls(self) -> Vec<Call> {
        match self {
            Op::SetAlarm { time } => vec![Call::SetAlarm { time }],
            Op::DeleteAlarm => vec![Call::DeleteAlarm],
            Op::GetAlarm => vec![Call::GetAlarm],
            Op::Put { key } => vec![Call::Put { key }],
            Op::SetAndPut { time, key } => vec![Call::SetAlarm { time }, Call::Put { key }],
            Op::SetTwice { first, second } => vec![Call::SetAlarm { time: first }, Call::SetAlarm { time: second }],
            Op::DeleteAll { delete_alarm } => vec![Call::DeleteAll { delete_alarm }],
            Op::ScheduleNext { delay_ms } => vec![Call::ScheduleNext { delay_ms }],
            Op::Turn { calls } => calls,
        }
    }

    /// Turns every `setAlarm(none)` of the operation into a plain `deleteAlarm()` (what it
    /// means); true if there was one.
    fn deletes_instead(&mut self) -> bool {
        let none = |t: &TimeArg| t.kind() == ArgKind::Delete;
        match self {
            Op::SetAlarm { time } if none(time) => {
                *self = Op::DeleteAlarm;
                true
            }
            Op::SetAndPut { time, key } if none(time) => {
                *self = Op::Turn { calls: vec![Call::DeleteAlarm, Call::Put { key: std::mem::take(key) }] };
                true
            }
            Op::SetTwice { first, second } if none(first) || none(second) => {
                let call = |t: TimeArg| if none(&t) { Call::DeleteAlarm } else { Call::SetAlarm { time: t } };
                *self = Op::Turn { calls: vec![call(*first), call(*second)] };
                true
            }
            Op::Turn { calls } => calls_delete_instead(calls),
            _ => false,
        }
    }
}

/// [`Op::deletes_instead`] for the calls of a turn, inside transactions too.
fn calls_delete_instead(calls: &mut [Call]) -> bool {
    let mut changed = false;
    for c in calls.iter_mut() {
        match c {
            Call::SetAlarm { time } if time.kind() == ArgKind::Delete => {
                *c = Call::DeleteAlarm;
                changed = true;
            }
            Call::Txn { calls, .. } => changed |= calls_delete_instead(calls),
            _ => {}
        }
    }
    changed
}

impl std::fmt::Display for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Op::SetAlarm { time } => write!(f, "setAlarm({time})"),
            Op::DeleteAlarm => f.write_str("deleteAlarm()"),
            Op::GetAlarm => f.write_str("getAlarm()"),
            Op::Put { key } => write!(f, "put({key})"),
            Op::SetAndPut { time, key } => write!(f, "setAlarm({time}) + put({key})"),
            Op::SetTwice { first, second } => write!(f, "setAlarm({first}); setAlarm({second})"),
            Op::DeleteAll { delete_alarm } => write!(f, "deleteAll(deleteAlarm={delete_alarm})"),
            Op::ScheduleNext { delay_ms } => write!(f, "scheduleNextAlarm({delay_ms})"),
            Op::Turn { calls } => write!(f, "{} in one turn", show_calls(calls)),
        }
    }
}

/// One planned thing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Action {
    Op {
        client: u32,
        actor: usize,
        op: Op,
        /// The turn writes with `allowUnconfirmed` (R6): the output gate does not wait for its
        /// commit. Plans saved before this existed load as confirmed writes.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        unconfirmed: bool,
    },
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
    /// Job queue: `node` stops where it is (at its next statement boundary: in the middle of
    /// a job, or between the read and the write of one operation) and resumes exactly there
    /// `ms` later. Nothing is lost: its connection, locks and claims stay, but its leases may
    /// expire meanwhile and another worker take its jobs over (a zombie, issue 13).
    Pause { node: Node, ms: u64 },
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
    /// Outlives its lease, then throws: a stale owner's `fail` (it must be fenced).
    SlowThrow,
    /// Runs until a moment (up to [`DEADLINE_MARGIN_MS`]) before its lease ends on its
    /// worker's own clock, then succeeds: a job whose timeout is just under the lease. With
    /// skewed clocks another process may already have taken it back (issue 13 item 3).
    Deadline,
    /// The same, then throws.
    DeadlineThrow,
}

/// A deadline attempt finishes between 1 ms and this long before its lease ends (on its own
/// clock): within the skew the queue scenarios draw between two processes' clocks.
pub const DEADLINE_MARGIN_MS: u64 = 500;

impl Attempt {
    /// Whether the attempt outlives its lease.
    pub fn is_slow(self) -> bool {
        matches!(self, Attempt::Slow | Attempt::SlowThrow)
    }

    /// Whether the attempt runs to just before its lease ends.
    pub fn is_deadline(self) -> bool {
        matches!(self, Attempt::Deadline | Attempt::DeadlineThrow)
    }

    /// Whether the attempt ends by calling `fail`.
    pub fn throws(self) -> bool {
        matches!(self, Attempt::Throw | Attempt::SlowThrow | Attempt::DeadlineThrow)
    }
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
                Attempt::SlowThrow => "slow-throw",
                Attempt::Deadline => "deadline",
                Attempt::DeadlineThrow => "deadline-throw",
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
            Action::Op { client, actor, op, unconfirmed } => {
                let suffix = if *unconfirmed { " (allowUnconfirmed)" } else { "" };
                write!(f, "t={}ms client-{client} a{actor}: {op}{suffix}", self.at_ms)
            }
            Action::Crash { node, power, downtime_ms } => {
                let kind = if *power { "power loss" } else { "crash" };
                write!(f, "t={}ms {kind} of {node} for {downtime_ms}ms", self.at_ms)
            }
            Action::Partition { host, ms, manager: None } => write!(f, "t={}ms partition host-{host} <-> manager for {ms}ms", self.at_ms),
            Action::Partition { host, ms, manager: Some(m) } => write!(f, "t={}ms partition host-{host} <-> {m} for {ms}ms", self.at_ms),
            Action::Enqueue { producer, job, delay_ms, script } => {
                write!(f, "t={}ms producer-{producer} enqueue job-{job} for now{delay_ms:+}ms ({script})", self.at_ms)
            }
            Action::Pause { node, ms } => write!(f, "t={}ms pause {node} for {ms}ms", self.at_ms),
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
    /// The knobs the plan was drawn with (`knobs.rs`; `sweep --guided` chooses them): the
    /// scenario is re-weighted by them before the plan runs. Absent: the scenario as it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub knobs: Option<crate::knobs::Knobs>,
    /// Coverage probes the plan was shrunk to reach (`shrink --reach`); `replay --plan` says
    /// whether it still does. Names are checked against the variant's declared probes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reaches: Vec<String>,
    /// The link the plan was drawn for (`LinkModel`); absent: the RPC link.
    #[serde(default, skip_serializing_if = "is_rpc")]
    pub link: crate::scenario::LinkModel,
}

fn is_rpc(link: &crate::scenario::LinkModel) -> bool {
    *link == crate::scenario::LinkModel::Rpc
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
    #[error("{path} is not a valid alarmsim plan: at {field}: {source}; write one with `alarmsim shrink --out <file>`")]
    Parse {
        path: PathBuf,
        /// The JSON path of the field that failed (`steps[3].action`), `.` for the whole file.
        field: String,
        source: serde_json::Error,
    },
    /// The plan parsed but does not fit its scenario (`plan_check.rs`).
    #[error("{path} cannot run on scenario {scenario}: {source}")]
    Invalid { path: PathBuf, scenario: String, source: PlanInvalid },
    #[error("cannot write the plan file {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}

impl Plan {
    /// Switches off edge-seeking knob `knob` (`EdgeProfile::switch_off`), for the shrinker: the
    /// handler scripts, or one symbolic argument kind, whose arguments in the steps become
    /// their fallback delays (a `none` argument becomes a plain delete). False if it was off.
    pub fn switch_off_edge(&mut self, knob: usize) -> bool {
        let mut changed = self.profile.edges.switch_off(knob);
        if knob == 0 {
            return changed;
        }
        let kind = crate::edge_profile::EdgeProfile::knob_kind(knob);
        for step in &mut self.steps {
            let Action::Op { op, .. } = &mut step.action else { continue };
            if kind == ArgKind::Delete {
                changed |= op.deletes_instead();
            }
            for arg in op.time_args_mut() {
                if arg.kind() == kind {
                    *arg = TimeArg::Delay(arg.fallback_ms().expect("only `none` has no fallback, handled above"));
                    changed = true;
                }
            }
        }
        changed
    }

    /// The steps as a short numbered list.
    pub fn numbered(&self) -> String {
        self.steps.iter().enumerate().map(|(i, s)| format!("  {:>2}. {s}\n", i + 1)).collect()
    }

    pub fn load(path: &Path) -> Result<Plan, PlanError> {
        let text = std::fs::read_to_string(path).map_err(|source| PlanError::Read { path: path.to_path_buf(), source })?;
        Plan::from_json(&text).map_err(|(field, source)| PlanError::Parse { path: path.to_path_buf(), field, source })
    }

    /// Parses a plan, naming the JSON path of the first field that does not fit on error.
    pub fn from_json(text: &str) -> Result<Plan, (String, serde_json::Error)> {
        let de = &mut serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(de).map_err(|e| (e.path().to_string(), e.into_inner()))
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

/// A node's crashes (and power losses) during the chaos phase, at `per_hour`.
pub(crate) fn crash_steps(steps: &mut Vec<Step>, profile: &FaultProfile, node: Node, per_hour: f64, chaos_ms: u64, rng: &mut ChaCha8Rng) {
    for _ in 0..count(rng, per_hour, chaos_ms) {
        let at_ms = rng.random_range(0..chaos_ms);
        let power = rng.random_bool(profile.power_loss_fraction.clamp(0.0, 1.0));
        let downtime_ms = rng.random_range(profile.downtime_ms.0..=profile.downtime_ms.1);
        steps.push(Step { at_ms, action: Action::Crash { node, power, downtime_ms } });
    }
}

/// Planned pauses of `node` (zombie processes, issue 13): `pauses_per_hour` over the chaos
/// phase, each as long as a draw of [`QueueFaultProfile::draw_pause`](crate::queue_fault_profile::QueueFaultProfile::draw_pause).
pub(crate) fn pause_steps(steps: &mut Vec<Step>, node: Node, faults: &crate::queue_fault_profile::QueueFaultProfile, chaos_ms: u64, rng: &mut ChaCha8Rng) {
    for _ in 0..count(rng, faults.pauses_per_hour, chaos_ms) {
        let at_ms = rng.random_range(0..chaos_ms);
        let ms = faults.draw_pause(rng);
        steps.push(Step { at_ms, action: Action::Pause { node, ms } });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time_arg::Sym;

    /// A plan as a version before symbolic times wrote it (fields `delay_ms`, `first_ms`,
    /// `second_ms`, no `edges` in the profile).
    const OLD_PLAN: &str = r#"{
      "scenario": "standard", "variant": "reference", "seed": 4,
      "profile": {"durability": "Full", "host_crashes_per_hour": 0.0, "manager_crashes_per_hour": 0.0,
        "power_loss_fraction": 0.0, "partitions_per_hour": 0.0, "partition_ms": [1, 2], "downtime_ms": [1, 2],
        "commit_latency_ms": [1, 2], "commit_fail_before": 0.0, "commit_fail_after": 0.0, "link_latency_ms": [1, 2],
        "link_drop_request": 0.0, "link_drop_response": 0.0, "link_duplicate": 0.0, "zombie_delay_ms": [1, 2],
        "clocks": [[0, 0]], "sync_interval_ms": 1000},
      "steps": [
        {"at_ms": 10, "action": {"kind": "op", "client": 0, "actor": 1, "op": {"op": "set-alarm", "delay_ms": 1500}}},
        {"at_ms": 20, "action": {"kind": "op", "client": 0, "actor": 1, "op": {"op": "set-twice", "first_ms": -5, "second_ms": 7}}},
        {"at_ms": 30, "action": {"kind": "op", "client": 1, "actor": 0, "op": {"op": "set-and-put", "delay_ms": 3, "key": "k1"}}}
      ]
    }"#;

    #[test]
    fn a_plan_saved_before_symbolic_times_loads_with_its_old_meaning() {
        let plan = Plan::from_json(OLD_PLAN).expect("an old plan loads");
        let ops: Vec<&Op> = plan.steps.iter().map(|s| match &s.action {
            Action::Op { op, .. } => op,
            other => panic!("not an op: {other:?}"),
        }).collect();
        assert_eq!(ops[0], &Op::SetAlarm { time: TimeArg::Delay(1500) });
        assert_eq!(ops[1], &Op::SetTwice { first: TimeArg::Delay(-5), second: TimeArg::Delay(7) });
        assert_eq!(ops[2], &Op::SetAndPut { time: TimeArg::Delay(3), key: "k1".to_string() });
        assert!(!plan.profile.edges.is_on(), "no edge options in an old plan: they are off");
        // Saved again, it uses today's spelling and reads back the same.
        let again = Plan::from_json(&serde_json::to_string(&plan).unwrap()).unwrap();
        assert_eq!(again, plan);
    }

    #[test]
    fn an_unknown_symbol_is_an_error_naming_the_field() {
        let bad = OLD_PLAN.replace(r#""delay_ms": 1500"#, r#""time": {"sym": "yesterday"}"#);
        let (field, error) = Plan::from_json(&bad).expect_err("an unknown symbol is refused");
        // serde reads a tagged enum's tag first, so the path stops at the action; the message
        // says what was wrong inside it.
        assert_eq!(field, "steps[0].action");
        assert!(error.to_string().contains("alarm time: unknown variant `yesterday`, expected one of `now`"), "{error}");
        let path = std::path::Path::new("/nonexistent/plan.json");
        let message = PlanError::Parse { path: path.to_path_buf(), field, source: error }.to_string();
        assert!(message.contains("/nonexistent/plan.json") && message.contains("at steps[0].action: alarm time"), "{message}");
    }

    #[test]
    fn switching_an_argument_kind_off_turns_its_arguments_into_their_delays() {
        let mut plan = Plan::from_json(OLD_PLAN).unwrap();
        plan.profile.edges.args.insert(ArgKind::Stored, 5);
        plan.profile.edges.args.insert(ArgKind::Delete, 5);
        let Action::Op { op, .. } = &mut plan.steps[0].action else { unreachable!() };
        *op = Op::SetAlarm { time: TimeArg::Sym(Sym::Stored { else_ms: 900 }) };
        let Action::Op { op, .. } = &mut plan.steps[2].action else { unreachable!() };
        *op = Op::SetAndPut { time: TimeArg::Sym(Sym::Delete), key: "k1".to_string() };
        let stored = 1 + ArgKind::symbolic().position(|k| k == ArgKind::Stored).unwrap();
        let delete = 1 + ArgKind::symbolic().position(|k| k == ArgKind::Delete).unwrap();
        assert!(plan.switch_off_edge(stored));
        assert!(plan.switch_off_edge(delete));
        assert!(!plan.switch_off_edge(stored), "already off");
        let Action::Op { op, .. } = &plan.steps[0].action else { unreachable!() };
        assert_eq!(op, &Op::SetAlarm { time: TimeArg::Delay(900) });
        let Action::Op { op, .. } = &plan.steps[2].action else { unreachable!() };
        assert_eq!(op, &Op::Turn { calls: vec![Call::DeleteAlarm, Call::Put { key: "k1".to_string() }] });
    }
}
