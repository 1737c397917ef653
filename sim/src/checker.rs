//! The invariant checkers. The world feeds them observations (durable values, manager
//! values, fires, results) and they answer with a [`Violation`] naming the invariant, the
//! actor and the times involved. Each check is a plain function of what it was told, so the
//! rules are in one place and do not depend on the scheduler under test.

use crate::scenario::{Invariant, ScenarioSpec};
use alarmsim_scheduler::api::{CommandBound, IdleAgreement};
use alarmsim_scheduler::backoff::{FailureFacts, RetryPolicy};
use alarmsim_scheduler::time::{fires_earlier, show};
use alarmsim_scheduler::{AlarmError, AlarmTime, Gate, Millis};
use serde::Serialize;
use std::collections::VecDeque;

/// The origin of every node clock: simulated wall time starts here.
pub const EPOCH_MS: i64 = 1_700_000_000_000;

/// R14, as the checker reads it from workerd's `alarmRetryCountsAgainstLimit`
/// (`api/global-scope.h`): a failure counts against the retry limit unless it broke the
/// output gate without being the user's error or a resource-limit breach. Kept apart from
/// the scheduler crate's copy on purpose: the scheduler under test decides
/// (`SchedulerFactory::retry_counts`), the checker judges by the rule (B15, STOR-5337).
pub fn counts_against_limit(facts: FailureFacts) -> bool {
    let FailureFacts { output_gate_broken, is_user_error, resource_limit_exceeded } = facts;
    !output_gate_broken || is_user_error || resource_limit_exceeded
}

/// Renders an alarm time relative to the start of the run.
pub fn rel(t: AlarmTime) -> String {
    match t {
        Some(m) => format!("{}", m.0 - EPOCH_MS),
        None => show(None),
    }
}

/// How a message names a manager node: "the manager" when the world has one (`manager`),
/// else its node name (`manager-2`), so a multi-namespace failure says whose entry is wrong.
fn the(manager: &str) -> String {
    if manager == "manager" {
        "the manager".to_string()
    } else {
        manager.to_string()
    }
}

/// A broken invariant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    pub invariant: Invariant,
    pub actor: Option<String>,
    /// Simulated ms since the start.
    pub at_ms: u64,
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.actor {
            Some(a) => write!(f, "{} violated for actor {} at t={}ms: {}", self.invariant, a, self.at_ms, self.message),
            None => write!(f, "{} violated at t={}ms: {}", self.invariant, self.at_ms, self.message),
        }
    }
}

/// Consecutive failed attempts of one alarm, for the retry-schedule check.
#[derive(Clone, Copy, Debug)]
struct RetryTrack {
    scheduled: Millis,
    failures: u32,
    counted: u32,
    all_counted: bool,
    last_result_ms: i64,
    /// An attempt is running (between its fire and its result).
    running: bool,
    /// A new value reached the manager during the running attempt: queued, it beats the
    /// retries when the attempt ends (R17), unless the alarm's own time comes back first.
    superseded: bool,
    /// Counted failures before the latest one: R15 abandons when these reach the limit.
    counted_prior: u32,
    /// The latest attempt ended with `ctx.abort(…, {retryAlarm: false})` (R13).
    aborted: bool,
    /// The user deleted the alarm while an attempt ran. R19 keeps the running entry and its
    /// retries (PR #797); a scheduler may also drop them with the deleted alarm, so a later
    /// fire of the same time with `retryCount` 0 starts a new alarm instead.
    deleted_while_running: bool,
}

/// Per-actor observations.
#[derive(Clone, Debug, Default)]
pub struct ActorCheck {
    /// D: the durable alarm.
    pub durable: AlarmTime,
    /// The stored alarm the most recent handler ran for (an alarm is delivered when a handler
    /// ran for the value durable storage holds; the commit may land after the start).
    pub last_served: AlarmTime,
    /// I1 is suspended after a power loss rolled D back, until the manager catches up.
    pub i1_suspended: bool,
    /// The rolled-back actor's new incarnation has not been heard by the manager yet: commands
    /// its dead incarnation sent before the rollback may still land (and set the manager later
    /// than D) until a command of the new incarnation (its re-announcement) reached the
    /// manager, whose newer fence makes every older one stale. So catching up before that does
    /// not end the suspension (edge-values seed 25603: the dead incarnation's `sR(none)` landed
    /// after the reload, before the re-announcement).
    pub awaiting_new_incarnation: bool,
    fire_times: VecDeque<u64>,
    retry: Option<RetryTrack>,
}

