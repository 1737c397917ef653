//! The job-queue processes' clocks (issue 13 item 3). Each process reads its own skewed clock
//! (`SimDb::statement` returns it), so every time a queue stores (a due time, a lease end, a
//! retry time) is on the clock of the process that wrote it. The checker judges on the
//! reference clock (the shared simulated time) and converts through these: a decision is
//! wrong only if it was wrong on the clock of the process that made it, and a report names
//! the clocks that were off.

use crate::clock::Skew;

pub struct ProcessClocks {
    /// Per process, as the world numbers them (producers, then workers).
    skews: Vec<Skew>,
    names: Vec<String>,
}

impl ProcessClocks {
    /// `clocks` as `FaultProfile::process_clocks` holds them: empty for perfect clocks, or one
    /// per process.
    pub fn new(clocks: &[(i64, i64)], names: Vec<String>) -> ProcessClocks {
        assert!(clocks.is_empty() || clocks.len() == names.len(), "one clock per process (plan_check.rs)");
        let skews = if clocks.is_empty() { vec![Skew::default(); names.len()] } else { clocks.iter().map(|&c| Skew::new(c)).collect() };
        ProcessClocks { skews, names }
    }

    /// Perfect clocks for `processes` unnamed processes (unit tests).
    pub fn perfect(processes: usize) -> ProcessClocks {
        ProcessClocks::new(&[], (0..processes).map(|p| format!("process-{p}")).collect())
    }

    /// Adds a process with the name and clock of `like` (a replacement started under its
    /// name, on its machine).
    pub fn add_like(&mut self, like: usize) {
        self.skews.push(self.skews[like]);
        self.names.push(self.names[like].clone());
    }

    pub fn skewed(&self) -> bool {
        self.skews.iter().any(|s| !s.is_perfect())
    }

    /// What `process`'s clock read at reference time `at_ms` (never before the start:
    /// offsets are ≥ 0 and drift at most 10 %).
    pub fn local(&self, process: usize, at_ms: u64) -> u64 {
        self.skews[process].read(at_ms).max(0) as u64
    }

    /// The reference time at which `process`'s clock read `local_ms`.
    pub fn reference(&self, process: usize, local_ms: u64) -> u64 {
        self.skews[process].shared_for(local_ms as i64)
    }

    pub fn name(&self, process: usize) -> &str {
        &self.names[process]
    }

    /// `+812ms/+40ppm`.
    pub fn describe(&self, process: usize) -> String {
        self.skews[process].describe()
    }

    /// ` (worker-1's clock, +812ms/+40ppm, read 5812ms)`, or nothing when no clock is skewed:
    /// for a report that names the time a process acted at (`local_ms`, on its clock).
    pub fn read_note(&self, process: usize, local_ms: u64) -> String {
        if !self.skewed() {
            return String::new();
        }
        format!(" ({}'s clock, {}, read {local_ms}ms)", self.names[process], self.skews[process].describe())
    }

    /// ` on worker-1's clock (+812ms/+40ppm)`, or nothing when no clock is skewed (or the time
    /// is on no process's clock): for a report that names a stored time.
    pub fn on_note(&self, process: Option<usize>) -> String {
        match process {
            Some(p) if self.skewed() => format!(" on {}'s clock ({})", self.names[p], self.skews[p].describe()),
            None if self.skewed() => " on the reference clock".to_string(),
            _ => String::new(),
        }
    }
}
