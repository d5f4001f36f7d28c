//! The subset of OTLP's metrics data model the receiver needs
//! (`opentelemetry/proto/{collector/metrics,metrics,common,resource}/v1`), as plain structs
//! both decoders (protobuf in `codec.rs`, JSON in `json.rs`) fill. Exemplars, schema URLs of
//! resources and dropped-attribute counts are not kept: Prometheus 3 ignores them too (it
//! would store exemplars, which our store does not have yet).

/// `ExportMetricsServiceRequest`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExportRequest {
    /// Field 1.
    pub resource_metrics: Vec<ResourceMetrics>,
}

/// `ResourceMetrics`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResourceMetrics {
    /// Field 1 (`Resource.attributes`, field 1 of the resource).
    pub resource: Vec<KeyValue>,
    /// Field 2.
    pub scope_metrics: Vec<ScopeMetrics>,
}

/// `ScopeMetrics`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScopeMetrics {
    /// Field 1.
    pub scope: Scope,
    /// Field 2.
    pub metrics: Vec<Metric>,
    /// Field 3.
    pub schema_url: String,
}

/// `InstrumentationScope`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scope {
    /// Field 1.
    pub name: String,
    /// Field 2.
    pub version: String,
    /// Field 3.
    pub attributes: Vec<KeyValue>,
}

/// `Metric`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metric {
    /// Field 1.
    pub name: String,
    /// Field 2.
    pub description: String,
    /// Field 3 (UCUM).
    pub unit: String,
    /// The `data` oneof (fields 5, 7, 9, 10, 11).
    pub data: Data,
}

/// `AggregationTemporality`.
pub const TEMPORALITY_DELTA: i32 = 1;
/// See [`TEMPORALITY_DELTA`].
pub const TEMPORALITY_CUMULATIVE: i32 = 2;
/// `DataPointFlags.FLAG_NO_RECORDED_VALUE_MASK`: the point marks the series' end (Prometheus
/// writes a staleness marker).
pub const FLAG_NO_RECORDED_VALUE: u32 = 1;

/// The `data` oneof of a metric.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Data {
    /// None of the fields was set.
    #[default]
    None,
    /// Field 5.
    Gauge(Vec<NumberPoint>),
    /// Field 7.
    Sum {
        /// `Sum.data_points`.
        points: Vec<NumberPoint>,
        /// `Sum.aggregation_temporality`.
        temporality: i32,
        /// `Sum.is_monotonic`.
        monotonic: bool,
    },
    /// Field 9.
    Histogram {
        /// `Histogram.data_points`.
        points: Vec<HistogramPoint>,
        /// `Histogram.aggregation_temporality`.
        temporality: i32,
    },
    /// Field 10.
    ExponentialHistogram {
        /// `ExponentialHistogram.data_points`.
        points: Vec<ExpHistogramPoint>,
        /// `ExponentialHistogram.aggregation_temporality`.
        temporality: i32,
    },
    /// Field 11.
    Summary(Vec<SummaryPoint>),
}

/// `ExponentialHistogramDataPoint.Buckets`: dense counts from `offset`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExpBuckets {
    /// Field 1 (`sint32`): the index of the first bucket.
    pub offset: i32,
    /// Field 2: the counts of consecutive buckets.
    pub bucket_counts: Vec<u64>,
}

/// `ExponentialHistogramDataPoint`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExpHistogramPoint {
    /// Field 1.
    pub attributes: Vec<KeyValue>,
    /// Field 2.
    pub start_time_unix_nano: u64,
    /// Field 3.
    pub time_unix_nano: u64,
    /// Field 4.
    pub count: u64,
    /// Field 5 (`optional`).
    pub sum: Option<f64>,
    /// Field 6 (`sint32`).
    pub scale: i32,
    /// Field 7.
    pub zero_count: u64,
    /// Field 8.
    pub positive: ExpBuckets,
    /// Field 9.
    pub negative: ExpBuckets,
    /// Field 10.
    pub flags: u32,
    /// Field 14 (Prometheus does not use it yet: its zero threshold is always 1e-128).
    pub zero_threshold: f64,
}

/// `NumberDataPoint`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NumberPoint {
    /// Field 7.
    pub attributes: Vec<KeyValue>,
    /// Field 2.
    pub start_time_unix_nano: u64,
    /// Field 3.
    pub time_unix_nano: u64,
    /// Field 4 (`as_double`) or 6 (`as_int`, converted); 0 when neither is set.
    pub value: f64,
    /// Field 8.
    pub flags: u32,
}

/// `HistogramDataPoint` (explicit buckets).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HistogramPoint {
    /// Field 9.
    pub attributes: Vec<KeyValue>,
    /// Field 2.
    pub start_time_unix_nano: u64,
    /// Field 3.
    pub time_unix_nano: u64,
    /// Field 4.
    pub count: u64,
    /// Field 5 (`optional`: `None` leaves out the `_sum` series).
    pub sum: Option<f64>,
    /// Field 6: per-bucket (not cumulative) counts, one more than the bounds.
    pub bucket_counts: Vec<u64>,
    /// Field 7.
    pub explicit_bounds: Vec<f64>,
    /// Field 10.
    pub flags: u32,
}

