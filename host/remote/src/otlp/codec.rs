//! OTLP metrics in protobuf, by hand over `proto.rs` (no protoc, no build script): decoding
//! of `ExportMetricsServiceRequest` into [`model`](super::model), encoding of the same (for
//! tests, benchmarks and the fuzz target's stability check) and of the response. Every error
//! names the field path and the byte; unknown fields are skipped; exemplars are skipped.

use super::model::*;
use crate::error::DecodeError;
use crate::proto::{fields, Budget, Value, Writer};

/// The request's protobuf message name.
pub const REQUEST: &str = "opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest";

type R<T> = std::result::Result<T, DecodeError>;

impl ExportRequest {
    /// Decodes a (decompressed) protobuf message.
    pub fn decode(buf: &[u8]) -> Result<ExportRequest, DecodeError> {
        let budget = Budget::for_input(buf.len());
        let mut req = ExportRequest::default();
        fields(buf, 0, |field, v, at| {
            if field == 1 {
                let i = req.resource_metrics.len();
                let rm = sub(v, at, &budget, resource_metrics)
                    .map_err(|e| e.at("resource_metrics", Some(i)))?;
                req.resource_metrics.push(rm);
            }
            Ok(())
        })
        .map_err(|e| e.finish(REQUEST))?;
        Ok(req)
    }

    /// Encodes the message (not compressed).
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        for rm in &self.resource_metrics {
            w.message(1, |w| {
                w.message(1, |w| attrs(w, 1, &rm.resource));
                for sm in &rm.scope_metrics {
                    w.message(2, |w| encode_scope_metrics(w, sm));
                }
            });
        }
        w.buf
    }

    /// The number of data points, as OTLP counts them for `rejected_data_points`.
    pub fn data_points(&self) -> usize {
        self.resource_metrics
            .iter()
            .flat_map(|rm| &rm.scope_metrics)
            .flat_map(|sm| &sm.metrics)
            .map(|m| m.data.len())
            .sum()
    }
}

impl Data {
    /// The number of data points.
    pub fn len(&self) -> usize {
        match self {
            Data::None => 0,
            Data::Gauge(p) | Data::Sum { points: p, .. } => p.len(),
            Data::Histogram { points, .. } => points.len(),
            Data::ExponentialHistogram { points, .. } => points.len(),
            Data::Summary(p) => p.len(),
        }
    }

