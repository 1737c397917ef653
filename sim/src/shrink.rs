//! Shrinking a failing plan to a minimal one that still fails the same invariant.
//!
//! Plan-level delta debugging, as the Turso simulator does:
//! 1. drop every step after the violation (it cannot have caused it);
//! 2. `ddmin` over the steps (Zeller's algorithm: remove chunks, halving their size);
//! 3. switch off each probabilistic fault (loss, duplication, commit failures, clock skew)
//!    that the failure does not need, then each edge-seeking option (handler scripts, each
//!    kind of symbolic alarm time, whose arguments become plain delays);
//! 4. `ddmin` again (fewer faults often make more steps removable).
//!
//! The oracle reruns the plan untraced; determinism makes every answer reproducible. The
//! per-actor random streams (see `plan.rs`) keep the oracle stable while other actors' steps
//! disappear.

use crate::plan::Plan;
use crate::report::RunReport;
use crate::run::run_plan;
use crate::scenario::{Invariant, ScenarioSpec};
use crate::subject::Subject;
use std::time::{Duration, Instant};

/// How much work a shrink may do.
#[derive(Clone, Copy, Debug)]
pub struct ShrinkLimits {
    pub max_runs: u32,
    pub max_time: Duration,
}

impl Default for ShrinkLimits {
    fn default() -> ShrinkLimits {
        ShrinkLimits { max_runs: 3_000, max_time: Duration::from_secs(120) }
    }
}

/// The result of a shrink.
#[derive(Clone, Debug)]
pub struct Shrunk {
    pub invariant: Invariant,
    pub original_steps: usize,
    /// The minimal plan found.
    pub plan: Plan,
    /// Its traced run (still failing `invariant`).
    pub report: RunReport,
    /// Oracle runs used.
    pub runs: u32,
    pub elapsed: Duration,
    /// Whether a limit stopped the search before it finished.
    pub hit_limit: bool,
}

impl Shrunk {
    /// The minimal interleaving as a short numbered list: the plan's steps, the faults left
    /// on, the violation, and the violating actor's events.
    pub fn summary(&self) -> String {
        let violation = self.report.violation.as_ref().expect("a shrunk plan fails");
        let mut out = format!(
            "minimal plan: {} of {} steps still fail {} ({} runs, {:.1} s{})\n",
            self.plan.steps.len(),
            self.original_steps,
            self.invariant,
            self.runs,
            self.elapsed.as_secs_f64(),
            if self.hit_limit { ", stopped at a limit" } else { "" }
        );
        out.push_str(&self.plan.numbered());
        out.push_str(&format!("  faults left on: {}\n", self.plan.profile.active_faults()));
        out.push_str(&format!("  violation: {violation}\n"));
        if let Some(actor) = &violation.actor {
            let events: Vec<_> = self.report.trace.events.iter().filter(|e| e.actor.as_deref() == Some(actor.as_str())).collect();
            let start = events.len().saturating_sub(20);
            out.push_str(&format!("  what {actor} saw (last {} events):\n", events.len() - start));
            for (i, e) in events[start..].iter().enumerate() {
                out.push_str(&format!("  {:>2}. t={}ms {} {}\n", i + 1, e.t, e.node, e.what));
            }
        }
        out
    }
}

/// Shrinks `plan`, which must fail under `factory`. Returns `None` if it passes.
pub fn shrink(spec: &ScenarioSpec, subject: impl Into<Subject>, plan: Plan, limits: ShrinkLimits) -> Option<Shrunk> {
    let factory = subject.into();
    let started = Instant::now();
    let first = run_plan(spec, factory.clone(), plan.clone(), false);
    let violation = first.violation?;
    let invariant = violation.invariant;
    let original_steps = plan.steps.len();
    let mut oracle = Oracle { spec, factory: factory.clone(), goal: Goal::Fails(invariant), runs: 1, limits, started, hit_limit: false };
    // Nothing after the violation can have caused it.
    let best = minimise(&mut oracle, plan, Some(violation.at_ms));
    let report = run_plan(spec, factory, best.clone(), true);
    assert_eq!(
        report.violation.as_ref().map(|v| v.invariant),
        Some(invariant),
        "the shrunk plan must still fail {invariant} when replayed with its trace (determinism)"
    );
    Some(Shrunk { invariant, original_steps, plan: best, report, runs: oracle.runs + 1, elapsed: started.elapsed(), hit_limit: oracle.hit_limit })
}

