//! Conversions between the generated WIT types and the public types.

use sightline_model::{Labels, MetricType, Sample};

use crate::bindings::wit;
use crate::error::Error;
use crate::types::*;

/// Most labels one sample or series of a guest may carry (Prometheus' `label_limit`, which
/// has no default there; ours is fixed because the host pays for every label).
pub const MAX_LABELS: usize = 256;
/// Longest label name a guest may return, in bytes (`label_name_length_limit`).
pub const MAX_LABEL_NAME_BYTES: usize = 1024;
/// Longest label value a guest may return, in bytes (`label_value_length_limit`).
pub const MAX_LABEL_VALUE_BYTES: usize = 64 * 1024;

/// What one label costs the host beyond its bytes: its two `String`s (48 bytes) and, when
/// written out as text, `name="value",`.
const LABEL_OVERHEAD: usize = 56;
/// What one series costs the host beyond its labels: the label vector, the value, the
/// timestamp, and the line's punctuation and number when written out.
const SERIES_OVERHEAD: usize = 64;
/// The label a histogram bucket or summary quantile adds (`le` or `quantile` and a number).
const EXTRA_LABEL: usize = LABEL_OVERHEAD + 8 + 24;
/// The longest suffix the host appends to a family's name (`_bucket`).
const MAX_SUFFIX: usize = 7;

fn invalid(plugin: &str, message: String) -> Error {
    Error::InvalidOutput {
        name: plugin.to_string(),
        message,
    }
}

/// Checks one label list against the limits and returns what it costs per series it is
/// part of. Linear in the list; looks at nothing but lengths.
fn labels_cost(plugin: &str, what: &str, v: &[wit::types::Label]) -> Result<usize, Error> {
    if v.len() > MAX_LABELS {
        return Err(invalid(
            plugin,
            format!(
                "{}: {} labels on one series, more than the limit of {MAX_LABELS}",
                crate::words::sanitize(what, 256),
                v.len()
            ),
        ));
    }
    let mut cost = 0usize;
    for l in v {
        if l.name.len() > MAX_LABEL_NAME_BYTES || l.value.len() > MAX_LABEL_VALUE_BYTES {
            return Err(invalid(
                plugin,
                format!(
                    "{}: label {:?} has a {}-byte name and a {}-byte value; the limits are {MAX_LABEL_NAME_BYTES} and {MAX_LABEL_VALUE_BYTES}",
                    crate::words::sanitize(what, 256),
                    crate::words::sanitize(&l.name, 64),
                    l.name.len(),
                    l.value.len()
                ),
            ));
        }
        cost += LABEL_OVERHEAD + l.name.len() + l.value.len();
    }
    Ok(cost)
}

/// Validates and sorts a guest's labels. Duplicates are found by sorting and comparing
/// neighbours: O(n log n), never a lookup per label. Empty values mean "no label", as
/// everywhere in Prometheus.
fn labels_from_wit(name: &str, what: &str, v: Vec<wit::types::Label>) -> Result<Labels, Error> {
    let mut labels: Vec<sightline_model::Label> = Vec::with_capacity(v.len());
    for l in v {
        if !sightline_model::is_valid_label_name(&l.name) {
            return Err(invalid(
                name,
                format!(
                    "{what}: invalid label name {:?}",
                    crate::words::sanitize(&l.name, 256)
                ),
            ));
        }
        labels.push(sightline_model::Label::new(l.name, l.value));
    }
    labels.sort_unstable_by(|a, b| a.name.cmp(&b.name));
    if let Some(w) = labels.windows(2).find(|w| w[0].name == w[1].name) {
        return Err(invalid(
            name,
            format!(
                "{what}: duplicate label {:?}",
                crate::words::sanitize(&w[0].name, 256)
            ),
        ));
    }
    labels.retain(|l| !l.value.is_empty());
    Ok(Labels::from_sorted_unchecked(labels))
}

fn labels_to_wit(l: &Labels) -> Vec<wit::types::Label> {
    l.iter()
        .map(|l| wit::types::Label {
            name: l.name.to_string(),
            value: l.value.to_string(),
        })
        .collect()
}

