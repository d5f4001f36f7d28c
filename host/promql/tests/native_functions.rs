//! PromQL functions on native histograms, end to end through the engine over `MemStorage`
//! (expected values from Prometheus' conformance suite where it has them).

#![allow(clippy::expect_used, clippy::unwrap_used)]

use sightline_model::{CounterResetHint, FloatHistogram, Labels, Span};
use sightline_promql::{Engine, EngineOptions, QueryResult, Value};
use sightline_storage_api::{Appendable, MemStorage};

/// A histogram with positive buckets from index 0 (`{{schema:.. buckets:[..]}}`).
fn hist(schema: i32, count: f64, sum: f64, zero: (f64, f64), buckets: &[f64]) -> FloatHistogram {
    FloatHistogram {
        schema,
        count,
        sum,
        zero_count: zero.0,
        zero_threshold: zero.1,
        positive_spans: vec![Span::new(0, buckets.len() as u32)],
        positive_buckets: buckets.to_vec(),
        ..FloatHistogram::default()
    }
}

fn labels(s: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(s.iter().map(|(k, v)| (*k, v.to_string())))
}

struct Data(MemStorage);

impl Data {
    fn new() -> Self {
        Data(MemStorage::new())
    }

    fn hists(self, l: &[(&str, &str)], pts: &[(i64, FloatHistogram)]) -> Self {
        let mut a = self.0.appender();
        for (t, h) in pts {
            a.append_float_histogram(None, &labels(l), *t, h).unwrap();
        }
        a.commit().unwrap();
        self
    }

    fn floats(self, l: &[(&str, &str)], pts: &[(i64, f64)]) -> Self {
        let mut a = self.0.appender();
        for (t, v) in pts {
            a.append(None, &labels(l), *t, *v).unwrap();
        }
        a.commit().unwrap();
        self
    }

    fn query(&self, q: &str, t: i64) -> QueryResult {
        Engine::new(EngineOptions::default())
            .instant_query(&self.0, q, t)
            .unwrap_or_else(|e| panic!("{q}: {e}"))
    }

    /// The float results by their label sets' text.
    fn floats_of(&self, q: &str, t: i64) -> Vec<(String, f64)> {
        match self.query(q, t).value {
            Value::Vector(v) => {
                let mut out: Vec<(String, f64)> = v
                    .into_iter()
                    .map(|s| {
                        assert!(s.h.is_none(), "{q}: histogram result");
                        (s.labels.to_string(), s.v)
                    })
                    .collect();
                out.sort_by(|a, b| a.0.cmp(&b.0));
                out
            }
            v => panic!("{q}: {v:?}"),
        }
    }

    fn one(&self, q: &str, t: i64) -> f64 {
        let v = self.floats_of(q, t);
        assert_eq!(v.len(), 1, "{q}: {v:?}");
        v[0].1
    }
}

