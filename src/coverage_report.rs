//! The coverage report of `sweep --coverage` and `merge`: per scenario, each probe's hits,
//! the seeds that reached it and the first one, then the declared probes no seed reached; and
//! in a failure folder, the probes the failing seed reached.

use alarmsim_sim::coverage::{Coverage, RARE_ONE_IN};
use alarmsim_sim::{RunReport, Subject};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// Every probe the subjects declare, name → doc.
pub fn docs<'a>(subjects: impl IntoIterator<Item = &'a Subject>) -> BTreeMap<String, String> {
    subjects.into_iter().flat_map(|s| s.declared_probes()).map(|p| (p.name.to_string(), p.doc.to_string())).collect()
}

/// One scenario's coverage as the report shows it: scenario, variant, coverage.
pub type Row<'a> = (&'a str, &'a str, &'a Coverage);

/// The report printed under the summary table.
pub fn text(rows: &[Row<'_>], docs: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut union_declared = BTreeSet::new();
    let mut union_reached = BTreeSet::new();
    for &(scenario, variant, c) in rows {
        union_declared.extend(c.declared.iter().cloned());
        union_reached.extend(c.reached.keys().cloned());
        let (reached, declared) = c.reached_of_declared();
        let _ = writeln!(out, "\ncoverage of {scenario} ({variant}, {} seeds): {reached} of {declared} declared probes reached", c.seeds);
        let width = c.reached.keys().map(String::len).max().unwrap_or(5).max(5);
        let _ = writeln!(out, "  {:<width$}  {:>9}  {:>6}  {:>10}", "probe", "hits", "seeds", "first seed");
        for (name, stat) in &c.reached {
            let mut notes = Vec::new();
            if c.is_rare(name) {
                notes.push("rare");
            }
            if !c.declared.contains(name) {
                notes.push("not declared");
            }
            let note = if notes.is_empty() { String::new() } else { format!("  ({})", notes.join(", ")) };
            let _ = writeln!(out, "  {name:<width$}  {:>9}  {:>6}  {:>10}{note}", stat.hits, stat.seeds, stat.first_seed);
        }
        let unreached = c.unreached();
        if !unreached.is_empty() {
            let _ = writeln!(out, "  not reached by any seed ({}):", unreached.len());
            for name in unreached {
                let _ = writeln!(out, "    {name}: {}", docs.get(name).map_or("", String::as_str));
            }
        }
    }
    if rows.len() > 1 {
        let never: Vec<&String> = union_declared.difference(&union_reached).collect();
        let _ = writeln!(out, "\ncoverage over every scenario: {} of {} declared probes reached", union_declared.len() - never.len(), union_declared.len());
        for name in never {
            let _ = writeln!(out, "  never reached: {name}: {}", docs.get(name).map_or("", String::as_str));
        }
    }
    out
}

/// The probes section of a failure folder's report.
pub fn of_failure(report: &RunReport, sweep: Option<&Coverage>) -> String {
    if report.coverage.is_empty() {
        return String::new();
    }
    let mut out = String::from("  probes this seed reached");
    let rare: Vec<(&str, u64)> = match sweep {
        Some(c) => report.coverage.iter().filter(|(p, _)| c.is_rare(p.name)).map(|(p, _)| (p.name, c.reached.get(p.name).map_or(0, |s| s.seeds))).collect(),
        None => Vec::new(),
    };
    match sweep {
        Some(c) if !rare.is_empty() => {
            let _ = writeln!(out, " (rare: reached by fewer than 1 in {RARE_ONE_IN} of the sweep's {} seeds of this scenario):", c.seeds);
            for (name, seeds) in &rare {
                let doc = report.coverage.iter().find(|(p, _)| p.name == *name).map_or("", |(p, _)| p.doc);
                let _ = writeln!(out, "    RARE {name} ({seeds} of {} seeds): {doc}", c.seeds);
            }
            out.push_str("    and:");
        }
        Some(_) => out.push_str(" (none of them rare in this sweep):\n   "),
        None => out.push_str(" (run the sweep with --coverage to see which are rare):\n   "),
    }
    let rest: Vec<String> = report.coverage.iter().filter(|(p, _)| !rare.iter().any(|(n, _)| *n == p.name)).map(|(p, n)| format!("{} ×{n}", p.name)).collect();
    let _ = writeln!(out, " {}", rest.join(", "));
    out
}
