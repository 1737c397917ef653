//! Probes of the per-actor command channel (`channel.rs`; I3, PR #6383).

crate::probes! {
    QUEUED = "channel.queued":
        "a value was queued behind a command in flight (I3: one in flight, one queued)";
    QUEUED_REPLACED = "channel.queued-replaced":
        "a queued value was replaced by a newer one, keeping its waiters (latest wins, PR #6383's coalescing)";
    PARKED_DROPPED = "channel.parked-dropped":
        "a parked move-later was dropped for a move-earlier or a Cancel's reschedule (B5)";
    STALE_COMPLETION = "channel.stale-completion":
        "a completion named a command that is not in flight (duplicate or late: the link already answered it)";
    CLEARED_WITH_WAITERS = "channel.cleared-with-waiters":
        "the gate broke while a commit or an arm waited on a command: the waiters fail with it";
    SECOND_REPORT_FENCE = "channel.second-report-fence":
        "two reports between the same commands got successive report fences (abandon-vs-replacement seed 22 gave them equal fences)";
}
