//! Probes of the actor core (`actor.rs`, workerd's `ActorSqlite`): every `armAlarmHandler`
//! decision (§2 transition 3), and the branches where the historical bugs lived.
//!
//! Not probed, because the simulator cannot reach it, by design: a handler that ends after
//! its actor's gate broke (`handler_finished` with the gate broken, 25fa631d7). The world
//! resets a broken actor in the same step it breaks (`world/actors.rs`, `pump`), failing the
//! attempt, so no handler of a broken incarnation ever ends; `scheduler/tests/actor_sqlite.rs`
//! ("alarm handler cleanup succeeds when output gate is broken") covers the branch.
//!
//! Nor the Cancel of a fire *later* than a clean S that is not yet overdue (`4aa2aa046`, the
//! manager late). A fire of T leaves only once T is due on the manager's clock, so a clean
//! S < T still in the future needs the actor's clock behind the manager's by more than the
//! time S takes to become clean after the fire left (a precommit round trip and a commit,
//! while the fire crosses one link): no seed of 6,000 (edge-values, everything,
//! mismatched-fire) reached it. In workerd it cannot happen at all: `Worker::Actor::handleAlarm`
//! waits for the actor's clock to reach T (`atTime`) before `runAlarm` arms the handler, so a
//! clean S < T is overdue there and runs (#5764). The simulator arms on arrival and waits for
//! the clock after (docs/ARCHITECTURE.md, deliberate differences); the unit tests drive the
//! branch with an explicit `now` (`actor_sqlite.rs`, "…handler alarm is later than committed
//! alarm").

