//! The per-seed fault profile (TigerBeetle's swarm options): drawn from the scenario's
//! bounds with the seed's RNG and printed with every run, so a failure says what world
//! it happened in.

use crate::clock::Skew;
use crate::draws::{draw_i64, draw_u64, maybe_f64};
use crate::edge_profile::EdgeProfile;
use crate::queue_fault_profile::QueueFaultProfile;
use crate::node::Node;
use crate::scenario::{DurabilityChoice, FaultBounds, Range, ScenarioSpec};
use alarmsim_scheduler::Durability;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Everything about one seed's world that is not the workload's individual choices.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FaultProfile {
    pub durability: Durability,
    pub host_crashes_per_hour: f64,
    pub manager_crashes_per_hour: f64,
    pub power_loss_fraction: f64,
    pub partitions_per_hour: f64,
    pub partition_ms: (u64, u64),
    pub downtime_ms: (u64, u64),
    pub commit_latency_ms: (u64, u64),
    pub commit_fail_before: f64,
    pub commit_fail_after: f64,
    pub link_latency_ms: (u64, u64),
    pub link_drop_request: f64,
    pub link_drop_response: f64,
    pub link_duplicate: f64,
    pub zombie_delay_ms: (u64, u64),
    /// Per node: clock offset (ms) and drift (ppm). Index 0 is the manager (of namespace 0),
    /// 1..=hosts the hosts, then the managers of namespaces 1.. ([`FaultProfile::clock_index`]).
    pub clocks: Vec<(i64, i64)>,
    pub sync_interval_ms: u64,
    /// Chance that a process crashes before a SQL statement (job queue). Absent in plans
    /// written before it existed.
    #[serde(default)]
    pub statement_crash: f64,
    /// The edge-seeking workload's options (symbolic times, bursts, handler scripts), drawn
    /// from a stream of their own. Absent (all off) in plans written before it existed.
    #[serde(default)]
    pub edges: EdgeProfile,
    /// The job-queue world's zombie pauses and SQL faults, drawn by the queue plan generator
    /// from their own stream (`queue_fault_profile.rs`). Absent (all off) in alarm plans and
    /// in plans written before they existed.
    #[serde(default, skip_serializing_if = "QueueFaultProfile::is_off")]
    pub queue: QueueFaultProfile,
    /// Job-queue world only: per process (producers, then workers), its clock's offset (ms,
    /// ahead of the reference) and drift (ppm), drawn last from the queue-fault stream
    /// (issue 13 item 3). Empty when the queue's clocks are perfect.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub process_clocks: Vec<(i64, i64)>,
}

impl FaultProfile {
    /// How many independent probabilistic faults [`FaultProfile::switch_off`] knows.
    pub const KNOBS: usize = 8 + QueueFaultProfile::KNOBS;

    /// Switches off probabilistic fault number `knob` (for the shrinker). Returns false if it
    /// was off already. Crashes and partitions are plan steps, not knobs.
    pub fn switch_off(&mut self, knob: usize) -> bool {
        let slot = match knob {
            0 => &mut self.link_duplicate,
            1 => &mut self.link_drop_response,
            2 => &mut self.link_drop_request,
            3 => &mut self.commit_fail_after,
            4 => &mut self.commit_fail_before,
            5 => {
                let skewed = self.skews_clocks();
                self.clocks.iter_mut().for_each(|c| *c = (0, 0));
                self.process_clocks.clear();
                return skewed;
            }
            7 => &mut self.statement_crash,
            6 => {
                let normal = self.durability == Durability::Normal;
                self.durability = Durability::Full;
                return normal;
            }
            8.. if knob < Self::KNOBS => return self.queue.switch_off(knob - 8),
            _ => panic!("no fault knob {knob}; there are {}", Self::KNOBS),
        };
        let was_on = *slot > 0.0;
        *slot = 0.0;
        was_on
    }

