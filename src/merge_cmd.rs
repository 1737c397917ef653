//! `alarmsim merge`: combine the JSON summaries of several shards (`sweep --json --shard i/n`)
//! into one. Exit 0 when no shard found a violation, 1 when any did, 2 for an unreadable file.

use crate::select::UsageError;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct MergeArgs {
    /// JSON summaries written by `alarmsim sweep --json` (one per shard).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Print the merged JSON instead of the table.
    #[arg(long)]
    json: bool,
}

pub fn run(args: MergeArgs) -> anyhow::Result<ExitCode> {
    let mut merged: BTreeMap<(String, String), crate::sweep_cmd::ScenarioSummary> = BTreeMap::new();
    // What each coverage probe is (`sweep --coverage --json` writes its docs beside it).
    let mut docs: BTreeMap<String, String> = BTreeMap::new();
    for file in &args.files {
        let text = std::fs::read_to_string(file).map_err(|e| UsageError(format!("cannot read {}: {e}", file.display())))?;
        let value: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| UsageError(format!("{} is not a sweep summary ({e}); write one with `alarmsim sweep --json`", file.display())))?;
        let scenarios: Vec<crate::sweep_cmd::ScenarioSummary> = serde_json::from_value(value["scenarios"].clone())
            .map_err(|e| UsageError(format!("{} is not a sweep summary ({e}); write one with `alarmsim sweep --json`", file.display())))?;
        if let Some(probes) = value.get("probes") {
            let more: BTreeMap<String, String> =
                serde_json::from_value(probes.clone()).map_err(|e| UsageError(format!("{}: its \"probes\" are not a map of probe names to docs ({e})", file.display())))?;
            docs.extend(more);
        }
        for s in scenarios {
            let entry = merged.entry((s.scenario.clone(), s.variant.clone())).or_insert_with(|| crate::sweep_cmd::ScenarioSummary {
                scenario: s.scenario.clone(),
                variant: s.variant.clone(),
                seeds: 0,
                failures: Vec::new(),
                first_failing_seed: None,
                wall_ms: 0,
                sim_ms: 0,
                events: 0,
                spot_checked: Vec::new(),
                coverage: None,
                knobs: None,
            });
            match (&mut entry.coverage, &s.coverage) {
                (Some(mine), Some(theirs)) => mine.merge(theirs),
                (mine @ None, Some(theirs)) => *mine = Some(theirs.clone()),
                (_, None) => {}
            }
            entry.spot_checked.extend(&s.spot_checked);
            entry.seeds += s.seeds;
            entry.failures.extend(s.failures);
            // Shards run side by side: the merged wall time is the slowest shard's.
            entry.wall_ms = entry.wall_ms.max(s.wall_ms);
            entry.sim_ms += s.sim_ms;
            entry.events += s.events;
        }
    }
    let mut summaries: Vec<_> = merged.into_values().collect();
    for s in &mut summaries {
        s.failures.sort_by_key(|f| f.seed);
        s.spot_checked.sort_unstable();
        s.failures.dedup_by_key(|f| f.seed);
        s.first_failing_seed = s.failures.first().map(|f| f.seed);
    }
    let failed = summaries.iter().any(|s| !s.failures.is_empty());
    let covered = summaries.iter().any(|s| s.coverage.is_some());
    if args.json {
        let mut out = serde_json::json!({ "scenarios": summaries, "passed": !failed });
        if covered {
            out["probes"] = serde_json::to_value(&docs)?;
        }
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print!("{}", crate::sweep_cmd::table(&summaries));
        if covered {
            print!("{}", crate::coverage_report::text(&crate::sweep_cmd::coverage_rows(&summaries), &docs));
        }
        for s in summaries.iter().filter(|s| !s.failures.is_empty()) {
            let first = &s.failures[0];
            println!("{}: first failing seed {} ({}): {}", s.scenario, first.seed, first.invariant, first.replay);
        }
        println!("{}", crate::paint::result_line(failed));
    }
    Ok(if failed { ExitCode::from(crate::EXIT_VIOLATION) } else { ExitCode::SUCCESS })
}
