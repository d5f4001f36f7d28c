//! Test cases translated mechanically from Prometheus' `model/histogram/histogram_test.go and generic_test.go` table tests.

#![allow(clippy::all)]

use crate::histogram::*;

/// Cases of Go's `TestHistogramString`.
pub(super) struct IntStringCase {
    pub histogram: Option<Histogram>,
    pub expected_string: &'static str,
}

pub(super) fn int_string_cases() -> Vec<IntStringCase> {
    vec![
        IntStringCase { histogram: Some(Histogram { schema: 0, ..Histogram::default() }), expected_string: "{count:0, sum:0}" },
        IntStringCase { histogram: Some(Histogram { schema: 0, count: 9, sum: -3.1415, zero_count: 12, zero_threshold: 0.001, negative_spans: vec![Span::new(0, 5), Span::new(1, 1)], negative_buckets: vec![1, 2, -2, 1, -1, 0], ..Histogram::default() }), expected_string: "{count:9, sum:-3.1415, [-64,-32):1, [-16,-8):1, [-8,-4):2, [-4,-2):1, [-2,-1):3, [-1,-0.5):1, [-0.001,0.001]:12}" },
        IntStringCase { histogram: Some(Histogram { schema: 0, count: 19, sum: 2.7, positive_spans: vec![Span::new(0, 4), Span::new(0, 0), Span::new(0, 3)], positive_buckets: vec![1, 2, -2, 1, -1, 0, 0], negative_spans: vec![Span::new(0, 5), Span::new(1, 0), Span::new(0, 1)], negative_buckets: vec![1, 2, -2, 1, -1, 0], ..Histogram::default() }), expected_string: "{count:19, sum:2.7, [-64,-32):1, [-16,-8):1, [-8,-4):2, [-4,-2):1, [-2,-1):3, [-1,-0.5):1, (0.5,1]:1, (1,2]:3, (2,4]:1, (4,8]:2, (8,16]:1, (16,32]:1, (32,64]:1}" },
        IntStringCase { histogram: Some(Histogram { schema: CUSTOM_BUCKETS_SCHEMA, count: 19, sum: 2.7, positive_spans: vec![Span::new(0, 4), Span::new(0, 0), Span::new(0, 3)], positive_buckets: vec![1, 2, -2, 1, -1, 0, 0], custom_values: vec![1.0, 2.0, 5.0, 10.0, 15.0, 20.0, 25.0, 50.0].into(), ..Histogram::default() }), expected_string: "{count:19, sum:2.7, [-Inf,1]:1, (1,2]:3, (2,5]:1, (5,10]:2, (10,15]:1, (15,20]:1, (20,25]:1}" },
    ]
}

/// Cases of Go's `TestCumulativeBucketIterator`.
pub(super) struct CumulativeCase {
    pub histogram: Option<Histogram>,
    pub expected_buckets: Vec<Bucket<u64>>,
}

pub(super) fn cumulative_cases() -> Vec<CumulativeCase> {
    vec![
        CumulativeCase {
            histogram: Some(Histogram {
                schema: 0,
                positive_spans: vec![Span::new(0, 2), Span::new(1, 2)],
                positive_buckets: vec![1, 1, -1, 0],
                ..Histogram::default()
            }),
            expected_buckets: vec![
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 1.0,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 1,
                    index: 0,
                },
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 2.0,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 3,
                    index: 1,
                },
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 4.0,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 3,
                    index: 2,
                },
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 8.0,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 4,
                    index: 3,
                },
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 16.0,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 5,
                    index: 4,
                },
            ],
        },
        CumulativeCase {
            histogram: Some(Histogram {
                schema: 0,
                positive_spans: vec![Span::new(0, 5), Span::new(1, 1)],
                positive_buckets: vec![1, 2, -2, 1, -1, 0],
                ..Histogram::default()
            }),
            expected_buckets: vec![
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 1.0,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 1,
                    index: 0,
                },
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 2.0,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 4,
                    index: 1,
                },
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 4.0,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 5,
                    index: 2,
                },
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 8.0,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 7,
                    index: 3,
                },
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 16.0,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 8,
                    index: 4,
                },
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 32.0,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 8,
                    index: 5,
                },
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 64.0,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 9,
                    index: 6,
                },
            ],
        },
        CumulativeCase {
            histogram: Some(Histogram {
                schema: 0,
                positive_spans: vec![Span::new(0, 7)],
                positive_buckets: vec![1, 2, -2, 1, -1, 0, 0],
                ..Histogram::default()
            }),
            expected_buckets: vec![
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 1.0,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 1,
                    index: 0,
                },
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 2.0,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 4,
                    index: 1,
                },
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 4.0,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 5,
                    index: 2,
                },
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 8.0,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 7,
                    index: 3,
                },
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 16.0,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 8,
                    index: 4,
                },
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 32.0,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 9,
                    index: 5,
                },
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 64.0,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 10,
                    index: 6,
                },
            ],
        },
        CumulativeCase {
            histogram: Some(Histogram {
                schema: 3,
                positive_spans: vec![Span::new(-5, 2), Span::new(2, 3), Span::new(2, 2)],
                positive_buckets: vec![1, 2, -2, 1, -1, 0, 3],
                ..Histogram::default()
            }),
            expected_buckets: vec![
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 0.6484197773255048,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 1,
                    index: -5,
                },
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 0.7071067811865475,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 4,
                    index: -4,
                },
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 0.7711054127039704,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 4,
                    index: -3,
                },
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 0.8408964152537144,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 4,
                    index: -2,
                },
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 0.9170040432046711,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 5,
                    index: -1,
                },
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 1.0,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 7,
                    index: 0,
                },
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 1.0905077326652577,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 8,
                    index: 1,
                },
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 1.189207115002721,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 8,
                    index: 2,
                },
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 1.2968395546510096,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 8,
                    index: 3,
                },
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 1.414213562373095,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 9,
                    index: 4,
                },
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 1.5422108254079407,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 13,
                    index: 5,
                },
            ],
        },
        CumulativeCase {
            histogram: Some(Histogram {
                schema: -2,
                positive_spans: vec![Span::new(-2, 4), Span::new(2, 2)],
                positive_buckets: vec![1, 2, -2, 1, -1, 0],
                ..Histogram::default()
            }),
            expected_buckets: vec![
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 0.00390625,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 1,
                    index: -2,
                },
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 0.0625,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 4,
                    index: -1,
                },
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 1.0,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 5,
                    index: 0,
                },
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 16.0,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 7,
                    index: 1,
                },
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 256.0,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 7,
                    index: 2,
                },
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 4096.0,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 7,
                    index: 3,
                },
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 65536.0,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 8,
                    index: 4,
                },
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 1048576.0,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 9,
                    index: 5,
                },
            ],
        },
        CumulativeCase {
            histogram: Some(Histogram {
                schema: -1,
                positive_spans: vec![Span::new(-2, 5)],
                positive_buckets: vec![1, 2, -2, 1, -1],
                ..Histogram::default()
            }),
            expected_buckets: vec![
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 0.0625,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 1,
                    index: -2,
                },
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 0.25,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 4,
                    index: -1,
                },
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 1.0,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 5,
                    index: 0,
                },
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 4.0,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 7,
                    index: 1,
                },
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 16.0,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 8,
                    index: 2,
                },
            ],
        },
        CumulativeCase {
            histogram: Some(Histogram {
                schema: CUSTOM_BUCKETS_SCHEMA,
                positive_spans: vec![Span::new(0, 2), Span::new(1, 2)],
                positive_buckets: vec![1, 1, -1, 0],
                custom_values: vec![5.0, 10.0, 20.0, 50.0].into(),
                ..Histogram::default()
            }),
            expected_buckets: vec![
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 5.0,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 1,
                    index: 0,
                },
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 10.0,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 3,
                    index: 1,
                },
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 20.0,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 3,
                    index: 2,
                },
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 50.0,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 4,
                    index: 3,
                },
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: f64::INFINITY,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 5,
                    index: 4,
                },
            ],
        },
        CumulativeCase {
            histogram: Some(Histogram {
                schema: 0,
                positive_spans: vec![Span::new(0, 2), Span::new(1, 2)],
                positive_buckets: vec![1, 1, -1, 0, 2],
                ..Histogram::default()
            }),
            expected_buckets: vec![
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 1.0,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 1,
                    index: 0,
                },
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 2.0,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 3,
                    index: 1,
                },
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 4.0,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 3,
                    index: 2,
                },
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 8.0,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 4,
                    index: 3,
                },
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 16.0,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 5,
                    index: 4,
                },
            ],
        },
        CumulativeCase {
            histogram: Some(Histogram {
                schema: 0,
                positive_spans: vec![Span::new(0, 2), Span::new(1, 3)],
                positive_buckets: vec![1, 1, -1, 0],
                ..Histogram::default()
            }),
            expected_buckets: vec![
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 1.0,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 1,
                    index: 0,
                },
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 2.0,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 3,
                    index: 1,
                },
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 4.0,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 3,
                    index: 2,
                },
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 8.0,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 4,
                    index: 3,
                },
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 16.0,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 5,
                    index: 4,
                },
            ],
        },
    ]
}

