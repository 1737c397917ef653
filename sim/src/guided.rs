//! Guided search (`sweep --guided`): seeds spent where the coverage probes say the search has
//! not been yet, the way Antithesis steers by its "sometimes" assertions.
//!
//! Every seed still runs its plain seed; what the guide chooses is the seed's [`Knobs`]: which
//! fault family it concentrates on, which operations and handler behaviours it favours, how
//! hard it leans on the edge-seeking workload. One UCB1 bandit per knob (a factored bandit:
//! 6 × 3 × 3 × 2 combinations, too many to try one by one) learns which settings reach
//! rarely reached probes. A run's reward is its novelty, each probe it reached counting
//! 1 / (1 + the seeds that reached it before), capped at 1; a run that finds a violation
//! scores 1.
//!
//! The first batch, and every other seed after it, run plain (no knobs): a guided sweep finds
//! what a plain one finds in its first seeds as early, and its plain seeds keep the scenario's
//! own mix in the search.
//!
//! Determinism: seeds run in batches of [`BATCH`], whatever the number of jobs. The knobs of a
//! whole batch are chosen before it runs, from the rewards of the batches before it (a
//! setting chosen in the batch counts as pulled at once, so one batch spreads over the
//! settings); rewards are learned in seed order once the batch is done. So the same start
//! seed and seed count give the same knobs, runs and result on any machine.

use crate::coverage::Tally;
use crate::knobs::{EdgeFocus, FaultFocus, HandlerFocus, Knobs, OpFocus};
use crate::report::RunReport;
use crate::run::run_seed_with_knobs;
use crate::run_options::RunOptions;
use crate::scenario::ScenarioSpec;
use crate::subject::Subject;
use alarmsim_scheduler::probe::ProbeHits;
use std::sync::Mutex;

/// Seeds whose knobs are chosen together, before any of them has run.
pub const BATCH: usize = 16;

/// UCB's exploration weight. Rewards are mostly small (a run's rarest probe was reached by
/// tens of seeds before it: 0.01 to 0.1) with rare 1s; UCB1's √2 would drown the difference
/// between settings and spread the seeds evenly over them.
const EXPLORATION: f64 = 0.15;

/// One knob's bandit: each setting's pulls and summed reward.
#[derive(Clone, Debug)]
struct Bandit {
    pulls: Vec<f64>,
    rewards: Vec<f64>,
}

impl Bandit {
    fn new(settings: usize) -> Bandit {
        assert!(settings > 0, "a knob has at least one setting");
        Bandit { pulls: vec![0.0; settings], rewards: vec![0.0; settings] }
    }

    /// UCB1: a setting never pulled first (the lowest), else the best mean plus its
    /// exploration bonus (ties to the lowest). The choice counts as a pull at once.
    fn choose(&mut self) -> usize {
        let total: f64 = self.pulls.iter().sum();
        let pick = match self.pulls.iter().position(|&n| n == 0.0) {
            Some(untried) => untried,
            None => {
                let score = |i: usize| self.rewards[i] / self.pulls[i] + EXPLORATION * (total.ln() / self.pulls[i]).sqrt();
                (0..self.pulls.len()).fold(0, |best, i| if score(i) > score(best) { i } else { best })
            }
        };
        self.pulls[pick] += 1.0;
        pick
    }

    fn learn(&mut self, setting: usize, reward: f64) {
        debug_assert!((0.0..=1.0).contains(&reward), "UCB1 wants rewards in [0, 1]");
        self.rewards[setting] += reward;
    }
}

/// The guide of one scenario's search.
#[derive(Clone, Debug)]
pub struct Guide {
    faults: Bandit,
    ops: Bandit,
    edges: Bandit,
    handlers: Bandit,
    /// A job-queue scenario: only the fault knob means anything there.
    faults_only: bool,
    tally: Tally,
    /// Seeds chosen so far.
    chosen: u64,
}

impl Guide {
    /// The guide of a scenario (a job-queue scenario's guide turns the fault knob only).
    pub fn for_scenario(spec: &ScenarioSpec) -> Guide {
        Guide::new(spec.queue().is_some())
    }

    pub fn new(faults_only: bool) -> Guide {
        let n = |all: usize| if faults_only { 1 } else { all };
        Guide {
            faults: Bandit::new(FaultFocus::ALL.len()),
            ops: Bandit::new(n(OpFocus::ALL.len())),
            edges: Bandit::new(n(EdgeFocus::ALL.len())),
            handlers: Bandit::new(n(HandlerFocus::ALL.len())),
            faults_only,
            tally: Tally::default(),
            chosen: 0,
        }
    }

    /// The knobs of the next seed, or `None` for a plain one. The first batch and every
    /// other seed after it run plain: the bugs a plain sweep finds in its first seeds (most
    /// of the library) are found as early, and the plain seeds measure what the knobs add.
    pub fn choose(&mut self) -> Option<Knobs> {
        let n = self.chosen;
        self.chosen += 1;
        if n < BATCH as u64 || n % 2 == 0 {
            return None;
        }
        Some(Knobs {
            faults: FaultFocus::ALL[self.faults.choose()],
            ops: OpFocus::ALL[self.ops.choose()],
            edges: EdgeFocus::ALL[self.edges.choose()],
            handlers: HandlerFocus::ALL[self.handlers.choose()],
        })
    }

    /// A run's reward: the rarity of the rarest probe it reached, against the runs before it
    /// (`Tally::rarity`: 1 for a probe no run reached yet); 1 if it failed.
    pub fn reward(&self, hits: &ProbeHits, failed: bool) -> f64 {
        if failed {
            1.0
        } else {
            self.tally.rarity(hits)
        }
    }

