//! The per-seed options of the job-queue world's process and SQL faults (issue 13): zombie
//! pauses, and statements that fail with `SQLITE_IOERR`/`SQLITE_FULL`, meet `SQLITE_BUSY` past
//! the busy timeout, or whose commit fails. Drawn from the scenario's [`QueueFaultBounds`]
//! with a random stream of their own, printed in the profile, switched off knob by knob by
//! the shrinker.
//!
//! Why a stream of its own: a scenario without these faults (`NO_QUEUE_FAULTS`, or any with
//! `--queue-faults off`) makes no draw for them at all, and with them on the rest of the plan
//! (which job, when, which script, which crash) is still the same, so the two runs of a seed
//! differ by the faults alone.

use crate::draws::{draw_i64, draw_u64, maybe_f64, stream_seed};
use crate::scenario::QueueFaultBounds;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// The stream the queue-fault options are drawn from.
pub const STREAM: u64 = 0x7175_6575_6661_756c; // "queufaul"

/// The random stream of a seed's queue-fault options.
pub fn rng(seed: u64) -> ChaCha8Rng {
    rand::SeedableRng::seed_from_u64(stream_seed(seed, STREAM))
}

/// One seed's queue faults. The default is everything off.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct QueueFaultProfile {
    /// Planned pauses per process and hour (they are plan steps, `Action::Pause`).
    #[serde(default)]
    pub pauses_per_hour: f64,
    #[serde(default)]
    pub pause_ms: (u64, u64),
    /// Chance of a pause before any one statement.
    #[serde(default)]
    pub statement_pause: f64,
    /// Chance that a statement fails with `SQLITE_IOERR` or `SQLITE_FULL` instead of running.
    #[serde(default)]
    pub statement_error: f64,
    /// Chance that a statement meets `SQLITE_BUSY` past the busy timeout.
    #[serde(default)]
    pub busy_streak: f64,
    /// Chance that the commit a statement makes fails (the transaction rolls back).
    #[serde(default)]
    pub commit_fail: f64,
    /// Claims each worker runs at once, each on a connection of its own (0 or 1: one).
    #[serde(default)]
    pub worker_slots: u32,
    /// Workers claim under their name (a pod or host name), shared by their concurrent
    /// claims and kept across restarts, instead of a token per claim (issue 13 item 2).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub same_name_owners: bool,
    /// A worker's supervisor starts a replacement under the same name once the worker has
    /// been paused this long (0: never); the paused one lives on as a zombie.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub replace_paused_after_ms: u64,
}

fn is_zero(ms: &u64) -> bool {
    *ms == 0
}

/// At most this many claims per worker at once (plans asking for more are refused).
pub const MAX_WORKER_SLOTS: u32 = 8;

impl QueueFaultProfile {
    /// The knobs [`QueueFaultProfile::switch_off`] knows (planned pauses are steps, not knobs).
    pub const KNOBS: usize = 7;

    /// Draws the options. Nothing is drawn when every bound is off.
    pub fn draw(bounds: &QueueFaultBounds, rng: &mut ChaCha8Rng) -> QueueFaultProfile {
        let p = bounds.enable_probability;
        if p <= 0.0 {
            return QueueFaultProfile::default();
        }
        assert!(bounds.pause_ms.lo <= bounds.pause_ms.hi, "a pause range must not be empty");
        // The seed's pauses range from its own floor to the bounds' ceiling (log-uniform draws
        // between, `draw_pause`): some seeds only pause long, none only short.
        let lo = draw_u64(rng, bounds.pause_ms);
        let hi = bounds.pause_ms.hi;
        QueueFaultProfile {
            pauses_per_hour: maybe_f64(rng, p, bounds.pauses_per_hour),
            pause_ms: (lo, hi),
            statement_pause: maybe_f64(rng, p, bounds.statement_pause),
            statement_error: maybe_f64(rng, p, bounds.statement_error),
            busy_streak: maybe_f64(rng, p, bounds.busy_streak),
            commit_fail: maybe_f64(rng, p, bounds.commit_fail),
            // Last, so adding it changed no earlier draw; none at all when there is one slot.
            worker_slots: if bounds.worker_slots.hi > bounds.worker_slots.lo { rand::Rng::random_range(rng, bounds.worker_slots.lo..=bounds.worker_slots.hi) } else { bounds.worker_slots.lo },
            // Drawn by the plan generator after the clocks (`queue/plan.rs`).
            same_name_owners: false,
            replace_paused_after_ms: 0,
        }
    }

