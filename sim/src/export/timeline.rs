//! A self-contained HTML timeline: one file, no network, the page's JS and CSS inline
//! (`timeline.html` beside this file) and the trace embedded as JSON. Per track a lane plots
//! every gauge as a step line over simulated time (a gap where it is unset), handler spans,
//! and markers for fires, crashes, power losses, restarts and faults; the violation gets a red
//! marker, a line across every lane and a banner, and the page opens zoomed to it.
//!
//! The page records its own JS errors in `data-js-errors` on `<html>` and sets
//! `data-violation-drawn="1"` once the violation marker is drawn (`tests/browser_timeline.rs`).

use super::tracks::{tracks, Track};
use super::RunInfo;
use crate::trace::{EventKind, Trace};
use serde_json::{json, Value};

const TEMPLATE: &str = include_str!("timeline.html");

/// The trace as one HTML page (deterministic bytes).
pub fn render(trace: &Trace, info: &RunInfo) -> String {
    let tracks: Vec<Value> = tracks(trace).iter().map(track_data).collect();
    let data = json!({
        "title": info.title,
        "end": trace.end_ms(),
        "events": trace.len(),
        "kinds": EventKind::ALL.map(EventKind::name),
        "violation": info.violation,
        "tracks": tracks,
    });
    // `<` only occurs inside JSON strings, where `\u003c` means the same: the data can never
    // close its <script> element.
    let data = serde_json::to_string(&data).expect("JSON values serialize").replace('<', "\\u003c");
    TEMPLATE.replacen("__TITLE__", &escape_html(&info.title), 1).replacen("__DATA__", &data, 1)
}

/// A lane's data, compact: `[t, kind index, text]` events and `[t, value]` gauge points.
fn track_data(track: &Track<'_>) -> Value {
    let kind_index = |kind: EventKind| EventKind::ALL.iter().position(|&k| k == kind).expect("ALL lists every kind");
    let events: Vec<Value> = track.events.iter().filter(|e| e.kind != EventKind::Gauge).map(|e| json!([e.t, kind_index(e.kind), e.what])).collect();
    let spans: Vec<Value> = track.spans.iter().map(|s| json!([s.start_ms, s.end_ms, u8::from(s.finished), s.name, s.end])).collect();
    json!({
        "name": track.name,
        "actor": track.is_actor,
        "eventful": track.eventful(),
        "gauges": track.gauges,
        "spans": spans,
        "events": events,
    })
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::TraceEvent;

    #[test]
    fn embeds_the_data_safely_and_inlines_everything() {
        let trace = Trace { events: vec![TraceEvent::new(3, "world", None, EventKind::Note, "</script><b>")] };
        let html = render(&trace, &RunInfo { title: "a <b> run".into(), violation: None });
        assert!(html.contains("a &lt;b&gt; run"));
        assert!(!html.contains("</script><b>"), "the data cannot close its script element");
        assert!(!html.contains("__DATA__") && !html.contains("__TITLE__"));
        for remote in ["src=\"http", "href=\"http", "@import", "fetch("] {
            assert!(!html.contains(remote), "the page loads nothing from the network: {remote}");
        }
        assert_eq!(html, render(&trace, &RunInfo { title: "a <b> run".into(), violation: None }));
    }
}
