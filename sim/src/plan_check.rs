//! Checking a plan against its scenario before anything runs.
//!
//! A plan is user input (`replay --plan` reads a file anyone can edit), and the worlds trust
//! it: an actor index past the end panics inside the world, a zero sync interval panics in a
//! random draw, a step after the chaos phase silently never runs. A panic there used to be
//! reported as the scheduler's (`no-panic`), a false alarm that blames the user's code
//! (issue #16). [`validate`] refuses every such plan first, naming the JSON path of the bad
//! field, its value and what would be valid, so the run itself never meets one.
//!
//! One function per part of a plan; a new `Op`, `Action` or profile field is one more arm or
//! line in the function for its part.

use crate::call::{Call, MAX_TXN_DEPTH};
use crate::edge_profile::EdgeProfile;
use crate::node::Node;
pub use crate::plan::PlanInvalid;
use crate::plan::{Action, JobScript, Op, Plan, PlanError, Step};
use crate::profile::FaultProfile;
use crate::scenario::ScenarioSpec;
use crate::time_arg::{Sym, TimeArg, REPEAT_DEPTH};

/// The largest alarm or job delay a plan may ask for: 100 years of milliseconds, far past
/// any run and far from `i64`'s end, so `now + delay` never wraps.
pub const MAX_PLAN_DELAY_MS: i64 = 100 * 365 * 24 * 3_600_000;
/// A node's clock offset may be at most a day either way.
pub const MAX_CLOCK_OFFSET_MS: i64 = 24 * 3_600_000;
/// A node's clock drift may be at most 10 % either way (a clock that stops or runs backwards
/// is not a clock, and the world divides by `1 + drift`).
pub const MAX_CLOCK_DRIFT_PPM: i64 = 100_000;

impl Plan {
    /// Checks the plan against the scenario it runs on ([`validate`]); `path` is the file it
    /// came from, for the message.
    pub fn check_for(&self, spec: &ScenarioSpec, path: &std::path::Path) -> Result<(), PlanError> {
        // A plan drawn with knobs runs on its scenario re-weighted by them.
        let mut knobbed = self.knobs.map_or_else(|| spec.clone(), |k| k.apply(spec));
        knobbed.link = self.link;
        let spec = &knobbed;
        validate(self, spec).map_err(|source| PlanError::Invalid { path: path.to_path_buf(), scenario: spec.name.to_string(), source })
    }
}

/// Checks every field of `plan` against `spec`: indices of actors, clients, hosts, managers,
/// producers and workers; the clocks list; ranges with lo ≤ hi; probabilities in [0, 1];
/// step times inside the chaos phase; durations inside the run's horizon; intervals > 0.
pub fn validate(plan: &Plan, spec: &ScenarioSpec) -> Result<(), PlanInvalid> {
    let check = Check { spec, horizon_ms: spec.chaos_ms.saturating_add(spec.quiesce_limit_ms) };
    if plan.scenario != spec.name {
        return Err(invalid("scenario", &plan.scenario, format!("the scenario this plan is run on, {}", spec.name)));
    }
    check.profile(&plan.profile)?;
    let mut jobs = std::collections::BTreeSet::new();
    for (i, step) in plan.steps.iter().enumerate() {
        check.step(&format!("steps[{i}]"), step, &mut jobs)?;
    }
    Ok(())
}

fn invalid(path: &str, value: impl std::fmt::Display, expected: impl Into<String>) -> PlanInvalid {
    PlanInvalid { path: path.to_string(), value: value.to_string(), expected: expected.into() }
}

/// A probability field: from 0 to 1.
fn check_probability(path: &str, value: f64) -> Result<(), PlanInvalid> {
    if (0.0..=1.0).contains(&value) {
        return Ok(());
    }
    Err(invalid(path, value, "a probability from 0 to 1"))
}

struct Check<'a> {
    spec: &'a ScenarioSpec,
    /// The longest a run can last: the chaos phase plus the quiescence limit.
    horizon_ms: u64,
}

