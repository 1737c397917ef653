//! Namespaces are independent (the issue's topology: one alarm-manager node per namespace,
//! each with its own metadata store). Asserted on the structured trace — each event's `node`
//! and `kind` — of the `multi-namespace` scenario run with the reference scheduler.
//!
//! - While one namespace's manager is down, another manager keeps firing its own actors and
//!   their handlers run; the crashed manager says nothing until it restarts.
//! - Every event a manager records concerns an actor of its own namespace (routing).
//! - A partition cuts a host off from one manager: that manager applies no command from the
//!   host's actors while the cut lasts, and another manager goes on applying theirs.
//! - Plans: each namespace's manager has its own crash steps and clock; a single-namespace
//!   plan still names its one manager `manager` (`"manager"` in JSON).

use alarmsim_sim::plan::{Action, Node};
use alarmsim_sim::trace::{EventKind, Trace, TraceEvent};
use alarmsim_sim::{run_seed, Plan, RunReport, ScenarioSpec};

const SCENARIO: &str = "multi-namespace";
/// The snapshot seed: manager-0 is down from t=887676 ms to t=901223 ms, and meanwhile
/// manager-2 fires a8 (twice: a counted failure, then its retry) and a8's handler runs.
const SEED: u64 = 1;

/// A manager's downtime: its namespace and the interval [from, to) in simulated ms.
#[derive(Debug)]
struct Downtime {
    namespace: usize,
    from: u64,
    to: u64,
}

fn spec() -> ScenarioSpec {
    alarmsim_scenarios::scenario(SCENARIO).expect("the multi-namespace scenario is in the catalog")
}

fn run(seed: u64) -> RunReport {
    let spec = spec();
    let report = run_seed(&spec, alarmsim_scenarios::reference_for(&spec), seed);
    assert!(report.passed(), "{SCENARIO} seed {seed}: the reference must pass: {:?}", report.violation);
    report
}

/// The namespace of a manager node (`manager-<k>`); `None` for every other node.
fn manager_namespace(node: &str) -> Option<usize> {
    node.strip_prefix("manager-")?.parse().ok()
}

/// The manager a world-level crash, power loss or restart event names (`crash: manager-1`,
/// `restart: manager-1 (5 rows)`).
fn manager_named(event: &TraceEvent) -> Option<usize> {
    let subject = event.what.split(": ").nth(1)?.split(' ').next()?;
    manager_namespace(subject)
}

/// Every manager downtime of the run, from its crash (or power loss) to its restart.
fn downtimes(trace: &Trace) -> Vec<Downtime> {
    let mut open: Vec<(usize, u64)> = Vec::new();
    let mut done = Vec::new();
    for event in trace.events.iter().filter(|e| e.node == "world") {
        let Some(namespace) = manager_named(event) else { continue };
        match event.kind {
            EventKind::Crash | EventKind::PowerLoss => open.push((namespace, event.t)),
            EventKind::Restart => {
                let index = open.iter().position(|&(ns, _)| ns == namespace).unwrap_or_else(|| {
                    panic!("manager-{namespace} restarted at t={} ms without a crash of its own: another manager's crash took it down", event.t)
                });
                let (_, from) = open.remove(index);
                done.push(Downtime { namespace, from, to: event.t });
            }
            _ => {}
        }
    }
    assert!(open.is_empty(), "the heal restarts every manager: {open:?} never came back");
    done
}

fn actor_namespace(spec: &ScenarioSpec, actor: &str) -> usize {
    spec.namespace_of(actor[1..].parse().expect("actor ids are a<N>"))
}

/// Fires by another namespace's manager during `down`, each followed by a handler start of
/// the same actor before `down` ends: (time, manager node, actor).
fn delivered_during(trace: &Trace, down: &Downtime) -> Vec<(u64, String, String)> {
    let during = |e: &&TraceEvent| down.from < e.t && e.t < down.to;
    let events: Vec<&TraceEvent> = trace.events.iter().filter(during).collect();
    let fires = events.iter().filter(|e| e.kind == EventKind::Fire && e.what.starts_with("fire ")).filter(|e| manager_namespace(&e.node).is_some_and(|ns| ns != down.namespace));
    fires
        .filter(|fire| events.iter().any(|e| e.kind == EventKind::HandlerStart && e.t >= fire.t && e.actor == fire.actor && e.node.starts_with("host-")))
        .map(|fire| (fire.t, fire.node.clone(), fire.actor.clone().expect("a fire names its actor")))
        .collect()
}

