//! Coverage probes: named rare conditions that code reports when it reaches them, so a sweep
//! that finds nothing can say what it explored (FoundationDB's `CODE_PROBE`, Antithesis's
//! "sometimes" assertions; TigerBeetle: a silent simulator proves nothing).
//!
//! A [`Probe`] is a name plus a one-line doc: why the condition is rare and which bug or rule
//! it guards. Code reports a probe through a [`Probes`] sink that is *passed in* (the factory
//! hands one to every actor and manager it builds, a queue gets one through its `Db`), so the
//! cores stay sans-IO: no global, no thread-local, nothing that outlives a seed. A sink that
//! is off costs one branch per report; one that records costs a counter increment.
//!
//! The reference cores' probes are in [`actor`], [`channel`], [`manager`] and [`queue`];
//! [`REFERENCE`] lists them all. A scheduler of your own declares its own probes the same way
//! (a `static` [`Probe`] each) and lists them in `SchedulerFactory::probes`, so the coverage
//! report shows the ones no seed reached too.

/// Declares coverage probes: a `pub static` [`Probe`] for each `IDENT = "name": "doc";`, and a
/// `pub static ALL: &[&Probe]` listing them (what a factory's `probes()` returns). A scheduler
/// of your own declares its probes the same way:
///
/// ```
/// alarmsim_scheduler::probes! {
///     RETRY_AFTER_MOVE = "mine.retry-after-move":
///         "a retry fired after the alarm moved: the retry must carry the new time";
/// }
/// assert_eq!(ALL[0].name, "mine.retry-after-move");
/// ```
#[macro_export]
macro_rules! probes {
    ($($ident:ident = $name:literal : $doc:literal;)*) => {
        $(#[doc = $doc] pub static $ident: $crate::probe::Probe = $crate::probe::Probe { name: $name, doc: $doc };)*
        /// Every probe declared here.
        pub static ALL: &[&$crate::probe::Probe] = &[$(&$ident),*];
    };
}

pub mod actor;
pub mod channel;
pub mod manager;
pub mod queue;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// A named rare condition. Declare each one as a `static` (its address is its identity within
/// a run; its name is its identity in reports, plans and regression files).
#[derive(Debug)]
pub struct Probe {
    /// Unique, lower-case, dotted by owner: `actor.arm.cancel-late`.
    pub name: &'static str,
    /// One line: why the condition is rare and what bug or rule it guards.
    pub doc: &'static str,
}

impl PartialEq for Probe {
    fn eq(&self, other: &Probe) -> bool {
        self.name == other.name
    }
}

impl Eq for Probe {}

/// Where probes are reported. Cheap to clone (every clone records into the same counts).
#[derive(Clone, Default)]
pub struct Probes {
    hits: Option<Rc<RefCell<ProbeHits>>>,
}

impl Probes {
    /// A sink that records nothing (coverage off): every report is one branch.
    pub fn off() -> Probes {
        Probes { hits: None }
    }

    /// A sink that counts every report.
    pub fn recording() -> Probes {
        Probes { hits: Some(Rc::new(RefCell::new(ProbeHits::default()))) }
    }

    pub fn is_on(&self) -> bool {
        self.hits.is_some()
    }

    /// `probe` was reached.
    #[inline]
    pub fn hit(&self, probe: &'static Probe) {
        if let Some(hits) = &self.hits {
            hits.borrow_mut().add(probe, 1);
        }
    }

    /// `probe` was reached if `condition` holds (an Antithesis-style "sometimes": the sweep
    /// report lists the probes for which it never held).
    #[inline]
    pub fn sometimes(&self, condition: bool, probe: &'static Probe) {
        if condition {
            self.hit(probe);
        }
    }

    /// What this sink recorded so far (empty when it is off).
    pub fn snapshot(&self) -> ProbeHits {
        self.hits.as_ref().map(|h| h.borrow().clone()).unwrap_or_default()
    }
}

impl std::fmt::Debug for Probes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.hits {
            None => f.write_str("Probes(off)"),
            Some(hits) => write!(f, "Probes({} reached)", hits.borrow().len()),
        }
    }
}

