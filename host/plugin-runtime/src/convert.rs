//! Conversions between the generated WIT types and the public types.

use sightline_model::{Labels, MetricType, Sample};

use crate::bindings::wit;
use crate::error::Error;
use crate::types::*;

fn labels_from_wit(name: &str, what: &str, v: Vec<wit::types::Label>) -> Result<Labels, Error> {
    let mut b = sightline_model::LabelsBuilder::with_capacity(v.len());
    for l in v {
        if !sightline_model::is_valid_label_name(&l.name) {
            return Err(Error::InvalidOutput {
                name: name.to_string(),
                message: format!("{what}: invalid label name {:?}", l.name),
            });
        }
        if b.get(&l.name).is_some() {
            return Err(Error::InvalidOutput {
                name: name.to_string(),
                message: format!("{what}: duplicate label {:?}", l.name),
            });
        }
        b.set(l.name, l.value);
    }
    Ok(b.build())
}

fn labels_to_wit(l: &Labels) -> Vec<wit::types::Label> {
    l.iter()
        .map(|l| wit::types::Label {
            name: l.name.clone(),
            value: l.value.clone(),
        })
        .collect()
}

/// Approximate size of a collect result, to enforce the output limit.
pub(crate) fn families_size(v: &[wit::metrics::MetricFamily]) -> usize {
    v.iter()
        .map(|f| {
            f.name.len()
                + f.help.len()
                + f.unit.len()
                + f.samples
                    .iter()
                    .map(|s| {
                        16 + s
                            .labels
                            .iter()
                            .map(|l| l.name.len() + l.value.len())
                            .sum::<usize>()
                            + s.histogram.as_ref().map_or(0, |h| 16 * h.buckets.len())
                            + s.summary.as_ref().map_or(0, |q| 16 * q.quantiles.len())
                    })
                    .sum::<usize>()
        })
        .sum()
}

pub(crate) fn families_from_wit(
    plugin: &str,
    v: Vec<wit::metrics::MetricFamily>,
) -> Result<Vec<MetricFamily>, Error> {
    let mut out = Vec::with_capacity(v.len());
    for f in v {
        if !sightline_model::is_valid_metric_name(&f.name) {
            return Err(Error::InvalidOutput {
                name: plugin.to_string(),
                message: format!("invalid metric name {:?}", f.name),
            });
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

pub(crate) fn value_size(v: &wit::promql::Value) -> usize {
    match v {
        wit::promql::Value::Scalar(_) => 8,
        wit::promql::Value::String(s) => s.len(),
        wit::promql::Value::Vector(series) => series
            .iter()
            .map(|s| {
                16 * s.points.len()
                    + s.labels
                        .iter()
                        .map(|l| l.name.len() + l.value.len())
                        .sum::<usize>()
            })
            .sum(),
    }
}
