//! The SQLite work a run did, counted.
//!
//! The bench (`alarmsim bench`) compares the world with a bare madsim timer loop. Part of the
//! gap is work the issue requires and the bare loop does not do: a real SQLite transaction
//! per actor commit and per manager row, loads and sync images. The bench prints these counts
//! per seed next to the ratio (docs/PERFORMANCE.md).

use serde::Serialize;

/// Store operations of one run (or a sum of runs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StoreWork {
    /// Actor commits (one transaction each).
    pub commits: u64,
    /// Key-value rows written or deleted by those commits.
    pub kv_rows: u64,
    /// Actor loads (a restarting actor reads its store).
    pub loads: u64,
    /// Incarnation bumps (one write each).
    pub bumps: u64,
    /// Sync images taken (`sqlite3_serialize`).
    pub images: u64,
    /// Power-loss rollbacks (`sqlite3_deserialize`).
    pub rollbacks: u64,
    /// Manager rows written to `metadata.sqlite`.
    pub rows: u64,
    /// Manager restarts that read `metadata.sqlite`.
    pub row_loads: u64,
}

impl StoreWork {
    pub fn add(&mut self, other: &StoreWork) {
        self.commits += other.commits;
        self.kv_rows += other.kv_rows;
        self.loads += other.loads;
        self.bumps += other.bumps;
        self.images += other.images;
        self.rollbacks += other.rollbacks;
        self.rows += other.rows;
        self.row_loads += other.row_loads;
    }
}