/// Cases of Go's `TestRegularBucketIterator`.
pub(super) struct RegularIterCase {
    pub histogram: Option<Histogram>,
    pub expected_positive_buckets: Vec<Bucket<u64>>,
    pub expected_negative_buckets: Vec<Bucket<u64>>,
}

pub(super) fn regular_iter_cases() -> Vec<RegularIterCase> {
    vec![
        RegularIterCase {
            histogram: Some(Histogram {
                schema: 0,
                ..Histogram::default()
            }),
            expected_positive_buckets: vec![],
            expected_negative_buckets: vec![],
        },
        RegularIterCase {
            histogram: Some(Histogram {
                schema: 0,
                positive_spans: vec![Span::new(0, 2), Span::new(1, 2)],
                positive_buckets: vec![1, 1, -1, 0],
                ..Histogram::default()
            }),
            expected_positive_buckets: vec![
                Bucket {
                    lower: 0.5,
                    upper: 1.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 1,
                    index: 0,
                },
                Bucket {
                    lower: 1.0,
                    upper: 2.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 2,
                    index: 1,
                },
                Bucket {
                    lower: 4.0,
                    upper: 8.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 1,
                    index: 3,
                },
                Bucket {
                    lower: 8.0,
                    upper: 16.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 1,
                    index: 4,
                },
            ],
            expected_negative_buckets: vec![],
        },
        RegularIterCase {
            histogram: Some(Histogram {
                schema: 0,
                negative_spans: vec![Span::new(0, 5), Span::new(1, 1)],
                negative_buckets: vec![1, 2, -2, 1, -1, 0],
                ..Histogram::default()
            }),
            expected_positive_buckets: vec![],
            expected_negative_buckets: vec![
                Bucket {
                    lower: -1.0,
                    upper: -0.5,
                    lower_inclusive: true,
                    upper_inclusive: false,
                    count: 1,
                    index: 0,
                },
                Bucket {
                    lower: -2.0,
                    upper: -1.0,
                    lower_inclusive: true,
                    upper_inclusive: false,
                    count: 3,
                    index: 1,
                },
                Bucket {
                    lower: -4.0,
                    upper: -2.0,
                    lower_inclusive: true,
                    upper_inclusive: false,
                    count: 1,
                    index: 2,
                },
                Bucket {
                    lower: -8.0,
                    upper: -4.0,
                    lower_inclusive: true,
                    upper_inclusive: false,
                    count: 2,
                    index: 3,
                },
                Bucket {
                    lower: -16.0,
                    upper: -8.0,
                    lower_inclusive: true,
                    upper_inclusive: false,
                    count: 1,
                    index: 4,
                },
                Bucket {
                    lower: -64.0,
                    upper: -32.0,
                    lower_inclusive: true,
                    upper_inclusive: false,
                    count: 1,
                    index: 6,
                },
            ],
        },
        RegularIterCase {
            histogram: Some(Histogram {
                schema: 0,
                positive_spans: vec![Span::new(0, 4), Span::new(0, 0), Span::new(0, 3)],
                positive_buckets: vec![1, 2, -2, 1, -1, 0, 0],
                negative_spans: vec![Span::new(0, 5), Span::new(1, 0), Span::new(0, 1)],
                negative_buckets: vec![1, 2, -2, 1, -1, 0],
                ..Histogram::default()
            }),
            expected_positive_buckets: vec![
                Bucket {
                    lower: 0.5,
                    upper: 1.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 1,
                    index: 0,
                },
                Bucket {
                    lower: 1.0,
                    upper: 2.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 3,
                    index: 1,
                },
                Bucket {
                    lower: 2.0,
                    upper: 4.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 1,
                    index: 2,
                },
                Bucket {
                    lower: 4.0,
                    upper: 8.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 2,
                    index: 3,
                },
                Bucket {
                    lower: 8.0,
                    upper: 16.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 1,
                    index: 4,
                },
                Bucket {
                    lower: 16.0,
                    upper: 32.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 1,
                    index: 5,
                },
                Bucket {
                    lower: 32.0,
                    upper: 64.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 1,
                    index: 6,
                },
            ],
            expected_negative_buckets: vec![
                Bucket {
                    lower: -1.0,
                    upper: -0.5,
                    lower_inclusive: true,
                    upper_inclusive: false,
                    count: 1,
                    index: 0,
                },
                Bucket {
                    lower: -2.0,
                    upper: -1.0,
                    lower_inclusive: true,
                    upper_inclusive: false,
                    count: 3,
                    index: 1,
                },
                Bucket {
                    lower: -4.0,
                    upper: -2.0,
                    lower_inclusive: true,
                    upper_inclusive: false,
                    count: 1,
                    index: 2,
                },
                Bucket {
                    lower: -8.0,
                    upper: -4.0,
                    lower_inclusive: true,
                    upper_inclusive: false,
                    count: 2,
                    index: 3,
                },
                Bucket {
                    lower: -16.0,
                    upper: -8.0,
                    lower_inclusive: true,
                    upper_inclusive: false,
                    count: 1,
                    index: 4,
                },
                Bucket {
                    lower: -64.0,
                    upper: -32.0,
                    lower_inclusive: true,
                    upper_inclusive: false,
                    count: 1,
                    index: 6,
                },
            ],
        },
        RegularIterCase {
            histogram: Some(Histogram {
                schema: 3,
                positive_spans: vec![Span::new(-5, 2), Span::new(2, 3), Span::new(2, 2)],
                positive_buckets: vec![1, 2, -2, 1, -1, 0, 3],
                ..Histogram::default()
            }),
            expected_positive_buckets: vec![
                Bucket {
                    lower: 0.5946035575013605,
                    upper: 0.6484197773255048,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 1,
                    index: -5,
                },
                Bucket {
                    lower: 0.6484197773255048,
                    upper: 0.7071067811865475,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 3,
                    index: -4,
                },
                Bucket {
                    lower: 0.8408964152537144,
                    upper: 0.9170040432046711,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 1,
                    index: -1,
                },
                Bucket {
                    lower: 0.9170040432046711,
                    upper: 1.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 2,
                    index: 0,
                },
                Bucket {
                    lower: 1.0,
                    upper: 1.0905077326652577,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 1,
                    index: 1,
                },
                Bucket {
                    lower: 1.2968395546510096,
                    upper: 1.414213562373095,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 1,
                    index: 4,
                },
                Bucket {
                    lower: 1.414213562373095,
                    upper: 1.5422108254079407,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 4,
                    index: 5,
                },
            ],
            expected_negative_buckets: vec![],
        },
        RegularIterCase {
            histogram: Some(Histogram {
                schema: -2,
                positive_spans: vec![Span::new(-2, 4), Span::new(2, 2)],
                positive_buckets: vec![1, 2, -2, 1, -1, 0],
                ..Histogram::default()
            }),
            expected_positive_buckets: vec![
                Bucket {
                    lower: 0.000244140625,
                    upper: 0.00390625,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 1,
                    index: -2,
                },
                Bucket {
                    lower: 0.00390625,
                    upper: 0.0625,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 3,
                    index: -1,
                },
                Bucket {
                    lower: 0.0625,
                    upper: 1.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 1,
                    index: 0,
                },
                Bucket {
                    lower: 1.0,
                    upper: 16.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 2,
                    index: 1,
                },
                Bucket {
                    lower: 4096.0,
                    upper: 65536.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 1,
                    index: 4,
                },
                Bucket {
                    lower: 65536.0,
                    upper: 1048576.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 1,
                    index: 5,
                },
            ],
            expected_negative_buckets: vec![],
        },
        RegularIterCase {
            histogram: Some(Histogram {
                schema: -1,
                positive_spans: vec![Span::new(-2, 5)],
                positive_buckets: vec![1, 2, -2, 1, -1],
                ..Histogram::default()
            }),
            expected_positive_buckets: vec![
                Bucket {
                    lower: 0.015625,
                    upper: 0.0625,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 1,
                    index: -2,
                },
                Bucket {
                    lower: 0.0625,
                    upper: 0.25,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 3,
                    index: -1,
                },
                Bucket {
                    lower: 0.25,
                    upper: 1.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 1,
                    index: 0,
                },
                Bucket {
                    lower: 1.0,
                    upper: 4.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 2,
                    index: 1,
                },
                Bucket {
                    lower: 4.0,
                    upper: 16.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 1,
                    index: 2,
                },
            ],
            expected_negative_buckets: vec![],
        },
        RegularIterCase {
            histogram: Some(Histogram {
                schema: CUSTOM_BUCKETS_SCHEMA,
                positive_spans: vec![Span::new(0, 2), Span::new(1, 2)],
                positive_buckets: vec![1, 1, -1, 0],
                custom_values: vec![5.0, 10.0, 20.0, 50.0].into(),
                ..Histogram::default()
            }),
            expected_positive_buckets: vec![
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 5.0,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 1,
                    index: 0,
                },
                Bucket {
                    lower: 5.0,
                    upper: 10.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 2,
                    index: 1,
                },
                Bucket {
                    lower: 20.0,
                    upper: 50.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 1,
                    index: 3,
                },
                Bucket {
                    lower: 50.0,
                    upper: f64::INFINITY,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 1,
                    index: 4,
                },
            ],
            expected_negative_buckets: vec![],
        },
        RegularIterCase {
            histogram: Some(Histogram {
                schema: CUSTOM_BUCKETS_SCHEMA,
                positive_spans: vec![Span::new(0, 2), Span::new(1, 2)],
                positive_buckets: vec![1, 1, -1, 0],
                custom_values: vec![0.0, 10.0, 20.0, 50.0].into(),
                ..Histogram::default()
            }),
            expected_positive_buckets: vec![
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: 0.0,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 1,
                    index: 0,
                },
                Bucket {
                    lower: 0.0,
                    upper: 10.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 2,
                    index: 1,
                },
                Bucket {
                    lower: 20.0,
                    upper: 50.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 1,
                    index: 3,
                },
                Bucket {
                    lower: 50.0,
                    upper: f64::INFINITY,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 1,
                    index: 4,
                },
            ],
            expected_negative_buckets: vec![],
        },
        RegularIterCase {
            histogram: Some(Histogram {
                schema: CUSTOM_BUCKETS_SCHEMA,
                positive_spans: vec![Span::new(0, 5)],
                positive_buckets: vec![1, 1, 0, -1, 0],
                custom_values: vec![-5.0, 0.0, 20.0, 50.0].into(),
                ..Histogram::default()
            }),
            expected_positive_buckets: vec![
                Bucket {
                    lower: f64::NEG_INFINITY,
                    upper: -5.0,
                    lower_inclusive: true,
                    upper_inclusive: true,
                    count: 1,
                    index: 0,
                },
                Bucket {
                    lower: -5.0,
                    upper: 0.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 2,
                    index: 1,
                },
                Bucket {
                    lower: 0.0,
                    upper: 20.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 2,
                    index: 2,
                },
                Bucket {
                    lower: 20.0,
                    upper: 50.0,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 1,
                    index: 3,
                },
                Bucket {
                    lower: 50.0,
                    upper: f64::INFINITY,
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count: 1,
                    index: 4,
                },
            ],
            expected_negative_buckets: vec![],
        },
        RegularIterCase {
            histogram: Some(Histogram {
                schema: 0,
                negative_spans: vec![Span::new(0, 5), Span::new(1, 1)],
                negative_buckets: vec![1, 2, -2, 1, -1, 0, 3],
                ..Histogram::default()
            }),
            expected_positive_buckets: vec![],
            expected_negative_buckets: vec![
                Bucket {
                    lower: -1.0,
                    upper: -0.5,
                    lower_inclusive: true,
                    upper_inclusive: false,
                    count: 1,
                    index: 0,
                },
                Bucket {
                    lower: -2.0,
                    upper: -1.0,
                    lower_inclusive: true,
                    upper_inclusive: false,
                    count: 3,
                    index: 1,
                },
                Bucket {
                    lower: -4.0,
                    upper: -2.0,
                    lower_inclusive: true,
                    upper_inclusive: false,
                    count: 1,
                    index: 2,
                },
                Bucket {
                    lower: -8.0,
                    upper: -4.0,
                    lower_inclusive: true,
                    upper_inclusive: false,
                    count: 2,
                    index: 3,
                },
                Bucket {
                    lower: -16.0,
                    upper: -8.0,
                    lower_inclusive: true,
                    upper_inclusive: false,
                    count: 1,
                    index: 4,
                },
                Bucket {
                    lower: -64.0,
                    upper: -32.0,
                    lower_inclusive: true,
                    upper_inclusive: false,
                    count: 1,
                    index: 6,
                },
            ],
        },
        RegularIterCase {
            histogram: Some(Histogram {
                schema: 0,
                negative_spans: vec![Span::new(0, 5), Span::new(1, 1)],
                negative_buckets: vec![1, 2, -2, 1, -1],
                ..Histogram::default()
            }),
            expected_positive_buckets: vec![],
            expected_negative_buckets: vec![
                Bucket {
                    lower: -1.0,
                    upper: -0.5,
                    lower_inclusive: true,
                    upper_inclusive: false,
                    count: 1,
                    index: 0,
                },
                Bucket {
                    lower: -2.0,
                    upper: -1.0,
                    lower_inclusive: true,
                    upper_inclusive: false,
                    count: 3,
                    index: 1,
                },
                Bucket {
                    lower: -4.0,
                    upper: -2.0,
                    lower_inclusive: true,
                    upper_inclusive: false,
                    count: 1,
                    index: 2,
                },
                Bucket {
                    lower: -8.0,
                    upper: -4.0,
                    lower_inclusive: true,
                    upper_inclusive: false,
                    count: 2,
                    index: 3,
                },
                Bucket {
                    lower: -16.0,
                    upper: -8.0,
                    lower_inclusive: true,
                    upper_inclusive: false,
                    count: 1,
                    index: 4,
                },
            ],
        },
    ]
}

