//! The local alarm scheduler (`ManagerCore` + `MetadataStore`), checked against:
//!
//! - workerd `src/workerd/server/alarm-scheduler-test.c++` (alarm-semantics.md §4),
//! - workerd `src/workerd/server/server-test.c++` "Durable Object alarm persistence (on disk)",
//! - workerd `src/workerd/api/alarm-retry-test.c++` (the counted/uncounted table, R14),
//! - and the rules R8–R19 of alarm-semantics.md, unit by unit.
//!
//! On-disk tests drive the core the way `io::LocalManager::flush` does: every
//! `ManagerEffect::Persist` row is written with `MetadataStore::write` before anything else
//! happens (R18: a synchronous upsert).

use alarmsim_scheduler::backoff::{FailureFacts, RetryPolicy, RetryState};
use alarmsim_scheduler::manager::{Applied, Status};
use alarmsim_scheduler::metadata_store::{metadata_migrations, MetadataStore, METADATA_FILE, METADATA_SCHEMA_VERSION};
use alarmsim_scheduler::{ActorId, AlarmRow, Durability, Fence, Fire, FireResult, ManagerCore, ManagerEffect, Millis, Outcome};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rusqlite::Connection;
use std::path::Path;

const SECOND: i64 = 1_000;
const HOUR: i64 = 3_600 * SECOND;

fn ms(t: i64) -> Millis {
    Millis(t)
}

fn actor(name: &str) -> ActorId {
    ActorId::new(name)
}

fn cmd(seq: u64) -> Fence {
    Fence::command(1, seq)
}

fn rng() -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(0x5eed)
}

fn result(outcome: Outcome) -> FireResult {
    FireResult { outcome, report: None }
}

const COUNTED: Outcome = Outcome::Failed { counted: true };
const UNCOUNTED: Outcome = Outcome::Failed { counted: false };

/// Every effect the core queued, in order.
fn drain(core: &mut ManagerCore) -> Vec<ManagerEffect> {
    std::iter::from_fn(|| core.poll_effect()).collect()
}

/// Only the non-persistence effects (abandon requests).
fn requests(core: &mut ManagerCore) -> Vec<ManagerEffect> {
    drain(core).into_iter().filter(|e| !matches!(e, ManagerEffect::Persist(_))).collect()
}

/// `io::LocalManager::flush`: writes every persisted row, returns the other effects.
fn flush(core: &mut ManagerCore, store: &MetadataStore) -> Vec<ManagerEffect> {
    let mut rest = Vec::new();
    while let Some(effect) = core.poll_effect() {
        match effect {
            ManagerEffect::Persist(row) => store.write(&row).expect("metadata write"),
            other => rest.push(other),
        }
    }
    rest
}

fn open(dir: &Path) -> MetadataStore {
    MetadataStore::open_dir(dir, Durability::Full).expect("open metadata.sqlite")
}

/// A fresh scheduler over `dir` (R18 `loadAlarmsFromDb`).
fn reopen(dir: &Path) -> (ManagerCore, MetadataStore) {
    let store = open(dir);
    let core = ManagerCore::load(store.load().expect("load rows"), RetryPolicy::default());
    (core, store)
}

/// Fires exactly one alarm for `a` at `now` and returns it.
fn fire_one(core: &mut ManagerCore, a: &ActorId, now: i64) -> Fire {
    let fires = core.take_due(ms(now));
    assert_eq!(fires.len(), 1, "expected exactly one fire at {now}: {fires:?}");
    assert_eq!(&fires[0].actor, a);
    fires.into_iter().next().unwrap()
}

/// The delay the core chose for the retry it is waiting out.
fn retry_delay(core: &ManagerCore, a: &ActorId, now: i64) -> i64 {
    match core.status(a) {
        Some(Status::Backoff { retry_at }) => retry_at.0 - now,
        other => panic!("expected a backoff, got {other:?}"),
    }
}

fn raw(dir: &Path) -> Connection {
    Connection::open(dir.join(METADATA_FILE)).expect("raw open")
}

// ===== workerd server/alarm-scheduler-test.c++ ================================================

/// An old row loads; the column is added as NULL. The v1 file is made by the crate's own
/// migrations stopped at version 1.
#[test]
fn migrates_a_database_created_before_the_actor_name_column_existed() {
    let dir = tempfile::tempdir().unwrap();
    let t = 24 * HOUR;
    {
        let mut conn = Connection::open(dir.path().join(METADATA_FILE)).unwrap();
        metadata_migrations().to_version(&mut conn, 1).unwrap();
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(version, 1);
        let has_name: i64 =
            conn.query_row("SELECT COUNT(*) FROM pragma_table_info('_cf_ALARM') WHERE name = 'actor_name'", [], |r| r.get(0)).unwrap();
        assert_eq!(has_name, 0, "a v1 file has no actor_name column");
        conn.execute("INSERT INTO _cf_ALARM (actor_id, scheduled_time) VALUES ('old-actor', ?1)", [t]).unwrap();
    }

    let (core, store) = reopen(dir.path());
    assert_eq!(core.get_alarm(&actor("old-actor")), Some(ms(t)));
    assert_eq!(store.load().unwrap(), vec![AlarmRow { actor: actor("old-actor"), time: Some(ms(t)), name: None, fence: Fence::default() }]);
    drop(store);

    let conn = raw(dir.path());
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, METADATA_SCHEMA_VERSION);
    let name: Option<String> = conn.query_row("SELECT actor_name FROM _cf_ALARM WHERE actor_id = 'old-actor'", [], |r| r.get(0)).unwrap();
    assert_eq!(name, None, "the migrated row's actor_name is NULL");
}

/// The same case with the file written by hand the way an older build wrote it: WAL mode,
/// no `WITHOUT ROWID`, `user_version = 1`.
#[test]
fn migrates_a_database_created_before_the_actor_name_column_existed_raw_sql() {
    let dir = tempfile::tempdir().unwrap();
    let t = 24 * HOUR;
    {
        let conn = Connection::open(dir.path().join(METADATA_FILE)).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn.execute_batch(
            "CREATE TABLE _cf_ALARM (actor_id TEXT PRIMARY KEY, scheduled_time INTEGER NOT NULL);
             INSERT INTO _cf_ALARM VALUES ('old-actor', 86400000), ('other', 90000000);
             PRAGMA user_version = 1;",
        )
        .unwrap();
    }

    let (mut core, store) = reopen(dir.path());
    assert_eq!(core.get_alarm(&actor("old-actor")), Some(ms(t)));
    assert_eq!(core.get_alarm(&actor("other")), Some(ms(90_000_000)));
    assert!(store.load().unwrap().iter().all(|r| r.name.is_none()));

    // The migrated table takes new writes, with names.
    assert_eq!(core.schedule(&actor("old-actor"), Some(ms(t + 1)), cmd(1), Some("named".into())), Applied::Applied);
    flush(&mut core, &store);
    drop(store);
    let (core, store) = reopen(dir.path());
    assert_eq!(core.get_alarm(&actor("old-actor")), Some(ms(t + 1)));
    let row = store.load().unwrap().into_iter().find(|r| r.actor == actor("old-actor")).unwrap();
    assert_eq!(row.name.as_deref(), Some("named"));
}

