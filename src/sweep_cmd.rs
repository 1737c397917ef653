//! `alarmsim sweep`: the main job. Runs the scenario suite over a seed range, shows progress,
//! then prints a summary table (or JSON). Exit 0: no violation; 1: any violation.

use crate::regressions;
use crate::select;
use alarmsim_sim::coverage::Coverage;
use alarmsim_sim::knobs::Knobs;
use alarmsim_sim::fingerprint::Fingerprint;
use alarmsim_sim::spot_check;
use alarmsim_sim::{run_seed, run_seed_traced, RunOptions, RunReport, ScenarioSpec, Subject};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, VecDeque};
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Instant;

/// Seeds per scenario when `--seeds` is not given (a scenario with far longer seeds gets a
/// share of them: `alarmsim_scenarios::default_seeds`).
pub const DEFAULT_SEEDS: u64 = alarmsim_scenarios::SWEEP_SEEDS;

#[derive(clap::Args, Debug)]
pub struct SweepArgs {
    /// Run only this scenario (default: all of them; see `alarmsim list`).
    #[arg(long)]
    scenario: Option<String>,
    /// Seeds per scenario [default: 100; large-namespace, whose seeds are about 60 times
    /// longer, 10]. Given, every scenario runs exactly this many.
    #[arg(long, allow_hyphen_values = true, value_parser = clap::value_parser!(u64).range(1..))]
    seeds: Option<u64>,
    /// The first seed.
    #[arg(long, default_value_t = 0, allow_hyphen_values = true, value_parser = crate::select::parse_seed)]
    start_seed: u64,
    /// The scheduler variant to test (default: reference).
    #[arg(long)]
    variant: Option<String>,
    /// Run every seed twice and require byte-identical traces.
    #[arg(long)]
    check_determinism: bool,
    /// Print a machine-readable summary on stdout instead of the table.
    #[arg(long)]
    json: bool,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
    /// Do not shrink the first failing seed of each scenario.
    #[arg(long)]
    no_shrink: bool,
    /// Where to write a folder per failure (report, traces, plan, shrunk plan); created if missing.
    #[arg(long, default_value = crate::failure_dir::DEFAULT_BASE)]
    failures_dir: std::path::PathBuf,
    /// Run only shard i of n of the seed range (1 <= i <= n): seeds with (seed - start) % n == i - 1.
    #[arg(long, value_parser = crate::shard::parse_arg)]
    shard: Option<crate::shard::Shard>,
    /// Seeds run in parallel (each on its own fresh thread). Default: the number of cores.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=256))]
    jobs: Option<u64>,
    /// `off` switches each scenario's edge-seeking workload off (symbolic alarm times, bursts,
    /// handler scripts): the worlds the scenarios had before it, to compare what each finds.
    #[arg(long, value_enum, default_value_t = crate::select::Edges::On)]
    edges: crate::select::Edges,
    /// `off` switches each job-queue scenario's zombie pauses and SQL faults off: the queue
    /// faults from before they existed, to compare what each finds.
    #[arg(long, value_enum, default_value_t = crate::select::QueueFaults::On)]
    queue_faults: crate::select::QueueFaults,
    /// Append every failing seed to this regression file (created if missing; entries
    /// already present are skipped; see tests/regressions.txt).
    #[arg(long, value_name = "FILE")]
    save_regressions: Option<std::path::PathBuf>,
    /// Count the coverage probes every seed reaches (the scheduler's, the queue's, the
    /// world's) and print, per scenario, each probe's hits and first seed and the probes no
    /// seed reached (with --json: in the summary, for `merge`).
    #[arg(long)]
    coverage: bool,
    /// Guided search: each seed's knobs (the fault family it concentrates on, the operations
    /// and handler behaviours it favours, the edge-seeking workload's strength) are chosen by
    /// a bandit that learns which knobs reach rarely reached coverage probes (guide §3). The
    /// same seeds give the same knobs and result; each failure's replay line names its knobs.
    /// Not with --shard: each batch's knobs depend on every earlier seed's result.
    #[arg(long)]
    guided: bool,
    /// `local`: run the alarm scenarios as local workerd does (one process; scheduleRun,
    /// fires and results are synchronous in-process calls; commits resolve at once).
    #[arg(long, value_enum, default_value_t = crate::select::Link::Rpc)]
    link: crate::select::Link,
}

