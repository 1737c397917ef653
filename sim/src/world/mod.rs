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
//!
//! This file holds the world's state, its construction and the event loop's plumbing (the
//! agenda, clocks, random streams, the trace). The event handlers live beside it, one part
//! of the world each:
//!
//! | file | what |
//! |---|---|
//! | `clients.rs` | planned steps; the actors' storage calls (B11 checked here) |
//! | `actors.rs` | incarnations, the scheduler's effects, commits applied in order, resets |
//! | `link.rs` | schedule commands to the manager: lost, retried, duplicated, partitioned |
//! | `handlers.rs` | fires reaching actors, handler behaviours, outcomes judged by R14 (B15) |
//! | `managers.rs` | one manager per namespace: routing, rows, ticks, results, abandons |
//! | `faults.rs` | crashes, power loss, restarts |
//! | `phases.rs` | the per-event check (I1), chaos → heal → quiesce, the final checks |
//! | `touched.rs` | the actors an event touched: all the per-event check and gauges look at |

use crate::agenda::Agenda;
use crate::clock::Skew;
use crate::checker::{self, rel, Checker, Violation, EPOCH_MS};
use crate::conservation::Conservation;
use crate::user_view::{Seen, UserView};
use crate::disk::ActorDisk;
use crate::driver::{Phase, TwoPhases};
use crate::draws::{pick, stream_seed};
use crate::handler_script::{Ending, HandlerScript};
use crate::time_arg::{LiveValues, Resolved, REPEAT_DEPTH};
use crate::call::Call;
use crate::plan::{Action, Node, Op, Plan, Step};
use crate::pool::{Pooled, Reusable};
use crate::store_work::StoreWork;
use crate::profile::FaultProfile;
use crate::scenario::{Invariant, LinkModel, ScenarioSpec};
use crate::trace::{EventKind, Gauges, Trace, TraceEvent};
use crate::run_options::RunOptions;
use crate::probes::alarms as probe;
use alarmsim_scheduler::probe::Probes;
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

mod actors;
mod clients;
mod faults;
mod handlers;
mod link;
mod managers;
mod phases;
mod run;
mod touched;

pub(crate) use run::{run_plan, run_plan_with};
use touched::Touched;

/// How long a caller waits before it reports a lost message as a failure.
const LINK_TIMEOUT_MS: u64 = 1_000;
/// Retries of a lost request by the link itself, before it reports failure.
const LINK_RETRIES: u32 = 2;
/// How long the manager takes to notice that a host died during an attempt.
const DEATH_DETECTION_MS: u64 = 2_000;
/// R12: an alarm handler is aborted after 15 minutes of wall time.
const WALL_TIME_LIMIT_MS: u64 = 15 * 60 * 1000;

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
    /// Runs the actor's `HandlerScript` (storage calls at its first instant, middle and end).
    Script,
}

/// One thing that happens at one instant.
#[derive(Clone, Debug)]
pub enum Event {
    /// Step `index` of the plan.
    Step { index: usize },
    CommitApply { actor: usize, inc: u64, id: CommitId, batch: CommitBatch, fail_before: bool, fail_after: bool },
    /// A commit's completion; `dup`: a second copy of one already delivered (completions may
    /// come twice, docs/TEST_YOUR_SCHEDULER.md §2).
    CommitAck { actor: usize, inc: u64, id: CommitId, ok: bool, dup: bool },
    CommandSend { actor: usize, inc: u64, call: CallId, time: AlarmTime, fence: Fence, attempt: u32 },
    CommandArrive { actor: usize, inc: u64, call: CallId, time: AlarmTime, fence: Fence, attempt: u32, zombie: bool },
    /// A command's completion; `dup` as for `CommitAck`.
    CommandResult { actor: usize, inc: u64, call: CallId, ok: bool, dup: bool },
    ManagerTick { namespace: usize, epoch: u64, at: u64 },
    FireArrive { epoch: u64, actor: usize, fire: Fire, fired_at: Millis },
    HandlerStart { actor: usize, inc: u64 },
    /// A scripted handler's middle: its middle calls run now.
    HandlerMiddle { actor: usize, inc: u64 },
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
            | Event::HandlerMiddle { actor, .. }
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
    /// The `alarmInfo` it received (R10).
    retry_count: u32,
    is_retry: bool,
    /// The alarm the handler itself last set, while no later write (its own delete, or a
    /// client's write during the handler) replaced it: it must survive the handler's deferred
    /// delete (R11, B12).
    wrote: Option<Millis>,
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
    /// The running handler's script, if it runs one.
    script: Option<HandlerScript>,
    /// Commits shipped and not yet acknowledged, with their alarms (`Sym::InFlight`).
    commits: BTreeMap<CommitId, AlarmTime>,
    /// The newest commit acknowledged as durable and its alarm (the loaded alarm before any):
    /// the actor's LC as the world sees it (§2.3 "clean", judged by user-view at each arm).
    acked: (CommitId, AlarmTime),
    /// This incarnation has been told of a failed commit or command: only such a failure
    /// may break its output gate (§2 transition 1, `Checker::gate_broke`).
    failure_delivered: bool,
    /// The time of the last schedule command this incarnation sent (`Sym::LastSent`).
    last_sent: Option<AlarmTime>,
    /// The actor's most recent alarm values written, newest first (`Sym::Repeat`).
    recent: [Option<Millis>; REPEAT_DEPTH],
    /// Its messages and handler steps still in the agenda (idle convergence needs none).
    pending_events: u32,
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
    /// What the store holds, per actor index (for I1 while the manager is down, and to skip
    /// rewriting a row with the same contents).
    rows: BTreeMap<usize, AlarmRow>,
    ticks: BTreeSet<u64>,
    rng: ChaCha8Rng,
}

