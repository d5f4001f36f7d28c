//! OTLP metrics to Prometheus samples, as Prometheus 3.9's
//! `storage/remote/otlptranslator/prometheusremotewrite` converts them (`FromMetrics`,
//! `createAttributes`, `addResourceTargetInfo`, the data-point functions):
//!
//! - labels: the point's attributes, sorted by key, names sanitised (colliding names join
//!   their values with `;`); promoted resource attributes (not overriding); the scope's name,
//!   version, schema URL and attributes when `promote_scope_metadata`; `job` from
//!   `service.namespace/service.name`, `instance` from `service.instance.id`;
//! - gauges and non-monotonic sums as gauges, monotonic sums as counters (`_total`),
//!   explicit-bucket histograms as classic `_bucket{le}` (cumulative, `+Inf`), `_sum`
//!   (when set), `_count`; summaries as `{quantile}`, `_sum`, `_count`;
//! - `target_info` per resource with its non-identifying attributes, a sample every half
//!   lookback delta from the resource's earliest to its latest point;
//! - a point flagged "no recorded value" becomes a staleness marker.
//!
//! Exponential histograms become native histograms (`exponentialToNativeHistogram`: scales
//! above 8 are merged down to 8, scales below -4 are rejected, the zero threshold is
//! Prometheus' 1e-128, the reset hint unknown, or gauge for delta temporality as Prometheus
//! does without its `otlp-deltatocumulative` feature). Delta sums and explicit-bucket
//! histograms are accumulated into cumulative ones by the caller (`delta.rs`); this module
//! marks which samples are deltas.

use std::collections::BTreeMap;

use sightline_model::histogram::{EXPONENTIAL_SCHEMA_MAX, EXPONENTIAL_SCHEMA_MIN};
use sightline_model::{
    CounterResetHint, Histogram, Label, Labels, Metadata, MetricType, Span, METRIC_NAME,
};

use super::model::*;
use super::naming::{self, Kind, LabelNamer, Strategy};

/// The `otlp:` block of the configuration, resolved (Prometheus 3.9's `OTLPConfig`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    /// `translation_strategy`.
    pub strategy: Strategy,
    /// `promote_all_resource_attributes`.
    pub promote_all: bool,
    /// `promote_resource_attributes`, or `ignore_resource_attributes` when `promote_all`.
    pub attributes: Vec<String>,
    /// `keep_identifying_resource_attributes`.
    pub keep_identifying: bool,
    /// `promote_scope_metadata`.
    pub promote_scope_metadata: bool,
    /// `label_name_underscore_sanitization`.
    pub label_underscore_sanitization: bool,
    /// `label_name_preserve_multiple_underscores`.
    pub label_preserve_multiple_underscores: bool,
    /// The query lookback delta in milliseconds (`target_info`'s sample interval is half of
    /// it); 0 means Prometheus' default of 5 minutes.
    pub lookback_delta_ms: i64,
    /// `convert_histograms_to_nhcb`: explicit-bucket histograms become native histograms with
    /// custom buckets instead of classic `_bucket`/`_sum`/`_count` series.
    pub convert_histograms_to_nhcb: bool,
}

/// One sample to append.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The series.
    pub labels: Labels,
    /// Start timestamp in milliseconds (0: unknown).
    pub start_ms: i64,
    /// Timestamp in milliseconds.
    pub t_ms: i64,
    /// The value (a staleness marker for points without a recorded value).
    pub value: f64,
    /// Whether the value is a delta to be accumulated into a cumulative one.
    pub delta: bool,
    /// The family's metadata, to record once per series and request.
    pub meta: std::sync::Arc<Metadata>,
    /// A native histogram sample (then `value` is unused): an exponential histogram's point.
    pub histogram: Option<Box<Histogram>>,
}

