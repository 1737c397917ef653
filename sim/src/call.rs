//! One storage call of an actor's code: the vocabulary a client's turn (`Op::Turn`) and a
//! handler's script share. A turn runs its calls in order and then ends (the implicit
//! transaction commits locally, R6); the first call that throws ends the turn's calls.

use crate::time_arg::TimeArg;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "call", rename_all = "kebab-case")]
pub enum Call {
    /// `setAlarm(time)`; a `none` time deletes (R4).
    SetAlarm { time: TimeArg },
    DeleteAlarm,
    GetAlarm,
    Put { key: String },
    /// `deleteAll()`, deleting the alarm too if `delete_alarm` (R7).
    DeleteAll { delete_alarm: bool },
    /// A container-style `scheduleNextAlarm(delay)` through the factory's helper (containers #191).
    ScheduleNext { delay_ms: i64 },
    /// The container handler's exit re-arm through the factory's helper (containers #191).
    ExitRearm,
}

impl Call {
    /// Whether the call may write the alarm (the deferred-delete and lost-write checks care).
    pub fn writes_alarm(&self) -> bool {
        matches!(self, Call::SetAlarm { .. } | Call::DeleteAlarm | Call::DeleteAll { delete_alarm: true } | Call::ScheduleNext { .. } | Call::ExitRearm)
    }
}

impl std::fmt::Display for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Call::SetAlarm { time } => write!(f, "setAlarm({time})"),
            Call::DeleteAlarm => f.write_str("deleteAlarm()"),
            Call::GetAlarm => f.write_str("getAlarm()"),
            Call::Put { key } => write!(f, "put({key})"),
            Call::DeleteAll { delete_alarm } => write!(f, "deleteAll(deleteAlarm={delete_alarm})"),
            Call::ScheduleNext { delay_ms } => write!(f, "scheduleNextAlarm({delay_ms})"),
            Call::ExitRearm => f.write_str("exitRearm()"),
        }
    }
}

/// Calls as one line: `setAlarm(now); deleteAlarm()`.
pub fn show_calls(calls: &[Call]) -> String {
    calls.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}