    /// Whether there is no data point.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// `ExportMetricsServiceResponse` with its `partial_success` (left out when nothing was
/// rejected, as the collector does).
pub fn encode_response(rejected: i64, message: &str) -> Vec<u8> {
    let mut w = Writer::default();
    if rejected != 0 || !message.is_empty() {
        w.message(1, |w| {
            w.int64(1, rejected);
            w.string(2, message);
        });
    }
    w.buf
}

/// Decodes a sub-message with `f`, charging its struct against the budget.
fn sub<'a, T>(
    v: Value<'a>,
    at: usize,
    budget: &Budget,
    f: impl FnOnce(&'a [u8], usize, &Budget) -> R<T>,
) -> R<T> {
    let (b, off) = v.message(at)?;
    budget.charge(std::mem::size_of::<T>(), off)?;
    f(b, off, budget)
}

fn resource_metrics(buf: &[u8], base: usize, budget: &Budget) -> R<ResourceMetrics> {
    let mut rm = ResourceMetrics::default();
    fields(buf, base, |field, v, at| {
        match field {
            1 => {
                let (b, off) = v.message(at).map_err(|e| e.at("resource", None))?;
                fields(b, off, |f, v, at| {
                    if f == 1 {
                        let i = rm.resource.len();
                        rm.resource.push(
                            sub(v, at, budget, key_value)
                                .map_err(|e| e.at("attributes", Some(i)))?,
                        );
                    }
                    Ok(())
                })
                .map_err(|e| e.at("resource", None))?;
            }
            2 => {
                let i = rm.scope_metrics.len();
                rm.scope_metrics.push(
                    sub(v, at, budget, scope_metrics)
                        .map_err(|e| e.at("scope_metrics", Some(i)))?,
                );
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(rm)
}

fn scope_metrics(buf: &[u8], base: usize, budget: &Budget) -> R<ScopeMetrics> {
    let mut sm = ScopeMetrics::default();
    fields(buf, base, |field, v, at| {
        match field {
            1 => sm.scope = sub(v, at, budget, scope).map_err(|e| e.at("scope", None))?,
            2 => {
                let i = sm.metrics.len();
                sm.metrics
                    .push(sub(v, at, budget, metric).map_err(|e| e.at("metrics", Some(i)))?);
            }
            3 => sm.schema_url = v.string(at).map_err(|e| e.at("schema_url", None))?,
            _ => {}
        }
        Ok(())
    })?;
    Ok(sm)
}

fn scope(buf: &[u8], base: usize, budget: &Budget) -> R<Scope> {
    let mut s = Scope::default();
    fields(buf, base, |field, v, at| {
        match field {
            1 => s.name = v.string(at).map_err(|e| e.at("name", None))?,
            2 => s.version = v.string(at).map_err(|e| e.at("version", None))?,
            3 => {
                let i = s.attributes.len();
                s.attributes
                    .push(sub(v, at, budget, key_value).map_err(|e| e.at("attributes", Some(i)))?);
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(s)
}

/// How deep arrays and maps may nest in an attribute value: real attributes nest a level or
/// two; the bound keeps a hostile body (2 bytes a level) from exhausting the stack.
pub const MAX_VALUE_DEPTH: usize = 32;

fn key_value(buf: &[u8], base: usize, budget: &Budget) -> R<KeyValue> {
    key_value_at(buf, base, budget, 0)
}

fn key_value_at(buf: &[u8], base: usize, budget: &Budget, depth: usize) -> R<KeyValue> {
    let mut kv = KeyValue::default();
    fields(buf, base, |field, v, at| {
        match field {
            1 => kv.key = v.string(at).map_err(|e| e.at("key", None))?,
            2 => {
                kv.value = sub(v, at, budget, |b, o, bu| any_value(b, o, bu, depth))
                    .map_err(|e| e.at("value", None))?
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(kv)
}

fn any_value(buf: &[u8], base: usize, budget: &Budget, depth: usize) -> R<AnyValue> {
    if depth >= MAX_VALUE_DEPTH {
        return Err(DecodeError::new(
            base,
            format!("attribute value nested deeper than {MAX_VALUE_DEPTH} levels"),
        ));
    }
    let mut out = AnyValue::Empty;
    fields(buf, base, |field, v, at| {
        out = match field {
            1 => AnyValue::String(v.string(at).map_err(|e| e.at("string_value", None))?),
            2 => AnyValue::Bool(v.uint64(at).map_err(|e| e.at("bool_value", None))? != 0),
            3 => AnyValue::Int(v.int64(at).map_err(|e| e.at("int_value", None))?),
            4 => AnyValue::Double(v.double(at).map_err(|e| e.at("double_value", None))?),
            5 => {
                let (b, off) = v.message(at).map_err(|e| e.at("array_value", None))?;
                let mut vs = Vec::new();
                fields(b, off, |f, v, at| {
                    if f == 1 {
                        let i = vs.len();
                        vs.push(
                            sub(v, at, budget, |b, o, bu| any_value(b, o, bu, depth + 1))
                                .map_err(|e| e.at("values", Some(i)))?,
                        );
                    }
                    Ok(())
                })
                .map_err(|e| e.at("array_value", None))?;
                AnyValue::Array(vs)
            }
            6 => {
                let (b, off) = v.message(at).map_err(|e| e.at("kvlist_value", None))?;
                let mut kvs = Vec::new();
                fields(b, off, |f, v, at| {
                    if f == 1 {
                        let i = kvs.len();
                        kvs.push(
                            sub(v, at, budget, |b, o, bu| key_value_at(b, o, bu, depth + 1))
                                .map_err(|e| e.at("values", Some(i)))?,
                        );
                    }
                    Ok(())
                })
                .map_err(|e| e.at("kvlist_value", None))?;
                AnyValue::KvList(kvs)
            }
            7 => AnyValue::Bytes(
                v.message(at)
                    .map_err(|e| e.at("bytes_value", None))?
                    .0
                    .to_vec(),
            ),
            _ => return Ok(()),
        };
        Ok(())
    })?;
    Ok(out)
}

fn metric(buf: &[u8], base: usize, budget: &Budget) -> R<Metric> {
    let mut m = Metric::default();
    fields(buf, base, |field, v, at| {
        match field {
            1 => m.name = v.string(at).map_err(|e| e.at("name", None))?,
            2 => m.description = v.string(at).map_err(|e| e.at("description", None))?,
            3 => m.unit = v.string(at).map_err(|e| e.at("unit", None))?,
            5 => {
                let d = data(v, at, budget, "gauge", number_point)?;
                m.data = Data::Gauge(d.points);
            }
            7 => {
                let d = data(v, at, budget, "sum", number_point)?;
                m.data = Data::Sum {
                    points: d.points,
                    temporality: d.temporality,
                    monotonic: d.monotonic,
                };
            }
            9 => {
                let d = data(v, at, budget, "histogram", histogram_point)?;
                m.data = Data::Histogram {
                    points: d.points,
                    temporality: d.temporality,
                };
            }
            10 => {
                let d = data(v, at, budget, "exponential_histogram", exp_point)?;
                m.data = Data::ExponentialHistogram {
                    points: d.points,
                    temporality: d.temporality,
                };
            }
            11 => {
                let d = data(v, at, budget, "summary", summary_point)?;
                m.data = Data::Summary(d.points);
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(m)
}

/// The fields every metric data message shares (`Gauge`, `Sum`, `Histogram`,
/// `ExponentialHistogram`, `Summary`): data points (1), and where the type has them,
/// aggregation temporality (2) and monotonicity (3, `Sum` only).
struct DataFields<T> {
    points: Vec<T>,
    temporality: i32,
    monotonic: bool,
}

fn data<'a, T>(
    v: Value<'a>,
    at: usize,
    budget: &Budget,
    name: &'static str,
    point: fn(&'a [u8], usize, &Budget) -> R<T>,
) -> R<DataFields<T>> {
    // Which of fields 2 and 3 the type has; the others are unknown fields, skipped.
    let (has_temporality, has_monotonic) = match name {
        "sum" => (true, true),
        "histogram" | "exponential_histogram" => (true, false),
        _ => (false, false),
    };
    let (b, off) = v.message(at).map_err(|e| e.at(name, None))?;
    let mut d = DataFields {
        points: Vec::new(),
        temporality: 0,
        monotonic: false,
    };
    fields(b, off, |f, v, at| {
        match f {
            1 => {
                let i = d.points.len();
                d.points
                    .push(sub(v, at, budget, point).map_err(|e| e.at("data_points", Some(i)))?);
            }
            2 if has_temporality => {
                d.temporality = v
                    .int32(at)
                    .map_err(|e| e.at("aggregation_temporality", None))?
            }
            3 if has_monotonic => {
                d.monotonic = v.uint64(at).map_err(|e| e.at("is_monotonic", None))? != 0
            }
            _ => {}
        }
        Ok(())
    })
    .map_err(|e| e.at(name, None))?;
    Ok(d)
}

fn fixed64(v: Value<'_>, at: usize, name: &str) -> R<u64> {
    v.double(at).map(f64::to_bits).map_err(|e| e.at(name, None))
}

fn attr(v: Value<'_>, at: usize, budget: &Budget, out: &mut Vec<KeyValue>) -> R<()> {
    let i = out.len();
    out.push(sub(v, at, budget, key_value).map_err(|e| e.at("attributes", Some(i)))?);
    Ok(())
}

fn number_point(buf: &[u8], base: usize, budget: &Budget) -> R<NumberPoint> {
    let mut p = NumberPoint::default();
    fields(buf, base, |field, v, at| {
        match field {
            7 => attr(v, at, budget, &mut p.attributes)?,
            2 => p.start_time_unix_nano = fixed64(v, at, "start_time_unix_nano")?,
            3 => p.time_unix_nano = fixed64(v, at, "time_unix_nano")?,
            4 => p.value = v.double(at).map_err(|e| e.at("as_double", None))?,
            6 => p.value = fixed64(v, at, "as_int")? as i64 as f64,
            8 => p.flags = v.uint32(at).map_err(|e| e.at("flags", None))?,
            _ => {}
        }
        Ok(())
    })?;
    Ok(p)
}

fn histogram_point(buf: &[u8], base: usize, budget: &Budget) -> R<HistogramPoint> {
    let mut p = HistogramPoint::default();
    fields(buf, base, |field, v, at| {
        match field {
            9 => attr(v, at, budget, &mut p.attributes)?,
            2 => p.start_time_unix_nano = fixed64(v, at, "start_time_unix_nano")?,
            3 => p.time_unix_nano = fixed64(v, at, "time_unix_nano")?,
            4 => p.count = fixed64(v, at, "count")?,
            5 => p.sum = Some(v.double(at).map_err(|e| e.at("sum", None))?),
            6 => {
                let mut raw = Vec::new();
                v.packed_doubles(at, &mut raw)
                    .map_err(|e| e.at("bucket_counts", None))?;
                p.bucket_counts.extend(raw.into_iter().map(f64::to_bits));
            }
            7 => v
                .packed_doubles(at, &mut p.explicit_bounds)
                .map_err(|e| e.at("explicit_bounds", None))?,
            10 => p.flags = v.uint32(at).map_err(|e| e.at("flags", None))?,
            _ => {}
        }
        Ok(())
    })?;
    Ok(p)
}

fn exp_buckets(v: Value<'_>, at: usize, budget: &Budget, name: &'static str) -> R<ExpBuckets> {
    let (b, off) = v.message(at).map_err(|e| e.at(name, None))?;
    let mut out = ExpBuckets::default();
    fields(b, off, |field, v, at| {
        match field {
            1 => out.offset = v.sint32(at).map_err(|e| e.at("offset", None))?,
            2 => {
                let mut err = Ok(());
                v.packed_varints(at, |c| {
                    if err.is_ok() {
                        err = budget.charge(8, at);
                    }
                    out.bucket_counts.push(c);
                })
                .map_err(|e| e.at("bucket_counts", None))?;
                err?;
            }
            _ => {}
        }
        Ok(())
    })
    .map_err(|e| e.at(name, None))?;
    Ok(out)
}

fn exp_point(buf: &[u8], base: usize, budget: &Budget) -> R<ExpHistogramPoint> {
    let mut p = ExpHistogramPoint::default();
    fields(buf, base, |field, v, at| {
        match field {
            1 => attr(v, at, budget, &mut p.attributes)?,
            2 => p.start_time_unix_nano = fixed64(v, at, "start_time_unix_nano")?,
            3 => p.time_unix_nano = fixed64(v, at, "time_unix_nano")?,
            4 => p.count = fixed64(v, at, "count")?,
            5 => p.sum = Some(v.double(at).map_err(|e| e.at("sum", None))?),
            6 => p.scale = v.sint32(at).map_err(|e| e.at("scale", None))?,
            7 => p.zero_count = fixed64(v, at, "zero_count")?,
            8 => p.positive = exp_buckets(v, at, budget, "positive")?,
            9 => p.negative = exp_buckets(v, at, budget, "negative")?,
            10 => p.flags = v.uint32(at).map_err(|e| e.at("flags", None))?,
            14 => p.zero_threshold = v.double(at).map_err(|e| e.at("zero_threshold", None))?,
            _ => {}
        }
        Ok(())
    })?;
    Ok(p)
}

fn summary_point(buf: &[u8], base: usize, budget: &Budget) -> R<SummaryPoint> {
    let mut p = SummaryPoint::default();
    fields(buf, base, |field, v, at| {
        match field {
            7 => attr(v, at, budget, &mut p.attributes)?,
            2 => p.start_time_unix_nano = fixed64(v, at, "start_time_unix_nano")?,
            3 => p.time_unix_nano = fixed64(v, at, "time_unix_nano")?,
            4 => p.count = fixed64(v, at, "count")?,
            5 => p.sum = v.double(at).map_err(|e| e.at("sum", None))?,
            6 => {
                let i = p.quantile_values.len();
                let (b, off) = v
                    .message(at)
                    .map_err(|e| e.at("quantile_values", Some(i)))?;
                budget.charge(16, off)?;
                let (mut q, mut val) = (0.0, 0.0);
                fields(b, off, |f, v, at| {
                    match f {
                        1 => q = v.double(at).map_err(|e| e.at("quantile", None))?,
                        2 => val = v.double(at).map_err(|e| e.at("value", None))?,
                        _ => {}
                    }
                    Ok(())
                })
                .map_err(|e| e.at("quantile_values", Some(i)))?;
                p.quantile_values.push((q, val));
            }
            8 => p.flags = v.uint32(at).map_err(|e| e.at("flags", None))?,
            _ => {}
        }
        Ok(())
    })?;
    Ok(p)
}

fn attrs(w: &mut Writer, field: u32, kvs: &[KeyValue]) {
    for kv in kvs {
        w.message(field, |w| {
            w.string(1, &kv.key);
            w.message(2, |w| encode_any(w, &kv.value));
        });
    }
}

fn encode_any(w: &mut Writer, v: &AnyValue) {
    match v {
        AnyValue::Empty => {}
        AnyValue::String(s) => w.bytes(1, s.as_bytes()),
        AnyValue::Bool(b) => {
            // A set oneof member is written even at its default.
            w.varint(2 << 3);
            w.varint(u64::from(*b));
        }
        AnyValue::Int(i) => {
            w.varint(3 << 3);
            w.varint(*i as u64);
        }
        AnyValue::Double(d) => {
            w.varint((4 << 3) | 1);
            w.buf.extend_from_slice(&d.to_bits().to_le_bytes());
        }
        AnyValue::Array(vs) => w.message(5, |w| {
            for v in vs {
                w.message(1, |w| encode_any(w, v));
            }
        }),
        AnyValue::KvList(kvs) => w.message(6, |w| attrs(w, 1, kvs)),
        AnyValue::Bytes(b) => w.bytes(7, b),
    }
}

fn fixed(w: &mut Writer, field: u32, v: u64) {
    w.double(field, f64::from_bits(v));
}

fn encode_number(w: &mut Writer, p: &NumberPoint) {
    fixed(w, 2, p.start_time_unix_nano);
    fixed(w, 3, p.time_unix_nano);
    w.varint((4 << 3) | 1);
    w.buf.extend_from_slice(&p.value.to_bits().to_le_bytes());
    attrs(w, 7, &p.attributes);
    w.uint64(8, u64::from(p.flags));
}

fn encode_scope_metrics(w: &mut Writer, sm: &ScopeMetrics) {
    w.message(1, |w| {
        w.string(1, &sm.scope.name);
        w.string(2, &sm.scope.version);
        attrs(w, 3, &sm.scope.attributes);
    });
    for m in &sm.metrics {
        w.message(2, |w| {
            w.string(1, &m.name);
            w.string(2, &m.description);
            w.string(3, &m.unit);
            match &m.data {
                Data::None => {}
                Data::Gauge(points) => w.message(5, |w| {
                    for p in points {
                        w.message(1, |w| encode_number(w, p));
                    }
                }),
                Data::Sum {
                    points,
                    temporality,
                    monotonic,
                } => w.message(7, |w| {
                    for p in points {
                        w.message(1, |w| encode_number(w, p));
                    }
                    w.int32(2, *temporality);
                    w.uint64(3, u64::from(*monotonic));
                }),
                Data::Histogram {
                    points,
                    temporality,
                } => w.message(9, |w| {
                    for p in points {
                        w.message(1, |w| {
                            fixed(w, 2, p.start_time_unix_nano);
                            fixed(w, 3, p.time_unix_nano);
                            fixed(w, 4, p.count);
                            if let Some(s) = p.sum {
                                w.varint((5 << 3) | 1);
                                w.buf.extend_from_slice(&s.to_bits().to_le_bytes());
                            }
                            let counts: Vec<f64> =
                                p.bucket_counts.iter().map(|c| f64::from_bits(*c)).collect();
                            w.packed_doubles(6, &counts);
                            w.packed_doubles(7, &p.explicit_bounds);
                            attrs(w, 9, &p.attributes);
                            w.uint64(10, u64::from(p.flags));
                        });
                    }
                    w.int32(2, *temporality);
                }),
                Data::ExponentialHistogram {
                    points,
                    temporality,
                } => w.message(10, |w| {
                    for p in points {
                        w.message(1, |w| {
                            attrs(w, 1, &p.attributes);
                            fixed(w, 2, p.start_time_unix_nano);
                            fixed(w, 3, p.time_unix_nano);
                            fixed(w, 4, p.count);
                            if let Some(s) = p.sum {
                                w.varint((5 << 3) | 1);
                                w.buf.extend_from_slice(&s.to_bits().to_le_bytes());
                            }
                            w.sint32(6, p.scale);
                            fixed(w, 7, p.zero_count);
                            for (f, b) in [(8, &p.positive), (9, &p.negative)] {
                                w.message(f, |w| {
                                    w.sint32(1, b.offset);
                                    w.packed_varints(2, b.bucket_counts.iter().copied());
                                });
                            }
                            w.uint64(10, u64::from(p.flags));
                            w.double(14, p.zero_threshold);
                        });
                    }
                    w.int32(2, *temporality);
                }),
                Data::Summary(points) => w.message(11, |w| {
                    for p in points {
                        w.message(1, |w| {
                            fixed(w, 2, p.start_time_unix_nano);
                            fixed(w, 3, p.time_unix_nano);
                            fixed(w, 4, p.count);
                            w.double(5, p.sum);
                            for (q, v) in &p.quantile_values {
                                w.message(6, |w| {
                                    w.double(1, *q);
                                    w.double(2, *v);
                                });
                            }
                            attrs(w, 7, &p.attributes);
                            w.uint64(8, u64::from(p.flags));
                        });
                    }
                }),
            }
        });
    }
    w.string(3, &sm.schema_url);
}