/// A plan shrunk to the fewest steps and faults that still reach a coverage probe.
#[derive(Clone, Debug)]
pub struct ShrunkToProbe {
    pub probe: String,
    pub original_steps: usize,
    /// The minimal plan found; its `reaches` names the probe.
    pub plan: Plan,
    /// Its traced run (still reaching the probe), with coverage counted.
    pub report: RunReport,
    pub runs: u32,
    pub elapsed: Duration,
    pub hit_limit: bool,
}

/// Shrinks `plan` to a minimal one that still reaches coverage probe `probe` (a rare
/// condition made small enough to read: `shrink --reach`). `None` if `plan` does not reach it.
pub fn shrink_to_reach(spec: &ScenarioSpec, subject: impl Into<Subject>, plan: Plan, probe: &str, limits: ShrinkLimits) -> Option<ShrunkToProbe> {
    let factory = subject.into();
    let started = Instant::now();
    let mut oracle = Oracle { spec, factory: factory.clone(), goal: Goal::Reaches(probe.to_string()), runs: 0, limits, started, hit_limit: false };
    if !oracle.holds(&plan) {
        return None;
    }
    let original_steps = plan.steps.len();
    let mut best = minimise(&mut oracle, plan, None);
    best.reaches = vec![probe.to_string()];
    let report = run_plan(spec, factory, best.clone(), crate::run_options::RunOptions { keep_trace: true, coverage: true });
    assert!(report.coverage.count(probe) > 0, "the shrunk plan must still reach {probe} when replayed with its trace (determinism)");
    Some(ShrunkToProbe { probe: probe.to_string(), original_steps, plan: best, report, runs: oracle.runs + 1, elapsed: started.elapsed(), hit_limit: oracle.hit_limit })
}

/// The shrinking passes, for any goal: drop the steps after `cut_after_ms` (if given), ddmin
/// the steps, switch off each fault and edge knob the goal does not need, ddmin again.
fn minimise(oracle: &mut Oracle<'_>, plan: Plan, cut_after_ms: Option<u64>) -> Plan {
    let mut best = plan;
    if let Some(at_ms) = cut_after_ms {
        let cut: Vec<_> = best.steps.iter().filter(|s| s.at_ms <= at_ms).cloned().collect();
        if cut.len() < best.steps.len() && oracle.holds(&Plan { steps: cut.clone(), ..best.clone() }) {
            best.steps = cut;
        }
    }
    best.steps = ddmin(best.steps.clone(), |steps| oracle.holds(&Plan { steps: steps.to_vec(), ..best.clone() }));
    for knob in 0..crate::profile::FaultProfile::KNOBS {
        let mut candidate = best.clone();
        if candidate.profile.switch_off(knob) && oracle.holds(&candidate) {
            best = candidate;
        }
    }
    // The edge-seeking knobs: handler scripts, then each symbolic argument kind (its
    // arguments become plain delays, which read more simply in a minimal plan).
    for knob in 0..crate::edge_profile::EdgeProfile::KNOBS {
        let mut candidate = best.clone();
        if candidate.switch_off_edge(knob) && oracle.holds(&candidate) {
            best = candidate;
        }
    }
    best.steps = ddmin(best.steps.clone(), |steps| oracle.holds(&Plan { steps: steps.to_vec(), ..best.clone() }));
    best
}

