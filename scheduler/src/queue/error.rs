//! Typed errors of the job queue.

/// Why a queue operation failed.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("job queue: {op} failed: {source}")]
    Sql {
        op: &'static str,
        #[source]
        source: rusqlite::Error,
    },
    #[error("job queue: {op} gave up after {attempts} busy retries (another process holds the write lock)")]
    Busy { op: &'static str, attempts: u32 },
    /// The claim no longer holds: the lease expired and another owner took the job, or the
    /// job already finished (underway-style fencing).
    #[error("job {id}: the claim of {owner} no longer holds (its lease expired and the job was reclaimed, or it already finished)")]
    Fenced { id: String, owner: String },
    #[error("job queue schema version {found} is newer than this build supports (at most {latest}); upgrade alarmsim or use another database")]
    SchemaTooNew { found: i64, latest: i64 },
    #[error("job queue: row {id} is unreadable: {detail}")]
    Corrupt { id: String, detail: String },
}

impl QueueError {
    pub fn is_fenced(&self) -> bool {
        matches!(self, QueueError::Fenced { .. })
    }

    /// The label of the statement that failed, if a statement did.
    pub fn statement(&self) -> Option<&'static str> {
        match self {
            QueueError::Sql { op, .. } | QueueError::Busy { op, .. } => Some(op),
            QueueError::Fenced { .. } | QueueError::SchemaTooNew { .. } | QueueError::Corrupt { .. } => None,
        }
    }
}