    /// Learns from one run (call in seed order): every run counts towards rarity, a run with
    /// knobs rewards the settings it had.
    pub fn learn(&mut self, knobs: Option<Knobs>, hits: &ProbeHits, failed: bool) {
        let reward = self.reward(hits, failed);
        let Some(knobs) = knobs else {
            self.tally.add(hits);
            return;
        };
        self.faults.learn(setting(&FaultFocus::ALL, knobs.faults), reward);
        if !self.faults_only {
            self.ops.learn(setting(&OpFocus::ALL, knobs.ops), reward);
            self.edges.learn(setting(&EdgeFocus::ALL, knobs.edges), reward);
            self.handlers.learn(setting(&HandlerFocus::ALL, knobs.handlers), reward);
        }
        self.tally.add(hits);
    }

    /// Probes reached so far.
    pub fn reached(&self) -> usize {
        self.tally.reached()
    }
}

/// The index of `value` among a knob's settings.
fn setting<T: PartialEq>(all: &[T], value: T) -> usize {
    all.iter().position(|x| *x == value).expect("a knob's setting is one of its settings")
}

/// Runs `seeds` of `spec` guided, `jobs` at a time (each seed on a fresh thread), in
/// batches of [`BATCH`]; returns every report with its knobs, in the order of `seeds`.
/// Coverage is always counted (it is the reward); `options` says what else to record.
/// `done` is called after each seed (a progress bar).
pub fn run(spec: &ScenarioSpec, subject: &Subject, seeds: &[u64], jobs: usize, options: RunOptions, done: &(dyn Fn() + Sync)) -> Vec<(RunReport, Option<Knobs>)> {
    let mut search = Search::new(spec, subject, options);
    let mut out = Vec::with_capacity(seeds.len());
    for batch in seeds.chunks(BATCH) {
        out.extend(search.batch(batch, jobs, done));
    }
    out
}

/// A guided search in progress, one batch at a time (for callers that stop early, like the
/// bug-library benchmark). [`run`] is every batch of a seed list.
pub struct Search<'a> {
    spec: &'a ScenarioSpec,
    subject: &'a Subject,
    options: RunOptions,
    guide: Guide,
}

impl<'a> Search<'a> {
    pub fn new(spec: &'a ScenarioSpec, subject: &'a Subject, options: RunOptions) -> Search<'a> {
        Search { spec, subject, options: options.with_coverage(), guide: Guide::for_scenario(spec) }
    }

    /// Runs one batch (at most [`BATCH`] seeds, in order), then learns from it.
    pub fn batch(&mut self, batch: &[u64], jobs: usize, done: &(dyn Fn() + Sync)) -> Vec<(RunReport, Option<Knobs>)> {
        assert!(batch.len() <= BATCH, "a batch is at most {BATCH} seeds");
        let (spec, subject, options) = (self.spec, self.subject, self.options);
        let guide = &mut self.guide;
        let chosen: Vec<(u64, Option<Knobs>)> = batch.iter().map(|&seed| (seed, guide.choose())).collect();
        let queue = Mutex::new(chosen.iter().enumerate().rev().collect::<Vec<_>>());
        let results: Mutex<Vec<(usize, RunReport)>> = Mutex::new(Vec::with_capacity(batch.len()));
        std::thread::scope(|scope| {
            for _ in 0..jobs.clamp(1, batch.len()) {
                scope.spawn(|| loop {
                    let Some((i, &(seed, knobs))) = queue.lock().expect("queue lock").pop() else { break };
                    let report = run_seed_with_knobs(spec, subject, seed, knobs, options);
                    results.lock().expect("results lock").push((i, report));
                    done();
                });
            }
        });
        let mut results = results.into_inner().expect("results lock");
        results.sort_by_key(|(i, _)| *i);
        let mut out = Vec::with_capacity(results.len());
        for (i, report) in results {
            let knobs = chosen[i].1;
            guide.learn(knobs, &report.coverage, !report.passed());
            out.push((report, knobs));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alarmsim_scheduler::probe::Probe;

    static RARE: Probe = Probe { name: "t.rare", doc: "rare" };

    #[test]
    fn a_bandit_tries_every_setting_then_favours_the_rewarding_one() {
        let mut b = Bandit::new(3);
        assert_eq!((b.choose(), b.choose(), b.choose()), (0, 1, 2), "each setting once, in order");
        for (setting, reward) in [(0, 0.0), (1, 1.0), (2, 0.0)] {
            b.learn(setting, reward);
        }
        let picks: Vec<usize> = (0..20).map(|_| {
            let s = b.choose();
            b.learn(s, if s == 1 { 1.0 } else { 0.0 });
            s
        }).collect();
        assert!(picks.iter().filter(|&&s| s == 1).count() > 12, "{picks:?}");
    }

    #[test]
    fn novelty_is_the_reward_and_a_failure_is_worth_the_most() {
        let mut guide = Guide::new(false);
        let mut hits = ProbeHits::default();
        hits.add(&RARE, 1);
        assert_eq!(guide.reward(&hits, false), 1.0);
        let knobs = guide.choose();
        assert_eq!(knobs, None, "the first batch runs plain");
        guide.learn(knobs, &hits, false);
        assert_eq!(guide.reward(&hits, false), 0.5, "reached by one run before: 1 / (1 + 1)");
        assert_eq!(guide.reward(&ProbeHits::default(), true), 1.0);
    }
}
