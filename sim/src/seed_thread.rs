//! One fresh OS thread per seed (dst-anchors.md §3.3.4: a second runtime on a reused thread
//! sees a different `HashMap` order for the same seed), and the panic hook that tells a
//! panicking system under test (a `no-panic` finding) from a panicking simulator (a harness
//! error, reported with its message on the caller's thread; never blamed on the scheduler).

use crate::checker::Violation;
use crate::scenario::Invariant;
use std::cell::RefCell;
use std::sync::Once;

/// The name prefix of seed threads; panics on them are recorded, not printed.
const SEED_THREAD: &str = "alarmsim-seed-";

/// A panic on a seed thread: its message (with its location) and whose code panicked.
#[derive(Clone, Debug)]
pub(crate) struct PanicNote {
    pub message: String,
    /// The system under test's code was running (`blame.rs`), not the simulator's.
    pub subject: bool,
}

thread_local! {
    /// The first panic on this seed thread not yet handled. Later panics (an executor
    /// re-raising a task's panic) keep the first one: that is where it happened.
    static LAST_PANIC: RefCell<Option<PanicNote>> = const { RefCell::new(None) };
}

/// The pending panic of this seed thread, if any, handled now.
pub(crate) fn take_last_panic() -> Option<PanicNote> {
    LAST_PANIC.with(|p| p.borrow_mut().take())
}

/// Whether the pending panic is the system under test's (a finding). A panic that is not
/// stays pending and must be raised again (`std::panic::resume_unwind`), up to
/// [`on_seed_thread`], which reports it as a harness error.
pub(crate) fn pending_panic_is_subjects() -> bool {
    LAST_PANIC.with(|p| p.borrow().as_ref().is_some_and(|n| n.subject))
}

fn payload_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_string())
}

/// Routes panics of seed threads into the run's report (a panicking scheduler is a finding,
/// not a crash of the sweep). Other threads keep the previous hook.
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let on_seed_thread = std::thread::current().name().is_some_and(|n| n.starts_with(SEED_THREAD));
            if on_seed_thread {
                let location = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
                let note = PanicNote { message: format!("{}{location}", payload_text(info.payload())), subject: crate::blame::in_subject() };
                LAST_PANIC.with(|p| {
                    p.borrow_mut().get_or_insert(note);
                });
            } else {
                previous(info);
            }
        }));
    });
}

/// Runs `run` on a fresh OS thread named for the seed, with panics routed into the report.
/// A panic that reaches the top of the seed thread is the simulator's own (the worlds turn
/// the system under test's into `no-panic` violations): it is raised again on this thread
/// with its original message and location, saying it is not the scheduler's.
pub(crate) fn on_seed_thread<T: Send + 'static>(seed: u64, run: impl FnOnce() -> T + Send + 'static) -> T {
    install_panic_hook();
    let outcome = std::thread::Builder::new()
        .name(format!("{SEED_THREAD}{seed}"))
        .spawn(move || {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)).map_err(|payload| match take_last_panic() {
                Some(note) => note.message,
                None => payload_text(payload.as_ref()),
            })
        })
        .expect("spawn a seed thread")
        .join()
        .unwrap_or_else(|payload| Err(payload_text(payload.as_ref())));
    match outcome {
        Ok(out) => out,
        Err(message) => panic!(
            "alarmsim harness error in seed {seed}: the simulator itself panicked (a bug in alarmsim, or an input it did not check; \
             not a finding about the system under test): {message}"
        ),
    }
}

/// The violation for a run that panicked in the system under test outside the world's own
/// panic handling (the queue world's tasks).
pub(crate) fn panic_violation(at_ms: u64) -> Violation {
    let message = take_last_panic().map(|n| n.message).unwrap_or_else(|| "panic".to_string());
    Violation { invariant: Invariant::NoPanic, actor: None, at_ms, message: format!("the scheduler panicked: {message}") }
}
