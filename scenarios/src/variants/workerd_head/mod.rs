//! **A port, not a re-introduced bug**: workerd's own alarm logic at
//! [`UPSTREAM_COMMIT`] ("Release 2026-08-22", the snapshot alarm-semantics.md was written
//! from), re-expressed in Rust so the catalog can judge what workerd itself does
//! (issue #15, `docs/FINDINGS.md`).
//!
//! - [`actor`]: `ActorSqlite`'s alarm logic (`src/workerd/io/actor-sqlite.c++`).
//! - [`manager`]: the local `AlarmScheduler` (`src/workerd/server/alarm-scheduler.c++`).
//!
//! Two factories, which differ only in what the embedder's `scheduleRun` does with
//! `priorTask`: `workerd-head` as local workerd runs it (`ActorSqliteHooks` ignore it, R20) and
//! `workerd-head-awaiting` as production's alarm manager does (awaits it before its RPC). Run
//! them under the local, synchronous link (`sweep --link local`, what local workerd is) and
//! under the default RPC link (messages with latency, loss, duplicates and partitions, what a
//! production deployment would see).

pub mod actor;
pub mod fixes;
pub mod manager;

use actor::{PriorTask, WorkerdActor};
pub use fixes::Fixes;
use alarmsim_scheduler::api::{ActorScheduler, IdleAgreement, ManagerScheduler, SchedulerFactory};
use alarmsim_scheduler::backoff::RetryPolicy;
use alarmsim_scheduler::probe::Probes;
use alarmsim_scheduler::{ActorId, AlarmRow, DurableState};
use manager::WorkerdLocalScheduler;

/// The cloudflare/workerd commit the port follows, line for line.
pub const UPSTREAM_COMMIT: &str = "6552d999c79ef651b5463c6d692d065a8ce6f859";

/// Local workerd: `ActorSqlite` with hooks that ignore `priorTask`, and the local scheduler.
#[derive(Clone, Copy, Debug, Default)]
pub struct WorkerdHead;

/// Local workerd with every fix `docs/FINDINGS.md` proposes switched on.
#[derive(Clone, Copy, Debug, Default)]
pub struct WorkerdHeadFixed;

/// Local workerd with the chosen fixes on; not in the catalog: `tests/workerd_findings.rs`
/// switches each fix on alone to show which seeds it repairs.
#[derive(Clone, Copy, Debug, Default)]
pub struct WorkerdHeadWith(pub Fixes);

impl SchedulerFactory for WorkerdHeadWith {
    fn name(&self) -> &str {
        "workerd-head-with-fixes"
    }

    fn description(&self) -> &str {
        "PORT of workerd 6552d999 with the chosen fixes of docs/FINDINGS.md (local hooks, the local AlarmScheduler)"
    }

    fn new_actor(&self, _actor: ActorId, incarnation: u64, durable: DurableState, _probes: &Probes) -> Box<dyn ActorScheduler> {
        Box::new(WorkerdActor::load_with(incarnation, durable, PriorTask::Ignore, self.0))
    }

    fn new_manager(&self, rows: Vec<AlarmRow>, policy: RetryPolicy, _probes: &Probes) -> Box<dyn ManagerScheduler> {
        Box::new(WorkerdLocalScheduler::load_with(rows, policy, self.0))
    }

    fn idle_agreement(&self) -> IdleAgreement {
        IdleAgreement::EarlierAllowed
    }
}

impl SchedulerFactory for WorkerdHeadFixed {
    fn name(&self) -> &str {
        "workerd-head-fixed"
    }

    fn description(&self) -> &str {
        "PORT of workerd 6552d999 with every fix docs/FINDINGS.md proposes (local hooks, the local AlarmScheduler)"
    }

    fn new_actor(&self, actor: ActorId, incarnation: u64, durable: DurableState, probes: &Probes) -> Box<dyn ActorScheduler> {
        WorkerdHeadWith(Fixes::ALL).new_actor(actor, incarnation, durable, probes)
    }

    fn new_manager(&self, rows: Vec<AlarmRow>, policy: RetryPolicy, probes: &Probes) -> Box<dyn ManagerScheduler> {
        WorkerdHeadWith(Fixes::ALL).new_manager(rows, policy, probes)
    }

    fn idle_agreement(&self) -> IdleAgreement {
        IdleAgreement::EarlierAllowed
    }
}

/// The same `ActorSqlite` with hooks that await `priorTask`, as production's manager does.
#[derive(Clone, Copy, Debug, Default)]
pub struct WorkerdHeadAwaiting;

fn new_manager(rows: Vec<AlarmRow>, policy: RetryPolicy, _probes: &Probes) -> Box<dyn ManagerScheduler> {
    Box::new(WorkerdLocalScheduler::load_with(rows, policy, Fixes::default()))
}

impl SchedulerFactory for WorkerdHead {
    fn name(&self) -> &str {
        "workerd-head"
    }

    fn description(&self) -> &str {
        "PORT of workerd 6552d999 (not a bug variant): ActorSqlite's alarm logic with local hooks (priorTask ignored, R20) and the local AlarmScheduler"
    }

    fn new_actor(&self, actor: ActorId, incarnation: u64, durable: DurableState, probes: &Probes) -> Box<dyn ActorScheduler> {
        Box::new(WorkerdActor::load(actor, incarnation, durable, PriorTask::Ignore, probes))
    }

    fn new_manager(&self, rows: Vec<AlarmRow>, policy: RetryPolicy, probes: &Probes) -> Box<dyn ManagerScheduler> {
        new_manager(rows, policy, probes)
    }

    /// `actor-sqlite.h`: the scheduled alarm is "always equal to or earlier than" the persisted
    /// one, and the local scheduler keeps a retry for an alarm deleted while it ran (R19) or
    /// replaced during its backoff (R17); the fire is cancelled or rescheduled on arrival.
    fn idle_agreement(&self) -> IdleAgreement {
        IdleAgreement::EarlierAllowed
    }
}

impl SchedulerFactory for WorkerdHeadAwaiting {
    fn name(&self) -> &str {
        "workerd-head-awaiting"
    }

    fn description(&self) -> &str {
        "PORT of workerd 6552d999 (not a bug variant): ActorSqlite's alarm logic with hooks that await priorTask (production's manager) and the local AlarmScheduler"
    }

    fn new_actor(&self, actor: ActorId, incarnation: u64, durable: DurableState, probes: &Probes) -> Box<dyn ActorScheduler> {
        Box::new(WorkerdActor::load(actor, incarnation, durable, PriorTask::Await, probes))
    }

    fn new_manager(&self, rows: Vec<AlarmRow>, policy: RetryPolicy, probes: &Probes) -> Box<dyn ManagerScheduler> {
        new_manager(rows, policy, probes)
    }

    /// `actor-sqlite.h`: the scheduled alarm is "always equal to or earlier than" the persisted
    /// one, and the local scheduler keeps a retry for an alarm deleted while it ran (R19) or
    /// replaced during its backoff (R17); the fire is cancelled or rescheduled on arrival.
    fn idle_agreement(&self) -> IdleAgreement {
        IdleAgreement::EarlierAllowed
    }
}
