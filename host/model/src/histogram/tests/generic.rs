//! Ports of `generic_test.go` and of the small hand-written tests of
//! `float_histogram_test.go` and `histogram_test.go`.

use crate::histogram::generic::reduce_resolution;
use crate::histogram::*;

#[test]
fn bucket_fraction_below() {
    let b = |lower: f64, upper: f64| Bucket {
        lower,
        upper,
        count: 100.0,
        ..Bucket::default()
    };
    for (name, bucket, v, linear, want) in [
        ("linear, midpoint", b(0.0, 10.0), 5.0, true, 0.5),
        ("linear, quarter", b(2.0, 6.0), 3.0, true, 0.25),
        ("linear, negative bucket", b(-10.0, -5.0), -6.0, true, 0.8),
        (
            "exponential, geometric midpoint",
            b(2.0, 8.0),
            4.0,
            false,
            0.5,
        ),
        ("exponential, lower quarter", b(1.0, 16.0), 2.0, false, 0.25),
        (
            "exponential, negative midpoint",
            b(-8.0, -2.0),
            -4.0,
            false,
            0.5,
        ),
        (
            "exponential, negative bucket",
            b(-4.0, -2.0),
            -3.0,
            false,
            0.415_037_499_278_843_8,
        ),
    ] {
        let got = bucket.fraction_below(v, linear);
        assert!((got - want).abs() < 1e-12, "{name}: {got}");
    }
}

#[test]
fn reduce_resolution_of_spans_and_buckets() {
    let spans = vec![Span::new(0, 4), Span::new(0, 0), Span::new(3, 2)];
    let (s, b) = reduce_resolution(&spans, &[1i64, 2, -2, 1, -1, 0], 0, -1, true).unwrap();
    assert_eq!(s, vec![Span::new(0, 3), Span::new(1, 1)]);
    assert_eq!(b, vec![1, 3, -2, 0]);
    let (s, b) = reduce_resolution(&spans, &[1.0, 3.0, 1.0, 2.0, 1.0, 1.0], 0, -1, false).unwrap();
    assert_eq!(s, vec![Span::new(0, 3), Span::new(1, 1)]);
    assert_eq!(b, vec![1.0, 4.0, 2.0, 2.0]);
    let e = reduce_resolution(&spans, &[1.0, 3.0], 0, -1, false).unwrap_err();
    assert_eq!(
        e.to_string(),
        "have 2 buckets but spans need more: histogram spans specify different number of buckets than provided"
    );
    assert_eq!(e.kind(), HistogramErrorKind::SpansBucketsMismatch);
}

#[test]
fn custom_bucket_bounds_match_is_symmetric() {
    let e: &[f64] = &[];
    for (c1, c2, want) in [
        (e, e, true),
        (e, &[1.0][..], false),
        (&[1.0, 2.0][..], &[1.0, 2.0, 3.0][..], false),
        (&[1.5][..], &[1.5][..], true),
        (&[1.5][..], &[2.5][..], false),
        (
            &[1.0, 2.0, 3.0, 4.0, 5.0][..],
            &[1.0, 2.0, 3.0, 4.0, 5.0][..],
            true,
        ),
        (&[1.0, 2.1, 3.0][..], &[1.0, 2.0, 3.0][..], false),
    ] {
        assert_eq!(custom_bucket_bounds_match(c1, c2), want, "{c1:?} {c2:?}");
        assert_eq!(custom_bucket_bounds_match(c2, c1), want, "{c2:?} {c1:?}");
    }
}

#[test]
fn trim_buckets() {
    // Go's `TestFloatHistogramTrimBucketsInPlace` histogram: bucket upper bounds 1, 2, 4, 8.
    let new_hist = || FloatHistogram {
        schema: 0,
        count: 30.0,
        sum: 100.0,
        positive_spans: vec![Span::new(0, 4)],
        positive_buckets: vec![5.0, 5.0, 10.0, 10.0],
        ..FloatHistogram::default()
    };
    let mut h = new_hist();
    h.trim_buckets(4.0, true);
    assert_eq!(h.positive_spans, vec![Span::new(0, 3)]);
    assert_eq!(h.positive_buckets, vec![5.0, 5.0, 10.0]);
    assert_eq!(h.count, 20.0);
    let want = 5.0 * 0.5f64.sqrt() + 5.0 * 2f64.sqrt() + 10.0 * 8f64.sqrt();
    assert_eq!(h.sum, want);

    // `>/ 3`: (2,4] is split on a log scale, (4,8] is kept whole with its geometric mean.
    let mut h = new_hist();
    h.trim_buckets(3.0, false);
    let keep = 10.0 - 10.0 * (3f64.log2() - 1.0);
    assert_eq!(h.positive_spans, vec![Span::new(2, 2)]);
    assert_eq!(h.positive_buckets, vec![keep, 10.0]);
    assert_eq!(h.count, 10.0 + keep);
    assert_eq!(h.sum, 10.0 * 32f64.sqrt() + keep * 12f64.sqrt());

    // Nothing to trim: the totals are left alone.
    let mut h = new_hist();
    h.trim_buckets(100.0, true);
    assert_eq!(h, new_hist());
}