/// What a collect result costs the host once expanded: every series it stands for (a
/// histogram sample is one series per bucket, plus `+Inf` when missing, plus `_sum` and
/// `_count`, each carrying all the sample's labels; a summary likewise per quantile) with
/// its labels and overheads. Checks the label limits on the way. Linear in the result's
/// size, allocates nothing, and saturates instead of overflowing.
pub(crate) fn families_size(
    plugin: &str,
    v: &[wit::metrics::MetricFamily],
) -> Result<usize, Error> {
    let mut total = 0usize;
    for f in v {
        total = total.saturating_add(f.name.len() + f.help.len() + f.unit.len() + 64);
        let name = f.name.len() + MAX_SUFFIX;
        for s in &f.samples {
            let labels = labels_cost(plugin, &f.name, &s.labels)?;
            let plain = SERIES_OVERHEAD + name + labels;
            let (series, extra) = match (f.type_, &s.histogram, &s.summary) {
                (wit::metrics::MetricType::Histogram, Some(h), _) => (h.buckets.len() + 1, 2),
                (wit::metrics::MetricType::Summary, _, Some(q)) => (q.quantiles.len(), 2),
                _ => (0, 1),
            };
            let cost = series
                .saturating_mul(plain + EXTRA_LABEL)
                .saturating_add(extra * plain);
            total = total.saturating_add(cost);
        }
    }
    Ok(total)
}

/// Checks a collect result against the plugin's output limit (counting what the host
/// expands) and the label limits, then converts it. Call it through [`off_worker`].
pub(crate) fn families_checked(
    plugin: &str,
    v: Vec<wit::metrics::MetricFamily>,
    limit: usize,
) -> Result<Vec<MetricFamily>, Error> {
    let size = families_size(plugin, &v)?;
    if size > limit {
        return Err(Error::OutputTooLarge {
            name: plugin.to_string(),
            size,
            limit,
        });
    }
    families_from_wit(plugin, v)
}

/// Results up to this size (as the host expands them) are checked and converted on the
/// calling task: moving them to a blocking thread would cost more than the work (a call of
/// a small exporter takes ≈ 25 µs in all).
const INLINE_OUTPUT_BYTES: usize = 64 * 1024;
/// At most this many samples or series are even measured on the calling task (measuring
/// reads each label's length, at most [`MAX_LABELS`] per series).
const INLINE_SERIES: usize = 256;

/// [`families_checked`], on the calling task for a small result, else through
/// [`off_worker`].
pub(crate) async fn families_converted(
    plugin: String,
    v: Vec<wit::metrics::MetricFamily>,
    limit: usize,
) -> Result<Vec<MetricFamily>, Error> {
    let samples = v
        .iter()
        .map(|f| f.samples.len())
        .fold(0usize, usize::saturating_add);
    if v.len() <= INLINE_SERIES
        && samples <= INLINE_SERIES
        && families_size(&plugin, &v)? <= INLINE_OUTPUT_BYTES.min(limit)
    {
        return families_from_wit(&plugin, v);
    }
    off_worker(move || families_checked(&plugin, v, limit)).await
}

/// [`value_checked`], on the calling task for a small value, else through [`off_worker`].
pub(crate) async fn value_converted(
    plugin: String,
    v: wit::promql::Value,
    used: usize,
    limit: usize,
) -> Result<(QueryValue, usize), Error> {
    let small = match &v {
        wit::promql::Value::Vector(series) => series.len() <= INLINE_SERIES,
        _ => true,
    };
    if small {
        // This value's own size decides where it is converted: a per-series function's
        // running total grows past the inline size, each of its values does not.
        let own = value_size(&plugin, &v)?;
        let size = used.saturating_add(own);
        if own <= INLINE_OUTPUT_BYTES && size <= limit {
            return Ok((value_from_wit(&plugin, v)?, size));
        }
    }
    off_worker(move || value_checked(&plugin, v, used, limit)).await
}

/// Runs host work proportional to a guest's output (checking, converting, parsing, and
/// dropping it) on a blocking thread, so that no async worker waits for it; the caller
/// awaits it inside the call's time limit.
pub(crate) async fn off_worker<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Runtime(format!("handling plugin output: {e}")))?
}

