//! Running one seed: a fresh OS thread, a fresh madsim runtime seeded with the seed, the
//! chaos phase, then heal-and-quiesce, then the report.
//!
//! One OS thread per seed (dst-anchors.md §3.3.4): a second runtime on a reused thread sees
//! a different `HashMap` order for the same seed.

use crate::checker::Violation;
use crate::plan::Plan;
use crate::profile::FaultProfile;
use crate::scenario::{Invariant, ScenarioSpec};
use crate::store_work::StoreWork;
use crate::subject::Subject;
use crate::trace::Trace;
use crate::world::World;
use alarmsim_scheduler::api::SchedulerFactory;
use serde::Serialize;
use std::cell::RefCell;
use std::sync::{Arc, Once};
use std::time::Duration;

/// Everything one seed produced.
#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    pub scenario: String,
    pub variant: String,
    /// `alarms` or `queue`.
    pub system: &'static str,
    pub seed: u64,
    pub profile: FaultProfile,
    /// The plan the run executed (generated from the seed, or given).
    pub plan: Plan,
    pub violation: Option<Violation>,
    pub trace: Trace,
    /// Events the world handled.
    pub events: u64,
    /// Simulated time at the end of the run.
    pub sim_ms: u64,
    /// The SQLite operations the alarm world did (zero for the queue world, whose SQL runs
    /// inside the queue under test).
    pub store_work: StoreWork,
}

impl RunReport {
    pub fn passed(&self) -> bool {
        self.violation.is_none()
    }

    /// The profile, in the words of the run's system.
    pub fn profile_text(&self) -> String {
        match self.system {
            "queue" => self.profile.describe_queue(),
            _ => self.profile.describe(),
        }
    }

    /// The one line that replays this run.
    pub fn replay_command(&self) -> String {
        format!("cargo run --release -- replay --scenario {} --variant {} --seed {}", self.scenario, self.variant, self.seed)
    }

    /// The failure report: seed, profile, invariant, the events just before, and the replay line.
    pub fn failure_text(&self, tail: usize) -> Option<String> {
        let v = self.violation.as_ref()?;
        let events = self.trace.tail(tail);
        Some(format!(
            "FAILED scenario={} variant={} seed={}\n  invariant: {}\n  {}\n  profile: {}\n  last {} events:\n{}  replay: {}\n",
            self.scenario,
            self.variant,
            self.seed,
            v.invariant,
            v,
            self.profile_text(),
            events.lines().count(),
            indent(&events),
            self.replay_command()
        ))
    }
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}\n")).collect()
}

/// The name prefix of seed threads; panics on them are recorded, not printed.
const SEED_THREAD: &str = "alarmsim-seed-";

thread_local! {
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// The message of the last panic on this seed thread, if any.
pub(crate) fn take_last_panic() -> Option<String> {
    LAST_PANIC.with(|p| p.borrow_mut().take())
}

/// Routes panics of seed threads into the run's report (a panicking scheduler is a finding,
/// not a crash of the sweep). Other threads keep the default hook.
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let on_seed_thread = std::thread::current().name().is_some_and(|n| n.starts_with(SEED_THREAD));
            if on_seed_thread {
                let location = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
                let payload = info
                    .payload()
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| info.payload().downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "panic".to_string());
                LAST_PANIC.with(|p| *p.borrow_mut() = Some(format!("{payload}{location}")));
            } else {
                previous(info);
            }
        }));
    });
}

/// Runs one seed on a fresh OS thread and returns its report, with the full trace.
pub fn run_seed(spec: &ScenarioSpec, subject: impl Into<Subject>, seed: u64) -> RunReport {
    run_seed_traced(spec, subject, seed, true)
}

/// Runs one seed; with `keep_trace` false the trace stays empty (the run is otherwise
/// identical, so a failing seed can be replayed with the trace on).
pub fn run_seed_traced(spec: &ScenarioSpec, subject: impl Into<Subject>, seed: u64, keep_trace: bool) -> RunReport {
    let subject = subject.into();
    let plan = Plan::generate(spec, subject.name(), seed);
    subject.run_plan(spec, plan, keep_trace)
}

/// Runs a plan (its seed drives the per-actor random streams and the executor).
pub fn run_plan(spec: &ScenarioSpec, subject: impl Into<Subject>, plan: Plan, keep_trace: bool) -> RunReport {
    subject.into().run_plan(spec, plan, keep_trace)
}

/// Runs a plan of an alarm scenario with `factory`.
pub(crate) fn run_alarm_plan(spec: &ScenarioSpec, factory: Arc<dyn SchedulerFactory>, plan: Plan, keep_trace: bool) -> RunReport {
    assert!(spec.queue().is_none(), "{} is a job-queue scenario: run it with a queue variant", spec.name);
    let spec = spec.clone();
    let seed = plan.seed;
    on_seed_thread(seed, move || run_on_fresh_thread(spec, factory, plan, keep_trace))
}

