//! Shared plumbing of the bug library: wrappers that run the reference cores unchanged and
//! let a variant intercept calls, effects and results.
//!
//! A variant re-introduces one historical bug by overriding a hook or two of
//! [`ActorHooks`] or [`ManagerHooks`]; everything it does not override behaves exactly like
//! the reference (a [`Wrapped`] with no overrides produces the reference's effects in the
//! reference's order, so a variant's run only departs from the reference's run where its
//! bug does). Variants never touch the reference code: they drive `ActorAlarms` and
//! `ManagerCore` through their public API.
//!
//! Nothing here draws random numbers: a variant is a deterministic function of the calls
//! the simulator makes, so a failing seed replays exactly.

use alarmsim_scheduler::api::{ActorScheduler, ManagerScheduler};
use alarmsim_scheduler::backoff::RetryState;
use alarmsim_scheduler::manager::Applied;
use alarmsim_scheduler::{
    ActorAlarms, ActorEffect, ActorId, AlarmError, AlarmTime, ArmDecision, CallId, CommitId, Fence, Fire, FireResult, Gate,
    ManagerCore, ManagerEffect, Millis, WriteOptions,
};
use rand::RngCore;
use std::collections::VecDeque;

/// Call ids a variant sends on its own start here (the reference numbers its calls from 1).
pub const INJECTED_CALLS: u64 = 1 << 40;
/// Arm ids a variant hands out on its own start here.
pub const INJECTED_ARMS: u64 = 1 << 40;

/// Which call of the simulator the inner actor was handling when it produced an effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ctx {
    /// The constructor (a restarted actor re-announces its stored alarm).
    Load,
    /// set/delete/put/deleteAll (they only stage writes).
    Api,
    /// The end of a turn: precommit scheduling (move earlier) or a commit ships.
    EndTurn,
    /// `armAlarmHandler`: a Cancel reschedules the manager.
    Arm,
    /// The handler ended: the deferred delete may commit.
    HandlerFinished,
    /// `abandonAlarm`.
    Abandon,
    /// A commit was acknowledged: post-commit (move-later) scheduling.
    CommitResult,
    /// A schedule command finished: the channel drains, a pending commit continues.
    ScheduleResult,
}

/// A schedule command on its way to the manager.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sent {
    /// The id the simulator sees (the inner's own id for the inner's commands).
    pub call: CallId,
    pub time: AlarmTime,
    pub fence: Fence,
    /// The inner command to complete when this one completes (`None`: the variant's own).
    pub forward: Option<CallId>,
}

/// The actor's link to the manager as the variant sees it: one command in flight at a time,
/// the rest in order behind it. The inner actor never has more than one command in flight,
/// so for the reference this is a pass-through; a variant's own commands queue here too,
/// which keeps them ordered with the inner's (they are bugs of *what* is sent, not of the
/// link). A variant that needs concurrency pushes to the outbox directly.
#[derive(Debug, Default)]
pub struct Wire {
    queue: VecDeque<Sent>,
    in_flight: Option<Sent>,
}

impl Wire {
    /// Commands in flight plus queued.
    pub fn len(&self) -> usize {
        self.queue.len() + usize::from(self.in_flight.is_some())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The variant's own commands in flight or queued.
    pub fn own(&self) -> usize {
        self.queue.iter().chain(self.in_flight.iter()).filter(|s| s.forward.is_none()).count()
    }

    /// Inner commands in flight or queued.
    pub fn forwarded(&self) -> usize {
        self.len() - self.own()
    }

    fn push(&mut self, sent: Sent, out: &mut VecDeque<ActorEffect>) {
        self.queue.push_back(sent);
        self.pump(out);
    }

    fn pump(&mut self, out: &mut VecDeque<ActorEffect>) {
        if self.in_flight.is_none() {
            if let Some(sent) = self.queue.pop_front() {
                out.push_back(ActorEffect::Schedule { call: sent.call, time: sent.time, fence: sent.fence });
                self.in_flight = Some(sent);
            }
        }
    }

    fn complete(&mut self, call: CallId) -> Option<Sent> {
        if self.in_flight.as_ref().map(|s| s.call) != Some(call) {
            return None;
        }
        self.in_flight.take()
    }
}

/// What an actor hook works on: the reference actor, the outbox the simulator polls, and
/// the wire.
#[derive(Debug)]
pub struct Parts {
    pub inner: ActorAlarms,
    pub out: VecDeque<ActorEffect>,
    pub wire: Wire,
    next_call: u64,
    next_arm: u64,
}

impl Parts {
    /// Sends an inner effect on as the reference would: commands over the wire, the rest out.
    pub fn pass(&mut self, effect: ActorEffect) {
        match effect {
            ActorEffect::Schedule { call, time, fence } => self.wire.push(Sent { call, time, fence, forward: Some(call) }, &mut self.out),
            other => self.out.push_back(other),
        }
    }