pub(crate) fn families_from_wit(
    plugin: &str,
    v: Vec<wit::metrics::MetricFamily>,
) -> Result<Vec<MetricFamily>, Error> {
    let mut out = Vec::with_capacity(v.len());
    for f in v {
        if !sightline_model::is_valid_metric_name(&f.name) {
            return Err(invalid(
                plugin,
                format!(
                    "invalid metric name {:?}",
                    crate::words::sanitize(&f.name, 256)
                ),
            ));
        }
        let metric_type = match f.type_ {
            wit::metrics::MetricType::Counter => MetricType::Counter,
            wit::metrics::MetricType::Gauge => MetricType::Gauge,
            wit::metrics::MetricType::Histogram => MetricType::Histogram,
            wit::metrics::MetricType::Summary => MetricType::Summary,
            wit::metrics::MetricType::Unknown => MetricType::Unknown,
        };
        let mut samples = Vec::with_capacity(f.samples.len());
        for s in f.samples {
            let labels = labels_from_wit(plugin, &f.name, s.labels)?;
            // The size check bounded how many buckets and quantiles there are.
            let value = match (metric_type, s.histogram, s.summary) {
                (MetricType::Histogram, Some(h), _) => {
                    let mut buckets: Vec<(f64, f64)> = h
                        .buckets
                        .iter()
                        .map(|b| (b.upper_bound, b.cumulative_count))
                        .collect();
                    if buckets
                        .windows(2)
                        .any(|w| w[0].0.partial_cmp(&w[1].0) != Some(std::cmp::Ordering::Less))
                    {
                        return Err(Error::InvalidOutput {
                            name: plugin.to_string(),
                            message: format!(
                                "{}: histogram buckets are not in increasing order",
                                f.name
                            ),
                        });
                    }
                    if buckets.last().is_none_or(|b| b.0 != f64::INFINITY) {
                        buckets.push((f64::INFINITY, h.count));
                    }
                    SampleValue::Histogram {
                        buckets,
                        sum: h.sum,
                        count: h.count,
                    }
                }
                (MetricType::Summary, _, Some(q)) => SampleValue::Summary {
                    quantiles: q.quantiles.iter().map(|q| (q.quantile, q.value)).collect(),
                    sum: q.sum,
                    count: q.count,
                },
                (MetricType::Histogram | MetricType::Summary, _, _) => {
                    return Err(Error::InvalidOutput {
                        name: plugin.to_string(),
                        message: format!(
                            "{}: {} sample without its {} value",
                            f.name,
                            metric_type.as_str(),
                            metric_type.as_str()
                        ),
                    })
                }
                _ => SampleValue::Float(s.value),
            };
            samples.push(MetricSample {
                labels,
                value,
                timestamp_ms: s.timestamp_ms,
            });
        }
        out.push(MetricFamily {
            name: f.name,
            metric_type,
            help: f.help,
            unit: f.unit,
            samples,
        });
    }
    Ok(out)
}

pub(crate) fn alert_group_to_wit(g: &AlertGroup) -> wit::alerts::AlertGroup {
    wit::alerts::AlertGroup {
        version: g.version.clone(),
        group_key: g.group_key.clone(),
        truncated_alerts: g.truncated_alerts,
        status: g.status.clone(),
        receiver: g.receiver.clone(),
        group_labels: labels_to_wit(&g.group_labels),
        common_labels: labels_to_wit(&g.common_labels),
        common_annotations: labels_to_wit(&g.common_annotations),
        external_url: g.external_url.clone(),
        alerts: g
            .alerts
            .iter()
            .map(|a| wit::alerts::Alert {
                status: a.status.clone(),
                labels: labels_to_wit(&a.labels),
                annotations: labels_to_wit(&a.annotations),
                starts_at: a.starts_at.clone(),
                ends_at: a.ends_at.clone(),
                generator_url: a.generator_url.clone(),
                fingerprint: a.fingerprint.clone(),
            })
            .collect(),
    }
}

