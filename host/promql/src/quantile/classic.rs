//! Quantiles and fractions of classic histograms (series of cumulative `le` buckets):
//! Prometheus' `BucketQuantile` and `BucketFraction`.

/// Relative differences between neighbouring classic buckets below this are taken for
/// floating point noise and ignored (`smallDeltaTolerance`).
const SMALL_DELTA_TOLERANCE: f64 = 1e-12;

/// One cumulative bucket of a classic histogram.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassicBucket {
    /// The `le` bound.
    pub upper: f64,
    /// Observations at or below `upper`.
    pub count: f64,
}

/// What [`bucket_quantile`] had to repair in its input.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct BucketFixes {
    /// Decreasing counts were raised to keep the buckets monotonic.
    pub forced_monotonic: bool,
    /// Numerically insignificant differences were ignored.
    pub fixed_precision: bool,
    /// The lowest bound whose count was raised (`+Inf` when none).
    pub min_bucket: f64,
    /// The highest bound whose count was raised (`-Inf` when none).
    pub max_bucket: f64,
    /// The largest decrease that was removed.
    pub max_diff: f64,
}

/// `almost.Equal`: relative comparison with `eps`; two NaNs (or two stale markers) are equal.
pub fn almost_equal(a: f64, b: f64, eps: f64) -> bool {
    let (sa, sb) = (
        sightline_model::is_stale_nan(a),
        sightline_model::is_stale_nan(b),
    );
    if sa || sb {
        return sa && sb;
    }
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    let abs_sum = a.abs() + b.abs();
    let diff = (a - b).abs();
    let min_normal = f64::MIN_POSITIVE;
    if a == 0.0 || b == 0.0 || abs_sum < min_normal {
        return diff < eps * min_normal;
    }
    diff / abs_sum.min(f64::MAX) < eps
}

