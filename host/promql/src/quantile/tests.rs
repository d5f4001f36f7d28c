use std::sync::Arc;

use sightline_model::histogram::{FloatHistogram, Span, CUSTOM_BUCKETS_SCHEMA};

use super::*;
use sightline_model::histogram::{get_bound, get_bound_exponential};

const SQRT2: f64 = std::f64::consts::SQRT_2;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1e-300)
}

/// Schema 0 with (0.5,1]:2 and (1,2]:2.
fn two_positive() -> FloatHistogram {
    FloatHistogram {
        schema: 0,
        count: 4.0,
        sum: 5.0,
        positive_spans: vec![Span::new(0, 2)],
        positive_buckets: vec![2.0, 2.0],
        ..FloatHistogram::default()
    }
}

/// Custom bounds 1, 2, 5 with 1, 2, 3 and 4 observations.
fn custom() -> FloatHistogram {
    FloatHistogram {
        schema: CUSTOM_BUCKETS_SCHEMA,
        count: 10.0,
        sum: 30.0,
        positive_spans: vec![Span::new(0, 4)],
        positive_buckets: vec![1.0, 2.0, 3.0, 4.0],
        custom_values: Arc::from(vec![1.0, 2.0, 5.0]),
        ..FloatHistogram::default()
    }
}

#[test]
fn bounds_match_prometheus() {
    assert_eq!(get_bound(0, 0, &[]), 1.0);
    assert_eq!(get_bound(1, 0, &[]), 2.0);
    assert_eq!(get_bound(-1, 0, &[]), 0.5);
    // Prometheus' table value, one ulp below the correctly rounded 2^-0.5, doubled.
    assert_eq!(get_bound(0, 1, &[]), 1.0);
    assert_eq!(get_bound(-1, 1, &[]), 0.7071067811865475);
    assert_eq!(get_bound(1, 3, &[]), 2.0 * 0.5452538663326288);
    assert_eq!(get_bound(2, -2, &[]), 256.0);
    assert_eq!(get_bound_exponential(1024, 0), f64::MAX);
    assert_eq!(get_bound_exponential(1025, 0), f64::INFINITY);
    assert_eq!(get_bound_exponential(512, -1), f64::MAX);
    assert_eq!(get_bound_exponential(-1074, 0), f64::from_bits(1));
    assert_eq!(
        get_bound(-1, CUSTOM_BUCKETS_SCHEMA, &[1.0]),
        f64::NEG_INFINITY
    );
    assert_eq!(get_bound(0, CUSTOM_BUCKETS_SCHEMA, &[1.0]), 1.0);
    assert_eq!(get_bound(1, CUSTOM_BUCKETS_SCHEMA, &[1.0]), f64::INFINITY);
}

#[test]
fn iterators_walk_spans_with_gaps_both_ways() {
    let h = FloatHistogram {
        schema: 0,
        zero_threshold: 0.001,
        zero_count: 5.0,
        positive_spans: vec![Span::new(-2, 2), Span::new(3, 1)],
        positive_buckets: vec![1.0, 2.0, 3.0],
        negative_spans: vec![Span::new(0, 1), Span::new(1, 1)],
        negative_buckets: vec![4.0, 6.0],
        ..FloatHistogram::default()
    };
    let fwd: Vec<(i32, f64, f64, f64)> = h
        .all_bucket_iterator()
        .map(|b| (b.index, b.lower, b.upper, b.count))
        .collect();
    assert_eq!(
        fwd,
        vec![
            (2, -4.0, -2.0, 6.0),
            (0, -1.0, -0.5, 4.0),
            (0, -0.001, 0.001, 5.0),
            (-2, 0.125, 0.25, 1.0),
            (-1, 0.25, 0.5, 2.0),
            (3, 4.0, 8.0, 3.0),
        ]
    );
    let mut rev: Vec<(i32, f64, f64, f64)> = h
        .all_reverse_bucket_iterator()
        .map(|b| (b.index, b.lower, b.upper, b.count))
        .collect();
    rev.reverse();
    assert_eq!(rev, fwd);
}

