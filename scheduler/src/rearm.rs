//! The re-arm helper of the cloudflare/containers spin-loop fix (PR #191, seed 003, B16).
//!
//! Before the fix, `alarm()` slept in memory and then re-armed unconditionally with
//! `setAlarm(Date.now())`; a concurrent `scheduleNextAlarm()` woke the sleep early and the
//! exit re-arm clobbered the future alarm, so alarms fired ~280 ms apart. The fix has two
//! halves, both pure functions here so any scheduler can use them.

use crate::time::{AlarmTime, Millis};

/// `MIN_ALARM_REARM_MS`: no re-arm is ever closer than this to now.
pub const MIN_ALARM_REARM_MS: i64 = 100;
/// `MAX_ALARM_REARM_MS`: the idle heartbeat (3 minutes).
pub const MAX_ALARM_REARM_MS: i64 = 180_000;

/// `scheduleNextAlarm(ms)`: the alarm to write, or `None` to leave `existing` alone.
/// Requests are floored at 100 ms; an existing alarm that is already sooner wins, so
/// concurrent callers converge on the earliest request instead of clobbering each other.
pub fn schedule_next(existing: AlarmTime, now: Millis, delay_ms: i64) -> Option<Millis> {
    let requested = now.saturating_add_ms(delay_ms.max(MIN_ALARM_REARM_MS));
    match existing {
        Some(current) if current <= requested => None,
        _ => Some(requested),
    }
}

/// The handler's exit re-arm: `max(min(next due, sleep-after, now + 3 min), now + 100 ms)`.
/// `None` inputs mean "no such deadline".
pub fn exit_rearm(now: Millis, next_due: AlarmTime, sleep_after: AlarmTime) -> Millis {
    let heartbeat = now.saturating_add_ms(MAX_ALARM_REARM_MS);
    let requested = [next_due, sleep_after].into_iter().flatten().fold(heartbeat, Millis::min);
    requested.max(now.saturating_add_ms(MIN_ALARM_REARM_MS))
}