/// Cases of Go's `TestHistogramCompact`.
pub(super) struct IntCompactCase {
    pub name: &'static str,
    pub input: Option<Histogram>,
    pub max_empty_buckets: usize,
    pub expected: Option<Histogram>,
}

pub(super) fn int_compact_cases() -> Vec<IntCompactCase> {
    vec![
        IntCompactCase { name: "empty histogram", input: Some(Histogram { ..Histogram::default() }), max_empty_buckets: 0, expected: Some(Histogram { ..Histogram::default() }) },
        IntCompactCase { name: "nothing should happen", input: Some(Histogram { positive_spans: vec![Span::new(-2, 1), Span::new(2, 3)], positive_buckets: vec![1, 3, -3, 42], negative_spans: vec![Span::new(3, 2), Span::new(3, 2)], negative_buckets: vec![5, 3, 123400, 1000], ..Histogram::default() }), max_empty_buckets: 0, expected: Some(Histogram { positive_spans: vec![Span::new(-2, 1), Span::new(2, 3)], positive_buckets: vec![1, 3, -3, 42], negative_spans: vec![Span::new(3, 2), Span::new(3, 2)], negative_buckets: vec![5, 3, 123400, 1000], ..Histogram::default() }) },
        IntCompactCase { name: "eliminate zero offsets", input: Some(Histogram { positive_spans: vec![Span::new(-2, 1), Span::new(0, 3), Span::new(0, 1)], positive_buckets: vec![1, 3, -3, 42, 3], negative_spans: vec![Span::new(0, 2), Span::new(0, 2), Span::new(2, 1), Span::new(0, 1)], negative_buckets: vec![5, 3, 123400, 1000, 3, 4], ..Histogram::default() }), max_empty_buckets: 0, expected: Some(Histogram { positive_spans: vec![Span::new(-2, 5)], positive_buckets: vec![1, 3, -3, 42, 3], negative_spans: vec![Span::new(0, 4), Span::new(2, 2)], negative_buckets: vec![5, 3, 123400, 1000, 3, 4], ..Histogram::default() }) },
        IntCompactCase { name: "eliminate zero length", input: Some(Histogram { positive_spans: vec![Span::new(-2, 2), Span::new(2, 0), Span::new(3, 3)], positive_buckets: vec![1, 3, -3, 42, 3], negative_spans: vec![Span::new(0, 2), Span::new(0, 0), Span::new(2, 0), Span::new(1, 4)], negative_buckets: vec![5, 3, 123400, 1000, 3, 4], ..Histogram::default() }), max_empty_buckets: 0, expected: Some(Histogram { positive_spans: vec![Span::new(-2, 2), Span::new(5, 3)], positive_buckets: vec![1, 3, -3, 42, 3], negative_spans: vec![Span::new(0, 2), Span::new(3, 4)], negative_buckets: vec![5, 3, 123400, 1000, 3, 4], ..Histogram::default() }) },
        IntCompactCase { name: "eliminate multiple zero length spans", input: Some(Histogram { positive_spans: vec![Span::new(-2, 2), Span::new(2, 0), Span::new(2, 0), Span::new(2, 0), Span::new(3, 3)], positive_buckets: vec![1, 3, -3, 42, 3], ..Histogram::default() }), max_empty_buckets: 0, expected: Some(Histogram { positive_spans: vec![Span::new(-2, 2), Span::new(9, 3)], positive_buckets: vec![1, 3, -3, 42, 3], ..Histogram::default() }) },
        IntCompactCase { name: "cut empty buckets at start or end", input: Some(Histogram { positive_spans: vec![Span::new(-4, 4), Span::new(5, 3)], positive_buckets: vec![0, 0, 1, 3, -3, 42, 3], negative_spans: vec![Span::new(0, 2), Span::new(3, 5)], negative_buckets: vec![5, 3, -4, -2, 3, 4, -9], ..Histogram::default() }), max_empty_buckets: 0, expected: Some(Histogram { positive_spans: vec![Span::new(-2, 2), Span::new(5, 3)], positive_buckets: vec![1, 3, -3, 42, 3], negative_spans: vec![Span::new(0, 2), Span::new(3, 4)], negative_buckets: vec![5, 3, -4, -2, 3, 4], ..Histogram::default() }) },
        IntCompactCase { name: "cut empty buckets at start and end", input: Some(Histogram { positive_spans: vec![Span::new(-4, 4), Span::new(5, 6)], positive_buckets: vec![0, 0, 1, 3, -3, 42, 3, -46, 0, 0], negative_spans: vec![Span::new(-2, 4), Span::new(3, 5)], negative_buckets: vec![0, 0, 5, 3, -4, -2, 3, 4, -9], ..Histogram::default() }), max_empty_buckets: 0, expected: Some(Histogram { positive_spans: vec![Span::new(-2, 2), Span::new(5, 3)], positive_buckets: vec![1, 3, -3, 42, 3], negative_spans: vec![Span::new(0, 2), Span::new(3, 4)], negative_buckets: vec![5, 3, -4, -2, 3, 4], ..Histogram::default() }) },
        IntCompactCase { name: "cut empty buckets at start or end of spans, even in the middle", input: Some(Histogram { positive_spans: vec![Span::new(-4, 6), Span::new(3, 6)], positive_buckets: vec![0, 0, 1, 3, -4, 0, 1, 42, 3, -46, 0, 0], negative_spans: vec![Span::new(0, 2), Span::new(2, 6)], negative_buckets: vec![5, 3, -8, 4, -2, 3, 4, -9], ..Histogram::default() }), max_empty_buckets: 0, expected: Some(Histogram { positive_spans: vec![Span::new(-2, 2), Span::new(5, 3)], positive_buckets: vec![1, 3, -3, 42, 3], negative_spans: vec![Span::new(0, 2), Span::new(3, 4)], negative_buckets: vec![5, 3, -4, -2, 3, 4], ..Histogram::default() }) },
        IntCompactCase { name: "cut empty buckets at start or end but merge spans due to maxEmptyBuckets", input: Some(Histogram { positive_spans: vec![Span::new(-4, 4), Span::new(5, 3)], positive_buckets: vec![0, 0, 1, 3, -3, 42, 3], negative_spans: vec![Span::new(0, 2), Span::new(3, 5)], negative_buckets: vec![5, 3, -4, -2, 3, 4, -9], ..Histogram::default() }), max_empty_buckets: 10, expected: Some(Histogram { positive_spans: vec![Span::new(-2, 10)], positive_buckets: vec![1, 3, -4, 0, 0, 0, 0, 1, 42, 3], negative_spans: vec![Span::new(0, 9)], negative_buckets: vec![5, 3, -8, 0, 0, 4, -2, 3, 4], ..Histogram::default() }) },
        IntCompactCase { name: "cut empty buckets from the middle of a span", input: Some(Histogram { positive_spans: vec![Span::new(-4, 6), Span::new(3, 3)], positive_buckets: vec![0, 0, 1, -1, 0, 3, -2, 42, 3], negative_spans: vec![Span::new(0, 2), Span::new(3, 5)], negative_buckets: vec![5, 3, -4, -2, -2, 3, 4], ..Histogram::default() }), max_empty_buckets: 0, expected: Some(Histogram { positive_spans: vec![Span::new(-2, 1), Span::new(2, 1), Span::new(3, 3)], positive_buckets: vec![1, 2, -2, 42, 3], negative_spans: vec![Span::new(0, 2), Span::new(3, 2), Span::new(1, 2)], negative_buckets: vec![5, 3, -4, -2, 1, 4], ..Histogram::default() }) },
        IntCompactCase { name: "cut out a span containing only empty buckets", input: Some(Histogram { positive_spans: vec![Span::new(-4, 3), Span::new(2, 2), Span::new(3, 4)], positive_buckets: vec![0, 0, 1, -1, 0, 3, -2, 42, 3], ..Histogram::default() }), max_empty_buckets: 0, expected: Some(Histogram { positive_spans: vec![Span::new(-2, 1), Span::new(7, 4)], positive_buckets: vec![1, 2, -2, 42, 3], ..Histogram::default() }) },
        IntCompactCase { name: "cut empty buckets from the middle of a span, avoiding some due to maxEmptyBuckets", input: Some(Histogram { positive_spans: vec![Span::new(-4, 6), Span::new(3, 3)], positive_buckets: vec![0, 0, 1, -1, 0, 3, -2, 42, 3], negative_spans: vec![Span::new(0, 2), Span::new(3, 5)], negative_buckets: vec![5, 3, -4, -2, -2, 3, 4], ..Histogram::default() }), max_empty_buckets: 1, expected: Some(Histogram { positive_spans: vec![Span::new(-2, 1), Span::new(2, 1), Span::new(3, 3)], positive_buckets: vec![1, 2, -2, 42, 3], negative_spans: vec![Span::new(0, 2), Span::new(3, 5)], negative_buckets: vec![5, 3, -4, -2, -2, 3, 4], ..Histogram::default() }) },
        IntCompactCase { name: "avoiding all cutting of empty buckets from the middle of a chunk due to maxEmptyBuckets", input: Some(Histogram { positive_spans: vec![Span::new(-4, 6), Span::new(3, 3)], positive_buckets: vec![0, 0, 1, -1, 0, 3, -2, 42, 3], negative_spans: vec![Span::new(0, 2), Span::new(3, 5)], negative_buckets: vec![5, 3, -4, -2, -2, 3, 4], ..Histogram::default() }), max_empty_buckets: 2, expected: Some(Histogram { positive_spans: vec![Span::new(-2, 4), Span::new(3, 3)], positive_buckets: vec![1, -1, 0, 3, -2, 42, 3], negative_spans: vec![Span::new(0, 2), Span::new(3, 5)], negative_buckets: vec![5, 3, -4, -2, -2, 3, 4], ..Histogram::default() }) },
        IntCompactCase { name: "everything merged into one span due to maxEmptyBuckets", input: Some(Histogram { positive_spans: vec![Span::new(-4, 6), Span::new(3, 3)], positive_buckets: vec![0, 0, 1, -1, 0, 3, -2, 42, 3], negative_spans: vec![Span::new(0, 2), Span::new(3, 5)], negative_buckets: vec![5, 3, -4, -2, -2, 3, 4], ..Histogram::default() }), max_empty_buckets: 3, expected: Some(Histogram { positive_spans: vec![Span::new(-2, 10)], positive_buckets: vec![1, -1, 0, 3, -3, 0, 0, 1, 42, 3], negative_spans: vec![Span::new(0, 10)], negative_buckets: vec![5, 3, -8, 0, 0, 4, -2, -2, 3, 4], ..Histogram::default() }) },
        IntCompactCase { name: "more than one span merged in the same pass", input: Some(Histogram { count: 30, positive_spans: vec![Span::new(0, 2), Span::new(2, 2), Span::new(2, 2)], positive_buckets: vec![1, 1, 1, 1, 1, 1], negative_spans: vec![Span::new(0, 1), Span::new(1, 1), Span::new(1, 1)], negative_buckets: vec![2, 1, 1], ..Histogram::default() }), max_empty_buckets: 3, expected: Some(Histogram { count: 30, positive_spans: vec![Span::new(0, 10)], positive_buckets: vec![1, 1, -2, 0, 3, 1, -4, 0, 5, 1], negative_spans: vec![Span::new(0, 5)], negative_buckets: vec![2, -2, 3, -3, 4], ..Histogram::default() }) },
        IntCompactCase { name: "only empty buckets and maxEmptyBuckets greater zero", input: Some(Histogram { positive_spans: vec![Span::new(-4, 6), Span::new(3, 3)], positive_buckets: vec![0, 0, 0, 0, 0, 0, 0, 0, 0], negative_spans: vec![Span::new(0, 7)], negative_buckets: vec![0, 0, 0, 0, 0, 0, 0], ..Histogram::default() }), max_empty_buckets: 3, expected: Some(Histogram { positive_spans: vec![], positive_buckets: vec![], negative_spans: vec![], negative_buckets: vec![], ..Histogram::default() }) },
        IntCompactCase { name: "multiple spans of only empty buckets", input: Some(Histogram { positive_spans: vec![Span::new(-10, 2), Span::new(2, 1), Span::new(3, 3)], positive_buckets: vec![0, 0, 0, 0, 2, 3], negative_spans: vec![Span::new(-10, 2), Span::new(2, 1), Span::new(3, 3)], negative_buckets: vec![2, 3, -5, 0, 0, 0], ..Histogram::default() }), max_empty_buckets: 0, expected: Some(Histogram { positive_spans: vec![Span::new(-1, 2)], positive_buckets: vec![2, 3], negative_spans: vec![Span::new(-10, 2)], negative_buckets: vec![2, 3], ..Histogram::default() }) },
        IntCompactCase { name: "nothing should happen with custom buckets", input: Some(Histogram { schema: CUSTOM_BUCKETS_SCHEMA, positive_spans: vec![Span::new(-2, 1), Span::new(2, 3)], positive_buckets: vec![1, 3, -3, 42], custom_values: vec![5.0, 10.0, 15.0].into(), ..Histogram::default() }), max_empty_buckets: 0, expected: Some(Histogram { schema: CUSTOM_BUCKETS_SCHEMA, positive_spans: vec![Span::new(-2, 1), Span::new(2, 3)], positive_buckets: vec![1, 3, -3, 42], custom_values: vec![5.0, 10.0, 15.0].into(), ..Histogram::default() }) },
        IntCompactCase { name: "eliminate zero offsets with custom buckets", input: Some(Histogram { schema: CUSTOM_BUCKETS_SCHEMA, positive_spans: vec![Span::new(-2, 1), Span::new(0, 3), Span::new(0, 1)], positive_buckets: vec![1, 3, -3, 42, 3], custom_values: vec![5.0, 10.0, 15.0, 20.0].into(), ..Histogram::default() }), max_empty_buckets: 0, expected: Some(Histogram { schema: CUSTOM_BUCKETS_SCHEMA, positive_spans: vec![Span::new(-2, 5)], positive_buckets: vec![1, 3, -3, 42, 3], custom_values: vec![5.0, 10.0, 15.0, 20.0].into(), ..Histogram::default() }) },
        IntCompactCase { name: "eliminate zero length with custom buckets", input: Some(Histogram { schema: CUSTOM_BUCKETS_SCHEMA, positive_spans: vec![Span::new(-2, 2), Span::new(2, 0), Span::new(3, 3)], positive_buckets: vec![1, 3, -3, 42, 3], custom_values: vec![5.0, 10.0, 15.0, 20.0].into(), ..Histogram::default() }), max_empty_buckets: 0, expected: Some(Histogram { schema: CUSTOM_BUCKETS_SCHEMA, positive_spans: vec![Span::new(-2, 2), Span::new(5, 3)], positive_buckets: vec![1, 3, -3, 42, 3], custom_values: vec![5.0, 10.0, 15.0, 20.0].into(), ..Histogram::default() }) },
        IntCompactCase { name: "all zero-length spans with non-empty buckets", input: Some(Histogram { positive_spans: vec![Span::new(0, 0), Span::new(2, 0)], positive_buckets: vec![1, 3], negative_spans: vec![Span::new(1, 0)], negative_buckets: vec![2], ..Histogram::default() }), max_empty_buckets: 0, expected: Some(Histogram { positive_spans: vec![], positive_buckets: vec![], negative_spans: vec![], negative_buckets: vec![], ..Histogram::default() }) },
        IntCompactCase { name: "more buckets than spans account for", input: Some(Histogram { positive_spans: vec![Span::new(0, 1), Span::new(2, 1)], positive_buckets: vec![1, 2, 3, 4], negative_spans: vec![Span::new(0, 1)], negative_buckets: vec![5, 6], ..Histogram::default() }), max_empty_buckets: 0, expected: Some(Histogram { positive_spans: vec![Span::new(0, 1), Span::new(2, 1)], positive_buckets: vec![1, 2, 3, 4], negative_spans: vec![Span::new(0, 1)], negative_buckets: vec![5, 6], ..Histogram::default() }) },
        IntCompactCase { name: "eliminate multiple zero length spans with custom buckets", input: Some(Histogram { schema: CUSTOM_BUCKETS_SCHEMA, positive_spans: vec![Span::new(-2, 2), Span::new(2, 0), Span::new(2, 0), Span::new(2, 0), Span::new(3, 3)], positive_buckets: vec![1, 3, -3, 42, 3], custom_values: vec![5.0, 10.0, 15.0, 20.0].into(), ..Histogram::default() }), max_empty_buckets: 0, expected: Some(Histogram { schema: CUSTOM_BUCKETS_SCHEMA, positive_spans: vec![Span::new(-2, 2), Span::new(9, 3)], positive_buckets: vec![1, 3, -3, 42, 3], custom_values: vec![5.0, 10.0, 15.0, 20.0].into(), ..Histogram::default() }) },
        IntCompactCase { name: "cut empty buckets at start or end of spans, even in the middle, with custom buckets", input: Some(Histogram { schema: CUSTOM_BUCKETS_SCHEMA, positive_spans: vec![Span::new(-4, 6), Span::new(3, 6)], positive_buckets: vec![0, 0, 1, 3, -4, 0, 1, 42, 3, -46, 0, 0], custom_values: vec![5.0, 10.0, 15.0, 20.0].into(), ..Histogram::default() }), max_empty_buckets: 0, expected: Some(Histogram { schema: CUSTOM_BUCKETS_SCHEMA, positive_spans: vec![Span::new(-2, 2), Span::new(5, 3)], positive_buckets: vec![1, 3, -3, 42, 3], custom_values: vec![5.0, 10.0, 15.0, 20.0].into(), ..Histogram::default() }) },
    ]
}

