//! The trace: every event of a run, in order, with ms-rounded simulated time relative to the
//! start. Alarm times are shown relative to the same origin, so traces are readable and
//! identical across runs of the same seed (and snapshot-stable).
//!
//! Each event also says what kind of thing happened ([`EventKind`]) and, when it belongs to
//! a track (an actor, a job…), the values of that track's gauges right after it: for an alarm
//! actor the durable alarm (`storage`) and the manager's alarm (`manager`). The exporters
//! (`crate::export`) plot every gauge of every track as a step function, whatever it is called,
//! so another simulated system can trace its own gauges (`scheduled_for`, `lease_until`, …).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What an event is, for the exporters' colours, markers and spans.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventKind {
    /// Anything without a kind of its own (run header, quiescence).
    Note,
    /// A client operation.
    Op,
    /// A storage commit shipped, made durable or acknowledged.
    Commit,
    /// A command to the manager sent, applied or answered.
    Command,
    /// The alarm's delivery: a fire, an arm decision, a result, an abandon.
    Fire,
    HandlerStart,
    HandlerEnd,
    Crash,
    PowerLoss,
    /// A node or actor started again (a first start is a `note`).
    Restart,
    /// A fault that struck: a partition, a failed commit, a lost message, a broken gate.
    Fault,
    /// The end of the chaos phase: faults off, every node restarted.
    Heal,
    Violation,
    /// Only a track's gauges moved, with no event of that track to carry them (a manager
    /// restart reloading its rows, say). Left out of the text form, which shows what happened.
    Gauge,
}

impl EventKind {
    pub const ALL: [EventKind; 14] = [
        EventKind::Note,
        EventKind::Op,
        EventKind::Commit,
        EventKind::Command,
        EventKind::Fire,
        EventKind::HandlerStart,
        EventKind::HandlerEnd,
        EventKind::Crash,
        EventKind::PowerLoss,
        EventKind::Restart,
        EventKind::Fault,
        EventKind::Heal,
        EventKind::Violation,
        EventKind::Gauge,
    ];

    /// The kebab-case name, as serialized.
    pub fn name(self) -> &'static str {
        match self {
            EventKind::Note => "note",
            EventKind::Op => "op",
            EventKind::Commit => "commit",
            EventKind::Command => "command",
            EventKind::Fire => "fire",
            EventKind::HandlerStart => "handler-start",
            EventKind::HandlerEnd => "handler-end",
            EventKind::Crash => "crash",
            EventKind::PowerLoss => "power-loss",
            EventKind::Restart => "restart",
            EventKind::Fault => "fault",
            EventKind::Heal => "heal",
            EventKind::Violation => "violation",
            EventKind::Gauge => "gauge",
        }
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A track's gauge values: name → value (ms since the start, `None` = unset).
pub type Gauges = BTreeMap<String, Option<i64>>;

/// One traced event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceEvent {
    /// Simulated ms since the start of the run.
    pub t: u64,
    /// `client-N`, `host-N`, `manager` (`manager-<k>` per namespace when there are several) or `world`.
    pub node: String,
    /// The track the event belongs to (an actor), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    pub kind: EventKind,
    /// What happened, as a short human-readable phrase with its values.
    pub what: String,
    /// The track's gauges right after the event (every event of a track carries them, so
    /// each gauge is a step function over time).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub gauges: Gauges,
}

impl TraceEvent {
    /// An event without gauges.
    pub fn new(t: u64, node: impl Into<String>, actor: Option<String>, kind: EventKind, what: impl Into<String>) -> TraceEvent {
        TraceEvent { t, node: node.into(), actor, kind, what: what.into(), gauges: Gauges::new() }
    }

    /// The compact one-line form used in failure reports and snapshots.
    pub fn line(&self) -> String {
        match &self.actor {
            Some(actor) => format!("{:>9} {:<9} {:<4} {}", self.t, self.node, actor, self.what),
            None => format!("{:>9} {:<9} {:<4} {}", self.t, self.node, "", self.what),
        }
    }
}

/// All events of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
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

    /// Simulated ms of the last event (0 for an empty trace).
    pub fn end_ms(&self) -> u64 {
        self.events.last().map_or(0, |e| e.t)
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

    /// Reads JSON lines written by [`Trace::to_jsonl`] (blank lines are skipped).
    pub fn from_jsonl(text: &str) -> Result<Trace, serde_json::Error> {
        let events = text.lines().filter(|l| !l.trim().is_empty()).map(serde_json::from_str).collect::<Result<_, _>>()?;
        Ok(Trace { events })
    }

    /// The compact text form: one line per event that happened (gauge-only updates are left
    /// out).
    pub fn to_text(&self) -> String {
        Self::lines(self.text_events())
    }

    /// The last `n` events of the text form.
    pub fn tail(&self, n: usize) -> String {
        let events: Vec<&TraceEvent> = self.text_events().collect();
        Self::lines(events[events.len().saturating_sub(n)..].iter().copied())
    }

    fn text_events(&self) -> impl Iterator<Item = &TraceEvent> {
        self.events.iter().filter(|e| e.kind != EventKind::Gauge)
    }

    fn lines<'a>(events: impl Iterator<Item = &'a TraceEvent>) -> String {
        let mut out = String::new();
        for event in events {
            out.push_str(&event.line());
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_are_the_serialized_names() {
        for kind in EventKind::ALL {
            assert_eq!(serde_json::to_string(&kind).unwrap(), format!("\"{}\"", kind.name()));
        }
    }

    #[test]
    fn jsonl_round_trips_and_the_text_leaves_gauge_only_events_out() {
        let mut gauge = TraceEvent::new(5, "world", Some("a0".into()), EventKind::Gauge, "storage=none manager=none");
        gauge.gauges = Gauges::from([("storage".to_string(), None), ("manager".to_string(), Some(-3))]);
        let trace = Trace { events: vec![TraceEvent::new(1, "client-0", Some("a0".into()), EventKind::Op, "setAlarm(9)"), gauge] };
        assert_eq!(Trace::from_jsonl(&trace.to_jsonl()).unwrap(), trace);
        assert!(trace.to_jsonl().contains(r#""gauges":{"manager":-3,"storage":null}"#));
        assert_eq!(trace.to_text(), "        1 client-0  a0   setAlarm(9)\n");
        assert_eq!(trace.tail(5), trace.to_text());
    }
}