fn value_type_from_wit(t: wit::promql::ValueType) -> ValueType {
    match t {
        wit::promql::ValueType::Scalar => ValueType::Scalar,
        wit::promql::ValueType::InstantVector => ValueType::InstantVector,
        wit::promql::ValueType::RangeVector => ValueType::RangeVector,
        wit::promql::ValueType::String => ValueType::String,
    }
}

pub(crate) fn signature_from_wit(s: wit::promql::Signature) -> FunctionSignature {
    FunctionSignature {
        name: s.name,
        arg_types: s.arg_types.into_iter().map(value_type_from_wit).collect(),
        optional_args: s.optional_args,
        return_type: value_type_from_wit(s.return_type),
        mode: match s.mode {
            wit::promql::CallMode::PerSeries => CallMode::PerSeries,
            wit::promql::CallMode::PerVector => CallMode::PerVector,
        },
    }
}

pub(crate) fn value_to_wit(v: &QueryValue) -> wit::promql::Value {
    match v {
        QueryValue::Scalar(f) => wit::promql::Value::Scalar(*f),
        QueryValue::String(s) => wit::promql::Value::String(s.clone()),
        QueryValue::Vector(series) => {
            wit::promql::Value::Vector(series.iter().map(series_to_wit).collect())
        }
    }
}

pub(crate) fn series_to_wit(s: &QuerySeries) -> wit::promql::Series {
    wit::promql::Series {
        labels: labels_to_wit(&s.labels),
        points: s
            .points
            .iter()
            .map(|p| wit::promql::Point {
                t_ms: p.t,
                value: p.v,
            })
            .collect(),
    }
}

pub(crate) fn value_from_wit(plugin: &str, v: wit::promql::Value) -> Result<QueryValue, Error> {
    Ok(match v {
        wit::promql::Value::Scalar(f) => QueryValue::Scalar(f),
        wit::promql::Value::String(s) => QueryValue::String(s),
        wit::promql::Value::Vector(series) => QueryValue::Vector(
            series
                .into_iter()
                .map(|s| {
                    Ok(QuerySeries {
                        labels: labels_from_wit(plugin, "result", s.labels)?,
                        points: s
                            .points
                            .into_iter()
                            .map(|p| Sample {
                                t: p.t_ms,
                                v: p.value,
                            })
                            .collect(),
                    })
                })
                .collect::<Result<_, Error>>()?,
        ),
    })
}

/// What a query function's value costs the host: strings by their bytes, series by their
/// labels, points and overheads. Checks the label limits on the way; linear, allocation
/// free, saturating.
pub(crate) fn value_size(plugin: &str, v: &wit::promql::Value) -> Result<usize, Error> {
    Ok(match v {
        wit::promql::Value::Scalar(_) => 8,
        wit::promql::Value::String(s) => s.len(),
        wit::promql::Value::Vector(series) => {
            let mut total = 0usize;
            for s in series {
                let cost = SERIES_OVERHEAD
                    + labels_cost(plugin, "result", &s.labels)?
                    + s.points.len().saturating_mul(16);
                total = total.saturating_add(cost);
            }
            total
        }
    })
}

/// Checks one query-function value against what is left of the call's output limit
/// (`used` bytes are spent) and converts it. Returns the value and the new total. Call it
/// through [`off_worker`].
pub(crate) fn value_checked(
    plugin: &str,
    v: wit::promql::Value,
    used: usize,
    limit: usize,
) -> Result<(QueryValue, usize), Error> {
    let size = used.saturating_add(value_size(plugin, &v)?);
    if size > limit {
        return Err(Error::OutputTooLarge {
            name: plugin.to_string(),
            size,
            limit,
        });
    }
    Ok((value_from_wit(plugin, v)?, size))
}

