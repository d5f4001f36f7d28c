//! Prometheus' protobuf exposition (`application/vnd.google.protobuf;
//! proto=io.prometheus.client.MetricFamily; encoding=delimited`): varint-length-delimited
//! `MetricFamily` messages of client_model's `metrics.proto`, decoded by hand.
//!
//! [`ProtoParser`] yields what Prometheus' `textparse.ProtobufParser` yields, in the same
//! order: per family `Help`, `Unit` (when set) and `Type`, then per metric its samples —
//! one float for a counter, gauge or untyped metric; `_count`, `_sum` and one series per
//! quantile for a summary; for a histogram, the native histogram when it has native parts
//! (spans, a zero threshold or zero count) and native histograms are not ignored, and the
//! classic series (`_count`, `_sum`, `_bucket` with `le`, a `+Inf` bucket added when
//! missing) when it has no native parts or classic buckets are kept too; with NHCB
//! conversion on, a classic histogram also (or only) yields a native histogram with custom
//! buckets. Empty families are skipped. Each sample carries its timestamp (`timestamp_ms`, 0
//! meaning none, as in Prometheus), its start timestamp (`start_timestamp`, 0 = none) and its
//! exemplars (counters: the one exemplar; classic buckets: the bucket's; native histograms:
//! the exemplars that have a timestamp).
//!
//! The input is hostile: every length and count is checked before use, spans are checked
//! against the bucket counts before any bucket walk, and an error carries the byte offset
//! (`line` 0, `column` = offset) of the field that is wrong. As with the text parsers, the
//! first error ends the stream. Only one family's metric list and one metric are decoded at a
//! time, into reused buffers; their memory is linear in that metric's bytes (at worst about
//! 40 times, for a metric of empty classic buckets, as in Prometheus' decoder), so a job's
//! `body_size_limit` bounds it.

mod encode;
mod msg;
mod wire;

use std::borrow::Cow;

use sightline_model::{CounterResetHint, FloatHistogram, Histogram, LabelsBuilder, MetricType};

pub use encode::{
    encode_delimited, Bucket, Counter, Exemplar, HistogramMsg, Metric, MetricFamily, Quantile,
    Summary, Timestamp, TYPE_COUNTER, TYPE_GAUGE, TYPE_GAUGE_HISTOGRAM, TYPE_HISTOGRAM,
    TYPE_SUMMARY, TYPE_UNTYPED,
};

use crate::nhcb::{Converted, TempHistogram};
use crate::ParseError;
use msg::{Family, Metric as Msg};
/// The `le` and `quantile` values (Prometheus' `FormatOpenMetricsFloat`).
pub use sightline_model::histogram::format_openmetrics_float;
use wire::{err, varint, R};

/// How histograms are read (Prometheus' `ParserOptions`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProtoOptions {
    /// Ignore every native part: histograms are read as classic ones (`scrape_native_histograms:
    /// false`).
    pub ignore_native_histograms: bool,
    /// Also yield the classic series of a histogram that has native parts
    /// (`always_scrape_classic_histograms`).
    pub keep_classic_histograms: bool,
    /// Convert classic histograms to native histograms with custom buckets
    /// (`convert_classic_histograms_to_nhcb`); the classic series stay only with
    /// `keep_classic_histograms`.
    pub convert_classic_histograms_to_nhcb: bool,
}

pub use msg::Exemplar as ProtoExemplar;

/// The value of one sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ProtoValue<'p> {
    /// A float sample.
    Float(f64),
    /// A native histogram with integer counts.
    Histogram(&'p Histogram),
    /// A native histogram with float counts.
    FloatHistogram(&'p FloatHistogram),
}

/// One sample (float or native histogram) with its series.
#[derive(Debug, Clone)]
pub struct ProtoSample<'p> {
    /// The series identity: the sorted labels as Prometheus' parser writes them (the name's
    /// value, then `0xff name 0xff value` per other label). Equal keys are the same series,
    /// so a scraper may key its cache on it.
    pub key: &'p [u8],
    /// The metric name, with the `_count`/`_sum`/`_bucket` suffix where one applies.
    pub name: &'p str,
    /// The value.
    pub value: ProtoValue<'p>,
    /// The explicit timestamp, if any (Prometheus reads a 0 `timestamp_ms` as none).
    pub timestamp_ms: Option<i64>,
    /// The start (created) timestamp of the counter, summary or histogram; 0 when unknown.
    pub start_timestamp_ms: i64,
    /// Exemplars of this sample.
    pub exemplars: &'p [ProtoExemplar<'p>],
    /// The family's type.
    pub metric_type: MetricType,
    labels: &'p [(&'p str, &'p str)],
    magic: Option<(&'static str, &'p str)>,
}

