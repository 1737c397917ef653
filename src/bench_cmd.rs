//! `alarmsim bench`: the simulator's speed, measured (not asserted): seeds/s, world events/s
//! next to a plain madsim timer loop with the same number of events, and the ratio of
//! simulated to wall time. Figures go to docs/PERFORMANCE.md with this command.

use crate::select;
use alarmsim_sim::run_seed_traced;
use alarmsim_sim::store_work::StoreWork;
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
    /// Measure the bug library instead: seeds needed to find each variant (over
    /// `--starts` start seeds) and the time to shrink it.
    #[arg(long)]
    bugs: bool,
    /// `off` switches the edge-seeking workload off (symbolic times, bursts, handler scripts).
    #[arg(long, value_enum, default_value_t = select::Edges::On)]
    edges: select::Edges,
    /// `off` switches each job-queue scenario's zombie pauses and SQL faults off: the queue
    /// faults from before they existed, to compare what each finds.
    #[arg(long, value_enum, default_value_t = select::QueueFaults::On)]
    queue_faults: select::QueueFaults,
    /// With --bugs: how many different start seeds.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=1000))]
    starts: u64,
    /// Measure scale instead: the standard scenario's shape at each `--actors` size (operations
    /// per actor held constant), side by side: events per seed, events/s, ms per seed, SQLite
    /// work and peak RSS per actor.
    #[arg(long, conflicts_with = "bugs")]
    scale: bool,
    /// With --scale: the namespace sizes (multiples of 4).
    #[arg(long, value_delimiter = ',', default_value = "16,160,1000,4000,10000", value_parser = parse_actors)]
    actors: Vec<u32>,
    /// With --scale: each size runs about this many actor-seeds (16 actors: 1,000 seeds), and
    /// at least `--min-seeds`.
    #[arg(long, default_value_t = 16_000, value_parser = clap::value_parser!(u64).range(1..))]
    actor_seeds: u64,
    /// With --scale: the fewest seeds a size runs.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..))]
    min_seeds: u64,
    /// Plain sweeps against guided ones over the same seeds (`--seeds`, from `--start-seed`):
    /// per scenario (`--scenario`, or `all`), the probes each reached and the seeds each needed
    /// to reach the rarest tenth of them.
    #[arg(long, conflicts_with_all = ["bugs", "scale", "coverage"])]
    search: bool,
    /// With --search: the first seed.
    #[arg(long, default_value_t = 0, requires = "search", value_parser = crate::select::parse_seed)]
    start_seed: u64,
    /// With --bugs: search each start with the guided search (`sweep --guided`) instead of
    /// seed after seed.
    #[arg(long, requires = "bugs")]
    guided: bool,
    /// `local`: the alarm scenarios as local workerd runs them (`sweep --link local`).
    #[arg(long, value_enum, default_value_t = select::Link::Rpc)]
    link: select::Link,
    /// Count coverage probes in every seed (what `sweep --coverage` costs).
    #[arg(long, conflicts_with_all = ["bugs", "scale"])]
    coverage: bool,
    /// One size of --scale, in this process (the parent runs each size in a child).
    #[arg(long, hide = true)]
    scale_row: Option<u32>,
}

/// A --scale size: a positive multiple of the standard scenario's 4 hosts.
fn parse_actors(text: &str) -> Result<u32, String> {
    match text.trim().parse::<u32>() {
        Ok(n) if n > 0 && n % 4 == 0 => Ok(n),
        _ => Err(format!("'{text}' is not a size: a namespace size is a positive multiple of 4 actors (the standard shape's 4 hosts)")),
    }
}

/// With --bugs: a start seed's search gives up after this many seeds (the budget cap).
const SEARCH_CAP: u64 = 200;

