//! What a run records besides its verdict: the trace's text, and the coverage probes it
//! reached. Neither changes what the run does (the same seed gives the same events, the same
//! violation and the same fingerprint either way; `tests/determinism.rs` and
//! `tests/coverage.rs` hold it to that).

/// How much a run records.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// Keep every event's text (replays, failure reports); sweeps run untraced.
    pub keep_trace: bool,
    /// Count the coverage probes the scheduler, the queue and the world reach
    /// (`alarmsim_scheduler::probe`, `crate::probes`); off, each report is one branch.
    pub coverage: bool,
}

impl RunOptions {
    pub const UNTRACED: RunOptions = RunOptions { keep_trace: false, coverage: false };

    /// This, with coverage on.
    pub fn with_coverage(self) -> RunOptions {
        RunOptions { coverage: true, ..self }
    }
}

/// `true`/`false` is `keep_trace`, as the functions that take options always took it.
impl From<bool> for RunOptions {
    fn from(keep_trace: bool) -> RunOptions {
        RunOptions { keep_trace, coverage: false }
    }
}
