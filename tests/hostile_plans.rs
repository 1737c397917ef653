//! Hostile input, part 1: plans, flags and panics (issue #16). Every malformed plan field and
//! every flag past its maximum is a usage error (exit 2) whose message names the file or the
//! flag, the bad field's JSON path and what would be valid; the plan file is never touched;
//! nothing runs. A panic of the simulator is never blamed on the scheduler under test.
//! Part 2, the store files, is `tests/hostile_files.rs`.

use alarmsim_scheduler::api::{ManagerScheduler, Reference, SchedulerFactory};
use alarmsim_scheduler::backoff::{RetryPolicy, RetryState};
use alarmsim_scheduler::{ActorId, AlarmRow, AlarmTime, Applied, Fence, Fire, FireResult, ManagerEffect, Millis};
use alarmsim_sim::{Invariant, Plan, ScenarioSpec};
use serde_json::{json, Value};
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

fn alarmsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_alarmsim")).args(args).env_remove("RUST_LOG").output().expect("run alarmsim")
}

fn spec(name: &str) -> ScenarioSpec {
    alarmsim_scenarios::scenarios().into_iter().find(|s| s.name == name).expect("a catalog scenario")
}

/// A valid plan of `scenario` as JSON (seed 3, reference).
fn plan_json(scenario: &str) -> Value {
    serde_json::to_value(Plan::generate(&spec(scenario), "reference", 3)).unwrap()
}

/// Writes `plan` to a file, replays it, and checks: exit 2, the message names the file and
/// each of `needles`, nothing ran, and the file is byte-identical afterwards.
fn refused(plan_text: &str, needles: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hostile-plan.json");
    std::fs::write(&file, plan_text).unwrap();
    refused_file(&file, needles);
}