    /// Queues a command of the variant's own on the wire.
    pub fn inject(&mut self, time: AlarmTime, fence: Fence) -> CallId {
        let call = self.new_call();
        self.wire.push(Sent { call, time, fence, forward: None }, &mut self.out);
        call
    }

    /// Sends a command of the variant's own at once, whatever else is in flight.
    pub fn inject_now(&mut self, time: AlarmTime, fence: Fence) -> CallId {
        let call = self.new_call();
        self.out.push_back(ActorEffect::Schedule { call, time, fence });
        call
    }

    /// Queues an inner command on the wire (the inner is told when it completes).
    pub fn forward(&mut self, call: CallId, time: AlarmTime, fence: Fence) {
        self.wire.push(Sent { call, time, fence, forward: Some(call) }, &mut self.out);
    }

    pub fn new_call(&mut self) -> CallId {
        self.next_call += 1;
        CallId(INJECTED_CALLS + self.next_call)
    }

    pub fn new_arm(&mut self) -> alarmsim_scheduler::ArmId {
        self.next_arm += 1;
        alarmsim_scheduler::ArmId(INJECTED_ARMS + self.next_arm)
    }

    /// A fence for a command the variant sends on its own now: it outranks every command the
    /// inner actor has issued so far (and its reports), and is outranked by the next one.
    pub fn own_fence(&self) -> Fence {
        let f = self.inner.latest_fence();
        // Above every report of this seq (they count up from 1), below the next command.
        Fence { report: u32::MAX, ..f }
    }
}

/// The hooks of an actor-side variant. Every default is the reference behaviour.
pub trait ActorHooks: 'static {
    /// Runs before every storage call of the actor's code (get/set/delete alarm, get, put,
    /// deleteAll); an error is returned instead of calling the inner actor.
    fn storage_check(&self, x: &Parts) -> Result<(), AlarmError> {
        let _ = x;
        Ok(())
    }
    /// `getAlarm()` of the actor's code, after `storage_check`.
    fn get_alarm(&self, x: &Parts) -> Result<AlarmTime, AlarmError> {
        x.inner.get_alarm()
    }
    /// `setAlarm(time)` of the actor's code, after `storage_check`.
    fn set_alarm(&mut self, x: &mut Parts, time: Millis, now: Millis, options: WriteOptions) -> Result<(), AlarmError> {
        x.inner.set_alarm(time, now, options)
    }
    /// An effect the inner actor produced while handling `ctx`.
    fn effect(&mut self, x: &mut Parts, ctx: Ctx, effect: ActorEffect) {
        let _ = ctx;
        x.pass(effect);
    }
    /// After every call, once the inner's effects are drained (e.g. to send held commands).
    fn after(&mut self, x: &mut Parts, ctx: Ctx) {
        let _ = (x, ctx);
    }
    fn end_turn(&mut self, x: &mut Parts) {
        x.inner.end_turn();
    }
    /// The commit of an explicit transaction, after `storage_check`.
    fn txn_commit(&mut self, x: &mut Parts, options: WriteOptions) -> Result<(), AlarmError> {
        x.inner.txn_commit(options)
    }
    /// The rollback of an explicit transaction, after `storage_check`.
    fn txn_rollback(&mut self, x: &mut Parts) -> Result<(), AlarmError> {
        x.inner.txn_rollback()
    }
    fn arm(&mut self, x: &mut Parts, scheduled: Millis, now: Millis) -> Result<ArmDecision, AlarmError> {
        x.inner.arm_alarm_handler(scheduled, now)
    }
    fn handler_finished(&mut self, x: &mut Parts, succeeded: bool) {
        x.inner.handler_finished(succeeded);
    }
    fn abandon(&mut self, x: &mut Parts, scheduled: Millis) -> Result<AlarmTime, AlarmError> {
        x.inner.abandon_alarm(scheduled)
    }
    fn commit_result(&mut self, x: &mut Parts, id: CommitId, ok: bool) {
        x.inner.on_commit_result(id, ok);
    }
    /// Command `call` finished; `sent` is its wire entry if it went over the wire. The
    /// default completes the inner command it stands for.
    fn schedule_result(&mut self, x: &mut Parts, call: CallId, sent: Option<Sent>, ok: bool) {
        forward_result(x, call, sent, ok);
    }
    fn report(&mut self, x: &mut Parts) -> (AlarmTime, Fence) {
        x.inner.report()
    }
    /// Commands in flight plus queued, as the variant honestly counts them.
    fn commands_outstanding(&self, x: &Parts) -> usize {
        x.inner.commands_outstanding() + x.wire.own()
    }
}

