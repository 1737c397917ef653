//! Handler scripts: an alarm handler that makes storage calls at its first instant (the very
//! millisecond it starts, which is T itself when the actor's clock reads T), in its middle and
//! at its end, then succeeds, throws or runs past the wall-clock limit (R12).
//!
//! The fixed handler behaviours write only when they end, at least 1 ms after T, so a write
//! in the handler's own millisecond (R11: it cancels the deferred delete; `setAlarm(now)` then
//! equals T, so R3 says "no write") never happened. A script can, and a handler of zero
//! duration ends in the millisecond it started. Scripts are drawn during the run from the
//! actor's edge stream (`edge_profile::actor_rng`), like the fixed behaviours are from its
//! own stream.

use crate::call::{show_calls, Call};
use crate::draws::pick;
use crate::edge_profile::EdgeProfile;
use crate::scenario::ScenarioSpec;
use crate::time_arg::{ArgKind, TimeArg};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// How a scripted handler ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    Succeed,
    /// Throws: a counted failure (R14), retried with backoff.
    Throw,
    /// Runs past the 15-minute limit (R12): aborted there, so its end calls never run.
    ExceedWallTime,
}

/// What one scripted handler does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandlerScript {
    /// Calls at its first instant, in one turn.
    pub first: Vec<Call>,
    /// Calls halfway through, in one turn.
    pub middle: Vec<Call>,
    /// Calls as it ends, in one turn (skipped when it runs past the wall-clock limit).
    pub end: Vec<Call>,
    pub ending: Ending,
    /// How long it runs (0: it ends in the millisecond it started). Ignored for
    /// [`Ending::ExceedWallTime`], which runs to the limit.
    pub duration_ms: u64,
}

/// At most this many calls in one part of a script.
const MAX_CALLS_PER_PART: usize = 2;

impl HandlerScript {
    /// Draws a script: each part holds 0–2 calls (setAlarm with an argument drawn from the
    /// seed's edge weights, deleteAlarm, getAlarm, put, deleteAll, the container re-arm
    /// helpers); the ending follows the scenario's handler weights.
    pub fn draw(spec: &ScenarioSpec, edges: &EdgeProfile, rng: &mut ChaCha8Rng) -> HandlerScript {
        let first = draw_calls(spec, edges, rng, Part::First);
        let middle = draw_calls(spec, edges, rng, Part::Later);
        let end = draw_calls(spec, edges, rng, Part::Later);
        let w = spec.handler_weights;
        let succeed = w.succeed + w.rearm + w.delete_inside + w.container_heartbeat;
        let ending = match pick(rng, &[succeed.max(1), w.throw, w.exceed_wall_time]) {
            0 => Ending::Succeed,
            1 => Ending::Throw,
            _ => Ending::ExceedWallTime,
        };
        let zero = edges.zero_duration > 0.0 && rng.random_bool(edges.zero_duration.min(1.0));
        let duration_ms = if zero { 0 } else { rng.random_range(spec.handler_ms.lo..=spec.handler_ms.hi) };
        HandlerScript { first, middle, end, ending, duration_ms }
    }
}

impl std::fmt::Display for HandlerScript {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let part = |calls: &[Call]| if calls.is_empty() { "-".to_string() } else { show_calls(calls) };
        write!(f, "script [first: {} | middle: {} | end: {}] then {:?}", part(&self.first), part(&self.middle), part(&self.end), self.ending)
    }
}

/// Which part of a script a call is drawn for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    /// The first instant: when the actor's clock reads T, `now`, T and the stored alarm are
    /// one value, the one R3 and R11 disagree about.
    First,
    Later,
}

/// The arguments that stand for the handler's own millisecond at its first instant.
const OWN_MILLISECOND: [ArgKind; 3] = [ArgKind::Now, ArgKind::HandlerTime, ArgKind::Stored];

fn draw_calls(spec: &ScenarioSpec, edges: &EdgeProfile, rng: &mut ChaCha8Rng, part: Part) -> Vec<Call> {
    // Half the parts are empty, so the first instant, the middle and the end each matter alone.
    let n = match rng.random_range(0..10) {
        0..=4 => 0,
        5..=8 => 1,
        _ => MAX_CALLS_PER_PART,
    };
    (0..n)
        .map(|_| {
            let call = draw_call(spec, edges, rng, part);
            if !matches!(call, Call::DeleteAll { .. }) && crate::workload::in_transaction(spec, rng) {
                // Inside the handler: after a rollback getAlarm is null again while the
                // deferred delete is pending (R5); a committed write cancels it (R11).
                crate::workload::transaction(vec![call], rng)
            } else {
                call
            }
        })
        .collect()
}

fn draw_call(spec: &ScenarioSpec, edges: &EdgeProfile, rng: &mut ChaCha8Rng, part: Part) -> Call {
    // A script writes the alarm only the ways the scenario's own handlers do: raw setAlarm
    // where they re-arm, deletes where they delete, the container helpers where its clients or
    // heartbeats use them. (A container scenario's handlers re-arm only through the helpers,
    // which floor at 100 ms: a raw setAlarm(now) there is the application spinning on purpose,
    // not the scheduler — concurrent-rearm checks no more than 4 fires a second.)
    let w = spec.handler_weights;
    let set = if w.rearm > 0 { 45 } else { 0 };
    let delete = if w.delete_inside > 0 { 10 } else { 0 };
    let containers = if spec.op_weights.schedule_next > 0 || w.container_heartbeat > 0 { 7 } else { 0 };
    let delay = |rng: &mut ChaCha8Rng| rng.random_range(spec.alarm_delay_ms.lo..=spec.alarm_delay_ms.hi);
    match pick(rng, &[set, delete, 12, 13, 6, containers, containers]) {
        0 => {
            let d = delay(rng);
            // At the first instant, half the writes name the handler's own millisecond, among
            // the kinds this seed has on (a kind the shrinker switched off stays off).
            let own: Vec<ArgKind> = OWN_MILLISECOND.into_iter().filter(|k| edges.args.get(k).is_some_and(|w| *w > 0)).collect();
            let time = if part == Part::First && !own.is_empty() && rng.random_bool(0.5) {
                TimeArg::of_kind(own[rng.random_range(0..own.len())], d, 1)
            } else {
                edges.time_arg(d, rng)
            };
            Call::SetAlarm { time }
        }
        1 => Call::DeleteAlarm,
        2 => Call::GetAlarm,
        3 => Call::Put { key: format!("k{}", rng.random_range(0..4)) },
        4 => Call::DeleteAll { delete_alarm: delete > 0 && rng.random_bool(0.5) },
        5 => Call::ScheduleNext { delay_ms: delay(rng).max(0) },
        _ => Call::ExitRearm,
    }
}