/// The probes one run reached and how often, by name (a `BTreeMap`: reports list them in a
/// deterministic order).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProbeHits {
    by_name: BTreeMap<&'static str, (&'static Probe, u64)>,
}

impl ProbeHits {
    pub fn add(&mut self, probe: &'static Probe, times: u64) {
        let entry = self.by_name.entry(probe.name).or_insert((probe, 0));
        // Two different statics under one name would merge silently in every report.
        debug_assert_eq!(entry.0.doc, probe.doc, "two probes are named {}", probe.name);
        entry.1 += times;
    }

    /// How often `name` was reached (0 if never).
    pub fn count(&self, name: &str) -> u64 {
        self.by_name.get(name).map_or(0, |(_, n)| *n)
    }

    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// Every probe reached, in name order, with its count.
    pub fn iter(&self) -> impl Iterator<Item = (&'static Probe, u64)> + '_ {
        self.by_name.values().copied()
    }
}

impl serde::Serialize for ProbeHits {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.by_name.iter().map(|(name, (_, n))| (*name, *n)))
    }
}

/// Every probe of the reference cores (actor, channel, manager, queue), in that order.
pub fn reference() -> Vec<&'static Probe> {
    let mut all = Vec::new();
    all.extend_from_slice(actor::ALL);
    all.extend_from_slice(channel::ALL);
    all.extend_from_slice(manager::ALL);
    all.extend_from_slice(queue::ALL);
    all
}

/// The reference alarm scheduler's probes (actor, channel, manager): what
/// `Reference::probes` declares.
pub fn reference_alarms() -> Vec<&'static Probe> {
    let mut all = Vec::new();
    all.extend_from_slice(actor::ALL);
    all.extend_from_slice(channel::ALL);
    all.extend_from_slice(manager::ALL);
    all
}

/// The name a probe may have: lower-case ASCII letters, digits, `-`, `_` and `.`, starting
/// with a letter; the error says what is wrong.
pub fn check_name(name: &str) -> Result<(), String> {
    let Some(first) = name.chars().next() else { return Err("a probe name is empty".to_string()) };
    if !first.is_ascii_lowercase() {
        return Err(format!("probe name {name:?} must start with a lower-case letter"));
    }
    if let Some(bad) = name.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))) {
        return Err(format!("probe name {name:?} has {bad:?}; use lower-case letters, digits, '-', '_' and '.'"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    static A: Probe = Probe { name: "test.a", doc: "a" };
    static B: Probe = Probe { name: "test.b", doc: "b" };

    #[test]
    fn an_off_sink_records_nothing_and_a_recording_one_counts_every_clone() {
        let off = Probes::off();
        off.hit(&A);
        assert!(off.snapshot().is_empty());
        let on = Probes::recording();
        let clone = on.clone();
        on.hit(&A);
        clone.hit(&A);
        clone.sometimes(false, &B);
        assert_eq!((on.snapshot().count("test.a"), on.snapshot().count("test.b")), (2, 0));
        clone.sometimes(true, &B);
        let names: Vec<&str> = on.snapshot().iter().map(|(p, _)| p.name).collect();
        assert_eq!(names, ["test.a", "test.b"], "name order");
    }

    #[test]
    fn every_reference_probe_has_a_unique_valid_name_and_a_doc() {
        let all = reference();
        let mut names = std::collections::BTreeSet::new();
        for probe in &all {
            check_name(probe.name).unwrap();
            assert!(names.insert(probe.name), "{} is declared twice", probe.name);
            assert!(probe.doc.len() > 20, "{} needs a doc: why it is rare, what it guards", probe.name);
        }
        for (prefix, list) in [("actor.", actor::ALL), ("channel.", channel::ALL), ("manager.", manager::ALL), ("queue.", queue::ALL)] {
            assert!(list.iter().all(|p| p.name.starts_with(prefix)), "{prefix} probes are named after their core");
        }
    }

    #[test]
    fn names_are_checked() {
        assert!(check_name("actor.arm.cancel-late").is_ok());
        assert!(check_name("").is_err());
        assert!(check_name("Actor").unwrap_err().contains("lower-case"));
        assert!(check_name("a b").unwrap_err().contains("' '"));
    }
}