/// One failing seed in the summary.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FailureSummary {
    pub seed: u64,
    pub invariant: String,
    pub message: String,
    pub replay: String,
    /// The failure folder, if one was written.
    #[serde(default)]
    pub folder: Option<String>,
}

/// One scenario's line of the summary.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ScenarioSummary {
    pub scenario: String,
    pub variant: String,
    pub seeds: u64,
    pub failures: Vec<FailureSummary>,
    pub first_failing_seed: Option<u64>,
    pub wall_ms: u64,
    pub sim_ms: u64,
    pub events: u64,
    /// The seeds the determinism spot-check ran again after the sweep (`spot_check.rs`).
    #[serde(default)]
    pub spot_checked: Vec<u64>,
    /// With `--coverage`: what the seeds explored (`alarmsim_sim::coverage`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage: Option<Coverage>,
    /// With `--guided`: how many seeds ran with each knob setting (`faults=link`: 12, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub knobs: Option<std::collections::BTreeMap<String, u64>>,
}

struct Outcome {
    index: usize,
    report: RunReport,
    nondeterminism: Option<String>,
    /// The knobs a guided sweep chose for the seed.
    knobs: Option<Knobs>,
}

pub fn run(args: SweepArgs) -> anyhow::Result<ExitCode> {
    if args.guided && args.shard.is_some() {
        return Err(select::UsageError(
            "--guided cannot run as a shard: the guide chooses each batch's knobs from the results of every seed before it, which another shard never sees; run --guided unsharded (its seeds are deterministic), or shard a plain sweep".to_string(),
        )
        .into());
    }
    let scenarios: Vec<(ScenarioSpec, Subject)> =
        select::pairs(args.scenario.as_deref(), args.variant.as_deref())?.into_iter().map(|(spec, subject)| (args.link.apply(args.queue_faults.apply(args.edges.apply(spec))), subject)).collect();
    let jobs = args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get() as u64).unwrap_or(1));
    // Each scenario's seed range: `--seeds`, or its default share of DEFAULT_SEEDS.
    let mut ranges = Vec::with_capacity(scenarios.len());
    for (spec, _) in &scenarios {
        let count = args.seeds.unwrap_or_else(|| alarmsim_scenarios::default_seeds(spec, DEFAULT_SEEDS));
        let end = args.start_seed.checked_add(count).ok_or_else(|| select::UsageError(format!("--start-seed {} plus {count} seeds overflows u64", args.start_seed)))?;
        ranges.push(match args.shard {
            Some(shard) => shard.seeds(args.start_seed, end),
            None => (args.start_seed..end).collect::<Vec<u64>>(),
        });
    }
    if let Some(file) = &args.save_regressions {
        regressions::check_appendable(file).map_err(|e| select::UsageError(format!("--save-regressions: {e}")))?;
    }
    let total = ranges.iter().map(|r| r.len() as u64).sum();
    crate::failure_dir::prepare(&args.failures_dir)?;
    let bar = progress_bar(total, args.quiet || args.json);
    let mut summaries = Vec::new();
    let mut failure_texts = Vec::new();
    // Per scenario: its sampled seeds' first-run fingerprints (and knobs, if guided), for the
    // spot-check at the end.
    let mut sampled: Vec<Vec<(u64, Option<Knobs>, Fingerprint)>> = Vec::new();
    for ((spec, factory), seeds) in scenarios.iter().zip(ranges) {
        bar.set_message(spec.name.to_string());
        let started = Instant::now();
        // `--check-determinism` already compares every seed with a second run.
        let sample: BTreeSet<u64> = if args.check_determinism { BTreeSet::new() } else { spot_check::sample(&seeds).into_iter().collect() };
        let options = RunOptions { keep_trace: args.check_determinism, coverage: args.coverage };
        let mut outcomes = if args.guided {
            run_guided(spec, factory, &seeds, jobs as usize, options, &sample, &bar)
        } else {
            run_parallel(spec, factory, &seeds, jobs as usize, options, &sample, &bar)
        };
        sampled.push(outcomes.iter_mut().filter(|o| sample.contains(&o.report.seed)).map(|o| (o.report.seed, o.knobs, std::mem::take(&mut o.report.fingerprint))).collect());
        for outcome in &mut outcomes {
            outcome.report.replay_flags = format!("{}{}", args.edges.replay_flags(), args.queue_faults.replay_flags());
        }
        let mut summary = ScenarioSummary {
            scenario: spec.name.to_string(),
            variant: factory.name().to_string(),
            seeds: seeds.len() as u64,
            failures: Vec::new(),
            first_failing_seed: None,
            wall_ms: started.elapsed().as_millis() as u64,
            sim_ms: 0,
            events: 0,
            spot_checked: sample.iter().copied().collect(),
            coverage: args.coverage.then(|| Coverage::declaring(&factory.declared_probes())),
            knobs: args.guided.then(|| knob_counts(&outcomes)),
        };
        // Coverage first: a failure folder says which rare probes its seed reached.
        if let Some(coverage) = summary.coverage.as_mut() {
            for outcome in &outcomes {
                coverage.add_run(outcome.report.seed, &outcome.report.coverage);
            }
        }
        // The knobs of the first failing seed, which the shrinker needs to draw its plan.
        let first_knobs = outcomes.iter().filter(|o| !o.report.passed()).min_by_key(|o| o.report.seed).and_then(|o| o.knobs);
        for outcome in outcomes {
            let report = &outcome.report;
            summary.sim_ms += report.sim_ms;
            summary.events += report.events;
            if let Some(detail) = &outcome.nondeterminism {
                summary.failures.push(FailureSummary {
                    seed: report.seed,
                    invariant: "determinism".to_string(),
                    message: detail.clone(),
                    replay: report.replay_command(),
                    folder: None,
                });
                failure_texts.push(format!("NONDETERMINISM scenario={} seed={}: {detail}\n  replay: {}\n", report.scenario, report.seed, report.replay_command()));
            } else if let Some(v) = &report.violation {
                summary.failures.push(FailureSummary {
                    seed: report.seed,
                    invariant: v.invariant.to_string(),
                    message: v.to_string(),
                    replay: report.replay_command(),
                    folder: None,
                });
                if summary.failures.len() <= crate::failure_dir::MAX_PER_SCENARIO {
                    let dir = crate::failure_dir::write(&args.failures_dir, report, summary.coverage.as_ref())?;
                    summary.failures.last_mut().expect("just pushed").folder = Some(dir.display().to_string());
                }
                // The full report for the first failure of each scenario; the rest are listed
                // by seed after the loop.
                if summary.failures.len() == 1 {
                    failure_texts.push(report.failure_text(25).expect("a violation"));
                }
            }
        }
        summary.first_failing_seed = summary.failures.iter().map(|f| f.seed).min();
        let folders = summary.failures.iter().filter(|f| f.folder.is_some()).count();
        if folders > 0 {
            let capped = if summary.failures.len() > folders { format!(" (the first {folders})") } else { String::new() };
            let files: Vec<&str> = crate::trace_files::Format::ALL.iter().map(|f| f.file_name()).collect();
            failure_texts.push(format!(
                "  failure folders{capped}: {}/{}-{}-<seed>/ (report.txt, {}, plan.json)\n",
                args.failures_dir.display(),
                spec.name,
                factory.name(),
                files.join(", ")
            ));
            if let Some(first) = summary.failures.iter().find_map(|f| f.folder.as_ref()) {
                let first = std::path::Path::new(first);
                failure_texts.push(format!(
                    "  timeline: {} (open it in a browser; {} opens in https://ui.perfetto.dev)\n",
                    first.join(crate::trace_files::Format::Html.file_name()).display(),
                    first.join(crate::trace_files::Format::Perfetto.file_name()).display()
                ));
            }
        }
        if summary.failures.len() > 1 {
            let more: Vec<String> = summary.failures[1..].iter().take(20).map(|f| f.seed.to_string()).collect();
            let ellipsis = if summary.failures.len() > 21 { ", ..." } else { "" };
            failure_texts.push(format!("  {} more failing seeds of {}: {}{ellipsis} (all of them: --json)\n", summary.failures.len() - 1, spec.name, more.join(", ")));
        }
        // Report this scenario's failures now, then shrink its first failing seed so it can be
        // read in a minute.
        if !args.json {
            let texts = std::mem::take(&mut failure_texts);
            let shrink_seed = summary.first_failing_seed.filter(|_| !args.no_shrink).map(|seed| (seed, first_knobs));
            bar.suspend(|| -> anyhow::Result<()> {
                for text in &texts {
                    eprint!("{}", crate::paint::failure_report(text));
                }
                if let Some((seed, knobs)) = shrink_seed {
                    let out = args.failures_dir.join(format!("{}-{}-{seed}", spec.name, factory.name())).join("shrunk-plan.json");
                    eprintln!("shrinking {} seed {seed} ...", spec.name);
                    crate::shrink_cmd::shrink_and_save(spec, factory.clone(), seed, knobs, Default::default(), &out)?;
                    eprintln!();
                }
                Ok(())
            })?;
        }
        summaries.push(summary);
    }
    bar.finish_and_clear();
    let spot_started = Instant::now();
    let spot_texts = spot_check_all(&scenarios, &sampled, jobs as usize, &mut summaries);
    let spot_ms = spot_started.elapsed().as_millis() as u64;
    let sweep_ms: u64 = summaries.iter().map(|s| s.wall_ms).sum::<u64>() + spot_ms;
    if !args.json {
        for text in &spot_texts {
            eprint!("{}", crate::paint::failure_report(text));
        }
    }
    let failed = summaries.iter().any(|s| !s.failures.is_empty());
    if let Some(file) = &args.save_regressions {
        save_regressions(file, &summaries, args.link.model())?;
    }
    if args.json {
        let mut summary = serde_json::json!({ "scenarios": summaries, "passed": !failed });
        if args.coverage {
            summary["probes"] = serde_json::to_value(crate::coverage_report::docs(scenarios.iter().map(|(_, s)| s)))?;
        }
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print!("{}", table(&summaries));
        for s in &summaries {
            if let Some(counts) = &s.knobs {
                let shown: Vec<String> = counts.iter().map(|(k, n)| format!("{k}:{n}")).collect();
                println!("guided {}: seeds per knob setting: {}", s.scenario, shown.join(" "));
            }
        }
        if args.coverage {
            let docs = crate::coverage_report::docs(scenarios.iter().map(|(_, s)| s));
            print!("{}", crate::coverage_report::text(&coverage_rows(&summaries), &docs));
        }
        println!("{}", spot_check_line(&summaries, args.check_determinism, spot_ms, sweep_ms));
        println!("{}", crate::paint::result_line(failed));
    }
    Ok(if failed { ExitCode::from(crate::EXIT_VIOLATION) } else { ExitCode::SUCCESS })
}

