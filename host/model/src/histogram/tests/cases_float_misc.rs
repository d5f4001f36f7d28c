//! Test cases translated mechanically from Prometheus' `model/histogram/float_histogram_test.go` table tests.

#![allow(clippy::all)]

use crate::histogram::*;

/// Cases of Go's `TestFloatHistogramMul`.
pub(super) struct MulCase {
    pub name: &'static str,
    pub input: Option<FloatHistogram>,
    pub scale: f64,
    pub expected: Option<FloatHistogram>,
}

pub(super) fn mul_cases() -> Vec<MulCase> {
    vec![
        MulCase {
            name: "zero value",
            input: Some(FloatHistogram {
                ..FloatHistogram::default()
            }),
            scale: 3.1415,
            expected: Some(FloatHistogram {
                ..FloatHistogram::default()
            }),
        },
        MulCase {
            name: "zero multiplier",
            input: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(-2, 1), Span::new(2, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
            scale: 0.0,
            expected: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 0.0,
                count: 0.0,
                sum: 0.0,
                positive_spans: vec![Span::new(-2, 1), Span::new(2, 3)],
                positive_buckets: vec![0.0, 0.0, 0.0, 0.0],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![0.0, 0.0, 0.0, 0.0],
                ..FloatHistogram::default()
            }),
        },
        MulCase {
            name: "no-op",
            input: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(-2, 1), Span::new(2, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
            scale: 1.0,
            expected: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(-2, 1), Span::new(2, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
        },
        MulCase {
            name: "double",
            input: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(-2, 1), Span::new(2, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
            scale: 2.0,
            expected: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 11.0,
                count: 3493.3 * 2.0,
                sum: 2349209.324 * 2.0,
                positive_spans: vec![Span::new(-2, 1), Span::new(2, 3)],
                positive_buckets: vec![2.0, 6.6, 8.4, 0.2],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![6.2, 6.0, 1.234e5 * 2.0, 2000.0],
                ..FloatHistogram::default()
            }),
        },
        MulCase {
            name: "triple",
            input: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 11.0,
                count: 30.0,
                sum: 23.0,
                positive_spans: vec![Span::new(-2, 2), Span::new(1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.0, 1.0, 5.0, 6.0],
                ..FloatHistogram::default()
            }),
            scale: 3.0,
            expected: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 33.0,
                count: 90.0,
                sum: 69.0,
                positive_spans: vec![Span::new(-2, 2), Span::new(1, 3)],
                positive_buckets: vec![3.0, 0.0, 9.0, 12.0, 21.0],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![9.0, 3.0, 15.0, 18.0],
                ..FloatHistogram::default()
            }),
        },
        MulCase {
            name: "negation",
            input: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 11.0,
                count: 30.0,
                sum: 23.0,
                positive_spans: vec![Span::new(-2, 2), Span::new(1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.0, 1.0, 5.0, 6.0],
                ..FloatHistogram::default()
            }),
            scale: -1.0,
            expected: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: -11.0,
                count: -30.0,
                sum: -23.0,
                positive_spans: vec![Span::new(-2, 2), Span::new(1, 3)],
                positive_buckets: vec![-1.0, 0.0, -3.0, -4.0, -7.0],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![-3.0, -1.0, -5.0, -6.0],
                counter_reset_hint: CounterResetHint::Gauge,
                ..FloatHistogram::default()
            }),
        },
        MulCase {
            name: "negative multiplier",
            input: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 11.0,
                count: 30.0,
                sum: 23.0,
                positive_spans: vec![Span::new(-2, 2), Span::new(1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.0, 1.0, 5.0, 6.0],
                ..FloatHistogram::default()
            }),
            scale: -2.0,
            expected: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: -22.0,
                count: -60.0,
                sum: -46.0,
                positive_spans: vec![Span::new(-2, 2), Span::new(1, 3)],
                positive_buckets: vec![-2.0, 0.0, -6.0, -8.0, -14.0],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![-6.0, -2.0, -10.0, -12.0],
                counter_reset_hint: CounterResetHint::Gauge,
                ..FloatHistogram::default()
            }),
        },
        MulCase {
            name: "no-op with custom buckets",
            input: Some(FloatHistogram {
                schema: CUSTOM_BUCKETS_SCHEMA,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(0, 1), Span::new(2, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
                custom_values: vec![1.0, 2.0, 3.0].into(),
                ..FloatHistogram::default()
            }),
            scale: 1.0,
            expected: Some(FloatHistogram {
                schema: CUSTOM_BUCKETS_SCHEMA,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(0, 1), Span::new(2, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
                custom_values: vec![1.0, 2.0, 3.0].into(),
                ..FloatHistogram::default()
            }),
        },
        MulCase {
            name: "triple with custom buckets",
            input: Some(FloatHistogram {
                schema: CUSTOM_BUCKETS_SCHEMA,
                count: 30.0,
                sum: 23.0,
                positive_spans: vec![Span::new(0, 2), Span::new(1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0],
                custom_values: vec![1.0, 2.0, 3.0, 4.0].into(),
                ..FloatHistogram::default()
            }),
            scale: 3.0,
            expected: Some(FloatHistogram {
                schema: CUSTOM_BUCKETS_SCHEMA,
                count: 90.0,
                sum: 69.0,
                positive_spans: vec![Span::new(0, 2), Span::new(1, 3)],
                positive_buckets: vec![3.0, 0.0, 9.0, 12.0, 21.0],
                custom_values: vec![1.0, 2.0, 3.0, 4.0].into(),
                ..FloatHistogram::default()
            }),
        },
    ]
}

/// Cases of Go's `TestFloatHistogramDiv`.
pub(super) struct DivCase {
    pub name: &'static str,
    pub fh: Option<FloatHistogram>,
    pub s: f64,
    pub expected: Option<FloatHistogram>,
}

pub(super) fn div_cases() -> Vec<DivCase> {
    vec![
        DivCase {
            name: "zero value",
            fh: Some(FloatHistogram {
                ..FloatHistogram::default()
            }),
            s: 3.1415,
            expected: Some(FloatHistogram {
                ..FloatHistogram::default()
            }),
        },
        DivCase {
            name: "zero divisor",
            fh: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(-2, 1), Span::new(2, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
            s: 0.0,
            expected: Some(FloatHistogram {
                zero_threshold: 0.01,
                count: f64::INFINITY,
                sum: f64::INFINITY,
                zero_count: f64::INFINITY,
                ..FloatHistogram::default()
            }),
        },
        DivCase {
            name: "no-op",
            fh: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(-2, 1), Span::new(2, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
            s: 1.0,
            expected: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(-2, 1), Span::new(2, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
        },
        DivCase {
            name: "half",
            fh: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 11.0,
                count: 30.0,
                sum: 23.0,
                positive_spans: vec![Span::new(-2, 2), Span::new(1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.0, 1.0, 5.0, 6.0],
                ..FloatHistogram::default()
            }),
            s: 2.0,
            expected: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 15.0,
                sum: 11.5,
                positive_spans: vec![Span::new(-2, 2), Span::new(1, 3)],
                positive_buckets: vec![0.5, 0.0, 1.5, 2.0, 3.5],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![1.5, 0.5, 2.5, 3.0],
                ..FloatHistogram::default()
            }),
        },
        DivCase {
            name: "negation",
            fh: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(-2, 1), Span::new(2, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
            s: -1.0,
            expected: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: -5.5,
                count: -3493.3,
                sum: -2349209.324,
                positive_spans: vec![Span::new(-2, 1), Span::new(2, 3)],
                positive_buckets: vec![-1.0, -3.3, -4.2, -0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![-3.1, -3.0, -1.234e5, -1000.0],
                counter_reset_hint: CounterResetHint::Gauge,
                ..FloatHistogram::default()
            }),
        },
        DivCase {
            name: "negative half",
            fh: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 11.0,
                count: 30.0,
                sum: 23.0,
                positive_spans: vec![Span::new(-2, 2), Span::new(1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.0, 1.0, 5.0, 6.0],
                ..FloatHistogram::default()
            }),
            s: -2.0,
            expected: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: -5.5,
                count: -15.0,
                sum: -11.5,
                positive_spans: vec![Span::new(-2, 2), Span::new(1, 3)],
                positive_buckets: vec![-0.5, 0.0, -1.5, -2.0, -3.5],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![-1.5, -0.5, -2.5, -3.0],
                counter_reset_hint: CounterResetHint::Gauge,
                ..FloatHistogram::default()
            }),
        },
        DivCase {
            name: "no-op with custom buckets",
            fh: Some(FloatHistogram {
                schema: CUSTOM_BUCKETS_SCHEMA,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(0, 1), Span::new(2, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
                custom_values: vec![1.0, 2.0, 3.0].into(),
                ..FloatHistogram::default()
            }),
            s: 1.0,
            expected: Some(FloatHistogram {
                schema: CUSTOM_BUCKETS_SCHEMA,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(0, 1), Span::new(2, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
                custom_values: vec![1.0, 2.0, 3.0].into(),
                ..FloatHistogram::default()
            }),
        },
        DivCase {
            name: "half with custom buckets",
            fh: Some(FloatHistogram {
                schema: CUSTOM_BUCKETS_SCHEMA,
                count: 30.0,
                sum: 23.0,
                positive_spans: vec![Span::new(0, 2), Span::new(1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0],
                custom_values: vec![1.0, 2.0, 3.0, 4.0].into(),
                ..FloatHistogram::default()
            }),
            s: 2.0,
            expected: Some(FloatHistogram {
                schema: CUSTOM_BUCKETS_SCHEMA,
                count: 15.0,
                sum: 11.5,
                positive_spans: vec![Span::new(0, 2), Span::new(1, 3)],
                positive_buckets: vec![0.5, 0.0, 1.5, 2.0, 3.5],
                custom_values: vec![1.0, 2.0, 3.0, 4.0].into(),
                ..FloatHistogram::default()
            }),
        },
    ]
}

/// Cases of Go's `TestFloatHistogramDetectReset`.
pub(super) struct DetectResetCase {
    pub name: &'static str,
    pub previous: Option<FloatHistogram>,
    pub current: Option<FloatHistogram>,
    pub reset_expected: bool,
}

pub(super) fn detect_reset_cases() -> Vec<DetectResetCase> {
    vec![
        DetectResetCase {
            name: "zero values",
            previous: Some(FloatHistogram {
                ..FloatHistogram::default()
            }),
            current: Some(FloatHistogram {
                ..FloatHistogram::default()
            }),
            reset_expected: false,
        },
        DetectResetCase {
            name: "no buckets to some buckets",
            previous: Some(FloatHistogram {
                ..FloatHistogram::default()
            }),
            current: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(-2, 1), Span::new(2, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
            reset_expected: false,
        },
        DetectResetCase {
            name: "some buckets to no buckets",
            previous: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(-2, 1), Span::new(2, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
            current: Some(FloatHistogram {
                ..FloatHistogram::default()
            }),
            reset_expected: true,
        },
        DetectResetCase {
            name: "one bucket appears, nothing else changes",
            previous: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(-2, 1), Span::new(2, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
            current: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(-2, 2), Span::new(1, 3)],
                positive_buckets: vec![1.0, 1.23, 3.3, 4.2, 0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
            reset_expected: false,
        },
        DetectResetCase {
            name: "one bucket disappears, nothing else changes",
            previous: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(-2, 2), Span::new(1, 3)],
                positive_buckets: vec![1.0, 1.23, 3.3, 4.2, 0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
            current: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(-2, 1), Span::new(2, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
            reset_expected: true,
        },
        DetectResetCase {
            name: "an unpopulated bucket disappears, nothing else changes",
            previous: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(-2, 2), Span::new(1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.3, 4.2, 0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
            current: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(-2, 1), Span::new(2, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
            reset_expected: false,
        },
        DetectResetCase {
            name: "an unpopulated bucket at the end disappears, nothing else changes",
            previous: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(-2, 1), Span::new(1, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.0],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
            current: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(-2, 1), Span::new(1, 2)],
                positive_buckets: vec![1.0, 3.3, 4.2],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
            reset_expected: false,
        },
        DetectResetCase {
            name: "an unpopulated bucket disappears in a histogram with nothing else",
            previous: Some(FloatHistogram {
                positive_spans: vec![Span::new(23, 1)],
                positive_buckets: vec![0.0],
                ..FloatHistogram::default()
            }),
            current: Some(FloatHistogram {
                ..FloatHistogram::default()
            }),
            reset_expected: false,
        },
        DetectResetCase {
            name: "zero count goes up",
            previous: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(-2, 2), Span::new(1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.3, 4.2, 0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
            current: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.6,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(-2, 2), Span::new(1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.3, 4.2, 0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
            reset_expected: false,
        },
        DetectResetCase {
            name: "zero count goes down",
            previous: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(-2, 2), Span::new(1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.3, 4.2, 0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
            current: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.4,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(-2, 2), Span::new(1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.3, 4.2, 0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
            reset_expected: true,
        },
        DetectResetCase {
            name: "count goes up",
            previous: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(-2, 2), Span::new(1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.3, 4.2, 0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
            current: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.4,
                sum: 2349209.324,
                positive_spans: vec![Span::new(-2, 2), Span::new(1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.3, 4.2, 0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
            reset_expected: false,
        },
        DetectResetCase {
            name: "count goes down",
            previous: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(-2, 2), Span::new(1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.3, 4.2, 0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
            current: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.2,
                sum: 2349209.324,
                positive_spans: vec![Span::new(-2, 2), Span::new(1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.3, 4.2, 0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
            reset_expected: true,
        },
        DetectResetCase {
            name: "sum goes up",
            previous: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(-2, 2), Span::new(1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.3, 4.2, 0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
            current: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349210.0,
                positive_spans: vec![Span::new(-2, 2), Span::new(1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.3, 4.2, 0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
            reset_expected: false,
        },
        DetectResetCase {
            name: "sum goes down",
            previous: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(-2, 2), Span::new(1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.3, 4.2, 0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
            current: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349200.0,
                positive_spans: vec![Span::new(-2, 2), Span::new(1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.3, 4.2, 0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
            reset_expected: false,
        },
        DetectResetCase {
            name: "one positive bucket goes up",
            previous: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(-2, 2), Span::new(1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.3, 4.2, 0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
            current: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(-2, 2), Span::new(1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.3, 4.3, 0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
            reset_expected: false,
        },
        DetectResetCase {
            name: "one positive bucket goes down",
            previous: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(-2, 2), Span::new(1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.3, 4.2, 0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
            current: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(-2, 2), Span::new(1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.3, 4.1, 0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
            reset_expected: true,
        },
        DetectResetCase {
            name: "one negative bucket goes up",
            previous: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(-2, 2), Span::new(1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.3, 4.2, 0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
            current: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(-2, 2), Span::new(1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.3, 4.2, 0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 3.1, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
            reset_expected: false,
        },
        DetectResetCase {
            name: "one negative bucket goes down",
            previous: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(-2, 2), Span::new(1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.3, 4.2, 0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
            current: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(-2, 2), Span::new(1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.3, 4.2, 0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 2.9, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
            reset_expected: true,
        },
        DetectResetCase {
            name: "zero threshold decreases",
            previous: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(-2, 2), Span::new(1, 3)],
                positive_buckets: vec![1.0, 1.23, 3.3, 4.2, 0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
            current: Some(FloatHistogram {
                zero_threshold: 0.009,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(-2, 2), Span::new(1, 3)],
                positive_buckets: vec![1.0, 1.23, 3.3, 4.2, 0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
            reset_expected: true,
        },
        DetectResetCase {
            name: "zero threshold increases without touching any existing buckets",
            previous: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(-2, 2), Span::new(1, 3)],
                positive_buckets: vec![1.0, 1.23, 3.3, 4.2, 0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
            current: Some(FloatHistogram {
                zero_threshold: 0.011,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(-2, 2), Span::new(1, 3)],
                positive_buckets: vec![1.0, 1.23, 3.3, 4.2, 0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
            reset_expected: false,
        },
        DetectResetCase {
            name: "zero threshold increases enough to cover existing buckets",
            previous: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(-2, 2), Span::new(1, 3)],
                positive_buckets: vec![1.0, 1.23, 3.3, 4.2, 0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
            current: Some(FloatHistogram {
                zero_threshold: 1.0,
                zero_count: 7.73,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(1, 3)],
                positive_buckets: vec![3.3, 4.2, 0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
            reset_expected: false,
        },
        DetectResetCase {
            name: "zero threshold increases into the middle of an existing buckets",
            previous: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(-2, 2), Span::new(1, 3)],
                positive_buckets: vec![1.0, 1.23, 3.3, 4.2, 0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
            current: Some(FloatHistogram {
                zero_threshold: 0.3,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(-2, 2), Span::new(1, 3)],
                positive_buckets: vec![1.0, 1.23, 3.3, 4.2, 0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
            reset_expected: true,
        },
        DetectResetCase {
            name: "schema increases without any other changes",
            previous: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                schema: 0,
                positive_spans: vec![Span::new(-2, 2), Span::new(1, 3)],
                positive_buckets: vec![1.0, 1.23, 3.3, 4.2, 0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
            current: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                schema: 1,
                positive_spans: vec![Span::new(-5, 4), Span::new(2, 6)],
                positive_buckets: vec![0.4, 0.6, 1.0, 0.23, 2.0, 1.3, 1.2, 3.0, 0.05, 0.05],
                negative_spans: vec![Span::new(5, 4), Span::new(6, 4)],
                negative_buckets: vec![2.0, 1.1, 2.0, 1.0, 0.234e5, 1e5, 500.0, 500.0],
                ..FloatHistogram::default()
            }),
            reset_expected: true,
        },
        DetectResetCase {
            name: "schema decreases without any other changes",
            previous: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                schema: 1,
                positive_spans: vec![Span::new(-5, 4), Span::new(2, 6)],
                positive_buckets: vec![0.4, 0.6, 1.0, 0.23, 2.0, 1.3, 1.2, 3.0, 0.05, 0.05],
                negative_spans: vec![Span::new(5, 4), Span::new(6, 4)],
                negative_buckets: vec![2.0, 1.1, 2.0, 1.0, 0.234e5, 1e5, 500.0, 500.0],
                ..FloatHistogram::default()
            }),
            current: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                schema: 0,
                positive_spans: vec![Span::new(-2, 2), Span::new(1, 3)],
                positive_buckets: vec![1.0, 1.23, 3.3, 4.2, 0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
            reset_expected: false,
        },
        DetectResetCase {
            name: "schema decreases and a bucket goes up",
            previous: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                schema: 1,
                positive_spans: vec![Span::new(-5, 4), Span::new(2, 6)],
                positive_buckets: vec![0.4, 0.6, 1.0, 0.23, 2.0, 1.3, 1.2, 3.0, 0.05, 0.05],
                negative_spans: vec![Span::new(5, 4), Span::new(6, 4)],
                negative_buckets: vec![2.0, 1.1, 2.0, 1.0, 0.234e5, 1e5, 500.0, 500.0],
                ..FloatHistogram::default()
            }),
            current: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                schema: 0,
                positive_spans: vec![Span::new(-2, 2), Span::new(1, 3)],
                positive_buckets: vec![1.0, 1.23, 4.3, 4.2, 0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
            reset_expected: false,
        },
        DetectResetCase {
            name: "schema decreases and a bucket goes down",
            previous: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                schema: 1,
                positive_spans: vec![Span::new(-5, 4), Span::new(2, 6)],
                positive_buckets: vec![0.4, 0.6, 1.0, 0.23, 2.0, 1.3, 1.2, 3.0, 0.05, 0.05],
                negative_spans: vec![Span::new(5, 4), Span::new(6, 4)],
                negative_buckets: vec![2.0, 1.1, 2.0, 1.0, 0.234e5, 1e5, 500.0, 500.0],
                ..FloatHistogram::default()
            }),
            current: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                schema: 0,
                positive_spans: vec![Span::new(-2, 2), Span::new(1, 3)],
                positive_buckets: vec![1.0, 1.23, 2.3, 4.2, 0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
            reset_expected: true,
        },
        DetectResetCase {
            name: "no buckets to some buckets with custom bounds",
            previous: Some(FloatHistogram {
                schema: CUSTOM_BUCKETS_SCHEMA,
                custom_values: vec![1.0, 2.0, 3.0].into(),
                ..FloatHistogram::default()
            }),
            current: Some(FloatHistogram {
                schema: CUSTOM_BUCKETS_SCHEMA,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(0, 1), Span::new(2, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
                custom_values: vec![1.0, 2.0, 3.0].into(),
                ..FloatHistogram::default()
            }),
            reset_expected: false,
        },
        DetectResetCase {
            name: "some buckets to no buckets with custom bounds",
            previous: Some(FloatHistogram {
                schema: CUSTOM_BUCKETS_SCHEMA,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(0, 1), Span::new(2, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
                custom_values: vec![1.0, 2.0, 3.0].into(),
                ..FloatHistogram::default()
            }),
            current: Some(FloatHistogram {
                schema: CUSTOM_BUCKETS_SCHEMA,
                custom_values: vec![1.0, 2.0, 3.0].into(),
                ..FloatHistogram::default()
            }),
            reset_expected: true,
        },
        DetectResetCase {
            name: "one bucket appears, nothing else changes with custom bounds",
            previous: Some(FloatHistogram {
                schema: CUSTOM_BUCKETS_SCHEMA,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(0, 1), Span::new(2, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
                custom_values: vec![1.0, 2.0, 3.0, 4.0].into(),
                ..FloatHistogram::default()
            }),
            current: Some(FloatHistogram {
                schema: CUSTOM_BUCKETS_SCHEMA,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(0, 2), Span::new(1, 3)],
                positive_buckets: vec![1.0, 1.23, 3.3, 4.2, 0.1],
                custom_values: vec![1.0, 2.0, 3.0, 4.0].into(),
                ..FloatHistogram::default()
            }),
            reset_expected: false,
        },
        DetectResetCase {
            name: "one bucket disappears, nothing else changes with custom bounds",
            previous: Some(FloatHistogram {
                schema: CUSTOM_BUCKETS_SCHEMA,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(0, 2), Span::new(1, 3)],
                positive_buckets: vec![1.0, 1.23, 3.3, 4.2, 0.1],
                custom_values: vec![1.0, 2.0, 3.0, 4.0].into(),
                ..FloatHistogram::default()
            }),
            current: Some(FloatHistogram {
                schema: CUSTOM_BUCKETS_SCHEMA,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(0, 1), Span::new(2, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
                custom_values: vec![1.0, 2.0, 3.0, 4.0].into(),
                ..FloatHistogram::default()
            }),
            reset_expected: true,
        },
        DetectResetCase {
            name: "an unpopulated bucket disappears, nothing else changes with custom bounds",
            previous: Some(FloatHistogram {
                schema: CUSTOM_BUCKETS_SCHEMA,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(0, 2), Span::new(1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.3, 4.2, 0.1],
                custom_values: vec![1.0, 2.0, 3.0, 4.0].into(),
                ..FloatHistogram::default()
            }),
            current: Some(FloatHistogram {
                schema: CUSTOM_BUCKETS_SCHEMA,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(0, 1), Span::new(2, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
                custom_values: vec![1.0, 2.0, 3.0, 4.0].into(),
                ..FloatHistogram::default()
            }),
            reset_expected: false,
        },
        DetectResetCase {
            name: "one positive bucket goes up with custom bounds",
            previous: Some(FloatHistogram {
                schema: CUSTOM_BUCKETS_SCHEMA,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(0, 2), Span::new(1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.3, 4.2, 0.1],
                custom_values: vec![1.0, 2.0, 3.0, 4.0].into(),
                ..FloatHistogram::default()
            }),
            current: Some(FloatHistogram {
                schema: CUSTOM_BUCKETS_SCHEMA,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(0, 2), Span::new(1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.3, 4.3, 0.1],
                custom_values: vec![1.0, 2.0, 3.0, 4.0].into(),
                ..FloatHistogram::default()
            }),
            reset_expected: false,
        },
        DetectResetCase {
            name: "one positive bucket goes down with custom bounds",
            previous: Some(FloatHistogram {
                schema: CUSTOM_BUCKETS_SCHEMA,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(0, 2), Span::new(1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.3, 4.2, 0.1],
                custom_values: vec![1.0, 2.0, 3.0, 4.0].into(),
                ..FloatHistogram::default()
            }),
            current: Some(FloatHistogram {
                schema: CUSTOM_BUCKETS_SCHEMA,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(0, 2), Span::new(1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.3, 4.1, 0.1],
                custom_values: vec![1.0, 2.0, 3.0, 4.0].into(),
                ..FloatHistogram::default()
            }),
            reset_expected: true,
        },
        DetectResetCase {
            name: "mismatched custom bounds - no reset when all buckets increase",
            previous: Some(FloatHistogram {
                schema: CUSTOM_BUCKETS_SCHEMA,
                count: 200.0,
                sum: 1000.0,
                positive_spans: vec![Span::new(0, 4)],
                positive_buckets: vec![20.0, 35.0, 40.0, 50.0],
                custom_values: vec![0.0, 1.0, 2.0, 3.0].into(),
                ..FloatHistogram::default()
            }),
            current: Some(FloatHistogram {
                schema: CUSTOM_BUCKETS_SCHEMA,
                count: 200.0,
                sum: 1000.0,
                positive_spans: vec![Span::new(0, 5)],
                positive_buckets: vec![25.0, 15.0, 40.0, 50.0, 70.0],
                custom_values: vec![0.0, 0.5, 1.0, 2.0, 3.0].into(),
                ..FloatHistogram::default()
            }),
            reset_expected: false,
        },
        DetectResetCase {
            name: "mismatched custom bounds - reset in middle bucket",
            previous: Some(FloatHistogram {
                schema: CUSTOM_BUCKETS_SCHEMA,
                count: 100.0,
                sum: 500.0,
                positive_spans: vec![Span::new(1, 4)],
                positive_buckets: vec![10.0, 15.0, 20.0, 25.0],
                custom_values: vec![0.0, 1.0, 3.0, 5.0].into(),
                ..FloatHistogram::default()
            }),
            current: Some(FloatHistogram {
                schema: CUSTOM_BUCKETS_SCHEMA,
                count: 100.0,
                sum: 500.0,
                positive_spans: vec![Span::new(1, 5)],
                positive_buckets: vec![10.0, 16.0, 10.0, 5.0, 25.0],
                custom_values: vec![0.0, 1.0, 2.0, 3.0, 5.0].into(),
                ..FloatHistogram::default()
            }),
            reset_expected: true,
        },
        DetectResetCase {
            name: "mismatched custom bounds - reset in last bucket",
            previous: Some(FloatHistogram {
                schema: CUSTOM_BUCKETS_SCHEMA,
                count: 100.0,
                sum: 500.0,
                positive_spans: vec![Span::new(1, 3)],
                positive_buckets: vec![10.0, 20.0, 20.0],
                custom_values: vec![0.0, 1.0, 2.0].into(),
                ..FloatHistogram::default()
            }),
            current: Some(FloatHistogram {
                schema: CUSTOM_BUCKETS_SCHEMA,
                count: 100.0,
                sum: 500.0,
                positive_spans: vec![Span::new(1, 4)],
                positive_buckets: vec![100.0, 200.0, 8.0, 7.0],
                custom_values: vec![0.0, 1.0, 2.0, 3.0].into(),
                ..FloatHistogram::default()
            }),
            reset_expected: true,
        },
        DetectResetCase {
            name: "mismatched custom bounds - no common bounds",
            previous: Some(FloatHistogram {
                schema: CUSTOM_BUCKETS_SCHEMA,
                count: 100.0,
                sum: 500.0,
                positive_spans: vec![Span::new(1, 3)],
                positive_buckets: vec![10.0, 20.0, 30.0],
                custom_values: vec![4.0, 5.0, 6.0].into(),
                ..FloatHistogram::default()
            }),
            current: Some(FloatHistogram {
                schema: CUSTOM_BUCKETS_SCHEMA,
                count: 100.0,
                sum: 500.0,
                positive_spans: vec![Span::new(1, 3)],
                positive_buckets: vec![15.0, 25.0, 35.0],
                custom_values: vec![1.0, 2.0, 3.0].into(),
                ..FloatHistogram::default()
            }),
            reset_expected: false,
        },
        DetectResetCase {
            name: "mismatched custom bounds - sparse common bounds",
            previous: Some(FloatHistogram {
                schema: CUSTOM_BUCKETS_SCHEMA,
                count: 200.0,
                sum: 1000.0,
                positive_spans: vec![Span::new(0, 4)],
                positive_buckets: vec![10.0, 20.0, 30.0, 40.0],
                custom_values: vec![0.0, 1.0, 3.0, 5.0].into(),
                ..FloatHistogram::default()
            }),
            current: Some(FloatHistogram {
                schema: CUSTOM_BUCKETS_SCHEMA,
                count: 200.0,
                sum: 1000.0,
                positive_spans: vec![Span::new(0, 5)],
                positive_buckets: vec![15.0, 25.0, 70.0, 50.0, 100.0],
                custom_values: vec![0.0, 2.0, 3.0, 4.0, 5.0].into(),
                ..FloatHistogram::default()
            }),
            reset_expected: false,
        },
        DetectResetCase {
            name: "reset detected with mismatched custom bounds and split bucket spans",
            previous: Some(FloatHistogram {
                schema: CUSTOM_BUCKETS_SCHEMA,
                count: 200.0,
                sum: 1000.0,
                positive_spans: vec![Span::new(0, 2), Span::new(1, 3)],
                positive_buckets: vec![10.0, 20.0, 30.0, 40.0, 50.0],
                custom_values: vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0].into(),
                ..FloatHistogram::default()
            }),
            current: Some(FloatHistogram {
                schema: CUSTOM_BUCKETS_SCHEMA,
                count: 200.0,
                sum: 1000.0,
                positive_spans: vec![Span::new(0, 3), Span::new(1, 2)],
                positive_buckets: vec![15.0, 25.0, 35.0, 25.0, 60.0],
                custom_values: vec![0.0, 1.0, 3.0, 4.0, 5.0, 7.0].into(),
                ..FloatHistogram::default()
            }),
            reset_expected: true,
        },
        DetectResetCase {
            name: "no reset with mismatched custom bounds and split bucket spans",
            previous: Some(FloatHistogram {
                schema: CUSTOM_BUCKETS_SCHEMA,
                count: 300.0,
                sum: 1500.0,
                positive_spans: vec![Span::new(0, 2), Span::new(2, 3)],
                positive_buckets: vec![10.0, 20.0, 30.0, 40.0, 50.0],
                custom_values: vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0].into(),
                ..FloatHistogram::default()
            }),
            current: Some(FloatHistogram {
                schema: CUSTOM_BUCKETS_SCHEMA,
                count: 300.0,
                sum: 1500.0,
                positive_spans: vec![Span::new(0, 3), Span::new(1, 2)],
                positive_buckets: vec![12.0, 25.0, 45.0, 75.0, 95.0],
                custom_values: vec![0.0, 0.5, 1.0, 3.0, 5.0, 7.0].into(),
                ..FloatHistogram::default()
            }),
            reset_expected: false,
        },
        DetectResetCase {
            name: "reset when a populated bucket following an empty one disappears",
            previous: Some(FloatHistogram {
                zero_threshold: 0.001,
                count: 10.0,
                positive_spans: vec![Span::new(0, 1)],
                positive_buckets: vec![5.0],
                negative_spans: vec![Span::new(1, 2)],
                negative_buckets: vec![0.0, 5.0],
                ..FloatHistogram::default()
            }),
            current: Some(FloatHistogram {
                zero_threshold: 0.001,
                count: 20.0,
                positive_spans: vec![Span::new(0, 1)],
                positive_buckets: vec![20.0],
                ..FloatHistogram::default()
            }),
            reset_expected: true,
        },
        DetectResetCase {
            name: "reset when current ends before a later populated previous bucket",
            previous: Some(FloatHistogram {
                zero_threshold: 0.001,
                count: 7.0,
                positive_spans: vec![Span::new(0, 3)],
                positive_buckets: vec![2.0, 0.0, 5.0],
                ..FloatHistogram::default()
            }),
            current: Some(FloatHistogram {
                zero_threshold: 0.001,
                count: 100.0,
                positive_spans: vec![Span::new(0, 1)],
                positive_buckets: vec![100.0],
                ..FloatHistogram::default()
            }),
            reset_expected: true,
        },
    ]
}

/// Cases of Go's `TestFloatHistogramCopyToSchema`.
pub(super) struct CopyToSchemaCase {
    pub name: &'static str,
    pub target_schema: i32,
    pub input: Option<FloatHistogram>,
    pub expected: Option<FloatHistogram>,
}

pub(super) fn copy_to_schema_cases() -> Vec<CopyToSchemaCase> {
    vec![
        CopyToSchemaCase {
            name: "no schema change",
            target_schema: 1,
            input: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 11.0,
                count: 30.0,
                sum: 2.345,
                schema: 1,
                positive_spans: vec![Span::new(-4, 3), Span::new(5, 5)],
                positive_buckets: vec![1.0, 0.0, 0.0, 3.0, 2.0, 2.0, 3.0, 4.0],
                negative_spans: vec![Span::new(6, 3), Span::new(6, 4)],
                negative_buckets: vec![3.0, 0.5, 0.5, 2.0, 3.0, 2.0, 4.0],
                ..FloatHistogram::default()
            }),
            expected: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 11.0,
                count: 30.0,
                sum: 2.345,
                schema: 1,
                positive_spans: vec![Span::new(-4, 3), Span::new(5, 5)],
                positive_buckets: vec![1.0, 0.0, 0.0, 3.0, 2.0, 2.0, 3.0, 4.0],
                negative_spans: vec![Span::new(6, 3), Span::new(6, 4)],
                negative_buckets: vec![3.0, 0.5, 0.5, 2.0, 3.0, 2.0, 4.0],
                ..FloatHistogram::default()
            }),
        },
        CopyToSchemaCase {
            name: "schema change",
            target_schema: 0,
            input: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 11.0,
                count: 30.0,
                sum: 2.345,
                schema: 1,
                positive_spans: vec![Span::new(-4, 3), Span::new(5, 5)],
                positive_buckets: vec![1.0, 0.0, 0.0, 3.0, 2.0, 2.0, 3.0, 4.0],
                negative_spans: vec![Span::new(6, 3), Span::new(6, 4)],
                negative_buckets: vec![3.0, 0.5, 0.5, 2.0, 3.0, 2.0, 4.0],
                ..FloatHistogram::default()
            }),
            expected: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 11.0,
                count: 30.0,
                sum: 2.345,
                schema: 0,
                positive_spans: vec![Span::new(-2, 2), Span::new(2, 3)],
                positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.0, 1.0, 5.0, 6.0],
                ..FloatHistogram::default()
            }),
        },
        CopyToSchemaCase {
            name: "no schema change for custom buckets",
            target_schema: CUSTOM_BUCKETS_SCHEMA,
            input: Some(FloatHistogram {
                count: 30.0,
                sum: 2.345,
                schema: CUSTOM_BUCKETS_SCHEMA,
                positive_spans: vec![Span::new(0, 3), Span::new(5, 5)],
                positive_buckets: vec![1.0, 0.0, 0.0, 3.0, 2.0, 2.0, 3.0, 4.0],
                custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0].into(),
                ..FloatHistogram::default()
            }),
            expected: Some(FloatHistogram {
                count: 30.0,
                sum: 2.345,
                schema: CUSTOM_BUCKETS_SCHEMA,
                positive_spans: vec![Span::new(0, 3), Span::new(5, 5)],
                positive_buckets: vec![1.0, 0.0, 0.0, 3.0, 2.0, 2.0, 3.0, 4.0],
                custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0].into(),
                ..FloatHistogram::default()
            }),
        },
    ]
}

/// Cases of Go's `TestFloatHistogramString`.
pub(super) struct StringCase {
    pub name: &'static str,
    pub fh: Option<FloatHistogram>,
    pub expected: &'static str,
}

pub(super) fn string_cases() -> Vec<StringCase> {
    vec![
        StringCase { name: "exponential histogram", fh: Some(FloatHistogram { schema: 1, zero_threshold: 0.01, zero_count: 5.5, count: 3493.3, sum: 2349209.324, positive_spans: vec![Span::new(-2, 1), Span::new(2, 3)], positive_buckets: vec![1.0, 3.3, 4.2, 0.1], negative_spans: vec![Span::new(3, 2), Span::new(3, 2)], negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0], ..FloatHistogram::default() }), expected: "{count:3493.3, sum:2.349209324e+06, [-22.62741699796952,-16):1000, [-16,-11.31370849898476):123400, [-4,-2.82842712474619):3, [-2.82842712474619,-2):3.1, [-0.01,0.01]:5.5, (0.35355339059327373,0.5]:1, (1,1.414213562373095]:3.3, (1.414213562373095,2]:4.2, (2,2.82842712474619]:0.1}" },
        StringCase { name: "custom buckets histogram", fh: Some(FloatHistogram { schema: CUSTOM_BUCKETS_SCHEMA, count: 3493.3, sum: 2349209.324, positive_spans: vec![Span::new(0, 1), Span::new(2, 4)], positive_buckets: vec![1.0, 3.3, 4.2, 0.1, 5.0], custom_values: vec![1.0, 2.0, 5.0, 10.0, 15.0, 20.0].into(), ..FloatHistogram::default() }), expected: "{count:3493.3, sum:2.349209324e+06, [-Inf,1]:1, (5,10]:3.3, (10,15]:4.2, (15,20]:0.1, (20,+Inf]:5}" },
    ]
}

/// Cases of Go's `TestFloatHistogramValidateNegativeHistogram`.
pub(super) struct ValidateNegativeCase {
    pub name: &'static str,
    pub fh: Option<FloatHistogram>,
}

pub(super) fn validate_negative_cases() -> Vec<ValidateNegativeCase> {
    vec![
        ValidateNegativeCase {
            name: "positive bucket with negative population",
            fh: Some(FloatHistogram {
                schema: 1,
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(-2, 1), Span::new(2, 3)],
                positive_buckets: vec![1.0, 3.3, -4.2, 0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
        },
        ValidateNegativeCase {
            name: "negative bucket with negative population",
            fh: Some(FloatHistogram {
                schema: 1,
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(-2, 1), Span::new(2, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, -3.0, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
        },
        ValidateNegativeCase {
            name: "negative count",
            fh: Some(FloatHistogram {
                schema: 1,
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: -3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(-2, 1), Span::new(2, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
        },
        ValidateNegativeCase {
            name: "zero bucket with negative population",
            fh: Some(FloatHistogram {
                schema: 1,
                zero_threshold: 0.01,
                zero_count: -5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![Span::new(-2, 1), Span::new(2, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..FloatHistogram::default()
            }),
        },
    ]
}

/// Cases of Go's `TestFloatHistogramReduceResolution`.
pub(super) struct ReduceResolutionCase {
    pub name: &'static str,
    pub origin: Option<FloatHistogram>,
    pub target_schema: i32,
    pub target: Option<FloatHistogram>,
    pub error_msg: &'static str,
}

pub(super) fn reduce_resolution_cases() -> Vec<ReduceResolutionCase> {
    vec![
        ReduceResolutionCase { name: "valid float histogram", origin: Some(FloatHistogram { schema: 0, positive_spans: vec![Span::new(-2, 4), Span::new(0, 0), Span::new(3, 2)], positive_buckets: vec![1.0, 3.0, 1.0, 2.0, 1.0, 1.0], negative_spans: vec![Span::new(0, 4), Span::new(0, 0), Span::new(3, 2)], negative_buckets: vec![1.0, 3.0, 1.0, 2.0, 1.0, 1.0], ..FloatHistogram::default() }), target_schema: -1, target: Some(FloatHistogram { schema: -1, positive_spans: vec![Span::new(-1, 3), Span::new(1, 1)], positive_buckets: vec![1.0, 4.0, 2.0, 2.0], negative_spans: vec![Span::new(0, 3), Span::new(1, 1)], negative_buckets: vec![1.0, 4.0, 2.0, 2.0], ..FloatHistogram::default() }), error_msg: "" },
        ReduceResolutionCase { name: "not enough buckets", origin: Some(FloatHistogram { schema: 0, positive_spans: vec![Span::new(-2, 4), Span::new(0, 0), Span::new(3, 2)], positive_buckets: vec![1.0, 3.0, 1.0, 2.0, 1.0], ..FloatHistogram::default() }), target_schema: -1, target: None, error_msg: "have 5 buckets but spans need more: histogram spans specify different number of buckets than provided" },
        ReduceResolutionCase { name: "too many buckets", origin: Some(FloatHistogram { schema: 0, positive_spans: vec![Span::new(-2, 4), Span::new(0, 0), Span::new(3, 2)], positive_buckets: vec![1.0, 3.0, 1.0, 2.0, 1.0, 1.0, 5.0], ..FloatHistogram::default() }), target_schema: -1, target: None, error_msg: "spans need 6 buckets, have 7 buckets: histogram spans specify different number of buckets than provided" },
        ReduceResolutionCase { name: "negative offset", origin: Some(FloatHistogram { schema: 0, positive_spans: vec![Span::new(-2, 4), Span::new(-1, 0), Span::new(3, 2)], positive_buckets: vec![1.0, 3.0, 1.0, 2.0, 1.0, 1.0], ..FloatHistogram::default() }), target_schema: -1, target: None, error_msg: "span number 2 with offset -1: histogram has a span whose offset is negative" },
    ]
}
