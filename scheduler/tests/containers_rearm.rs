//! cloudflare/containers PR #191 (the alarm spin-loop fix, B16, seed 003), checked against
//! `rearm::schedule_next` and `rearm::exit_rearm`.
//!
//! The 13 tests of `src/tests/alarm-scheduler.test.ts` (`0b63489`) come first, each named
//! after its case. The ones about the handler and concurrency also run a small deterministic
//! model of a container Durable Object ([`Container`]: the storage alarm plus PR #191's
//! `scheduleNextAlarm()` and `alarm()` built on the helpers). [`PreFix`] models the code
//! before the fix (an in-memory sleep that any `scheduleNextAlarm()` wakes, then an
//! unconditional `setAlarm(Date.now())`), and [`simulate`] runs either under a Durable
//! Object runtime that fires an alarm only when it is due and one handler at a time (R8, R9),
//! so the spin can be shown and the cadence check shown to fail on it.
//!
//! The model assumes what the DO input gate gives: one storage call (the read, compare and
//! write of `scheduleNextAlarm`) completes before another starts.

use alarmsim_scheduler::rearm::{exit_rearm, schedule_next, MAX_ALARM_REARM_MS, MIN_ALARM_REARM_MS};
use alarmsim_scheduler::{AlarmTime, Millis};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Some wall-clock instant (2026-04-22).
const NOW: Millis = Millis(1_776_816_000_000);
const SECOND: i64 = 1_000;
const MINUTE: i64 = 60 * SECOND;
const HOUR: i64 = 60 * MINUTE;
/// containers `MAX_ALARM_RETRIES`: `alarm()` skips its work past this many retries.
const MAX_ALARM_RETRIES: u32 = 3;
/// containers `INSTANCE_POLL_INTERVAL_MS`: the start loop's retry interval, which calls
/// `scheduleNextAlarm()` on every iteration (27 retries per unhealthy `containerFetch`).
const INSTANCE_POLL_INTERVAL_MS: i64 = 300;
const START_RETRIES: i64 = 27;

fn at(offset_ms: i64) -> Millis {
    NOW.saturating_add_ms(offset_ms)
}

/// How far in the future `t` is, seen from `now`.
fn delta(t: AlarmTime, now: Millis) -> i64 {
    t.expect("an alarm is set").0 - now.0
}

// ----- the model ---------------------------------------------------------------------------

/// A container Durable Object after PR #191: its storage alarm and the state `alarm()` reads.
#[derive(Clone, Debug)]
struct Container {
    /// `ctx.storage` alarm.
    alarm: AlarmTime,
    /// `ctx.container.running`.
    running: bool,
    /// Due times of the `container_schedules` rows.
    schedules: Vec<Millis>,
    /// `sleepAfterMs`: when the activity window ends (absolute).
    sleep_after: Millis,
    /// The `sleepAfter` duration (the test fixture uses 1 h).
    sleep_after_ms: i64,
    inflight_requests: u32,
    /// `onActivityExpired()` calls.
    activity_expired: u32,
    /// Schedules run by `alarm()`.
    ran: Vec<Millis>,
    set_alarm_calls: u32,
    delete_alarm_calls: u32,
}

/// What the first half of `alarm()` found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Work {
    activity_expired: bool,
}

impl Container {
    /// `makeContainer`: `sleepAfter = '1h'`, activity renewed at `now`, no alarm.
    fn new(now: Millis, running: bool) -> Container {
        Container {
            alarm: None,
            running,
            schedules: Vec::new(),
            sleep_after: now.saturating_add_ms(HOUR),
            sleep_after_ms: HOUR,
            inflight_requests: 0,
            activity_expired: 0,
            ran: Vec::new(),
            set_alarm_calls: 0,
            delete_alarm_calls: 0,
        }
    }

    fn set_alarm(&mut self, t: Millis) {
        self.alarm = Some(t);
        self.set_alarm_calls += 1;
    }

    /// `scheduleNextAlarm(ms)`: write only if there is no alarm or the existing one is later.
    fn schedule_next_alarm(&mut self, now: Millis, ms: i64) {
        if let Some(t) = schedule_next(self.alarm, now, ms) {
            self.set_alarm(t);
        }
    }