    /// Local workerd (`LinkModel::Local`): in-process calls take 0 ms and are never lost or
    /// duplicated, there is no partition, one clock, and commits resolve at once and never
    /// fail. Crashes and power losses stay (they take the whole process down), and SQLite
    /// syncs every commit: workerd sets no `synchronous` pragma and its build keeps SQLite's
    /// default, FULL (`build/BUILD.sqlite3`).
    pub fn make_local(&mut self) {
        self.durability = Durability::Full;
        self.link_latency_ms = (0, 0);
        self.link_drop_request = 0.0;
        self.link_drop_response = 0.0;
        self.link_duplicate = 0.0;
        self.partitions_per_hour = 0.0;
        self.commit_latency_ms = (0, 0);
        self.commit_fail_before = 0.0;
        self.commit_fail_after = 0.0;
        self.clocks.iter_mut().for_each(|c| *c = (0, 0));
    }

    /// The probabilistic faults that are on, e.g. `link_duplicate=0.12 clock skew`.
    pub fn active_faults(&self) -> String {
        let mut on = Vec::new();
        for (name, p) in [
            ("link_duplicate", self.link_duplicate),
            ("link_drop_response", self.link_drop_response),
            ("link_drop_request", self.link_drop_request),
            ("commit_fail_after", self.commit_fail_after),
            ("commit_fail_before", self.commit_fail_before),
            ("statement_crash", self.statement_crash),
        ] {
            if p > 0.0 {
                on.push(format!("{name}={p:.3}"));
            }
        }
        if self.skews_clocks() {
            on.push("clock skew".to_string());
        }
        if self.durability == Durability::Normal {
            on.push("synchronous=NORMAL".to_string());
        }
        if self.edges.is_on() {
            on.push(self.edges.describe());
        }
        if self.queue.is_on() {
            on.push(self.queue.describe());
        }
        if on.is_empty() {
            "none".to_string()
        } else {
            on.join(" ")
        }
    }

    /// Draws a profile. Each fault kind is switched on with the bounds' enable probability.
    pub fn draw(spec: &ScenarioSpec, rng: &mut ChaCha8Rng) -> FaultProfile {
        let b = &spec.faults;
        let p = b.enable_probability;
        let durability = match spec.durability {
            DurabilityChoice::Normal => Durability::Normal,
            DurabilityChoice::Full => Durability::Full,
            DurabilityChoice::Either if rng.random_bool(0.5) => Durability::Normal,
            DurabilityChoice::Either => Durability::Full,
        };
        let clock_on = rng.random_bool(p);
        let clocks = (0..=spec.hosts).map(|_| draw_clock(rng, clock_on, b)).collect();
        let mut profile = FaultProfile {
            durability,
            host_crashes_per_hour: maybe_f64(rng, p, b.host_crashes_per_hour),
            manager_crashes_per_hour: maybe_f64(rng, p, b.manager_crashes_per_hour),
            power_loss_fraction: maybe_f64(rng, p, b.power_loss_fraction),
            partitions_per_hour: maybe_f64(rng, p, b.partitions_per_hour),
            partition_ms: sub_range(rng, b.partition_ms),
            downtime_ms: sub_range(rng, b.downtime_ms),
            commit_latency_ms: sub_range(rng, b.commit_latency_ms),
            commit_fail_before: maybe_f64(rng, p, b.commit_fail_before),
            commit_fail_after: maybe_f64(rng, p, b.commit_fail_after),
            link_latency_ms: sub_range(rng, b.link_latency_ms),
            link_drop_request: maybe_f64(rng, p, b.link_drop_request),
            link_drop_response: maybe_f64(rng, p, b.link_drop_response),
            link_duplicate: maybe_f64(rng, p, b.link_duplicate),
            zombie_delay_ms: sub_range(rng, b.zombie_delay_ms),
            clocks,
            sync_interval_ms: draw_u64(rng, b.sync_interval_ms),
            // Last, and only drawn when its bound is on, so alarm seeds keep their worlds.
            statement_crash: maybe_f64(rng, p, b.statement_crash),
            // Drawn by the plan generator from its own stream (`edge_profile.rs`).
            edges: EdgeProfile::default(),
            queue: QueueFaultProfile::default(),
            process_clocks: Vec::new(),
        };
        // The managers of namespaces 1.. have clocks of their own. Drawn after everything
        // else and only when there are several namespaces, so single-namespace seeds keep
        // their worlds.
        for _ in 1..spec.namespaces {
            profile.clocks.push(draw_clock(rng, clock_on, b));
        }
        profile
    }

