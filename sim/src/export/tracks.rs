//! The trace regrouped by track, which both exporters draw: one track per actor (or whatever
//! the traced system names in `TraceEvent::actor`) plus one per node for events without an
//! actor; per track its events, each gauge as a step series, and its handler spans.
//!
//! Nothing here knows what a gauge means: any name a trace uses becomes a series.

use crate::trace::{EventKind, Trace, TraceEvent};
use std::collections::BTreeMap;

/// A gauge over time: `(ms, value)` at every change, `None` = unset (a gap when drawn).
pub type Series = Vec<(u64, Option<i64>)>;

/// One track of the trace.
#[derive(Debug)]
pub struct Track<'a> {
    pub name: String,
    /// A track of an actor (it has gauges); otherwise the track of a node's own events.
    pub is_actor: bool,
    /// Its events in trace order, gauge-only updates included.
    pub events: Vec<&'a TraceEvent>,
    /// Each gauge's step series, by name.
    pub gauges: BTreeMap<String, Series>,
    pub spans: Vec<Span>,
}

impl Track<'_> {
    /// Whether anything went wrong on this track (the HTML keeps such lanes tall).
    pub fn eventful(&self) -> bool {
        self.events.iter().any(|e| matches!(e.kind, EventKind::Crash | EventKind::PowerLoss | EventKind::Fault | EventKind::Violation))
    }
}

/// A handler run: from `handler-start` to `handler-end` on one track.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    pub start_ms: u64,
    pub end_ms: u64,
    /// The start event's text.
    pub name: String,
    /// The end event's text, or why the span was cut (a crash, a restart, the end of the run).
    pub end: String,
    /// Whether a `handler-end` closed it.
    pub finished: bool,
}

/// The tracks of a trace: node tracks (events without an actor; `world` first), then actor
/// tracks, each group in natural order of the names (`a2` before `a10`).
pub fn tracks(trace: &Trace) -> Vec<Track<'_>> {
    let mut by_key: BTreeMap<(bool, String), Track<'_>> = BTreeMap::new();
    for event in &trace.events {
        let key = match &event.actor {
            Some(actor) => (true, actor.clone()),
            None => (false, event.node.clone()),
        };
        let (is_actor, name) = key.clone();
        by_key.entry(key).or_insert_with(|| Track { name, is_actor, events: Vec::new(), gauges: BTreeMap::new(), spans: Vec::new() }).events.push(event);
    }
    let end_ms = trace.end_ms();
    let mut tracks: Vec<Track<'_>> = by_key.into_values().collect();
    tracks.sort_by(|a, b| (a.is_actor, a.name != "world").cmp(&(b.is_actor, b.name != "world")).then_with(|| natural_cmp(&a.name, &b.name)));
    for track in &mut tracks {
        track.gauges = gauge_series(&track.events);
        track.spans = spans(&track.events, end_ms);
    }
    tracks
}

/// Compares names with their digit runs as numbers: `a2` < `a10`, `host-9` < `host-10`.
fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    fn chunks(mut rest: &str) -> Vec<(bool, &str)> {
        let mut out = Vec::new();
        while !rest.is_empty() {
            let digits = rest.starts_with(|c: char| c.is_ascii_digit());
            let end = rest.find(|c: char| c.is_ascii_digit() != digits).unwrap_or(rest.len());
            out.push((digits, &rest[..end]));
            rest = &rest[end..];
        }
        out
    }
    let key = |(digits, text): (bool, &str)| -> (bool, usize, String) {
        // Digit runs compare by length once leading zeros are gone, then by text: no overflow.
        let trimmed = if digits { text.trim_start_matches('0') } else { text };
        (digits, if digits { trimmed.len() } else { 0 }, trimmed.to_string())
    };
    chunks(a).into_iter().map(key).cmp(chunks(b).into_iter().map(key)).then_with(|| a.cmp(b))
}

