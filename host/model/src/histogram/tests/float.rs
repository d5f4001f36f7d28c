//! Runners for the `float_histogram_test.go` tables, plus hand-written checks.

use super::cases_float_compact::*;
use super::cases_float_misc::*;
use super::cases_float_ops::*;
use crate::histogram::*;

fn some<T>(o: &Option<T>) -> &T {
    o.as_ref().expect("case has a histogram")
}

/// The histogram with every NaN replaced by a marker value, so that `assert_eq!` compares
/// like Go's `reflect.DeepEqual` on these tests.
fn nan_free(h: &FloatHistogram) -> FloatHistogram {
    let f = |v: f64| if v.is_nan() { -1.234_5e-300 } else { v };
    let mut h = h.clone();
    h.sum = f(h.sum);
    h.count = f(h.count);
    h.zero_count = f(h.zero_count);
    h.positive_buckets.iter_mut().for_each(|v| *v = f(*v));
    h.negative_buckets.iter_mut().for_each(|v| *v = f(*v));
    h
}

#[test]
fn mul() {
    let cases = mul_cases();
    assert!(!cases.is_empty());
    for c in cases {
        let mut h = some(&c.input).clone();
        h.mul(c.scale);
        assert_eq!(Some(h), c.expected, "{}", c.name);
    }
}

#[test]
fn div() {
    for c in div_cases() {
        let mut h = some(&c.fh).clone();
        h.div(c.s);
        // Go's require.Equal treats -0 as 0 but division by zero makes NaNs, which `==`
        // cannot compare: map NaN to a marker first.
        assert_eq!(nan_free(&h), nan_free(some(&c.expected)), "{}", c.name);
    }
}

#[test]
fn detect_reset() {
    let cases = detect_reset_cases();
    assert!(cases.len() > 40);
    for c in cases {
        let got = some(&c.current).detect_reset(some(&c.previous));
        assert_eq!(got, c.reset_expected, "{}", c.name);
    }
}

#[test]
fn compact() {
    let cases = compact_cases();
    assert!(cases.len() > 20);
    for c in cases {
        let mut h = some(&c.input).clone();
        h.compact(c.max_empty_buckets);
        assert_eq!(Some(h), c.expected, "{}", c.name);
    }
}

/// Go's `testHistogramAdd`.
fn check_add(
    name: &str,
    a: &FloatHistogram,
    b: &FloatHistogram,
    expected: Option<&FloatHistogram>,
    err: &str,
    collision: bool,
    reconciled: bool,
) {
    assert_eq!(a.validate(), Ok(()), "{name}: a");
    assert_eq!(b.validate(), Ok(()), "{name}: b");
    let mut res = a.copy();
    let b_copy = b.copy();
    let out = res.add(&b_copy);
    match out {
        Err(e) => {
            assert_eq!(e.to_string(), err, "{name}");
            return;
        }
        Ok(o) => {
            assert_eq!(err, "", "{name}: expected an error");
            assert_eq!(o.counter_reset_collision, collision, "{name}: collision");
            assert_eq!(o.nhcb_bounds_reconciled, reconciled, "{name}: reconciled");
        }
    }
    if let Some(e) = expected {
        let mut e = e.copy();
        e.compact(0);
        res.compact(0);
        assert_eq!(res, e, "{name}");
        assert_eq!(&b_copy, b, "{name}: argument mutated");
    }
}

/// Go's `testHistogramKahanAdd`.
#[allow(clippy::too_many_arguments)]
fn check_kahan_add(
    name: &str,
    a: &FloatHistogram,
    c: Option<&FloatHistogram>,
    b: &FloatHistogram,
    expected: Option<&FloatHistogram>,
    err: &str,
    collision: bool,
    reconciled: bool,
) {
    let mut a_copy = a.copy();
    let out = a_copy.kahan_add(&b.copy(), c.map(|c| c.copy()));
    let (comp, o) = match out {
        Err(e) => {
            assert_eq!(e.to_string(), err, "{name}");
            return;
        }
        Ok(x) => x,
    };
    assert_eq!(err, "", "{name}: expected an error");
    assert_eq!(a_copy.schema, comp.schema, "{name}");
    assert_eq!(a_copy.zero_threshold, comp.zero_threshold, "{name}");
    assert_eq!(a_copy.positive_spans, comp.positive_spans, "{name}");
    assert_eq!(a_copy.negative_spans, comp.negative_spans, "{name}");
    assert_eq!(
        a_copy.custom_values.len(),
        comp.custom_values.len(),
        "{name}"
    );
    assert_eq!(
        a_copy.positive_buckets.len(),
        comp.positive_buckets.len(),
        "{name}"
    );
    assert_eq!(
        a_copy.negative_buckets.len(),
        comp.negative_buckets.len(),
        "{name}"
    );
    a_copy.add(&comp).expect("adding the compensation");
    assert_eq!(o.counter_reset_collision, collision, "{name}: collision");
    assert_eq!(o.nhcb_bounds_reconciled, reconciled, "{name}: reconciled");
    if let Some(e) = expected {
        let mut e = e.copy();
        e.compact(0);
        a_copy.compact(0);
        assert_eq!(a_copy, e, "{name}");
    }
}

