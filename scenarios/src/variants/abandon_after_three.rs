//! R15/R16 with the wrong limit: the manager abandons an alarm after 3 counted retries
//! instead of 6 (the containers library's own `MAX_ALARM_RETRIES = 3`, taken for the
//! platform's).
//!
//! Everything still agrees: the manager asks the actor to abandon, the actor clears its S == T
//! (R16), the manager drops its entry, and what the user reads is what the abandon left. The
//! retry checker sees no attempt past the limit. Only conservation asks why the alarm ended:
//! neither delivered, nor replaced, nor abandoned after the counted-retry limit (R15).

use alarmsim_scheduler::backoff::RetryPolicy;

crate::variant_factory! {
    /// R15: abandons after 3 counted retries.
    AbandonAfterThree,
    name: "abandon-after-three",
    description: "R15/R16: the manager abandons an alarm after 3 counted retries instead of 6, so a handler that would have succeeded at its 5th attempt loses its alarm",
    actor: |inner| inner,
    manager: |inner| inner,
    policy: |policy| RetryPolicy { max_counted_retries: 3, ..policy },
}
