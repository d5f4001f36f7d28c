//! The `io.prometheus.client` messages (client_model's `metrics.proto`) as the decoder sees
//! them: borrowed from the body, reused from one metric to the next (as Prometheus'
//! `MetricStreamingDecoder` reuses its structs), every field at its proto3 default when absent.

use sightline_model::Span;

use super::wire::{err, fields, Value, R};

/// A `MetricFamily` without its metrics, which stay undecoded until they are reached.
#[derive(Debug, Default)]
pub(crate) struct Family<'a> {
    pub(crate) name: &'a str,
    pub(crate) help: &'a str,
    pub(crate) metric_type: i32,
    pub(crate) unit: &'a str,
    /// Each metric's bytes and their absolute offset.
    pub(crate) metrics: Vec<(&'a [u8], usize)>,
}

impl<'a> Family<'a> {
    pub(crate) fn decode(&mut self, buf: &'a [u8], base: usize) -> R<()> {
        self.name = "";
        self.help = "";
        self.metric_type = 0;
        self.unit = "";
        self.metrics.clear();
        fields(buf, base, |f, v, at| {
            match f {
                1 => self.name = v.str(at, "MetricFamily.name")?,
                2 => self.help = v.str(at, "MetricFamily.help")?,
                3 => self.metric_type = v.int32(at, "MetricFamily.type")?,
                4 => self.metrics.push(v.message(at, "MetricFamily.metric")?),
                5 => self.unit = v.str(at, "MetricFamily.unit")?,
                _ => {}
            }
            Ok(())
        })
    }
}

/// A decoded exemplar: its labels (in written order), value and timestamp.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Exemplar<'a> {
    /// The labels, borrowed from the body.
    pub labels: Vec<(&'a str, &'a str)>,
    /// The value.
    pub value: f64,
    /// Milliseconds; `None` when the message has no timestamp.
    pub timestamp_ms: Option<i64>,
}

impl<'a> Exemplar<'a> {
    fn decode(buf: &'a [u8], base: usize) -> R<Self> {
        let mut e = Exemplar::default();
        fields(buf, base, |f, v, at| {
            match f {
                1 => {
                    let (b, off) = v.message(at, "Exemplar.label")?;
                    e.labels.push(label_pair(b, off)?);
                }
                2 => e.value = v.double(at, "Exemplar.value")?,
                3 => {
                    let (b, off) = v.message(at, "Exemplar.timestamp")?;
                    e.timestamp_ms = Some(timestamp(b, off)?);
                }
                _ => {}
            }
            Ok(())
        })?;
        Ok(e)
    }
}

/// A `google.protobuf.Timestamp` in milliseconds (`seconds*1000 + nanos/1e6`, as Prometheus
/// computes it, without validation; overflow wraps instead of panicking).
fn timestamp(buf: &[u8], base: usize) -> R<i64> {
    let (mut secs, mut nanos) = (0i64, 0i32);
    fields(buf, base, |f, v, at| {
        match f {
            1 => secs = v.int64(at, "Timestamp.seconds")?,
            2 => nanos = v.int32(at, "Timestamp.nanos")?,
            _ => {}
        }
        Ok(())
    })?;
    Ok(secs
        .wrapping_mul(1000)
        .wrapping_add(i64::from(nanos / 1_000_000)))
}

/// A `LabelPair`, checked as Prometheus' decoder checks it: a non-empty name, UTF-8 both.
fn label_pair(buf: &[u8], base: usize) -> R<(&str, &str)> {
    let (mut name, mut value) = ("", "");
    fields(buf, base, |f, v, at| {
        match f {
            1 => name = v.str(at, "LabelPair.name")?,
            2 => value = v.str(at, "LabelPair.value")?,
            _ => {}
        }
        Ok(())
    })?;
    if name.is_empty() {
        return Err(err(base, "invalid label name: \"\""));
    }
    Ok((name, value))
}

fn span(buf: &[u8], base: usize) -> R<Span> {
    let mut s = Span::default();
    fields(buf, base, |f, v, at| {
        match f {
            1 => s.offset = v.sint32(at, "BucketSpan.offset")?,
            2 => s.length = v.uint32(at, "BucketSpan.length")?,
            _ => {}
        }
        Ok(())
    })?;
    Ok(s)
}

/// A classic `Bucket`.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Bucket<'a> {
    pub(crate) cumulative_count: u64,
    pub(crate) cumulative_count_float: f64,
    pub(crate) upper_bound: f64,
    pub(crate) exemplar: Option<Exemplar<'a>>,
}

impl Bucket<'_> {
    /// The count Prometheus reads: the float count when it is not zero.
    pub(crate) fn count(&self) -> f64 {
        if self.cumulative_count_float != 0.0 {
            self.cumulative_count_float
        } else {
            self.cumulative_count as f64
        }
    }
}

