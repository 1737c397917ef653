//! The job queue's invariants. The world reports what processes observed (acks, claims,
//! completions, failures, reclaims, crashes, syncs, power losses); the checker keeps its own
//! model of what must be durable and answers with a [`Violation`].
//!
//! The model has two halves. Facts that live in the database (acknowledged jobs, claims per
//! job, due times, terminal states) are kept as `Durable` and snapshotted at every sync, so a
//! power loss under NORMAL rolls the model back exactly as the disk rolls back. Facts about
//! running processes (who holds which claim) die with the processes.

use crate::checker::Violation;
use crate::scenario::Invariant;
use alarmsim_scheduler::queue::inspect::Contents;
use alarmsim_scheduler::queue::{retry_delay_ms, status, ClaimedJob, FailOutcome, QueueConfig, Reclaimed};
use alarmsim_scheduler::Durability;
use std::collections::{BTreeMap, BTreeSet};

/// How a job ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Terminal {
    Done,
    Dead,
}

#[derive(Clone, Debug, Default)]
struct Durable {
    /// Jobs whose enqueue was acknowledged (or that a previous release left in the database).
    acked: BTreeSet<String>,
    /// Committed claims per job.
    claims: BTreeMap<String, u32>,
    /// The earliest time each job may be claimed.
    due: BTreeMap<String, u64>,
    terminal: BTreeMap<String, Terminal>,
    /// When each job reached its terminal state (a take-over that began before it is a race).
    terminal_at: BTreeMap<String, u64>,
    /// The highest attempt number counted per job (by a failure or a reclaim): the same
    /// attempt must never be counted twice, nor the job requeued twice for it.
    counted: BTreeMap<String, u32>,
}

/// A live claim: a running process holds the job.
#[derive(Clone, Debug)]
struct Holder {
    owner: String,
    process: usize,
    lease_until: u64,
    /// Its lease expired and someone else took the job over: it must be fenced.
    stale: bool,
}

pub struct QueueChecker {
    config: QueueConfig,
    durability: Durability,
    durable: Durable,
    synced: Durable,
    holders: BTreeMap<String, Vec<Holder>>,
}

fn violation(invariant: Invariant, at_ms: u64, job: &str, message: String) -> Violation {
    Violation { invariant, actor: Some(job.to_string()), at_ms, message }
}

impl QueueChecker {
    pub fn new(config: QueueConfig, durability: Durability) -> QueueChecker {
        QueueChecker { config, durability, durable: Durable::default(), synced: Durable::default(), holders: BTreeMap::new() }
    }

    /// A job a previous release left in the database (durable from the start).
    pub fn legacy(&mut self, id: &str, due_ms: u64) {
        self.durable.acked.insert(id.to_string());
        self.durable.due.insert(id.to_string(), due_ms);
        self.synced = self.durable.clone();
    }

    /// The disk took a sync image: everything committed so far survives a power loss.
    pub fn synced(&mut self) {
        self.synced = self.durable.clone();
    }

    pub fn acked(&mut self, id: &str, scheduled_for_ms: u64) {
        self.durable.acked.insert(id.to_string());
        self.durable.due.insert(id.to_string(), scheduled_for_ms);
    }

    /// Acknowledged jobs that have not reached a terminal state.
    pub fn pending(&self) -> Vec<String> {
        self.durable.acked.iter().filter(|id| !self.durable.terminal.contains_key(*id)).cloned().collect()
    }

    pub fn terminal(&self, id: &str) -> Option<Terminal> {
        self.durable.terminal.get(id).copied()
    }

    /// A claim committed.
    pub fn claimed(&mut self, now: u64, process: usize, job: &ClaimedJob) -> Result<(), Violation> {
        let id = job.id.to_string();
        if let Some(t) = self.durable.terminal.get(&id) {
            return Err(violation(Invariant::ExactlyOneTerminal, now, &id, format!("{} claimed the job after it reached {t:?}", job.owner)));
        }
        self.take_over(now, &id, &format!("{} claimed the job", job.owner))?;
        let claims_before = self.durable.claims.get(&id).copied().unwrap_or(0);
        if job.attempts != claims_before {
            return Err(violation(
                Invariant::RetryCounts,
                now,
                &id,
                format!("the queue records {} earlier attempts but the job was claimed {claims_before} times before", job.attempts),
            ));
        }
        if let Some(&due) = self.durable.due.get(&id) {
            if now < due {
                return Err(violation(Invariant::NeverEarly, now, &id, format!("{} claimed the job at t={now}ms, before it was due at t={due}ms", job.owner)));
            }
        }
        self.durable.claims.insert(id.clone(), claims_before + 1);
        self.holders.entry(id).or_default().push(Holder { owner: job.owner.clone(), process, lease_until: job.lease_until_ms, stale: false });
        Ok(())
    }