/// Sorts by bound and merges buckets with the same bound (`coalesceBuckets`).
fn sort_and_coalesce(mut b: Vec<ClassicBucket>) -> Vec<ClassicBucket> {
    b.sort_by(|x, y| {
        x.upper
            .partial_cmp(&y.upper)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    // In place: a bucket whose bound equals the one kept before it adds its count to it.
    b.dedup_by(|x, kept| {
        let same = kept.upper == x.upper;
        if same {
            kept.count += x.count;
        }
        same
    });
    b
}

/// `ensureMonotonicAndIgnoreSmallDeltas`: counts that differ insignificantly from their
/// predecessor are set to it, and decreases are removed.
fn ensure_monotonic(b: &mut [ClassicBucket], tolerance: f64) -> BucketFixes {
    let mut f = BucketFixes {
        min_bucket: f64::INFINITY,
        max_bucket: f64::NEG_INFINITY,
        ..BucketFixes::default()
    };
    let Some(first) = b.first() else {
        return f;
    };
    let mut prev = first.count;
    for bk in b.iter_mut().skip(1) {
        let curr = bk.count;
        if curr == prev {
            continue;
        }
        if almost_equal(prev, curr, tolerance) {
            bk.count = prev;
            f.fixed_precision = true;
            continue;
        }
        if curr < prev {
            bk.count = prev;
            f.forced_monotonic = true;
            f.min_bucket = f.min_bucket.min(bk.upper);
            f.max_bucket = f.max_bucket.max(bk.upper);
            if prev - curr > f.max_diff {
                f.max_diff = prev - curr;
            }
            continue;
        }
        prev = curr;
    }
    f
}

/// Prometheus' `BucketQuantile`: the `q` quantile of classic buckets, interpolated linearly
/// within the bucket it falls into (from 0 in the lowest bucket when its bound is positive),
/// and what had to be repaired in the input.
pub fn bucket_quantile(q: f64, b: Vec<ClassicBucket>) -> (f64, BucketFixes) {
    let none = BucketFixes {
        min_bucket: 0.0,
        max_bucket: 0.0,
        ..BucketFixes::default()
    };
    if q.is_nan() {
        return (f64::NAN, none);
    }
    if q < 0.0 {
        return (f64::NEG_INFINITY, none);
    }
    if q > 1.0 {
        return (f64::INFINITY, none);
    }
    let mut b = sort_and_coalesce(b);
    if b.last().is_none_or(|l| l.upper != f64::INFINITY) {
        return (f64::NAN, none);
    }
    let fixes = ensure_monotonic(&mut b, SMALL_DELTA_TOLERANCE);
    if b.len() < 2 {
        return (f64::NAN, fixes);
    }
    let obs = b[b.len() - 1].count;
    if obs == 0.0 {
        return (f64::NAN, fixes);
    }
    let mut rank = q * obs;
    let n = b.len() - 1;
    // `sort.Search` over the finite buckets; NaN counts never satisfy `count >= rank`.
    let idx = b[..n].partition_point(|x| x.count < rank || x.count.is_nan() || rank.is_nan());
    if idx == n {
        return (b[n - 1].upper, fixes);
    }
    if idx == 0 && b[0].upper <= 0.0 {
        return (b[0].upper, fixes);
    }
    let mut start = 0.0;
    let end = b[idx].upper;
    let mut count = b[idx].count;
    if idx > 0 {
        start = b[idx - 1].upper;
        count -= b[idx - 1].count;
        rank -= b[idx - 1].count;
    }
    (start + (end - start) * (rank / count), fixes)
}

/// Prometheus' `BucketFraction`: the estimated fraction of observations between `lower` and
/// `upper`, interpolating linearly inside finite buckets.
pub fn bucket_fraction(lower: f64, upper: f64, b: Vec<ClassicBucket>) -> f64 {
    let b = sort_and_coalesce(b);
    if b.last().is_none_or(|l| l.upper != f64::INFINITY) {
        return f64::NAN;
    }
    let count = b[b.len() - 1].count;
    if count == 0.0 || lower.is_nan() || upper.is_nan() {
        return f64::NAN;
    }
    if lower >= upper {
        return 0.0;
    }
    let (mut rank, mut lower_rank, mut upper_rank) = (0.0, 0.0, 0.0);
    let (mut lower_set, mut upper_set) = (false, false);
    // With a positive first bound the histogram is taken to hold positive values only.
    let mut lower_bound = if b[0].upper <= 0.0 {
        f64::NEG_INFINITY
    } else {
        0.0
    };
    for (i, bk) in b.iter().enumerate() {
        if i > 0 {
            lower_bound = b[i - 1].upper;
        }
        let upper_bound = bk.upper;
        // A bucket starting at -Inf is not interpolated: it counts whole (and the +Inf
        // bucket contributes nothing, which the formula gives by itself).
        let interpolate = |v: f64| -> f64 {
            if lower_bound == f64::NEG_INFINITY {
                return bk.count;
            }
            rank + (bk.count - rank) * (v - lower_bound) / (upper_bound - lower_bound)
        };
        if !lower_set && lower_bound >= lower {
            lower_rank = rank;
            lower_set = true;
        }
        if !upper_set && lower_bound >= upper {
            upper_rank = rank;
            upper_set = true;
        }
        if lower_set && upper_set {
            break;
        }
        if !lower_set && lower_bound < lower && upper_bound > lower {
            lower_rank = interpolate(lower);
            lower_set = true;
        }
        if !upper_set && lower_bound < upper && upper_bound > upper {
            upper_rank = interpolate(upper);
            upper_set = true;
        }
        if lower_set && upper_set {
            break;
        }
        rank = bk.count;
    }
    if !lower_set || lower_rank > count {
        lower_rank = count;
    }
    if !upper_set || upper_rank > count {
        upper_rank = count;
    }
    (upper_rank - lower_rank) / count
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(v: &[(f64, f64)]) -> Vec<ClassicBucket> {
        v.iter()
            .map(|&(upper, count)| ClassicBucket { upper, count })
            .collect()
    }

    #[test]
    fn quantile_interpolates_linearly() {
        let bs = b(&[(1.0, 10.0), (2.0, 20.0), (f64::INFINITY, 20.0)]);
        assert_eq!(bucket_quantile(0.5, bs.clone()).0, 1.0);
        assert_eq!(bucket_quantile(0.75, bs.clone()).0, 1.5);
        assert_eq!(bucket_quantile(0.25, bs).0, 0.5);
    }

    #[test]
    fn quantile_special_cases() {
        let bs = b(&[(1.0, 10.0), (f64::INFINITY, 20.0)]);
        assert!(bucket_quantile(f64::NAN, bs.clone()).0.is_nan());
        assert_eq!(bucket_quantile(-1.0, bs.clone()).0, f64::NEG_INFINITY);
        assert_eq!(bucket_quantile(2.0, bs.clone()).0, f64::INFINITY);
        // The highest bucket answers with the second highest bound.
        assert_eq!(bucket_quantile(0.99, bs).0, 1.0);
        assert!(bucket_quantile(0.5, b(&[(1.0, 1.0), (2.0, 2.0)]))
            .0
            .is_nan());
        assert!(bucket_quantile(0.5, b(&[(f64::INFINITY, 2.0)])).0.is_nan());
        assert!(bucket_quantile(0.5, b(&[(1.0, 0.0), (f64::INFINITY, 0.0)]))
            .0
            .is_nan());
        assert_eq!(
            bucket_quantile(0.1, b(&[(-1.0, 10.0), (f64::INFINITY, 20.0)])).0,
            -1.0
        );
    }

    #[test]
    fn quantile_forces_monotonicity_and_reports_where() {
        let bs = b(&[
            (1.0, 10.0),
            (2.0, 8.0),
            (3.0, 5.0),
            (4.0, 12.0),
            (f64::INFINITY, 12.0),
        ]);
        let (_, f) = bucket_quantile(0.5, bs);
        assert!(f.forced_monotonic);
        assert_eq!((f.min_bucket, f.max_bucket, f.max_diff), (2.0, 3.0, 5.0));
        let (_, f) = bucket_quantile(
            0.5,
            b(&[(1.0, 1e15), (2.0, 1e15 - 1.0), (f64::INFINITY, 1e15)]),
        );
        assert!(f.fixed_precision && !f.forced_monotonic);
    }

    #[test]
    fn fraction_of_classic_buckets() {
        let bs = b(&[(1.0, 10.0), (2.0, 20.0), (f64::INFINITY, 20.0)]);
        assert_eq!(bucket_fraction(f64::NEG_INFINITY, 1.0, bs.clone()), 0.5);
        assert_eq!(bucket_fraction(0.5, 1.5, bs.clone()), 0.5);
        assert_eq!(bucket_fraction(2.0, 1.0, bs.clone()), 0.0);
        assert!(bucket_fraction(f64::NAN, 1.0, bs).is_nan());
        // Neither the bucket from -Inf nor the one to +Inf is interpolated into.
        let neg = b(&[(-1.0, 10.0), (f64::INFINITY, 20.0)]);
        assert_eq!(bucket_fraction(-2.0, 5.0, neg.clone()), 0.0);
        assert_eq!(bucket_fraction(-2.0, 5.0, neg.clone()), 0.0);
        assert_eq!(bucket_fraction(-1.0, 5.0, neg), 0.0);
    }
}