/// The reference handling of a finished command: complete the inner command it stands for
/// (a variant's own commands complete nothing).
pub fn forward_result(x: &mut Parts, call: CallId, sent: Option<Sent>, ok: bool) {
    let forward = match sent {
        Some(s) => s.forward,
        None if call.0 < INJECTED_CALLS => Some(call),
        None => None,
    };
    if let Some(inner_call) = forward {
        x.inner.on_schedule_result(inner_call, ok);
    }
}

/// The reference actor behind a variant's hooks.
pub struct Wrapped<H> {
    parts: Parts,
    hooks: H,
}

impl<H: ActorHooks> Wrapped<H> {
    pub fn new(inner: ActorAlarms, hooks: H) -> Wrapped<H> {
        let parts = Parts { inner, out: VecDeque::new(), wire: Wire::default(), next_call: 0, next_arm: 0 };
        let mut wrapped = Wrapped { parts, hooks };
        wrapped.drain(Ctx::Load);
        wrapped
    }

    /// Hands every effect the inner produced to the hooks, then lets them act.
    fn drain(&mut self, ctx: Ctx) {
        loop {
            while let Some(effect) = self.parts.inner.poll_effect() {
                self.hooks.effect(&mut self.parts, ctx, effect);
            }
            self.hooks.after(&mut self.parts, ctx);
            match self.parts.inner.poll_effect() {
                Some(effect) => self.hooks.effect(&mut self.parts, ctx, effect),
                None => break,
            }
        }
        self.parts.wire.pump(&mut self.parts.out);
    }
}

impl<H: ActorHooks> ActorScheduler for Wrapped<H> {
    fn get_alarm(&self) -> Result<AlarmTime, AlarmError> {
        self.hooks.storage_check(&self.parts)?;
        self.hooks.get_alarm(&self.parts)
    }
    fn set_alarm(&mut self, time: Millis, now: Millis, options: WriteOptions) -> Result<(), AlarmError> {
        self.hooks.storage_check(&self.parts)?;
        let r = self.hooks.set_alarm(&mut self.parts, time, now, options);
        self.drain(Ctx::Api);
        r
    }
    fn delete_alarm(&mut self, options: WriteOptions) -> Result<(), AlarmError> {
        self.hooks.storage_check(&self.parts)?;
        let r = self.parts.inner.delete_alarm(options);
        self.drain(Ctx::Api);
        r
    }
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, AlarmError> {
        self.hooks.storage_check(&self.parts)?;
        self.parts.inner.get(key)
    }
    fn put(&mut self, key: &str, value: Vec<u8>, options: WriteOptions) -> Result<(), AlarmError> {
        self.hooks.storage_check(&self.parts)?;
        let r = self.parts.inner.put(key, value, options);
        self.drain(Ctx::Api);
        r
    }
    fn delete(&mut self, key: &str, options: WriteOptions) -> Result<(), AlarmError> {
        self.hooks.storage_check(&self.parts)?;
        let r = self.parts.inner.delete(key, options);
        self.drain(Ctx::Api);
        r
    }
    fn delete_all(&mut self, delete_alarm: bool, options: WriteOptions) -> Result<(), AlarmError> {
        self.hooks.storage_check(&self.parts)?;
        let r = self.parts.inner.delete_all(delete_alarm, options);
        self.drain(Ctx::Api);
        r
    }
    fn txn_begin(&mut self) -> Result<(), AlarmError> {
        self.hooks.storage_check(&self.parts)?;
        self.parts.inner.txn_begin()
    }
    fn txn_commit(&mut self, options: WriteOptions) -> Result<(), AlarmError> {
        self.hooks.storage_check(&self.parts)?;
        let r = self.hooks.txn_commit(&mut self.parts, options);
        self.drain(Ctx::Api);
        r
    }
    fn txn_rollback(&mut self) -> Result<(), AlarmError> {
        self.hooks.storage_check(&self.parts)?;
        let r = self.hooks.txn_rollback(&mut self.parts);
        self.drain(Ctx::Api);
        r
    }
    fn end_turn(&mut self) {
        self.hooks.end_turn(&mut self.parts);
        self.drain(Ctx::EndTurn);
    }
    fn arm_alarm_handler(&mut self, scheduled: Millis, now: Millis) -> Result<ArmDecision, AlarmError> {
        let r = self.hooks.arm(&mut self.parts, scheduled, now);
        self.drain(Ctx::Arm);
        r
    }
    fn handler_finished(&mut self, succeeded: bool) {
        self.hooks.handler_finished(&mut self.parts, succeeded);
        self.drain(Ctx::HandlerFinished);
    }
    fn abandon_alarm(&mut self, scheduled: Millis) -> Result<AlarmTime, AlarmError> {
        let r = self.hooks.abandon(&mut self.parts, scheduled);
        self.drain(Ctx::Abandon);
        r
    }
    fn report(&mut self) -> (AlarmTime, Fence) {
        self.hooks.report(&mut self.parts)
    }
    fn on_commit_result(&mut self, id: CommitId, ok: bool) {
        self.hooks.commit_result(&mut self.parts, id, ok);
        self.drain(Ctx::CommitResult);
    }
    fn on_schedule_result(&mut self, call: CallId, ok: bool) {
        let sent = self.parts.wire.complete(call);
        self.hooks.schedule_result(&mut self.parts, call, sent, ok);
        self.drain(Ctx::ScheduleResult);
    }
    fn poll_effect(&mut self) -> Option<ActorEffect> {
        self.parts.out.pop_front()
    }
    fn gate(&self) -> Gate {
        self.parts.inner.gate()
    }
    fn stored_alarm(&self) -> AlarmTime {
        self.parts.inner.stored_alarm()
    }
    fn commands_outstanding(&self) -> usize {
        self.hooks.commands_outstanding(&self.parts)
    }
}