/// What a request's translation produced.
#[derive(Debug, Default)]
pub struct Translation {
    /// The samples, in the request's order.
    pub samples: Vec<Sample>,
    /// Data points not translated, by reason (`unsupported`, `invalid`), with a message each.
    pub rejected: Vec<(&'static str, usize, String)>,
}

impl Translation {
    fn reject(&mut self, reason: &'static str, points: usize, msg: String) {
        if points > 0 {
            self.rejected.push((reason, points, msg));
        }
    }
}

const SERVICE_NAME: &str = "service.name";
const SERVICE_NAMESPACE: &str = "service.namespace";
const SERVICE_INSTANCE_ID: &str = "service.instance.id";
const DEFAULT_LOOKBACK_MS: i64 = 5 * 60 * 1000;
/// `target_info` samples written per resource and request before the last one.
const MAX_TARGET_INFO: usize = 1000;

fn ms(ns: u64) -> i64 {
    (ns / 1_000_000) as i64
}

fn attr<'a>(kvs: &'a [KeyValue], key: &str) -> Option<&'a AnyValue> {
    kvs.iter().find(|kv| kv.key == key).map(|kv| &kv.value)
}

struct Converter<'a> {
    settings: &'a Settings,
    namer: LabelNamer,
    out: Translation,
    /// Sanitised label names by attribute key: the same few keys recur on every point.
    names: std::cell::RefCell<std::collections::HashMap<String, String>>,
}

/// The labels a resource gives each of its points, worked out once per resource.
struct ResourcePart {
    /// Promoted attributes (sanitised name, value), which never override a point's own.
    promoted: Vec<(String, String)>,
    job: Option<String>,
    instance: Option<String>,
}

/// Translates a request.
pub fn translate(req: &ExportRequest, settings: &Settings) -> Translation {
    let mut c = Converter {
        settings,
        namer: LabelNamer {
            utf8: !settings.strategy.escapes(),
            underscore_sanitization: settings.label_underscore_sanitization,
            preserve_multiple_underscores: settings.label_preserve_multiple_underscores,
        },
        out: Translation::default(),
        names: Default::default(),
    };
    let mut seen_target_info = std::collections::HashSet::new();
    for rm in &req.resource_metrics {
        let (mut earliest, mut latest) = (u64::MAX, 0u64);
        let part = c.resource_part(&rm.resource);
        for sm in &rm.scope_metrics {
            for m in &sm.metrics {
                for t in point_times(&m.data) {
                    earliest = earliest.min(t);
                    latest = latest.max(t);
                }
                c.metric(&part, &sm.scope, &sm.schema_url, m);
            }
        }
        if earliest != u64::MAX {
            c.target_info(&rm.resource, earliest, latest, &mut seen_target_info);
        }
    }
    c.out
}

fn point_times(d: &Data) -> Vec<u64> {
    match d {
        Data::None => Vec::new(),
        Data::Gauge(p) | Data::Sum { points: p, .. } => {
            p.iter().map(|p| p.time_unix_nano).collect()
        }
        Data::Histogram { points, .. } => points.iter().map(|p| p.time_unix_nano).collect(),
        Data::ExponentialHistogram { points, .. } => {
            points.iter().map(|p| p.time_unix_nano).collect()
        }
        Data::Summary(p) => p.iter().map(|p| p.time_unix_nano).collect(),
    }
}

fn value_of(v: f64, flags: u32) -> f64 {
    if flags & FLAG_NO_RECORDED_VALUE != 0 {
        sightline_model::stale_nan()
    } else {
        v
    }
}