#[test]
fn iterators_cut_buckets_at_the_zero_threshold() {
    let h = FloatHistogram {
        schema: 0,
        zero_threshold: 0.3,
        zero_count: 1.0,
        positive_spans: vec![Span::new(-2, 2)],
        positive_buckets: vec![1.0, 2.0],
        ..FloatHistogram::default()
    };
    let b: Vec<(f64, f64)> = h
        .all_bucket_iterator()
        .map(|b| (b.lower, b.upper))
        .collect();
    assert_eq!(b, vec![(-0.3, 0.3), (0.3, 0.25), (0.3, 0.5)]);
}

#[test]
fn quantile_interpolates_exponentially() {
    let h = two_positive();
    assert_eq!(histogram_quantile(0.5, &h), (1.0, None));
    assert!(close(histogram_quantile(0.75, &h).0, SQRT2));
    assert!(close(histogram_quantile(0.25, &h).0, 1.0 / SQRT2));
    assert_eq!(histogram_quantile(1.0, &h).0, 2.0);
    assert_eq!(histogram_quantile(0.0, &h).0, 0.5);
}

#[test]
fn quantile_special_cases() {
    let h = two_positive();
    assert_eq!(histogram_quantile(-0.1, &h).0, f64::NEG_INFINITY);
    assert_eq!(histogram_quantile(1.1, &h).0, f64::INFINITY);
    assert!(histogram_quantile(f64::NAN, &h).0.is_nan());
    assert!(histogram_quantile(0.5, &FloatHistogram::default())
        .0
        .is_nan());
}

#[test]
fn quantile_in_the_zero_bucket_is_linear_from_zero() {
    let h = FloatHistogram {
        schema: 0,
        zero_threshold: 0.001,
        zero_count: 2.0,
        count: 4.0,
        sum: 2.0,
        positive_spans: vec![Span::new(0, 1)],
        positive_buckets: vec![2.0],
        ..FloatHistogram::default()
    };
    assert!(close(histogram_quantile(0.25, &h).0, 0.0005));
    // With buckets on both sides the zero bucket spans [-threshold, threshold].
    let mut both = h.clone();
    both.negative_spans = vec![Span::new(0, 1)];
    both.negative_buckets = vec![2.0];
    both.count = 6.0;
    assert!(close(histogram_quantile(0.5, &both).0, 0.0));
}

#[test]
fn quantile_of_negative_buckets_mirrors() {
    let h = FloatHistogram {
        schema: 0,
        count: 4.0,
        sum: -5.0,
        negative_spans: vec![Span::new(0, 2)],
        negative_buckets: vec![2.0, 2.0],
        ..FloatHistogram::default()
    };
    assert!(close(histogram_quantile(0.25, &h).0, -SQRT2));
    assert!(close(histogram_quantile(0.75, &h).0, -1.0 / SQRT2));
    assert_eq!(histogram_quantile(0.5, &h).0, -1.0);
}

#[test]
fn quantile_of_custom_buckets() {
    let h = custom();
    assert!(close(histogram_quantile(0.05, &h).0, 0.5));
    assert!(close(histogram_quantile(0.2, &h).0, 1.5));
    assert!(close(histogram_quantile(0.5, &h).0, 4.0));
    // In the +Inf bucket the lower bound is the answer.
    assert_eq!(histogram_quantile(0.9, &h).0, 5.0);
    // A first bucket with a non-positive bound answers with that bound.
    let mut neg = h.clone();
    neg.custom_values = Arc::from(vec![-1.0, 2.0, 5.0]);
    assert_eq!(histogram_quantile(0.05, &neg).0, -1.0);
}

#[test]
fn quantile_with_nan_observations() {
    let mut h = two_positive();
    h.sum = f64::NAN;
    h.count = 5.0;
    assert_eq!(
        histogram_quantile(0.9, &h).1,
        Some(NativeAnno::QuantileNaNResult)
    );
    assert!(histogram_quantile(0.9, &h).0.is_nan());
    let (v, a) = histogram_quantile(0.5, &h);
    assert!(close(v, 2f64.powf(0.25)));
    assert_eq!(a, Some(NativeAnno::QuantileNaNSkew));
    // A NaN sum without missing observations (both infinities observed) is no skew.
    h.count = 4.0;
    assert_eq!(histogram_quantile(0.5, &h).1, None);
}