#[test]
fn add() {
    let cases = add_cases();
    assert!(cases.len() > 20);
    for c in cases {
        let (a, b) = (some(&c.in1), some(&c.in2));
        let e = c.expected.as_ref();
        let (m, col, rec) = (
            c.exp_err_msg,
            c.exp_counter_reset_collision,
            c.exp_nhcb_bounds_reconciled,
        );
        check_add(c.name, a, b, e, m, col, rec);
        check_add(c.name, b, a, e, m, col, rec);
        check_kahan_add(c.name, a, None, b, e, m, col, rec);
        check_kahan_add(c.name, b, None, a, e, m, col, rec);
    }
}

#[test]
fn kahan_add_with_compensation() {
    let cases = kahan_add_cases();
    assert!(!cases.is_empty());
    for c in cases {
        check_kahan_add(
            c.name,
            some(&c.in1),
            c.comp.as_ref(),
            some(&c.in2),
            c.expected_sum.as_ref(),
            c.exp_err_msg,
            c.exp_counter_reset_collision,
            c.exp_nhcb_bounds_reconciled,
        );
    }
}

/// Go's `testFloatHistogramSub`.
fn check_sub(
    name: &str,
    a: &FloatHistogram,
    b: &FloatHistogram,
    expected: Option<&FloatHistogram>,
    err: &str,
    collision: bool,
    reconciled: bool,
) {
    assert_eq!(a.validate(), Ok(()), "{name}: a");
    assert_eq!(b.validate(), Ok(()), "{name}: b");
    let mut res = a.copy();
    let out = res.sub(b);
    let o = match out {
        Err(e) => {
            assert_eq!(e.to_string(), err, "{name}");
            return;
        }
        Ok(o) => o,
    };
    assert_eq!(err, "", "{name}: expected an error");
    if let Some(e) = expected {
        let mut e = e.copy();
        e.compact(0);
        res.compact(0);
        assert_eq!(res, e, "{name}");
        assert_eq!(o.counter_reset_collision, collision, "{name}: collision");
        assert_eq!(o.nhcb_bounds_reconciled, reconciled, "{name}: reconciled");
    }
}

#[test]
fn sub() {
    let cases = sub_cases();
    assert!(cases.len() > 5);
    for c in cases {
        let (a, b) = (some(&c.in1), some(&c.in2));
        let (m, col, rec) = (
            c.exp_err_msg,
            c.exp_counter_reset_collision,
            c.exp_nhcb_bounds_reconciled,
        );
        check_sub(c.name, a, b, c.expected.as_ref(), m, col, rec);
        let negative = c.expected.as_ref().map(|e| {
            let mut n = e.copy();
            n.mul(-1.0);
            n.counter_reset_hint = e.counter_reset_hint;
            n
        });
        check_sub(c.name, b, a, negative.as_ref(), m, col, rec);
    }
}

#[test]
fn copy_to_schema() {
    for c in copy_to_schema_cases() {
        let input = some(&c.input);
        let before = input.copy();
        assert_eq!(
            input.copy_to_schema(c.target_schema).ok(),
            c.expected,
            "{}",
            c.name
        );
        assert_eq!(input, &before, "{}", c.name);
    }
}

#[test]
fn string() {
    let cases = string_cases();
    assert_eq!(cases.len(), 2);
    for c in cases {
        let h = some(&c.fh);
        assert_eq!(h.validate(), Ok(()), "{}", c.name);
        assert_eq!(h.to_string(), c.expected, "{}", c.name);
    }
}

#[test]
fn validate_negative_histogram() {
    let cases = validate_negative_cases();
    assert!(!cases.is_empty());
    for c in cases {
        assert!(some(&c.fh).validate().is_err(), "{}", c.name);
    }
}

