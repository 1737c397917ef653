//! A trace in the formats people look at: Chrome trace-event JSON for the Perfetto UI
//! ([`perfetto`]) and a self-contained HTML timeline ([`timeline`]). Both draw the same
//! [`tracks`] model and work for any gauge names, so another simulated system's trace (a job
//! queue with `scheduled_for`, `lease_until`) renders without changes here.
//!
//! Both outputs are pure functions of the trace and the [`RunInfo`]: deterministic bytes.

pub mod perfetto;
pub mod timeline;
pub mod tracks;

use crate::checker::Violation;
use crate::report::RunReport;
use serde::Serialize;

/// What the exporters show besides the trace: a title and the violation to highlight.
#[derive(Clone, Debug, Default)]
pub struct RunInfo {
    pub title: String,
    pub violation: Option<Highlight>,
}

/// The violation to highlight: which invariant broke, on which track, when, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Highlight {
    pub invariant: String,
    /// The track (actor) it concerns, if any.
    pub track: Option<String>,
    /// Simulated ms since the start.
    pub at_ms: u64,
    pub message: String,
}

impl From<&Violation> for Highlight {
    fn from(v: &Violation) -> Highlight {
        Highlight { invariant: v.invariant.to_string(), track: v.actor.clone(), at_ms: v.at_ms, message: v.to_string() }
    }
}

impl From<&RunReport> for RunInfo {
    fn from(report: &RunReport) -> RunInfo {
        RunInfo {
            title: format!("{} / {} / seed {}", report.scenario, report.variant, report.seed),
            violation: report.violation.as_ref().map(Highlight::from),
        }
    }
}
