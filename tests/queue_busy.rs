//! A statement that meets `SQLITE_BUSY` waits for the lock to change hands instead of
//! polling (`sim/src/queue/world.rs`, `SimDb::busy`). While a paused process held the write
//! lock for minutes, the world before polled every 100 ms: 57 % of a `queue-standard` seed's
//! statements were futile retries, each a chance to crash (docs/PERFORMANCE.md, issue 13's
//! "Speed"). Probe counts are deterministic, so this is no timed test: it fails if the retries
//! come back, whatever the machine.

use alarmsim_sim::{run_seed_traced, RunOptions};

#[test]
fn a_held_lock_is_waited_for_not_polled() {
    for name in ["queue-standard", "queue-zombies"] {
        let spec = alarmsim_scenarios::scenario(name).expect("a catalog scenario");
        let reference = alarmsim_scenarios::subject("reference", &spec).expect("the reference");
        let (mut retries, mut statements) = (0, 0);
        for seed in 0..20 {
            let report = run_seed_traced(&spec, reference.clone(), seed, RunOptions { keep_trace: false, coverage: true });
            assert!(report.violation.is_none(), "{name} seed {seed}: {:?}", report.violation);
            retries += report.coverage.count("queue.busy-retried");
            statements += report.events;
        }
        println!("{name}: {retries} busy retries in {statements} statements");
        assert!(retries > 0, "{name}: no statement met SQLITE_BUSY in 20 seeds; the check proves nothing");
        assert!(retries * 4 < statements, "{name}: {retries} of {statements} statements were busy retries (a quarter or more): is the lock polled again? (the polling world had 73,539 of 109,884 in queue-standard)");
    }
}