#[test]
fn a_manager_keeps_firing_while_another_is_down() {
    let report = run(SEED);
    let downs = downtimes(&report.trace);
    assert!(!downs.is_empty(), "seed {SEED}: no manager crashed, so nothing shows the namespaces are independent");
    let delivered: Vec<_> = downs.iter().flat_map(|d| delivered_during(&report.trace, d).into_iter().map(move |f| (d.namespace, f))).collect();
    assert!(
        !delivered.is_empty(),
        "seed {SEED}: no manager fired an actor whose handler then ran while another manager was down ({downs:?}); \
         a crash of one namespace's manager must not stop the others"
    );
    // The snapshot seed's case, exactly (so a change of the seed's world is noticed here too).
    assert!(delivered.iter().any(|(down, (_, node, actor))| *down == 0 && node == "manager-2" && actor == "a8"), "{delivered:?}");
}

#[test]
fn a_crashed_manager_is_silent_until_it_restarts() {
    let report = run(SEED);
    for down in downtimes(&report.trace) {
        let name = format!("manager-{}", down.namespace);
        let spoke = report.trace.events.iter().find(|e| e.node == name && down.from < e.t && e.t < down.to);
        assert!(spoke.is_none(), "seed {SEED}: {name} was down from {} to {} ms but recorded {spoke:?}", down.from, down.to);
    }
}

#[test]
fn every_manager_event_concerns_its_own_namespace() {
    let spec = spec();
    let mut seen = vec![0usize; spec.namespaces as usize];
    for seed in 0..20 {
        let report = run(seed);
        for event in &report.trace.events {
            let Some(ns) = manager_namespace(&event.node) else { continue };
            let actor = event.actor.as_deref().expect("every manager event concerns one actor");
            assert_eq!(actor_namespace(&spec, actor), ns, "seed {seed}: {} recorded an event of {actor}, an actor of another namespace: {}", event.node, event.line());
            seen[ns] += 1;
        }
    }
    assert!(seen.iter().all(|&n| n > 0), "every namespace's manager must have served its actors: {seen:?}");
}

/// The managers a plan crashes.
fn crashed_managers(plan: &Plan) -> Vec<Node> {
    let crashes = plan.steps.iter().filter_map(|s| match s.action {
        Action::Crash { node, .. } => Some(node),
        _ => None,
    });
    crashes.filter(|n| n.served_namespace().is_some()).collect()
}

