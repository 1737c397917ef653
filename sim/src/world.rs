//! The simulated world of one seed.
//!
//! Every state change happens in [`World::handle`], one [`Event`] at a time. Pending events
//! wait in the world's [`Agenda`] (a timer heap whose same-instant order is drawn from the
//! seed); the driver in `run.rs` advances madsim's clock to each instant and hands the
//! world the events due then. After every event the checkers run, so a violation is caught
//! at the step that caused it.
//!
//! Topology: actor hosts (each with several actors and their SQLite disks), one alarm
//! manager per namespace with its own `metadata.sqlite`, and clients issuing concurrent
//! operations against the same actors. Each actor belongs to one namespace
//! ([`ScenarioSpec::namespace_of`]) and every message of its alarm protocol goes to or comes
//! from that namespace's manager (`World::home`). Faults come from the seed's [`FaultProfile`].

use crate::agenda::Agenda;
use crate::checker::{self, rel, Checker, Violation, EPOCH_MS};
use crate::disk::ActorDisk;
use crate::run::TwoPhases;
use crate::plan::{pick, Action, Node, Op, Plan, Step};
use crate::pool::{Pooled, Reusable};
use crate::store_work::StoreWork;
use crate::profile::FaultProfile;
use crate::scenario::{Invariant, ScenarioSpec};
use crate::trace::{EventKind, Gauges, Trace, TraceEvent};
use alarmsim_scheduler::api::{ActorScheduler, ManagerScheduler, SchedulerFactory};
use alarmsim_scheduler::backoff::{FailureFacts, RetryPolicy};
use alarmsim_scheduler::manager::AlarmRow;
use alarmsim_scheduler::metadata_store::MetadataStore;
use alarmsim_scheduler::time::fires_earlier;
use alarmsim_scheduler::{
    ActorEffect, ActorId, AlarmError, Applied, AlarmTime, ArmDecision, ArmId, CallId, CommitBatch, CommitId, Durability, Fence, Fire,
    FireResult, Gate, Location, ManagerEffect, Millis, Outcome, WriteOptions,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use std::sync::Arc;

/// How long a caller waits before it reports a lost message as a failure.
const LINK_TIMEOUT_MS: u64 = 1_000;
/// Retries of a lost request by the link itself, before it reports failure.
const LINK_RETRIES: u32 = 2;
/// How long the manager takes to notice that a host died during an attempt.
const DEATH_DETECTION_MS: u64 = 2_000;
/// R12: an alarm handler is aborted after 15 minutes of wall time.
const WALL_TIME_LIMIT_MS: u64 = 15 * 60 * 1000;

/// R14's facts of a handler that threw: the user's error, the gate intact.
const USER_ERROR: FailureFacts = FailureFacts { output_gate_broken: false, is_user_error: true, resource_limit_exceeded: false };
/// R14's facts of a handler past its wall-clock limit (R12): the gate intact.
const WALL_TIME_EXCEEDED: FailureFacts = FailureFacts { output_gate_broken: false, is_user_error: false, resource_limit_exceeded: false };
/// R14's facts of a handler interrupted at its CPU limit inside a write (B15, STOR-5337):
/// the gate broke, not by the user's error, but a resource limit was exceeded.
const CPU_LIMIT_INTERRUPT: FailureFacts = FailureFacts { output_gate_broken: true, is_user_error: false, resource_limit_exceeded: true };

/// The phases of a run: TigerBeetle's safety phase, then its liveness phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Faults on, clients active.
    Chaos,
    /// Faults off, nodes restarted, clients stopped; the world must quiesce and converge.
    Quiesce,
    Done,
}

/// What an alarm handler does this time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behavior {
    Succeed,
    Throw,
    ExceedWallTime,
    Rearm(i64),
    DeleteInside,
    ContainerHeartbeat,
    Abort,
    /// Interrupted at its CPU-time limit inside a write (B15, STOR-5337).
    CpuLimit,
}

/// One thing that happens at one instant.
#[derive(Clone, Debug)]
pub enum Event {
    /// Step `index` of the plan.
    Step { index: usize },
    CommitApply { actor: usize, inc: u64, id: CommitId, batch: CommitBatch, fail_before: bool, fail_after: bool },
    CommitAck { actor: usize, inc: u64, id: CommitId, ok: bool },
    CommandSend { actor: usize, inc: u64, call: CallId, time: AlarmTime, fence: Fence, attempt: u32 },
    CommandArrive { actor: usize, inc: u64, call: CallId, time: AlarmTime, fence: Fence, attempt: u32, zombie: bool },
    CommandResult { actor: usize, inc: u64, call: CallId, ok: bool },
    ManagerTick { namespace: usize, epoch: u64, at: u64 },
    FireArrive { epoch: u64, actor: usize, fire: Fire, fired_at: Millis },
    HandlerStart { actor: usize, inc: u64 },
    HandlerEnd { actor: usize, inc: u64, behavior: Behavior },
    /// An attempt's outcome reaches the manager. `counts` is R14's verdict on a failure as the
    /// checker sees it, which the scheduler's own `counted` must match (B15).
    FireResultArrive { epoch: u64, actor: usize, scheduled: Millis, result: FireResult, counts: Option<bool> },
    AbandonArrive { epoch: u64, actor: usize, scheduled: Millis },
    AbandonResult { epoch: u64, actor: usize, scheduled: Millis, answer: Result<(AlarmTime, Fence), ()> },
    Restart { node: Node },
}

impl Event {
    /// The only actor whose durable or manager value this event can change, if there is one.
    fn actor(&self) -> Option<usize> {
        match *self {
            Event::CommitApply { actor, .. }
            | Event::CommitAck { actor, .. }
            | Event::CommandSend { actor, .. }
            | Event::CommandArrive { actor, .. }
            | Event::CommandResult { actor, .. }
            | Event::FireArrive { actor, .. }
            | Event::HandlerStart { actor, .. }
            | Event::HandlerEnd { actor, .. }
            | Event::FireResultArrive { actor, .. }
            | Event::AbandonArrive { actor, .. }
            | Event::AbandonResult { actor, .. } => Some(actor),
            Event::Step { .. } | Event::ManagerTick { .. } | Event::Restart { .. } => None,
        }
    }

    /// Messages and handler steps: the world is not quiescent while any is pending.
    fn in_flight(&self) -> bool {
        !matches!(self, Event::Step { .. } | Event::ManagerTick { .. } | Event::Restart { .. })
    }
}

/// The manager's attempt an actor is working on.
#[derive(Clone, Copy, Debug)]
struct FireCtx {
    epoch: u64,
    scheduled: Millis,
}

#[derive(Clone, Copy, Debug)]
struct RunningHandler {
    ctx: FireCtx,
    fired_at: Millis,
    serving: AlarmTime,
}

/// What a client operation did, rendered into its trace line only when a trace is kept.
enum OpShown {
    SetAlarm(Millis),
    DeleteAlarm,
    GetAlarm,
    GotAlarm(AlarmTime),
    Put(String),
    SetAndPut(Millis, String),
    SetTwice(Millis, Millis),
    DeleteAll(bool),
    ScheduleNext(i64),
    ScheduleNextSet(i64, Millis),
    ScheduleNextKeep(i64, AlarmTime),
}

impl std::fmt::Display for OpShown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpShown::SetAlarm(t) => write!(f, "setAlarm({})", rel(Some(*t))),
            OpShown::DeleteAlarm => f.write_str("deleteAlarm()"),
            OpShown::GetAlarm => f.write_str("getAlarm()"),
            OpShown::GotAlarm(t) => write!(f, "getAlarm() = {}", rel(*t)),
            OpShown::Put(key) => write!(f, "put({key})"),
            OpShown::SetAndPut(t, key) => write!(f, "setAlarm({}) + put({key})", rel(Some(*t))),
            OpShown::SetTwice(t1, t2) => write!(f, "setAlarm({}); setAlarm({}) in one turn", rel(Some(*t1)), rel(Some(*t2))),
            OpShown::DeleteAll(delete_alarm) => write!(f, "deleteAll(deleteAlarm={delete_alarm})"),
            OpShown::ScheduleNext(delay_ms) => write!(f, "scheduleNextAlarm({delay_ms})"),
            OpShown::ScheduleNextSet(delay_ms, t) => write!(f, "scheduleNextAlarm({delay_ms}) -> setAlarm({})", rel(Some(*t))),
            OpShown::ScheduleNextKeep(delay_ms, existing) => write!(f, "scheduleNextAlarm({delay_ms}) -> keep {}", rel(*existing)),
        }
    }
}

