//! `alarmsim list`: the scenarios and the scheduler variants; `--probes`: every coverage probe
//! the references and the worlds declare, with why it is rare.

use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct ListArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// List the coverage probes instead (`sweep --coverage`, `reaches=` in regression files).
    #[arg(long)]
    probes: bool,
}

pub fn run(args: ListArgs) -> anyhow::Result<ExitCode> {
    if args.probes {
        return probes(args.json);
    }
    let scenarios = alarmsim_scenarios::scenarios();
    let variants = alarmsim_scenarios::subjects();
    if args.json {
        let value = serde_json::json!({
            "scenarios": scenarios.iter().map(|s| serde_json::json!({
                "name": s.name,
                "description": s.description,
                "system": if s.queue().is_some() { "queue" } else { "alarms" },
                "actors": s.actors(),
                "ops": s.ops,
                "chaos_ms": s.chaos_ms,
                "invariants": s.invariants,
            })).collect::<Vec<_>>(),
            "variants": variants.iter().map(|v| serde_json::json!({
                "name": v.name(),
                "system": v.system(),
                "description": v.description(),
            })).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(ExitCode::SUCCESS);
    }
    let width = scenarios.iter().map(|s| s.name.len()).chain(variants.iter().map(|v| v.name().len())).max().unwrap_or(8);
    println!("scenarios:");
    for s in &scenarios {
        println!("  {:<width$}  {}", s.name, s.description);
    }
    for system in ["alarms", "queue"] {
        println!("{system} variants:");
        for v in variants.iter().filter(|v| v.system() == system) {
            println!("  {:<width$}  {}", v.name(), v.description());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Every probe a reference subject and its world declare, once each, in name order.
fn probes(json: bool) -> anyhow::Result<ExitCode> {
    let mut all: std::collections::BTreeMap<&str, &str> = std::collections::BTreeMap::new();
    for spec in alarmsim_scenarios::scenarios() {
        for probe in alarmsim_scenarios::reference_for(&spec).declared_probes() {
            all.insert(probe.name, probe.doc);
        }
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&all)?);
        return Ok(ExitCode::SUCCESS);
    }
    let width = all.keys().map(|n| n.len()).max().unwrap_or(8);
    for (name, doc) in all {
        println!("{name:<width$}  {doc}");
    }
    Ok(ExitCode::SUCCESS)
}
