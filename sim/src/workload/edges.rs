//! The edge-seeking part of the plan: symbolic alarm times in place of some delays, and
//! bursts — short sequences on one actor that only make sense together:
//!
//! - the same value twice (R3: the second is a no-op);
//! - set(x) → delete → set(x) within a few ms, while a commit or manager command is slow;
//! - set(a), set(b), set(c) with c between a and b (earlier and later than what is in flight);
//! - set(x) later, set(y) earlier, set(x) again: back to a value a commit still in flight
//!   carries (§2 transition 2 compares versions, not values: #5589);
//! - set and delete in the same turn;
//! - `deleteAll` with and without `deleteAlarm`, beside a set (R7, §2 transition 5);
//! - several clients in the same millisecond (the agenda orders them from the seed).
//!
//! Everything here draws from the plan's edge stream (`edge_profile::plan_rng`), after the base
//! plan is complete, so the base plan is the same with or without it.

use crate::call::Call;
use crate::draws::count;
use crate::edge_profile::EdgeProfile;
use crate::plan::{Action, Op, Step};
use crate::scenario::ScenarioSpec;
use crate::time_arg::{Sym, TimeArg};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// The longest gap between two steps of a burst: shorter than a slow commit or a slow
/// manager command, so the later steps find the earlier ones still in flight.
pub const BURST_GAP_MS: u64 = 40;

/// The burst templates, drawn uniformly.
const TEMPLATES: u32 = 7;

/// Replaces plain delays of the base plan's operations by symbols, by the seed's weights.
pub fn symbolic_args(steps: &mut [Step], edges: &EdgeProfile, rng: &mut ChaCha8Rng) {
    if !edges.symbolic_on() {
        return;
    }
    for step in steps.iter_mut() {
        let Action::Op { op, .. } = &mut step.action else { continue };
        for arg in op.time_args_mut() {
            if let TimeArg::Delay(ms) = *arg {
                *arg = edges.time_arg(ms, rng);
            }
        }
    }
}

/// The bursts of one plan, at the seed's rate over the chaos phase.
pub fn bursts(spec: &ScenarioSpec, edges: &EdgeProfile, rng: &mut ChaCha8Rng) -> Vec<Step> {
    let mut steps = Vec::new();
    if spec.actors() == 0 || spec.clients == 0 {
        return steps;
    }
    for _ in 0..count(rng, edges.bursts_per_hour, spec.chaos_ms) {
        let at = rng.random_range(0..spec.chaos_ms);
        let actor = rng.random_range(0..spec.actors() as usize);
        let mut burst = Burst { at, actor, client: rng.random_range(0..spec.clients), steps: &mut steps };
        match rng.random_range(0..TEMPLATES) {
            0 => same_value_twice(spec, edges, &mut burst, rng),
            1 => set_delete_set(spec, edges, &mut burst, rng),
            2 => one_between_two(spec, &mut burst, rng),
            3 => set_and_delete_in_one_turn(spec, edges, &mut burst, rng),
            4 => delete_all_beside_a_set(spec, edges, &mut burst, rng),
            5 => earlier_and_back(spec, &mut burst, rng),
            _ => clients_in_one_millisecond(spec, edges, &mut burst, rng),
        }
    }
    steps
}

/// A burst being written: its clock, its actor, the client of its last step.
struct Burst<'a> {
    at: u64,
    actor: usize,
    client: u32,
    steps: &'a mut Vec<Step>,
}

impl Burst<'_> {
    /// Adds `op` `gap` ms after the previous step (from the same client, or half the time
    /// from another one: "one or more clients").
    fn then(&mut self, spec: &ScenarioSpec, gap: u64, op: Op, rng: &mut ChaCha8Rng) {
        self.at += gap;
        if rng.random_bool(0.5) {
            self.client = rng.random_range(0..spec.clients);
        }
        if self.at < spec.chaos_ms {
            let unconfirmed = super::unconfirmed(spec, rng);
            self.steps.push(Step { at_ms: self.at, action: Action::Op { client: self.client, actor: self.actor, op, unconfirmed } });
        }
    }
}

fn delay(spec: &ScenarioSpec, rng: &mut ChaCha8Rng) -> i64 {
    rng.random_range(spec.alarm_delay_ms.lo..=spec.alarm_delay_ms.hi)
}

/// A gap of at least 1 ms: two steps in the same ms run in a seeded random order, and these
/// sequences mean their order.
fn gap(rng: &mut ChaCha8Rng) -> u64 {
    rng.random_range(1..=BURST_GAP_MS)
}

fn arg(spec: &ScenarioSpec, edges: &EdgeProfile, rng: &mut ChaCha8Rng) -> TimeArg {
    let d = delay(spec, rng);
    edges.time_arg(d, rng)
}

fn repeat(spec: &ScenarioSpec, rng: &mut ChaCha8Rng, back: u8) -> TimeArg {
    TimeArg::Sym(Sym::Repeat { back, else_ms: delay(spec, rng) })
}