/// A client task as a trace node (`client-<n>`).
#[derive(Clone, Copy)]
struct Client(u32);

impl std::fmt::Display for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "client-{}", self.0)
    }
}

struct Host {
    up: bool,
    /// Per namespace: the link between this host and that namespace's manager is cut until
    /// this simulated time (ms since the start).
    cut_until: Vec<u64>,
    actors: Vec<usize>,
}

struct ActorSlot {
    id: ActorId,
    host: usize,
    /// Its namespace: the manager that serves all its alarms.
    namespace: usize,
    core: Option<Box<dyn ActorScheduler>>,
    incarnation: u64,
    disk: ActorDisk,
    /// The time the backend applies its last queued commit: commits apply in order.
    last_apply_ms: u64,
    /// The backend failed this commit; later ones of the incarnation fail too.
    failed_from: Option<CommitId>,
    /// A handler hit its CPU limit inside a write (B15): the next commit shipped fails.
    interrupt_next_commit: bool,
    calls_in_flight: u32,
    handler: Option<RunningHandler>,
    arm_waiters: BTreeMap<ArmId, FireCtx>,
    /// Successful handlers waiting for the output gate before reporting (R11).
    pending_reports: Vec<FireCtx>,
    /// Abandon answers waiting for the output gate: the manager must not drop its entry
    /// before the actor's `S = none` is durable (R16; otherwise I1 breaks, and a failed
    /// commit would lose the alarm).
    pending_abandons: Vec<(u64, Millis)>,
}

/// The alarm manager of one namespace.
struct ManagerNode {
    /// Its node (clock, crash steps), and the name it has in the trace.
    node: Node,
    name: String,
    up: bool,
    epoch: u64,
    core: Option<Box<dyn ManagerScheduler>>,
    /// On loan from the pool of warm stores (`pool.rs`).
    store: Pooled<MetadataStore>,
    /// What the store holds, per actor (for I1 while the manager is down, and to skip
    /// rewriting a row with the same contents).
    rows: BTreeMap<ActorId, AlarmRow>,
    ticks: BTreeSet<u64>,
    rng: ChaCha8Rng,
}

/// Namespace 0's manager draws from the stream the single manager always had.
const MANAGER_STREAM: u64 = 0x6d61_6e61_6765_7221;

impl ManagerNode {
    /// A fresh manager per namespace of `spec`. `first_store` is namespace 0's (opened by
    /// the caller); the others get stores of their own, always FULL like it.
    fn per_namespace(spec: &ScenarioSpec, factory: &dyn SchedulerFactory, seed: u64) -> Vec<ManagerNode> {
        assert!(spec.namespaces >= 1, "scenario {}: namespaces must be at least 1", spec.name);
        // The manager's store is always FULL: a lost row is a lost alarm (docs/ARCHITECTURE.md).
        let open = || MetadataStore::pool().take(|| MetadataStore::open(&Location::Memory, Durability::Full)).expect("an in-memory metadata store opens");
        let stores: Vec<Pooled<MetadataStore>> = (0..spec.namespaces).map(|_| open()).collect();
        let manager = |(ns, store): (usize, Pooled<MetadataStore>)| {
            let node = Node::manager_of(ns, spec.namespaces);
            // A retry's jitter on one manager draws nothing from another's stream.
            let rng_seed = if ns == 0 { seed ^ MANAGER_STREAM } else { stream_seed(seed ^ MANAGER_STREAM, ns as u64) };
            ManagerNode {
                node,
                name: node.to_string(),
                up: true,
                epoch: 1,
                core: Some(factory.new_manager(Vec::new(), RetryPolicy::default())),
                store,
                rows: BTreeMap::new(),
                ticks: BTreeSet::new(),
                rng: ChaCha8Rng::seed_from_u64(rng_seed),
            }
        };
        stores.into_iter().enumerate().map(manager).collect()
    }

    /// Its view of `actor`: the live entry, or the durable row while it is down.
    fn time_of(&self, actor: &ActorId) -> AlarmTime {
        match &self.core {
            Some(core) if self.up => core.effective_time(actor),
            _ => self.rows.get(actor).and_then(|row| row.time),
        }
    }
}

/// One seed's world.
pub struct World {
    pub spec: ScenarioSpec,
    pub profile: FaultProfile,
    pub seed: u64,
    factory: Arc<dyn SchedulerFactory>,
    /// One random stream per actor, for everything that happens to that actor's messages and
    /// handlers: removing a plan step for one actor leaves the others' draws unchanged.
    actor_rngs: Vec<ChaCha8Rng>,
    steps: Vec<Step>,
    pub phase: Phase,
    hosts: Vec<Host>,
    actors: Vec<ActorSlot>,
    /// One manager per namespace, indexed by namespace.
    managers: Vec<ManagerNode>,
    pub trace: Trace,
    checker: Checker,
    pub violation: Option<Violation>,
    in_flight: u64,
    pub events_handled: u64,
    /// Events recorded (whether or not their text was kept).
    pub trace_count: u64,
    /// The managers' SQLite operations (the actors' are counted by their disks).
    manager_work: StoreWork,
    /// Simulated ms of the last event handled.
    pub last_event_ms: u64,
    /// The one actor the current event can have changed, if it is known (else: check all).
    touched: Option<usize>,
    keep_trace: bool,
    /// Traced events of an actor whose gauges are not filled in yet: (event index, actor).
    unsettled: Vec<(usize, usize)>,
    /// The (storage, manager) values each actor's track last showed in the trace.
    shown: Vec<Option<(AlarmTime, AlarmTime)>>,
    /// Simulated ms since the start: the instant the driver is at.
    now: u64,
    /// Every event pending, in the order it will run.
    agenda: Agenda<Event>,
}

impl World {
    /// Builds the world for `seed` (inside a madsim runtime).
    pub fn new(spec: ScenarioSpec, factory: Arc<dyn SchedulerFactory>, plan: Plan, keep_trace: bool) -> Rc<RefCell<World>> {
        let seed = plan.seed;
        let profile: FaultProfile = plan.profile;
        let mut rng = ChaCha8Rng::seed_from_u64(stream_seed(seed, u64::MAX));
        let mut hosts: Vec<Host> = (0..spec.hosts).map(|_| Host { up: true, cut_until: vec![0; spec.namespaces as usize], actors: Vec::new() }).collect();
        let mut actors = Vec::new();
        let sync_phases: Vec<u64> = (0..spec.hosts).map(|_| rng.random_range(0..profile.sync_interval_ms)).collect();
        for index in 0..spec.actors() as usize {
            let host = index % spec.hosts as usize;
            hosts[host].actors.push(index);
            actors.push(ActorSlot {
                id: ActorId(format!("a{index}")),
                host,
                namespace: spec.namespace_of(index),
                core: None,
                incarnation: 0,
                disk: ActorDisk::new(profile.durability, profile.sync_interval_ms, sync_phases[host]).expect("an in-memory actor store opens"),
                last_apply_ms: 0,
                failed_from: None,
                interrupt_next_commit: false,
                calls_in_flight: 0,
                handler: None,
                arm_waiters: BTreeMap::new(),
                pending_reports: Vec::new(),
                pending_abandons: Vec::new(),
            });
        }
        let managers = ManagerNode::per_namespace(&spec, factory.as_ref(), seed);
        let checker = Checker::new(&spec, RetryPolicy::default());
        let spec_actors = actors.len();
        let actor_rngs = (0..actors.len()).map(|a| ChaCha8Rng::seed_from_u64(stream_seed(seed, a as u64))).collect();
        let world = World {
            spec,
            profile,
            seed,
            factory,
            actor_rngs,
            steps: plan.steps,
            phase: Phase::Chaos,
            hosts,
            actors,
            managers,
            trace: Trace::default(),
            checker,
            violation: None,
            in_flight: 0,
            events_handled: 0,
            trace_count: 0,
            last_event_ms: 0,
            touched: None,
            keep_trace,
            unsettled: Vec::new(),
            shown: vec![None; spec_actors],
            now: 0,
            manager_work: StoreWork::default(),
            agenda: Agenda::new(stream_seed(seed, ORDER_STREAM)),
        };
        Rc::new(RefCell::new(world))
    }


    /// Simulated ms since the start.
    pub fn now_ms(&self) -> u64 {
        self.now
    }

    /// Every SQLite operation of the run so far, actors' and managers'.
    pub fn store_work(&self) -> StoreWork {
        let mut work = self.manager_work;
        for slot in &self.actors {
            work.add(&slot.disk.work);
        }
        work
    }

    /// When the next pending event is due.
    pub(crate) fn next_event_ms(&self) -> Option<u64> {
        self.agenda.next_at()
    }

