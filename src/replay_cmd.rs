//! `alarmsim replay`: run one seed of one scenario again, exactly, and write its trace.

use crate::select;
use crate::trace_files::{self, Format};
use anyhow::Context;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct ReplayArgs {
    /// The scenario to run (see `alarmsim list`).
    #[arg(long, required_unless_present = "plan")]
    scenario: Option<String>,
    /// The seed to replay.
    #[arg(long, required_unless_present = "plan", allow_hyphen_values = true, value_parser = crate::select::parse_seed)]
    seed: Option<u64>,
    /// Run a saved plan instead (written by `alarmsim shrink`); it names its scenario and seed.
    #[arg(long, conflicts_with_all = ["scenario", "seed"])]
    plan: Option<PathBuf>,
    /// The scheduler variant (default: reference, or the plan's).
    #[arg(long)]
    variant: Option<String>,
    /// Write the whole trace to this file, in --format (missing directories are created).
    #[arg(long, value_name = "PATH")]
    trace_out: Option<PathBuf>,
    /// The format of --trace-out.
    #[arg(long, value_enum, default_value_t = Format::Jsonl, requires = "trace_out")]
    format: Format,
    /// Write the trace in every format into this directory (created if missing): trace.jsonl,
    /// trace.txt, trace.perfetto.json (for https://ui.perfetto.dev) and timeline.html.
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
    /// `off`: the seed as `sweep --edges off` ran it (no symbolic times, bursts or handler scripts).
    #[arg(long, value_enum, default_value_t = select::Edges::On, conflicts_with = "plan")]
    edges: select::Edges,
    /// `off` switches each job-queue scenario's zombie pauses and SQL faults off: the queue
    /// faults from before they existed, to compare what each finds.
    #[arg(long, value_enum, default_value_t = select::QueueFaults::On, conflicts_with = "plan")]
    queue_faults: select::QueueFaults,
    /// Print the whole trace, not only the events before a violation.
    #[arg(long)]
    full: bool,
    /// The knobs a guided sweep chose for the seed (`faults=link,ops=writes,edges=max,handlers=failing`;
    /// the replay line of a guided failure names them).
    #[arg(long, conflicts_with = "plan", value_parser = parse_knobs)]
    knobs: Option<alarmsim_sim::knobs::Knobs>,
    /// `local`: the seed as `sweep --link local` ran it (local workerd).
    #[arg(long, value_enum, default_value_t = select::Link::Rpc, conflicts_with = "plan")]
    link: select::Link,
}

/// `--knobs`: what the error names and what is valid come from `Knobs::from_str`.
pub fn parse_knobs(text: &str) -> Result<alarmsim_sim::knobs::Knobs, String> {
    text.parse()
}

pub fn run(args: ReplayArgs) -> anyhow::Result<ExitCode> {
    let report = match &args.plan {
        Some(path) => {
            let plan = alarmsim_sim::Plan::load(path).map_err(|e| select::UsageError(e.to_string()))?;
            let (spec, factory) = select::pair(&plan.scenario, Some(args.variant.as_deref().unwrap_or(&plan.variant)))
                .map_err(|e| select::UsageError(format!("{}: {e}", path.display())))?;
            // Before anything runs: a plan that does not fit its scenario is the user's
            // error (exit 2), never a finding about the scheduler.
            plan.check_for(&spec, path).map_err(|e| select::UsageError(e.to_string()))?;
            select::check_probes(&plan.reaches, &factory, spec.name, &format!("{}: reaches", path.display()))?;
            let reaches = plan.reaches.clone();
            let report = alarmsim_sim::run_plan(&spec, factory, plan, alarmsim_sim::RunOptions { keep_trace: true, coverage: !reaches.is_empty() });
            // A plan shrunk to reach a probe (`shrink --reach`) says whether it still does.
            for probe in &reaches {
                let n = report.coverage.count(probe);
                if n > 0 {
                    eprintln!("reaches {probe}: yes ({n} times)");
                } else {
                    eprintln!("reaches {probe}: NO: the world or the workload changed since the plan was shrunk; shrink the seed again with --reach {probe}");
                }
            }
            report
        }
        None => {
            let scenario = args.scenario.as_deref().expect("clap requires --scenario without --plan");
            let (spec, factory) = select::pair(scenario, args.variant.as_deref())?;
            let seed = args.seed.expect("clap requires --seed without --plan");
            let mut report = alarmsim_sim::run::run_seed_with_knobs(&args.link.apply(args.queue_faults.apply(args.edges.apply(spec))), factory, seed, args.knobs, true);
            report.replay_flags = format!("{}{}", args.edges.replay_flags(), args.queue_faults.replay_flags());
            report
        }
    };
    if let Some(path) = &args.trace_out {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            trace_files::create_dir(dir, "--trace-out")?;
        }
        trace_files::write(path, args.format, &report).with_context(|| format!("--trace-out {}", path.display()))?;
        eprintln!("trace: {} ({} events)", path.display(), report.trace.len());
    }
    if let Some(dir) = &args.out_dir {
        trace_files::create_dir(dir, "--out-dir")?;
        for path in trace_files::write_all(dir, &report).with_context(|| format!("--out-dir {}", dir.display()))? {
            eprintln!("wrote {}", path.display());
        }
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
