//! Chrome trace-event JSON, which the Perfetto UI (https://ui.perfetto.dev) and
//! `chrome://tracing` open: `{"traceEvents": [...], "displayTimeUnit": "ms"}`.
//!
//! Each track becomes a process with one thread, both named by the track, so an actor's
//! events and its gauge counters sit together in Perfetto's track list. Handler runs are
//! complete slices (`X`), other events instants (`i`), gauges counters (`C`, one counter track
//! per gauge, `<track> <gauge>`). Perfetto counters cannot be unset, so an unset gauge is drawn
//! as 0 (the run's start, which no alarm set during a run can be). Crashes, power losses and
//! the violation are global instants, drawn across every track. Timestamps are simulated µs.

use super::tracks::{tracks, Track};
use super::RunInfo;
use crate::trace::{EventKind, Trace, TraceEvent};
use serde_json::{json, Value};

/// The trace as Chrome trace-event JSON, one event per line (deterministic bytes).
pub fn render(trace: &Trace, info: &RunInfo) -> String {
    let tracks = tracks(trace);
    let mut events: Vec<Value> = Vec::new();
    let mut timed: Vec<(u64, Value)> = Vec::new();
    for (index, track) in tracks.iter().enumerate() {
        let pid = index + 1;
        events.push(json!({"ph": "M", "pid": pid, "tid": pid, "name": "process_name", "args": {"name": track.name}}));
        events.push(json!({"ph": "M", "pid": pid, "tid": pid, "name": "process_sort_index", "args": {"sort_index": index}}));
        events.push(json!({"ph": "M", "pid": pid, "tid": pid, "name": "thread_name", "args": {"name": track.name}}));
        timed.extend(track_events(track, pid, info));
    }
    // Sorted by time, stable, so the file reads in order (Perfetto does not need it).
    timed.sort_by_key(|(ts, _)| *ts);
    events.extend(timed.into_iter().map(|(_, e)| e));
    let lines: Vec<String> = events.iter().map(|e| serde_json::to_string(e).expect("JSON values serialize")).collect();
    // Metadata as plain strings: viewers show `otherData` as text, if at all.
    let violation = info.violation.as_ref().map_or_else(|| "none".to_string(), |v| v.message.clone());
    let other = json!({"title": info.title, "violation": violation, "gauges": "ms since the start; an unset gauge is drawn as 0"});
    format!("{{\"traceEvents\":[\n{}\n],\n\"displayTimeUnit\":\"ms\",\n\"otherData\":{}}}\n", lines.join(",\n"), other)
}

fn us(ms: u64) -> u64 {
    ms * 1000
}

/// One track's slices, instants and counters, with their timestamps.
fn track_events(track: &Track<'_>, pid: usize, info: &RunInfo) -> Vec<(u64, Value)> {
    let mut out = Vec::new();
    for span in &track.spans {
        let args = json!({"end": span.end, "finished": span.finished});
        let slice = json!({"ph": "X", "pid": pid, "tid": pid, "ts": us(span.start_ms), "dur": us(span.end_ms - span.start_ms), "name": span.name, "cat": "handler", "args": args});
        out.push((us(span.start_ms), slice));
    }
    for &event in &track.events {
        if matches!(event.kind, EventKind::HandlerStart | EventKind::HandlerEnd | EventKind::Gauge) {
            continue; // Spans and counters show these.
        }
        out.push((us(event.t), instant(event, pid, info)));
    }
    for (gauge, series) in &track.gauges {
        for &(t, value) in series {
            let counter = json!({"ph": "C", "pid": pid, "tid": pid, "ts": us(t), "name": track.name, "args": {gauge.as_str(): value.unwrap_or(0)}});
            out.push((us(t), counter));
        }
    }
    out
}

fn instant(event: &TraceEvent, pid: usize, info: &RunInfo) -> Value {
    let (name, scope) = match event.kind {
        EventKind::Violation => match &info.violation {
            Some(v) => (format!("VIOLATION: {}", v.invariant), "g"),
            None => (event.what.clone(), "g"),
        },
        EventKind::Crash | EventKind::PowerLoss => (event.what.clone(), "g"),
        _ => (event.what.clone(), "t"),
    };
    let mut args = json!({"node": event.node, "what": event.what});
    if let Some(v) = info.violation.as_ref().filter(|_| event.kind == EventKind::Violation) {
        args["message"] = json!(v.message);
        args["track"] = json!(v.track);
    }
    for (gauge, value) in &event.gauges {
        args[gauge] = json!(value);
    }
    json!({"ph": "i", "s": scope, "pid": pid, "tid": pid, "ts": us(event.t), "name": name, "cat": event.kind.name(), "args": args})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::Highlight;

    #[test]
    fn renders_valid_json_with_a_thread_per_track_counters_and_the_violation() {
        let mut set = TraceEvent::new(5, "client-0", Some("a0".into()), EventKind::Op, "setAlarm(100)");
        set.gauges = [("storage".to_string(), Some(100)), ("manager".to_string(), None)].into();
        let trace = Trace {
            events: vec![
                TraceEvent::new(0, "world", None, EventKind::Note, "seed 1"),
                set,
                TraceEvent::new(7, "host-0", Some("a0".into()), EventKind::HandlerStart, "handler start 100"),
                TraceEvent::new(9, "host-0", Some("a0".into()), EventKind::HandlerEnd, "handler end 100"),
                TraceEvent::new(12, "world", None, EventKind::Violation, "VIOLATION ..."),
            ],
        };
        let info = RunInfo { title: "t".into(), violation: Some(Highlight { invariant: "never-late".into(), track: Some("a0".into()), at_ms: 12, message: "m".into() }) };
        let text = render(&trace, &info);
        assert_eq!(text, render(&trace, &info), "deterministic");
        let doc: Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(doc["displayTimeUnit"], "ms");
        let events = doc["traceEvents"].as_array().unwrap();
        let threads: Vec<&str> = events.iter().filter(|e| e["name"] == "thread_name").map(|e| e["args"]["name"].as_str().unwrap()).collect();
        assert_eq!(threads, ["world", "a0"]);
        let slice = events.iter().find(|e| e["ph"] == "X").unwrap();
        assert_eq!((slice["ts"].as_u64(), slice["dur"].as_u64()), (Some(7000), Some(2000)));
        let counters: Vec<&Value> = events.iter().filter(|e| e["ph"] == "C").collect();
        assert_eq!(counters.len(), 2);
        assert!(counters.iter().any(|c| c["args"]["manager"] == 0), "unset is drawn as 0");
        let violation = events.iter().find(|e| e["cat"] == "violation").unwrap();
        assert_eq!((violation["name"].as_str(), violation["s"].as_str()), (Some("VIOLATION: never-late"), Some("g")));
    }
}
