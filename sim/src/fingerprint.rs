//! A run's fingerprint: the skeleton of its trace — every event's simulated time, kind and
//! track — recorded by traced and untraced runs alike, at the cost of one push per event.
//!
//! Sweeps run untraced, so they cannot compare traces byte for byte without paying for the
//! trace text; the fingerprint lets `sweep` re-run a sample of its seeds after all the others
//! and still name the first event where two runs of one seed part (the determinism
//! spot-check, issue #17 item 5). State that outlives a seed — a `static`, a thread-local, a
//! process-wide cache — makes a seed's run depend on the seeds run before it, and shows up
//! here (madsim #174, its most reported pitfall). `--check-determinism` still compares whole
//! traces.

use crate::trace::EventKind;

/// One event of the skeleton.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventStamp {
    /// Simulated ms since the start of the run.
    pub t: u64,
    pub kind: EventKind,
    /// The event's track: the actor's index + 1 in the alarm world, a digest of the job id in
    /// the queue world, 0 for none.
    pub track: u32,
}

/// Every event's stamp, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fingerprint {
    stamps: Vec<EventStamp>,
    /// Track `k`'s name is `names[k - 1]`, where the world knows it (the alarm world's actor
    /// ids; set once at the end of a run, never per event).
    names: Vec<String>,
}

/// Where two fingerprints of one seed first part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// The index of the first differing event (counting every event, gauge-only updates
    /// excluded, as in the text form of a trace).
    pub index: usize,
    /// That event in each run (`None`: the run had ended).
    pub first: Option<EventStamp>,
    pub second: Option<EventStamp>,
}

impl Fingerprint {
    pub fn record(&mut self, t: u64, kind: EventKind, track: u32) {
        self.stamps.push(EventStamp { t, kind, track });
    }

    pub fn len(&self) -> usize {
        self.stamps.len()
    }

    /// Names the tracks `1..=names.len()`.
    pub fn set_track_names(&mut self, names: Vec<String>) {
        self.names = names;
    }

    /// A stamp in words: `a fire event at t=180975ms on a0`.
    pub fn describe(&self, stamp: Option<EventStamp>) -> String {
        let Some(s) = stamp else { return "the end of the run".to_string() };
        let track = match s.track {
            0 => String::new(),
            k => match self.names.get(k as usize - 1) {
                Some(name) => format!(" on {name}"),
                None => format!(" on track {k}"),
            },
        };
        format!("a {} event at t={}ms{track}", s.kind, s.t)
    }

    pub fn is_empty(&self) -> bool {
        self.stamps.is_empty()
    }

    /// FNV-1a over every stamp: the value the spot-check prints.
    pub fn hash(&self) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for s in &self.stamps {
            for word in [s.t, s.kind as u64, u64::from(s.track)] {
                for byte in word.to_le_bytes() {
                    h ^= u64::from(byte);
                    h = h.wrapping_mul(0x0100_0000_01b3);
                }
            }
        }
        h
    }

    /// The first event where `self` and `other` differ, or `None` if they are equal.
    pub fn first_divergence(&self, other: &Fingerprint) -> Option<Divergence> {
        if self.stamps == other.stamps {
            return None;
        }
        let index = self.stamps.iter().zip(&other.stamps).position(|(a, b)| a != b).unwrap_or_else(|| self.stamps.len().min(other.stamps.len()));
        Some(Divergence { index, first: self.stamps.get(index).copied(), second: other.stamps.get(index).copied() })
    }
}

/// A job id's track number in the queue world's fingerprint (FNV-1a, folded to 32 bits; 0
/// is kept for "no track").
pub fn track_digest(id: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for byte in id.bytes() {
        h ^= u32::from(byte);
        h = h.wrapping_mul(0x0100_0193);
    }
    h.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_fingerprints_do_not_diverge() {
        let mut a = Fingerprint::default();
        a.record(1, EventKind::Op, 1);
        a.record(5, EventKind::Fire, 2);
        let b = a.clone();
        assert_eq!(a.first_divergence(&b), None);
        assert_eq!(a.hash(), b.hash());
    }

    #[test]
    fn the_first_differing_event_is_named() {
        let mut a = Fingerprint::default();
        let mut b = Fingerprint::default();
        for f in [&mut a, &mut b] {
            f.record(1, EventKind::Op, 1);
        }
        a.record(5, EventKind::Fire, 2);
        b.record(5, EventKind::Command, 2);
        let d = a.first_divergence(&b).expect("they differ");
        assert_eq!(d.index, 1);
        assert_eq!(d.first.map(|s| s.kind), Some(EventKind::Fire));
        assert_eq!(d.second.map(|s| s.kind), Some(EventKind::Command));
        assert_ne!(a.hash(), b.hash());
    }

    #[test]
    fn a_shorter_run_diverges_where_it_ends() {
        let mut a = Fingerprint::default();
        a.record(1, EventKind::Op, 1);
        let mut b = a.clone();
        b.record(2, EventKind::Op, 1);
        let d = a.first_divergence(&b).expect("they differ");
        assert_eq!((d.index, d.first, d.second.map(|s| s.t)), (1, None, Some(2)));
    }

    #[test]
    fn digests_never_use_the_no_track_value() {
        assert_ne!(track_digest(""), 0);
        assert_ne!(track_digest("job-1"), track_digest("job-2"));
    }
}