/// All checkers of one run.
pub struct Checker {
    pub actors: Vec<ActorCheck>,
    checks: Vec<Invariant>,
    max_fires_per_second: u32,
    policy: RetryPolicy,
}

impl Checker {
    pub fn new(spec: &ScenarioSpec, policy: RetryPolicy) -> Checker {
        Checker {
            actors: vec![ActorCheck::default(); spec.actors() as usize],
            checks: spec.invariants.to_vec(),
            max_fires_per_second: spec.max_fires_per_second,
            policy,
        }
    }

    fn on(&self, invariant: Invariant) -> bool {
        self.checks.contains(&invariant)
    }

    fn violation(&self, invariant: Invariant, actor: &str, at_ms: u64, message: String) -> Option<Violation> {
        self.on(invariant).then(|| Violation { invariant, actor: Some(actor.to_string()), at_ms, message })
    }

    /// D changed (a commit applied, or a power loss rolled it back).
    pub fn durable_changed(&mut self, index: usize, durable: AlarmTime, rolled_back: bool) {
        let check = &mut self.actors[index];
        check.durable = durable;
        if rolled_back {
            check.i1_suspended = true;
            check.awaiting_new_incarnation = true;
        }
    }

    /// A new incarnation of the actor loaded from its disk. With no alarm stored it has nothing
    /// to re-announce, and no late command can make the manager later than "none".
    pub fn actor_loaded(&mut self, index: usize, durable: AlarmTime) {
        if durable.is_none() {
            self.actors[index].awaiting_new_incarnation = false;
        }
    }

    /// A command of the actor's current incarnation reached its manager.
    pub fn incarnation_heard(&mut self, index: usize) {
        self.actors[index].awaiting_new_incarnation = false;
    }

    /// I1 after a step: the manager never fires later than durable storage.
    /// `manager_node` names the actor's own manager.
    pub fn never_late(&mut self, index: usize, actor: &str, manager_node: &str, manager: AlarmTime, at_ms: u64) -> Option<Violation> {
        let check = &mut self.actors[index];
        let late = fires_earlier(check.durable, manager);
        if check.i1_suspended {
            if !late && !check.awaiting_new_incarnation {
                check.i1_suspended = false;
            }
            return None;
        }
        if !late {
            return None;
        }
        let what = if manager.is_none() { "has no alarm (lost)" } else { "would fire later" };
        let message = format!(
            "{} {what}: manager={} but durable storage holds {}; the alarm would fire late or never",
            the(manager_node),
            rel(manager),
            rel(check.durable)
        );
        self.violation(Invariant::NeverLate, actor, at_ms, message)
    }

    /// I2 during the run: the actor is idle (nothing of its own in flight, everything up), so
    /// its manager must hold exactly what durable storage holds. An earlier manager entry is
    /// not a lost alarm (I1 holds) but a spurious fire and an extra handler attempt waiting to
    /// happen; a later one is I1's business. Suspended, like I1, after a power loss rolled D back
    /// until the new incarnation was heard.
    ///
    /// Under [`IdleAgreement::EarlierAllowed`] only a manager without an alarm that storage
    /// holds is a violation (I1, the other direction, is `never_late`'s).
    pub fn idle_convergence(&self, index: usize, actor: &str, manager_node: &str, manager: AlarmTime, at_ms: u64, agreement: IdleAgreement) -> Option<Violation> {
        let check = &self.actors[index];
        if check.i1_suspended || manager == check.durable {
            return None;
        }
        if agreement == IdleAgreement::EarlierAllowed && (manager.is_some() || check.durable.is_none()) {
            return None;
        }
        let message = format!(
            "the actor is idle (no commit, command or message of its own in flight; host and {} up, link intact) but {} holds {} while durable storage holds {}: they must agree (I2)",
            the(manager_node),
            the(manager_node),
            rel(manager),
            rel(check.durable)
        );
        let message = match agreement {
            IdleAgreement::Exact => message,
            IdleAgreement::EarlierAllowed => format!("{message} (held to the weaker promise the scheduler declares: an earlier manager entry is allowed, a missing one is not)"),
        };
        self.violation(Invariant::IdleConvergence, actor, at_ms, message)
    }