    /// Moves the world's clock to `now_ms` (the driver has advanced madsim's clock there) and
    /// handles every event due by then, including those they schedule for the same instant.
    /// Stops early once an invariant is violated.
    pub(crate) fn run_due(&mut self, now_ms: u64) {
        assert!(now_ms >= self.now, "time never runs backwards: {} -> {now_ms}", self.now);
        self.now = now_ms;
        while self.violation.is_none() {
            let Some(event) = self.agenda.pop_due(now_ms) else { break };
            self.dispatch(event);
        }
    }

    fn chaos(&self) -> bool {
        self.phase == Phase::Chaos
    }

    /// A node's clock offset (ms) and drift (ppm).
    fn skew(&self, node: Node) -> (i64, i64) {
        self.profile.clocks[FaultProfile::clock_index(node, self.hosts.len())]
    }

    /// The clock of namespace `namespace`'s manager.
    fn manager_clock(&self, namespace: usize) -> Millis {
        self.clock(self.managers[namespace].node)
    }

    /// A node's wall clock: the shared clock plus the node's offset and drift.
    fn clock(&self, node: Node) -> Millis {
        let (offset, drift_ppm) = self.skew(node);
        let t = self.now_ms() as i64;
        Millis(EPOCH_MS + t + offset + t * drift_ppm / 1_000_000)
    }

    /// The shared time at which `node`'s clock reads at least `t`.
    fn shared_ms_for(&self, node: Node, t: Millis) -> u64 {
        let (offset, drift_ppm) = self.skew(node);
        let local = (t.0 - EPOCH_MS - offset) as i128;
        let shared = (local * 1_000_000 + (1_000_000 + drift_ppm as i128) - 1) / (1_000_000 + drift_ppm as i128);
        shared.max(0) as u64
    }

    fn after(&mut self, delay_ms: u64, event: Event) {
        if event.in_flight() {
            self.in_flight += 1;
        }
        self.agenda.push(self.now + delay_ms, event);
    }

