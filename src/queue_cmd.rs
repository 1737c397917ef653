//! `alarmsim queue`: the reference job queue ([`SqliteQueue`]) for real, on an on-disk
//! SQLite file ([`RealDb`]: WAL, `synchronous` NORMAL or FULL) and the system clock.
//!
//! - `enqueue` prints `acked <id>` and flushes stdout after each INSERT committed, so a
//!   reader that saw the line knows the job is on disk (`tests/queue_kill.rs` kills it).
//! - `work` runs worker threads, one connection each: reclaim expired leases, claim, run the
//!   (trivial) job, complete; it prints `claimed <id> attempt=<n>`, `done <id>`, `fenced <id>`
//!   and `reclaimed <id> …`.
//! - `inspect` counts jobs by state and lists dead letters; `bench` measures enqueue, claim
//!   and complete throughput on disk (docs/PERFORMANCE.md).

use crate::realtime_cmd::DurabilityArg;
use alarmsim_scheduler::queue::inspect::{contents, Contents};
use alarmsim_scheduler::queue::real::{block_on, unix_ms, RealDb, QUEUE_KIND};
use alarmsim_scheduler::queue::schema::{migrate_atomically, LATEST};
use alarmsim_scheduler::store_file::{self, Access};
use alarmsim_scheduler::error::{LOCK_ATTEMPTS, LOCK_WAIT_MS};
use alarmsim_scheduler::queue::{status, FailOutcome, JobQueue, NewJob, QueueConfig, QueueError, Reclaimed, SqliteQueue, Ulid};
use alarmsim_scheduler::StoreError;
use anyhow::{bail, Context};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug)]
pub struct QueueArgs {
    #[command(subcommand)]
    command: QueueCommand,
}

#[derive(clap::Subcommand, Debug)]
enum QueueCommand {
    /// Enqueue jobs; prints `acked <id>` once each one is committed.
    Enqueue(EnqueueArgs),
    /// Run workers: claim, run and complete jobs, reclaim expired leases.
    Work(WorkArgs),
    /// Jobs by state, dead letters and the schema version of a queue file.
    Inspect(InspectArgs),
    /// Measure enqueue, claim and complete throughput (ops/s) on disk.
    Bench(BenchArgs),
}

/// The queue file and how it syncs.
#[derive(clap::Args, Debug)]
struct DbArgs {
    /// The queue's SQLite file (created if missing; its directory must exist).
    #[arg(long, value_name = "FILE")]
    db: PathBuf,
    /// SQLite `synchronous` mode: `full` survives power loss, `normal` survives a process
    /// crash but may lose the last commits on power loss.
    #[arg(long, value_enum, value_name = "MODE", default_value_t = DurabilityArg::Full)]
    durability: DurabilityArg,
}

/// The queue's knobs (`QueueConfig`); they matter wherever leases are reclaimed, which
/// every process does on open.
#[derive(clap::Args, Debug, Clone, Copy)]
struct ConfigArgs {
    /// How long a claim is exclusive; after it, the job may be reclaimed and its worker is fenced.
    /// At most 100 years (every duration flag: `limits.rs`).
    #[arg(long, value_name = "MS", default_value_t = QueueConfig::default().lease_ms, value_parser = crate::limits::parse_positive_ms)]
    lease_ms: u64,
    /// First retry delay; attempt n waits MS · 2ⁿ⁻¹ (the doubling stops at 2¹⁶). At most 100 years.
    #[arg(long, value_name = "MS", default_value_t = QueueConfig::default().backoff_base_ms, value_parser = crate::limits::parse_ms)]
    backoff_ms: u64,
    /// Attempts (claims) a job gets before it moves to the dead-letter table.
    #[arg(long, value_name = "N", default_value_t = QueueConfig::default().max_attempts, value_parser = clap::value_parser!(u32).range(1..))]
    max_attempts: u32,
}

impl From<ConfigArgs> for QueueConfig {
    fn from(c: ConfigArgs) -> QueueConfig {
        QueueConfig { lease_ms: c.lease_ms, max_attempts: c.max_attempts, backoff_base_ms: c.backoff_ms }
    }
}

#[derive(clap::Args, Debug)]
struct EnqueueArgs {
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    config: ConfigArgs,
    /// How many jobs.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    count: u64,
    /// Each job is due this many ms after its enqueue (at most 100 years).
    #[arg(long, value_name = "MS", default_value_t = 0, value_parser = crate::limits::parse_ms)]
    delay_ms: u64,
}

