//! The job queue's invariants. The world reports what processes observed (acks, claims,
//! completions, failures, reclaims, crashes, syncs, power losses); the checker keeps its own
//! model of what must be durable and answers with a [`Violation`].
//!
//! The model has two halves. Facts that live in the database (acknowledged jobs, claims per
//! job, due times, terminal states) are kept as `Durable` and snapshotted at every sync, so a
//! power loss under NORMAL rolls the model back exactly as the disk rolls back. Facts about
//! running processes (who holds which claim) die with the processes.
//!
//! Times: `now`, `started` and `at_ms` arguments are reference times (the shared simulated
//! clock). Times the queue stored (due times, lease ends, retry times, a reclaim's read) are
//! on the clock of the process that wrote them (issue 13 item 3), so each judgment converts
//! through [`ProcessClocks`]: a claim is early, a take-over premature, a retry mis-timed only
//! if it was so on the clock of the process that decided it. Skew alone is no violation (a
//! correct queue claims "early" on the reference clock when its clock runs ahead); a
//! violation's message names the clocks that were off.

use super::clocks::ProcessClocks;
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
    due: BTreeMap<String, Due>,
    terminal: BTreeMap<String, Terminal>,
    /// When each job reached its terminal state (a take-over that began before it is a race).
    terminal_at: BTreeMap<String, u64>,
    /// The highest attempt number counted per job (by a failure or a reclaim): the same
    /// attempt must never be counted twice, nor the job requeued twice for it.
    counted: BTreeMap<String, u32>,
    /// Since when (reference ms) each job the model knows to be queued has been queued: its
    /// acknowledgement, or the failure or reclaim that requeued it. A claim that began after
    /// this saw the job waiting (`passed_over`).
    queued_at: BTreeMap<String, u64>,
}

/// A due time as stored, and the process on whose clock it is (none: a previous release's).
#[derive(Clone, Copy, Debug)]
struct Due {
    ms: u64,
    by: Option<usize>,
}

/// A live claim: a running process holds the job.
#[derive(Clone, Debug)]
struct Holder {
    /// The world's number for the claim. Owner strings may repeat (a worker's concurrent
    /// claims and its restarts share its name when owners are per name), so the checker
    /// tells claims apart by this, not by the owner.
    claim: u64,
    owner: String,
    process: usize,
    /// On the holder's clock.
    lease_until: u64,
    /// Its lease expired and someone else took the job over: it must be fenced.
    stale: bool,
    /// The process that took it over, and when (reference ms): for the report.
    taken: Option<(usize, u64)>,
}

pub struct QueueChecker {
    config: QueueConfig,
    durability: Durability,
    durable: Durable,
    synced: Durable,
    holders: BTreeMap<String, Vec<Holder>>,
    clocks: ProcessClocks,
    /// How the queue weakened a FULL disk, if it did (`QueueChecker::weakened`).
    weakened: Option<String>,
}

/// A claim a take-over made stale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MadeStale {
    pub process: usize,
    /// The holder's own clock still said its lease ran (only skew makes this happen to a
    /// correct queue: the taker's clock ran ahead of the holder's).
    pub lease_running_on_its_clock: bool,
}

fn violation(invariant: Invariant, at_ms: u64, job: &str, message: String) -> Violation {
    Violation { invariant, actor: Some(job.to_string()), at_ms, message }
}

impl QueueChecker {
    pub fn new(config: QueueConfig, durability: Durability, clocks: ProcessClocks) -> QueueChecker {
        QueueChecker { config, durability, durable: Durable::default(), synced: Durable::default(), holders: BTreeMap::new(), clocks, weakened: None }
    }

    /// The queue weakened a FULL disk (`why` says how): a power loss that takes commits back
    /// is then its fault, and the report says so.
    pub fn weakened(&mut self, why: String) {
        self.weakened.get_or_insert(why);
    }

    /// The processes' clocks the checker judges through.
    pub fn clocks(&self) -> &ProcessClocks {
        &self.clocks
    }