impl Check<'_> {
    fn profile(&self, p: &FaultProfile) -> Result<(), PlanInvalid> {
        for (name, rate) in [
            ("host_crashes_per_hour", p.host_crashes_per_hour),
            ("manager_crashes_per_hour", p.manager_crashes_per_hour),
            ("partitions_per_hour", p.partitions_per_hour),
        ] {
            if !(rate.is_finite() && rate >= 0.0) {
                return Err(invalid(&format!("profile.{name}"), rate, "a rate per hour: a finite number ≥ 0"));
            }
        }
        for (name, probability) in [
            ("power_loss_fraction", p.power_loss_fraction),
            ("commit_fail_before", p.commit_fail_before),
            ("commit_fail_after", p.commit_fail_after),
            ("link_drop_request", p.link_drop_request),
            ("link_drop_response", p.link_drop_response),
            ("link_duplicate", p.link_duplicate),
            ("statement_crash", p.statement_crash),
        ] {
            check_probability(&format!("profile.{name}"), probability)?;
        }
        for (name, range) in [
            ("partition_ms", p.partition_ms),
            ("downtime_ms", p.downtime_ms),
            ("commit_latency_ms", p.commit_latency_ms),
            ("link_latency_ms", p.link_latency_ms),
            ("zombie_delay_ms", p.zombie_delay_ms),
        ] {
            self.ms_range(&format!("profile.{name}"), range)?;
        }
        self.clocks(&p.clocks)?;
        self.edges(&p.edges)?;
        self.queue_faults(&p.queue)?;
        self.process_clocks(&p.process_clocks)?;
        if p.sync_interval_ms == 0 || p.sync_interval_ms > self.horizon_ms {
            let expected = format!("an interval from 1 to {} ms (the run's horizon)", self.horizon_ms);
            return Err(invalid("profile.sync_interval_ms", p.sync_interval_ms, expected));
        }
        Ok(())
    }

    /// The job-queue world's pauses and SQL faults: only in a job-queue scenario, rates ≥ 0,
    /// probabilities from 0 to 1, pauses within the run.
    fn queue_faults(&self, q: &crate::queue_fault_profile::QueueFaultProfile) -> Result<(), PlanInvalid> {
        if q.is_on() && self.spec.queue().is_none() {
            return Err(invalid("profile.queue", "zombie pauses or SQL faults", format!("no `queue` field: {} is not a job-queue scenario", self.spec.name)));
        }
        if !(q.pauses_per_hour.is_finite() && q.pauses_per_hour >= 0.0) {
            return Err(invalid("profile.queue.pauses_per_hour", q.pauses_per_hour, "a rate per hour: a finite number ≥ 0"));
        }
        for (name, probability) in [
            ("statement_pause", q.statement_pause),
            ("statement_error", q.statement_error),
            ("busy_streak", q.busy_streak),
            ("commit_fail", q.commit_fail),
        ] {
            check_probability(&format!("profile.queue.{name}"), probability)?;
        }
        if q.worker_slots > crate::queue_fault_profile::MAX_WORKER_SLOTS {
            return Err(invalid("profile.queue.worker_slots", q.worker_slots, format!("claims per worker from 1 to {}", crate::queue_fault_profile::MAX_WORKER_SLOTS)));
        }
        if q.replace_paused_after_ms > self.horizon_ms {
            let expected = format!("0 (never) or a wait from 1 to {} ms (the run's horizon)", self.horizon_ms);
            return Err(invalid("profile.queue.replace_paused_after_ms", q.replace_paused_after_ms, expected));
        }
        self.ms_range("profile.queue.pause_ms", q.pause_ms)
    }

    /// One clock per node that has one: the manager of namespace 0, each host, then the
    /// managers of namespaces 1.. ([`FaultProfile::clock_index`]).
    fn clocks(&self, clocks: &[(i64, i64)]) -> Result<(), PlanInvalid> {
        let expected_len = self.spec.hosts as usize + self.spec.namespaces as usize;
        if clocks.len() != expected_len {
            let expected = format!(
                "{expected_len} [offset_ms, drift_ppm] pairs: one for the manager, one per host ({}), one per further namespace ({})",
                self.spec.hosts,
                self.spec.namespaces - 1
            );
            return Err(invalid("profile.clocks", format!("a list of {}", clocks.len()), expected));
        }
        for (i, &(offset, drift)) in clocks.iter().enumerate() {
            if offset.unsigned_abs() > MAX_CLOCK_OFFSET_MS as u64 {
                return Err(invalid(&format!("profile.clocks[{i}][0]"), offset, format!("a clock offset from -{MAX_CLOCK_OFFSET_MS} to {MAX_CLOCK_OFFSET_MS} ms")));
            }
            if drift.unsigned_abs() > MAX_CLOCK_DRIFT_PPM as u64 {
                return Err(invalid(&format!("profile.clocks[{i}][1]"), drift, format!("a clock drift from -{MAX_CLOCK_DRIFT_PPM} to {MAX_CLOCK_DRIFT_PPM} ppm")));
            }
        }
        Ok(())
    }

    /// The job-queue processes' clocks: none (perfect clocks), or one per process, producers
    /// first, each ahead of the reference by 0 to a day (the queue's times are unsigned ms
    /// since the start, so no clock may read before it) and drifting by at most 10 %.
    fn process_clocks(&self, clocks: &[(i64, i64)]) -> Result<(), PlanInvalid> {
        if clocks.is_empty() {
            return Ok(());
        }
        let Some(queue) = self.spec.queue() else {
            return Err(invalid("profile.process_clocks", format!("a list of {}", clocks.len()), format!("no `process_clocks` field: {} is not a job-queue scenario", self.spec.name)));
        };
        let processes = (queue.producers + queue.workers) as usize;
        if clocks.len() != processes {
            let expected = format!("an empty list, or {processes} [offset_ms, drift_ppm] pairs: one per producer ({}), then one per worker ({})", queue.producers, queue.workers);
            return Err(invalid("profile.process_clocks", format!("a list of {}", clocks.len()), expected));
        }
        for (i, &(offset, drift)) in clocks.iter().enumerate() {
            if !(0..=MAX_CLOCK_OFFSET_MS).contains(&offset) {
                return Err(invalid(&format!("profile.process_clocks[{i}][0]"), offset, format!("a clock offset from 0 to {MAX_CLOCK_OFFSET_MS} ms (a process's clock never reads before the start)")));
            }
            if drift.unsigned_abs() > MAX_CLOCK_DRIFT_PPM as u64 {
                return Err(invalid(&format!("profile.process_clocks[{i}][1]"), drift, format!("a clock drift from -{MAX_CLOCK_DRIFT_PPM} to {MAX_CLOCK_DRIFT_PPM} ppm")));
            }
        }
        Ok(())
    }

    fn step(&self, path: &str, step: &Step, jobs: &mut std::collections::BTreeSet<u32>) -> Result<(), PlanInvalid> {
        // Steps belong to the chaos phase; one after it would silently never run.
        if step.at_ms >= self.spec.chaos_ms {
            return Err(invalid(&format!("{path}.at_ms"), step.at_ms, format!("a time inside the chaos phase, 0 to {} ms", self.spec.chaos_ms - 1)));
        }
        let path = format!("{path}.action");
        let queue = self.spec.queue();
        match &step.action {
            Action::Op { client, actor, op, .. } => {
                self.alarm_world(&path, "an op step")?;
                self.index(&format!("{path}.client"), *client as usize, self.spec.clients as usize, "client")?;
                self.index(&format!("{path}.actor"), *actor, self.spec.actors() as usize, "actor")?;
                self.op(&format!("{path}.op"), op)
            }
            Action::Crash { node, power: _, downtime_ms } => {
                self.node(&format!("{path}.node"), *node)?;
                self.ms(&format!("{path}.downtime_ms"), *downtime_ms)
            }
            Action::Partition { host, ms, manager } => {
                self.alarm_world(&path, "a partition step")?;
                self.index(&format!("{path}.host"), *host, self.spec.hosts as usize, "host")?;
                self.ms(&format!("{path}.ms"), *ms)?;
                match manager {
                    Some(node) if node.served_namespace().is_none() => {
                        Err(invalid(&format!("{path}.manager"), node, "a manager node (\"manager\", or {\"namespace-manager\": k}), or no manager field for every manager"))
                    }
                    Some(node) => self.node(&format!("{path}.manager"), *node),
                    None => Ok(()),
                }
            }
            Action::Pause { node, ms } => {
                if queue.is_none() {
                    return Err(invalid(&format!("{path}.kind"), "pause", format!("a step of an alarm scenario ({} is not a job-queue scenario)", self.spec.name)));
                }
                self.node(&format!("{path}.node"), *node)?;
                self.ms(&format!("{path}.ms"), *ms)
            }
            Action::Enqueue { producer, job, delay_ms, script } => {
                let Some(workload) = queue else {
                    return Err(invalid(&format!("{path}.kind"), "enqueue", format!("a step of an alarm scenario ({} is not a job-queue scenario)", self.spec.name)));
                };
                self.index(&format!("{path}.producer"), *producer, workload.producers as usize, "producer")?;
                if !jobs.insert(*job) {
                    return Err(invalid(&format!("{path}.job"), job, "a job number no earlier step of the plan enqueues"));
                }
                self.delay(&format!("{path}.delay_ms"), *delay_ms)?;
                self.script(&format!("{path}.script"), script)
            }
        }
    }

    fn op(&self, path: &str, op: &Op) -> Result<(), PlanInvalid> {
        match op {
            Op::SetAlarm { time } | Op::SetAndPut { time, .. } => self.time(&format!("{path}.time"), *time),
            Op::ScheduleNext { delay_ms } => self.delay(&format!("{path}.delay_ms"), *delay_ms),
            Op::SetTwice { first, second } => {
                self.time(&format!("{path}.first"), *first)?;
                self.time(&format!("{path}.second"), *second)
            }
            Op::Turn { calls } => {
                if calls.is_empty() {
                    return Err(invalid(&format!("{path}.calls"), "[]", "at least one call in the turn"));
                }
                for (i, call) in calls.iter().enumerate() {
                    self.call(&format!("{path}.calls[{i}]"), call, 0)?;
                }
                Ok(())
            }
            Op::DeleteAlarm | Op::GetAlarm | Op::Put { .. } | Op::DeleteAll { .. } => Ok(()),
        }
    }

    /// One call of a turn, `depth` explicit transactions deep.
    fn call(&self, path: &str, call: &Call, depth: usize) -> Result<(), PlanInvalid> {
        match call {
            Call::SetAlarm { time } => self.time(&format!("{path}.time"), *time),
            Call::ScheduleNext { delay_ms } => self.delay(&format!("{path}.delay_ms"), *delay_ms),
            Call::Txn { calls, .. } => {
                if depth + 1 > MAX_TXN_DEPTH {
                    return Err(invalid(&format!("{path}.calls"), "a transaction", format!("at most {MAX_TXN_DEPTH} transactions nested inside one another")));
                }
                for (i, inner) in calls.iter().enumerate() {
                    self.call(&format!("{path}.calls[{i}]"), inner, depth + 1)?;
                }
                Ok(())
            }
            Call::DeleteAlarm | Call::GetAlarm | Call::Put { .. } | Call::DeleteAll { .. } | Call::ExitRearm => Ok(()),
        }
    }

    /// An alarm time: a delay, or a symbol with an in-range fallback (and `back` within the
    /// actor's remembered writes).
    fn time(&self, path: &str, time: TimeArg) -> Result<(), PlanInvalid> {
        match time {
            TimeArg::Delay(ms) => self.delay(path, ms),
            TimeArg::Sym(Sym::Past { ms }) => self.delay(&format!("{path}.ms"), i64::try_from(ms).unwrap_or(i64::MAX)),
            TimeArg::Sym(Sym::Repeat { back, .. }) if !(1..=REPEAT_DEPTH as u8).contains(&back) => {
                Err(invalid(&format!("{path}.back"), back, format!("how many writes back to repeat: 1 to {REPEAT_DEPTH}")))
            }
            TimeArg::Sym(_) => match time.fallback_ms() {
                Some(ms) => self.delay(&format!("{path}.else_ms"), ms),
                None => Ok(()),
            },
        }
    }

    /// The edge-seeking options: probabilities in [0, 1], a finite burst rate ≥ 0.
    fn edges(&self, e: &EdgeProfile) -> Result<(), PlanInvalid> {
        if !(e.bursts_per_hour.is_finite() && e.bursts_per_hour >= 0.0) {
            return Err(invalid("profile.edges.bursts_per_hour", e.bursts_per_hour, "a rate per hour: a finite number ≥ 0"));
        }
        for (name, probability) in [("handler_scripts", e.handler_scripts), ("zero_duration", e.zero_duration)] {
            if !(0.0..=1.0).contains(&probability) {
                return Err(invalid(&format!("profile.edges.{name}"), probability, "a probability from 0 to 1"));
            }
        }
        Ok(())
    }

    fn script(&self, path: &str, script: &JobScript) -> Result<(), PlanInvalid> {
        self.ms(&format!("{path}.work_ms"), script.work_ms)
    }

    /// A node of this scenario's topology.
    fn node(&self, path: &str, node: Node) -> Result<(), PlanInvalid> {
        let spec = self.spec;
        let ok = match (node, spec.queue()) {
            (Node::Manager, None) => true,
            (Node::NamespaceManager(k), None) => spec.namespaces > 1 && k < spec.namespaces as usize,
            (Node::Host(h), None) => h < spec.hosts as usize,
            (Node::Producer(p), Some(q)) => p < q.producers as usize,
            (Node::Worker(w), Some(q)) => w < q.workers as usize,
            _ => false,
        };
        if ok {
            return Ok(());
        }
        let expected = match spec.queue() {
            Some(q) => format!("a process of this job-queue scenario: producer 0..{} or worker 0..{}", q.producers, q.workers),
            None if spec.namespaces > 1 => {
                format!("a node of this scenario: host 0..{} or namespace-manager 0..{}", spec.hosts, spec.namespaces)
            }
            None => format!("a node of this scenario: host 0..{} or \"manager\"", spec.hosts),
        };
        Err(invalid(path, node, expected))
    }

    fn alarm_world(&self, path: &str, what: &str) -> Result<(), PlanInvalid> {
        match self.spec.queue() {
            None => Ok(()),
            Some(_) => Err(invalid(&format!("{path}.kind"), what, format!("an enqueue or crash step ({} is a job-queue scenario)", self.spec.name))),
        }
    }

    fn index(&self, path: &str, value: usize, len: usize, what: &str) -> Result<(), PlanInvalid> {
        if value < len {
            return Ok(());
        }
        let expected = match len {
            0 => format!("nothing: scenario {} has no {what}s", self.spec.name),
            _ => {
                let article = if what.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
                format!("{article} {what} of scenario {}: 0 to {} ({len} {what}s)", self.spec.name, len - 1)
            }
        };
        Err(invalid(path, value, expected))
    }

    /// A duration: at most the run's horizon (a longer one would outlast the run).
    fn ms(&self, path: &str, value: u64) -> Result<(), PlanInvalid> {
        if value <= self.horizon_ms {
            return Ok(());
        }
        Err(invalid(path, value, format!("a duration from 0 to {} ms (the run's horizon: chaos phase plus quiescence limit)", self.horizon_ms)))
    }

    fn ms_range(&self, path: &str, (lo, hi): (u64, u64)) -> Result<(), PlanInvalid> {
        if lo > hi {
            return Err(invalid(path, format!("[{lo}, {hi}]"), "a range [lo, hi] with lo ≤ hi"));
        }
        self.ms(&format!("{path}[1]"), hi)
    }

    /// An alarm or job delay relative to now (negative: in the past).
    fn delay(&self, path: &str, value: i64) -> Result<(), PlanInvalid> {
        if value.unsigned_abs() <= MAX_PLAN_DELAY_MS as u64 {
            return Ok(());
        }
        Err(invalid(path, value, format!("a delay from -{MAX_PLAN_DELAY_MS} to {MAX_PLAN_DELAY_MS} ms (100 years)")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_names_the_path_the_value_and_what_is_valid() {
        let e = invalid("steps[3].action.actor", 999, "an actor of scenario s: 0 to 5 (6 actors)");
        assert_eq!(e.to_string(), "steps[3].action.actor = 999: an actor of scenario s: 0 to 5 (6 actors)");
    }
}