/// set(named, 24h); set(unnamed, 48h) → (48h, name kept); reopen → 48h.
#[test]
fn persists_actor_name_and_preserves_it_across_a_nameless_update() {
    let dir = tempfile::tempdir().unwrap();
    let a = actor("named-actor");
    {
        let (mut core, store) = reopen(dir.path());
        core.schedule(&a, Some(ms(24 * HOUR)), cmd(1), Some("my-name".into()));
        core.schedule(&a, Some(ms(48 * HOUR)), cmd(2), None);
        assert!(flush(&mut core, &store).is_empty());
    }
    {
        let conn = raw(dir.path());
        let (time, name): (i64, Option<String>) = conn
            .query_row("SELECT scheduled_time, actor_name FROM _cf_ALARM WHERE actor_id = 'named-actor'", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!(time, 48 * HOUR);
        assert_eq!(name.as_deref(), Some("my-name"));
    }
    let (core, store) = reopen(dir.path());
    assert_eq!(core.get_alarm(&a), Some(ms(48 * HOUR)));
    assert_eq!(store.load().unwrap()[0].name.as_deref(), Some("my-name"));
}

/// A fresh scheduler on the same file fires the alarm (only once the clock reaches it) and
/// hands the persisted name to the actor (`ctx.id.name`).
#[test]
fn restores_the_persisted_actor_name_when_an_alarm_fires() {
    let dir = tempfile::tempdir().unwrap();
    let a = actor("named-actor");
    {
        let (mut core, store) = reopen(dir.path());
        core.schedule(&a, Some(ms(HOUR)), cmd(1), Some("my-name".into()));
        flush(&mut core, &store);
    }
    let (mut core, _store) = reopen(dir.path());
    assert!(core.take_due(ms(HOUR - 1)).is_empty(), "R8: not before its time");
    let fire = fire_one(&mut core, &a, HOUR);
    assert_eq!(fire, Fire { actor: a, scheduled: ms(HOUR), retry_count: 0, is_retry: false, name: Some("my-name".into()) });
}

/// ABORTED → abandonAlarm; get = none (and none after a restart).
#[test]
fn abandons_an_alarm_when_ctx_abort_sets_retry_alarm_to_false() {
    let dir = tempfile::tempdir().unwrap();
    let a = actor("terminal-actor");
    let mut rng = rng();
    {
        let (mut core, store) = reopen(dir.path());
        core.schedule(&a, Some(ms(HOUR)), cmd(1), None);
        flush(&mut core, &store);
        fire_one(&mut core, &a, HOUR);
        core.on_fire_result(&a, ms(HOUR), result(Outcome::Aborted), ms(HOUR), &mut rng);
        assert_eq!(flush(&mut core, &store), vec![ManagerEffect::Abandon { actor: a.clone(), scheduled: ms(HOUR) }]);
        assert_eq!(core.status(&a), Some(Status::Abandoning));
        assert!(core.take_due(ms(10 * HOUR)).is_empty(), "R13: an aborted alarm is not retried");
        // The actor cleared its alarm (R16: S == T) and answers none.
        core.on_abandon_result(&a, ms(HOUR), Ok((None, Fence::report(1, 1))), ms(HOUR + 5));
        flush(&mut core, &store);
        assert_eq!(core.get_alarm(&a), None);
        assert_eq!(core.next_wakeup(), None);
    }
    let (mut core, _store) = reopen(dir.path());
    assert_eq!(core.get_alarm(&a), None);
    assert!(core.take_due(ms(100 * HOUR)).is_empty());
}

/// The same, with the actor's account attached to the outcome the way a driver sends it: the
/// handler failed, so the actor still stores T and reports it. That report is the alarm
/// being abandoned, not a replacement (R16), so it must not survive the abandon.
#[test]
fn abandons_an_alarm_when_ctx_abort_sets_retry_alarm_to_false_with_the_actor_report() {
    let dir = tempfile::tempdir().unwrap();
    let a = actor("terminal-actor");
    let mut rng = rng();
    {
        let (mut core, store) = reopen(dir.path());
        core.schedule(&a, Some(ms(HOUR)), cmd(1), None);
        fire_one(&mut core, &a, HOUR);
        let report = Some((Some(ms(HOUR)), Fence::report(1, 1)));
        core.on_fire_result(&a, ms(HOUR), FireResult { outcome: Outcome::Aborted, report }, ms(HOUR), &mut rng);
        assert_eq!(flush(&mut core, &store), vec![ManagerEffect::Abandon { actor: a.clone(), scheduled: ms(HOUR) }]);
        assert!(core.take_due(ms(10 * HOUR)).is_empty(), "R13: an aborted alarm is not retried");
        // abandonAlarm(T) cleared S (it equalled T) before any new command: same report fence.
        core.on_abandon_result(&a, ms(HOUR), Ok((None, Fence::report(1, 1))), ms(HOUR + 5));
        flush(&mut core, &store);
        assert_eq!(core.get_alarm(&a), None);
        assert!(core.take_due(ms(10 * HOUR)).is_empty(), "the abandoned alarm must not fire again");
    }
    let (mut core, _store) = reopen(dir.path());
    assert_eq!(core.get_alarm(&a), None);
    assert!(core.take_due(ms(100 * HOUR)).is_empty());
}

/// When `abandonAlarm` answers with the actor's alarm (it did not clear it: a write was in
/// flight), the manager keeps that alarm (R16: "return S so AM can re-register").
#[test]
fn abandon_answer_with_a_stored_alarm_re_registers_it() {
    let a = actor("a");
    let mut rng = rng();
    let mut core = ManagerCore::default();
    core.schedule(&a, Some(ms(HOUR)), cmd(1), None);
    fire_one(&mut core, &a, HOUR);
    let report = Some((Some(ms(HOUR)), Fence::report(1, 1)));
    core.on_fire_result(&a, ms(HOUR), FireResult { outcome: Outcome::Aborted, report }, ms(HOUR), &mut rng);
    core.on_abandon_result(&a, ms(HOUR), Ok((Some(ms(HOUR)), Fence::report(1, 1))), ms(HOUR + 5));
    assert_eq!(core.get_alarm(&a), Some(ms(HOUR)));
    assert_eq!(core.rows()[0].time, Some(ms(HOUR)));
}

/// Fences decide between an abandon answer and commands: a command issued after the answer
/// was computed outranks it, even when it re-sets the very time being abandoned.
#[test]
fn a_command_newer_than_the_abandon_answer_outranks_it() {
    let a = actor("a");
    let mut rng = rng();
    let mut core = ManagerCore::default();
    core.schedule(&a, Some(ms(HOUR)), cmd(1), None);
    fire_one(&mut core, &a, HOUR);
    let report = Some((Some(ms(HOUR)), Fence::report(1, 1)));
    core.on_fire_result(&a, ms(HOUR), FireResult { outcome: Outcome::Aborted, report }, ms(HOUR), &mut rng);
    // The same time as the alarm being abandoned: the fence advances, nothing else changes.
    assert_eq!(core.schedule(&a, Some(ms(HOUR)), cmd(2), None), Applied::Unchanged);
    core.on_abandon_result(&a, ms(HOUR), Ok((None, Fence::report(1, 1))), ms(HOUR + 5));
    assert_eq!(core.get_alarm(&a), Some(ms(HOUR)));
    assert_eq!(core.rows()[0].fence, cmd(2));
    // And an answer newer than every command is taken as is.
    let b = actor("b");
    let mut core = ManagerCore::default();
    core.schedule(&b, Some(ms(HOUR)), cmd(1), None);
    fire_one(&mut core, &b, HOUR);
    core.on_fire_result(&b, ms(HOUR), result(Outcome::Aborted), ms(HOUR), &mut rng);
    core.schedule(&b, Some(ms(2 * HOUR)), cmd(2), None);
    core.on_abandon_result(&b, ms(HOUR), Ok((Some(ms(3 * HOUR)), Fence::report(1, 2))), ms(HOUR + 5));
    assert_eq!(core.get_alarm(&b), Some(ms(3 * HOUR)));
}

/// abandon pending; set(2h); resolve(none) → 2h; reopen from disk → 2h (B8).
#[test]
fn preserves_an_alarm_queued_while_abandonment_is_pending() {
    let dir = tempfile::tempdir().unwrap();
    let a = actor("terminal-actor");
    let mut rng = rng();
    {
        let (mut core, store) = reopen(dir.path());
        core.schedule(&a, Some(ms(HOUR)), cmd(1), None);
        flush(&mut core, &store);
        fire_one(&mut core, &a, HOUR);
        core.on_fire_result(&a, ms(HOUR), result(Outcome::Aborted), ms(HOUR), &mut rng);
        assert_eq!(flush(&mut core, &store), vec![ManagerEffect::Abandon { actor: a.clone(), scheduled: ms(HOUR) }]);

        // The replacement arrives while the abandon is pending: queued, and durable at once.
        assert_eq!(core.schedule(&a, Some(ms(2 * HOUR)), cmd(2), None), Applied::Applied);
        flush(&mut core, &store);
        assert_eq!(core.get_alarm(&a), Some(ms(2 * HOUR)));
        assert_eq!(store.load().unwrap()[0].time, Some(ms(2 * HOUR)));

        // The answer was computed before the replacement was issued.
        core.on_abandon_result(&a, ms(HOUR), Ok((None, Fence::report(1, 1))), ms(HOUR + 5));
        flush(&mut core, &store);
        assert_eq!(core.get_alarm(&a), Some(ms(2 * HOUR)));
        assert_eq!(core.status(&a), Some(Status::Waiting));
        assert!(core.take_due(ms(2 * HOUR - 1)).is_empty());
    }
    let (mut core, _store) = reopen(dir.path());
    assert_eq!(core.get_alarm(&a), Some(ms(2 * HOUR)));
    assert!(core.take_due(ms(2 * HOUR - 1)).is_empty());
    assert_eq!(fire_one(&mut core, &a, 2 * HOUR).scheduled, ms(2 * HOUR));
}

/// A replacement queued during the abandon also survives an abandon RPC that throws.
#[test]
fn preserves_an_alarm_queued_while_abandonment_is_pending_when_abandon_fails() {
    let a = actor("a");
    let mut rng = rng();
    let mut core = ManagerCore::default();
    core.schedule(&a, Some(ms(HOUR)), cmd(1), None);
    fire_one(&mut core, &a, HOUR);
    core.on_fire_result(&a, ms(HOUR), result(Outcome::Aborted), ms(HOUR), &mut rng);
    core.schedule(&a, Some(ms(2 * HOUR)), cmd(2), None);
    core.on_abandon_result(&a, ms(HOUR), Err(()), ms(HOUR + 5));
    assert_eq!(core.get_alarm(&a), Some(ms(2 * HOUR)));
    assert_eq!(core.status(&a), Some(Status::Waiting));
}

/// R16: "If the abandon RPC throws, the alarm is kept" (here: retried after the longest backoff).
#[test]
fn abandon_rpc_failure_keeps_the_alarm() {
    let dir = tempfile::tempdir().unwrap();
    let a = actor("a");
    let mut rng = rng();
    let (mut core, store) = reopen(dir.path());
    core.schedule(&a, Some(ms(HOUR)), cmd(1), None);
    fire_one(&mut core, &a, HOUR);
    core.on_fire_result(&a, ms(HOUR), result(Outcome::Aborted), ms(HOUR), &mut rng);
    flush(&mut core, &store);
    core.on_abandon_result(&a, ms(HOUR), Err(()), ms(HOUR));
    flush(&mut core, &store);
    let longest = RetryPolicy::default().base_delay_ms(9);
    assert_eq!(longest, 1024 * SECOND);
    assert_eq!(core.status(&a), Some(Status::Backoff { retry_at: ms(HOUR + longest) }));
    assert_eq!(core.get_alarm(&a), Some(ms(HOUR)));
    assert_eq!(store.load().unwrap()[0].time, Some(ms(HOUR)));
    assert!(core.take_due(ms(HOUR + longest - 1)).is_empty());
    assert_eq!(fire_one(&mut core, &a, HOUR + longest).scheduled, ms(HOUR));
}

// ===== workerd server/server-test.c++ ==========================================================

/// "Server: Durable Object alarm persistence (on disk)": set(far future); restart on the same
/// directory → unchanged; `metadata.sqlite` exists.
#[test]
fn durable_object_alarm_persistence_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let a = actor("persistent");
    let far = ms(4_102_444_800_000); // 2100-01-01
    {
        let (mut core, store) = reopen(dir.path());
        core.schedule(&a, Some(far), cmd(1), Some("persistent".into()));
        assert!(flush(&mut core, &store).is_empty());
        assert_eq!(store.path(), dir.path().join(METADATA_FILE));
    }
    assert!(dir.path().join(METADATA_FILE).is_file(), "metadata.sqlite exists in the namespace directory");
    for _restart in 0..2 {
        let (mut core, store) = reopen(dir.path());
        assert_eq!(core.get_alarm(&a), Some(far));
        assert_eq!(core.next_wakeup(), Some(far));
        assert!(core.take_due(ms(far.0 - 1)).is_empty());
        assert!(flush(&mut core, &store).is_empty(), "loading writes nothing");
    }
}