    /// A process was added, a replacement of `like` under its name, on its clock.
    pub fn process_added(&mut self, like: usize) {
        self.clocks.add_like(like);
    }

    /// A job a previous release left in the database (durable from the start).
    pub fn legacy(&mut self, id: &str, due_ms: u64) {
        self.durable.acked.insert(id.to_string());
        self.durable.due.insert(id.to_string(), Due { ms: due_ms, by: None });
        self.durable.queued_at.insert(id.to_string(), 0);
        self.synced = self.durable.clone();
    }

    /// The disk took a sync image: everything committed so far survives a power loss.
    pub fn synced(&mut self) {
        self.synced = self.durable.clone();
    }

    /// Producer `process` had job `id` acknowledged at `now`, due at `scheduled_for_ms` on its clock.
    pub fn acked(&mut self, now: u64, process: usize, id: &str, scheduled_for_ms: u64) {
        self.durable.acked.insert(id.to_string());
        self.durable.due.insert(id.to_string(), Due { ms: scheduled_for_ms, by: Some(process) });
        self.durable.queued_at.insert(id.to_string(), now);
    }

    /// Job `id`'s due time as stored (on the clock of the process that stored it).
    pub fn due_stored(&self, id: &str) -> Option<u64> {
        self.durable.due.get(id).map(|due| due.ms)
    }

    /// When job `id` is due, on the reference clock (for the timeline).
    pub fn due_reference(&self, id: &str) -> Option<u64> {
        let due = self.durable.due.get(id)?;
        Some(due.by.map_or(due.ms, |p| self.clocks.reference(p, due.ms)))
    }

    /// Acknowledged jobs that have not reached a terminal state.
    pub fn pending(&self) -> Vec<String> {
        self.durable.acked.iter().filter(|id| !self.durable.terminal.contains_key(*id)).cloned().collect()
    }

    pub fn terminal(&self, id: &str) -> Option<Terminal> {
        self.durable.terminal.get(id).copied()
    }

