//! The retry policy of the local alarm scheduler (R14, R15).

use rand::RngCore;

/// workerd `ALARM_RETRY_START_SECONDS`, `ALARM_RETRY_MAX_TRIES`, `RETRY_BACKOFF_MAX`,
/// `RETRY_JITTER_FACTOR` (worker-interface.h, alarm-scheduler.h).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    pub start_seconds: i64,
    /// Counted retries before the alarm is abandoned (1 + 6 = 7 attempts).
    pub max_counted_retries: u32,
    pub backoff_max: u32,
    /// Jitter is U[0, ⌊delay_ms · jitter_percent / 100⌋] ms.
    pub jitter_percent: i64,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy { start_seconds: 2, max_counted_retries: 6, backoff_max: 9, jitter_percent: 25 }
    }
}

impl RetryPolicy {
    /// The delay before a retry, before jitter: `2 s << min(backoff, 9)` (cap 1024 s).
    pub fn base_delay_ms(&self, backoff: u32) -> i64 {
        (self.start_seconds << backoff.min(self.backoff_max)) * 1000
    }

    /// The largest jitter `delay_ms` can get.
    pub fn max_jitter_ms(&self, base_delay_ms: i64) -> i64 {
        base_delay_ms * self.jitter_percent / 100
    }

    /// Base delay plus jitter drawn from the injected RNG (never OS randomness).
    pub fn delay_ms(&self, backoff: u32, rng: &mut dyn RngCore) -> i64 {
        let base = self.base_delay_ms(backoff);
        let span = self.max_jitter_ms(base) as u64 + 1;
        base + (rng.next_u64() % span) as i64
    }
}

/// What the runtime knows about a failed attempt, to decide whether its retry is counted
/// (workerd `alarmRetryCountsAgainstLimit`, `api/global-scope.h`; R14).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FailureFacts {
    pub output_gate_broken: bool,
    pub is_user_error: bool,
    pub resource_limit_exceeded: bool,
}

impl FailureFacts {
    /// R14: `!outputGateBroken || isUserError || resourceLimitExceeded`. The only uncounted
    /// failure is a broken gate that is neither the user's error nor a resource-limit breach
    /// (B15, STOR-5337: a CPU-limit interrupt must count, or the alarm retries forever).
    pub const fn counts_against_limit(self) -> bool {
        !self.output_gate_broken || self.is_user_error || self.resource_limit_exceeded
    }
}

/// Per-alarm retry bookkeeping. It lives in memory only, so it resets on restart (R18).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RetryState {
    /// Counted retries so far: `alarmInfo.retryCount` (R10).
    pub counted: u32,
    pub backoff: u32,
    last_was_uncounted: bool,
}

/// What to do after a failed attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryDecision {
    RetryAfterMs(i64),
    Abandon,
}

impl RetryState {
    /// R14/R15: counted failures are limited, uncounted ones are not (until the limit is
    /// reached); `backoff` grows on every retry and resets at the first counted retry after
    /// an uncounted one.
    pub fn on_failure(&mut self, counted: bool, policy: &RetryPolicy, rng: &mut dyn RngCore) -> RetryDecision {
        // R15: "when countedRetry ≥ 6 the scheduler calls abandonAlarm(T)", whatever kind of
        // failure ended the attempt (workerd checks the limit before looking at `counted`), so
        // the 7th attempt is the last one even if an infrastructure fault ends it.
        if self.counted >= policy.max_counted_retries {
            return RetryDecision::Abandon;
        }
        if counted {
            if self.last_was_uncounted {
                self.backoff = 0;
            }
            self.counted += 1;
        }
        self.last_was_uncounted = !counted;
        let delay = policy.delay_ms(self.backoff, rng);
        self.backoff = self.backoff.saturating_add(1);
        RetryDecision::RetryAfterMs(delay)
    }
}