/// `SummaryDataPoint`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SummaryPoint {
    /// Field 7.
    pub attributes: Vec<KeyValue>,
    /// Field 2.
    pub start_time_unix_nano: u64,
    /// Field 3.
    pub time_unix_nano: u64,
    /// Field 4.
    pub count: u64,
    /// Field 5.
    pub sum: f64,
    /// Field 6: (quantile, value) pairs.
    pub quantile_values: Vec<(f64, f64)>,
    /// Field 8.
    pub flags: u32,
}

/// `KeyValue`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeyValue {
    /// Field 1.
    pub key: String,
    /// Field 2.
    pub value: AnyValue,
}

impl KeyValue {
    /// A string attribute.
    pub fn string(key: &str, value: &str) -> Self {
        KeyValue {
            key: key.to_string(),
            value: AnyValue::String(value.to_string()),
        }
    }
}

/// `AnyValue`.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum AnyValue {
    /// No field set.
    #[default]
    Empty,
    /// Field 1.
    String(String),
    /// Field 2.
    Bool(bool),
    /// Field 3.
    Int(i64),
    /// Field 4.
    Double(f64),
    /// Field 5.
    Array(Vec<AnyValue>),
    /// Field 6.
    KvList(Vec<KeyValue>),
    /// Field 7.
    Bytes(Vec<u8>),
}

impl AnyValue {
    /// The value as a label value, as the collector's `pcommon.Value.AsString` renders it
    /// (which Prometheus 3 uses): strings as they are, numbers as JSON would print them,
    /// bytes in base64, arrays and maps as JSON (map keys sorted, as Go's encoder does).
    pub fn as_label_value(&self) -> String {
        match self {
            AnyValue::Empty => String::new(),
            AnyValue::String(s) => s.clone(),
            AnyValue::Bool(b) => b.to_string(),
            AnyValue::Int(i) => i.to_string(),
            AnyValue::Double(d) => format_double(*d),
            AnyValue::Bytes(b) => base64(b),
            AnyValue::Array(_) | AnyValue::KvList(_) => self.to_json().to_string(),
        }
    }

    fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            AnyValue::Empty => J::Null,
            AnyValue::String(s) => J::String(s.clone()),
            AnyValue::Bool(b) => J::Bool(*b),
            AnyValue::Int(i) => J::from(*i),
            AnyValue::Double(d) => serde_json::Number::from_f64(*d)
                .map(J::Number)
                .unwrap_or_else(|| J::String(format_double(*d))),
            AnyValue::Bytes(b) => J::String(base64(b)),
            AnyValue::Array(vs) => J::Array(vs.iter().map(AnyValue::to_json).collect()),
            AnyValue::KvList(kvs) => {
                let mut sorted: Vec<&KeyValue> = kvs.iter().collect();
                sorted.sort_by(|a, b| a.key.cmp(&b.key));
                J::Object(
                    sorted
                        .into_iter()
                        .map(|kv| (kv.key.clone(), kv.value.to_json()))
                        .collect(),
                )
            }
        }
    }
}

/// A double as Go's JSON encoder writes it (ES6 number formatting): shortest round-trip
/// digits, exponent form below 1e-6 and from 1e21, with a signed, unpadded exponent.
pub(crate) fn format_double(d: f64) -> String {
    if d.is_nan() {
        return "NaN".to_string();
    }
    if d.is_infinite() {
        return if d > 0.0 { "+Inf" } else { "-Inf" }.to_string();
    }
    let abs = d.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let s = format!("{d:e}");
        // Rust writes `1e21` and `1e-7`; Go writes `1e+21` and `1e-07`, cleaned to `1e-7`.
        return match s.split_once('e') {
            Some((m, e)) if !e.starts_with('-') => format!("{m}e+{e}"),
            _ => s,
        };
    }
    format!("{d}")
}

fn base64(b: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(b.len().div_ceil(3) * 4);
    for c in b.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(c.get(1).copied().unwrap_or(0)) << 8)
            | u32::from(c.get(2).copied().unwrap_or(0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_values_render_as_the_collector() {
        assert_eq!(AnyValue::Int(-3).as_label_value(), "-3");
        assert_eq!(AnyValue::Bool(true).as_label_value(), "true");
        assert_eq!(AnyValue::Double(1.0).as_label_value(), "1");
        assert_eq!(AnyValue::Double(0.25).as_label_value(), "0.25");
        assert_eq!(AnyValue::Double(1e21).as_label_value(), "1e+21");
        assert_eq!(AnyValue::Double(1e-7).as_label_value(), "1e-7");
        assert_eq!(
            AnyValue::Bytes(b"hello".to_vec()).as_label_value(),
            "aGVsbG8="
        );
        assert_eq!(AnyValue::Bytes(b"hi!".to_vec()).as_label_value(), "aGkh");
        let arr = AnyValue::Array(vec![AnyValue::String("a".into()), AnyValue::Int(1)]);
        assert_eq!(arr.as_label_value(), r#"["a",1]"#);
        let map = AnyValue::KvList(vec![
            KeyValue::string("z", "1"),
            KeyValue {
                key: "a".into(),
                value: AnyValue::Bool(false),
            },
        ]);
        assert_eq!(map.as_label_value(), r#"{"a":false,"z":"1"}"#);
        assert_eq!(AnyValue::Empty.as_label_value(), "");
    }
}
