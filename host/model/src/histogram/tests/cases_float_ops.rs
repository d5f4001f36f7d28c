//! Test cases translated mechanically from Prometheus' `model/histogram/float_histogram_test.go` table tests.

#![allow(clippy::all)]

use crate::histogram::*;

/// Cases of Go's `TestFloatHistogramAdd`.
pub(super) struct AddCase {
    pub name: &'static str,
    pub in1: Option<FloatHistogram>,
    pub in2: Option<FloatHistogram>,
    pub expected: Option<FloatHistogram>,
    pub exp_err_msg: &'static str,
    pub exp_counter_reset_collision: bool,
    pub exp_nhcb_bounds_reconciled: bool,
}

pub(super) fn add_cases() -> Vec<AddCase> {
    vec![
        AddCase { name: "same bucket layout", in1: Some(FloatHistogram { zero_threshold: 0.01, zero_count: 11.0, count: 30.0, sum: 2.345, positive_spans: vec![Span::new(-2, 2), Span::new(1, 3)], positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0], negative_spans: vec![Span::new(3, 2), Span::new(3, 2)], negative_buckets: vec![3.0, 1.0, 5.0, 6.0], ..FloatHistogram::default() }), in2: Some(FloatHistogram { zero_threshold: 0.01, zero_count: 8.0, count: 21.0, sum: 1.234, positive_spans: vec![Span::new(-2, 2), Span::new(1, 3)], positive_buckets: vec![0.0, 0.0, 2.0, 3.0, 6.0], negative_spans: vec![Span::new(3, 2), Span::new(3, 2)], negative_buckets: vec![1.0, 1.0, 4.0, 4.0], ..FloatHistogram::default() }), expected: Some(FloatHistogram { zero_threshold: 0.01, zero_count: 19.0, count: 51.0, sum: 3.579, positive_spans: vec![Span::new(-2, 2), Span::new(1, 3)], positive_buckets: vec![1.0, 0.0, 5.0, 7.0, 13.0], negative_spans: vec![Span::new(3, 2), Span::new(3, 2)], negative_buckets: vec![4.0, 2.0, 9.0, 10.0], ..FloatHistogram::default() }), exp_err_msg: "", exp_counter_reset_collision: false, exp_nhcb_bounds_reconciled: false },
        AddCase { name: "same bucket layout, defined differently", in1: Some(FloatHistogram { zero_threshold: 0.01, zero_count: 11.0, count: 30.0, sum: 2.345, positive_spans: vec![Span::new(-2, 2), Span::new(1, 1), Span::new(0, 2)], positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0], negative_spans: vec![Span::new(3, 2), Span::new(3, 2)], negative_buckets: vec![3.0, 1.0, 5.0, 6.0], ..FloatHistogram::default() }), in2: Some(FloatHistogram { zero_threshold: 0.01, zero_count: 8.0, count: 21.0, sum: 1.234, positive_spans: vec![Span::new(-2, 2), Span::new(1, 2), Span::new(0, 1)], positive_buckets: vec![0.0, 0.0, 2.0, 3.0, 6.0], negative_spans: vec![Span::new(3, 7)], negative_buckets: vec![1.0, 1.0, 0.0, 0.0, 0.0, 4.0, 4.0], ..FloatHistogram::default() }), expected: Some(FloatHistogram { zero_threshold: 0.01, zero_count: 19.0, count: 51.0, sum: 3.579, positive_spans: vec![Span::new(-2, 2), Span::new(1, 1), Span::new(0, 2)], positive_buckets: vec![1.0, 0.0, 5.0, 7.0, 13.0], negative_spans: vec![Span::new(3, 5), Span::new(0, 2)], negative_buckets: vec![4.0, 2.0, 0.0, 0.0, 0.0, 9.0, 10.0], ..FloatHistogram::default() }), exp_err_msg: "", exp_counter_reset_collision: false, exp_nhcb_bounds_reconciled: false },
        AddCase { name: "non-overlapping spans", in1: Some(FloatHistogram { zero_threshold: 0.001, zero_count: 11.0, count: 30.0, sum: 2.345, positive_spans: vec![Span::new(-2, 2), Span::new(2, 3)], positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0], negative_spans: vec![Span::new(3, 2), Span::new(3, 2)], negative_buckets: vec![3.0, 1.0, 5.0, 6.0], ..FloatHistogram::default() }), in2: Some(FloatHistogram { zero_threshold: 0.001, zero_count: 8.0, count: 21.0, sum: 1.234, positive_spans: vec![Span::new(0, 2), Span::new(3, 3)], positive_buckets: vec![5.0, 4.0, 2.0, 3.0, 6.0], negative_spans: vec![Span::new(-9, 2), Span::new(3, 2)], negative_buckets: vec![1.0, 1.0, 4.0, 4.0], ..FloatHistogram::default() }), expected: Some(FloatHistogram { zero_threshold: 0.001, zero_count: 19.0, count: 51.0, sum: 3.579, positive_spans: vec![Span::new(-2, 4), Span::new(0, 6)], positive_buckets: vec![1.0, 0.0, 5.0, 4.0, 3.0, 4.0, 7.0, 2.0, 3.0, 6.0], negative_spans: vec![Span::new(-9, 2), Span::new(3, 2), Span::new(5, 2), Span::new(3, 2)], negative_buckets: vec![1.0, 1.0, 4.0, 4.0, 3.0, 1.0, 5.0, 6.0], ..FloatHistogram::default() }), exp_err_msg: "", exp_counter_reset_collision: false, exp_nhcb_bounds_reconciled: false },
        AddCase { name: "non-overlapping spans inverted order", in1: Some(FloatHistogram { zero_threshold: 0.01, zero_count: 8.0, count: 21.0, sum: 1.234, positive_spans: vec![Span::new(0, 2), Span::new(3, 3)], positive_buckets: vec![5.0, 4.0, 2.0, 3.0, 6.0], negative_spans: vec![Span::new(-6, 2), Span::new(1, 2)], negative_buckets: vec![1.0, 1.0, 4.0, 4.0], ..FloatHistogram::default() }), in2: Some(FloatHistogram { zero_threshold: 0.01, zero_count: 11.0, count: 30.0, sum: 2.345, positive_spans: vec![Span::new(-2, 2), Span::new(2, 3)], positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0], negative_spans: vec![Span::new(3, 2), Span::new(3, 2)], negative_buckets: vec![3.0, 1.0, 5.0, 6.0], ..FloatHistogram::default() }), expected: Some(FloatHistogram { zero_threshold: 0.01, zero_count: 19.0, count: 51.0, sum: 3.579, positive_spans: vec![Span::new(-2, 2), Span::new(0, 5), Span::new(0, 3)], positive_buckets: vec![1.0, 0.0, 5.0, 4.0, 3.0, 4.0, 7.0, 2.0, 3.0, 6.0], negative_spans: vec![Span::new(-6, 2), Span::new(1, 2), Span::new(4, 2), Span::new(3, 2)], negative_buckets: vec![1.0, 1.0, 4.0, 4.0, 3.0, 1.0, 5.0, 6.0], ..FloatHistogram::default() }), exp_err_msg: "", exp_counter_reset_collision: false, exp_nhcb_bounds_reconciled: false },
        AddCase { name: "overlapping spans", in1: Some(FloatHistogram { zero_threshold: 0.01, zero_count: 11.0, count: 30.0, sum: 2.345, positive_spans: vec![Span::new(-2, 2), Span::new(2, 3)], positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0], negative_spans: vec![Span::new(3, 2), Span::new(3, 2)], negative_buckets: vec![3.0, 1.0, 5.0, 6.0], ..FloatHistogram::default() }), in2: Some(FloatHistogram { zero_threshold: 0.01, zero_count: 8.0, count: 21.0, sum: 1.234, positive_spans: vec![Span::new(-1, 4), Span::new(0, 3)], positive_buckets: vec![5.0, 4.0, 2.0, 3.0, 6.0, 2.0, 5.0], negative_spans: vec![Span::new(4, 2), Span::new(1, 2)], negative_buckets: vec![1.0, 1.0, 4.0, 4.0], ..FloatHistogram::default() }), expected: Some(FloatHistogram { zero_threshold: 0.01, zero_count: 19.0, count: 51.0, sum: 3.579, positive_spans: vec![Span::new(-2, 4), Span::new(0, 4)], positive_buckets: vec![1.0, 5.0, 4.0, 2.0, 6.0, 10.0, 9.0, 5.0], negative_spans: vec![Span::new(3, 3), Span::new(1, 3)], negative_buckets: vec![3.0, 2.0, 1.0, 4.0, 9.0, 6.0], ..FloatHistogram::default() }), exp_err_msg: "", exp_counter_reset_collision: false, exp_nhcb_bounds_reconciled: false },
        AddCase { name: "overlapping spans inverted order", in1: Some(FloatHistogram { zero_threshold: 0.01, zero_count: 8.0, count: 21.0, sum: 1.234, positive_spans: vec![Span::new(-1, 4), Span::new(0, 3)], positive_buckets: vec![5.0, 4.0, 2.0, 3.0, 6.0, 2.0, 5.0], negative_spans: vec![Span::new(4, 2), Span::new(1, 2)], negative_buckets: vec![1.0, 1.0, 4.0, 4.0], ..FloatHistogram::default() }), in2: Some(FloatHistogram { zero_threshold: 0.01, zero_count: 11.0, count: 30.0, sum: 2.345, positive_spans: vec![Span::new(-2, 2), Span::new(2, 3)], positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0], negative_spans: vec![Span::new(3, 2), Span::new(3, 2)], negative_buckets: vec![3.0, 1.0, 5.0, 6.0], ..FloatHistogram::default() }), expected: Some(FloatHistogram { zero_threshold: 0.01, zero_count: 19.0, count: 51.0, sum: 3.579, positive_spans: vec![Span::new(-2, 5), Span::new(0, 3)], positive_buckets: vec![1.0, 5.0, 4.0, 2.0, 6.0, 10.0, 9.0, 5.0], negative_spans: vec![Span::new(3, 3), Span::new(1, 3)], negative_buckets: vec![3.0, 2.0, 1.0, 4.0, 9.0, 6.0], ..FloatHistogram::default() }), exp_err_msg: "", exp_counter_reset_collision: false, exp_nhcb_bounds_reconciled: false },
        AddCase { name: "schema change", in1: Some(FloatHistogram { zero_threshold: 0.01, zero_count: 8.0, count: 21.0, sum: 1.234, schema: 0, positive_spans: vec![Span::new(-1, 4), Span::new(0, 3)], positive_buckets: vec![5.0, 4.0, 2.0, 3.0, 6.0, 2.0, 5.0], negative_spans: vec![Span::new(4, 2), Span::new(1, 2)], negative_buckets: vec![1.0, 1.0, 4.0, 4.0], ..FloatHistogram::default() }), in2: Some(FloatHistogram { zero_threshold: 0.01, zero_count: 11.0, count: 30.0, sum: 2.345, schema: 1, positive_spans: vec![Span::new(-4, 3), Span::new(5, 5)], positive_buckets: vec![1.0, 0.0, 0.0, 3.0, 2.0, 2.0, 3.0, 4.0], negative_spans: vec![Span::new(6, 3), Span::new(6, 4)], negative_buckets: vec![3.0, 0.5, 0.5, 2.0, 3.0, 2.0, 4.0], ..FloatHistogram::default() }), expected: Some(FloatHistogram { zero_threshold: 0.01, zero_count: 19.0, count: 51.0, sum: 3.579, positive_spans: vec![Span::new(-2, 5), Span::new(0, 3)], positive_buckets: vec![1.0, 5.0, 4.0, 2.0, 6.0, 10.0, 9.0, 5.0], negative_spans: vec![Span::new(3, 3), Span::new(1, 3)], negative_buckets: vec![3.0, 2.0, 1.0, 4.0, 9.0, 6.0], ..FloatHistogram::default() }), exp_err_msg: "", exp_counter_reset_collision: false, exp_nhcb_bounds_reconciled: false },
        AddCase { name: "larger zero bucket in first histogram", in1: Some(FloatHistogram { zero_threshold: 1.0, zero_count: 17.0, count: 21.0, sum: 1.234, positive_spans: vec![Span::new(1, 2), Span::new(0, 3)], positive_buckets: vec![2.0, 3.0, 6.0, 2.0, 5.0], negative_spans: vec![Span::new(4, 2), Span::new(1, 2)], negative_buckets: vec![1.0, 1.0, 4.0, 4.0], ..FloatHistogram::default() }), in2: Some(FloatHistogram { zero_threshold: 0.01, zero_count: 11.0, count: 30.0, sum: 2.345, positive_spans: vec![Span::new(-2, 2), Span::new(2, 3)], positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0], negative_spans: vec![Span::new(3, 2), Span::new(3, 2)], negative_buckets: vec![3.0, 1.0, 5.0, 6.0], ..FloatHistogram::default() }), expected: Some(FloatHistogram { zero_threshold: 1.0, zero_count: 29.0, count: 51.0, sum: 3.579, positive_spans: vec![Span::new(1, 2), Span::new(0, 3)], positive_buckets: vec![2.0, 6.0, 10.0, 9.0, 5.0], negative_spans: vec![Span::new(3, 3), Span::new(1, 3)], negative_buckets: vec![3.0, 2.0, 1.0, 4.0, 9.0, 6.0], ..FloatHistogram::default() }), exp_err_msg: "", exp_counter_reset_collision: false, exp_nhcb_bounds_reconciled: false },
        AddCase { name: "larger zero bucket in second histogram", in1: Some(FloatHistogram { zero_threshold: 0.01, zero_count: 11.0, count: 30.0, sum: 2.345, positive_spans: vec![Span::new(-2, 2), Span::new(2, 3)], positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0], negative_spans: vec![Span::new(3, 2), Span::new(3, 2)], negative_buckets: vec![3.0, 1.0, 5.0, 6.0], ..FloatHistogram::default() }), in2: Some(FloatHistogram { zero_threshold: 1.0, zero_count: 17.0, count: 21.0, sum: 1.234, positive_spans: vec![Span::new(1, 2), Span::new(0, 3)], positive_buckets: vec![2.0, 3.0, 6.0, 2.0, 5.0], negative_spans: vec![Span::new(4, 2), Span::new(1, 2)], negative_buckets: vec![1.0, 1.0, 4.0, 4.0], ..FloatHistogram::default() }), expected: Some(FloatHistogram { zero_threshold: 1.0, zero_count: 29.0, count: 51.0, sum: 3.579, positive_spans: vec![Span::new(1, 5)], positive_buckets: vec![2.0, 6.0, 10.0, 9.0, 5.0], negative_spans: vec![Span::new(3, 3), Span::new(1, 3)], negative_buckets: vec![3.0, 2.0, 1.0, 4.0, 9.0, 6.0], ..FloatHistogram::default() }), exp_err_msg: "", exp_counter_reset_collision: false, exp_nhcb_bounds_reconciled: false },
        AddCase { name: "larger zero threshold in first histogram ends up inside a populated bucket of second histogram", in1: Some(FloatHistogram { zero_threshold: 0.2, zero_count: 17.0, count: 21.0, sum: 1.234, positive_spans: vec![Span::new(1, 2), Span::new(0, 3)], positive_buckets: vec![2.0, 3.0, 6.0, 2.0, 5.0], negative_spans: vec![Span::new(4, 2), Span::new(1, 2)], negative_buckets: vec![1.0, 1.0, 4.0, 4.0], ..FloatHistogram::default() }), in2: Some(FloatHistogram { zero_threshold: 0.01, zero_count: 11.0, count: 30.0, sum: 2.345, positive_spans: vec![Span::new(-2, 2), Span::new(2, 3)], positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0], negative_spans: vec![Span::new(3, 2), Span::new(3, 2)], negative_buckets: vec![3.0, 1.0, 5.0, 6.0], ..FloatHistogram::default() }), expected: Some(FloatHistogram { zero_threshold: 0.25, zero_count: 29.0, count: 51.0, sum: 3.579, positive_spans: vec![Span::new(-1, 1), Span::new(1, 5)], positive_buckets: vec![0.0, 2.0, 6.0, 10.0, 9.0, 5.0], negative_spans: vec![Span::new(3, 3), Span::new(1, 3)], negative_buckets: vec![3.0, 2.0, 1.0, 4.0, 9.0, 6.0], ..FloatHistogram::default() }), exp_err_msg: "", exp_counter_reset_collision: false, exp_nhcb_bounds_reconciled: false },
        AddCase { name: "larger zero threshold in second histogram ends up inside a populated bucket of first histogram", in1: Some(FloatHistogram { zero_threshold: 0.01, zero_count: 11.0, count: 30.0, sum: 2.345, positive_spans: vec![Span::new(-2, 2), Span::new(2, 3)], positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0], negative_spans: vec![Span::new(3, 2), Span::new(3, 2)], negative_buckets: vec![3.0, 1.0, 5.0, 6.0], ..FloatHistogram::default() }), in2: Some(FloatHistogram { zero_threshold: 0.2, zero_count: 17.0, count: 21.0, sum: 1.234, positive_spans: vec![Span::new(1, 2), Span::new(0, 3)], positive_buckets: vec![2.0, 3.0, 6.0, 2.0, 5.0], negative_spans: vec![Span::new(4, 2), Span::new(1, 2)], negative_buckets: vec![1.0, 1.0, 4.0, 4.0], ..FloatHistogram::default() }), expected: Some(FloatHistogram { zero_threshold: 0.25, zero_count: 29.0, count: 51.0, sum: 3.579, positive_spans: vec![Span::new(1, 5)], positive_buckets: vec![2.0, 6.0, 10.0, 9.0, 5.0], negative_spans: vec![Span::new(3, 3), Span::new(1, 3)], negative_buckets: vec![3.0, 2.0, 1.0, 4.0, 9.0, 6.0], ..FloatHistogram::default() }), exp_err_msg: "", exp_counter_reset_collision: false, exp_nhcb_bounds_reconciled: false },
        AddCase { name: "schema change combined with larger zero bucket in second histogram", in1: Some(FloatHistogram { zero_threshold: 0.01, zero_count: 8.0, count: 21.0, sum: 1.234, schema: 0, positive_spans: vec![Span::new(-2, 5), Span::new(0, 3)], positive_buckets: vec![2.0, 5.0, 4.0, 2.0, 3.0, 6.0, 2.0, 5.0], negative_spans: vec![Span::new(4, 2), Span::new(1, 2)], negative_buckets: vec![1.0, 1.0, 4.0, 4.0], ..FloatHistogram::default() }), in2: Some(FloatHistogram { zero_threshold: 0.25, zero_count: 12.0, count: 30.0, sum: 2.345, schema: 1, positive_spans: vec![Span::new(-3, 2), Span::new(5, 5)], positive_buckets: vec![1.0, 0.0, 3.0, 2.0, 2.0, 3.0, 4.0], negative_spans: vec![Span::new(6, 3), Span::new(6, 4)], negative_buckets: vec![3.0, 0.5, 0.5, 2.0, 3.0, 2.0, 4.0], ..FloatHistogram::default() }), expected: Some(FloatHistogram { zero_threshold: 0.25, zero_count: 22.0, count: 51.0, sum: 3.579, positive_spans: vec![Span::new(-1, 7)], positive_buckets: vec![6.0, 4.0, 2.0, 6.0, 10.0, 9.0, 5.0], negative_spans: vec![Span::new(3, 3), Span::new(1, 3)], negative_buckets: vec![3.0, 2.0, 1.0, 4.0, 9.0, 6.0], ..FloatHistogram::default() }), exp_err_msg: "", exp_counter_reset_collision: false, exp_nhcb_bounds_reconciled: false },
        AddCase { name: "schema change combined with larger zero bucket in first histogram", in1: Some(FloatHistogram { zero_threshold: 0.25, zero_count: 8.0, count: 21.0, sum: 1.234, schema: 0, positive_spans: vec![Span::new(-1, 4), Span::new(0, 3)], positive_buckets: vec![5.0, 4.0, 2.0, 3.0, 6.0, 2.0, 5.0], negative_spans: vec![Span::new(4, 2), Span::new(1, 2)], negative_buckets: vec![1.0, 1.0, 4.0, 4.0], ..FloatHistogram::default() }), in2: Some(FloatHistogram { zero_threshold: 0.01, zero_count: 11.0, count: 30.0, sum: 2.345, schema: 1, positive_spans: vec![Span::new(-4, 3), Span::new(5, 5)], positive_buckets: vec![1.0, 0.0, 0.0, 3.0, 2.0, 2.0, 3.0, 4.0], negative_spans: vec![Span::new(6, 3), Span::new(6, 4)], negative_buckets: vec![3.0, 0.5, 0.5, 2.0, 3.0, 2.0, 4.0], ..FloatHistogram::default() }), expected: Some(FloatHistogram { zero_threshold: 0.25, zero_count: 20.0, count: 51.0, sum: 3.579, positive_spans: vec![Span::new(-1, 4), Span::new(0, 3)], positive_buckets: vec![5.0, 4.0, 2.0, 6.0, 10.0, 9.0, 5.0], negative_spans: vec![Span::new(3, 3), Span::new(1, 3)], negative_buckets: vec![3.0, 2.0, 1.0, 4.0, 9.0, 6.0], ..FloatHistogram::default() }), exp_err_msg: "", exp_counter_reset_collision: false, exp_nhcb_bounds_reconciled: false },
        AddCase { name: "same custom bucket layout", in1: Some(FloatHistogram { schema: CUSTOM_BUCKETS_SCHEMA, count: 15.0, sum: 2.345, positive_spans: vec![Span::new(0, 2), Span::new(1, 3)], positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0], custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0].into(), ..FloatHistogram::default() }), in2: Some(FloatHistogram { schema: CUSTOM_BUCKETS_SCHEMA, count: 11.0, sum: 1.234, positive_spans: vec![Span::new(0, 2), Span::new(1, 3)], positive_buckets: vec![0.0, 0.0, 2.0, 3.0, 6.0], custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0].into(), ..FloatHistogram::default() }), expected: Some(FloatHistogram { schema: CUSTOM_BUCKETS_SCHEMA, count: 26.0, sum: 3.579, positive_spans: vec![Span::new(0, 2), Span::new(1, 3)], positive_buckets: vec![1.0, 0.0, 5.0, 7.0, 13.0], custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0].into(), ..FloatHistogram::default() }), exp_err_msg: "", exp_counter_reset_collision: false, exp_nhcb_bounds_reconciled: false },
        AddCase { name: "same custom bucket layout, defined differently", in1: Some(FloatHistogram { schema: CUSTOM_BUCKETS_SCHEMA, count: 15.0, sum: 2.345, positive_spans: vec![Span::new(0, 2), Span::new(1, 1), Span::new(0, 2)], positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0], custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0].into(), ..FloatHistogram::default() }), in2: Some(FloatHistogram { schema: CUSTOM_BUCKETS_SCHEMA, count: 11.0, sum: 1.234, positive_spans: vec![Span::new(0, 2), Span::new(1, 2), Span::new(0, 1)], positive_buckets: vec![0.0, 0.0, 2.0, 3.0, 6.0], custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0].into(), ..FloatHistogram::default() }), expected: Some(FloatHistogram { schema: CUSTOM_BUCKETS_SCHEMA, count: 26.0, sum: 3.579, positive_spans: vec![Span::new(0, 2), Span::new(1, 1), Span::new(0, 2)], positive_buckets: vec![1.0, 0.0, 5.0, 7.0, 13.0], custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0].into(), ..FloatHistogram::default() }), exp_err_msg: "", exp_counter_reset_collision: false, exp_nhcb_bounds_reconciled: false },
        AddCase { name: "non-overlapping spans with custom buckets", in1: Some(FloatHistogram { schema: CUSTOM_BUCKETS_SCHEMA, count: 15.0, sum: 2.345, positive_spans: vec![Span::new(0, 2), Span::new(2, 3)], positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0], custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0].into(), ..FloatHistogram::default() }), in2: Some(FloatHistogram { schema: CUSTOM_BUCKETS_SCHEMA, count: 20.0, sum: 1.234, positive_spans: vec![Span::new(2, 2), Span::new(3, 3)], positive_buckets: vec![5.0, 4.0, 2.0, 3.0, 6.0], custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0].into(), ..FloatHistogram::default() }), expected: Some(FloatHistogram { schema: CUSTOM_BUCKETS_SCHEMA, count: 35.0, sum: 3.579, positive_spans: vec![Span::new(0, 4), Span::new(0, 6)], positive_buckets: vec![1.0, 0.0, 5.0, 4.0, 3.0, 4.0, 7.0, 2.0, 3.0, 6.0], custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0].into(), ..FloatHistogram::default() }), exp_err_msg: "", exp_counter_reset_collision: false, exp_nhcb_bounds_reconciled: false },
        AddCase { name: "non-overlapping spans inverted order with custom buckets", in1: Some(FloatHistogram { schema: CUSTOM_BUCKETS_SCHEMA, count: 20.0, sum: 1.234, positive_spans: vec![Span::new(2, 2), Span::new(3, 3)], positive_buckets: vec![5.0, 4.0, 2.0, 3.0, 6.0], custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0].into(), ..FloatHistogram::default() }), in2: Some(FloatHistogram { schema: CUSTOM_BUCKETS_SCHEMA, count: 15.0, sum: 2.345, positive_spans: vec![Span::new(0, 2), Span::new(2, 3)], positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0], custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0].into(), ..FloatHistogram::default() }), expected: Some(FloatHistogram { schema: CUSTOM_BUCKETS_SCHEMA, count: 35.0, sum: 3.579, positive_spans: vec![Span::new(0, 4), Span::new(0, 6)], positive_buckets: vec![1.0, 0.0, 5.0, 4.0, 3.0, 4.0, 7.0, 2.0, 3.0, 6.0], custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0].into(), ..FloatHistogram::default() }), exp_err_msg: "", exp_counter_reset_collision: false, exp_nhcb_bounds_reconciled: false },
        AddCase { name: "overlapping spans with custom buckets", in1: Some(FloatHistogram { schema: CUSTOM_BUCKETS_SCHEMA, count: 15.0, sum: 2.345, positive_spans: vec![Span::new(0, 2), Span::new(2, 3)], positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0], custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0].into(), ..FloatHistogram::default() }), in2: Some(FloatHistogram { schema: CUSTOM_BUCKETS_SCHEMA, count: 27.0, sum: 1.234, positive_spans: vec![Span::new(1, 4), Span::new(0, 3)], positive_buckets: vec![5.0, 4.0, 2.0, 3.0, 6.0, 2.0, 5.0], custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0].into(), ..FloatHistogram::default() }), expected: Some(FloatHistogram { schema: CUSTOM_BUCKETS_SCHEMA, count: 42.0, sum: 3.579, positive_spans: vec![Span::new(0, 4), Span::new(0, 4)], positive_buckets: vec![1.0, 5.0, 4.0, 2.0, 6.0, 10.0, 9.0, 5.0], custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0].into(), ..FloatHistogram::default() }), exp_err_msg: "", exp_counter_reset_collision: false, exp_nhcb_bounds_reconciled: false },
        AddCase { name: "overlapping spans inverted order with custom buckets", in1: Some(FloatHistogram { schema: CUSTOM_BUCKETS_SCHEMA, count: 27.0, sum: 1.234, positive_spans: vec![Span::new(1, 4), Span::new(0, 3)], positive_buckets: vec![5.0, 4.0, 2.0, 3.0, 6.0, 2.0, 5.0], custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0].into(), ..FloatHistogram::default() }), in2: Some(FloatHistogram { schema: CUSTOM_BUCKETS_SCHEMA, count: 15.0, sum: 2.345, positive_spans: vec![Span::new(0, 2), Span::new(2, 3)], positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0], custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0].into(), ..FloatHistogram::default() }), expected: Some(FloatHistogram { schema: CUSTOM_BUCKETS_SCHEMA, count: 42.0, sum: 3.579, positive_spans: vec![Span::new(0, 4), Span::new(0, 4)], positive_buckets: vec![1.0, 5.0, 4.0, 2.0, 6.0, 10.0, 9.0, 5.0], custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0].into(), ..FloatHistogram::default() }), exp_err_msg: "", exp_counter_reset_collision: false, exp_nhcb_bounds_reconciled: false },
        AddCase { name: "custom buckets with partial intersection", in1: Some(FloatHistogram { schema: CUSTOM_BUCKETS_SCHEMA, count: 10.0, sum: 100.0, positive_spans: vec![Span::new(0, 3)], positive_buckets: vec![2.0, 3.0, 5.0], custom_values: vec![1.0, 2.5].into(), ..FloatHistogram::default() }), in2: Some(FloatHistogram { schema: CUSTOM_BUCKETS_SCHEMA, count: 8.0, sum: 80.0, positive_spans: vec![Span::new(0, 4)], positive_buckets: vec![1.0, 2.0, 3.0, 2.0], custom_values: vec![1.0, 2.0, 3.0].into(), ..FloatHistogram::default() }), expected: Some(FloatHistogram { schema: CUSTOM_BUCKETS_SCHEMA, count: 18.0, sum: 180.0, positive_spans: vec![Span::new(0, 2)], positive_buckets: vec![3.0, 15.0], custom_values: vec![1.0].into(), ..FloatHistogram::default() }), exp_err_msg: "", exp_counter_reset_collision: false, exp_nhcb_bounds_reconciled: true },
        AddCase { name: "different custom bucket layout - intersection and rollup", in1: Some(FloatHistogram { schema: CUSTOM_BUCKETS_SCHEMA, count: 6.0, sum: 2.345, positive_spans: vec![Span::new(0, 1), Span::new(1, 1)], positive_buckets: vec![1.0, 5.0], custom_values: vec![2.0, 4.0].into(), ..FloatHistogram::default() }), in2: Some(FloatHistogram { schema: CUSTOM_BUCKETS_SCHEMA, count: 220.0, sum: 1.234, positive_spans: vec![Span::new(0, 2), Span::new(1, 1), Span::new(0, 2)], positive_buckets: vec![10.0, 20.0, 40.0, 50.0, 100.0], custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0].into(), ..FloatHistogram::default() }), expected: Some(FloatHistogram { schema: CUSTOM_BUCKETS_SCHEMA, count: 226.0, sum: 3.579, positive_spans: vec![Span::new(0, 3)], positive_buckets: vec![1.0 + 10.0 + 20.0, 40.0, 5.0 + 50.0 + 100.0], custom_values: vec![2.0, 4.0].into(), ..FloatHistogram::default() }), exp_err_msg: "", exp_counter_reset_collision: false, exp_nhcb_bounds_reconciled: true },
        AddCase { name: "custom buckets with no common boundaries except +Inf", in1: Some(FloatHistogram { schema: CUSTOM_BUCKETS_SCHEMA, count: 3.0, sum: 50.0, positive_spans: vec![Span::new(0, 2)], positive_buckets: vec![1.0, 2.0], custom_values: vec![1.5].into(), ..FloatHistogram::default() }), in2: Some(FloatHistogram { schema: CUSTOM_BUCKETS_SCHEMA, count: 30.0, sum: 40.0, positive_spans: vec![Span::new(0, 2)], positive_buckets: vec![10.0, 20.0], custom_values: vec![2.5].into(), ..FloatHistogram::default() }), expected: Some(FloatHistogram { schema: CUSTOM_BUCKETS_SCHEMA, count: 33.0, sum: 90.0, positive_spans: vec![Span::new(0, 1)], positive_buckets: vec![1.0 + 2.0 + 10.0 + 20.0], custom_values: vec![].into(), ..FloatHistogram::default() }), exp_err_msg: "", exp_counter_reset_collision: false, exp_nhcb_bounds_reconciled: true },
        AddCase { name: "mix exponential and custom buckets histograms", in1: Some(FloatHistogram { zero_threshold: 0.01, zero_count: 8.0, count: 59.0, sum: 1.234, schema: 0, positive_spans: vec![Span::new(-2, 5), Span::new(0, 3)], positive_buckets: vec![2.0, 5.0, 4.0, 2.0, 3.0, 6.0, 7.0, 5.0], negative_spans: vec![Span::new(3, 3), Span::new(1, 3)], negative_buckets: vec![4.0, 10.0, 1.0, 4.0, 14.0, 7.0], ..FloatHistogram::default() }), in2: Some(FloatHistogram { schema: CUSTOM_BUCKETS_SCHEMA, count: 11.0, sum: 12.0, positive_spans: vec![Span::new(0, 2), Span::new(1, 3)], positive_buckets: vec![0.0, 0.0, 2.0, 3.0, 6.0], custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0].into(), ..FloatHistogram::default() }), expected: None, exp_err_msg: "cannot apply this operation on histograms with a mix of exponential and custom bucket schemas", exp_counter_reset_collision: false, exp_nhcb_bounds_reconciled: false },
        AddCase { name: "warn on counter reset hint collision", in1: Some(FloatHistogram { schema: CUSTOM_BUCKETS_SCHEMA, counter_reset_hint: CounterResetHint::CounterReset, ..FloatHistogram::default() }), in2: Some(FloatHistogram { schema: CUSTOM_BUCKETS_SCHEMA, counter_reset_hint: CounterResetHint::NotCounterReset, ..FloatHistogram::default() }), expected: None, exp_err_msg: "", exp_counter_reset_collision: true, exp_nhcb_bounds_reconciled: false },
    ]
}

