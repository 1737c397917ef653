//! The yardstick for the simulator's own overhead: a plain madsim timer loop that processes
//! the same number of timer events as a run of the world, with no scheduler, no SQLite and
//! no checks (dependency-notes.md: ~1.5 M timer events/s here).

use std::time::{Duration, Instant};

/// Runs `events` timer events (`tasks` tasks sleeping 1–1000 ms each time) on a fresh madsim
/// runtime seeded with `seed`, on a fresh OS thread. Returns the wall time it took.
pub fn bare_timer_loop(events: u64, tasks: u64, seed: u64) -> Duration {
    assert!(tasks > 0 && events >= tasks, "at least one event per task");
    std::thread::spawn(move || {
        let runtime = madsim::runtime::Runtime::with_seed_and_config(seed, madsim::Config::default());
        let started = Instant::now();
        runtime.block_on(async move {
            let per_task = events / tasks;
            let mut handles = Vec::new();
            for t in 0..tasks {
                handles.push(madsim::task::spawn(async move {
                    for i in 0..per_task {
                        let ms = 1 + (t * 7919 + i * 104_729) % 1000;
                        madsim::time::sleep(Duration::from_millis(ms)).await;
                    }
                }));
            }
            for handle in handles {
                handle.await.expect("a timer task completes");
            }
        });
        started.elapsed()
    })
    .join()
    .expect("the yardstick thread completes")
}