/// Appends every failing seed (violations only, not nondeterminism) to the regression file.
/// `link`: the alarm link the sweep ran under (job-queue entries ignore it).
fn save_regressions(file: &std::path::Path, summaries: &[ScenarioSummary], link: alarmsim_sim::scenario::LinkModel) -> anyhow::Result<()> {
    let entries: Vec<regressions::Entry> = summaries
        .iter()
        .flat_map(|s| {
            s.failures.iter().filter(|f| f.invariant != "determinism").map(|f| regressions::Entry {
                scenario: s.scenario.clone(),
                variant: s.variant.clone(),
                seed: f.seed,
                // `# <invariant>: <message>` (the message already names the invariant).
                comment: if f.message.starts_with(&f.invariant) { f.message.clone() } else { format!("{}: {}", f.invariant, f.message) },
                reaches: Vec::new(),
                link,
                line: 0,
            })
        })
        .collect();
    let added = regressions::append(file, &entries)?;
    eprintln!("--save-regressions: {added} new entries appended to {} ({} failing seeds)", file.display(), entries.len());
    Ok(())
}

fn progress_bar(total: u64, hidden: bool) -> ProgressBar {
    if hidden {
        return ProgressBar::hidden();
    }
    // indicatif draws nothing when stderr is not a terminal.
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg:>18} [{bar:30}] {pos}/{len} seeds  {per_sec}  ETA {eta}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar
}