#[derive(clap::Args, Debug)]
struct WorkArgs {
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    config: ConfigArgs,
    /// Worker threads, one SQLite connection each.
    #[arg(long, value_name = "K", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=64))]
    workers: u64,
    /// Stop once no job is queued or running (dead letters aside). Without it, run until killed.
    #[arg(long)]
    until_empty: bool,
    /// How long each job works (sleeps) between its claim and its completion (at most 100 years).
    #[arg(long, value_name = "MS", default_value_t = 0, value_parser = crate::limits::parse_ms)]
    job_ms: u64,
}

#[derive(clap::Args, Debug)]
struct InspectArgs {
    /// The queue's SQLite file (must exist).
    #[arg(long, value_name = "FILE")]
    db: PathBuf,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args, Debug)]
struct BenchArgs {
    /// Directory for the benchmark's queue file (created if missing; the file is removed after).
    /// Use a directory on the disk you want to measure, not a tmpfs.
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
    #[arg(long, value_enum, value_name = "MODE", default_value_t = DurabilityArg::Full)]
    durability: DurabilityArg,
    /// Jobs per phase.
    #[arg(long, value_name = "N", default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..))]
    jobs: u64,
}

pub fn run(args: QueueArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        QueueCommand::Enqueue(args) => enqueue(args),
        QueueCommand::Work(args) => work(args),
        QueueCommand::Inspect(args) => inspect(args),
        QueueCommand::Bench(args) => bench(args),
    }
    .map(|()| ExitCode::SUCCESS)
}

/// Prints one line and flushes it: a reader that saw it may act on it at once.
fn say(line: std::fmt::Arguments) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_fmt(line).and_then(|()| out.write_all(b"\n")).and_then(|()| out.flush()).context("cannot write to stdout")
}

/// Connects to `--db`: the file is accepted first (read-only: nothing is written to a file
/// that is refused), then opened with the lock policy's busy timeout.
fn connect(db: &Path, durability: DurabilityArg) -> anyhow::Result<RealDb> {
    RealDb::open(db, durability.into()).with_context(|| format!("--db {}", db.display()))
}

/// Connects, migrates, switches on job checksums and reclaims expired leases (what every
/// process does on start).
fn open(args: &DbArgs, config: ConfigArgs) -> anyhow::Result<(SqliteQueue, RealDb)> {
    let context = || format!("--db {}", args.db.display());
    let mut db = connect(&args.db, args.durability)?;
    // Migrated before the checksum triggers exist (they need schema v4), and before the
    // queue's own open, whose reclaim writes rows the triggers must see.
    block_on(migrate_atomically(&mut db)).map_err(|e| queue_error(&db, e)).with_context(context)?;
    db.keep_checksums().with_context(context)?;
    let mut queue = SqliteQueue::with_config(config.into());
    let reclaimed = block_on(queue.open(&mut db)).map_err(|e| queue_error(&db, e)).with_context(context)?;
    report_reclaimed(&reclaimed)?;
    Ok((queue, db))
}

/// A queue error in the words of the lock policy when the file stayed locked.
fn queue_error(db: &RealDb, e: QueueError) -> anyhow::Error {
    match e {
        QueueError::Busy { .. } => anyhow::Error::new(StoreError::Locked { path: db.path().to_path_buf(), waited_ms: LOCK_WAIT_MS * u64::from(LOCK_ATTEMPTS) }),
        other => anyhow::Error::new(other),
    }
}

fn report_reclaimed(reclaimed: &[Reclaimed]) -> anyhow::Result<()> {
    for r in reclaimed {
        match r.outcome {
            FailOutcome::Retry { at_ms, attempts } => say(format_args!("reclaimed {} attempts={attempts} retry_at={at_ms}", r.id))?,
            FailOutcome::Dead { attempts } => say(format_args!("reclaimed {} attempts={attempts} dead", r.id))?,
        }
    }
    Ok(())
}

fn enqueue(args: EnqueueArgs) -> anyhow::Result<()> {
    let (mut queue, mut db) = open(&args.db, args.config)?;
    for seq in 0..args.count {
        // Cannot wrap: --delay-ms is at most 100 years (`limits.rs`).
        let job = noop_job(seq, unix_ms() + args.delay_ms);
        let id = job.id;
        block_on(queue.enqueue(&mut db, job)).map_err(|e| queue_error(&db, e)).with_context(|| format!("--db {}: enqueue", args.db.db.display()))?;
        // Only now is the job committed: from here on it must never be lost.
        say(format_args!("acked {id}"))?;
    }
    Ok(())
}

