//! B16, cloudflare/containers #189 (fixed by the unmerged PR #191): the container spin loop.
//!
//! Before the fix, `alarm()` slept in memory and then re-armed with `setAlarm(Date.now())`,
//! and `scheduleNextAlarm()` set `now + ms` unconditionally (waking the sleeping handler). A
//! caller during the handler made the exit re-arm clobber its future alarm with "now": the
//! alarm refired at once, again and again, about 280 ms apart.
//!
//! The scheduler is the reference; only the application's two re-arm helpers are the
//! pre-fix ones: the exit re-arm is `now` and `scheduleNextAlarm` always writes.

use alarmsim_scheduler::api::{ActorScheduler, ManagerScheduler, Reference, SchedulerFactory};
use alarmsim_scheduler::backoff::RetryPolicy;
use alarmsim_scheduler::probe::{Probe, Probes};
use alarmsim_scheduler::{ActorId, AlarmRow, AlarmTime, DurableState, Millis};

/// B16: the pre-#191 containers alarm helpers.
#[derive(Clone, Copy, Debug, Default)]
pub struct B16ContainerSpin;

impl SchedulerFactory for B16ContainerSpin {
    fn name(&self) -> &str {
        "b16-container-spin"
    }

    fn description(&self) -> &str {
        "B16 (containers #189/#191): the handler's exit re-arms to now and scheduleNextAlarm writes unconditionally, so container alarms spin"
    }

    fn new_actor(&self, actor: ActorId, incarnation: u64, durable: DurableState, probes: &Probes) -> Box<dyn ActorScheduler> {
        Reference.new_actor(actor, incarnation, durable, probes)
    }

    fn new_manager(&self, rows: Vec<AlarmRow>, policy: RetryPolicy, probes: &Probes) -> Box<dyn ManagerScheduler> {
        Reference.new_manager(rows, policy, probes)
    }

    fn probes(&self) -> Vec<&'static Probe> {
        Reference.probes()
    }

    fn schedule_next(&self, _existing: AlarmTime, now: Millis, delay_ms: i64) -> Option<Millis> {
        Some(now.saturating_add_ms(delay_ms)) // No floor, and a sooner alarm is pushed out.
    }

    fn exit_rearm(&self, now: Millis, _next_due: AlarmTime, _sleep_after: AlarmTime) -> Millis {
        now // `setAlarm(Date.now())` on exit.
    }
}
