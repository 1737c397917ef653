//! What one seed produced: the plan it ran, the violation if any, the trace, and the counts
//! the benchmarks read. Both worlds fill in the same report.

use crate::checker::Violation;
use crate::plan::Plan;
use crate::profile::FaultProfile;
use crate::store_work::StoreWork;
use crate::trace::Trace;
use alarmsim_scheduler::probe::ProbeHits;
use serde::Serialize;

/// Everything one seed produced.
#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    pub scenario: String,
    pub variant: String,
    /// `alarms` or `queue`.
    pub system: &'static str,
    pub seed: u64,
    pub profile: FaultProfile,
    /// The plan the run executed (generated from the seed, or given).
    pub plan: Plan,
    pub violation: Option<Violation>,
    pub trace: Trace,
    /// The skeleton of the trace (every event's time, kind and track), kept by untraced runs
    /// too: what the determinism spot-check compares.
    #[serde(skip)]
    pub fingerprint: crate::fingerprint::Fingerprint,
    /// Events the world handled.
    pub events: u64,
    /// Simulated time at the end of the run.
    pub sim_ms: u64,
    /// The SQLite operations the alarm world did (zero for the queue world, whose SQL runs
    /// inside the queue under test).
    pub store_work: StoreWork,
    /// The coverage probes the run reached and how often (empty unless the run was asked to
    /// count them, `RunOptions::coverage`).
    #[serde(skip_serializing_if = "ProbeHits::is_empty")]
    pub coverage: ProbeHits,
    /// Flags the replay line needs besides scenario, variant and seed, set by the tool that
    /// ran the seed (` --edges off` when a sweep switched the edge-seeking workload off).
    pub replay_flags: String,
}

impl RunReport {
    pub fn passed(&self) -> bool {
        self.violation.is_none()
    }

    /// The profile, in the words of the run's system.
    pub fn profile_text(&self) -> String {
        match self.system {
            "queue" => self.profile.describe_queue(),
            _ => self.profile.describe(),
        }
    }

    /// The one line that replays this run.
    pub fn replay_command(&self) -> String {
        let mut knobs = self.plan.knobs.map(|k| format!(" --knobs {k}")).unwrap_or_default();
        if self.plan.link == crate::scenario::LinkModel::Local {
            knobs.push_str(" --link local");
        }
        format!("cargo run --release -- replay --scenario {} --variant {} --seed {}{knobs}{}", self.scenario, self.variant, self.seed, self.replay_flags)
    }

    /// The failure report: seed, profile, invariant, the events just before, and the replay line.
    pub fn failure_text(&self, tail: usize) -> Option<String> {
        let v = self.violation.as_ref()?;
        let events = self.trace.tail(tail);
        Some(format!(
            "FAILED scenario={} variant={} seed={}\n  invariant: {}\n  {}\n  profile: {}\n  last {} events:\n{}  replay: {}\n",
            self.scenario,
            self.variant,
            self.seed,
            v.invariant,
            v,
            self.profile_text(),
            events.lines().count(),
            indent(&events),
            self.replay_command()
        ))
    }
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}\n")).collect()
}