    /// The first half of `alarm()`: run due schedules and check activity. Nothing about the
    /// alarm is decided here; other calls may interleave before [`Container::alarm_exit`].
    fn alarm_work(&mut self, now: Millis, retry_count: u32) -> Work {
        if retry_count > MAX_ALARM_RETRIES {
            return Work { activity_expired: false }; // skip the work, but still re-arm
        }
        let (due, later): (Vec<Millis>, Vec<Millis>) = self.schedules.iter().partition(|t| **t <= now);
        self.ran.extend(due);
        self.schedules = later;
        if !self.running {
            return Work { activity_expired: false };
        }
        if self.inflight_requests > 0 {
            // bcea750 / containers#147: open requests keep the container alive.
            self.sleep_after = now.saturating_add_ms(self.sleep_after_ms);
            return Work { activity_expired: false };
        }
        if self.sleep_after <= now {
            self.activity_expired += 1;
            self.running = false; // onActivityExpired() stops the container
            return Work { activity_expired: true };
        }
        Work { activity_expired: false }
    }

    /// The second half of `alarm()`: the storage-backed re-arm of PR #191.
    fn alarm_exit(&mut self, now: Millis, work: Work) {
        let next_due = self.schedules.iter().copied().min();
        if work.activity_expired {
            self.set_alarm(now.saturating_add_ms(MIN_ALARM_REARM_MS)); // come back to clean up
        } else if !self.running && next_due.is_none() {
            self.alarm = None;
            self.delete_alarm_calls += 1;
        } else {
            let sleep_after = self.running.then_some(self.sleep_after);
            self.set_alarm(exit_rearm(now, next_due, sleep_after));
        }
    }

    /// `alarm()` run to completion at `now`.
    fn alarm_handler(&mut self, now: Millis, retry_count: u32) {
        let work = self.alarm_work(now, retry_count);
        self.alarm_exit(now, work);
    }
}

/// A container before PR #191 (containers #189): `alarm()` sleeps in memory for up to
/// 3 minutes and then runs `setAlarm(Date.now())`; `scheduleNextAlarm()` wakes that sleep
/// (`this.resolve()`) and writes `now + ms` unconditionally.
#[derive(Clone, Debug)]
struct PreFix {
    alarm: AlarmTime,
    running: bool,
    /// When the sleeping handler resumes, if one is sleeping.
    wake_at: Option<Millis>,
}

impl PreFix {
    fn new(running: bool) -> PreFix {
        PreFix { alarm: None, running, wake_at: None }
    }

    fn schedule_next_alarm(&mut self, now: Millis, ms: i64) {
        if self.wake_at.is_some() {
            self.wake_at = Some(now); // this.resolve() short-circuits alarm()'s sleep
        }
        self.alarm = Some(now.saturating_add_ms(ms));
    }

    fn alarm_begin(&mut self, now: Millis) {
        let timeout = if self.running { MAX_ALARM_REARM_MS } else { 0 };
        self.wake_at = Some(now.saturating_add_ms(timeout));
    }

    fn alarm_exit(&mut self, now: Millis) {
        self.wake_at = None;
        self.alarm = Some(now); // the unconditional setAlarm(Date.now())
    }
}

/// What the runtime needs from an object.
trait AlarmObject {
    fn alarm(&self) -> AlarmTime;
    fn clear_alarm(&mut self);
    /// The runtime fires the alarm: the handler starts.
    fn fire(&mut self, now: Millis);
    /// When a handler that is still running resumes (None: no handler running).
    fn resume_at(&self) -> Option<Millis>;
    fn resume(&mut self, now: Millis);
    /// An external `scheduleNextAlarm(ms)`.
    fn call(&mut self, now: Millis, ms: i64);
}

impl AlarmObject for Container {
    fn alarm(&self) -> AlarmTime {
        self.alarm
    }
    fn clear_alarm(&mut self) {
        self.alarm = None;
    }
    fn fire(&mut self, now: Millis) {
        self.alarm_handler(now, 0); // no sleep: the handler finishes in the same turn
    }
    fn resume_at(&self) -> Option<Millis> {
        None
    }
    fn resume(&mut self, _now: Millis) {}
    fn call(&mut self, now: Millis, ms: i64) {
        self.schedule_next_alarm(now, ms);
    }
}