/// Cases of Go's `TestFloatHistogramSub`.
pub(super) struct SubCase {
    pub name: &'static str,
    pub in1: Option<FloatHistogram>,
    pub in2: Option<FloatHistogram>,
    pub expected: Option<FloatHistogram>,
    pub exp_err_msg: &'static str,
    pub exp_counter_reset_collision: bool,
    pub exp_nhcb_bounds_reconciled: bool,
}

pub(super) fn sub_cases() -> Vec<SubCase> {
    vec![
        SubCase { name: "same bucket layout", in1: Some(FloatHistogram { zero_threshold: 0.01, zero_count: 11.0, count: 30.0, sum: 23.0, positive_spans: vec![Span::new(-2, 2), Span::new(1, 3)], positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0], negative_spans: vec![Span::new(3, 2), Span::new(3, 2)], negative_buckets: vec![3.0, 1.0, 5.0, 6.0], ..FloatHistogram::default() }), in2: Some(FloatHistogram { zero_threshold: 0.01, zero_count: 8.0, count: 21.0, sum: 12.0, positive_spans: vec![Span::new(-2, 2), Span::new(1, 3)], positive_buckets: vec![0.0, 0.0, 2.0, 3.0, 6.0], negative_spans: vec![Span::new(3, 2), Span::new(3, 2)], negative_buckets: vec![1.0, 1.0, 4.0, 4.0], ..FloatHistogram::default() }), expected: Some(FloatHistogram { zero_threshold: 0.01, zero_count: 3.0, count: 9.0, sum: 11.0, positive_spans: vec![Span::new(-2, 2), Span::new(1, 3)], positive_buckets: vec![1.0, 0.0, 1.0, 1.0, 1.0], negative_spans: vec![Span::new(3, 2), Span::new(3, 2)], negative_buckets: vec![2.0, 0.0, 1.0, 2.0], ..FloatHistogram::default() }), exp_err_msg: "", exp_counter_reset_collision: false, exp_nhcb_bounds_reconciled: false },
        SubCase { name: "schema change", in1: Some(FloatHistogram { zero_threshold: 0.01, zero_count: 8.0, count: 59.0, sum: 1.234, schema: 0, positive_spans: vec![Span::new(-2, 5), Span::new(0, 3)], positive_buckets: vec![2.0, 5.0, 4.0, 2.0, 3.0, 6.0, 7.0, 5.0], negative_spans: vec![Span::new(3, 3), Span::new(1, 3)], negative_buckets: vec![4.0, 10.0, 1.0, 4.0, 14.0, 7.0], ..FloatHistogram::default() }), in2: Some(FloatHistogram { zero_threshold: 0.01, zero_count: 2.0, count: 19.0, sum: 0.345, schema: 1, positive_spans: vec![Span::new(-4, 3), Span::new(5, 5)], positive_buckets: vec![1.0, 0.0, 0.0, 1.0, 2.0, 2.0, 3.0, 4.0], negative_spans: vec![Span::new(6, 3), Span::new(6, 4)], negative_buckets: vec![3.0, 0.5, 0.5, 2.0, 3.0, 2.0, 4.0], ..FloatHistogram::default() }), expected: Some(FloatHistogram { zero_threshold: 0.01, zero_count: 6.0, count: 40.0, sum: 0.889, positive_spans: vec![Span::new(-2, 5), Span::new(0, 3)], positive_buckets: vec![1.0, 5.0, 4.0, 2.0, 2.0, 2.0, 0.0, 5.0], negative_spans: vec![Span::new(3, 3), Span::new(1, 3)], negative_buckets: vec![1.0, 9.0, 1.0, 4.0, 9.0, 1.0], ..FloatHistogram::default() }), exp_err_msg: "", exp_counter_reset_collision: false, exp_nhcb_bounds_reconciled: false },
        SubCase { name: "same custom bucket layout", in1: Some(FloatHistogram { schema: CUSTOM_BUCKETS_SCHEMA, count: 15.0, sum: 23.0, positive_spans: vec![Span::new(0, 2), Span::new(1, 3)], positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0], custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0].into(), ..FloatHistogram::default() }), in2: Some(FloatHistogram { schema: CUSTOM_BUCKETS_SCHEMA, count: 11.0, sum: 12.0, positive_spans: vec![Span::new(0, 2), Span::new(1, 3)], positive_buckets: vec![0.0, 0.0, 2.0, 3.0, 6.0], custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0].into(), ..FloatHistogram::default() }), expected: Some(FloatHistogram { schema: CUSTOM_BUCKETS_SCHEMA, count: 4.0, sum: 11.0, positive_spans: vec![Span::new(0, 2), Span::new(1, 3)], positive_buckets: vec![1.0, 0.0, 1.0, 1.0, 1.0], custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0].into(), ..FloatHistogram::default() }), exp_err_msg: "", exp_counter_reset_collision: false, exp_nhcb_bounds_reconciled: false },
        SubCase { name: "different custom bucket layout - with intersection and rollup", in1: Some(FloatHistogram { schema: CUSTOM_BUCKETS_SCHEMA, count: 220.0, sum: 9.9, positive_spans: vec![Span::new(0, 2), Span::new(1, 1), Span::new(0, 2)], positive_buckets: vec![10.0, 20.0, 40.0, 50.0, 100.0], custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0].into(), counter_reset_hint: CounterResetHint::Gauge, ..FloatHistogram::default() }), in2: Some(FloatHistogram { schema: CUSTOM_BUCKETS_SCHEMA, count: 6.0, sum: 4.4, positive_spans: vec![Span::new(0, 1), Span::new(1, 1)], positive_buckets: vec![1.0, 5.0], custom_values: vec![2.0, 4.0].into(), counter_reset_hint: CounterResetHint::Gauge, ..FloatHistogram::default() }), expected: Some(FloatHistogram { schema: CUSTOM_BUCKETS_SCHEMA, count: 214.0, sum: 5.5, positive_spans: vec![Span::new(0, 3)], positive_buckets: vec![10.0 + 20.0 - 1.0, 40.0, 50.0 + 100.0 - 5.0], custom_values: vec![2.0, 4.0].into(), counter_reset_hint: CounterResetHint::Gauge, ..FloatHistogram::default() }), exp_err_msg: "", exp_counter_reset_collision: false, exp_nhcb_bounds_reconciled: true },
        SubCase { name: "mix exponential and custom buckets histograms", in1: Some(FloatHistogram { zero_threshold: 0.01, zero_count: 8.0, count: 59.0, sum: 1.234, schema: 0, positive_spans: vec![Span::new(-2, 5), Span::new(0, 3)], positive_buckets: vec![2.0, 5.0, 4.0, 2.0, 3.0, 6.0, 7.0, 5.0], negative_spans: vec![Span::new(3, 3), Span::new(1, 3)], negative_buckets: vec![4.0, 10.0, 1.0, 4.0, 14.0, 7.0], ..FloatHistogram::default() }), in2: Some(FloatHistogram { schema: CUSTOM_BUCKETS_SCHEMA, count: 11.0, sum: 12.0, positive_spans: vec![Span::new(0, 2), Span::new(1, 3)], positive_buckets: vec![0.0, 0.0, 2.0, 3.0, 6.0], custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0].into(), ..FloatHistogram::default() }), expected: None, exp_err_msg: "cannot apply this operation on histograms with a mix of exponential and custom bucket schemas", exp_counter_reset_collision: false, exp_nhcb_bounds_reconciled: false },
        SubCase { name: "warn on counter reset hint collision", in1: Some(FloatHistogram { schema: CUSTOM_BUCKETS_SCHEMA, counter_reset_hint: CounterResetHint::CounterReset, ..FloatHistogram::default() }), in2: Some(FloatHistogram { schema: CUSTOM_BUCKETS_SCHEMA, counter_reset_hint: CounterResetHint::NotCounterReset, ..FloatHistogram::default() }), expected: None, exp_err_msg: "", exp_counter_reset_collision: true, exp_nhcb_bounds_reconciled: false },
    ]
}