/// Cases of Go's `TestHistogramValidation`.
pub(super) struct IntValidationCase {
    pub name: &'static str,
    pub h: Option<Histogram>,
    pub err_msg: &'static str,
    pub skip_float: bool,
}

pub(super) fn int_validation_cases() -> Vec<IntValidationCase> {
    vec![
        IntValidationCase { name: "valid histogram", h: Some(Histogram { count: 12, zero_count: 2, zero_threshold: 0.001, sum: 19.4, schema: 1, positive_spans: vec![Span::new(0, 2), Span::new(1, 2)], positive_buckets: vec![1, 1, -1, 0], negative_spans: vec![Span::new(0, 2), Span::new(1, 2)], negative_buckets: vec![1, 1, -1, 0], ..Histogram::default() }), err_msg: "", skip_float: false },
        IntValidationCase { name: "valid histogram with NaN observations that has its Count (4) higher than the actual total of buckets (2 + 1)", h: Some(Histogram { zero_count: 2, count: 4, sum: f64::NAN, positive_spans: vec![Span::new(0, 1)], positive_buckets: vec![1], ..Histogram::default() }), err_msg: "", skip_float: false },
        IntValidationCase { name: "rejects histogram without NaN observations that has its Count (4) higher than the actual total of buckets (2 + 1)", h: Some(Histogram { zero_count: 2, count: 4, sum: 333.0, positive_spans: vec![Span::new(0, 1)], positive_buckets: vec![1], ..Histogram::default() }), err_msg: "3 observations found in buckets, but the Count field is 4: histogram's observation count should equal the number of observations found in the buckets (in absence of NaN)", skip_float: true },
        IntValidationCase { name: "rejects histogram that has too few negative buckets", h: Some(Histogram { negative_spans: vec![Span::new(0, 1)], negative_buckets: vec![], ..Histogram::default() }), err_msg: "negative side: spans need 1 buckets, have 0 buckets: histogram spans specify different number of buckets than provided", skip_float: false },
        IntValidationCase { name: "rejects histogram that has too few positive buckets", h: Some(Histogram { positive_spans: vec![Span::new(0, 1)], positive_buckets: vec![], ..Histogram::default() }), err_msg: "positive side: spans need 1 buckets, have 0 buckets: histogram spans specify different number of buckets than provided", skip_float: false },
        IntValidationCase { name: "rejects histogram that has too many negative buckets", h: Some(Histogram { negative_spans: vec![Span::new(0, 1)], negative_buckets: vec![1, 2], ..Histogram::default() }), err_msg: "negative side: spans need 1 buckets, have 2 buckets: histogram spans specify different number of buckets than provided", skip_float: false },
        IntValidationCase { name: "rejects histogram that has too many positive buckets", h: Some(Histogram { positive_spans: vec![Span::new(0, 1)], positive_buckets: vec![1, 2], ..Histogram::default() }), err_msg: "positive side: spans need 1 buckets, have 2 buckets: histogram spans specify different number of buckets than provided", skip_float: false },
        IntValidationCase { name: "rejects a histogram that has a negative span with a negative offset", h: Some(Histogram { negative_spans: vec![Span::new(-1, 1), Span::new(-1, 1)], negative_buckets: vec![1, 2], ..Histogram::default() }), err_msg: "negative side: span number 2 with offset -1: histogram has a span whose offset is negative", skip_float: false },
        IntValidationCase { name: "rejects a histogram which has a positive span with a negative offset", h: Some(Histogram { positive_spans: vec![Span::new(-1, 1), Span::new(-1, 1)], positive_buckets: vec![1, 2], ..Histogram::default() }), err_msg: "positive side: span number 2 with offset -1: histogram has a span whose offset is negative", skip_float: false },
        IntValidationCase { name: "rejects a histogram that has a negative bucket with a negative count", h: Some(Histogram { negative_spans: vec![Span::new(-1, 1)], negative_buckets: vec![-1], ..Histogram::default() }), err_msg: "negative side: bucket number 1 has observation count of -1: histogram has a bucket whose observation count is negative", skip_float: false },
        IntValidationCase { name: "rejects a histogram that has a positive bucket with a negative count", h: Some(Histogram { positive_spans: vec![Span::new(-1, 1)], positive_buckets: vec![-1], ..Histogram::default() }), err_msg: "positive side: bucket number 1 has observation count of -1: histogram has a bucket whose observation count is negative", skip_float: false },
        IntValidationCase { name: "rejects a histogram that has a lower count than count in buckets", h: Some(Histogram { count: 0, negative_spans: vec![Span::new(-1, 1)], positive_spans: vec![Span::new(-1, 1)], negative_buckets: vec![1], positive_buckets: vec![1], ..Histogram::default() }), err_msg: "2 observations found in buckets, but the Count field is 0: histogram's observation count should equal the number of observations found in the buckets (in absence of NaN)", skip_float: true },
        IntValidationCase { name: "rejects a histogram that doesn't count the zero bucket in its count", h: Some(Histogram { count: 2, zero_count: 1, negative_spans: vec![Span::new(-1, 1)], positive_spans: vec![Span::new(-1, 1)], negative_buckets: vec![1], positive_buckets: vec![1], ..Histogram::default() }), err_msg: "3 observations found in buckets, but the Count field is 2: histogram's observation count should equal the number of observations found in the buckets (in absence of NaN)", skip_float: true },
        IntValidationCase { name: "rejects an exponential histogram with custom buckets schema", h: Some(Histogram { count: 12, zero_count: 2, zero_threshold: 0.001, sum: 19.4, schema: CUSTOM_BUCKETS_SCHEMA, positive_spans: vec![Span::new(0, 2), Span::new(1, 2)], positive_buckets: vec![1, 1, -1, 0], negative_spans: vec![Span::new(0, 2), Span::new(1, 2)], negative_buckets: vec![1, 1, -1, 0], ..Histogram::default() }), err_msg: "custom buckets: only 0 custom bounds defined which is insufficient to cover total span length of 5: histogram custom bounds are too few", skip_float: false },
        IntValidationCase { name: "rejects a custom buckets histogram with exponential schema", h: Some(Histogram { count: 5, sum: 19.4, schema: 0, positive_spans: vec![Span::new(0, 2), Span::new(1, 2)], positive_buckets: vec![1, 1, -1, 0], custom_values: vec![1.0, 2.0, 3.0, 4.0].into(), ..Histogram::default() }), err_msg: "histogram with exponential schema must not have custom bounds", skip_float: true },
        IntValidationCase { name: "rejects a custom buckets histogram with zero/negative buckets", h: Some(Histogram { count: 12, zero_count: 2, zero_threshold: 0.001, sum: 19.4, schema: CUSTOM_BUCKETS_SCHEMA, positive_spans: vec![Span::new(0, 2), Span::new(1, 2)], positive_buckets: vec![1, 1, -1, 0], negative_spans: vec![Span::new(0, 2), Span::new(1, 2)], negative_buckets: vec![1, 1, -1, 0], custom_values: vec![1.0, 2.0, 3.0, 4.0].into(), ..Histogram::default() }), err_msg: "custom buckets: must have zero count of 0", skip_float: true },
        IntValidationCase { name: "rejects a custom buckets histogram with negative offset in first span", h: Some(Histogram { count: 5, sum: 19.4, schema: CUSTOM_BUCKETS_SCHEMA, positive_spans: vec![Span::new(-1, 2), Span::new(1, 2)], positive_buckets: vec![1, 1, -1, 0], custom_values: vec![1.0, 2.0, 3.0, 4.0].into(), ..Histogram::default() }), err_msg: "custom buckets: span number 1 with offset -1: histogram has a span whose offset is negative", skip_float: false },
        IntValidationCase { name: "rejects a custom buckets histogram with negative offset in subsequent spans", h: Some(Histogram { count: 5, sum: 19.4, schema: CUSTOM_BUCKETS_SCHEMA, positive_spans: vec![Span::new(0, 2), Span::new(-1, 2)], positive_buckets: vec![1, 1, -1, 0], custom_values: vec![1.0, 2.0, 3.0, 4.0].into(), ..Histogram::default() }), err_msg: "custom buckets: span number 2 with offset -1: histogram has a span whose offset is negative", skip_float: false },
        IntValidationCase { name: "rejects a custom buckets histogram with non-matching bucket counts", h: Some(Histogram { count: 5, sum: 19.4, schema: CUSTOM_BUCKETS_SCHEMA, positive_spans: vec![Span::new(0, 2), Span::new(1, 2)], positive_buckets: vec![1, 1, -1], custom_values: vec![1.0, 2.0, 3.0, 4.0].into(), ..Histogram::default() }), err_msg: "custom buckets: spans need 4 buckets, have 3 buckets: histogram spans specify different number of buckets than provided", skip_float: false },
        IntValidationCase { name: "rejects a custom buckets histogram with too few bounds", h: Some(Histogram { count: 5, sum: 19.4, schema: CUSTOM_BUCKETS_SCHEMA, positive_spans: vec![Span::new(0, 2), Span::new(1, 2)], positive_buckets: vec![1, 1, -1, 0], custom_values: vec![1.0, 2.0, 3.0].into(), ..Histogram::default() }), err_msg: "custom buckets: only 3 custom bounds defined which is insufficient to cover total span length of 5: histogram custom bounds are too few", skip_float: false },
        IntValidationCase { name: "valid custom buckets histogram", h: Some(Histogram { count: 5, sum: 19.4, schema: CUSTOM_BUCKETS_SCHEMA, positive_spans: vec![Span::new(0, 2), Span::new(1, 2)], positive_buckets: vec![1, 1, -1, 0], custom_values: vec![1.0, 2.0, 3.0, 4.0].into(), ..Histogram::default() }), err_msg: "", skip_float: false },
        IntValidationCase { name: "valid custom buckets histogram with extra bounds", h: Some(Histogram { count: 5, sum: 19.4, schema: CUSTOM_BUCKETS_SCHEMA, positive_spans: vec![Span::new(0, 2), Span::new(1, 2)], positive_buckets: vec![1, 1, -1, 0], custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0].into(), ..Histogram::default() }), err_msg: "", skip_float: false },
        IntValidationCase { name: "reject custom buckets histogram with non-increasing bound", h: Some(Histogram { schema: CUSTOM_BUCKETS_SCHEMA, custom_values: vec![0.0, 0.0].into(), ..Histogram::default() }), err_msg: "custom buckets: previous bound is 0.000000 and current is 0.000000: histogram custom bounds must be in strictly increasing order", skip_float: false },
        IntValidationCase { name: "reject custom buckets histogram with explicit +Inf bound", h: Some(Histogram { schema: CUSTOM_BUCKETS_SCHEMA, custom_values: vec![1.0, f64::INFINITY].into(), ..Histogram::default() }), err_msg: "custom buckets: last +Inf bound must not be explicitly defined: histogram custom bounds must be finite", skip_float: false },
        IntValidationCase { name: "valid custom buckets histogram with explicit -Inf bound", h: Some(Histogram { schema: CUSTOM_BUCKETS_SCHEMA, custom_values: vec![f64::NEG_INFINITY, 1.0].into(), ..Histogram::default() }), err_msg: "", skip_float: false },
        IntValidationCase { name: "reject custom buckets histogram with NaN bound", h: Some(Histogram { schema: CUSTOM_BUCKETS_SCHEMA, custom_values: vec![1.0, f64::NAN, 3.0].into(), ..Histogram::default() }), err_msg: "custom buckets: histogram custom bounds must not be NaN", skip_float: false },
        IntValidationCase { name: "schema too high", h: Some(Histogram { schema: 10, ..Histogram::default() }), err_msg: "histogram has an invalid schema, which must be between -4 and 8 for exponential buckets, or -53 for custom buckets, got schema 10", skip_float: false },
        IntValidationCase { name: "schema too low", h: Some(Histogram { schema: -10, ..Histogram::default() }), err_msg: "histogram has an invalid schema, which must be between -4 and 8 for exponential buckets, or -53 for custom buckets, got schema -10", skip_float: false },
    ]
}