/// Shrinks up to `tries` of the failing `seeds` and keeps the smallest plan (ties: the
/// earliest seed). One unlucky seed can hold on to steps that only its random streams need;
/// another seed of the same bug usually shows the same interleaving in fewer.
pub fn shrink_best(
    spec: &ScenarioSpec,
    subject: impl Into<Subject>,
    seeds: impl IntoIterator<Item = u64>,
    tries: usize,
    limits: ShrinkLimits,
) -> Option<(u64, Shrunk)> {
    let factory = subject.into();
    let mut best: Option<(u64, Shrunk)> = None;
    let failing = seeds.into_iter().filter(|&seed| !crate::run::run_seed_traced(spec, &factory, seed, false).passed());
    for seed in failing.take(tries) {
        let plan = Plan::generate(spec, factory.name(), seed);
        let Some(shrunk) = shrink(spec, factory.clone(), plan, limits) else { continue };
        if best.as_ref().is_none_or(|(_, b)| shrunk.plan.steps.len() < b.plan.steps.len()) {
            best = Some((seed, shrunk));
        }
    }
    best
}

/// What a shrunk plan must keep doing.
enum Goal {
    /// Fail this invariant.
    Fails(Invariant),
    /// Reach this coverage probe.
    Reaches(String),
}

struct Oracle<'a> {
    spec: &'a ScenarioSpec,
    factory: Subject,
    goal: Goal,
    runs: u32,
    limits: ShrinkLimits,
    started: Instant,
    hit_limit: bool,
}

impl Oracle<'_> {
    /// Whether `plan` still meets the goal (fails the same invariant, or reaches the probe).
    /// Past a limit it answers "no", which keeps the current plan.
    fn holds(&mut self, plan: &Plan) -> bool {
        if self.runs >= self.limits.max_runs || self.started.elapsed() >= self.limits.max_time {
            self.hit_limit = true;
            return false;
        }
        self.runs += 1;
        let coverage = matches!(self.goal, Goal::Reaches(_));
        let report = run_plan(self.spec, self.factory.clone(), plan.clone(), crate::run_options::RunOptions { keep_trace: false, coverage });
        match &self.goal {
            Goal::Fails(invariant) => report.violation.is_some_and(|v| v.invariant == *invariant),
            Goal::Reaches(probe) => report.coverage.count(probe) > 0,
        }
    }
}

/// Zeller's ddmin: a 1-minimal subsequence of `items` for which `fails` holds, given that it
/// holds for `items`.
pub fn ddmin<T: Clone>(mut items: Vec<T>, mut fails: impl FnMut(&[T]) -> bool) -> Vec<T> {
    if !items.is_empty() && fails(&[]) {
        return Vec::new();
    }
    let mut n = 2usize;
    while items.len() >= 2 {
        let chunk = items.len().div_ceil(n);
        let mut reduced = false;
        for start in (0..items.len()).step_by(chunk) {
            let complement: Vec<T> = items[..start].iter().chain(items[(start + chunk).min(items.len())..].iter()).cloned().collect();
            if fails(&complement) {
                items = complement;
                n = (n - 1).max(2);
                reduced = true;
                break;
            }
        }
        if !reduced {
            if n >= items.len() {
                break;
            }
            n = (n * 2).min(items.len());
        }
    }
    if items.len() == 1 && fails(&[]) {
        items.clear();
    }
    items
}

#[cfg(test)]
mod tests {
    use super::ddmin;

    #[test]
    fn ddmin_finds_the_two_culprits() {
        let items: Vec<u32> = (0..100).collect();
        let calls = std::cell::Cell::new(0);
        let out = ddmin(items, |s| {
            calls.set(calls.get() + 1);
            s.contains(&17) && s.contains(&63)
        });
        assert_eq!(out, vec![17, 63]);
        assert!(calls.get() < 100, "ddmin should need far fewer tests than items squared ({} used)", calls.get());
    }

    #[test]
    fn ddmin_can_remove_everything() {
        assert!(ddmin(vec![1, 2, 3], |_| true).is_empty());
    }
}
