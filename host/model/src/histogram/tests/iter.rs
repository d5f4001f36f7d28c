//! Runners for the iterator tests of `float_histogram_test.go`.

use super::cases_float_iter::*;
use crate::histogram::*;

fn some<T>(o: &Option<T>) -> &T {
    o.as_ref().expect("case has a histogram")
}

fn zero_bucket_of(h: &FloatHistogram) -> Bucket<f64> {
    Bucket {
        lower: -h.zero_threshold,
        upper: h.zero_threshold,
        lower_inclusive: true,
        upper_inclusive: true,
        count: h.zero_count,
        index: 0,
    }
}

#[test]
fn reverse_float_bucket_iterator() {
    // Go's `TestReverseFloatBucketIterator`: the reverse iterators yield the forward ones
    // backwards, including across empty spans.
    let h = FloatHistogram {
        count: 405.0,
        zero_count: 102.0,
        zero_threshold: 0.001,
        sum: 1008.4,
        schema: 1,
        positive_spans: vec![
            Span::new(0, 4),
            Span::new(1, 0),
            Span::new(3, 3),
            Span::new(3, 0),
            Span::new(2, 0),
            Span::new(5, 3),
        ],
        positive_buckets: vec![100.0, 344.0, 123.0, 55.0, 3.0, 63.0, 2.0, 54.0, 235.0, 33.0],
        negative_spans: vec![
            Span::new(0, 3),
            Span::new(1, 0),
            Span::new(3, 0),
            Span::new(3, 4),
            Span::new(2, 0),
            Span::new(5, 3),
        ],
        negative_buckets: vec![
            10.0, 34.0, 1230.0, 54.0, 67.0, 63.0, 2.0, 554.0, 235.0, 33.0,
        ],
        ..FloatHistogram::default()
    };
    let mut exp: Vec<Bucket<f64>> = h.positive_bucket_iterator().collect();
    exp.reverse();
    assert_eq!(exp.len(), 10);
    assert_eq!(
        h.positive_reverse_bucket_iterator().collect::<Vec<_>>(),
        exp
    );
    let mut exp: Vec<Bucket<f64>> = h.negative_bucket_iterator().collect();
    exp.reverse();
    assert_eq!(exp.len(), 10);
    assert_eq!(
        h.negative_reverse_bucket_iterator().collect::<Vec<_>>(),
        exp
    );
}

#[test]
fn all_float_bucket_iterator() {
    let cases = all_iter_cases();
    assert!(cases.len() > 3);
    for (i, c) in cases.into_iter().enumerate() {
        let h = some(&c.h);
        let mut exp = Vec::new();
        if c.include_neg {
            for mut b in h.negative_reverse_bucket_iterator() {
                if c.include_zero && b.upper > -h.zero_threshold {
                    b.upper = -h.zero_threshold;
                }
                exp.push(b);
            }
        }
        if c.include_zero {
            exp.push(zero_bucket_of(h));
        }
        if c.include_pos {
            for mut b in h.positive_bucket_iterator() {
                if c.include_zero && b.lower < h.zero_threshold {
                    b.lower = h.zero_threshold;
                }
                exp.push(b);
            }
        }
        assert_eq!(h.all_bucket_iterator().collect::<Vec<_>>(), exp, "case {i}");
    }
}

#[test]
fn all_reverse_float_bucket_iterator() {
    let cases = all_rev_iter_cases();
    assert!(cases.len() > 3);
    for (i, c) in cases.into_iter().enumerate() {
        let h = some(&c.h);
        let mut exp = Vec::new();
        if c.include_pos {
            for mut b in h.positive_reverse_bucket_iterator() {
                if c.include_zero && b.lower < h.zero_threshold {
                    b.lower = h.zero_threshold;
                }
                exp.push(b);
            }
        }
        if c.include_zero {
            exp.push(zero_bucket_of(h));
        }
        if c.include_neg {
            for mut b in h.negative_bucket_iterator() {
                if c.include_zero && b.upper > -h.zero_threshold {
                    b.upper = -h.zero_threshold;
                }
                exp.push(b);
            }
        }
        assert_eq!(
            h.all_reverse_bucket_iterator().collect::<Vec<_>>(),
            exp,
            "case {i}"
        );
    }
}

#[test]
fn float_bucket_iterator_target_schema() {
    let cases = target_schema_iter_cases();
    assert!(!cases.is_empty());
    for c in cases {
        let h = some(&c.h);
        let pos: Vec<Bucket<f64>> = h.float_bucket_iterator(true, 0.0, -1).collect();
        assert_eq!(pos, c.exp_positive_buckets, "{}", c.name);
        let neg: Vec<Bucket<f64>> = h.float_bucket_iterator(false, 0.0, -1).collect();
        assert_eq!(neg, c.exp_negative_buckets, "{}", c.name);
    }
}

#[test]
fn float_custom_buckets_iterators() {
    let cases = custom_iters_cases();
    assert_eq!(cases.len(), 2);
    for (i, c) in cases.into_iter().enumerate() {
        let h = some(&c.h);
        let exp = c.exp_positive_buckets;
        let mut rev = exp.clone();
        rev.reverse();
        assert_eq!(h.all_bucket_iterator().collect::<Vec<_>>(), exp, "case {i}");
        assert_eq!(
            h.all_reverse_bucket_iterator().collect::<Vec<_>>(),
            rev,
            "case {i}"
        );
        assert_eq!(
            h.positive_bucket_iterator().collect::<Vec<_>>(),
            exp,
            "case {i}"
        );
        assert_eq!(
            h.positive_reverse_bucket_iterator().collect::<Vec<_>>(),
            rev,
            "case {i}"
        );
        assert_eq!(h.negative_bucket_iterator().count(), 0);
        assert_eq!(h.negative_reverse_bucket_iterator().count(), 0);
        let custom: Vec<_> = h
            .float_bucket_iterator(true, 0.0, CUSTOM_BUCKETS_SCHEMA)
            .collect();
        assert_eq!(custom, exp, "case {i}");
        assert_eq!(
            h.float_bucket_iterator(false, 0.0, CUSTOM_BUCKETS_SCHEMA)
                .count(),
            0
        );
    }
}
