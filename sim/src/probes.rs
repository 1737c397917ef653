//! The worlds' coverage probes: combinations of a fault and a state that the bugs of the
//! library need, reported by the simulator itself (the schedulers' and the queue's own probes
//! are in `alarmsim_scheduler::probe`). A sweep that never reaches one of these never tested
//! what it names, whatever its checkers say.

/// The alarm world (`world/`).
pub mod alarms {
    alarmsim_scheduler::probes! {
        CRASH_MANAGER_BEHIND_STORAGE = "world.crash.manager-behind-storage":
            "a host crashed while an actor's durable alarm was later than its manager's: between a durable commit and its move-later command (R21 re-announce, #6104)";
        CRASH_MID_HANDLER = "world.crash.mid-handler":
            "a host crashed while a handler ran: the attempt is lost and the alarm must run again (R18, R21 at-least-once)";
        POWER_LOSS_ROLLS_BACK = "world.power-loss.rolls-back":
            "a power loss under synchronous=NORMAL rolled back an acknowledged, unsynced commit (queue-anchors: WAL NORMAL)";
        MANAGER_CRASH_WHILE_RUNNING = "world.manager.crash-while-running":
            "a manager crashed while one of its alarms ran: the row must fire it again after the restart (R18)";
        COMMAND_LATE_COPY_STALE = "world.command.late-copy-stale":
            "a duplicate copy of a command landed after a newer one was applied and was rejected by its fence (workerd #5431, B1)";
        COMMAND_DEAD_INCARNATION = "world.command.dead-incarnation":
            "a command of an incarnation that had already been reset reached the manager (edge-values seeds 25603, 28196)";
        PARTITION_MOVE_EARLIER = "world.partition.move-earlier":
            "a move-earlier command was lost to a partition: the commit must wait or the gate break (§2 transition 1)";
        FIRE_LOST_TO_PARTITION = "world.fire.lost-to-partition":
            "a fire could not reach its actor (partition or host down) and fails uncounted (R14)";
        FIRE_BEFORE_ACTOR_CLOCK = "world.fire.before-actor-clock":
            "the manager fired before the actor's own clock reached T (skew): the actor waits for its clock (R8)";
        HANDLER_FAILS_WITH_REPLACEMENT = "world.handler.fails-with-replacement":
            "a handler failed while its alarm had already been replaced: the replacement, not a retry of T, must win (R17)";
        COMMIT_ACK_LOST = "world.commit.ack-lost":
            "a commit was applied but its acknowledgement failed: storage holds what the actor thinks failed (§2 transition 1)";
        ABANDON_REPLY_LOST = "world.abandon.reply-lost":
            "an abandonAlarm answer was lost on the link after the actor answered (B8's failure half)";
    }
}

/// The job-queue world (`queue/`).
pub mod queue {
    alarmsim_scheduler::probes! {
        CLAIM_DURING_RECLAIM = "queue-world.claim-during-reclaim":
            "a worker began a claim while another process was inside a reclaim transaction (BEGIN IMMEDIATE must serialize them)";
        STALE_OWNER_COMPLETE = "queue-world.stale-owner-complete":
            "a worker tried to complete a job whose lease had been reclaimed: a stale owner must be fenced (underway)";
        STALE_OWNER_FAIL = "queue-world.stale-owner-fail":
            "a worker tried to fail a job whose lease had been reclaimed: a stale owner must be fenced";
        CRASH_MID_JOB = "queue-world.crash-mid-job":
            "a worker crashed while it held a claim: the lease must expire and the attempt be counted";
        POWER_LOSS_ROLLS_BACK = "queue-world.power-loss.rolls-back":
            "a power loss under synchronous=NORMAL rolled the queue back to its last sync";
        CRASH_IN_MIGRATION_TO_V1 = "queue-world.crash-in-migration.to-v1":
            "a process crashed while creating schema v1 in an empty database (the whole migration must roll back)";
        CRASH_IN_MIGRATION_TO_V2 = "queue-world.crash-in-migration.to-v2":
            "a process crashed inside the migration to v2 (leases, owners; DGW bumps user_version apart from it)";
        CRASH_IN_MIGRATION_TO_V3 = "queue-world.crash-in-migration.to-v3":
            "a process crashed inside the migration to v3 (dead letters)";
        CRASH_IN_MIGRATION_TO_V4 = "queue-world.crash-in-migration.to-v4":
            "a process crashed inside the migration to v4 (row checksums)";
        CRASH_IN_MIGRATION_BEFORE_COMMIT = "queue-world.crash-in-migration.before-commit":
            "a process crashed after the last user_version bump but before the migration committed";
        PAUSED = "queue-world.paused":
            "a process stopped at a statement boundary (a GC pause, a stopped VM) and resumed there later";
        ZOMBIE_TAKEN_OVER = "queue-world.zombie-taken-over":
            "a paused worker's job was reclaimed while it slept: when it wakes it is a stale owner (Kleppmann's fencing case)";
        SKEWED_TAKE_OVER = "queue-world.skewed-take-over":
            "a reclaim took a lease its holder's own clock said was still running (the reclaimer's clock ran ahead): only the owner fence stops the holder now";
        SKEWED_EARLY_CLAIM = "queue-world.skewed-early-claim":
            "a job was claimed before it was due on the reference clock, on time on the claimer's own (its clock ran ahead of the producer's)";
        REPLACED_WHILE_PAUSED = "queue-world.replaced-while-paused":
            "a worker's supervisor gave up on a paused worker and started a replacement under the same name while the old one lived on";
        STATEMENT_FAILED = "queue-world.statement-failed":
            "a statement failed with SQLITE_IOERR or SQLITE_FULL instead of running";
        BUSY_PAST_BUDGET = "queue-world.busy-past-budget":
            "a statement met SQLITE_BUSY for longer than the busy timeout: the queue had to give up";
        COMMIT_FAILED = "queue-world.commit-failed":
            "a commit failed and rolled its transaction back";
    }

    /// The crash probe of the migration to schema `version` (1-based), if there is one.
    pub fn crash_in_migration_to(version: i64) -> Option<&'static alarmsim_scheduler::probe::Probe> {
        match version {
            1 => Some(&CRASH_IN_MIGRATION_TO_V1),
            2 => Some(&CRASH_IN_MIGRATION_TO_V2),
            3 => Some(&CRASH_IN_MIGRATION_TO_V3),
            4 => Some(&CRASH_IN_MIGRATION_TO_V4),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_migration_has_its_crash_probe() {
        let latest = alarmsim_scheduler::queue::schema::LATEST;
        for version in 1..=latest {
            assert!(super::queue::crash_in_migration_to(version).is_some(), "schema v{version} needs a crash probe (probes.rs)");
        }
        assert!(super::queue::crash_in_migration_to(latest + 1).is_none());
    }

    #[test]
    fn world_probes_are_named_after_their_world() {
        for probe in super::alarms::ALL {
            alarmsim_scheduler::probe::check_name(probe.name).unwrap();
            assert!(probe.name.starts_with("world."), "{}", probe.name);
        }
        for probe in super::queue::ALL {
            alarmsim_scheduler::probe::check_name(probe.name).unwrap();
            assert!(probe.name.starts_with("queue-world."), "{}", probe.name);
        }
    }
}
