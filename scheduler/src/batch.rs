//! The unit of durability: everything one durable commit writes.

use crate::time::AlarmTime;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What one commit makes durable. R6: the alarm shares the commit with the KV writes
/// made alongside it, so one batch carries both and the backend applies it atomically.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitBatch {
    /// `deleteAll()` ran first (R7): drop every KV row before applying `kv`.
    pub clear_kv: bool,
    /// Key writes in key order; `None` deletes the key.
    pub kv: BTreeMap<String, Option<Vec<u8>>>,
    /// The actor's alarm after this commit (the whole value: it is one row).
    pub alarm: AlarmTime,
}

impl CommitBatch {
    /// Folds a later batch into this one, as workerd's `pendingCommit` merges commits.
    pub fn merge(&mut self, later: CommitBatch) {
        if later.clear_kv {
            self.clear_kv = true;
            self.kv.clear();
        }
        self.kv.extend(later.kv);
        self.alarm = later.alarm;
    }
}
