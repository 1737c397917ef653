//! The per-event I1 check looks only at the actors an event touched (`sim/src/world/touched.rs`,
//! issue 14). That must find exactly what checking every actor after every event finds: the
//! same violation, of the same actor, at the same event, or none. Every variant of the bug
//! library (and the reference) runs every alarm scenario both ways here; a touched set that
//! missed an actor whose durable or manager value an event changed would let the every-actor
//! run report a violation earlier, or one the other run never sees.

use alarmsim_scheduler::api::{ActorScheduler, ManagerScheduler, Reference, SchedulerFactory};
use alarmsim_scheduler::backoff::{RetryPolicy, RetryState};
use alarmsim_scheduler::manager::{Applied, Status};
use alarmsim_scheduler::{ActorId, AlarmRow, AlarmTime, DurableState, Fence, Fire, FireResult, ManagerCore, ManagerEffect, Millis};
use alarmsim_sim::run::run_seed_checking_every_actor;
use alarmsim_sim::{run_seed_traced, ScenarioSpec};
use std::sync::{Arc, Mutex};

/// Seeds of each variant on each scenario.
const SEEDS: u64 = 6;
/// Seeds of each bug-library case on the scenario made for it (most of them fail there).
const CASE_SEEDS: u64 = 30;

#[test]
fn checking_the_touched_actors_finds_what_checking_every_actor_finds() {
    // large-namespace is left out: checking its 1,000 actors after each of ~60,000 events is
    // the cost the touched sets removed. Its shape is what `standard` and the others are,
    // larger, and the scale bench runs it (docs/PERFORMANCE.md).
    let scenarios: Vec<ScenarioSpec> = alarmsim_scenarios::alarm_scenarios().into_iter().filter(|s| s.actors() <= 64).collect();
    // A determinism variant runs differently each time by design: nothing to compare.
    let variants: Vec<_> =
        alarmsim_scenarios::variants().into_iter().filter(|v| !alarmsim_scenarios::library::DETERMINISM_VARIANTS.contains(&v.name())).collect();
    let mut work: Vec<(ScenarioSpec, Arc<dyn SchedulerFactory>, u64)> = Vec::new();
    for spec in &scenarios {
        for factory in &variants {
            work.extend((0..SEEDS).map(|seed| (spec.clone(), factory.clone(), seed)));
        }
    }
    for case in alarmsim_scenarios::library::CASES {
        let Some(factory) = alarmsim_scenarios::variant(case.variant) else { continue }; // a queue case
        let spec = alarmsim_scenarios::scenario(case.scenario).expect("a library case names a catalog scenario");
        work.extend((SEEDS..CASE_SEEDS).map(|seed| (spec.clone(), factory.clone(), seed)));
    }
    let runs = work.len();
    let work = Mutex::new(work);
    let mismatches = Mutex::new(Vec::new());
    let violations = Mutex::new(0usize);
    let jobs = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| loop {
                let Some((spec, factory, seed)) = work.lock().unwrap().pop() else { break };
                let touched = run_seed_traced(&spec, factory.clone(), seed, false);
                let every = run_seed_checking_every_actor(&spec, factory.clone(), seed, false);
                if touched.violation.is_some() {
                    *violations.lock().unwrap() += 1;
                }
                if (&touched.violation, touched.events, touched.sim_ms) != (&every.violation, every.events, every.sim_ms) {
                    mismatches.lock().unwrap().push(format!(
                        "{} / {} seed {}:\n    touched actors: {:?} after {} events\n    every actor:    {:?} after {} events",
                        spec.name,
                        factory.name(),
                        seed,
                        touched.violation.as_ref().map(|v| v.to_string()),
                        touched.events,
                        every.violation.as_ref().map(|v| v.to_string()),
                        every.events
                    ));
                }
            });
        }
    });
    let mismatches = mismatches.into_inner().unwrap();
    assert!(mismatches.is_empty(), "{} of {runs} runs differ:\n  {}", mismatches.len(), mismatches.join("\n  "));
    let violations = violations.into_inner().unwrap();
    // The comparison means something only if the variants fail: most library cases do within
    // these seeds.
    assert!(violations >= 100, "only {violations} of {runs} runs found a violation: the comparison checks too little");
}