/// Cases of Go's `TestKahanAddWithCompHistogram`.
pub(super) struct KahanAddCase {
    pub name: &'static str,
    pub in1: Option<FloatHistogram>,
    pub comp: Option<FloatHistogram>,
    pub in2: Option<FloatHistogram>,
    pub expected_sum: Option<FloatHistogram>,
    pub exp_err_msg: &'static str,
    pub exp_counter_reset_collision: bool,
    pub exp_nhcb_bounds_reconciled: bool,
}

pub(super) fn kahan_add_cases() -> Vec<KahanAddCase> {
    vec![
        KahanAddCase {
            name: "larger zero bucket in first histogram",
            in1: Some(FloatHistogram {
                zero_threshold: 1.0,
                zero_count: 17.0,
                count: 21.0,
                sum: 1.234,
                positive_spans: vec![Span::new(1, 2), Span::new(0, 3)],
                positive_buckets: vec![2.0, 3.0, 6.0, 2.0, 5.0],
                negative_spans: vec![Span::new(4, 2), Span::new(1, 2)],
                negative_buckets: vec![1.0, 1.0, 4.0, 4.0],
                ..FloatHistogram::default()
            }),
            comp: Some(FloatHistogram {
                zero_threshold: 1.0,
                positive_spans: vec![Span::new(1, 2), Span::new(0, 3)],
                positive_buckets: vec![0.02, 0.03, 0.06, 0.02, 0.05],
                negative_spans: vec![Span::new(4, 2), Span::new(1, 2)],
                negative_buckets: vec![0.01, 0.01, 0.04, 0.04],
                ..FloatHistogram::default()
            }),
            in2: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 11.0,
                count: 30.0,
                sum: 2.345,
                positive_spans: vec![Span::new(-2, 2), Span::new(2, 3)],
                positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.0, 1.0, 5.0, 6.0],
                ..FloatHistogram::default()
            }),
            expected_sum: Some(FloatHistogram {
                zero_threshold: 1.0,
                zero_count: 29.0,
                count: 51.0,
                sum: 3.579,
                positive_spans: vec![Span::new(1, 2), Span::new(0, 3)],
                positive_buckets: vec![2.02, 6.03, 10.06, 9.02, 5.05],
                negative_spans: vec![Span::new(3, 3), Span::new(1, 3)],
                negative_buckets: vec![3.0, 2.01, 1.01, 4.04, 9.04, 6.0],
                ..FloatHistogram::default()
            }),
            exp_err_msg: "",
            exp_counter_reset_collision: false,
            exp_nhcb_bounds_reconciled: false,
        },
        KahanAddCase {
            name: "smaller zero bucket in first histogram",
            in1: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 11.0,
                count: 40.0,
                sum: 2.345,
                positive_spans: vec![Span::new(-2, 2), Span::new(2, 3)],
                positive_buckets: vec![1.0, 2.0, 3.0, 4.0, 7.0],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![3.0, 1.0, 5.0, 6.0],
                ..FloatHistogram::default()
            }),
            comp: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 0.0,
                positive_spans: vec![Span::new(-2, 2), Span::new(2, 3)],
                positive_buckets: vec![0.02, 0.03, 0.06, 0.07, 0.05],
                negative_spans: vec![Span::new(3, 2), Span::new(3, 2)],
                negative_buckets: vec![0.01, 0.01, 0.04, 0.04],
                ..FloatHistogram::default()
            }),
            in2: Some(FloatHistogram {
                zero_threshold: 1.0,
                zero_count: 17.0,
                count: 11.0,
                sum: 1.234,
                positive_spans: vec![Span::new(1, 2), Span::new(0, 3)],
                positive_buckets: vec![2.0, 3.0, 6.0, 2.0, 5.0],
                negative_spans: vec![Span::new(4, 2), Span::new(1, 2)],
                negative_buckets: vec![1.0, 1.0, 4.0, 4.0],
                ..FloatHistogram::default()
            }),
            expected_sum: Some(FloatHistogram {
                zero_threshold: 1.0,
                zero_count: 31.05,
                count: 51.0,
                sum: 3.579,
                positive_spans: vec![Span::new(1, 5)],
                positive_buckets: vec![2.0, 6.06, 10.07, 9.05, 5.0],
                negative_spans: vec![Span::new(3, 3), Span::new(1, 3)],
                negative_buckets: vec![3.01, 2.01, 1.0, 4.0, 9.04, 6.04],
                ..FloatHistogram::default()
            }),
            exp_err_msg: "",
            exp_counter_reset_collision: false,
            exp_nhcb_bounds_reconciled: false,
        },
        KahanAddCase {
            name: "first histogram contains zero buckets and Compact is called",
            in1: Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 11.0,
                count: 30.0,
                sum: 2.345,
                positive_spans: vec![Span::new(-2, 2), Span::new(1, 1), Span::new(1, 3)],
                positive_buckets: vec![1.0, 3.0, 3.0, 0.0, 7.0, -6.0],
                ..FloatHistogram::default()
            }),
            comp: Some(FloatHistogram {
                zero_threshold: 0.01,
                positive_spans: vec![Span::new(-2, 2), Span::new(1, 1), Span::new(1, 3)],
                positive_buckets: vec![7.0, 2.0, 0.03, 0.0, 0.05, 0.06],
                ..FloatHistogram::default()
            }),
            in2: Some(FloatHistogram {
                zero_threshold: 1.0,
                zero_count: 17.0,
                count: 21.0,
                sum: 1.234,
                positive_spans: vec![Span::new(1, 2), Span::new(1, 2)],
                positive_buckets: vec![2.0, 3.0, 2.0, 5.0],
                ..FloatHistogram::default()
            }),
            expected_sum: Some(FloatHistogram {
                zero_threshold: 1.0,
                zero_count: 41.0,
                count: 51.0,
                sum: 3.579,
                positive_spans: vec![Span::new(1, 2), Span::new(1, 2)],
                positive_buckets: vec![5.03, 3.0, 9.05, -0.94],
                ..FloatHistogram::default()
            }),
            exp_err_msg: "",
            exp_counter_reset_collision: false,
            exp_nhcb_bounds_reconciled: false,
        },
        KahanAddCase {
            name: "reduce resolution",
            in1: Some(FloatHistogram {
                schema: 2,
                zero_threshold: 0.01,
                zero_count: 11.0,
                count: 30.0,
                sum: 2.345,
                positive_spans: vec![Span::new(-2, 2), Span::new(1, 1), Span::new(1, 3)],
                positive_buckets: vec![1.0, 3.0, 1e100, 0.0, 7.0, -6.0],
                ..FloatHistogram::default()
            }),
            comp: Some(FloatHistogram {
                schema: 2,
                zero_threshold: 0.01,
                zero_count: 1.0,
                positive_spans: vec![Span::new(-2, 2), Span::new(1, 1), Span::new(1, 3)],
                positive_buckets: vec![7.0, 2.0, 0.03, 0.0, 0.05, 0.06],
                ..FloatHistogram::default()
            }),
            in2: Some(FloatHistogram {
                schema: 1,
                zero_threshold: 1.0,
                zero_count: 17.0,
                count: 21.0,
                sum: 1.234,
                positive_spans: vec![Span::new(1, 2), Span::new(1, 2)],
                positive_buckets: vec![-1e100, 3.0, 2.0, 5.0],
                ..FloatHistogram::default()
            }),
            expected_sum: Some(FloatHistogram {
                schema: 1,
                zero_threshold: 1.0,
                zero_count: 42.0,
                count: 51.0,
                sum: 3.579,
                positive_spans: vec![Span::new(1, 5)],
                positive_buckets: vec![0.03, 10.05, -5.94, 2.0, 5.0],
                ..FloatHistogram::default()
            }),
            exp_err_msg: "",
            exp_counter_reset_collision: false,
            exp_nhcb_bounds_reconciled: false,
        },
        KahanAddCase {
            name: "reduce resolution of 'other' histogram",
            in1: Some(FloatHistogram {
                schema: 0,
                zero_threshold: 1.0,
                zero_count: 17.0,
                count: 21.0,
                sum: 1.234,
                positive_spans: vec![Span::new(1, 2), Span::new(1, 2)],
                positive_buckets: vec![2.0, 3.0, 2.0, 5.0],
                ..FloatHistogram::default()
            }),
            comp: Some(FloatHistogram {
                schema: 0,
                zero_threshold: 1.0,
                zero_count: 1.0,
                positive_spans: vec![Span::new(1, 2), Span::new(1, 2)],
                positive_buckets: vec![17.0, 2.0, 0.03, 0.0],
                ..FloatHistogram::default()
            }),
            in2: Some(FloatHistogram {
                schema: 2,
                zero_threshold: 0.01,
                zero_count: 11.0,
                count: 30.0,
                sum: 2.345,
                positive_spans: vec![Span::new(-2, 3), Span::new(1, 1), Span::new(1, 3)],
                positive_buckets: vec![1e100, 4.1, -1e100, 2.1, 0.0, 7.0, -6.0],
                ..FloatHistogram::default()
            }),
            expected_sum: Some(FloatHistogram {
                schema: 0,
                zero_threshold: 1.0,
                zero_count: 33.1,
                count: 51.0,
                sum: 3.579,
                positive_spans: vec![Span::new(1, 2), Span::new(1, 2)],
                positive_buckets: vec![21.1, 6.0, 2.03, 5.0],
                ..FloatHistogram::default()
            }),
            exp_err_msg: "",
            exp_counter_reset_collision: false,
            exp_nhcb_bounds_reconciled: false,
        },
        KahanAddCase {
            name: "warn on counter reset hint collision",
            in1: Some(FloatHistogram {
                schema: CUSTOM_BUCKETS_SCHEMA,
                counter_reset_hint: CounterResetHint::CounterReset,
                ..FloatHistogram::default()
            }),
            comp: None,
            in2: Some(FloatHistogram {
                schema: CUSTOM_BUCKETS_SCHEMA,
                counter_reset_hint: CounterResetHint::NotCounterReset,
                ..FloatHistogram::default()
            }),
            expected_sum: None,
            exp_err_msg: "",
            exp_counter_reset_collision: true,
            exp_nhcb_bounds_reconciled: false,
        },
    ]
}
