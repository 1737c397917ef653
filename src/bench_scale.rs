//! `alarmsim bench --scale`: the standard scenario's shape at several namespace sizes, side by
//! side in one run (the cost of one simulated event must not grow with the actors).
//!
//! Each size runs in a child process of its own (`bench --scale-row N`), one seed after
//! another on one core, so its peak RSS is its own and not the largest size's so far. The
//! child prints one JSON line; the parent prints the table (docs/PERFORMANCE.md).

use alarmsim_scheduler::api::Reference;
use alarmsim_sim::run_seed_traced;
use alarmsim_sim::store_work::StoreWork;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

/// What one size measured (one child's JSON line).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct ScaleRow {
    pub actors: u32,
    pub seeds: u64,
    pub events: u64,
    pub wall_s: f64,
    /// CPU time of the child (user + system, all threads): on a busy machine wall time also
    /// counts the time other processes held the core.
    pub cpu_s: f64,
    pub sim_ms: u64,
    pub violations: u64,
    pub commits: u64,
    pub manager_rows: u64,
    pub loads: u64,
    pub images: u64,
    /// The child's peak RSS before the first seed and at the end (KiB, `getrusage`).
    pub rss_start_kib: u64,
    pub rss_peak_kib: u64,
}

impl ScaleRow {
    fn events_per_s(&self) -> f64 {
        self.events as f64 / self.wall_s
    }
    fn events_per_cpu_s(&self) -> f64 {
        self.events as f64 / self.cpu_s
    }
    fn per_seed(&self, n: u64) -> f64 {
        n as f64 / self.seeds as f64
    }
    /// What a world of this size adds to the process, per actor (bytes).
    fn rss_per_actor(&self) -> f64 {
        self.rss_peak_kib.saturating_sub(self.rss_start_kib) as f64 * 1024.0 / f64::from(self.actors)
    }
}

/// Seeds a size runs: about `actor_seeds` actor-seeds, so every row handles a similar number
/// of events; at least `min_seeds`.
pub fn seeds_for(actors: u32, actor_seeds: u64, min_seeds: u64) -> u64 {
    (actor_seeds / u64::from(actors)).max(min_seeds)
}

/// The process's resource usage so far (`getrusage`).
fn usage() -> libc::rusage {
    // SAFETY: getrusage only writes the struct it is given; zeroes are a valid rusage.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: as above; RUSAGE_SELF covers every thread of the process.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    assert_eq!(rc, 0, "getrusage(RUSAGE_SELF) cannot fail with a valid pointer");
    usage
}

/// The process's peak resident set so far, in KiB.
fn peak_rss_kib() -> u64 {
    usage().ru_maxrss.max(0) as u64
}

/// The process's CPU time so far (user + system), in seconds.
fn cpu_s() -> f64 {
    let u = usage();
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(u.ru_utime) + secs(u.ru_stime)
}

/// The child: `seeds` seeds of the standard shape at `actors` actors, one at a time.
pub fn row(actors: u32, seeds: u64) -> anyhow::Result<ExitCode> {
    let spec = alarmsim_scenarios::catalog::standard::at_scale(actors);
    let rss_start_kib = peak_rss_kib();
    let mut row = ScaleRow { actors, seeds, events: 0, wall_s: 0.0, cpu_s: 0.0, sim_ms: 0, violations: 0, commits: 0, manager_rows: 0, loads: 0, images: 0, rss_start_kib, rss_peak_kib: 0 };
    let mut work = StoreWork::default();
    let started = Instant::now();
    let cpu_started = cpu_s();
    for seed in 0..seeds {
        let report = run_seed_traced(&spec, Arc::new(Reference), seed, false);
        row.events += report.events;
        row.sim_ms += report.sim_ms;
        row.violations += u64::from(!report.passed());
        work.add(&report.store_work);
    }
    row.wall_s = started.elapsed().as_secs_f64();
    row.cpu_s = cpu_s() - cpu_started;
    row.rss_peak_kib = peak_rss_kib();
    (row.commits, row.manager_rows, row.loads, row.images) = (work.commits, work.rows, work.loads, work.images);
    println!("{}", serde_json::to_string(&row)?);
    Ok(ExitCode::SUCCESS)
}

/// The parent: one child per size, then the table.
pub fn run(sizes: &[u32], actor_seeds: u64, min_seeds: u64, json: bool) -> anyhow::Result<ExitCode> {
    let exe = std::env::current_exe()?;
    let mut rows: Vec<ScaleRow> = Vec::new();
    for &actors in sizes {
        let seeds = seeds_for(actors, actor_seeds, min_seeds);
        eprintln!("{actors} actors: {seeds} seeds ...");
        let out = std::process::Command::new(&exe)
            .args(["bench", "--scale-row", &actors.to_string(), "--seeds", &seeds.to_string()])
            .stderr(std::process::Stdio::inherit())
            .output()?;
        anyhow::ensure!(out.status.success(), "the {actors}-actor run failed ({})", out.status);
        let line = String::from_utf8(out.stdout)?;
        rows.push(serde_json::from_str(line.trim())?);
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(ExitCode::SUCCESS);
    }
    let first = rows.first().map_or(0, |r| r.actors);
    let (base, base_cpu) = rows.first().map_or((1.0, 1.0), |r| (r.events_per_s(), r.events_per_cpu_s()));
    println!("the standard scenario's shape (4 hosts, 12.5 client operations per actor, 1 simulated hour), reference scheduler, one size at a time on 1 core");
    println!();
    println!("| actors | seeds | events per seed | world events/s | vs {first} | events per CPU-s | vs {first} | ms per seed | SQLite per seed: commits, manager rows, loads, sync images | peak RSS | RSS per actor | violations |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {} | {:.0} | {:.0} | {:.0} % | {:.0} | {:.0} % | {:.1} | {:.0}, {:.0}, {:.0}, {:.0} | {:.0} MiB | {:.1} KiB | {} |",
            r.actors,
            r.seeds,
            r.per_seed(r.events),
            r.events_per_s(),
            100.0 * r.events_per_s() / base,
            r.events_per_cpu_s(),
            100.0 * r.events_per_cpu_s() / base_cpu,
            1000.0 * r.wall_s / r.seeds as f64,
            r.per_seed(r.commits),
            r.per_seed(r.manager_rows),
            r.per_seed(r.loads),
            r.per_seed(r.images),
            r.rss_peak_kib as f64 / 1024.0,
            r.rss_per_actor() / 1024.0,
            r.violations
        );
    }
    println!();
    println!("world events/s and ms per seed are wall time; events per CPU-s divide by the run's CPU time instead (the same on a quiet machine).");
    println!("RSS per actor: (peak RSS - RSS before the first seed) / actors.");
    Ok(ExitCode::SUCCESS)
}