/// Cases of Go's `TestHistogramReduceResolution`.
pub(super) struct IntReduceResolutionCase {
    pub name: &'static str,
    pub origin: Option<Histogram>,
    pub target_schema: i32,
    pub target: Option<Histogram>,
    pub error_msg: &'static str,
}

pub(super) fn int_reduce_resolution_cases() -> Vec<IntReduceResolutionCase> {
    vec![
        IntReduceResolutionCase { name: "valid histogram", origin: Some(Histogram { schema: 0, positive_spans: vec![Span::new(-2, 4), Span::new(0, 0), Span::new(3, 2)], positive_buckets: vec![1, 2, -2, 1, -1, 0], negative_spans: vec![Span::new(0, 4), Span::new(0, 0), Span::new(3, 2)], negative_buckets: vec![1, 2, -2, 1, -1, 0], ..Histogram::default() }), target_schema: -1, target: Some(Histogram { schema: -1, positive_spans: vec![Span::new(-1, 3), Span::new(1, 1)], positive_buckets: vec![1, 3, -2, 0], negative_spans: vec![Span::new(0, 3), Span::new(1, 1)], negative_buckets: vec![1, 3, -2, 0], ..Histogram::default() }), error_msg: "" },
        IntReduceResolutionCase { name: "not enough buckets", origin: Some(Histogram { schema: 0, positive_spans: vec![Span::new(-2, 4), Span::new(0, 0), Span::new(3, 2)], positive_buckets: vec![1, 2, -2, 1, -1], ..Histogram::default() }), target_schema: -1, target: None, error_msg: "have 5 buckets but spans need more: histogram spans specify different number of buckets than provided" },
        IntReduceResolutionCase { name: "too many buckets", origin: Some(Histogram { schema: 0, positive_spans: vec![Span::new(-2, 4), Span::new(0, 0), Span::new(3, 2)], positive_buckets: vec![1, 2, -2, 1, -1, 0, 3], ..Histogram::default() }), target_schema: -1, target: None, error_msg: "spans need 6 buckets, have 7 buckets: histogram spans specify different number of buckets than provided" },
        IntReduceResolutionCase { name: "negative offset", origin: Some(Histogram { schema: 0, positive_spans: vec![Span::new(-2, 4), Span::new(-1, 0), Span::new(3, 2)], positive_buckets: vec![1, 2, -2, 1, -1, 0], ..Histogram::default() }), target_schema: -1, target: None, error_msg: "span number 2 with offset -1: histogram has a span whose offset is negative" },
    ]
}