#[test]
fn each_namespace_has_its_own_manager_node_in_the_plan() {
    let spec = spec();
    let plans: Vec<Plan> = (0..50).map(|seed| Plan::generate(&spec, "reference", seed)).collect();
    for plan in &plans {
        assert_eq!(plan.profile.clocks.len(), (spec.hosts + spec.namespaces) as usize, "one clock per host and per manager");
        for node in crashed_managers(plan) {
            assert!(matches!(node, Node::NamespaceManager(k) if k < spec.namespaces as usize), "seed {}: {node:?}", plan.seed);
        }
    }
    let crashed: std::collections::BTreeSet<Node> = plans.iter().flat_map(crashed_managers).collect();
    let every: std::collections::BTreeSet<Node> = (0..spec.namespaces as usize).map(Node::NamespaceManager).collect();
    assert_eq!(crashed, every, "over 50 seeds every namespace's manager crashes on its own");
    assert_eq!(serde_json::to_string(&Node::NamespaceManager(2)).unwrap(), r#"{"namespace-manager":2}"#);
}

#[test]
fn a_single_namespace_keeps_its_one_manager() {
    for spec in alarmsim_scenarios::alarm_scenarios().into_iter().filter(|s| s.namespaces == 1) {
        let plan = Plan::generate(&spec, "reference", 3);
        assert_eq!(plan.profile.clocks.len(), spec.hosts as usize + 1, "{}", spec.name);
        assert!(crashed_managers(&plan).iter().all(|&n| n == Node::Manager), "{}: {:?}", spec.name, crashed_managers(&plan));
    }
    assert_eq!(serde_json::to_string(&Node::Manager).unwrap(), r#""manager""#, "saved single-namespace plans still load");
    assert_eq!(Node::Manager.to_string(), "manager");
}

/// One planned cut of the link between a host and one manager, as the world applies it: from
/// the step until `ms` later or the heal, whichever is first.
#[derive(Debug)]
struct Cut {
    host: usize,
    namespace: usize,
    from: u64,
    to: u64,
}

/// The cuts of a plan that no later partition of the same link overrides while they last.
fn clean_cuts(plan: &Plan, heal_ms: u64) -> Vec<Cut> {
    let links: Vec<(u64, usize, u64, Option<Node>)> = plan
        .steps
        .iter()
        .filter_map(|s| match s.action {
            Action::Partition { host, ms, manager } => Some((s.at_ms, host, ms, manager)),
            _ => None,
        })
        .collect();
    let mut cuts = Vec::new();
    for &(from, host, ms, manager) in &links {
        let namespace = manager.and_then(Node::served_namespace).expect("multi-namespace partitions name one manager");
        let to = (from + ms).min(heal_ms);
        let overridden = links.iter().any(|&(at, h, _, m)| h == host && m == manager && from < at && at < to);
        if !overridden {
            cuts.push(Cut { host, namespace, from, to });
        }
    }
    cuts
}

#[test]
fn a_partition_cuts_a_host_off_from_one_manager_only() {
    let spec = spec();
    let host_of = |actor: &str| actor[1..].parse::<u32>().expect("actor ids are a<N>") % spec.hosts;
    let applied = |e: &TraceEvent| e.kind == EventKind::Command && e.what.contains(" applied");
    let (mut cuts_seen, mut others_served) = (0, 0);
    for seed in 0..40 {
        let report = run(seed);
        let heal_ms = report.trace.events.iter().find(|e| e.kind == EventKind::Heal).expect("every run heals").t;
        for cut in clean_cuts(&report.plan, heal_ms) {
            cuts_seen += 1;
            let manager = format!("manager-{}", cut.namespace);
            let during = report.trace.events.iter().filter(|e| cut.from <= e.t && e.t < cut.to);
            let from_host = |e: &&TraceEvent| e.actor.as_deref().is_some_and(|a| host_of(a) == cut.host as u32);
            for event in during.clone().filter(from_host).filter(|e| applied(e)) {
                assert_ne!(event.node, manager, "seed {seed}: {cut:?}, yet {manager} applied a command from host-{}: {}", cut.host, event.line());
                others_served += 1;
            }
        }
    }
    assert!(cuts_seen >= 5, "40 seeds drew only {cuts_seen} single-manager partitions");
    assert!(others_served > 0, "no other manager applied a command from a cut host during any of {cuts_seen} cuts: the partition cut every link");
}

#[test]
fn partitions_name_one_manager_only_with_several_namespaces() {
    let spec = spec();
    let partitions = |spec: &ScenarioSpec, seeds: std::ops::Range<u64>| -> Vec<Option<Node>> {
        seeds
            .flat_map(|seed| Plan::generate(spec, "reference", seed).steps)
            .filter_map(|s| match s.action {
                Action::Partition { manager, .. } => Some(manager),
                _ => None,
            })
            .collect()
    };
    let named: std::collections::BTreeSet<Option<Node>> = partitions(&spec, 0..50).into_iter().collect();
    let every: std::collections::BTreeSet<Option<Node>> = (0..spec.namespaces as usize).map(|k| Some(Node::NamespaceManager(k))).collect();
    assert_eq!(named, every, "over 50 seeds each manager's link is cut, and only one link at a time");
    let single = alarmsim_scenarios::scenario("standard").expect("standard");
    let old = partitions(&single, 0..20);
    assert!(!old.is_empty() && old.iter().all(Option::is_none), "one namespace: a partition cuts the host off from its one manager, as before");
}

#[test]
fn a_violation_names_the_actors_own_manager() {
    let spec = spec();
    let variant = alarmsim_scenarios::variant("notify-after-commit").expect("a bug variant");
    let report = (0..20).map(|seed| run_seed(&spec, variant.clone(), seed)).find(|r| !r.passed()).expect("notify-after-commit fails within 20 seeds");
    let violation = report.violation.expect("a failing run has a violation");
    let actor = violation.actor.as_deref().expect("never-late names its actor");
    let own = format!("manager-{}", actor_namespace(&spec, actor));
    assert!(violation.message.starts_with(&own), "seed {}: the message names {own}, the manager of {actor}: {}", report.seed, violation.message);
}
