//! Probes of the reference job queue (`queue/reference.rs`, `queue/schema.rs`), reported
//! through its `Db` (`Db::probe`), the queue's only contact with the world.

crate::probes! {
    CLAIM_EMPTY = "queue.claim.empty":
        "a claim found no job due (idle workers polling; the common way a claim ends)";
    CLAIM_RETRY = "queue.claim.retry":
        "a claim took a job that failed or lost its lease before: its attempts must be counted (retry-counts)";
    COMPLETE_FENCED = "queue.complete.fenced":
        "a complete was rejected because the claim no longer holds: a stale owner, its lease reclaimed (fencing, underway)";
    FAIL_FENCED = "queue.fail.fenced":
        "a fail was rejected because the claim no longer holds (a stale owner)";
    FAIL_DEAD_LETTER = "queue.fail.dead-letter":
        "a failure used the job's last attempt and moved it to dead_letter (max_attempts)";
    RECLAIM_EXPIRED = "queue.reclaim.expired":
        "an expired lease was taken back and its attempt counted (DGW's reset_claimed_jobs did not count it)";
    RECLAIM_DEAD_LETTER = "queue.reclaim.dead-letter":
        "a reclaim used the job's last attempt and dead-lettered it: a job that keeps crashing its worker ends";
    MIGRATE_FROM_EMPTY = "queue.migrate.from-empty":
        "open created the schema in an empty database (every migration in one transaction)";
    MIGRATE_FROM_OLDER = "queue.migrate.from-older":
        "open migrated a database an older release left (user_version between 1 and the latest), rows included";
    MIGRATE_RACED = "queue.migrate.raced":
        "open found the schema already migrated once it held the write lock: another process migrated first";
    BUSY_RETRIED = "queue.busy-retried":
        "a statement met SQLITE_BUSY and was retried after the busy wait (another process held the write lock)";
}
