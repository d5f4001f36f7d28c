//! OTLP metrics in JSON (OTLP/HTTP's JSON encoding, protobuf's JSON mapping): keys in
//! lowerCamelCase (the original snake_case names are accepted too, as protobuf's parsers do),
//! 64-bit integers as strings or numbers, enums as integers or their names, bytes in base64.
//! The document is parsed with serde_json, then walked by hand so that an error names the
//! field path (`resourceMetrics[0].scopeMetrics[1].metrics[2].sum.dataPoints[0].asInt`);
//! a syntax error names the line and column.

use serde_json::{Map, Value};

use super::model::*;

type R<T> = std::result::Result<T, String>;
type Obj = Map<String, Value>;

/// Decodes a JSON `ExportMetricsServiceRequest`; the error names the field path.
pub fn decode(buf: &[u8]) -> Result<ExportRequest, String> {
    let doc: Value = serde_json::from_slice(buf).map_err(|e| format!("json: {e}"))?;
    request(&doc).map_err(|e| format!("json: ExportMetricsServiceRequest{e}"))
}

/// The JSON `ExportMetricsServiceResponse`.
pub fn encode_response(rejected: i64, message: &str) -> Vec<u8> {
    let v = if rejected != 0 || !message.is_empty() {
        serde_json::json!({"partialSuccess": {
            "rejectedDataPoints": rejected.to_string(),
            "errorMessage": message,
        }})
    } else {
        serde_json::json!({})
    };
    v.to_string().into_bytes()
}

fn ctx<T>(r: R<T>, seg: &str) -> R<T> {
    r.map_err(|e| format!(".{seg}{e}"))
}

fn obj(v: &Value) -> R<&Obj> {
    match v {
        Value::Object(o) => Ok(o),
        other => Err(format!(": want an object, got {}", kind(other))),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A field by its JSON name or its proto name; `null` counts as absent.
fn field<'a>(o: &'a Obj, camel: &str, snake: &str) -> Option<&'a Value> {
    o.get(camel)
        .or_else(|| o.get(snake))
        .filter(|v| !v.is_null())
}

/// A repeated field: each element decoded by `f`, errors indexed.
fn list<T>(o: &Obj, camel: &str, snake: &str, f: impl Fn(&Value) -> R<T>) -> R<Vec<T>> {
    let Some(v) = field(o, camel, snake) else {
        return Ok(Vec::new());
    };
    let Value::Array(items) = v else {
        return Err(format!(".{camel}: want an array, got {}", kind(v)));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| f(item).map_err(|e| format!(".{camel}[{i}]{e}")))
        .collect()
}

fn string(o: &Obj, camel: &str, snake: &str) -> R<String> {
    match field(o, camel, snake) {
        None => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(v) => Err(format!(".{camel}: want a string, got {}", kind(v))),
    }
}

/// A 64-bit unsigned integer: a number or a decimal string.
fn u64_of(v: &Value) -> R<u64> {
    match v {
        Value::Number(n) => n
            .as_u64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                    .map(|f| f as u64)
            })
            .ok_or_else(|| format!(": {n} is not an unsigned 64-bit integer")),
        Value::String(s) => s
            .parse()
            .map_err(|_| format!(": {s:?} is not an unsigned 64-bit integer")),
        other => Err(format!(": want an integer, got {}", kind(other))),
    }
}

fn i64_of(v: &Value) -> R<i64> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
            .ok_or_else(|| format!(": {n} is not a 64-bit integer")),
        Value::String(s) => s
            .parse()
            .map_err(|_| format!(": {s:?} is not a 64-bit integer")),
        other => Err(format!(": want an integer, got {}", kind(other))),
    }
}

/// A double: a number, or a string (a number or `NaN`, `Infinity`, `-Infinity`).
fn f64_of(v: &Value) -> R<f64> {
    match v {
        Value::Number(n) => n.as_f64().ok_or_else(|| format!(": {n} is not a double")),
        Value::String(s) => match s.as_str() {
            "NaN" => Ok(f64::NAN),
            "Infinity" => Ok(f64::INFINITY),
            "-Infinity" => Ok(f64::NEG_INFINITY),
            s => s.parse().map_err(|_| format!(": {s:?} is not a double")),
        },
        other => Err(format!(": want a number, got {}", kind(other))),
    }
}

fn opt<T>(o: &Obj, camel: &str, snake: &str, f: impl Fn(&Value) -> R<T>) -> R<Option<T>> {
    field(o, camel, snake)
        .map(|v| f(v).map_err(|e| format!(".{camel}{e}")))
        .transpose()
}

fn u64_field(o: &Obj, camel: &str, snake: &str) -> R<u64> {
    Ok(opt(o, camel, snake, u64_of)?.unwrap_or(0))
}

fn bool_field(o: &Obj, camel: &str, snake: &str) -> R<bool> {
    match field(o, camel, snake) {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(v) => Err(format!(".{camel}: want a boolean, got {}", kind(v))),
    }
}

