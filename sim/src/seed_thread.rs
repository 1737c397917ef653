//! One fresh OS thread per seed (dst-anchors.md §3.3.4: a second runtime on a reused thread
//! sees a different `HashMap` order for the same seed), and the panic hook that turns a
//! panicking scheduler into a `no-panic` finding instead of a crash of the sweep.

use crate::checker::Violation;
use crate::scenario::Invariant;
use std::cell::RefCell;
use std::sync::Once;

/// The name prefix of seed threads; panics on them are recorded, not printed.
const SEED_THREAD: &str = "alarmsim-seed-";

thread_local! {
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// The message of the last panic on this seed thread, if any.
pub(crate) fn take_last_panic() -> Option<String> {
    LAST_PANIC.with(|p| p.borrow_mut().take())
}

/// Routes panics of seed threads into the run's report (a panicking scheduler is a finding,
/// not a crash of the sweep). Other threads keep the default hook.
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let on_seed_thread = std::thread::current().name().is_some_and(|n| n.starts_with(SEED_THREAD));
            if on_seed_thread {
                let location = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
                let payload = info
                    .payload()
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| info.payload().downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "panic".to_string());
                LAST_PANIC.with(|p| *p.borrow_mut() = Some(format!("{payload}{location}")));
            } else {
                previous(info);
            }
        }));
    });
}

/// Runs `run` on a fresh OS thread named for the seed, with panics routed into the report.
pub(crate) fn on_seed_thread<T: Send + 'static>(seed: u64, run: impl FnOnce() -> T + Send + 'static) -> T {
    install_panic_hook();
    std::thread::Builder::new()
        .name(format!("{SEED_THREAD}{seed}"))
        .spawn(run)
        .expect("spawn a seed thread")
        .join()
        .expect("a seed thread reports instead of panicking")
}

/// The violation for a run that panicked outside the world's own panic handling.
pub(crate) fn panic_violation(at_ms: u64) -> Violation {
    let message = LAST_PANIC.with(|p| p.borrow_mut().take()).unwrap_or_else(|| "panic".to_string());
    Violation { invariant: Invariant::NoPanic, actor: None, at_ms, message: format!("the scheduler panicked: {message}") }
}

