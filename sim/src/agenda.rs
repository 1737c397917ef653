//! The alarm world's pending events: a timer heap with seeded tie-breaking.
//!
//! Every message in flight, handler step and planned step is one entry. The driver
//! (`run.rs`) advances madsim's clock to the earliest entry's time and hands the world every
//! entry due then, one at a time. One madsim timer per distinct instant replaces one madsim
//! task and timer per message, which was most of the simulator's own overhead
//! (docs/PERFORMANCE.md).
//!
//! Events due at the same millisecond run in an order drawn from the seed: each entry gets a
//! random key when it is scheduled, so any two simultaneous events can run either way round
//! (the interleavings the races live in, e.g. workerd #5431), and a seed always picks the same
//! one. An event scheduled "now" from inside another can still overtake events already due.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

/// At most this many events pending at once: a world that exceeds it has a runaway loop
/// (a scheduler spinning, cloudflare/containers #191), which the no-spin check reports long
/// before this; the limit turns a memory blow-up into a clear failure.
pub const MAX_PENDING: usize = 1 << 20;

struct Entry<E> {
    at_ms: u64,
    /// The seeded tie-break among entries due at the same millisecond.
    key: u64,
    /// Schedule order: makes the order total even if two keys collide.
    seq: u64,
    event: E,
}

impl<E> Entry<E> {
    fn rank(&self) -> (u64, u64, u64) {
        (self.at_ms, self.key, self.seq)
    }
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.rank() == other.rank()
    }
}

impl<E> Eq for Entry<E> {}

impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<E> Ord for Entry<E> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.rank().cmp(&other.rank())
    }
}

/// Pending events in the order they will run.
pub struct Agenda<E> {
    heap: BinaryHeap<Reverse<Entry<E>>>,
    order: ChaCha8Rng,
    scheduled: u64,
}

impl<E> Agenda<E> {
    /// An empty agenda whose same-instant order comes from `order_seed`.
    pub fn new(order_seed: u64) -> Agenda<E> {
        Agenda { heap: BinaryHeap::new(), order: ChaCha8Rng::seed_from_u64(order_seed), scheduled: 0 }
    }

    /// Schedules `event` at simulated `at_ms`.
    pub fn push(&mut self, at_ms: u64, event: E) {
        assert!(self.heap.len() < MAX_PENDING, "more than {MAX_PENDING} events pending: a runaway loop");
        let key = self.order.random::<u64>();
        self.scheduled += 1;
        self.heap.push(Reverse(Entry { at_ms, key, seq: self.scheduled, event }));
    }

    /// When the next event is due, if any is pending.
    pub fn next_at(&self) -> Option<u64> {
        self.heap.peek().map(|Reverse(entry)| entry.at_ms)
    }

    /// The next event due at or before `now_ms`, if there is one.
    pub fn pop_due(&mut self, now_ms: u64) -> Option<E> {
        if self.next_at()? > now_ms {
            return None;
        }
        self.heap.pop().map(|Reverse(entry)| entry.event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(agenda: &mut Agenda<&'static str>, now: u64) -> Vec<&'static str> {
        std::iter::from_fn(|| agenda.pop_due(now)).collect()
    }

    #[test]
    fn events_run_in_time_order_and_not_before_they_are_due() {
        let mut agenda = Agenda::new(7);
        agenda.push(30, "c");
        agenda.push(10, "a");
        agenda.push(20, "b");
        assert_eq!(agenda.next_at(), Some(10));
        assert_eq!(drain(&mut agenda, 25), ["a", "b"]);
        assert_eq!(agenda.pop_due(29), None, "c is not due before 30");
        assert_eq!(drain(&mut agenda, 30), ["c"]);
        assert_eq!(agenda.next_at(), None, "nothing is left");
    }

    /// Simultaneous events take both orders across seeds (the races need both), and one seed
    /// always takes the same order (replay needs that).
    #[test]
    fn simultaneous_events_run_in_an_order_drawn_from_the_seed() {
        let order = |seed: u64| {
            let mut agenda = Agenda::new(seed);
            for event in ["x", "y", "z"] {
                agenda.push(5, event);
            }
            drain(&mut agenda, 5)
        };
        let orders: std::collections::BTreeSet<Vec<&str>> = (0..64).map(order).collect();
        assert_eq!(orders.len(), 6, "every order of three simultaneous events occurs: {orders:?}");
        assert!((0..64).all(|seed| order(seed) == order(seed)), "a seed's order is fixed");
    }
}