    /// A handler starts. `manager_clock`/`actor_clock` are the two nodes' clocks; `serving` is
    /// the actor's stored alarm when it decided to run.
    #[allow(clippy::too_many_arguments)]
    pub fn handler_start(
        &mut self,
        index: usize,
        actor: &str,
        manager_node: &str,
        scheduled: Millis,
        manager_fired_at: Millis,
        actor_clock: Millis,
        serving: AlarmTime,
        at_ms: u64,
    ) -> Option<Violation> {
        if manager_fired_at < scheduled || actor_clock < scheduled {
            let message = format!(
                "handler for {} started early: {} fired at {} and the actor started at {} (R8)",
                rel(Some(scheduled)),
                the(manager_node),
                rel(Some(manager_fired_at)),
                rel(Some(actor_clock))
            );
            return self.violation(Invariant::NeverEarly, actor, at_ms, message);
        }
        let max = self.max_fires_per_second as usize;
        let check = &mut self.actors[index];
        check.last_served = serving;
        check.fire_times.push_back(at_ms);
        while check.fire_times.front().is_some_and(|&t| t + 1000 <= at_ms) {
            check.fire_times.pop_front();
        }
        if check.fire_times.len() > max {
            let message = format!(
                "{} handler starts within one second (limit {max}); the alarm is spinning (containers #191)",
                check.fire_times.len()
            );
            return self.violation(Invariant::NoSpin, actor, at_ms, message);
        }
        None
    }

    /// The manager starts an attempt (R10 `retryCount`, R15 backoff).
    pub fn fire(&mut self, index: usize, actor: &str, scheduled: Millis, retry_count: u32, manager_now: Millis, at_ms: u64) -> Option<Violation> {
        let policy = self.policy;
        let check = &mut self.actors[index];
        let continued = |t: &RetryTrack| t.scheduled == scheduled && t.failures > 0 && !(t.deleted_while_running && retry_count == 0);
        let Some(track) = check.retry.filter(continued) else {
            check.retry = Some(RetryTrack { scheduled, failures: 0, counted: 0, all_counted: true, last_result_ms: 0, running: true, superseded: false, counted_prior: 0, aborted: false, deleted_while_running: false });
            return None;
        };
        if let Some(running) = check.retry.as_mut() {
            running.running = true;
        }
        let elapsed = manager_now.0 - track.last_result_ms;
        let base = policy.base_delay_ms((track.failures - 1).min(policy.backoff_max));
        let (min, max) = if track.all_counted { (base, base + policy.max_jitter_ms(base) + 50) } else { (policy.base_delay_ms(0), i64::MAX) };
        let message = if track.counted > policy.max_counted_retries {
            Some(format!("attempt {} after {} counted failures: the limit is {} retries, then abandon (R15)", track.failures + 1, track.counted, policy.max_counted_retries))
        } else if elapsed < min || elapsed > max {
            Some(format!("retry {} of {} came {elapsed} ms after the failure; R15 backoff allows [{min}, {max}] ms", track.failures, rel(Some(scheduled))))
        } else if retry_count != track.counted {
            Some(format!("alarmInfo.retryCount is {retry_count} but {} counted failures happened (R10)", track.counted))
        } else {
            None
        };
        message.and_then(|m| self.violation(Invariant::RetrySchedule, actor, at_ms, m))
    }

    /// The manager received an attempt's outcome: `failed` is R14's verdict on a failure
    /// (counted or not), `aborted` an attempt that ended with `ctx.abort(…, {retryAlarm: false})`.
    pub fn fire_result(&mut self, index: usize, scheduled: Millis, failed: Option<bool>, aborted: bool, manager_now: Millis) {
        let check = &mut self.actors[index];
        match (failed, check.retry.as_mut()) {
            (None, Some(track)) if aborted && track.scheduled == scheduled && !track.superseded => {
                track.running = false;
                track.aborted = true;
            }
            (Some(counted), Some(track)) if track.scheduled == scheduled && !track.superseded => {
                track.running = false;
                track.counted_prior = track.counted;
                track.failures += 1;
                if counted {
                    track.counted += 1;
                } else {
                    track.all_counted = false;
                }
                track.last_result_ms = manager_now.0;
            }
            _ => check.retry = None,
        }
    }