fn close(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

const M: i64 = 60_000;

#[test]
fn statistics_of_native_histograms() {
    // native_histograms.test: histogram_quantile_1.
    let d = Data::new().hists(
        &[("__name__", "h")],
        &[(
            0,
            hist(0, 12.0, 100.0, (2.0, 0.001), &[2.0, 3.0, 0.0, 1.0, 4.0]),
        )],
    );
    assert_eq!(d.one("histogram_count(h)", M), 12.0);
    assert_eq!(d.one("histogram_sum(h)", M), 100.0);
    assert!(close(d.one("histogram_avg(h)", M), 100.0 / 12.0));
    let var = d.one("histogram_stdvar(h)", M);
    assert!(close(d.one("histogram_stddev(h)", M), var.sqrt()));
    // The name is dropped.
    assert_eq!(d.floats_of("histogram_count(h)", M)[0].0, "{}");
    for (q, want) in [
        (1.0, 16.0),
        (0.99, 15.67072476139083),
        (0.9, 12.99603834169977),
        (0.6, 4.594793419988138),
        (0.5, 1.5874010519681994),
        (0.1, 0.0006),
        (0.0, 0.0),
    ] {
        let got = d.one(&format!("histogram_quantile({q}, h)"), M);
        assert!(close(got, want), "q={q}: {got} != {want}");
    }
    let r = d.query("histogram_quantile(1.001, h)", M);
    assert_eq!(
        r.warnings,
        vec!["PromQL warning: quantile value should be between 0 and 1, got 1.001 (1:20)"]
    );
}

#[test]
fn float_functions_drop_histograms() {
    let d = Data::new()
        .hists(
            &[("__name__", "m"), ("k", "h")],
            &[(0, hist(0, 2.0, 3.0, (0.0, 0.0), &[2.0]))],
        )
        .floats(&[("__name__", "m"), ("k", "f")], &[(0, -4.0)]);
    for q in [
        "abs(m)",
        "ceil(m)",
        "round(m)",
        "clamp(m, 0, 1)",
        "clamp_min(m, 0)",
        "clamp_max(m, 0)",
        "sort(m)",
        "sort_desc(m)",
        "day_of_month(m)",
    ] {
        let v = d.floats_of(q, M);
        assert_eq!(v.len(), 1, "{q}: {v:?}");
        assert!(v[0].0.contains("k=\"f\""), "{q}: {v:?}");
    }
    // Clamping with a NaN bound gives NaN, as Go's math.Max/Min do.
    assert!(d.one("clamp(m, 0, NaN)", M).is_nan());
    assert!(d.one("clamp(m, NaN, 0)", M).is_nan());
    assert_eq!(d.one("clamp_min(m, -Inf)", M), -4.0);
    assert!(matches!(d.query("scalar(m)", M).value, Value::Scalar { v, .. } if v == -4.0));
    assert_eq!(d.floats_of("timestamp(m)", M).len(), 2);
    // label_replace keeps histograms.
    match d
        .query("label_replace(m, \"x\", \"y\", \"k\", \"h\")", M)
        .value
    {
        Value::Vector(v) => {
            assert_eq!(v.len(), 2);
            assert!(v
                .iter()
                .any(|s| s.h.is_some() && s.labels.get_or_empty("x") == "y"));
        }
        v => panic!("{v:?}"),
    }
}

#[test]
fn quantile_and_fraction_over_classic_and_native_in_one_vector() {
    let d = Data::new()
        .hists(
            &[("__name__", "x"), ("kind", "native")],
            &[(0, hist(0, 4.0, 5.0, (0.0, 0.0), &[2.0, 2.0]))],
        )
        .floats(
            &[("__name__", "x"), ("kind", "classic"), ("le", "1")],
            &[(0, 2.0)],
        )
        .floats(
            &[("__name__", "x"), ("kind", "classic"), ("le", "2")],
            &[(0, 4.0)],
        )
        .floats(
            &[("__name__", "x"), ("kind", "classic"), ("le", "+Inf")],
            &[(0, 4.0)],
        );
    let v = d.floats_of("histogram_quantile(0.75, x)", M);
    assert_eq!(v.len(), 2, "{v:?}");
    assert_eq!(v[0], ("{kind=\"classic\"}".to_string(), 1.5));
    assert_eq!(v[1].0, "{kind=\"native\"}");
    assert!(close(v[1].1, std::f64::consts::SQRT_2));
    let v = d.floats_of("histogram_fraction(-Inf, 1, x)", M);
    assert_eq!(
        v,
        vec![
            ("{kind=\"classic\"}".to_string(), 0.5),
            ("{kind=\"native\"}".to_string(), 0.5)
        ]
    );
    let v = d.floats_of("histogram_quantiles(x, \"q\", 0.5, 0.75)", M);
    assert_eq!(v.len(), 4, "{v:?}");
    assert!(v
        .iter()
        .any(|(l, x)| l == "{kind=\"native\", q=\"0.5\"}" && *x == 1.0));
}

#[test]
fn native_and_classic_with_the_same_labels_are_both_ignored() {
    let d = Data::new()
        .hists(
            &[("__name__", "x")],
            &[(0, hist(0, 4.0, 5.0, (0.0, 0.0), &[2.0, 2.0]))],
        )
        .floats(&[("__name__", "x"), ("le", "1")], &[(0, 2.0)])
        .floats(&[("__name__", "x"), ("le", "+Inf")], &[(0, 4.0)]);
    let r = d.query("histogram_quantile(0.5, x)", M);
    assert!(
        matches!(&r.value, Value::Vector(v) if v.is_empty()),
        "{:?}",
        r.value
    );
    assert_eq!(
        r.warnings,
        vec!["PromQL warning: vector contains a mix of classic and native histograms for metric name \"x\" (1:25)"]
    );
}

#[test]
fn nan_observations_are_reported() {
    let mut h = hist(0, 5.0, f64::NAN, (0.0, 0.0), &[2.0, 2.0]);
    h.counter_reset_hint = CounterResetHint::Gauge;
    let d = Data::new().hists(&[("__name__", "n")], &[(0, h)]);
    let r = d.query("histogram_quantile(0.9, n)", M);
    assert_eq!(
        r.infos,
        vec!["PromQL info: input to histogram_quantile has NaN observations, result is NaN for metric name \"n\" (1:25)"]
    );
    let r = d.query("histogram_fraction(-Inf, +Inf, n)", M);
    assert!(
        matches!(&r.value, Value::Vector(v) if v[0].v == 0.8),
        "{:?}",
        r.value
    );
    assert_eq!(
        r.infos,
        vec!["PromQL info: input to histogram_fraction has NaN observations, which are excluded from all fractions for metric name \"n\" (1:32)"]
    );
}

/// `incr_histogram` of native_histograms.test: every 5m one more observation in (1,2].
fn incr() -> Data {
    let pts: Vec<(i64, FloatHistogram)> = (0..=10)
        .map(|i| {
            let f = i as f64;
            let mut h = hist(0, 4.0 + f, 4.0 + 2.0 * f, (0.0, 0.0), &[1.0, 2.0 + f, 1.0]);
            h.counter_reset_hint = CounterResetHint::NotCounterReset;
            (i * 5 * M, h)
        })
        .collect();
    Data::new().hists(&[("__name__", "incr_histogram")], &pts)
}

impl Data {
    /// The one histogram result.
    fn hist_of(&self, q: &str, t: i64) -> (FloatHistogram, QueryResult) {
        let r = self.query(q, t);
        match &r.value {
            Value::Vector(v) if v.len() == 1 && v[0].h.is_some() => {
                ((**v[0].h.as_ref().unwrap()).clone(), r)
            }
            v => panic!("{q}: {v:?}"),
        }
    }
}

#[test]
fn rate_of_a_counter_histogram() {
    let d = incr();
    let (h, r) = d.hist_of("rate(incr_histogram[10m])", 50 * M);
    assert!(r.warnings.is_empty() && r.infos.is_empty(), "{r:?}");
    assert!(
        close(h.count, 1.0 / 300.0) && close(h.sum, 2.0 / 300.0),
        "{h:?}"
    );
    assert_eq!(h.positive_spans, vec![Span::new(1, 1)]);
    assert!(close(h.positive_buckets[0], 1.0 / 300.0));
    assert_eq!(h.counter_reset_hint, CounterResetHint::Gauge);
    let q = d.one("histogram_quantile(0.5, rate(incr_histogram[10m]))", 50 * M);
    assert!(close(q, std::f64::consts::SQRT_2), "{q}");
    // increase extrapolates like rate: 10m of 1 per 5m.
    let (h, _) = d.hist_of("increase(incr_histogram[10m])", 50 * M);
    assert!(close(h.count, 2.0), "{h:?}");
    let (h, _) = d.hist_of("irate(incr_histogram[10m])", 50 * M);
    assert!(close(h.count, 1.0 / 300.0), "{h:?}");
}

#[test]
fn delta_and_idelta_want_gauges() {
    let d = incr();
    let (h, r) = d.hist_of("delta(incr_histogram[10m])", 50 * M);
    assert!(close(h.count, 2.0), "{h:?}");
    assert_eq!(
        r.warnings,
        vec![
            "PromQL warning: this native histogram metric is not a gauge: \"incr_histogram\" (1:7)"
        ]
    );
    let (_, r) = d.hist_of("idelta(incr_histogram[10m])", 50 * M);
    assert_eq!(r.warnings.len(), 1, "{r:?}");
}

#[test]
fn counter_functions_warn_about_gauge_histograms() {
    let pts: Vec<(i64, FloatHistogram)> = (0..3)
        .map(|i| {
            let mut h = hist(0, 2.0 + i as f64, 1.0, (0.0, 0.0), &[2.0 + i as f64]);
            h.counter_reset_hint = CounterResetHint::Gauge;
            (i * M, h)
        })
        .collect();
    let d = Data::new().hists(&[("__name__", "g")], &pts);
    let (_, r) = d.hist_of("rate(g[5m])", 2 * M);
    assert_eq!(
        r.warnings,
        vec!["PromQL warning: this native histogram metric is not a counter: \"g\" (1:6)"]
    );
    let (h, r) = d.hist_of("delta(g[5m])", 2 * M);
    assert!(r.warnings.is_empty(), "{r:?}");
    assert!(h.count > 0.0);
}

#[test]
fn a_counter_reset_adds_the_value_before_it() {
    let mk = |c: f64| hist(0, c, c, (0.0, 0.0), &[c]);
    let d = Data::new().hists(
        &[("__name__", "c")],
        &[
            (0, mk(10.0)),
            (M, mk(20.0)),
            (2 * M, mk(5.0)),
            (3 * M, mk(15.0)),
        ],
    );
    // 10 -> 20, reset, 5 -> 15: an increase of 10 + 5 + 10 over the 180s sampled,
    // extrapolated by the 59s to the window's start.
    let (h, _) = d.hist_of("increase(c[3m59s])", 3 * M);
    assert!(close(h.count, 25.0 * 239.0 / 180.0), "{h:?}");
    assert_eq!(d.one("resets(c[5m])", 3 * M), 1.0);
    assert_eq!(d.one("changes(c[5m])", 3 * M), 3.0);
}

#[test]
fn mixed_floats_and_histograms_in_a_range() {
    let d = Data::new().hists(
        &[("__name__", "m")],
        &[(0, hist(0, 1.0, 1.0, (0.0, 0.0), &[1.0]))],
    );
    let d = d.floats(&[("__name__", "m")], &[(M, 3.0), (2 * M, 5.0)]);
    let r = d.query("rate(m[5m])", 2 * M);
    assert!(matches!(&r.value, Value::Vector(v) if v.is_empty()));
    assert_eq!(
        r.warnings,
        vec!["PromQL warning: encountered a mix of histograms and floats for metric name \"m\" (1:6)"]
    );
    let r = d.query("sum_over_time(m[5m])", 2 * M);
    assert!(matches!(&r.value, Value::Vector(v) if v.is_empty()));
    assert_eq!(r.warnings.len(), 1);
    // Float-only functions use the floats and say so.
    let r = d.query("max_over_time(m[5m])", 2 * M);
    assert!(
        matches!(&r.value, Value::Vector(v) if v[0].v == 5.0),
        "{:?}",
        r.value
    );
    assert_eq!(
        r.infos,
        vec!["PromQL info: ignored histograms in a range containing both floats and histograms for metric name \"m\" (1:15)"]
    );
    assert_eq!(d.one("count_over_time(m[5m])", 2 * M), 3.0);
    assert_eq!(d.one("ts_of_first_over_time(m[5m])", 2 * M), 0.0);
    assert_eq!(d.one("ts_of_last_over_time(m[5m])", 2 * M), 120.0);
    assert_eq!(d.one("last_over_time(m[5m])", 2 * M), 5.0);
    let (h, _) = d.hist_of("first_over_time(m[5m])", 2 * M);
    assert_eq!(h.count, 1.0);
    assert_eq!(d.one("changes(m[5m])", 2 * M), 2.0);
    assert_eq!(d.one("resets(m[5m])", 2 * M), 1.0);
    // Only histograms: float-only functions give nothing.
    let r = d.query("max_over_time(m[30s])", 0);
    assert!(matches!(&r.value, Value::Vector(v) if v.is_empty()));
}

#[test]
fn sum_and_avg_over_time_of_histograms() {
    let d = incr();
    let (h, _) = d.hist_of("sum_over_time(incr_histogram[10m])", 50 * M);
    // The points at 45m and 50m: counts 13 and 14.
    assert_eq!(h.count, 27.0);
    let (h, _) = d.hist_of("avg_over_time(incr_histogram[10m])", 50 * M);
    assert_eq!(h.count, 13.5);
    assert_eq!(h.sum, 23.0);
}