    /// Someone takes job `id` away from its live holders, beginning at `began` (the read that
    /// decided it): allowed only if every holder's lease had ended by then, and from then on
    /// each of them is stale (it must be fenced). Returns the processes made stale.
    fn take_over(&mut self, began: u64, id: &str, what: &str) -> Result<Vec<usize>, Violation> {
        let mut stale = Vec::new();
        for holder in self.holders.entry(id.to_string()).or_default().iter_mut() {
            if holder.lease_until > began {
                return Err(violation(
                    Invariant::ExclusiveClaims,
                    began,
                    id,
                    format!("{what} (deciding at t={began}ms) while {} still held it (lease until t={}ms)", holder.owner, holder.lease_until),
                ));
            }
            holder.stale = true;
            stale.push(holder.process);
        }
        Ok(stale)
    }

    /// Whether `job`'s claim is stale: its lease expired and another claim took the job.
    pub fn is_stale(&self, job: &ClaimedJob) -> bool {
        self.holders.get(&job.id.to_string()).is_some_and(|hs| hs.iter().any(|h| h.owner == job.owner && h.stale))
    }

    /// Whether `process` holds a claim now.
    pub fn holds_a_claim(&self, process: usize) -> bool {
        self.holders.values().flatten().any(|h| h.process == process)
    }

    /// The holder of `owner`'s claim finished (accepted or fenced); returns it if it was stale.
    fn release(&mut self, id: &str, owner: &str) -> Option<bool> {
        let holders = self.holders.get_mut(id)?;
        let index = holders.iter().position(|h| h.owner == owner)?;
        Some(holders.remove(index).stale)
    }

    /// `complete` or `fail` was accepted for `job`.
    fn accepted(&mut self, now: u64, job: &ClaimedJob, what: &str) -> Result<(), Violation> {
        let id = job.id.to_string();
        if self.release(&id, &job.owner) == Some(true) {
            return Err(violation(
                Invariant::ExclusiveClaims,
                now,
                &id,
                format!("the stale owner {} was allowed to {what} after its lease expired and the job was reclaimed (not fenced)", job.owner),
            ));
        }
        Ok(())
    }

    fn reach(&mut self, now: u64, id: &str, terminal: Terminal, by: &str) -> Result<(), Violation> {
        if let Some(before) = self.durable.terminal.insert(id.to_string(), terminal) {
            return Err(violation(Invariant::ExactlyOneTerminal, now, id, format!("{by} made the job {terminal:?} but it was already {before:?}")));
        }
        self.durable.terminal_at.insert(id.to_string(), now);
        Ok(())
    }

    pub fn completed(&mut self, now: u64, job: &ClaimedJob) -> Result<(), Violation> {
        self.accepted(now, job, "complete")?;
        self.reach(now, &job.id.to_string(), Terminal::Done, &job.owner)
    }

    /// A failed attempt was recorded with `outcome` by an operation that ran from `started` to `now`.
    pub fn failed(&mut self, started: u64, now: u64, job: &ClaimedJob, outcome: FailOutcome) -> Result<(), Violation> {
        self.accepted(now, job, "fail")?;
        self.counted(started, now, &job.id.to_string(), outcome, &job.owner)
    }

    /// A stale owner was rejected: it no longer holds the job.
    pub fn fenced(&mut self, job: &ClaimedJob) {
        self.release(&job.id.to_string(), &job.owner);
    }