/// Runs `run` on a fresh OS thread named for the seed, with panics routed into the report.
pub(crate) fn on_seed_thread<T: Send + 'static>(seed: u64, run: impl FnOnce() -> T + Send + 'static) -> T {
    install_panic_hook();
    std::thread::Builder::new()
        .name(format!("{SEED_THREAD}{seed}"))
        .spawn(run)
        .expect("spawn a seed thread")
        .join()
        .expect("a seed thread reports instead of panicking")
}

/// The violation for a run that panicked outside the world's own panic handling.
pub(crate) fn panic_violation(at_ms: u64) -> Violation {
    let message = LAST_PANIC.with(|p| p.borrow_mut().take()).unwrap_or_else(|| "panic".to_string());
    Violation { invariant: Invariant::NoPanic, actor: None, at_ms, message: format!("the scheduler panicked: {message}") }
}

fn run_on_fresh_thread(spec: ScenarioSpec, factory: Arc<dyn SchedulerFactory>, plan: Plan, keep_trace: bool) -> RunReport {
    let seed = plan.seed;
    let kept_plan = plan.clone();
    let runtime = madsim::runtime::Runtime::with_seed_and_config(seed, madsim::Config::default());
    let world_slot: Rc<RefCell<Option<Rc<RefCell<World>>>>> = Rc::new(RefCell::new(None));
    let slot = world_slot.clone();
    let variant = factory.name().to_string();
    let scenario = spec.name.to_string();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        runtime.block_on(async move {
            let world = World::new(spec, factory, plan, keep_trace);
            *slot.borrow_mut() = Some(world.clone());
            drive(&world).await;
        })
    }));
    let world = world_slot.borrow_mut().take();
    let Some(world) = world else {
        panic!("the world of seed {seed} failed to build: {:?}", LAST_PANIC.with(|p| p.borrow_mut().take()));
    };
    let mut w = world.borrow_mut();
    if result.is_err() && w.violation.is_none() {
        w.violation = Some(panic_violation(w.last_event_ms));
    }
    let sim_ms = w.last_event_ms;
    RunReport {
        scenario,
        variant,
        system: "alarms",
        seed,
        profile: w.profile.clone(),
        plan: kept_plan,
        violation: w.violation.clone(),
        trace: std::mem::take(&mut w.trace),
        events: w.events_handled,
        sim_ms,
        store_work: w.store_work(),
    }
}

use std::rc::Rc;

/// What the two-phase driver needs of a world (the alarm world and the queue world).
pub(crate) trait TwoPhases: Sized {
    fn start(&mut self);
    fn heal(&mut self);
    fn quiescent(&self) -> bool;
    fn final_checks(&mut self);
    fn quiesce_timeout(&mut self);
    fn violated(&self) -> bool;
    fn now_ms(&self) -> u64;
    fn spec(&self) -> &ScenarioSpec;
    /// The run is over: record its end time, stop every process from acting.
    fn finish(&mut self);
    /// Runs the world until `t_ms` simulated ms after `start`. By default the world's own
    /// madsim tasks do the work while the driver sleeps (the queue world's processes); the
    /// alarm world runs its agenda here.
    async fn run_until(world: &Rc<RefCell<Self>>, start: madsim::time::Instant, t_ms: u64) {
        let _ = world;
        madsim::time::sleep_until(start + Duration::from_millis(t_ms)).await;
    }
}

/// The two phases (TigerBeetle: safety, then liveness): chaos for `chaos_ms`, then heal and
/// look every simulated second for quiescence, up to `quiesce_limit_ms`.
pub(crate) async fn drive<W: TwoPhases>(world: &Rc<RefCell<W>>) {
    let start = madsim::time::Instant::now();
    let (chaos_ms, limit_ms) = {
        let mut w = world.borrow_mut();
        w.start();
        (w.spec().chaos_ms, w.spec().chaos_ms + w.spec().quiesce_limit_ms)
    };
    W::run_until(world, start, chaos_ms).await;
    if !world.borrow().violated() {
        world.borrow_mut().heal();
    }
    let mut check_ms = chaos_ms;
    loop {
        {
            let mut w = world.borrow_mut();
            if w.violated() {
                break;
            }
            if w.quiescent() {
                w.final_checks();
                break;
            }
            if w.now_ms() >= limit_ms {
                w.quiesce_timeout();
                break;
            }
        }
        check_ms += 1_000;
        W::run_until(world, start, check_ms).await;
    }
    world.borrow_mut().finish();
}
