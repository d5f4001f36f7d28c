//! Contract 0.2's types at the edge: the records 0.2 kept from 0.1 (metric families,
//! PromQL values, signatures) are converted to 0.1's generated types, so the checks and
//! conversions of `convert.rs` serve both versions; the records new in 0.2 (target,
//! notification, settings document) are built here.

use sightline_model::Labels;

use crate::bindings::v02::wit as w2;
use crate::bindings::wit as w1;
use crate::notification::{AlertStatus, Notification, SettingsValue};
use crate::types::ExporterTarget;

fn label_to_v01(l: w2::types::Label) -> w1::types::Label {
    w1::types::Label {
        name: l.name,
        value: l.value,
    }
}

fn label_from_v01(l: w1::types::Label) -> w2::types::Label {
    w2::types::Label {
        name: l.name,
        value: l.value,
    }
}

fn labels_to_wit(l: &Labels) -> Vec<w2::types::Label> {
    l.iter()
        .map(|l| w2::types::Label {
            name: l.name.to_string(),
            value: l.value.to_string(),
        })
        .collect()
}

/// An exporter's output as 0.1's types (the same records).
pub(crate) fn families_to_v01(v: Vec<w2::metrics::MetricFamily>) -> Vec<w1::metrics::MetricFamily> {
    use w1::metrics as m1;
    use w2::metrics as m2;
    v.into_iter()
        .map(|f| m1::MetricFamily {
            name: f.name,
            help: f.help,
            type_: match f.type_ {
                m2::MetricType::Counter => m1::MetricType::Counter,
                m2::MetricType::Gauge => m1::MetricType::Gauge,
                m2::MetricType::Histogram => m1::MetricType::Histogram,
                m2::MetricType::Summary => m1::MetricType::Summary,
                m2::MetricType::Unknown => m1::MetricType::Unknown,
            },
            unit: f.unit,
            samples: f
                .samples
                .into_iter()
                .map(|s| m1::Sample {
                    labels: s.labels.into_iter().map(label_to_v01).collect(),
                    value: s.value,
                    timestamp_ms: s.timestamp_ms,
                    histogram: s.histogram.map(|h| m1::HistogramValue {
                        buckets: h
                            .buckets
                            .into_iter()
                            .map(|b| m1::Bucket {
                                upper_bound: b.upper_bound,
                                cumulative_count: b.cumulative_count,
                            })
                            .collect(),
                        sum: h.sum,
                        count: h.count,
                    }),
                    summary: s.summary.map(|q| m1::SummaryValue {
                        quantiles: q
                            .quantiles
                            .into_iter()
                            .map(|q| m1::Quantile {
                                quantile: q.quantile,
                                value: q.value,
                            })
                            .collect(),
                        sum: q.sum,
                        count: q.count,
                    }),
                })
                .collect(),
        })
        .collect()
}

/// The target record of `collect(target)`.
pub(crate) fn target_to_wit(t: &ExporterTarget) -> w2::metrics::Target {
    w2::metrics::Target {
        address: t.address.clone(),
        params: t
            .params
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        labels: labels_to_wit(&t.labels),
        timeout_ms: u64::try_from(t.scrape_timeout.as_millis()).unwrap_or(u64::MAX),
    }
}

fn series_to_v01(s: w2::promql::Series) -> w1::promql::Series {
    w1::promql::Series {
        labels: s.labels.into_iter().map(label_to_v01).collect(),
        points: s
            .points
            .into_iter()
            .map(|p| w1::promql::Point {
                t_ms: p.t_ms,
                value: p.value,
            })
            .collect(),
    }
}

fn series_from_v01(s: w1::promql::Series) -> w2::promql::Series {
    w2::promql::Series {
        labels: s.labels.into_iter().map(label_from_v01).collect(),
        points: s
            .points
            .into_iter()
            .map(|p| w2::promql::Point {
                t_ms: p.t_ms,
                value: p.value,
            })
            .collect(),
    }
}

/// A query function's result as 0.1's type.
pub(crate) fn value_to_v01(v: w2::promql::Value) -> w1::promql::Value {
    match v {
        w2::promql::Value::Scalar(f) => w1::promql::Value::Scalar(f),
        w2::promql::Value::String(s) => w1::promql::Value::String(s),
        w2::promql::Value::Vector(s) => {
            w1::promql::Value::Vector(s.into_iter().map(series_to_v01).collect())
        }
    }
}

