//! # alarmsim-sim
//!
//! The seeded simulator. One `u64` seed becomes a whole world — workload, fault profile,
//! latencies, clock offsets, handler outcomes — run on madsim's deterministic executor.
//! Every invariant is checked while the world runs, and any failure replays exactly from
//! its seed.
//!
//! - [`scenario`]: what a scenario is (workload, fault bounds, invariants).
//! - [`profile`]: the per-seed fault profile (swarm testing), printed with every run.
//! - [`world`]: the simulated topology and every state change; [`agenda`]: its pending
//!   events, in seeded order.
//! - [`disk`]: the real SQLite engine plus a sync/power-loss model.
//! - [`pool`]: warm SQLite stores reused from seed to seed; [`store_work`]: the SQLite work
//!   a run did, counted (the bench prints it).
//! - [`checker`]: the named invariants.
//! - [`trace`]: the serde event trace (kinds, per-track gauges).
//! - [`export`]: the trace as a Perfetto (Chrome trace-event) file or a self-contained HTML
//!   timeline.
//! - [`run`]: one seed on one fresh OS thread; [`sweep`]: many seeds; [`fingerprint`] and
//!   [`spot_check`]: the determinism spot-check every sweep ends with.

pub mod agenda;
pub mod call;
mod blame;
pub mod checker;
pub mod clock;
pub mod conservation;
pub mod coverage;
pub mod disk;
mod draws;
pub mod driver;
pub mod edge_profile;
pub mod export;
pub mod fingerprint;
pub mod guided;
pub mod handler_script;
pub mod knobs;
pub mod node;
pub mod plan;
pub mod plan_check;
pub mod pool;
pub mod probes;
pub mod profile;
pub mod queue;
pub mod queue_fault_profile;
pub mod report;
pub mod run;
pub mod run_options;
pub mod scenario;
mod seed_thread;
pub mod shrink;
pub mod spot_check;
pub mod store_work;
pub mod subject;
pub mod time_arg;
pub mod sweep;
pub mod trace;
pub mod user_view;
pub mod workload;
pub mod world;
pub mod yardstick;

pub use checker::Violation;
pub use plan::Plan;
pub use report::RunReport;
pub use run::{run_plan, run_seed, run_seed_traced};
pub use run_options::RunOptions;
pub use scenario::{Invariant, ScenarioSpec};
pub use subject::Subject;
