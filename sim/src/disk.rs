//! An actor's disk: the real SQLite engine (in memory) plus a durability model.
//!
//! - A process crash loses nothing that was applied (the OS still has the WAL).
//! - A power loss under `synchronous=NORMAL` rolls the database back to its last sync
//!   (checkpoint) image: commits after it are lost, nothing is corrupted.
//! - Under `FULL` every commit is synced, so a power loss loses nothing.
//!
//! The image is a real `sqlite3_serialize` copy and the rollback a real
//! `sqlite3_deserialize`, so what survives is what the SQLite engine itself holds. A
//! shadow model of the expected contents checks the engine against the model
//! (the durability invariant).
//!
//! Checkpoints happen every `sync_interval_ms` on the host. They are taken lazily: the disk
//! only changes when a commit applies, so checkpointing just before the first commit (or
//! power loss) after a boundary gives exactly the image a periodic checkpoint would have,
//! without a timer event per interval.

use crate::pool::{Pooled, Reusable};
use crate::store_work::StoreWork;
use alarmsim_scheduler::actor_store::ActorStore;
use alarmsim_scheduler::{CommitBatch, DurableState, Durability, Location, StoreError};
use rusqlite::MAIN_DB;

/// A freshly migrated, empty actor store, serialized once per process.
fn template() -> Result<&'static [u8], StoreError> {
    static TEMPLATE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    if let Some(image) = TEMPLATE.get() {
        return Ok(image);
    }
    let image = ActorStore::open(&Location::Memory, Durability::Full)?.image()?;
    Ok(TEMPLATE.get_or_init(|| image))
}

pub struct ActorDisk {
    /// On loan from the pool of warm stores (`pool.rs`); emptied and returned on drop.
    store: Pooled<ActorStore>,
    durability: Durability,
    /// What the store should hold now (every applied commit).
    shadow: DurableState,
    /// The last sync image and what it should hold (NORMAL only).
    synced: Option<(Vec<u8>, DurableState)>,
    dirty: bool,
    sync_interval_ms: u64,
    /// The next checkpoint boundary (simulated ms).
    next_sync_ms: u64,
    /// The SQLite operations done so far (for the bench's breakdown).
    pub work: StoreWork,
}

impl ActorDisk {
    /// A new disk whose first checkpoint boundary is at `first_sync_ms` (a per-host phase).
    pub fn new(durability: Durability, sync_interval_ms: u64, first_sync_ms: u64) -> Result<ActorDisk, StoreError> {
        assert!(sync_interval_ms > 0, "a checkpoint interval must be positive");
        let store = ActorStore::pool().take(|| ActorStore::from_image(template()?))?;
        let mut disk = ActorDisk {
            store,
            durability,
            shadow: DurableState::default(),
            synced: None,
            dirty: true,
            sync_interval_ms,
            next_sync_ms: first_sync_ms,
            work: StoreWork::default(),
        };
        disk.sync();
        Ok(disk)
    }

    /// Takes the checkpoint a periodic sync would have taken by `now_ms`, if one is due.
    fn catch_up(&mut self, now_ms: u64) {
        if now_ms < self.next_sync_ms {
            return;
        }
        self.sync();
        let behind = (now_ms - self.next_sync_ms) / self.sync_interval_ms + 1;
        self.next_sync_ms += behind * self.sync_interval_ms;
    }

    pub fn shadow(&self) -> &DurableState {
        &self.shadow
    }

    /// Applies one commit in one SQLite transaction at simulated time `now_ms`.
    pub fn apply(&mut self, batch: &CommitBatch, now_ms: u64) -> Result<(), StoreError> {
        self.catch_up(now_ms);
        self.store.apply(batch)?;
        self.work.commits += 1;
        self.work.kv_rows += batch.kv.len() as u64;
        if batch.clear_kv {
            self.shadow.kv.clear();
        }
        for (key, value) in &batch.kv {
            match value {
                Some(v) => self.shadow.kv.insert(key.clone(), v.clone()),
                None => self.shadow.kv.remove(key),
            };
        }
        self.shadow.alarm = batch.alarm;
        self.dirty = true;
        Ok(())
    }

    /// A checkpoint: under NORMAL, everything applied so far becomes power-loss safe.
    pub fn sync(&mut self) {
        if self.durability == Durability::Full || !self.dirty {
            return;
        }
        let image = self.store.connection().serialize(MAIN_DB).expect("serialize an in-memory database").to_vec();
        self.synced = Some((image, self.shadow.clone()));
        self.work.images += 1;
        self.dirty = false;
    }

    /// A power loss at `now_ms`: returns true if anything was lost.
    pub fn power_loss(&mut self, now_ms: u64) -> bool {
        self.catch_up(now_ms);
        if self.durability == Durability::Full || !self.dirty {
            return false;
        }
        let (image, state) = self.synced.clone().expect("a NORMAL disk always has an image");
        let len = image.len();
        self.store
            .connection_mut()
            .deserialize_read_exact(MAIN_DB, &image[..], len, false)
            .expect("deserialize the sync image");
        self.work.rollbacks += 1;
        self.shadow = state;
        self.dirty = false;
        true
    }

    /// Reads the store (what a restarting actor sees).
    pub fn load(&mut self) -> Result<DurableState, StoreError> {
        self.work.loads += 1;
        self.store.load()
    }

    /// Starts a new incarnation. The bump is synced at once: a rolled-back incarnation
    /// would reuse fences and let the previous incarnation's commands look new.
    pub fn next_incarnation(&mut self) -> Result<u64, StoreError> {
        let incarnation = self.store.next_incarnation()?;
        self.work.bumps += 1;
        self.dirty = true;
        self.sync();
        Ok(incarnation)
    }
}
