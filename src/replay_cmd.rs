//! `alarmsim replay`: run one seed of one scenario again, exactly, and write its trace.

use crate::select;
use anyhow::Context;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct ReplayArgs {
    /// The scenario to run (see `alarmsim list`).
    #[arg(long, required_unless_present = "plan")]
    scenario: Option<String>,
    /// The seed to replay.
    #[arg(long, required_unless_present = "plan")]
    seed: Option<u64>,
    /// Run a saved plan instead (written by `alarmsim shrink`); it names its scenario and seed.
    #[arg(long, conflicts_with_all = ["scenario", "seed"])]
    plan: Option<PathBuf>,
    /// The scheduler variant (default: reference, or the plan's).
    #[arg(long)]
    variant: Option<String>,
    /// Write the whole trace here as JSON lines (directories are created).
    #[arg(long)]
    trace_out: Option<PathBuf>,
    /// Print the whole trace, not only the events before a violation.
    #[arg(long)]
    full: bool,
}

pub fn run(args: ReplayArgs) -> anyhow::Result<ExitCode> {
    let report = match &args.plan {
        Some(path) => {
            let plan = alarmsim_sim::Plan::load(path).map_err(|e| select::UsageError(e.to_string()))?;
            let (spec, factory) = select::pair(&plan.scenario, Some(args.variant.as_deref().unwrap_or(&plan.variant)))
                .map_err(|e| select::UsageError(format!("{}: {e}", path.display())))?;
            alarmsim_sim::run_plan(&spec, factory, plan, true)
        }
        None => {
            let scenario = args.scenario.as_deref().expect("clap requires --scenario without --plan");
            let (spec, factory) = select::pair(scenario, args.variant.as_deref())?;
            alarmsim_sim::run_seed(&spec, factory, args.seed.expect("clap requires --seed without --plan"))
        }
    };
    if let Some(path) = &args.trace_out {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create the directory {} for --trace-out", dir.display()))?;
        }
        std::fs::write(path, report.trace.to_jsonl()).with_context(|| format!("cannot write --trace-out {}", path.display()))?;
        eprintln!("trace: {} ({} events)", path.display(), report.trace.len());
    }
    if args.full {
        print!("{}", report.trace.to_text());
    }
    match report.failure_text(40) {
        Some(text) => {
            print!("{text}");
            Ok(ExitCode::from(crate::EXIT_VIOLATION))
        }
        None => {
            println!(
                "passed: scenario={} variant={} seed={} ({} events, {} ms simulated)\n  profile: {}",
                report.scenario,
                report.variant,
                report.seed,
                report.events,
                report.sim_ms,
                report.profile_text()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