    /// Whether giving `scheduled` up now is what R13/R15 allow: its last attempt aborted with
    /// `retryAlarm: false`, or the counted failures before its last failure reached the limit.
    pub fn abandon_justified(&self, index: usize, scheduled: Millis) -> bool {
        self.actors[index].retry.is_some_and(|t| t.scheduled == scheduled && (t.aborted || t.counted_prior >= self.policy.max_counted_retries))
    }

    /// The manager restarted (R18: retry state lives in memory): retries start over.
    pub fn retries_reset(&mut self, index: usize) {
        self.actors[index].retry = None;
    }

    /// The manager heard the answer to abandoning `scheduled`: that alarm's retries are over.
    /// A late answer for an older alarm leaves the retries of the current one alone (a failed
    /// abandon's answer arrives a link timeout later, when a new alarm may already be in its
    /// first attempt: `cpu-limit-retries` seed 4057 with `workerd-head-fixed`).
    pub fn abandon_answered(&mut self, index: usize, scheduled: Millis) {
        let check = &mut self.actors[index];
        if check.retry.is_some_and(|t| t.scheduled == scheduled) {
            check.retry = None;
        }
    }

    /// The manager applied a command setting the actor's alarm to `time`. A new value
    /// supersedes the retries of the alarm being retried (R17); the retried alarm's own time
    /// does not (the actor's re-announcement after a restart, or a command that drops a queued
    /// replacement: the backoff goes on, B13, PR #853).
    pub fn command_applied(&mut self, index: usize, time: AlarmTime) {
        let check = &mut self.actors[index];
        let Some(track) = check.retry.as_mut() else { return };
        if Some(track.scheduled) == time {
            track.superseded = false; // The actor's latest word is the alarm being retried.
        } else if track.running && time.is_none() {
            // R19: a delete while the attempt runs clears only the queued value; the running
            // entry, its retries and their count may go on (PR #797).
            track.superseded = false;
            track.deleted_while_running = true;
        } else if track.running {
            track.superseded = true;
        } else {
            check.retry = None; // During a backoff the new value replaces the retry at once.
        }
    }

    /// At quiescence: I2 and no lost alarm, and every due alarm was delivered.
    #[allow(clippy::too_many_arguments)]
    pub fn at_quiescence(&self, index: usize, actor: &str, manager_node: &str, manager: AlarmTime, local: AlarmTime, manager_now: Millis, at_ms: u64) -> Option<Violation> {
        let check = &self.actors[index];
        let d = check.durable;
        if d.is_some() && manager.is_none() {
            let message = format!("storage holds {} but {} has no alarm at quiescence: it will never fire", rel(d), the(manager_node));
            return self.violation(Invariant::NoLostAlarm, actor, at_ms, message);
        }
        if let Some(t) = d.filter(|&t| t <= manager_now && check.last_served != Some(t)) {
            let message = format!("the durable alarm {} fell due but no handler ran for it", rel(Some(t)));
            return self.violation(Invariant::AtLeastOnce, actor, at_ms, message);
        }
        if manager != d || local != d {
            let message = format!(
                "at quiescence {}={} local={} durable={}: they must agree (I2)",
                manager_node,
                rel(manager),
                rel(local),
                rel(d)
            );
            return self.violation(Invariant::Convergence, actor, at_ms, message);
        }
        None
    }

    /// I2 across namespaces: only the actor's own namespace manager (`home`) may hold its
    /// alarm. Another manager's entry (`foreign`) is an alarm the actor's storage never
    /// sanctioned there: it would fire from the wrong namespace, and nothing reconciles it.
    pub fn foreign_entry(&self, actor: &str, foreign: &str, time: AlarmTime, home: &str, at_ms: u64) -> Option<Violation> {
        let message = format!("{foreign} holds {} for {actor}, whose alarms belong to {home} alone (I2 per namespace)", rel(time));
        self.violation(Invariant::Convergence, actor, at_ms, message)
    }

