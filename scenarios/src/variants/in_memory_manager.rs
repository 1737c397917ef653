//! The local alarm scheduler before workerd #6104: alarms lived in one global in-memory
//! SQLite database, so every alarm the manager held was lost when its process restarted.
//!
//! The scheduler is the reference; the manager's rows are simply never made durable.

use alarmsim_scheduler::api::{ActorScheduler, ManagerScheduler, SchedulerFactory};
use alarmsim_scheduler::backoff::RetryPolicy;
use alarmsim_scheduler::{ActorAlarms, ActorId, AlarmRow, DurableState, ManagerCore};

/// The pre-#6104 manager: rows in memory only.
#[derive(Clone, Copy, Debug, Default)]
pub struct InMemoryManager;

impl SchedulerFactory for InMemoryManager {
    fn name(&self) -> &str {
        "in-memory-manager"
    }

    fn description(&self) -> &str {
        "before workerd #6104: the manager keeps its alarms in memory only, so a manager restart loses every pending alarm"
    }

    fn new_actor(&self, actor: ActorId, incarnation: u64, durable: DurableState) -> Box<dyn ActorScheduler> {
        Box::new(ActorAlarms::load(actor, incarnation, durable))
    }

    fn new_manager(&self, rows: Vec<AlarmRow>, policy: RetryPolicy) -> Box<dyn ManagerScheduler> {
        Box::new(ManagerCore::load(rows, policy))
    }

    fn manager_persists_rows(&self) -> bool {
        false
    }
}