#[test]
fn fraction_of_exponential_buckets() {
    let h = two_positive();
    assert_eq!(histogram_fraction(f64::NEG_INFINITY, 1.0, &h), (0.5, None));
    assert!(close(histogram_fraction(1.0, SQRT2, &h).0, 0.25));
    assert_eq!(
        histogram_fraction(f64::NEG_INFINITY, f64::INFINITY, &h).0,
        1.0
    );
    assert_eq!(histogram_fraction(2.0, 1.0, &h).0, 0.0);
    assert!(histogram_fraction(f64::NAN, 1.0, &h).0.is_nan());
    assert!(histogram_fraction(0.0, 1.0, &FloatHistogram::default())
        .0
        .is_nan());
    // The fraction inverts the quantile.
    for q in [0.1, 0.3, 0.6, 0.9] {
        let v = histogram_quantile(q, &h).0;
        assert!(close(histogram_fraction(f64::NEG_INFINITY, v, &h).0, q));
    }
}

#[test]
fn fraction_of_custom_buckets() {
    let h = custom();
    // The first bucket reaches down to -Inf but, as the zero bucket of a histogram with
    // only positive buckets, is taken to start at 0.
    assert!(close(
        histogram_fraction(f64::NEG_INFINITY, 0.5, &h).0,
        0.05
    ));
    // With a non-positive first bound it is not interpolated into: it counts whole.
    let mut neg = h.clone();
    neg.custom_values = Arc::from(vec![-1.0, 2.0, 5.0]);
    assert!(close(
        histogram_fraction(f64::NEG_INFINITY, -2.0, &neg).0,
        0.1
    ));
    assert!(close(histogram_fraction(1.5, 3.5, &h).0, 0.25));
    assert!(close(histogram_fraction(6.0, f64::INFINITY, &h).0, 0.4));
}

#[test]
fn fraction_excludes_nan_observations() {
    let mut h = two_positive();
    h.sum = f64::NAN;
    h.count = 5.0;
    assert_eq!(
        histogram_fraction(f64::NEG_INFINITY, f64::INFINITY, &h),
        (0.8, Some(NativeAnno::FractionNaNs))
    );
}

#[test]
fn variance_uses_bucket_midpoints() {
    let h = two_positive();
    let mean = 1.25;
    let want = (2.0 * (1.0 / SQRT2 - mean).powi(2) + 2.0 * (SQRT2 - mean).powi(2)) / 4.0;
    assert!(close(histogram_variance(&h), want));
    let c = FloatHistogram {
        schema: CUSTOM_BUCKETS_SCHEMA,
        count: 2.0,
        sum: 4.0,
        positive_spans: vec![Span::new(1, 1)],
        positive_buckets: vec![2.0],
        custom_values: Arc::from(vec![1.0, 3.0]),
        ..FloatHistogram::default()
    };
    assert_eq!(histogram_variance(&c), 0.0);
    assert_eq!(histogram_avg(&c), 2.0);
}

/// `histogram_quantile_3` of the conformance suite's native_histograms.test.
#[test]
fn quantile_matches_the_conformance_suite() {
    let h = FloatHistogram {
        schema: 0,
        count: 24.0,
        sum: 100.0,
        zero_count: 4.0,
        zero_threshold: 0.001,
        positive_spans: vec![Span::new(0, 5)],
        positive_buckets: vec![2.0, 3.0, 0.0, 1.0, 4.0],
        negative_spans: vec![Span::new(0, 5)],
        negative_buckets: vec![2.0, 3.0, 0.0, 1.0, 4.0],
        ..FloatHistogram::default()
    };
    for (q, want) in [
        (1.0, 16.0),
        (0.99, 15.34822590920423),
        (0.9, 10.556063286183155),
        (0.7, 1.2030250360821164),
        (0.55, 0.0006),
        (0.5, 0.0),
        (0.45, -0.0006),
        (0.3, -1.2030250360821169),
        (0.1, -10.556063286183155),
        (0.01, -15.34822590920423),
        (0.0, -16.0),
    ] {
        let got = histogram_quantile(q, &h).0;
        assert!(
            (got - want).abs() <= 1e-12 * want.abs().max(1e-3),
            "q={q}: {got} != {want}"
        );
    }
}
