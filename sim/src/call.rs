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
    /// `storage.transaction(txn => …)`: `calls` inside one explicit transaction, then its
    /// commit, or its rollback if `rollback` (R5's second bullet). A call inside that throws
    /// rolls it back and ends the turn, as a throwing closure does.
    Txn {
        calls: Vec<Call>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        rollback: bool,
    },
}

/// At most this many explicit transactions nested inside one another (a plan file asking for
/// more is refused by `plan_check.rs`).
pub const MAX_TXN_DEPTH: usize = 4;

impl Call {
    /// Whether the call may write the alarm (the deferred-delete and lost-write checks care).
    pub fn writes_alarm(&self) -> bool {
        match self {
            Call::SetAlarm { .. } | Call::DeleteAlarm | Call::DeleteAll { delete_alarm: true } | Call::ScheduleNext { .. } | Call::ExitRearm => true,
            Call::Txn { calls, rollback } => !rollback && calls.iter().any(Call::writes_alarm),
            Call::GetAlarm | Call::Put { .. } | Call::DeleteAll { delete_alarm: false } => false,
        }
    }

    /// Whether an alarm-time argument of the call (inside a transaction too) is a symbol,
    /// resolved against the actor's live state.
    pub fn is_symbolic(&self) -> bool {
        match self {
            Call::SetAlarm { time } => matches!(time, TimeArg::Sym(_)),
            Call::Txn { calls, .. } => calls.iter().any(Call::is_symbolic),
            Call::DeleteAlarm | Call::GetAlarm | Call::Put { .. } | Call::DeleteAll { .. } | Call::ScheduleNext { .. } | Call::ExitRearm => false,
        }
    }

    /// Every alarm-time argument of the call (inside a transaction too), for the shrinker.
    pub fn time_args_mut(&mut self) -> Vec<&mut TimeArg> {
        match self {
            Call::SetAlarm { time } => vec![time],
            Call::Txn { calls, .. } => calls.iter_mut().flat_map(Call::time_args_mut).collect(),
            Call::DeleteAlarm | Call::GetAlarm | Call::Put { .. } | Call::DeleteAll { .. } | Call::ScheduleNext { .. } | Call::ExitRearm => Vec::new(),
        }
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
            Call::Txn { calls, rollback } => {
                write!(f, "transaction {{ {} }}", show_calls(calls))?;
                if *rollback {
                    f.write_str(" rollback")?;
                }
                Ok(())
            }
        }
    }
}

/// Calls as one line: `setAlarm(now); deleteAlarm()`.
pub fn show_calls(calls: &[Call]) -> String {
    calls.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}