impl AlarmObject for PreFix {
    fn alarm(&self) -> AlarmTime {
        self.alarm
    }
    fn clear_alarm(&mut self) {
        self.alarm = None;
    }
    fn fire(&mut self, now: Millis) {
        self.alarm_begin(now);
    }
    fn resume_at(&self) -> Option<Millis> {
        self.wake_at
    }
    fn resume(&mut self, now: Millis) {
        self.alarm_exit(now);
    }
    fn call(&mut self, now: Millis, ms: i64) {
        self.schedule_next_alarm(now, ms);
    }
}

/// Runs `object` under a Durable Object runtime until `until`, with external
/// `scheduleNextAlarm(ms)` calls at `calls`. The runtime fires the alarm only once it is due
/// (R8) and only when no handler runs (R9); a fire consumes the alarm (the handler's own
/// writes decide what follows, as with the deferred delete, R11). Returns the fire times.
fn simulate(object: &mut impl AlarmObject, calls: &[(Millis, i64)], until: Millis) -> Vec<Millis> {
    let mut fires = Vec::new();
    let mut now = NOW;
    let mut next_call = 0;
    for _step in 0..100_000 {
        let handler_running = object.resume_at().is_some();
        let candidates = [
            calls.get(next_call).map(|c| c.0),
            object.resume_at(),
            if handler_running { None } else { object.alarm().map(|t| t.max(now)) },
        ];
        let Some(next) = candidates.into_iter().flatten().min() else { return fires };
        if next > until {
            return fires;
        }
        now = now.max(next);
        // At one instant: external calls first, then the handler's continuation, then a fire.
        if let Some(&(t, ms)) = calls.get(next_call).filter(|c| c.0 <= now) {
            object.call(t.max(now), ms);
            next_call += 1;
        } else if object.resume_at().is_some_and(|w| w <= now) {
            object.resume(now);
        } else if !handler_running && object.alarm().is_some_and(|t| t <= now) {
            fires.push(now);
            object.clear_alarm();
            object.fire(now);
        }
    }
    panic!("the runtime never went idle: the alarm fires in a loop at {now}");
}

/// The cadence the design promises for a run in which every external caller asks for
/// `requested_ms`: no two fires closer than that, and so at most one fire per `requested_ms`
/// of the window (plus the first). `None` when it holds, else what broke.
fn cadence_violation(fires: &[Millis], requested_ms: i64, window: (Millis, Millis)) -> Option<String> {
    let gaps: Vec<i64> = fires.windows(2).map(|w| w[1].0 - w[0].0).collect();
    if let Some(min_gap) = gaps.iter().copied().min().filter(|g| *g < requested_ms) {
        return Some(format!("fires {min_gap} ms apart (< {requested_ms} ms); gaps {gaps:?}"));
    }
    let in_window = fires.iter().filter(|t| (window.0..=window.1).contains(*t)).count() as i64;
    let allowed = (window.1 .0 - window.0 .0) / requested_ms + 1;
    (in_window > allowed).then(|| format!("{in_window} fires in {} ms (at most {allowed})", window.1 .0 - window.0 .0))
}

/// The start loop's `scheduleNextAlarm(1000)` every 300 ms, 27 times, starting `offset` ms
/// after `NOW`.
fn start_loop_calls(offset: i64) -> Vec<(Millis, i64)> {
    (0..START_RETRIES).map(|k| (at(offset + k * INSTANCE_POLL_INTERVAL_MS), SECOND)).collect()
}

// ===== describe('scheduleNextAlarm') ==========================================================

#[test]
fn sets_the_alarm_when_none_exists() {
    let t = schedule_next(None, NOW, 1_000).expect("an alarm is written");
    assert!((500..1_500).contains(&(t.0 - NOW.0)), "{t}");
    assert_eq!(t, at(1_000));

    let mut c = Container::new(NOW, false);
    c.schedule_next_alarm(NOW, 1_000);
    assert_eq!(c.alarm, Some(at(1_000)));
    assert_eq!(c.set_alarm_calls, 1);
}

#[test]
fn is_idempotent_a_later_request_does_not_push_out_a_sooner_alarm() {
    let first = schedule_next(None, NOW, 1_000).unwrap();
    assert_eq!(schedule_next(Some(first), NOW, 5_000), None);
    // Also a little later, and with the same request again.
    assert_eq!(schedule_next(Some(first), at(10), 1_000), None);
    assert_eq!(schedule_next(Some(first), NOW, 1_000), None, "the same time is not rewritten");

    let mut c = Container::new(NOW, false);
    c.schedule_next_alarm(NOW, 1_000);
    c.schedule_next_alarm(NOW, 5_000);
    assert_eq!(c.alarm, Some(first));
    assert_eq!(c.set_alarm_calls, 1, "the later request writes nothing");
}

