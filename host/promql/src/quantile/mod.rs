//! Quantile, fraction and variance estimates of histograms: Prometheus' `promql/quantile.go`
//! (`HistogramQuantile`, `HistogramFraction`, `BucketQuantile`, `BucketFraction`) and the
//! variance behind `histogram_stddev` / `histogram_stdvar`.
//!
//! The functions return what Prometheus reports as annotations as plain values
//! ([`NativeAnno`]); the callers turn them into messages with the metric name and position.

pub mod classic;

use sightline_model::histogram::{is_custom_buckets, Bucket, FloatHistogram};

use crate::functions::kahan_inc;

pub use classic::{bucket_fraction, bucket_quantile, BucketFixes, ClassicBucket};

/// An info annotation about one native histogram's estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NativeAnno {
    /// `input to histogram_quantile has NaN observations, result is NaN`.
    QuantileNaNResult,
    /// `input to histogram_quantile has NaN observations, result is skewed higher`.
    QuantileNaNSkew,
    /// `input to histogram_fraction has NaN observations, which are excluded from all
    /// fractions`.
    FractionNaNs,
}

impl NativeAnno {
    /// The annotation's text without its `PromQL info:` prefix, metric name and position.
    pub fn message(self) -> &'static str {
        match self {
            NativeAnno::QuantileNaNResult => {
                "input to histogram_quantile has NaN observations, result is NaN"
            }
            NativeAnno::QuantileNaNSkew => {
                "input to histogram_quantile has NaN observations, result is skewed higher"
            }
            NativeAnno::FractionNaNs => {
                "input to histogram_fraction has NaN observations, which are excluded from all fractions"
            }
        }
    }
}

/// Prometheus' `HistogramQuantile`: the `q` quantile of a native histogram.
///
/// Custom buckets and the zero bucket interpolate linearly; exponential buckets interpolate
/// on a logarithmic scale (the observations are assumed to fill the buckets of a finer
/// schema evenly). 0 is the natural lower bound when there are only positive buckets (and
/// the upper one when there are only negative buckets). `q < 0` gives `-Inf`, `q > 1`
/// `+Inf`, an empty histogram or a NaN `q` NaN. NaN observations (a NaN sum with a count
/// above the buckets' total) skew the result higher or make it NaN, with an annotation.
pub fn histogram_quantile(q: f64, h: &FloatHistogram) -> (f64, Option<NativeAnno>) {
    if q < 0.0 {
        return (f64::NEG_INFINITY, None);
    }
    if q > 1.0 {
        return (f64::INFINITY, None);
    }
    if h.count == 0.0 || q.is_nan() {
        return (f64::NAN, None);
    }
    let custom = is_custom_buckets(h.schema);
    // With NaN observations only the forward walk finds the right rank, since they count
    // in `count` but in no bucket; otherwise the walk starts from the nearer end.
    let forward = h.sum.is_nan() || q < 0.5;
    let mut it = if forward {
        h.all_bucket_iterator()
    } else {
        h.all_reverse_bucket_iterator()
    };
    let mut rank = if forward {
        q * h.count
    } else {
        (1.0 - q) * h.count
    };
    let mut bucket = Bucket::<f64>::default();
    let mut count = 0.0;
    for b in it.by_ref() {
        bucket = b;
        if b.count == 0.0 {
            continue;
        }
        count += b.count;
        if count >= rank {
            break;
        }
    }
    if !custom && bucket.lower < 0.0 && bucket.upper > 0.0 {
        if h.negative_buckets.is_empty() && !h.positive_buckets.is_empty() {
            // In the zero bucket with only positive buckets: 0 is the lower bound.
            bucket.lower = 0.0;
        } else if h.positive_buckets.is_empty() && !h.negative_buckets.is_empty() {
            // In the zero bucket with only negative buckets: 0 is the upper bound.
            bucket.upper = 0.0;
        }
    } else if custom {
        if bucket.lower == f64::NEG_INFINITY {
            // The first custom bucket starts at -Inf: 0 is its natural lower bound unless
            // its upper bound is not positive.
            if bucket.upper <= 0.0 {
                return (bucket.upper, None);
            }
            bucket.lower = 0.0;
        } else if bucket.upper == f64::INFINITY {
            // The last custom bucket ends at +Inf: its lower bound is the best estimate.
            return (bucket.lower, None);
        }
    }
    // Rounding could make the running count exceed the total.
    if count > h.count {
        count = h.count;
    }
    if count < rank {
        // The buckets ran out before the rank: the rest are NaN observations (or the
        // histogram is inconsistent, when the highest bucket's bound is the best answer).
        if h.sum.is_nan() {
            return (f64::NAN, Some(NativeAnno::QuantileNaNResult));
        }
        return (bucket.upper, None);
    }
    if forward {
        rank -= count - bucket.count;
    } else {
        rank = count - rank;
    }
    let mut anno = None;
    if h.sum.is_nan() {
        // A NaN sum with a count above the buckets' total means NaN observations (a NaN sum
        // alone may come from observing both infinities).
        for b in it {
            count += b.count;
        }
        if count < h.count {
            anno = Some(NativeAnno::QuantileNaNSkew);
        }
    }
    let fraction = rank / bucket.count;
    if custom || (bucket.lower <= 0.0 && bucket.upper >= 0.0) {
        return (
            bucket.lower + (bucket.upper - bucket.lower) * fraction,
            anno,
        );
    }
    // Exponential bucket bounds are evenly spaced on a logarithmic scale, so interpolate
    // linearly between the logarithms of the bounds and map the result back.
    let log_lower = bucket.lower.abs().log2();
    let log_upper = bucket.upper.abs().log2();
    if bucket.lower > 0.0 {
        return (
            (log_lower + (log_upper - log_lower) * fraction).exp2(),
            anno,
        );
    }
    // A negative bucket: mirror.
    (
        -(log_upper + (log_lower - log_upper) * (1.0 - fraction)).exp2(),
        anno,
    )
}

