//! B15 (STOR-5337): R14 without its `resourceLimitExceeded` term.
//!
//! workerd decided whether a failed alarm's retry counts with
//! `!outputGateBroken || isUserError`. A handler interrupted at its CPU limit inside a write
//! breaks the output gate (`SQLITE_INTERRUPT`) and is not a user error, so its retry was
//! uncounted, and uncounted retries are unlimited: an alarm whose handler always hits the
//! limit retried forever with `retryCount` stuck at 0. The fix added
//! `|| resourceLimitExceeded`.
//!
//! The cores are the reference's; only the runtime's verdict on a failure is the old one.

crate::variant_factory! {
    /// The pre-STOR-5337 retry-counting rule.
    B15UncountedCpuLimit,
    name: "b15-uncounted-cpu-limit",
    description: "B15 (STOR-5337): a CPU-limit interrupt that broke the output gate does not count as a retry, so such an alarm retries forever with retryCount 0",
    actor: |inner| inner,
    manager: |inner| inner,
    retry_counts: |facts| !facts.output_gate_broken || facts.is_user_error,
}
