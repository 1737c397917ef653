//! The `alarmsim` command line. `anyhow` lives here only (the libraries use typed errors).
//!
//! Exit codes: 0 ok, 1 a violation was found, 2 a usage error (a bad flag, plan or file),
//! 3 alarmsim itself failed (a panic of the simulator or the CLI: a bug, reported with its message).

mod bench_cmd;
mod bench_scale;
mod bench_search;
mod coverage_report;
mod failure_dir;
mod limits;
mod list_cmd;
mod realtime_cmd;
mod regressions;
mod replay_cmd;
mod merge_cmd;
mod paint;
mod queue_cmd;
mod select;
mod shard;
mod shrink_cmd;
mod sweep_cmd;
mod sqlite_alloc;
mod trace_files;

use clap::{Parser, Subcommand};

/// mimalloc for Rust's allocations: every seed runs on a fresh thread, and glibc's malloc made
/// two parallel seeds contend for its arenas (docs/PERFORMANCE.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(name = "alarmsim", version, about = "Deterministic simulation testing for alarm schedulers")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the scenario suite over a seed range and report violations (the main job).
    Sweep(sweep_cmd::SweepArgs),
    /// Run one seed of one scenario again, exactly, and write its trace.
    Replay(replay_cmd::ReplayArgs),
    /// Reduce a failing seed to a minimal plan and save it for `replay --plan`.
    Shrink(shrink_cmd::ShrinkArgs),
    /// List the scenarios and scheduler variants.
    List(list_cmd::ListArgs),
    /// Combine the JSON summaries of sharded sweeps (`sweep --json --shard i/n`).
    Merge(merge_cmd::MergeArgs),
    /// Measure the simulator's speed (seeds/s, events/s against bare madsim).
    Bench(bench_cmd::BenchArgs),
    /// Run the reference scheduler for real: system clock, on-disk SQLite in DIR.
    Realtime(realtime_cmd::RealtimeArgs),
    /// The durable job queue for real: enqueue, work, inspect, bench on an on-disk SQLite file.
    Queue(queue_cmd::QueueArgs),
}

/// Exit code for a usage error (bad flag, unknown name, unreadable input).
pub const EXIT_USAGE: u8 = 2;
/// Exit code when a run found a violation.
pub const EXIT_VIOLATION: u8 = 1;
/// Exit code when alarmsim itself failed: a panic of the simulator or of the CLI (never the
/// scheduler's: that is a `no-panic` violation, exit 1).
pub const EXIT_INTERNAL: u8 = 3;

/// Prints the first panic of the process as an error with its message and location (a
/// sweep's worker thread panics first, then `thread::scope` panics again on the main thread
/// without the message), so `main` can exit with [`EXIT_INTERNAL`] instead of 101.
fn install_panic_report() {
    use std::sync::atomic::{AtomicBool, Ordering};
    static REPORTED: AtomicBool = AtomicBool::new(false);
    std::panic::set_hook(Box::new(|info| {
        if REPORTED.swap(true, Ordering::SeqCst) {
            return;
        }
        let payload = info.payload();
        let message = payload.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| payload.downcast_ref::<String>().cloned()).unwrap_or_default();
        let location = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
        eprintln!("error: alarmsim itself failed: {message}\n  at {location}; this is a bug in alarmsim (exit {EXIT_INTERNAL}), please report it with the command line");
    }));
}

fn main() -> ExitCode {
    // Like other Unix tools, end quietly when the reader of our output goes away
    // (`alarmsim replay --full | head`): Rust ignores SIGPIPE by default and would panic.
    // SAFETY: called first thing in main, before any thread exists; restores the default action.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    sqlite_alloc::install();
    // Live logs: `RUST_LOG=alarmsim=debug` streams every simulated event (with its seed, time,
    // node and actor) to stderr; unset, nothing is logged.
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .without_time() // Inside a run the clock is simulated; events carry `t_ms`.
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init();
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    install_panic_report();
    let outcome = std::panic::catch_unwind(|| run(cli.command));
    match outcome {
        Ok(Ok(code)) => code,
        Ok(Err(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_USAGE)
        }
        Err(_) => ExitCode::from(EXIT_INTERNAL),
    }
}

fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Sweep(args) => sweep_cmd::run(args),
        Command::Replay(args) => replay_cmd::run(args),
        Command::Shrink(args) => shrink_cmd::run(args),
        Command::List(args) => list_cmd::run(args),
        Command::Merge(args) => merge_cmd::run(args),
        Command::Bench(args) => bench_cmd::run(args),
        Command::Realtime(args) => realtime_cmd::run(args),
        Command::Queue(args) => queue_cmd::run(args),
    }
}