/// Every gauge's changes. Several events in the same ms keep only the last value, so a series
/// is a clean step function.
fn gauge_series(events: &[&TraceEvent]) -> BTreeMap<String, Series> {
    let mut series: BTreeMap<String, Series> = BTreeMap::new();
    for event in events {
        for (name, &value) in &event.gauges {
            let points = series.entry(name.clone()).or_default();
            if points.last().is_some_and(|&(t, _)| t == event.t) {
                points.pop();
            }
            if points.last().is_none_or(|&(_, v)| v != value) {
                points.push((event.t, value));
            }
        }
    }
    series
}

/// Handler spans. A start without an end is cut by the track's next start, crash, power loss
/// or restart (the handler died with its process), or by the end of the run.
fn spans(events: &[&TraceEvent], end_ms: u64) -> Vec<Span> {
    let mut out = Vec::new();
    let mut open: Option<&TraceEvent> = None;
    let cut = |start: &TraceEvent, at: u64, why: String| Span { start_ms: start.t, end_ms: at, name: start.what.clone(), end: why, finished: false };
    for &event in events {
        match event.kind {
            EventKind::HandlerStart => {
                if let Some(start) = open.replace(event) {
                    out.push(cut(start, event.t, "cut: another handler started".to_string()));
                }
            }
            EventKind::HandlerEnd => {
                if let Some(start) = open.take() {
                    out.push(Span { start_ms: start.t, end_ms: event.t, name: start.what.clone(), end: event.what.clone(), finished: true });
                }
            }
            EventKind::Crash | EventKind::PowerLoss | EventKind::Restart => {
                if let Some(start) = open.take() {
                    out.push(cut(start, event.t, format!("cut: {}", event.what)));
                }
            }
            _ => {}
        }
    }
    if let Some(start) = open {
        out.push(cut(start, end_ms, "cut: the run ended".to_string()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::Gauges;

    fn event(t: u64, actor: Option<&str>, kind: EventKind, gauges: &[(&str, Option<i64>)]) -> TraceEvent {
        let mut e = TraceEvent::new(t, "host-0", actor.map(str::to_string), kind, format!("{kind} at {t}"));
        e.gauges = gauges.iter().map(|(k, v)| (k.to_string(), *v)).collect::<Gauges>();
        e
    }

    #[test]
    fn tracks_group_by_actor_then_node_with_step_series_and_spans() {
        let trace = Trace {
            events: vec![
                event(0, None, EventKind::Note, &[]),
                event(0, Some("a1"), EventKind::Note, &[("storage", None), ("manager", None)]),
                event(5, Some("a0"), EventKind::Op, &[("storage", Some(100)), ("manager", None)]),
                event(5, Some("a0"), EventKind::Commit, &[("storage", Some(100)), ("manager", Some(100))]),
                event(7, Some("a0"), EventKind::HandlerStart, &[("storage", Some(100)), ("manager", Some(100))]),
                event(9, Some("a0"), EventKind::HandlerEnd, &[("storage", None), ("manager", Some(100))]),
                event(10, Some("a0"), EventKind::HandlerStart, &[("storage", None), ("manager", None)]),
                event(12, None, EventKind::Crash, &[]),
            ],
        };
        let tracks = tracks(&trace);
        let names: Vec<&str> = tracks.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["host-0", "a0", "a1"]);
        let a0 = &tracks[1];
        assert_eq!(a0.gauges["storage"], vec![(5, Some(100)), (9, None)]);
        assert_eq!(a0.gauges["manager"], vec![(5, Some(100)), (10, None)]);
        assert_eq!(a0.spans.len(), 2);
        assert!(a0.spans[0].finished && a0.spans[0].end_ms == 9);
        assert!(!a0.spans[1].finished && a0.spans[1].end_ms == 12, "an open span ends with the run");
        assert!(tracks[0].eventful() && !a0.eventful());
    }

    #[test]
    fn names_sort_naturally() {
        let mut names = vec!["a10", "a2", "a1", "host-10", "host-9", "a02", "b", "a"];
        names.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(names, ["a", "a1", "a02", "a2", "a10", "b", "host-9", "host-10"]);
    }
}