/// Namespace 0's manager draws from the stream the single manager always had.
const MANAGER_STREAM: u64 = 0x6d61_6e61_6765_7221;

/// One seed's world.
pub struct World {
    pub spec: ScenarioSpec,
    pub profile: FaultProfile,
    pub seed: u64,
    factory: Arc<dyn SchedulerFactory>,
    /// One random stream per actor, for everything that happens to that actor's messages and
    /// handlers: removing a plan step for one actor leaves the others' draws unchanged.
    actor_rngs: Vec<ChaCha8Rng>,
    /// One edge stream per actor (handler scripts), apart from `actor_rngs` so that with the
    /// edge-seeking workload off every draw is what it always was (`edge_profile.rs`).
    edge_rngs: Vec<ChaCha8Rng>,
    steps: Vec<Step>,
    pub phase: Phase,
    hosts: Vec<Host>,
    actors: Vec<ActorSlot>,
    /// One manager per namespace, indexed by namespace.
    managers: Vec<ManagerNode>,
    pub trace: Trace,
    checker: Checker,
    /// What the user sees, against a sequential model of the API (`user_view.rs`).
    user_view: UserView,
    /// How each durable alarm value may end (`conservation.rs`).
    conservation: Conservation,
    pub violation: Option<Violation>,
    in_flight: u64,
    pub events_handled: u64,
    /// Events recorded (whether or not their text was kept).
    pub trace_count: u64,
    /// Every event's time, kind and track, traced or not (`fingerprint.rs`).
    pub fingerprint: crate::fingerprint::Fingerprint,
    /// The managers' SQLite operations (the actors' are counted by their disks).
    manager_work: StoreWork,
    /// Simulated ms of the last event handled.
    pub last_event_ms: u64,
    /// The actors the current event can have changed (`touched.rs`): what the per-event
    /// checks and the trace's gauges look at.
    touched: Touched,
    /// The per-event check visits every actor, not only the touched ones (`run_plan_with`).
    check_every_actor: bool,
    /// When each partition ends, and whose host: the first event at or after that instant
    /// touches the host's actors, because the link coming back can make an actor idle (and
    /// so subject to idle convergence) without any event of its own.
    partition_ends: std::collections::BinaryHeap<std::cmp::Reverse<(u64, usize)>>,
    /// Where the next quiescence check starts looking for an unsettled actor (`phases.rs`).
    quiesce_hand: std::cell::Cell<usize>,
    keep_trace: bool,
    /// Where the scheduler's and the world's coverage probes are counted (off unless the run
    /// was asked for coverage).
    pub(crate) probes: Probes,
    /// Traced events of an actor whose gauges are not filled in yet: (event index, actor).
    unsettled: Vec<(usize, usize)>,
    /// The (storage, manager) values each actor's track last showed in the trace.
    shown: Vec<Option<(AlarmTime, AlarmTime)>>,
    /// Simulated ms since the start: the instant the driver is at.
    now: u64,
    /// Every event pending, in the order it will run.
    agenda: Agenda<Event>,
    /// Events that are ready now and run before anything in the agenda, in the order they
    /// were made ready: KJ's queue of resolved continuations, which its loop drains before it
    /// polls I/O or timers (the local link's `scheduleRun` answers, R20).
    ready: std::collections::VecDeque<Event>,
}

