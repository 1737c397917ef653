//! What a run tests: an alarm scheduler or a job queue. The CLI, the sweeps and the shrinker
//! take a [`Subject`], so every tool works for both systems.

use crate::plan::Plan;
use crate::queue::QueueFactory;
use crate::report::RunReport;
use crate::run_options::RunOptions;
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

    /// Every coverage probe a run of this subject may report and the report lists when no
    /// seed reaches it: the subject's own declared ones, then its world's.
    pub fn declared_probes(&self) -> Vec<&'static alarmsim_scheduler::probe::Probe> {
        let (mut own, world) = match self {
            Subject::Alarms(f) => (f.probes(), crate::probes::alarms::ALL),
            Subject::Queue(q) => (q.probes(), crate::probes::queue::ALL),
        };
        own.extend_from_slice(world);
        own
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
    pub fn run_plan(&self, spec: &ScenarioSpec, plan: Plan, options: impl Into<RunOptions>) -> RunReport {
        let options = options.into();
        // A plan drawn with knobs runs on the scenario re-weighted by them (`knobs.rs`).
        let mut knobbed = plan.knobs.map_or_else(|| spec.clone(), |k| k.apply(spec));
        // A plan drawn for local workerd runs on it.
        knobbed.link = plan.link;
        let spec = &knobbed;
        assert!(self.fits(spec), "variant {} tests {} and cannot run scenario {}", self.name(), self.system(), spec.name);
        if let Err(e) = crate::plan_check::validate(&plan, spec) {
            panic!("plan of seed {} does not fit scenario {}: {e}", plan.seed, spec.name);
        }
        match self {
            Subject::Alarms(f) => crate::world::run_plan(spec, f.clone(), plan, options),
            Subject::Queue(q) => q.run_plan(spec, plan, options),
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