#[test]
fn advances_the_alarm_when_an_earlier_time_is_requested() {
    let first = schedule_next(None, NOW, 5_000).unwrap();
    let second = schedule_next(Some(first), NOW, 500).expect("an earlier request is written");
    assert!(second < first);
    assert_eq!(second, at(500));
}

#[test]
fn clamps_sub_floor_requests_to_min_alarm_rearm_ms() {
    assert_eq!(MIN_ALARM_REARM_MS, 100);
    for ms in [0, 1, 50, 99, -5_000, i64::MIN] {
        let t = schedule_next(None, NOW, ms).unwrap();
        assert!(t.0 - NOW.0 >= 50, "{ms}: {t}");
        assert_eq!(t, at(MIN_ALARM_REARM_MS), "{ms}");
    }
    // The floor applies against an existing alarm too: no request moves it closer than 100 ms.
    assert_eq!(schedule_next(Some(at(5_000)), NOW, 0), Some(at(MIN_ALARM_REARM_MS)));
}

/// all(5000, 1000, 3000) → < now + 2 s, in every order the calls can complete in.
#[test]
fn concurrent_callers_settle_on_the_earliest_requested_time() {
    let requests = [5_000, 1_000, 3_000];
    let orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
    for order in orders {
        let mut c = Container::new(NOW, false);
        for i in order {
            c.schedule_next_alarm(NOW, requests[i]);
        }
        assert!(delta(c.alarm, NOW) < 2_000, "{order:?}: {:?}", c.alarm);
        assert_eq!(c.alarm, Some(at(1_000)), "{order:?}");
    }
    // Many callers at slightly different instants: the earliest absolute request wins.
    let mut rng = ChaCha8Rng::seed_from_u64(191);
    for _ in 0..200 {
        let mut c = Container::new(NOW, true);
        let mut earliest = i64::MAX;
        for _ in 0..rng.random_range(1..12) {
            let (offset, ms) = (rng.random_range(0..50), rng.random_range(-100..10_000));
            c.schedule_next_alarm(at(offset), ms);
            earliest = earliest.min(offset + ms.max(MIN_ALARM_REARM_MS));
        }
        assert_eq!(c.alarm, Some(at(earliest)));
    }
}

// ===== describe('alarm() handler') ============================================================

#[test]
fn re_arms_for_the_default_heartbeat_when_idle() {
    assert_eq!(exit_rearm(NOW, None, Some(at(HOUR))), at(MAX_ALARM_REARM_MS));
    assert_eq!(exit_rearm(NOW, None, None), at(3 * MINUTE));

    let mut c = Container::new(NOW, true);
    c.alarm_handler(NOW, 0);
    let d = delta(c.alarm, NOW);
    assert!(d > 1_000 && d <= 3 * MINUTE, "{d}");
}

#[test]
fn never_re_arms_for_a_time_in_the_past() {
    // Overdue schedules, an expired sleepAfter, both: never before now + 100 ms.
    for (next_due, sleep_after) in
        [(Some(at(-5_000)), None), (None, Some(at(-1))), (Some(at(-1)), Some(at(-1))), (Some(NOW), Some(NOW)), (Some(at(99)), None)]
    {
        let t = exit_rearm(NOW, next_due, sleep_after);
        assert!(t >= NOW, "{next_due:?}, {sleep_after:?}: {t}");
        assert_eq!(t, at(MIN_ALARM_REARM_MS), "{next_due:?}, {sleep_after:?}");
    }

    let mut c = Container::new(NOW, true);
    c.alarm_handler(NOW, 0);
    assert!(c.alarm.unwrap() >= NOW);
    // With an overdue schedule that the handler has just run, and a later one.
    let mut c = Container::new(NOW, true);
    c.schedules = vec![at(-10 * SECOND), at(20)];
    c.alarm_handler(NOW, 0);
    assert_eq!(c.ran, [at(-10 * SECOND)]);
    assert_eq!(c.alarm, Some(at(MIN_ALARM_REARM_MS)), "a schedule 20 ms out still waits for the floor");
}