crate::probes! {
    ARM_RUN_CURRENT = "actor.arm.run-current":
        "a fire of the stored alarm (S == T) runs with its deferred delete (§2.3); the common case, listed so every arm decision is counted";
    ARM_RUN_OVERDUE = "actor.arm.run-overdue":
        "a fire of T while a different clean S is already overdue runs and deletes S (#5764): needs a missed or late fire of an earlier value";
    ARM_RUN_DIRTY = "actor.arm.run-dirty":
        "a fire while a write of the alarm is in flight runs without a deferred delete (§2.3): the fire must land inside a commit's window";
    ARM_CANCEL_NONE = "actor.arm.cancel-none":
        "a fire while storage holds no alarm is cancelled after sR(none) (d1faebb06): the manager kept a value the actor deleted";
    ARM_CANCEL_PREMATURE = "actor.arm.cancel-premature":
        "a fire of T earlier than the clean S is cancelled after sR(S) (PR #2648, B10): a move-later's command was lost or is late";
    ARM_CANCEL_DROPS_PARKED = "actor.arm.cancel-drops-parked":
        "a Cancel's reschedule replaced a parked move-later (§2.3 clears the parked time): needs a move-later parked behind a command at the fire";
    MOVE_EARLIER_REPLACES_PARKED = "actor.move-earlier.replaces-parked":
        "a move-earlier dropped a parked move-later before its precommit (B5, cdbbcb47b): three writes inside one command's round trip";
    PRECOMMIT_CATCH_UP = "actor.precommit.catch-up":
        "a turn merged into a commit waiting for its precommit moved the alarm earlier again: `while S < ASNLT: await sR(S)` loops (§2.1)";
    COMMIT_MERGED = "actor.commit.merged":
        "a turn's writes merged into a commit still waiting for its precommit scheduling (one commit for several turns, §2.1)";
    SET_SAME_VALUE = "actor.set.same-value":
        "setAlarm of the value S already holds writes nothing (R3): needs the exact stored millisecond";
    SET_SAME_VALUE_IN_HANDLER = "actor.set.same-value-in-handler":
        "a no-op setAlarm of S inside the handler still cancels the deferred delete (R3 with R11): the handler's own millisecond";
    SET_PAST_CLAMPED = "actor.set.past-clamped":
        "setAlarm of a past time is clamped to now (R2): needs a time before the actor's clock";
    HANDLER_WRITE_FIRST_MS = "actor.handler.write-first-ms":
        "the handler wrote the alarm in the millisecond it was armed: the deferred delete and the new value meet at one instant (R11)";
    HANDLER_WRITE_CANCELS_DELETE = "actor.handler.write-cancels-delete":
        "a set or delete inside the handler cancelled its deferred delete (R11; B12 is deleting anyway)";
    HANDLER_DEFERRED_DELETE = "actor.handler.deferred-delete":
        "a successful handler's deferred delete wrote S = none (R11): the common end of an alarm";
    HANDLER_FAILED_KEEPS = "actor.handler.failed-keeps":
        "a failed handler kept its alarm for the retry (R11 failure half, `failed-handler-deletes` is deleting it)";
    ABANDON_CLEARS = "actor.abandon.clears":
        "abandonAlarm(T) with a clean S == T cleared the alarm (R16): needs the counted-retry limit or an abort";
    ABANDON_OTHER_VALUE = "actor.abandon.other-value":
        "abandonAlarm(T) while S != T answered S so the manager re-registers it (R16, B7): a replacement written during the retries";
    ABANDON_DIRTY = "actor.abandon.dirty":
        "abandonAlarm(T) with S == T but a write in flight kept the alarm (B7's DIRTY case)";
    ABANDON_IN_HANDLER = "actor.abandon.in-handler":
        "abandonAlarm arrived while a handler ran: the handler's outcome settles the alarm instead (R16)";
    REPORT_COMMAND_IN_FLIGHT = "actor.report.command-in-flight":
        "a handler or abandon report left while a schedule command was in flight: the report's fence outranks it (reports, ARCHITECTURE)";
    REPORT_COMMIT_IN_FLIGHT = "actor.report.commit-in-flight":
        "a report left while a commit of a different alarm was in flight (only unconfirmed writes open the gate early; report-shows-stored-alarm)";
    COMPLETION_REPORT_OUTRANKS = "actor.completion.report-outranks":
        "a command completed after a later report was handed out: ASNLT keeps the report (the reference bug unconfirmed-writes found)";
    COMPLETION_ASNLT_TO_QUEUED = "actor.completion.asnlt-to-queued":
        "a command completed with an earlier value queued behind it, so ASNLT drops to the queued value (a move earlier inside one round trip)";
    COMPLETION_STALE = "actor.completion.stale":
        "a schedule completion for a command no longer in flight was ignored (a duplicate or late answer, workerd #5431)";
    COMMIT_DUPLICATE_COMPLETION = "actor.commit.duplicate-completion":
        "a commit completion for a commit no longer in flight was ignored";
    MOVE_LATER_SKIPPED_VERSION = "actor.move-later.skipped-version":
        "a post-commit move-later was skipped because S changed after the commit was handed out (workerd #5589, B2)";
    MOVE_LATER_PARKED = "actor.move-later.parked":
        "a move-later was parked behind a command in flight (PR #6383: at most one in flight, one parked)";
    COMMAND_RETRIED = "actor.command.retried":
        "a failed move-later, re-announce or Cancel reschedule was sent again (mismatched-fire seed 108; workerd only logs it)";
    GATE_BROKEN_BY_COMMIT = "actor.gate.broken-by-commit":
        "a failed commit broke the output gate (§2 transition 1): the actor must reset";
    GATE_BROKEN_BY_MOVE_EARLIER = "actor.gate.broken-by-move-earlier":
        "a rejected move-earlier broke the output gate (§2 transition 1, workerd test 'rejected move-earlier…')";
    LOAD_REANNOUNCE_NONE = "actor.load.reannounce-none":
        "a restarted actor with no stored alarm told the manager none (the reference's fix for a move-earlier told before a failed commit)";
    LOAD_REANNOUNCE = "actor.load.reannounce":
        "a restarted actor re-announced its stored alarm (R21: a manager that lost it converges)";
    TXN_ROLLBACK_IN_HANDLER = "actor.txn.rollback-in-handler":
        "an explicit transaction that wrote the alarm rolled back inside a handler: getAlarm is null again (R5's second bullet)";
    TXN_ROOT_COMMIT_ALARM = "actor.txn.root-commit-alarm":
        "an explicit root transaction committed an alarm write: precommit scheduling starts at once (workerd '…before explicit local db commit')";
    TXN_NESTED_COMMIT = "actor.txn.nested-commit":
        "a nested explicit transaction committed into its parent: no scheduling until the root commits";
    DELETE_ALL_IN_HANDLER = "actor.delete-all.in-handler":
        "deleteAll with deleteAlarm inside a handler cancelled its deferred delete (R7, §2 transition 5)";
}
