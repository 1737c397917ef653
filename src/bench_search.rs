//! `alarmsim bench --search`: plain sweeps against guided ones (`sweep --guided`) over the
//! same seeds: per scenario, the coverage probes each reached, and how many seeds each needed
//! to reach the rarest tenth of them (the tenth of the probes the plain sweep reached in the
//! fewest seeds). `bench --bugs --guided` measures the bug library the same way. Figures go
//! to docs/PERFORMANCE.md with this command.

use alarmsim_sim::coverage::Coverage;
use alarmsim_sim::{RunOptions, ScenarioSpec, Subject};
use std::process::ExitCode;
use std::time::Instant;

/// One scenario, both ways.
struct Row {
    scenario: String,
    declared: usize,
    plain: Coverage,
    guided: Coverage,
    plain_s: f64,
    guided_s: f64,
}

/// The rarest tenth of the probes `c` reached (at least one), by the seeds that reached them.
fn rarest_tenth(c: &Coverage) -> Vec<String> {
    let mut reached: Vec<(&String, u64)> = c.reached.iter().filter(|(n, _)| c.declared.contains(*n)).map(|(n, s)| (n, s.seeds)).collect();
    reached.sort_by_key(|(n, seeds)| (*seeds, (*n).clone()));
    let tenth = reached.len().div_ceil(10).max(1).min(reached.len());
    reached[..tenth].iter().map(|(n, _)| (*n).clone()).collect()
}

/// Seeds (from the first) until every probe of `set` was reached in `c`, if it was.
fn seeds_to_reach(c: &Coverage, set: &[String], start: u64) -> Option<u64> {
    set.iter().map(|n| c.reached.get(n).map(|s| s.first_seed - start + 1)).collect::<Option<Vec<u64>>>().map(|v| v.into_iter().max().unwrap_or(0))
}

pub fn run(scenarios: Vec<(ScenarioSpec, Subject)>, start: u64, seeds: u64, jobs: usize, json: bool) -> anyhow::Result<ExitCode> {
    let seed_list: Vec<u64> = (start..start + seeds).collect();
    let mut rows = Vec::new();
    for (spec, subject) in &scenarios {
        let declared = subject.declared_probes();
        let started = Instant::now();
        let plain = alarmsim_sim::sweep::coverage(&[(spec.clone(), subject.clone(), seed_list.clone())]).remove(0);
        let plain_s = started.elapsed().as_secs_f64();
        let started = Instant::now();
        let mut guided = Coverage::declaring(&declared);
        for (report, _) in alarmsim_sim::guided::run(spec, subject, &seed_list, jobs, RunOptions::UNTRACED, &|| {}) {
            guided.add_run(report.seed, &report.coverage);
        }
        let guided_s = started.elapsed().as_secs_f64();
        eprintln!("{}: plain {:.1} s, guided {:.1} s", spec.name, plain_s, guided_s);
        rows.push(Row { scenario: spec.name.to_string(), declared: declared.len(), plain, guided, plain_s, guided_s });
    }
    let mut out = Vec::new();
    for r in &rows {
        let tenth = rarest_tenth(&r.plain);
        let only = |a: &Coverage, b: &Coverage| a.reached.keys().filter(|n| a.declared.contains(*n) && !b.reached.contains_key(*n)).cloned().collect::<Vec<_>>();
        out.push(serde_json::json!({
            "scenario": r.scenario,
            "seeds": seeds,
            "declared": r.declared,
            "plain_reached": r.plain.reached_of_declared().0,
            "guided_reached": r.guided.reached_of_declared().0,
            "rarest_tenth": tenth,
            "plain_seeds_to_rarest_tenth": seeds_to_reach(&r.plain, &tenth, start),
            "guided_seeds_to_rarest_tenth": seeds_to_reach(&r.guided, &tenth, start),
            "only_plain": only(&r.plain, &r.guided),
            "only_guided": only(&r.guided, &r.plain),
            "plain_s": r.plain_s,
            "guided_s": r.guided_s,
        }));
    }
    let mut union = (Coverage::default(), Coverage::default());
    for r in &rows {
        union.0.merge(&r.plain);
        union.1.merge(&r.guided);
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "scenarios": out, "plain_reached": union.0.reached_of_declared().0, "guided_reached": union.1.reached_of_declared().0, "declared": union.0.declared.len() }))?);
        return Ok(ExitCode::SUCCESS);
    }
    let show = |v: &serde_json::Value| v.as_u64().map_or("not reached".to_string(), |n| n.to_string());
    println!("| scenario | seeds | probes declared | reached plain | reached guided | seeds to the rarest tenth, plain | guided | only plain | only guided |");
    println!("|---|---:|---:|---:|---:|---:|---:|---|---|");
    for o in &out {
        let list = |k: &str| o[k].as_array().map(|a| a.iter().filter_map(|v| v.as_str()).collect::<Vec<_>>().join(", ")).unwrap_or_default();
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            o["scenario"].as_str().unwrap_or(""),
            seeds,
            o["declared"],
            o["plain_reached"],
            o["guided_reached"],
            show(&o["plain_seeds_to_rarest_tenth"]),
            show(&o["guided_seeds_to_rarest_tenth"]),
            list("only_plain"),
            list("only_guided")
        );
    }
    println!("| every scenario | | {} | {} | {} | | | | |", union.0.declared.len(), union.0.reached_of_declared().0, union.1.reached_of_declared().0);
    Ok(ExitCode::SUCCESS)
}
