//! The fixes `docs/FINDINGS.md` proposes, one switch each. The port runs with all of them off,
//! as upstream has it; `workerd-head-fixed` runs with all of them on, and the hand-driven
//! harness (`tests/workerd_findings.rs`) switches each on alone to show it removes its
//! finding's interleaving.

/// Which proposed fixes are on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fixes {
    /// F1 (`ActorSqlite`): a `setAlarm` that cancels the handler's deferred delete without
    /// changing the stored value (the handler's own T) is remembered, and when the handler
    /// succeeds with T still stored the scheduler is told T again (`scheduleLaterAlarm`), which
    /// queues it behind the running alarm; otherwise the scheduler drops the alarm on success
    /// while SQLite keeps it. A failed handler needs nothing: its retry fires T anyway.
    pub same_time_in_handler_reschedules: bool,
    /// F2 (`AlarmScheduler::setAlarm`): a new time that arrives while a failed alarm waits out
    /// its backoff replaces the retry at once, as it would replace a WAITING alarm, instead of
    /// queueing behind the retry timer (up to 64 s and jitter late). The retried alarm's own
    /// time still queues (it is not a new alarm).
    pub replacement_beats_backoff: bool,
}

impl Fixes {
    /// Every proposed fix.
    pub const ALL: Fixes = Fixes { same_time_in_handler_reschedules: true, replacement_beats_backoff: true };
}
