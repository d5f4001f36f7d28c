//! Query results written straight to JSON bytes, the way Prometheus' jsoniter encoder writes
//! them (timestamps as `secs.mmm` numbers, values as Go-formatted strings).
//!
//! Why not `serde_json::Value`: a matrix point would cost three heap values (~170 bytes) before
//! a byte is written, and large range results are the biggest allocation a query makes. Here
//! a point costs the ~25 bytes of its text, and the rendering runs inside the query's
//! concurrency slot, so the memory bound of `--query.max-concurrency` covers it.

use sightline_model::{FloatHistogram, Labels};

use crate::render_num::{push_go_float, push_go_float_plain, push_timestamp_secs};
use sightline_promql::{QueryResult, Value as PValue};

/// Appends `s` as a JSON string literal.
pub(crate) fn push_json_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let b = s.as_bytes();
    if !b.iter().any(|&c| c < 0x20 || c == b'"' || c == b'\\') {
        // Label names and values hardly ever need escaping: one copy.
        out.extend_from_slice(b);
        out.push(b'"');
        return;
    }
    let mut start = 0;
    for (i, &c) in b.iter().enumerate() {
        let esc: &[u8] = match c {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            c if c < 0x20 => {
                out.extend_from_slice(&b[start..i]);
                out.extend_from_slice(format!("\\u{c:04x}").as_bytes());
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&b[start..i]);
        out.extend_from_slice(esc);
        start = i + 1;
    }
    out.extend_from_slice(&b[start..]);
    out.push(b'"');
}

fn push_labels(out: &mut Vec<u8>, l: &Labels) {
    out.push(b'{');
    for (i, x) in l.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_json_str(out, &x.name);
        out.push(b':');
        push_json_str(out, &x.value);
    }
    out.push(b'}');
}

fn push_pair(out: &mut Vec<u8>, t_ms: i64, v: f64) {
    out.push(b'[');
    push_timestamp_secs(out, t_ms);
    out.extend_from_slice(b",\"");
    push_go_float(out, v);
    out.extend_from_slice(b"\"]");
}

fn push_float(out: &mut Vec<u8>, v: f64) {
    out.push(b'"');
    push_go_float(out, v);
    out.push(b'"');
}

/// `[t, {histogram}]`, as Prometheus' `marshalHPointJSON`.
fn push_hpair(out: &mut Vec<u8>, t_ms: i64, h: &FloatHistogram) {
    out.push(b'[');
    push_timestamp_secs(out, t_ms);
    out.push(b',');
    push_histogram(out, h);
    out.push(b']');
}

