//! Test cases translated mechanically from Prometheus' `model/histogram/float_histogram_test.go` iterator tests.

#![allow(clippy::all)]

use crate::histogram::*;

/// Cases of Go's `TestAllFloatBucketIterator`.
pub(super) struct AllIterCase {
    pub h: Option<FloatHistogram>,
    pub include_neg: bool,
    pub include_zero: bool,
    pub include_pos: bool,
}

pub(super) fn all_iter_cases() -> Vec<AllIterCase> {
    vec![
        AllIterCase {
            h: Some(FloatHistogram {
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
                positive_buckets: vec![
                    100.0, 344.0, 123.0, 55.0, 3.0, 63.0, 2.0, 54.0, 235.0, 33.0,
                ],
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
            }),
            include_neg: true,
            include_zero: true,
            include_pos: true,
        },
        AllIterCase {
            h: Some(FloatHistogram {
                count: 405.0,
                zero_count: 102.0,
                zero_threshold: 0.001,
                sum: 1008.4,
                schema: 1,
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
            }),
            include_neg: true,
            include_zero: true,
            include_pos: false,
        },
        AllIterCase {
            h: Some(FloatHistogram {
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
                positive_buckets: vec![
                    100.0, 344.0, 123.0, 55.0, 3.0, 63.0, 2.0, 54.0, 235.0, 33.0,
                ],
                ..FloatHistogram::default()
            }),
            include_neg: false,
            include_zero: true,
            include_pos: true,
        },
        AllIterCase {
            h: Some(FloatHistogram {
                count: 405.0,
                zero_count: 102.0,
                zero_threshold: 0.001,
                sum: 1008.4,
                schema: 1,
                ..FloatHistogram::default()
            }),
            include_neg: false,
            include_zero: true,
            include_pos: false,
        },
        AllIterCase {
            h: Some(FloatHistogram {
                count: 405.0,
                zero_count: 0.0,
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
                positive_buckets: vec![
                    100.0, 344.0, 123.0, 55.0, 3.0, 63.0, 2.0, 54.0, 235.0, 33.0,
                ],
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
            }),
            include_neg: true,
            include_zero: false,
            include_pos: true,
        },
        AllIterCase {
            h: Some(FloatHistogram {
                count: 447.0,
                zero_count: 42.0,
                zero_threshold: 0.5,
                sum: 1008.4,
                schema: 0,
                positive_spans: vec![
                    Span::new(0, 4),
                    Span::new(1, 0),
                    Span::new(3, 3),
                    Span::new(3, 0),
                    Span::new(2, 0),
                    Span::new(5, 3),
                ],
                positive_buckets: vec![
                    100.0, 344.0, 123.0, 55.0, 3.0, 63.0, 2.0, 54.0, 235.0, 33.0,
                ],
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
            }),
            include_neg: true,
            include_zero: true,
            include_pos: true,
        },
        AllIterCase {
            h: Some(FloatHistogram {
                count: 447.0,
                zero_count: 42.0,
                zero_threshold: 0.6,
                sum: 1008.4,
                schema: 0,
                positive_spans: vec![
                    Span::new(0, 4),
                    Span::new(1, 0),
                    Span::new(3, 3),
                    Span::new(3, 0),
                    Span::new(2, 0),
                    Span::new(5, 3),
                ],
                positive_buckets: vec![
                    100.0, 344.0, 123.0, 55.0, 3.0, 63.0, 2.0, 54.0, 235.0, 33.0,
                ],
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
            }),
            include_neg: true,
            include_zero: true,
            include_pos: true,
        },
    ]
}

/// Cases of Go's `TestAllReverseFloatBucketIterator`.
pub(super) struct AllRevIterCase {
    pub h: Option<FloatHistogram>,
    pub include_neg: bool,
    pub include_zero: bool,
    pub include_pos: bool,
}