/// The trivial job `enqueue` and `bench` create: a fresh ULID, due at `due_ms`.
fn noop_job(seq: u64, due_ms: u64) -> NewJob {
    NewJob { id: Ulid::new(), name: "noop".into(), payload: format!("{{\"seq\":{seq}}}"), scheduled_for_ms: due_ms }
}

/// A worker loop polls at least this often (other processes may enqueue at any time).
const POLL_MS: u64 = 200;
/// Leases are checked for expiry at least this often while jobs keep a worker busy.
const RECLAIM_EVERY_MS: u64 = 1_000;

fn work(args: WorkArgs) -> anyhow::Result<()> {
    drop(open(&args.db, args.config)?); // Migrates once, before the workers start.
    let args = &args;
    let done = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..args.workers).map(|k| scope.spawn(move || worker(args, k))).collect();
        workers.into_iter().map(|w| w.join().expect("a worker thread panicked")).sum::<anyhow::Result<u64>>()
    })?;
    if args.until_empty {
        say(format_args!("empty: {done} job(s) done by this process"))?;
    }
    Ok(())
}

fn worker(args: &WorkArgs, k: u64) -> anyhow::Result<u64> {
    let mut db = connect(&args.db.db, args.db.durability)?;
    db.keep_checksums().with_context(|| format!("--db {}", args.db.db.display()))?;
    let mut queue = SqliteQueue::with_config(args.config.into());
    let context = || format!("--db {}: worker {k}", args.db.db.display());
    let mut done = 0;
    let mut next_reclaim = 0;
    loop {
        let now = unix_ms();
        if now >= next_reclaim {
            let reclaimed = block_on(queue.reclaim_expired(&mut db)).map_err(|e| queue_error(&db, e)).with_context(context)?;
            report_reclaimed(&reclaimed)?;
            next_reclaim = now + args.config.lease_ms.min(RECLAIM_EVERY_MS);
        }
        // A fresh owner per claim, so a stale claim of this very worker is fenced too.
        let owner = format!("{}-w{k}-{}", std::process::id(), Ulid::new());
        if let Some(job) = block_on(queue.claim(&mut db, &owner)).map_err(|e| queue_error(&db, e)).with_context(context)? {
            say(format_args!("claimed {} attempt={}", job.id, job.attempts + 1))?;
            std::thread::sleep(Duration::from_millis(args.job_ms));
            match block_on(queue.complete(&mut db, &job)) {
                Ok(()) => {
                    done += 1;
                    say(format_args!("done {}", job.id))?;
                }
                Err(e) if e.is_fenced() => say(format_args!("fenced {} (the lease expired and the job was reclaimed)", job.id))?,
                Err(e) => return Err(queue_error(&db, e)).with_context(context),
            }
            continue;
        }
        let wake = block_on(queue.wakeup(&mut db)).map_err(|e| queue_error(&db, e)).with_context(context)?;
        if args.until_empty && wake.next_due_ms.is_none() && wake.next_lease_expiry_ms.is_none() {
            return Ok(done);
        }
        if let Some(expiry) = wake.next_lease_expiry_ms {
            next_reclaim = next_reclaim.min(expiry);
        }
        let next = wake.next_due_ms.map_or(next_reclaim, |due| due.min(next_reclaim));
        std::thread::sleep(Duration::from_millis(next.saturating_sub(unix_ms()).clamp(1, POLL_MS)));
    }
}

fn inspect(args: InspectArgs) -> anyhow::Result<()> {
    // Read-only, and the same checks as every open: a directory, a FIFO, a device, another
    // application's database or a damaged one is named as such, and nothing is written.
    let context = || format!("--db {}", args.db.display());
    let size = store_file::check_path(&args.db, Access::Read).with_context(context)?.unwrap_or(0);
    if size == 0 {
        bail!("--db {}: the file is empty: no job queue has been created in it yet", args.db.display());
    }
    let conn = store_file::open_for_checks(&args.db, size).with_context(context)?;
    store_file::check_database(&conn, &args.db, &QUEUE_KIND).with_context(context)?;
    let found = contents(&conn).with_context(|| format!("--db {}: not a readable job queue", args.db.display()))?;
    let summary = Summary::of(&found, unix_ms());
    if args.json {
        let dead: Vec<_> = found.dead.iter().map(|(id, d)| serde_json::json!({"id": id, "attempts": d.attempts, "last_error": d.last_error})).collect();
        let report = serde_json::json!({
            "schema_version": found.version,
            "latest_schema_version": LATEST,
            "queued": summary.queued,
            "due": summary.due,
            "running": summary.running,
            "done": summary.done,
            "retried": summary.retried,
            "dead": found.dead.len(),
            "dead_letters": dead,
        });
        say(format_args!("{}", serde_json::to_string_pretty(&report)?))?;
        return Ok(());
    }
    say(format_args!("schema version {} (this build writes {LATEST})", found.version))?;
    say(format_args!("queued {} ({} due now)", summary.queued, summary.due))?;
    say(format_args!("running {}", summary.running))?;
    say(format_args!("done {}", summary.done))?;
    say(format_args!("retried {} (jobs with at least one failed or lost attempt)", summary.retried))?;
    say(format_args!("dead {}", found.dead.len()))?;
    for (id, d) in &found.dead {
        say(format_args!("dead {id} attempts={} error={}", d.attempts, d.last_error))?;
    }
    Ok(())
}

