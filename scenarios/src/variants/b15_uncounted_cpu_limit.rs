//! B15 (STOR-5337): R14 without its `resourceLimitExceeded` term.
//!
//! workerd decided whether a failed alarm's retry counts with
//! `!outputGateBroken || isUserError`. A handler interrupted at its CPU limit inside a write
//! breaks the output gate (`SQLITE_INTERRUPT`) and is not a user error, so its retry was
//! uncounted, and uncounted retries are unlimited: an alarm whose handler always hits the
//! limit retried forever with `retryCount` stuck at 0. The fix added
//! `|| resourceLimitExceeded`.
//!
//! The cores are the reference's; only the runtime's verdict on a failure is the old one.

use alarmsim_scheduler::api::{ActorScheduler, ManagerScheduler, SchedulerFactory};
use alarmsim_scheduler::backoff::{FailureFacts, RetryPolicy};
use alarmsim_scheduler::{ActorAlarms, ActorId, AlarmRow, DurableState, ManagerCore};

/// The pre-STOR-5337 retry-counting rule.
#[derive(Clone, Copy, Debug, Default)]
pub struct B15UncountedCpuLimit;

impl SchedulerFactory for B15UncountedCpuLimit {
    fn name(&self) -> &str {
        "b15-uncounted-cpu-limit"
    }

    fn description(&self) -> &str {
        "B15 (STOR-5337): a CPU-limit interrupt that broke the output gate does not count as a retry, so such an alarm retries forever with retryCount 0"
    }

    fn new_actor(&self, actor: ActorId, incarnation: u64, durable: DurableState) -> Box<dyn ActorScheduler> {
        Box::new(ActorAlarms::load(actor, incarnation, durable))
    }

    fn new_manager(&self, rows: Vec<AlarmRow>, policy: RetryPolicy) -> Box<dyn ManagerScheduler> {
        Box::new(ManagerCore::load(rows, policy))
    }

    fn retry_counts(&self, facts: FailureFacts) -> bool {
        !facts.output_gate_broken || facts.is_user_error
    }
}