/// Runs `seeds` on `jobs` workers; each seed still gets a fresh OS thread of its own. Only
/// the seeds in `sample` keep their fingerprints (for the spot-check; the rest would cost
/// memory in proportion to the sweep).
fn run_parallel(spec: &ScenarioSpec, factory: &Subject, seeds: &[u64], jobs: usize, options: RunOptions, sample: &BTreeSet<u64>, bar: &ProgressBar) -> Vec<Outcome> {
    let check_determinism = options.keep_trace;
    let queue: Mutex<VecDeque<(usize, u64)>> = Mutex::new(seeds.iter().copied().enumerate().collect());
    let results: Mutex<Vec<Outcome>> = Mutex::new(Vec::with_capacity(seeds.len()));
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            scope.spawn(|| loop {
                let Some((index, seed)) = queue.lock().expect("queue lock").pop_front() else { break };
                // Untraced first (the trace text is most of a run's cost); a failing seed is
                // replayed with its trace, which is the same run by determinism.
                let mut report = run_seed_traced(spec, factory.clone(), seed, options);
                let nondeterminism = if check_determinism { compare_with_rerun(spec, factory, &report) } else { None };
                if !report.passed() && (report.trace.is_empty() || report.coverage.is_empty()) {
                    // The failure folder lists the probes the failing seed reached.
                    report = run_seed_traced(spec, factory.clone(), seed, RunOptions { keep_trace: true, coverage: true });
                }
                if report.passed() && nondeterminism.is_none() {
                    report.trace = Default::default();
                }
                if !sample.contains(&seed) {
                    report.fingerprint = Default::default();
                }
                results.lock().expect("results lock").push(Outcome { index, report, nondeterminism, knobs: None });
                bar.inc(1);
            });
        }
    });
    let mut results = results.into_inner().expect("results lock");
    results.sort_by_key(|o| o.index);
    results
}

