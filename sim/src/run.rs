//! Running seeds and plans: the public entry points. A [`Subject`] says which world runs
//! (alarms or the job queue); each world runs every seed on a fresh OS thread of its own
//! (`seed_thread.rs`).

use crate::plan::Plan;
use crate::report::RunReport;
use crate::run_options::RunOptions;
use crate::scenario::ScenarioSpec;
use crate::subject::Subject;
use alarmsim_scheduler::api::SchedulerFactory;
use std::sync::Arc;

/// Runs one seed on a fresh OS thread and returns its report, with the full trace.
pub fn run_seed(spec: &ScenarioSpec, subject: impl Into<Subject>, seed: u64) -> RunReport {
    run_seed_traced(spec, subject, seed, true)
}

/// Runs one seed recording what `options` asks (`false`: no trace text, `true`: the trace;
/// a [`RunOptions`] for coverage too). The run is otherwise identical, so a failing seed can
/// be replayed with the trace on.
pub fn run_seed_traced(spec: &ScenarioSpec, subject: impl Into<Subject>, seed: u64, options: impl Into<RunOptions>) -> RunReport {
    let subject = subject.into();
    let plan = Plan::generate(spec, subject.name(), seed);
    subject.run_plan(spec, plan, options)
}

/// Runs one seed with its plan drawn from `spec` re-weighted by `knobs` (a guided run); the
/// plan records them, so the report's replay line and plan replay it.
pub fn run_seed_with_knobs(spec: &ScenarioSpec, subject: impl Into<Subject>, seed: u64, knobs: Option<crate::knobs::Knobs>, options: impl Into<RunOptions>) -> RunReport {
    let subject = subject.into();
    let plan = Plan::generate_with(spec, subject.name(), seed, knobs);
    subject.run_plan(spec, plan, options)
}

/// Runs one seed of an alarm scenario with the per-event I1 check (and, with `keep_trace`, the
/// trace's gauges) visiting every actor after every event, as they did before each event's
/// touched actors were tracked (issue 14). Slower by the size of the world; for
/// `tests/touched_checks.rs`, which holds it to the same outcome and trace as
/// [`run_seed_traced`].
#[doc(hidden)]
pub fn run_seed_checking_every_actor(spec: &ScenarioSpec, factory: Arc<dyn SchedulerFactory>, seed: u64, keep_trace: bool) -> RunReport {
    let plan = Plan::generate(spec, factory.name(), seed);
    crate::world::run_plan_with(spec, factory, plan, keep_trace.into(), true)
}

/// Runs a plan (its seed drives the per-actor random streams and the executor).
pub fn run_plan(spec: &ScenarioSpec, subject: impl Into<Subject>, plan: Plan, options: impl Into<RunOptions>) -> RunReport {
    subject.into().run_plan(spec, plan, options)
}