#[test]
fn reduce_resolution() {
    for c in reduce_resolution_cases() {
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
fn size() {
    // Go's "complete struct" case: 168 + 8 * (2 spans + 4 buckets + 1 span + 1 bucket).
    let h = FloatHistogram {
        schema: 1,
        zero_threshold: 0.01,
        zero_count: 5.5,
        count: 3493.3,
        sum: 2349209.324,
        positive_spans: vec![Span::new(-2, 1), Span::new(2, 3)],
        positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
        negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
        negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
        ..FloatHistogram::default()
    };
    assert_eq!(h.size(), 168 + 8 * (2 + 4 + 2 + 4));
    assert_eq!(FloatHistogram::default().size(), 168);
}

#[test]
fn equals() {
    let h1 = FloatHistogram {
        schema: 3,
        count: 2.2,
        sum: 9.7,
        zero_threshold: 0.1,
        zero_count: 1.1,
        positive_spans: vec![Span::new(0, 1)],
        positive_buckets: vec![3.0],
        negative_spans: vec![Span::new(0, 1)],
        negative_buckets: vec![4.0],
        ..FloatHistogram::default()
    };
    assert!(h1.equals(&h1.clone()));
    let mut h2 = h1.clone();
    h2.positive_spans = vec![Span::new(0, 1), Span::new(5, 0)];
    assert!(
        h1.equals(&h2),
        "a trailing empty span does not change the layout"
    );
    let mut h2 = h1.clone();
    h2.sum = 9.8;
    assert!(!h1.equals(&h2));
    let mut h2 = h1.clone();
    h2.positive_buckets = vec![3.000_000_1];
    assert!(!h1.equals(&h2));
    let mut nan = h1.clone();
    nan.sum = f64::NAN;
    assert!(nan.equals(&nan.clone()), "bit patterns, not float equality");
    let mut stale = h1.clone();
    stale.sum = crate::stale_nan();
    assert!(!nan.equals(&stale));
    let mut h2 = h1.clone();
    h2.counter_reset_hint = CounterResetHint::Gauge;
    assert!(h1.equals(&h2), "the hint is not data");
}

#[test]
fn iterators_and_bounds() {
    let h = FloatHistogram {
        schema: 0,
        zero_threshold: 0.5,
        zero_count: 2.0,
        count: 9.0,
        positive_spans: vec![Span::new(-1, 2), Span::new(1, 1)],
        positive_buckets: vec![1.0, 2.0, 3.0],
        negative_spans: vec![Span::new(0, 1)],
        negative_buckets: vec![1.0],
        ..FloatHistogram::default()
    };
    let all: Vec<String> = h.all_bucket_iterator().map(|b| b.to_string()).collect();
    // The lowest positive bucket (0.25,0.5] lies inside the zero bucket: its lower bound is
    // clipped to the threshold, as Go does.
    assert_eq!(
        all,
        [
            "[-1,-0.5):1",
            "[-0.5,0.5]:2",
            "(0.5,0.5]:1",
            "(0.5,1]:2",
            "(2,4]:3"
        ]
    );
    let rev: Vec<i32> = h.all_reverse_bucket_iterator().map(|b| b.index).collect();
    assert_eq!(rev, [2, 0, -1, 0, 0]);
    let pr: Vec<i32> = h
        .positive_reverse_bucket_iterator()
        .map(|b| b.index)
        .collect();
    assert_eq!(pr, [2, 0, -1]);
    // Merging into schema -1: buckets -1 and 0 of schema 0 become bucket 0, bucket 2 becomes 1.
    let merged: Vec<(i32, f64)> = h
        .float_bucket_iterator(true, 0.0, -1)
        .map(|b| (b.index, b.count))
        .collect();
    assert_eq!(merged, [(0, 3.0), (1, 3.0)]);
    assert_eq!(get_bound_exponential(1023, 0), 2f64.powi(1023));
    assert_eq!(get_bound_exponential(1024, 0), f64::MAX);
    assert_eq!(get_bound_exponential(1025, 0), f64::INFINITY);
    assert_eq!(get_bound_exponential(-1074, 0), f64::from_bits(1));
    assert_eq!(
        get_bound(-1, CUSTOM_BUCKETS_SCHEMA, &[1.0]),
        f64::NEG_INFINITY
    );
    assert_eq!(get_bound(1, CUSTOM_BUCKETS_SCHEMA, &[1.0]), f64::INFINITY);
}

#[test]
fn go_g_matches_go() {
    for (v, want) in [
        (0.0, "0"),
        (-0.0, "-0"),
        (1.0, "1"),
        (100000.0, "100000"),
        (1e6, "1e+06"),
        (2349209.324, "2.349209324e+06"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (1.5e-300, "1.5e-300"),
        (f64::INFINITY, "+Inf"),
        (f64::NEG_INFINITY, "-Inf"),
        (f64::NAN, "NaN"),
        (0.35355339059327373, "0.35355339059327373"),
    ] {
        assert_eq!(go_g(v), want, "{v}");
    }
}

#[test]
fn errors_carry_go_messages_and_kinds() {
    let mut a = FloatHistogram::default();
    let b = FloatHistogram {
        schema: CUSTOM_BUCKETS_SCHEMA,
        ..FloatHistogram::default()
    };
    let e = a.add(&b).unwrap_err();
    assert_eq!(e.kind(), HistogramErrorKind::IncompatibleSchema);
    assert_eq!(
        a,
        FloatHistogram::default(),
        "a failed add leaves the receiver alone"
    );
    let bad = FloatHistogram {
        schema: 9,
        ..FloatHistogram::default()
    };
    assert_eq!(
        bad.validate().unwrap_err().to_string(),
        "histogram has an invalid schema, which must be between -4 and 8 for exponential buckets, or -53 for custom buckets, got schema 9"
    );
    let bad = FloatHistogram {
        count: -1.0,
        ..FloatHistogram::default()
    };
    let e = bad.validate().unwrap_err();
    assert_eq!(
        e.to_string(),
        "observation count is  -1: histogram's observation count is negative"
    );
    assert_eq!(e.kind(), HistogramErrorKind::NegativeCount);
    let bad = FloatHistogram {
        positive_spans: vec![Span::new(0, 2)],
        positive_buckets: vec![1.0, -2.5],
        ..FloatHistogram::default()
    };
    assert_eq!(
        bad.validate().unwrap_err().to_string(),
        "positive side: bucket number 2 has observation count of -2.5: histogram has a bucket whose observation count is negative"
    );
}

#[test]
fn trim_buckets_in_place() {
    // `histogram </ 1`: the (1,2] bucket goes, the (0.5,1] bucket stays whole.
    let mut h = FloatHistogram {
        schema: 0,
        count: 3.0,
        sum: 2.5,
        positive_spans: vec![Span::new(0, 2)],
        positive_buckets: vec![1.0, 2.0],
        ..FloatHistogram::default()
    };
    h.trim_buckets(1.0, true);
    assert_eq!(h.positive_buckets, vec![1.0]);
    assert_eq!(h.count, 1.0);
    assert_eq!(h.sum, 0.5f64.sqrt());
}

#[test]
fn test_expression_notation() {
    let h = FloatHistogram {
        schema: 1,
        count: 5.0,
        sum: 10.0,
        zero_count: 1.0,
        zero_threshold: 0.001,
        positive_spans: vec![Span::new(1, 1), Span::new(1, 1)],
        positive_buckets: vec![1.0, 3.0],
        counter_reset_hint: CounterResetHint::Gauge,
        ..FloatHistogram::default()
    };
    assert_eq!(
        h.test_expression(),
        "{{schema:1 count:5 sum:10 z_bucket:1 z_bucket_w:0.001 counter_reset_hint:gauge offset:1 buckets:[1 0 3]}}"
    );
}

#[test]
fn go_g_decimal_form_matches_rust_shortest() {
    // Inside the decimal range Go's %g digits are Rust's shortest round-trip digits.
    let mut x = 0.000_123_456_789_f64;
    while x < 1e6 {
        for v in [x, -x, x * 1.000_000_7, (x * 1000.0).round() / 1000.0] {
            assert_eq!(go_g(v), format!("{v}"), "{v:e}");
        }
        x *= 1.37;
    }
}

#[test]
fn add_into_an_empty_first_span() {
    // Go adds b's bucket 2 into a's first bucket (index 3) because a's first span is empty
    // and starts at 2; here it lands in bucket 2.
    let mut a = FloatHistogram {
        count: 5.0,
        negative_spans: vec![Span::new(2, 0), Span::new(1, 2)],
        negative_buckets: vec![2.0, 3.0],
        ..FloatHistogram::default()
    };
    let b = FloatHistogram {
        count: 1.0,
        negative_spans: vec![Span::new(2, 1)],
        negative_buckets: vec![1.0],
        ..FloatHistogram::default()
    };
    a.add(&b).unwrap();
    let got: Vec<(i32, f64)> = a
        .negative_bucket_iterator()
        .map(|b| (b.index, b.count))
        .collect();
    assert_eq!(got, [(2, 1.0), (3, 2.0), (4, 3.0)]);
}