// ===== workerd api/alarm-retry-test.c++ (R14) ==================================================

fn facts(output_gate_broken: bool, is_user_error: bool, resource_limit_exceeded: bool) -> FailureFacts {
    FailureFacts { output_gate_broken, is_user_error, resource_limit_exceeded }
}

#[test]
fn alarm_retry_counts_against_limit_a_broken_output_gate_alone_does_not_count() {
    assert!(!facts(true, false, false).counts_against_limit());
}

#[test]
fn alarm_retry_counts_against_limit_a_resource_limit_breach_that_broke_the_gate_counts_stor_5337_regression() {
    assert!(facts(true, false, true).counts_against_limit());
}

#[test]
fn alarm_retry_counts_against_limit_a_user_error_that_broke_the_gate_counts() {
    assert!(facts(true, true, false).counts_against_limit());
}

#[test]
fn alarm_retry_counts_against_limit_failures_without_a_broken_output_gate_always_count() {
    for is_user_error in [false, true] {
        for resource_limit_exceeded in [false, true] {
            assert!(facts(false, is_user_error, resource_limit_exceeded).counts_against_limit());
        }
    }
}

/// The static_assert table: the single uncounted case is (gateBroken, ¬user, ¬limit).
#[test]
fn alarm_retry_counts_against_limit_full_truth_table() {
    const TABLE: [(bool, bool, bool, bool); 8] = [
        (true, false, false, false),
        (true, false, true, true),
        (true, true, false, true),
        (true, true, true, true),
        (false, false, false, true),
        (false, false, true, true),
        (false, true, false, true),
        (false, true, true, true),
    ];
    const _: () =
        assert!(!FailureFacts { output_gate_broken: true, is_user_error: false, resource_limit_exceeded: false }.counts_against_limit());
    const _: () =
        assert!(FailureFacts { output_gate_broken: true, is_user_error: false, resource_limit_exceeded: true }.counts_against_limit());
    for (gate, user, limit, counted) in TABLE {
        assert_eq!(facts(gate, user, limit).counts_against_limit(), counted, "({gate}, {user}, {limit})");
    }
}

