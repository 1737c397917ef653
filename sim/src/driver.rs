//! The two phases every run goes through (TigerBeetle: safety, then liveness): chaos with
//! faults on, then heal and wait for quiescence, then the final checks. Both worlds (alarms
//! and the job queue) implement [`TwoPhases`]; [`drive`] runs them.

use crate::scenario::ScenarioSpec;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

/// The phases of a run: TigerBeetle's safety phase, then its liveness phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Faults on, clients active.
    Chaos,
    /// Faults off, nodes restarted, clients stopped; the world must quiesce and converge.
    Quiesce,
    Done,
}

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