    /// R11 (B12): a successful handler set the alarm to `written`, but after it returned the
    /// actor stores `kept`: the deferred delete erased the handler's own write, a lost alarm.
    pub fn handler_write_kept(&self, actor: &str, written: Millis, kept: AlarmTime, at_ms: u64) -> Option<Violation> {
        let message = format!(
            "the handler set the alarm to {} but after it returned storage holds {}: the deferred delete erased the handler's write (R11)",
            rel(Some(written)),
            rel(kept)
        );
        self.violation(Invariant::NoLostAlarm, actor, at_ms, message)
    }

    /// The output gate breaks only for a cause: a failed commit or a rejected command this
    /// incarnation was told of (§2 transition 1; workerd `b4a5ed8cd`'s other half, "a
    /// successful write does not break the gate"). A break without one resets the actor for
    /// nothing: every write it had not shipped is silently lost, and the user, whose call
    /// returned, never hears of it.
    pub fn gate_broke(&self, actor: &str, gate: Gate, failure_delivered: bool, at_ms: u64) -> Option<Violation> {
        if gate != Gate::Broken || failure_delivered {
            return None;
        }
        let message = "the output gate broke, but no commit or command of this incarnation has failed: a gate breaks only when a write fails (§2 transition 1), or the reset silently drops writes the user was told succeeded".to_string();
        self.violation(Invariant::NoDegradedActor, actor, at_ms, message)
    }

    /// A storage call of the actor's code failed with `error`: if that is "broken", the
    /// output gate must be broken too, or nothing ever resets the actor (B11: workerd
    /// `b4a5ed8cd`, "rejected move-later alarm scheduling request does not break gate").
    pub fn storage_error(&self, actor: &str, call: &str, error: &AlarmError, gate: Gate, at_ms: u64) -> Option<Violation> {
        if *error != AlarmError::Broken || gate == Gate::Broken {
            return None;
        }
        let message = format!("{call} threw \"{error}\" but the output gate is {gate:?}, not broken: nothing resets the actor, so it stays degraded (B11)");
        self.violation(Invariant::NoDegradedActor, actor, at_ms, message)
    }

    /// A bound the actor must respect (I3, PR #6383). `outstanding` is the scheduler's own
    /// count (in flight plus parked), `in_flight` the world's: the commands it handed to the
    /// link and has not answered. The parked one is inside the scheduler, but the count can
    /// never be below what the world sees in flight; an under-count would make the idle and
    /// quiescence tests, which trust it, judge an actor with a command on the wire as settled.
    /// A broken actor has forgotten its commands (it is reset next), so only the bound holds.
    pub fn bounded_commands(&self, actor: &str, bound: CommandBound, outstanding: usize, in_flight: u32, broken: bool, at_ms: u64) -> Option<Violation> {
        let in_flight_usize = usize::try_from(in_flight).unwrap_or(usize::MAX);
        let message = if outstanding > bound.outstanding || in_flight > bound.in_flight {
            let parked = bound.outstanding.saturating_sub(bound.in_flight as usize);
            format!("{outstanding} commands outstanding and {in_flight} in flight: at most {} in flight plus {parked} parked (I3, B4/B5)", bound.in_flight)
        } else if outstanding < in_flight_usize && !broken {
            format!(
                "commands_outstanding() says {outstanding} but {in_flight} of its commands are in flight: the count is in flight plus parked, never less than what is on the wire (I3)"
            )
        } else {
            return None;
        };
        self.violation(Invariant::BoundedCommands, actor, at_ms, message)
    }

    /// What a restarted actor read back against what the sync model promised.
    pub fn durability(&self, actor: &str, loaded: &alarmsim_scheduler::DurableState, expected: &alarmsim_scheduler::DurableState, at_ms: u64) -> Option<Violation> {
        if loaded == expected {
            return None;
        }
        let message = format!(
            "after restart storage holds alarm={} with {} keys, but the sync model promised alarm={} with {} keys",
            rel(loaded.alarm),
            loaded.kv.len(),
            rel(expected.alarm),
            expected.kv.len()
        );
        self.violation(Invariant::Durability, actor, at_ms, message)
    }

    pub fn convergence_timeout(&self, at_ms: u64, detail: String) -> Option<Violation> {
        self.on(Invariant::Convergence).then_some(Violation { invariant: Invariant::Convergence, actor: None, at_ms, message: detail })
    }
}
