//! Retry delays: 30 s · 2ⁿ⁻¹ after the n-th failed attempt (DGW's `fail_job`).

/// The delay before the next attempt after `attempts` failed ones (`attempts` ≥ 1). The
/// exponent is capped so the delay never overflows (2¹⁶ · base at most).
pub fn retry_delay_ms(base_ms: u64, attempts: u32) -> u64 {
    assert!(attempts >= 1, "a retry delay follows at least one failed attempt");
    let exponent = (attempts - 1).min(16);
    base_ms.saturating_mul(1u64 << exponent)
}

#[cfg(test)]
mod tests {
    use super::retry_delay_ms;

    #[test]
    fn doubles_from_thirty_seconds() {
        let delays: Vec<u64> = (1..=5).map(|n| retry_delay_ms(30_000, n)).collect();
        assert_eq!(delays, [30_000, 60_000, 120_000, 240_000, 480_000]);
        assert_eq!(retry_delay_ms(30_000, 1_000), 30_000 << 16);
    }
}