pub(super) fn all_rev_iter_cases() -> Vec<AllRevIterCase> {
    vec![
        AllRevIterCase {
            h: Some(FloatHistogram {
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
                positive_buckets: vec![
                    100.0, 344.0, 123.0, 55.0, 3.0, 63.0, 2.0, 54.0, 235.0, 33.0,
                ],
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
            }),
            include_neg: true,
            include_zero: true,
            include_pos: true,
        },
        AllRevIterCase {
            h: Some(FloatHistogram {
                count: 405.0,
                zero_count: 102.0,
                zero_threshold: 0.001,
                sum: 1008.4,
                schema: 1,
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
            }),
            include_neg: true,
            include_zero: true,
            include_pos: false,
        },
        AllRevIterCase {
            h: Some(FloatHistogram {
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
                positive_buckets: vec![
                    100.0, 344.0, 123.0, 55.0, 3.0, 63.0, 2.0, 54.0, 235.0, 33.0,
                ],
                ..FloatHistogram::default()
            }),
            include_neg: false,
            include_zero: true,
            include_pos: true,
        },
        AllRevIterCase {
            h: Some(FloatHistogram {
                count: 405.0,
                zero_count: 102.0,
                zero_threshold: 0.001,
                sum: 1008.4,
                schema: 1,
                ..FloatHistogram::default()
            }),
            include_neg: false,
            include_zero: true,
            include_pos: false,
        },
        AllRevIterCase {
            h: Some(FloatHistogram {
                count: 405.0,
                zero_count: 0.0,
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
                positive_buckets: vec![
                    100.0, 344.0, 123.0, 55.0, 3.0, 63.0, 2.0, 54.0, 235.0, 33.0,
                ],
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
            }),
            include_neg: true,
            include_zero: false,
            include_pos: true,
        },
        AllRevIterCase {
            h: Some(FloatHistogram {
                count: 447.0,
                zero_count: 42.0,
                zero_threshold: 0.5,
                sum: 1008.4,
                schema: 0,
                positive_spans: vec![
                    Span::new(0, 4),
                    Span::new(1, 0),
                    Span::new(3, 3),
                    Span::new(3, 0),
                    Span::new(2, 0),
                    Span::new(5, 3),
                ],
                positive_buckets: vec![
                    100.0, 344.0, 123.0, 55.0, 3.0, 63.0, 2.0, 54.0, 235.0, 33.0,
                ],
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
            }),
            include_neg: true,
            include_zero: true,
            include_pos: true,
        },
        AllRevIterCase {
            h: Some(FloatHistogram {
                count: 447.0,
                zero_count: 42.0,
                zero_threshold: 0.6,
                sum: 1008.4,
                schema: 0,
                positive_spans: vec![
                    Span::new(0, 4),
                    Span::new(1, 0),
                    Span::new(3, 3),
                    Span::new(3, 0),
                    Span::new(2, 0),
                    Span::new(5, 3),
                ],
                positive_buckets: vec![
                    100.0, 344.0, 123.0, 55.0, 3.0, 63.0, 2.0, 54.0, 235.0, 33.0,
                ],
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
            }),
            include_neg: true,
            include_zero: true,
            include_pos: true,
        },
        AllRevIterCase {
            h: Some(FloatHistogram {
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
                positive_buckets: vec![100.0, 344.0, 123.0, 55.0, 3.0, 63.0, 2.0, 54.0, 235.0],
                negative_spans: vec![
                    Span::new(0, 3),
                    Span::new(1, 0),
                    Span::new(3, 0),
                    Span::new(3, 4),
                    Span::new(2, 0),
                    Span::new(5, 3),
                ],
                negative_buckets: vec![10.0, 34.0, 1230.0, 54.0, 67.0, 63.0, 2.0, 554.0, 235.0],
                ..FloatHistogram::default()
            }),
            include_neg: true,
            include_zero: true,
            include_pos: true,
        },
        AllRevIterCase {
            h: Some(FloatHistogram {
                count: 447.0,
                zero_count: 42.0,
                zero_threshold: 0.6,
                sum: 1008.4,
                schema: 0,
                positive_spans: vec![
                    Span::new(0, 4),
                    Span::new(1, 0),
                    Span::new(3, 3),
                    Span::new(3, 0),
                    Span::new(2, 0),
                    Span::new(5, 3),
                ],
                positive_buckets: vec![
                    100.0, 344.0, 123.0, 55.0, 3.0, 63.0, 2.0, 54.0, 235.0, 33.0, 42.0,
                ],
                negative_spans: vec![
                    Span::new(0, 3),
                    Span::new(1, 0),
                    Span::new(3, 0),
                    Span::new(3, 4),
                    Span::new(2, 0),
                    Span::new(5, 3),
                ],
                negative_buckets: vec![
                    10.0, 34.0, 1230.0, 54.0, 67.0, 63.0, 2.0, 554.0, 235.0, 33.0, 42.0,
                ],
                ..FloatHistogram::default()
            }),
            include_neg: true,
            include_zero: true,
            include_pos: true,
        },
    ]
}