    fn dispatch(&mut self, event: Event) {
        if event.in_flight() {
            self.in_flight -= 1;
        }
        if self.violation.is_some() || self.phase == Phase::Done {
            return;
        }
        self.events_handled += 1;
        self.last_event_ms = self.now_ms();
        // Messages concern one actor; a manager or host event may concern any.
        self.touched = event.actor();
        // A panic in the scheduler under test is a finding: record it and stop the run here,
        // with the world's trace intact (and without madsim's own panic report).
        let handled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.handle(event)));
        if handled.is_err() {
            let message = crate::run::take_last_panic().unwrap_or_else(|| "panic".to_string());
            let at_ms = self.now_ms();
            let violation = Violation { invariant: Invariant::NoPanic, actor: None, at_ms, message: format!("the scheduler panicked: {message}") };
            self.fail(Some(violation));
        } else {
            self.check_step();
        }
        self.settle_gauges();
    }

    /// Records an event. The text is built only when the run keeps a trace (sweeps run
    /// untraced and replay failing seeds with the trace on; the run is the same either way).
    /// Records an event. `node` and `what` are rendered only when a trace is kept or a live
    /// log listens: sweeps run untraced, and most events would otherwise format strings
    /// nobody reads.
    fn note(&mut self, kind: EventKind, node: impl std::fmt::Display, actor: Option<usize>, what: impl FnOnce(&World) -> String) {
        self.trace_count += 1;
        // Live logs (`RUST_LOG=alarmsim=debug`) cost nothing unless switched on.
        let live = tracing::enabled!(target: "alarmsim::trace", tracing::Level::DEBUG);
        if !self.keep_trace && !live {
            return;
        }
        let event = TraceEvent::new(self.now_ms(), node.to_string(), actor.map(|a| self.actors[a].id.0.clone()), kind, what(self));
        if live {
            let actor = event.actor.as_deref().unwrap_or("-");
            tracing::debug!(target: "alarmsim::trace", seed = self.seed, t_ms = event.t, node = %event.node, actor, kind = %event.kind, "{}", event.what);
        }
        if self.keep_trace {
            if let Some(actor) = actor {
                self.unsettled.push((self.trace.len(), actor));
            }
            self.trace.push(event);
        }
    }

    /// An actor's track: its durable alarm `D` and the manager's alarm for it.
    fn track_values(&self, actor: usize) -> (AlarmTime, AlarmTime) {
        (self.checker.actors[actor].durable, self.manager_time(actor))
    }

    /// Fills in the gauges of the events traced since the last call, with each actor's values
    /// once the whole world event is handled (an event's note is often written before the state
    /// change it reports, e.g. a result before the manager applies it), and traces a gauge-only
    /// event for every actor whose values moved without an event of its own (a manager restart
    /// reloading its rows). So each track is a step function. Untraced runs skip all of it.
    pub fn settle_gauges(&mut self) {
        if !self.keep_trace {
            return;
        }
        let mut noted = vec![false; self.actors.len()];
        for (index, actor) in std::mem::take(&mut self.unsettled) {
            self.trace.events[index].gauges = gauges(self.track_values(actor));
            noted[actor] = true;
        }
        for (actor, noted) in noted.into_iter().enumerate() {
            let values = self.track_values(actor);
            if self.shown[actor] == Some(values) {
                continue;
            }
            self.shown[actor] = Some(values);
            if !noted {
                let what = format!("storage={} manager={}", rel(values.0), rel(values.1));
                let mut event = TraceEvent::new(self.now_ms(), "world", Some(self.actors[actor].id.0.clone()), EventKind::Gauge, what);
                event.gauges = gauges(values);
                self.trace.push(event);
            }
        }
    }

    /// The host node of `actor` (`host-<h>` in the trace).
    fn host_node(&self, actor: usize) -> Node {
        Node::Host(self.actors[actor].host)
    }

    fn fail(&mut self, violation: Option<Violation>) {
        if let Some(v) = violation {
            if self.violation.is_none() {
                self.note(EventKind::Violation, "world", None, |_| format!("VIOLATION {v}"));
                self.violation = Some(v);
            }
        }
    }

    /// A draw from `actor`'s stream.
    fn draw(&mut self, actor: usize, range: (u64, u64)) -> u64 {
        self.actor_rngs[actor].random_range(range.0..=range.1)
    }

    /// A fault that strikes `actor`'s message with probability `p` (never after the heal).
    fn chance(&mut self, actor: usize, p: f64) -> bool {
        self.chaos() && p > 0.0 && self.actor_rngs[actor].random_bool(p.min(1.0))
    }

    /// Whether a partition cuts `actor`'s host off from the actor's own manager: every message
    /// between them (commands, fires, results, abandons) is lost while it lasts.
    fn cut_off(&self, actor: usize) -> bool {
        let slot = &self.actors[actor];
        self.now_ms() < self.hosts[slot.host].cut_until[self.home(actor)]
    }

    // ----- the event handler ---------------------------------------------------------------

    fn handle(&mut self, event: Event) {
        match event {
            Event::Step { index } => self.step(index),
            Event::CommitApply { actor, inc, id, batch, fail_before, fail_after } => self.commit_apply(actor, inc, id, batch, fail_before, fail_after),
            Event::CommitAck { actor, inc, id, ok } => self.commit_ack(actor, inc, id, ok),
            Event::CommandSend { actor, inc, call, time, fence, attempt } => self.command_send(actor, inc, call, time, fence, attempt),
            Event::CommandArrive { actor, inc, call, time, fence, attempt, zombie } => self.command_arrive(actor, inc, call, time, fence, attempt, zombie),
            Event::CommandResult { actor, inc, call, ok } => self.command_result(actor, inc, call, ok),
            Event::ManagerTick { namespace, epoch, at } => self.manager_tick(namespace, epoch, at),
            Event::FireArrive { epoch, actor, fire, fired_at } => self.fire_arrive(epoch, actor, fire, fired_at),
            Event::HandlerStart { actor, inc } => self.handler_start(actor, inc),
            Event::HandlerEnd { actor, inc, behavior } => self.handler_end(actor, inc, behavior),
            Event::FireResultArrive { epoch, actor, scheduled, result, counts } => self.fire_result_arrive(epoch, actor, scheduled, result, counts),
            Event::AbandonArrive { epoch, actor, scheduled } => self.abandon_arrive(epoch, actor, scheduled),
            Event::AbandonResult { epoch, actor, scheduled, answer } => self.abandon_result(epoch, actor, scheduled, answer),
            Event::Restart { node } => self.restart(node),
        }
    }

    // ----- clients ---------------------------------------------------------------------------

    fn step(&mut self, index: usize) {
        if !self.chaos() {
            return; // Steps belong to the chaos phase.
        }
        match self.steps[index].action.clone() {
            Action::Op { client, actor, op } => self.client_op(client, actor, op),
            Action::Crash { node, power, downtime_ms } => self.crash(node, power, downtime_ms),
            Action::Partition { host, ms, manager } => {
                let until = self.now_ms() + ms;
                let namespace = manager.map(|m| m.served_namespace().expect("a partition names a manager node"));
                for (ns, cut) in self.hosts[host].cut_until.iter_mut().enumerate() {
                    if namespace.is_none_or(|k| k == ns) {
                        *cut = until;
                    }
                }
                let peer = match manager {
                    Some(m) => m.to_string(),
                    None if self.managers.len() == 1 => "manager".to_string(),
                    None => "every manager".to_string(),
                };
                self.note(EventKind::Fault, "world", None, |_| format!("partition host-{host} <-> {peer} for {ms}ms"));
            }
            Action::Enqueue { .. } => unreachable!("job-queue steps run in the queue world"),
        }
    }

    fn client_op(&mut self, client: u32, actor: usize, op: Op) {
        self.touched = Some(actor);
        let node = Client(client);
        let host = self.actors[actor].host;
        if !self.hosts[host].up || self.actors[actor].core.is_none() {
            self.note(EventKind::Op, node, Some(actor), |_| "op rejected: host down".to_string());
            return;
        }
        let now = self.clock(Node::Host(host));
        let value = self.events_handled.to_le_bytes().to_vec();
        let factory = self.factory.clone();
        let opts = WriteOptions::default();
        let core = self.actors[actor].core.as_mut().expect("checked above");
        let (shown, result) = match op {
            Op::SetAlarm { delay_ms } => {
                let t = now.saturating_add_ms(delay_ms);
                (OpShown::SetAlarm(t), core.set_alarm(t, now, opts))
            }
            Op::DeleteAlarm => (OpShown::DeleteAlarm, core.delete_alarm(opts)),
            Op::GetAlarm => match core.get_alarm() {
                Ok(t) => (OpShown::GotAlarm(t), Ok(())),
                Err(e) => (OpShown::GetAlarm, Err(e)),
            },
            Op::Put { key } => {
                let r = core.put(&key, value, opts);
                (OpShown::Put(key), r)
            }
            Op::SetAndPut { delay_ms, key } => {
                let t = now.saturating_add_ms(delay_ms);
                let r = core.set_alarm(t, now, opts).and_then(|()| core.put(&key, value, opts));
                (OpShown::SetAndPut(t, key), r)
            }
            Op::SetTwice { first_ms, second_ms } => {
                let (t1, t2) = (now.saturating_add_ms(first_ms), now.saturating_add_ms(second_ms));
                let r = core.set_alarm(t1, now, opts).and_then(|()| core.set_alarm(t2, now, opts));
                (OpShown::SetTwice(t1, t2), r)
            }
            Op::DeleteAll { delete_alarm } => (OpShown::DeleteAll(delete_alarm), core.delete_all(delete_alarm, opts)),
            Op::ScheduleNext { delay_ms } => match core.get_alarm() {
                Ok(existing) => match factory.schedule_next(existing, now, delay_ms) {
                    Some(t) => (OpShown::ScheduleNextSet(delay_ms, t), core.set_alarm(t, now, opts)),
                    None => (OpShown::ScheduleNextKeep(delay_ms, existing), Ok(())),
                },
                Err(e) => (OpShown::ScheduleNext(delay_ms), Err(e)),
            },
        };
        core.end_turn();
        let gate = core.gate();
        if let Err(error) = &result {
            let violation = self.checker.storage_error(&self.actors[actor].id.0, &shown.to_string(), error, gate, self.now_ms());
            self.fail(violation);
        }
        self.note(EventKind::Op, node, Some(actor), |_| match result {
            Ok(()) => shown.to_string(),
            Err(e) => format!("{shown} -> error: {e}"),
        });
        self.pump(actor);
    }

    // ----- the actor side ---------------------------------------------------------------------

    /// Starts a new incarnation of the actor from its disk (host start, restart, or reset).
    fn load_actor(&mut self, actor: usize) {
        let slot = &mut self.actors[actor];
        let incarnation = slot.disk.next_incarnation().expect("bump the incarnation");
        let loaded = slot.disk.load().expect("load the actor store");
        let expected = slot.disk.shadow().clone();
        slot.incarnation = incarnation;
        slot.failed_from = None;
        slot.interrupt_next_commit = false;
        slot.calls_in_flight = 0;
        let now = self.now_ms();
        let durable = loaded.alarm;
        let violation = self.checker.durability(&self.actors[actor].id.0, &loaded, &expected, now);
        self.fail(violation);
        let core = self.factory.new_actor(self.actors[actor].id.clone(), incarnation, loaded);
        self.actors[actor].core = Some(core);
        self.checker.actor_loaded(actor);
        let host = self.host_node(actor);
        self.note(if incarnation > 1 { EventKind::Restart } else { EventKind::Note }, host, Some(actor), |_| format!("load incarnation {incarnation}: S={}", rel(durable)));
        self.pump(actor);
    }

    /// Drains the actor's effects into messages.
    fn pump(&mut self, actor: usize) {
        while let Some(effect) = self.actors[actor].core.as_mut().and_then(|c| c.poll_effect()) {
            let inc = self.actors[actor].incarnation;
            let host = self.host_node(actor);
            match effect {
                ActorEffect::Commit { id, batch } => {
                    self.note(EventKind::Commit, host, Some(actor), |_| format!("C#{} ship alarm={} keys={}", id.0, rel(batch.alarm), batch.kv.len()));
                    let latency = self.draw(actor, self.profile.commit_latency_ms);
                    // An interrupted write (B15) fails like a commit the backend refused.
                    let fail_before = self.chance(actor, self.profile.commit_fail_before) | std::mem::take(&mut self.actors[actor].interrupt_next_commit);
                    let fail_after = self.chance(actor, self.profile.commit_fail_after);
                    // Commits apply in order: strictly after the previous one, since events at the
                    // same instant run in a seeded random order (two commits landing in the same
                    // ms could otherwise apply out of order and leave D at the older value).
                    let apply_at = (self.now_ms() + latency).max(self.actors[actor].last_apply_ms + 1);
                    self.actors[actor].last_apply_ms = apply_at;
                    let delay = apply_at - self.now_ms();
                    self.after(delay, Event::CommitApply { actor, inc, id, batch, fail_before, fail_after });
                }
                ActorEffect::Schedule { call, time, fence } => {
                    self.actors[actor].calls_in_flight += 1;
                    self.note(EventKind::Command, host, Some(actor), |_| format!("sR#{}({}) fence={fence}", call.0, rel(time)));
                    self.command_send(actor, inc, call, time, fence, 0);
                }
                ActorEffect::ArmResolved { arm, ok } => {
                    if let Some(ctx) = self.actors[actor].arm_waiters.remove(&arm) {
                        let outcome = if ok { Outcome::Canceled } else { Outcome::Failed { counted: false } };
                        self.note(EventKind::Fire, host, Some(actor), |_| format!("arm {} resolved: {outcome:?}", rel(Some(ctx.scheduled))));
                        self.send_fire_result(actor, ctx, FireResult { outcome, report: None });
                    }
                }
            }
        }
        let Some(core) = self.actors[actor].core.as_ref() else { return };
        let gate = core.gate();
        let outstanding = core.commands_outstanding();
        let violation = self.checker.bounded_commands(&self.actors[actor].id.0, outstanding, self.actors[actor].calls_in_flight, self.now_ms());
        self.fail(violation);
        match gate {
            Gate::Broken => self.reset_actor(actor, "output gate broken"),
            Gate::Open => {
                for ctx in std::mem::take(&mut self.actors[actor].pending_reports) {
                    let report = self.actors[actor].core.as_mut().map(|c| c.report());
                    self.send_fire_result(actor, ctx, FireResult { outcome: Outcome::Succeeded, report });
                }
                for (epoch, scheduled) in std::mem::take(&mut self.actors[actor].pending_abandons) {
                    // The answer is the actor's report as the reply leaves (R16), never a
                    // value frozen at call time that newer writes may have overtaken.
                    let answer = self.actors[actor].core.as_mut().expect("gate open").report();
                    let latency = self.draw(actor, self.profile.link_latency_ms);
                    self.after(latency, Event::AbandonResult { epoch, actor, scheduled, answer: Ok(answer) });
                }
            }
            Gate::Blocked { .. } => {}
        }
    }

    /// The actor broke (a failed commit or a rejected move-earlier): reset it from its disk.
    fn reset_actor(&mut self, actor: usize, why: &str) {
        let host = self.host_node(actor);
        self.note(EventKind::Fault, host, Some(actor), |_| format!("reset: {why}"));
        self.abort_attempts(actor, 0);
        self.actors[actor].core = None;
        self.load_actor(actor);
    }

    /// Fails every attempt the actor was working on (its process or gate died).
    fn abort_attempts(&mut self, actor: usize, delay_ms: u64) {
        let slot = &mut self.actors[actor];
        let mut ctxs: Vec<FireCtx> = slot.handler.take().map(|h| h.ctx).into_iter().collect();
        ctxs.extend(std::mem::take(&mut slot.arm_waiters).into_values());
        ctxs.append(&mut slot.pending_reports);
        for (epoch, scheduled) in std::mem::take(&mut slot.pending_abandons) {
            self.after(delay_ms, Event::AbandonResult { epoch, actor, scheduled, answer: Err(()) });
        }
        for ctx in ctxs {
            let result = FireResult { outcome: Outcome::Failed { counted: false }, report: None };
            self.after(delay_ms, Event::FireResultArrive { epoch: ctx.epoch, actor, scheduled: ctx.scheduled, result, counts: Some(false) });
        }
    }

    fn live(&self, actor: usize, inc: u64) -> bool {
        let slot = &self.actors[actor];
        slot.incarnation == inc && slot.core.is_some() && self.hosts[slot.host].up
    }

    fn commit_apply(&mut self, actor: usize, inc: u64, id: CommitId, batch: CommitBatch, fail_before: bool, fail_after: bool) {
        if !self.live(actor, inc) {
            return; // The process died before the write reached the disk.
        }
        let host = self.host_node(actor);
        let ack_delay = self.draw(actor, self.profile.commit_latency_ms);
        let already_failed = self.actors[actor].failed_from.is_some_and(|f| f <= id);
        if already_failed || fail_before {
            self.actors[actor].failed_from.get_or_insert(id);
            self.note(EventKind::Fault, host, Some(actor), |_| format!("C#{} failed before applying", id.0));
            self.after(ack_delay, Event::CommitAck { actor, inc, id, ok: false });
            return;
        }
        let now = self.now_ms();
        self.actors[actor].disk.apply(&batch, now).expect("apply a commit to the actor store");
        self.checker.durable_changed(actor, batch.alarm, false);
        let suffix = if fail_after { " (its acknowledgement will fail)" } else { "" };
        self.note(EventKind::Commit, host, Some(actor), |_| format!("C#{} durable: D={}{suffix}", id.0, rel(batch.alarm)));
        self.after(ack_delay, Event::CommitAck { actor, inc, id, ok: !fail_after });
    }

    fn commit_ack(&mut self, actor: usize, inc: u64, id: CommitId, ok: bool) {
        if !self.live(actor, inc) {
            return;
        }
        let host = self.host_node(actor);
        self.note(if ok { EventKind::Commit } else { EventKind::Fault }, host, Some(actor), |_| format!("C#{} {}", id.0, if ok { "ok" } else { "FAILED" }));
        self.actors[actor].core.as_mut().expect("live").on_commit_result(id, ok);
        self.pump(actor);
    }

    fn command_send(&mut self, actor: usize, inc: u64, call: CallId, time: AlarmTime, fence: Fence, attempt: u32) {
        let lost = self.cut_off(actor) || self.chance(actor, self.profile.link_drop_request);
        if !lost {
            let latency = self.draw(actor, self.profile.link_latency_ms);
            self.after(latency, Event::CommandArrive { actor, inc, call, time, fence, attempt, zombie: false });
        } else if attempt < LINK_RETRIES {
            self.after(100 << attempt, Event::CommandSend { actor, inc, call, time, fence, attempt: attempt + 1 });
        } else {
            self.after(LINK_TIMEOUT_MS, Event::CommandResult { actor, inc, call, ok: false });
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn command_arrive(&mut self, actor: usize, inc: u64, call: CallId, time: AlarmTime, fence: Fence, attempt: u32, zombie: bool) {
        let ns = self.home(actor);
        if !self.managers[ns].up || self.cut_off(actor) {
            if !zombie {
                self.command_send_lost(actor, inc, call, time, fence, attempt);
            }
            return;
        }
        let id = self.actors[actor].id.clone();
        let applied = self.managers[ns].core.as_mut().expect("manager up").schedule(&id, time, fence, Some(id.0.clone()));
        let kind = if zombie { "late copy of " } else { "" };
        let verdict = match applied {
            Applied::Applied => "applied",
            Applied::Unchanged => "unchanged (the alarm it already has)",
            Applied::Stale => "ignored (stale fence)",
        };
        let name = self.managers[ns].node;
        self.note(EventKind::Command, name, Some(actor), |_| format!("{kind}sR#{}({}) fence={fence} {verdict}", call.0, rel(time)));
        if applied == Applied::Applied {
            self.checker.retries_reset(actor);
        }
        self.flush_manager(ns);
        if zombie {
            return;
        }
        if self.chance(actor, self.profile.link_duplicate) {
            let delay = self.draw(actor, self.profile.zombie_delay_ms);
            self.after(delay, Event::CommandArrive { actor, inc, call, time, fence, attempt, zombie: true });
        }
        let lost = self.cut_off(actor) || self.chance(actor, self.profile.link_drop_response);
        if lost {
            self.after(LINK_TIMEOUT_MS, Event::CommandResult { actor, inc, call, ok: false });
        } else {
            let latency = self.draw(actor, self.profile.link_latency_ms);
            self.after(latency, Event::CommandResult { actor, inc, call, ok: true });
        }
    }

    fn command_send_lost(&mut self, actor: usize, inc: u64, call: CallId, time: AlarmTime, fence: Fence, attempt: u32) {
        if attempt < LINK_RETRIES {
            self.after(100 << attempt, Event::CommandSend { actor, inc, call, time, fence, attempt: attempt + 1 });
        } else {
            self.after(LINK_TIMEOUT_MS, Event::CommandResult { actor, inc, call, ok: false });
        }
    }

    fn command_result(&mut self, actor: usize, inc: u64, call: CallId, ok: bool) {
        if !self.live(actor, inc) {
            return;
        }
        let host = self.host_node(actor);
        self.note(if ok { EventKind::Command } else { EventKind::Fault }, host, Some(actor), |_| format!("sR#{} {}", call.0, if ok { "ok" } else { "FAILED" }));
        let slot = &mut self.actors[actor];
        slot.calls_in_flight = slot.calls_in_flight.saturating_sub(1);
        slot.core.as_mut().expect("live").on_schedule_result(call, ok);
        self.pump(actor);
    }

    fn fire_arrive(&mut self, epoch: u64, actor: usize, fire: Fire, fired_at: Millis) {
        let ctx = FireCtx { epoch, scheduled: fire.scheduled };
        let host = self.actors[actor].host;
        let busy = self.actors[actor].handler.is_some() || !self.actors[actor].arm_waiters.is_empty();
        if !self.hosts[host].up || self.actors[actor].core.is_none() || self.cut_off(actor) || busy {
            let why = if busy { "busy with another attempt (R9)" } else { "unreachable" };
            self.note(if busy { EventKind::Fire } else { EventKind::Fault }, Node::Host(host), Some(actor), |_| format!("fire {} rejected: {why}", rel(Some(fire.scheduled))));
            let result = FireResult { outcome: Outcome::Failed { counted: false }, report: None };
            self.after(LINK_TIMEOUT_MS, Event::FireResultArrive { epoch, actor, scheduled: fire.scheduled, result, counts: Some(false) });
            return;
        }
        let now = self.clock(Node::Host(host));
        let core = self.actors[actor].core.as_mut().expect("checked above");
        let serving = core.stored_alarm();
        let decision = core.arm_alarm_handler(fire.scheduled, now);
        let name = Node::Host(host);
        match decision {
            Ok(ArmDecision::Run { deferred_delete }) => {
                self.note(EventKind::Fire, name, Some(actor), |_| format!("arm {} -> run (deferred delete: {deferred_delete})", rel(Some(fire.scheduled))));
                self.actors[actor].handler = Some(RunningHandler { ctx, fired_at, serving });
                // R8: the actor also waits for its own clock to reach the alarm time.
                let wait = self.shared_ms_for(Node::Host(host), fire.scheduled).saturating_sub(self.now_ms());
                let inc = self.actors[actor].incarnation;
                self.after(wait, Event::HandlerStart { actor, inc });
            }
            Ok(ArmDecision::Cancel { arm }) => {
                self.note(EventKind::Fire, name, Some(actor), |_| format!("arm {} -> cancel after rescheduling to S={}", rel(Some(fire.scheduled)), rel(serving)));
                self.actors[actor].arm_waiters.insert(arm, ctx);
            }
            Err(e) => {
                self.note(EventKind::Fault, name, Some(actor), |_| format!("arm {} -> error: {e}", rel(Some(fire.scheduled))));
                let result = FireResult { outcome: Outcome::Failed { counted: false }, report: None };
                self.send_fire_result(actor, ctx, result);
            }
        }
        self.pump(actor);
    }

    fn handler_start(&mut self, actor: usize, inc: u64) {
        if !self.live(actor, inc) {
            return;
        }
        let Some(run) = self.actors[actor].handler else { return };
        let host = self.actors[actor].host;
        let now = self.clock(Node::Host(host));
        let at = self.now_ms();
        let manager = &self.managers[self.home(actor)].name;
        let violation = self.checker.handler_start(actor, &self.actors[actor].id.0, manager, run.ctx.scheduled, run.fired_at, now, run.serving, at);
        self.fail(violation);
        let behavior = self.draw_behavior(actor);
        let duration = match behavior {
            Behavior::ExceedWallTime => WALL_TIME_LIMIT_MS,
            _ => self.actor_rngs[actor].random_range(self.spec.handler_ms.lo..=self.spec.handler_ms.hi),
        };
        self.note(EventKind::HandlerStart, Node::Host(host), Some(actor), |_| format!("handler start {} ({behavior:?}, {duration}ms)", rel(Some(run.ctx.scheduled))));
        self.after(duration, Event::HandlerEnd { actor, inc, behavior });
    }

    fn draw_behavior(&mut self, actor: usize) -> Behavior {
        if !self.chaos() {
            return Behavior::Succeed; // Quiesce: handlers stop re-arming so the world can settle.
        }
        let w = self.spec.handler_weights;
        let weights = [w.succeed, w.throw, w.exceed_wall_time, w.rearm, w.delete_inside, w.container_heartbeat, w.abort, w.cpu_limit];
        let rng = &mut self.actor_rngs[actor];
        match pick(rng, &weights) {
            0 => Behavior::Succeed,
            1 => Behavior::Throw,
            2 => Behavior::ExceedWallTime,
            3 => Behavior::Rearm(rng.random_range(self.spec.alarm_delay_ms.lo..=self.spec.alarm_delay_ms.hi)),
            4 => Behavior::DeleteInside,
            5 => Behavior::ContainerHeartbeat,
            6 => Behavior::Abort,
            _ => Behavior::CpuLimit,
        }
    }

    fn handler_end(&mut self, actor: usize, inc: u64, behavior: Behavior) {
        if !self.live(actor, inc) {
            return;
        }
        let Some(run) = self.actors[actor].handler.take() else { return };
        let host = self.actors[actor].host;
        let now = self.clock(Node::Host(host));
        let factory = self.factory.clone();
        let opts = WriteOptions::default();
        let value = self.events_handled.to_le_bytes().to_vec();
        let mut interrupted = false;
        // The handler's own storage call, if it made one: (what it called, the result).
        let mut call: Option<(String, Result<(), AlarmError>)> = None;
        // The alarm the handler set, if its setAlarm succeeded.
        let mut wrote: Option<Millis> = None;
        let core = self.actors[actor].core.as_mut().expect("live");
        // What the runtime knows about a failure (R14): the scheduler decides whether its
        // retry counts, and the checker judges that decision by the rule itself.
        let failed = |facts: FailureFacts| (Outcome::Failed { counted: factory.retry_counts(facts) }, Some(checker::counts_against_limit(facts)));
        let done = |outcome: Outcome| (outcome, None);
        let ((outcome, counts), what) = match behavior {
            Behavior::Succeed => (done(Outcome::Succeeded), "succeeded".to_string()),
            Behavior::Throw => (failed(USER_ERROR), "threw".to_string()),
            Behavior::ExceedWallTime => (failed(WALL_TIME_EXCEEDED), "exceeded the wall-time limit (R12)".to_string()),
            Behavior::CpuLimit => {
                // The interrupt lands inside this write: it never commits, and its failed
                // commit breaks the output gate (pump fails the next commit it ships).
                interrupted = core.put("cpu-limit", value, opts).is_ok();
                (failed(CPU_LIMIT_INTERRUPT), "exceeded its CPU limit in a write: SQLITE_INTERRUPT, output gate broken (B15)".to_string())
            }
            Behavior::Abort => (done(Outcome::Aborted), "ctx.abort(retryAlarm: false)".to_string()),
            Behavior::Rearm(delay) => {
                let t = now.saturating_add_ms(delay);
                let r = core.set_alarm(t, now, opts);
                let what = format!("re-armed setAlarm({}) {}", rel(Some(t)), result_text(&r));
                wrote = r.is_ok().then_some(t.max(now));
                call = Some((format!("setAlarm({}) in the handler", rel(Some(t))), r));
                (done(Outcome::Succeeded), what)
            }
            Behavior::DeleteInside => {
                let r = core.delete_alarm(opts);
                let what = format!("deleted its alarm {}", result_text(&r));
                call = Some(("deleteAlarm() in the handler".to_string(), r));
                (done(Outcome::Succeeded), what)
            }
            Behavior::ContainerHeartbeat => {
                let t = factory.exit_rearm(now, None, None);
                let r = core.set_alarm(t, now, opts);
                let what = format!("heartbeat exit re-arm setAlarm({}) {}", rel(Some(t)), result_text(&r));
                wrote = r.is_ok().then_some(t.max(now));
                call = Some((format!("setAlarm({}) in the handler", rel(Some(t))), r));
                (done(Outcome::Succeeded), what)
            }
        };
        // Set before the turn ends, which ships the interrupted write's commit.
        self.actors[actor].interrupt_next_commit = interrupted;
        let core = self.actors[actor].core.as_mut().expect("live");
        core.end_turn();
        let succeeded = outcome == Outcome::Succeeded;
        core.handler_finished(succeeded);
        // R11 (B12): an alarm the handler itself set survives the handler's deferred delete.
        let kept = core.stored_alarm();
        let erased = wrote.filter(|&t| succeeded && core.gate() != Gate::Broken && kept != Some(t));
        if let Some(t) = erased {
            let violation = self.checker.handler_write_kept(&self.actors[actor].id.0, t, kept, self.now_ms());
            self.fail(violation);
        }
        if let Some((called, Err(error))) = &call {
            let gate = self.actors[actor].core.as_ref().expect("live").gate();
            let violation = self.checker.storage_error(&self.actors[actor].id.0, called, error, gate, self.now_ms());
            self.fail(violation);
        }
        self.note(EventKind::HandlerEnd, Node::Host(host), Some(actor), |_| format!("handler end {}: {what}", rel(Some(run.ctx.scheduled))));
        if succeeded {
            self.actors[actor].pending_reports.push(run.ctx); // Reported once the gate opens (R11).
        } else {
            self.send_fire_result_judged(actor, run.ctx, FireResult { outcome, report: None }, counts);
        }
        self.pump(actor);
    }

    /// Sends an attempt's outcome to the manager; the checker's verdict on a failure is the
    /// scheduler's own (every failure the runtime itself makes up is uncounted).
    fn send_fire_result(&mut self, actor: usize, ctx: FireCtx, result: FireResult) {
        let counts = match result.outcome {
            Outcome::Failed { counted } => Some(counted),
            _ => None,
        };
        self.send_fire_result_judged(actor, ctx, result, counts);
    }

    /// Sends an attempt's outcome with `counts`, R14's verdict on it as the checker sees it.
    fn send_fire_result_judged(&mut self, actor: usize, ctx: FireCtx, result: FireResult, counts: Option<bool>) {
        let latency = self.draw(actor, self.profile.link_latency_ms);
        let partitioned = self.cut_off(actor);
        let (delay, result, counts) = if partitioned {
            // The runAlarm RPC itself fails: uncounted (R14).
            (LINK_TIMEOUT_MS, FireResult { outcome: Outcome::Failed { counted: false }, report: None }, Some(false))
        } else {
            (latency, result, counts)
        };
        self.after(delay, Event::FireResultArrive { epoch: ctx.epoch, actor, scheduled: ctx.scheduled, result, counts });
    }

    // ----- the manager -----------------------------------------------------------------------

    /// The namespace whose manager serves `actor`. Every alarm message of the actor — its
    /// commands, the fires it receives, its results and abandon answers — goes to or comes
    /// from this manager and no other: the one place routing per namespace is decided.
    fn home(&self, actor: usize) -> usize {
        self.actors[actor].namespace
    }

    /// Writes the rows the manager asked to persist (R18) and forwards abandon requests.
    fn flush_manager(&mut self, ns: usize) {
        let persists = self.factory.manager_persists_rows();
        while let Some(effect) = self.managers[ns].core.as_mut().and_then(|c| c.poll_effect()) {
            match effect {
                ManagerEffect::Persist(row) => {
                    let manager = &mut self.managers[ns];
                    // Rewriting a row with the contents it already has changes nothing on
                    // disk, so the simulator skips it (a sixth of all row writes).
                    if persists && manager.rows.get(&row.actor) != Some(&row) {
                        manager.store.write(&row).expect("write a metadata row");
                        manager.rows.insert(row.actor.clone(), row);
                        self.manager_work.rows += 1;
                    }
                }
                ManagerEffect::Abandon { actor, scheduled } => {
                    let index = self.actor_index(&actor);
                    let name = self.managers[ns].node;
                    self.note(EventKind::Fire, name, Some(index), |_| format!("abandon {} after the retry limit (R16)", rel(Some(scheduled))));
                    let latency = self.draw(index, self.profile.link_latency_ms);
                    let epoch = self.managers[ns].epoch;
                    self.after(latency, Event::AbandonArrive { epoch, actor: index, scheduled });
                }
            }
        }
        self.schedule_tick(ns);
    }

    fn actor_index(&self, actor: &ActorId) -> usize {
        actor.0[1..].parse().expect("actor ids are a<N>")
    }

    /// Wakes the manager of namespace `ns` when its next alarm is due on its own clock.
    fn schedule_tick(&mut self, ns: usize) {
        let manager = &self.managers[ns];
        let Some(core) = manager.core.as_ref() else { return };
        let Some(next) = core.next_wakeup() else { return };
        let at = self.shared_ms_for(manager.node, next).max(self.now_ms());
        if self.managers[ns].ticks.insert(at) {
            let epoch = self.managers[ns].epoch;
            self.after(at - self.now_ms(), Event::ManagerTick { namespace: ns, epoch, at });
        }
    }

    fn manager_tick(&mut self, ns: usize, epoch: u64, at: u64) {
        self.managers[ns].ticks.remove(&at);
        if epoch != self.managers[ns].epoch || !self.managers[ns].up {
            return;
        }
        // R8: re-read the clock before firing.
        let now = self.manager_clock(ns);
        let fires = self.managers[ns].core.as_mut().expect("manager up").take_due(now);
        let name = self.managers[ns].node;
        for fire in fires {
            let actor = self.actor_index(&fire.actor);
            let violation = self.checker.fire(actor, &fire.actor.0, fire.scheduled, fire.retry_count, now, self.now_ms());
            self.fail(violation);
            self.note(EventKind::Fire, name, Some(actor), |_| format!("fire {} (retryCount={})", rel(Some(fire.scheduled)), fire.retry_count));
            let latency = self.draw(actor, self.profile.link_latency_ms);
            self.after(latency, Event::FireArrive { epoch, actor, fire, fired_at: now });
        }
        self.flush_manager(ns);
    }

    fn fire_result_arrive(&mut self, epoch: u64, actor: usize, scheduled: Millis, result: FireResult, counts: Option<bool>) {
        let ns = self.home(actor);
        if epoch != self.managers[ns].epoch || !self.managers[ns].up {
            return; // The manager process that asked is gone.
        }
        let now = self.manager_clock(ns);
        self.checker.fire_result(actor, scheduled, counts, now);
        let report = result.report.map(|(t, f)| format!(" report={} fence={f}", rel(t))).unwrap_or_default();
        let name = self.managers[ns].node;
        self.note(EventKind::Fire, name, Some(actor), |_| format!("result {}: {:?}{report}", rel(Some(scheduled)), result.outcome));
        let id = self.actors[actor].id.clone();
        let manager = &mut self.managers[ns];
        let core = manager.core.as_mut().expect("manager up");
        core.on_fire_result(&id, scheduled, result, now, &mut manager.rng);
        self.flush_manager(ns);
    }

    fn abandon_arrive(&mut self, epoch: u64, actor: usize, scheduled: Millis) {
        let host = self.actors[actor].host;
        let reachable = self.hosts[host].up && self.actors[actor].core.is_some() && !self.cut_off(actor);
        if !reachable {
            self.note(EventKind::Fault, Node::Host(host), Some(actor), |_| format!("abandonAlarm({}) unreachable", rel(Some(scheduled))));
            self.after(LINK_TIMEOUT_MS, Event::AbandonResult { epoch, actor, scheduled, answer: Err(()) });
            return;
        }
        let core = self.actors[actor].core.as_mut().expect("checked");
        match core.abandon_alarm(scheduled) {
            Ok(keep) => {
                self.note(EventKind::Fire, Node::Host(host), Some(actor), |_| format!("abandonAlarm({}) -> keep {}", rel(Some(scheduled)), rel(keep)));
                self.actors[actor].pending_abandons.push((epoch, scheduled));
            }
            Err(e) => {
                self.note(EventKind::Fault, Node::Host(host), Some(actor), |_| format!("abandonAlarm({}) -> error: {e}", rel(Some(scheduled))));
                self.after(LINK_TIMEOUT_MS, Event::AbandonResult { epoch, actor, scheduled, answer: Err(()) });
            }
        }
        self.pump(actor);
    }

    fn abandon_result(&mut self, epoch: u64, actor: usize, scheduled: Millis, answer: Result<(AlarmTime, Fence), ()>) {
        let ns = self.home(actor);
        if epoch != self.managers[ns].epoch || !self.managers[ns].up {
            return;
        }
        let now = self.manager_clock(ns);
        let id = self.actors[actor].id.clone();
        self.managers[ns].core.as_mut().expect("manager up").on_abandon_result(&id, scheduled, answer, now);
        self.checker.retries_reset(actor);
        self.flush_manager(ns);
    }

    // ----- faults ----------------------------------------------------------------------------

    fn crash(&mut self, node: Node, power: bool, downtime_ms: u64) {
        if !self.chaos() {
            return;
        }
        let kind = if power { "power loss" } else { "crash" };
        match node {
            Node::Host(host) => {
                if !self.hosts[host].up {
                    return;
                }
                self.hosts[host].up = false;
                self.note(if power { EventKind::PowerLoss } else { EventKind::Crash }, "world", None, |_| format!("{kind}: host-{host}"));
                let now = self.now_ms();
                for actor in self.hosts[host].actors.clone() {
                    self.abort_attempts(actor, DEATH_DETECTION_MS);
                    let slot = &mut self.actors[actor];
                    slot.core = None;
                    if power && slot.disk.power_loss(now) {
                        let d = slot.disk.shadow().alarm;
                        self.checker.durable_changed(actor, d, true);
                        self.note(EventKind::PowerLoss, "world", Some(actor), |_| format!("unsynced commits lost: D={}", rel(d)));
                    }
                }
            }
            Node::Manager | Node::NamespaceManager(_) => {
                // Only this namespace's manager goes down; the others keep serving theirs.
                let ns = self.namespace_served(node);
                let manager = &mut self.managers[ns];
                if !manager.up {
                    return;
                }
                manager.up = false;
                manager.epoch += 1;
                manager.core = None;
                manager.ticks.clear();
                // The metadata store is FULL, so a power loss loses no row.
                self.note(if power { EventKind::PowerLoss } else { EventKind::Crash }, "world", None, |_| format!("{kind}: {node}"));
            }
            Node::Producer(_) | Node::Worker(_) => unreachable!("the alarm world has no job-queue processes"),
        }
        self.after(downtime_ms, Event::Restart { node });
    }

    fn restart(&mut self, node: Node) {
        match node {
            Node::Host(host) => {
                if self.hosts[host].up {
                    return;
                }
                self.hosts[host].up = true;
                self.note(EventKind::Restart, "world", None, |_| format!("restart: host-{host}"));
                for actor in self.hosts[host].actors.clone() {
                    self.load_actor(actor);
                }
            }
            Node::Manager | Node::NamespaceManager(_) => self.restart_manager(self.namespace_served(node)),
            Node::Producer(_) | Node::Worker(_) => unreachable!("the alarm world has no job-queue processes"),
        }
    }


    /// The namespace of a manager node of this world.
    fn namespace_served(&self, node: Node) -> usize {
        let ns = node.served_namespace().expect("a manager node");
        assert!(ns < self.managers.len(), "{node} is not a manager of this world ({} namespaces)", self.managers.len());
        ns
    }

    /// Restarts namespace `ns`'s manager from its own `metadata.sqlite` (R18).
    fn restart_manager(&mut self, ns: usize) {
        if self.managers[ns].up {
            return;
        }
        self.managers[ns].up = true;
        let rows = if self.factory.manager_persists_rows() {
            self.manager_work.row_loads += 1;
            self.managers[ns].store.load().expect("load metadata rows")
        } else {
            Vec::new()
        };
        let node = self.managers[ns].node;
        self.note(EventKind::Restart, "world", None, |_| format!("restart: {node} ({} rows)", rows.len()));
        self.managers[ns].core = Some(self.factory.new_manager(rows, RetryPolicy::default()));
        for actor in 0..self.actors.len() {
            if self.home(actor) == ns {
                self.checker.retries_reset(actor); // R18: retry state lives in memory.
            }
        }
        self.schedule_tick(ns);
    }

    // ----- checks ----------------------------------------------------------------------------

    /// The view of `actor`'s own namespace manager: what every check compares storage with.
    fn manager_time(&self, actor: usize) -> AlarmTime {
        self.managers[self.home(actor)].time_of(&self.actors[actor].id)
    }

    /// I2 per namespace: no manager but the actor's own holds an alarm for it.
    fn check_no_foreign_entries(&mut self, actor: usize) {
        let home = self.home(actor);
        let id = &self.actors[actor].id;
        let foreign = self.managers.iter().enumerate().find_map(|(ns, m)| (ns != home).then(|| (m, m.time_of(id))).filter(|(_, t)| t.is_some()));
        if let Some((manager, time)) = foreign {
            let violation = self.checker.foreign_entry(&id.0, &manager.name, time, &self.managers[home].name, self.now_ms());
            self.fail(violation);
        }
    }

    fn check_step(&mut self) {
        if self.violation.is_some() || !self.spec.checks(Invariant::NeverLate) {
            return;
        }
        let at = self.now_ms();
        let range = match self.touched.take() {
            Some(actor) => actor..actor + 1,
            None => 0..self.actors.len(),
        };
        for actor in range {
            let manager = self.manager_time(actor);
            let violation = self.checker.never_late(actor, &self.actors[actor].id.0, &self.managers[self.home(actor)].name, manager, at);
            if violation.is_some() {
                self.fail(violation);
                return;
            }
        }
    }



}

/// The random stream that orders simultaneous events (`agenda.rs`); actor streams are
/// numbered from 0, the world's own stream is `u64::MAX`.
const ORDER_STREAM: u64 = u64::MAX - 1;

/// The seed of one random stream of a run (SplitMix64 of the seed and the stream number).
fn stream_seed(seed: u64, stream: u64) -> u64 {
    let mut z = seed ^ stream.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// An actor's gauges: ms since the start, `None` for an unset alarm.
fn gauges((storage, manager): (AlarmTime, AlarmTime)) -> Gauges {
    let ms = |t: AlarmTime| t.map(|m| m.0 - EPOCH_MS);
    Gauges::from([("storage".to_string(), ms(storage)), ("manager".to_string(), ms(manager))])
}

fn result_text(result: &Result<(), AlarmError>) -> String {
    match result {
        Ok(()) => String::new(),
        Err(e) => format!("-> error: {e}"),
    }
}

impl TwoPhases for World {
    /// Handles the agenda's events up to `t_ms`, one instant at a time: madsim's clock jumps
    /// to each instant (one timer per instant, not per message), then the world handles
    /// every event due there.
    async fn run_until(world: &Rc<RefCell<World>>, start: madsim::time::Instant, t_ms: u64) {
        loop {
            let next = {
                let w = world.borrow();
                if w.violation.is_some() {
                    return;
                }
                w.next_event_ms().filter(|&at| at <= t_ms)
            };
            let Some(at) = next else { break };
            if at > world.borrow().now {
                madsim::time::sleep_until(start + std::time::Duration::from_millis(at)).await;
            }
            world.borrow_mut().run_due(at);
        }
        madsim::time::sleep_until(start + std::time::Duration::from_millis(t_ms)).await;
        world.borrow_mut().run_due(t_ms);
    }

    /// Loads every actor and schedules the plan's steps.
    fn start(&mut self) {
        self.note(EventKind::Note, "world", None, |w| format!("seed {} scenario {} variant {}", w.seed, w.spec.name, w.factory.name()));
        self.note(EventKind::Note, "world", None, |w| format!("profile {}", w.profile.describe()));
        for actor in 0..self.actors.len() {
            self.load_actor(actor);
        }
        for index in 0..self.steps.len() {
            let at = self.steps[index].at_ms;
            self.after(at, Event::Step { index });
        }
        self.settle_gauges();
    }
    /// The end of the chaos phase: faults off, every node up, partitions healed.
    fn heal(&mut self) {
        self.phase = Phase::Quiesce;
        self.note(EventKind::Heal, "world", None, |_| "heal: faults off, clients stopped, restarting every node".to_string());
        for host in &mut self.hosts {
            host.cut_until.fill(0);
        }
        for ns in 0..self.managers.len() {
            self.restart(self.managers[ns].node);
        }
        for host in 0..self.hosts.len() {
            self.restart(Node::Host(host));
        }
        self.touched = None;
        self.check_step();
        self.settle_gauges();
    }
    /// Nothing in flight, every node up, no alarm due, and no manager entry earlier than
    /// storage still waiting to fire and reconcile (§2 transition 3).
    fn quiescent(&self) -> bool {
        if self.phase != Phase::Quiesce || self.in_flight > 0 {
            return false;
        }
        let settled = |ns: usize| {
            let manager = &self.managers[ns];
            manager.up && manager.core.as_ref().and_then(|c| c.next_wakeup()).is_none_or(|t| t > self.manager_clock(ns))
        };
        if !(0..self.managers.len()).all(settled) {
            return false;
        }
        (0..self.actors.len()).all(|a| {
            // An alarm that is past due on its manager's clock (running, or waiting out a
            // backoff) is not settled.
            if self.manager_time(a).is_some_and(|t| t <= self.manager_clock(self.home(a))) {
                return false;
            }
            let slot = &self.actors[a];
            let idle = slot.core.as_ref().is_some_and(|c| c.gate() == Gate::Open && c.commands_outstanding() == 0)
                && slot.handler.is_none()
                && slot.arm_waiters.is_empty()
                && slot.pending_reports.is_empty()
                && slot.pending_abandons.is_empty();
            idle && !fires_earlier(self.manager_time(a), self.checker.actors[a].durable)
        })
    }
    /// The checks that apply once the world is quiescent.
    fn final_checks(&mut self) {
        let at = self.now_ms();
        for actor in 0..self.actors.len() {
            let now = self.manager_clock(self.home(actor));
            let manager = self.manager_time(actor);
            let local = self.actors[actor].core.as_ref().and_then(|c| c.stored_alarm());
            let name = &self.managers[self.home(actor)].name;
            let violation = self.checker.at_quiescence(actor, &self.actors[actor].id.0, name, manager, local, now, at);
            self.fail(violation);
            self.check_no_foreign_entries(actor);
            if self.violation.is_some() {
                return;
            }
        }
        self.note(EventKind::Note, "world", None, |_| "quiescent: every invariant holds".to_string());
    }
    /// The world did not quiesce in time.
    fn quiesce_timeout(&mut self) {
        let stuck: Vec<String> = (0..self.actors.len())
            .filter(|&a| fires_earlier(self.manager_time(a), self.checker.actors[a].durable) || self.actors[a].handler.is_some())
            .map(|a| format!("{} (manager={} durable={})", self.actors[a].id, rel(self.manager_time(a)), rel(self.checker.actors[a].durable)))
            .collect();
        let detail = format!(
            "the world did not quiesce within {} ms after healing ({} messages in flight; unsettled: {})",
            self.spec.quiesce_limit_ms,
            self.in_flight,
            if stuck.is_empty() { "none".to_string() } else { stuck.join(", ") }
        );
        let violation = self.checker.convergence_timeout(self.now_ms(), detail);
        self.fail(violation);
    }

    fn violated(&self) -> bool {
        self.violation.is_some()
    }

    fn now_ms(&self) -> u64 {
        Self::now_ms(self)
    }

    fn spec(&self) -> &ScenarioSpec {
        &self.spec
    }

    fn finish(&mut self) {
        self.last_event_ms = Self::now_ms(self);
        self.phase = Phase::Done;
    }
}