/// A `Histogram` message (classic and native parts).
#[derive(Debug, Default)]
pub(crate) struct Hist<'a> {
    pub(crate) sample_count: u64,
    pub(crate) sample_count_float: f64,
    pub(crate) sample_sum: f64,
    pub(crate) buckets: Vec<Bucket<'a>>,
    pub(crate) start_timestamp: Option<i64>,
    pub(crate) schema: i32,
    pub(crate) zero_threshold: f64,
    pub(crate) zero_count: u64,
    pub(crate) zero_count_float: f64,
    pub(crate) negative_spans: Vec<Span>,
    pub(crate) negative_deltas: Vec<i64>,
    pub(crate) negative_counts: Vec<f64>,
    pub(crate) positive_spans: Vec<Span>,
    pub(crate) positive_deltas: Vec<i64>,
    pub(crate) positive_counts: Vec<f64>,
    pub(crate) exemplars: Vec<Exemplar<'a>>,
}

impl<'a> Hist<'a> {
    fn reset(&mut self) {
        self.sample_count = 0;
        self.sample_count_float = 0.0;
        self.sample_sum = 0.0;
        self.buckets.clear();
        self.start_timestamp = None;
        self.schema = 0;
        self.zero_threshold = 0.0;
        self.zero_count = 0;
        self.zero_count_float = 0.0;
        self.negative_spans.clear();
        self.negative_deltas.clear();
        self.negative_counts.clear();
        self.positive_spans.clear();
        self.positive_deltas.clear();
        self.positive_counts.clear();
        self.exemplars.clear();
    }

    /// Merges a `Histogram` message into `self` (a repeated sub-message field merges, as in
    /// every protobuf implementation).
    fn merge(&mut self, buf: &'a [u8], base: usize) -> R<()> {
        fields(buf, base, |f, v, at| {
            match f {
                1 => self.sample_count = v.uint64(at, "Histogram.sample_count")?,
                2 => self.sample_sum = v.double(at, "Histogram.sample_sum")?,
                3 => {
                    let (b, off) = v.message(at, "Histogram.bucket")?;
                    let mut bk = Bucket::default();
                    fields(b, off, |f, v, at| {
                        match f {
                            1 => bk.cumulative_count = v.uint64(at, "Bucket.cumulative_count")?,
                            2 => bk.upper_bound = v.double(at, "Bucket.upper_bound")?,
                            3 => {
                                let (b, off) = v.message(at, "Bucket.exemplar")?;
                                bk.exemplar = Some(Exemplar::decode(b, off)?);
                            }
                            4 => {
                                bk.cumulative_count_float =
                                    v.double(at, "Bucket.cumulative_count_float")?
                            }
                            _ => {}
                        }
                        Ok(())
                    })?;
                    self.buckets.push(bk);
                }
                4 => self.sample_count_float = v.double(at, "Histogram.sample_count_float")?,
                5 => self.schema = v.sint32(at, "Histogram.schema")?,
                6 => self.zero_threshold = v.double(at, "Histogram.zero_threshold")?,
                7 => self.zero_count = v.uint64(at, "Histogram.zero_count")?,
                8 => self.zero_count_float = v.double(at, "Histogram.zero_count_float")?,
                9 => {
                    let (b, off) = v.message(at, "Histogram.negative_span")?;
                    self.negative_spans.push(span(b, off)?);
                }
                10 => v.packed_sint64(at, "Histogram.negative_delta", &mut self.negative_deltas)?,
                11 => {
                    v.packed_doubles(at, "Histogram.negative_count", &mut self.negative_counts)?
                }
                12 => {
                    let (b, off) = v.message(at, "Histogram.positive_span")?;
                    self.positive_spans.push(span(b, off)?);
                }
                13 => v.packed_sint64(at, "Histogram.positive_delta", &mut self.positive_deltas)?,
                14 => {
                    v.packed_doubles(at, "Histogram.positive_count", &mut self.positive_counts)?
                }
                15 => {
                    let (b, off) = v.message(at, "Histogram.start_timestamp")?;
                    self.start_timestamp = Some(timestamp(b, off)?);
                }
                16 => {
                    let (b, off) = v.message(at, "Histogram.exemplars")?;
                    self.exemplars.push(Exemplar::decode(b, off)?);
                }
                _ => {}
            }
            Ok(())
        })
    }

    /// The observation count Prometheus reads: the float count when it is positive.
    pub(crate) fn count(&self) -> f64 {
        if self.sample_count_float > 0.0 {
            self.sample_count_float
        } else {
            self.sample_count as f64
        }
    }

    /// Whether the float fields make this a float histogram.
    pub(crate) fn is_float(&self) -> bool {
        self.sample_count_float > 0.0 || self.zero_count_float > 0.0
    }

    /// Prometheus' `isNativeHistogram`: any span, a zero threshold or a zero count. (A
    /// native histogram without observations signals itself with an empty span.)
    pub(crate) fn is_native(&self) -> bool {
        !self.positive_spans.is_empty()
            || !self.negative_spans.is_empty()
            || self.zero_threshold > 0.0
            || self.zero_count > 0
    }