impl ProtoSample<'_> {
    /// Pushes `__name__`, the metric's labels and the `le`/`quantile` label onto `b` (without
    /// clearing it); the parser has rejected duplicate names.
    pub fn labels_into(&self, b: &mut LabelsBuilder) {
        b.push_unchecked(sightline_model::METRIC_NAME, self.name);
        for (n, v) in self.labels {
            b.push_unchecked(*n, *v);
        }
        if let Some((n, v)) = self.magic {
            b.push_unchecked(n, v);
        }
    }
}

/// One item of a protobuf exposition.
#[derive(Debug, Clone)]
pub enum ProtoEntry<'p> {
    /// The family's help (always yielded, possibly empty, as Prometheus does).
    Help { name: &'p str, help: Cow<'p, str> },
    /// The family's unit, when set.
    Unit { name: &'p str, unit: &'p str },
    /// The family's type.
    Type {
        name: &'p str,
        metric_type: MetricType,
    },
    /// A sample.
    Sample(ProtoSample<'p>),
}

/// Which part of a metric a step yields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Help,
    Unit,
    Type,
    Plain,
    Count,
    Sum,
    Quantile(usize),
    Bucket(usize),
    InfBucket,
    Native,
    Nhcb,
}

// `MetricType` codes; anything else (`UNTYPED` included) reads as an untyped value.
const COUNTER: i32 = TYPE_COUNTER;
const GAUGE: i32 = TYPE_GAUGE;
const SUMMARY: i32 = TYPE_SUMMARY;
const HISTOGRAM: i32 = TYPE_HISTOGRAM;
const GAUGE_HISTOGRAM: i32 = TYPE_GAUGE_HISTOGRAM;

/// The streaming parser. Use [`ProtoParser::next_entry`]; entries borrow the parser.
pub struct ProtoParser<'a> {
    buf: &'a [u8],
    /// Offset of the next family's length prefix.
    pos: usize,
    opts: ProtoOptions,
    fam: Family<'a>,
    /// Index of the next metric of `fam` to decode.
    next_metric: usize,
    m: Msg<'a>,
    steps: Vec<Step>,
    step: usize,
    done: bool,
    // Output buffers, reused.
    name: String,
    magic: String,
    key: Vec<u8>,
    sorted: Vec<(&'a str, &'a str)>,
    h: Histogram,
    fh: FloatHistogram,
    exemplars: Vec<ProtoExemplar<'a>>,
    tmp: TempHistogram,
    /// Offset of the current metric, for errors found while preparing its samples.
    metric_off: usize,
    /// The current sample's float value, or which histogram buffer holds it.
    value: Kind,
    magic_name: Option<&'static str>,
    start: i64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Float(f64),
    Int,
    FloatHist,
}

/// Parses a delimited protobuf exposition.
pub fn parse_proto(buf: &[u8], opts: ProtoOptions) -> ProtoParser<'_> {
    ProtoParser {
        buf,
        pos: 0,
        opts,
        fam: Family::default(),
        next_metric: 0,
        m: Msg::default(),
        steps: Vec::new(),
        step: 0,
        done: false,
        name: String::new(),
        magic: String::new(),
        key: Vec::new(),
        sorted: Vec::new(),
        h: Histogram::default(),
        fh: FloatHistogram::default(),
        exemplars: Vec::new(),
        tmp: TempHistogram::new(),
        metric_off: 0,
        value: Kind::Float(0.0),
        magic_name: None,
        start: 0,
    }
}

fn metric_type(t: i32) -> MetricType {
    match t {
        COUNTER => MetricType::Counter,
        GAUGE => MetricType::Gauge,
        SUMMARY => MetricType::Summary,
        HISTOGRAM => MetricType::Histogram,
        GAUGE_HISTOGRAM => MetricType::GaugeHistogram,
        _ => MetricType::Unknown,
    }
}

impl<'a> ProtoParser<'a> {
    /// The next entry; `None` at the end or after an error.
    #[allow(clippy::should_implement_trait)]
    pub fn next_entry(&mut self) -> Option<Result<ProtoEntry<'_>, ParseError>> {
        if self.done {
            return None;
        }
        match self.advance() {
            Ok(Some(step)) => Some(Ok(self.entry(step))),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }

    /// Moves to the next step, decoding families and metrics as needed, and prepares the
    /// step's output. `None` at the end of the body.
    fn advance(&mut self) -> R<Option<Step>> {
        loop {
            if let Some(&s) = self.steps.get(self.step) {
                self.step += 1;
                self.prepare(s)?;
                return Ok(Some(s));
            }
            self.steps.clear();
            self.step = 0;
            if self.next_metric < self.fam.metrics.len() {
                let (b, off) = self.fam.metrics[self.next_metric];
                self.next_metric += 1;
                self.m.decode(b, off)?;
                self.plan_metric(off)?;
                continue;
            }
            if self.pos >= self.buf.len() {
                return Ok(None);
            }
            self.next_family()?;
        }
    }

    fn next_family(&mut self) -> R<()> {
        let start = self.pos;
        let mut p = self.pos;
        let len = varint(self.buf, &mut p, 0)?;
        if p - start > 5 {
            return Err(err(
                start,
                "invalid varint: message length prefix over 5 bytes",
            ));
        }
        let left = self.buf.len() - p;
        let len = usize::try_from(len)
            .ok()
            .filter(|&l| l <= left)
            .ok_or_else(|| {
                err(
                    start,
                    format!(
                        "insufficient length of buffer, expected at least {} bytes, got {} bytes",
                        len.saturating_add((p - start) as u64),
                        self.buf.len() - start
                    ),
                )
            })?;
        self.pos = p + len;
        self.fam.decode(&self.buf[p..p + len], p)?;
        self.next_metric = 0;
        if self.fam.metrics.is_empty() {
            // Empty families are skipped, metadata and all.
            return Ok(());
        }
        if self.fam.name.is_empty() {
            return Err(err(start, "invalid metric name: \"\""));
        }
        if !(COUNTER..=GAUGE_HISTOGRAM).contains(&self.fam.metric_type) {
            return Err(err(
                start,
                format!(
                    "unknown metric type for metric {:?}: {}",
                    self.fam.name, self.fam.metric_type
                ),
            ));
        }
        self.steps.push(Step::Help);
        if !self.fam.unit.is_empty() {
            self.steps.push(Step::Unit);
        }
        self.steps.push(Step::Type);
        Ok(())
    }

    /// The steps of the metric just decoded.
    fn plan_metric(&mut self, off: usize) -> R<()> {
        let h = &self.m.histogram;
        match self.fam.metric_type {
            SUMMARY => {
                self.steps.extend([Step::Count, Step::Sum]);
                self.steps
                    .extend((0..self.m.quantiles.len()).map(Step::Quantile));
            }
            HISTOGRAM | GAUGE_HISTOGRAM => {
                let native = !self.opts.ignore_native_histograms && h.is_native();
                let mut classic = vec![Step::Count, Step::Sum];
                let mut inf = false;
                for (i, b) in h.buckets.iter().enumerate() {
                    classic.push(Step::Bucket(i));
                    if b.upper_bound == f64::INFINITY {
                        inf = true;
                        break;
                    }
                }
                if !inf {
                    classic.push(Step::InfBucket);
                }
                if native {
                    h.check_consistency()
                        .map_err(|e| err(off, format!("histogram {:?}: {e}", self.fam.name)))?;
                    self.steps.push(Step::Native);
                    if self.opts.keep_classic_histograms && !h.buckets.is_empty() {
                        self.steps.extend(classic);
                    }
                } else {
                    let nhcb = self.opts.convert_classic_histograms_to_nhcb;
                    if !nhcb || self.opts.keep_classic_histograms {
                        self.steps.extend(classic);
                    }
                    if nhcb {
                        self.steps.push(Step::Nhcb);
                    }
                }
            }
            _ => self.steps.push(Step::Plain),
        }
        self.metric_off = off;
        // The labels, sorted once per metric; duplicates (among themselves or with the
        // name) would make an invalid series.
        self.sorted.clear();
        self.sorted.extend(self.m.labels.iter().copied());
        self.sorted.sort_unstable_by(|a, b| a.0.cmp(b.0));
        for w in self.sorted.windows(2) {
            if w[0].0 == w[1].0 {
                return Err(err(off, format!("duplicate label name {:?}", w[0].0)));
            }
        }
        if self
            .sorted
            .iter()
            .any(|l| l.0 == sightline_model::METRIC_NAME)
        {
            return Err(err(off, "label __name__ is set by the metric family"));
        }
        Ok(())
    }

