//! Classic histograms as native histograms with custom buckets (NHCB): Prometheus'
//! `util/convertnhcb`. A [`TempHistogram`] collects the `_bucket`, `_count` and `_sum`
//! values of one classic histogram (in any order; buckets by their `le`) and converts them
//! into an integer histogram when every count is a whole number, a float one otherwise.

use std::sync::Arc;

use sightline_model::histogram::CUSTOM_BUCKETS_SCHEMA;
use sightline_model::{FloatHistogram, Histogram, Span};

/// Why a classic histogram cannot be converted (Prometheus' messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NhcbError(pub String);

impl std::fmt::Display for NhcbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The values of one classic histogram, collected before conversion.
#[derive(Debug, Clone, Default)]
pub struct TempHistogram {
    /// `(le, cumulative count)`, sorted by `le`.
    buckets: Vec<(f64, f64)>,
    count: f64,
    sum: f64,
    err: Option<NhcbError>,
    has_count: bool,
}

/// A converted histogram: integer when every count is whole, float otherwise.
#[derive(Debug, Clone, PartialEq)]
pub enum Converted {
    /// Whole counts.
    Int(Histogram),
    /// Fractional counts.
    Float(FloatHistogram),
}

fn g(v: f64) -> String {
    sightline_model::format_go_float(v)
}

impl TempHistogram {
    /// An empty collector.
    pub fn new() -> Self {
        TempHistogram::default()
    }

    /// Forgets everything collected.
    pub fn reset(&mut self) {
        self.buckets.clear();
        self.count = 0.0;
        self.sum = 0.0;
        self.err = None;
        self.has_count = false;
    }

    /// The first error met, if any (every later call returns it too).
    pub fn err(&self) -> Option<&NhcbError> {
        self.err.as_ref()
    }

    fn fail(&mut self, msg: String) -> Result<(), NhcbError> {
        let e = NhcbError(msg);
        self.err = Some(e.clone());
        Err(e)
    }

    /// Records the cumulative count of the bucket with upper bound `le`. A repeated `le`
    /// is ignored (a duplicate sample).
    pub fn set_bucket_count(&mut self, le: f64, count: f64) -> Result<(), NhcbError> {
        if let Some(e) = &self.err {
            return Err(e.clone());
        }
        if le.is_nan() {
            return self.fail("bucket boundary must not be NaN".into());
        }
        if count < 0.0 {
            return self.fail(format!(
                "bucket count must be non-negative: le={}, count={}",
                g(le),
                g(count)
            ));
        }
        match self.buckets.last().copied() {
            None => self.buckets.push((le, count)),
            Some((last_le, last_count)) if last_le < le => {
                if count < last_count {
                    return self.fail(format!(
                        "count is not cumulative: {} < {}",
                        g(count),
                        g(last_count)
                    ));
                }
                self.buckets.push((le, count));
            }
            Some((last_le, _)) if last_le == le => {}
            Some(_) => {
                let i = self.buckets.partition_point(|b| b.0 < le);
                if self.buckets[i].0 == le {
                    return Ok(());
                }
                if i > 0 && count < self.buckets[i - 1].1 {
                    let prev = self.buckets[i - 1].1;
                    return self.fail(format!(
                        "count is not cumulative: {} < {}",
                        g(count),
                        g(prev)
                    ));
                }
                if count > self.buckets[i].1 {
                    let next = self.buckets[i].1;
                    return self.fail(format!(
                        "count is not cumulative: {} > {}",
                        g(count),
                        g(next)
                    ));
                }
                self.buckets.insert(i, (le, count));
            }
        }
        Ok(())
    }

    /// Records the `_count` value.
    pub fn set_count(&mut self, count: f64) -> Result<(), NhcbError> {
        if let Some(e) = &self.err {
            return Err(e.clone());
        }
        if count < 0.0 {
            return self.fail(format!("count must be non-negative: count={}", g(count)));
        }
        self.count = count;
        self.has_count = true;
        Ok(())
    }

    /// Records the `_sum` value.
    pub fn set_sum(&mut self, sum: f64) -> Result<(), NhcbError> {
        if let Some(e) = &self.err {
            return Err(e.clone());
        }
        self.sum = sum;
        Ok(())
    }

