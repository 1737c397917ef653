//! Fences order every value an actor sends to the alarm manager.
//!
//! workerd #5431: a retried "move later" that was already given up on can still land at
//! the manager after a newer `setAlarm`, and the alarm never fires. kentonv's review notes
//! that cancelling is not enough because a cancelled request may still apply. A fence
//! makes a stale message harmless: the manager applies a value only if its fence is newer
//! than the last one it applied for that actor (and persists the fence with the row).

use serde::{Deserialize, Serialize};

/// `(incarnation, seq, report)`, compared lexicographically.
///
/// - `incarnation` grows each time the actor is (re)started, so anything an older
///   incarnation sent is older than anything the new one sends.
/// - `seq` grows with each schedule command of one incarnation (I3: commands are issued
///   in order and at most one is in flight).
/// - `report` is 1 for values attached to a handler outcome or an abandon answer: they are
///   computed after command `seq` was issued, so they rank just above it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Fence {
    pub incarnation: u64,
    pub seq: u64,
    pub report: u8,
}

impl Fence {
    pub fn command(incarnation: u64, seq: u64) -> Fence {
        Fence { incarnation, seq, report: 0 }
    }

    pub fn report(incarnation: u64, seq: u64) -> Fence {
        Fence { incarnation, seq, report: 1 }
    }
}

impl std::fmt::Display for Fence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}{}", self.incarnation, self.seq, if self.report == 1 { "r" } else { "" })
    }
}