/// A query function's argument, built as 0.1's type, as 0.2's.
pub(crate) fn value_from_v01(v: w1::promql::Value) -> w2::promql::Value {
    match v {
        w1::promql::Value::Scalar(f) => w2::promql::Value::Scalar(f),
        w1::promql::Value::String(s) => w2::promql::Value::String(s),
        w1::promql::Value::Vector(s) => {
            w2::promql::Value::Vector(s.into_iter().map(series_from_v01).collect())
        }
    }
}

/// A query function's signature as 0.1's type.
pub(crate) fn signature_to_v01(s: w2::promql::Signature) -> w1::promql::Signature {
    let t = |t: w2::promql::ValueType| match t {
        w2::promql::ValueType::Scalar => w1::promql::ValueType::Scalar,
        w2::promql::ValueType::InstantVector => w1::promql::ValueType::InstantVector,
        w2::promql::ValueType::RangeVector => w1::promql::ValueType::RangeVector,
        w2::promql::ValueType::String => w1::promql::ValueType::String,
    };
    w1::promql::Signature {
        name: s.name,
        arg_types: s.arg_types.into_iter().map(t).collect(),
        optional_args: s.optional_args,
        return_type: t(s.return_type),
        mode: match s.mode {
            w2::promql::CallMode::PerSeries => w1::promql::CallMode::PerSeries,
            w2::promql::CallMode::PerVector => w1::promql::CallMode::PerVector,
        },
    }
}

fn status_to_wit(s: AlertStatus) -> w2::alerts::AlertStatus {
    match s {
        AlertStatus::Firing => w2::alerts::AlertStatus::Firing,
        AlertStatus::Resolved => w2::alerts::AlertStatus::Resolved,
    }
}

/// The typed notification of `notify`.
pub(crate) fn notification_to_wit(n: &Notification) -> w2::alerts::Notification {
    w2::alerts::Notification {
        receiver: n.receiver.clone(),
        status: status_to_wit(n.status),
        group_key: n.group_key.clone(),
        group_labels: labels_to_wit(&n.group_labels),
        common_labels: labels_to_wit(&n.common_labels),
        common_annotations: labels_to_wit(&n.common_annotations),
        external_url: n.external_url.clone(),
        alerts: n
            .alerts
            .iter()
            .map(|a| w2::alerts::Alert {
                status: status_to_wit(a.status),
                labels: labels_to_wit(&a.labels),
                annotations: labels_to_wit(&a.annotations),
                starts_at_ns: a.starts_at_ns,
                ends_at_ns: a.ends_at_ns,
                generator_url: a.generator_url.clone(),
                fingerprint: a.fingerprint.clone(),
            })
            .collect(),
        truncated_alerts: n.truncated_alerts,
    }
}

/// A settings tree as WIT's flattened `document`: nodes in pre-order, so every child's
/// index is larger than its parent's, and `nodes[0]` is the root.
pub(crate) fn document_to_wit(v: &SettingsValue) -> w2::types::Document {
    fn push(v: &SettingsValue, nodes: &mut Vec<w2::types::Node>) -> u32 {
        use w2::types::Node;
        let at = nodes.len();
        nodes.push(Node::Null);
        let node = match v {
            SettingsValue::Null => Node::Null,
            SettingsValue::Bool(b) => Node::Boolean(*b),
            SettingsValue::Integer(i) => Node::Integer(*i),
            SettingsValue::Number(f) => Node::Number(*f),
            SettingsValue::Text(s) => Node::Text(s.clone()),
            SettingsValue::List(items) => {
                Node::List(items.iter().map(|i| push(i, nodes)).collect())
            }
            SettingsValue::Map(entries) => Node::Map(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), push(v, nodes)))
                    .collect(),
            ),
        };
        nodes[at] = node;
        u32::try_from(at).unwrap_or(u32::MAX)
    }
    let mut nodes = Vec::new();
    push(v, &mut nodes);
    w2::types::Document { nodes }
}

#[cfg(test)]
mod tests {
    use super::*;
    use w2::types::Node;

    #[test]
    fn documents_are_pre_order() {
        let v = SettingsValue::Map(vec![
            (
                "a".into(),
                SettingsValue::List(vec![SettingsValue::Integer(1)]),
            ),
            ("b".into(), SettingsValue::Text("x".into())),
        ]);
        let d = document_to_wit(&v);
        let want = vec![
            Node::Map(vec![("a".into(), 1), ("b".into(), 3)]),
            Node::List(vec![2]),
            Node::Integer(1),
            Node::Text("x".into()),
        ];
        assert_eq!(format!("{:?}", d.nodes), format!("{want:?}"));
    }
}