/// [`run_parallel`] steered by the guided search (`alarmsim_sim::guided`): the same seeds, each
/// with the knobs the guide chose for it. A failing seed is replayed traced with its knobs.
fn run_guided(spec: &ScenarioSpec, factory: &Subject, seeds: &[u64], jobs: usize, options: RunOptions, sample: &BTreeSet<u64>, bar: &ProgressBar) -> Vec<Outcome> {
    let check_determinism = options.keep_trace;
    let runs = alarmsim_sim::guided::run(spec, factory, seeds, jobs, options, &|| bar.inc(1));
    runs.into_iter()
        .enumerate()
        .map(|(index, (mut report, knobs))| {
            let seed = report.seed;
            let nondeterminism = if check_determinism {
                let second = alarmsim_sim::run::run_seed_with_knobs(spec, factory.clone(), seed, knobs, true);
                compare_traces(&report, &second)
            } else {
                None
            };
            if !report.passed() && report.trace.is_empty() {
                report = alarmsim_sim::run::run_seed_with_knobs(spec, factory.clone(), seed, knobs, RunOptions { keep_trace: true, coverage: true });
            }
            if report.passed() && nondeterminism.is_none() {
                report.trace = Default::default();
            }
            if !sample.contains(&seed) {
                report.fingerprint = Default::default();
            }
            Outcome { index, report, nondeterminism, knobs }
        })
        .collect()
}