#[test]
fn honors_sleep_after_ms_when_sooner_than_the_default_heartbeat() {
    assert_eq!(exit_rearm(NOW, None, Some(at(30 * SECOND))), at(30 * SECOND));

    let mut c = Container::new(NOW, true);
    c.sleep_after = at(30 * SECOND);
    c.alarm_handler(NOW, 0);
    let d = delta(c.alarm, NOW);
    assert!(d > 25 * SECOND && d < 35 * SECOND, "{d}");
    assert_eq!(c.activity_expired, 0);
}

#[test]
fn deletes_the_alarm_when_the_container_is_stopped_and_no_schedules_remain() {
    let mut c = Container::new(NOW, false);
    c.alarm = Some(NOW);
    c.alarm_handler(NOW, 0);
    assert_eq!(c.delete_alarm_calls, 1);
    assert_eq!(c.alarm, None);
    assert_eq!(c.set_alarm_calls, 0);
}

#[test]
fn re_arms_to_the_next_pending_schedule_when_the_container_is_stopped() {
    let schedule = at(10 * SECOND);
    assert_eq!(exit_rearm(NOW, Some(schedule), None), schedule);

    let mut c = Container::new(NOW, false);
    c.schedules = vec![schedule];
    c.alarm_handler(NOW, 0);
    assert_eq!(c.delete_alarm_calls, 0);
    assert!(delta(c.alarm, NOW) > 5 * SECOND);
    assert_eq!(c.alarm, Some(schedule));
    assert!(c.ran.is_empty());
    // When it fires, the schedule runs and, with nothing left, the alarm goes away.
    c.alarm_handler(schedule, 0);
    assert_eq!(c.ran, [schedule]);
    assert_eq!((c.alarm, c.delete_alarm_calls), (None, 1));
}

/// alarm() ∥ scheduleNextAlarm(1000) → > now + 0.5 s. The call lands between the handler's
/// work and its exit re-arm. Before the fix the call woke the handler's sleep and the exit
/// then wrote `now`: the assertion fails on [`PreFix`].
#[test]
fn schedule_next_alarm_during_an_in_progress_alarm_does_not_cause_immediate_re_fire_on_exit() {
    let mut c = Container::new(NOW, true);
    c.alarm = Some(NOW);
    let work = c.alarm_work(NOW, 0);
    c.schedule_next_alarm(NOW, 1_000);
    c.alarm_exit(NOW, work);
    assert!(delta(c.alarm, NOW) > 500, "{:?}", c.alarm);

    // Under the runtime: the handler's exit leaves a future alarm, so nothing fires again at
    // once, and the next fire is not before the earliest time anyone asked for.
    let mut c = Container::new(NOW, true);
    c.alarm = Some(NOW);
    let fires = simulate(&mut c, &[(NOW, 1_000)], at(10 * SECOND));
    assert_eq!(fires, [NOW], "the caller ran first (no alarm moved earlier than 1 s), then one fire");
    assert!(delta(c.alarm, NOW) > 500);

    let mut old = PreFix::new(true);
    old.alarm = Some(NOW);
    old.alarm_begin(NOW);
    old.schedule_next_alarm(NOW, 1_000);
    old.alarm_exit(NOW);
    assert_eq!(delta(old.alarm, NOW), 0, "the pre-fix exit re-fires at once");
}

/// alarm({isRetry, retryCount: 10}) → > now + 50 ms: the handler skips its work past
/// MAX_ALARM_RETRIES but still re-arms through the floor, never `now`.
#[test]
fn retry_exhaustion_does_not_set_an_immediate_alarm() {
    for running in [true, false] {
        let mut c = Container::new(NOW, running);
        c.schedules = vec![at(-1)];
        c.alarm_handler(NOW, 10);
        assert!(c.ran.is_empty(), "the work is skipped past {MAX_ALARM_RETRIES} retries");
        assert!(delta(c.alarm, NOW) > 50, "running={running}: {:?}", c.alarm);
    }
    // Even a long run of exhausted retries, each firing as soon as it is due, cannot go below
    // the floor cadence.
    let mut c = Container::new(NOW, true);
    let mut now = NOW;
    for retry in 4..40 {
        c.alarm_handler(now, retry);
        let next = c.alarm.unwrap();
        assert!(next.0 - now.0 >= MIN_ALARM_REARM_MS, "retry {retry}");
        now = next;
    }
}