    /// Each of `processes` processes' clock (offset ms, drift ppm), or none (all perfect) when
    /// the bounds skew no clock or the seed's coin says no. Drawn after everything else in
    /// the stream, so a seed's other queue faults are what they were before clocks existed.
    pub fn draw_clocks(bounds: &QueueFaultBounds, processes: usize, rng: &mut ChaCha8Rng) -> Vec<(i64, i64)> {
        if !bounds.skews_clocks() || !rand::Rng::random_bool(rng, bounds.enable_probability) {
            return Vec::new();
        }
        (0..processes).map(|_| (draw_u64(rng, bounds.clock_offset_ms) as i64, draw_i64(rng, bounds.clock_drift_ppm))).collect()
    }

    /// Claims a worker runs at once.
    pub fn slots(&self) -> usize {
        self.worker_slots.max(1) as usize
    }

    /// One pause's length: log-uniform over `pause_ms`, so a seed sees milliseconds as often
    /// as minutes (a GC pause and a stopped VM alike).
    pub fn draw_pause(&self, rng: &mut ChaCha8Rng) -> u64 {
        let (lo, hi) = (self.pause_ms.0.max(1) as f64, self.pause_ms.1.max(1) as f64);
        assert!(lo <= hi, "a pause range must not be empty");
        let u: f64 = rand::Rng::random(rng);
        (lo * (hi / lo).powf(u)).round() as u64
    }

    /// Whether any fault a statement can meet is on (the world draws nothing otherwise).
    pub fn statements_faulted(&self) -> bool {
        self.statement_pause > 0.0 || self.statement_error > 0.0 || self.busy_streak > 0.0 || self.commit_fail > 0.0
    }

    pub fn is_on(&self) -> bool {
        self.pauses_per_hour > 0.0 || self.statements_faulted() || self.slots() > 1 || self.same_name_owners || self.replace_paused_after_ms > 0
    }

    /// Everything off (what plans written before these faults existed load as).
    pub fn is_off(&self) -> bool {
        !self.is_on()
    }

    /// Switches off knob `knob`: statement pauses, statement errors, busy streaks, failed
    /// commits, concurrent claims (one slot per worker), owners per name (a token per claim
    /// again), replacements of paused workers. False if it was off already.
    pub fn switch_off(&mut self, knob: usize) -> bool {
        if knob == 4 {
            let several = self.slots() > 1;
            self.worker_slots = 1;
            return several;
        }
        if knob == 5 {
            return std::mem::take(&mut self.same_name_owners);
        }
        if knob == 6 {
            return std::mem::take(&mut self.replace_paused_after_ms) > 0;
        }
        let slot = match knob {
            0 => &mut self.statement_pause,
            1 => &mut self.statement_error,
            2 => &mut self.busy_streak,
            3 => &mut self.commit_fail,
            _ => panic!("no queue-fault knob {knob}; there are {}", Self::KNOBS),
        };
        let was_on = *slot > 0.0;
        *slot = 0.0;
        was_on
    }

    /// The faults that are on, e.g. `pauses/h=3.1 pause_ms=[40, 90000] statement_error=0.004`.
    pub fn describe(&self) -> String {
        let mut on = Vec::new();
        if self.pauses_per_hour > 0.0 || self.statement_pause > 0.0 {
            on.push(format!("pauses/h={:.2} statement_pause={:.4} pause_ms={:?}", self.pauses_per_hour, self.statement_pause, self.pause_ms));
        }
        for (name, p) in [("statement_error", self.statement_error), ("busy_streak", self.busy_streak), ("commit_fail", self.commit_fail)] {
            if p > 0.0 {
                on.push(format!("{name}={p:.4}"));
            }
        }
        if self.slots() > 1 {
            on.push(format!("worker_slots={}", self.slots()));
        }
        if self.same_name_owners {
            on.push("same_name_owners".to_string());
        }
        if self.replace_paused_after_ms > 0 {
            on.push(format!("replace_paused_after_ms={}", self.replace_paused_after_ms));
        }
        on.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_knob_switches_off_one_fault() {
        let mut profile = QueueFaultProfile { statement_pause: 0.1, statement_error: 0.1, busy_streak: 0.1, commit_fail: 0.1, worker_slots: 3, same_name_owners: true, replace_paused_after_ms: 20_000, ..Default::default() };
        for knob in 0..QueueFaultProfile::KNOBS {
            assert!(profile.switch_off(knob), "knob {knob} was on");
            assert!(!profile.switch_off(knob), "knob {knob} is off now");
        }
        assert!(!profile.statements_faulted());
        assert_eq!(profile.slots(), 1);
        assert!(profile.is_off());
    }
}
