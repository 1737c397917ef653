//! The plan of a job-queue run: enqueues (each job with its script) spread over the chaos
//! phase, and process crashes and power losses.

use crate::draws::pick;
use crate::plan::{crash_steps, pause_steps};
use crate::queue_fault_profile::{self, QueueFaultProfile};
use crate::plan::{Action, Attempt, JobScript, Node, Plan, Step};
use crate::profile::FaultProfile;
use crate::scenario::{QueueWorkload, ScenarioSpec};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// At most this many attempts are scripted per job: one past the attempt limit, so a job
/// can use up every attempt and be dead-lettered.
fn scripted_attempts(workload: &QueueWorkload) -> usize {
    workload.config.max_attempts as usize + 1
}

/// A job's script: attempts drawn from the weights up to the first success.
pub fn draw_script(workload: &QueueWorkload, rng: &mut ChaCha8Rng) -> JobScript {
    let w = workload.attempts;
    let weights = [w.succeed, w.throw, w.crash, w.slow];
    let work_ms = rng.random_range(workload.work_ms.lo..=workload.work_ms.hi);
    let mut attempts = Vec::new();
    while attempts.len() < scripted_attempts(workload) {
        let attempt = match pick(rng, &weights) {
            0 => break,
            1 => Attempt::Throw,
            2 => Attempt::Crash,
            // Half the slow attempts throw at the end: a stale owner's `fail`, not only its
            // `complete`, must be fenced.
            _ if rng.random_bool(0.5) => Attempt::SlowThrow,
            _ => Attempt::Slow,
        };
        attempts.push(attempt);
    }
    JobScript { work_ms, attempts }
}

/// Turns each slow attempt into one that runs to just before its lease ends, with chance
/// `p` (the fault stream's draw: without it the scripts are what they were).
fn deadline_attempts(steps: &mut [Step], p: f64, rng: &mut ChaCha8Rng) {
    if p <= 0.0 {
        return;
    }
    for step in steps {
        let Action::Enqueue { script, .. } = &mut step.action else { continue };
        for attempt in script.attempts.iter_mut().filter(|a| a.is_slow()) {
            if rng.random_bool(p) {
                *attempt = if attempt.throws() { Attempt::DeadlineThrow } else { Attempt::Deadline };
            }
        }
    }
}

pub fn generate(spec: &ScenarioSpec, workload: &QueueWorkload, variant: &str, seed: u64) -> Plan {
    assert!(workload.producers > 0 && workload.workers > 0, "a queue scenario needs a producer and a worker");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut profile = FaultProfile::draw(spec, &mut rng);
    // The zombie and SQL faults come from a stream of their own (`queue_fault_profile.rs`).
    let mut fault_rng = queue_fault_profile::rng(seed);
    profile.queue = QueueFaultProfile::draw(&workload.faults, &mut fault_rng);
    let mut steps = Vec::new();
    // Enqueues fill the first three quarters of the chaos phase, so faults also strike the
    // retries and reclaims that follow them.
    let window = (spec.chaos_ms * 3 / 4).max(1);
    for job in 0..workload.jobs {
        let at_ms = rng.random_range(0..window);
        let producer = rng.random_range(0..workload.producers as usize);
        let delay_ms = rng.random_range(workload.delay_ms.lo..=workload.delay_ms.hi);
        let script = draw_script(workload, &mut rng);
        steps.push(Step { at_ms, action: Action::Enqueue { producer, job, delay_ms, script } });
    }
    for worker in 0..workload.workers as usize {
        crash_steps(&mut steps, &profile, Node::Worker(worker), profile.host_crashes_per_hour, spec.chaos_ms, &mut rng);
    }
    for producer in 0..workload.producers as usize {
        crash_steps(&mut steps, &profile, Node::Producer(producer), profile.manager_crashes_per_hour, spec.chaos_ms, &mut rng);
    }
    // Pauses last, from the fault stream: without them every other step is what it was.
    let processes = (0..workload.workers as usize).map(Node::Worker).chain((0..workload.producers as usize).map(Node::Producer));
    for node in processes {
        pause_steps(&mut steps, node, &profile.queue, spec.chaos_ms, &mut fault_rng);
    }
    // Clocks after the pauses, from the same stream: a seed's other faults stay as they were.
    let processes = (workload.producers + workload.workers) as usize;
    profile.process_clocks = QueueFaultProfile::draw_clocks(&workload.faults, processes, &mut fault_rng);
    deadline_attempts(&mut steps, workload.faults.deadline_attempts, &mut fault_rng);
    let same_name = workload.faults.same_name_owners;
    profile.queue.same_name_owners = same_name > 0.0 && fault_rng.random_bool(same_name);
    let replace = workload.faults.replace_paused_after_ms;
    if replace.hi > 0 && fault_rng.random_bool(workload.faults.enable_probability) {
        profile.queue.replace_paused_after_ms = crate::draws::draw_u64(&mut fault_rng, replace).max(1);
    }
    steps.sort_by_key(|s| s.at_ms);
    Plan { scenario: spec.name.to_string(), variant: variant.to_string(), seed, profile, steps, knobs: None, reaches: Vec::new(), link: spec.link }
}