    /// A failed or lost attempt was counted with `outcome` by an operation that ran from
    /// `started` to `now`: check the count, and that the retry time is the backoff from some
    /// moment of that operation.
    fn counted(&mut self, started: u64, now: u64, id: &str, outcome: FailOutcome, by: &str) -> Result<(), Violation> {
        let claims = self.durable.claims.get(id).copied().unwrap_or(0);
        let attempts = match outcome {
            FailOutcome::Retry { attempts, .. } | FailOutcome::Dead { attempts } => attempts,
        };
        if let Some(&before) = self.durable.counted.get(id) {
            if attempts <= before {
                return Err(violation(
                    Invariant::RetryCounts,
                    now,
                    id,
                    format!("{by} counted attempt {attempts} again (attempt {before} was already counted): one failed attempt must be counted once and requeue the job once"),
                ));
            }
        }
        self.durable.counted.insert(id.to_string(), attempts);
        match outcome {
            FailOutcome::Retry { at_ms, attempts } => {
                if attempts != claims {
                    return Err(violation(Invariant::RetryCounts, now, id, format!("{by} recorded {attempts} attempts after {claims} claims")));
                }
                if attempts >= self.config.max_attempts {
                    return Err(violation(Invariant::RetrySchedule, now, id, format!("retried after {attempts} attempts; the limit is {}", self.config.max_attempts)));
                }
                let delay = retry_delay_ms(self.config.backoff_base_ms, attempts);
                if at_ms < started + delay || at_ms > now + delay {
                    return Err(violation(
                        Invariant::RetrySchedule,
                        now,
                        id,
                        format!("retry {attempts} set for t={at_ms}ms; the 30s·2^(n-1) backoff says {delay}ms after the failure at t={started}..{now}ms"),
                    ));
                }
                self.durable.due.insert(id.to_string(), at_ms);
                Ok(())
            }
            FailOutcome::Dead { attempts } => {
                if attempts != claims || attempts != self.config.max_attempts {
                    return Err(violation(
                        Invariant::RetryCounts,
                        now,
                        id,
                        format!("dead-lettered after {attempts} recorded attempts, {claims} claims (the limit is {})", self.config.max_attempts),
                    ));
                }
                self.reach(now, id, Terminal::Dead, by)
            }
        }
    }

    /// Expired leases were taken back by an operation that ran from `started` to `now`.
    /// The take-over is judged at the reclaim's read (`Reclaimed::read_at_ms`, held to the
    /// operation's span): the lease must have ended by then, and a job that finished after
    /// it was read, while the reclaim was under way, was finished by a stale owner. Returns
    /// the processes whose claims it made stale.
    pub fn reclaimed(&mut self, started: u64, now: u64, reclaimed: &[Reclaimed]) -> Result<Vec<usize>, Violation> {
        let mut stale = Vec::new();
        for r in reclaimed {
            let id = r.id.to_string();
            let read_at = r.read_at_ms.clamp(started, now);
            if let Some(t) = self.durable.terminal.get(&id) {
                let at = self.durable.terminal_at.get(&id).copied().unwrap_or(0);
                let invariant = if at >= read_at { Invariant::ExclusiveClaims } else { Invariant::ExactlyOneTerminal };
                return Err(violation(
                    invariant,
                    now,
                    &id,
                    format!("a reclaim that read the job's expired lease at t={read_at}ms took it back, but it had become {t:?} at t={at}ms (the reclaim's read and write are not one transaction, or the finish did not fence)"),
                ));
            }
            stale.extend(self.take_over(read_at, &id, "a reclaim took the job back")?);
            self.counted(started, now, &id, r.outcome, "reclaim")?;
        }
        Ok(stale)
    }

    /// A process died: its claims are no longer live (their leases will expire).
    pub fn process_died(&mut self, process: usize) {
        for holders in self.holders.values_mut() {
            holders.retain(|h| h.process != process);
        }
    }

    /// Every process died in a power loss and the disk was rolled back (`rolled_back`) or not.
    pub fn power_loss(&mut self, rolled_back: bool) {
        self.holders.clear();
        if rolled_back {
            self.durable = self.synced.clone();
        }
    }

    /// Every acknowledged job must be in the database. Under NORMAL a job acknowledged after
    /// the last sync may be lost by a power loss only; that case is rolled back by
    /// [`QueueChecker::power_loss`] before this check.
    pub fn check_acked_present(&self, now: u64, contents: &Contents, why: &str) -> Result<(), Violation> {
        for id in &self.durable.acked {
            if !contents.jobs.contains_key(id) && !contents.dead.contains_key(id) {
                let promise = match self.durability {
                    Durability::Full => "synchronous=FULL promises every acknowledged enqueue survives",
                    Durability::Normal => "it was synced (or no power was lost), so it must survive",
                };
                return Err(violation(Invariant::Durability, now, id, format!("an acknowledged enqueue is not in the database (looked after {why}): {promise}")));
            }
        }
        Ok(())
    }