    /// Whether any node's or process's clock is skewed.
    pub fn skews_clocks(&self) -> bool {
        self.clocks.iter().chain(&self.process_clocks).any(|&c| c != (0, 0))
    }

    /// Where `node`'s clock is in [`FaultProfile::clocks`], in a world of `hosts` hosts.
    pub fn clock_index(node: Node, hosts: usize) -> usize {
        match node {
            Node::Manager | Node::NamespaceManager(0) => 0,
            Node::Host(h) => h + 1,
            Node::NamespaceManager(k) => hosts + k,
            Node::Producer(_) | Node::Worker(_) => unreachable!("job-queue processes' clocks are `process_clocks`"),
        }
    }

    /// The settings a job-queue run uses, named for what they mean there.
    pub fn describe_queue(&self) -> String {
        format!(
            "durability={:?} worker_crashes/h={:.2} producer_crashes/h={:.2} power_loss={:.2} downtime_ms={:?} \
             statement_latency_ms={:?} statement_crash={:.3} sync_interval_ms={}",
            self.durability,
            self.host_crashes_per_hour,
            self.manager_crashes_per_hour,
            self.power_loss_fraction,
            self.downtime_ms,
            self.commit_latency_ms,
            self.statement_crash,
            self.sync_interval_ms
        ) + &if self.queue.is_on() { format!(" {}", self.queue.describe()) } else { String::new() }
            + &if self.process_clocks.is_empty() { String::new() } else { format!(" process_clocks=[{}]", describe_clocks(&self.process_clocks)) }
    }

    /// One line per setting, for failure reports.
    pub fn describe(&self) -> String {
        let statement_crash = if self.statement_crash > 0.0 { format!(" statement_crash={:.3}", self.statement_crash) } else { String::new() };
        let edges = if self.edges.is_on() { format!(" {}", self.edges.describe()) } else { String::new() };
        format!(
            "durability={:?} host_crashes/h={:.2} manager_crashes/h={:.2} power_loss={:.2} partitions/h={:.2} \
             partition_ms={:?} downtime_ms={:?} commit_latency_ms={:?} commit_fail_before={:.3} commit_fail_after={:.3} \
             link_latency_ms={:?} link_drop_request={:.3} link_drop_response={:.3} link_duplicate={:.3} zombie_delay_ms={:?} \
             sync_interval_ms={} clocks=[{}]{}{}",
            self.durability,
            self.host_crashes_per_hour,
            self.manager_crashes_per_hour,
            self.power_loss_fraction,
            self.partitions_per_hour,
            self.partition_ms,
            self.downtime_ms,
            self.commit_latency_ms,
            self.commit_fail_before,
            self.commit_fail_after,
            self.link_latency_ms,
            self.link_drop_request,
            self.link_drop_response,
            self.link_duplicate,
            self.zombie_delay_ms,
            self.sync_interval_ms,
            describe_clocks(&self.clocks),
            statement_crash,
            edges
        )
    }
}


/// `+0ms/+0ppm +812ms/-40ppm …`: one clock per node or process.
fn describe_clocks(clocks: &[(i64, i64)]) -> String {
    clocks.iter().map(|&(offset_ms, drift_ppm)| Skew { offset_ms, drift_ppm }.describe()).collect::<Vec<_>>().join(" ")
}

/// One node's clock: an offset and a drift, or a perfect clock when skew is off this seed.
fn draw_clock(rng: &mut ChaCha8Rng, on: bool, b: &FaultBounds) -> (i64, i64) {
    if on {
        (draw_i64(rng, b.clock_offset_ms), draw_i64(rng, b.clock_drift_ppm))
    } else {
        (0, 0)
    }
}



/// A sub-range of `r`: latencies vary per seed in both their floor and their tail.
fn sub_range(rng: &mut ChaCha8Rng, r: Range<u64>) -> (u64, u64) {
    let a = draw_u64(rng, r);
    let b = draw_u64(rng, r);
    (a.min(b), a.max(b))
}
