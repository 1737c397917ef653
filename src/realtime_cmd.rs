//! `alarmsim realtime`: the reference scheduler for real, on the system clock and on-disk
//! SQLite in `--dir` ([`alarmsim_scheduler::realtime::RealtimeNode`]).
//!
//! The alarm handler appends `start <actor> scheduled=<ms> at=<ms>` to `DIR/fires.log`,
//! fsyncs it, works for `--handler-ms`, then appends and fsyncs `done …` the same way. So a
//! process killed at any point leaves a log that shows which handlers began and which ended.

use alarmsim_scheduler::realtime::{RealtimeNode, Stopped};
use alarmsim_scheduler::{ActorAlarms, ActorId, Durability, Fire, Millis};
use anyhow::Context;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct RealtimeArgs {
    /// Namespace directory (created if missing): metadata.sqlite, actors/*.sqlite, fires.log.
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
    /// Set ACTOR's alarm to now + MS milliseconds before running, e.g. `--set a1=+500`.
    /// Repeatable; a later value for the same actor replaces the earlier one.
    #[arg(long = "set", value_name = "ACTOR=+MS", value_parser = parse_set)]
    set: Vec<SetAlarm>,
    /// How long each alarm handler works (sleeps) between its `start` and `done` lines (at
    /// most 100 years, like every duration flag).
    #[arg(long, value_name = "MS", default_value_t = 0, value_parser = crate::limits::parse_ms)]
    handler_ms: u64,
    /// Stop after this many ms (at most 100 years). Without it the process runs until killed
    /// (or until idle with --until-idle).
    #[arg(long, value_name = "MS", value_parser = crate::limits::parse_ms)]
    run_for_ms: Option<u64>,
    /// Stop as soon as no alarm is pending or waiting for a retry.
    #[arg(long)]
    until_idle: bool,
    /// SQLite `synchronous` mode: `full` survives power loss, `normal` survives a process
    /// crash but may lose the last commits on power loss.
    #[arg(long, value_enum, value_name = "MODE", default_value_t = DurabilityArg::Full)]
    durability: DurabilityArg,
    /// Seed for the retry jitter (R15).
    #[arg(long, value_name = "N", default_value_t = 0, allow_hyphen_values = true, value_parser = crate::select::parse_seed)]
    seed: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum DurabilityArg {
    Normal,
    Full,
}

impl From<DurabilityArg> for Durability {
    fn from(d: DurabilityArg) -> Durability {
        match d {
            DurabilityArg::Normal => Durability::Normal,
            DurabilityArg::Full => Durability::Full,
        }
    }
}

/// One `--set ACTOR=+MS`.
#[derive(Clone, Debug)]
struct SetAlarm {
    actor: ActorId,
    after_ms: u32,
}

/// Parses `ACTOR=+MS`. Actor names become file names, so they are kept to a safe alphabet.
fn parse_set(value: &str) -> Result<SetAlarm, String> {
    const FORM: &str = "expected ACTOR=+MS, e.g. a1=+500 (ACTOR: letters, digits, '-' or '_'; MS: whole milliseconds from now)";
    let (actor, delay) = value.split_once('=').ok_or(FORM)?;
    let actor_ok = !actor.is_empty() && actor.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    let after_ms = delay.strip_prefix('+').filter(|ms| ms.chars().all(|c| c.is_ascii_digit())).and_then(|ms| ms.parse().ok());
    match after_ms {
        Some(after_ms) if actor_ok => Ok(SetAlarm { actor: ActorId::new(actor), after_ms }),
        _ => Err(FORM.to_string()),
    }
}

pub fn run(args: RealtimeArgs) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(&args.dir).with_context(|| format!("cannot create --dir {}", args.dir.display()))?;
    let mut node = RealtimeNode::open(&args.dir, args.durability.into(), args.seed)?;
    let started = node.now();
    for (actor, time) in node.pending() {
        println!("pending {actor} scheduled={}", time.0);
    }
    for set in &args.set {
        let at = node.now().saturating_add_ms(i64::from(set.after_ms));
        node.set_alarm(&set.actor, at)?;
        // Printed once the write is durable: from here on the alarm must fire.
        println!("set {} scheduled={}", set.actor, at.0);
    }

    let deadline = args.run_for_ms.map_or(Millis(i64::MAX), |ms| started.saturating_add_ms(i64::try_from(ms).unwrap_or(i64::MAX)));
    let log_path = args.dir.join("fires.log");
    let mut handler = |fire: &Fire, _storage: &mut ActorAlarms| -> bool {
        let line = |what: &str| format!("{what} {} scheduled={} at={}", fire.actor, fire.scheduled.0, now_ms());
        if let Err(e) = append_synced(&log_path, &line("start")) {
            eprintln!("error: {}: {e}; the handler fails and the alarm will be retried", log_path.display());
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(args.handler_ms));
        match append_synced(&log_path, &line("done")) {
            Ok(()) => true,
            Err(e) => {
                eprintln!("error: {}: {e}; the handler fails and the alarm will be retried", log_path.display());
                false
            }
        }
    };
    let stopped = node.run(deadline, |n| args.until_idle && n.is_idle(), &mut handler)?;
    let why = match stopped {
        Stopped::Deadline => "--run-for-ms elapsed",
        Stopped::Condition => "idle",
    };
    let pending = node.pending();
    println!("stopped ({why}); {} alarm(s) pending", pending.len());
    for (actor, time) in pending {
        println!("pending {actor} scheduled={}", time.0);
    }
    Ok(ExitCode::SUCCESS)
}

/// Wall-clock ms, read the way the scheduler reads it.
fn now_ms() -> i64 {
    use alarmsim_scheduler::io::{Clock, SystemClock};
    SystemClock.now().0
}

/// Appends one line and fsyncs it before returning, so it survives a SIGKILL right after.
fn append_synced(path: &Path, line: &str) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    file.write_all(format!("{line}\n").as_bytes())?;
    file.sync_all()
}
