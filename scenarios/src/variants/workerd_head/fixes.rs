//! The fixes `docs/FINDINGS.md` proposes, one switch each. The port runs with all of them off,
//! as upstream has it; `workerd-head-fixed` runs with all of them on, and the hand-driven
//! harness (`tests/workerd_findings.rs`) switches each on alone to show it removes its
//! finding's interleaving.

/// Which proposed fixes are on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fixes {
    /// F1 (`ActorSqlite`): the scheduler drops T when the handler for T succeeds, but
    /// `alarmScheduledNoLaterThan` keeps saying T, so a write of T is never told (neither
    /// earlier nor later than T): `setAlarm(T)` in the handler (a metadata no-op that cancels
    /// the deferred delete), `setAlarm(X); setAlarm(T)` (X's sync skipped, the version moved
    /// on), or a client's `setAlarm(T)` between the handler's end and its result. The fix:
    /// a handler that wrote the alarm and succeeds with T stored, and had no `scheduleRun(T)`
    /// go out meanwhile, tells T again (`scheduleLaterAlarm`, queued behind the running
    /// alarm); and after a success with nothing requested during the run, every new value is
    /// told before its commit until a request goes out. A failed handler needs nothing: its
    /// retry fires T.
    pub same_time_in_handler_reschedules: bool,
    /// F2 (`AlarmScheduler::setAlarm`): a new time that arrives while a failed alarm waits out
    /// its backoff replaces the retry at once, as it would replace a WAITING alarm, instead of
    /// queueing behind the retry timer (up to 64 s and jitter late). The retried alarm's own
    /// time still queues (it is not a new alarm).
    pub replacement_beats_backoff: bool,
    /// F3 (`ActorSqlite::ExplicitTxn::rollbackImpl`): `ROLLBACK TO` undoes the alarm row, so
    /// it undoes the `alarmVersion` bumps of the writes it undid. Upstream keeps them, and a
    /// move-later commit in flight then skips its post-commit sync ("another commit modified
    /// the alarm") although no commit will follow to sync: in a handler the scheduler drops
    /// the alarm on success while SQLite keeps the later time.
    pub rollback_restores_alarm_version: bool,
    /// F4 (`AlarmScheduler::abandonAlarm`): when the `abandonAlarm` notification fails, the
    /// entry is not left FINISHED with no task, which "keeps the alarm in the scheduler" but
    /// never fires it (nor a replacement queued meanwhile) until the process restarts: a
    /// queued replacement runs, as after a successful abandon; otherwise the abandon is asked
    /// again after the first backoff step.
    pub failed_abandon_retries: bool,
    /// F5 (`ActorSqlite::abandonAlarm`): answer "cleared" only once the deletion is durable.
    /// Upstream answers at once; if a commit then fails, the actor resets and reloads the
    /// alarm, while the scheduler has already dropped it. (The port refuses while a commit is
    /// in flight and relies on F4 to be asked again: the plug-in API answers synchronously.)
    pub abandon_waits_for_commits: bool,
    /// F6 (`ActorSqlite::armAlarmHandler`): the local alarm counts as clean (equal to what
    /// SQLite holds) only when it equals `lastConfirmedAlarmDbState` *and* no commit is in
    /// flight. Upstream compares values alone, so `setAlarm(T)` then `deleteAlarm()` with both
    /// commits in flight looks clean (none == none) while SQLite holds T: the handler for T is
    /// cancelled and the scheduler drops T; if the delete's commit then fails, the actor
    /// reloads T and nothing will fire it.
    pub clean_needs_no_commit_in_flight: bool,
    /// F7 (`AlarmScheduler::makeAlarmTask`): a `setAlarm` of the failing alarm's own time,
    /// queued while it ran, does not cancel its retry. Upstream "if an alarm is queued, there's
    /// no point in retrying the current one" runs it at once as a new alarm: no backoff,
    /// `retryCount` back to 0 and no retry limit, so a handler that re-sets its own time (a
    /// `setAlarm(Date.now())` in its first millisecond) and throws runs again at once, forever.
    pub own_time_keeps_retry: bool,
    /// F8 (`AlarmScheduler::abandonAlarm`): when `abandonAlarm` answers with the alarm the
    /// actor still holds (the user set another one; "Return it so AlarmManager can
    /// re-register"), the scheduler schedules it. Upstream ignores the returned time and
    /// deletes its entry, so an alarm the scheduler never heard of (its post-commit
    /// `scheduleRun` lost to a crash) is lost.
    pub abandon_answer_reregisters: bool,
    /// R1's fixes, for a production-style RPC link (`docs/FINDINGS.md`, "The RPC link"). With
    /// the local scheduler behind a link that loses, delays and duplicates calls, commands
    /// carry their fence and the scheduler drops one no newer than the last it applied (the
    /// #5431 class: a late or duplicated `scheduleRun` overwrites a newer one). The fence is
    /// kept in the alarm's row, and in a row without a time after a delete, so a restart
    /// keeps it.
    pub commands_fenced: bool,
    /// R1: the handler's result carries the alarm the actor holds, with a fence newer than
    /// its last command, and the scheduler takes it after a run that did not fail: a re-arm
    /// whose move-later races the result is no longer dropped with the alarm that ran. The
    /// value is the earliest SQLite holds or may hold through a commit in flight (an
    /// unconfirmed write's commit may still be in flight when the output gate opens).
    pub result_carries_alarm: bool,
    /// R1: a failed move-later is sent again (while the alarm still holds its time and no
    /// later one is parked) instead of only logged (b4a5ed8cd), so one lost RPC cannot lose
    /// the alarm.
    pub move_later_retried: bool,
    /// R2 (`ActorSqlite::commitImpl`'s post-commit check, `scheduleLaterAlarm`): a commit
    /// whose alarm fires earlier than the later time parked behind the move-later in flight
    /// (e.g. a write back to the time that move-later carries) drops it when it starts:
    /// SQLite will no longer hold it. Upstream leaves it parked, and the drain sends it, so the
    /// scheduler holds a later time than SQLite (I1) and the alarm fires late. Only a link slow
    /// enough to keep a move-later in flight across two commits shows it.
    pub stale_parked_later_dropped: bool,
    /// R3 (`ActorSqlite::requestScheduledAlarm`'s continuation): a request that did not move
    /// the alarm later sets `alarmScheduledNoLaterThan` to its time when it settles, even if a
    /// newer request went out meanwhile. Upstream's local `scheduleRun` settles at once, so
    /// nothing is sent between; over a slow link an older request settles late and rewinds
    /// (or advances) what the actor believes the scheduler holds, so a later write is told
    /// before its commit as if it moved earlier (or after it as if it moved later), and the
    /// scheduler is later than SQLite (I1). The fix: only the newest request's settlement
    /// sets it (with fenced commands the scheduler holds the newest command it applied).
    pub newest_request_sets_asnlt: bool,
}

