//! Runners for the `histogram_test.go` and `generic_test.go` tables.

use super::cases_int::*;
use crate::histogram::*;

fn some<T>(o: &Option<T>) -> &T {
    o.as_ref().expect("case has a histogram")
}

#[test]
fn string() {
    let cases = int_string_cases();
    assert!(cases.len() > 3);
    for c in cases {
        assert_eq!(some(&c.histogram).to_string(), c.expected_string);
    }
}

#[test]
fn cumulative_bucket_iterator() {
    let cases = cumulative_cases();
    assert!(!cases.is_empty());
    for (i, c) in cases.into_iter().enumerate() {
        let got: Vec<Bucket<u64>> = some(&c.histogram)
            .cumulative_bucket_iterator()
            .expect("no negative buckets")
            .collect();
        assert_eq!(got, c.expected_buckets, "case {i}");
    }
}

#[test]
fn regular_bucket_iterator() {
    let cases = regular_iter_cases();
    assert!(!cases.is_empty());
    for (i, c) in cases.into_iter().enumerate() {
        let h = some(&c.histogram);
        let pos: Vec<Bucket<u64>> = h.positive_bucket_iterator().collect();
        assert_eq!(pos, c.expected_positive_buckets, "case {i}");
        let neg: Vec<Bucket<u64>> = h.negative_bucket_iterator().collect();
        assert_eq!(neg, c.expected_negative_buckets, "case {i}");
    }
}

#[test]
fn compact() {
    let cases = int_compact_cases();
    assert!(cases.len() > 20);
    for c in cases {
        let mut h = some(&c.input).clone();
        let was_valid = h.validate().is_ok();
        h.compact(c.max_empty_buckets);
        assert_eq!(Some(h.clone()), c.expected, "{}", c.name);
        if was_valid {
            assert_eq!(h.validate(), Ok(()), "{}: compact made it invalid", c.name);
        }
    }
}

#[test]
fn validation() {
    let cases = int_validation_cases();
    assert!(cases.len() > 10);
    for c in cases {
        let h = some(&c.h);
        let got = h.validate().map_err(|e| e.to_string());
        if c.err_msg.is_empty() {
            assert_eq!(got, Ok(()), "{}", c.name);
        } else {
            assert_eq!(got, Err(c.err_msg.to_string()), "{}", c.name);
        }
        if c.skip_float {
            continue;
        }
        let got = h.to_float().validate().map_err(|e| e.to_string());
        if c.err_msg.is_empty() {
            assert_eq!(got, Ok(()), "{} (float)", c.name);
        } else {
            assert_eq!(got, Err(c.err_msg.to_string()), "{} (float)", c.name);
        }
    }
}

#[test]
fn reduce_resolution() {
    for c in int_reduce_resolution_cases() {
        let mut h = some(&c.origin).clone();
        let r = h.reduce_resolution(c.target_schema);
        if !c.error_msg.is_empty() {
            assert_eq!(
                r.map_err(|e| e.to_string()),
                Err(c.error_msg.to_string()),
                "{}",
                c.name
            );
            continue;
        }
        assert_eq!(r, Ok(()), "{}", c.name);
        assert_eq!(Some(h), c.target, "{}", c.name);
    }
}

#[test]
fn get_bound_exponential_table() {
    let cases = get_bound_cases();
    assert!(cases.len() > 10);
    for c in cases {
        assert_eq!(
            get_bound_exponential(c.idx, c.schema),
            c.want,
            "idx {} schema {}",
            c.idx,
            c.schema
        );
    }
}

#[test]
fn to_float_of_custom_buckets_drops_unused_fields() {
    let h = Histogram {
        schema: CUSTOM_BUCKETS_SCHEMA,
        count: 3,
        zero_threshold: 0.1,
        positive_spans: vec![Span::new(0, 2)],
        positive_buckets: vec![1, 1],
        negative_spans: vec![Span::new(0, 1)],
        negative_buckets: vec![5],
        custom_values: vec![1.0].into(),
        ..Histogram::default()
    };
    let f = h.to_float();
    assert_eq!(f.positive_buckets, vec![1.0, 2.0]);
    assert_eq!(f.zero_threshold, 0.0);
    assert!(f.negative_buckets.is_empty() && f.negative_spans.is_empty());
    assert_eq!(&*f.custom_values, &[1.0]);
}

#[test]
fn to_float_keeps_buckets_and_string() {
    // Go's `TestHistogramToFloat` idea over every valid histogram of the tables: the float
    // version prints the same and iterates the same buckets.
    let mut checked = 0;
    let inputs = int_compact_cases()
        .into_iter()
        .filter_map(|c| c.input)
        .chain(int_string_cases().into_iter().filter_map(|c| c.histogram))
        .chain(int_validation_cases().into_iter().filter_map(|c| c.h));
    for h in inputs {
        if h.validate().is_err() {
            continue;
        }
        let f = h.to_float();
        assert_eq!(f.to_string(), h.to_string());
        let ib: Vec<(i32, f64)> = h
            .positive_bucket_iterator()
            .map(|b| (b.index, b.count as f64))
            .collect();
        let fb: Vec<(i32, f64)> = f
            .positive_bucket_iterator()
            .map(|b| (b.index, b.count))
            .collect();
        assert_eq!(ib, fb);
        let ib: Vec<(i32, f64)> = h
            .negative_bucket_iterator()
            .map(|b| (b.index, b.count as f64))
            .collect();
        let fb: Vec<(i32, f64)> = f
            .negative_bucket_iterator()
            .map(|b| (b.index, b.count))
            .collect();
        assert_eq!(ib, fb);
        checked += 1;
    }
    assert!(checked >= 8, "{checked}");
}
