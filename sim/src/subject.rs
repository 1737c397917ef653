//! What a run tests: an alarm scheduler or a job queue. The CLI, the sweeps and the shrinker
//! take a [`Subject`], so every tool works for both systems.

use crate::plan::Plan;
use crate::queue::QueueFactory;
use crate::report::RunReport;
use crate::scenario::ScenarioSpec;
use alarmsim_scheduler::api::SchedulerFactory;
use std::sync::Arc;

/// A system under test.
#[derive(Clone)]
pub enum Subject {
    Alarms(Arc<dyn SchedulerFactory>),
    Queue(Arc<dyn QueueFactory>),
}

impl Subject {
    pub fn name(&self) -> &str {
        match self {
            Subject::Alarms(f) => f.name(),
            Subject::Queue(q) => q.name(),
        }
    }

    pub fn description(&self) -> &str {
        match self {
            Subject::Alarms(f) => f.description(),
            Subject::Queue(q) => q.description(),
        }
    }

    /// `alarms` or `queue`: the kind of scenario this subject runs.
    pub fn system(&self) -> &'static str {
        match self {
            Subject::Alarms(_) => "alarms",
            Subject::Queue(_) => "queue",
        }
    }

    /// Whether this subject can run `spec` (an alarm scheduler runs alarm scenarios, a queue
    /// runs queue scenarios).
    pub fn fits(&self, spec: &ScenarioSpec) -> bool {
        matches!((self, spec.queue()), (Subject::Alarms(_), None) | (Subject::Queue(_), Some(_)))
    }

    /// Runs a plan on a fresh thread. The plan must fit the scenario
    /// ([`crate::plan_check::validate`]; callers with a plan from a file check it first and
    /// report the error): a plan that does not would make the world itself fail.
    pub fn run_plan(&self, spec: &ScenarioSpec, plan: Plan, keep_trace: bool) -> RunReport {
        assert!(self.fits(spec), "variant {} tests {} and cannot run scenario {}", self.name(), self.system(), spec.name);
        if let Err(e) = crate::plan_check::validate(&plan, spec) {
            panic!("plan of seed {} does not fit scenario {}: {e}", plan.seed, spec.name);
        }
        match self {
            Subject::Alarms(f) => crate::world::run_plan(spec, f.clone(), plan, keep_trace),
            Subject::Queue(q) => q.run_plan(spec, plan, keep_trace),
        }
    }
}

impl std::fmt::Debug for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.system(), self.name())
    }
}

impl From<Arc<dyn SchedulerFactory>> for Subject {
    fn from(f: Arc<dyn SchedulerFactory>) -> Subject {
        Subject::Alarms(f)
    }
}

impl<T: SchedulerFactory + 'static> From<Arc<T>> for Subject {
    fn from(f: Arc<T>) -> Subject {
        Subject::Alarms(f)
    }
}

impl From<Arc<dyn QueueFactory>> for Subject {
    fn from(q: Arc<dyn QueueFactory>) -> Subject {
        Subject::Queue(q)
    }
}

impl From<&Subject> for Subject {
    fn from(s: &Subject) -> Subject {
        s.clone()
    }
}