#[test]
fn histogram_equals() {
    let h1 = Histogram {
        schema: 3,
        count: 62,
        zero_count: 2,
        zero_threshold: 0.001,
        sum: 19.4,
        positive_spans: vec![Span::new(0, 2), Span::new(1, 2)],
        positive_buckets: vec![1, 1, -1, 0],
        negative_spans: vec![Span::new(0, 2), Span::new(1, 2)],
        negative_buckets: vec![1, 2, -2, 1],
        ..Histogram::default()
    };
    assert!(h1.equals(&h1.copy()));
    let mut h2 = h1.clone();
    h2.positive_spans = vec![Span::new(0, 2), Span::new(1, 0), Span::new(0, 2)];
    assert!(h1.equals(&h2), "an empty span in between changes nothing");
    let mut h2 = h1.clone();
    h2.positive_spans = vec![Span::new(0, 2), Span::new(2, 2)];
    assert!(!h1.equals(&h2));
    let mut h2 = h1.clone();
    h2.negative_buckets = vec![1, 2, -2, 2];
    assert!(!h1.equals(&h2));
    let mut h2 = h1.clone();
    h2.zero_count = 3;
    assert!(!h1.equals(&h2));
    let mut h2 = h1.clone();
    h2.sum = crate::stale_nan();
    assert!(!h1.equals(&h2));
    assert!(h2.equals(&h2.clone()));
    // Custom values only count with the custom schema.
    let mut h2 = h1.clone();
    h2.custom_values = vec![1.0].into();
    assert!(h1.equals(&h2));
}

#[test]
fn histogram_copy_drops_unused_fields() {
    let h = Histogram {
        schema: CUSTOM_BUCKETS_SCHEMA,
        count: 1,
        zero_count: 5,
        negative_buckets: vec![1],
        positive_spans: vec![Span::new(0, 1)],
        positive_buckets: vec![1],
        custom_values: vec![1.0].into(),
        ..Histogram::default()
    };
    let c = h.copy();
    assert_eq!(c.zero_count, 0);
    assert!(c.negative_buckets.is_empty());
    assert_eq!(c.positive_buckets, vec![1]);
}

#[test]
fn kahan_compact_span_merge() {
    let mut h = FloatHistogram {
        positive_spans: vec![Span::new(0, 1), Span::new(1, 1), Span::new(1, 1)],
        positive_buckets: vec![1.0, 2.0, 3.0],
        ..FloatHistogram::default()
    };
    let mut c = FloatHistogram {
        positive_spans: h.positive_spans.clone(),
        positive_buckets: vec![0.1, 0.2, 0.3],
        ..FloatHistogram::default()
    };
    h.kahan_compact(3, &mut c);
    assert_eq!(h.positive_spans, vec![Span::new(0, 5)]);
    assert_eq!(h.positive_buckets, vec![1.0, 0.0, 2.0, 0.0, 3.0]);
    assert_eq!(c.positive_buckets, vec![0.1, 0.0, 0.2, 0.0, 0.3]);
}

#[test]
fn convert_nhcb_to_classic_series() {
    let name = crate::Labels::from_pairs([("__name__", "test_metric"), ("job", "j")]);
    let series = |v: Vec<(crate::Labels, f64)>| -> Vec<(String, f64)> {
        v.into_iter()
            .map(|(l, x)| {
                let s: Vec<String> = l
                    .iter()
                    .map(|l| format!("{}={}", l.name, l.value))
                    .collect();
                (s.join(","), x)
            })
            .collect()
    };
    let h = Histogram {
        schema: CUSTOM_BUCKETS_SCHEMA,
        custom_values: vec![1.0, 2.0, 3.0].into(),
        positive_spans: vec![Span::new(0, 3)],
        positive_buckets: vec![10, 20, 30],
        count: 100,
        sum: 100.0,
        ..Histogram::default()
    };
    let want = vec![
        ("__name__=test_metric_bucket,job=j,le=1.0".to_string(), 10.0),
        ("__name__=test_metric_bucket,job=j,le=2.0".to_string(), 40.0),
        (
            "__name__=test_metric_bucket,job=j,le=3.0".to_string(),
            100.0,
        ),
        (
            "__name__=test_metric_bucket,job=j,le=+Inf".to_string(),
            100.0,
        ),
        ("__name__=test_metric_count,job=j".to_string(), 100.0),
        ("__name__=test_metric_sum,job=j".to_string(), 100.0),
    ];
    assert_eq!(
        series(convert_nhcb_to_classic(NhcbRef::Int(&h), &name).unwrap()),
        want
    );
    let f = h.to_float();
    assert_eq!(
        series(convert_nhcb_to_classic(NhcbRef::Float(&f), &name).unwrap()),
        want
    );
    let e = convert_nhcb_to_classic(NhcbRef::Float(&FloatHistogram::default()), &name).unwrap_err();
    assert_eq!(e.to_string(), "unsupported histogram schema, not a NHCB");
    let e = convert_nhcb_to_classic(NhcbRef::Int(&h), &crate::Labels::empty()).unwrap_err();
    assert_eq!(e.to_string(), "metric name label '__name__' is missing");
    assert_eq!(format_openmetrics_float(1e6), "1e+06");
    assert_eq!(format_openmetrics_float(0.25), "0.25");
    assert_eq!(format_openmetrics_float(-3.0), "-3.0");
}