/// Prometheus' `HistogramFraction`: the estimated fraction of observations between `lower`
/// and `upper`, interpolating as [`histogram_quantile`] does (the inverse of it).
///
/// An empty histogram or a NaN bound gives NaN; `lower >= upper` gives 0. NaN observations
/// are in no bucket, so `(-Inf, +Inf)` may give less than 1 (with an annotation).
pub fn histogram_fraction(lower: f64, upper: f64, h: &FloatHistogram) -> (f64, Option<NativeAnno>) {
    if h.count == 0.0 || lower.is_nan() || upper.is_nan() {
        return (f64::NAN, None);
    }
    if lower >= upper {
        return (0.0, None);
    }
    let custom = is_custom_buckets(h.schema);
    let (mut count, mut rank, mut lower_rank, mut upper_rank) = (0.0, 0.0, 0.0, 0.0);
    let (mut lower_set, mut upper_set) = (false, false);
    let mut it = h.all_bucket_iterator();
    for mut b in it.by_ref() {
        count += b.count;
        let mut zero_bucket = false;
        if b.lower <= 0.0 && b.upper >= 0.0 {
            zero_bucket = true;
            if h.negative_buckets.is_empty() && !h.positive_buckets.is_empty() {
                b.lower = 0.0;
            } else if h.positive_buckets.is_empty() && !h.negative_buckets.is_empty() {
                b.upper = 0.0;
            }
        }
        // Custom buckets and the zero bucket interpolate linearly (as classic histograms
        // do); a bucket from -Inf is not interpolated into and counts whole.
        let linear = custom || zero_bucket;
        let interpolate = |v: f64| -> f64 {
            if linear && b.lower == f64::NEG_INFINITY {
                return b.count;
            }
            rank + b.count * b.fraction_below(v, linear)
        };
        if !lower_set && b.lower >= lower {
            lower_rank = rank;
            lower_set = true;
        }
        if !upper_set && b.lower >= upper {
            upper_rank = rank;
            upper_set = true;
        }
        if lower_set && upper_set {
            break;
        }
        if !lower_set && b.lower < lower && b.upper > lower {
            lower_rank = interpolate(lower);
            lower_set = true;
        }
        if !upper_set && b.lower < upper && b.upper > upper {
            upper_rank = interpolate(upper);
            upper_set = true;
        }
        if lower_set && upper_set {
            break;
        }
        rank += b.count;
    }
    let mut anno = None;
    if h.sum.is_nan() {
        // NaN observations may exist: only the buckets' total counts as observed.
        for b in it {
            count += b.count;
        }
        if count < h.count {
            anno = Some(NativeAnno::FractionNaNs);
        }
    } else {
        count = h.count;
    }
    if !lower_set || lower_rank > count {
        lower_rank = count;
    }
    if !upper_set || upper_rank > count {
        upper_rank = count;
    }
    ((upper_rank - lower_rank) / h.count, anno)
}

/// The estimated variance of a native histogram's observations (`histogramVariance`): each
/// bucket's observations are taken to sit at its arithmetic mean (custom buckets), at 0 (the
/// zero bucket) or at its geometric mean (exponential buckets).
pub fn histogram_variance(h: &FloatHistogram) -> f64 {
    let mean = h.sum / h.count;
    let custom = is_custom_buckets(h.schema);
    let (mut variance, mut c) = (0.0, 0.0);
    for b in h.all_bucket_iterator() {
        if b.count == 0.0 {
            continue;
        }
        let val = if custom {
            (b.upper + b.lower) / 2.0
        } else if b.lower <= 0.0 && b.upper >= 0.0 {
            0.0
        } else {
            let v = (b.upper * b.lower).sqrt();
            if b.upper < 0.0 {
                -v
            } else {
                v
            }
        };
        let delta = val - mean;
        (variance, c) = kahan_inc(b.count * delta * delta, variance, c);
    }
    (variance + c) / h.count
}

/// `histogram_avg`: the mean observation.
pub fn histogram_avg(h: &FloatHistogram) -> f64 {
    h.sum / h.count
}

#[cfg(test)]
mod tests;