    /// The end: every acknowledged job reached exactly one terminal state, and the database
    /// says the same.
    pub fn final_check(&self, now: u64, contents: &Contents) -> Result<(), Violation> {
        if contents.version != alarmsim_scheduler::queue::schema::LATEST {
            return Err(Violation {
                invariant: Invariant::MigrationSafe,
                actor: None,
                at_ms: now,
                message: format!("the schema ended at version {} (latest is {})", contents.version, alarmsim_scheduler::queue::schema::LATEST),
            });
        }
        for id in &self.durable.acked {
            let row = contents.jobs.get(id);
            let dead = contents.dead.contains_key(id);
            let stored = match (row.map(|r| r.status), dead) {
                (Some(status::DONE), false) => Some(Terminal::Done),
                (None, true) => Some(Terminal::Dead),
                (None, false) => None,
                (Some(s), d) => {
                    if d || s != status::DONE {
                        return Err(violation(Invariant::ExactlyOneTerminal, now, id, format!("at the end the job has status {s} and dead-letter={d}")));
                    }
                    None
                }
            };
            let seen = self.durable.terminal.get(id).copied();
            if stored != seen {
                return Err(violation(Invariant::ExactlyOneTerminal, now, id, format!("the database says {stored:?}, the processes observed {seen:?}")));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alarmsim_scheduler::queue::Ulid;

    const LEASE: u64 = 30_000;

    fn checker() -> QueueChecker {
        QueueChecker::new(QueueConfig::default(), Durability::Full)
    }

    fn job(owner: &str, claimed_at: u64, attempts: u32) -> ClaimedJob {
        ClaimedJob {
            id: Ulid::from_parts(1, 7),
            name: "job-0".into(),
            payload: "{}".into(),
            attempts,
            owner: owner.into(),
            lease_until_ms: claimed_at + LEASE,
            scheduled_for_ms: 0,
        }
    }

    fn reclaim(read_at_ms: u64, at_ms: u64, attempts: u32) -> Reclaimed {
        Reclaimed { id: Ulid::from_parts(1, 7), stale_owner: "w1".into(), outcome: FailOutcome::Retry { at_ms, attempts }, read_at_ms }
    }

    /// A started checker with job 0 acknowledged and claimed by w1 at t=0.
    fn claimed() -> QueueChecker {
        let mut c = checker();
        c.acked(&job("w1", 0, 0).id.to_string(), 0);
        c.claimed(0, 0, &job("w1", 0, 0)).unwrap();
        c
    }

    #[test]
    fn a_reclaim_is_judged_at_its_read_not_at_its_commit() {
        // Read one ms before the lease ended, committed after: the take-over began too early.
        let v = claimed().reclaimed(LEASE - 10, LEASE + 5, &[reclaim(LEASE - 1, LEASE + 5 + 30_000, 1)]).unwrap_err();
        assert_eq!(v.invariant, Invariant::ExclusiveClaims, "{v}");
        // Read at the lease's end: fine.
        claimed().reclaimed(LEASE, LEASE + 5, &[reclaim(LEASE, LEASE + 30_000, 1)]).unwrap();
    }

    #[test]
    fn a_job_finished_while_a_reclaim_was_under_way_is_a_stale_owner_acting() {
        let mut c = claimed();
        // The holder completes at LEASE + 2, between the reclaim's read and its commit.
        c.completed(LEASE + 2, &job("w1", 0, 0)).unwrap();
        let v = c.reclaimed(LEASE, LEASE + 5, &[reclaim(LEASE + 1, LEASE + 30_000, 1)]).unwrap_err();
        assert_eq!(v.invariant, Invariant::ExclusiveClaims, "{v}");
    }

    #[test]
    fn one_attempt_is_counted_once() {
        let mut c = claimed();
        // w1's `fail` counts attempt 1 and requeues the job; the same failure is recorded again
        // (a retried `fail` whose first try did commit), requeueing the job a second time.
        c.failed(10, 10, &job("w1", 0, 0), FailOutcome::Retry { at_ms: 30_010, attempts: 1 }).unwrap();
        let v = c.failed(20, 20, &job("w1", 0, 0), FailOutcome::Retry { at_ms: 30_020, attempts: 1 }).unwrap_err();
        assert_eq!(v.invariant, Invariant::RetryCounts, "{v}");
        assert!(v.message.contains("counted attempt 1 again"), "{v}");
    }
}