    /// Prometheus' `checkNativeHistogramConsistency`: the spans must describe exactly as many
    /// buckets as there are counts (a mismatch would make later bucket walks go astray).
    pub(crate) fn check_consistency(&self) -> Result<(), String> {
        let (p, n) = if self.is_float() {
            (self.positive_counts.len(), self.negative_counts.len())
        } else {
            (self.positive_deltas.len(), self.negative_deltas.len())
        };
        check_spans("positive", &self.positive_spans, p)?;
        check_spans("negative", &self.negative_spans, n)
    }
}

fn check_spans(side: &str, spans: &[Span], n: usize) -> Result<(), String> {
    let total: u64 = spans.iter().map(|s| u64::from(s.length)).sum();
    if total != n as u64 {
        return Err(format!(
            "{side} side: spans require {total} buckets, have {n}"
        ));
    }
    Ok(())
}

/// A `Metric`, decoded into reused buffers.
#[derive(Debug, Default)]
pub(crate) struct Metric<'a> {
    pub(crate) labels: Vec<(&'a str, &'a str)>,
    pub(crate) gauge: f64,
    pub(crate) counter: f64,
    pub(crate) counter_exemplar: Option<Exemplar<'a>>,
    pub(crate) counter_start: Option<i64>,
    pub(crate) summary_count: u64,
    pub(crate) summary_sum: f64,
    /// `(quantile, value)` pairs.
    pub(crate) quantiles: Vec<(f64, f64)>,
    pub(crate) summary_start: Option<i64>,
    pub(crate) untyped: f64,
    pub(crate) histogram: Hist<'a>,
    pub(crate) timestamp_ms: i64,
}

impl<'a> Metric<'a> {
    pub(crate) fn decode(&mut self, buf: &'a [u8], base: usize) -> R<()> {
        self.labels.clear();
        self.gauge = 0.0;
        self.counter = 0.0;
        self.counter_exemplar = None;
        self.counter_start = None;
        self.summary_count = 0;
        self.summary_sum = 0.0;
        self.quantiles.clear();
        self.summary_start = None;
        self.untyped = 0.0;
        self.histogram.reset();
        self.timestamp_ms = 0;
        fields(buf, base, |f, v, at| {
            match f {
                1 => {
                    let (b, off) = v.message(at, "Metric.label")?;
                    self.labels.push(label_pair(b, off)?);
                }
                2 => {
                    let (b, off) = v.message(at, "Metric.gauge")?;
                    single_double(b, off, "Gauge.value", &mut self.gauge)?;
                }
                3 => {
                    let (b, off) = v.message(at, "Metric.counter")?;
                    fields(b, off, |f, v, at| {
                        match f {
                            1 => self.counter = v.double(at, "Counter.value")?,
                            2 => {
                                let (b, off) = v.message(at, "Counter.exemplar")?;
                                self.counter_exemplar = Some(Exemplar::decode(b, off)?);
                            }
                            3 => {
                                let (b, off) = v.message(at, "Counter.start_timestamp")?;
                                self.counter_start = Some(timestamp(b, off)?);
                            }
                            _ => {}
                        }
                        Ok(())
                    })?;
                }
                4 => {
                    let (b, off) = v.message(at, "Metric.summary")?;
                    fields(b, off, |f, v, at| {
                        match f {
                            1 => self.summary_count = v.uint64(at, "Summary.sample_count")?,
                            2 => self.summary_sum = v.double(at, "Summary.sample_sum")?,
                            3 => {
                                let (b, off) = v.message(at, "Summary.quantile")?;
                                let mut q = (0.0, 0.0);
                                fields(b, off, |f, v, at| {
                                    match f {
                                        1 => q.0 = v.double(at, "Quantile.quantile")?,
                                        2 => q.1 = v.double(at, "Quantile.value")?,
                                        _ => {}
                                    }
                                    Ok(())
                                })?;
                                self.quantiles.push(q);
                            }
                            4 => {
                                let (b, off) = v.message(at, "Summary.start_timestamp")?;
                                self.summary_start = Some(timestamp(b, off)?);
                            }
                            _ => {}
                        }
                        Ok(())
                    })?;
                }
                5 => {
                    let (b, off) = v.message(at, "Metric.untyped")?;
                    single_double(b, off, "Untyped.value", &mut self.untyped)?;
                }
                6 => self.timestamp_ms = v.int64(at, "Metric.timestamp_ms")?,
                7 => {
                    let (b, off) = v.message(at, "Metric.histogram")?;
                    self.histogram.merge(b, off)?;
                }
                _ => {}
            }
            Ok(())
        })
    }
}

/// A message whose field 1 is its one double (`Gauge`, `Untyped`).
fn single_double(buf: &[u8], base: usize, name: &str, out: &mut f64) -> R<()> {
    fields(buf, base, |f, v: Value<'_>, at| {
        if f == 1 {
            *out = v.double(at, name)?;
        }
        Ok(())
    })
}