/// `AggregationTemporality`: its number or its name.
fn temporality(o: &Obj) -> R<i32> {
    match field(o, "aggregationTemporality", "aggregation_temporality") {
        None => Ok(0),
        Some(Value::String(s)) => match s.as_str() {
            "AGGREGATION_TEMPORALITY_UNSPECIFIED" => Ok(0),
            "AGGREGATION_TEMPORALITY_DELTA" => Ok(TEMPORALITY_DELTA),
            "AGGREGATION_TEMPORALITY_CUMULATIVE" => Ok(TEMPORALITY_CUMULATIVE),
            s => Err(format!(".aggregationTemporality: unknown value {s:?}")),
        },
        Some(v) => i64_of(v)
            .map(|n| n as i32)
            .map_err(|e| format!(".aggregationTemporality{e}")),
    }
}

fn request(v: &Value) -> R<ExportRequest> {
    let o = obj(v)?;
    Ok(ExportRequest {
        resource_metrics: list(o, "resourceMetrics", "resource_metrics", resource_metrics)?,
    })
}

fn resource_metrics(v: &Value) -> R<ResourceMetrics> {
    let o = obj(v)?;
    let resource = match field(o, "resource", "resource") {
        None => Vec::new(),
        Some(r) => ctx(
            obj(r).and_then(|r| list(r, "attributes", "attributes", key_value)),
            "resource",
        )?,
    };
    Ok(ResourceMetrics {
        resource,
        scope_metrics: list(o, "scopeMetrics", "scope_metrics", scope_metrics)?,
    })
}

fn scope_metrics(v: &Value) -> R<ScopeMetrics> {
    let o = obj(v)?;
    let scope = match field(o, "scope", "scope") {
        None => Scope::default(),
        Some(s) => ctx(
            obj(s).and_then(|s| {
                Ok(Scope {
                    name: string(s, "name", "name")?,
                    version: string(s, "version", "version")?,
                    attributes: list(s, "attributes", "attributes", key_value)?,
                })
            }),
            "scope",
        )?,
    };
    Ok(ScopeMetrics {
        scope,
        metrics: list(o, "metrics", "metrics", metric)?,
        schema_url: string(o, "schemaUrl", "schema_url")?,
    })
}

fn key_value(v: &Value) -> R<KeyValue> {
    key_value_at(v, 0)
}

fn key_value_at(v: &Value, depth: usize) -> R<KeyValue> {
    let o = obj(v)?;
    Ok(KeyValue {
        key: string(o, "key", "key")?,
        value: opt(o, "value", "value", |v| any_value(v, depth))?.unwrap_or_default(),
    })
}

fn any_value(v: &Value, depth: usize) -> R<AnyValue> {
    // The protobuf decoder's bound, so that what one encoding accepts the other does too.
    if depth >= super::codec::MAX_VALUE_DEPTH {
        return Err(format!(
            ": attribute value nested deeper than {} levels",
            super::codec::MAX_VALUE_DEPTH
        ));
    }
    let o = obj(v)?;
    if let Some(s) = field(o, "stringValue", "string_value") {
        return match s {
            Value::String(s) => Ok(AnyValue::String(s.clone())),
            v => Err(format!(".stringValue: want a string, got {}", kind(v))),
        };
    }
    if field(o, "boolValue", "bool_value").is_some() {
        return bool_field(o, "boolValue", "bool_value").map(AnyValue::Bool);
    }
    if let Some(i) = opt(o, "intValue", "int_value", i64_of)? {
        return Ok(AnyValue::Int(i));
    }
    if let Some(d) = opt(o, "doubleValue", "double_value", f64_of)? {
        return Ok(AnyValue::Double(d));
    }
    if let Some(a) = field(o, "arrayValue", "array_value") {
        return ctx(
            obj(a).and_then(|a| list(a, "values", "values", |v| any_value(v, depth + 1))),
            "arrayValue",
        )
        .map(AnyValue::Array);
    }
    if let Some(a) = field(o, "kvlistValue", "kvlist_value") {
        return ctx(
            obj(a).and_then(|a| list(a, "values", "values", |v| key_value_at(v, depth + 1))),
            "kvlistValue",
        )
        .map(AnyValue::KvList);
    }
    if let Some(b) = field(o, "bytesValue", "bytes_value") {
        return match b {
            Value::String(s) => unbase64(s)
                .map(AnyValue::Bytes)
                .ok_or_else(|| ".bytesValue: not base64".to_string()),
            v => Err(format!(".bytesValue: want a string, got {}", kind(v))),
        };
    }
    Ok(AnyValue::Empty)
}

