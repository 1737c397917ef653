//! One seed of the alarm world: a fresh OS thread, a madsim runtime seeded with the seed,
//! the world built from the plan and driven through both phases, then the report.

use super::World;
use crate::driver::drive;
use crate::plan::Plan;
use crate::report::RunReport;
use crate::run_options::RunOptions;
use crate::scenario::ScenarioSpec;
use crate::blame::GuardedFactory;
use crate::seed_thread::{on_seed_thread, panic_violation, pending_panic_is_subjects};
use alarmsim_scheduler::api::SchedulerFactory;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

/// Runs a plan of an alarm scenario with `factory`.
pub(crate) fn run_plan(spec: &ScenarioSpec, factory: Arc<dyn SchedulerFactory>, plan: Plan, options: RunOptions) -> RunReport {
    run_plan_with(spec, factory, plan, options, false)
}

/// [`run_plan`]; with `check_every_actor` the per-event I1 check visits every actor after
/// every event instead of the ones the event touched (`touched.rs`), as it did before the
/// touched sets: `tests/touched_checks.rs` holds the two to the same outcome.
pub(crate) fn run_plan_with(spec: &ScenarioSpec, factory: Arc<dyn SchedulerFactory>, plan: Plan, options: RunOptions, check_every_actor: bool) -> RunReport {
    assert!(spec.queue().is_none(), "{} is a job-queue scenario: run it with a queue variant", spec.name);
    let spec = spec.clone();
    let seed = plan.seed;
    on_seed_thread(seed, move || run_on_fresh_thread(spec, factory, plan, options, check_every_actor))
}

fn run_on_fresh_thread(spec: ScenarioSpec, factory: Arc<dyn SchedulerFactory>, plan: Plan, options: RunOptions, check_every_actor: bool) -> RunReport {
    // Every call into the scheduler runs as the system under test's code, so its panics are
    // told from the world's own (`blame.rs`).
    let factory: Arc<dyn SchedulerFactory> = Arc::new(GuardedFactory(factory));
    let seed = plan.seed;
    let kept_plan = plan.clone();
    let runtime = madsim::runtime::Runtime::with_seed_and_config(seed, madsim::Config::default());
    let world_slot: Rc<RefCell<Option<Rc<RefCell<World>>>>> = Rc::new(RefCell::new(None));
    let slot = world_slot.clone();
    let variant = factory.name().to_string();
    let scenario = spec.name.to_string();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        runtime.block_on(async move {
            let world = World::new(spec, factory, plan, options);
            world.borrow_mut().check_every_actor = check_every_actor;
            *slot.borrow_mut() = Some(world.clone());
            drive(&world).await;
        })
    }));
    // The world's own panics go on up to the seed thread, which reports them as harness
    // errors; only the scheduler's become `no-panic` violations.
    let panicked = result.is_err();
    if let Err(payload) = result {
        if !pending_panic_is_subjects() {
            std::panic::resume_unwind(payload);
        }
    }
    let world = world_slot.borrow_mut().take();
    let Some(world) = world else {
        // The scheduler panicked while the world was built (in `new_manager`).
        let violation = Some(panic_violation(0));
        let profile = kept_plan.profile.clone();
        return RunReport {
            scenario,
            variant,
            system: "alarms",
            seed,
            profile,
            plan: kept_plan,
            violation,
            trace: Default::default(),
            fingerprint: Default::default(),
            events: 0,
            sim_ms: 0,
            store_work: Default::default(),
            coverage: Default::default(),
            replay_flags: String::new(),
        };
    };
    let mut w = world.borrow_mut();
    if panicked && w.violation.is_none() {
        w.violation = Some(panic_violation(w.last_event_ms));
    }
    let sim_ms = w.last_event_ms;
    let names = w.actors.iter().map(|a| a.id.0.clone()).collect();
    w.fingerprint.set_track_names(names);
    RunReport {
        scenario,
        variant,
        system: "alarms",
        seed,
        profile: w.profile.clone(),
        plan: kept_plan,
        violation: w.violation.clone(),
        trace: std::mem::take(&mut w.trace),
        fingerprint: std::mem::take(&mut w.fingerprint),
        events: w.events_handled,
        sim_ms,
        store_work: w.store_work(),
        coverage: w.probes.snapshot(),
        replay_flags: String::new(),
    }
}