impl Fixes {
    /// None: upstream as it is.
    pub const NONE: Fixes = Fixes {
        same_time_in_handler_reschedules: false,
        replacement_beats_backoff: false,
        rollback_restores_alarm_version: false,
        failed_abandon_retries: false,
        abandon_waits_for_commits: false,
        clean_needs_no_commit_in_flight: false,
        own_time_keeps_retry: false,
        abandon_answer_reregisters: false,
        commands_fenced: false,
        result_carries_alarm: false,
        move_later_retried: false,
        stale_parked_later_dropped: false,
        newest_request_sets_asnlt: false,
    };

    /// Every fix proposed for local workerd (F1–F8).
    pub const ALL: Fixes = Fixes {
        same_time_in_handler_reschedules: true,
        replacement_beats_backoff: true,
        rollback_restores_alarm_version: true,
        failed_abandon_retries: true,
        abandon_waits_for_commits: true,
        clean_needs_no_commit_in_flight: true,
        own_time_keeps_retry: true,
        abandon_answer_reregisters: true,
        commands_fenced: false,
        result_carries_alarm: false,
        move_later_retried: false,
        stale_parked_later_dropped: false,
        newest_request_sets_asnlt: false,
    };

    /// Every proposed fix, R1's, R2's and R3's for the RPC link too.
    pub const ALL_AND_RPC: Fixes = Fixes { commands_fenced: true, result_carries_alarm: true, move_later_retried: true, stale_parked_later_dropped: true, newest_request_sets_asnlt: true, ..Fixes::ALL };
}