    /// Computes the output of a sample step: name, magic label, key, value, exemplars.
    fn prepare(&mut self, step: Step) -> R<()> {
        if matches!(step, Step::Help | Step::Unit | Step::Type) {
            return Ok(());
        }
        let t = self.fam.metric_type;
        let h = &self.m.histogram;
        self.name.clear();
        self.name.push_str(self.fam.name);
        self.magic_name = None;
        self.magic.clear();
        self.exemplars.clear();
        self.start = match t {
            COUNTER => self.m.counter_start.unwrap_or(0),
            SUMMARY => self.m.summary_start.unwrap_or(0),
            HISTOGRAM | GAUGE_HISTOGRAM => h.start_timestamp.unwrap_or(0),
            _ => 0,
        };
        let is_hist = matches!(t, HISTOGRAM | GAUGE_HISTOGRAM);
        self.value = match step {
            Step::Plain => Kind::Float(match t {
                COUNTER => {
                    self.exemplars
                        .extend(self.m.counter_exemplar.iter().cloned());
                    self.m.counter
                }
                GAUGE => self.m.gauge,
                _ => self.m.untyped,
            }),
            Step::Count => {
                self.name.push_str("_count");
                Kind::Float(if is_hist {
                    h.count()
                } else {
                    self.m.summary_count as f64
                })
            }
            Step::Sum => {
                self.name.push_str("_sum");
                Kind::Float(if is_hist {
                    h.sample_sum
                } else {
                    self.m.summary_sum
                })
            }
            Step::Quantile(i) => {
                let (q, v) = self.m.quantiles.get(i).copied().unwrap_or_default();
                self.magic_name = Some("quantile");
                self.magic.push_str(&format_openmetrics_float(q));
                Kind::Float(v)
            }
            Step::Bucket(i) => {
                self.name.push_str("_bucket");
                let b = h.buckets.get(i).cloned().unwrap_or_default();
                self.magic_name = Some("le");
                self.magic
                    .push_str(&format_openmetrics_float(b.upper_bound));
                let v = b.count();
                self.exemplars.extend(b.exemplar);
                Kind::Float(v)
            }
            Step::InfBucket => {
                self.name.push_str("_bucket");
                self.magic_name = Some("le");
                self.magic.push_str("+Inf");
                Kind::Float(h.count())
            }
            Step::Native => {
                let kind = self.build_native();
                self.native_exemplars();
                kind
            }
            Step::Nhcb => {
                let kind = self.build_nhcb()?;
                self.native_exemplars();
                kind
            }
            Step::Help | Step::Unit | Step::Type => Kind::Float(0.0),
        };
        if let Some(n) = self.magic_name {
            if self.sorted.iter().any(|l| l.0 == n) {
                return Err(err(
                    self.metric_off,
                    format!(
                        "duplicate label name {n:?} (set by the {} series)",
                        self.name
                    ),
                ));
            }
        }
        self.write_key();
        Ok(())
    }

    /// The series key: sorted labels, the name's value bare, others as `0xff n 0xff v`.
    fn write_key(&mut self) {
        let mut key = std::mem::take(&mut self.key);
        key.clear();
        let mut extra: [(&str, &str); 2] = [(sightline_model::METRIC_NAME, &self.name), ("", "")];
        let mut n_extra = 1;
        if let Some(m) = self.magic_name {
            extra[1] = (m, &self.magic);
            n_extra = 2;
        }
        let extra = &mut extra[..n_extra];
        extra.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let (mut i, mut j) = (0, 0);
        loop {
            let next = match (self.sorted.get(i), extra.get(j)) {
                (Some(a), Some(b)) if a.0 < b.0 => {
                    i += 1;
                    *a
                }
                (_, Some(b)) => {
                    j += 1;
                    *b
                }
                (Some(a), None) => {
                    i += 1;
                    *a
                }
                (None, None) => break,
            };
            if next.0 == sightline_model::METRIC_NAME {
                key.extend_from_slice(next.1.as_bytes());
            } else {
                key.push(0xff);
                key.extend_from_slice(next.0.as_bytes());
                key.push(0xff);
                key.extend_from_slice(next.1.as_bytes());
            }
        }
        self.key = key;
    }

    fn hint(&self) -> CounterResetHint {
        if self.fam.metric_type == GAUGE_HISTOGRAM {
            CounterResetHint::Gauge
        } else {
            CounterResetHint::Unknown
        }
    }