impl Converter<'_> {
    fn metric(
        &mut self,
        resource: &Result<ResourcePart, String>,
        scope: &Scope,
        schema_url: &str,
        m: &Metric,
    ) {
        let n = m.data.len();
        let (kind, temporality) = match &m.data {
            Data::None => {
                self.out
                    .reject("invalid", 0, format!("metric {:?} has no data", m.name));
                return;
            }
            Data::Gauge(_) => (Kind::Gauge, 0),
            Data::Sum {
                monotonic,
                temporality,
                ..
            } => (
                if *monotonic {
                    Kind::MonotonicCounter
                } else {
                    Kind::NonMonotonicCounter
                },
                *temporality,
            ),
            Data::Histogram { temporality, .. }
            | Data::ExponentialHistogram { temporality, .. } => (Kind::Other, *temporality),
            Data::Summary(_) => (Kind::Other, 0),
        };
        if n == 0 {
            return;
        }
        let has_temporality = matches!(
            m.data,
            Data::Sum { .. } | Data::Histogram { .. } | Data::ExponentialHistogram { .. }
        );
        if has_temporality
            && temporality != TEMPORALITY_CUMULATIVE
            && temporality != TEMPORALITY_DELTA
        {
            self.out.reject(
                "invalid",
                n,
                format!(
                    "invalid temporality and type combination for metric {:?}",
                    m.name
                ),
            );
            return;
        }
        let delta = temporality == TEMPORALITY_DELTA;
        let name = match naming::metric_name(&m.name, &m.unit, kind, self.settings.strategy) {
            Ok(n) => n,
            Err(e) => {
                self.out.reject("invalid", n, e);
                return;
            }
        };
        // Delta sums and histograms keep the cumulative type once accumulated (Prometheus
        // marks raw deltas `unknown`; ours are converted).
        let metric_type = match (&m.data, kind) {
            (Data::Gauge(_), _) | (Data::Sum { .. }, Kind::NonMonotonicCounter) => {
                MetricType::Gauge
            }
            (Data::Sum { .. }, _) => MetricType::Counter,
            (Data::Histogram { .. } | Data::ExponentialHistogram { .. }, _) => {
                MetricType::Histogram
            }
            _ => MetricType::Summary,
        };
        let meta = std::sync::Arc::new(Metadata {
            metric_type,
            help: m.description.clone(),
            unit: naming::unit_name(&m.unit, true),
        });
        let scope = (scope, schema_url);
        match &m.data {
            Data::Gauge(points) | Data::Sum { points, .. } => {
                for (i, p) in points.iter().enumerate() {
                    let Some(base) = self.base_labels(resource, &p.attributes, scope, n - i) else {
                        return;
                    };
                    let v = value_of(p.value, p.flags);
                    self.push(
                        &base,
                        &name,
                        None,
                        p.start_time_unix_nano,
                        p.time_unix_nano,
                        v,
                        delta,
                        &meta,
                    );
                }
            }
            Data::Histogram { points, .. } if self.settings.convert_histograms_to_nhcb => {
                for (i, p) in points.iter().enumerate() {
                    let Some(base) = self.base_labels(resource, &p.attributes, scope, n - i) else {
                        return;
                    };
                    let labels = self.labels(&base, &name, None);
                    self.out.samples.push(Sample {
                        labels,
                        start_ms: ms(p.start_time_unix_nano),
                        t_ms: ms(p.time_unix_nano),
                        value: 0.0,
                        // As exponential histograms: deltas are gauge histograms.
                        delta: false,
                        meta: meta.clone(),
                        histogram: Some(Box::new(explicit_to_nhcb(p, delta))),
                    });
                }
            }
            Data::Histogram { points, .. } => {
                for (i, p) in points.iter().enumerate() {
                    let Some(base) = self.base_labels(resource, &p.attributes, scope, n - i) else {
                        return;
                    };
                    let (st, t) = (p.start_time_unix_nano, p.time_unix_nano);
                    if let Some(sum) = p.sum {
                        let v = value_of(sum, p.flags);
                        self.push(&base, &format!("{name}_sum"), None, st, t, v, delta, &meta);
                    }
                    let count = value_of(p.count as f64, p.flags);
                    self.push(
                        &base,
                        &format!("{name}_count"),
                        None,
                        st,
                        t,
                        count,
                        delta,
                        &meta,
                    );
                    let bucket = format!("{name}_bucket");
                    let mut cumulative = 0u64;
                    for (bound, c) in p.explicit_bounds.iter().zip(&p.bucket_counts) {
                        cumulative = cumulative.saturating_add(*c);
                        let le = format_float(*bound);
                        let v = value_of(cumulative as f64, p.flags);
                        self.push(&base, &bucket, Some(("le", &le)), st, t, v, delta, &meta);
                    }
                    self.push(
                        &base,
                        &bucket,
                        Some(("le", "+Inf")),
                        st,
                        t,
                        count,
                        delta,
                        &meta,
                    );
                }
            }
            Data::Summary(points) => {
                for (i, p) in points.iter().enumerate() {
                    let Some(base) = self.base_labels(resource, &p.attributes, scope, n - i) else {
                        return;
                    };
                    let (st, t) = (p.start_time_unix_nano, p.time_unix_nano);
                    let sum = value_of(p.sum, p.flags);
                    self.push(
                        &base,
                        &format!("{name}_sum"),
                        None,
                        st,
                        t,
                        sum,
                        false,
                        &meta,
                    );
                    let count = value_of(p.count as f64, p.flags);
                    self.push(
                        &base,
                        &format!("{name}_count"),
                        None,
                        st,
                        t,
                        count,
                        false,
                        &meta,
                    );
                    for (q, v) in &p.quantile_values {
                        let q = format_float(*q);
                        let v = value_of(*v, p.flags);
                        self.push(&base, &name, Some(("quantile", &q)), st, t, v, false, &meta);
                    }
                }
            }
            Data::ExponentialHistogram { points, .. } => {
                for (i, p) in points.iter().enumerate() {
                    let Some(base) = self.base_labels(resource, &p.attributes, scope, n - i) else {
                        return;
                    };
                    let h = match exponential_to_native(p, delta) {
                        Ok(h) => h,
                        Err(e) => {
                            self.out.reject("invalid", 1, e);
                            continue;
                        }
                    };
                    let labels = self.labels(&base, &name, None);
                    self.out.samples.push(Sample {
                        labels,
                        start_ms: ms(p.start_time_unix_nano),
                        t_ms: ms(p.time_unix_nano),
                        value: 0.0,
                        // Delta exponential histograms are stored as gauge histograms, as
                        // Prometheus does: summing histograms of different layouts over time
                        // is left to queries.
                        delta: false,
                        meta: meta.clone(),
                        histogram: Some(Box::new(h)),
                    });
                }
            }
            Data::None => {}
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        base: &BTreeMap<String, String>,
        name: &str,
        extra: Option<(&str, &str)>,
        st: u64,
        t: u64,
        value: f64,
        delta: bool,
        meta: &std::sync::Arc<Metadata>,
    ) {
        let labels = self.labels(base, name, extra);
        self.out.samples.push(Sample {
            labels,
            start_ms: ms(st),
            t_ms: ms(t),
            value,
            delta,
            meta: meta.clone(),
            histogram: None,
        });
    }

    /// The series of a point: its base labels, `__name__` and one extra label.
    fn labels(
        &self,
        base: &BTreeMap<String, String>,
        name: &str,
        extra: Option<(&str, &str)>,
    ) -> Labels {
        let mut v: Vec<Label> = Vec::with_capacity(base.len() + 2);
        let mut pending: Vec<(&str, &str)> = vec![(METRIC_NAME, name)];
        if let Some(e) = extra {
            pending.push(e);
        }
        pending.sort_unstable();
        let mut it = pending.into_iter().peekable();
        for (k, val) in base {
            while let Some(&(pk, pv)) = it.peek() {
                if pk <= k.as_str() {
                    v.push(Label::new(pk, pv));
                    it.next();
                } else {
                    break;
                }
            }
            if v.last().is_some_and(|l| l.name == *k) {
                continue;
            }
            v.push(Label::new(k.as_str(), val.as_str()));
        }
        v.extend(it.map(|(k, val)| Label::new(k, val)));
        v.retain(|l| !l.value.is_empty());
        Labels::from_sorted_unchecked(v)
    }

    /// `createAttributes` without the metric name; `None` (and the metric's points rejected)
    /// when a name cannot be sanitised.
    fn base_labels(
        &mut self,
        resource: &Result<ResourcePart, String>,
        attributes: &[KeyValue],
        scope: (&Scope, &str),
        points: usize,
    ) -> Option<BTreeMap<String, String>> {
        let r = resource
            .as_ref()
            .map_err(Clone::clone)
            .and_then(|part| self.attributes(part, attributes, Some(scope), &[]));
        match r {
            Ok(b) => Some(b),
            Err(e) => {
                self.out.reject("invalid", points, e);
                None
            }
        }
    }

    /// `LabelNamer.Build`, cached.
    fn label_name(&self, key: &str) -> Result<String, String> {
        if let Some(n) = self.names.borrow().get(key) {
            return Ok(n.clone());
        }
        let n = self.namer.build(key)?;
        self.names.borrow_mut().insert(key.to_string(), n.clone());
        Ok(n)
    }

    /// The promoted attributes, `job` and `instance` of a resource.
    fn resource_part(&self, resource: &[KeyValue]) -> Result<ResourcePart, String> {
        let s = self.settings;
        let mut promoted = Vec::new();
        for kv in resource {
            if s.attributes.contains(&kv.key) != s.promote_all {
                promoted.push((self.label_name(&kv.key)?, kv.value.as_label_value()));
            }
        }
        let job =
            attr(resource, SERVICE_NAME).map(|name| match attr(resource, SERVICE_NAMESPACE) {
                Some(ns) => format!("{}/{}", ns.as_label_value(), name.as_label_value()),
                None => name.as_label_value(),
            });
        let instance = attr(resource, SERVICE_INSTANCE_ID).map(AnyValue::as_label_value);
        Ok(ResourcePart {
            promoted,
            job,
            instance,
        })
    }

    fn attributes(
        &self,
        resource: &ResourcePart,
        attributes: &[KeyValue],
        scope: Option<(&Scope, &str)>,
        ignore: &[&str],
    ) -> Result<BTreeMap<String, String>, String> {
        let s = self.settings;
        let mut sorted: Vec<(&str, String)> = attributes
            .iter()
            .filter(|kv| !ignore.contains(&kv.key.as_str()))
            .map(|kv| (kv.key.as_str(), kv.value.as_label_value()))
            .collect();
        sorted.sort_by(|a, b| a.0.cmp(b.0));
        let mut b: BTreeMap<String, String> = BTreeMap::new();
        let get =
            |b: &BTreeMap<String, String>, k: &str| b.get(k).filter(|v| !v.is_empty()).cloned();
        for (k, v) in sorted {
            let key = self.label_name(k)?;
            match get(&b, &key) {
                Some(existing) if !self.namer.utf8 => {
                    b.insert(key, format!("{existing};{v}"));
                }
                _ => {
                    b.insert(key, v);
                }
            }
        }
        // Promoted resource attributes never override the point's own.
        for (k, v) in &resource.promoted {
            if get(&b, k).is_none() {
                b.insert(k.clone(), v.clone());
            }
        }
        if let Some((scope, schema_url)) =
            scope.filter(|(sc, _)| s.promote_scope_metadata && !sc.name.is_empty())
        {
            for kv in &scope.attributes {
                let key = self.namer.build(&format!("otel_scope_{}", kv.key))?;
                b.insert(key, kv.value.as_label_value());
            }
            b.insert("otel_scope_name".into(), scope.name.clone());
            b.insert("otel_scope_version".into(), scope.version.clone());
            b.insert("otel_scope_schema_url".into(), schema_url.to_string());
        }
        if let Some(job) = &resource.job {
            b.insert("job".into(), job.clone());
        }
        if let Some(instance) = &resource.instance {
            b.insert("instance".into(), instance.clone());
        }
        Ok(b)
    }

    /// `addResourceTargetInfo`.
    fn target_info(
        &mut self,
        resource: &[KeyValue],
        earliest: u64,
        latest: u64,
        seen: &mut std::collections::HashSet<(Labels, i64)>,
    ) {
        let identifying = [SERVICE_NAMESPACE, SERVICE_NAME, SERVICE_INSTANCE_ID];
        let non_identifying = resource
            .iter()
            .filter(|kv| !identifying.contains(&kv.key.as_str()))
            .count();
        if non_identifying == 0 {
            return;
        }
        let ignore: &[&str] = if self.settings.keep_identifying {
            &[]
        } else {
            &identifying
        };
        // Promotion does not apply to target_info (Prometheus clears it).
        let unpromoted = Settings {
            promote_all: false,
            attributes: Vec::new(),
            ..self.settings.clone()
        };
        let conv = Converter {
            settings: &unpromoted,
            namer: self.namer,
            out: Translation::default(),
            names: Default::default(),
        };
        let b = match conv
            .resource_part(resource)
            .and_then(|part| conv.attributes(&part, resource, None, ignore))
        {
            Ok(b) => b,
            Err(e) => {
                self.out.reject("invalid", 0, e);
                return;
            }
        };
        let has = |k: &str| b.get(k).is_some_and(|v| !v.is_empty());
        if !has("job") && !has("instance") {
            return;
        }
        let meta = std::sync::Arc::new(Metadata {
            metric_type: MetricType::Gauge,
            help: "Target metadata".into(),
            unit: String::new(),
        });
        let interval = if self.settings.lookback_delta_ms > 0 {
            self.settings.lookback_delta_ms / 2
        } else {
            DEFAULT_LOOKBACK_MS / 2
        }
        .max(1);
        let before = self.out.samples.len();
        // Timestamps in nanoseconds as Prometheus walks them (`timestamp.Before(latest)`).
        let step_ns = (interval as u64).saturating_mul(1_000_000);
        let mut t = earliest;
        // At most MAX_TARGET_INFO samples before the last: a hostile batch with points years
        // apart would otherwise ask for millions (Prometheus has no such bound).
        let mut n = 0;
        while t < latest && n < MAX_TARGET_INFO {
            self.push(&b, "target_info", None, 0, t, 1.0, false, &meta);
            t = t.saturating_add(step_ns);
            n += 1;
        }
        self.push(&b, "target_info", None, 0, latest, 1.0, false, &meta);
        // Deduplicate samples with the same series and timestamp across resources.
        let mut i = before;
        while i < self.out.samples.len() {
            let s = &self.out.samples[i];
            if seen.insert((s.labels.clone(), s.t_ms)) {
                i += 1;
            } else {
                self.out.samples.remove(i);
            }
        }
    }
}

