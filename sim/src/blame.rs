//! Whose panic is it? The scheduler's (or queue's) under test, or the simulator's own.
//!
//! A panic of the system under test is a finding (`no-panic`); a panic of the simulator is
//! a bug of alarmsim (or an input it failed to check) and must never be reported as the
//! scheduler's (issue #16: a bad plan made the world panic, and the user's scheduler was
//! blamed). The worlds call the system under test only through trait objects and one
//! generic queue type, so the seam is wrapped once here: [`GuardedFactory`] hands out actor
//! and manager cores whose every call runs inside [`subject`], and [`GuardedQueue`] does the
//! same for a [`JobQueue`], handing the queue a [`Db`] whose hooks run as harness code again.
//! The panic hook (`seed_thread.rs`) reads [`in_subject`] at the moment of the panic.
//!
//! Not covered: a panic in the system's `Drop` (the world drops cores as harness code).

use alarmsim_scheduler::api::{ActorScheduler, CommandBound, IdleAgreement, ManagerScheduler, SchedulerFactory};
use alarmsim_scheduler::backoff::{FailureFacts, RetryPolicy, RetryState};
use alarmsim_scheduler::queue::{ClaimedJob, Db, FailOutcome, JobQueue, NewJob, QueueConfig, QueueError, Reclaimed, Wakeup};
use alarmsim_scheduler::{
    ActorEffect, ActorId, AlarmError, AlarmRow, Applied, AlarmTime, ArmDecision, CallId, CommitId, DurableState, Fence, Fire, FireResult, Gate,
    ManagerEffect, Millis, WriteOptions,
};
use alarmsim_scheduler::probe::{Probe, Probes};
use rand::RngCore;
use std::cell::Cell;
use std::future::Future;
use std::sync::Arc;

thread_local! {
    static IN_SUBJECT: Cell<bool> = const { Cell::new(false) };
}

/// Whether the code running now on this thread is the system under test's.
pub(crate) fn in_subject() -> bool {
    IN_SUBJECT.with(Cell::get)
}

/// Runs `f` as the system under test's (`true`) or the harness's (`false`) code, restoring
/// the previous owner afterwards, also when `f` unwinds.
fn owned_by<T>(subject: bool, f: impl FnOnce() -> T) -> T {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            IN_SUBJECT.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(IN_SUBJECT.with(|c| c.replace(subject)));
    f()
}

/// Runs `f` as code of the system under test.
pub(crate) fn subject<T>(f: impl FnOnce() -> T) -> T {
    owned_by(true, f)
}

/// Polls `future` with every poll owned by `subject` (true: the system under test).
async fn polled_as<F: Future>(subject: bool, future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(|cx| owned_by(subject, || future.as_mut().poll(cx))).await
}

/// A scheduler factory whose cores run as the system under test's code.
pub(crate) struct GuardedFactory(pub Arc<dyn SchedulerFactory>);

struct GuardedActor(Box<dyn ActorScheduler>);
struct GuardedManager(Box<dyn ManagerScheduler>);

/// Delegates each listed method to the wrapped value, inside [`subject`].
macro_rules! delegate {
    ($( $receiver:tt fn $name:ident($($arg:ident: $ty:ty),*) $(-> $ret:ty)?; )*) => {
        $( delegate!(@one $receiver $name ($($arg: $ty),*) ($($ret)?)); )*
    };
    (@one ref $name:ident ($($arg:ident: $ty:ty),*) ($($ret:ty)?)) => {
        fn $name(&self, $($arg: $ty),*) $(-> $ret)? { subject(|| self.0.$name($($arg),*)) }
    };
    (@one mut $name:ident ($($arg:ident: $ty:ty),*) ($($ret:ty)?)) => {
        fn $name(&mut self, $($arg: $ty),*) $(-> $ret)? { subject(|| self.0.$name($($arg),*)) }
    };
}