fn unbase64(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes().filter(|&c| c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

fn metric(v: &Value) -> R<Metric> {
    let o = obj(v)?;
    let mut m = Metric {
        name: string(o, "name", "name")?,
        description: string(o, "description", "description")?,
        unit: string(o, "unit", "unit")?,
        data: Data::None,
    };
    if let Some(g) = field(o, "gauge", "gauge") {
        m.data = ctx(
            obj(g).and_then(|g| list(g, "dataPoints", "data_points", number_point)),
            "gauge",
        )
        .map(Data::Gauge)?;
    } else if let Some(s) = field(o, "sum", "sum") {
        m.data = ctx(
            obj(s).and_then(|s| {
                Ok(Data::Sum {
                    points: list(s, "dataPoints", "data_points", number_point)?,
                    temporality: temporality(s)?,
                    monotonic: bool_field(s, "isMonotonic", "is_monotonic")?,
                })
            }),
            "sum",
        )?;
    } else if let Some(h) = field(o, "histogram", "histogram") {
        m.data = ctx(
            obj(h).and_then(|h| {
                Ok(Data::Histogram {
                    points: list(h, "dataPoints", "data_points", histogram_point)?,
                    temporality: temporality(h)?,
                })
            }),
            "histogram",
        )?;
    } else if let Some(h) = field(o, "exponentialHistogram", "exponential_histogram") {
        m.data = ctx(
            obj(h).and_then(|h| {
                Ok(Data::ExponentialHistogram {
                    points: list(h, "dataPoints", "data_points", exp_point)?,
                    temporality: temporality(h)?,
                })
            }),
            "exponentialHistogram",
        )?;
    } else if let Some(s) = field(o, "summary", "summary") {
        m.data = ctx(
            obj(s).and_then(|s| list(s, "dataPoints", "data_points", summary_point)),
            "summary",
        )
        .map(Data::Summary)?;
    }
    Ok(m)
}

fn flags(o: &Obj) -> R<u32> {
    Ok(u64_field(o, "flags", "flags")? as u32)
}

fn number_point(v: &Value) -> R<NumberPoint> {
    let o = obj(v)?;
    let value = if let Some(d) = opt(o, "asDouble", "as_double", f64_of)? {
        d
    } else {
        opt(o, "asInt", "as_int", i64_of)?.unwrap_or(0) as f64
    };
    Ok(NumberPoint {
        attributes: list(o, "attributes", "attributes", key_value)?,
        start_time_unix_nano: u64_field(o, "startTimeUnixNano", "start_time_unix_nano")?,
        time_unix_nano: u64_field(o, "timeUnixNano", "time_unix_nano")?,
        value,
        flags: flags(o)?,
    })
}

fn histogram_point(v: &Value) -> R<HistogramPoint> {
    let o = obj(v)?;
    Ok(HistogramPoint {
        attributes: list(o, "attributes", "attributes", key_value)?,
        start_time_unix_nano: u64_field(o, "startTimeUnixNano", "start_time_unix_nano")?,
        time_unix_nano: u64_field(o, "timeUnixNano", "time_unix_nano")?,
        count: u64_field(o, "count", "count")?,
        sum: opt(o, "sum", "sum", f64_of)?,
        bucket_counts: list(o, "bucketCounts", "bucket_counts", u64_of)?,
        explicit_bounds: list(o, "explicitBounds", "explicit_bounds", f64_of)?,
        flags: flags(o)?,
    })
}

fn exp_buckets(o: &Obj, camel: &str, snake: &str) -> R<ExpBuckets> {
    let Some(b) = field(o, camel, snake) else {
        return Ok(ExpBuckets::default());
    };
    let b = obj(b)?;
    Ok(ExpBuckets {
        offset: opt(b, "offset", "offset", i64_of)?.unwrap_or(0) as i32,
        bucket_counts: list(b, "bucketCounts", "bucket_counts", u64_of)?,
    })
}

fn exp_point(v: &Value) -> R<ExpHistogramPoint> {
    let o = obj(v)?;
    Ok(ExpHistogramPoint {
        attributes: list(o, "attributes", "attributes", key_value)?,
        start_time_unix_nano: u64_field(o, "startTimeUnixNano", "start_time_unix_nano")?,
        time_unix_nano: u64_field(o, "timeUnixNano", "time_unix_nano")?,
        count: u64_field(o, "count", "count")?,
        sum: opt(o, "sum", "sum", f64_of)?,
        scale: opt(o, "scale", "scale", i64_of)?.unwrap_or(0) as i32,
        zero_count: u64_field(o, "zeroCount", "zero_count")?,
        positive: exp_buckets(o, "positive", "positive")?,
        negative: exp_buckets(o, "negative", "negative")?,
        flags: flags(o)?,
        zero_threshold: opt(o, "zeroThreshold", "zero_threshold", f64_of)?.unwrap_or(0.0),
    })
}

fn summary_point(v: &Value) -> R<SummaryPoint> {
    let o = obj(v)?;
    Ok(SummaryPoint {
        attributes: list(o, "attributes", "attributes", key_value)?,
        start_time_unix_nano: u64_field(o, "startTimeUnixNano", "start_time_unix_nano")?,
        time_unix_nano: u64_field(o, "timeUnixNano", "time_unix_nano")?,
        count: u64_field(o, "count", "count")?,
        sum: opt(o, "sum", "sum", f64_of)?.unwrap_or(0.0),
        quantile_values: list(o, "quantileValues", "quantile_values", |q| {
            let q = obj(q)?;
            Ok((
                opt(q, "quantile", "quantile", f64_of)?.unwrap_or(0.0),
                opt(q, "value", "value", f64_of)?.unwrap_or(0.0),
            ))
        })?,
        flags: flags(o)?,
    })
}