/// Prometheus' zero threshold for converted exponential histograms.
const DEFAULT_ZERO_THRESHOLD: f64 = 1e-128;

/// `exponentialToNativeHistogram`.
fn exponential_to_native(p: &ExpHistogramPoint, delta: bool) -> Result<Histogram, String> {
    let mut scale = p.scale;
    if scale < EXPONENTIAL_SCHEMA_MIN {
        return Err(format!(
            "cannot convert exponential to native histogram. Scale must be >= {EXPONENTIAL_SCHEMA_MIN}, was {scale}"
        ));
    }
    let mut scale_down = 0;
    if scale > EXPONENTIAL_SCHEMA_MAX {
        scale_down = scale - EXPONENTIAL_SCHEMA_MAX;
        scale = EXPONENTIAL_SCHEMA_MAX;
    }
    let (positive_spans, positive_buckets) = convert_buckets_layout(
        &p.positive.bucket_counts,
        p.positive.offset,
        scale_down,
        true,
    );
    let (negative_spans, negative_buckets) = convert_buckets_layout(
        &p.negative.bucket_counts,
        p.negative.offset,
        scale_down,
        true,
    );
    let mut h = Histogram {
        counter_reset_hint: if delta {
            CounterResetHint::Gauge
        } else {
            CounterResetHint::Unknown
        },
        schema: scale,
        zero_threshold: DEFAULT_ZERO_THRESHOLD,
        zero_count: p.zero_count,
        positive_spans,
        positive_buckets,
        negative_spans,
        negative_buckets,
        ..Histogram::default()
    };
    if p.flags & FLAG_NO_RECORDED_VALUE != 0 {
        h.sum = sightline_model::stale_nan();
        h.count = sightline_model::STALE_NAN_BITS;
    } else {
        h.sum = p.sum.unwrap_or(0.0);
        h.count = p.count;
    }
    Ok(h)
}

