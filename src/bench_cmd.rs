//! `alarmsim bench`: the simulator's speed, measured (not asserted): seeds/s, world events/s
//! next to a plain madsim timer loop with the same number of events, and the ratio of
//! simulated to wall time. Figures go to docs/PERFORMANCE.md with this command.

use crate::select;
use alarmsim_sim::run_seed_traced;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// The scenario to measure.
    #[arg(long, default_value = "standard")]
    scenario: String,
    /// Seeds to run.
    #[arg(long, default_value_t = 400, value_parser = clap::value_parser!(u64).range(1..))]
    seeds: u64,
    /// Parallel seeds (default: the number of cores).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=256))]
    jobs: Option<u64>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let spec = select::scenarios(Some(&args.scenario))?.remove(0);
    let factory = select::variant(None)?;
    let jobs = args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get() as u64).unwrap_or(1));
    let next = AtomicU64::new(0);
    let events = AtomicU64::new(0);
    let sim_ms = AtomicU64::new(0);
    let violations = AtomicU64::new(0);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| loop {
                let seed = next.fetch_add(1, Ordering::Relaxed);
                if seed >= args.seeds {
                    break;
                }
                let report = run_seed_traced(&spec, factory.clone(), seed, false);
                events.fetch_add(report.events, Ordering::Relaxed);
                sim_ms.fetch_add(report.sim_ms, Ordering::Relaxed);
                violations.fetch_add(u64::from(!report.passed()), Ordering::Relaxed);
            });
        }
    });
    let wall = started.elapsed().as_secs_f64();
    let events = events.load(Ordering::Relaxed);
    let per_seed_events = events / args.seeds;
    // The yardstick: the same number of timer events, single-threaded, as plain madsim.
    let bare = alarmsim_sim::yardstick::bare_timer_loop(events, 64, 0).as_secs_f64();
    let world_events_per_s = events as f64 / (wall * jobs as f64);
    let bare_events_per_s = events as f64 / bare;
    let report = serde_json::json!({
        "scenario": spec.name,
        "seeds": args.seeds,
        "jobs": jobs,
        "wall_s": wall,
        "seeds_per_s": args.seeds as f64 / wall,
        "events": events,
        "events_per_seed": per_seed_events,
        "world_events_per_s_per_core": world_events_per_s,
        "bare_madsim_events_per_s": bare_events_per_s,
        "overhead_vs_bare_madsim": bare_events_per_s / world_events_per_s,
        "simulated_s": sim_ms.load(Ordering::Relaxed) as f64 / 1000.0,
        "simulated_to_wall": sim_ms.load(Ordering::Relaxed) as f64 / 1000.0 / wall,
        "violations": violations.load(Ordering::Relaxed),
    });
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("scenario            {}", spec.name);
        println!("seeds               {} on {} jobs in {:.2} s", args.seeds, jobs, wall);
        println!("seeds/s             {:.1}", args.seeds as f64 / wall);
        println!("events              {} ({} per seed)", events, per_seed_events);
        println!("world events/s      {:.0} per core", world_events_per_s);
        println!("bare madsim loop    {:.0} events/s (same event count, 1 core)", bare_events_per_s);
        println!("overhead            {:.1}x the bare loop", bare_events_per_s / world_events_per_s);
        println!("simulated/wall      {:.0}x", report["simulated_to_wall"].as_f64().unwrap_or(0.0));
        println!("violations          {}", report["violations"]);
    }
    Ok(ExitCode::SUCCESS)
}
