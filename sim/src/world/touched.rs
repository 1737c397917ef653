//! The actors one world event touched: the only ones whose durable alarm or manager entry it
//! can have changed, so the only ones the per-event checks (I1) and the trace's gauges look
//! at. Without it a manager tick, which may fire any actor, cost a check of the whole
//! namespace (docs/PERFORMANCE.md, "Scale").
//!
//! An event touches its own actor (a message's, a client operation's), every actor its
//! manager fired or persisted a row for (a manager changes an entry only in a call that
//! persists it, R18, or fires it), every actor of a host that crashed or restarted, and every
//! actor of a namespace whose manager crashed or restarted, and every actor of a host whose
//! partition ended since the last event (the link coming back can make an actor idle, which
//! idle convergence judges). The heal touches them all.

/// A set of actor indices, cleared between events in O(its size).
#[derive(Debug)]
pub(super) struct Touched {
    /// Every actor: the event may have changed any of them.
    all: bool,
    /// The actors added, in the order they were added, without repeats.
    actors: Vec<usize>,
    /// Per actor: whether it is in `actors`.
    marked: Vec<bool>,
}

impl Touched {
    pub(super) fn new(actors: usize) -> Touched {
        Touched { all: false, actors: Vec::new(), marked: vec![false; actors] }
    }

    /// Empties the set for the next event.
    pub(super) fn clear(&mut self) {
        for &actor in &self.actors {
            self.marked[actor] = false;
        }
        self.actors.clear();
        self.all = false;
    }

    pub(super) fn add(&mut self, actor: usize) {
        if !std::mem::replace(&mut self.marked[actor], true) {
            self.actors.push(actor);
        }
    }

    pub(super) fn add_all(&mut self) {
        self.all = true;
    }

    /// Puts the touched actors in index order (the order a check of every actor visits them,
    /// so a violation names the same actor either way) and says how many to visit with
    /// [`Touched::nth`]: all `world_actors` if the event may have changed any of them.
    pub(super) fn visit(&mut self, world_actors: usize) -> usize {
        if self.all {
            return world_actors;
        }
        self.actors.sort_unstable();
        self.actors.len()
    }

    /// The `i`-th actor to visit, after [`Touched::visit`].
    pub(super) fn nth(&self, i: usize) -> usize {
        if self.all {
            i
        } else {
            self.actors[i]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Touched;

    fn visited(touched: &mut Touched) -> Vec<usize> {
        let n = touched.visit(8);
        (0..n).map(|i| touched.nth(i)).collect()
    }

    #[test]
    fn a_touched_set_visits_each_actor_once_in_index_order_and_clears() {
        let mut touched = Touched::new(8);
        for actor in [5, 1, 5, 7, 1] {
            touched.add(actor);
        }
        assert_eq!(visited(&mut touched), [1, 5, 7]);
        touched.clear();
        assert_eq!(visited(&mut touched), Vec::<usize>::new());
        touched.add(5);
        assert_eq!(visited(&mut touched), [5], "a cleared actor can be touched again");
        touched.add(2);
        touched.add_all();
        assert_eq!(visited(&mut touched), (0..8).collect::<Vec<_>>());
        touched.clear();
        assert_eq!(visited(&mut touched), Vec::<usize>::new());
        touched.add(5);
        assert_eq!(visited(&mut touched), [5], "clearing after all forgets the actors added before");
    }
}