/// Checks a dashboard's JSON against the output limit and parses it once to check that it
/// is a JSON object. Call it through [`off_worker`].
pub(crate) fn dashboard_checked(plugin: &str, json: String, limit: usize) -> Result<String, Error> {
    if json.len() > limit {
        return Err(Error::OutputTooLarge {
            name: plugin.to_string(),
            size: json.len(),
            limit,
        });
    }
    match serde_json::from_str::<serde::de::IgnoredAny>(&json) {
        Ok(_) if json.trim_start().starts_with('{') => Ok(json),
        Ok(_) => Err(invalid(
            plugin,
            "dashboard is not a JSON object".to_string(),
        )),
        Err(e) => Err(invalid(plugin, format!("dashboard is not JSON: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(n: String) -> wit::types::Label {
        wit::types::Label {
            name: n,
            value: "v".to_string(),
        }
    }

    #[test]
    fn validating_many_labels_is_not_quadratic() {
        // 300,000 labels, the last a duplicate of the first: a lookup per label would do
        // 4.5 × 10^10 comparisons; sorting does a few million.
        let mut v: Vec<_> = (0..300_000).map(|i| label(format!("l{i}"))).collect();
        v.push(label("l0".to_string()));
        let started = std::time::Instant::now();
        let err = labels_from_wit("p", "m", v).unwrap_err();
        assert!(err.to_string().contains("duplicate label \"l0\""), "{err}");
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        let v: Vec<_> = (0..1_000)
            .rev()
            .map(|i| label(format!("l{i:04}")))
            .collect();
        let l = labels_from_wit("p", "m", v).unwrap();
        assert_eq!(l.len(), 1_000);
        assert_eq!(l.iter().next().unwrap().name, "l0000");
    }

    #[test]
    fn query_values_and_dashboards_are_checked_against_the_limit() {
        let series = |n: usize| wit::promql::Series {
            labels: vec![label("a".to_string())],
            points: (0..n)
                .map(|i| wit::promql::Point {
                    t_ms: i as i64,
                    value: 0.0,
                })
                .collect(),
        };
        let v = wit::promql::Value::Vector(vec![series(100)]);
        let (_, used) = value_checked("p", v.clone(), 0, 10_000).unwrap();
        assert!(used >= 1_600, "{used}");
        let err = value_checked("p", v, 9_000, 10_000).unwrap_err();
        assert_eq!(err.reason(), "output_too_large");
        let mut flood = series(1);
        flood.labels = (0..=MAX_LABELS).map(|i| label(format!("l{i}"))).collect();
        let err =
            value_checked("p", wit::promql::Value::Vector(vec![flood]), 0, usize::MAX).unwrap_err();
        assert_eq!(err.reason(), "invalid_output");

        assert!(dashboard_checked("p", " {\"a\": [1]}".to_string(), 100).is_ok());
        for (bad, reason) in [
            ("[1]", "invalid_output"),
            ("{", "invalid_output"),
            ("{} x", "invalid_output"),
            (
                &*format!("{{\"a\": \"{}\"}}", "x".repeat(200)),
                "output_too_large",
            ),
        ] {
            let err = dashboard_checked("p", bad.to_string(), 100).unwrap_err();
            assert_eq!(err.reason(), reason, "{bad}");
        }
    }

    #[test]
    fn sizes_count_what_the_host_expands() {
        let sample = |buckets: usize| wit::metrics::Sample {
            labels: (0..10).map(|i| label(format!("l{i}"))).collect(),
            value: 0.0,
            timestamp_ms: None,
            histogram: Some(wit::metrics::HistogramValue {
                buckets: (0..buckets)
                    .map(|i| wit::metrics::Bucket {
                        upper_bound: i as f64,
                        cumulative_count: 0.0,
                    })
                    .collect(),
                sum: 0.0,
                count: 0.0,
            }),
            summary: None,
        };
        let fam = |buckets| wit::metrics::MetricFamily {
            name: "h".to_string(),
            help: String::new(),
            unit: String::new(),
            type_: wit::metrics::MetricType::Histogram,
            samples: vec![sample(buckets)],
        };
        let one = families_size("p", &[fam(1)]).unwrap();
        let many = families_size("p", &[fam(1_001)]).unwrap();
        // Each bucket costs a whole series with all ten labels.
        assert!(
            many - one >= 1_000 * (10 * (LABEL_OVERHEAD + 3)),
            "{one} {many}"
        );
        let mut flood = fam(1);
        flood.samples[0].labels = (0..=MAX_LABELS).map(|i| label(format!("l{i}"))).collect();
        assert_eq!(
            families_size("p", &[flood]).unwrap_err().reason(),
            "invalid_output"
        );
    }
}