/// Job counts by state.
#[derive(Default)]
struct Summary {
    queued: u64,
    due: u64,
    running: u64,
    done: u64,
    retried: u64,
}

impl Summary {
    fn of(found: &Contents, now: u64) -> Summary {
        let mut s = Summary::default();
        for row in found.jobs.values() {
            match row.status {
                status::QUEUED => {
                    s.queued += 1;
                    s.due += u64::from(row.scheduled_for_ms <= now);
                }
                status::RUNNING => s.running += 1,
                _ => s.done += 1,
            }
            s.retried += u64::from(row.attempts > 0);
        }
        s
    }
}

fn bench(args: BenchArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.dir).with_context(|| format!("--dir {}: cannot create", args.dir.display()))?;
    let file = args.dir.join(format!("queue-bench-{}.sqlite", Ulid::new()));
    let outcome = bench_on(&file, &args);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
    }
    outcome
}

fn bench_on(file: &Path, args: &BenchArgs) -> anyhow::Result<()> {
    let db_args = DbArgs { db: file.to_path_buf(), durability: args.durability };
    let config = ConfigArgs { lease_ms: 3_600_000, backoff_ms: 30_000, max_attempts: 5 };
    let (mut queue, mut db) = open(&db_args, config)?;
    let durability: alarmsim_scheduler::Durability = args.durability.into();
    say(format_args!(
        "queue bench: {} jobs per phase, synchronous={}, {} ({})",
        args.jobs,
        durability.pragma(),
        file.display(),
        filesystem(&args.dir)
    ))?;
    let phase = |name: &str, started: Instant| {
        let secs = started.elapsed().as_secs_f64();
        say(format_args!("{name:<9} {:>7} ops in {secs:>7.3} s = {:>8.0} ops/s", args.jobs, args.jobs as f64 / secs))
    };
    let started = Instant::now();
    for seq in 0..args.jobs {
        // Due at once, as `queue enqueue` makes them (ties within a ms are claimed by id).
        block_on(queue.enqueue(&mut db, noop_job(seq, unix_ms())))?;
    }
    phase("enqueue", started)?;
    let started = Instant::now();
    let mut claimed = Vec::with_capacity(args.jobs as usize);
    for seq in 0..args.jobs {
        match block_on(queue.claim(&mut db, &format!("bench-{seq}")))? {
            Some(job) => claimed.push(job),
            None => bail!("claim {seq} found no job; {} were enqueued", args.jobs),
        }
    }
    phase("claim", started)?;
    let started = Instant::now();
    for job in &claimed {
        block_on(queue.complete(&mut db, job))?;
    }
    phase("complete", started)?;
    Ok(())
}

/// The file system type of `dir`, by its statfs magic number (a tmpfs makes fsync free).
fn filesystem(dir: &Path) -> String {
    let Ok(c_path) = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()) else {
        return "file system unknown".into();
    };
    // SAFETY: statfs fills the zeroed struct we own, from a NUL-terminated path.
    let mut fs: libc::statfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statfs(c_path.as_ptr(), &mut fs) } != 0 {
        return "file system unknown".into();
    }
    let name = match fs.f_type as i64 {
        0xEF53 => "ext4",
        0x5846_5342 => "xfs",
        0x9123_683E => "btrfs",
        0x794C_7630 => "overlayfs",
        0x0102_1994 => "tmpfs: fsync costs nothing here, the numbers do not reflect a disk",
        other => return format!("file system magic {other:#x}"),
    };
    name.into()
}