    /// Converts what was collected (`TempHistogram.Convert`). A missing count is the last
    /// bucket's; a missing `+Inf` bucket is added with the count.
    pub fn convert(&self) -> Result<Converted, NhcbError> {
        if let Some(e) = &self.err {
            return Err(e.clone());
        }
        let mut buckets = self.buckets.clone();
        let mut count = self.count;
        if !self.has_count {
            if let Some(&(_, c)) = buckets.last() {
                count = c;
            }
        }
        if buckets.last().is_none_or(|b| b.0 != f64::INFINITY) {
            buckets.push((f64::INFINITY, count));
        }
        let whole = |v: f64| v == v.round() && v.abs() < 9.2e18;
        if buckets.iter().all(|b| whole(b.1)) && whole(count) && count >= 0.0 {
            self.to_int(&buckets, count)
        } else {
            self.to_float(&buckets, count)
        }
    }

    fn custom_values(buckets: &[(f64, f64)]) -> Arc<[f64]> {
        // Every bound but the last (+Inf) one.
        buckets[..buckets.len() - 1].iter().map(|b| b.0).collect()
    }

    fn to_int(&self, buckets: &[(f64, f64)], count: f64) -> Result<Converted, NhcbError> {
        let last = buckets[buckets.len() - 1];
        if count as u64 != last.1 as u64 {
            return Err(NhcbError(format!(
                "count mismatch: count={} != le={} count={}",
                count as u64,
                g(last.0),
                g(last.1)
            )));
        }
        let mut h = Histogram {
            schema: CUSTOM_BUCKETS_SCHEMA,
            count: count as u64,
            sum: self.sum,
            positive_spans: vec![Span::new(0, buckets.len() as u32)],
            positive_buckets: Vec::with_capacity(buckets.len()),
            custom_values: Self::custom_values(buckets),
            ..Histogram::default()
        };
        let (mut prev_count, mut prev_delta) = (0i64, 0i64);
        for b in buckets {
            let c = b.1 as i64;
            let delta = c.wrapping_sub(prev_count);
            h.positive_buckets.push(delta.wrapping_sub(prev_delta));
            prev_count = c;
            prev_delta = delta;
        }
        h.compact(2);
        Ok(Converted::Int(h))
    }

