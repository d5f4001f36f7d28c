//! `TrimBuckets` (PromQL's `</` and `>/` trim operators on histograms) and its helpers
//! (Prometheus' `float_histogram.go`).

use super::generic::Bucket;
use super::FloatHistogram;

impl FloatHistogram {
    /// Trims the observations above (`is_upper_trim`, PromQL `</`) or below (`>/`) `rhs`, in
    /// place (`TrimBuckets`): buckets beyond `rhs` are emptied, the bucket containing it is
    /// interpolated, and when anything was trimmed the count and the sum are re-estimated
    /// from bucket midpoints and the histogram is compacted.
    pub fn trim_buckets(&mut self, rhs: f64, is_upper_trim: bool) -> &mut Self {
        let mut updated_count = 0.0;
        let mut updated_sum = 0.0;
        let mut trimmed = false;
        let custom = self.uses_custom_buckets();
        let mut has_positive = false;
        let mut has_negative = false;

        for positive in [true, false] {
            let buckets: Vec<Bucket<f64>> = if positive {
                self.positive_bucket_iterator().collect()
            } else {
                self.negative_bucket_iterator().collect()
            };
            for (i, bucket) in buckets.iter().enumerate() {
                if bucket.count == 0.0 {
                    continue;
                }
                if positive {
                    has_positive = true;
                } else {
                    has_negative = true;
                }
                let (keep_all, straddles) = if is_upper_trim {
                    (bucket.upper <= rhs, bucket.lower < rhs)
                } else {
                    (bucket.lower >= rhs, bucket.upper > rhs)
                };
                let counts = if positive {
                    &mut self.positive_buckets
                } else {
                    &mut self.negative_buckets
                };
                if keep_all {
                    updated_count += bucket.count;
                    let mid = compute_midpoint(bucket.lower, bucket.upper, positive, custom);
                    updated_sum += mid * bucket.count;
                } else if straddles {
                    let (keep, mid) =
                        compute_bucket_trim(bucket, rhs, is_upper_trim, positive, custom);
                    updated_count += keep;
                    updated_sum += mid * keep;
                    if let Some(c) = counts.get_mut(i) {
                        if *c != keep {
                            *c = keep;
                            trimmed = true;
                        }
                    }
                } else {
                    if let Some(c) = counts.get_mut(i) {
                        *c = 0.0;
                    }
                    trimmed = true;
                }
            }
        }

        if self.zero_count > 0.0 {
            let (keep, mid) = compute_zero_bucket_trim(
                self.zero_bucket(),
                rhs,
                has_negative,
                has_positive,
                is_upper_trim,
            );
            if self.zero_count != keep {
                self.zero_count = keep;
                trimmed = true;
            }
            updated_sum += mid * keep;
            updated_count += keep;
        }

        if trimmed {
            // Only re-estimate the totals when some bucket was (partly) trimmed.
            self.count = updated_count;
            self.sum = updated_sum;
            self.compact(0);
        }
        self
    }
}

fn zero_if_inf(x: f64) -> f64 {
    if x.is_infinite() {
        0.0
    } else {
        x
    }
}

/// The kept count and its midpoint for a bucket with an infinite bound
/// (`handleInfinityBuckets`).
fn handle_infinity_buckets(is_upper_trim: bool, b: &Bucket<f64>, rhs: f64) -> (f64, f64) {
    if b.lower == f64::NEG_INFINITY {
        if is_upper_trim {
            if rhs >= b.upper {
                return (b.count, 0.0);
            }
            if rhs > 0.0 && b.upper > 0.0 && b.upper != f64::INFINITY {
                // A finite positive upper bound (only with NHCB): treat the lower bound as 0.
                return (b.count * rhs / b.upper, rhs / 2.0);
            }
            if b.upper <= 0.0 {
                return (b.count, rhs);
            }
            // Nothing is known about the distribution inside: drop the whole bucket.
            return (0.0, zero_if_inf(b.upper));
        }
        if rhs <= b.lower {
            return (b.count, 0.0);
        }
        if rhs >= 0.0 && b.upper > rhs && b.upper != f64::INFINITY {
            return (b.count * (1.0 - rhs / b.upper), (rhs + b.upper) / 2.0);
        }
        return (0.0, zero_if_inf(b.upper));
    }
    // The upper bound is +Inf.
    if is_upper_trim {
        return (0.0, zero_if_inf(b.lower));
    }
    if rhs >= b.lower {
        return (b.count, rhs);
    }
    (0.0, zero_if_inf(b.lower))
}

/// The part of the bucket's count at or below `rhs` (`computeSplit`).
fn compute_split(b: &Bucket<f64>, rhs: f64, linear: bool) -> f64 {
    if rhs <= b.lower {
        return 0.0;
    }
    if rhs >= b.upper {
        return b.count;
    }
    b.count * b.fraction_below(rhs, linear)
}

/// The kept count and midpoint of the zero bucket (`computeZeroBucketTrim`).
fn compute_zero_bucket_trim(
    zero: Bucket<f64>,
    rhs: f64,
    has_negative: bool,
    has_positive: bool,
    is_upper_trim: bool,
) -> (f64, f64) {
    let mut lower = zero.lower;
    let mut upper = zero.upper;
    if has_negative && !has_positive {
        upper = 0.0;
    }
    if has_positive && !has_negative {
        lower = 0.0;
    }
    let (fraction, midpoint) = if is_upper_trim {
        if rhs <= lower {
            return (0.0, 0.0);
        }
        if rhs >= upper {
            return (zero.count, (lower + upper) / 2.0);
        }
        ((rhs - lower) / (upper - lower), (lower + rhs) / 2.0)
    } else {
        if rhs <= lower {
            return (zero.count, (lower + upper) / 2.0);
        }
        if rhs >= upper {
            return (0.0, 0.0);
        }
        ((upper - rhs) / (upper - lower), (rhs + upper) / 2.0)
    };
    (zero.count * fraction, midpoint)
}

/// The kept count and midpoint of a bucket containing `rhs` (`computeBucketTrim`).
fn compute_bucket_trim(
    b: &Bucket<f64>,
    rhs: f64,
    is_upper_trim: bool,
    positive: bool,
    custom: bool,
) -> (f64, f64) {
    if b.lower == f64::NEG_INFINITY || b.upper == f64::INFINITY {
        return handle_infinity_buckets(is_upper_trim, b, rhs);
    }
    let under = compute_split(b, rhs, custom);
    if is_upper_trim {
        return (under, compute_midpoint(b.lower, rhs, positive, custom));
    }
    (
        b.count - under,
        compute_midpoint(rhs, b.upper, positive, custom),
    )
}

/// The representative value of the surviving interval (`computeMidpoint`): arithmetic mean
/// for linear buckets, signed geometric mean for exponential ones.
fn compute_midpoint(lower: f64, upper: f64, positive: bool, linear: bool) -> f64 {
    if lower.is_infinite() {
        if upper.is_infinite() {
            return 0.0;
        }
        if upper > 0.0 {
            return upper / 2.0;
        }
        return upper;
    } else if upper.is_infinite() {
        return lower;
    }
    if linear {
        return (lower + upper) / 2.0;
    }
    let geo = (lower * upper).abs().sqrt();
    if positive {
        geo
    } else {
        -geo
    }
}