fn refused_file(file: &Path, needles: &[&str]) {
    let before = std::fs::read(file).ok();
    let out = alarmsim(&["replay", "--plan", file.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(2), "a bad plan is a usage error (exit 2), not a finding; stderr:\n{stderr}\nstdout:\n{stdout}");
    assert!(stderr.contains(&file.display().to_string()), "the message names the file:\n{stderr}");
    for needle in needles {
        assert!(stderr.contains(needle), "the message names {needle:?}:\n{stderr}");
    }
    assert!(!stdout.contains("FAILED") && !stdout.contains("passed"), "nothing ran:\n{stdout}");
    assert!(!stderr.contains("panicked"), "no panic:\n{stderr}");
    assert_eq!(std::fs::read(file).ok(), before, "the plan file is left as it was");
}

/// The plan of `scenario` with `edit` applied.
fn edited(scenario: &str, edit: impl FnOnce(&mut Value)) -> String {
    let mut plan = plan_json(scenario);
    edit(&mut plan);
    serde_json::to_string_pretty(&plan).unwrap()
}

/// The plan of `scenario` whose only step is `step`.
fn one_step(scenario: &str, step: Value) -> String {
    edited(scenario, |p| p["steps"] = json!([step]))
}

fn op_step(client: Value, actor: Value) -> Value {
    json!({"at_ms": 10, "action": {"kind": "op", "client": client, "actor": actor, "op": {"op": "get-alarm"}}})
}

#[test]
fn a_valid_plan_replays_so_the_refusals_below_are_not_vacuous() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plan.json");
    std::fs::write(&file, edited("standard", |_| {})).unwrap();
    let out = alarmsim(&["replay", "--plan", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn indices_past_the_topology_are_refused_with_their_path() {
    let s = spec("standard");
    // Finding 1: actor 999 replayed as "the scheduler panicked".
    refused(&one_step("standard", op_step(json!(0), json!(999))), &["steps[0].action.actor", "999", &format!("0 to {}", s.actors() - 1)]);
    // Finding 2: client 999 ran as "client-999".
    refused(&one_step("standard", op_step(json!(999), json!(0))), &["steps[0].action.client", "999"]);
    let crash = |node: Value| json!({"at_ms": 5, "action": {"kind": "crash", "node": node, "power": false, "downtime_ms": 100}});
    refused(&one_step("standard", crash(json!({"host": 99}))), &["steps[0].action.node", "host-99"]);
    refused(&one_step("standard", crash(json!({"producer": 0}))), &["steps[0].action.node", "producer-0"]);
    refused(&one_step("standard", crash(json!({"namespace-manager": 1}))), &["steps[0].action.node", "manager-1"]);
    refused(&one_step("multi-namespace", crash(json!({"namespace-manager": 7}))), &["steps[0].action.node", "manager-7"]);
    let partition = |host: Value, manager: Option<Value>| {
        let mut action = json!({"kind": "partition", "host": host, "ms": 1000});
        if let Some(m) = manager {
            action["manager"] = m;
        }
        json!({"at_ms": 5, "action": action})
    };
    refused(&one_step("standard", partition(json!(99), None)), &["steps[0].action.host", "99"]);
    refused(&one_step("multi-namespace", partition(json!(0), Some(json!({"host": 1})))), &["steps[0].action.manager", "a manager node"]);
}

#[test]
fn steps_of_the_other_system_are_refused() {
    let enqueue = json!({"at_ms": 5, "action": {"kind": "enqueue", "producer": 0, "job": 1, "delay_ms": 0, "script": {"work_ms": 10, "attempts": []}}});
    refused(&one_step("standard", enqueue), &["steps[0].action.kind", "not a job-queue scenario"]);
    refused(&one_step("queue-standard", op_step(json!(0), json!(0))), &["steps[0].action.kind", "job-queue scenario"]);
}

#[test]
fn queue_steps_are_checked_against_the_workload() {
    let enqueue = |producer: u64, job: u64| json!({"at_ms": 5, "action": {"kind": "enqueue", "producer": producer, "job": job, "delay_ms": 0, "script": {"work_ms": 10, "attempts": []}}});
    refused(&one_step("queue-standard", enqueue(99, 0)), &["steps[0].action.producer", "99"]);
    refused(&edited("queue-standard", |p| p["steps"] = json!([enqueue(0, 4), enqueue(0, 4)])), &["steps[1].action.job", "4"]);
    refused(&one_step("queue-standard", json!({"at_ms": 5, "action": {"kind": "crash", "node": {"worker": 50}, "power": false, "downtime_ms": 10}})), &["steps[0].action.node", "worker-50"]);
    // Issue 13's zombie pauses: a process of this world, a pause within the run, queue only.
    let pause = |node: Value, ms: u64| json!({"at_ms": 5, "action": {"kind": "pause", "node": node, "ms": ms}});
    refused(&one_step("queue-standard", pause(json!({"worker": 9}), 1000)), &["steps[0].action.node", "worker-9"]);
    refused(&one_step("queue-standard", pause(json!("manager"), 1000)), &["steps[0].action.node", "manager"]);
    refused(&one_step("queue-standard", pause(json!({"worker": 0}), u64::MAX)), &["steps[0].action.ms", "horizon"]);
    refused(&one_step("standard", pause(json!({"host": 0}), 1000)), &["steps[0].action.kind", "not a job-queue scenario"]);
    refused(&edited("queue-standard", |p| p["profile"]["queue"] = json!({"commit_fail": 2.0})), &["profile.queue.commit_fail", "2", "from 0 to 1"]);
    refused(&edited("queue-standard", |p| p["profile"]["queue"] = json!({"pause_ms": [9000, 10]})), &["profile.queue.pause_ms", "lo ≤ hi"]);
    refused(&edited("standard", |p| p["profile"]["queue"] = json!({"busy_streak": 0.5})), &["profile.queue", "not a job-queue scenario"]);
    // Item 3's process clocks: none, or one per process (queue-standard: 2 producers, 3
    // workers), never behind the start, drifting by at most 10 %; queue scenarios only.
    let clocks = |offset: i64, drift: i64| json!([[0, 0], [0, 0], [0, 0], [0, 0], [offset, drift]]);
    refused(&edited("queue-standard", |p| p["profile"]["process_clocks"] = json!([[0, 0]])), &["profile.process_clocks", "a list of 1", "one per producer (2), then one per worker (3)"]);
    refused(&edited("queue-standard", |p| p["profile"]["process_clocks"] = clocks(-5, 0)), &["profile.process_clocks[4][0]", "-5", "never reads before the start"]);
    refused(&edited("queue-standard", |p| p["profile"]["process_clocks"] = clocks(0, 2_000_000)), &["profile.process_clocks[4][1]", "2000000", "ppm"]);
    refused(&edited("standard", |p| p["profile"]["process_clocks"] = json!([[0, 0]])), &["profile.process_clocks", "not a job-queue scenario"]);
    refused(&edited("queue-standard", |p| p["profile"]["queue"] = json!({"replace_paused_after_ms": u64::MAX})), &["profile.queue.replace_paused_after_ms", "horizon"]);
}

#[test]
fn profile_fields_outside_their_range_are_refused() {
    // Finding 1: an empty clocks list and an inverted range were blamed on the scheduler.
    refused(&edited("standard", |p| p["profile"]["clocks"] = json!([])), &["profile.clocks", "a list of 0"]);
    refused(&edited("standard", |p| p["profile"]["clocks"].as_array_mut().unwrap().push(json!([0, 0]))), &["profile.clocks"]);
    refused(&edited("standard", |p| p["profile"]["commit_latency_ms"] = json!([5000, 1])), &["profile.commit_latency_ms", "[5000, 1]", "lo ≤ hi"]);
    // Finding 1: a zero sync interval made the harness itself panic (exit 101, message lost).
    refused(&edited("standard", |p| p["profile"]["sync_interval_ms"] = json!(0)), &["profile.sync_interval_ms", "= 0"]);
    // Finding 2: a probability of 7.5 was accepted.
    refused(&edited("standard", |p| p["profile"]["link_drop_request"] = json!(7.5)), &["profile.link_drop_request", "7.5", "from 0 to 1"]);
    refused(&edited("standard", |p| p["profile"]["commit_fail_before"] = json!(-0.1)), &["profile.commit_fail_before", "-0.1"]);
    refused(&edited("queue-standard", |p| p["profile"]["statement_crash"] = json!(1.5)), &["profile.statement_crash", "1.5"]);
    refused(&edited("standard", |p| p["profile"]["host_crashes_per_hour"] = json!(-1.0)), &["profile.host_crashes_per_hour"]);
    refused(&edited("standard", |p| p["profile"]["link_latency_ms"] = json!([1, 9_000_000_000u64])), &["profile.link_latency_ms[1]", "horizon"]);
    refused(&edited("standard", |p| p["profile"]["clocks"][0] = json!([0, -1_000_000])), &["profile.clocks[0][1]", "-1000000", "ppm"]);
    refused(&edited("standard", |p| p["profile"]["clocks"][1] = json!([i64::MIN, 0])), &["profile.clocks[1][0]", "offset"]);
}

#[test]
fn times_outside_the_run_are_refused() {
    let s = spec("standard");
    // Finding 2: a step at 2^64 - 1 never ran, so a failing plan passed with exit 0.
    let late = json!({"at_ms": u64::MAX, "action": {"kind": "op", "client": 0, "actor": 0, "op": {"op": "get-alarm"}}});
    refused(&one_step("standard", late), &["steps[0].at_ms", &u64::MAX.to_string(), "chaos phase"]);
    let at_end = json!({"at_ms": s.chaos_ms, "action": {"kind": "op", "client": 0, "actor": 0, "op": {"op": "get-alarm"}}});
    refused(&one_step("standard", at_end), &["steps[0].at_ms"]);
    let far = json!({"at_ms": 1, "action": {"kind": "op", "client": 0, "actor": 0, "op": {"op": "set-alarm", "delay_ms": i64::MIN}}});
    refused(&one_step("standard", far), &["steps[0].action.op.time", "100 years"]);
    let twice = json!({"at_ms": 1, "action": {"kind": "op", "client": 0, "actor": 0, "op": {"op": "set-twice", "first_ms": 1, "second_ms": i64::MAX}}});
    refused(&one_step("standard", twice), &["steps[0].action.op.second"]);
    let long_crash = json!({"at_ms": 5, "action": {"kind": "crash", "node": "manager", "power": true, "downtime_ms": u64::MAX}});
    refused(&one_step("standard", long_crash), &["steps[0].action.downtime_ms", "horizon"]);
    let slow_job = json!({"at_ms": 5, "action": {"kind": "enqueue", "producer": 0, "job": 0, "delay_ms": 0, "script": {"work_ms": u64::MAX, "attempts": []}}});
    refused(&one_step("queue-standard", slow_job), &["steps[0].action.script.work_ms"]);
}

#[test]
fn files_that_are_not_plans_are_refused_with_the_failing_field() {
    // Inside a tagged enum serde reports the enum's path; the value names the field.
    refused(&one_step("standard", op_step(json!("abc"), json!(0))), &["at steps[0].action", "invalid type: string \"abc\""]);
    refused(&one_step("standard", json!({"at_ms": 1, "action": {"kind": "op", "client": 0, "actor": 0, "op": {"op": "launch-missiles"}}})), &["at steps[0].action", "unknown variant `launch-missiles`", "set-alarm"]);
    refused(&edited("standard", |p| p["profile"]["durability"] = json!("Sometimes")), &["profile.durability"]);
    refused("", &["not a valid alarmsim plan"]);
    refused("\u{1}\u{7f}garbage\u{0}", &["not a valid alarmsim plan"]);
    let whole = edited("standard", |_| {});
    refused(&whole[..whole.len() / 2], &["not a valid alarmsim plan"]);
    refused(&edited("standard", |p| p["scenario"] = json!("no-such-scenario")), &["unknown scenario", "no-such-scenario"]);
    refused(&edited("standard", |p| p["variant"] = json!("no-such-variant")), &["unknown variant", "no-such-variant"]);
    let dir = tempfile::tempdir().unwrap();
    refused_file(&dir.path().join("missing.json"), &["cannot read the plan file"]);
    refused_file(dir.path(), &["cannot read the plan file"]);
}

#[test]
fn every_generated_plan_validates() {
    // The checks are not stricter than the plans the simulator itself writes.
    for spec in alarmsim_scenarios::scenarios() {
        for seed in 0..40 {
            let plan = Plan::generate(&spec, "reference", seed);
            if let Err(e) = alarmsim_sim::plan_check::validate(&plan, &spec) {
                panic!("{} seed {seed}: the generated plan does not validate: {e}", spec.name);
            }
        }
    }
}

/// A manager that panics on its first command: its panic is a finding (`no-panic`).
struct PanickingManager;

impl ManagerScheduler for PanickingManager {
    fn schedule(&mut self, _: &ActorId, _: AlarmTime, _: Fence, _: Option<String>) -> Applied {
        panic!("the manager under test gave up")
    }
    fn take_due(&mut self, _: Millis) -> Vec<Fire> {
        Vec::new()
    }
    fn next_wakeup(&self) -> Option<Millis> {
        None
    }
    fn on_fire_result(&mut self, _: &ActorId, _: Millis, _: FireResult, _: Millis, _: &mut dyn rand::RngCore) {}
    fn on_abandon_result(&mut self, _: &ActorId, _: Millis, _: Result<(AlarmTime, Fence), ()>, _: Millis) {}
    fn poll_effect(&mut self) -> Option<ManagerEffect> {
        None
    }
    fn effective_time(&self, _: &ActorId) -> AlarmTime {
        None
    }
    fn retry_state(&self, _: &ActorId) -> Option<RetryState> {
        None
    }
}

/// A manager that fires an actor id the world cannot parse: the world itself then panics
/// (in its own code), which is a harness error, not the scheduler's panic.
#[derive(Default)]
struct BogusFireManager(std::collections::BTreeMap<ActorId, Millis>);

impl ManagerScheduler for BogusFireManager {
    fn schedule(&mut self, actor: &ActorId, time: AlarmTime, _: Fence, _: Option<String>) -> Applied {
        match time {
            Some(t) => self.0.insert(actor.clone(), t),
            None => self.0.remove(actor),
        };
        Applied::Applied
    }
    // It fires at once, as soon as it holds anything: the world's panic comes before any
    // checker could see what else this manager gets wrong (it has no fences).
    fn take_due(&mut self, now: Millis) -> Vec<Fire> {
        let any = !self.0.is_empty();
        any.then(|| Fire { actor: ActorId::new("not-an-actor"), scheduled: now, retry_count: 0, is_retry: false, name: None }).into_iter().collect()
    }
    fn next_wakeup(&self) -> Option<Millis> {
        (!self.0.is_empty()).then_some(Millis(0))
    }
    fn on_fire_result(&mut self, _: &ActorId, _: Millis, _: FireResult, _: Millis, _: &mut dyn rand::RngCore) {}
    fn on_abandon_result(&mut self, _: &ActorId, _: Millis, _: Result<(AlarmTime, Fence), ()>, _: Millis) {}
    fn poll_effect(&mut self) -> Option<ManagerEffect> {
        None
    }
    fn effective_time(&self, actor: &ActorId) -> AlarmTime {
        self.0.get(actor).copied()
    }
    fn retry_state(&self, _: &ActorId) -> Option<RetryState> {
        None
    }
}

/// The reference actor with one of the managers above.
struct WithManager(fn() -> Box<dyn ManagerScheduler>);

impl SchedulerFactory for WithManager {
    fn name(&self) -> &str {
        "hostile-manager"
    }
    fn description(&self) -> &str {
        "the reference actor with a manager written for this test"
    }
    fn new_actor(&self, actor: ActorId, incarnation: u64, durable: alarmsim_scheduler::DurableState, probes: &alarmsim_scheduler::probe::Probes) -> Box<dyn alarmsim_scheduler::api::ActorScheduler> {
        Reference.new_actor(actor, incarnation, durable, probes)
    }
    fn new_manager(&self, _: Vec<AlarmRow>, _: RetryPolicy, _: &alarmsim_scheduler::probe::Probes) -> Box<dyn ManagerScheduler> {
        (self.0)()
    }
}

#[test]
fn a_panic_of_the_scheduler_is_a_finding_and_keeps_its_message() {
    let spec = spec("standard");
    let factory: Arc<dyn SchedulerFactory> = Arc::new(WithManager(|| Box::new(PanickingManager)));
    let report = alarmsim_sim::run_seed(&spec, factory, 1);
    let v = report.violation.expect("the manager's panic is reported");
    assert_eq!(v.invariant, Invariant::NoPanic);
    assert!(v.message.contains("the scheduler panicked: the manager under test gave up"), "{}", v.message);
    assert!(v.message.contains("tests/hostile_plans.rs"), "with the location of the panic: {}", v.message);
}

#[test]
fn a_panic_of_the_simulator_is_a_harness_error_with_its_message_not_the_schedulers() {
    let spec = spec("standard");
    let factory: Arc<dyn SchedulerFactory> = Arc::new(WithManager(|| Box::<BogusFireManager>::default()));
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| alarmsim_sim::run_seed(&spec, factory, 1)));
    let payload = match caught {
        Ok(report) => panic!("the world's own panic must not become a report blaming the scheduler: {:?}", report.violation),
        Err(payload) => payload,
    };
    let message = payload.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("alarmsim harness error in seed 1"), "{message}");
    assert!(message.contains("not a finding about the system under test"), "{message}");
    assert!(message.contains("actor ids are a<N>") && message.contains("sim/src/world/"), "the original message and location survive: {message}");
}

