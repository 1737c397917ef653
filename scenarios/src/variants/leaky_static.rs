//! Determinism: state kept in a `static`, outliving the seed (madsim #174, the simulator's most
//! reported pitfall).
//!
//! The manager draws its retry jitter (R15) from one process-wide RNG, seeded once — the
//! `static RNG: Mutex<ChaCha8Rng>` that makes a scheduler "deterministic" in a unit test —
//! instead of the RNG the simulator hands it. Every delay is within R15's bounds, so every
//! run is correct and no invariant can object; but a seed's backoff delays now depend on how
//! many draws the process made before it, so the same seed, run again later in the process,
//! fires its retries at other times. Only a determinism check sees it: `sweep` re-runs a
//! sample of its seeds after the others (`spot_check.rs`); `--check-determinism` re-runs them
//! all.

use super::support::{ManagerHooks, WrappedManager};
use alarmsim_scheduler::{ActorId, FireResult, ManagerCore, Millis};
use rand::RngCore;
use std::sync::atomic::{AtomicU64, Ordering};

/// The process-wide RNG's state: the leak (a SplitMix64 counter, shared by every seed the
/// process runs).
static JITTER_STATE: AtomicU64 = AtomicU64::new(0x9e37_79b9_7f4a_7c15);

/// Draws from [`JITTER_STATE`].
struct ProcessRng;

impl RngCore for ProcessRng {
    fn next_u32(&mut self) -> u32 {
        self.next_u64() as u32
    }
    fn next_u64(&mut self) -> u64 {
        let mut z = JITTER_STATE.fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed).wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

#[derive(Debug, Default)]
pub struct Hooks;

impl ManagerHooks for Hooks {
    fn on_fire_result(&mut self, inner: &mut ManagerCore, actor: &ActorId, scheduled: Millis, result: FireResult, now: Millis, _rng: &mut dyn RngCore) {
        inner.on_fire_result(actor, scheduled, result, now, &mut ProcessRng);
    }
}

crate::variant_factory! {
    /// Determinism: the retry jitter comes from a process-wide static RNG.
    LeakyStatic,
    name: "leaky-static",
    description: "determinism (madsim #174): the manager draws its retry jitter from a process-wide static RNG instead of the seeded one, so a seed's retry times depend on the seeds run before it",
    actor: |inner| inner,
    manager: |inner| WrappedManager::new(inner, Hooks),
}