impl World {
    /// Builds the world for `seed` (inside a madsim runtime).
    pub fn new(spec: ScenarioSpec, factory: Arc<dyn SchedulerFactory>, plan: Plan, options: RunOptions) -> Rc<RefCell<World>> {
        let seed = plan.seed;
        let keep_trace = options.keep_trace;
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
                script: None,
                commits: BTreeMap::new(),
                acked: (CommitId(0), None),
                failure_delivered: false,
                last_sent: None,
                recent: [None; REPEAT_DEPTH],
                pending_events: 0,
                arm_waiters: BTreeMap::new(),
                pending_reports: Vec::new(),
                pending_abandons: Vec::new(),
            });
        }
        let probes = if options.coverage { Probes::recording() } else { Probes::off() };
        let managers = ManagerNode::per_namespace(&spec, factory.as_ref(), seed, &probes);
        let checker = Checker::new(&spec, RetryPolicy::default());
        let user_view = UserView::new(spec.actors() as usize, spec.checks(Invariant::UserView));
        let conservation = Conservation::new(spec.actors() as usize, spec.checks(Invariant::AlarmConservation));
        let spec_actors = actors.len();
        let actor_rngs = (0..actors.len()).map(|a| ChaCha8Rng::seed_from_u64(stream_seed(seed, a as u64))).collect();
        let edge_rngs = (0..actors.len()).map(|a| crate::edge_profile::actor_rng(seed, a)).collect();
        let world = World {
            spec,
            profile,
            seed,
            factory,
            actor_rngs,
            edge_rngs,
            steps: plan.steps,
            phase: Phase::Chaos,
            hosts,
            actors,
            managers,
            trace: Trace::default(),
            checker,
            user_view,
            conservation,
            violation: None,
            in_flight: 0,
            events_handled: 0,
            trace_count: 0,
            fingerprint: Default::default(),
            last_event_ms: 0,
            touched: Touched::new(spec_actors),
            check_every_actor: false,
            partition_ends: std::collections::BinaryHeap::new(),
            quiesce_hand: std::cell::Cell::new(0),
            keep_trace,
            probes,
            unsettled: Vec::new(),
            shown: vec![None; spec_actors],
            now: 0,
            manager_work: StoreWork::default(),
            agenda: Agenda::new(stream_seed(seed, ORDER_STREAM)),
            ready: std::collections::VecDeque::new(),
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
            let Some(event) = self.ready.pop_front().or_else(|| self.agenda.pop_due(now_ms)) else { break };
            self.dispatch(event);
        }
    }

    fn chaos(&self) -> bool {
        self.phase == Phase::Chaos
    }

    /// A node's clock offset (ms) and drift (ppm).
    fn skew(&self, node: Node) -> Skew {
        Skew::new(self.profile.clocks[FaultProfile::clock_index(node, self.hosts.len())])
    }

    /// The clock of namespace `namespace`'s manager.
    fn manager_clock(&self, namespace: usize) -> Millis {
        self.clock(self.managers[namespace].node)
    }

    /// A node's wall clock: the shared clock plus the node's offset and drift.
    fn clock(&self, node: Node) -> Millis {
        Millis(EPOCH_MS + self.skew(node).read(self.now_ms()))
    }

    /// The shared time at which `node`'s clock reads at least `t`.
    fn shared_ms_for(&self, node: Node, t: Millis) -> u64 {
        self.skew(node).shared_for(t.0 - EPOCH_MS)
    }

    fn after(&mut self, delay_ms: u64, event: Event) {
        if event.in_flight() {
            self.in_flight += 1;
            if let Some(actor) = event.actor() {
                self.actors[actor].pending_events += 1;
            }
        }
        self.agenda.push(self.now + delay_ms, event);
    }

    /// Makes `event` ready: it runs after the event being handled and before any other event
    /// due now (KJ's resolved continuations).
    fn ready(&mut self, event: Event) {
        if event.in_flight() {
            self.in_flight += 1;
            if let Some(actor) = event.actor() {
                self.actors[actor].pending_events += 1;
            }
        }
        self.ready.push_back(event);
    }

    fn dispatch(&mut self, event: Event) {
        if event.in_flight() {
            self.in_flight -= 1;
            if let Some(actor) = event.actor() {
                self.actors[actor].pending_events -= 1;
            }
        }
        if self.violation.is_some() || self.phase == Phase::Done {
            return;
        }
        self.events_handled += 1;
        self.last_event_ms = self.now_ms();
        // A message concerns one actor; a tick, a crash or a restart adds the actors it
        // touched while it is handled.
        self.touched.clear();
        if let Some(actor) = event.actor() {
            self.touched.add(actor);
        }
        self.touch_healed_links();
        // A panic in the scheduler under test is a finding: record it and stop the run here,
        // with the world's trace intact (and without madsim's own panic report). A panic of
        // the world itself is not the scheduler's: it goes on up to the seed thread, which
        // reports it as a harness error (`blame.rs`, `seed_thread.rs`).
        let handled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.handle(event)));
        if let Err(payload) = handled {
            if !crate::seed_thread::pending_panic_is_subjects() {
                std::panic::resume_unwind(payload);
            }
            let message = crate::seed_thread::take_last_panic().map_or_else(|| "panic".to_string(), |n| n.message);
            let at_ms = self.now_ms();
            let violation = Violation { invariant: Invariant::NoPanic, actor: None, at_ms, message: format!("the scheduler panicked: {message}") };
            self.fail(Some(violation));
        } else {
            self.check_step();
        }
        self.settle_gauges();
    }

    /// Touches the actors of every host whose partition has ended since the last event: no
    /// event marks the end of a partition, yet it can make an actor idle.
    fn touch_healed_links(&mut self) {
        let now = self.now_ms();
        while let Some(&std::cmp::Reverse((until, host))) = self.partition_ends.peek() {
            if until > now {
                break;
            }
            self.partition_ends.pop();
            for &actor in &self.hosts[host].actors {
                self.touched.add(actor);
            }
        }
    }

    /// Records an event. `node` and `what` are rendered only when a trace is kept or a live
    /// log listens: sweeps run untraced, and most events would otherwise format strings
    /// nobody reads.
    fn note(&mut self, kind: EventKind, node: impl std::fmt::Display, actor: Option<usize>, what: impl FnOnce(&World) -> String) {
        self.trace_count += 1;
        self.fingerprint.record(self.now_ms(), kind, actor.map_or(0, |a| a as u32 + 1));
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
    /// Only the event's touched actors and those it noted can have moved.
    pub fn settle_gauges(&mut self) {
        if !self.keep_trace {
            return;
        }
        if self.check_every_actor {
            self.touched.add_all();
        }
        let mut noted = Vec::with_capacity(self.unsettled.len());
        for (index, actor) in std::mem::take(&mut self.unsettled) {
            self.trace.events[index].gauges = gauges(self.track_values(actor));
            noted.push(actor);
            self.touched.add(actor);
        }
        noted.sort_unstable();
        for i in 0..self.touched.visit(self.actors.len()) {
            let actor = self.touched.nth(i);
            let noted = noted.binary_search(&actor).is_ok();
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
            Event::CommitAck { actor, inc, id, ok, dup } => self.commit_ack(actor, inc, id, ok, dup),
            Event::CommandSend { actor, inc, call, time, fence, attempt } => self.command_send(actor, inc, call, time, fence, attempt),
            Event::CommandArrive { actor, inc, call, time, fence, attempt, zombie } => self.command_arrive(actor, inc, call, time, fence, attempt, zombie),
            Event::CommandResult { actor, inc, call, ok, dup } => self.command_result(actor, inc, call, ok, dup),
            Event::ManagerTick { namespace, epoch, at } => self.manager_tick(namespace, epoch, at),
            Event::FireArrive { epoch, actor, fire, fired_at } => self.fire_arrive(epoch, actor, fire, fired_at),
            Event::HandlerStart { actor, inc } => self.handler_start(actor, inc),
            Event::HandlerMiddle { actor, inc } => self.handler_middle(actor, inc),
            Event::HandlerEnd { actor, inc, behavior } => self.handler_end(actor, inc, behavior),
            Event::FireResultArrive { epoch, actor, scheduled, result, counts } => self.fire_result_arrive(epoch, actor, scheduled, result, counts),
            Event::AbandonArrive { epoch, actor, scheduled } => self.abandon_arrive(epoch, actor, scheduled),
            Event::AbandonResult { epoch, actor, scheduled, answer } => self.abandon_result(epoch, actor, scheduled, answer),
            Event::Restart { node } => self.restart(node),
        }
    }
}

/// The random stream that orders simultaneous events (`agenda.rs`); actor streams are
/// numbered from 0, the world's own stream is `u64::MAX`.
const ORDER_STREAM: u64 = u64::MAX - 1;


/// An actor's gauges: ms since the start, `None` for an unset alarm.
fn gauges((storage, manager): (AlarmTime, AlarmTime)) -> Gauges {
    let ms = |t: AlarmTime| t.map(|m| m.0 - EPOCH_MS);
    Gauges::from([("storage".to_string(), ms(storage)), ("manager".to_string(), ms(manager))])
}