/// B15 (STOR-5337) end to end: a CPU-limit interrupt that broke the gate is counted, so the
/// alarm is abandoned after 7 attempts instead of retrying forever.
#[test]
fn resource_limit_breach_failures_are_abandoned_not_retried_forever() {
    let a = actor("a");
    let mut rng = rng();
    let mut core = ManagerCore::default();
    core.schedule(&a, Some(ms(1_000)), cmd(1), None);
    let outcome = Outcome::Failed { counted: facts(true, false, true).counts_against_limit() };
    let mut now = 1_000;
    let mut attempts = 0;
    loop {
        let fire = fire_one(&mut core, &a, now);
        attempts += 1;
        core.on_fire_result(&a, fire.scheduled, result(outcome), ms(now), &mut rng);
        if core.status(&a) == Some(Status::Abandoning) {
            break;
        }
        now += retry_delay(&core, &a, now);
        assert!(attempts < 100, "never abandoned");
    }
    assert_eq!(attempts, 7);
}

// ===== ManagerCore semantics ===================================================================

/// R8: `take_due` before the alarm time returns nothing, at every step of the way.
#[test]
fn never_fires_early() {
    let a = actor("a");
    let b = actor("b");
    let mut core = ManagerCore::default();
    core.schedule(&a, Some(ms(5_000)), cmd(1), None);
    core.schedule(&b, Some(ms(7_000)), Fence::command(9, 1), None);
    assert_eq!(core.next_wakeup(), Some(ms(5_000)));
    for now in [0, 1, 4_000, 4_999] {
        assert!(core.take_due(ms(now)).is_empty(), "fired early at {now}");
    }
    let fires = core.take_due(ms(5_000));
    assert_eq!(fires.iter().map(|f| (&f.actor, f.scheduled)).collect::<Vec<_>>(), [(&a, ms(5_000))]);
    assert_eq!(core.next_wakeup(), Some(ms(7_000)), "a running alarm is not a wakeup");
    assert!(core.take_due(ms(6_999)).is_empty());
    assert_eq!(fire_one(&mut core, &b, 9_000).scheduled, ms(7_000), "late is fine; it fires with its own time");

    // A rescheduled alarm waits for its new time, even if the old one has passed.
    let c = actor("c");
    core.schedule(&c, Some(ms(10_000)), cmd(1), None);
    core.schedule(&c, Some(ms(20_000)), cmd(2), None);
    assert!(core.take_due(ms(15_000)).is_empty());
    assert_eq!(fire_one(&mut core, &c, 20_000).scheduled, ms(20_000));
}

/// R8 for retries: a retry waits out its backoff.
#[test]
fn never_fires_a_retry_before_its_backoff() {
    let a = actor("a");
    let mut rng = rng();
    let mut core = ManagerCore::default();
    core.schedule(&a, Some(ms(1_000)), cmd(1), None);
    fire_one(&mut core, &a, 1_000);
    core.on_fire_result(&a, ms(1_000), result(COUNTED), ms(1_500), &mut rng);
    let delay = retry_delay(&core, &a, 1_500);
    assert_eq!(core.next_wakeup(), Some(ms(1_500 + delay)));
    assert!(core.take_due(ms(1_500 + delay - 1)).is_empty());
    let fire = fire_one(&mut core, &a, 1_500 + delay);
    assert_eq!(fire.scheduled, ms(1_000), "a retry carries the original scheduledTime (R10)");
}

/// R18 `loadAlarmsFromDb`: every row is scheduled; past ones fire at the first `take_due`,
/// future ones wait, tombstones never fire; retry state starts fresh.
#[test]
fn on_load_overdue_rows_fire_at_once() {
    let row = |name: &str, time: Option<i64>| AlarmRow { actor: actor(name), time: time.map(ms), name: None, fence: cmd(3) };
    let rows = vec![row("a", Some(100)), row("b", Some(9_999)), row("c", Some(50_000)), row("d", None)];
    let mut core = ManagerCore::load(rows, RetryPolicy::default());
    assert_eq!(core.next_wakeup(), Some(ms(100)));
    let fires = core.take_due(ms(10_000));
    assert_eq!(
        fires.iter().map(|f| (f.actor.0.as_str(), f.scheduled.0, f.retry_count, f.is_retry)).collect::<Vec<_>>(),
        [("a", 100, 0, false), ("b", 9_999, 0, false)]
    );
    assert_eq!(core.next_wakeup(), Some(ms(50_000)));
    assert!(core.take_due(ms(49_999)).is_empty());
    assert_eq!(core.retry_state(&actor("a")), Some(RetryState::default()));
    assert_eq!(core.get_alarm(&actor("d")), None);
    assert!(core.take_due(ms(i64::MAX)).iter().all(|f| f.actor != actor("d")));
}

/// R18 at-least-once: a crash mid-handler keeps the row, so the alarm runs again after a
/// restart, and retry counters reset.
#[test]
fn crash_mid_handler_re_runs_the_alarm_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let a = actor("a");
    let mut rng = rng();
    {
        let (mut core, store) = reopen(dir.path());
        core.schedule(&a, Some(ms(1_000)), cmd(1), None);
        flush(&mut core, &store);
        fire_one(&mut core, &a, 1_000);
        core.on_fire_result(&a, ms(1_000), result(COUNTED), ms(1_000), &mut rng);
        flush(&mut core, &store);
        let delay = retry_delay(&core, &a, 1_000);
        let fire = fire_one(&mut core, &a, 1_000 + delay);
        assert_eq!(fire.retry_count, 1);
        flush(&mut core, &store);
        // The process dies here, with the second attempt running.
    }
    let (mut core, _store) = reopen(dir.path());
    let fire = fire_one(&mut core, &a, 60_000);
    assert_eq!((fire.scheduled, fire.retry_count, fire.is_retry), (ms(1_000), 0, false));
}

