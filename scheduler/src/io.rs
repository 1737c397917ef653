//! The abstractions the cores are driven through, and their real implementations.
//!
//! The cores ([`crate::actor`], [`crate::manager`]) never touch time, storage or the
//! network: a driver reads the [`Clock`], hands [`crate::ActorEffect::Commit`] to a
//! [`StorageBackend`] and [`crate::ActorEffect::Schedule`] to a [`ManagerLink`], and feeds
//! the results back. The simulator implements these traits over madsim with injected
//! faults; [`crate::realtime`] uses the real ones below.
//!
//! The traits are async because real backends and links are: a commit "may be slow, may
//! fail, or may complete late", and so may a schedule command.

use crate::actor::DurableState;
use crate::actor_store::ActorStore;
use crate::batch::CommitBatch;
use crate::error::StoreError;
use crate::fence::Fence;
use crate::ids::{ActorId, CommitId};
use crate::manager::{ManagerCore, ManagerEffect};
use crate::metadata_store::MetadataStore;
use crate::sqlite_file::{Durability, Location};
use crate::time::{AlarmTime, Millis};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::rc::Rc;

/// A node's clock: wall time in ms, and a way to wait for a deadline.
pub trait Clock {
    fn now(&self) -> Millis;
    fn sleep_until(&self, deadline: Millis) -> impl Future<Output = ()>;
}

/// Why a durable commit did not complete.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("storage backend unavailable: {0}")]
    Unavailable(String),
}

/// The asynchronous durable side of an actor's storage ("C", `commitCallback`).
/// Commits of one actor are applied in `CommitId` order.
pub trait StorageBackend {
    /// Reads durable state and starts a new incarnation of the actor.
    fn load(&self, actor: &ActorId) -> impl Future<Output = Result<(u64, DurableState), BackendError>>;
    fn commit(&self, actor: &ActorId, id: CommitId, batch: CommitBatch) -> impl Future<Output = Result<(), BackendError>>;
}

/// Why a schedule command did not complete. It may still have been applied.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("alarm manager unreachable: {0}")]
    Unreachable(String),
}

/// The actor's link to the alarm manager: `scheduleRun(actor, Some(t) | None)`.
pub trait ManagerLink {
    fn schedule(&self, actor: &ActorId, time: AlarmTime, fence: Fence) -> impl Future<Output = Result<(), LinkError>>;
}

// ----- real implementations ------------------------------------------------------------------

/// The operating system's clock. `sleep_until` blocks the calling thread: the real-time
/// driver is single-threaded and has nothing else to do while it waits.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Millis {
        let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock after 1970");
        Millis(since_epoch.as_millis() as i64)
    }

    fn sleep_until(&self, deadline: Millis) -> impl Future<Output = ()> {
        let wait = deadline.0 - self.now().0;
        if wait > 0 {
            std::thread::sleep(std::time::Duration::from_millis(wait as u64));
        }
        std::future::ready(())
    }
}

/// On-disk SQLite, one database per actor under `dir/actors/`.
#[derive(Debug)]
pub struct SqliteBackend {
    dir: PathBuf,
    durability: Durability,
    stores: RefCell<BTreeMap<ActorId, ActorStore>>,
}

impl SqliteBackend {
    pub fn new(dir: impl Into<PathBuf>, durability: Durability) -> Result<SqliteBackend, StoreError> {
        let dir = dir.into().join("actors");
        std::fs::create_dir_all(&dir).map_err(|e| StoreError::CannotOpen {
            path: dir.clone(),
            source: rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN), Some(e.to_string())),
        })?;
        Ok(SqliteBackend { dir, durability, stores: RefCell::new(BTreeMap::new()) })
    }

    fn with_store<T>(&self, actor: &ActorId, f: impl FnOnce(&mut ActorStore) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let mut stores = self.stores.borrow_mut();
        if !stores.contains_key(actor) {
            let file = self.dir.join(format!("{}.sqlite", actor.0));
            stores.insert(actor.clone(), ActorStore::open(&Location::File(file), self.durability)?);
        }
        f(stores.get_mut(actor).expect("inserted above"))
    }
}

impl StorageBackend for SqliteBackend {
    fn load(&self, actor: &ActorId) -> impl Future<Output = Result<(u64, DurableState), BackendError>> {
        let loaded = self.with_store(actor, |s| Ok((s.next_incarnation()?, s.load()?)));
        std::future::ready(loaded.map_err(BackendError::from))
    }

    fn commit(&self, actor: &ActorId, _id: CommitId, batch: CommitBatch) -> impl Future<Output = Result<(), BackendError>> {
        std::future::ready(self.with_store(actor, |s| s.apply(&batch)).map_err(BackendError::from))
    }
}

/// The manager and its metadata store, shared in one process.
#[derive(Debug)]
pub struct LocalManager {
    pub core: ManagerCore,
    pub store: MetadataStore,
}

impl LocalManager {
    /// Writes every row the core asked to persist; returns the other effects.
    pub fn flush(&mut self) -> Result<Vec<ManagerEffect>, StoreError> {
        let mut rest = Vec::new();
        while let Some(effect) = self.core.poll_effect() {
            match effect {
                ManagerEffect::Persist(row) => self.store.write(&row)?,
                other => rest.push(other),
            }
        }
        Ok(rest)
    }
}

/// An in-process call into a [`LocalManager`] (workerd's `ActorSqliteHooks`, R20): the
/// command is applied and persisted before the call returns.
#[derive(Clone, Debug)]
pub struct InProcessLink {
    pub manager: Rc<RefCell<LocalManager>>,
    /// Effects other than persistence (abandon requests), for the driver to act on.
    pub outbox: Rc<RefCell<Vec<ManagerEffect>>>,
}

impl ManagerLink for InProcessLink {
    fn schedule(&self, actor: &ActorId, time: AlarmTime, fence: Fence) -> impl Future<Output = Result<(), LinkError>> {
        let mut manager = self.manager.borrow_mut();
        manager.core.schedule(actor, time, fence, Some(actor.0.clone()));
        let result = manager.flush().map(|rest| self.outbox.borrow_mut().extend(rest)).map_err(LinkError::from);
        std::future::ready(result)
    }
}

/// Polls a future that is expected to be ready at once (every real implementation above).
/// Panics otherwise: the real-time driver has no executor to park it on.
pub fn now_or_never<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(out) => out,
        std::task::Poll::Pending => panic!("a real-time adapter returned a pending future"),
    }
}
