//! The per-actor command channel to the alarm manager (I3, PR #6383, workerd #5431).
//!
//! At most one schedule command is in flight and at most one waits behind it, so the
//! manager sees commands in issue order and a slow manager cannot build an unbounded
//! chain (B4). A queued move-later is "parked": the latest parked value wins, and a
//! move-earlier replaces it (B5).

use crate::fence::Fence;
use crate::ids::{ArmId, CallId};
use crate::probe::{channel as probe, Probes};
use crate::time::AlarmTime;

/// Who is waiting for a command to complete.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Waiter {
    /// The pending commit's precommit scheduling (move earlier, transition 1).
    PendingCommit,
    /// An `armAlarmHandler` Cancel that must wait for the reschedule (transition 3).
    Arm(ArmId),
}

/// A command that has been handed to the link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InFlight {
    pub call: CallId,
    pub time: AlarmTime,
    pub fence: Fence,
    pub waiters: Vec<Waiter>,
}

/// A command waiting for the in-flight one. With no waiters it is a parked move-later.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Queued {
    pub time: AlarmTime,
    pub waiters: Vec<Waiter>,
}

/// The channel itself. `Option`s make the bound (1 in flight + 1 queued) structural.
#[derive(Debug, Default)]
pub struct ManagerChannel {
    in_flight: Option<InFlight>,
    queued: Option<Queued>,
    incarnation: u64,
    next_seq: u64,
    /// Reports handed out since command `next_seq` was issued.
    reports: u32,
    next_call: u64,
    /// Where the probes of `probe/channel.rs` are reported.
    probes: Probes,
}

impl ManagerChannel {
    pub fn new(incarnation: u64) -> ManagerChannel {
        ManagerChannel::with_probes(incarnation, Probes::off())
    }

    /// [`ManagerChannel::new`], reporting coverage probes to `probes`.
    pub fn with_probes(incarnation: u64, probes: Probes) -> ManagerChannel {
        ManagerChannel { incarnation, probes, ..ManagerChannel::default() }
    }

    pub fn in_flight(&self) -> Option<&InFlight> {
        self.in_flight.as_ref()
    }

    pub fn queued(&self) -> Option<&Queued> {
        self.queued.as_ref()
    }

    /// The fence of the newest command or report handed out so far.
    pub fn latest_fence(&self) -> Fence {
        Fence { incarnation: self.incarnation, seq: self.next_seq, report: self.reports }
    }

    /// A fence for a value computed now: it ranks after every command and report so far.
    pub fn next_report_fence(&mut self) -> Fence {
        self.reports += 1;
        self.probes.sometimes(self.reports >= 2, &probe::SECOND_REPORT_FENCE);
        Fence::nth_report(self.incarnation, self.next_seq, self.reports)
    }

    /// Offers a value to the manager. Returns the command to send now, if the channel is idle.
    /// A queued value is replaced (latest state wins) and its waiters are kept.
    pub fn submit(&mut self, time: AlarmTime, waiter: Option<Waiter>) -> Option<InFlight> {
        let replaced = self.queued.take();
        self.probes.sometimes(replaced.is_some(), &probe::QUEUED_REPLACED);
        let mut waiters = replaced.map(|q| q.waiters).unwrap_or_default();
        waiters.extend(waiter);
        if self.in_flight.is_some() {
            self.probes.hit(&probe::QUEUED);
            self.queued = Some(Queued { time, waiters });
            return None;
        }
        Some(self.issue(time, waiters))
    }

    /// Drops a parked move-later (a queued value nobody waits for). Precommit scheduling
    /// does this before a move-earlier (B5: the drained parked time must not race it).
    /// Returns whether there was one.
    pub fn drop_parked(&mut self) -> bool {
        let parked = self.queued.as_ref().is_some_and(|q| q.waiters.is_empty());
        if parked {
            self.probes.hit(&probe::PARKED_DROPPED);
            self.queued = None;
        }
        parked
    }

    /// Completes the in-flight command. Returns it and the next command to send, if any.
    pub fn complete(&mut self, call: CallId) -> Option<(InFlight, Option<InFlight>)> {
        if self.in_flight.as_ref().map(|f| f.call) != Some(call) {
            self.probes.hit(&probe::STALE_COMPLETION);
            return None; // A stale or duplicated completion: the link reported it already.
        }
        let done = self.in_flight.take().expect("checked above");
        let next = self.queued.take().map(|q| self.issue(q.time, q.waiters));
        Some((done, next))
    }

    /// Forgets everything (the actor broke and will be reloaded).
    pub fn clear(&mut self) -> Vec<Waiter> {
        let mut waiters = Vec::new();
        waiters.extend(self.in_flight.take().into_iter().flat_map(|f| f.waiters));
        waiters.extend(self.queued.take().into_iter().flat_map(|q| q.waiters));
        self.probes.sometimes(!waiters.is_empty(), &probe::CLEARED_WITH_WAITERS);
        waiters
    }

    fn issue(&mut self, time: AlarmTime, waiters: Vec<Waiter>) -> InFlight {
        assert!(self.in_flight.is_none(), "I3: at most one schedule command in flight");
        self.next_seq += 1;
        self.reports = 0;
        self.next_call += 1;
        let sent = InFlight {
            call: CallId(self.next_call),
            time,
            fence: Fence::command(self.incarnation, self.next_seq),
            waiters,
        };
        self.in_flight = Some(sent.clone());
        sent
    }
}