/// Cases of Go's `TestFloatBucketIteratorTargetSchema`.
pub(super) struct TargetSchemaIterCase {
    pub name: &'static str,
    pub h: Option<FloatHistogram>,
    pub exp_positive_buckets: Vec<Bucket<f64>>,
    pub exp_negative_buckets: Vec<Bucket<f64>>,
}

pub(super) fn target_schema_iter_cases() -> Vec<TargetSchemaIterCase> {
    vec![
        TargetSchemaIterCase {
            name: "regular",
            h: Some(FloatHistogram {
                count: 405.0,
                sum: 1008.4,
                schema: 1,
                positive_spans: vec![Span::new(0, 4), Span::new(1, 3), Span::new(2, 3)],
                positive_buckets: vec![
                    100.0, 344.0, 123.0, 55.0, 3.0, 63.0, 2.0, 54.0, 235.0, 33.0,
                ],
                negative_spans: vec![Span::new(0, 3), Span::new(7, 4), Span::new(1, 3)],
                negative_buckets: vec![
                    10.0, 34.0, 1230.0, 54.0, 67.0, 63.0, 2.0, 554.0, 235.0, 33.0,
                ],
                ..FloatHistogram::default()
            }),
            exp_positive_buckets: vec![
                Bucket {
                    lower: 0.25,
                    upper: 1.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 100.0,
                    index: 0,
                },
                Bucket {
                    lower: 1.0,
                    upper: 4.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 522.0,
                    index: 1,
                },
                Bucket {
                    lower: 4.0,
                    upper: 16.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 68.0,
                    index: 2,
                },
                Bucket {
                    lower: 16.0,
                    upper: 64.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 322.0,
                    index: 3,
                },
            ],
            exp_negative_buckets: vec![
                Bucket {
                    lower: -1.0,
                    upper: -0.25,
                    lower_inclusive: true,
                    upper_inclusive: false,
                    count: 10.0,
                    index: 0,
                },
                Bucket {
                    lower: -4.0,
                    upper: -1.0,
                    lower_inclusive: true,
                    upper_inclusive: false,
                    count: 1264.0,
                    index: 1,
                },
                Bucket {
                    lower: -64.0,
                    upper: -16.0,
                    lower_inclusive: true,
                    upper_inclusive: false,
                    count: 184.0,
                    index: 3,
                },
                Bucket {
                    lower: -256.0,
                    upper: -64.0,
                    lower_inclusive: true,
                    upper_inclusive: false,
                    count: 791.0,
                    index: 4,
                },
                Bucket {
                    lower: -1024.0,
                    upper: -256.0,
                    lower_inclusive: true,
                    upper_inclusive: false,
                    count: 33.0,
                    index: 5,
                },
            ],
        },
        TargetSchemaIterCase {
            name: "missing buckets",
            h: Some(FloatHistogram {
                count: 405.0,
                sum: 1008.4,
                schema: 1,
                positive_spans: vec![Span::new(0, 4), Span::new(1, 3), Span::new(2, 3)],
                positive_buckets: vec![100.0, 344.0, 123.0, 55.0, 3.0, 63.0, 2.0, 54.0, 235.0],
                negative_spans: vec![Span::new(0, 3), Span::new(7, 4), Span::new(1, 3)],
                negative_buckets: vec![10.0, 34.0, 1230.0, 54.0, 67.0, 63.0, 2.0, 554.0, 235.0],
                ..FloatHistogram::default()
            }),
            exp_positive_buckets: vec![
                Bucket {
                    lower: 0.25,
                    upper: 1.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 100.0,
                    index: 0,
                },
                Bucket {
                    lower: 1.0,
                    upper: 4.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 522.0,
                    index: 1,
                },
                Bucket {
                    lower: 4.0,
                    upper: 16.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 68.0,
                    index: 2,
                },
                Bucket {
                    lower: 16.0,
                    upper: 64.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 289.0,
                    index: 3,
                },
            ],
            exp_negative_buckets: vec![
                Bucket {
                    lower: -1.0,
                    upper: -0.25,
                    lower_inclusive: true,
                    upper_inclusive: false,
                    count: 10.0,
                    index: 0,
                },
                Bucket {
                    lower: -4.0,
                    upper: -1.0,
                    lower_inclusive: true,
                    upper_inclusive: false,
                    count: 1264.0,
                    index: 1,
                },
                Bucket {
                    lower: -64.0,
                    upper: -16.0,
                    lower_inclusive: true,
                    upper_inclusive: false,
                    count: 184.0,
                    index: 3,
                },
                Bucket {
                    lower: -256.0,
                    upper: -64.0,
                    lower_inclusive: true,
                    upper_inclusive: false,
                    count: 791.0,
                    index: 4,
                },
            ],
        },
        TargetSchemaIterCase {
            name: "spurious bucket",
            h: Some(FloatHistogram {
                count: 405.0,
                sum: 1008.4,
                schema: 1,
                positive_spans: vec![Span::new(0, 4), Span::new(1, 3), Span::new(2, 3)],
                positive_buckets: vec![
                    100.0, 344.0, 123.0, 55.0, 3.0, 63.0, 2.0, 54.0, 235.0, 33.0, 42.0,
                ],
                negative_spans: vec![Span::new(0, 3), Span::new(7, 4), Span::new(1, 3)],
                negative_buckets: vec![
                    10.0, 34.0, 1230.0, 54.0, 67.0, 63.0, 2.0, 554.0, 235.0, 33.0, 42.0,
                ],
                ..FloatHistogram::default()
            }),
            exp_positive_buckets: vec![
                Bucket {
                    lower: 0.25,
                    upper: 1.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 100.0,
                    index: 0,
                },
                Bucket {
                    lower: 1.0,
                    upper: 4.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 522.0,
                    index: 1,
                },
                Bucket {
                    lower: 4.0,
                    upper: 16.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 68.0,
                    index: 2,
                },
                Bucket {
                    lower: 16.0,
                    upper: 64.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 322.0,
                    index: 3,
                },
            ],
            exp_negative_buckets: vec![
                Bucket {
                    lower: -1.0,
                    upper: -0.25,
                    lower_inclusive: true,
                    upper_inclusive: false,
                    count: 10.0,
                    index: 0,
                },
                Bucket {
                    lower: -4.0,
                    upper: -1.0,
                    lower_inclusive: true,
                    upper_inclusive: false,
                    count: 1264.0,
                    index: 1,
                },
                Bucket {
                    lower: -64.0,
                    upper: -16.0,
                    lower_inclusive: true,
                    upper_inclusive: false,
                    count: 184.0,
                    index: 3,
                },
                Bucket {
                    lower: -256.0,
                    upper: -64.0,
                    lower_inclusive: true,
                    upper_inclusive: false,
                    count: 791.0,
                    index: 4,
                },
                Bucket {
                    lower: -1024.0,
                    upper: -256.0,
                    lower_inclusive: true,
                    upper_inclusive: false,
                    count: 33.0,
                    index: 5,
                },
            ],
        },
        TargetSchemaIterCase {
            name: "no schema change",
            h: Some(FloatHistogram {
                count: 405.0,
                sum: 1008.4,
                schema: -1,
                positive_spans: vec![Span::new(0, 2), Span::new(1, 2)],
                positive_buckets: vec![100.0, 522.0, 68.0, 322.0],
                negative_spans: vec![Span::new(0, 2), Span::new(1, 2)],
                negative_buckets: vec![100.0, 522.0, 68.0, 322.0],
                ..FloatHistogram::default()
            }),
            exp_positive_buckets: vec![
                Bucket {
                    lower: 0.25,
                    upper: 1.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 100.0,
                    index: 0,
                },
                Bucket {
                    lower: 1.0,
                    upper: 4.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 522.0,
                    index: 1,
                },
                Bucket {
                    lower: 16.0,
                    upper: 64.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 68.0,
                    index: 3,
                },
                Bucket {
                    lower: 64.0,
                    upper: 256.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 322.0,
                    index: 4,
                },
            ],
            exp_negative_buckets: vec![
                Bucket {
                    lower: -1.0,
                    upper: -0.25,
                    lower_inclusive: true,
                    upper_inclusive: false,
                    count: 100.0,
                    index: 0,
                },
                Bucket {
                    lower: -4.0,
                    upper: -1.0,
                    lower_inclusive: true,
                    upper_inclusive: false,
                    count: 522.0,
                    index: 1,
                },
                Bucket {
                    lower: -64.0,
                    upper: -16.0,
                    lower_inclusive: true,
                    upper_inclusive: false,
                    count: 68.0,
                    index: 3,
                },
                Bucket {
                    lower: -256.0,
                    upper: -64.0,
                    lower_inclusive: true,
                    upper_inclusive: false,
                    count: 322.0,
                    index: 4,
                },
            ],
        },
        TargetSchemaIterCase {
            name: "no schema change, missing bucket",
            h: Some(FloatHistogram {
                count: 405.0,
                sum: 1008.4,
                schema: -1,
                positive_spans: vec![Span::new(0, 2), Span::new(1, 2)],
                positive_buckets: vec![100.0, 522.0, 68.0],
                negative_spans: vec![Span::new(0, 2), Span::new(1, 2)],
                negative_buckets: vec![100.0, 522.0, 68.0],
                ..FloatHistogram::default()
            }),
            exp_positive_buckets: vec![
                Bucket {
                    lower: 0.25,
                    upper: 1.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 100.0,
                    index: 0,
                },
                Bucket {
                    lower: 1.0,
                    upper: 4.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 522.0,
                    index: 1,
                },
                Bucket {
                    lower: 16.0,
                    upper: 64.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 68.0,
                    index: 3,
                },
            ],
            exp_negative_buckets: vec![
                Bucket {
                    lower: -1.0,
                    upper: -0.25,
                    lower_inclusive: true,
                    upper_inclusive: false,
                    count: 100.0,
                    index: 0,
                },
                Bucket {
                    lower: -4.0,
                    upper: -1.0,
                    lower_inclusive: true,
                    upper_inclusive: false,
                    count: 522.0,
                    index: 1,
                },
                Bucket {
                    lower: -64.0,
                    upper: -16.0,
                    lower_inclusive: true,
                    upper_inclusive: false,
                    count: 68.0,
                    index: 3,
                },
            ],
        },
        TargetSchemaIterCase {
            name: "no schema change, spurious bucket",
            h: Some(FloatHistogram {
                count: 405.0,
                sum: 1008.4,
                schema: -1,
                positive_spans: vec![Span::new(0, 2), Span::new(1, 2)],
                positive_buckets: vec![100.0, 522.0, 68.0, 322.0, 42.0],
                negative_spans: vec![Span::new(0, 2), Span::new(1, 2)],
                negative_buckets: vec![100.0, 522.0, 68.0, 322.0, 42.0],
                ..FloatHistogram::default()
            }),
            exp_positive_buckets: vec![
                Bucket {
                    lower: 0.25,
                    upper: 1.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 100.0,
                    index: 0,
                },
                Bucket {
                    lower: 1.0,
                    upper: 4.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 522.0,
                    index: 1,
                },
                Bucket {
                    lower: 16.0,
                    upper: 64.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 68.0,
                    index: 3,
                },
                Bucket {
                    lower: 64.0,
                    upper: 256.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 322.0,
                    index: 4,
                },
            ],
            exp_negative_buckets: vec![
                Bucket {
                    lower: -1.0,
                    upper: -0.25,
                    lower_inclusive: true,
                    upper_inclusive: false,
                    count: 100.0,
                    index: 0,
                },
                Bucket {
                    lower: -4.0,
                    upper: -1.0,
                    lower_inclusive: true,
                    upper_inclusive: false,
                    count: 522.0,
                    index: 1,
                },
                Bucket {
                    lower: -64.0,
                    upper: -16.0,
                    lower_inclusive: true,
                    upper_inclusive: false,
                    count: 68.0,
                    index: 3,
                },
                Bucket {
                    lower: -256.0,
                    upper: -64.0,
                    lower_inclusive: true,
                    upper_inclusive: false,
                    count: 322.0,
                    index: 4,
                },
            ],
        },
    ]
}