/// How many seeds ran with each knob setting.
fn knob_counts(outcomes: &[Outcome]) -> std::collections::BTreeMap<String, u64> {
    let mut counts = std::collections::BTreeMap::new();
    for outcome in outcomes {
        match outcome.knobs {
            None => *counts.entry("plain".to_string()).or_default() += 1,
            Some(knobs) => {
                for setting in knobs.to_string().split(',') {
                    *counts.entry(setting.to_string()).or_default() += 1;
                }
            }
        }
    }
    counts
}

/// The determinism spot-check, after every scenario has run: each sampled seed runs again on
/// a fresh thread (`jobs` at a time) and must give its first run's fingerprint. A seed that
/// does not becomes a `determinism` failure of its scenario; returns the failure reports.
fn spot_check_all(scenarios: &[(ScenarioSpec, Subject)], sampled: &[Vec<(u64, Option<Knobs>, Fingerprint)>], jobs: usize, summaries: &mut [ScenarioSummary]) -> Vec<String> {
    let queue: Mutex<VecDeque<(usize, usize)>> = Mutex::new(sampled.iter().enumerate().flat_map(|(s, seeds)| (0..seeds.len()).map(move |i| (s, i))).collect());
    let found: Mutex<Vec<(usize, spot_check::Nondeterminism)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            scope.spawn(|| loop {
                let Some((s, i)) = queue.lock().expect("queue lock").pop_front() else { break };
                let (spec, subject) = &scenarios[s];
                let (seed, knobs, first) = &sampled[s][i];
                if let Some(found_one) = spot_check::recheck(spec, subject, *seed, *knobs, first) {
                    found.lock().expect("found lock").push((s, found_one));
                }
            });
        }
    });
    let mut found = found.into_inner().expect("found lock");
    found.sort_by_key(|(s, n)| (*s, n.seed));
    let mut texts = Vec::new();
    for (s, n) in found {
        let (spec, subject) = &scenarios[s];
        let replay = format!("cargo run --release -- sweep --scenario {} --variant {} --check-determinism", spec.name, subject.name());
        texts.push(format!("NONDETERMINISM scenario={} variant={}: {n}\n  compare whole traces: {replay}\n", spec.name, subject.name()));
        let summary = &mut summaries[s];
        summary.failures.push(FailureSummary { seed: n.seed, invariant: "determinism".to_string(), message: n.to_string(), replay, folder: None });
        summary.first_failing_seed = summary.failures.iter().map(|f| f.seed).min();
    }
    texts
}

/// The line under the table that says what the spot-check re-ran.
fn spot_check_line(summaries: &[ScenarioSummary], check_determinism: bool, spot_ms: u64, sweep_ms: u64) -> String {
    if check_determinism {
        return "determinism: every seed ran twice and its traces were compared byte for byte".to_string();
    }
    let rerun: usize = summaries.iter().map(|s| s.spot_checked.len()).sum();
    let skipped: Vec<&str> = summaries.iter().filter(|s| s.spot_checked.is_empty()).map(|s| s.scenario.as_str()).collect();
    let mut samples: Vec<String> = summaries.iter().filter(|s| !s.spot_checked.is_empty()).map(|s| sample_text(&s.spot_checked)).collect();
    samples.dedup();
    let mut line = if rerun == 0 {
        format!("determinism spot-check: none (it re-runs one seed in {} of a scenario; --check-determinism re-runs every seed)", spot_check::SAMPLE_EVERY)
    } else {
        let differing = summaries.iter().flat_map(|s| &s.failures).filter(|f| f.invariant == "determinism").count();
        let verdict = if differing == 0 { "every fingerprint matched".to_string() } else { format!("{differing} differed") };
        let share = 100.0 * spot_ms as f64 / sweep_ms.max(1) as f64;
        format!(
            "determinism spot-check: re-ran {rerun} seeds after the sweep, each on a fresh thread ({}): {verdict} ({:.1} s, {share:.1} % of the sweep)",
            samples.join("; "),
            spot_ms as f64 / 1000.0
        )
    };
    if rerun > 0 && !skipped.is_empty() {
        line.push_str(&format!("; not sampled (fewer than {} seeds): {}", spot_check::SAMPLE_EVERY, skipped.join(", ")));
    }
    line
}

