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