// ===== describe('scheduleNextAlarm + alarm cadence invariant') ================================

/// 20× (scheduleNextAlarm(1000); alarm()) → next ≥ now every time, with the clock moving.
#[test]
fn repeated_external_callers_cannot_drive_alarm_to_fire_in_the_past() {
    let mut c = Container::new(NOW, true);
    let mut now = NOW;
    for i in 0..20 {
        c.schedule_next_alarm(now, 1_000);
        now = now.saturating_add_ms(3);
        c.alarm_handler(now, 0);
        let next = c.alarm.unwrap();
        assert!(next >= now, "iteration {i}: {next} < {now}");
        assert!(next.0 - now.0 >= MIN_ALARM_REARM_MS, "iteration {i}");
        now = now.saturating_add_ms(7);
    }

    // The same callers under the runtime: every fire is at or after an alarm time that was at
    // least MIN_ALARM_REARM_MS ahead when written, so fires are never closer than that.
    let mut c = Container::new(NOW, true);
    c.alarm = Some(NOW);
    let calls: Vec<(Millis, i64)> = (0..20).map(|i| (at(i * 10), 1_000)).collect();
    let fires = simulate(&mut c, &calls, at(HOUR));
    assert!(fires.windows(2).all(|w| w[1].0 - w[0].0 >= MIN_ALARM_REARM_MS), "{fires:?}");
}

// ===== B16: the spin loop itself ==============================================================

/// containers #189 before the fix: the start loop's `scheduleNextAlarm()` every 300 ms wakes
/// each sleeping handler, whose exit writes `now`, so the alarm fires at the callers' cadence
/// (~300 ms; 280 ms observed in production) instead of the 3-minute heartbeat. The cadence
/// check fails here; this is what the check below would catch if the fix regressed.
#[test]
fn pre_fix_in_memory_sleep_and_unconditional_rearm_spins() {
    let mut old = PreFix::new(true);
    old.alarm = Some(NOW);
    let calls = start_loop_calls(50);
    let window = (NOW, at(50 + START_RETRIES * INSTANCE_POLL_INTERVAL_MS));
    let fires = simulate(&mut old, &calls, window.1);
    let gaps: Vec<i64> = fires.windows(2).map(|w| w[1].0 - w[0].0).collect();

    assert!(fires.len() as i64 >= START_RETRIES, "{} fires: {fires:?}", fires.len());
    let mean = gaps.iter().sum::<i64>() / gaps.len() as i64;
    assert!(mean <= INSTANCE_POLL_INTERVAL_MS, "mean gap {mean} ms");
    assert!(gaps.iter().skip(1).all(|g| *g == INSTANCE_POLL_INTERVAL_MS), "{gaps:?}");
    let violation = cadence_violation(&fires, SECOND, window);
    assert!(violation.is_some(), "the cadence check must flag the pre-fix spin");

    // Without callers the old code kept its 3-minute heartbeat: the spin needs the callers.
    let mut quiet = PreFix::new(true);
    quiet.alarm = Some(NOW);
    let fires = simulate(&mut quiet, &[], at(10 * MINUTE));
    assert_eq!(fires, [NOW, at(3 * MINUTE), at(6 * MINUTE), at(9 * MINUTE)]);
}

/// The same callers against the fixed container: no two fires closer than the 1 s every
/// caller asked for, about one fire per second of start loop, then back to the heartbeat.
#[test]
fn fixed_container_does_not_spin_under_the_start_loop_callers() {
    let mut c = Container::new(NOW, true);
    c.alarm = Some(NOW);
    let calls = start_loop_calls(50);
    let window = (NOW, at(50 + START_RETRIES * INSTANCE_POLL_INTERVAL_MS));
    let fires = simulate(&mut c, &calls, at(10 * MINUTE));
    assert_eq!(cadence_violation(&fires, SECOND, window), None, "{fires:?}");
    let during = fires.iter().filter(|t| **t <= window.1).count();
    assert!((2..=9).contains(&during), "{during} fires during the start loop: {fires:?}");
    // After the callers stop, the heartbeat takes over.
    let after: Vec<i64> = fires.windows(2).filter(|w| w[0] > window.1).map(|w| w[1].0 - w[0].0).collect();
    assert!(!after.is_empty() && after.iter().all(|g| *g == MAX_ALARM_REARM_MS), "{after:?}");

    // And with callers at any cadence, the floor holds.
    for period in [1, 7, 50, 99, 100, 300] {
        let mut c = Container::new(NOW, true);
        c.alarm = Some(NOW);
        let calls: Vec<(Millis, i64)> = (0..2_000).map(|k| (at(k * period), 0)).collect();
        let fires = simulate(&mut c, &calls, at(2_000 * period));
        assert_eq!(cadence_violation(&fires, MIN_ALARM_REARM_MS, (NOW, at(2_000 * period))), None, "period {period}");
    }
}

