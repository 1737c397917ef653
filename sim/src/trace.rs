//! The trace: every event of a run, in order, with ms-rounded simulated time relative to the
//! start. Alarm times are shown relative to the same origin, so traces are readable and
//! identical across runs of the same seed (and snapshot-stable).

use serde::Serialize;

/// One traced event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TraceEvent {
    /// Simulated ms since the start of the run.
    pub t: u64,
    /// `client-N`, `host-N`, `manager` or `world`.
    pub node: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// What happened, as a short human-readable phrase with its values.
    pub what: String,
}

impl TraceEvent {
    /// The compact one-line form used in failure reports and snapshots.
    pub fn line(&self) -> String {
        match &self.actor {
            Some(actor) => format!("{:>9} {:<9} {:<4} {}", self.t, self.node, actor, self.what),
            None => format!("{:>9} {:<9} {:<4} {}", self.t, self.node, "", self.what),
        }
    }
}

/// All events of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Trace {
    pub events: Vec<TraceEvent>,
}

impl Trace {
    pub fn push(&mut self, event: TraceEvent) {
        self.events.push(event);
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// JSON lines: one serde-serialized event per line.
    pub fn to_jsonl(&self) -> String {
        let mut out = String::new();
        for event in &self.events {
            out.push_str(&serde_json::to_string(event).expect("trace events serialize"));
            out.push('\n');
        }
        out
    }

    /// The compact text form.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for event in &self.events {
            out.push_str(&event.line());
            out.push('\n');
        }
        out
    }

    /// The last `n` events, compact.
    pub fn tail(&self, n: usize) -> String {
        let start = self.events.len().saturating_sub(n);
        let mut out = String::new();
        for event in &self.events[start..] {
            out.push_str(&event.line());
            out.push('\n');
        }
        out
    }
}