/// R9: at most one running and one queued alarm per actor; the latest queued value wins and
/// is what is durable; the queued value runs when the attempt ends.
#[test]
fn at_most_one_running_and_one_queued_per_actor() {
    let a = actor("a");
    let mut rng = rng();
    let mut core = ManagerCore::default();
    core.schedule(&a, Some(ms(1_000)), cmd(1), None);
    fire_one(&mut core, &a, 1_000);
    assert_eq!(core.get_alarm(&a), None, "R5: getAlarm is null while STARTED with nothing queued");
    for (seq, t) in [(2, 500), (3, 3_000), (4, 2_000)] {
        assert_eq!(core.schedule(&a, Some(ms(t)), cmd(seq), None), Applied::Applied);
        assert!(core.take_due(ms(10_000)).is_empty(), "a second alarm started while one runs");
        assert_eq!(core.status(&a), Some(Status::Started));
    }
    assert_eq!(core.get_alarm(&a), Some(ms(2_000)), "only the latest queued value is kept");
    assert_eq!(core.rows()[0].time, Some(ms(2_000)), "the queued value is what survives a restart");
    assert_eq!(core.next_wakeup(), None);

    core.on_fire_result(&a, ms(1_000), result(Outcome::Succeeded), ms(1_200), &mut rng);
    assert_eq!(core.status(&a), Some(Status::Waiting));
    assert!(core.take_due(ms(1_999)).is_empty());
    assert_eq!(fire_one(&mut core, &a, 2_000).scheduled, ms(2_000));
    core.on_fire_result(&a, ms(2_000), result(Outcome::Succeeded), ms(2_000), &mut rng);
    assert_eq!(core.get_alarm(&a), None, "OK deletes the entry's alarm (R13)");
    assert!(core.take_due(ms(i64::MAX)).is_empty());
}

/// Different actors run independently: one per actor, not one overall.
#[test]
fn at_most_one_running_per_actor_not_per_namespace() {
    let mut core = ManagerCore::default();
    for (i, name) in ["a", "b", "c"].into_iter().enumerate() {
        core.schedule(&actor(name), Some(ms(100 * (i as i64 + 1))), cmd(1), None);
    }
    assert_eq!(core.take_due(ms(1_000)).len(), 3);
    assert!(core.take_due(ms(2_000)).is_empty());
}

/// R15: delays of exactly 2, 4, 8, 16, 32, 64 s plus jitter in [0, ⌊25%⌋], drawn from the
/// injected seeded RNG (the same seed gives the same delays).
#[test]
fn r15_backoff_delays_exactly_2_4_8_16_32_64_s_plus_jitter() {
    let run = |seed: u64| {
        let a = actor("a");
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut core = ManagerCore::default();
        core.schedule(&a, Some(ms(1_000)), cmd(1), None);
        let mut now = 1_000;
        let mut delays = Vec::new();
        for _ in 0..6 {
            fire_one(&mut core, &a, now);
            now += 250; // the handler ran for a while
            core.on_fire_result(&a, ms(1_000), result(COUNTED), ms(now), &mut rng);
            let delay = retry_delay(&core, &a, now);
            delays.push(delay);
            now += delay;
        }
        delays
    };
    let mut any_jitter = false;
    for seed in 0..20 {
        let delays = run(seed);
        assert_eq!(delays, run(seed), "seeded jitter is deterministic");
        for (delay, base_s) in delays.iter().zip([2, 4, 8, 16, 32, 64]) {
            let base = base_s * SECOND;
            let jitter = delay - base;
            assert!((0..=base / 4).contains(&jitter), "delay {delay} for base {base}: jitter out of [0, 25%]");
            any_jitter |= jitter > 0;
        }
    }
    assert!(any_jitter, "jitter is drawn from the RNG, not always zero");

    let policy = RetryPolicy::default();
    assert_eq!((0..11).map(|b| policy.base_delay_ms(b) / SECOND).collect::<Vec<_>>(), [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 1024]);
    assert_eq!(policy.max_jitter_ms(2_000), 500);
    assert_eq!(policy.max_jitter_ms(1_025), 256, "⌊0.25 · delayMs⌋");
}

/// R15: 1 + 6 counted retries = 7 attempts with retryCount 0..=6, then the Abandon effect.
#[test]
fn six_counted_retries_then_abandon_effect_seven_attempts() {
    let a = actor("a");
    let mut rng = rng();
    let mut core = ManagerCore::default();
    core.schedule(&a, Some(ms(1_000)), cmd(1), Some("n".into()));
    drain(&mut core);
    let mut now = 1_000;
    let mut seen = Vec::new();
    for attempt in 0..7 {
        let fire = fire_one(&mut core, &a, now);
        seen.push((fire.retry_count, fire.is_retry));
        assert_eq!(fire.scheduled, ms(1_000));
        core.on_fire_result(&a, ms(1_000), result(COUNTED), ms(now), &mut rng);
        let effects = requests(&mut core);
        if attempt < 6 {
            assert!(effects.is_empty(), "abandoned after attempt {}", attempt + 1);
            now += retry_delay(&core, &a, now);
        } else {
            assert_eq!(effects, vec![ManagerEffect::Abandon { actor: a.clone(), scheduled: ms(1_000) }]);
        }
    }
    assert_eq!(seen, [(0, false), (1, true), (2, true), (3, true), (4, true), (5, true), (6, true)]);
    assert_eq!(core.status(&a), Some(Status::Abandoning));
    assert_eq!(core.next_wakeup(), None);
    assert!(core.take_due(ms(i64::MAX)).is_empty(), "no 8th attempt");
    assert_eq!(core.rows()[0].time, Some(ms(1_000)), "the row stays until the actor answers (R16)");
}

/// R15: "When countedRetry ≥ 6 the scheduler calls abandonAlarm(T)", whatever kind of failure
/// ends the 7th attempt.
#[test]
fn an_uncounted_failure_after_six_counted_retries_still_abandons() {
    let a = actor("a");
    let mut rng = rng();
    let mut core = ManagerCore::default();
    core.schedule(&a, Some(ms(1_000)), cmd(1), None);
    let mut now = 1_000;
    for _ in 0..6 {
        fire_one(&mut core, &a, now);
        core.on_fire_result(&a, ms(1_000), result(COUNTED), ms(now), &mut rng);
        now += retry_delay(&core, &a, now);
    }
    assert_eq!(fire_one(&mut core, &a, now).retry_count, 6);
    drain(&mut core);
    core.on_fire_result(&a, ms(1_000), result(UNCOUNTED), ms(now), &mut rng);
    assert_eq!(requests(&mut core), vec![ManagerEffect::Abandon { actor: a.clone(), scheduled: ms(1_000) }]);
}

/// R14: uncounted retries are unlimited; retryCount stays 0, isRetry = retryCount > 0 (R10),
/// and the backoff grows to its 1024 s cap.
#[test]
fn uncounted_retries_are_unlimited() {
    let a = actor("a");
    let mut rng = rng();
    let mut core = ManagerCore::default();
    core.schedule(&a, Some(ms(1_000)), cmd(1), None);
    let mut now = 1_000;
    for attempt in 0..100 {
        let fire = fire_one(&mut core, &a, now);
        assert_eq!((fire.retry_count, fire.is_retry), (0, false), "attempt {attempt}: R10 isRetry = retryCount > 0");
        core.on_fire_result(&a, ms(1_000), result(UNCOUNTED), ms(now), &mut rng);
        assert!(requests(&mut core).is_empty(), "abandoned after {} uncounted failures", attempt + 1);
        let delay = retry_delay(&core, &a, now);
        let base = RetryPolicy::default().base_delay_ms(attempt);
        assert!((base..=base + base / 4).contains(&delay), "attempt {attempt}: delay {delay}, base {base}");
        now += delay;
    }
    assert_eq!(RetryPolicy::default().base_delay_ms(99), 1024 * SECOND);
}

