//! Warm SQLite stores, reused from one seed to the next.
//!
//! Opening an in-memory connection, loading its schema and preparing its statements cost
//! more than all the commits a seed makes on it (docs/PERFORMANCE.md). So a seed takes its
//! stores from a pool and gives them back emptied when its world is dropped, and the next
//! seed, on whichever seed thread, gets warm connections.
//!
//! Determinism: an emptied store holds exactly what a freshly migrated one holds (the same
//! schema, no rows, and tables without rowids), so which connection a seed gets cannot change
//! what its queries return. `tests/determinism.rs` runs every seed twice, the second time
//! on connections the first run used.

use std::ops::{Deref, DerefMut};
use std::sync::Mutex;

/// The most idle stores a pool keeps: a 10,000-actor world's (`bench --scale`), or two seed
/// threads of the large-namespace scenario with room to spare. A store beyond it is closed
/// instead of kept. Idle stores cost memory (about 35 KiB each, docs/PERFORMANCE.md
/// "Scale") but no more than the worlds that gave them back held while they ran.
pub const POOL_LIMIT: usize = 10_240;

/// A store that can be emptied and used again.
pub trait Reusable: Sized + Send + 'static {
    /// Empties the store to its freshly opened state; false if that failed (the store is then
    /// closed, not reused).
    fn reset(&mut self) -> bool;
    /// The process-wide pool of idle stores of this type.
    fn pool() -> &'static Pool<Self>;
}

/// Idle stores of one type.
pub struct Pool<T> {
    idle: Mutex<Vec<T>>,
}

impl<T: Reusable> Pool<T> {
    pub const fn new() -> Pool<T> {
        Pool { idle: Mutex::new(Vec::new()) }
    }

    /// An idle store, or a new one from `open` if there is none.
    pub fn take<E>(&self, open: impl FnOnce() -> Result<T, E>) -> Result<Pooled<T>, E> {
        let idle = self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).pop();
        let store = match idle {
            Some(store) => store,
            None => open()?,
        };
        Ok(Pooled { store: Some(store) })
    }

    fn give(&self, store: T) {
        let mut idle = self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if idle.len() < POOL_LIMIT {
            idle.push(store);
        }
    }

    /// Idle stores right now.
    #[cfg(test)]
    fn idle(&self) -> usize {
        self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).len()
    }
}

impl<T: Reusable> Default for Pool<T> {
    fn default() -> Pool<T> {
        Pool::new()
    }
}

/// A store on loan from its pool; dropping it empties it and gives it back.
pub struct Pooled<T: Reusable> {
    /// Always `Some` until `drop`.
    store: Option<T>,
}

impl<T: Reusable> Deref for Pooled<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.store.as_ref().expect("a pooled store is present until dropped")
    }
}

impl<T: Reusable> DerefMut for Pooled<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.store.as_mut().expect("a pooled store is present until dropped")
    }
}

impl<T: Reusable> Drop for Pooled<T> {
    fn drop(&mut self) {
        let Some(mut store) = self.store.take() else { return };
        if store.reset() {
            T::pool().give(store);
        }
    }
}

// ----- the stores the alarm world pools ---------------------------------------------------------

use alarmsim_scheduler::actor_store::ActorStore;
use alarmsim_scheduler::metadata_store::MetadataStore;

static ACTOR_STORES: Pool<ActorStore> = Pool::new();
static METADATA_STORES: Pool<MetadataStore> = Pool::new();

impl Reusable for ActorStore {
    fn reset(&mut self) -> bool {
        ActorStore::reset(self).is_ok()
    }
    fn pool() -> &'static Pool<ActorStore> {
        &ACTOR_STORES
    }
}

impl Reusable for MetadataStore {
    fn reset(&mut self) -> bool {
        MetadataStore::reset(self).is_ok()
    }
    fn pool() -> &'static Pool<MetadataStore> {
        &METADATA_STORES
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alarmsim_scheduler::{CommitBatch, Durability, Location, Millis};

    /// A store that comes back from the pool reads exactly like a freshly migrated one: a
    /// leftover row or incarnation would leak one seed's state into the next.
    #[test]
    fn a_store_given_back_is_emptied_before_reuse() {
        static POOL: Pool<Probe> = Pool::new();
        struct Probe(ActorStore);
        impl Reusable for Probe {
            fn reset(&mut self) -> bool {
                self.0.reset().is_ok()
            }
            fn pool() -> &'static Pool<Probe> {
                &POOL
            }
        }
        let open = || ActorStore::open(&Location::Memory, Durability::Full).map(Probe);
        {
            let mut store = POOL.take(open).expect("open a store");
            assert_eq!(store.0.next_incarnation().expect("bump"), 1);
            let batch = CommitBatch { alarm: Some(Millis(5)), kv: [("k".to_string(), Some(vec![1]))].into(), clear_kv: false };
            store.0.apply(&batch).expect("apply a commit");
            // Leave a transaction open, as a run that panicked mid-commit would.
            store.0.connection().execute_batch("BEGIN; DELETE FROM kv;").expect("open a transaction");
        }
        assert_eq!(POOL.idle(), 1, "the store went back to the pool");
        let mut again = POOL.take(|| -> Result<Probe, alarmsim_scheduler::StoreError> { panic!("the idle store is reused") }).expect("reuse");
        assert_eq!(POOL.idle(), 0);
        let state = again.0.load().expect("load");
        assert!(state.kv.is_empty() && state.alarm.is_none(), "no row survives: {state:?}");
        assert_eq!(again.0.next_incarnation().expect("bump"), 1, "the incarnation starts over");
    }
}