    /// The native histogram of the current metric, compacted (its spans were checked).
    fn build_native(&mut self) -> Kind {
        let hint = self.hint();
        let h = &self.m.histogram;
        if h.is_float() {
            let fh = &mut self.fh;
            fh.counter_reset_hint = hint;
            fh.schema = h.schema;
            fh.zero_threshold = h.zero_threshold;
            fh.zero_count = h.zero_count_float;
            fh.count = h.sample_count_float;
            fh.sum = h.sample_sum;
            fh.positive_spans.clone_from(&h.positive_spans);
            fh.negative_spans.clone_from(&h.negative_spans);
            fh.positive_buckets.clone_from(&h.positive_counts);
            fh.negative_buckets.clone_from(&h.negative_counts);
            fh.custom_values = Default::default();
            fh.compact(0);
            Kind::FloatHist
        } else {
            let sh = &mut self.h;
            sh.counter_reset_hint = hint;
            sh.schema = h.schema;
            sh.zero_threshold = h.zero_threshold;
            sh.zero_count = h.zero_count;
            sh.count = h.sample_count;
            sh.sum = h.sample_sum;
            sh.positive_spans.clone_from(&h.positive_spans);
            sh.negative_spans.clone_from(&h.negative_spans);
            sh.positive_buckets.clone_from(&h.positive_deltas);
            sh.negative_buckets.clone_from(&h.negative_deltas);
            sh.custom_values = Default::default();
            sh.compact(0);
            Kind::Int
        }
    }

    /// The classic histogram of the current metric as NHCB (`convertToNHCB`).
    fn build_nhcb(&mut self) -> R<Kind> {
        let hint = self.hint();
        let h = &self.m.histogram;
        let tmp = &mut self.tmp;
        tmp.reset();
        let r = tmp
            .set_count(h.count())
            .and_then(|()| tmp.set_sum(h.sample_sum));
        let r = h.buckets.iter().fold(r, |r, b| {
            r.and_then(|()| tmp.set_bucket_count(b.upper_bound, b.count()))
        });
        let converted = r.and_then(|()| tmp.convert()).map_err(|e| {
            err(
                self.metric_off,
                format!("histogram {:?}: converting to NHCB: {e}", self.fam.name),
            )
        })?;
        Ok(match converted {
            Converted::Int(mut x) => {
                x.counter_reset_hint = hint;
                self.h = x;
                Kind::Int
            }
            Converted::Float(mut x) => {
                x.counter_reset_hint = hint;
                self.fh = x;
                Kind::FloatHist
            }
        })
    }

    /// Exemplars of a native histogram: the histogram's own list when it has one, the
    /// buckets' otherwise; only those with a timestamp (Prometheus drops the others).
    fn native_exemplars(&mut self) {
        let h = &self.m.histogram;
        let src: Box<dyn Iterator<Item = &ProtoExemplar<'a>>> = if h.exemplars.is_empty() {
            Box::new(h.buckets.iter().filter_map(|b| b.exemplar.as_ref()))
        } else {
            Box::new(h.exemplars.iter())
        };
        self.exemplars
            .extend(src.filter(|e| e.timestamp_ms.is_some()).cloned());
    }

    fn entry(&self, step: Step) -> ProtoEntry<'_> {
        let name = self.fam.name;
        match step {
            Step::Help => ProtoEntry::Help {
                name,
                help: Cow::Borrowed(self.fam.help),
            },
            Step::Unit => ProtoEntry::Unit {
                name,
                unit: self.fam.unit,
            },
            Step::Type => ProtoEntry::Type {
                name,
                metric_type: metric_type(self.fam.metric_type),
            },
            _ => ProtoEntry::Sample(ProtoSample {
                key: &self.key,
                name: &self.name,
                value: match self.value {
                    Kind::Float(v) => ProtoValue::Float(v),
                    Kind::Int => ProtoValue::Histogram(&self.h),
                    Kind::FloatHist => ProtoValue::FloatHistogram(&self.fh),
                },
                timestamp_ms: (self.m.timestamp_ms != 0).then_some(self.m.timestamp_ms),
                start_timestamp_ms: self.start,
                exemplars: &self.exemplars,
                metric_type: metric_type(self.fam.metric_type),
                labels: &self.sorted,
                magic: self.magic_name.map(|n| (n, self.magic.as_str())),
            }),
        }
    }
}

#[cfg(test)]
mod tests;