/// R15: backoff++ on every retry, reset to 0 at the first counted retry after an uncounted one.
#[test]
fn backoff_resets_at_the_first_counted_retry_after_an_uncounted_one() {
    let a = actor("a");
    let mut rng = rng();
    let mut core = ManagerCore::default();
    core.schedule(&a, Some(ms(1_000)), cmd(1), None);
    let mut now = 1_000;
    let mut bases = Vec::new();
    let mut counts = Vec::new();
    for outcome in [UNCOUNTED, UNCOUNTED, UNCOUNTED, COUNTED, COUNTED, UNCOUNTED, COUNTED, COUNTED] {
        let fire = fire_one(&mut core, &a, now);
        counts.push(fire.retry_count);
        core.on_fire_result(&a, ms(1_000), result(outcome), ms(now), &mut rng);
        let delay = retry_delay(&core, &a, now);
        // Jitter is below 25%, so the base is the largest power-of-two step not above it.
        let base = [2, 4, 8, 16, 32, 64, 128].into_iter().map(|s| s * SECOND).filter(|b| *b <= delay).max().unwrap();
        assert!(delay - base <= base / 4);
        bases.push(base / SECOND);
        now += delay;
    }
    assert_eq!(bases, [2, 4, 8, 2, 4, 8, 2, 4]);
    assert_eq!(counts, [0, 0, 0, 0, 1, 2, 2, 3]);
    assert_eq!(core.retry_state(&a).map(|r| (r.counted, r.backoff)), Some((4, 2)));
}

/// The backoff bookkeeping on its own (`RetryState::on_failure`).
#[test]
fn retry_state_counts_and_resets_as_r15_says() {
    use alarmsim_scheduler::backoff::RetryDecision;
    let policy = RetryPolicy::default();
    let mut rng = rng();
    let mut state = RetryState::default();
    for _ in 0..3 {
        assert!(matches!(state.on_failure(false, &policy, &mut rng), RetryDecision::RetryAfterMs(_)));
    }
    assert_eq!((state.counted, state.backoff), (0, 3));
    let RetryDecision::RetryAfterMs(d) = state.on_failure(true, &policy, &mut rng) else { panic!() };
    assert!((2_000..=2_500).contains(&d));
    assert_eq!((state.counted, state.backoff), (1, 1));
    for _ in 0..5 {
        assert!(matches!(state.on_failure(true, &policy, &mut rng), RetryDecision::RetryAfterMs(_)));
    }
    assert_eq!(state.counted, 6);
    assert_eq!(state.on_failure(true, &policy, &mut rng), RetryDecision::Abandon);
    assert_eq!(state.on_failure(false, &policy, &mut rng), RetryDecision::Abandon);
}

/// B13 (PR #853, "retries did not back off"): after a failed attempt the actor still stores T
/// and reports it. That report is the same alarm, not a new `setAlarm` (R3), so the retry
/// still waits out its backoff and keeps its count.
#[test]
fn a_failed_attempt_reporting_its_own_alarm_still_backs_off() {
    let a = actor("a");
    let mut rng = rng();
    let mut core = ManagerCore::default();
    core.schedule(&a, Some(ms(1_000)), cmd(1), None);
    let mut now = 1_000;
    let mut attempts = Vec::new();
    loop {
        let fire = fire_one(&mut core, &a, now);
        attempts.push((now, fire.retry_count));
        let report = Some((Some(ms(1_000)), Fence::report(1, 1)));
        core.on_fire_result(&a, ms(1_000), FireResult { outcome: COUNTED, report }, ms(now), &mut rng);
        if !requests(&mut core).is_empty() {
            break;
        }
        let delay = retry_delay(&core, &a, now);
        assert!(delay >= 2 * SECOND, "retry without backoff");
        assert!(core.take_due(ms(now + delay - 1)).is_empty(), "retry without backoff");
        now += delay;
        assert!(attempts.len() < 20);
    }
    assert_eq!(attempts.iter().map(|(_, c)| *c).collect::<Vec<_>>(), [0, 1, 2, 3, 4, 5, 6]);
    assert!(attempts.windows(2).all(|w| w[1].0 - w[0].0 >= 2 * SECOND));
    // The actor clears T when asked to abandon it; the reported T did not become a replacement.
    core.on_abandon_result(&a, ms(1_000), Ok((None, Fence::report(1, 1))), ms(now));
    assert_eq!(core.get_alarm(&a), None);
    assert!(core.take_due(ms(i64::MAX)).is_empty());
}

/// R17: a set while the alarm runs is queued; when the attempt fails, the queued time runs
/// and the failed alarm is not retried.
#[test]
fn a_set_while_running_is_queued_and_supersedes_retries() {
    let dir = tempfile::tempdir().unwrap();
    let a = actor("a");
    let mut rng = rng();
    let (mut core, store) = reopen(dir.path());
    core.schedule(&a, Some(ms(1_000)), cmd(1), None);
    fire_one(&mut core, &a, 1_000);
    // The handler calls setAlarm(5000) and then throws.
    core.schedule(&a, Some(ms(5_000)), cmd(2), None);
    flush(&mut core, &store);
    assert_eq!(store.load().unwrap()[0].time, Some(ms(5_000)), "the queued alarm is durable at once");
    assert_eq!(core.get_alarm(&a), Some(ms(5_000)));
    core.on_fire_result(&a, ms(1_000), result(COUNTED), ms(1_100), &mut rng);
    assert!(flush(&mut core, &store).is_empty());
    assert_eq!(core.status(&a), Some(Status::Waiting));
    assert_eq!(core.retry_state(&a), Some(RetryState::default()));
    assert_eq!(core.next_wakeup(), Some(ms(5_000)), "no retry of 1000 in front of it");
    assert!(core.take_due(ms(4_999)).is_empty());
    let fire = fire_one(&mut core, &a, 5_000);
    assert_eq!((fire.scheduled, fire.retry_count, fire.is_retry), (ms(5_000), 0, false));
}

/// R17 also with an aborted attempt and with an exhausted one: the queued alarm runs instead
/// of the abandon.
#[test]
fn a_set_while_running_supersedes_an_abandon() {
    let a = actor("a");
    let mut rng = rng();
    let mut core = ManagerCore::default();
    core.schedule(&a, Some(ms(1_000)), cmd(1), None);
    fire_one(&mut core, &a, 1_000);
    core.schedule(&a, Some(ms(5_000)), cmd(2), None);
    core.on_fire_result(&a, ms(1_000), result(Outcome::Aborted), ms(1_100), &mut rng);
    assert!(requests(&mut core).is_empty(), "nothing to abandon: the queued alarm replaced it");
    assert_eq!(fire_one(&mut core, &a, 5_000).scheduled, ms(5_000));
}