#[test]
fn every_duration_flag_past_its_maximum_is_a_usage_error_naming_the_flag() {
    // Finding 2: `--delay-ms 2^64-1` wrapped into the past (due at once) and `--lease-ms
    // 2^64-1` wrapped the lease into the past (live jobs reclaimed, their workers fenced).
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("q.sqlite");
    let (db, d) = (db.to_str().unwrap(), dir.path().to_str().unwrap());
    let max = u64::MAX.to_string();
    let past = (100 * 365 * 86_400_000u64 + 1).to_string();
    let too_many = format!("{max}0");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["queue", "enqueue", "--db", db, "--count", "1", "--delay-ms", &max], "--delay-ms"),
        (vec!["queue", "enqueue", "--db", db, "--count", "1", "--delay-ms", &past], "--delay-ms"),
        (vec!["queue", "work", "--db", db, "--lease-ms", &max], "--lease-ms"),
        (vec!["queue", "work", "--db", db, "--lease-ms", "0"], "--lease-ms"),
        (vec!["queue", "work", "--db", db, "--backoff-ms", &max], "--backoff-ms"),
        (vec!["queue", "work", "--db", db, "--job-ms", &past], "--job-ms"),
        (vec!["queue", "enqueue", "--db", db, "--count", &too_many], "--count"),
        (vec!["queue", "work", "--db", db, "--max-attempts", "0"], "--max-attempts"),
        (vec!["realtime", "--dir", d, "--handler-ms", &max], "--handler-ms"),
        (vec!["realtime", "--dir", d, "--run-for-ms", &past], "--run-for-ms"),
        (vec!["realtime", "--dir", d, "--set", "a1=+99999999999"], "--set"),
        (vec!["sweep", "--start-seed", &max, "--seeds", "2"], "--start-seed"),
    ];
    for (args, flag) in cases {
        let out = alarmsim(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(flag), "{args:?}: the message names {flag}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    let durations = alarmsim(&["queue", "enqueue", "--db", db, "--count", "1", "--delay-ms", &max]);
    assert!(String::from_utf8_lossy(&durations.stderr).contains("from 0 to 3153600000000 (100 years)"), "the maximum is stated");
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none(), "nothing was created by a refused command");
}