/// Cases of Go's `TestFloatCustomBucketsIterators`.
pub(super) struct CustomItersCase {
    pub h: Option<FloatHistogram>,
    pub exp_positive_buckets: Vec<Bucket<f64>>,
}

pub(super) fn custom_iters_cases() -> Vec<CustomItersCase> {
    vec![
        CustomItersCase {
            h: Some(FloatHistogram {
                count: 622.0,
                sum: 10008.4,
                schema: CUSTOM_BUCKETS_SCHEMA,
                positive_spans: vec![Span::new(0, 2), Span::new(1, 1), Span::new(1, 1)],
                positive_buckets: vec![100.0, 344.0, 123.0, 55.0],
                custom_values: vec![10.0, 25.0, 50.0, 100.0, 500.0].into(),
                ..FloatHistogram::default()
            }),
            exp_positive_buckets: vec![
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 10.0,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 100.0,
                    index: 0,
                },
                Bucket {
                    lower: 10.0,
                    upper: 25.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 344.0,
                    index: 1,
                },
                Bucket {
                    lower: 50.0,
                    upper: 100.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 123.0,
                    index: 3,
                },
                Bucket {
                    lower: 500.0,
                    upper: f64::INFINITY,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 55.0,
                    index: 5,
                },
            ],
        },
        CustomItersCase {
            h: Some(FloatHistogram {
                count: 622.0,
                sum: 10008.4,
                schema: CUSTOM_BUCKETS_SCHEMA,
                positive_spans: vec![Span::new(0, 2), Span::new(1, 1), Span::new(1, 1)],
                positive_buckets: vec![100.0, 344.0, 123.0, 55.0],
                custom_values: vec![-10.0, -5.0, 0.0, 10.0, 25.0].into(),
                ..FloatHistogram::default()
            }),
            exp_positive_buckets: vec![
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: -10.0,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 100.0,
                    index: 0,
                },
                Bucket {
                    lower: -10.0,
                    upper: -5.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 344.0,
                    index: 1,
                },
                Bucket {
                    lower: 0.0,
                    upper: 10.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 123.0,
                    index: 3,
                },
                Bucket {
                    lower: 25.0,
                    upper: f64::INFINITY,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 55.0,
                    index: 5,
                },
            ],
        },
    ]
}