/// The trace's gauges (each actor's storage and manager values after every event, and the
/// gauge-only events of actors whose values moved without an event of their own) come out the
/// same when they look at the touched actors only as when they look at every actor.
#[test]
fn gauges_of_the_touched_actors_give_the_trace_of_every_actor() {
    let mut compared = 0;
    for spec in alarmsim_scenarios::alarm_scenarios().into_iter().filter(|s| s.actors() <= 64) {
        let factory: Arc<dyn SchedulerFactory> = Arc::new(Reference);
        for seed in 0..3 {
            let touched = alarmsim_sim::run_seed(&spec, factory.clone(), seed).trace.to_jsonl();
            let every = run_seed_checking_every_actor(&spec, factory.clone(), seed, true).trace.to_jsonl();
            if touched != every {
                let at = touched.lines().zip(every.lines()).position(|(a, b)| a != b).unwrap_or(0);
                panic!("{} seed {seed}: the traces differ at event {at}:
  touched: {}
  every:   {}", spec.name, touched.lines().nth(at).unwrap_or(""), every.lines().nth(at).unwrap_or(""));
            }
            compared += touched.lines().filter(|l| l.contains("\"gauge\"")).count();
        }
    }
    assert!(compared > 0, "no gauge-only event was compared");
}

/// Three wrong managers, each built on the reference `ManagerCore`. Each changes an actor's
/// entry in a way no message of that actor announces, so only the event's touched actors say
/// which actor to check.
#[derive(Clone, Copy)]
enum Wrong {
    /// Whenever its tick fires an alarm, it also drops the alarm of the first other waiting
    /// actor, and persists the loss as it persists any change (R18): only that row names the
    /// actor.
    LosesAnotherOnTick,
    /// Its view of an alarm it is running is empty: the moment a tick fires an alarm, the
    /// manager no longer holds it, with nothing persisted.
    HidesRunningAlarm,
    /// It persists its rows but starts empty after a restart: every alarm it held is gone the
    /// moment it comes back.
    ForgetsRowsOnRestart,
}

struct WrongManager {
    core: ManagerCore,
    wrong: Wrong,
}

impl ManagerScheduler for WrongManager {
    fn schedule(&mut self, actor: &ActorId, time: AlarmTime, fence: Fence, name: Option<String>) -> Applied {
        self.core.schedule(actor, time, fence, name)
    }
    fn take_due(&mut self, now: Millis) -> Vec<Fire> {
        let fires = self.core.take_due(now);
        if let (Wrong::LosesAnotherOnTick, Some(fired)) = (self.wrong, fires.first()) {
            let victim = self.core.rows().into_iter().find(|r| r.time.is_some() && r.actor != fired.actor && self.core.status(&r.actor) == Some(Status::Waiting));
            if let Some(row) = victim {
                let fence = Fence { report: row.fence.report + 1, ..row.fence };
                self.core.schedule(&row.actor, None, fence, None);
            }
        }
        fires
    }
    fn next_wakeup(&self) -> Option<Millis> {
        self.core.next_wakeup()
    }
    fn on_fire_result(&mut self, actor: &ActorId, scheduled: Millis, result: FireResult, now: Millis, rng: &mut dyn rand::RngCore) {
        self.core.on_fire_result(actor, scheduled, result, now, rng)
    }
    fn on_abandon_result(&mut self, actor: &ActorId, scheduled: Millis, answer: Result<(AlarmTime, Fence), ()>, now: Millis) {
        self.core.on_abandon_result(actor, scheduled, answer, now)
    }
    fn poll_effect(&mut self) -> Option<ManagerEffect> {
        self.core.poll_effect()
    }
    fn effective_time(&self, actor: &ActorId) -> AlarmTime {
        match (self.wrong, self.core.status(actor)) {
            (Wrong::HidesRunningAlarm, Some(Status::Started)) => None,
            _ => self.core.effective_time(actor),
        }
    }
    fn retry_state(&self, actor: &ActorId) -> Option<RetryState> {
        self.core.retry_state(actor)
    }
}

impl SchedulerFactory for Wrong {
    fn name(&self) -> &str {
        match self {
            Wrong::LosesAnotherOnTick => "loses-another-on-tick",
            Wrong::HidesRunningAlarm => "hides-running-alarm",
            Wrong::ForgetsRowsOnRestart => "forgets-rows-on-restart",
        }
    }
    fn description(&self) -> &str {
        "a wrong manager for tests/touched_checks.rs"
    }
    fn new_actor(&self, actor: ActorId, incarnation: u64, durable: DurableState, probes: &alarmsim_scheduler::probe::Probes) -> Box<dyn ActorScheduler> {
        Reference.new_actor(actor, incarnation, durable, probes)
    }
    fn new_manager(&self, rows: Vec<AlarmRow>, policy: RetryPolicy, _probes: &alarmsim_scheduler::probe::Probes) -> Box<dyn ManagerScheduler> {
        let rows = if matches!(self, Wrong::ForgetsRowsOnRestart) { Vec::new() } else { rows };
        Box::new(WrongManager { core: ManagerCore::load(rows, policy), wrong: *self })
    }
}

/// Runs `wrong` on `scenario` over 10 seeds both ways: the same outcome every seed, and at
/// least 5 seeds caught as never-late.
fn caught_at_the_same_event(scenario: &str, wrong: Wrong) {
    let spec = alarmsim_scenarios::scenario(scenario).expect("a catalog scenario");
    let factory: Arc<dyn SchedulerFactory> = Arc::new(wrong);
    let mut caught = 0;
    for seed in 0..10 {
        let touched = run_seed_traced(&spec, factory.clone(), seed, false);
        let every = run_seed_checking_every_actor(&spec, factory.clone(), seed, false);
        assert_eq!((&touched.violation, touched.events), (&every.violation, every.events), "{} on {scenario} seed {seed}", factory.name());
        caught += usize::from(touched.violation.as_ref().is_some_and(|v| v.invariant == alarmsim_sim::Invariant::NeverLate));
    }
    assert!(caught >= 5, "{} on {scenario}: caught as never-late in only {caught} of 10 seeds", factory.name());
}

/// A tick that changes an actor it did not fire is caught at that tick: the row it persisted
/// names the actor.
#[test]
fn a_tick_that_loses_an_actor_it_did_not_fire_is_caught_at_that_tick() {
    caught_at_the_same_event("standard", Wrong::LosesAnotherOnTick);
}

/// A tick touches every actor it fired: a fire that changes the manager's view of its own
/// actor is caught at the tick.
#[test]
fn a_tick_that_hides_the_alarm_it_fired_is_caught_at_that_tick() {
    caught_at_the_same_event("standard", Wrong::HidesRunningAlarm);
}

/// A manager restart touches every actor of its namespace: the alarms it forgot are caught at
/// the restart.
#[test]
fn a_restart_that_forgets_rows_is_caught_at_the_restart() {
    caught_at_the_same_event("restart-persistence", Wrong::ForgetsRowsOnRestart);
}