impl SchedulerFactory for GuardedFactory {
    fn name(&self) -> &str {
        self.0.name()
    }
    fn description(&self) -> &str {
        self.0.description()
    }
    fn new_actor(&self, actor: ActorId, incarnation: u64, durable: DurableState, probes: &Probes) -> Box<dyn ActorScheduler> {
        Box::new(GuardedActor(subject(|| self.0.new_actor(actor, incarnation, durable, probes))))
    }
    fn new_manager(&self, rows: Vec<AlarmRow>, policy: RetryPolicy, probes: &Probes) -> Box<dyn ManagerScheduler> {
        Box::new(GuardedManager(subject(|| self.0.new_manager(rows, policy, probes))))
    }
    delegate! {
        ref fn manager_persists_rows() -> bool;
        ref fn schedule_next(existing: AlarmTime, now: Millis, delay_ms: i64) -> Option<Millis>;
        ref fn exit_rearm(now: Millis, next_due: AlarmTime, sleep_after: AlarmTime) -> Millis;
        ref fn retry_counts(facts: FailureFacts) -> bool;
        ref fn probes() -> Vec<&'static Probe>;
        // Every provided method must be forwarded: a wrapper that let one fall back to its
        // default silently judged the workerd port by the reference's promise (Exact).
        ref fn idle_agreement() -> IdleAgreement;
        ref fn command_bound() -> CommandBound;
    }
}

impl ActorScheduler for GuardedActor {
    delegate! {
        ref fn get_alarm() -> Result<AlarmTime, AlarmError>;
        mut fn set_alarm(time: Millis, now: Millis, options: WriteOptions) -> Result<(), AlarmError>;
        mut fn delete_alarm(options: WriteOptions) -> Result<(), AlarmError>;
        ref fn get(key: &str) -> Result<Option<Vec<u8>>, AlarmError>;
        mut fn put(key: &str, value: Vec<u8>, options: WriteOptions) -> Result<(), AlarmError>;
        mut fn delete(key: &str, options: WriteOptions) -> Result<(), AlarmError>;
        mut fn delete_all(delete_alarm: bool, options: WriteOptions) -> Result<(), AlarmError>;
        mut fn txn_begin() -> Result<(), AlarmError>;
        mut fn txn_commit(options: WriteOptions) -> Result<(), AlarmError>;
        mut fn txn_rollback() -> Result<(), AlarmError>;
        mut fn end_turn();
        mut fn arm_alarm_handler(scheduled: Millis, now: Millis) -> Result<ArmDecision, AlarmError>;
        mut fn handler_finished(succeeded: bool);
        mut fn abandon_alarm(scheduled: Millis) -> Result<AlarmTime, AlarmError>;
        mut fn report() -> (AlarmTime, Fence);
        mut fn on_commit_result(id: CommitId, ok: bool);
        mut fn on_schedule_result(call: CallId, ok: bool);
        mut fn poll_effect() -> Option<ActorEffect>;
        ref fn gate() -> Gate;
        ref fn stored_alarm() -> AlarmTime;
        ref fn commands_outstanding() -> usize;
    }
}

impl ManagerScheduler for GuardedManager {
    delegate! {
        mut fn schedule(actor: &ActorId, time: AlarmTime, fence: Fence, name: Option<String>) -> Applied;
        mut fn take_due(now: Millis) -> Vec<Fire>;
        ref fn next_wakeup() -> Option<Millis>;
        mut fn on_fire_result(actor: &ActorId, scheduled: Millis, result: FireResult, now: Millis, rng: &mut dyn RngCore);
        mut fn on_abandon_result(actor: &ActorId, scheduled: Millis, answer: Result<(AlarmTime, Fence), ()>, now: Millis);
        mut fn poll_effect() -> Option<ManagerEffect>;
        ref fn effective_time(actor: &ActorId) -> AlarmTime;
        ref fn retry_state(actor: &ActorId) -> Option<RetryState>;
    }
}

/// A job queue whose every poll runs as the system under test's code.
pub(crate) struct GuardedQueue<Q>(Q);

/// The world's [`Db`] as the queue under test sees it: its hooks are harness code.
struct HarnessDb<'a, D>(&'a mut D);

impl<D: Db> Db for HarnessDb<'_, D> {
    async fn statement(&mut self, label: &'static str) -> Result<u64, rusqlite::Error> {
        polled_as(false, self.0.statement(label)).await
    }
    async fn busy(&mut self, attempt: u32) -> bool {
        polled_as(false, self.0.busy(attempt)).await
    }
    fn conn(&self) -> &rusqlite::Connection {
        owned_by(false, || self.0.conn())
    }
    fn probe(&mut self, probe: &'static Probe) {
        self.0.probe(probe);
    }
}