/// The hooks of a manager-side variant. Every default is the reference behaviour.
pub trait ManagerHooks: 'static {
    fn schedule(&mut self, inner: &mut ManagerCore, actor: &ActorId, time: AlarmTime, fence: Fence, name: Option<String>) -> Applied {
        inner.schedule(actor, time, fence, name)
    }
    fn take_due(&mut self, inner: &mut ManagerCore, now: Millis) -> Vec<Fire> {
        inner.take_due(now)
    }
    fn next_wakeup(&self, inner: &ManagerCore) -> Option<Millis> {
        inner.next_wakeup()
    }
    fn on_fire_result(&mut self, inner: &mut ManagerCore, actor: &ActorId, scheduled: Millis, result: FireResult, now: Millis, rng: &mut dyn RngCore) {
        inner.on_fire_result(actor, scheduled, result, now, rng);
    }
    fn on_abandon_result(&mut self, inner: &mut ManagerCore, actor: &ActorId, scheduled: Millis, answer: Result<(AlarmTime, Fence), ()>, now: Millis) {
        inner.on_abandon_result(actor, scheduled, answer, now);
    }
    /// An effect on its way out (`None` swallows it).
    fn effect(&mut self, effect: ManagerEffect) -> Option<ManagerEffect> {
        Some(effect)
    }
    fn effective_time(&self, inner: &ManagerCore, actor: &ActorId) -> AlarmTime {
        inner.effective_time(actor)
    }
}

/// The reference manager behind a variant's hooks.
pub struct WrappedManager<H> {
    inner: ManagerCore,
    hooks: H,
}

impl<H: ManagerHooks> WrappedManager<H> {
    pub fn new(inner: ManagerCore, hooks: H) -> WrappedManager<H> {
        WrappedManager { inner, hooks }
    }
}