/// A native histogram as Prometheus' `jsonutil.MarshalHistogram` writes it: count, sum and
/// the non-empty buckets from the lowest up, each as `[boundaryRule, "lower", "upper",
/// "count"]` (rule 0: upper bound inclusive, 1: lower inclusive, 2: neither, 3: both).
pub(crate) fn push_histogram(out: &mut Vec<u8>, h: &FloatHistogram) {
    out.extend_from_slice(br#"{"count":"#);
    push_float(out, h.count);
    out.extend_from_slice(br#","sum":"#);
    push_float(out, h.sum);
    let mut first = true;
    for b in h.all_bucket_iterator() {
        if b.count == 0.0 {
            continue;
        }
        out.extend_from_slice(if first { &br#","buckets":["#[..] } else { b"," });
        first = false;
        let rule = match (b.lower_inclusive, b.upper_inclusive) {
            (true, true) => b'3',
            (true, false) => b'1',
            (false, true) => b'0',
            (false, false) => b'2',
        };
        out.push(b'[');
        out.push(rule);
        out.push(b',');
        push_float(out, b.lower);
        out.push(b',');
        push_float(out, b.upper);
        out.push(b',');
        push_float(out, b.count);
        out.push(b']');
    }
    if !first {
        out.push(b']');
    }
    out.push(b'}');
}

fn push_strings(out: &mut Vec<u8>, key: &str, items: &[String]) {
    if items.is_empty() {
        return;
    }
    out.extend_from_slice(b",\"");
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":[");
    // At most ten, as Prometheus sends.
    for (i, s) in items.iter().take(10).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_json_str(out, s);
    }
    out.push(b']');
}

/// When a query asked for `stats`: the time it waited for a query slot and the time from
/// arrival to the end of evaluation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestTimings {
    pub(crate) queue: std::time::Duration,
    pub(crate) total: std::time::Duration,
}

/// Prometheus' `stats` object (`stats.BuiltinStats`): timings in seconds and the sample
/// counts. The per-step breakdown `stats=all` adds for range queries is not produced.
fn push_stats(out: &mut Vec<u8>, res: &QueryResult, t: &RequestTimings) {
    let st = &res.stats;
    let eval = st.prepare + st.inner_eval;
    let secs = |d: std::time::Duration| d.as_secs_f64();
    let body = format!(
        r#","stats":{{"timings":{{"evalTotalTime":{},"resultSortTime":0,"queryPreparationTime":{},"innerEvalTime":{},"execQueueTime":{},"execTotalTime":{}}},"samples":{{"totalQueryableSamples":{},"peakSamples":{}}}}}"#,
        secs(eval),
        secs(st.prepare),
        secs(st.inner_eval),
        secs(t.queue),
        secs(t.total.max(eval + t.queue)),
        st.total_queryable_samples,
        st.peak_samples
    );
    out.extend_from_slice(body.as_bytes());
}

/// The success envelope of a query result as `/api/v1/query` and `/api/v1/query_range` send
/// it when the request sets no `limit` and no `stats` (used by the rendering bench).
pub fn query_json(res: &QueryResult) -> Vec<u8> {
    query_success(res, 0, None)
}

/// The success envelope of a query result, truncated to `limit` series (0 = no limit), with a
/// "results truncated due to limit" warning when it was, and the `stats` object when the
/// request asked for it.
pub(crate) fn query_success(
    res: &QueryResult,
    limit: usize,
    stats: Option<&RequestTimings>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    let mut truncated = false;
    let mut take = |n: usize| {
        if limit > 0 && n > limit {
            truncated = true;
            limit
        } else {
            n
        }
    };
    out.extend_from_slice(br#"{"status":"success","data":{"resultType":"#);
    match &res.value {
        PValue::Scalar { t_ms, v } => {
            // `Scalar.MarshalJSON`: no switch to the exponent form, unlike sample values.
            out.extend_from_slice(br#""scalar","result":["#);
            push_timestamp_secs(&mut out, *t_ms);
            out.extend_from_slice(b",\"");
            push_go_float_plain(&mut out, *v);
            out.extend_from_slice(b"\"]");
        }
        PValue::String { t_ms, s } => {
            out.extend_from_slice(br#""string","result":["#);
            push_timestamp_secs(&mut out, *t_ms);
            out.push(b',');
            push_json_str(&mut out, s);
            out.push(b']');
        }
        PValue::Vector(samples) => {
            out.extend_from_slice(br#""vector","result":["#);
            let n = take(samples.len());
            out.reserve(n * 64);
            for (i, s) in samples[..n].iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(br#"{"metric":"#);
                push_labels(&mut out, &s.labels);
                match &s.h {
                    None => {
                        out.extend_from_slice(br#","value":"#);
                        push_pair(&mut out, s.t_ms, s.v);
                    }
                    Some(h) => {
                        out.extend_from_slice(br#","histogram":"#);
                        push_hpair(&mut out, s.t_ms, h);
                    }
                }
                out.push(b'}');
            }
            out.push(b']');
        }
        PValue::Matrix(series) => {
            out.extend_from_slice(br#""matrix","result":["#);
            let n = take(series.len());
            // One allocation for the whole answer rather than a doubling copy of it every
            // time it outgrows the buffer (a point is ~20-30 bytes, a series' labels ~100).
            out.reserve(
                series[..n]
                    .iter()
                    .map(|s| 128 + s.samples.len() * 26)
                    .sum::<usize>(),
            );
            for (i, s) in series[..n].iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(br#"{"metric":"#);
                push_labels(&mut out, &s.labels);
                // As Prometheus: `values` and `histograms` only when there are any.
                if !s.samples.is_empty() {
                    out.extend_from_slice(br#","values":["#);
                    for (j, x) in s.samples.iter().enumerate() {
                        if j > 0 {
                            out.push(b',');
                        }
                        push_pair(&mut out, x.t, x.v);
                    }
                    out.push(b']');
                }
                if !s.histograms.is_empty() {
                    out.extend_from_slice(br#","histograms":["#);
                    for (j, x) in s.histograms.iter().enumerate() {
                        if j > 0 {
                            out.push(b',');
                        }
                        push_hpair(&mut out, x.t, &x.h);
                    }
                    out.push(b']');
                }
                out.push(b'}');
            }
            out.push(b']');
        }
    }
    if let Some(t) = stats {
        push_stats(&mut out, res, t);
    }
    out.push(b'}');
    let mut warnings = res.warnings.clone();
    if truncated {
        warnings.push("results truncated due to limit".into());
    }
    push_strings(&mut out, "warnings", &warnings);
    push_strings(&mut out, "infos", &res.infos);
    out.push(b'}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_model::Sample;
    use sightline_promql::{RangeSeries, VectorSample};

    fn parse(b: &[u8]) -> serde_json::Value {
        serde_json::from_slice(b).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(b)))
    }

    #[test]
    fn histograms_render_as_prometheus_does() {
        use sightline_model::{FloatHistogram, Span};
        use std::sync::Arc;
        let h = Arc::new(FloatHistogram {
            schema: 0,
            zero_threshold: 0.001,
            zero_count: 1.0,
            count: 4.0,
            sum: 5.0,
            positive_spans: vec![Span::new(0, 3)],
            positive_buckets: vec![1.0, 0.0, 2.0],
            negative_spans: vec![Span::new(1, 1)],
            negative_buckets: vec![3.0],
            ..FloatHistogram::default()
        });
        let labels = Labels::from_pairs([("__name__", "h")]);
        let res = QueryResult {
            value: PValue::Vector(vec![VectorSample {
                labels: labels.clone(),
                t_ms: 1500,
                v: 0.0,
                h: Some(h.clone()),
            }]),
            warnings: vec![],
            infos: vec![],
            stats: Default::default(),
        };
        assert_eq!(
            String::from_utf8(query_success(&res, 0, None)).unwrap(),
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"h"},"histogram":[1.500,{"count":"4","sum":"5","buckets":[[1,"-2","-1","3"],[3,"-0.001","0.001","1"],[0,"0.5","1","1"],[0,"2","4","2"]]}]}]}}"#
        );
        let res = QueryResult {
            value: PValue::Matrix(vec![RangeSeries {
                labels,
                samples: vec![],
                histograms: vec![sightline_promql::HPoint { t: 2000, h }],
            }]),
            warnings: vec![],
            infos: vec![],
            stats: Default::default(),
        };
        let text = String::from_utf8(query_success(&res, 0, None)).unwrap();
        assert!(
            text.contains(r#"{"metric":{"__name__":"h"},"histograms":[[2,{"count":"4""#),
            "{text}"
        );
    }

    #[test]
    fn custom_bucket_histograms_render_with_their_bounds() {
        use sightline_model::{FloatHistogram, Span};
        let mut out = Vec::new();
        push_histogram(
            &mut out,
            &FloatHistogram {
                schema: -53,
                count: 6.0,
                sum: f64::NAN,
                positive_spans: vec![Span::new(0, 3)],
                positive_buckets: vec![1.0, 2.0, 3.0],
                custom_values: std::sync::Arc::from(vec![1.0, 2.0]),
                ..FloatHistogram::default()
            },
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"count":"6","sum":"NaN","buckets":[[3,"-Inf","1","1"],[0,"1","2","2"],[0,"2","+Inf","3"]]}"#
        );
    }

    #[test]
    fn strings_are_escaped_as_json() {
        for s in [
            "plain",
            "quote\"back\\slash",
            "nl\ncr\rtab\t",
            "\u{1}\u{1f}",
            "ünï ☃",
        ] {
            let mut out = Vec::new();
            push_json_str(&mut out, s);
            assert_eq!(parse(&out), serde_json::Value::String(s.to_string()));
        }
    }

    #[test]
    fn envelopes_match_the_prometheus_shape() {
        let labels = Labels::from_pairs([("__name__", "up"), ("job", "a\"b")]);
        let res = QueryResult {
            value: PValue::Matrix(vec![RangeSeries {
                labels: labels.clone(),
                samples: vec![
                    Sample { t: 1500, v: 1.0 },
                    Sample {
                        t: 3000,
                        v: f64::NAN,
                    },
                ],
                histograms: vec![],
            }]),
            warnings: vec!["w".into()],
            infos: vec![],
            stats: Default::default(),
        };
        let text = String::from_utf8(query_success(&res, 0, None)).unwrap();
        assert_eq!(
            text,
            r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"up","job":"a\"b"},"values":[[1.500,"1"],[3,"NaN"]]}]},"warnings":["w"]}"#
        );
        let res = QueryResult {
            value: PValue::Vector(vec![
                VectorSample {
                    labels: labels.clone(),
                    t_ms: -1,
                    v: 1e-7,
                    h: None,
                };
                3
            ]),
            warnings: vec![],
            infos: vec!["i".into()],
            stats: Default::default(),
        };
        let v = parse(&query_success(&res, 2, None));
        assert_eq!(v["data"]["result"].as_array().map(Vec::len), Some(2));
        assert_eq!(v["data"]["result"][0]["value"][1], "1e-07");
        assert_eq!(v["warnings"][0], "results truncated due to limit");
        assert_eq!(v["infos"][0], "i");
        let res = QueryResult {
            value: PValue::Scalar { t_ms: 0, v: -2.5 },
            warnings: vec![],
            infos: vec![],
            stats: Default::default(),
        };
        assert_eq!(
            String::from_utf8(query_success(&res, 0, None)).unwrap(),
            r#"{"status":"success","data":{"resultType":"scalar","result":[0,"-2.5"]}}"#
        );
        // As Prometheus 2.42 answers `1e-7` and `vector(1e-7)`.
        let res = QueryResult {
            value: PValue::Scalar {
                t_ms: 1000,
                v: 1e-7,
            },
            warnings: vec![],
            infos: vec![],
            stats: Default::default(),
        };
        assert_eq!(
            String::from_utf8(query_success(&res, 0, None)).unwrap(),
            r#"{"status":"success","data":{"resultType":"scalar","result":[1,"0.0000001"]}}"#
        );
    }
}