/// `explicitHistogramToCustomBucketsHistogram`: the explicit bounds become the custom values,
/// the per-bucket counts the buckets (leading empty ones skipped), the reset hint unknown or,
/// for deltas, gauge.
fn explicit_to_nhcb(p: &HistogramPoint, delta: bool) -> Histogram {
    let offset = p.bucket_counts.iter().take_while(|c| **c == 0).count();
    let (positive_spans, positive_buckets) =
        convert_buckets_layout(&p.bucket_counts[offset..], offset as i32, 0, false);
    let mut h = Histogram {
        counter_reset_hint: if delta {
            CounterResetHint::Gauge
        } else {
            CounterResetHint::Unknown
        },
        schema: sightline_model::histogram::CUSTOM_BUCKETS_SCHEMA,
        positive_spans,
        positive_buckets,
        custom_values: p.explicit_bounds.as_slice().into(),
        ..Histogram::default()
    };
    if p.flags & FLAG_NO_RECORDED_VALUE != 0 {
        h.sum = sightline_model::stale_nan();
        h.count = sightline_model::STALE_NAN_BITS;
    } else {
        h.sum = p.sum.unwrap_or(0.0);
        h.count = p.count;
    }
    h
}

/// `convertBucketsLayout`: dense bucket counts from `offset` to Prometheus' spans and deltas,
/// merging `2^scale_down` buckets into one, with a new span only for gaps of more than two
/// empty buckets (as client_golang). With `adjust` (exponential histograms) OTel's index 0,
/// `(1, base]`, becomes Prometheus' index 1, since Prometheus' index 0 is `(1/base, 1]`;
/// custom buckets keep their indexes.
fn convert_buckets_layout(
    counts: &[u64],
    offset: i32,
    scale_down: i32,
    adjust: bool,
) -> (Vec<Span>, Vec<i64>) {
    if counts.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let mut spans: Vec<Span> = Vec::new();
    let mut deltas: Vec<i64> = Vec::new();
    let mut prev = 0i64;
    let mut push = |spans: &mut Vec<Span>, deltas: &mut Vec<i64>, count: i64| {
        if let Some(last) = spans.last_mut() {
            last.length += 1;
        }
        deltas.push(count.wrapping_sub(prev));
        prev = count;
    };
    let shift = |i: i32| (i >> scale_down) + 1;
    let mut bucket_idx = shift(offset);
    spans.push(Span::new(if adjust { shift(offset) } else { offset }, 0));
    let mut count = 0i64;
    for (i, c) in counts.iter().enumerate() {
        let next = shift((i as i32).wrapping_add(offset));
        if bucket_idx == next {
            count = count.wrapping_add(*c as i64);
            continue;
        }
        if count == 0 {
            count = *c as i64;
            continue;
        }
        let gap = next - bucket_idx - 1;
        if gap > 2 {
            spans.push(Span::new(gap, 0));
        } else {
            for _ in 0..gap {
                push(&mut spans, &mut deltas, 0);
            }
        }
        push(&mut spans, &mut deltas, count);
        count = *c as i64;
        bucket_idx = next;
    }
    let gap = shift((counts.len() as i32).wrapping_add(offset) - 1) - bucket_idx;
    if gap > 2 {
        spans.push(Span::new(gap, 0));
    } else {
        for _ in 0..gap {
            push(&mut spans, &mut deltas, 0);
        }
    }
    push(&mut spans, &mut deltas, count);
    (spans, deltas)
}