impl<Q: JobQueue> JobQueue for GuardedQueue<Q> {
    fn with_config(config: QueueConfig) -> Self {
        GuardedQueue(subject(|| Q::with_config(config)))
    }
    fn probes() -> Vec<&'static Probe> {
        Q::probes()
    }
    async fn open<D: Db>(&mut self, db: &mut D) -> Result<Vec<Reclaimed>, QueueError> {
        polled_as(true, self.0.open(&mut HarnessDb(db))).await
    }
    async fn enqueue<D: Db>(&mut self, db: &mut D, job: NewJob) -> Result<(), QueueError> {
        polled_as(true, self.0.enqueue(&mut HarnessDb(db), job)).await
    }
    async fn claim<D: Db>(&mut self, db: &mut D, owner: &str) -> Result<Option<ClaimedJob>, QueueError> {
        polled_as(true, self.0.claim(&mut HarnessDb(db), owner)).await
    }
    async fn complete<D: Db>(&mut self, db: &mut D, job: &ClaimedJob) -> Result<(), QueueError> {
        polled_as(true, self.0.complete(&mut HarnessDb(db), job)).await
    }
    async fn fail<D: Db>(&mut self, db: &mut D, job: &ClaimedJob, error: &str) -> Result<FailOutcome, QueueError> {
        polled_as(true, self.0.fail(&mut HarnessDb(db), job, error)).await
    }
    async fn reclaim_expired<D: Db>(&mut self, db: &mut D) -> Result<Vec<Reclaimed>, QueueError> {
        polled_as(true, self.0.reclaim_expired(&mut HarnessDb(db))).await
    }
    async fn wakeup<D: Db>(&mut self, db: &mut D) -> Result<Wakeup, QueueError> {
        polled_as(true, self.0.wakeup(&mut HarnessDb(db))).await
    }
    async fn background<D: Db>(&mut self, db: &mut D) -> Result<(), QueueError> {
        polled_as(true, self.0.background(&mut HarnessDb(db))).await
    }
    fn has_background_work(&self) -> bool {
        subject(|| self.0.has_background_work())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ownership_is_restored_after_an_unwind() {
        assert!(!in_subject());
        let caught = std::panic::catch_unwind(|| subject(|| panic!("the subject's")));
        assert!(caught.is_err());
        assert!(!in_subject(), "a panic inside the subject must not leave the harness blamed as the subject");
        subject(|| {
            assert!(in_subject());
            owned_by(false, || assert!(!in_subject()));
            assert!(in_subject());
        });
    }

    /// A factory that overrides every provided method with a non-default answer.
    struct Unusual;

    impl SchedulerFactory for Unusual {
        fn name(&self) -> &str {
            "unusual"
        }
        fn description(&self) -> &str {
            "overrides every provided method"
        }
        fn new_actor(&self, actor: ActorId, incarnation: u64, durable: DurableState, probes: &Probes) -> Box<dyn ActorScheduler> {
            alarmsim_scheduler::api::Reference.new_actor(actor, incarnation, durable, probes)
        }
        fn new_manager(&self, rows: Vec<AlarmRow>, policy: RetryPolicy, probes: &Probes) -> Box<dyn ManagerScheduler> {
            alarmsim_scheduler::api::Reference.new_manager(rows, policy, probes)
        }
        fn idle_agreement(&self) -> IdleAgreement {
            IdleAgreement::EarlierAllowed
        }
        fn manager_persists_rows(&self) -> bool {
            !alarmsim_scheduler::api::Reference.manager_persists_rows()
        }
        fn command_bound(&self) -> CommandBound {
            CommandBound { in_flight: 7, outstanding: 9 }
        }
    }

    #[test]
    fn the_guard_forwards_provided_methods() {
        let guarded = GuardedFactory(Arc::new(Unusual));
        assert_eq!(guarded.idle_agreement(), IdleAgreement::EarlierAllowed);
        assert_eq!(guarded.command_bound(), CommandBound { in_flight: 7, outstanding: 9 });
        assert_eq!(guarded.manager_persists_rows(), Unusual.manager_persists_rows());
    }
}
