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
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// At most this many events pending at once: a world that exceeds it has a runaway loop
/// (a scheduler spinning, cloudflare/containers #191), which the no-spin check reports long
/// before this; the limit turns a memory blow-up into a clear failure.
pub const MAX_PENDING: usize = 1 << 20;

/// A pending event's place in the order: (due ms, seeded tie-break, schedule order, slot).
/// The schedule order makes the order total even if two keys collide; the slot says where
/// the event waits. The heap moves only these 28 bytes, never the events themselves.
type Rank = (u64, u64, u64, u32);

/// Pending events in the order they will run.
pub struct Agenda<E> {
    heap: BinaryHeap<Reverse<Rank>>,
    /// The events, by slot; `None` for a free slot.
    slots: Vec<Option<E>>,
    /// Free slots, reused before the slab grows.
    free: Vec<u32>,
    order: ChaCha8Rng,
    scheduled: u64,
}

impl<E> Agenda<E> {
    /// An empty agenda whose same-instant order comes from `order_seed`.
    pub fn new(order_seed: u64) -> Agenda<E> {
        Agenda { heap: BinaryHeap::new(), slots: Vec::new(), free: Vec::new(), order: ChaCha8Rng::seed_from_u64(order_seed), scheduled: 0 }
    }

    /// Schedules `event` at simulated `at_ms`.
    pub fn push(&mut self, at_ms: u64, event: E) {
        assert!(self.heap.len() < MAX_PENDING, "more than {MAX_PENDING} events pending: a runaway loop");
        let key = self.order.random::<u64>();
        self.scheduled += 1;
        let slot = match self.free.pop() {
            Some(slot) => {
                debug_assert!(self.slots[slot as usize].is_none(), "a free slot holds no event");
                self.slots[slot as usize] = Some(event);
                slot
            }
            None => {
                self.slots.push(Some(event));
                u32::try_from(self.slots.len() - 1).expect("MAX_PENDING fits in u32")
            }
        };
        self.heap.push(Reverse((at_ms, key, self.scheduled, slot)));
    }

    /// When the next event is due, if any is pending.
    pub fn next_at(&self) -> Option<u64> {
        self.heap.peek().map(|Reverse(rank)| rank.0)
    }

    /// The next event due at or before `now_ms`, if there is one.
    pub fn pop_due(&mut self, now_ms: u64) -> Option<E> {
        if self.next_at()? > now_ms {
            return None;
        }
        let Reverse((_, _, _, slot)) = self.heap.pop().expect("peeked above");
        self.free.push(slot);
        Some(self.slots[slot as usize].take().expect("a ranked slot holds its event"))
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
