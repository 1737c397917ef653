//! Probes of the manager core (`manager.rs`, workerd's local `AlarmScheduler`).
//!
//! Not probed, because the simulator cannot reach them, by design: a handler result or an
//! abandon answer for an attempt the manager no longer runs (`on_fire_result`'s and
//! `on_abandon_result`'s first guards). Each attempt gets exactly one result (the runAlarm RPC
//! answers once), and the results of a manager process that has since restarted are dropped
//! by the world before they reach the new core (`world/managers.rs`, the epoch check), as a
//! restarted workerd never hears its predecessor's RPCs.

crate::probes! {
    SCHEDULE_STALE_FENCE = "manager.schedule.stale-fence":
        "a command whose fence is not newer than the entry's was ignored (a late or duplicated sR, workerd #5431, B1)";
    SCHEDULE_UNCHANGED = "manager.schedule.unchanged":
        "a newer command repeated the value the manager already had: only the fence moved";
    SCHEDULE_QUEUED_WHILE_RUNNING = "manager.schedule.queued-while-running":
        "a value arrived while the alarm ran or was being abandoned and was queued (R19)";
    SCHEDULE_QUEUED_OWN_TIME = "manager.schedule.queued-own-time":
        "the running alarm's own time arrived while it ran and was queued (edge-values seed 5391 lost the alarm by dropping it)";
    SCHEDULE_BACKOFF_SAME_TIME = "manager.schedule.backoff-same-time":
        "the time of an alarm waiting out a backoff arrived again and kept the backoff (B13, PR #853: no retries without backoff)";
    SCHEDULE_BACKOFF_REPLACED = "manager.schedule.backoff-replaced":
        "a new value arrived during a backoff and replaced the retry at once (a deliberate difference from R17)";
    FIRE_RETRY = "manager.fire.retry":
        "a retry fired with retryCount > 0 (R10, R15)";
    RESULT_REPLACEMENT_BEATS_RETRY = "manager.result.replacement-beats-retry":
        "a failed attempt was not retried because a value queued during it replaced the alarm (R17)";
    RESULT_OWN_TIME_RETRIED = "manager.result.own-time-retried":
        "a failed attempt whose queued value was its own T was retried anyway (R17 exception)";
    RESULT_UNCOUNTED_FAILURE = "manager.result.uncounted-failure":
        "a failure that does not count against the retry limit (R14: a broken gate without a user error)";
    RESULT_LIMIT_ABANDONS = "manager.result.limit-abandons":
        "the counted-retry limit was reached and the manager asked the actor to abandon (R15, R16)";
    RESULT_ABORT_ABANDONS = "manager.result.abort-abandons":
        "an abort with retryAlarm false made the manager abandon (R13, 67dd86ade)";
    RESULT_REPORT_STALE = "manager.result.report-stale":
        "the value reported with a handler result was older than a command already applied and was ignored";
    ABANDON_FAILED_KEEPS = "manager.abandon.failed-keeps":
        "an abandon RPC failed with nothing queued: the alarm is kept and retried after the longest backoff (R16)";
    ABANDON_FAILED_REPLACEMENT = "manager.abandon.failed-replacement":
        "an abandon RPC failed while a replacement was queued: the replacement survives (B8's failure half)";
    ABANDON_ANSWER_APPLIED = "manager.abandon.answer-applied":
        "the actor's abandon answer was current and the manager took it (R16: 'return S so AM can re-register')";
    ABANDON_ANSWER_OUTRANKED = "manager.abandon.answer-outranked":
        "a command newer than the abandon answer won over it (B8: a replacement set during the abandon)";
    LOAD_ROWS = "manager.load.rows":
        "a restarted manager scheduled the rows it persisted (R18; in-memory-manager loses them)";
}