    /// Claim number `claim` (the world's, unique per run) of `process` committed; the claim
    /// operation began at `started`.
    pub fn claimed(&mut self, (started, now): (u64, u64), process: usize, claim: u64, job: &ClaimedJob) -> Result<(), Violation> {
        let id = job.id.to_string();
        if let Some(t) = self.durable.terminal.get(&id) {
            return Err(violation(Invariant::ExactlyOneTerminal, now, &id, format!("{} claimed the job after it reached {t:?}", job.owner)));
        }
        self.take_over((now, self.clocks.local(process, now)), process, &id, &format!("{} claimed the job", job.owner))?;
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
            // On the claimer's clock: a correct queue compares the due time with its own now.
            let clock = self.clocks.local(process, now);
            if clock < due.ms {
                let (read, on) = (self.clocks.read_note(process, clock), self.clocks.on_note(due.by));
                return Err(violation(Invariant::NeverEarly, now, &id, format!("{} claimed the job at t={now}ms{read}, before it was due at t={}ms{on}", job.owner, due.ms)));
            }
        }
        self.durable.queued_at.remove(&id);
        self.durable.claims.insert(id.clone(), claims_before + 1);
        self.holders.entry(id.clone()).or_default().push(Holder { claim, owner: job.owner.clone(), process, lease_until: job.lease_until_ms, stale: false, taken: None });
        // Judged once the claim is recorded, so a scenario that does not check these goes on
        // with its model intact. The attempt limit binds every claim, not only failures: a
        // claim that also takes over expired leases must dead-letter the job whose lost
        // attempt was its last.
        if job.attempts >= self.config.max_attempts {
            return Err(violation(
                Invariant::RetrySchedule,
                now,
                &id,
                format!("{} claimed the job for attempt {} after {} recorded attempts; the limit is {}: it should have been dead-lettered", job.owner, job.attempts + 1, job.attempts, self.config.max_attempts),
            ));
        }
        // The lease is exclusivity the queue promises for `lease_ms` from the claim: one
        // that ends sooner lets a reclaim take the job from a holder still inside what it
        // was promised (a lease counted from the due time, or from a time read before the
        // claim began).
        let earliest_end = self.clocks.local(process, started) + self.config.lease_ms;
        if job.lease_until_ms < earliest_end {
            let on = self.clocks.on_note(Some(process));
            return Err(violation(
                Invariant::ExclusiveClaims,
                now,
                &id,
                format!(
                    "{} was given a lease until t={}ms{on}, but a claim that began at t={}ms holds the job for the {}ms lease, until t={earliest_end}ms at the earliest",
                    job.owner,
                    job.lease_until_ms,
                    self.clocks.local(process, started),
                    self.config.lease_ms
                ),
            ));
        }
        Ok(())
    }

    /// `claimer`'s claim of `claimed` (due at `claimed_due`), which began at `started`, passed
    /// over `earlier`: jobs the database holds queued with an earlier due time. A job the
    /// model knows was already waiting when the claim began is one it should have taken
    /// (`JobQueue::claim` takes the earliest due job): a queue that takes them in any other
    /// order lets a job wait behind later ones for ever.
    /// `name` words a job for the report.
    pub fn passed_over(&self, (started, now): (u64, u64), claimer: &str, (claimed, claimed_due): (&str, u64), earlier: &[(String, u64)], name: impl Fn(&str) -> String) -> Result<(), Violation> {
        let waiting = earlier.iter().find(|(id, _)| self.durable.queued_at.get(id).is_some_and(|&since| since < started));
        let Some((id, due)) = waiting else { return Ok(()) };
        let since = self.durable.queued_at[id];
        Err(violation(
            Invariant::ClaimOrder,
            now,
            claimed,
            format!("{claimer} claimed the job (due t={claimed_due}ms) in a claim that began at t={started}ms, while {}, due earlier at t={due}ms, had been queued since t={since}ms: a claim takes the earliest due job", name(id)),
        ))
    }

    /// Process `taker` takes job `id` away from its live holders, beginning at reference time
    /// `began` (the read that decided it), when its clock read `taker_clock`: allowed only if
    /// every holder's lease had ended by then on the taker's clock, and from then on each of
    /// them is stale (it must be fenced). Returns the claims made stale.
    fn take_over(&mut self, (began, taker_clock): (u64, u64), taker: usize, id: &str, what: &str) -> Result<Vec<MadeStale>, Violation> {
        let mut stale = Vec::new();
        for holder in self.holders.entry(id.to_string()).or_default().iter_mut() {
            if holder.lease_until > taker_clock {
                let (read, on) = (self.clocks.read_note(taker, taker_clock), self.clocks.on_note(Some(holder.process)));
                return Err(violation(
                    Invariant::ExclusiveClaims,
                    began,
                    id,
                    format!("{what} (deciding at t={began}ms{read}) while {} still held it (lease until t={}ms{on})", holder.owner, holder.lease_until),
                ));
            }
            holder.stale = true;
            holder.taken = Some((taker, began));
            let lease_running_on_its_clock = holder.lease_until > self.clocks.local(holder.process, began);
            stale.push(MadeStale { process: holder.process, lease_running_on_its_clock });
        }
        Ok(stale)
    }

    /// Whether claim `claim` of `job` is stale: its lease expired and another claim took the job.
    pub fn is_stale(&self, claim: u64, job: &ClaimedJob) -> bool {
        self.holders.get(&job.id.to_string()).is_some_and(|hs| hs.iter().any(|h| h.claim == claim && h.stale))
    }

    /// Whether `process` holds a claim now.
    pub fn holds_a_claim(&self, process: usize) -> bool {
        self.holders.values().flatten().any(|h| h.process == process)
    }

    /// The holder of claim `claim` finished (accepted or fenced).
    fn release(&mut self, id: &str, claim: u64) -> Option<Holder> {
        let holders = self.holders.get_mut(id)?;
        let index = holders.iter().position(|h| h.claim == claim)?;
        Some(holders.remove(index))
    }

    /// `complete` or `fail` of claim `claim` was accepted for `job`.
    fn accepted(&mut self, now: u64, claim: u64, job: &ClaimedJob, what: &str) -> Result<(), Violation> {
        let id = job.id.to_string();
        let Some(holder) = self.release(&id, claim).filter(|h| h.stale) else { return Ok(()) };
        let mut message = format!("the stale owner {} was allowed to {what} after its lease expired and the job was reclaimed (not fenced)", job.owner);
        // Skew: the holder's own clock may still have said its lease ran (issue 13 item 3).
        let holder_clock = self.clocks.local(holder.process, now);
        if let Some((taker, began)) = holder.taken.filter(|_| holder_clock < holder.lease_until) {
            message += &format!(
                "; its own clock ({}, {}) read {holder_clock}ms, inside its lease until {}ms, but {}'s clock ({}) had read {}ms when it took the job at t={began}ms",
                self.clocks.name(holder.process),
                self.clocks.describe(holder.process),
                holder.lease_until,
                self.clocks.name(taker),
                self.clocks.describe(taker),
                self.clocks.local(taker, began),
            );
        }
        Err(violation(Invariant::ExclusiveClaims, now, &id, message))
    }

    fn reach(&mut self, now: u64, id: &str, terminal: Terminal, by: &str) -> Result<(), Violation> {
        if let Some(before) = self.durable.terminal.insert(id.to_string(), terminal) {
            return Err(violation(Invariant::ExactlyOneTerminal, now, id, format!("{by} made the job {terminal:?} but it was already {before:?}")));
        }
        self.durable.terminal_at.insert(id.to_string(), now);
        Ok(())
    }

    pub fn completed(&mut self, now: u64, claim: u64, job: &ClaimedJob) -> Result<(), Violation> {
        self.accepted(now, claim, job, "complete")?;
        self.reach(now, &job.id.to_string(), Terminal::Done, &job.owner)
    }

    /// A failed attempt was recorded with `outcome` by an operation of `process` that ran from
    /// `started` to `now`.
    pub fn failed(&mut self, process: usize, claim: u64, started: u64, now: u64, job: &ClaimedJob, outcome: FailOutcome) -> Result<(), Violation> {
        self.accepted(now, claim, job, "fail")?;
        self.counted(process, started, now, &job.id.to_string(), outcome, &job.owner)
    }

    /// A stale owner was rejected: it no longer holds the job.
    pub fn fenced(&mut self, claim: u64, job: &ClaimedJob) {
        self.release(&job.id.to_string(), claim);
    }

    /// A failed or lost attempt was counted with `outcome` by an operation of `process` that
    /// ran from `started` to `now`: check the count, and that the retry time is the backoff
    /// from some moment of that operation on the process's clock.
    fn counted(&mut self, process: usize, started: u64, now: u64, id: &str, outcome: FailOutcome, by: &str) -> Result<(), Violation> {
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
                let (from, to) = (self.clocks.local(process, started), self.clocks.local(process, now));
                if at_ms < from + delay || at_ms > to + delay {
                    let on = self.clocks.on_note(Some(process));
                    return Err(violation(
                        Invariant::RetrySchedule,
                        now,
                        id,
                        format!("retry {attempts} set for t={at_ms}ms; the 30s·2^(n-1) backoff says {delay}ms after the failure at t={from}..{to}ms{on}"),
                    ));
                }
                self.durable.due.insert(id.to_string(), Due { ms: at_ms, by: Some(process) });
                self.durable.queued_at.insert(id.to_string(), now);
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

    /// Expired leases were taken back by an operation of `process` that ran from `started`
    /// to `now`. The take-over is judged at the reclaim's read (`Reclaimed::read_at_ms`, on
    /// the process's clock, held to the operation's span): the lease must have ended by then,
    /// and a job that finished after it was read, while the reclaim was under way, was
    /// finished by a stale owner. Returns the claims it made stale.
    pub fn reclaimed(&mut self, process: usize, started: u64, now: u64, reclaimed: &[Reclaimed]) -> Result<Vec<MadeStale>, Violation> {
        let mut stale = Vec::new();
        let span = self.clocks.local(process, started)..=self.clocks.local(process, now);
        for r in reclaimed {
            let id = r.id.to_string();
            let read_local = r.read_at_ms.clamp(*span.start(), *span.end());
            let read_at = self.clocks.reference(process, read_local).clamp(started, now);
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
            stale.extend(self.take_over((read_at, read_local), process, &id, "a reclaim took the job back")?);
            self.counted(process, started, now, &id, r.outcome, "reclaim")?;
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
    ///
    /// Under FULL nothing committed may be taken back: a rollback (the queue weakened the
    /// disk's `synchronous`) is a `durability` violation at once, naming an acknowledged
    /// enqueue it lost if there is one (`present` says whether a job is still in the database).
    pub fn power_loss(&mut self, now: u64, rolled_back: bool, present: impl Fn(&str) -> bool) -> Result<(), Violation> {
        self.holders.clear();
        if !rolled_back {
            return Ok(());
        }
        if self.durability == Durability::Normal {
            self.durable = self.synced.clone();
            return Ok(());
        }
        let why = self.weakened.as_deref().map_or_else(String::new, |w| format!(" ({w})"));
        let lost = self.durable.acked.iter().find(|id| !present(id));
        let message = match lost {
            Some(_) => format!("a power loss took back an acknowledged enqueue: synchronous=FULL promises every acknowledged enqueue survives{why}"),
            None => format!("a power loss took back commits (claims, completions or failures) made since the last checkpoint: synchronous=FULL promises every commit survives{why}"),
        };
        Err(Violation { invariant: Invariant::Durability, actor: lost.cloned(), at_ms: now, message })
    }

    /// Every acknowledged job must be in the database. Under NORMAL a job acknowledged after
    /// the last sync may be lost by a power loss only; that case is rolled back by
    /// [`QueueChecker::power_loss`] before this check.
    pub fn check_acked_present(&self, now: u64, present: impl Fn(&str) -> bool, why: &str) -> Result<(), Violation> {
        for id in &self.durable.acked {
            if !present(id) {
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
        QueueChecker::new(QueueConfig::default(), Durability::Full, ProcessClocks::perfect(2))
    }

    /// Process 0 (w1)'s clock is exact; process 1 (w2)'s runs `ahead_ms` ahead.
    fn skewed_checker(ahead_ms: i64) -> QueueChecker {
        QueueChecker::new(QueueConfig::default(), Durability::Full, ProcessClocks::new(&[(0, 0), (ahead_ms, 0)], vec!["w1".into(), "w2".into()]))
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
        c.acked(0, 0, &job("w1", 0, 0).id.to_string(), 0);
        c.claimed((0, 0), 0, 1, &job("w1", 0, 0)).unwrap();
        c
    }

    #[test]
    fn a_reclaim_is_judged_at_its_read_not_at_its_commit() {
        // Read one ms before the lease ended, committed after: the take-over began too early.
        let v = claimed().reclaimed(1, LEASE - 10, LEASE + 5, &[reclaim(LEASE - 1, LEASE + 5 + 30_000, 1)]).unwrap_err();
        assert_eq!(v.invariant, Invariant::ExclusiveClaims, "{v}");
        // Read at the lease's end: fine.
        claimed().reclaimed(1, LEASE, LEASE + 5, &[reclaim(LEASE, LEASE + 30_000, 1)]).unwrap();
    }

    #[test]
    fn a_job_finished_while_a_reclaim_was_under_way_is_a_stale_owner_acting() {
        let mut c = claimed();
        // The holder completes at LEASE + 2, between the reclaim's read and its commit.
        c.completed(LEASE + 2, 1, &job("w1", 0, 0)).unwrap();
        let v = c.reclaimed(1, LEASE, LEASE + 5, &[reclaim(LEASE + 1, LEASE + 30_000, 1)]).unwrap_err();
        assert_eq!(v.invariant, Invariant::ExclusiveClaims, "{v}");
    }

    #[test]
    fn one_attempt_is_counted_once() {
        let mut c = claimed();
        // w1's `fail` counts attempt 1 and requeues the job; the same failure is recorded again
        // (a retried `fail` whose first try did commit), requeueing the job a second time.
        c.failed(0, 1, 10, 10, &job("w1", 0, 0), FailOutcome::Retry { at_ms: 30_010, attempts: 1 }).unwrap();
        let v = c.failed(0, 1, 20, 20, &job("w1", 0, 0), FailOutcome::Retry { at_ms: 30_020, attempts: 1 }).unwrap_err();
        assert_eq!(v.invariant, Invariant::RetryCounts, "{v}");
        assert!(v.message.contains("counted attempt 1 again"), "{v}");
    }

    #[test]
    fn a_reclaim_is_judged_on_the_reclaimers_clock() {
        // w2's clock runs 2 s ahead: at reference LEASE - 2000 it reads LEASE, so its reclaim
        // is on time, and it takes a lease w1's own clock says is still running.
        let mut c = skewed_checker(2_000);
        c.acked(0, 0, &job("w1", 0, 0).id.to_string(), 0);
        c.claimed((0, 0), 0, 1, &job("w1", 0, 0)).unwrap();
        let stale = c.reclaimed(1, LEASE - 2_000, LEASE - 1_990, &[reclaim(LEASE, LEASE + 30_000, 1)]).unwrap();
        assert_eq!(stale, vec![MadeStale { process: 0, lease_running_on_its_clock: true }]);
        // w1, fenced by nothing but its clock, completes: a stale owner acting.
        let v = c.completed(LEASE - 1_000, 1, &job("w1", 0, 0)).unwrap_err();
        assert_eq!(v.invariant, Invariant::ExclusiveClaims, "{v}");
        // A reclaim early on the reclaimer's own clock is the queue's fault, and says whose
        // clock said what.
        let mut c = skewed_checker(2_000);
        c.acked(0, 0, &job("w1", 0, 0).id.to_string(), 0);
        c.claimed((0, 0), 0, 1, &job("w1", 0, 0)).unwrap();
        let v = c.reclaimed(1, LEASE - 3_000, LEASE - 2_990, &[reclaim(LEASE - 1_000, LEASE + 29_000, 1)]).unwrap_err();
        assert_eq!(v.invariant, Invariant::ExclusiveClaims, "{v}");
        assert!(v.message.contains("w2's clock, +2000ms/+0ppm") && v.message.contains("on w1's clock (+0ms/+0ppm)"), "{v}");
    }

    #[test]
    fn a_claim_is_early_only_on_the_claimers_clock() {
        let id = job("w2", 0, 0).id.to_string();
        // Due at 10 s on w1's (producer's) clock; w2's clock reads 10 s at reference 8 s: on time.
        let mut c = skewed_checker(2_000);
        c.acked(0, 0, &id, 10_000);
        assert_eq!(c.due_reference(&id), Some(10_000));
        c.claimed((8_000, 8_000), 1, 2, &job("w2", 10_000, 0)).unwrap();
        // At reference 7 s w2's clock reads 9 s: early on its own clock.
        let mut c = skewed_checker(2_000);
        c.acked(0, 0, &id, 10_000);
        let v = c.claimed((7_000, 7_000), 1, 2, &job("w2", 7_000, 0)).unwrap_err();
        assert_eq!(v.invariant, Invariant::NeverEarly, "{v}");
        assert!(v.message.contains("read 9000ms") && v.message.contains("due at t=10000ms on w1's clock"), "{v}");
    }

    #[test]
    fn a_retry_is_timed_on_the_failing_processs_clock() {
        let mut c = skewed_checker(2_000);
        let id = job("w2", 0, 0).id.to_string();
        c.acked(0, 0, &id, 0);
        c.claimed((0, 0), 1, 2, &job("w2", 2_000, 0)).unwrap();
        // w2 fails at reference 10 s (its clock: 12 s): the retry is 30 s after that, on its clock.
        c.failed(1, 2, 10_000, 10_000, &job("w2", 2_000, 0), FailOutcome::Retry { at_ms: 42_000, attempts: 1 }).unwrap();
        let mut c = skewed_checker(2_000);
        c.acked(0, 0, &id, 0);
        c.claimed((0, 0), 1, 2, &job("w2", 2_000, 0)).unwrap();
        let v = c.failed(1, 2, 10_000, 10_000, &job("w2", 2_000, 0), FailOutcome::Retry { at_ms: 40_000, attempts: 1 }).unwrap_err();
        assert_eq!(v.invariant, Invariant::RetrySchedule, "{v}");
    }

    #[test]
    fn a_claim_past_the_attempt_limit_is_refused_at_the_claim() {
        let mut c = checker();
        let id = job("w1", 0, 0).id.to_string();
        c.acked(0, 0, &id, 0);
        // Five claims, each lost and counted (a claim that takes over expired leases itself).
        for n in 0..5u32 {
            let at = u64::from(n) * 100_000;
            c.claimed((at, at), 0, u64::from(n) + 1, &job("w1", at, n)).unwrap();
            c.process_died(0);
        }
        let v = c.claimed((600_000, 600_000), 0, 6, &job("w1", 600_000, 5)).unwrap_err();
        assert_eq!(v.invariant, Invariant::RetrySchedule, "{v}");
        assert!(v.message.contains("attempt 6") && v.message.contains("the limit is 5"), "{v}");
    }

    #[test]
    fn a_lease_runs_its_length_from_the_claim() {
        let id = job("w1", 0, 0).id.to_string();
        // A claim from t=1000 to t=1200: a lease from any moment of it is whole.
        let mut c = checker();
        c.acked(0, 0, &id, 0);
        c.claimed((1_000, 1_200), 0, 1, &job("w1", 1_000, 0)).unwrap();
        // Counted from the job's due time (t=0): a millisecond short is short.
        let mut c = checker();
        c.acked(0, 0, &id, 0);
        let v = c.claimed((1_000, 1_200), 0, 1, &job("w1", 0, 0)).unwrap_err();
        assert_eq!(v.invariant, Invariant::ExclusiveClaims, "{v}");
        assert!(v.message.contains("until t=31000ms at the earliest"), "{v}");
        // On the claimer's clock: w2 runs 2 s ahead, so its lease from reference 1000 ends at 33000.
        let mut c = skewed_checker(2_000);
        c.acked(0, 0, &id, 0);
        c.claimed((1_000, 1_000), 1, 1, &job("w2", 3_000, 0)).unwrap();
        let mut c = skewed_checker(2_000);
        c.acked(0, 0, &id, 0);
        assert_eq!(c.claimed((1_000, 1_000), 1, 1, &job("w2", 1_000, 0)).unwrap_err().invariant, Invariant::ExclusiveClaims);
    }

    #[test]
    fn a_claim_may_not_pass_over_a_job_that_was_waiting() {
        let mut c = checker();
        let (older, newer) = (Ulid::from_parts(1, 1).to_string(), Ulid::from_parts(1, 2).to_string());
        c.acked(100, 0, &older, 1_000);
        c.acked(200, 0, &newer, 2_000);
        // A claim from t=5000 took the job due at 2000 while the one due at 1000 waited.
        let waiting = [(older.clone(), 1_000)];
        let v = c.passed_over((5_000, 5_010), "w1", (&newer, 2_000), &waiting, str::to_string).unwrap_err();
        assert_eq!(v.invariant, Invariant::ClaimOrder, "{v}");
        assert!(v.message.contains("queued since t=100ms"), "{v}");
        // One enqueued (or requeued) after the claim began may have come after its read.
        c.passed_over((50, 60), "w1", (&newer, 2_000), &waiting, str::to_string).unwrap();
        // One the model never heard of (an enqueue not acknowledged) is not judged.
        c.passed_over((5_000, 5_010), "w1", (&newer, 2_000), &[(Ulid::from_parts(1, 3).to_string(), 500)], str::to_string).unwrap();
    }
}
