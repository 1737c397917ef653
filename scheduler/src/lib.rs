//! # alarmsim-scheduler
//!
//! A reference Durable Object alarm scheduler, written as sans-IO state machines:
//!
//! - [`actor::ActorAlarms`]: the actor side (workerd `ActorSqlite`): `setAlarm`, `getAlarm`,
//!   `deleteAlarm`, transactional KV writes, precommit/post-commit scheduling, the alarm
//!   handler's arm decision and deferred delete.
//! - [`manager::ManagerCore`]: the alarm manager (workerd's local `AlarmScheduler`): one
//!   entry per actor, never fires early, retries with backoff, abandons through the actor.
//! - [`rearm`]: the cloudflare/containers re-arm helper.
//!
//! Both cores take time as an argument and return effects; [`io`] holds the abstractions
//! (clock, storage backend, manager link) and their real implementations, [`realtime`]
//! runs the whole thing on the system clock and on-disk SQLite, and [`testkit`] drives the
//! actor by hand the way workerd's `actor-sqlite-test` drives its mocks.

pub mod actor;
pub mod api;
pub mod actor_store;
pub mod backoff;
pub mod batch;
pub mod channel;
pub mod checksum;
pub mod error;
pub mod fence;
pub mod ids;
pub mod io;
pub mod manager;
pub mod metadata_store;
pub mod probe;
pub mod queue;
pub mod realtime;
pub mod rearm;
pub mod sqlite_file;
pub mod store_file;
pub mod testkit;
pub mod time;

pub use actor::{ActorAlarms, ActorEffect, ArmDecision, DurableState, Gate, WriteOptions};
pub use batch::CommitBatch;
pub use error::{AlarmError, StoreError};
pub use fence::Fence;
pub use ids::{ActorId, ArmId, CallId, CommitId};
pub use manager::{AlarmRow, Applied, Fire, FireResult, ManagerCore, ManagerEffect, Outcome};
pub use sqlite_file::{Durability, Location};
pub use time::{AlarmTime, Millis};