/// The manager's own choice for FINISHED (backoff): a new value replaces the retry at once
/// and runs at its own time, with fresh retry state.
#[test]
fn a_set_during_backoff_supersedes_the_retry() {
    let a = actor("a");
    let mut rng = rng();
    let mut core = ManagerCore::default();
    core.schedule(&a, Some(ms(1_000)), cmd(1), None);
    fire_one(&mut core, &a, 1_000);
    core.on_fire_result(&a, ms(1_000), result(COUNTED), ms(1_000), &mut rng);
    assert!(matches!(core.status(&a), Some(Status::Backoff { .. })));
    core.schedule(&a, Some(ms(10_000)), cmd(2), None);
    assert_eq!(core.status(&a), Some(Status::Waiting));
    assert_eq!(core.next_wakeup(), Some(ms(10_000)));
    assert!(core.take_due(ms(9_999)).is_empty(), "the old retry is gone");
    let fire = fire_one(&mut core, &a, 10_000);
    assert_eq!((fire.scheduled, fire.retry_count), (ms(10_000), 0));
}

/// R19, PR #797: a delete while the alarm runs never erases the running entry (that crashed
/// workerd); it clears only the queued alarm. R4: it also stops retries (best effort), and
/// what is in memory matches what is durable.
#[test]
fn a_delete_while_running_clears_only_the_queued_one() {
    let dir = tempfile::tempdir().unwrap();
    let a = actor("a");
    let mut rng = rng();
    let (mut core, store) = reopen(dir.path());
    core.schedule(&a, Some(ms(1_000)), cmd(1), None);
    fire_one(&mut core, &a, 1_000);
    core.schedule(&a, Some(ms(5_000)), cmd(2), None);
    assert_eq!(core.get_alarm(&a), Some(ms(5_000)));
    assert_eq!(core.schedule(&a, None, cmd(3), None), Applied::Applied);
    flush(&mut core, &store);
    assert_eq!(core.status(&a), Some(Status::Started), "the running entry is not erased");
    assert_eq!(core.get_alarm(&a), None, "the queued alarm is gone");
    assert_eq!(store.load().unwrap()[0].time, None);
    assert!(core.take_due(ms(10_000)).is_empty());

    // The running attempt still reports normally (no crash, no lost bookkeeping).
    core.on_fire_result(&a, ms(1_000), result(COUNTED), ms(1_200), &mut rng);
    flush(&mut core, &store);
    assert_eq!(core.status(&a), Some(Status::Waiting));
    assert_eq!(core.get_alarm(&a), None);
    assert_eq!(core.effective_time(&a), store.load().unwrap()[0].time);
    assert!(core.take_due(ms(i64::MAX)).is_empty(), "neither 5000 nor a retry of 1000 comes back");
}

/// The same without a queued alarm: the running one finishes normally.
#[test]
fn a_delete_while_running_without_a_queued_alarm_keeps_the_running_entry() {
    let a = actor("a");
    let mut rng = rng();
    let mut core = ManagerCore::default();
    core.schedule(&a, Some(ms(1_000)), cmd(1), None);
    fire_one(&mut core, &a, 1_000);
    core.schedule(&a, None, cmd(2), None);
    assert_eq!(core.status(&a), Some(Status::Started));
    core.on_fire_result(&a, ms(1_000), result(Outcome::Succeeded), ms(1_100), &mut rng);
    assert_eq!(core.status(&a), Some(Status::Waiting));
    assert_eq!(core.get_alarm(&a), None);
}

/// R19: a delete between retries erases the entry, which cancels the pending retry.
#[test]
fn a_delete_during_backoff_cancels_the_pending_retry() {
    let a = actor("a");
    let mut rng = rng();
    let mut core = ManagerCore::default();
    core.schedule(&a, Some(ms(1_000)), cmd(1), None);
    fire_one(&mut core, &a, 1_000);
    core.on_fire_result(&a, ms(1_000), result(COUNTED), ms(1_000), &mut rng);
    core.schedule(&a, None, cmd(2), None);
    assert_eq!(core.get_alarm(&a), None);
    assert_eq!(core.next_wakeup(), None);
    assert!(core.take_due(ms(i64::MAX)).is_empty());
}

/// Outcomes without retry (R13): OK, CANCELED and SCRIPT_NOT_FOUND all end the alarm.
#[test]
fn outcomes_without_retry_end_the_alarm() {
    let mut rng = rng();
    for outcome in [Outcome::Succeeded, Outcome::Canceled, Outcome::NoHandler] {
        let a = actor("a");
        let mut core = ManagerCore::default();
        core.schedule(&a, Some(ms(1_000)), cmd(1), None);
        fire_one(&mut core, &a, 1_000);
        core.on_fire_result(&a, ms(1_000), result(outcome), ms(1_000), &mut rng);
        assert!(requests(&mut core).is_empty(), "{outcome:?}");
        assert_eq!(core.get_alarm(&a), None, "{outcome:?}");
        assert_eq!(core.rows()[0].time, None, "{outcome:?}");
        assert!(core.take_due(ms(i64::MAX)).is_empty(), "{outcome:?}");
    }
}

/// A Cancel outcome that carries the actor's value re-registers it (armAlarmHandler's
/// reschedule, PR #2648; B10 is losing it).
#[test]
fn a_canceled_attempt_with_a_report_re_registers_the_stored_alarm() {
    let a = actor("a");
    let mut rng = rng();
    let mut core = ManagerCore::default();
    core.schedule(&a, Some(ms(1_000)), cmd(1), None);
    fire_one(&mut core, &a, 1_000);
    let report = Some((Some(ms(5_000)), Fence::report(1, 1)));
    core.on_fire_result(&a, ms(1_000), FireResult { outcome: Outcome::Canceled, report }, ms(1_000), &mut rng);
    assert_eq!(core.get_alarm(&a), Some(ms(5_000)));
    assert_eq!(fire_one(&mut core, &a, 5_000).scheduled, ms(5_000));
}

/// A result for an attempt the manager did not start (a restart, or a duplicate) is ignored.
#[test]
fn a_stale_fire_result_is_ignored() {
    let a = actor("a");
    let mut rng = rng();
    let mut core = ManagerCore::default();
    core.schedule(&a, Some(ms(1_000)), cmd(1), None);
    core.on_fire_result(&a, ms(1_000), result(Outcome::Succeeded), ms(1_000), &mut rng);
    assert_eq!(core.get_alarm(&a), Some(ms(1_000)), "not started yet");
    fire_one(&mut core, &a, 1_000);
    core.on_fire_result(&a, ms(999), result(Outcome::Succeeded), ms(1_000), &mut rng);
    assert_eq!(core.status(&a), Some(Status::Started));
    core.on_fire_result(&a, ms(1_000), result(COUNTED), ms(1_000), &mut rng);
    let status = core.status(&a);
    core.on_fire_result(&a, ms(1_000), result(Outcome::Succeeded), ms(1_000), &mut rng);
    assert_eq!(core.status(&a), status, "a duplicate result changes nothing");
    core.on_fire_result(&actor("nobody"), ms(1_000), result(Outcome::Succeeded), ms(1_000), &mut rng);
    assert_eq!(core.status(&actor("nobody")), None);
}

