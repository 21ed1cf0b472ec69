//! A latency histogram in the manner of HdrHistogram: exact below 128 µs, and above
//! that 64 buckets per power of two, so any reported value is within 1/64 (1.6 %)
//! of the true one while memory stays constant however many requests are recorded.

use std::time::Duration;

const EXACT_LIMIT: u64 = 128;
const SUB_BUCKETS: u64 = 64;
/// Buckets needed to reach `u64::MAX`: the exact range, then one set per doubling.
const BUCKET_COUNT: usize = (EXACT_LIMIT + (64 - 7) * SUB_BUCKETS) as usize;

#[derive(Clone)]
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
    max_micros: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self {
            counts: vec![0; BUCKET_COUNT],
            total: 0,
            max_micros: 0,
        }
    }
}

fn bucket_of(micros: u64) -> usize {
    if micros < EXACT_LIMIT {
        return micros as usize;
    }
    let top_bit = 63 - u64::from(micros.leading_zeros());
    let shift = top_bit - 6;
    let sub_bucket = (micros >> shift) - SUB_BUCKETS;
    (EXACT_LIMIT + (shift - 1) * SUB_BUCKETS + sub_bucket) as usize
}

/// The largest value that falls into `bucket`.
fn highest_in(bucket: usize) -> u64 {
    let bucket = bucket as u64;
    if bucket < EXACT_LIMIT {
        return bucket;
    }
    let offset = bucket - EXACT_LIMIT;
    let shift = offset / SUB_BUCKETS + 1;
    let top = offset % SUB_BUCKETS + SUB_BUCKETS;
    // For the very last bucket the shift drops the top bit and this wraps to u64::MAX.
    ((top + 1) << shift).wrapping_sub(1)
}

impl Histogram {
    pub fn record(&mut self, latency: Duration) {
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.record_micros(micros);
    }

    pub fn record_micros(&mut self, micros: u64) {
        self.counts[bucket_of(micros)] += 1;
        self.total += 1;
        self.max_micros = self.max_micros.max(micros);
    }

    pub fn merge(&mut self, other: &Histogram) {
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine += theirs;
        }
        self.total += other.total;
        self.max_micros = self.max_micros.max(other.max_micros);
    }

    pub fn count(&self) -> u64 {
        self.total
    }

    pub fn max_micros(&self) -> Option<u64> {
        (self.total > 0).then_some(self.max_micros)
    }

    /// Nearest-rank percentile (`quantile` in 0..=1): the smallest recorded value
    /// that at least `quantile` of all values are less than or equal to, reported
    /// as its bucket's highest value but never above the true maximum.
    pub fn percentile_micros(&self, quantile: f64) -> Option<u64> {
        if self.total == 0 {
            return None;
        }
        let rank = nearest_rank(quantile, self.total);
        let mut seen = 0;
        for (bucket, count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return Some(highest_in(bucket).min(self.max_micros));
            }
        }
        Some(self.max_micros)
    }
}

/// 1-based rank of the `quantile` value among `total` sorted values. The epsilon keeps
/// binary fractions such as 0.9 * 100 = 90.00000000000001 from rounding up a rank.
fn nearest_rank(quantile: f64, total: u64) -> u64 {
    let exact = quantile.clamp(0.0, 1.0) * total as f64;
    ((exact - 1e-9).ceil() as u64).clamp(1, total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_values(values: impl IntoIterator<Item = u64>) -> Histogram {
        let mut histogram = Histogram::default();
        for value in values {
            histogram.record_micros(value);
        }
        histogram
    }

    #[test]
    fn buckets_are_contiguous_and_cover_their_values() {
        let mut previous_high = None;
        for bucket in 0..BUCKET_COUNT {
            let high = highest_in(bucket);
            if let Some(previous) = previous_high {
                assert_eq!(
                    bucket_of(previous + 1),
                    bucket,
                    "gap before bucket {bucket}"
                );
            }
            assert_eq!(bucket_of(high), bucket);
            previous_high = Some(high);
        }
        assert_eq!(previous_high, Some(u64::MAX));
    }

    #[test]
    fn empty_histogram_has_no_percentiles() {
        let histogram = Histogram::default();
        assert_eq!(histogram.percentile_micros(0.5), None);
        assert_eq!(histogram.max_micros(), None);
    }

    #[test]
    fn small_values_are_exact() {
        let histogram = from_values(1..=100);
        assert_eq!(histogram.percentile_micros(0.50), Some(50));
        assert_eq!(histogram.percentile_micros(0.90), Some(90));
        assert_eq!(histogram.percentile_micros(0.99), Some(99));
        assert_eq!(histogram.percentile_micros(1.0), Some(100));
        assert_eq!(histogram.percentile_micros(0.0), Some(1));
    }

    #[test]
    fn nearest_rank_rounds_up() {
        let histogram = from_values([10, 20, 30]);
        assert_eq!(histogram.percentile_micros(0.34), Some(20));
        assert_eq!(histogram.percentile_micros(0.33), Some(10));
    }

    #[test]
    fn large_values_are_within_the_precision() {
        let values: Vec<u64> = (1..=10_000).map(|step| step * 997).collect();
        let histogram = from_values(values.iter().copied());
        for quantile in [0.5, 0.9, 0.99, 0.999] {
            let exact = values[nearest_rank(quantile, values.len() as u64) as usize - 1];
            let reported = histogram.percentile_micros(quantile).unwrap();
            let error = reported.abs_diff(exact) as f64 / exact as f64;
            assert!(error <= 1.0 / 64.0, "p{quantile}: {reported} vs {exact}");
            assert!(reported >= exact, "reported values are bucket upper bounds");
        }
        assert_eq!(histogram.max_micros(), Some(9_970_000));
        assert_eq!(histogram.percentile_micros(1.0), Some(9_970_000));
    }

    #[test]
    fn a_single_value_is_reported_exactly() {
        let histogram = from_values([123_457]);
        assert_eq!(histogram.percentile_micros(0.5), Some(123_457));
    }

    #[test]
    fn merging_equals_recording_everything_in_one() {
        let mut left = from_values((0..500).map(|value| value * 31));
        let right = from_values((500..1000).map(|value| value * 31));
        let whole = from_values((0..1000).map(|value| value * 31));
        left.merge(&right);
        assert_eq!(left.total, 1000);
        for quantile in [0.1, 0.5, 0.9, 0.99, 1.0] {
            assert_eq!(
                left.percentile_micros(quantile),
                whole.percentile_micros(quantile)
            );
        }
    }

    #[test]
    fn durations_are_recorded_in_microseconds() {
        let mut histogram = Histogram::default();
        histogram.record(Duration::from_micros(1500));
        assert_eq!(histogram.max_micros(), Some(1500));
    }
}
