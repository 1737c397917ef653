//! Retries without backoff (R15; the other half of workerd PR #853).
//!
//! A failed attempt is retried at once instead of after 2, 4, 8, … s (plus jitter): a
//! throwing handler hammers the actor until the retry limit is hit. The manager is the
//! reference with a zero backoff base, so retry counting and abandoning are unchanged.

use alarmsim_scheduler::backoff::RetryPolicy;

crate::variant_factory! {
    /// Retries immediately.
    RetryNoBackoff,
    name: "retry-no-backoff",
    description: "R15: failed alarms are retried immediately instead of after an exponential backoff with jitter",
    actor: |inner| inner,
    manager: |inner| inner,
    policy: |policy| RetryPolicy { start_seconds: 0, ..policy },
}