/// `seeds 0, 25, 50, 75`, or the first few and a count.
fn sample_text(seeds: &[u64]) -> String {
    const SHOWN: usize = 6;
    let shown: Vec<String> = seeds.iter().take(SHOWN).map(u64::to_string).collect();
    if seeds.len() > SHOWN {
        format!("{} seeds, every {}th: {}, ...", seeds.len(), spot_check::SAMPLE_EVERY, shown.join(", "))
    } else {
        format!("seeds {}", shown.join(", "))
    }
}

/// Runs the seed again and compares the traces byte for byte.
fn compare_with_rerun(spec: &ScenarioSpec, factory: &Subject, first: &RunReport) -> Option<String> {
    compare_traces(first, &run_seed(spec, factory.clone(), first.seed))
}

/// Whether two runs of the same seed gave byte-identical traces.
fn compare_traces(first: &RunReport, second: &RunReport) -> Option<String> {
    let (a, b) = (first.trace.to_jsonl(), second.trace.to_jsonl());
    if a == b {
        return None;
    }
    let line = a.lines().zip(b.lines()).position(|(x, y)| x != y).unwrap_or_else(|| a.lines().count().min(b.lines().count()));
    Some(format!("two runs of the same seed gave different traces, first difference at event {line}"))
}

/// The scenarios that counted coverage, as the coverage report shows them.
pub fn coverage_rows(summaries: &[ScenarioSummary]) -> Vec<crate::coverage_report::Row<'_>> {
    summaries.iter().filter_map(|s| s.coverage.as_ref().map(|c| (s.scenario.as_str(), s.variant.as_str(), c))).collect()
}

/// The summary table, aligned (coloured on a terminal: header, violations column).
pub fn table(summaries: &[ScenarioSummary]) -> String {
    let header = ["scenario", "variant", "seeds", "events", "simulated", "violations", "seeds/s"];
    const VIOLATIONS_COLUMN: usize = 5;
    let rows: Vec<[String; 7]> = summaries
        .iter()
        .map(|s| {
            let secs = (s.wall_ms as f64 / 1000.0).max(0.001);
            [
                s.scenario.clone(),
                s.variant.clone(),
                s.seeds.to_string(),
                s.events.to_string(),
                format!("{:.1} h", s.sim_ms as f64 / 3_600_000.0),
                s.failures.len().to_string(),
                format!("{:.1}", s.seeds as f64 / secs),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let mut out = String::new();
    // Pad first, then style: the escape codes must not count towards a column's width.
    let pad = |i: usize, c: &str| if i < 2 { format!("{:<w$}", c, w = widths[i]) } else { format!("{:>w$}", c, w = widths[i]) };
    let header_line: Vec<String> = header.iter().enumerate().map(|(i, c)| crate::paint::header_cell(&pad(i, c))).collect();
    out.push_str(&header_line.join("  "));
    out.push('\n');
    out.push_str(&widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join("  "));
    out.push('\n');
    for (row, summary) in rows.iter().zip(summaries) {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, c)| if i == VIOLATIONS_COLUMN { crate::paint::violations_cell(&pad(i, c), summary.failures.len()) } else { pad(i, c) })
            .collect();
        out.push_str(&cells.join("  "));
        out.push('\n');
    }
    out
}
