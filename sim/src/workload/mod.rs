//! The alarm world's plan generator: the fault profile, the client operations of the chaos
//! phase, and the node faults (crashes, power losses, partitions), all from the seed. A job-queue
//! scenario's plan comes from `queue::plan` instead.
//!
//! On top of that base plan, the edge-seeking workload (`edges.rs`) turns some alarm times
//! into symbols and adds bursts, from a random stream of its own: switched off, the plan is
//! exactly the base plan.

mod edges;

use crate::call::Call;
use crate::draws::{count, pick};
use crate::plan::crash_steps;
use crate::node::Node;
use crate::plan::{Action, Op, Plan, Step};
use crate::edge_profile::EdgeProfile;
use crate::profile::FaultProfile;
use crate::time_arg::TimeArg;
use crate::scenario::ScenarioSpec;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

impl Plan {
    /// The plan a seed stands for: the fault profile, then the client operations and node
    /// faults of the chaos phase, in time order.
    pub fn generate(spec: &ScenarioSpec, variant: &str, seed: u64) -> Plan {
        if let Some(workload) = spec.queue() {
            return crate::queue::plan::generate(spec, workload, variant, seed);
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut profile = FaultProfile::draw(spec, &mut rng);
        if spec.link == crate::scenario::LinkModel::Local {
            profile.make_local();
        }
        let mut edge_rng = crate::edge_profile::plan_rng(seed);
        profile.edges = EdgeProfile::draw(&spec.edges, &mut edge_rng);
        let mut steps = client_ops(spec, &mut rng);
        for host in 0..spec.hosts as usize {
            crash_steps(&mut steps, &profile, Node::Host(host), profile.host_crashes_per_hour, spec.chaos_ms, &mut rng);
            partitions(&mut steps, &profile, host, spec, &mut rng);
        }
        // Each namespace's manager crashes on its own, at the profile's rate. Namespace 0's
        // draws come first, where the single manager's always were.
        for namespace in 0..spec.namespaces as usize {
            let node = Node::manager_of(namespace, spec.namespaces);
            crash_steps(&mut steps, &profile, node, profile.manager_crashes_per_hour, spec.chaos_ms, &mut rng);
        }
        if profile.edges.is_on() {
            edges::symbolic_args(&mut steps, &profile.edges, &mut edge_rng);
            steps.extend(edges::bursts(spec, &profile.edges, &mut edge_rng));
        }
        steps.sort_by_key(|s| s.at_ms); // Stable: equal times keep their generation order.
        Plan { scenario: spec.name.to_string(), variant: variant.to_string(), seed, profile, steps, knobs: None, reaches: Vec::new(), link: spec.link }
    }

    /// The plan of `seed` drawn from `spec` re-weighted by `knobs` (a guided run,
    /// `guided.rs`); it records the knobs, so it runs, shrinks and replays with them.
    pub fn generate_with(spec: &ScenarioSpec, variant: &str, seed: u64, knobs: Option<crate::knobs::Knobs>) -> Plan {
        match knobs {
            None => Plan::generate(spec, variant, seed),
            Some(k) => Plan { knobs: Some(k), ..Plan::generate(&k.apply(spec), variant, seed) },
        }
    }
}

/// Whether a client turn writes with `allowUnconfirmed` (R6). Scenarios that never do draw
/// nothing, so their plans (and every seed's trace) are what they were before the option.
pub(crate) fn unconfirmed(spec: &ScenarioSpec, rng: &mut ChaCha8Rng) -> bool {
    spec.unconfirmed_writes > 0.0 && rng.random_bool(spec.unconfirmed_writes)
}

/// Whether a client turn, or a scripted handler's call, runs inside an explicit transaction
/// (R5). Scenarios that never do draw nothing, so their plans are what they were before.
pub(crate) fn in_transaction(spec: &ScenarioSpec, rng: &mut ChaCha8Rng) -> bool {
    spec.explicit_transactions > 0.0 && rng.random_bool(spec.explicit_transactions)
}

/// `calls` inside an explicit transaction (R5's second bullet): a read of the alarm inside
/// it after the writes (the transaction's value), committed or, one time in three, rolled
/// back; one time in four nested in an outer transaction, itself rolled back one time in
/// four. `deleteAll` cannot run in a transaction, so the caller never wraps one.
pub(crate) fn transaction(calls: Vec<Call>, rng: &mut ChaCha8Rng) -> Call {
    debug_assert!(!calls.iter().any(|c| matches!(c, Call::DeleteAll { .. })), "deleteAll throws inside a transaction");
    let mut inner = calls;
    inner.push(Call::GetAlarm);
    let txn = Call::Txn { calls: inner, rollback: rng.random_bool(1.0 / 3.0) };
    if rng.random_bool(0.25) {
        return Call::Txn { calls: vec![txn, Call::GetAlarm], rollback: rng.random_bool(0.25) };
    }
    txn
}

fn client_ops(spec: &ScenarioSpec, rng: &mut ChaCha8Rng) -> Vec<Step> {
    let per_client = (spec.ops / spec.clients.max(1)).max(1) as u64;
    let gap = (2 * spec.chaos_ms / per_client).max(1);
    let actors = spec.actors() as usize;
    let w = spec.op_weights;
    let weights = [w.set_alarm, w.delete_alarm, w.get_alarm, w.put, w.set_and_put, w.set_twice, w.delete_all, w.schedule_next];
    let mut steps = Vec::new();
    for client in 0..spec.clients {
        let mut at = rng.random_range(0..=gap);
        while at < spec.chaos_ms {
            let actor = rng.random_range(0..actors);
            let delay = |rng: &mut ChaCha8Rng| rng.random_range(spec.alarm_delay_ms.lo..=spec.alarm_delay_ms.hi);
            let key = |rng: &mut ChaCha8Rng| format!("k{}", rng.random_range(0..4));
            let op = match pick(rng, &weights) {
                0 => Op::SetAlarm { time: TimeArg::Delay(delay(rng)) },
                1 => Op::DeleteAlarm,
                2 => Op::GetAlarm,
                3 => Op::Put { key: key(rng) },
                4 => Op::SetAndPut { time: TimeArg::Delay(delay(rng)), key: key(rng) },
                5 => Op::SetTwice { first: TimeArg::Delay(delay(rng)), second: TimeArg::Delay(delay(rng)) },
                6 => Op::DeleteAll { delete_alarm: rng.random_bool(0.5) },
                _ => Op::ScheduleNext { delay_ms: delay(rng).max(0) },
            };
            let op = if !matches!(op, Op::DeleteAll { .. }) && in_transaction(spec, rng) {
                // The read after the transaction sees what it left: the committed value, or
                // after a rollback the value before it.
                Op::Turn { calls: vec![transaction(op.into_calls(), rng), Call::GetAlarm] }
            } else {
                op
            };
            let unconfirmed = unconfirmed(spec, rng);
            steps.push(Step { at_ms: at, action: Action::Op { client, actor, op, unconfirmed } });
            at += rng.random_range(1..=gap);
        }
    }
    // The scenario's operation budget: the earliest `ops` operations of all clients.
    steps.sort_by_key(|s| s.at_ms);
    steps.truncate(spec.ops as usize);
    steps
}

/// A host's partitions. With several namespaces each cuts the host off from one manager, drawn
/// uniformly (managers sit on different machines, so one link fails while the others work;
/// overlapping draws cut several). With one namespace nothing more is drawn, so those plans are
/// what they always were.
fn partitions(steps: &mut Vec<Step>, profile: &FaultProfile, host: usize, spec: &ScenarioSpec, rng: &mut ChaCha8Rng) {
    let chaos_ms = spec.chaos_ms;
    for _ in 0..count(rng, profile.partitions_per_hour, chaos_ms) {
        let at_ms = rng.random_range(0..chaos_ms);
        let ms = rng.random_range(profile.partition_ms.0..=profile.partition_ms.1);
        let manager = (spec.namespaces > 1).then(|| Node::NamespaceManager(rng.random_range(0..spec.namespaces as usize)));
        steps.push(Step { at_ms, action: Action::Partition { host, ms, manager } });
    }
}
