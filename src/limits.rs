//! The documented maximum of every duration and delay flag (issue #16: `--delay-ms
//! 18446744073709551615` wrapped into the past and the job was due at once). A value past it
//! is a usage error naming the flag (clap: exit 2); below it, `now + value` and
//! `value · 2¹⁶` (the longest retry backoff) stay far inside `i64` milliseconds, so no time
//! computation can wrap.

/// The longest duration any flag takes: 100 years of milliseconds (365-day years).
pub const MAX_DURATION_MS: u64 = 100 * 365 * 86_400_000;

/// A `value_parser` for a duration flag in milliseconds, 0 to [`MAX_DURATION_MS`].
pub fn parse_ms(text: &str) -> Result<u64, String> {
    parse_ms_from(text, 0)
}

/// A `value_parser` for a duration flag that must be at least 1 ms.
pub fn parse_positive_ms(text: &str) -> Result<u64, String> {
    parse_ms_from(text, 1)
}

fn parse_ms_from(text: &str, min: u64) -> Result<u64, String> {
    let what = || format!("a whole number of milliseconds from {min} to {MAX_DURATION_MS} (100 years)");
    match text.parse::<u64>() {
        Ok(ms) if (min..=MAX_DURATION_MS).contains(&ms) => Ok(ms),
        _ => Err(what()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_maximum_keeps_every_derived_time_inside_i64() {
        let far_now = 4_102_444_800_000u64; // 2100-01-01 in ms since the epoch.
        assert!((far_now + (MAX_DURATION_MS << 16)) < i64::MAX as u64);
        assert_eq!(parse_ms("0"), Ok(0));
        assert_eq!(parse_ms(&MAX_DURATION_MS.to_string()), Ok(MAX_DURATION_MS));
        assert!(parse_ms(&(MAX_DURATION_MS + 1).to_string()).is_err());
        assert!(parse_ms("18446744073709551615").is_err());
        assert!(parse_ms("-1").is_err());
        assert!(parse_positive_ms("0").is_err());
    }
}