/// workerd #5431 defence: a command whose fence is not newer than the last applied one is a
/// late or duplicated message and changes nothing (B1: a retried `sR(none)` must not wipe a
/// newer alarm).
#[test]
fn stale_fences_are_ignored() {
    let a = actor("a");
    let mut core = ManagerCore::default();
    assert_eq!(core.schedule(&a, Some(ms(2_000)), cmd(3), None), Applied::Applied);
    drain(&mut core);
    // The late delete from before the set, a duplicate, and an older incarnation's command.
    for fence in [cmd(2), cmd(3), Fence::command(0, 99), Fence::default()] {
        assert_eq!(core.schedule(&a, None, fence, None), Applied::Stale, "{fence}");
        assert_eq!(core.schedule(&a, Some(ms(1)), fence, Some("x".into())), Applied::Stale, "{fence}");
    }
    assert!(drain(&mut core).is_empty(), "a stale command persists nothing");
    assert_eq!(core.get_alarm(&a), Some(ms(2_000)));
    assert_eq!(core.rows()[0].fence, cmd(3));
    assert_eq!(core.rows()[0].name, None);
    // Newer fences apply: the report just above seq 3, the next command, a new incarnation.
    assert_eq!(core.schedule(&a, Some(ms(2_500)), Fence::report(1, 3), None), Applied::Applied);
    assert_eq!(core.schedule(&a, Some(ms(3_000)), cmd(4), None), Applied::Applied);
    assert_eq!(core.schedule(&a, Some(ms(4_000)), Fence::command(2, 1), None), Applied::Applied);
    assert_eq!(core.schedule(&a, Some(ms(9)), cmd(100), None), Applied::Stale, "older incarnation");
    assert_eq!(core.get_alarm(&a), Some(ms(4_000)));
}

/// Stale fences are ignored while the alarm runs, too (they must not queue).
#[test]
fn stale_fences_are_ignored_while_running() {
    let a = actor("a");
    let mut rng = rng();
    let mut core = ManagerCore::default();
    core.schedule(&a, Some(ms(1_000)), cmd(2), None);
    fire_one(&mut core, &a, 1_000);
    assert_eq!(core.schedule(&a, Some(ms(50)), cmd(1), None), Applied::Stale);
    assert_eq!(core.get_alarm(&a), None);
    core.on_fire_result(&a, ms(1_000), result(Outcome::Succeeded), ms(1_000), &mut rng);
    assert!(core.take_due(ms(i64::MAX)).is_empty());
}

/// Fences are durable: after a restart a message from before it is still stale.
#[test]
fn stale_fences_are_ignored_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let a = actor("a");
    {
        let (mut core, store) = reopen(dir.path());
        core.schedule(&a, Some(ms(2_000)), Fence::command(4, 7), None);
        core.schedule(&a, None, Fence::command(4, 8), None); // a tombstone keeps its fence
        flush(&mut core, &store);
    }
    let (mut core, store) = reopen(dir.path());
    assert_eq!(store.load().unwrap()[0].fence, Fence::command(4, 8));
    assert_eq!(core.schedule(&a, Some(ms(2_000)), Fence::command(4, 7), None), Applied::Stale);
    assert_eq!(core.get_alarm(&a), None);
    assert_eq!(core.schedule(&a, Some(ms(3_000)), Fence::command(5, 1), None), Applied::Applied);
    assert_eq!(core.get_alarm(&a), Some(ms(3_000)));
}

/// R19 `deleteAll()` (`workerd:unsafe deleteAllDurableObjects`): memory and table are wiped,
/// running and retrying alarms included; nothing fires, now or after a restart; late
/// commands stay stale and newer ones work.
#[test]
fn delete_all() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = rng();
    let (a, b, c, d) = (actor("a"), actor("b"), actor("c"), actor("d"));
    {
        let (mut core, store) = reopen(dir.path());
        core.schedule(&a, Some(ms(1_000)), cmd(1), Some("a".into()));
        core.schedule(&b, Some(ms(1_000)), cmd(1), None);
        core.schedule(&c, Some(ms(9_000)), cmd(1), None);
        core.schedule(&d, Some(ms(1_000)), cmd(1), None);
        assert_eq!(core.take_due(ms(1_000)).len(), 3);
        core.on_fire_result(&b, ms(1_000), result(COUNTED), ms(1_000), &mut rng); // b is in backoff
        core.schedule(&d, Some(ms(7_000)), cmd(2), None); // d runs with a queued alarm
        flush(&mut core, &store);

        core.delete_all();
        flush(&mut core, &store);
        for x in [&a, &b, &c, &d] {
            assert_eq!(core.get_alarm(x), None, "{x}");
            assert_eq!(core.effective_time(x), None, "{x}");
        }
        assert_eq!(core.next_wakeup(), None);
        assert!(core.take_due(ms(i64::MAX)).is_empty());
        assert!(store.load().unwrap().iter().all(|r| r.time.is_none()));

        // The handlers that were running finish afterwards: nothing comes back.
        core.on_fire_result(&a, ms(1_000), result(COUNTED), ms(2_000), &mut rng);
        core.on_fire_result(&d, ms(1_000), result(COUNTED), ms(2_000), &mut rng);
        assert!(requests(&mut core).is_empty());
        assert!(core.take_due(ms(i64::MAX)).is_empty());
        assert_eq!(core.schedule(&c, Some(ms(9_000)), cmd(1), None), Applied::Stale, "a late command stays stale");
        flush(&mut core, &store);
    }
    let (mut core, store) = reopen(dir.path());
    assert!(core.take_due(ms(i64::MAX)).is_empty());
    assert_eq!(core.schedule(&c, Some(ms(20_000)), cmd(2), None), Applied::Applied);
    flush(&mut core, &store);
    assert_eq!(fire_one(&mut core, &c, 20_000).scheduled, ms(20_000));
}

/// R5 for the local scheduler: the queued alarm, or null while STARTED; the stored time while
/// waiting or backing off.
#[test]
fn get_alarm_returns_the_queued_alarm_or_none_while_started() {
    let a = actor("a");
    let mut rng = rng();
    let mut core = ManagerCore::default();
    assert_eq!(core.get_alarm(&a), None);
    core.schedule(&a, Some(ms(1_000)), cmd(1), None);
    assert_eq!(core.get_alarm(&a), Some(ms(1_000)));
    fire_one(&mut core, &a, 1_000);
    assert_eq!(core.get_alarm(&a), None);
    assert_eq!(core.effective_time(&a), Some(ms(1_000)));
    core.on_fire_result(&a, ms(1_000), result(COUNTED), ms(1_000), &mut rng);
    assert_eq!(core.get_alarm(&a), Some(ms(1_000)), "a retrying alarm is still set");
    let delay = retry_delay(&core, &a, 1_000);
    fire_one(&mut core, &a, 1_000 + delay);
    core.schedule(&a, Some(ms(8_000)), cmd(2), None);
    assert_eq!(core.get_alarm(&a), Some(ms(8_000)));
}
