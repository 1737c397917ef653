//! `alarmsim shrink`: reduce a failing seed to a minimal plan, print it, and save it so that
//! `alarmsim replay --plan <file>` runs it again.

use crate::select;
use alarmsim_sim::shrink::{shrink, ShrinkLimits, Shrunk};
use alarmsim_sim::{Plan, ScenarioSpec, Subject};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct ShrinkArgs {
    /// The scenario of the failing seed.
    #[arg(long)]
    scenario: String,
    /// The failing seed.
    #[arg(long, allow_hyphen_values = true, value_parser = crate::select::parse_seed)]
    seed: u64,
    /// The scheduler variant (default: reference).
    #[arg(long)]
    variant: Option<String>,
    /// Where to save the minimal plan (default: target/alarmsim/plans/<scenario>-<variant>-<seed>.json).
    #[arg(long)]
    out: Option<PathBuf>,
    /// `off`: the seed as `sweep --edges off` ran it.
    #[arg(long, value_enum, default_value_t = select::Edges::On)]
    edges: select::Edges,
    /// `off` switches each job-queue scenario's zombie pauses and SQL faults off: the queue
    /// faults from before they existed, to compare what each finds.
    #[arg(long, value_enum, default_value_t = select::QueueFaults::On)]
    queue_faults: select::QueueFaults,
    /// `local`: the seed as `sweep --link local` ran it (local workerd).
    #[arg(long, value_enum, default_value_t = select::Link::Rpc)]
    link: select::Link,
    /// The knobs a guided sweep chose for the seed (its replay line names them).
    #[arg(long, value_parser = crate::replay_cmd::parse_knobs)]
    knobs: Option<alarmsim_sim::knobs::Knobs>,
    /// Shrink to the smallest plan that still reaches this coverage probe instead of one that
    /// still fails (a rare condition made small enough to read; `alarmsim list --probes`).
    #[arg(long, value_name = "PROBE")]
    reach: Option<String>,
    /// At most this many oracle runs.
    #[arg(long, default_value_t = 3_000, value_parser = clap::value_parser!(u32).range(1..))]
    max_runs: u32,
    /// At most this many seconds.
    #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..))]
    max_seconds: u64,
}

/// The default place for a shrunk plan.
pub fn default_plan_path(scenario: &str, variant: &str, seed: u64) -> PathBuf {
    Path::new("target").join("alarmsim").join("plans").join(format!("{scenario}-{variant}-{seed}.json"))
}

pub fn run(args: ShrinkArgs) -> anyhow::Result<ExitCode> {
    let (spec, factory) = select::pair(&args.scenario, args.variant.as_deref())?;
    let spec = args.link.apply(args.queue_faults.apply(args.edges.apply(spec)));
    let limits = ShrinkLimits { max_runs: args.max_runs, max_time: Duration::from_secs(args.max_seconds) };
    let out = args.out.unwrap_or_else(|| default_plan_path(spec.name, factory.name(), args.seed));
    if let Some(probe) = &args.reach {
        select::check_probes(std::slice::from_ref(probe), &factory, spec.name, "--reach")?;
        let plan = Plan::generate_with(&spec, factory.name(), args.seed, args.knobs);
        let Some(shrunk) = alarmsim_sim::shrink::shrink_to_reach(&spec, factory, plan, probe, limits) else {
            println!("seed {} of {} does not reach {probe}: nothing to shrink (`sweep --scenario {} --coverage` names the first seed that does)", args.seed, args.scenario, args.scenario);
            return Ok(ExitCode::SUCCESS);
        };
        shrunk.plan.check_for(&spec, &out)?;
        shrunk.plan.save(&out)?;
        print!(
            "minimal plan: {} of {} steps still reach {probe} ({} runs, {:.1} s{})\n{}  faults left on: {}\n  saved: {}\n  replay: cargo run --release -- replay --plan {}\n",
            shrunk.plan.steps.len(),
            shrunk.original_steps,
            shrunk.runs,
            shrunk.elapsed.as_secs_f64(),
            if shrunk.hit_limit { ", stopped at a limit" } else { "" },
            shrunk.plan.numbered(),
            shrunk.plan.profile.active_faults(),
            out.display(),
            out.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    match shrink_and_save(&spec, factory, args.seed, args.knobs, limits, &out)? {
        Some(_) => Ok(ExitCode::from(crate::EXIT_VIOLATION)),
        None => {
            println!("seed {} of {} passes: nothing to shrink", args.seed, args.scenario);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Shrinks one failing seed, prints the minimal interleaving and saves the plan.
pub fn shrink_and_save(spec: &ScenarioSpec, factory: Subject, seed: u64, knobs: Option<alarmsim_sim::knobs::Knobs>, limits: ShrinkLimits, out: &Path) -> anyhow::Result<Option<Shrunk>> {
    let plan = Plan::generate_with(spec, factory.name(), seed, knobs);
    let Some(shrunk) = shrink(spec, factory, plan, limits) else { return Ok(None) };
    // A saved plan must replay: it is checked as `replay --plan` will check it.
    shrunk.plan.check_for(spec, out)?;
    shrunk.plan.save(out)?;
    print!("{}  saved: {}\n  replay: cargo run --release -- replay --plan {}\n", shrunk.summary(), out.display(), out.display());
    Ok(Some(shrunk))
}
