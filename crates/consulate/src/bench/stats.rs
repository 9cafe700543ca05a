//! Timings: sorted samples and their nearest-rank percentiles.

use std::time::Duration;

/// Durations, sorted.
pub(super) struct Samples(Vec<Duration>);

impl Samples {
    pub(super) fn new(mut times: Vec<Duration>) -> Self {
        times.sort_unstable();
        Samples(times)
    }

    pub(super) fn len(&self) -> usize {
        self.0.len()
    }

    /// Nearest-rank percentile.
    pub(super) fn percentile(&self, p: f64) -> Duration {
        let n = self.0.len();
        if n == 0 {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * n as f64).ceil() as usize;
        self.0[rank.clamp(1, n) - 1]
    }

    pub(super) fn max(&self) -> Duration {
        self.0.last().copied().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let s = Samples::new((1..=100).rev().map(Duration::from_millis).collect());
        assert_eq!(s.percentile(50.0), Duration::from_millis(50));
        assert_eq!(s.percentile(99.0), Duration::from_millis(99));
        assert_eq!(s.percentile(100.0), Duration::from_millis(100));
        assert_eq!(s.max(), Duration::from_millis(100));
        assert_eq!(Samples::new(Vec::new()).percentile(99.0), Duration::ZERO);
    }
}