fn same_value_twice(spec: &ScenarioSpec, edges: &EdgeProfile, b: &mut Burst, rng: &mut ChaCha8Rng) {
    let first = arg(spec, edges, rng);
    b.then(spec, 0, Op::SetAlarm { time: first }, rng);
    let again = repeat(spec, rng, 1);
    b.then(spec, gap(rng), Op::SetAlarm { time: again }, rng);
}

fn set_delete_set(spec: &ScenarioSpec, edges: &EdgeProfile, b: &mut Burst, rng: &mut ChaCha8Rng) {
    let first = arg(spec, edges, rng);
    b.then(spec, 0, Op::SetAlarm { time: first }, rng);
    b.then(spec, gap(rng), Op::DeleteAlarm, rng);
    let again = repeat(spec, rng, 1);
    b.then(spec, gap(rng), Op::SetAlarm { time: again }, rng);
}

/// set(a), set(b), set(c) with c strictly between a and b, as absolute times (each delay is
/// relative to its own step's clock).
fn one_between_two(spec: &ScenarioSpec, b: &mut Burst, rng: &mut ChaCha8Rng) {
    let (g1, g2) = (gap(rng), gap(rng));
    let da = delay(spec, rng);
    let db = delay(spec, rng);
    let (abs_a, abs_b) = (da, g1 as i64 + db);
    let mid = abs_a.min(abs_b) + (abs_a - abs_b).abs() / 2;
    let dc = mid - (g1 + g2) as i64;
    b.then(spec, 0, Op::SetAlarm { time: TimeArg::Delay(da) }, rng);
    b.then(spec, g1, Op::SetAlarm { time: TimeArg::Delay(db) }, rng);
    b.then(spec, g2, Op::SetAlarm { time: TimeArg::Delay(dc) }, rng);
}

fn set_and_delete_in_one_turn(spec: &ScenarioSpec, edges: &EdgeProfile, b: &mut Burst, rng: &mut ChaCha8Rng) {
    let set = Call::SetAlarm { time: arg(spec, edges, rng) };
    let calls = if rng.random_bool(0.5) { vec![set, Call::DeleteAlarm] } else { vec![Call::DeleteAlarm, set] };
    b.then(spec, 0, Op::Turn { calls }, rng);
}

fn delete_all_beside_a_set(spec: &ScenarioSpec, edges: &EdgeProfile, b: &mut Burst, rng: &mut ChaCha8Rng) {
    let delete_alarm = rng.random_bool(0.5);
    let set = Call::SetAlarm { time: arg(spec, edges, rng) };
    if rng.random_bool(0.5) {
        // In one turn, in either order ("calling deleteAll() during an implicit transaction").
        let calls = if rng.random_bool(0.5) { vec![set, Call::DeleteAll { delete_alarm }] } else { vec![Call::DeleteAll { delete_alarm }, set] };
        b.then(spec, 0, Op::Turn { calls }, rng);
    } else {
        // In consecutive turns, while the first commit is in flight ("deleteAll deleteAlarm
        // does not schedule alarm cancellation if setAlarm interleaves").
        let first = arg(spec, edges, rng);
        b.then(spec, 0, Op::SetAlarm { time: first }, rng);
        b.then(spec, gap(rng), Op::DeleteAll { delete_alarm }, rng);
        let again = repeat(spec, rng, 1);
        b.then(spec, gap(rng), Op::SetAlarm { time: again }, rng);
    }
}

/// set(x), set(y) with y earlier than x, set(x) again (as a repeat of the value two writes
/// back), each a few ms after the last: the first commit is usually still in flight when
/// the actor returns to its value.
fn earlier_and_back(spec: &ScenarioSpec, b: &mut Burst, rng: &mut ChaCha8Rng) {
    let x = delay(spec, rng);
    let g = gap(rng);
    let lo = spec.alarm_delay_ms.lo.min(x - 2);
    let y = rng.random_range(lo..=x - 2) - g as i64; // Earlier than x, in absolute time.
    b.then(spec, 0, Op::SetAlarm { time: TimeArg::Delay(x) }, rng);
    b.then(spec, g, Op::SetAlarm { time: TimeArg::Delay(y) }, rng);
    let again = repeat(spec, rng, 2);
    b.then(spec, gap(rng), Op::SetAlarm { time: again }, rng);
}

/// Two to four clients act on the actor in the same millisecond.
fn clients_in_one_millisecond(spec: &ScenarioSpec, edges: &EdgeProfile, b: &mut Burst, rng: &mut ChaCha8Rng) {
    let clients = rng.random_range(2..=spec.clients.clamp(2, 4));
    for client in 0..clients {
        let op = match rng.random_range(0..6) {
            0..=2 => Op::SetAlarm { time: arg(spec, edges, rng) },
            3 => Op::DeleteAlarm,
            4 => Op::GetAlarm,
            _ => Op::Put { key: format!("k{}", rng.random_range(0..4)) },
        };
        if b.at < spec.chaos_ms {
            let unconfirmed = super::unconfirmed(spec, rng);
            b.steps.push(Step { at_ms: b.at, action: Action::Op { client: client % spec.clients, actor: b.actor, op, unconfirmed } });
        }
    }
}
