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

pub use actor::PriorTask;
use actor::WorkerdActor;
pub use fixes::Fixes;
use alarmsim_scheduler::api::{ActorScheduler, CommandBound, IdleAgreement, ManagerScheduler, SchedulerFactory};
use alarmsim_scheduler::backoff::RetryPolicy;
use alarmsim_scheduler::probe::Probes;
use alarmsim_scheduler::{ActorId, AlarmRow, DurableState};
use manager::WorkerdLocalScheduler;

/// The cloudflare/workerd commit the port follows, line for line.
pub const UPSTREAM_COMMIT: &str = "6552d999c79ef651b5463c6d692d065a8ce6f859";

/// One way to run the port: the hooks' `priorTask` behaviour and the proposed fixes on. The
/// catalog has three ([`WORKERD_HEAD`], [`WORKERD_HEAD_AWAITING`], [`WORKERD_HEAD_FIXED`]);
/// [`WorkerdPort::with_fixes`] builds others (`tests/workerd_findings.rs` switches each fix on
/// alone).
#[derive(Clone, Copy, Debug)]
pub struct WorkerdPort {
    name: &'static str,
    description: &'static str,
    prior_task: PriorTask,
    fixes: Fixes,
}

/// Local workerd: `ActorSqlite` with hooks that ignore `priorTask` (R20), and the local
/// scheduler.
pub const WORKERD_HEAD: WorkerdPort = WorkerdPort {
    name: "workerd-head",
    description: "PORT of workerd 6552d999 (not a bug variant): ActorSqlite's alarm logic with local hooks (priorTask ignored, R20) and the local AlarmScheduler",
    prior_task: PriorTask::Ignore,
    fixes: Fixes::NONE,
};

/// The same `ActorSqlite` with hooks that await `priorTask`, as production's hooks do.
pub const WORKERD_HEAD_AWAITING: WorkerdPort = WorkerdPort {
    name: "workerd-head-awaiting",
    description: "PORT of workerd 6552d999 (not a bug variant): ActorSqlite's alarm logic with hooks that await priorTask (production's manager) and the local AlarmScheduler",
    prior_task: PriorTask::Await,
    fixes: Fixes::NONE,
};

/// Local workerd with every fix `docs/FINDINGS.md` proposes switched on.
pub const WORKERD_HEAD_FIXED: WorkerdPort = WorkerdPort {
    name: "workerd-head-fixed",
    description: "PORT of workerd 6552d999 with every fix docs/FINDINGS.md proposes (local hooks, the local AlarmScheduler)",
    prior_task: PriorTask::Ignore,
    fixes: Fixes::ALL,
};

/// The fixed port judged under a production-style RPC link: F1–F8 plus R1's fixes (fenced
/// commands, a result that carries the actor's alarm, move-laters sent again), R2's (a
/// stale parked later time dropped) and R3's (only the newest request's answer moves
/// `alarmScheduledNoLaterThan`).
pub const WORKERD_HEAD_FIXED_RPC: WorkerdPort = WorkerdPort {
    name: "workerd-head-fixed-rpc",
    description: "PORT of workerd 6552d999 with every fix docs/FINDINGS.md proposes, R1's, R2's and R3's for an RPC link too (local hooks, the local AlarmScheduler)",
    prior_task: PriorTask::Ignore,
    fixes: Fixes::ALL_AND_RPC,
};

impl WorkerdPort {
    /// Local workerd with the chosen fixes on; not in the catalog.
    pub const fn with_fixes(fixes: Fixes) -> WorkerdPort {
        WorkerdPort {
            name: "workerd-head-with-fixes",
            description: "PORT of workerd 6552d999 with the chosen fixes of docs/FINDINGS.md (local hooks, the local AlarmScheduler)",
            prior_task: PriorTask::Ignore,
            fixes,
        }
    }
}

impl SchedulerFactory for WorkerdPort {
    fn name(&self) -> &str {
        self.name
    }

    fn description(&self) -> &str {
        self.description
    }

    fn new_actor(&self, _actor: ActorId, incarnation: u64, durable: DurableState, _probes: &Probes) -> Box<dyn ActorScheduler> {
        Box::new(WorkerdActor::load_with(incarnation, durable, self.prior_task, self.fixes))
    }

    fn new_manager(&self, rows: Vec<AlarmRow>, policy: RetryPolicy, _probes: &Probes) -> Box<dyn ManagerScheduler> {
        Box::new(WorkerdLocalScheduler::load_with(rows, policy, self.fixes))
    }

    /// `actor-sqlite.h`: the scheduled alarm is "always equal to or earlier than" the persisted
    /// one, and the local scheduler keeps a retry for an alarm deleted while it ran (R19) or
    /// replaced during its backoff (R17); the fire is cancelled or rescheduled on arrival.
    fn idle_agreement(&self) -> IdleAgreement {
        IdleAgreement::EarlierAllowed
    }

    /// workerd's I3 (PR #6383) bounds the move-later chain: one in flight, one parked. Beside
    /// it a precommit move-earlier and a cancel's reschedule may be on the wire (A3 in
    /// docs/FINDINGS.md): three in flight, four outstanding. A chain that grows without
    /// bound (B4) still breaks it.
    fn command_bound(&self) -> CommandBound {
        CommandBound { in_flight: 3, outstanding: 4 }
    }
}