/// Go's `strconv.FormatFloat(f, 'f', -1, 64)`, as `le` and `quantile` values are written.
pub(crate) fn format_float(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{f}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cases of Prometheus' `TestConvertBucketsLayout` (spans as (offset, length)).
    #[test]
    fn bucket_layout_as_prometheus() {
        type Case = (
            &'static [u64],
            i32,
            i32,
            &'static [(i32, u32)],
            &'static [i64],
        );
        let cases: &[Case] = &[
            (&[4, 3, 2, 1], 0, 0, &[(1, 4)], &[4, -1, -1, -1]),
            (&[4, 3, 2, 1], 0, 1, &[(1, 2)], &[7, -4]),
            (&[4, 3, 2, 1], 0, 2, &[(1, 1)], &[10]),
            (&[4, 3, 2, 1], 1, 0, &[(2, 4)], &[4, -1, -1, -1]),
            (&[4, 3, 2, 1], 1, 1, &[(1, 3)], &[4, 1, -4]),
            (&[4, 3, 2, 1], 1, 2, &[(1, 2)], &[9, -8]),
            (
                &[4, 2, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
                4,
                0,
                &[(5, 4), (12, 1)],
                &[4, -2, -2, 2, -1],
            ),
            (
                &[4, 2, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
                4,
                1,
                &[(3, 2), (6, 1)],
                &[6, -4, -1],
            ),
        ];
        for (counts, offset, down, spans, deltas) in cases {
            let (s, d) = convert_buckets_layout(counts, *offset, *down, true);
            let s: Vec<(i32, u32)> = s.iter().map(|s| (s.offset, s.length)).collect();
            assert_eq!(
                (&s[..], &d[..]),
                (*spans, *deltas),
                "{counts:?} {offset} {down}"
            );
        }
    }

    #[test]
    fn explicit_histograms_become_custom_bucket_histograms() {
        let p = HistogramPoint {
            count: 5,
            sum: Some(12.0),
            bucket_counts: vec![0, 2, 0, 3],
            explicit_bounds: vec![0.1, 1.0, 10.0],
            ..HistogramPoint::default()
        };
        let h = explicit_to_nhcb(&p, false);
        assert_eq!(h.schema, -53);
        assert_eq!(h.custom_values.as_ref(), &[0.1, 1.0, 10.0]);
        assert_eq!(h.positive_spans, vec![Span::new(1, 3)]);
        assert_eq!(h.positive_buckets, vec![2, -2, 3]);
        assert_eq!((h.count, h.sum), (5, 12.0));
        assert!(h.validate().is_ok());
        assert_eq!(
            explicit_to_nhcb(&p, true).counter_reset_hint,
            CounterResetHint::Gauge
        );
    }

    #[test]
    fn scales_are_capped_and_checked() {
        let p = ExpHistogramPoint {
            scale: 10,
            count: 10,
            sum: Some(3.5),
            zero_count: 1,
            positive: ExpBuckets {
                offset: 0,
                bucket_counts: vec![4, 3, 2],
            },
            ..ExpHistogramPoint::default()
        };
        let h = exponential_to_native(&p, false).expect("converts");
        assert_eq!(h.schema, 8);
        assert_eq!(h.positive_buckets, vec![9]);
        assert_eq!((h.count, h.zero_count, h.sum), (10, 1, 3.5));
        assert_eq!(h.zero_threshold, 1e-128);
        assert_eq!(h.counter_reset_hint, CounterResetHint::Unknown);
        assert_eq!(
            exponential_to_native(&p, true).map(|h| h.counter_reset_hint),
            Ok(CounterResetHint::Gauge)
        );
        let low = ExpHistogramPoint {
            scale: -5,
            ..ExpHistogramPoint::default()
        };
        assert_eq!(
            exponential_to_native(&low, false).err().as_deref(),
            Some("cannot convert exponential to native histogram. Scale must be >= -4, was -5")
        );
    }
}
