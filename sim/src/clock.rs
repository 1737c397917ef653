//! A node's skewed clock: the shared simulated time plus an offset and a drift. One type for
//! both worlds: the alarm world's managers and hosts, and the job-queue world's processes
//! (issue 13 item 3). The shared time is the reference every checker judges on.

/// An offset (ms) and a drift (ppm) from the shared clock, as `FaultProfile` stores it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Skew {
    pub offset_ms: i64,
    pub drift_ppm: i64,
}

impl Skew {
    pub fn new((offset_ms, drift_ppm): (i64, i64)) -> Skew {
        // A clock that stops or runs backwards is not a clock (plan_check.rs bounds the drift
        // to 10 %), and `shared_for` divides by `1 + drift`.
        assert!(drift_ppm.abs() < 1_000_000, "a drift of {drift_ppm} ppm stops or reverses the clock");
        Skew { offset_ms, drift_ppm }
    }

    pub fn is_perfect(&self) -> bool {
        self.offset_ms == 0 && self.drift_ppm == 0
    }

    /// What the clock reads at shared time `shared_ms`.
    pub fn read(&self, shared_ms: u64) -> i64 {
        let t = shared_ms as i64;
        t + self.offset_ms + t * self.drift_ppm / 1_000_000
    }

    /// The shared time at which the clock reads `local_ms` (at least, within a millisecond of
    /// rounding): when a node sleeping until its own clock says `local_ms` wakes. Never before
    /// the start.
    pub fn shared_for(&self, local_ms: i64) -> u64 {
        let local = (local_ms - self.offset_ms) as i128;
        let rate = 1_000_000 + self.drift_ppm as i128;
        let shared = (local * 1_000_000 + rate - 1) / rate;
        shared.max(0) as u64
    }

    /// `+812ms/-40ppm`, for profiles and reports.
    pub fn describe(&self) -> String {
        format!("{:+}ms/{:+}ppm", self.offset_ms, self.drift_ppm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clock_reaches_its_reading_at_the_shared_time_it_names() {
        for skew in [Skew::new((0, 0)), Skew::new((812, 40)), Skew::new((3_000, -200)), Skew::new((0, 100_000))] {
            for shared in [0u64, 1, 999, 30_000, 1_200_000] {
                let local = skew.read(shared);
                let back = skew.shared_for(local);
                assert!(back.abs_diff(shared) <= 1, "{skew:?}: {shared} reads {local}, which maps back to {back}");
                assert!(skew.read(back + 1) >= local, "{skew:?}: one ms after {back} the clock reads at least {local}");
            }
        }
    }

    #[test]
    fn a_drifting_clock_never_runs_backwards() {
        let skew = Skew::new((5, -100_000));
        let readings: Vec<i64> = (0..5_000).map(|t| skew.read(t)).collect();
        assert!(readings.windows(2).all(|w| w[0] <= w[1]));
    }
}
