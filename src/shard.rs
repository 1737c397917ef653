//! `--shard i/n`: a deterministic split of a seed range across machines. Shard `i` (1-based)
//! of `n` runs every seed `s` of the range with `(s - start) % n == i - 1`, so the shards of a
//! range are disjoint and together cover it, whatever order they run in.

use crate::select::UsageError;

/// One shard of `n`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    /// Parses `i/n` with 1 ≤ i ≤ n.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let valid = "expected i/n with 1 <= i <= n, e.g. --shard 2/4";
        let (i, n) = text.split_once('/').ok_or_else(|| format!("'{text}' is not a shard: {valid}"))?;
        let index: u64 = i.trim().parse().map_err(|_| format!("'{text}' is not a shard: '{i}' is not a number; {valid}"))?;
        let count: u64 = n.trim().parse().map_err(|_| format!("'{text}' is not a shard: '{n}' is not a number; {valid}"))?;
        if count == 0 || index == 0 || index > count {
            return Err(format!("'{text}' is not a shard: {valid}"));
        }
        Ok(Shard { index, count })
    }

    /// The seeds of `start..end` that belong to this shard.
    pub fn seeds(&self, start: u64, end: u64) -> Vec<u64> {
        (start..end).filter(|s| (s - start) % self.count == self.index - 1).collect()
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// For clap: a malformed shard is a usage error (exit 2) that names the flag.
pub fn parse_arg(text: &str) -> Result<Shard, UsageError> {
    Shard::parse(text).map_err(UsageError)
}

#[cfg(test)]
mod tests {
    use super::Shard;

    #[test]
    fn shards_are_disjoint_and_cover_the_range() {
        let mut all: Vec<u64> = (1..=3).flat_map(|i| Shard { index: i, count: 3 }.seeds(10, 27)).collect();
        all.sort_unstable();
        assert_eq!(all, (10..27).collect::<Vec<_>>());
    }

    #[test]
    fn malformed_shards_are_rejected() {
        for bad in ["3/2", "0/2", "1/0", "a/2", "2", "1/b"] {
            assert!(Shard::parse(bad).is_err(), "{bad} must be rejected");
        }
        assert_eq!(Shard::parse("2/4"), Ok(Shard { index: 2, count: 4 }));
    }
}