/// The edge-seeking workload's plan forms (issue #11): an unknown symbol, a repeat past the
/// remembered writes, an empty turn, a fallback past the limit, bad edge probabilities.
#[test]
fn bad_symbolic_times_and_turns_are_refused() {
    let op = |op: Value| json!({"at_ms": 1, "action": {"kind": "op", "client": 0, "actor": 0, "op": op}});
    refused(&one_step("edge-values", op(json!({"op": "set-alarm", "time": {"sym": "tomorrow"}}))), &["steps[0].action", "alarm time: unknown variant `tomorrow`", "stored"]);
    refused(&one_step("edge-values", op(json!({"op": "set-alarm", "time": {"sym": "repeat", "back": 9, "else_ms": 5}}))), &["steps[0].action.op.time.back", "1 to 3"]);
    refused(&one_step("edge-values", op(json!({"op": "turn", "calls": []}))), &["steps[0].action.op.calls", "at least one call"]);
    let far = op(json!({"op": "turn", "calls": [{"call": "delete-alarm"}, {"call": "set-alarm", "time": {"sym": "stored", "else_ms": i64::MAX}}]}));
    refused(&one_step("edge-values", far), &["steps[0].action.op.calls[1].time.else_ms", "100 years"]);
    refused(&edited("edge-values", |p| p["profile"]["edges"]["handler_scripts"] = json!(1.5)), &["profile.edges.handler_scripts", "probability"]);
}