/// The helpers' contract under arbitrary interleavings of callers and handlers: a write is
/// never closer than the floor to its writer's clock, `schedule_next` never moves an alarm
/// later, and after it the alarm is no later than what was asked for.
#[test]
fn schedule_next_and_exit_rearm_hold_their_contract_under_random_interleavings() {
    let mut rng = ChaCha8Rng::seed_from_u64(0x191);
    for _case in 0..300 {
        let mut c = Container::new(NOW, rng.random_bool(0.8));
        c.sleep_after = at(rng.random_range(-MINUTE..HOUR));
        c.schedules = (0..rng.random_range(0..4)).map(|_| at(rng.random_range(-MINUTE..10 * MINUTE))).collect();
        let mut now = NOW;
        for _ in 0..40 {
            now = now.saturating_add_ms(rng.random_range(0..2_000));
            let before = c.alarm;
            if rng.random_bool(0.6) {
                let ms = rng.random_range(-1_000..200_000);
                c.schedule_next_alarm(now, ms);
                let asked = now.saturating_add_ms(ms.max(MIN_ALARM_REARM_MS));
                let after = c.alarm.unwrap();
                assert!(after <= asked, "schedule_next left {after} later than the request {asked}");
                if let Some(b) = before {
                    assert!(after <= b, "schedule_next moved {b} later to {after}");
                    assert!(after == b || after == asked);
                }
            } else {
                c.alarm_handler(now, rng.random_range(0..6));
                if let Some(t) = c.alarm {
                    assert!(t.0 - now.0 >= MIN_ALARM_REARM_MS, "re-armed {t} at {now}");
                    assert!(t.0 - now.0 <= MAX_ALARM_REARM_MS, "re-armed past the heartbeat");
                }
            }
        }
    }
}

// ===== bcea750 (containers#147: inflight requests keep the container alive) ===================

/// An open WebSocket (`inflightRequests > 0`) with `sleepAfter` already past: no
/// `onActivityExpired`, a fresh window, and so the re-arm is the heartbeat. Without the
/// renewal, the past `sleepAfter` would pin every re-arm to the 100 ms floor.
#[test]
fn inflight_requests_prevents_on_activity_expired_and_renews_the_sleep_after_window() {
    let mut c = Container::new(NOW, true);
    c.inflight_requests = 1;
    c.sleep_after = at(-1);
    c.alarm_handler(NOW, 0);
    assert_eq!(c.activity_expired, 0);
    assert!(c.running);
    assert!(c.sleep_after > at(55 * MINUTE), "{}", c.sleep_after);
    assert_eq!(c.alarm, Some(at(MAX_ALARM_REARM_MS)));
    assert_eq!(exit_rearm(NOW, None, Some(at(-1))), at(MIN_ALARM_REARM_MS), "what a stale window would give");
}

/// Counter at zero and `sleepAfter` past: `onActivityExpired` fires exactly once, the alarm
/// comes back at the floor to clean up, and the next run, with the container stopped and
/// nothing scheduled, deletes it.
#[test]
fn on_activity_expired_fires_once_the_counter_drops_to_zero_and_sleep_after_is_past() {
    let mut c = Container::new(NOW, true);
    c.inflight_requests = 0;
    c.sleep_after = at(-1);
    c.alarm_handler(NOW, 0);
    assert_eq!(c.activity_expired, 1);
    assert_eq!(c.alarm, Some(at(MIN_ALARM_REARM_MS)));
    c.alarm_handler(at(MIN_ALARM_REARM_MS), 0);
    assert_eq!(c.activity_expired, 1, "only once");
    assert_eq!((c.alarm, c.delete_alarm_calls), (None, 1));
}
