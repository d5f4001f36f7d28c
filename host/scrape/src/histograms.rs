//! The native-histogram limits of a scrape job, as Prometheus' `bucketLimitAppender` and
//! `maxSchemaAppender` apply them: a histogram above `native_histogram_min_bucket_factor`'s
//! resolution is reduced to it, then one with more buckets than
//! `native_histogram_bucket_limit` is reduced a schema at a time until it fits; a histogram
//! that cannot be reduced (custom buckets, or already at the coarsest schema) fails the
//! scrape with "histogram bucket limit exceeded".

use std::borrow::Cow;

use sightline_model::histogram::{
    is_exponential_schema, EXPONENTIAL_SCHEMA_MAX, EXPONENTIAL_SCHEMA_MIN,
};
use sightline_model::{FloatHistogram, Histogram};

use crate::append::HistogramOptions;
use crate::{Error, Result};

/// The reserved exponential schemas (Prometheus' `IsExponentialSchemaReserved`): a schema in
/// this range but above 8 is reduced, not refused, by the min-bucket-factor limit.
fn is_exponential_schema_reserved(s: i32) -> bool {
    (-9..=52).contains(&s)
}

/// Prometheus' `pickSchema`: the largest schema whose bucket growth factor is at least
/// `factor` (`native_histogram_min_bucket_factor`; at most 1 means no limit).
pub(crate) fn pick_schema(factor: f64) -> i32 {
    let factor = if factor <= 1.0 { 1.00271 } else { factor };
    let floor = (-factor.log2().log2()).floor();
    if floor >= f64::from(EXPONENTIAL_SCHEMA_MAX) {
        EXPONENTIAL_SCHEMA_MAX
    } else if floor <= f64::from(EXPONENTIAL_SCHEMA_MIN) {
        EXPONENTIAL_SCHEMA_MIN
    } else {
        floor as i32
    }
}

fn reduce_int(h: &mut Histogram, target: i32) -> Result<()> {
    h.reduce_resolution(target)
        .map_err(|e| Error::Parse(format!("reducing a histogram's resolution: {e}")))
}

fn reduce_float(h: &mut FloatHistogram, target: i32) -> Result<()> {
    h.reduce_resolution(target)
        .map_err(|e| Error::Parse(format!("reducing a histogram's resolution: {e}")))
}

/// Applies the job's limits to an integer histogram (a copy only when it must change).
pub(crate) fn limit_int<'h>(h: &'h Histogram, o: &HistogramOptions) -> Result<Cow<'h, Histogram>> {
    let mut h = Cow::Borrowed(h);
    if is_exponential_schema_reserved(h.schema) && h.schema > o.max_schema {
        reduce_int(h.to_mut(), o.max_schema)?;
    }
    if o.bucket_limit > 0 {
        let n = |h: &Histogram| h.positive_buckets.len() + h.negative_buckets.len();
        if n(&h) > o.bucket_limit && !is_exponential_schema(h.schema) {
            return Err(Error::BucketLimit);
        }
        while n(&h) > o.bucket_limit {
            if h.schema <= EXPONENTIAL_SCHEMA_MIN {
                return Err(Error::BucketLimit);
            }
            let target = h.schema - 1;
            reduce_int(h.to_mut(), target)?;
        }
    }
    Ok(h)
}

/// Applies the job's limits to a float histogram.
pub(crate) fn limit_float<'h>(
    h: &'h FloatHistogram,
    o: &HistogramOptions,
) -> Result<Cow<'h, FloatHistogram>> {
    let mut h = Cow::Borrowed(h);
    if is_exponential_schema_reserved(h.schema) && h.schema > o.max_schema {
        reduce_float(h.to_mut(), o.max_schema)?;
    }
    if o.bucket_limit > 0 {
        let n = |h: &FloatHistogram| h.positive_buckets.len() + h.negative_buckets.len();
        if n(&h) > o.bucket_limit && !is_exponential_schema(h.schema) {
            return Err(Error::BucketLimit);
        }
        while n(&h) > o.bucket_limit {
            if h.schema <= EXPONENTIAL_SCHEMA_MIN {
                return Err(Error::BucketLimit);
            }
            let target = h.schema - 1;
            reduce_float(h.to_mut(), target)?;
        }
    }
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_model::Span;

    #[test]
    fn pick_schema_as_prometheus() {
        // Prometheus' TestPickSchema cases.
        for (factor, want) in [
            (65536.0, -4),
            (256.0, -3),
            (16.0, -2),
            (4.0, -1),
            (2.0, 0),
            (1.4, 1),
            (1.1, 2),
            (1.09, 3),
            (1.04, 4),
            (1.02, 5),
            (1.01, 6),
            (1.005, 7),
            (1.002, 8),
            (1.001, 8),
            (1.0, 8),
            (0.0, 8),
        ] {
            assert_eq!(pick_schema(factor), want, "{factor}");
        }
    }

    fn h() -> Histogram {
        // Schema 1, buckets at indices -1..=2 and 5: counts 1, 2, 3, 4 and 5.
        Histogram {
            schema: 1,
            count: 15,
            positive_spans: vec![Span::new(-1, 4), Span::new(2, 1)],
            positive_buckets: vec![1, 1, 1, 1, 1],
            ..Histogram::default()
        }
    }

    #[test]
    fn min_bucket_factor_reduces_the_schema() {
        let o = HistogramOptions {
            max_schema: 0,
            ..HistogramOptions::default()
        };
        let got = limit_int(&h(), &o).unwrap().into_owned();
        // Index i of schema 1 goes to ((i-1)>>1)+1: -1→0, 0→0, 1→1, 2→1, 5→3.
        assert_eq!(got.schema, 0);
        assert_eq!(got.positive_spans, vec![Span::new(0, 2), Span::new(1, 1)]);
        assert_eq!(got.to_float().positive_buckets, vec![3.0, 7.0, 5.0]);
        let f = limit_float(&h().to_float(), &o).unwrap().into_owned();
        assert_eq!(f.positive_buckets, vec![3.0, 7.0, 5.0]);
        // Within the limit: untouched, not copied.
        let o = HistogramOptions::default();
        assert!(matches!(limit_int(&h(), &o).unwrap(), Cow::Borrowed(_)));
    }

    #[test]
    fn bucket_limit_reduces_until_it_fits_or_fails() {
        let o = HistogramOptions {
            bucket_limit: 2,
            ..HistogramOptions::default()
        };
        let got = limit_int(&h(), &o).unwrap().into_owned();
        // Schema 0 and schema -1 still have 3 buckets; schema -2 has 2 (3 and 12).
        assert_eq!(got.schema, -2);
        assert_eq!(got.positive_spans, vec![Span::new(0, 2)]);
        assert_eq!(got.positive_buckets, vec![3, 9]);
        assert_eq!(got.to_float().positive_buckets.iter().sum::<f64>(), 15.0);
        let nhcb = Histogram {
            schema: -53,
            positive_spans: vec![Span::new(0, 3)],
            positive_buckets: vec![1, 0, 0],
            custom_values: vec![1.0, 2.0].into(),
            ..Histogram::default()
        };
        assert!(matches!(limit_int(&nhcb, &o), Err(Error::BucketLimit)));
    }
}