/// Cases of Go's `TestGetBoundExponential`.
pub(super) struct GetBoundCase {
    pub idx: i32,
    pub schema: i32,
    pub want: f64,
}

pub(super) fn get_bound_cases() -> Vec<GetBoundCase> {
    vec![
        GetBoundCase {
            idx: -1,
            schema: -1,
            want: 0.25,
        },
        GetBoundCase {
            idx: 0,
            schema: -1,
            want: 1.0,
        },
        GetBoundCase {
            idx: 1,
            schema: -1,
            want: 4.0,
        },
        GetBoundCase {
            idx: 512,
            schema: -1,
            want: f64::MAX,
        },
        GetBoundCase {
            idx: 513,
            schema: -1,
            want: f64::INFINITY,
        },
        GetBoundCase {
            idx: -1,
            schema: 0,
            want: 0.5,
        },
        GetBoundCase {
            idx: 0,
            schema: 0,
            want: 1.0,
        },
        GetBoundCase {
            idx: 1,
            schema: 0,
            want: 2.0,
        },
        GetBoundCase {
            idx: 1024,
            schema: 0,
            want: f64::MAX,
        },
        GetBoundCase {
            idx: 1025,
            schema: 0,
            want: f64::INFINITY,
        },
        GetBoundCase {
            idx: -1,
            schema: 2,
            want: 0.8408964152537144,
        },
        GetBoundCase {
            idx: 0,
            schema: 2,
            want: 1.0,
        },
        GetBoundCase {
            idx: 1,
            schema: 2,
            want: 1.189207115002721,
        },
        GetBoundCase {
            idx: 4096,
            schema: 2,
            want: f64::MAX,
        },
        GetBoundCase {
            idx: 4097,
            schema: 2,
            want: f64::INFINITY,
        },
    ]
}
