//! The job-queue simulation (seed 004): the same plan, profile, shrinker, trace and report
//! as the alarm world, a different system under test.
//!
//! - [`plan`]: enqueues with job scripts, crashes and power losses.
//! - [`disk`]: one shared in-memory SQLite database and the sync/power-loss model.
//! - [`world`]: producer and worker processes as madsim tasks, crashes at statement boundaries.
//! - [`checker`]: the queue's invariants; [`clocks`]: each process's skewed clock, which the
//!   checker converts through to judge on the reference clock.
//!
//! In queue scenarios the profile's `host_crashes_per_hour` is the crash rate of each
//! worker, `manager_crashes_per_hour` that of each producer, and `commit_latency_ms` the
//! latency of each SQL statement.

pub mod checker;
pub mod clocks;
pub mod disk;
pub mod plan;
pub mod world;

use crate::plan::Plan;
use crate::driver::drive;
use crate::report::RunReport;
use crate::run_options::RunOptions;
use crate::blame::GuardedQueue;
use crate::seed_thread::{on_seed_thread, panic_violation, pending_panic_is_subjects};
use crate::scenario::ScenarioSpec;
use alarmsim_scheduler::queue::{JobQueue, SqliteQueue};
use std::cell::RefCell;
use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::Arc;
use world::QueueWorld;

/// A queue implementation the simulator can run (the reference, a bug variant, or yours).
pub trait QueueFactory: Send + Sync {
    fn name(&self) -> &str;
    fn description(&self) -> &str;
    /// Runs one plan of a queue scenario on a fresh thread.
    fn run_plan(&self, spec: &ScenarioSpec, plan: Plan, options: RunOptions) -> RunReport;
    /// The coverage probes the queue declares (`JobQueue::probes`).
    fn probes(&self) -> Vec<&'static alarmsim_scheduler::probe::Probe> {
        Vec::new()
    }
}

/// Registers a [`JobQueue`] type under a name.
pub struct QueueVariant<Q> {
    name: &'static str,
    description: &'static str,
    _queue: PhantomData<fn() -> Q>,
}

impl<Q> QueueVariant<Q> {
    pub const fn new(name: &'static str, description: &'static str) -> QueueVariant<Q> {
        QueueVariant { name, description, _queue: PhantomData }
    }
}

impl<Q: JobQueue + 'static> QueueFactory for QueueVariant<Q> {
    fn name(&self) -> &str {
        self.name
    }

    fn description(&self) -> &str {
        self.description
    }

    fn run_plan(&self, spec: &ScenarioSpec, plan: Plan, options: RunOptions) -> RunReport {
        run_plan::<Q>(spec, self.name, plan, options)
    }

    fn probes(&self) -> Vec<&'static alarmsim_scheduler::probe::Probe> {
        Q::probes()
    }
}

/// The reference queue ([`SqliteQueue`]).
pub fn reference() -> Arc<dyn QueueFactory> {
    Arc::new(QueueVariant::<SqliteQueue>::new("reference", "the reference job queue: durable enqueue, BEGIN IMMEDIATE claims with leases and fencing, counted reclaims, atomic migrations"))
}

/// Runs one seed of a queue scenario.
pub fn run_seed(spec: &ScenarioSpec, factory: &dyn QueueFactory, seed: u64, options: impl Into<RunOptions>) -> RunReport {
    let plan = plan::generate(spec, spec.queue().expect("a job-queue scenario"), factory.name(), seed);
    factory.run_plan(spec, plan, options.into())
}

/// Runs a plan of a queue scenario with queue type `Q`, on a fresh OS thread.
pub fn run_plan<Q: JobQueue + 'static>(spec: &ScenarioSpec, variant: &str, plan: Plan, options: RunOptions) -> RunReport {
    assert!(spec.queue().is_some(), "{} is not a job-queue scenario", spec.name);
    let spec = spec.clone();
    let variant = variant.to_string();
    // The queue runs as the system under test's code, its Db hooks as the world's (`blame.rs`).
    on_seed_thread(plan.seed, move || run_on_fresh_thread::<GuardedQueue<Q>>(spec, variant, plan, options))
}

type SharedWorld<Q> = Rc<RefCell<QueueWorld<Q>>>;

fn run_on_fresh_thread<Q: JobQueue + 'static>(spec: ScenarioSpec, variant: String, plan: Plan, options: RunOptions) -> RunReport {
    let seed = plan.seed;
    let kept_plan = plan.clone();
    let scenario = spec.name.to_string();
    let runtime = madsim::runtime::Runtime::with_seed_and_config(seed, madsim::Config::default());
    // Where the world is left for the report after block_on returns (or panics).
    let slot: Rc<RefCell<Option<SharedWorld<Q>>>> = Rc::new(RefCell::new(None));
    let inner = slot.clone();
    let name = variant.clone();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        runtime.block_on(async move {
            let world = QueueWorld::<Q>::new(spec, &name, plan, options);
            *inner.borrow_mut() = Some(world.clone());
            drive(&world).await;
            // madsim does not drop the tasks still pending when the runtime ends, and each
            // process task holds the world (its database included): about 1.3 MB a seed, 13 GB
            // in a 10,000-seed sweep. Aborted here and given a tick, they end and drop it.
            world.borrow_mut().teardown();
            madsim::time::sleep(std::time::Duration::from_millis(1)).await;
        })
    }));
    // The world's own panics go on up to the seed thread (a harness error); only the
    // queue's become `no-panic` violations (`blame.rs`).
    let panicked = result.is_err();
    if let Err(payload) = result {
        if !pending_panic_is_subjects() {
            std::panic::resume_unwind(payload);
        }
    }
    let world = slot.borrow_mut().take().unwrap_or_else(|| panic!("the queue world of seed {seed} failed to build"));
    let mut w = world.borrow_mut();
    if panicked && w.violation.is_none() {
        w.violation = Some(panic_violation(w.last_event_ms));
    }
    RunReport {
        scenario,
        variant,
        system: "queue",
        seed,
        profile: w.profile.clone(),
        plan: kept_plan,
        violation: w.violation.clone(),
        trace: std::mem::take(&mut w.trace),
        fingerprint: std::mem::take(&mut w.fingerprint),
        events: w.events_handled,
        sim_ms: w.last_event_ms,
        store_work: Default::default(),
        coverage: w.probes.snapshot(),
        replay_flags: String::new(),
    }
}