    fn to_float(&self, buckets: &[(f64, f64)], count: f64) -> Result<Converted, NhcbError> {
        let last = buckets[buckets.len() - 1];
        if count != last.1 {
            return Err(NhcbError(format!(
                "count mismatch: count={} != le={} count={}",
                g(count),
                g(last.0),
                g(last.1)
            )));
        }
        let mut prev = 0.0;
        let mut fh = FloatHistogram {
            schema: CUSTOM_BUCKETS_SCHEMA,
            count,
            sum: self.sum,
            positive_spans: vec![Span::new(0, buckets.len() as u32)],
            positive_buckets: buckets
                .iter()
                .map(|b| {
                    let v = b.1 - prev;
                    prev = b.1;
                    v
                })
                .collect(),
            custom_values: Self::custom_values(buckets),
            ..FloatHistogram::default()
        };
        fh.compact(0);
        Ok(Converted::Float(fh))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Prometheus' `TestNHCBConvert` cases.
    #[test]
    fn convert_cases_of_prometheus() {
        let int = |count: u64, sum: f64, spans: Vec<Span>, b: Vec<i64>, cv: Vec<f64>| {
            Converted::Int(Histogram {
                schema: CUSTOM_BUCKETS_SCHEMA,
                count,
                sum,
                positive_spans: spans,
                positive_buckets: b,
                custom_values: cv.into(),
                ..Histogram::default()
            })
        };
        let float = |count: f64, sum: f64, spans: Vec<Span>, b: Vec<f64>, cv: Vec<f64>| {
            Converted::Float(FloatHistogram {
                schema: CUSTOM_BUCKETS_SCHEMA,
                count,
                sum,
                positive_spans: spans,
                positive_buckets: b,
                custom_values: cv.into(),
                ..FloatHistogram::default()
            })
        };
        type Setup = fn(&mut TempHistogram);
        let cases: Vec<(&str, Setup, Result<Converted, &str>)> = vec![
            ("empty", |_| {}, Ok(int(0, 0.0, vec![], vec![], vec![]))),
            (
                "sum only",
                |h| {
                    let _ = h.set_sum(1000.25);
                },
                Ok(int(0, 1000.25, vec![], vec![], vec![])),
            ),
            (
                "single integer bucket",
                |h| {
                    let _ = h.set_sum(1000.25);
                    let _ = h.set_bucket_count(0.5, 1000.0);
                },
                Ok(int(
                    1000,
                    1000.25,
                    vec![Span::new(0, 1)],
                    vec![1000],
                    vec![0.5],
                )),
            ),
            (
                "single float bucket",
                |h| {
                    let _ = h.set_sum(1000.25);
                    let _ = h.set_bucket_count(0.5, 1337.42);
                },
                Ok(float(
                    1337.42,
                    1000.25,
                    vec![Span::new(0, 1)],
                    vec![1337.42],
                    vec![0.5],
                )),
            ),
            (
                "happy case integer bucket",
                |h| {
                    let _ = h.set_count(1000.0);
                    let _ = h.set_sum(1000.25);
                    let _ = h.set_bucket_count(0.5, 50.0);
                    let _ = h.set_bucket_count(1.0, 950.0);
                    let _ = h.set_bucket_count(f64::INFINITY, 1000.0);
                },
                Ok(int(
                    1000,
                    1000.25,
                    vec![Span::new(0, 3)],
                    vec![50, 850, -850],
                    vec![0.5, 1.0],
                )),
            ),
            (
                "happy case float bucket",
                |h| {
                    let _ = h.set_count(1000.0);
                    let _ = h.set_sum(1000.25);
                    let _ = h.set_bucket_count(0.5, 50.0);
                    let _ = h.set_bucket_count(1.0, 950.5);
                    let _ = h.set_bucket_count(f64::INFINITY, 1000.0);
                },
                Ok(float(
                    1000.0,
                    1000.25,
                    vec![Span::new(0, 3)],
                    vec![50.0, 900.5, 49.5],
                    vec![0.5, 1.0],
                )),
            ),
            (
                "non cumulative bucket",
                |h| {
                    let _ = h.set_count(1000.0);
                    let _ = h.set_sum(1000.25);
                    let _ = h.set_bucket_count(0.5, 50.0);
                    let _ = h.set_bucket_count(1.0, 950.0);
                    let _ = h.set_bucket_count(f64::INFINITY, 900.0);
                },
                Err("count is not cumulative: 900 < 950"),
            ),
            (
                "negative count",
                |h| {
                    let _ = h.set_count(-1000.0);
                    let _ = h.set_sum(1000.25);
                    let _ = h.set_bucket_count(0.5, 50.0);
                },
                Err("count must be non-negative: count=-1000"),
            ),
            (
                "NaN bucket upper bound",
                |h| {
                    let _ = h.set_bucket_count(1.0, 5.0);
                    let _ = h.set_bucket_count(f64::NAN, 10.0);
                },
                Err("bucket boundary must not be NaN"),
            ),
            (
                "mixed order",
                |h| {
                    let _ = h.set_bucket_count(0.5, 50.0);
                    let _ = h.set_bucket_count(f64::INFINITY, 1000.0);
                    let _ = h.set_bucket_count(1.0, 950.0);
                    let _ = h.set_count(1000.0);
                    let _ = h.set_sum(1000.25);
                },
                Ok(int(
                    1000,
                    1000.25,
                    vec![Span::new(0, 3)],
                    vec![50, 850, -850],
                    vec![0.5, 1.0],
                )),
            ),
            (
                "count below the +Inf bucket",
                |h| {
                    let _ = h.set_count(10.0);
                    let _ = h.set_bucket_count(1.0, 5.0);
                    let _ = h.set_bucket_count(f64::INFINITY, 12.0);
                },
                Err("count mismatch: count=10 != le=+Inf count=12"),
            ),
        ];
        for (name, setup, want) in cases {
            let mut h = TempHistogram::new();
            setup(&mut h);
            let got = h.convert().map_err(|e| e.0);
            assert_eq!(got, want.map_err(String::from), "{name}");
        }
    }
}