pub fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    if args.bugs {
        return bugs(&args);
    }
    if let Some(actors) = args.scale_row {
        return crate::bench_scale::row(actors, args.seeds);
    }
    if args.scale {
        return crate::bench_scale::run(&args.actors, args.actor_seeds, args.min_seeds, args.json);
    }
    if args.search {
        let jobs = args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get() as u64).unwrap_or(1)) as usize;
        let which = if args.scenario == "all" { None } else { Some(args.scenario.as_str()) };
        let scenarios = select::pairs(which, None)?.into_iter().map(|(spec, subject)| (args.link.apply(args.queue_faults.apply(args.edges.apply(spec))), subject)).collect();
        return crate::bench_search::run(scenarios, args.start_seed, args.seeds, jobs, args.json);
    }
    let (spec, factory) = select::pair(&args.scenario, None)?;
    let spec = args.link.apply(args.queue_faults.apply(args.edges.apply(spec)));
    let jobs = args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get() as u64).unwrap_or(1));
    let next = AtomicU64::new(0);
    let events = AtomicU64::new(0);
    let sim_ms = AtomicU64::new(0);
    let violations = AtomicU64::new(0);
    let work = std::sync::Mutex::new(StoreWork::default());
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| loop {
                let seed = next.fetch_add(1, Ordering::Relaxed);
                if seed >= args.seeds {
                    break;
                }
                let report = run_seed_traced(&spec, factory.clone(), seed, alarmsim_sim::RunOptions { keep_trace: false, coverage: args.coverage });
                events.fetch_add(report.events, Ordering::Relaxed);
                sim_ms.fetch_add(report.sim_ms, Ordering::Relaxed);
                violations.fetch_add(u64::from(!report.passed()), Ordering::Relaxed);
                work.lock().expect("no bench thread panics holding it").add(&report.store_work);
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
    let work = work.into_inner().expect("the bench threads finished");
    let per_seed = |n: u64| n as f64 / args.seeds as f64;
    let report = serde_json::json!({
        "scenario": spec.name,
        "seeds": args.seeds,
        "jobs": jobs,
        "wall_s": wall,
        "seeds_per_s": args.seeds as f64 / wall,
        "coverage": args.coverage,
        "events": events,
        "events_per_seed": per_seed_events,
        "world_events_per_s_per_core": world_events_per_s,
        "bare_madsim_events_per_s": bare_events_per_s,
        "overhead_vs_bare_madsim": bare_events_per_s / world_events_per_s,
        "store_work": work,
        "simulated_s": sim_ms.load(Ordering::Relaxed) as f64 / 1000.0,
        "simulated_to_wall": sim_ms.load(Ordering::Relaxed) as f64 / 1000.0 / wall,
        "violations": violations.load(Ordering::Relaxed),
    });
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("scenario            {}{}", spec.name, if args.coverage { " (coverage probes counted)" } else { "" });
        println!("seeds               {} on {} jobs in {:.2} s", args.seeds, jobs, wall);
        println!("seeds/s             {:.1}", args.seeds as f64 / wall);
        println!("events              {} ({} per seed)", events, per_seed_events);
        println!("world events/s      {:.0} per core", world_events_per_s);
        println!("bare madsim loop    {:.0} events/s (same event count, 1 core)", bare_events_per_s);
        println!("overhead            {:.1}x the bare loop", bare_events_per_s / world_events_per_s);
        if spec.queue().is_some() {
            // The queue world's events are its SQL statements (one per `Db::statement`); it
            // keeps no alarm-store counts.
            println!("sqlite per seed     {per_seed_events} statements (each event of the queue world is one)");
        } else {
            println!(
                "sqlite per seed     {:.0} commits, {:.0} manager rows, {:.0} loads, {:.0} incarnation bumps, {:.0} sync images",
                per_seed(work.commits),
                per_seed(work.rows),
                per_seed(work.loads),
                per_seed(work.bumps),
                per_seed(work.images)
            );
        }
        println!("simulated/wall      {:.0}x", report["simulated_to_wall"].as_f64().unwrap_or(0.0));
        println!("violations          {}", report["violations"]);
    }
    Ok(ExitCode::SUCCESS)
}