impl<H: ManagerHooks> ManagerScheduler for WrappedManager<H> {
    fn schedule(&mut self, actor: &ActorId, time: AlarmTime, fence: Fence, name: Option<String>) -> Applied {
        self.hooks.schedule(&mut self.inner, actor, time, fence, name)
    }
    fn take_due(&mut self, now: Millis) -> Vec<Fire> {
        self.hooks.take_due(&mut self.inner, now)
    }
    fn next_wakeup(&self) -> Option<Millis> {
        self.hooks.next_wakeup(&self.inner)
    }
    fn on_fire_result(&mut self, actor: &ActorId, scheduled: Millis, result: FireResult, now: Millis, rng: &mut dyn RngCore) {
        self.hooks.on_fire_result(&mut self.inner, actor, scheduled, result, now, rng);
    }
    fn on_abandon_result(&mut self, actor: &ActorId, scheduled: Millis, answer: Result<(AlarmTime, Fence), ()>, now: Millis) {
        self.hooks.on_abandon_result(&mut self.inner, actor, scheduled, answer, now);
    }
    fn poll_effect(&mut self) -> Option<ManagerEffect> {
        loop {
            let effect = self.inner.poll_effect()?;
            if let Some(effect) = self.hooks.effect(effect) {
                return Some(effect);
            }
        }
    }
    fn effective_time(&self, actor: &ActorId) -> AlarmTime {
        self.hooks.effective_time(&self.inner, actor)
    }
    fn retry_state(&self, actor: &ActorId) -> Option<RetryState> {
        self.inner.retry_state(actor)
    }
}

/// An RNG for calls that must not draw (a Canceled outcome never retries). Deterministic.
pub struct NoRng;

impl RngCore for NoRng {
    fn next_u32(&mut self) -> u32 {
        0
    }
    fn next_u64(&mut self) -> u64 {
        0
    }
    fn fill_bytes(&mut self, dst: &mut [u8]) {
        dst.fill(0);
    }
}

/// Declares a factory: a unit struct whose actors and managers are the given expressions.
/// `actor: |inner| expr` builds the actor from the loaded reference `ActorAlarms`;
/// `manager: |inner| expr` builds the manager from the loaded reference `ManagerCore`.
#[macro_export]
macro_rules! variant_factory {
    (
        $(#[$meta:meta])*
        $ty:ident, name: $name:expr, description: $desc:expr,
        actor: |$a:ident| $actor:expr,
        manager: |$m:ident| $manager:expr
        $(, persists_rows: $persists:expr)?
        $(, policy: |$p:ident| $policy:expr)?
        $(, retry_counts: |$f:ident| $counts:expr)?
        $(,)?
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, Default)]
        pub struct $ty;

        impl alarmsim_scheduler::api::SchedulerFactory for $ty {
            fn name(&self) -> &str {
                $name
            }
            fn description(&self) -> &str {
                $desc
            }
            fn new_actor(
                &self,
                actor: alarmsim_scheduler::ActorId,
                incarnation: u64,
                durable: alarmsim_scheduler::DurableState,
                probes: &alarmsim_scheduler::probe::Probes,
            ) -> Box<dyn alarmsim_scheduler::api::ActorScheduler> {
                let $a = alarmsim_scheduler::ActorAlarms::load_probed(actor, incarnation, durable, probes.clone());
                Box::new($actor)
            }
            fn new_manager(
                &self,
                rows: Vec<alarmsim_scheduler::AlarmRow>,
                policy: alarmsim_scheduler::backoff::RetryPolicy,
                probes: &alarmsim_scheduler::probe::Probes,
            ) -> Box<dyn alarmsim_scheduler::api::ManagerScheduler> {
                $( let $p = policy; let policy = $policy; )?
                let $m = alarmsim_scheduler::ManagerCore::load_probed(rows, policy, probes.clone());
                Box::new($manager)
            }
            /// The reference cores' probes: a variant wraps them.
            fn probes(&self) -> Vec<&'static alarmsim_scheduler::probe::Probe> {
                alarmsim_scheduler::probe::reference_alarms()
            }
            $(
                fn manager_persists_rows(&self) -> bool {
                    $persists
                }
            )?
            $(
                fn retry_counts(&self, $f: alarmsim_scheduler::backoff::FailureFacts) -> bool {
                    $counts
                }
            )?
        }
    };
}

/// The reference through the wrappers with no hook overridden: must behave exactly like the
/// reference (the bug library's own test checks it, trace for trace).
#[derive(Debug, Default)]
pub struct NoHooks;

impl ActorHooks for NoHooks {}
impl ManagerHooks for NoHooks {}

crate::variant_factory! {
    /// The reference behind pass-through wrappers (not registered; for tests).
    Passthrough,
    name: "passthrough",
    description: "the reference scheduler behind the bug library's pass-through wrappers",
    actor: |inner| Wrapped::new(inner, NoHooks),
    manager: |inner| WrappedManager::new(inner, NoHooks),
}
