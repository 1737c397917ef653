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
/// - `report` numbers the values attached to handler outcomes and abandon answers since
///   command `seq` (0 for the command itself): they are computed after it was issued, so
///   they rank above it, and each later report ranks above the earlier ones (two reports
///   between the same commands may carry different values; the newer must win).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Fence {
    pub incarnation: u64,
    pub seq: u64,
    pub report: u32,
}

impl Fence {
    pub fn command(incarnation: u64, seq: u64) -> Fence {
        Fence { incarnation, seq, report: 0 }
    }

    /// The first report after command `seq`.
    pub fn report(incarnation: u64, seq: u64) -> Fence {
        Fence::nth_report(incarnation, seq, 1)
    }

    /// The `n`-th report after command `seq` (`n ≥ 1`).
    pub fn nth_report(incarnation: u64, seq: u64, n: u32) -> Fence {
        assert!(n >= 1, "report numbers start at 1");
        Fence { incarnation, seq, report: n }
    }
}

impl std::fmt::Display for Fence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.report {
            0 => write!(f, "{}.{}", self.incarnation, self.seq),
            n => write!(f, "{}.{}r{}", self.incarnation, self.seq, n),
        }
    }
}