/// The first failing seed of a guided search from `start` (batch by batch, up to the cap).
fn guided_find(spec: &alarmsim_sim::ScenarioSpec, subject: &alarmsim_sim::Subject, start: u64) -> Option<(u64, Option<alarmsim_sim::knobs::Knobs>)> {
    let jobs = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let mut search = alarmsim_sim::guided::Search::new(spec, subject, alarmsim_sim::RunOptions::UNTRACED);
    let seeds: Vec<u64> = (start..start + SEARCH_CAP).collect();
    for batch in seeds.chunks(alarmsim_sim::guided::BATCH) {
        if let Some((report, knobs)) = search.batch(batch, jobs, &|| {}).into_iter().find(|(r, _)| !r.passed()) {
            return Some((report.seed, knobs));
        }
    }
    None
}

/// Seeds needed to find each bug of the library (median and max over `starts` start seeds,
/// start k = k * 10 000), and the time to shrink the first failure to a minimal plan.
fn bugs(args: &BenchArgs) -> anyhow::Result<ExitCode> {
    use alarmsim_sim::shrink::{shrink, shrink_best, ShrinkLimits};
    let mut rows = Vec::new();
    for case in alarmsim_scenarios::library::CASES {
        let (spec, factory) = select::pair(case.scenario, Some(case.variant))?;
        let spec = args.link.apply(args.queue_faults.apply(args.edges.apply(spec)));
        let mut needed: Vec<u64> = Vec::new();
        let mut first_failure = None;
        for k in 0..args.starts {
            let start = k * 10_000;
            let found = if args.guided {
                guided_find(&spec, &factory, start)
            } else {
                (start..start + SEARCH_CAP).find(|&seed| !run_seed_traced(&spec, factory.clone(), seed, false).passed()).map(|seed| (seed, None))
            };
            needed.push(found.map_or(SEARCH_CAP + 1, |(seed, _)| seed - start + 1));
            if first_failure.is_none() {
                first_failure = found;
            }
        }
        needed.sort_unstable();
        let median = if needed.len() % 2 == 1 {
            needed[needed.len() / 2] as f64
        } else {
            (needed[needed.len() / 2 - 1] + needed[needed.len() / 2]) as f64 / 2.0
        };
        let (shrink_ms, steps, original) = match first_failure {
            Some((seed, knobs)) => {
                let started = Instant::now();
                let plan = alarmsim_sim::Plan::generate_with(&spec, factory.name(), seed, knobs);
                let shrunk = shrink(&spec, factory.clone(), plan, ShrinkLimits::default()).expect("a failing seed shrinks");
                (started.elapsed().as_millis() as u64, shrunk.plan.steps.len(), shrunk.original_steps)
            }
            None => (0, 0, 0),
        };
        // The bug library's procedure (tests/shrinking.rs): the best of three failing seeds.
        let started = Instant::now();
        let best = shrink_best(&spec, factory.clone(), 0..SEARCH_CAP, 3, ShrinkLimits::default());
        let best_ms = started.elapsed().as_millis() as u64;
        let best_steps = best.map_or(0, |(_, b)| b.plan.steps.len());
        rows.push(serde_json::json!({
            "guided": args.guided,
            "variant": case.variant,
            "scenario": case.scenario,
            "starts": args.starts,
            "median_seeds": median,
            "max_seeds": needed.last().copied().unwrap_or(0),
            "not_found_within_cap": needed.iter().filter(|&&n| n > SEARCH_CAP).count(),
            "shrink_ms": shrink_ms,
            "shrunk_steps": steps,
            "original_steps": original,
            "best_of_3_ms": best_ms,
            "best_of_3_steps": best_steps,
        }));
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("| variant | scenario | median seeds | max seeds | shrink first failure | steps | best of 3 failures | steps |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {} | {} | {} | {} ms | {} of {} | {} ms | {} |",
            r["variant"].as_str().unwrap_or(""),
            r["scenario"].as_str().unwrap_or(""),
            r["median_seeds"],
            r["max_seeds"],
            r["shrink_ms"],
            r["shrunk_steps"],
            r["original_steps"],
            r["best_of_3_ms"],
            r["best_of_3_steps"]
        );
    }
    Ok(ExitCode::SUCCESS)
}
